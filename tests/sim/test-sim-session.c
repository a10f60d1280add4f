/* test-sim-session.c — the link layer's session against the simulated
 * board, in process: what the app's demo does. */
#include "config.h"

#include <string.h>

#include "bms-loopback-transport.h"
#include "bms-session.h"
#include "bms-sim-private.h"

typedef struct
{
  BmsTransport *transport;
  BmsSession *session;
} Fixture;

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  BmsSimConfig c;
  BmsSim *sim;

  bms_sim_config_init (&c);
  c.modules = GPOINTER_TO_UINT (data);
  sim = bms_sim_new (&c, &error);
  g_assert_no_error (error);
  /* Wire timing at 115200 keeps it real and quick. */
  fx->transport = bms_loopback_transport_new_owning (sim, TRUE, 1, 115200, "sim-test");
  fx->session = bms_session_new (fx->transport, 1);
  g_assert_true (bms_transport_set_baud (fx->transport, 115200, NULL));
  g_assert_true (bms_session_open (fx->session, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  bms_session_close (fx->session);
  g_clear_object (&fx->session);
  g_clear_object (&fx->transport);
}

static void
test_read_and_write (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsSnapshot) s = NULL;
  g_autoptr (BmsSnapshot) back = NULL;

  s = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (s->n_cells, ==, 16 * GPOINTER_TO_UINT (data));

  /* Locked: the session refuses; a wrong password: the board refuses. */
  g_assert_false (bms_session_write (fx->session, BMS_ID_CELL_OVP, 3600, NULL, NULL, NULL, &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_LOCKED);
  g_clear_error (&error);
  g_assert_false (bms_session_unlock (fx->session, "654321", NULL, &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_DENIED);
  g_clear_error (&error);

  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bms_session_write (fx->session, BMS_ID_CELL_OVP, 3600, NULL, &back, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bms_snapshot_get_raw (back, BMS_ID_CELL_OVP), ==, 3600);
  g_clear_pointer (&back, bms_snapshot_free);
  g_assert_true (bms_session_write (fx->session, 0xB4, 0, "PW-0001", &back, NULL, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/sim/session/read-and-write-16", Fixture, GUINT_TO_POINTER (1), fixture_set_up,
              test_read_and_write, fixture_tear_down);
  g_test_add ("/sim/session/read-and-write-256", Fixture, GUINT_TO_POINTER (16), fixture_set_up,
              test_read_and_write, fixture_tear_down);
  return g_test_run ();
}
