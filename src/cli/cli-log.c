/* cli-log.c — `packwatch-cli log`: headless logging into the history
 * database (a Raspberry Pi next to the battery).
 *
 * The app's poller (BmsPoller) does the work, so a headless log is the one
 * the app records: the same device key and one-writer claim, the alarm
 * monitor's events, implausible replies skipped and counted, reconnecting
 * after an unplug. This file only turns what the poller says into lines on
 * standard error and stops it: SIGINT, SIGTERM and the end of --duration
 * cancel the read in flight (a sample is stored whole or not at all), flush
 * and exit 0 within a second, whatever the line does; a kill -9 loses at
 * most that cycle.
 */

#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>

#include "cli-common.h"
#include "bms-poller.h"
#include "cli-history.h"

static void
print_sample (const BmsSnapshot *s)
{
  g_autofree char *time = cli_history_format_time (s->timestamp_us);
  guint lo, hi;

  printf ("%s  %7.2f V  %8.2f A  %3.0f %%", time, bms_snapshot_get_pack_voltage (s),
          bms_snapshot_get (s, BMS_ID_CURRENT), bms_snapshot_get (s, BMS_ID_SOC));
  if (bms_snapshot_get_cell_range (s, &lo, &hi))
    printf ("  cells %u: %.3f … %.3f V", s->n_cells, s->cells_mv[lo] / 1000.0,
            s->cells_mv[hi] / 1000.0);
  putchar ('\n');
  fflush (stdout);
}

typedef struct {
  GMainLoop  *loop;
  BmsPoller  *poller;
  BmsDevice  *device;
  BmsHistory *history;
  double      interval;
  gboolean    verbose;
  gboolean    refused;        /* another process records the board */
  gboolean    outage;         /* "no sample" said; waiting for a sample */
  gint64      outage_since;   /* monotonic */
  gboolean    warned_slow;
  char       *implausible_reason; /* the last one reported */
  CliWriteState writes;
} Logger;

/* The line went down or the board stopped answering (offline after
 * BMS_POLLER_MISSED_OFFLINE cycles): said once per outage. */
static void
report_outage (Logger *log)
{
  if (log->outage || cli_stop_requested ())
    return;
  log->outage = TRUE;
  log->outage_since = g_get_monotonic_time ();
  cli_error ("log", "no sample: %s (retrying)", bms_poller_get_message (log->poller));
}

static void
on_sample (BmsDevice *device, GParamSpec *pspec, Logger *log)
{
  const BmsSnapshot *s = bms_device_get_snapshot (device);

  if (s == NULL)
    return;
  if (log->outage)
    fprintf (stderr, "packwatch-cli log: the board answers again after %.1f s without a sample\n",
             (g_get_monotonic_time () - log->outage_since) / (double) G_USEC_PER_SEC);
  log->outage = FALSE;
  if (log->verbose)
    print_sample (s);
}

static void
on_online (BmsDevice *device, GParamSpec *pspec, Logger *log)
{
  if (!bms_device_get_online (device))
    report_outage (log);
}

/* Not a sample: the poller counts it and keeps it in the history as an
 * event with the reason; said on standard error when the reason is new. */
static void
on_implausible (BmsDevice *device, GParamSpec *pspec, Logger *log)
{
  const char *reason = bms_device_get_implausible_reason (device);

  if (reason == NULL || g_strcmp0 (reason, log->implausible_reason) == 0)
    return;
  cli_error ("log", "implausible reply skipped: %s", reason);
  g_free (log->implausible_reason);
  log->implausible_reason = g_strdup (reason);
}

static void
on_connected (BmsPoller *poller, GParamSpec *pspec, Logger *log)
{
  if (!bms_poller_get_connected (poller) && bms_poller_get_cycles (poller) > 0)
    report_outage (log);
}

/* Each finished cycle: the disk's state, said when it changes. */
static void
on_cycle (BmsPoller *poller, GParamSpec *pspec, Logger *log)
{
  cli_history_report_writes ("log", log->history, &log->writes);
}

static void
on_lagging (BmsPoller *poller, GParamSpec *pspec, Logger *log)
{
  if (!bms_poller_get_lagging (poller) || log->warned_slow)
    return;
  log->warned_slow = TRUE;
  fprintf (stderr, "packwatch-cli log: a cycle takes %.2f s, longer than the %g s "
           "interval: sampling as fast as the line allows\n",
           bms_poller_get_cycle_time (poller), log->interval);
}

