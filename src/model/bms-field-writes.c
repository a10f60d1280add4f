/* bms-field-writes.c — verified field writes on the session's worker. */
#include "config.h"
#include "bms-context.h"

#include <glib/gi18n.h>

#include "bms-field-writes.h"
#include "bms-field.h"
#include "bms-session.h"

char *
bms_field_writes_format (guint8      id,
                         gint64      raw,
                         const char *text)
{
  const BmsFieldInfo *field = bms_field_lookup (id);

  if (field == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT, raw);
  if (field->type == BMS_FIELD_ASCII)
    return g_strdup (text ? text : "");
  return bms_field_format (field, raw);
}

static void
field_write_free (BmsFieldWrite *write)
{
  g_free (write->text);
  g_free (write->result);
  g_free (write);
}

GPtrArray *
bms_field_writes_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) field_write_free);
}

void
bms_field_writes_add (GPtrArray  *writes,
                      guint8      id,
                      gint64      raw,
                      const char *text)
{
  BmsFieldWrite *write = g_new0 (BmsFieldWrite, 1);

  g_return_if_fail (writes != NULL);
  write->id = id;
  write->raw = raw;
  write->text = g_strdup (text);
  g_ptr_array_add (writes, write);
}

gboolean
bms_field_writes_all_ok (GPtrArray *writes)
{
  for (guint i = 0; i < writes->len; i++)
    if (!((BmsFieldWrite *) g_ptr_array_index (writes, i))->ok)
      return FALSE;
  return writes->len > 0;
}

void
bms_field_writes_describe (GPtrArray *writes,
                           gboolean   failures_only,
                           GString   *text)
{
  for (guint i = 0; i < writes->len; i++)
    {
      BmsFieldWrite *w = g_ptr_array_index (writes, i);
      if (!failures_only || !w->ok)
        g_string_append_printf (text, "%s%s: %s", text->len ? "\n" : "",
                                _(bms_field_lookup (w->id)->label), w->result);
    }
}

typedef struct {
  BmsSession            *session;
  GPtrArray             *writes;
  char                  *password;
  gboolean               stop_on_error;
  BmsHistory            *history;
  gint64                 device_id;
  BmsSnapshot           *current;
  BmsFieldWritesProgress progress;
  gpointer               progress_data;
  GMainContext          *context;
} RunData;

static void
run_data_free (RunData *data)
{
  g_clear_object (&data->session);
  g_clear_object (&data->history);
  g_clear_pointer (&data->current, bms_snapshot_free);
  g_ptr_array_unref (data->writes);
  g_free (data->password);
  g_main_context_unref (data->context);
  g_free (data);
}

typedef struct {
  RunData *data;
  guint    index;
  GTask   *task;   /* keeps data alive until the report ran */
} Report;

static gboolean
report_in_context (gpointer user_data)
{
  Report *report = user_data;

  report->data->progress (report->data->writes, report->index, report->data->progress_data);
  g_object_unref (report->task);
  g_free (report);
  return G_SOURCE_REMOVE;
}

static void
report (GTask   *task,
        RunData *data,
        guint    index)
{
  Report *r;

  if (data->progress == NULL)
    return;
  r = g_new0 (Report, 1);
  r->data = data;
  r->index = index;
  r->task = g_object_ref (task);
  bms_context_post (data->context, report_in_context, r, NULL);
}

static char *
describe_readback (BmsFieldWrite *write,
                   BmsSnapshot   *readback)
{
  const BmsFieldInfo *field = bms_field_lookup (write->id);

  if (readback == NULL || field == NULL || !bms_snapshot_has (readback, write->id))
    return g_strdup (_("OK"));
  if (field->type == BMS_FIELD_ASCII)
    return g_strdup (_("OK"));
  {
    g_autofree char *value = bms_field_format (field, bms_snapshot_get_raw (readback, write->id));
    /* TRANSLATORS: a write succeeded; %s is the value read back */
    return g_strdup_printf (_("OK, reads %s"), value);
  }
}

