/* test-transport.c — URI dispatch, port descriptions, termios on a pty pair,
 * the serial transport's termios fallback and TCP against a local service.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "bms-serial-transport.h"
#include "bms-tcp-transport.h"
#include "bms-termios-transport.h"
#include "bms-transport.h"

/* A pseudo-terminal pair: the test holds the master, the transport opens
 * the slave by path as it would open /dev/ttyUSB0. */
typedef struct
{
  int master;
  char *slave_path;
} Pty;

static void
pty_open (Pty *pty)
{
  pty->master = posix_openpt (O_RDWR | O_NOCTTY);
  g_assert_cmpint (pty->master, >=, 0);
  g_assert_cmpint (grantpt (pty->master), ==, 0);
  g_assert_cmpint (unlockpt (pty->master), ==, 0);
  pty->slave_path = g_strdup (ptsname (pty->master));
  g_assert_nonnull (pty->slave_path);
}

static void
pty_close (Pty *pty)
{
  if (pty->master >= 0)
    close (pty->master);
  pty->master = -1;
  g_clear_pointer (&pty->slave_path, g_free);
}

/* Reads exactly len bytes from fd within one second. */
static void
read_exactly (int fd, guint8 *buf, gsize len)
{
  gsize got = 0;
  gint64 stop = g_get_monotonic_time () + G_USEC_PER_SEC;

  while (got < len)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      ssize_t n;

      g_assert_cmpint (g_get_monotonic_time (), <, stop);
      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (fd, buf + got, len - got);
      g_assert_cmpint (n, >, 0);
      got += n;
    }
}

/* Reads from the transport until len bytes arrived. */
static void
transport_read_exactly (BmsTransport *transport, guint8 *buf, gsize len)
{
  gsize got = 0;

  while (got < len)
    {
      g_autoptr(GError) error = NULL;
      gssize n = bms_transport_read (transport, buf + got, len - got, 1000, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      got += n;
    }
}

static BmsTransport *
fake_factory (const char *uri, guint baud, GError **error)
{
  /* Any transport will do: what matters is that the registry called us. */
  g_assert_cmpstr (uri, ==, "fake://board");
  g_assert_cmpuint (baud, ==, 19200);
  return BMS_TRANSPORT (bms_tcp_transport_new ("127.0.0.1", 9));
}

static void
test_uri_dispatch (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTransport) tcp = NULL;
  g_autoptr(BmsTransport) serial = NULL;
  g_autoptr(BmsTransport) fake = NULL;
  BmsTransport *bad;

  tcp = bms_transport_new_for_uri ("tcp://127.0.0.1:8899", 57600, &error);
  g_assert_no_error (error);
  g_assert_true (BMS_IS_TCP_TRANSPORT (tcp));
  g_assert_cmpuint (bms_transport_get_baud (tcp), ==, 57600);
  g_assert_cmpstr (bms_transport_get_name (tcp), ==, "tcp://127.0.0.1:8899");

  serial = bms_transport_new_for_uri ("/dev/ttyUSB0", 115200, &error);
  g_assert_no_error (error);
  g_assert_true (BMS_IS_SERIAL_TRANSPORT (serial));
  g_assert_cmpstr (bms_transport_get_name (serial), ==, "/dev/ttyUSB0");
  g_assert_cmpuint (bms_transport_get_baud (serial), ==, 115200);

  {
    /* A bare device name is the device node. */
    g_autoptr(BmsTransport) bare = bms_transport_new_for_uri ("ttyUSB0", 9600, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (bms_transport_get_name (bare), ==, "/dev/ttyUSB0");
  }

  bad = bms_transport_new_for_uri ("fake://board", 19200, &error);
  g_assert_null (bad);
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "'fake'"));
  g_clear_error (&error);

  bms_transport_register_scheme ("fake", fake_factory);
  fake = bms_transport_new_for_uri ("fake://board", 19200, &error);
  g_assert_no_error (error);
  g_assert_true (BMS_IS_TCP_TRANSPORT (fake));
}

