/* cli-capture.c — `packwatch-cli capture`: a board's raw read-all replies
 * as hex lines, for a support case. The file is what `decode` reads and
 * `packwatch-sim --replay` serves.
 *
 * The frames go to a temporary file next to FILE, flushed line by line (a
 * kill -9 leaves them there), which takes FILE's name once the capture ends:
 * after --count replies, within a second of Ctrl+C/SIGTERM (the shared
 * cli_stop_*: the reply in flight is dropped, whole frames are kept) or
 * when the board stops answering. Nothing is renamed without at
 * least one frame, so a failed capture never replaces an earlier one.
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "bms-hex.h"
#include "bms-tap-transport.h"
#include "cli-common.h"

#define MAX_COUNT 100000

typedef struct
{
  CliConnection conn;
  char *out_path;
  int count;
  double interval;
} Options;

static void
options_clear (Options *o)
{
  cli_connection_clear (&o->conn);
  g_clear_pointer (&o->out_path, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

typedef struct
{
  const char *out_path;
  char *tmp_path;
  FILE *out;
  guint frames;
} Capture;

static char *
utc_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

/* A snapshot's ASCII field for the header, "?" when the board has none. */
static char *
identity (const BmsSnapshot *snapshot, const char *name)
{
  const BmsFieldInfo *field = bms_field_lookup_name (name);
  char *text = field ? bms_snapshot_dup_string (snapshot, field->id) : NULL;

  return text && *text ? text : (g_free (text), g_strdup ("?"));
}

static void
write_header (Capture *c, const Options *o, const BmsSnapshot *first)
{
  g_autofree char *device = identity (first, "device_id");
  g_autofree char *software = identity (first, "software_version");
  g_autofree char *time = utc_now ();

  fprintf (c->out,
           "# packwatch-cli capture: device id %s, software %s, address %d, port %s, "
           "%s, Packwatch %s\n",
           device, software, o->conn.address, o->conn.port, time, PACKAGE_VERSION);
}

static gboolean
write_frame (Capture *c, GBytes *frame, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);
  g_autofree char *hex = bms_hex_format (data, len);
  g_autofree char *time = utc_now ();

  if (fprintf (c->out, "%s  # %s\n", hex, time) < 0 || fflush (c->out) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "cannot write %s: %s",
                   c->tmp_path, g_strerror (errsv));
      return FALSE;
    }
  c->frames++;
  return TRUE;
}

/* The temporary file in FILE's directory, so the rename stays on one disk. */
static gboolean
capture_open (Capture *c, GError **error)
{
  int fd;

  c->tmp_path = g_strdup_printf ("%s.XXXXXX", c->out_path);
  fd = g_mkstemp (c->tmp_path);
  if (fd < 0 || (c->out = fdopen (fd, "w")) == NULL)
    {
      int errsv = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "cannot create %s: %s",
                   c->tmp_path, g_strerror (errsv));
      if (fd >= 0)
        close (fd);
      return FALSE;
    }
  return TRUE;
}

/* Renames the frames into place, or removes the empty temporary file. */
static gboolean
capture_finish (Capture *c, GError **error)
{
  gboolean ok = TRUE;

  if (c->out != NULL && fclose (c->out) != 0 && c->frames > 0)
    {
      int errsv = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "cannot write %s: %s",
                   c->tmp_path, g_strerror (errsv));
      ok = FALSE;
    }
  c->out = NULL;
  if (c->tmp_path == NULL)
    return ok;
  if (ok && c->frames > 0 && g_rename (c->tmp_path, c->out_path) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   "cannot rename %s to %s: %s", c->tmp_path, c->out_path, g_strerror (errsv));
      return FALSE;
    }
  if (c->frames == 0)
    g_unlink (c->tmp_path);
  g_clear_pointer (&c->tmp_path, g_free);
  return ok;
}

/* One read all, its raw reply appended; FALSE when the board did not give
 * one (the capture ends there). */
static gboolean
capture_one (Capture *c, const Options *o, BmsSession *session, BmsTransport *tap, GError **error)
{
  g_autoptr (BmsSnapshot) snapshot
      = bms_session_read_all (session, cli_stop_get_cancellable (), error);
  g_autoptr (GBytes) frame = NULL;

  if (snapshot == NULL)
    return FALSE;
  frame = bms_tap_transport_take_reply (BMS_TAP_TRANSPORT (tap), BMS_CMD_READ_ALL);
  if (frame == NULL)
    {
      g_set_error_literal (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_BAD_REPLY,
                           "the reply was read but its frame was not seen on the line");
      return FALSE;
    }
  if (c->frames == 0)
    write_header (c, o, snapshot);
  return write_frame (c, frame, error);
}

