/* bms-tcp-transport.h — an RS485-to-Ethernet gateway ("tcp://host:port").
 *
 * The gateway's serial side is configured on the gateway itself, so
 * set_baud only records the rate. TCP_NODELAY is set so a request leaves at
 * once; timeouts use g_socket_condition_timed_wait.
 */
#pragma once

#include "bms-transport.h"

G_BEGIN_DECLS

#define BMS_TYPE_TCP_TRANSPORT (bms_tcp_transport_get_type ())
G_DECLARE_FINAL_TYPE (BmsTcpTransport, bms_tcp_transport, BMS, TCP_TRANSPORT, GObject)

BmsTcpTransport *bms_tcp_transport_new         (const char *host,
                                                guint16     port);
/* "tcp://host:port" ("tcp://[::1]:port" for IPv6 literals). */
BmsTransport    *bms_tcp_transport_new_for_uri (const char *uri,
                                                GError    **error);
/* Seconds to wait for the connection (default 5). */
void             bms_tcp_transport_set_connect_timeout (BmsTcpTransport *self,
                                                        guint            seconds);

G_END_DECLS
