/* bms-connection.c — the connection controller of a window: the type, its
 * properties and state, connecting and disconnecting, following the poller.
 * The other concerns are in bms-connection-*.c (see bms-connection-private.h). */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-connection-private.h"
#include "bms-transport.h"

G_DEFINE_FINAL_TYPE (BmsConnection, bms_connection, G_TYPE_OBJECT)

guint bms_connection_signals[N_SIGNALS];
GParamSpec *bms_connection_properties[N_PROPS];

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
    { BMS_CONNECTION_WATCHING, "BMS_CONNECTION_WATCHING", "watching" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static ("BmsConnectionState", values));
  return type_id;
}

void
bms_connection_set_state (BmsConnection      *self,
                          BmsConnectionState  state,
                          const char         *message)
{
  if (g_strcmp0 (self->error_message, message) != 0)
    {
      g_free (self->error_message);
      self->error_message = g_strdup (message);
      g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_ERROR_MESSAGE]);
    }
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_STATE]);
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

/* The password gate's mirror follows the session each second. */
static gboolean
lock_tick (gpointer user_data)
{
  bms_connection_refresh_lock_state (user_data);
  return G_SOURCE_CONTINUE;
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
        bms_connection_set_state (self, BMS_CONNECTION_ERROR, message);
      return;
    }
  /* The board answers, but with what no pack can be: the poller says why. */
  if (self->device != NULL && bms_device_get_implausible_reason (self->device) != NULL)
    {
      bms_connection_set_state (self, BMS_CONNECTION_POLLING, message);
      return;
    }
  if (self->device != NULL && !bms_device_get_online (self->device) && self->polls > 0)
    {
      g_autofree char *why = g_strdup_printf (_("No reply from board %u — check the wiring (A/B), "
                                                "baud rate and address."), self->address);
      bms_connection_set_state (self, BMS_CONNECTION_NO_REPLY, why);
      return;
    }
  if (self->polls > 0)
    bms_connection_set_state (self, BMS_CONNECTION_POLLING,
               bms_poller_get_lagging (self->poller) ? message : NULL);
}

static void
device_updated (BmsConnection *self)
{
  self->polls++;
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_POLL_COUNT]);
  bms_connection_find_history_device (self);
  bms_connection_refresh_lock_state (self);
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
  char        *uri;
  guint        baud;
  guint        address;
  guint        lock_timeout;
} OpenJob;

static void
open_job_free (OpenJob *job)
{
  g_free (job->uri);
  g_free (job);
}

/* Making the transport may read a recording (replay://) or build a
 * simulator, so it runs in a thread of its own; opening the line is then a
 * job of the new session's queue (open_line). */
