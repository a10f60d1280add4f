/* cli-audit.c — `packwatch-cli audit`: every parameter write attempt. */

#include "config.h"

#include <stdio.h>

#include "cli-common.h"
#include "cli-history.h"

static void
print_json (GPtrArray *rows, GHashTable *labels)
{
  g_autoptr (GString) out = g_string_new ("[");

  for (guint i = 0; i < rows->len; i++)
    {
      BmsHistoryAudit *a = g_ptr_array_index (rows, i);
      g_autofree char *time = cli_history_format_time (a->time_us);

      g_string_append (out, i ? ",\n  {\"time\": " : "\n  {\"time\": ");
      cli_json_append_string (out, time);
      g_string_append_printf (out, ", \"time_us\": %" G_GINT64_FORMAT ", \"device\": ", a->time_us);
      cli_json_append_string (out, g_hash_table_lookup (labels, &a->device_id));
      g_string_append (out, ", \"field\": ");
      cli_json_append_string (out, a->field);
      g_string_append (out, ", \"old\": ");
      cli_json_append_string (out, a->old_value);
      g_string_append (out, ", \"new\": ");
      cli_json_append_string (out, a->new_value);
      g_string_append (out, ", \"result\": ");
      cli_json_append_string (out, a->result);
      g_string_append (out, "}");
    }
  g_string_append (out, rows->len ? "\n]\n" : "]\n");
  fputs (out->str, stdout);
}

static void
print_table (GPtrArray *rows, GHashTable *labels)
{
  if (rows->len == 0)
    {
      printf ("No parameter writes in this range.\n");
      return;
    }
  printf ("%-23s %-16s %-28s %-12s %-12s %s\n", "TIME", "DEVICE", "FIELD", "OLD", "NEW", "RESULT");
  for (guint i = 0; i < rows->len; i++)
    {
      BmsHistoryAudit *a = g_ptr_array_index (rows, i);
      g_autofree char *time = cli_history_format_time (a->time_us);
      g_autofree char *device = cli_pad (g_hash_table_lookup (labels, &a->device_id), 16);
      g_autofree char *field = cli_pad (a->field, 28);
      g_autofree char *old_value = cli_pad (a->old_value ? a->old_value : "-", 12);
      g_autofree char *new_value = cli_pad (a->new_value ? a->new_value : "-", 12);

      printf ("%-23s %s %s %s %s %s\n", time, device, field, old_value, new_value, a->result);
    }
}

int
cli_audit (int argc, char **argv)
{
  g_autofree char *db = NULL, *from = NULL, *to = NULL, *device = NULL;
  g_autoptr (BmsHistory) history = NULL;
  g_autoptr (GPtrArray) rows = NULL;
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
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "Only the newest N rows", "N" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print a JSON array", NULL },
    { NULL }
  };

  if (!cli_parse_options (&argc, &argv, "",
                          "Prints the audit trail, oldest first: every parameter write attempt\n"
                          "with the old and new value and what the board answered.",
                          entries, NULL))
    return CLI_EXIT_USAGE;
  if (argc > 1 || limit < 0)
    {
      cli_error ("audit", argc > 1 ? "takes no arguments" : "--limit must be 0 or more");
      return CLI_EXIT_USAGE;
    }
  if (!cli_history_parse_time ("--from", from, FALSE, &from_us, &error) ||
      !cli_history_parse_time ("--to", to, TRUE, &to_us, &error) ||
      !(history = cli_history_open (db, TRUE, &error)) ||
      !cli_history_find_device (history, device, &device_id, &error) ||
      !(labels = cli_history_device_labels (history, &error)) ||
      !(rows = bms_history_query_audit (history, device_id, from_us, to_us, limit, &error)))
    {
      cli_error ("audit", "%s", error->message);
      return g_error_matches (error, CLI_ERROR, CLI_ERROR_USAGE) ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
    }
  if (json)
    print_json (rows, labels);
  else
    print_table (rows, labels);
  return CLI_EXIT_OK;
}
