/* bms-transport.h — one interface for every way to reach a board.
 *
 * Implementations: BmsSerialTransport (libserialport), BmsTermiosTransport
 * (POSIX paths libserialport cannot open, e.g. pseudo-terminals),
 * BmsTcpTransport (RS485-to-Ethernet gateways, "tcp://host:port") and
 * BmsLoopbackTransport (the in-process simulator, "sim://…").
 * All calls block; they are made from the session's worker thread.
 */
#pragma once

/* The widgets reach a board only through the connection controller: the ui
 * library is compiled with BMS_COMPILATION_UI (src/meson.build). */
#ifdef BMS_COMPILATION_UI
#error "src/ui may not use the session, transports or the flasher: go through BmsConnection (src/model/bms-connection.h)"
#endif

#include <gio/gio.h>
#include "bms-port-info.h"

G_BEGIN_DECLS

#define BMS_TYPE_TRANSPORT (bms_transport_get_type ())
G_DECLARE_INTERFACE (BmsTransport, bms_transport, BMS, TRANSPORT, GObject)

struct _BmsTransportInterface
{
  GTypeInterface parent_iface;

  gboolean (*open)        (BmsTransport *self, GError **error);
  void     (*close)       (BmsTransport *self);
  gboolean (*set_baud)    (BmsTransport *self, guint baud, GError **error);
  /* Write all bytes (blocking until handed to the line or error). */
  gboolean (*write)       (BmsTransport *self, const guint8 *data, gsize len,
                           GError **error);
  /* Read up to len bytes, waiting at most timeout_ms for the first one.
   * Returns the count (0 on timeout), or -1 with error (e.g. port gone). */
  gssize   (*read)        (BmsTransport *self, guint8 *buf, gsize len,
                           guint timeout_ms, GError **error);
  void     (*flush_input) (BmsTransport *self);
  const char *(*get_name) (BmsTransport *self);
  /* Optional: the line's baud rate (0 = unknown). */
  guint    (*get_baud)    (BmsTransport *self);
};

gboolean    bms_transport_open        (BmsTransport *self, GError **error);
void        bms_transport_close       (BmsTransport *self);
gboolean    bms_transport_set_baud    (BmsTransport *self, guint baud, GError **error);
gboolean    bms_transport_write       (BmsTransport *self, const guint8 *data,
                                       gsize len, GError **error);
gssize      bms_transport_read        (BmsTransport *self, guint8 *buf, gsize len,
                                       guint timeout_ms, GError **error);
void        bms_transport_flush_input (BmsTransport *self);
const char *bms_transport_get_name    (BmsTransport *self);
/* The baud rate the transport was made with or last set to; 0 if it cannot
 * tell (a transport that does not implement get_baud). */
guint       bms_transport_get_baud    (BmsTransport *self);

/* "tcp://host:port", "sim://" / "sim://master" (in-process simulator),
 * otherwise a serial port name or path (libserialport, falling back to
 * termios for paths it cannot open). Not opened yet. */
BmsTransport *bms_transport_new_for_uri (const char *uri, guint baud, GError **error);

#define BMS_TRANSPORT_ERROR (bms_transport_error_quark ())
GQuark bms_transport_error_quark (void);
typedef enum {
  BMS_TRANSPORT_ERROR_NOT_FOUND,   /* no such port */
  BMS_TRANSPORT_ERROR_PERMISSION,  /* message says: add yourself to dialout/uucp */
  BMS_TRANSPORT_ERROR_BUSY,
  BMS_TRANSPORT_ERROR_IO,          /* includes "adapter unplugged" */
  BMS_TRANSPORT_ERROR_CLOSED,
  BMS_TRANSPORT_ERROR_INVALID,     /* bad uri, bad baud */
} BmsTransportErrorCode;

/* For implementations: the error for a failed open of path with errno-style
 * code errsv (ENOENT, EACCES, EBUSY, …), saying what to do about it. */
void bms_transport_set_open_error (GError **error, const char *path, int errsv);

/* Other schemes (the simulator registers "sim") plug in here. */
typedef BmsTransport *(*BmsTransportFactory) (const char *uri, guint baud,
                                              GError **error);
void bms_transport_register_scheme (const char *scheme, BmsTransportFactory factory);

/* Element type BmsPortInfo*, with free func set. */
GPtrArray *bms_transport_list_ports (GError **error);

extern const guint bms_supported_bauds[]; /* 9600 … 115200, 0-terminated */
gboolean   bms_transport_baud_is_supported (guint baud);

G_END_DECLS
