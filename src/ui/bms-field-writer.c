/* bms-field-writer.c — one field written from a page: a change set of one */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-field-writer.h"
#include "bms-password-dialog.h"

typedef struct {
  BmsConnection *connection;
  GPtrArray     *writes;      /* the one field, as the connection's field writes */
  char          *password;
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->connection);
  g_ptr_array_unref (job->writes);
  g_free (job->password);
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
written (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Job *job = g_task_get_task_data (task);
  BmsFieldWrite *write = g_ptr_array_index (job->writes, 0);
  GError *error = NULL;

  if (!bms_connection_write_fields_finish (BMS_CONNECTION (source), result, &error))
    g_task_return_error (task, error);
  else if (!write->ok)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", write->result);
  else
    /* Read back equal to what was written (the change set compares). */
    g_task_return_pointer (task, bms_field_writes_format (write->id, write->raw, write->text),
                           g_free);
}

static void
send (GTask *task)
{
  Job *job = g_task_get_task_data (task);

  bms_connection_write_fields_async (job->connection, job->writes, job->password,
                                     g_task_get_cancellable (task), written, task);
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

/* A single field is a change set of one: the connection checks it with
 * the board's other values, writes, reads back and audits. */
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

  g_return_if_fail (GTK_IS_WIDGET (parent));
  g_return_if_fail (BMS_IS_CONNECTION (connection));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_field_writer_write_async);
  job = g_new0 (Job, 1);
  job->connection = g_object_ref (connection);
  job->writes = bms_field_writes_new ();
  bms_field_writes_add (job->writes, id, raw, text);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
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
