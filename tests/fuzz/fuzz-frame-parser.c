/* fuzz-frame-parser.c — libFuzzer target for the NW frame decoder, the
 * streaming parser and the info-field decoder (bms_snapshot_parse).
 *
 * Besides "no crash, no leak, no undefined behaviour" it checks properties
 * that must hold for any input:
 * - the streaming parser reports the same frames and errors whatever the
 *   chunking of the bytes;
 * - every frame it accepts re-encodes to bytes that decode to the same frame;
 * - every info field that parses yields JSON and a plausibility verdict
 *   (with a reason when implausible), and re-encoding the snapshot gives an
 *   info field that parses again to the same cells.
 * Built by tests/fuzz/run-fuzz.sh (clang, -fsanitize=fuzzer,address,undefined)
 * and, with fuzz-replay.c as main, by meson for a corpus replay test. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "bms-frame.h"
#include "bms-snapshot.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* What the parser said, in order: frames re-encoded, errors as codes. */
typedef struct
{
  GByteArray *log;
} Trace;

static void
check_info (const guint8 *info, gsize len)
{
  g_autoptr (BmsSnapshot) snapshot = bms_snapshot_new ();
  g_autoptr (BmsSnapshot) again = bms_snapshot_new ();
  g_autoptr (GByteArray) encoded = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;

  if (!bms_snapshot_parse (snapshot, info, len, &error))
    {
      if (error == NULL || error->message == NULL || error->message[0] == '\0')
        abort (); /* a rejection must say why */
      return;
    }
  json = bms_snapshot_to_json (snapshot);
  if (json == NULL || json[0] != '{')
    abort ();
  if (!bms_snapshot_check_plausible (snapshot, &error)
      && (error == NULL || error->message == NULL || error->message[0] == '\0'))
    abort (); /* an implausible reply must say why */
  g_clear_error (&error);
  bms_snapshot_encode (snapshot, encoded);
  if (!bms_snapshot_parse (again, encoded->data, encoded->len, NULL))
    abort (); /* what we encode, we must be able to read */
  if (again->n_cells != snapshot->n_cells
      || memcmp (again->cells_mv, snapshot->cells_mv, snapshot->n_cells * sizeof (guint16)) != 0)
    abort ();
}

static void
check_frame_roundtrip (const BmsFrame *frame, GByteArray *encoded)
{
  g_autoptr (BmsFrame) again = NULL;

  bms_frame_encode (frame, encoded);
  again = bms_frame_decode (encoded->data, encoded->len, NULL);
  if (again == NULL || again->command != frame->command || again->source != frame->source
      || again->transport != frame->transport || again->terminal != frame->terminal
      || again->record != frame->record || again->info_len != frame->info_len
      || (frame->info_len > 0 && memcmp (again->info, frame->info, frame->info_len) != 0))
    abort ();
}

static void
on_frame (BmsFrame *frame, gpointer user_data)
{
  Trace *trace = user_data;
  g_autoptr (BmsFrame) owned = frame;
  g_autoptr (GByteArray) encoded = g_byte_array_new ();
  guint8 tag = 'F';

  check_frame_roundtrip (owned, encoded);
  g_byte_array_append (trace->log, &tag, 1);
  g_byte_array_append (trace->log, encoded->data, encoded->len);
}

static void
on_error (const GError *error, gpointer user_data)
{
  Trace *trace = user_data;
  guint8 entry[2] = { 'E', (guint8)error->code };

  if (error->message == NULL || error->message[0] == '\0')
    abort ();
  g_byte_array_append (trace->log, entry, 2);
}

/* Feeds data in chunks whose sizes come from a generator seeded by the
 * input, so a crash reproduces from the input file alone. */
static GByteArray *
run_parser (const uint8_t *data, size_t size, guint32 seed)
{
  Trace trace = { g_byte_array_new () };
  g_autoptr (BmsFrameParser) parser = bms_frame_parser_new (on_frame, on_error, &trace);
  size_t offset = 0;

  while (offset < size)
    {
      size_t chunk = seed == 0 ? size - offset : 1 + (seed % 97);

      chunk = MIN (chunk, size - offset);
      bms_frame_parser_push (parser, data + offset, chunk);
      offset += chunk;
      seed = seed * 1103515245u + 12345u;
      seed = seed == 0 ? 1 : seed;
    }
  bms_frame_parser_finish (parser);
  return trace.log;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (BmsFrame) frame = NULL;
  g_autoptr (GByteArray) whole = NULL;
  g_autoptr (GByteArray) chunked = NULL;
  guint32 seed = 1;

  /* One frame occupying the whole input. */
  frame = bms_frame_decode (data, size, NULL);
  if (frame != NULL)
    check_info (frame->info, frame->info_len);

  /* The input as an info field on its own. */
  check_info (data, size);

  /* The stream, in one piece and in random chunks: same result. */
  for (size_t i = 0; i < size && i < 8; i++)
    seed = seed * 31u + data[i];
  whole = run_parser (data, size, 0);
  chunked = run_parser (data, size, seed);
  if (whole->len != chunked->len
      || (whole->len > 0 && memcmp (whole->data, chunked->data, whole->len) != 0))
    abort ();
  return 0;
}
