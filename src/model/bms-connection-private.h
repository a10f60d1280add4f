/* bms-connection-private.h — what the files of BmsConnection share.
 *
 * Not installed; included only by bms-connection*.c. One concern a file:
 *   bms-connection.c          the type, its properties and state, connect
 *                             and disconnect, following the poller
 *   bms-connection-history.c  the history database, the board's row in it
 *                             and the recording note
 *   bms-connection-writes.c   the password gate (unlock, lock) and writes:
 *                             change sets and field writes
 *   bms-connection-flash.c    firmware update and bootloader recovery
 *   bms-connection-ports.c    port list, baud rates, demo boards
 *   bms-connection-mqtt.c     watching a board through an MQTT broker
 */
#pragma once

#include "bms-connection.h"
#include "bms-mqtt-source.h"
#include "bms-poller.h"
#include "bms-session.h"

G_BEGIN_DECLS

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

  BmsMqttSource      *mqtt;            /* watching through a broker, else NULL */
  char               *read_only_reason;
};

enum {
  FLASH_PROGRESS,
  N_SIGNALS
};

extern guint bms_connection_signals[N_SIGNALS];

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
  PROP_READ_ONLY_REASON,
  N_PROPS
};

extern GParamSpec *bms_connection_properties[N_PROPS];

/* bms-connection.c */
void      bms_connection_set_state           (BmsConnection       *self,
                                              BmsConnectionState   state,
                                              const char          *message);
void      bms_connection_show_device         (BmsConnection       *self,
                                              BmsDevice           *device,
                                              BmsAlarmMonitor     *monitor);
void      bms_connection_set_connected_since (BmsConnection       *self,
                                              gint64               since);

/* bms-connection-mqtt.c: ends watching (a no-op when not watching). */
void      bms_connection_stop_watching       (BmsConnection       *self);

/* bms-connection-history.c: looks up (or claims) the device's row once the
 * board has answered; a no-op when there is nothing to do yet. */
void      bms_connection_find_history_device (BmsConnection       *self);

/* bms-connection-writes.c */
void      bms_connection_refresh_lock_state  (BmsConnection       *self);
/* The task of a job on the board (cancelled by caller and by Disconnect),
 * with its source tag and data; NULL when not connected: the task is then
 * answered with the reason. */
GTask    *bms_connection_job_task_new        (BmsConnection       *self,
                                              GCancellable        *caller,
                                              gpointer             source_tag,
                                              gpointer             task_data,
                                              GDestroyNotify       task_data_destroy,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
/* Ends task with TRUE, or with error (taken) when !ok. */
void      bms_connection_task_return         (GTask               *task,
                                              gboolean             ok,
                                              GError              *error);
/* The _finish of a job: the lock mirror follows the session, then the
 * task's boolean. */
gboolean  bms_connection_job_finish          (BmsConnection       *self,
                                              GAsyncResult        *result,
                                              GError             **error);

G_END_DECLS