static void
test_uri_errors (void)
{
  const char *bad_tcp[] = { "tcp://", "tcp://host", "tcp://host:", "tcp://:8899",
                            "tcp://host:0", "tcp://host:70000", "tcp://host:12x", NULL };

  for (guint i = 0; bad_tcp[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      BmsTransport *t = bms_transport_new_for_uri (bad_tcp[i], 9600, &error);

      g_assert_null (t);
      g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "tcp://host:port"));
    }

  {
    g_autoptr(GError) error = NULL;
    g_assert_null (bms_transport_new_for_uri ("/dev/ttyUSB0", 1234, &error));
    g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "1234"));
  }
  {
    g_autoptr(GError) error = NULL;
    g_assert_null (bms_transport_new_for_uri ("", 9600, &error));
    g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(BmsTransport) v6 = bms_transport_new_for_uri ("tcp://[::1]:502", 9600, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (bms_transport_get_name (v6), ==, "tcp://[::1]:502");
  }
}

static void
test_bauds (void)
{
  guint n = 0;

  for (; bms_supported_bauds[n] != 0; n++)
    g_assert_true (bms_transport_baud_is_supported (bms_supported_bauds[n]));
  g_assert_cmpuint (n, ==, 5);
  g_assert_cmpuint (bms_supported_bauds[0], ==, 9600);
  g_assert_cmpuint (bms_supported_bauds[n - 1], ==, 115200);
  g_assert_false (bms_transport_baud_is_supported (4800));
}

static void
test_port_info (void)
{
  BmsPortInfo *info;

  info = bms_port_info_new ("/dev/ttyUSB0", "USB-SERIAL CH340", 0x1a86, 0x7523);
  g_assert_cmpstr (info->description, ==, "USB-SERIAL CH340 (ttyUSB0)");
  g_assert_cmpstr (info->vid_pid, ==, "1a86:7523");
  g_assert_cmpuint (info->vid, ==, 0x1a86);
  bms_port_info_free (info);

  /* The OS gave nothing useful: the known chip names it. */
  info = bms_port_info_new ("/dev/ttyUSB1", "", 0x0403, 0x6001);
  g_assert_cmpstr (info->description, ==, "FTDI FT232R USB UART (ttyUSB1)");
  g_assert_cmpstr (info->vid_pid, ==, "0403:6001");
  bms_port_info_free (info);

  info = bms_port_info_new ("/dev/ttyUSB2", "ttyUSB2", 0x10c4, 0xea60);
  g_assert_cmpstr (info->description, ==, "CP210x USB to UART Bridge (ttyUSB2)");
  g_assert_cmpstr (info->vid_pid, ==, "10c4:ea60");
  bms_port_info_free (info);

  info = bms_port_info_new ("/dev/ttyUSB3", NULL, 0x1a86, 0x7523);
  g_assert_cmpstr (info->description, ==, "USB-SERIAL CH340 (ttyUSB3)");
  bms_port_info_free (info);

  info = bms_port_info_new ("COM3", "USB-SERIAL CH340", 0x1a86, 0x7523);
  g_assert_cmpstr (info->description, ==, "USB-SERIAL CH340 (COM3)");
  bms_port_info_free (info);

  /* The CH340's own product string is just "USB Serial". */
  info = bms_port_info_new ("/dev/ttyUSB4", "USB Serial", 0x1a86, 0x7523);
  g_assert_cmpstr (info->description, ==, "USB-SERIAL CH340 (ttyUSB4)");
  bms_port_info_free (info);

  /* A specific product string is kept. */
  info = bms_port_info_new ("/dev/ttyUSB5", "CP2102N USB to UART Bridge Controller", 0x10c4, 0xea60);
  g_assert_cmpstr (info->description, ==, "CP2102N USB to UART Bridge Controller (ttyUSB5)");
  bms_port_info_free (info);

  /* Windows already names the port in its description. */
  info = bms_port_info_new ("COM4", "USB-SERIAL CH340 (COM4)", 0x1a86, 0x7523);
  g_assert_cmpstr (info->description, ==, "USB-SERIAL CH340 (COM4)");
  bms_port_info_free (info);

  /* An unknown adapter with nothing to say. */
  info = bms_port_info_new ("/dev/ttyACM0", "", 0x2341, 0x0043);
  g_assert_cmpstr (info->description, ==, "USB serial adapter (ttyACM0)");
  g_assert_cmpstr (info->vid_pid, ==, "2341:0043");
  bms_port_info_free (info);

  info = bms_port_info_new ("/dev/ttyS0", NULL, 0, 0);
  g_assert_cmpstr (info->description, ==, "Serial port (ttyS0)");
  g_assert_null (info->vid_pid);
  bms_port_info_free (info);
}

