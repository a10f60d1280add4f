/* bms-connection.c — the connection controller of a window */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-connection.h"
#include "bms-poller.h"
#include "bms-session.h"
#include "bms-transport.h"
#include "bms-flasher.h"
#include "bms-sim.h"
#include "bms-field.h"


struct _BmsConnection
{
  GObject             parent_instance;

  BmsConnectionState  state;
  char               *error_message;
  char               *uri;
  guint               baud;
  guint               address;
  BmsSession         *session;
  BmsDevice          *device;
  BmsAlarmMonitor    *alarm_monitor;
  BmsHistory         *history;
  char               *history_error;
  char               *recording_note;
  gint64              history_device_id;
  gboolean            ensuring_device;
  gint64              connected_since;

  GCancellable       *cancellable;     /* everything of the current connection */
  BmsPoller          *poller;
  double              poll_interval;
  guint64             polls;

  guint               lock_timeout;
  gboolean            locked;
  guint               unlock_remaining;
  guint               lock_tick;
};

G_DEFINE_FINAL_TYPE (BmsConnection, bms_connection, G_TYPE_OBJECT)

enum {
  FLASH_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

enum {
  PROP_0,
  PROP_STATE,
  PROP_ERROR_MESSAGE,
  PROP_URI,
  PROP_DEVICE,
  PROP_CONNECTED_SINCE,
  PROP_LOCKED,
  PROP_UNLOCK_REMAINING,
  PROP_POLL_COUNT,
  PROP_POLL_INTERVAL,
  PROP_LOCK_TIMEOUT,
  PROP_HISTORY,
  PROP_HISTORY_ERROR,
  PROP_RECORDING_NOTE,
  PROP_ALARM_MONITOR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void bms_connection_show_device (BmsConnection   *self,
                                        BmsDevice       *device,
                                        BmsAlarmMonitor *monitor);

GType
bms_connection_state_get_type (void)
{
  static gsize type_id = 0;
  static const GEnumValue values[] = {
    { BMS_CONNECTION_DISCONNECTED, "BMS_CONNECTION_DISCONNECTED", "disconnected" },
    { BMS_CONNECTION_CONNECTING, "BMS_CONNECTION_CONNECTING", "connecting" },
    { BMS_CONNECTION_POLLING, "BMS_CONNECTION_POLLING", "polling" },
    { BMS_CONNECTION_NO_REPLY, "BMS_CONNECTION_NO_REPLY", "no-reply" },
    { BMS_CONNECTION_ERROR, "BMS_CONNECTION_ERROR", "error" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static ("BmsConnectionState", values));
  return type_id;
}

static void
set_state (BmsConnection      *self,
           BmsConnectionState  state,
           const char         *message)
{
  if (g_strcmp0 (self->error_message, message) != 0)
    {
      g_free (self->error_message);
      self->error_message = g_strdup (message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR_MESSAGE]);
    }
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

/* Words a user can act on, from a transport or session error. */
static char *
explain_error (const GError *error,
               guint         address)
{
  if (g_error_matches (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_PERMISSION) &&
      strstr (error->message, "dialout") == NULL)
    return g_strdup_printf (_("%s — add yourself to the “dialout” group "
                              "(sudo usermod -aG dialout $USER), then log out and in again."),
                            error->message);
  if (g_error_matches (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_TIMEOUT))
    return g_strdup_printf (_("No reply from board %u: check the wiring (A/B), "
                              "the baud rate and the address. (%s)"),
                            address, error->message);
  return g_strdup (error->message);
}

/* ---- password gate mirror ---- */

static void
refresh_lock_state (BmsConnection *self)
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOCKED]);
    }
  if (remaining != self->unlock_remaining)
    {
      self->unlock_remaining = remaining;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNLOCK_REMAINING]);
    }
}

static gboolean
lock_tick (gpointer user_data)
{
  refresh_lock_state (user_data);
  return G_SOURCE_CONTINUE;
}

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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECORDING_NOTE]);
    }
  ensure_result_free (r);
  if (self->history_device_id > 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTORY]);
}

