/* bms-termios-transport.h — a serial line through POSIX termios.
 *
 * For paths libserialport 0.1.1 cannot open (pseudo-terminals, e.g. the
 * simulator's --pty). Raw 8N1, no flow control, poll() for timeouts; the other
 * end vanishing (POLLHUP / EIO) is BMS_TRANSPORT_ERROR_IO "port disappeared".
 * POSIX only: on Windows this type does not exist.
 */
#pragma once

#include "bms-transport.h"

G_BEGIN_DECLS

#ifdef G_OS_UNIX

#define BMS_TYPE_TERMIOS_TRANSPORT (bms_termios_transport_get_type ())
G_DECLARE_FINAL_TYPE (BmsTermiosTransport, bms_termios_transport, BMS, TERMIOS_TRANSPORT, GObject)

BmsTermiosTransport *bms_termios_transport_new (const char *path, guint baud);

#endif

G_END_DECLS
