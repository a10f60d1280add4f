/* cli-decode.c — `packwatch-cli decode [FILE]`: hex frames in, one JSON
 * object per frame out. */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bms-field.h"
#include "bms-frame.h"
#include "bms-hex.h"
#include "bms-snapshot.h"
#include "cli-common.h"

static const char *
command_name (guint8 command)
{
  switch (command)
    {
    case BMS_CMD_ACTIVATE:
      return "activate";
    case BMS_CMD_WRITE:
      return "write";
    case BMS_CMD_READ:
      return "read";
    case BMS_CMD_PASSWORD:
      return "password";
    case BMS_CMD_READ_ALL:
      return "read_all";
    default:
      return NULL;
    }
}

static const char *
source_name (guint8 source)
{
  static const char *names[] = { "bms", "bluetooth", "gps", "pc" };

  return source < G_N_ELEMENTS (names) ? names[source] : NULL;
}

static const char *
transport_name (guint8 transport)
{
  static const char *names[] = { "request", "reply", "upload" };

  return transport < G_N_ELEMENTS (names) ? names[transport] : NULL;
}

static const char *
result_name (guint8 result)
{
  static const char *names[] = { "ok", "denied", "range", "read_only", "unknown_field" };

  return result < G_N_ELEMENTS (names) ? names[result] : NULL;
}

static const char *
frame_error_reason (const GError *error)
{
  static const char *reasons[] = {
    [BMS_FRAME_ERROR_BAD_START] = "bad_start",
    [BMS_FRAME_ERROR_BAD_LENGTH] = "bad_length",
    [BMS_FRAME_ERROR_TRUNCATED] = "truncated",
    [BMS_FRAME_ERROR_NO_END_MARKER] = "missing_end_marker",
    [BMS_FRAME_ERROR_CHECKSUM] = "checksum_mismatch",
    [BMS_FRAME_ERROR_BAD_INFO] = "bad_info",
  };

  if (error->domain == BMS_HEX_ERROR)
    return "bad_hex";
  if (error->domain == BMS_FRAME_ERROR && error->code >= 0
      && (gsize)error->code < G_N_ELEMENTS (reasons))
    return reasons[error->code];
  return "error";
}

/* "name": "text", or the number as "0x07" when the value has no name. */
static void
append_named (GString *out, const char *key, const char *name, guint value)
{
  g_autofree char *hex = g_strdup_printf ("0x%02x", value);

  g_string_append_printf (out, ", \"%s\": ", key);
  cli_json_append_string (out, name != NULL ? name : hex);
}

static void
append_field_name (GString *out, const char *key, guint8 id)
{
  const BmsFieldInfo *field = bms_field_lookup (id);
  g_autofree char *hex = g_strdup_printf ("0x%02x", id);

  g_string_append_printf (out, ", \"%s\": ", key);
  cli_json_append_string (out, field != NULL ? field->name : hex);
}

/* key: "line" (one frame per line) or "frame" (--stream: the nth frame or
 * rejected candidate in the stream). */
static void
print_error (const char *key, guint position, const GError *error, const guint8 *data, gsize len)
{
  g_autoptr (GString) out = g_string_new (NULL);

  g_string_append_printf (out, "{\"ok\": false, \"%s\": %u, \"reason\": \"%s\", \"error\": ", key,
                          position, frame_error_reason (error));
  cli_json_append_string (out, error->message);
  if (g_error_matches (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_CHECKSUM) && len >= 4)
    g_string_append_printf (out, ", \"expected\": \"0x%04x\", \"actual\": \"0x%04x\"",
                            bms_frame_checksum (data, len - 4),
                            (guint)(data[len - 2] << 8 | data[len - 1]));
  g_string_append (out, "}");
  puts (out->str);
}

/* --show-password: one run decodes with one setting. */
static gboolean show_password;

/* The info field: replies to write/password carry [id, result], read
 * requests carry the id to read; everything else is "id value …". */