static void
test_list_ports (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ports = bms_transport_list_ports (&error);

  g_assert_no_error (error);
  g_assert_nonnull (ports);
  /* This machine may have no serial port at all; whatever is listed must be
   * complete. */
  for (guint i = 0; i < ports->len; i++)
    {
      BmsPortInfo *info = g_ptr_array_index (ports, i);

      g_test_message ("port %s: %s %s", info->name, info->description,
                      info->vid_pid ? info->vid_pid : "-");
      g_assert_nonnull (info->name);
      g_assert_nonnull (info->description);
      g_assert_true (g_str_has_suffix (info->description, ")"));
      g_assert_true ((info->vid_pid != NULL) == (info->vid != 0 || info->pid != 0));
    }
}

static void
test_open_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTransport) missing = bms_transport_new_for_uri ("/dev/ttyPACKWATCH-NONE", 9600, NULL);
  g_autofree char *tmp = NULL;
  g_autoptr(BmsTransport) file = NULL;
  int fd;

  g_assert_false (bms_transport_open (missing, &error));
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/dev/ttyPACKWATCH-NONE"));
  g_clear_error (&error);

  /* The permission advice, word for word. */
  bms_transport_set_open_error (&error, "/dev/ttyUSB0", EACCES);
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_PERMISSION);
  g_assert_cmpstr (error->message, ==,
                   "Permission denied opening /dev/ttyUSB0: add your user to the 'dialout' "
                   "group (Arch: 'uucp'), e.g. sudo usermod -aG dialout $USER, then log out "
                   "and in");
  g_clear_error (&error);

  bms_transport_set_open_error (&error, "/dev/ttyUSB0", EBUSY);
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_BUSY);
  g_clear_error (&error);

  /* A regular file is neither a serial port nor a terminal. */
  fd = g_file_open_tmp ("packwatch-notatty-XXXXXX", &tmp, &error);
  g_assert_no_error (error);
  close (fd);
  file = bms_transport_new_for_uri (tmp, 9600, NULL);
  g_assert_false (bms_transport_open (file, &error));
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID);
  g_clear_error (&error);

  if (geteuid () != 0)
    {
      g_autoptr(BmsTransport) denied = NULL;

      g_assert_cmpint (chmod (tmp, 0), ==, 0);
      denied = bms_transport_new_for_uri (tmp, 9600, NULL);
      g_assert_false (bms_transport_open (denied, &error));
      g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_PERMISSION);
      g_assert_nonnull (strstr (error->message, "dialout"));
      g_clear_error (&error);
    }
  g_unlink (tmp);
}

