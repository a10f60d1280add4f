/* bms-tcp-transport.c — TCP backend (see the header). */
#include "bms-tcp-transport.h"

#include <string.h>
#include <gio/gnetworking.h>

#define WRITE_TIMEOUT_MS 5000
/* Emptying the input takes what has arrived, not what keeps arriving: a
 * gateway that floods the connection would otherwise keep it going. */
#define FLUSH_MAX_BYTES  65536
#define FLUSH_MAX_US     (20 * 1000)

struct _BmsTcpTransport
{
  GObject parent_instance;

  char *host;
  guint16 port;
  char *name;                  /* "tcp://host:port" */
  guint connect_timeout_s;
  guint baud;                  /* of the gateway's serial side, as told */
  GSocketConnection *connection;
  GSocket *socket;             /* owned by connection */
};

static void bms_tcp_transport_iface_init (BmsTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BmsTcpTransport, bms_tcp_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BMS_TYPE_TRANSPORT,
                                                      bms_tcp_transport_iface_init))

static gboolean
check_open (BmsTcpTransport *self, GError **error)
{
  if (self->socket != NULL)
    return TRUE;
  g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_CLOSED, "%s is not connected",
               self->name);
  return FALSE;
}

static void
set_io_error (BmsTcpTransport *self, GError **error, const char *what, const GError *cause)
{
  g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO, "%s %s: %s", what, self->name,
               cause != NULL ? cause->message : "the gateway closed the connection");
}

static gboolean
bms_tcp_transport_open (BmsTransport *transport, GError **error)
{
  BmsTcpTransport *self = BMS_TCP_TRANSPORT (transport);
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GError) local_error = NULL;

  if (self->connection != NULL)
    return TRUE;

  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, self->connect_timeout_s);
  self->connection = g_socket_client_connect_to_host (client, self->host, self->port, NULL,
                                                      &local_error);
  if (self->connection == NULL)
    {
      int code = BMS_TRANSPORT_ERROR_IO;

      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)
          || g_error_matches (local_error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND))
        code = BMS_TRANSPORT_ERROR_NOT_FOUND;
      g_set_error (error, BMS_TRANSPORT_ERROR, code,
                   "Cannot connect to %s: %s (is the gateway on and the address right?)",
                   self->name, local_error->message);
      return FALSE;
    }
  self->socket = g_socket_connection_get_socket (self->connection);
  g_socket_set_blocking (self->socket, FALSE);
  if (!g_socket_set_option (self->socket, IPPROTO_TCP, TCP_NODELAY, 1, &local_error))
    g_debug ("%s: TCP_NODELAY not set: %s", self->name, local_error->message);
  return TRUE;
}

static void
bms_tcp_transport_close (BmsTransport *transport)
{
  BmsTcpTransport *self = BMS_TCP_TRANSPORT (transport);

  if (self->connection == NULL)
    return;
  g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
  g_clear_object (&self->connection);
  self->socket = NULL;
}

/* The gateway's serial side is set up on the gateway: only remember it. */
static gboolean
bms_tcp_transport_set_baud (BmsTransport *transport, guint baud, GError **error)
{
  BMS_TCP_TRANSPORT (transport)->baud = baud;
  return TRUE;
}

static gboolean
bms_tcp_transport_write (BmsTransport *transport, const guint8 *data, gsize len, GError **error)
{
  BmsTcpTransport *self = BMS_TCP_TRANSPORT (transport);
  gsize done = 0;

  if (!check_open (self, error))
    return FALSE;

  while (done < len)
    {
      g_autoptr(GError) local_error = NULL;
      gssize n = g_socket_send (self->socket, (const char *) data + done, len - done, NULL,
                                &local_error);

      if (n > 0)
        {
          done += n;
          continue;
        }
      if (n < 0 && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          set_io_error (self, error, "Sending to", local_error);
          return FALSE;
        }
      g_clear_error (&local_error);
      if (!g_socket_condition_timed_wait (self->socket, G_IO_OUT,
                                          (gint64) WRITE_TIMEOUT_MS * 1000, NULL, &local_error))
        {
          set_io_error (self, error, "Sending to", local_error);
          return FALSE;
        }
    }
  return TRUE;
}