/* The poller records samples and alarm events; the pages need the device's
 * row for their queries and the audit log. The key is the poller's (device
 * id, else transport and address), so both find the same row; looking it
 * up waits for the writer, hence a worker. */
static void
find_history_device (BmsConnection *self)
{
  g_autoptr(GTask) task = NULL;
  const char *device_id;
  char **key_name;

  if (self->history == NULL || self->device == NULL || self->history_device_id > 0 ||
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTORY_ERROR]);
      return;
    }
  g_free (self->recording_note);
  g_debug ("History: opened for reading only: %s", first->message);
  self->recording_note = g_strdup_printf (_("Not recording: the history database “%s” can only "
                                            "be read (read-only media or folder). Live data is "
                                            "shown and the history can be browsed; nothing is "
                                            "saved."), bms_history_get_path (history));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECORDING_NOTE]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTORY_ERROR]);
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
  find_history_device (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTORY]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTORY_ERROR]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTORY]);
    }
  g_object_set_data (G_OBJECT (self), "retention", GUINT_TO_POINTER (retention_days));
  g_object_set_data_full (G_OBJECT (self), "history-path", g_strdup (path), g_free);
  if (self->recording_note != NULL)
    {
      g_clear_pointer (&self->recording_note, g_free);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECORDING_NOTE]);
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

BmsAlarmMonitor *
bms_connection_get_alarm_monitor (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->alarm_monitor;
}

/* ---- following the poller ---- */

static void
update_state_from_poller (BmsConnection *self)
{
  const char *message = bms_poller_get_message (self->poller);

  if (!bms_poller_get_connected (self->poller))
    {
      /* Line down: the poller reopens it by itself and says when. */
      if (bms_poller_get_cycles (self->poller) > 0 || self->state != BMS_CONNECTION_CONNECTING)
        set_state (self, BMS_CONNECTION_ERROR, message);
      return;
    }
  /* The board answers, but with what no pack can be: the poller says why. */
  if (self->device != NULL && bms_device_get_implausible_reason (self->device) != NULL)
    {
      set_state (self, BMS_CONNECTION_POLLING, message);
      return;
    }
  if (self->device != NULL && !bms_device_get_online (self->device) && self->polls > 0)
    {
      g_autofree char *why = g_strdup_printf (_("No reply from board %u — check the wiring (A/B), "
                                                "baud rate and address."), self->address);
      set_state (self, BMS_CONNECTION_NO_REPLY, why);
      return;
    }
  if (self->polls > 0)
    set_state (self, BMS_CONNECTION_POLLING,
               bms_poller_get_lagging (self->poller) ? message : NULL);
}

static void
device_updated (BmsConnection *self)
{
  self->polls++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POLL_COUNT]);
  find_history_device (self);
  refresh_lock_state (self);
  update_state_from_poller (self);
}

static void
follow_poller (BmsConnection *self)
{
  const char *props[] = { "notify::connected", "notify::lagging", "notify::message" };

  for (guint i = 0; i < G_N_ELEMENTS (props); i++)
    g_signal_connect_object (self->poller, props[i],
                             G_CALLBACK (update_state_from_poller), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->device, "updated",
                           G_CALLBACK (device_updated), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->device, "notify::online",
                           G_CALLBACK (update_state_from_poller), self, G_CONNECT_SWAPPED);
}

/* ---- opening and closing ---- */

typedef struct {
  char  *uri;
  guint  baud;
  guint  address;
  guint  lock_timeout;
} OpenJob;

static void
open_job_free (OpenJob *job)
{
  g_free (job->uri);
  g_free (job);
}

