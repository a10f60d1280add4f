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
