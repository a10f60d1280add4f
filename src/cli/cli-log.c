/* cli-log.c — `packwatch-cli log`: headless logging into the history
 * database (a Raspberry Pi next to the battery).
 *
 * One read-all per interval, each sample one transaction. SIGINT, SIGTERM
 * and the end of --duration cancel the read in flight (a sample is stored
 * whole or not at all), flush and exit 0 within a second, whatever the line
 * does; a kill -9 loses at most that cycle. A cycle longer than the interval
 * (256 cells at 9600 baud) is not piled up: the next one starts right away
 * and the log says so once. A board that stops answering or an adapter
 * that is unplugged is retried every interval.
 */

#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>

#include "cli-common.h"
#include "bms-alarm.h"
#include "cli-history.h"

static void
print_sample (const BmsSnapshot *s)
{
  g_autofree char *time = cli_history_format_time (s->timestamp_us);
  guint16 lo = G_MAXUINT16, hi = 0;

  for (guint i = 0; i < s->n_cells; i++)
    lo = MIN (lo, s->cells_mv[i]), hi = MAX (hi, s->cells_mv[i]);
  printf ("%s  %7.2f V  %8.2f A  %3.0f %%", time, bms_snapshot_get_pack_voltage (s),
          bms_snapshot_get (s, BMS_ID_CURRENT), bms_snapshot_get (s, BMS_ID_SOC));
  if (s->n_cells)
    printf ("  cells %u: %.3f … %.3f V", s->n_cells, lo / 1000.0, hi / 1000.0);
  putchar ('\n');
  fflush (stdout);
}

typedef struct {
  BmsSession *session;
  BmsHistory *history;
  gint64      device_id;
  gboolean    named;
  gboolean    connected;
  gboolean    verbose;
  guint       misses;
  guint64     implausible;
  char       *implausible_reason; /* the last one reported */
  gboolean    write_failing;  /* reported; waiting for "recording again" */
  guint64     lost_before;    /* failed_jobs when that was reported */
  char       *key;
} Logger;

/* A full disk fails every cycle until space is freed: say so when it
 * starts and when recording resumes, not once per cycle. */
static void
report_write_state (Logger *log)
{
  BmsHistoryStats stats;

  bms_history_get_stats (log->history, &stats);
  if (stats.failing && !log->write_failing)
    {
      g_autofree char *why = bms_history_dup_write_error (log->history);
      cli_error ("log", "not recording: %s (the board is still polled; recording resumes "
                 "by itself once the write succeeds)", why ? why : "a write failed");
      log->write_failing = TRUE;
      log->lost_before = stats.failed_jobs - 1;
    }
  else if (!stats.failing && log->write_failing)
    {
      fprintf (stderr, "packwatch-cli log: recording again (%" G_GUINT64_FORMAT
               " cycles were not saved)\n", stats.failed_jobs - log->lost_before);
      log->write_failing = FALSE;
    }
}

/* Names the device after its id code once the first sample shows it. */
static void
name_device (Logger *log, const BmsSnapshot *s)
{
  const BmsFieldInfo *id_code = bms_field_lookup_name ("device_id");
  g_autofree char *name = id_code ? bms_snapshot_dup_string (s, id_code->id) : NULL;
  g_autoptr (GError) error = NULL;

  log->named = TRUE;
  if (name && *name && !bms_history_ensure_device (log->history, log->key, name, &error))
    cli_error ("log", "cannot name the device: %s", error->message);
}

/* Not a sample: counted, kept in the history as an event with the reason,
 * and said on standard error when the reason is new. */
static void
skip_implausible (Logger *log, const BmsSnapshot *s, const char *reason)
{
  log->implausible++;
  bms_history_add_alarm_event (log->history, log->device_id, s->timestamp_us,
                               BMS_ALARM_CODE_IMPLAUSIBLE, TRUE, NAN, NAN, reason);
  if (g_strcmp0 (reason, log->implausible_reason) == 0)
    return;
  cli_error ("log", "implausible reply skipped: %s", reason);
  g_free (log->implausible_reason);
  log->implausible_reason = g_strdup (reason);
}

