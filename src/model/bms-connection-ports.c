/* bms-connection-ports.c — what can be connected to: serial ports, baud rates,
 * the demo boards and the check of a URI */
#include "config.h"

#include "bms-connection-private.h"
#include "bms-sim.h"
#include "bms-transport.h"

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