static void
check_round_trip (BmsTransport *transport, int master)
{
  const guint8 out[] = { 0x4E, 0x57, 0x00, 0x13, 0x0A, 0x0D, 0x11, 0x13, 0x00, 0xFF };
  guint8 in[sizeof out];
  g_autoptr(GError) error = NULL;
  gint64 start;
  gssize n;

  /* Bytes that a cooked tty would eat or translate (CR, LF, XON, XOFF, NUL)
   * must pass unchanged both ways. */
  g_assert_true (bms_transport_write (transport, out, sizeof out, &error));
  g_assert_no_error (error);
  read_exactly (master, in, sizeof in);
  g_assert_cmpmem (in, sizeof in, out, sizeof out);

  g_assert_cmpint (write (master, out, sizeof out), ==, sizeof out);
  memset (in, 0, sizeof in);
  transport_read_exactly (transport, in, sizeof in);
  g_assert_cmpmem (in, sizeof in, out, sizeof out);

  /* Nothing pending: the read waits for the timeout and returns 0. */
  start = g_get_monotonic_time ();
  n = bms_transport_read (transport, in, sizeof in, 80, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 70 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 500 * 1000);

  /* Stale input is dropped by flush_input. */
  g_assert_cmpint (write (master, out, sizeof out), ==, sizeof out);
  g_usleep (20 * 1000);
  bms_transport_flush_input (transport);
  n = bms_transport_read (transport, in, sizeof in, 50, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
}

static void
test_termios_pty (void)
{
  Pty pty;
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTermiosTransport) termios = NULL;
  BmsTransport *transport;

  pty_open (&pty);
  termios = bms_termios_transport_new (pty.slave_path, 9600);
  transport = BMS_TRANSPORT (termios);
  g_assert_cmpstr (bms_transport_get_name (transport), ==, pty.slave_path);
  g_assert_true (bms_transport_open (transport, &error));
  g_assert_no_error (error);
  check_round_trip (transport, pty.master);

  for (guint i = 0; bms_supported_bauds[i] != 0; i++)
    {
      g_assert_true (bms_transport_set_baud (transport, bms_supported_bauds[i], &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (bms_transport_get_baud (transport), ==, 115200);
  g_assert_false (bms_transport_set_baud (transport, 1200, &error));
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID);
  g_clear_error (&error);

  bms_transport_close (transport);
  g_assert_cmpint (bms_transport_read (transport, (guint8[4]){ 0 }, 4, 10, &error), ==, -1);
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_CLOSED);
  pty_close (&pty);
}

static void
test_serial_falls_back_to_termios (void)
{
  Pty pty;
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTransport) transport = NULL;

  pty_open (&pty);
  transport = bms_transport_new_for_uri (pty.slave_path, 9600, &error);
  g_assert_no_error (error);
  g_assert_true (BMS_IS_SERIAL_TRANSPORT (transport));
  g_assert_true (bms_transport_open (transport, &error));
  g_assert_no_error (error);
  g_test_message ("pty %s opened through %s", pty.slave_path,
                  bms_serial_transport_get_uses_termios (BMS_SERIAL_TRANSPORT (transport))
                    ? "termios" : "libserialport");
  check_round_trip (transport, pty.master);
  g_assert_true (bms_transport_set_baud (transport, 115200, &error));
  g_assert_no_error (error);
  bms_transport_close (transport);
  pty_close (&pty);
}

static void
test_port_disappears (void)
{
  Pty pty;
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTransport) transport = NULL;
  guint8 buf[16] = { 0 };
  gint64 start;

  pty_open (&pty);
  transport = bms_transport_new_for_uri (pty.slave_path, 9600, NULL);
  g_assert_true (bms_transport_open (transport, &error));
  g_assert_no_error (error);

  /* The other end goes away, like a USB adapter pulled out. */
  close (pty.master);
  pty.master = -1;

  start = g_get_monotonic_time ();
  g_assert_cmpint (bms_transport_read (transport, buf, sizeof buf, 2000, &error), ==, -1);
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "port disappeared (adapter unplugged?)"));
  /* Reported at once, not after the timeout. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 500 * 1000);
  g_clear_error (&error);

  g_assert_false (bms_transport_write (transport, buf, sizeof buf, &error));
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO);
  g_clear_error (&error);
  pty_close (&pty);
}

/* TCP: a GThreadedSocketService on 127.0.0.1 echoes what it gets, or hangs
 * up at once when asked to. */

typedef struct
{
  GMainLoop *loop;
  guint16 port;
  gboolean hang_up;
  gboolean done;
} TcpFixture;

static gboolean
echo_run (GThreadedSocketService *service, GSocketConnection *connection,
          GObject *source, gpointer user_data)
{
  TcpFixture *fx = user_data;
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  guint8 buf[256];
  gssize n;

  if (fx->hang_up)
    return TRUE;
  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    if (!g_output_stream_write_all (out, buf, n, NULL, NULL, NULL))
      break;
  return TRUE;
}

