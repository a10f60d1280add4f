/* bms-connection-writes.c — the password gate (unlock, lock and its mirror)
 * and the writes to the board: change sets and field writes */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "bms-connection-private.h"
#include "bms-field.h"

/* ---- password gate mirror ---- */

void
bms_connection_refresh_lock_state (BmsConnection *self)
{
  gboolean locked = self->session == NULL || !bms_session_is_unlocked (self->session);
  guint remaining = self->session ? bms_session_get_unlock_remaining (self->session) : 0;

  if (locked)
    remaining = 0;
  if (self->device != NULL)
    bms_device_set_password_state (self->device, locked, remaining);
  if (locked != self->locked)
    {
      self->locked = locked;
      g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_LOCKED]);
    }
  if (remaining != self->unlock_remaining)
    {
      self->unlock_remaining = remaining;
      g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_UNLOCK_REMAINING]);
    }
}

/* ---- password and writes ---- */

static void
cancel_linked (GCancellable *source,
               gpointer      target)
{
  g_cancellable_cancel (target);
}

typedef struct {
  GCancellable *source;
  gulong        handler;
} CancelLink;

static void
cancel_link_free (CancelLink *link)
{
  g_cancellable_disconnect (link->source, link->handler);
  g_object_unref (link->source);
  g_free (link);
}

/* A task of an unlock, a write or an update is cancelled by the caller's
 * cancellable and by Disconnect: a request in flight never holds up closing
 * the line. */
GTask *
bms_connection_job_task_new (BmsConnection       *self,
                             GCancellable        *caller,
                             gpointer             source_tag,
                             gpointer             task_data,
                             GDestroyNotify       task_data_destroy,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GCancellable) both = g_cancellable_new ();
  g_autoptr(GTask) task = g_task_new (self, both, callback, user_data);
  GCancellable *sources[] = { self->cancellable, caller };

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, task_data, task_data_destroy);
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    {
      CancelLink *link;

      if (sources[i] == NULL)
        continue;
      link = g_new (CancelLink, 1);
      link->source = g_object_ref (sources[i]);
      link->handler = g_cancellable_connect (sources[i], G_CALLBACK (cancel_linked), both, NULL);
      g_object_set_data_full (G_OBJECT (task), i == 0 ? "disconnect-link" : "caller-link", link,
                              (GDestroyNotify) cancel_link_free);
    }
  if (self->session != NULL)
    return g_steal_pointer (&task);
  if (self->read_only_reason != NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_READ_ONLY, "%s",
                             self->read_only_reason);
  else
    g_task_return_new_error (task, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED,
                             _("Not connected to a board"));
  return NULL;
}

