/* bms-connection-history.c — the history database of a connection: opening it
 * (read-only when it must), the board's row and the recording note */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-connection-private.h"
#include "bms-transport.h"

/* ---- history ---- */

typedef struct
{
  gint64  id;
  char   *note;  /* why the board is not recorded, or NULL */
} EnsureResult;

static void
ensure_result_free (EnsureResult *r)
{
  g_free (r->note);
  g_free (r);
}

/* The row of a device in a history this connection may not write: a read
 * of the devices, no insert. */
static gint64
find_device_row (BmsHistory *history, const char *key, GError **error)
{
  g_autoptr (GPtrArray) devices = bms_history_list_devices (history, error);

  for (guint i = 0; devices && i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      if (g_strcmp0 (d->key, key) == 0)
        return d->id;
    }
  return 0;
}

/* Claims the board for recording; when another process records it (or the
 * file is read-only) the pages still read its history, and the note says
 * why nothing of this connection is saved. */
static void
ensure_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  BmsHistory *history = g_object_get_data (G_OBJECT (task), "history");
  char **key_name = task_data;
  g_autoptr (GError) refused = NULL;
  GError *error = NULL;
  EnsureResult *r;
  gint64 id = bms_history_claim_device (history, key_name[0], key_name[1], &refused);

  if (id <= 0 && g_error_matches (refused, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLAIMED))
    id = bms_history_ensure_device (history, key_name[0], key_name[1], &error);
  else if (id <= 0 && g_error_matches (refused, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_READ_ONLY))
    id = find_device_row (history, key_name[0], &error);
  else if (id <= 0)
    error = g_steal_pointer (&refused);
  if (error)
    {
      g_task_return_error (task, error);
      return;
    }
  r = g_new0 (EnsureResult, 1);
  r->id = id;
  if (refused)
    r->note = g_strdup_printf (_("Not recording: %s. Live data is shown; this board’s samples "
                                 "are not saved by this window."), refused->message);
  g_task_return_pointer (task, r, (GDestroyNotify) ensure_result_free);
}

static void
ensure_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  BmsConnection *self = BMS_CONNECTION (source);
  g_autoptr(GError) error = NULL;
  EnsureResult *r = g_task_propagate_pointer (G_TASK (result), &error);

  self->ensuring_device = FALSE;
  if (r == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("History: %s", error->message);
      return;
    }
  self->history_device_id = r->id;
  if (g_strcmp0 (r->note, self->recording_note) != 0)
    {
      g_free (self->recording_note);
      self->recording_note = g_steal_pointer (&r->note);
      g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_RECORDING_NOTE]);
    }
  ensure_result_free (r);
  if (self->history_device_id > 0)
    g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_HISTORY]);
}

/* The poller records samples and alarm events; the pages need the device's
 * row for their queries and the audit log. The key is the poller's (device
 * id, else transport and address), so both find the same row; looking it
 * up waits for the writer, hence a worker. */
void
bms_connection_find_history_device (BmsConnection *self)
{
  g_autoptr(GTask) task = NULL;
  const char *device_id;
  char **key_name;

  /* A board watched through a broker is recorded by the serve publishing it. */
  if (self->mqtt != NULL || self->history == NULL || self->device == NULL ||
      self->history_device_id > 0 ||
      self->ensuring_device || bms_device_get_snapshot (self->device) == NULL)
    return;
  self->ensuring_device = TRUE;
  device_id = bms_device_get_device_id (self->device);
  key_name = g_new0 (char *, 3);
  if (device_id != NULL && *device_id != '\0')
    key_name[0] = g_strdup_printf ("id:%s", device_id);
  else
    key_name[0] = g_strdup_printf ("%s:%u",
                                   self->session ? bms_transport_get_name (bms_session_get_transport (self->session)) : "board",
                                   self->address);
  key_name[1] = device_id && *device_id ? g_strdup (device_id)
                                        : g_strdup_printf ("Board %u", self->address);
  task = g_task_new (self, self->cancellable, ensure_done, NULL);
  g_object_set_data_full (G_OBJECT (task), "history", g_object_ref (self->history),
                          g_object_unref);
  g_task_set_task_data (task, key_name, (GDestroyNotify) g_strfreev);
  g_task_run_in_thread (task, ensure_thread);
}

