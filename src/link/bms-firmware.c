/* bms-firmware.c — firmware image helpers (file check, CRC-32, version). */
#include "bms-firmware.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

guint32
bms_crc32 (const guint8 *data, gsize len)
{
  guint32 crc = 0xFFFFFFFF;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int b = 0; b < 8; b++)
        crc = (crc >> 1) ^ (0xEDB88320 & (0u - (crc & 1)));
    }
  return ~crc;
}

char *
bms_firmware_find_version (const guint8 *image, gsize len)
{
  gsize mlen = strlen (BMS_FIRMWARE_VERSION_MARKER);
  const guint8 *hit = NULL;
  GString *v;

  for (gsize i = 0; image != NULL && i + mlen <= len && hit == NULL; i++)
    if (image[i] == 'P' && memcmp (image + i, BMS_FIRMWARE_VERSION_MARKER, mlen) == 0)
      hit = image + i;
  if (hit == NULL)
    return g_strdup ("unknown");
  v = g_string_new (NULL);
  for (const guint8 *p = hit + mlen; p < image + len && v->len < 15; p++)
    {
      if (*p < 0x20 || *p > 0x7E)
        break;
      g_string_append_c (v, (char) *p);
    }
  g_strchomp (v->str);
  if (v->str[0] == '\0')
    {
      g_string_free (v, TRUE);
      return g_strdup ("unknown");
    }
  return g_string_free (v, FALSE);
}

GBytes *
bms_firmware_check_file (const char *path, guint64 max_size, guint32 *crc32_out, GError **error)
{
  GStatBuf st;
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot read “%s”: %s", path, g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "“%s” is not a regular file — choose the firmware image (.bin)", path);
      return NULL;
    }
  if (st.st_size == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "“%s” is empty — choose the firmware image "
                   "(.bin) from the vendor", path);
      return NULL;
    }
  if ((guint64) st.st_size > max_size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "“%s” is %" G_GUINT64_FORMAT " bytes, more than "
                   "the board's flash budget of %" G_GUINT64_FORMAT " bytes — wrong file, "
                   "or set the budget (--max-size) if the board really has more flash",
                   path, (guint64) st.st_size, max_size);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &len, &local))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (crc32_out != NULL)
    *crc32_out = bms_crc32 ((const guint8 *) contents, len);
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

static guint32
read_le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static gboolean
check_stack_pointer (guint32 sp, GError **error)
{
  /* The stack grows down from the top of SRAM: the initial value may be
   * the end of SRAM itself, never its base. */
  if (sp > BMS_FIRMWARE_SRAM_BASE && sp <= BMS_FIRMWARE_SRAM_BASE + BMS_FIRMWARE_SRAM_MAX
      && sp % 4 == 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "not a firmware image: the first word 0x%08X is not a stack pointer in SRAM "
               "(0x%08X…0x%08X, word aligned) — choose the vendor's application image (.bin)",
               sp, BMS_FIRMWARE_SRAM_BASE, BMS_FIRMWARE_SRAM_BASE + BMS_FIRMWARE_SRAM_MAX);
  return FALSE;
}

static gboolean
check_reset_handler (guint32 reset, gsize len, GError **error)
{
  guint64 end = (guint64) BMS_FIRMWARE_APP_BASE + len;

  if ((reset & 1) == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "not a firmware image: the second word 0x%08X is not a reset handler "
                   "(a Cortex-M entry point is a Thumb address, odd) — choose the vendor's "
                   "application image (.bin)", reset);
      return FALSE;
    }
  if (reset >= BMS_FIRMWARE_APP_BASE && reset < end)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "not a firmware image for this bootloader: the reset handler 0x%08X lies outside "
               "the image once flashed (0x%08X…0x%08" G_GINT64_MODIFIER "X) — an image built "
               "for another address (a bootloader, or another board) would not start",
               reset, BMS_FIRMWARE_APP_BASE, end);
  return FALSE;
}

gboolean
bms_firmware_check_image (const guint8 *image, gsize len, guint64 max_size, GError **error)
{
  if (image == NULL || len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "the image is empty — choose the firmware image (.bin) from the vendor");
      return FALSE;
    }
  if ((guint64) len > max_size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "the image is %" G_GSIZE_FORMAT " bytes, more than the board's application "
                   "area of %" G_GUINT64_FORMAT " bytes", len, max_size);
      return FALSE;
    }
  if (len < 8)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "not a firmware image: %" G_GSIZE_FORMAT " bytes cannot hold the vector "
                   "table (stack pointer and reset handler, 8 bytes)", len);
      return FALSE;
    }
  return check_stack_pointer (read_le32 (image), error)
         && check_reset_handler (read_le32 (image + 4), len, error);
}

static void
write_le32 (guint8 *p, guint32 v)
{
  p[0] = v & 0xFF;
  p[1] = (v >> 8) & 0xFF;
  p[2] = (v >> 16) & 0xFF;
  p[3] = (v >> 24) & 0xFF;
}

void
bms_firmware_stamp_vectors (guint8 *image, gsize len)
{
  g_return_if_fail (image != NULL && len >= 8);
  /* 20 KiB of SRAM; the entry point just past the table (or at its last
   * half-word for a tiny image), Thumb bit set. */
  write_le32 (image, BMS_FIRMWARE_SRAM_BASE + 20 * 1024);
  write_le32 (image + 4, (BMS_FIRMWARE_APP_BASE + (guint32) MIN (len - 2, 0x1C0)) | 1);
}