void
bms_connection_task_return (GTask    *task,
                            gboolean  ok,
                            GError   *error)
{
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

gboolean
bms_connection_job_finish (BmsConnection  *self,
                           GAsyncResult   *result,
                           GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  bms_connection_refresh_lock_state (self);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
password_free (char *password)
{
  memset (password, 0, strlen (password));
  g_free (password);
}

static BmsSessionJobResult
unlock_job (BmsSession   *session,
            gpointer      password,
            GCancellable *cancellable,
            GError      **error)
{
  if (!bms_session_unlock (session, password, cancellable, error))
    return BMS_SESSION_JOB_FAILED;
  return BMS_SESSION_JOB_DONE;
}

/* A job of the session's queue that ends the connection's own task: no
 * thread waits for the session's worker. */
void
bms_connection_unlock_async (BmsConnection       *self,
                             const char          *password,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  char *copy;

  g_return_if_fail (BMS_IS_CONNECTION (self));
  g_return_if_fail (password != NULL);

  copy = g_strdup (password);
  task = bms_connection_job_task_new (self, cancellable, bms_connection_unlock_async, copy,
                                      (GDestroyNotify) password_free, callback, user_data);
  if (task != NULL)
    bms_session_run_task (self->session, task, unlock_job, copy);
}

gboolean
bms_connection_unlock_finish (BmsConnection  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  return bms_connection_job_finish (self, result, error);
}

void
bms_connection_lock (BmsConnection *self)
{
  g_return_if_fail (BMS_IS_CONNECTION (self));

  if (self->session != NULL)
    bms_session_lock (self->session);
  bms_connection_refresh_lock_state (self);
}

static void
applied (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  gboolean ok = bms_change_set_apply_finish (BMS_CHANGE_SET (source), result, &error);

  bms_connection_task_return (task, ok, error);
}

void
bms_connection_apply_async (BmsConnection       *self,
                            BmsChangeSet        *change_set,
                            const char          *password,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GCancellable *job_cancellable;

  g_return_if_fail (BMS_IS_CONNECTION (self));
  g_return_if_fail (BMS_IS_CHANGE_SET (change_set));

  task = bms_connection_job_task_new (self, cancellable, bms_connection_apply_async, NULL, NULL,
                                      callback, user_data);
  if (task == NULL)
    return;
  /* (the task's cancellable first: arguments have no evaluation order) */
  job_cancellable = g_task_get_cancellable (task);
  bms_change_set_apply_async (change_set, self->session, password, self->history,
                              self->history_device_id, job_cancellable,
                              applied, g_steal_pointer (&task));
}

gboolean
bms_connection_apply_finish (BmsConnection  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  return bms_connection_job_finish (self, result, error);
}

typedef struct {
  GPtrArray    *writes;
  BmsChangeSet *change_set;
  GPtrArray    *order;       /* the change set's BmsChange, commands included */
} FieldsJob;

static void
fields_job_free (FieldsJob *job)
{
  g_ptr_array_unref (job->writes);
  g_clear_object (&job->change_set);
  g_clear_pointer (&job->order, g_ptr_array_unref);
  g_free (job);
}

/* The BmsChange results, as the pages' per-field results. */
static void
fields_report (FieldsJob *job)
{
  for (guint i = 0; i < job->writes->len; i++)
    {
      BmsFieldWrite *write = g_ptr_array_index (job->writes, i);
      BmsChange *change = NULL;

      for (guint j = 0; change == NULL && j < job->order->len; j++)
        if (bms_change_get_id (g_ptr_array_index (job->order, j)) == write->id)
          change = g_ptr_array_index (job->order, j);
      g_clear_pointer (&write->result, g_free);
      if (change == NULL)
        {
          /* Equal on the board already: nothing to send. */
          write->done = write->ok = TRUE;
          write->result = g_strdup (_("OK (already set)"));
          continue;
        }
      switch (bms_change_get_result (change))
        {
        case BMS_CHANGE_OK:
          write->done = write->ok = TRUE;
          if (bms_field_lookup (write->id) != NULL &&
              bms_field_lookup (write->id)->type != BMS_FIELD_ASCII &&
              bms_field_lookup (write->id)->access != BMS_ACCESS_W)
            /* TRANSLATORS: a write succeeded; %s is the value read back */
            write->result = g_strdup_printf (_("OK, reads %s"), bms_change_get_new_text (change));
          else
            write->result = g_strdup (_("OK"));
          break;
        case BMS_CHANGE_PENDING:
        case BMS_CHANGE_NOT_SENT:
          write->result = g_strdup (_("Not written (an earlier field failed)"));
          break;
        case BMS_CHANGE_FAILED:
        case BMS_CHANGE_RESTORED:
        default:
          write->done = TRUE;
          write->result = g_strdup (bms_change_get_message (change) ? bms_change_get_message (change)
                                                                    : _("Failed"));
          break;
        }
    }
}

static void
fields_applied (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FieldsJob *job = g_task_get_task_data (task);
  GError *error = NULL;
  gboolean attempted = FALSE;

  bms_change_set_apply_finish (BMS_CHANGE_SET (source), result, &error);
  fields_report (job);
  for (guint i = 0; i < job->order->len; i++)
    {
      BmsChangeResult r = bms_change_get_result (g_ptr_array_index (job->order, i));
      attempted |= r == BMS_CHANGE_OK || r == BMS_CHANGE_FAILED || r == BMS_CHANGE_RESTORED;
    }
  /* A field's own failure is in its result; the task fails when nothing
   * could be tried (locked, cancelled, the rules refused the whole set). */
  if (attempted)
    g_clear_error (&error);
  bms_connection_task_return (task, error == NULL, error);
}

void
bms_connection_write_fields_async (BmsConnection       *self,
                                   GPtrArray           *writes,
                                   const char          *password,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(BmsParamSet) current = NULL;
  const BmsSnapshot *snapshot;
  GCancellable *job_cancellable;
  FieldsJob *job;

  g_return_if_fail (BMS_IS_CONNECTION (self));
  g_return_if_fail (writes != NULL);

  job = g_new0 (FieldsJob, 1);
  job->writes = g_ptr_array_ref (writes);
  task = bms_connection_job_task_new (self, cancellable, bms_connection_write_fields_async, job,
                                      (GDestroyNotify) fields_job_free, callback, user_data);
  if (task == NULL)
    return;
  snapshot = self->device != NULL ? bms_device_get_snapshot (self->device) : NULL;
  current = snapshot != NULL ? bms_param_set_new_from_snapshot (snapshot) : bms_param_set_new ();
  job->change_set = bms_change_set_new (current);
  for (guint i = 0; i < writes->len; i++)
    {
      BmsFieldWrite *write = g_ptr_array_index (writes, i);
      GError *error = NULL;

      /* A parameter, checked with the board's other values; else a command. */
      if (bms_change_set_set_value (job->change_set, write->id, write->raw, write->text, NULL))
        continue;
      if (!bms_change_set_add_command (job->change_set, write->id, write->raw, &error))
        {
          g_free (write->result);
          write->result = g_strdup (error->message);
          g_task_return_error (task, error);
          return;
        }
    }
  job->order = bms_change_set_get_write_order (job->change_set);
  job_cancellable = g_task_get_cancellable (task);
  bms_change_set_apply_async (job->change_set, self->session, password, self->history,
                              self->history_device_id, job_cancellable, fields_applied,
                              g_steal_pointer (&task));
}

gboolean
bms_connection_write_fields_finish (BmsConnection  *self,
                                    GAsyncResult   *result,
                                    GError        **error)
{
  return bms_connection_job_finish (self, result, error);
}

gboolean
bms_connection_get_locked (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), TRUE);

  /* The mirror follows the session each second; a caller deciding whether
   * to ask for the password gets the session's state of now. */
  bms_connection_refresh_lock_state (self);
  return self->locked;
}

guint
bms_connection_get_unlock_remaining (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), 0);
  return self->unlock_remaining;
}

void
bms_connection_set_lock_timeout (BmsConnection *self,
                                 guint          seconds)
{
  g_return_if_fail (BMS_IS_CONNECTION (self));

  if (self->session != NULL)
    bms_session_set_lock_timeout (self->session, seconds);
  if (seconds == self->lock_timeout)
    return;
  self->lock_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_LOCK_TIMEOUT]);
}