static void
open_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  OpenJob *job = task_data;
  g_autoptr(BmsTransport) transport = NULL;
  g_autoptr(BmsSession) session = NULL;
  GError *error = NULL;

  transport = bms_transport_new_for_uri (job->uri, job->baud, &error);
  if (transport == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  session = bms_session_new (transport, job->address);
  bms_session_set_lock_timeout (session, job->lock_timeout);
  if (!bms_session_open (session, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&session), g_object_unref);
}

static void
start_poller (BmsConnection *self)
{
  g_autoptr(GError) error = NULL;
  guint address = self->address;

  self->poller = bms_poller_new (self->session);
  bms_poller_set_addresses (self->poller, &address, 1);
  if (!bms_poller_set_interval (self->poller, self->poll_interval, &error))
    g_warning ("%s", error->message);
  if (self->history != NULL)
    bms_poller_set_history (self->poller, self->history);
  bms_poller_start (self->poller);
  /* The poller made the device (and its alarm monitor) on start. */
  bms_connection_show_device (self, bms_poller_lookup_device (self->poller, address),
                              bms_poller_get_alarm_monitor (self->poller, address));
  follow_poller (self);
}

static void
open_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  BmsConnection *self = BMS_CONNECTION (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSession) session = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (session == NULL)
    {
      g_autofree char *why = explain_error (error, self->address);
      set_state (self, BMS_CONNECTION_ERROR, why);
      return;
    }
  self->session = g_steal_pointer (&session);
  self->connected_since = g_get_real_time ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED_SINCE]);
  refresh_lock_state (self);
  start_poller (self);
}

static void
open_session (BmsConnection *self)
{
  g_autoptr(GTask) task = NULL;
  OpenJob *job = g_new0 (OpenJob, 1);

  job->uri = g_strdup (self->uri);
  job->baud = self->baud;
  job->address = self->address;
  job->lock_timeout = self->lock_timeout;
  task = g_task_new (self, self->cancellable, open_done, NULL);
  g_task_set_source_tag (task, open_session);
  g_task_set_task_data (task, job, (GDestroyNotify) open_job_free);
  g_task_run_in_thread (task, open_thread);
}

static void
close_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  BmsPoller *poller = g_object_get_data (G_OBJECT (task), "poller");

  /* Already told to stop on the main thread: this only joins its worker,
   * which may be inside a request, before the line is closed. */
  if (poller != NULL)
    bms_poller_stop_sync (poller);
  bms_session_close (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
closed (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  /* Runs on the main thread, so the poller and session are released here. */
}

static void
close_in_thread (BmsPoller  *poller,
                 BmsSession *session)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, closed, NULL);

  if (poller != NULL)
    {
      bms_poller_stop (poller);
      g_object_set_data_full (G_OBJECT (task), "poller", poller, g_object_unref);
    }
  g_task_set_task_data (task, session, g_object_unref);
  g_task_run_in_thread (task, close_thread);
}

void
bms_connection_connect (BmsConnection *self,
                        const char    *uri,
                        guint          baud,
                        guint          address)
{
  g_return_if_fail (BMS_IS_CONNECTION (self));
  g_return_if_fail (uri != NULL);

  bms_connection_disconnect (self);
  g_free (self->uri);
  self->uri = g_strdup (uri);
  self->baud = baud;
  self->address = address;
  self->polls = 0;
  self->cancellable = g_cancellable_new ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URI]);
  set_state (self, BMS_CONNECTION_CONNECTING, NULL);
  open_session (self);
}

void
bms_connection_disconnect (BmsConnection *self)
{
  g_return_if_fail (BMS_IS_CONNECTION (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->poller != NULL)
    g_signal_handlers_disconnect_by_data (self->poller, self);
  if (self->device != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->device, device_updated, self);
      g_signal_handlers_disconnect_by_func (self->device, update_state_from_poller, self);
    }
  if (self->session != NULL)
    close_in_thread (g_steal_pointer (&self->poller), g_steal_pointer (&self->session));
  g_clear_object (&self->poller);
  self->ensuring_device = FALSE;
  if (self->device != NULL)
    bms_device_set_online (self->device, FALSE);
  if (self->connected_since != 0)
    {
      self->connected_since = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED_SINCE]);
    }
  refresh_lock_state (self);
  set_state (self, BMS_CONNECTION_DISCONNECTED, NULL);
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

