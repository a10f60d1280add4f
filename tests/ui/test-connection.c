/* BmsConnection on its own: a missing port fails with a reason, a bad
 * gateway address is refused, the simulator polls, disconnect and a second
 * connect work, Disconnect closes a line that floods the app at once, a
 * board that stops answering is named by its address, and nothing of it
 * blocks the main loop. */
#include "config.h"

#include <unistd.h>
#include <glib/gstdio.h>

#include "bms-connection.h"
#include "bms-history.h"
#include "bms-field.h"
#include "bms-loopback-transport.h"
#include "bms-session.h"
#include "bms-sim.h"
#include "ui-test-util.h"
#include "../link/test-util.h"

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

typedef struct {
  gboolean done;
  gboolean ok;
  GError  *error;
} Written;

static void
fields_written (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Written *w = user_data;

  w->ok = bms_connection_write_fields_finish (BMS_CONNECTION (source), result, &w->error);
  w->done = TRUE;
}

static gint64
board_raw (BmsConnection *connection,
           guint8         id)
{
  return bms_snapshot_get_raw (bms_device_get_snapshot (bms_connection_get_device (connection)), id);
}

/* The pages' field writes are a change set: a value within its own range
 * that breaks a vendor rule with the board's other values is refused
 * before anything is sent (the old field-by-field path sent it); a good
 * one is written, read back and reported per row. */
static void
test_write_fields (void)
{
  g_autoptr(BmsConnection) connection = bms_connection_new ();
  g_autoptr(GPtrArray) bad = bms_field_writes_new ();
  g_autoptr(GPtrArray) good = bms_field_writes_new ();
  Written w = { 0 };
  gint64 ovp, recovery;
  guint64 polls;

  bms_connection_connect (connection, "sim://", 9600, 1);
  g_assert_true (wait_state (connection, BMS_CONNECTION_POLLING, 10));
  g_assert_true (wait_polls (connection, 1, 10));
  ovp = board_raw (connection, 0x90);
  recovery = board_raw (connection, 0x91);

  /* charge recovery (0x91) above charge protection (0x90) */
  bms_field_writes_add (bad, 0x91, ovp + 10, NULL);
  bms_connection_write_fields_async (connection, bad, BMS_DEFAULT_PASSWORD, NULL,
                                     fields_written, &w);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (w.ok);
  g_assert_error (w.error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RULE);
  g_clear_error (&w.error);
  polls = bms_connection_get_poll_count (connection);
  g_assert_true (wait_polls (connection, polls + 1, 10));
  g_assert_cmpint (board_raw (connection, 0x91), ==, recovery);
  g_assert_true (bms_connection_get_locked (connection));   /* not even unlocked */

  w.done = FALSE;
  bms_field_writes_add (good, 0x91, recovery - 10, NULL);
  bms_connection_write_fields_async (connection, good, BMS_DEFAULT_PASSWORD, NULL,
                                     fields_written, &w);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (w.error);
  g_assert_true (w.ok);
  g_assert_true (bms_field_writes_all_ok (good));
  g_assert_true (g_str_has_prefix (((BmsFieldWrite *) good->pdata[0])->result, "OK, reads"));
  polls = bms_connection_get_poll_count (connection);
  g_assert_true (wait_polls (connection, polls + 1, 10));
  g_assert_cmpint (board_raw (connection, 0x91), ==, recovery - 10);
  bms_connection_disconnect (connection);
}

static gboolean
session_threads_gone (guint seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while ((test_count_threads_named ("bms-session") > 0 ||
          test_count_threads_named ("bms-poller") > 0) && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return test_count_threads_named ("bms-session") == 0 &&
         test_count_threads_named ("bms-poller") == 0;
}

/* Disconnect closes the line as a job of the session's queue once the
 * poller's worker has made its last request (no thread joins it): the
 * session and the poller end, whatever was in flight, and the next connect
 * starts afresh. */
static void
test_disconnect_ends_workers (void)
{
  g_autoptr(BmsConnection) connection = bms_connection_new ();
  g_autoptr(GPtrArray) writes = bms_field_writes_new ();
  Written w = { 0 };

  g_assert_true (session_threads_gone (3));  /* what earlier tests left to close */
  for (guint round = 0; round < 2; round++)
    {
      bms_connection_connect (connection, "sim://", 9600, 1);
      g_assert_true (wait_polls (connection, 1, 10));
      g_assert_cmpuint (test_count_threads_named ("bms-session"), ==, 1);
      g_assert_cmpuint (test_count_threads_named ("bms-poller"), ==, 1);
      if (round == 1)
        {
          /* A write still on the queue when Disconnect comes. */
          bms_field_writes_add (writes, 0x91, board_raw (connection, 0x91) - 10, NULL);
          bms_connection_write_fields_async (connection, writes, BMS_DEFAULT_PASSWORD, NULL,
                                             fields_written, &w);
        }
      bms_connection_disconnect (connection);
      g_assert_true (session_threads_gone (3));
    }
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (w.ok);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&w.error);
}

/* A gateway that never stops talking: "NW" as fast as the connection takes
 * it (a floating RS485 line), reading whatever comes. Notes when the app
 * closes the connection. */
typedef struct {
  GSocket *listener;
  guint16  port;
  GThread *thread;
  gint     stop;
  gint     closed;
  gint64   closed_at;   /* monotonic, once closed is set */
} Babbler;