static void
run_cycle (Logger *log)
{
  g_autoptr (BmsSnapshot) snapshot = NULL;
  g_autoptr (GError) error = NULL;

  if (!log->connected)
    {
      if (!bms_session_open (log->session, &error))
        {
          if (log->misses++ == 0)
            cli_error ("log", "%s (retrying every interval)", error->message);
          return;
        }
      log->connected = TRUE;
    }
  snapshot = bms_session_read_all (log->session, cli_stop_get_cancellable (), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (snapshot == NULL)
    {
      if (log->misses++ == 0)
        cli_error ("log", "no sample: %s (retrying every interval)", error->message);
      if (error->domain == BMS_TRANSPORT_ERROR
          || g_error_matches (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED))
        {
          bms_session_close (log->session);
          log->connected = FALSE;
        }
      return;
    }
  if (log->misses)
    fprintf (stderr, "packwatch-cli log: the board answers again after %u missed cycles\n",
             log->misses);
  log->misses = 0;
  if (!bms_snapshot_check_plausible (snapshot, &error))
    {
      skip_implausible (log, snapshot, error->message);
      return;
    }
  if (!log->named)
    name_device (log, snapshot);
  bms_history_append_snapshot (log->history, log->device_id, snapshot);
  if (log->verbose)
    print_sample (snapshot);
  report_write_state (log);
}

static gboolean
writes_failing (BmsHistory *history)
{
  BmsHistoryStats stats;

  bms_history_get_stats (history, &stats);
  return stats.failing;
}

/* What was committed, not what was polled: a cycle lost to a full disk
 * is not "saved". */
static void
print_summary (BmsHistory *history, guint64 implausible, int stopped_by)
{
  BmsHistoryStats stats;

  bms_history_get_stats (history, &stats);
  fprintf (stderr, "packwatch-cli log: %" G_GUINT64_FORMAT " samples saved", stats.samples);
  if (stats.failed_jobs)
    fprintf (stderr, ", %" G_GUINT64_FORMAT " cycles lost to write failures", stats.failed_jobs);
  if (implausible > 0)
    fprintf (stderr, ", %" G_GUINT64_FORMAT " implausible replies skipped", implausible);
  fprintf (stderr, "%s\n",
           stopped_by ? (stopped_by == SIGINT ? " (interrupted)" : " (terminated)") : "");
}

static gboolean
parse_seconds (const char *option, double value, double min, double max, gint64 *out_us,
               GError **error)
{
  if (isnan (value) || value < min || value > max)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "%s must be between %g and %g seconds, not %g",
                   option, min, max, value);
      return FALSE;
    }
  *out_us = (gint64) llround (value * G_USEC_PER_SEC);
  return TRUE;
}

