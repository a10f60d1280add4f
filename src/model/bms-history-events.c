/* bms-history-events.c — alarm events, audit log, integrity check */
#include "config.h"
#include "bms-context.h"

#include <math.h>

#include "bms-flasher.h"
#include "bms-history-private.h"

/* ------------------------------------------------------- events, audit */

void
bms_history_alarm_event_free (BmsHistoryAlarmEvent *event)
{
  if (!event)
    return;
  g_free (event->code);
  g_free (event->text);
  g_free (event);
}

void
bms_history_audit_free (BmsHistoryAudit *audit)
{
  if (!audit)
    return;
  g_free (audit->field);
  g_free (audit->old_value);
  g_free (audit->new_value);
  g_free (audit->result);
  g_free (audit);
}

static double
column_double_or_nan (sqlite3_stmt *st, int col)
{
  return sqlite3_column_type (st, col) == SQLITE_NULL ? NAN : sqlite3_column_double (st, col);
}

static char *
column_dup (sqlite3_stmt *st, int col)
{
  return g_strdup ((const char *) sqlite3_column_text (st, col));
}

static gpointer
read_alarm (sqlite3_stmt *st)
{
  BmsHistoryAlarmEvent *e = g_new0 (BmsHistoryAlarmEvent, 1);

  e->id = sqlite3_column_int64 (st, 0);
  e->device_id = sqlite3_column_int64 (st, 1);
  e->time_us = sqlite3_column_int64 (st, 2) * 1000;
  e->code = column_dup (st, 3);
  e->raised = sqlite3_column_int (st, 4);
  e->value = column_double_or_nan (st, 5);
  e->threshold = column_double_or_nan (st, 6);
  e->text = column_dup (st, 7);
  return e;
}

static gpointer
read_audit (sqlite3_stmt *st)
{
  BmsHistoryAudit *a = g_new0 (BmsHistoryAudit, 1);

  a->id = sqlite3_column_int64 (st, 0);
  a->device_id = sqlite3_column_int64 (st, 1);
  a->time_us = sqlite3_column_int64 (st, 2) * 1000;
  a->field = column_dup (st, 3);
  a->old_value = column_dup (st, 4);
  a->new_value = column_dup (st, 5);
  a->result = column_dup (st, 6);
  return a;
}

static GPtrArray *
query_events (BmsHistory *self, gboolean alarms, gint64 device_id, gint64 from_us,
              gint64 to_us, guint limit, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (
    alarms ? (GDestroyNotify) bms_history_alarm_event_free : (GDestroyNotify) bms_history_audit_free);
  g_autoptr (sqlite3_stmt) st = NULL;
  g_autofree char *sql = NULL;
  gboolean ok = TRUE;
  sqlite3 *db;
  int rc;

  g_return_val_if_fail (BMS_IS_HISTORY (self), NULL);
  sql = g_strdup_printf ("SELECT * FROM (SELECT %s FROM %s WHERE (?1 = 0 OR device_id = ?1)"
                         " AND t_ms BETWEEN ?2 AND ?3 ORDER BY t_ms DESC, id DESC LIMIT ?4)"
                         " ORDER BY t_ms, id",
                         alarms ? "id, device_id, t_ms, code, raised, value, threshold, text"
                                : "id, device_id, t_ms, field, old_value, new_value, result",
                         alarms ? "alarm_events" : "audit");
  if (!(db = reader_lock (self, error)))
    return NULL;
  if ((st = prepare (db, sql, error)))
    {
      sqlite3_bind_int64 (st, 1, device_id);
      sqlite3_bind_int64 (st, 2, to_ms_from (from_us));
      sqlite3_bind_int64 (st, 3, to_ms_to (to_us));
      sqlite3_bind_int64 (st, 4, limit ? (gint64) limit : -1);
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        g_ptr_array_add (out, alarms ? read_alarm (st) : read_audit (st));
      if (rc != SQLITE_DONE)
        ok = set_sql_error (error, db, rc, "Cannot read the event log");
    }
  else
    ok = FALSE;
  g_clear_pointer (&st, sqlite3_finalize);
  reader_unlock (self);
  return ok ? g_steal_pointer (&out) : NULL;
}

