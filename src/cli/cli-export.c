/* cli-export.c — `packwatch-cli export`: the history as .xlsx or .csv. */

#include "config.h"

#include <stdio.h>

#include "bms-export.h"
#include "cli-common.h"
#include "cli-history.h"

static void
on_progress (BmsExport  *export,
             GParamSpec *pspec,
             CliFileJob *job)
{
  cli_file_job_progress (job, "Exporting … %3.0f %% (%" G_GUINT64_FORMAT " rows)",
                         100 * bms_export_get_fraction (export), bms_export_get_rows (export));
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  GError *error = NULL;
  gboolean ok = bms_export_write_finish (BMS_EXPORT (source), result, &error);

  cli_file_job_done (data, ok, error);
}

int
cli_export (int argc, char **argv)
{
  g_autofree char *db = NULL, *xlsx = NULL, *csv = NULL, *from = NULL, *to = NULL;
  g_autofree char *device = NULL;
  int rows_per_sheet = 0;
  g_autoptr (BmsHistory) history = NULL;
  g_autoptr (BmsExport) export = NULL;
  g_autoptr (GError) error = NULL;
  gint64 from_us = 0, to_us = G_MAXINT64, device_id = 0;
  CliFileJob job;
  const char *out;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "History database (default: the per-user one)", "FILE" },
    { "xlsx", 0, 0, G_OPTION_ARG_FILENAME, &xlsx, "Write an Excel workbook", "OUT" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Write CSV (one row per sample)", "OUT" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "First time (ISO 8601 or a date)", "TIME" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "Last time (ISO 8601, or a date: to its end)", "TIME" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "Only this device (id, key or name)", "DEVICE" },
    { "rows-per-sheet", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &rows_per_sheet,
      "Rows per Excel sheet including the header (tests)", "N" },
    { NULL }
  };

  if (!cli_parse_options (&argc, &argv, "",
                          "Exports the history: an Excel workbook (summary, samples, one column\n"
                          "per cell, alarm events, audit log, each cell's health, time charts of pack\n"
                          "voltage, current, SOC, temperatures and lowest/highest cell) or a CSV file. The file is\n"
                          "written next to OUT and renamed over it when complete, so an interrupted\n"
                          "export (Ctrl+C) leaves an earlier OUT as it was.",
                          entries, NULL))
    return CLI_EXIT_USAGE;
  if (argc > 1 || (xlsx == NULL) == (csv == NULL))
    {
      cli_error ("export", "give exactly one of --xlsx OUT or --csv OUT");
      return CLI_EXIT_USAGE;
    }
  if (!cli_history_parse_time ("--from", from, FALSE, &from_us, &error) ||
      !cli_history_parse_time ("--to", to, TRUE, &to_us, &error))
    {
      cli_error ("export", "%s", error->message);
      return CLI_EXIT_USAGE;
    }
  if (from_us > to_us)
    {
      cli_error ("export", "--from is after --to: nothing to export");
      return CLI_EXIT_USAGE;
    }
  if (!(history = cli_history_open (db, TRUE, &error)) ||
      !cli_history_find_device (history, device, &device_id, &error))
    {
      cli_error ("export", "%s", error->message);
      return g_error_matches (error, CLI_ERROR, CLI_ERROR_USAGE) ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
    }

  out = xlsx ? xlsx : csv;
  export = bms_export_new (history);
  bms_export_set_format (export, xlsx ? BMS_EXPORT_FORMAT_XLSX : BMS_EXPORT_FORMAT_CSV);
  bms_export_set_range (export, from_us, to_us);
  bms_export_set_device (export, device_id);
  if (rows_per_sheet && !bms_export_set_max_rows_per_sheet (export, rows_per_sheet, &error))
    {
      cli_error ("export", "%s", error->message);
      return CLI_EXIT_USAGE;
    }

  cli_file_job_init (&job, "export");
  g_signal_connect (export, "notify::fraction", G_CALLBACK (on_progress), &job);
  bms_export_write_async (export, out, job.cancel, on_done, &job);
  if (cli_file_job_run (&job) != CLI_EXIT_OK)
    return CLI_EXIT_FAILED;
  fprintf (stderr, "Wrote %s (%" G_GUINT64_FORMAT " rows)\n", out, bms_export_get_rows (export));
  return CLI_EXIT_OK;
}