int
cli_log (int argc, char **argv)
{
  CliConnection conn;
  g_autofree char *db = NULL;
  double interval = 1.0, duration = 0.0;
  gboolean verbose = FALSE, fsync_each = FALSE;
  g_autoptr (BmsHistory) history = NULL;
  g_autoptr (BmsSession) session = NULL;
  g_autoptr (GError) error = NULL;
  gint64 interval_us = 0, duration_us = 0, start, next, last_flush;
  gboolean warned_slow = FALSE;
  Logger log = { 0 };
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "History database (default: the per-user one)", "FILE" },
    { "interval", 'i', 0, G_OPTION_ARG_DOUBLE, &interval, "Seconds between samples, 0.2–60 (default 1)", "S" },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "Stop S seconds after the start, at the latest (default: until Ctrl+C)", "S" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print every sample", NULL },
    { "fsync", 0, 0, G_OPTION_ARG_NONE, &fsync_each,
      "Sync every sample to disk: a power cut loses nothing saved (more writes to an SD card)", NULL },
    { NULL }
  };
  int status = CLI_EXIT_OK;

  cli_connection_init (&conn);
  if (!cli_parse_options (&argc, &argv, "",
                          "Polls a board and records every sample, with all cell voltages, in the\n"
                          "history database until Ctrl+C, SIGTERM or --duration. Stopping takes\n"
                          "effect within a second, whatever the line does: the read in flight is\n"
                          "dropped (a sample is stored whole or not at all) and everything else\n"
                          "is saved; a crash or kill -9 loses at most that one cycle (with --fsync\n"
                          "a power cut too).",
                          entries, cli_connection_option_group (&conn)))
    status = CLI_EXIT_USAGE;
  else if (argc > 1)
    error = g_error_new (CLI_ERROR, CLI_ERROR_USAGE, "takes no arguments");
  else if (!cli_connection_validate (&conn, &error)
           || !parse_seconds ("--interval", interval, 0.2, 60, &interval_us, &error)
           || (duration != 0 && !parse_seconds ("--duration", duration, 0.001, 1e9, &duration_us, &error)))
    g_assert (error != NULL);
  if (error || status != CLI_EXIT_OK)
    {
      if (error)
        cli_error ("log", "%s", error->message);
      cli_connection_clear (&conn);
      return CLI_EXIT_USAGE;
    }

  /* Before the history's and the session's threads: they inherit the mask. */
  cli_stop_start ();
  start = g_get_monotonic_time ();
  if (duration_us)
    cli_stop_set_deadline (start + duration_us);
  log.key = g_strdup_printf ("%s:%d", conn.port, conn.address);
  if (!(history = cli_history_open (db, FALSE, &error))
      || !(log.device_id = bms_history_claim_device (history, log.key, NULL, &error)))
    {
      cli_error ("log", "%s", error->message);
      status = g_error_matches (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLAIMED)
               ? CLI_EXIT_BUSY : CLI_EXIT_FAILED;
      goto out;
    }
  if (!(session = cli_connection_open (&conn, &error)))
    {
      cli_error ("log", "%s", error->message);
      status = CLI_EXIT_UNREACHABLE;
      goto out;
    }
  if (fsync_each)
    bms_history_set_sync_every_commit (history, TRUE);
  log.session = session;
  log.history = history;
  log.connected = TRUE;
  log.verbose = verbose;
  fprintf (stderr, "packwatch-cli log: %s every %g s into %s (Ctrl+C stops)\n", log.key, interval,
           bms_history_get_path (history));

  next = last_flush = g_get_monotonic_time ();
  while (!cli_stop_requested ())
    {
      gint64 now;

      run_cycle (&log);
      now = g_get_monotonic_time ();
      next += interval_us;
      if (now > next)
        {
          if (!warned_slow)
            fprintf (stderr, "packwatch-cli log: a cycle takes %.2f s, longer than the %g s "
                     "interval: sampling as fast as the line allows\n",
                     (now - (next - interval_us)) / 1e6, interval);
          warned_slow = TRUE;
          next = now;
        }
      if (now - last_flush > 60 * G_USEC_PER_SEC)
        {
          /* Surfaces a full disk while running, not only at the end. */
          if (!bms_history_flush (history, &error) && !log.write_failing)
            cli_error ("log", "%s", error->message);
          g_clear_error (&error);
          report_write_state (&log);
          last_flush = now;
        }
      cli_stop_sleep_until (next);
    }

  /* An outage that was reported and is over does not fail the run; a
   * write failing at the end does. */
  if (!bms_history_flush (history, &error) && (log.write_failing || writes_failing (history)))
    {
      cli_error ("log", "%s", error->message);
      status = CLI_EXIT_FAILED;
    }
  print_summary (history, log.implausible, cli_stop_get_signal ());
out:
  g_free (log.key);
  g_free (log.implausible_reason);
  cli_connection_clear (&conn);
  return status;
}
