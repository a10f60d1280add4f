/* cli-audit.c — `packwatch-cli audit`: every parameter write attempt. */

#include "config.h"

#include <stdio.h>

#include "bms-device.h"
#include "cli-audit.h"
#include "cli-common.h"
#include "cli-history.h"

static void
print_json (GPtrArray *rows, GHashTable *labels)
{
  g_autoptr (GString) out = g_string_new ("[");

  for (guint i = 0; i < rows->len; i++)
    {
      BmsHistoryAudit *a = g_ptr_array_index (rows, i);

      cli_history_json_row_start (out, i, a->time_us,
                                  g_hash_table_lookup (labels, &a->device_id));
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
  static const CliHistoryListing listing = {
    .command = "audit",
    .summary = "Prints the audit trail, oldest first: every parameter write attempt\n"
                "with the old and new value and what the board answered.",
    .limit_help = "Only the newest N rows",
    .query = bms_history_query_audit,
    .print_json = print_json,
    .print_table = print_table,
  };

  return cli_history_list (&listing, argc, argv);
}

BmsHistory *
cli_audit_open (const char *db, const BmsSnapshot *snapshot, guint address, gint64 *device_id,
                GError **error)
{
  g_autoptr (BmsHistory) history = bms_history_new (db, error);
  g_autofree char *key = NULL;
  g_autofree char *name = NULL;

  if (history == NULL)
    return NULL;
  if (snapshot != NULL)
    {
      key = bms_device_key_for_snapshot (snapshot, address);
      name = bms_snapshot_dup_string (snapshot, 0xB4);
    }
  else
    key = g_strdup_printf ("addr:%u", address);
  *device_id = bms_history_ensure_device (history, key, name && *name ? name : key, error);
  if (*device_id <= 0)
    return NULL;
  return g_steal_pointer (&history);
}

void
cli_audit_close (BmsHistory *history, const char *command, const char *db)
{
  g_autoptr (GError) error = NULL;

  if (history == NULL)
    return;
  if (!bms_history_flush (history, &error))
    cli_error (command, "%s: the audit trail was not saved: %s", db, error->message);
  bms_history_close (history);
}