static void use_history (BmsConnection *self,
                         BmsHistory    *history);

static void
open_read_only_thread (GTask        *task,
                       gpointer      source,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  GError *error = NULL;
  BmsHistory *history = bms_history_new_read_only (task_data, &error);

  if (history)
    g_task_return_pointer (task, history, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
history_opened_read_only (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(BmsConnection) self = user_data;
  GError *first = g_object_get_data (G_OBJECT (result), "error");
  g_autoptr(BmsHistory) history = g_task_propagate_pointer (G_TASK (result), NULL);

  if (history == NULL)
    {
      /* Not readable either: the writer's reason is the one to show. */
      self->history_error = g_strdup (first->message);
      g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_HISTORY_ERROR]);
      return;
    }
  g_free (self->recording_note);
  g_debug ("History: opened for reading only: %s", first->message);
  self->recording_note = g_strdup_printf (_("Not recording: the history database “%s” can only "
                                            "be read (read-only media or folder). Live data is "
                                            "shown and the history can be browsed; nothing is "
                                            "saved."), bms_history_get_path (history));
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_RECORDING_NOTE]);
  use_history (self, history);
}

static void
history_opened (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(BmsConnection) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsHistory) history = bms_history_new_finish (result, &error);

  g_clear_pointer (&self->history_error, g_free);
  if (history == NULL && !g_error_matches (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_TOO_NEW))
    {
      /* Read-only media or folder: the Graph, alarms and audit still read
       * it; nothing is recorded, and the note says so. */
      g_autoptr(GTask) task = g_task_new (NULL, NULL, history_opened_read_only,
                                          g_object_ref (self));
      const char *path = g_object_get_data (G_OBJECT (self), "history-path");

      g_task_set_task_data (task, path && *path ? g_strdup (path) : bms_history_default_path (),
                            g_free);
      g_object_set_data_full (G_OBJECT (task), "error", g_steal_pointer (&error),
                              (GDestroyNotify) g_error_free);
      g_task_run_in_thread (task, open_read_only_thread);
      return;
    }
  if (history == NULL)
    {
      self->history_error = g_strdup (error->message);
      g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_HISTORY_ERROR]);
      return;
    }
  use_history (self, history);
}

static void
use_history (BmsConnection *self,
             BmsHistory    *history)
{
  guint retention = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (self), "retention"));

  bms_history_set_retention_days (history, retention);
  g_set_object (&self->history, history);
  self->history_device_id = 0;
  if (self->poller != NULL)
    bms_poller_set_history (self->poller, history);
  bms_connection_find_history_device (self);
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_HISTORY]);
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_HISTORY_ERROR]);
}

static void
close_history_thread (GTask        *task,
                      gpointer      source,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  bms_history_close (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
history_closed (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
}

void
bms_connection_open_history (BmsConnection *self,
                             const char    *path,
                             guint          retention_days)
{
  g_return_if_fail (BMS_IS_CONNECTION (self));

  if (self->history != NULL)
    {
      g_autoptr(GTask) task = g_task_new (NULL, NULL, history_closed, NULL);

      if (self->poller != NULL)
        bms_poller_set_history (self->poller, NULL);
      /* Closing commits the queue and joins the writer: off the main thread. */
      g_task_set_task_data (task, g_steal_pointer (&self->history), g_object_unref);
      g_task_run_in_thread (task, close_history_thread);
      self->history_device_id = 0;
      g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_HISTORY]);
    }
  g_object_set_data (G_OBJECT (self), "retention", GUINT_TO_POINTER (retention_days));
  g_object_set_data_full (G_OBJECT (self), "history-path", g_strdup (path), g_free);
  if (self->recording_note != NULL)
    {
      g_clear_pointer (&self->recording_note, g_free);
      g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_RECORDING_NOTE]);
    }
  bms_history_new_async (path != NULL && *path != '\0' ? path : NULL, NULL,
                         history_opened, g_object_ref (self));
}

BmsHistory *
bms_connection_get_history (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->history;
}

gint64
bms_connection_get_history_device_id (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), 0);
  return self->history_device_id;
}

const char *
bms_connection_get_history_error (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->history_error;
}

const char *
bms_connection_get_recording_note (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->recording_note;
}
