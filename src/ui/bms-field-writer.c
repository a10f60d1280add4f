/* bms-field-writer.c — one field written from a page: a change set of one */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-field-writer.h"
#include "bms-change-set.h"
#include "bms-password-dialog.h"

typedef struct {
  BmsConnection *connection;
  BmsChangeSet  *change_set;
  char          *password;
  char          *value;       /* what was asked, as text */
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->connection);
  g_clear_object (&job->change_set);
  g_free (job->password);
  g_free (job->value);
  g_free (job);
}

char *
bms_field_writer_format (guint8      id,
                         gint64      raw,
                         const char *text)
{
  return bms_field_writes_format (id, raw, text);
}

static void
applied (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Job *job = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  BmsChange *change;

  if (!bms_connection_apply_finish (BMS_CONNECTION (source), result, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Written and read back equal (or equal on the board already). */
  change = g_list_model_get_n_items (G_LIST_MODEL (job->change_set)) > 0
           ? g_list_model_get_item (G_LIST_MODEL (job->change_set), 0) : NULL;
  g_task_return_pointer (task, g_strdup (change ? bms_change_get_new_text (change) : job->value),
                         g_free);
  g_clear_object (&change);
}

static void
send (GTask *task)
{
  Job *job = g_task_get_task_data (task);

  bms_connection_apply_async (job->connection, job->change_set, job->password,
                              g_task_get_cancellable (task), applied, task);
}

static void
unlocked (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  Job *job = g_task_get_task_data (task);
  GError *error = NULL;

  if (!bms_password_dialog_ask_finish_password (result, &job->password, &error))
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
  const BmsSnapshot *snapshot;
  g_autoptr(BmsParamSet) current = NULL;
  GError *error = NULL;

  g_return_if_fail (GTK_IS_WIDGET (parent));
  g_return_if_fail (BMS_IS_CONNECTION (connection));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_field_writer_write_async);
  device = bms_connection_get_device (connection);
  snapshot = device ? bms_device_get_snapshot (device) : NULL;
  current = snapshot ? bms_param_set_new_from_snapshot (snapshot) : bms_param_set_new ();
  job = g_new0 (Job, 1);
  job->connection = g_object_ref (connection);
  job->change_set = bms_change_set_new (current);
  job->value = bms_field_writes_format (id, raw, text);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  /* A parameter is checked against its ranges and the rules with the
   * board's other values; a write-only field is a command. */
  if (!bms_change_set_set_value (job->change_set, id, raw, text, &error))
    {
      g_clear_error (&error);
      if (!bms_change_set_add_command (job->change_set, id, raw, &error))
        {
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
    }
  if (ask_password && bms_connection_get_connected (connection) &&
      bms_connection_get_locked (connection))
    bms_password_dialog_ask_async (parent, connection, NULL, cancellable, unlocked, task);
  else
    send (task);
}

gboolean
bms_field_writer_write_finish (GAsyncResult  *result,
                               char         **readback_text,
                               GError       **error)
{
  g_autoptr(GError) local = NULL;
  char *text;

  g_return_val_if_fail (G_IS_TASK (result), FALSE);

  text = g_task_propagate_pointer (G_TASK (result), &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (readback_text != NULL)
    *readback_text = text;
  else
    g_free (text);
  return TRUE;
}