static int
run_capture (Options *o)
{
  g_autoptr (BmsTransport) tap = NULL;
  g_autoptr (BmsSession) session = NULL;
  g_autoptr (GError) error = NULL;
  Capture c = { .out_path = o->out_path };
  gint64 next;
  int status = CLI_EXIT_OK;

  /* Before the session's worker exists: it inherits the blocked mask. */
  cli_stop_start ();
  session = cli_connection_open_wrapped (&o->conn, bms_tap_transport_new, &tap, &error);
  if (session == NULL)
    {
      cli_error ("capture", "%s", error->message);
      return CLI_EXIT_UNREACHABLE;
    }
  if (!capture_open (&c, &error))
    {
      cli_error ("capture", "%s", error->message);
      return CLI_EXIT_FAILED;
    }
  fprintf (stderr, "packwatch-cli capture: %d replies from %s every %g s into %s (Ctrl+C stops)\n",
           o->count, o->conn.port, o->interval, o->out_path);
  next = g_get_monotonic_time ();
  while (!cli_stop_requested () && c.frames < (guint)o->count)
    {
      if (!capture_one (&c, o, session, tap, &error))
        {
          if (cli_stop_requested ())
            break; /* the reply in flight is dropped: not the board's fault */
          cli_error ("capture", "%s", error->message);
          status = error->domain == G_FILE_ERROR ? CLI_EXIT_FAILED : CLI_EXIT_UNREACHABLE;
          g_clear_error (&error);
          break;
        }
      if (c.frames < (guint)o->count)
        cli_stop_sleep_until (next += (gint64)llround (o->interval * G_USEC_PER_SEC));
    }
  bms_session_close (session);
  if (!capture_finish (&c, &error))
    {
      cli_error ("capture", "%s", error->message);
      status = CLI_EXIT_FAILED;
    }
  fprintf (stderr, "packwatch-cli capture: %u repl%s saved%s%s\n", c.frames,
           c.frames == 1 ? "y" : "ies", c.frames > 0 ? " in " : "",
           c.frames > 0 ? o->out_path : "");
  return status;
}

int
cli_capture (int argc, char **argv)
{
  g_auto (Options) o = { .count = 10, .interval = 1.0 };
  const GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &o.out_path, "File to write (required)", "FILE" },
    { "count", 'n', 0, G_OPTION_ARG_INT, &o.count, "Replies to record, 1–100000 (default 10)",
      "N" },
    { "interval", 'i', 0, G_OPTION_ARG_DOUBLE, &o.interval,
      "Seconds between read-all requests, 0–3600 (default 1)", "S" },
    { NULL },
  };

  cli_connection_init (&o.conn);
  if (!cli_parse_options (&argc, &argv, "",
                          "Records a board's raw read-all replies, one hex frame per line after a\n"
                          "# comment naming the board, the time and the Packwatch version: a\n"
                          "file for a support case, read by `decode` and served by\n"
                          "`packwatch-sim --replay`. Stops after --count replies, on Ctrl+C or\n"
                          "when the board stops answering; the replies recorded so far are kept.",
                          entries, cli_connection_option_group (&o.conn)))
    return CLI_EXIT_USAGE;
  if (argc > 1)
    {
      cli_error ("capture", "takes no arguments (got \"%s\"): the file is --out FILE", argv[1]);
      return CLI_EXIT_USAGE;
    }
  {
    g_autoptr (GError) error = NULL;

    if (!cli_connection_validate (&o.conn, &error))
      {
        cli_error ("capture", "%s", error->message);
        return CLI_EXIT_USAGE;
      }
  }
  if (o.out_path == NULL || *o.out_path == '\0')
    {
      cli_error ("capture", "--out FILE is required: where to write the frames");
      return CLI_EXIT_USAGE;
    }
  if (o.count < 1 || o.count > MAX_COUNT)
    {
      cli_error ("capture", "--count must be 1 to %d, not %d", MAX_COUNT, o.count);
      return CLI_EXIT_USAGE;
    }
  if (isnan (o.interval) || o.interval < 0 || o.interval > 3600)
    {
      cli_error ("capture", "--interval must be 0 to 3600 seconds, not %g", o.interval);
      return CLI_EXIT_USAGE;
    }
  return run_capture (&o);
}
