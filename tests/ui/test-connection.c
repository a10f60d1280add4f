/* BmsConnection on its own: a missing port fails with a reason, a bad
 * gateway address is refused, the simulator polls, disconnect and a second
 * connect work, and nothing of it blocks the main loop. */
#include "config.h"

#include <unistd.h>
#include <glib/gstdio.h>

#include "bms-connection.h"
#include "bms-history.h"
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

static gboolean
wait_note (BmsConnection *connection,
           guint          seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (bms_connection_get_recording_note (connection) == NULL && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return bms_connection_get_recording_note (connection) != NULL;
}

static gboolean
wait_history (BmsConnection *connection,
              guint          seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (bms_connection_get_history (connection) == NULL && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return bms_connection_get_history (connection) != NULL;
}

/* Another process (here another history object: the claim is per history)
 * records the simulated board: the app polls and shows live data, records
 * nothing, and says why, naming the other writer. */
static void
test_recording_refused (void)
{
  g_autofree char *dir = g_dir_make_tmp ("connection-claim-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autofree char *pid = g_strdup_printf ("process %d", (int) getpid ());
  g_autoptr(BmsConnection) connection = bms_connection_new ();
  g_autoptr(BmsHistory) other = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  other = bms_history_new (path, &error);
  g_assert_no_error (error);
  id = bms_history_claim_device (other, "id:PWSIM001", NULL, &error);
  g_assert_no_error (error);
  bms_connection_open_history (connection, path, 0);
  g_assert_true (wait_history (connection, 10));
  bms_connection_connect (connection, "sim://", 9600, 1);
  g_assert_true (wait_state (connection, BMS_CONNECTION_POLLING, 10));
  g_assert_true (wait_note (connection, 10));
  g_test_message ("%s", bms_connection_get_recording_note (connection));
  g_assert_nonnull (strstr (bms_connection_get_recording_note (connection), pid));
  g_assert_true (wait_polls (connection, 4, 15));
  g_assert_cmpint (bms_history_count_samples (other, id, 0, G_MAXINT64, &error), ==, 0);
  g_assert_no_error (error);
  bms_connection_disconnect (connection);
  g_clear_object (&connection);
  g_clear_object (&other);
  g_unlink (path);
  g_rmdir (dir);
}

/* A database the app cannot write (read-only media: here the WAL index
 * cannot be created, which stops root too): opened for reading, the
 * Graph and the other pages read it, and the app says it does not record. */
static void
test_read_only_history (void)
{
  g_autofree char *dir = g_dir_make_tmp ("connection-ro-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_autoptr(BmsConnection) connection = bms_connection_new ();
  g_autoptr(BmsHistory) h = NULL;
  g_autoptr(GError) error = NULL;

  h = bms_history_new (path, &error);
  g_assert_no_error (error);
  g_clear_object (&h);
  g_assert_cmpint (g_mkdir (wal, 0500), ==, 0);
  g_assert_cmpint (g_mkdir (shm, 0500), ==, 0);
  bms_connection_open_history (connection, path, 0);
  g_assert_true (wait_history (connection, 10));
  g_assert_true (bms_history_is_read_only (bms_connection_get_history (connection)));
  g_assert_null (bms_connection_get_history_error (connection));
  g_assert_true (wait_note (connection, 10));
  g_test_message ("%s", bms_connection_get_recording_note (connection));
  bms_connection_connect (connection, "sim://", 9600, 1);
  g_assert_true (wait_polls (connection, 3, 15));
  bms_connection_disconnect (connection);
  g_clear_object (&connection);
  g_rmdir (wal);
  g_rmdir (shm);
  g_unlink (path);
  g_rmdir (dir);
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
  g_test_add_func ("/ui/connection/recording-refused", test_recording_refused);
  g_test_add_func ("/ui/connection/read-only-history", test_read_only_history);
  return g_test_run ();
}
