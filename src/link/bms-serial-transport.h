/* bms-serial-transport.h — a serial port through libserialport.
 *
 * 8N1, no flow control. Paths libserialport cannot open (pseudo-terminals
 * with libserialport 0.1.1) are opened through BmsTermiosTransport instead,
 * on POSIX systems; get_uses_termios tells which backend is in use.
 */
#pragma once

#include "bms-transport.h"

G_BEGIN_DECLS

#define BMS_TYPE_SERIAL_TRANSPORT (bms_serial_transport_get_type ())
G_DECLARE_FINAL_TYPE (BmsSerialTransport, bms_serial_transport, BMS, SERIAL_TRANSPORT, GObject)

BmsSerialTransport *bms_serial_transport_new              (const char *port_name,
                                                           guint       baud);
gboolean            bms_serial_transport_get_uses_termios (BmsSerialTransport *self);

G_END_DECLS
