/* bms-field-writer.c — one parameter write as the pages do it */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-field-writer.h"
#include "bms-password-dialog.h"

typedef struct {
  BmsConnection *connection;
  GtkWidget     *parent;
  guint8         id;
  gint64         raw;
  char          *text;
  char          *old_value;
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->connection);
  g_clear_object (&job->parent);
  g_free (job->text);
  g_free (job->old_value);
  g_free (job);
}

char *
bms_field_writer_format (guint8      id,
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

static char *
snapshot_value (const BmsSnapshot *snapshot,
                guint8             id)
{
  const BmsFieldInfo *field = bms_field_lookup (id);

  if (snapshot == NULL || field == NULL || !bms_snapshot_has (snapshot, id))
    return NULL;
  if (field->type == BMS_FIELD_ASCII)
    return bms_snapshot_dup_string (snapshot, id);
  return bms_field_format (field, bms_snapshot_get_raw (snapshot, id));
}

static void
audit (Job        *job,
       const char *result)
{
  BmsHistory *history = bms_connection_get_history (job->connection);
  gint64 device_id = bms_connection_get_history_device_id (job->connection);
  const BmsFieldInfo *field = bms_field_lookup (job->id);
  g_autofree char *new_value = bms_field_writer_format (job->id, job->raw, job->text);

  if (history == NULL || device_id <= 0)
    return;
  bms_history_add_audit (history, device_id, g_get_real_time (),
                         field ? field->name : "unknown", job->old_value, new_value, result);
}

static void
written (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Job *job = g_task_get_task_data (task);
  g_autoptr(BmsSnapshot) readback = NULL;
  g_autoptr(GError) error = NULL;
  char *text;

  if (!bms_connection_write_finish (BMS_CONNECTION (source), result, &readback, &error))
    {
      audit (job, error->message);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  text = snapshot_value (readback, job->id);
  if (text == NULL)
    text = bms_field_writer_format (job->id, job->raw, job->text);
  audit (job, "ok");
  g_task_return_pointer (task, text, g_free);
}

static void
send (GTask *task)
{
  Job *job = g_task_get_task_data (task);

  bms_connection_write_async (job->connection, job->id, job->raw, job->text,
                              g_task_get_cancellable (task), written, task);
}

static void
unlocked (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!bms_password_dialog_ask_finish (result, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  send (task);
}

void
bms_field_writer_write_async (GtkWidget           *parent,
                              BmsConnection       *connection,
                              guint8               id,
                              gint64               raw,
                              const char          *text,
                              gboolean             ask_password,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;
  Job *job;
  BmsDevice *device;

  g_return_if_fail (GTK_IS_WIDGET (parent));
  g_return_if_fail (BMS_IS_CONNECTION (connection));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_field_writer_write_async);
  job = g_new0 (Job, 1);
  job->connection = g_object_ref (connection);
  job->parent = g_object_ref (parent);
  job->id = id;
  job->raw = raw;
  job->text = g_strdup (text);
  device = bms_connection_get_device (connection);
  job->old_value = device ? snapshot_value (bms_device_get_snapshot (device), id) : NULL;
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  if (ask_password && bms_connection_get_locked (connection) &&
      bms_connection_get_connected (connection))
    bms_password_dialog_ask_async (parent, connection, NULL, cancellable, unlocked, task);
  else
    send (task);
}

gboolean
bms_field_writer_write_finish (GAsyncResult  *result,
                               char         **readback_text,
                               GError       **error)
{
  char *text;

  g_return_val_if_fail (G_IS_TASK (result), FALSE);

  text = g_task_propagate_pointer (G_TASK (result), error);
  if (text == NULL)
    return FALSE;
  if (readback_text != NULL)
    *readback_text = text;
  else
    g_free (text);
  return TRUE;
}