static void
make_session_thread (GTask        *task,
                     gpointer      source,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  OpenJob *job = task_data;
  g_autoptr(BmsTransport) transport = NULL;
  BmsSession *session;
  GError *error = NULL;

  transport = bms_transport_new_for_uri (job->uri, job->baud, &error);
  if (transport == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  session = bms_session_new (transport, job->address);
  bms_session_set_lock_timeout (session, job->lock_timeout);
  g_task_return_pointer (task, session, g_object_unref);
}

/* The first read-all goes out as soon as the line is open, while the window
 * is still being built and shown, not once the main loop has started the
 * poller: the first numbers come one read-all after connecting. One
 * attempt: a board that does not answer is the poller's to report. */
static BmsSnapshot *
read_first_reply (BmsSession   *session,
                  GCancellable *cancellable)
{
  BmsSessionTiming saved, once;
  BmsSnapshot *snapshot;

  bms_session_get_timing (session, &saved);
  once = saved;
  once.retries = 0;
  bms_session_set_timing (session, &once);
  snapshot = bms_session_read_all (session, cancellable, NULL);
  bms_session_set_timing (session, &saved);
  return snapshot;
}

/* The data of the job that opens the line: the session, and the first
 * reply read in the same job. */
typedef struct {
  BmsSession  *session;
  BmsSnapshot *first_reply;
} LineOpen;

static void
line_open_free (LineOpen *open)
{
  g_clear_object (&open->session);
  g_clear_pointer (&open->first_reply, bms_snapshot_free);
  g_free (open);
}

static BmsSessionJobResult
open_line (BmsSession   *session,
           gpointer      user_data,
           GCancellable *cancellable,
           GError      **error)
{
  LineOpen *open = user_data;

  if (!bms_session_open (session, error))
    return BMS_SESSION_JOB_FAILED;
  open->first_reply = read_first_reply (session, cancellable);
  return BMS_SESSION_JOB_DONE;
}

static BmsSessionJobResult
close_line (BmsSession   *session,
            gpointer      user_data,
            GCancellable *cancellable,
            GError      **error)
{
  bms_session_close (session);
  return BMS_SESSION_JOB_DONE;
}

static void
start_poller (BmsConnection *self,
              BmsSnapshot   *first_reply)
{
  g_autoptr(GError) error = NULL;
  guint address = self->address;

  self->poller = bms_poller_new (self->session);
  bms_poller_set_addresses (self->poller, &address, 1);
  if (first_reply != NULL)
    bms_poller_set_first_reply (self->poller, first_reply);
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
open_failed (BmsConnection *self,
             GError        *error)
{
  g_autofree char *why = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  why = explain_error (error, self->address);
  bms_connection_set_state (self, BMS_CONNECTION_ERROR, why);
}

/* The line is open: poll it. */
static void
connected (BmsConnection *self,
           LineOpen      *open)
{
  self->session = g_object_ref (open->session);
  bms_connection_set_connected_since (self, g_get_real_time ());
  bms_connection_refresh_lock_state (self);
  start_poller (self, g_steal_pointer (&open->first_reply));
}

static void
line_opened (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (g_task_propagate_boolean (G_TASK (result), &error))
    connected (BMS_CONNECTION (source), g_task_get_task_data (G_TASK (result)));
  else
    open_failed (BMS_CONNECTION (source), error);
}

/* Opening and closing the line are jobs of the session's own queue; the
 * task keeps the session (its data) until the callback. */
static void
queue_line_job (BmsSession          *session,
                gpointer             source,
                GCancellable        *cancellable,
                BmsSessionJobFunc    func,
                GAsyncReadyCallback  callback)
{
  g_autoptr(GTask) task = g_task_new (source, cancellable, callback, NULL);

  g_task_set_source_tag (task, func);
  g_task_set_task_data (task, g_object_ref (session), g_object_unref);
  bms_session_run_task (session, task, func, NULL);
}

static void
session_made (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSession) session = g_task_propagate_pointer (G_TASK (result), &error);

  if (session != NULL)
    {
      g_autoptr(GTask) task = g_task_new (source, BMS_CONNECTION (source)->cancellable,
                                          line_opened, NULL);
      LineOpen *open = g_new0 (LineOpen, 1);

      open->session = g_object_ref (session);
      g_task_set_source_tag (task, open_line);
      g_task_set_task_data (task, open, (GDestroyNotify) line_open_free);
      bms_session_run_task (session, task, open_line, open);
    }
  else
    open_failed (BMS_CONNECTION (source), error);
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
  task = g_task_new (self, self->cancellable, session_made, NULL);
  g_task_set_source_tag (task, open_session);
  g_task_set_task_data (task, job, (GDestroyNotify) open_job_free);
  g_task_run_in_thread (task, make_session_thread);
}

/* The line is closed once the poller's worker has made its last request:
 * no thread waits for another. */
static void
poller_stopped (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(BmsSession) session = user_data;

  queue_line_job (session, NULL, NULL, close_line, NULL);
}

static void
close_later (BmsPoller  *poller,
             BmsSession *session)
{
  if (poller == NULL)
    {
      queue_line_job (session, NULL, NULL, close_line, NULL);
      g_object_unref (session);
      return;
    }
  bms_poller_stop_async (poller, poller_stopped, session);
  g_object_unref (poller);
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
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_URI]);
  bms_connection_set_state (self, BMS_CONNECTION_CONNECTING, NULL);
  open_session (self);
}

