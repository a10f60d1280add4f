/* bms-connection.h — what the pages of the window share about the board.
 *
 * One BmsConnection per window: the transport and session to the board, the
 * polling of it, the live device model, the history database, the password
 * gate's state, and a connection state the connection bar shows. Pages get
 * it as their "connection" property and bind to its "device".
 *
 * Nothing here blocks the main thread: opening the port, every request and
 * closing run on the session's worker or a GTask thread; results come back
 * to the main context.
 */
#pragma once

#include <gio/gio.h>
#include "bms-alarm-monitor.h"
#include "bms-device.h"
#include "bms-history.h"
#include "bms-snapshot.h"

G_BEGIN_DECLS

typedef struct _BmsSession BmsSession;

typedef enum {
  BMS_CONNECTION_DISCONNECTED,
  BMS_CONNECTION_CONNECTING,
  BMS_CONNECTION_POLLING,     /* connected, replies arrive */
  BMS_CONNECTION_NO_REPLY,    /* connected, the board stopped answering */
  BMS_CONNECTION_ERROR,       /* the port failed; see "error-message" */
} BmsConnectionState;

GType bms_connection_state_get_type (void);
#define BMS_TYPE_CONNECTION_STATE (bms_connection_state_get_type ())

#define BMS_TYPE_CONNECTION (bms_connection_get_type ())
G_DECLARE_FINAL_TYPE (BmsConnection, bms_connection, BMS, CONNECTION, GObject)

BmsConnection      *bms_connection_new               (void);
BmsConnectionState  bms_connection_get_state         (BmsConnection *self);
/* Why the last attempt failed, in words a user can act on; NULL if none. */
const char         *bms_connection_get_error_message (BmsConnection *self);
const char         *bms_connection_get_uri           (BmsConnection *self);
BmsDevice          *bms_connection_get_device        (BmsConnection *self);
BmsSession         *bms_connection_get_session       (BmsConnection *self);
/* The history database once open, else NULL. */
BmsHistory         *bms_connection_get_history       (BmsConnection *self);
/* The device's row in the history, 0 until known. */
gint64              bms_connection_get_history_device_id (BmsConnection *self);
/* Why the history could not be opened, or NULL. */
const char         *bms_connection_get_history_error (BmsConnection *self);
/* Why this connection's board is not recorded although the history is
 * open (another process records it, the file is read-only), or NULL. */
const char         *bms_connection_get_recording_note (BmsConnection *self);
/* Opens path (NULL: the default location) on a worker; samples and alarm
 * events of every later poll go there. */
void                bms_connection_open_history      (BmsConnection *self,
                                                      const char    *path,
                                                      guint          retention_days);
/* The active alarms of the device (NULL while disconnected). */
BmsAlarmMonitor    *bms_connection_get_alarm_monitor (BmsConnection *self);
/* Real time (g_get_real_time) when the current connection was made; 0 if none. */
gint64              bms_connection_get_connected_since (BmsConnection *self);
/* Show this device (tests, and the connect logic). */
void                bms_connection_set_device        (BmsConnection *self,
                                                      BmsDevice     *device);

/* Opens uri ("/dev/ttyUSB0", "tcp://host:port", "sim://") at baud and polls
 * board address. Returns at once; follow "state". */
void                bms_connection_connect           (BmsConnection *self,
                                                      const char    *uri,
                                                      guint          baud,
                                                      guint          address);
void                bms_connection_disconnect        (BmsConnection *self);
void                bms_connection_set_poll_interval (BmsConnection *self,
                                                      double         seconds);
double              bms_connection_get_poll_interval (BmsConnection *self);
/* Completed polls since connecting. */
guint64             bms_connection_get_poll_count    (BmsConnection *self);

/* The password gate (enforced by the session; mirrored here each second). */
gboolean            bms_connection_get_locked        (BmsConnection *self);
guint               bms_connection_get_unlock_remaining (BmsConnection *self);
void                bms_connection_set_lock_timeout  (BmsConnection *self,
                                                      guint          seconds);
void                bms_connection_lock              (BmsConnection *self);
void                bms_connection_unlock_async      (BmsConnection       *self,
                                                      const char          *password,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean            bms_connection_unlock_finish     (BmsConnection  *self,
                                                      GAsyncResult   *result,
                                                      GError        **error);

/* Writes one field (raw, or text for ASCII fields), reads it back. The
 * session refuses with BMS_SESSION_ERROR_LOCKED while locked. */
void                bms_connection_write_async       (BmsConnection       *self,
                                                      guint8               id,
                                                      gint64               raw,
                                                      const char          *text,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
/* The read-back snapshot (may be NULL when the field is write-only). */
gboolean            bms_connection_write_finish      (BmsConnection  *self,
                                                      GAsyncResult   *result,
                                                      BmsSnapshot   **readback,
                                                      GError        **error);

G_END_DECLS