/* A task of an unlock or a write is cancelled by the caller's cancellable
 * and by Disconnect: a request in flight never holds up closing the line. */
static GTask *
job_task_new (BmsConnection       *self,
              GCancellable        *caller,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  g_autoptr(GCancellable) both = g_cancellable_new ();
  GTask *task = g_task_new (self, both, callback, user_data);
  GCancellable *sources[] = { self->cancellable, caller };

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
  return task;
}

static gboolean
require_session (BmsConnection *self,
                 GTask         *task)
{
  if (self->session != NULL)
    return TRUE;
  g_task_return_new_error (task, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED,
                           _("Not connected to a board"));
  return FALSE;
}

static void
session_unlocked (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (bms_session_unlock_finish (BMS_SESSION (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/* On the session's job queue: no thread waits for the session's worker. */
void
bms_connection_unlock_async (BmsConnection       *self,
                             const char          *password,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GCancellable *job_cancellable;

  g_return_if_fail (BMS_IS_CONNECTION (self));
  g_return_if_fail (password != NULL);

  task = job_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_connection_unlock_async);
  if (!require_session (self, task))
    return;
  job_cancellable = g_task_get_cancellable (task);
  bms_session_unlock_async (self->session, password, job_cancellable, session_unlocked,
                            g_steal_pointer (&task));
}

gboolean
bms_connection_unlock_finish (BmsConnection  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  refresh_lock_state (self);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
bms_connection_lock (BmsConnection *self)
{
  g_return_if_fail (BMS_IS_CONNECTION (self));

  if (self->session != NULL)
    bms_session_lock (self->session);
  refresh_lock_state (self);
}

/* ---- the pages' road to the board ---- */

gboolean
bms_connection_get_connected (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), FALSE);
  return self->session != NULL;
}

guint
bms_connection_get_baud (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), 0);
  return self->session != NULL ? self->baud : 0;
}

guint
bms_connection_get_address (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), 0);
  return self->address;
}

GPtrArray *
bms_connection_list_ports (GError **error)
{
  return bms_transport_list_ports (error);
}

const guint *
bms_connection_get_supported_bauds (void)
{
  return bms_supported_bauds;
}

void
bms_connection_register_demo_boards (void)
{
  bms_sim_register_uri_scheme ();
}

gboolean
bms_connection_check_uri (const char  *uri,
                          GError     **error)
{
  g_autoptr(BmsTransport) transport = NULL;

  g_return_val_if_fail (uri != NULL, FALSE);

  bms_connection_register_demo_boards ();
  transport = bms_transport_new_for_uri (uri, 9600, error);
  return transport != NULL;
}

