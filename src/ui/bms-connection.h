/* bms-connection.h — what the pages of the window share about the board.
 *
 * One BmsConnection per window: the transport and session to the board, the
 * poller that reads it on a worker, the live device model, the history
 * database, and a connection state the connection bar shows. Pages get it as
 * their "connection" property and bind to its "device".
 *
 * The model types (BmsDevice, BmsPoller, BmsHistory) are declared here
 * incompletely so this header does not depend on the model headers; their
 * properties are typed G_TYPE_OBJECT for the same reason.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _BmsDevice  BmsDevice;
typedef struct _BmsPoller  BmsPoller;
typedef struct _BmsHistory BmsHistory;
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
const char         *bms_connection_get_error_message (BmsConnection *self);
const char         *bms_connection_get_uri           (BmsConnection *self);
BmsDevice          *bms_connection_get_device        (BmsConnection *self);
BmsPoller          *bms_connection_get_poller        (BmsConnection *self);
BmsHistory         *bms_connection_get_history       (BmsConnection *self);
BmsSession         *bms_connection_get_session       (BmsConnection *self);
/* Real time (g_get_real_time) when the current connection was made; 0 if none. */
gint64              bms_connection_get_connected_since (BmsConnection *self);
/* Show this device (tests, and the connect logic once the poller has one). */
void                bms_connection_set_device        (BmsConnection *self,
                                                      BmsDevice     *device);

G_END_DECLS
