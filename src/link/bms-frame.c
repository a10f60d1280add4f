/* bms-frame.c — NW frame encode/decode (see bms-frame.h). */
#include "config.h"

#include <string.h>

#include "bms-field.h"
#include "bms-frame.h"

// clang-format off
G_DEFINE_QUARK (bms-frame-error-quark, bms_frame_error)
// clang-format on

BmsFrame *
bms_frame_new (guint8 command, guint8 source, guint8 transport, const guint8 *info,
               gsize info_len)
{
  BmsFrame *frame = g_new0 (BmsFrame, 1);

  frame->command = command;
  frame->source = source;
  frame->transport = transport;
  frame->info = info_len ? g_memdup2 (info, info_len) : NULL;
  frame->info_len = info_len;
  return frame;
}

void
bms_frame_free (BmsFrame *frame)
{
  if (frame == NULL)
    return;
  g_free (frame->info);
  g_free (frame);
}

guint16
bms_frame_checksum (const guint8 *data, gsize len)
{
  guint32 sum = 0;

  for (gsize i = 0; i < len; i++)
    sum += data[i];
  return sum & 0xFFFF;
}

static void
put_u16 (GByteArray *out, guint16 v)
{
  guint8 b[2] = { v >> 8, v & 0xFF };
  g_byte_array_append (out, b, 2);
}

static void
put_u32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF };
  g_byte_array_append (out, b, 4);
}

void
bms_frame_encode (const BmsFrame *frame, GByteArray *out)
{
  guint start = out->len;
  guint8 head[2] = { BMS_FRAME_START0, BMS_FRAME_START1 };
  guint8 cmd[3] = { frame->command, frame->source, frame->transport };
  guint8 end = BMS_FRAME_END;
  guint16 sum;

  g_return_if_fail (frame->info_len + BMS_FRAME_OVERHEAD <= BMS_FRAME_MAX_SIZE);

  g_byte_array_append (out, head, 2);
  put_u16 (out, (guint16) (frame->info_len + BMS_FRAME_OVERHEAD - 2));
  put_u32 (out, frame->terminal);
  g_byte_array_append (out, cmd, 3);
  if (frame->info_len)
    g_byte_array_append (out, frame->info, frame->info_len);
  put_u32 (out, frame->record);
  g_byte_array_append (out, &end, 1);
  sum = bms_frame_checksum (out->data + start, out->len - start);
  put_u16 (out, 0);
  put_u16 (out, sum);
}

static guint32
get_u32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

BmsFrame *
bms_frame_decode (const guint8 *data, gsize len, GError **error)
{
  gsize declared, info_len;
  guint32 sum_field;
  guint16 sum;
  BmsFrame *frame;

  if (len == 0 || data[0] != BMS_FRAME_START0 || (len > 1 && data[1] != BMS_FRAME_START1))
    {
      g_set_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_START,
                   "bad start: a frame begins with 4E 57, got %02X %02X",
                   len > 0 ? data[0] : 0, len > 1 ? data[1] : 0);
      return NULL;
    }
  if (len < 4)
    {
      g_set_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_TRUNCATED,
                   "truncated: %" G_GSIZE_FORMAT " bytes, no length field", len);
      return NULL;
    }
  declared = ((gsize) data[2] << 8) | data[3];
  if (declared + 2 < BMS_FRAME_OVERHEAD || declared + 2 > BMS_FRAME_MAX_SIZE)
    {
      g_set_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_LENGTH,
                   "bad length: field says %" G_GSIZE_FORMAT " bytes after the start, "
                   "allowed %d to %d", declared, BMS_FRAME_OVERHEAD - 2, BMS_FRAME_MAX_SIZE - 2);
      return NULL;
    }
  if (len < declared + 2)
    {
      g_set_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_TRUNCATED,
                   "truncated: length field says %" G_GSIZE_FORMAT " bytes, got %" G_GSIZE_FORMAT,
                   declared + 2, len);
      return NULL;
    }
  if (len > declared + 2)
    {
      g_set_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_LENGTH,
                   "bad length: length field says %" G_GSIZE_FORMAT " bytes, got %" G_GSIZE_FORMAT,
                   declared + 2, len);
      return NULL;
    }
  if (data[len - 5] != BMS_FRAME_END)
    {
      g_set_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_NO_END_MARKER,
                   "missing end marker: expected 68 at offset %" G_GSIZE_FORMAT ", got %02X",
                   len - 5, data[len - 5]);
      return NULL;
    }
  sum_field = get_u32 (data + len - 4);
  sum = bms_frame_checksum (data, len - 4);
  if (sum_field != sum)
    {
      g_set_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_CHECKSUM,
                   "checksum mismatch: frame says %04X, bytes sum to %04X",
                   sum_field, sum);
      return NULL;
    }
  info_len = len - BMS_FRAME_OVERHEAD;
  frame = bms_frame_new (data[8], data[9], data[10], data + 11, info_len);
  frame->terminal = get_u32 (data + 4);
  frame->record = get_u32 (data + 11 + info_len);
  return frame;
}

static GByteArray *
request (guint32 terminal, guint8 command, const guint8 *info, gsize info_len)
{
  g_autoptr(BmsFrame) frame = bms_frame_new (command, BMS_SOURCE_PC, BMS_TRANSPORT_REQUEST,
                                             info, info_len);
  GByteArray *out = g_byte_array_new ();

  frame->terminal = terminal;
  bms_frame_encode (frame, out);
  return out;
}

GByteArray *
bms_request_read_all (guint32 terminal)
{
  guint8 info = BMS_ID_READ_ALL;
  return request (terminal, BMS_CMD_READ_ALL, &info, 1);
}

GByteArray *
bms_request_read_one (guint32 terminal, guint8 id)
{
  return request (terminal, BMS_CMD_READ, &id, 1);
}

GByteArray *
bms_request_activate (guint32 terminal)
{
  return request (terminal, BMS_CMD_ACTIVATE, NULL, 0);
}

GByteArray *
bms_request_password (guint32 terminal, const char *password)
{
  guint8 info[1 + BMS_PASSWORD_SIZE] = { BMS_ID_PASSWORD };

  g_return_val_if_fail (password != NULL, NULL);
  memcpy (info + 1, password, MIN (strlen (password), BMS_PASSWORD_SIZE));
  return request (terminal, BMS_CMD_PASSWORD, info, sizeof info);
}

GByteArray *
bms_request_write (guint32 terminal, guint8 id, const guint8 *value, gsize value_len)
{
  g_autofree guint8 *info = g_malloc (value_len + 1);

  info[0] = id;
  memcpy (info + 1, value, value_len);
  return request (terminal, BMS_CMD_WRITE, info, value_len + 1);
}