static gpointer
babbler_main (gpointer data)
{
  Babbler *b = data;
  g_autoptr(GSocket) peer = NULL;
  char flood[4096];

  for (gsize i = 0; i < sizeof flood; i++)
    flood[i] = i % 2 == 0 ? 'N' : 'W';
  peer = g_socket_accept (b->listener, NULL, NULL);
  if (peer == NULL)
    return NULL;
  g_socket_set_blocking (peer, FALSE);
  while (!g_atomic_int_get (&b->stop))
    {
      g_autoptr(GError) error = NULL;
      char buf[4096];
      gssize n = g_socket_receive (peer, buf, sizeof buf, NULL, &error);

      if (n == 0 || (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)))
        {
          b->closed_at = g_get_monotonic_time ();
          g_atomic_int_set (&b->closed, 1);
          break;
        }
      if (g_socket_send (peer, flood, sizeof flood, NULL, NULL) < 0)
        g_usleep (1000);
    }
  return NULL;
}

static void
babbler_start (Babbler *b)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  memset (b, 0, sizeof *b);
  b->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                              G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (b->listener, any, TRUE, &error));
  g_assert_true (g_socket_listen (b->listener, &error));
  bound = g_socket_get_local_address (b->listener, &error);
  g_assert_no_error (error);
  b->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  b->thread = g_thread_new ("babbler", babbler_main, b);
}

static void
babbler_stop (Babbler *b)
{
  g_atomic_int_set (&b->stop, 1);
  g_socket_shutdown (b->listener, TRUE, TRUE, NULL);
  g_socket_close (b->listener, NULL);
  g_thread_join (b->thread);
  g_object_unref (b->listener);
}

static void
unlock_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  bms_connection_unlock_finish (BMS_CONNECTION (source), result, &error);
  *(gboolean *) user_data = TRUE;
}

/* Issue 11: Disconnect must not wait out an exchange with a line that never
 * stops talking; the poller's read and an unlock in flight are cancelled. */
static void
test_disconnect_flooded (void)
{
  g_autoptr(BmsConnection) connection = bms_connection_new ();
  g_autofree char *uri = NULL;
  gboolean unlocked = FALSE;
  gint64 end, asked;
  Babbler babbler;

  babbler_start (&babbler);
  uri = g_strdup_printf ("tcp://127.0.0.1:%u", babbler.port);
  bms_connection_connect (connection, uri, 9600, 1);
  /* Let the poller get inside its first exchange. */
  end = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  bms_connection_unlock_async (connection, "123456", NULL, unlock_done, &unlocked);
  g_usleep (200 * 1000);

  asked = g_get_monotonic_time ();
  bms_connection_disconnect (connection);
  end = asked + 5 * G_USEC_PER_SEC;
  while ((!g_atomic_int_get (&babbler.closed) || !unlocked) && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  g_test_message ("the line closed %.0f ms after Disconnect",
                  g_atomic_int_get (&babbler.closed) ? (babbler.closed_at - asked) / 1000.0 : -1.0);
  g_assert_true (g_atomic_int_get (&babbler.closed));
  g_assert_cmpint (babbler.closed_at - asked, <, G_USEC_PER_SEC);
  g_assert_true (unlocked);
  babbler_stop (&babbler);
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

static void
move_board_to_7 (BmsSim   *sim,
                 gpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (bms_sim_set_parameter (sim, BMS_ID_BOARD_ADDRESS, 7, &error));
  g_assert_no_error (error);
}

static void
silence_board (BmsSim   *sim,
               gpointer  data)
{
  BmsSimFaults faults = { .silent = TRUE };

  bms_sim_set_faults (sim, &faults);
}

/* A board that answered and then stops is "no reply", and the message
 * names the address the window polls (7 here, not the default 1). */
static void
test_board_stops_answering (void)
{
  g_autoptr(BmsConnection) connection = bms_connection_new ();
  BmsLoopbackTransport *line;
  const char *message;

  bms_connection_connect (connection, "sim://?wire=0", 9600, 7);
  while (bms_connection_get_session (connection) == NULL &&
         bms_connection_get_state (connection) == BMS_CONNECTION_CONNECTING)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (bms_connection_get_session (connection));
  line = BMS_LOOPBACK_TRANSPORT (bms_session_get_transport (bms_connection_get_session (connection)));
  bms_loopback_transport_with_sim (line, move_board_to_7, NULL);
  g_assert_true (wait_polls (connection, 1, 20));
  g_assert_true (wait_state (connection, BMS_CONNECTION_POLLING, 10));

  bms_loopback_transport_with_sim (line, silence_board, NULL);
  g_assert_true (wait_state (connection, BMS_CONNECTION_NO_REPLY, 30));
  message = bms_connection_get_error_message (connection);
  g_test_message ("%s", message);
  g_assert_nonnull (strstr (message, "board 7"));
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
  g_test_add_func ("/ui/connection/write-fields", test_write_fields);
  g_test_add_func ("/ui/connection/disconnect-ends-workers", test_disconnect_ends_workers);
  g_test_add_func ("/ui/connection/disconnect-flooded", test_disconnect_flooded);
  g_test_add_func ("/ui/connection/lying-board", test_lying_board);
  g_test_add_func ("/ui/connection/board-stops-answering", test_board_stops_answering);
  g_test_add_func ("/ui/connection/recording-refused", test_recording_refused);
  g_test_add_func ("/ui/connection/read-only-history", test_read_only_history);
  return g_test_run ();
}