static gboolean
append_info (GString *out, const BmsFrame *frame, GError **error)
{
  g_autoptr (BmsSnapshot) snapshot = NULL;
  g_autoptr (GError) implausible = NULL;
  g_autofree char *json = NULL;
  gboolean is_reply = frame->transport == BMS_TRANSPORT_REPLY;
  gboolean is_request = frame->transport == BMS_TRANSPORT_REQUEST;

  if (is_reply && frame->info_len == 2
      && (frame->command == BMS_CMD_WRITE || frame->command == BMS_CMD_PASSWORD))
    {
      append_field_name (out, "field", frame->info[0]);
      append_named (out, "result", result_name (frame->info[1]), frame->info[1]);
      return TRUE;
    }
  if (is_request && frame->info_len == 1
      && (frame->command == BMS_CMD_READ || frame->command == BMS_CMD_READ_ALL))
    {
      if (frame->info[0] == BMS_ID_READ_ALL)
        g_string_append (out, ", \"read\": \"all\"");
      else
        append_field_name (out, "read", frame->info[0]);
      return TRUE;
    }
  if (frame->command == BMS_CMD_ACTIVATE && frame->info_len <= 1)
    return TRUE;

  snapshot = bms_snapshot_new ();
  if (!bms_snapshot_parse (snapshot, frame->info, frame->info_len, error))
    return FALSE;
  json = cli_snapshot_to_json (snapshot, show_password);
  cli_json_merge_object (out, json);
  /* Decoded as sent, but flagged: the app would not store it. */
  if (!bms_snapshot_check_plausible (snapshot, &implausible))
    {
      g_string_append (out, ", \"implausible\": ");
      cli_json_append_string (out, implausible->message);
    }
  return TRUE;
}

/* Prints a decoded frame's JSON line; FALSE if its info field is invalid. */
static gboolean
print_frame (const char *key, guint position, const BmsFrame *frame, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  g_string_append_printf (out, "{\"ok\": true, \"%s\": %u", key, position);
  append_named (out, "command", command_name (frame->command), frame->command);
  append_named (out, "source", source_name (frame->source), frame->source);
  append_named (out, "transport", transport_name (frame->transport), frame->transport);
  g_string_append_printf (out, ", \"terminal\": %u, \"record\": %u", frame->terminal,
                          frame->record);
  if (!append_info (out, frame, &error))
    {
      print_error (key, position, error, data, len);
      return FALSE;
    }
  g_string_append (out, "}");
  puts (out->str);
  return TRUE;
}

/* One frame on one line; FALSE if it was invalid. */
static gboolean
decode_frame (guint line, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsFrame) frame = bms_frame_decode (data, len, &error);

  if (frame == NULL)
    {
      print_error ("line", line, error, data, len);
      return FALSE;
    }
  return print_frame ("line", line, frame, data, len);
}

/* --stream / --binary: the bytes of the whole input go through the
 * streaming parser, so frames may span lines and garbage between them is
 * skipped, as on a real line. */
typedef struct
{
  guint events;
  guint frames;
  guint invalid;
} Stream;

static void
on_stream_frame (BmsFrame *frame, gpointer user_data)
{
  g_autoptr (BmsFrame) owned = frame;
  Stream *stream = user_data;

  stream->events++;
  stream->frames++;
  if (!print_frame ("frame", stream->events, owned, NULL, 0))
    stream->invalid++;
}

static void
on_stream_error (const GError *error, gpointer user_data)
{
  Stream *stream = user_data;

  stream->events++;
  stream->invalid++;
  print_error ("frame", stream->events, error, NULL, 0);
}