/* One writer per board: another process records it into this database. */
static void
on_history_refused (BmsPoller *poller, guint address, const char *message, Logger *log)
{
  cli_error ("log", "%s", message);
  log->refused = TRUE;
  g_main_loop_quit (log->loop);
}

static gboolean
on_stop (GCancellable *cancellable, gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Surfaces a full disk while running, not only at the end. */
static gboolean
on_flush_timer (gpointer data)
{
  Logger *log = data;
  g_autoptr (GError) error = NULL;

  if (!bms_history_flush (log->history, &error) && !log->writes.failing)
    cli_error ("log", "%s", error->message);
  cli_history_report_writes ("log", log->history, &log->writes);
  return G_SOURCE_CONTINUE;
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

/* Polls until the stop (signal, --duration) or a refused claim, then
 * stops the poller, hands on what it still had to say, flushes. */
static int
run_poller (BmsSession *session, BmsHistory *history, double interval, gboolean verbose)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (BmsPoller) poller = bms_poller_new (session);
  g_autoptr (GSource) stop = g_cancellable_source_new (cli_stop_get_cancellable ());
  g_autoptr (GError) error = NULL;
  Logger log = { 0 };
  guint flush_timer;
  int status = CLI_EXIT_OK;

  log.loop = loop;
  log.poller = poller;
  log.history = history;
  log.interval = interval;
  log.verbose = verbose;
  if (!bms_poller_set_interval (poller, interval, &error))
    g_return_val_if_reached (CLI_EXIT_USAGE); /* checked with the options */
  bms_poller_set_history (poller, history);
  g_signal_connect (poller, "history-refused", G_CALLBACK (on_history_refused), &log);
  g_signal_connect (poller, "notify::connected", G_CALLBACK (on_connected), &log);
  g_signal_connect (poller, "notify::cycles", G_CALLBACK (on_cycle), &log);
  g_signal_connect (poller, "notify::lagging", G_CALLBACK (on_lagging), &log);
  bms_poller_start (poller);
  log.device = bms_poller_lookup_device (poller, bms_session_get_address (session));
  g_signal_connect (log.device, "notify::last-update", G_CALLBACK (on_sample), &log);
  g_signal_connect (log.device, "notify::online", G_CALLBACK (on_online), &log);
  g_signal_connect (log.device, "notify::implausible-reason", G_CALLBACK (on_implausible), &log);
  g_source_set_callback (stop, G_SOURCE_FUNC (on_stop), loop, NULL);
  g_source_attach (stop, NULL);
  flush_timer = g_timeout_add_seconds (60, on_flush_timer, &log);

  if (!cli_stop_requested ())
    g_main_loop_run (loop);

  /* The read in flight is cancelled; what was read before it is delivered
   * (printed with -v, its alarm events queued) before the flush. */
  bms_poller_stop_sync (poller);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_source_remove (flush_timer);
  g_source_destroy (stop);
  g_signal_handlers_disconnect_by_data (poller, &log);
  g_signal_handlers_disconnect_by_data (log.device, &log);
  if (log.refused)
    status = CLI_EXIT_BUSY;
  /* An outage that was reported and is over does not fail the run; a
   * write failing at the end does. */
  else if (!cli_history_finish_writes ("log", history, &log.writes))
    status = CLI_EXIT_FAILED;
  if (!log.refused)
    cli_history_print_summary ("log", history, bms_poller_get_implausible_replies (poller),
                               cli_stop_get_signal ());
  g_free (log.implausible_reason);
  return status;
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
  g_autofree char *where = NULL;
  gint64 interval_us = 0, duration_us = 0;
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

  /* Before the history's, the session's and the poller's threads: they
   * inherit the mask. */
  cli_stop_start ();
  if (duration_us)
    cli_stop_set_deadline (g_get_monotonic_time () + duration_us);
  where = g_strdup_printf ("%s:%d", conn.port, conn.address);
  /* Two processes cannot share a line: the second is refused here, before
   * it opens the port, under the line's key. The board itself is claimed
   * by the poller under its device key, the one the app claims too. */
  if (!(history = cli_history_open (db, FALSE, &error))
      || !bms_history_claim_device (history, where, NULL, &error))
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
  fprintf (stderr, "packwatch-cli log: %s every %g s into %s (Ctrl+C stops)\n", where, interval,
           bms_history_get_path (history));
  status = run_poller (session, history, interval, verbose);
out:
  cli_connection_clear (&conn);
  return status;
}
