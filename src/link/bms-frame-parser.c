/* bms-frame-parser.c — find NW frames in a byte stream.
 *
 * Bytes accumulate in a buffer. At each 4E 57 the length field says how long
 * the candidate is; once that many bytes are in, the candidate is decoded. A
 * rejected candidate is reported and the search resumes one byte after its
 * start, so a real frame hidden behind a false "NW" in noise is still found.
 * Consumed bytes are skipped by moving `head`, and the buffer is compacted
 * once per push, so a long run of noise costs linear time, not quadratic.
 */
#include "config.h"

#include <string.h>

#include "bms-frame.h"

struct _BmsFrameParser
{
  GByteArray       *buf;
  guint             head;     /* bytes of buf already consumed */
  BmsFrameFunc      on_frame;
  BmsFrameErrorFunc on_error;
  gpointer          user_data;
  gsize             skipped;
};

BmsFrameParser *
bms_frame_parser_new (BmsFrameFunc on_frame, BmsFrameErrorFunc on_error, gpointer user_data)
{
  BmsFrameParser *parser = g_new0 (BmsFrameParser, 1);

  parser->buf = g_byte_array_new ();
  parser->on_frame = on_frame;
  parser->on_error = on_error;
  parser->user_data = user_data;
  return parser;
}

void
bms_frame_parser_free (BmsFrameParser *parser)
{
  if (parser == NULL)
    return;
  g_byte_array_unref (parser->buf);
  g_free (parser);
}

static void
report (BmsFrameParser *parser, GError *error)
{
  if (parser->on_error)
    parser->on_error (error, parser->user_data);
  g_error_free (error);
}

static void
drop (BmsFrameParser *parser, gsize n, gboolean garbage)
{
  parser->head += (guint) n;
  if (parser->head == parser->buf->len)
    {
      g_byte_array_set_size (parser->buf, 0);
      parser->head = 0;
    }
  if (garbage)
    parser->skipped += n;
}

static const guint8 *
pending (BmsFrameParser *parser, guint *len)
{
  *len = parser->buf->len - parser->head;
  return *len == 0 ? parser->buf->data : parser->buf->data + parser->head;
}

/* Skip to the next possible start; TRUE if one is at buf[0]. */
static gboolean
sync_start (BmsFrameParser *parser)
{
  guint len;
  const guint8 *d = pending (parser, &len);
  guint i = 0;

  while (i < len && !(d[i] == BMS_FRAME_START0 && (i + 1 == len || d[i + 1] == BMS_FRAME_START1)))
    i++;
  if (i > 0)
    drop (parser, i, TRUE);
  return i < len;
}

/* Returns FALSE when more bytes are needed. */
static gboolean
step (BmsFrameParser *parser)
{
  const guint8 *d;
  guint len;
  gsize declared, total;
  GError *error = NULL;
  BmsFrame *frame;

  if (!sync_start (parser))
    return FALSE;
  d = pending (parser, &len);
  if (len < 4)
    return FALSE;
  declared = ((gsize) d[2] << 8) | d[3];
  total = declared + 2;
  if (total < BMS_FRAME_OVERHEAD || total > BMS_FRAME_MAX_SIZE)
    {
      frame = bms_frame_decode (d, total, &error); /* yields the bad-length error */
      g_assert (frame == NULL);
      report (parser, error);
      drop (parser, 1, TRUE);
      return TRUE;
    }
  if (len < total)
    return FALSE;
  frame = bms_frame_decode (d, total, &error);
  if (frame == NULL)
    {
      report (parser, error);
      drop (parser, 1, TRUE);
      return TRUE;
    }
  drop (parser, total, FALSE);
  parser->on_frame (frame, parser->user_data);
  return TRUE;
}

void
bms_frame_parser_push (BmsFrameParser *parser, const guint8 *data, gsize len)
{
  g_return_if_fail (parser != NULL);
  if (parser->head > 0)
    {
      g_byte_array_remove_range (parser->buf, 0, parser->head);
      parser->head = 0;
    }
  g_byte_array_append (parser->buf, data, len);
  while (step (parser))
    ;
}

/* End of input: each incomplete candidate is reported as truncated and the
 * search resumes one byte later, so a whole frame that a false start in noise
 * was hiding still comes out. */
void
bms_frame_parser_finish (BmsFrameParser *parser)
{
  GError *error = NULL;

  while (sync_start (parser))
    {
      const guint8 *d;
      guint len;

      if (step (parser))
        continue;
      d = pending (parser, &len);
      if (bms_frame_decode (d, len, &error) == NULL)
        report (parser, error);
      error = NULL;
      drop (parser, 1, TRUE);
    }
}

void
bms_frame_parser_reset (BmsFrameParser *parser)
{
  g_byte_array_set_size (parser->buf, 0);
  parser->head = 0;
}

gsize
bms_frame_parser_skipped (BmsFrameParser *parser)
{
  return parser->skipped;
}