GPtrArray *
bms_history_query_alarm_events (BmsHistory *self, gint64 device_id, gint64 from_us,
                                gint64 to_us, guint limit, GError **error)
{
  return query_events (self, TRUE, device_id, from_us, to_us, limit, error);
}

GPtrArray *
bms_history_query_audit (BmsHistory *self, gint64 device_id, gint64 from_us, gint64 to_us,
                         guint limit, GError **error)
{
  return query_events (self, FALSE, device_id, from_us, to_us, limit, error);
}

static void
events_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  QueryArgs *a = data;
  GError *error = NULL;
  gboolean alarms = g_task_get_source_tag (task) == bms_history_query_alarm_events_async;
  GPtrArray *out = query_events (source, alarms, a->device_id, a->from_us, a->to_us,
                                 a->limit, &error);

  if (out)
    g_task_return_pointer (task, out, (GDestroyNotify) g_ptr_array_unref);
  else
    g_task_return_error (task, error);
}

static void
events_async (BmsHistory *self, gpointer tag, gint64 device_id, gint64 from_us, gint64 to_us,
              guint limit, GCancellable *cancellable, GAsyncReadyCallback callback,
              gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  QueryArgs *a = g_new0 (QueryArgs, 1);

  *a = (QueryArgs) { device_id, from_us, to_us, 0, limit, FALSE };
  g_task_set_source_tag (task, tag);
  g_task_set_task_data (task, a, g_free);
  g_task_run_in_thread (task, events_thread);
}

void
bms_history_query_alarm_events_async (BmsHistory *self, gint64 device_id, gint64 from_us,
                                      gint64 to_us, guint limit, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  events_async (self, bms_history_query_alarm_events_async, device_id, from_us, to_us, limit,
                cancellable, callback, user_data);
}

GPtrArray *
bms_history_query_alarm_events_finish (BmsHistory *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
bms_history_query_audit_async (BmsHistory *self, gint64 device_id, gint64 from_us,
                               gint64 to_us, guint limit, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  events_async (self, bms_history_query_audit_async, device_id, from_us, to_us, limit,
                cancellable, callback, user_data);
}

GPtrArray *
bms_history_query_audit_finish (BmsHistory *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
bms_history_check_integrity (BmsHistory *self, GError **error)
{
  sqlite3 *db;
  gboolean ok;

  g_return_val_if_fail (BMS_IS_HISTORY (self), FALSE);
  if (!(db = open_private_reader (self, error)))
    return FALSE;
  ok = check_integrity (db, self->path, "PRAGMA integrity_check", error);
  sqlite3_close (db);
  return ok;
}

void
bms_history_add_firmware_audit (BmsHistory *self,
                                gint64      device_id,
                                BmsFlasher *flasher,
                                const char *path,
                                const char *old_version,
                                const char *failure)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autoptr(GString) result = g_string_new (failure == NULL ? "ok" : "failed");
  const char *new_version = bms_flasher_get_board_version (flasher);
  const char *image_version = bms_flasher_get_file_version (flasher);
  const char *problem = bms_flasher_get_image_problem (flasher);

  g_return_if_fail (BMS_IS_HISTORY (self));
  if (failure != NULL)
    g_string_append_printf (result, " at step %d", bms_flasher_get_step (flasher));
  g_string_append_printf (result, ": %s, %" G_GUINT64_FORMAT " bytes, CRC-32 %08X, image "
                          "version %s", base, bms_flasher_get_file_size (flasher),
                          bms_flasher_get_file_crc32 (flasher),
                          image_version != NULL ? image_version : "unknown");
  if (problem != NULL)
    g_string_append_printf (result, "; FORCED past the image check: %s", problem);
  if (failure != NULL && *failure != '\0')
    g_string_append_printf (result, "; %s", failure);
  bms_history_add_audit (self, device_id, g_get_real_time (), "firmware",
                         old_version != NULL ? old_version : "unknown",
                         new_version != NULL ? new_version : "(not read back)", result->str);
}