static void
applied (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (bms_change_set_apply_finish (BMS_CHANGE_SET (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
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

  task = job_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_connection_apply_async);
  if (!require_session (self, task))
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
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  refresh_lock_state (self);
  return g_task_propagate_boolean (G_TASK (result), error);
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
  if (error != NULL && !attempted)
    g_task_return_error (task, error);
  else
    {
      g_clear_error (&error);
      g_task_return_boolean (task, TRUE);
    }
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

  task = job_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_connection_write_fields_async);
  if (!require_session (self, task))
    return;
  snapshot = self->device != NULL ? bms_device_get_snapshot (self->device) : NULL;
  current = snapshot != NULL ? bms_param_set_new_from_snapshot (snapshot) : bms_param_set_new ();
  job = g_new0 (FieldsJob, 1);
  job->writes = g_ptr_array_ref (writes);
  job->change_set = bms_change_set_new (current);
  g_task_set_task_data (task, job, (GDestroyNotify) fields_job_free);
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
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  refresh_lock_state (self);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- firmware update ---- */

typedef struct {
  char           *path;
  gboolean        force;
  gboolean        in_bootloader;
  char           *password;
  char           *old_version;
  BmsFlasherStep  step;        /* where it failed before the flasher ran */
  BmsFlasher     *flasher;
  BmsTransport   *transport;   /* in_bootloader: the line, ours until the end */
  char           *uri;
  guint           baud;
  guint           address;
} FlashJob;

static void
flash_job_free (FlashJob *job)
{
  g_free (job->path);
  g_free (job->password);
  g_free (job->old_version);
  g_free (job->uri);
  g_clear_object (&job->flasher);
  g_clear_object (&job->transport);
  g_free (job);
}

static void
flasher_progress (BmsFlasher               *flasher,
                  const BmsFlasherProgress *progress,
                  BmsConnection            *self)
{
  g_signal_emit (self, signals[FLASH_PROGRESS], 0, progress);
}

/* One audit row per update (the same row packwatch-cli flash --db writes):
 * file, size, CRC-32, versions before and after, forced or not, result. */
static void
audit_flash (BmsConnection *self,
             FlashJob      *job,
             const GError  *error)
{
  BmsFlasher *flasher = job->flasher;
  g_autofree char *base = g_path_get_basename (job->path);
  g_autoptr(GString) result = g_string_new (error == NULL ? "ok" : "failed");
  const char *new_version = bms_flasher_get_board_version (flasher);

  if (self->history == NULL || self->history_device_id <= 0)
    return;
  if (error != NULL)
    g_string_append_printf (result, " at step %d", bms_flasher_get_step (flasher));
  g_string_append_printf (result, ": %s, %" G_GUINT64_FORMAT " bytes, CRC-32 %08X, image "
                          "version %s", base, bms_flasher_get_file_size (flasher),
                          bms_flasher_get_file_crc32 (flasher),
                          bms_flasher_get_file_version (flasher) != NULL
                            ? bms_flasher_get_file_version (flasher) : "unknown");
  if (bms_flasher_get_image_problem (flasher) != NULL)
    g_string_append_printf (result, "; FORCED past the image check: %s",
                            bms_flasher_get_image_problem (flasher));
  if (error != NULL)
    g_string_append_printf (result, "; %s", error->message);
  bms_history_add_audit (self->history, self->history_device_id, g_get_real_time (),
                         "firmware", job->old_version != NULL ? job->old_version : "unknown",
                         new_version != NULL ? new_version : "(not read back)", result->str);
}

/* After a bootloader run the line goes back to polling, at the board's baud. */
static void
flash_reconnect (BmsConnection *self,
                 FlashJob      *job)
{
  if (job->transport != NULL)
    bms_transport_close (job->transport);
  g_clear_object (&job->transport);
  if (job->uri != NULL)
    bms_connection_connect (self, job->uri, job->baud, job->address);
}

static void
flashed (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BmsConnection *self = g_task_get_source_object (task);
  FlashJob *job = g_task_get_task_data (task);
  GError *error = NULL;
  gboolean ok = bms_flasher_run_finish (BMS_FLASHER (source), result, &error);

  g_signal_handlers_disconnect_by_data (source, self);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
    audit_flash (self, job, error);
  if (job->in_bootloader)
    flash_reconnect (self, job);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
run_flasher (BmsConnection *self,
             GTask         *task)
{
  FlashJob *job = g_task_get_task_data (task);

  bms_flasher_set_force (job->flasher, job->force);
  bms_flasher_set_file (job->flasher, job->path);
  bms_flasher_set_board_baud (job->flasher, job->baud);
  g_signal_connect_object (job->flasher, "progress", G_CALLBACK (flasher_progress), self, 0);
  bms_flasher_run_async (job->flasher, g_task_get_cancellable (task), flashed, task);
}

static void
flash_unlocked (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  BmsConnection *self = BMS_CONNECTION (source);
  FlashJob *job = g_task_get_task_data (task);
  GError *error = NULL;

  if (!bms_connection_unlock_finish (self, result, &error) || self->session == NULL)
    {
      job->step = BMS_FLASHER_STEP_ENTER_BOOTLOADER;
      if (error == NULL)
        error = g_error_new (BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED,
                             _("Not connected to a board"));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  job->flasher = bms_flasher_new (self->session);
  run_flasher (self, task);
}

static void
open_transport_thread (GTask        *task,
                       gpointer      source,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  GError *error = NULL;

  if (!bms_transport_open (task_data, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
bootloader_line_opened (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  GTask *task = user_data;
  BmsConnection *self = g_task_get_source_object (task);
  FlashJob *job = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      job->step = BMS_FLASHER_STEP_SEGMENT;
      flash_reconnect (self, job);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  job->flasher = bms_flasher_new_for_transport (job->transport, job->address);
  run_flasher (self, task);
}

/* The poller must not touch the line meanwhile: disconnect, open the port
 * at the bootloader's baud (on a worker), run steps 4–8, connect again. */
static void
flash_in_bootloader (BmsConnection *self,
                     GTask         *task)
{
  FlashJob *job = g_task_get_task_data (task);
  g_autoptr(GTask) open = NULL;
  GError *error = NULL;

  if (self->uri == NULL)
    {
      job->step = BMS_FLASHER_STEP_REOPEN;
      g_task_return_new_error (task, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED,
                               _("No port chosen: connect to the board’s port first"));
      g_object_unref (task);
      return;
    }
  job->uri = g_strdup (self->uri);
  job->baud = self->session != NULL ? self->baud : BMS_FLASHER_BOOTLOADER_BAUD;
  job->address = self->session != NULL ? self->address : 1;
  bms_connection_disconnect (self);
  job->transport = bms_transport_new_for_uri (job->uri, BMS_FLASHER_BOOTLOADER_BAUD, &error);
  if (job->transport == NULL)
    {
      job->step = BMS_FLASHER_STEP_REOPEN;
      flash_reconnect (self, job);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  open = g_task_new (self, g_task_get_cancellable (task), bootloader_line_opened, task);
  g_task_set_task_data (open, g_object_ref (job->transport), g_object_unref);
  g_task_run_in_thread (open, open_transport_thread);
}

void
bms_connection_flash_async (BmsConnection       *self,
                            const char          *path,
                            gboolean             force,
                            gboolean             in_bootloader,
                            const char          *password,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;
  FlashJob *job;
  const BmsSnapshot *snapshot;

  g_return_if_fail (BMS_IS_CONNECTION (self));
  g_return_if_fail (path != NULL);

  job = g_new0 (FlashJob, 1);
  job->path = g_strdup (path);
  job->force = force;
  job->in_bootloader = in_bootloader;
  job->password = g_strdup (password);
  job->baud = self->baud;
  snapshot = self->device != NULL ? bms_device_get_snapshot (self->device) : NULL;
  if (snapshot != NULL && bms_snapshot_has (snapshot, BMS_ID_SOFTWARE_VERSION))
    job->old_version = bms_snapshot_dup_string (snapshot, BMS_ID_SOFTWARE_VERSION);
  if (in_bootloader)
    {
      /* Not tied to the connection's own cancellable: it disconnects. */
      task = g_task_new (self, cancellable, callback, user_data);
      g_task_set_source_tag (task, bms_connection_flash_async);
      g_task_set_task_data (task, job, (GDestroyNotify) flash_job_free);
      flash_in_bootloader (self, task);
      return;
    }
  task = job_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_connection_flash_async);
  g_task_set_task_data (task, job, (GDestroyNotify) flash_job_free);
  job->step = BMS_FLASHER_STEP_ENTER_BOOTLOADER;
  if (!require_session (self, task))
    {
      g_object_unref (task);
      return;
    }
  if (password != NULL && !bms_session_is_unlocked (self->session))
    {
      bms_connection_unlock_async (self, password, g_task_get_cancellable (task),
                                   flash_unlocked, task);
      return;
    }
  job->flasher = bms_flasher_new (self->session);
  run_flasher (self, task);
}

gboolean
bms_connection_flash_finish (BmsConnection   *self,
                             GAsyncResult    *result,
                             BmsFlasherStep  *step,
                             char           **board_version,
                             GError         **error)
{
  FlashJob *job;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  job = g_task_get_task_data (G_TASK (result));
  if (step != NULL)
    *step = job->flasher != NULL ? bms_flasher_get_step (job->flasher) : job->step;
  if (board_version != NULL)
    *board_version = job->flasher != NULL
                     ? g_strdup (bms_flasher_get_board_version (job->flasher)) : NULL;
  refresh_lock_state (self);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- GObject ---- */

static void
bms_connection_dispose (GObject *object)
{
  BmsConnection *self = BMS_CONNECTION (object);

  bms_connection_disconnect (self);
  g_clear_handle_id (&self->lock_tick, g_source_remove);
  g_clear_object (&self->alarm_monitor);
  g_clear_object (&self->device);
  if (self->history != NULL)
    bms_history_close (self->history);
  g_clear_object (&self->history);

  G_OBJECT_CLASS (bms_connection_parent_class)->dispose (object);
}

static void
bms_connection_finalize (GObject *object)
{
  BmsConnection *self = BMS_CONNECTION (object);

  g_free (self->error_message);
  g_free (self->history_error);
  g_free (self->recording_note);
  g_free (self->uri);

  G_OBJECT_CLASS (bms_connection_parent_class)->finalize (object);
}

static void
bms_connection_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  BmsConnection *self = BMS_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR_MESSAGE:
      g_value_set_string (value, self->error_message);
      break;
    case PROP_URI:
      g_value_set_string (value, self->uri);
      break;
    case PROP_DEVICE:
      g_value_set_object (value, self->device);
      break;
    case PROP_CONNECTED_SINCE:
      g_value_set_int64 (value, self->connected_since);
      break;
    case PROP_LOCKED:
      g_value_set_boolean (value, self->locked);
      break;
    case PROP_UNLOCK_REMAINING:
      g_value_set_uint (value, self->unlock_remaining);
      break;
    case PROP_POLL_COUNT:
      g_value_set_uint64 (value, self->polls);
      break;
    case PROP_POLL_INTERVAL:
      g_value_set_double (value, self->poll_interval);
      break;
    case PROP_LOCK_TIMEOUT:
      g_value_set_uint (value, self->lock_timeout);
      break;
    case PROP_HISTORY:
      g_value_set_object (value, self->history);
      break;
    case PROP_HISTORY_ERROR:
      g_value_set_string (value, self->history_error);
      break;
    case PROP_RECORDING_NOTE:
      g_value_set_string (value, self->recording_note);
      break;
    case PROP_ALARM_MONITOR:
      g_value_set_object (value, self->alarm_monitor);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_connection_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  BmsConnection *self = BMS_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_POLL_INTERVAL:
      bms_connection_set_poll_interval (self, g_value_get_double (value));
      break;
    case PROP_LOCK_TIMEOUT:
      bms_connection_set_lock_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_connection_class_init (BmsConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = bms_connection_dispose;
  object_class->finalize = bms_connection_finalize;
  object_class->get_property = bms_connection_get_property;
  object_class->set_property = bms_connection_set_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, BMS_TYPE_CONNECTION_STATE,
                       BMS_CONNECTION_DISCONNECTED, ro);
  properties[PROP_ERROR_MESSAGE] =
    g_param_spec_string ("error-message", NULL, NULL, NULL, ro);
  properties[PROP_URI] =
    g_param_spec_string ("uri", NULL, NULL, NULL, ro);
  properties[PROP_DEVICE] =
    g_param_spec_object ("device", NULL, NULL, BMS_TYPE_DEVICE, ro);
  properties[PROP_CONNECTED_SINCE] =
    g_param_spec_int64 ("connected-since", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_LOCKED] =
    g_param_spec_boolean ("locked", NULL, NULL, TRUE, ro);
  properties[PROP_UNLOCK_REMAINING] =
    g_param_spec_uint ("unlock-remaining", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_POLL_COUNT] =
    g_param_spec_uint64 ("poll-count", NULL, NULL, 0, G_MAXUINT64, 0, ro);

  properties[PROP_POLL_INTERVAL] =
    g_param_spec_double ("poll-interval", NULL, NULL, 0.2, 60.0, 1.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOCK_TIMEOUT] =
    g_param_spec_uint ("lock-timeout", NULL, NULL, 1, 86400, 300,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_HISTORY] =
    g_param_spec_object ("history", NULL, NULL, BMS_TYPE_HISTORY, ro);
  properties[PROP_HISTORY_ERROR] =
    g_param_spec_string ("history-error", NULL, NULL, NULL, ro);
  properties[PROP_RECORDING_NOTE] =
    g_param_spec_string ("recording-note", NULL, NULL, NULL, ro);
  properties[PROP_ALARM_MONITOR] =
    g_param_spec_object ("alarm-monitor", NULL, NULL, BMS_TYPE_ALARM_MONITOR, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* A step or a block of a firmware update (BmsFlasherProgress *). */
  signals[FLASH_PROGRESS] =
    g_signal_new ("flash-progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
bms_connection_init (BmsConnection *self)
{
  self->poll_interval = 1.0;
  self->lock_timeout = 300;
  self->locked = TRUE;
  self->lock_tick = g_timeout_add_seconds (1, lock_tick, self);
}

BmsConnection *
bms_connection_new (void)
{
  return g_object_new (BMS_TYPE_CONNECTION, NULL);
}

BmsConnectionState
bms_connection_get_state (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), BMS_CONNECTION_DISCONNECTED);
  return self->state;
}

const char *
bms_connection_get_error_message (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->error_message;
}

const char *
bms_connection_get_uri (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->uri;
}

BmsDevice *
bms_connection_get_device (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->device;
}

BmsSession *
bms_connection_get_session (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->session;
}

gint64
bms_connection_get_connected_since (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), 0);
  return self->connected_since;
}

static void
bms_connection_show_device (BmsConnection   *self,
                            BmsDevice       *device,
                            BmsAlarmMonitor *monitor)
{
  if (self->device == device)
    return;
  g_set_object (&self->device, device);
  g_set_object (&self->alarm_monitor, monitor);
  self->history_device_id = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALARM_MONITOR]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);
}

void
bms_connection_set_device (BmsConnection *self,
                           BmsDevice     *device)
{
  g_autoptr(BmsAlarmMonitor) monitor = NULL;

  g_return_if_fail (BMS_IS_CONNECTION (self));

  if (device != NULL && device != self->device)
    monitor = bms_alarm_monitor_new (device);
  bms_connection_show_device (self, device, device == self->device ? self->alarm_monitor
                                                                   : monitor);
}

void
bms_connection_set_poll_interval (BmsConnection *self,
                                  double         seconds)
{
  g_return_if_fail (BMS_IS_CONNECTION (self));

  seconds = CLAMP (seconds, 0.2, 60.0);
  if (seconds == self->poll_interval)
    return;
  if (self->poller != NULL)
    bms_poller_set_interval (self->poller, seconds, NULL);
  self->poll_interval = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POLL_INTERVAL]);
}

double
bms_connection_get_poll_interval (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), 1.0);
  return self->poll_interval;
}

guint64
bms_connection_get_poll_count (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), 0);
  return self->polls;
}

gboolean
bms_connection_get_locked (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), TRUE);

  /* The mirror follows the session each second; a caller deciding whether
   * to ask for the password gets the session's state of now. */
  refresh_lock_state (self);
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOCK_TIMEOUT]);
}
