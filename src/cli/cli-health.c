/* cli-health.c — `packwatch-cli health`: each cell's resistance, capacity
 * deviation and leak from the history, and the cells to suspect. */

#include "config.h"

#include <math.h>
#include <stdio.h>

#include "bms-health.h"
#include "cli-common.h"
#include "cli-history.h"

static char *
format_figure (double v, const char *format)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (isfinite (v) ? g_ascii_formatd (buf, sizeof buf, format, v) : "-");
}

static void
print_table (const BmsHealthReport *report)
{
  printf ("%" G_GUINT64_FORMAT " samples, %u current steps used", report->n_samples,
          report->steps_used);
  if (isfinite (report->median_resistance_mohm))
    printf (", median resistance %.3f mΩ", report->median_resistance_mohm);
  printf ("\n\n%5s %12s %6s %6s %13s %8s\n", "CELL", "R (mΩ)", "CONF", "STEPS", "CAPACITY (%)",
          "LEAK (mA)");
  for (guint i = 0; i < report->n_cells; i++)
    {
      const BmsHealthCell *c = &report->cells[i];
      g_autofree char *r = format_figure (c->resistance_mohm, "%.3f");
      g_autofree char *conf = format_figure (c->resistance_confidence, "%.2f");
      g_autofree char *cap = format_figure (c->capacity_deviation_pct, "%+.1f");
      g_autofree char *leak = format_figure (c->leak_ma, "%.1f");

      printf ("%5u %11s %6s %6u %13s %8s\n", c->cell, r, conf, c->steps, cap, leak);
    }
  if (report->steps_used < BMS_HEALTH_MIN_STEPS)
    printf ("\nNot enough current steps yet: record more history (a load switching, a charger starting).\n");
  if (report->suspects->len == 0)
    {
      printf ("\nNo cell stands out.\n");
      return;
    }
  printf ("\nSuspects, worst first:\n");
  for (guint i = 0; i < report->suspects->len; i++)
    {
      const BmsHealthSuspect *s = g_ptr_array_index (report->suspects, i);
      g_autofree char *reasons = g_strjoinv ("; ", s->reasons);

      printf ("  cell %u: %s\n", s->cell, reasons);
    }
}

/* The key of the device the user named (row id, key or name). */
static char *
device_key (BmsHistory *history, gint64 device_id, GError **error)
{
  g_autoptr (GPtrArray) devices = bms_history_list_devices (history, error);

  if (!devices)
    return NULL;
  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      if (d->id == device_id)
        return g_strdup (d->key);
    }
  g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "no device %" G_GINT64_FORMAT " in the history",
               device_id);
  return NULL;
}

int
cli_health (int argc, char **argv)
{
  g_autofree char *db = NULL, *from = NULL, *to = NULL, *device = NULL, *key = NULL;
  g_autoptr (BmsHistory) history = NULL;
  g_autoptr (BmsHealthReport) report = NULL;
  g_autoptr (GError) error = NULL;
  gint64 from_us = 0, to_us = G_MAXINT64, device_id = 0;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "History database (default: the per-user one)", "FILE" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "The device (id, key or name); needed when the history holds several", "DEVICE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "First time (ISO 8601 or a date)", "TIME" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "Last time (ISO 8601, or a date: to its end)", "TIME" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };

  if (!cli_parse_options (&argc, &argv, "",
                          "Estimates each cell's DC internal resistance (from the current steps\n"
                          "in the history), capacity deviation and self-discharge (from how the\n"
                          "cells spread apart near empty and full), and names the cells to\n"
                          "suspect with the evidence. A figure without enough evidence is \"-\"\n"
                          "(null in JSON). See docs/health.md.",
                          entries, NULL))
    return CLI_EXIT_USAGE;
  if (argc > 1)
    {
      cli_error ("health", "takes no arguments");
      return CLI_EXIT_USAGE;
    }
  if (!cli_history_parse_time ("--from", from, FALSE, &from_us, &error) ||
      !cli_history_parse_time ("--to", to, TRUE, &to_us, &error))
    {
      cli_error ("health", "%s", error->message);
      return CLI_EXIT_USAGE;
    }
  if (from_us > to_us)
    {
      cli_error ("health", "--from is after --to: nothing to analyse");
      return CLI_EXIT_USAGE;
    }
  if (!(history = cli_history_open (db, TRUE, &error)) ||
      !cli_history_find_device (history, device, &device_id, &error) ||
      (device_id && !(key = device_key (history, device_id, &error))))
    {
      cli_error ("health", "%s", error->message);
      return g_error_matches (error, CLI_ERROR, CLI_ERROR_USAGE) ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
    }
  if (!(report = bms_health_analyze (history, key, from_us, to_us, NULL, &error)))
    {
      gboolean usage = g_error_matches (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_INVALID);
      cli_error ("health", "%s%s", error->message, usage ? " with --device" : "");
      return usage ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
    }
  if (json)
    {
      g_autofree char *text = bms_health_report_to_json (report);
      fputs (text, stdout);
    }
  else
    print_table (report);
  return CLI_EXIT_OK;
}
