/* BmsConnection on its own: a missing port fails with a reason, a bad
 * gateway address is refused, the simulator polls, disconnect and a second
 * connect work, and nothing of it blocks the main loop. */
#include "config.h"

#include "bms-connection.h"
#include "bms-sim.h"
#include "ui-test-util.h"

static gboolean
wait_state (BmsConnection      *connection,
            BmsConnectionState  state,
            guint               seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  gint64 longest = 0;

  while (bms_connection_get_state (connection) != state && g_get_monotonic_time () < end)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_main_context_iteration (NULL, FALSE);
      longest = MAX (longest, g_get_monotonic_time () - t0);
      g_usleep (2000);
    }
  /* One iteration of the main loop must never wait for the line. */
  g_assert_cmpint (longest, <, 100 * 1000);
  return bms_connection_get_state (connection) == state;
}

static gboolean
wait_polls (BmsConnection *connection,
            guint64        n,
            guint          seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (bms_connection_get_poll_count (connection) < n && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  return bms_connection_get_poll_count (connection) >= n;
}

static void
test_missing_port (void)
{
  g_autoptr(BmsConnection) connection = bms_connection_new ();

  bms_connection_connect (connection, "/dev/ttyPACKWATCH-NOPE", 9600, 1);
  g_assert_true (wait_state (connection, BMS_CONNECTION_ERROR, 10));
  g_test_message ("%s", bms_connection_get_error_message (connection));
  g_assert_nonnull (strstr (bms_connection_get_error_message (connection), "ttyPACKWATCH-NOPE"));
  bms_connection_disconnect (connection);
  g_assert_cmpint (bms_connection_get_state (connection), ==, BMS_CONNECTION_DISCONNECTED);
}

static void
test_bad_gateway (void)
{
  g_autoptr(BmsConnection) connection = bms_connection_new ();

  bms_connection_connect (connection, "tcp://:notaport", 9600, 1);
  g_assert_true (wait_state (connection, BMS_CONNECTION_ERROR, 10));
  g_test_message ("%s", bms_connection_get_error_message (connection));
  g_assert_nonnull (bms_connection_get_error_message (connection));
}

static void
test_simulator (void)
{
  g_autoptr(BmsConnection) connection = bms_connection_new ();
  BmsDevice *device;

  bms_connection_connect (connection, "sim://", 9600, 1);
  g_assert_true (wait_state (connection, BMS_CONNECTION_POLLING, 10));
  g_assert_true (wait_polls (connection, 2, 10));
  device = bms_connection_get_device (connection);
  g_assert_nonnull (device);
  g_assert_cmpuint (bms_device_get_cell_count (device), ==, 16);
  g_assert_nonnull (bms_connection_get_alarm_monitor (connection));
  g_assert_true (bms_connection_get_locked (connection));
  g_assert_cmpint (bms_connection_get_connected_since (connection), >, 0);

  bms_connection_disconnect (connection);
  g_assert_cmpint (bms_connection_get_state (connection), ==, BMS_CONNECTION_DISCONNECTED);
  g_assert_cmpint (bms_connection_get_connected_since (connection), ==, 0);

  bms_connection_connect (connection, "sim://master", 9600, 1);
  g_assert_true (wait_polls (connection, 1, 15));
  g_assert_cmpuint (bms_device_get_cell_count (bms_connection_get_device (connection)), ==, 256);
  bms_connection_disconnect (connection);
}

/* A board that lies from its first reply: polling, but the status says
 * "Implausible reply from board 1: …" and no reply counts. */
static void
test_lying_board (void)
{
  g_autoptr (BmsConnection) connection = bms_connection_new ();
  const char *message;

  bms_connection_connect (connection, "sim://?lie=soc&wire=0", 9600, 1);
  g_assert_true (wait_state (connection, BMS_CONNECTION_POLLING, 10));
  message = bms_connection_get_error_message (connection);
  g_test_message ("%s", message);
  g_assert_nonnull (message);
  g_assert_true (g_str_has_prefix (message, "Implausible reply from board 1: "));
  g_assert_nonnull (strstr (message, "soc_pct"));
  g_assert_cmpuint (bms_connection_get_poll_count (connection), ==, 0);
  g_assert_nonnull (bms_device_get_implausible_reason (bms_connection_get_device (connection)));
  bms_connection_disconnect (connection);
}

int
main (int   argc,
      char *argv[])
{
  ui_test_isolate ();
  g_test_init (&argc, &argv, NULL);
  bms_sim_register_uri_scheme ();
  g_test_add_func ("/ui/connection/missing-port", test_missing_port);
  g_test_add_func ("/ui/connection/bad-gateway", test_bad_gateway);
  g_test_add_func ("/ui/connection/simulator", test_simulator);
  g_test_add_func ("/ui/connection/lying-board", test_lying_board);
  return g_test_run ();
}