static gboolean
quit_loop (gpointer data)
{
  TcpFixture *fx = data;

  fx->done = TRUE;
  g_main_loop_quit (fx->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
tcp_client (gpointer data)
{
  TcpFixture *fx = data;
  g_autofree char *uri = g_strdup_printf ("tcp://127.0.0.1:%u", fx->port);
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTransport) transport = bms_transport_new_for_uri (uri, 9600, &error);
  const guint8 out[] = { 0x4E, 0x57, 0x00, 0x13, 0x00, 0x0A, 0x0D };
  guint8 in[64];
  gint64 start;

  g_assert_no_error (error);
  g_assert_true (bms_transport_open (transport, &error));
  g_assert_no_error (error);

  if (fx->hang_up)
    {
      gssize n = bms_transport_read (transport, in, sizeof in, 2000, &error);
      g_assert_cmpint (n, ==, -1);
      g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO);
      g_assert_nonnull (strstr (error->message, "closed the connection"));
      g_clear_error (&error);
    }
  else
    {
      g_assert_true (bms_transport_set_baud (transport, 115200, &error));
      g_assert_true (bms_transport_write (transport, out, sizeof out, &error));
      g_assert_no_error (error);
      transport_read_exactly (transport, in, sizeof out);
      g_assert_cmpmem (in, sizeof out, out, sizeof out);

      start = g_get_monotonic_time ();
      g_assert_cmpint (bms_transport_read (transport, in, sizeof in, 80, &error), ==, 0);
      g_assert_no_error (error);
      g_assert_cmpint (g_get_monotonic_time () - start, >=, 70 * 1000);
    }
  bms_transport_close (transport);
  g_idle_add (quit_loop, fx);
  return NULL;
}

static void
run_tcp (gboolean hang_up)
{
  TcpFixture fx = { 0 };
  g_autoptr(GSocketService) service = g_threaded_socket_service_new (2);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;
  GThread *client;

  g_assert_true (g_socket_listener_add_address (G_SOCKET_LISTENER (service), addr,
                                                G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                                NULL, &effective, &error));
  g_assert_no_error (error);
  fx.port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  fx.hang_up = hang_up;
  fx.loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect (service, "run", G_CALLBACK (echo_run), &fx);
  g_socket_service_start (service);

  client = g_thread_new ("tcp-client", tcp_client, &fx);
  g_main_loop_run (fx.loop);
  g_thread_join (client);
  g_assert_true (fx.done);
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  g_main_loop_unref (fx.loop);
}

static void
test_tcp_echo (void)
{
  run_tcp (FALSE);
}

static void
test_tcp_gateway_hangs_up (void)
{
  run_tcp (TRUE);
}

static void
test_tcp_refused (void)
{
  g_autoptr(GSocket) probe = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTransport) transport = NULL;
  g_autofree char *uri = NULL;

  /* A port that was just free and has no listener. */
  probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_true (g_socket_bind (probe, addr, TRUE, &error));
  bound = g_socket_get_local_address (probe, &error);
  uri = g_strdup_printf ("tcp://127.0.0.1:%u",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (probe, NULL);

  transport = bms_transport_new_for_uri (uri, 9600, &error);
  g_assert_false (bms_transport_open (transport, &error));
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, uri));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/transport/uri-dispatch", test_uri_dispatch);
  g_test_add_func ("/transport/uri-errors", test_uri_errors);
  g_test_add_func ("/transport/bauds", test_bauds);
  g_test_add_func ("/transport/port-info", test_port_info);
  g_test_add_func ("/transport/list-ports", test_list_ports);
  g_test_add_func ("/transport/open-errors", test_open_errors);
  g_test_add_func ("/transport/termios-pty", test_termios_pty);
  g_test_add_func ("/transport/serial-falls-back-to-termios", test_serial_falls_back_to_termios);
  g_test_add_func ("/transport/port-disappears", test_port_disappears);
  g_test_add_func ("/transport/tcp-echo", test_tcp_echo);
  g_test_add_func ("/transport/tcp-gateway-hangs-up", test_tcp_gateway_hangs_up);
  g_test_add_func ("/transport/tcp-refused", test_tcp_refused);

  return g_test_run ();
}