void
bms_connection_disconnect (BmsConnection *self)
{
  g_return_if_fail (BMS_IS_CONNECTION (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  bms_connection_stop_watching (self);
  if (self->poller != NULL)
    g_signal_handlers_disconnect_by_data (self->poller, self);
  if (self->device != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->device, device_updated, self);
      g_signal_handlers_disconnect_by_func (self->device, update_state_from_poller, self);
    }
  if (self->session != NULL)
    close_later (g_steal_pointer (&self->poller), g_steal_pointer (&self->session));
  g_clear_object (&self->poller);
  self->ensuring_device = FALSE;
  if (self->device != NULL)
    bms_device_set_online (self->device, FALSE);
  bms_connection_set_connected_since (self, 0);
  bms_connection_refresh_lock_state (self);
  bms_connection_set_state (self, BMS_CONNECTION_DISCONNECTED, NULL);
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
  g_free (self->read_only_reason);

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
    case PROP_READ_ONLY_REASON:
      g_value_set_string (value, self->read_only_reason);
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

  bms_connection_properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, BMS_TYPE_CONNECTION_STATE,
                       BMS_CONNECTION_DISCONNECTED, ro);
  bms_connection_properties[PROP_ERROR_MESSAGE] =
    g_param_spec_string ("error-message", NULL, NULL, NULL, ro);
  bms_connection_properties[PROP_URI] =
    g_param_spec_string ("uri", NULL, NULL, NULL, ro);
  bms_connection_properties[PROP_DEVICE] =
    g_param_spec_object ("device", NULL, NULL, BMS_TYPE_DEVICE, ro);
  bms_connection_properties[PROP_CONNECTED_SINCE] =
    g_param_spec_int64 ("connected-since", NULL, NULL, 0, G_MAXINT64, 0, ro);
  bms_connection_properties[PROP_LOCKED] =
    g_param_spec_boolean ("locked", NULL, NULL, TRUE, ro);
  bms_connection_properties[PROP_UNLOCK_REMAINING] =
    g_param_spec_uint ("unlock-remaining", NULL, NULL, 0, G_MAXUINT, 0, ro);
  bms_connection_properties[PROP_POLL_COUNT] =
    g_param_spec_uint64 ("poll-count", NULL, NULL, 0, G_MAXUINT64, 0, ro);

  bms_connection_properties[PROP_POLL_INTERVAL] =
    g_param_spec_double ("poll-interval", NULL, NULL, 0.2, 60.0, 1.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  bms_connection_properties[PROP_LOCK_TIMEOUT] =
    g_param_spec_uint ("lock-timeout", NULL, NULL, 1, 86400, 300,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  bms_connection_properties[PROP_HISTORY] =
    g_param_spec_object ("history", NULL, NULL, BMS_TYPE_HISTORY, ro);
  bms_connection_properties[PROP_HISTORY_ERROR] =
    g_param_spec_string ("history-error", NULL, NULL, NULL, ro);
  bms_connection_properties[PROP_RECORDING_NOTE] =
    g_param_spec_string ("recording-note", NULL, NULL, NULL, ro);
  bms_connection_properties[PROP_ALARM_MONITOR] =
    g_param_spec_object ("alarm-monitor", NULL, NULL, BMS_TYPE_ALARM_MONITOR, ro);
  bms_connection_properties[PROP_READ_ONLY_REASON] =
    g_param_spec_string ("read-only-reason", NULL, NULL, NULL, ro);

  g_object_class_install_properties (object_class, N_PROPS, bms_connection_properties);

  /* A step or a block of a firmware update (BmsFlasherProgress *). */
  bms_connection_signals[FLASH_PROGRESS] =
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

void
bms_connection_set_connected_since (BmsConnection *self,
                                    gint64         since)
{
  if (self->connected_since == since)
    return;
  self->connected_since = since;
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_CONNECTED_SINCE]);
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

BmsAlarmMonitor *
bms_connection_get_alarm_monitor (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->alarm_monitor;
}

void
bms_connection_show_device (BmsConnection   *self,
                            BmsDevice       *device,
                            BmsAlarmMonitor *monitor)
{
  if (self->device == device)
    return;
  g_set_object (&self->device, device);
  g_set_object (&self->alarm_monitor, monitor);
  self->history_device_id = 0;
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_ALARM_MONITOR]);
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_DEVICE]);
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
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_POLL_INTERVAL]);
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
