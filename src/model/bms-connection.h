/* bms-connection.h — the connection controller: the app's only road to a
 * board.
 *
 * One BmsConnection per window: the transport and session to the board, the
 * polling of it, the live device model, the history database, the password
 * gate's state, every write (change sets, field writes), the firmware
 * update and the port list. Pages get it as their "connection" property,
 * bind to its "device" and ask it for writes; they never see the session,
 * a transport or the flasher (the build refuses those headers in src/ui).
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
#include "bms-mqtt-source.h"
#include "bms-snapshot.h"
#include "bms-change-set.h"
#include "bms-field-writes.h"
#include "bms-flasher-progress.h"
#include "bms-port-info.h"

G_BEGIN_DECLS

typedef struct _BmsSession BmsSession;

typedef enum {
  BMS_CONNECTION_DISCONNECTED,
  BMS_CONNECTION_CONNECTING,
  BMS_CONNECTION_POLLING,     /* connected, replies arrive */
  BMS_CONNECTION_NO_REPLY,    /* connected, the board stopped answering */
  BMS_CONNECTION_ERROR,       /* the port failed; see "error-message" */
  BMS_CONNECTION_WATCHING,    /* read through an MQTT broker, the board online */
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
#ifndef BMS_COMPILATION_UI
/* The session to the board, for tests and tools; the widgets never get it. */
BmsSession         *bms_connection_get_session       (BmsConnection *self);
#endif
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

/* Watch a board through an MQTT broker, as `packwatch-cli serve` publishes
 * it (source: made and given credentials and TLS, not started). Read-only:
 * "connected" stays FALSE, every write, unlock and update is refused with
 * "read-only-reason", and nothing is recorded in the history (the serve
 * that publishes the board records it). State: CONNECTING until the board's
 * state has come from the broker, then WATCHING, NO_REPLY while serve says
 * the board is offline, CONNECTING again (with the reason in
 * "error-message") while the broker is away, ERROR when it cannot go on.
 * Disconnect (or a connect) ends it. */
void                bms_connection_watch_mqtt        (BmsConnection *self,
                                                      BmsMqttSource *source);
/* Why nothing can be written ("Watching through an MQTT broker:
 * read-only"), or NULL. */
const char         *bms_connection_get_read_only_reason (BmsConnection *self);

/* TRUE while a session to the board is open (the pages' "can write"). */
gboolean            bms_connection_get_connected     (BmsConnection *self);
/* The line of the current connection (0 when none). */
guint               bms_connection_get_baud          (BmsConnection *self);
guint               bms_connection_get_address       (BmsConnection *self);

/* The serial ports of this machine (element type BmsPortInfo *), for the
 * connection bar. */
GPtrArray          *bms_connection_list_ports        (GError       **error);
/* The bauds a board may use, 9600 … 115200, 0-terminated. */
const guint        *bms_connection_get_supported_bauds (void);
/* Makes "sim://", "sim://master" and "replay://FILE" openable. */
void                bms_connection_register_demo_boards (void);
/* Whether uri can be opened at all (scheme known, recording readable),
 * without opening it. */
gboolean            bms_connection_check_uri         (const char    *uri,
                                                      GError       **error);

/* The one write operation: the change set is judged (ranges, rules),
 * ordered, the session unlocked with password (NULL: as is), every field
 * written and read back on the session's worker, stopping at the first
 * refusal and restoring, each attempt audited in the history. The
 * BmsChange results arrive on the caller's main context. */
void                bms_connection_apply_async       (BmsConnection       *self,
                                                      BmsChangeSet        *change_set,
                                                      const char          *password,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean            bms_connection_apply_finish      (BmsConnection  *self,
                                                      GAsyncResult   *result,
                                                      GError        **error);

/* A few fields (service settings, lease, calibration, commands) as one
 * change set: each BmsFieldWrite gets its result ("OK, reads 3600 mV", the
 * board's refusal, "Not written"). Fails only when nothing could be tried
 * (not connected, locked, cancelled, a value out of range or the rules). */
void                bms_connection_write_fields_async (BmsConnection       *self,
                                                       GPtrArray           *writes,
                                                       const char          *password,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean            bms_connection_write_fields_finish (BmsConnection  *self,
                                                        GAsyncResult   *result,
                                                        GError        **error);

/* Firmware update of the board with the image at path (steps 1–8 of
 * bms-flasher.h), unlocking first with password when locked. With
 * in_bootloader the board already waits in its bootloader: the connection
 * lets go of the line, opens it at 9600 baud, runs steps 4–8 and connects
 * again at the board's baud. "flash-progress" (a BmsFlasherProgress *) is
 * emitted on the main context meanwhile; every run is audited. */
void                bms_connection_flash_async       (BmsConnection       *self,
                                                      const char          *path,
                                                      gboolean             force,
                                                      gboolean             in_bootloader,
                                                      const char          *password,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
/* step: the failed (or last) step; board_version: read in step 8, or NULL. */
gboolean            bms_connection_flash_finish      (BmsConnection  *self,
                                                      GAsyncResult   *result,
                                                      BmsFlasherStep *step,
                                                      char          **board_version,
                                                      GError        **error);

G_END_DECLS