static char *
value_text (guint8      id,
            gboolean    have,
            gint64      raw,
            const char *text)
{
  const BmsFieldInfo *field = bms_field_lookup (id);

  if (!have || field == NULL)
    return NULL;
  if (id == BMS_ID_PASSWORD)
    return g_strdup ("(hidden)");
  return bms_field_writes_format (id, raw, text);
}

static void
audit (RunData       *data,
       BmsFieldWrite *write)
{
  const BmsFieldInfo *field = bms_field_lookup (write->id);
  g_autofree char *old_text = NULL;
  g_autofree char *new_text = NULL;
  g_autofree char *old_ascii = NULL;
  g_autofree char *result = NULL;

  if (data->history == NULL || data->device_id <= 0)
    return;
  if (data->current != NULL && bms_snapshot_has (data->current, write->id))
    {
      if (field && field->type == BMS_FIELD_ASCII)
        old_ascii = bms_snapshot_dup_string (data->current, write->id);
      old_text = value_text (write->id, TRUE, bms_snapshot_get_raw (data->current, write->id),
                             old_ascii);
    }
  new_text = value_text (write->id, TRUE, write->raw, write->text);
  result = write->ok ? g_strdup ("ok") : g_strdup_printf ("failed: %s", write->result);
  bms_history_add_audit (data->history, data->device_id, g_get_real_time (),
                         field ? field->name : "unknown", old_text, new_text, result);
}

static void
run_thread (GTask        *task,
            gpointer      source,
            gpointer      task_data,
            GCancellable *cancellable)
{
  RunData *data = task_data;
  GError *error = NULL;
  gboolean failed = FALSE;

  if (data->password != NULL && !bms_session_is_unlocked (data->session)
      && !bms_session_unlock (data->session, data->password, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  for (guint i = 0; i < data->writes->len; i++)
    {
      BmsFieldWrite *write = g_ptr_array_index (data->writes, i);
      g_autoptr(BmsSnapshot) readback = NULL;
      g_autoptr(GError) werror = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, &error))
        {
          g_task_return_error (task, error);
          return;
        }
      if (failed && data->stop_on_error)
        {
          write->result = g_strdup (_("Not written (an earlier field failed)"));
          continue;
        }
      write->done = TRUE;
      write->ok = bms_session_write (data->session, write->id, write->raw, write->text,
                                     &readback, cancellable, &werror);
      write->result = write->ok ? describe_readback (write, readback)
                                : g_strdup (werror->message);
      failed |= !write->ok;
      audit (data, write);
      report (task, data, i);
    }
  g_task_return_boolean (task, TRUE);
}

void
bms_field_writes_run_async (BmsSession            *session,
                            GPtrArray             *writes,
                            const char            *password,
                            gboolean               stop_on_error,
                            BmsHistory            *history,
                            gint64                 device_id,
                            const BmsSnapshot     *current,
                            BmsFieldWritesProgress progress,
                            gpointer               progress_data,
                            GCancellable          *cancellable,
                            GAsyncReadyCallback    callback,
                            gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  RunData *data;

  g_return_if_fail (BMS_IS_SESSION (session));
  g_return_if_fail (writes != NULL);

  data = g_new0 (RunData, 1);
  data->session = g_object_ref (session);
  data->writes = g_ptr_array_ref (writes);
  data->password = g_strdup (password);
  data->stop_on_error = stop_on_error;
  data->history = history ? g_object_ref (history) : NULL;
  data->device_id = device_id;
  data->current = current ? bms_snapshot_copy (current) : NULL;
  data->progress = progress;
  data->progress_data = progress_data;
  data->context = g_main_context_ref_thread_default ();

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_field_writes_run_async);
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);
  g_task_run_in_thread (task, run_thread);
}

gboolean
bms_field_writes_run_finish (GAsyncResult *result,
                             GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
