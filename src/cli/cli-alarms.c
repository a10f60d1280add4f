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

      cli_history_json_row_start (out, i, e->time_us,
                                  g_hash_table_lookup (labels, &e->device_id));
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
  static const CliHistoryListing listing = {
    .command = "alarms",
    .summary = "Prints the alarm events of the history, oldest first: when each alarm\n"
                "was raised and cleared, with the measured value and the threshold.",
    .limit_help = "Only the newest N events",
    .query = bms_history_query_alarm_events,
    .print_json = print_json,
    .print_table = print_table,
  };

  return cli_history_list (&listing, argc, argv);
}
