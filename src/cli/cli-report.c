/* cli-report.c — `packwatch-cli report`: the service report as a PDF. */

#include "config.h"

#include <locale.h>
#include <stdio.h>

#include "bms-locale.h"
#include "bms-report.h"
#include "cli-common.h"
#include "cli-history.h"

static void
on_progress (double   fraction,
             gpointer data)
{
  cli_file_job_progress (data, "Writing the report … %3.0f %%", 100 * fraction);
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  GError *error = NULL;
  gboolean ok = bms_report_write_finish (BMS_REPORT (source), result, &error);

  cli_file_job_done (data, ok, error);
}

/* The board's identity and parameters, read once; the history has none. */
static BmsSnapshot *
read_board (const CliConnection *conn,
            GError             **error)
{
  g_autoptr (BmsSession) session = NULL;
  BmsSnapshot *snapshot;

  if (!cli_connection_validate (conn, error) || !(session = cli_connection_open (conn, error)))
    return NULL;
  snapshot = bms_session_read_all (session, NULL, error);
  bms_session_close (session);
  if (snapshot && !bms_snapshot_check_plausible (snapshot, error))
    g_clear_pointer (&snapshot, bms_snapshot_free);
  return snapshot;
}

static int
run_report (BmsReport  *report,
            const char *out)
{
  CliFileJob job;

  cli_file_job_init (&job, "report");
  bms_report_write_async (report, out, on_progress, &job, job.cancel, on_done, &job);
  if (cli_file_job_run (&job) != CLI_EXIT_OK)
    return CLI_EXIT_FAILED;
  fprintf (stderr, "Wrote %s\n", out);
  return CLI_EXIT_OK;
}

static gboolean
check_out (const char  *out,
           GError     **error)
{
  if (out == NULL || *out == '\0')
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "give --out FILE.pdf, the report to write");
      return FALSE;
    }
  if (g_file_test (out, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   "--out %s is a folder; give a file name such as %s/report.pdf", out, out);
      return FALSE;
    }
  return TRUE;
}

int
cli_report (int argc, char **argv)
{
  g_autofree char *db = NULL, *out = NULL, *from = NULL, *to = NULL, *device = NULL;
  g_autofree char *technician = NULL, *customer = NULL, *site = NULL;
  g_autoptr (BmsHistory) history = NULL;
  g_autoptr (BmsReport) report = NULL;
  g_autoptr (BmsSnapshot) board = NULL;
  g_autoptr (GError) error = NULL;
  gint64 from_us = 0, to_us = 0, device_id = 0;
  CliConnection conn;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "History database (default: the per-user one)", "FILE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The PDF to write", "FILE.pdf" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device,
      "The device (id, key or name); needed when the history holds several", "DEVICE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from,
      "First time (ISO 8601 or a date); default: 24 h before --to", "TIME" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to,
      "Last time (ISO 8601, or a date: to its end); default: the last sample", "TIME" },
    { "technician", 0, 0, G_OPTION_ARG_STRING, &technician, "Who did the job", "NAME" },
    { "customer", 0, 0, G_OPTION_ARG_STRING, &customer, "For whom", "NAME" },
    { "site", 0, 0, G_OPTION_ARG_STRING, &site, "Where", "TEXT" },
    { NULL }
  };

  cli_connection_init (&conn);
  if (!cli_parse_options (&argc, &argv, "",
                          "Writes a service report as a PDF (A4): identity, time range, summary,\n"
                          "cell table, alarms, parameters (differences from the chemistry preset\n"
                          "marked), audit of writes and firmware updates, and graphs. Identity and\n"
                          "parameters come from the history as recorded at the end of the range;\n"
                          "with --port they are read from the board once instead. Text follows the\n"
                          "language (LANGUAGE=zh_CN for\n"
                          "Chinese). The file is written next to FILE.pdf and renamed over it when\n"
                          "complete, so a failed or interrupted report leaves an earlier file as it was.",
                          entries, cli_connection_option_group (&conn)))
    {
      cli_connection_clear (&conn);
      return CLI_EXIT_USAGE;
    }
  /* The report is for people: its text follows the interface language. */
  bms_locale_bind_textdomain ();
  if (argc > 1)
    g_set_error (&error, CLI_ERROR, CLI_ERROR_USAGE, "unexpected argument \"%s\"", argv[1]);
  else if (check_out (out, &error)
           && cli_history_parse_time ("--from", from, FALSE, &from_us, &error)
           && cli_history_parse_time ("--to", to, TRUE, &to_us, &error)
           && from_us && to_us && from_us > to_us)
    g_set_error (&error, CLI_ERROR, CLI_ERROR_USAGE, "--from is after --to: the range is empty");
  if (error == NULL && (!(history = cli_history_open (db, TRUE, &error))
                        || !cli_history_find_device (history, device, &device_id, &error)))
    {
      cli_error ("report", "%s", error->message);
      cli_connection_clear (&conn);
      return g_error_matches (error, CLI_ERROR, CLI_ERROR_USAGE) ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
    }
  if (error != NULL)
    {
      cli_error ("report", "%s", error->message);
      cli_connection_clear (&conn);
      return CLI_EXIT_USAGE;
    }
  if (conn.port != NULL && !(board = read_board (&conn, &error)))
    {
      cli_error ("report", "%s: %s; nothing was written", conn.port, error->message);
      cli_connection_clear (&conn);
      return CLI_EXIT_UNREACHABLE;
    }
  cli_connection_clear (&conn);

  report = bms_report_new (history);
  bms_report_set_device (report, device_id);
  bms_report_set_range (report, from_us, to_us);
  bms_report_set_people (report, technician, customer, site);
  bms_report_set_board (report, board);
  return run_report (report, out);
}
