/* cli-connection.c — the --port/--baud/--address options and opening a
 * session with a board, for every subcommand that talks to one. */

#include "config.h"

#include "bms-sim.h"
#include "cli-common.h"

void
cli_connection_init (CliConnection *conn)
{
  conn->port = NULL;
  conn->baud = CLI_DEFAULT_BAUD;
  conn->address = CLI_DEFAULT_ADDRESS;
}

void
cli_connection_clear (CliConnection *conn)
{
  g_clear_pointer (&conn->port, g_free);
}

GOptionGroup *
cli_connection_option_group (CliConnection *conn)
{
  const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_STRING, &conn->port,
      "Serial port (/dev/ttyUSB0, COM3), pseudo-terminal path, tcp://HOST:PORT or sim://", "PORT" },
    { "baud", 'b', 0, G_OPTION_ARG_INT, &conn->baud,
      "Baud rate: 9600 (default), 19200, 38400, 57600 or 115200", "BAUD" },
    { "address", 'a', 0, G_OPTION_ARG_INT, &conn->address,
      "Board address (terminal number), 1 by default; 0 reaches any board", "ADDR" },
    { NULL },
  };
  GOptionGroup *group = g_option_group_new (
      "connection", "Connection options:", "Show the connection options", NULL, NULL);

  g_option_group_add_entries (group, entries);
  return group;
}

static char *
supported_bauds_text (void)
{
  g_autoptr (GString) text = g_string_new (NULL);

  for (guint i = 0; bms_supported_bauds[i] != 0; i++)
    g_string_append_printf (text, "%s%u", i > 0 ? ", " : "", bms_supported_bauds[i]);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

gboolean
cli_connection_validate (const CliConnection *conn, GError **error)
{
  gboolean baud_ok = FALSE;

  if (conn->port == NULL || conn->port[0] == '\0')
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   "--port is required (a serial port such as /dev/ttyUSB0, a "
                   "pseudo-terminal path, tcp://HOST:PORT or sim://); "
                   "`packwatch-cli ports` lists the serial ports");
      return FALSE;
    }
  for (guint i = 0; bms_supported_bauds[i] != 0; i++)
    baud_ok |= (guint)conn->baud == bms_supported_bauds[i];
  if (!baud_ok)
    {
      g_autofree char *bauds = supported_bauds_text ();
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "--baud %d is not supported; use one of %s",
                   conn->baud, bauds);
      return FALSE;
    }
  if (conn->address < 0 || conn->address > 255)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   "--address %d is out of range; board addresses are 0 to 255", conn->address);
      return FALSE;
    }
  return TRUE;
}

BmsSession *
cli_connection_open_wrapped (const CliConnection *conn, CliTransportWrap wrap,
                             BmsTransport **wrapped, GError **error)
{
  g_autoptr (BmsTransport) transport = NULL;
  g_autoptr (BmsSession) session = NULL;

  /* Makes sim:// and sim://master work from the command line. */
  bms_sim_register_uri_scheme ();
  transport = bms_transport_new_for_uri (conn->port, (guint)conn->baud, error);
  if (transport == NULL)
    return NULL;
  if (wrap != NULL)
    {
      g_autoptr (BmsTransport) inner = g_steal_pointer (&transport);

      transport = wrap (inner);
      if (wrapped != NULL)
        *wrapped = g_object_ref (transport);
    }
  session = bms_session_new (transport, (guint)conn->address);
  if (!bms_session_set_baud (session, (guint)conn->baud, error)
      || !bms_session_open (session, error))
    return NULL;
  return g_steal_pointer (&session);
}

BmsSession *
cli_connection_open (const CliConnection *conn, GError **error)
{
  return cli_connection_open_wrapped (conn, NULL, NULL, error);
}