static guint
decode_stream (FILE *in, gboolean binary)
{
  Stream stream = { 0 };
  g_autoptr (BmsFrameParser) parser
      = bms_frame_parser_new (on_stream_frame, on_stream_error, &stream);
  char *text = NULL;
  size_t text_size = 0;
  guint line = 0;
  guint8 buffer[4096];
  gssize n;

  /* read (), not fread (): a live line (socat … | decode -b) gives a few
   * bytes at a time, and each frame should show as soon as it is complete. */
  if (binary)
    while ((n = read (fileno (in), buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
      {
        if (n > 0)
          bms_frame_parser_push (parser, buffer, (gsize)n);
        fflush (stdout);
      }
  else
    while (getline (&text, &text_size, in) >= 0)
      {
        g_autoptr (GByteArray) bytes = g_byte_array_new ();
        g_autoptr (GError) error = NULL;

        line++;
        if (!bms_hex_parse_line (text, bytes, &error))
          {
            print_error ("line", line, error, NULL, 0);
            stream.invalid++;
          }
        bms_frame_parser_push (parser, bytes->data, bytes->len);
        fflush (stdout);
      }
  free (text);
  bms_frame_parser_finish (parser);
  fprintf (stderr,
           "packwatch-cli decode: %u frame%s, %u invalid, %" G_GSIZE_FORMAT
           " byte%s skipped between frames\n",
           stream.frames, stream.frames == 1 ? "" : "s", stream.invalid,
           bms_frame_parser_skipped (parser), bms_frame_parser_skipped (parser) == 1 ? "" : "s");
  return stream.invalid;
}

static guint
decode_lines (FILE *in)
{
  char *text = NULL;
  size_t text_size = 0;
  guint line = 0, invalid = 0;

  while (getline (&text, &text_size, in) >= 0)
    {
      g_autoptr (GByteArray) bytes = g_byte_array_new ();
      g_autoptr (GError) error = NULL;

      line++;
      if (!bms_hex_parse_line (text, bytes, &error))
        {
          print_error ("line", line, error, NULL, 0);
          invalid++;
        }
      else if (bytes->len > 0 && !decode_frame (line, bytes->data, bytes->len))
        invalid++;
      fflush (stdout); /* one line per frame as it comes, for pipes */
    }
  free (text);
  if (invalid > 0)
    fprintf (stderr, "packwatch-cli decode: %u invalid frame%s\n", invalid,
             invalid == 1 ? "" : "s");
  return invalid;
}

static FILE *
open_input (const char *path, gboolean binary)
{
  FILE *in;

  if (path == NULL || strcmp (path, "-") == 0)
    return stdin;
  in = fopen (path, binary ? "rb" : "r");
  if (in == NULL)
    cli_error ("decode", "cannot open %s: %s", path, g_strerror (errno));
  return in;
}

int
cli_decode (int argc, char **argv)
{
  gboolean stream = FALSE, binary = FALSE;
  const GOptionEntry entries[] = {
    { "stream", 's', 0, G_OPTION_ARG_NONE, &stream,
      "Treat all the hex of the input as one byte stream: frames may span lines, "
      "garbage between them is skipped",
      NULL },
    { "binary", 'b', 0, G_OPTION_ARG_NONE, &binary,
      "The input is raw bytes (a capture of the line), decoded as a stream", NULL },
    { "show-password", 0, 0, G_OPTION_ARG_NONE, &show_password, CLI_SHOW_PASSWORD_HELP, NULL },
    { NULL },
  };
  FILE *in;
  guint invalid;

  if (!cli_parse_options (&argc, &argv, "[FILE]",
                          "Reads hex frames, one per line, from FILE or standard input and\n"
                          "prints one JSON object per frame. Bytes may be separated by spaces,\n"
                          "colons, commas or nothing and carry 0x prefixes; a leading <<< or >>>\n"
                          "marker, # comments and blank lines are ignored. Exits 1 if any\n"
                          "frame was invalid.",
                          entries, NULL))
    return CLI_EXIT_USAGE;
  if (argc > 2)
    {
      cli_error ("decode", "expected at most one FILE, got %d arguments", argc - 1);
      return CLI_EXIT_USAGE;
    }
  in = open_input (argc == 2 ? argv[1] : NULL, binary);
  if (in == NULL)
    return CLI_EXIT_USAGE;
  if (stream || binary)
    invalid = decode_stream (in, binary);
  else
    invalid = decode_lines (in);
  if (in != stdin)
    fclose (in);
  return invalid > 0 ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}