static gssize
bms_tcp_transport_read (BmsTransport *transport, guint8 *buf, gsize len, guint timeout_ms,
                        GError **error)
{
  BmsTcpTransport *self = BMS_TCP_TRANSPORT (transport);
  g_autoptr(GError) local_error = NULL;
  gssize n;

  if (!check_open (self, error))
    return -1;

  if (!g_socket_condition_timed_wait (self->socket, G_IO_IN, (gint64) timeout_ms * 1000, NULL,
                                      &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        return 0;
      set_io_error (self, error, "Receiving from", local_error);
      return -1;
    }

  n = g_socket_receive (self->socket, (char *) buf, len, NULL, &local_error);
  if (n > 0)
    return n;
  if (n < 0 && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return 0;
  set_io_error (self, error, "Receiving from", local_error);
  return -1;
}

static void
bms_tcp_transport_flush_input (BmsTransport *transport)
{
  BmsTcpTransport *self = BMS_TCP_TRANSPORT (transport);
  gint64 stop = g_get_monotonic_time () + FLUSH_MAX_US;
  gsize taken = 0;
  char junk[4096];
  gssize n;

  if (self->socket == NULL)
    return;
  while (taken < FLUSH_MAX_BYTES && g_get_monotonic_time () < stop
         && (n = g_socket_receive (self->socket, junk, sizeof junk, NULL, NULL)) > 0)
    taken += n;
}

static const char *
bms_tcp_transport_get_name (BmsTransport *transport)
{
  return BMS_TCP_TRANSPORT (transport)->name;
}

static guint
bms_tcp_transport_get_baud (BmsTransport *transport)
{
  return BMS_TCP_TRANSPORT (transport)->baud;
}

static void
bms_tcp_transport_iface_init (BmsTransportInterface *iface)
{
  iface->open = bms_tcp_transport_open;
  iface->close = bms_tcp_transport_close;
  iface->set_baud = bms_tcp_transport_set_baud;
  iface->write = bms_tcp_transport_write;
  iface->read = bms_tcp_transport_read;
  iface->flush_input = bms_tcp_transport_flush_input;
  iface->get_name = bms_tcp_transport_get_name;
  iface->get_baud = bms_tcp_transport_get_baud;
}

static void
bms_tcp_transport_finalize (GObject *object)
{
  BmsTcpTransport *self = BMS_TCP_TRANSPORT (object);

  bms_tcp_transport_close (BMS_TRANSPORT (self));
  g_free (self->host);
  g_free (self->name);
  G_OBJECT_CLASS (bms_tcp_transport_parent_class)->finalize (object);
}

static void
bms_tcp_transport_class_init (BmsTcpTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bms_tcp_transport_finalize;
}

static void
bms_tcp_transport_init (BmsTcpTransport *self)
{
  self->connect_timeout_s = 5;
  self->baud = 9600;
}

BmsTcpTransport *
bms_tcp_transport_new (const char *host, guint16 port)
{
  BmsTcpTransport *self;

  g_return_val_if_fail (host != NULL, NULL);
  g_return_val_if_fail (port != 0, NULL);

  self = g_object_new (BMS_TYPE_TCP_TRANSPORT, NULL);
  self->host = g_strdup (host);
  self->port = port;
  if (strchr (host, ':') != NULL)
    self->name = g_strdup_printf ("tcp://[%s]:%u", host, port);
  else
    self->name = g_strdup_printf ("tcp://%s:%u", host, port);
  return self;
}

BmsTransport *
bms_tcp_transport_new_for_uri (const char *uri, GError **error)
{
  g_autofree char *host = NULL;
  int port = -1;
  char *end = NULL;
  const char *rest;
  const char *colon;
  guint64 value;

  g_return_val_if_fail (uri != NULL, NULL);

  if (g_ascii_strncasecmp (uri, "tcp://", 6) != 0)
    goto bad;
  rest = uri + 6;
  if (*rest == '[')
    {
      const char *close = strchr (rest, ']');

      if (close == NULL || close[1] != ':')
        goto bad;
      host = g_strndup (rest + 1, close - rest - 1);
      colon = close + 1;
    }
  else
    {
      colon = strrchr (rest, ':');
      if (colon == NULL)
        goto bad;
      host = g_strndup (rest, colon - rest);
    }
  if (*host == '\0' || strchr (host, '/') != NULL)
    goto bad;
  value = g_ascii_strtoull (colon + 1, &end, 10);
  if (end == colon + 1 || (*end != '\0' && strcmp (end, "/") != 0) || value == 0 || value > 65535)
    goto bad;
  port = (int) value;
  return BMS_TRANSPORT (bms_tcp_transport_new (host, (guint16) port));

bad:
  g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID,
               "Bad gateway address '%s': write it as tcp://host:port, e.g. tcp://192.168.1.50:8899",
               uri);
  return NULL;
}

void
bms_tcp_transport_set_connect_timeout (BmsTcpTransport *self, guint seconds)
{
  g_return_if_fail (BMS_IS_TCP_TRANSPORT (self));

  self->connect_timeout_s = seconds;
}
