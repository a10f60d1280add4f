/* cli-alarms.c — `packwatch-cli alarms`: the alarm events of the history. */

#include "config.h"

#include <math.h>
#include <stdio.h>

#include "cli-common.h"
#include "cli-history.h"

static void
append_number (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (v))
    g_string_append (out, "null");
  else
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

static void
print_json (GPtrArray *events, GHashTable *labels)
{
  g_autoptr (GString) out = g_string_new ("[");

  for (guint i = 0; i < events->len; i++)
    {
      BmsHistoryAlarmEvent *e = g_ptr_array_index (events, i);
      g_autofree char *time = cli_history_format_time (e->time_us);

      g_string_append (out, i ? ",\n  {\"time\": " : "\n  {\"time\": ");
      cli_json_append_string (out, time);
      g_string_append_printf (out, ", \"time_us\": %" G_GINT64_FORMAT ", \"device\": ", e->time_us);
      cli_json_append_string (out, g_hash_table_lookup (labels, &e->device_id));
      g_string_append (out, ", \"code\": ");
      cli_json_append_string (out, e->code);
      g_string_append_printf (out, ", \"raised\": %s, \"value\": ", e->raised ? "true" : "false");
      append_number (out, e->value);
      g_string_append (out, ", \"threshold\": ");
      append_number (out, e->threshold);
      g_string_append (out, ", \"text\": ");
      cli_json_append_string (out, e->text);
      g_string_append (out, "}");
    }
  g_string_append (out, events->len ? "\n]\n" : "]\n");
  fputs (out->str, stdout);
}

static char *
format_number (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (isnan (v) ? "-" : g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

static void
print_table (GPtrArray *events, GHashTable *labels)
{
  if (events->len == 0)
    {
      printf ("No alarm events in this range.\n");
      return;
    }
  printf ("%-23s %-16s %-24s %-8s %10s %10s  %s\n", "TIME", "DEVICE", "ALARM", "EVENT",
          "VALUE", "THRESHOLD", "TEXT");
  for (guint i = 0; i < events->len; i++)
    {
      BmsHistoryAlarmEvent *e = g_ptr_array_index (events, i);
      g_autofree char *time = cli_history_format_time (e->time_us);
      g_autofree char *device = cli_pad (g_hash_table_lookup (labels, &e->device_id), 16);
      g_autofree char *code = cli_pad (e->code, 24);
      g_autofree char *value = format_number (e->value);
      g_autofree char *threshold = format_number (e->threshold);

      printf ("%-23s %s %s %-8s %10s %10s  %s\n", time, device, code,
              e->raised ? "raised" : "cleared", value, threshold, e->text ? e->text : "");
    }
}

int
cli_alarms (int argc, char **argv)
{
  g_autofree char *db = NULL, *from = NULL, *to = NULL, *device = NULL;
  g_autoptr (BmsHistory) history = NULL;
  g_autoptr (GPtrArray) events = NULL;
  g_autoptr (GHashTable) labels = NULL;
  g_autoptr (GError) error = NULL;
  gint64 from_us = 0, to_us = G_MAXINT64, device_id = 0;
  gboolean json = FALSE;
  int limit = 0;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "History database (default: the per-user one)", "FILE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "First time (ISO 8601 or a date)", "TIME" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "Last time (ISO 8601, or a date: to its end)", "TIME" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "Only this device (id, key or name)", "DEVICE" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "Only the newest N events", "N" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print a JSON array", NULL },
    { NULL }
  };

  if (!cli_parse_options (&argc, &argv, "",
                          "Prints the alarm events of the history, oldest first: when each alarm\n"
                          "was raised and cleared, with the measured value and the threshold.",
                          entries, NULL))
    return CLI_EXIT_USAGE;
  if (argc > 1 || limit < 0)
    {
      cli_error ("alarms", argc > 1 ? "takes no arguments" : "--limit must be 0 or more");
      return CLI_EXIT_USAGE;
    }
  if (!cli_history_parse_time ("--from", from, FALSE, &from_us, &error) ||
      !cli_history_parse_time ("--to", to, TRUE, &to_us, &error) ||
      !(history = cli_history_open (db, TRUE, &error)) ||
      !cli_history_find_device (history, device, &device_id, &error) ||
      !(labels = cli_history_device_labels (history, &error)) ||
      !(events = bms_history_query_alarm_events (history, device_id, from_us, to_us, limit, &error)))
    {
      cli_error ("alarms", "%s", error->message);
      return g_error_matches (error, CLI_ERROR, CLI_ERROR_USAGE) ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
    }
  if (json)
    print_json (events, labels);
  else
    print_table (events, labels);
  return CLI_EXIT_OK;
}
