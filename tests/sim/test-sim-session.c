/* test-sim-session.c — the link layer's session and flasher against the
 * simulated board, in process: what the app's demo does. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "bms-flasher.h"
#include "bms-loopback-transport.h"
#include "bms-session.h"
#include "bms-sim-private.h"

typedef struct
{
  guint modules;
  gboolean wire_timing;
} Setup;

static const Setup pack16 = { 1, TRUE };
static const Setup pack256 = { 16, TRUE };
static const Setup fast16 = { 1, FALSE };

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
  c.modules = ((const Setup *)data)->modules;
  sim = bms_sim_new (&c, &error);
  g_assert_no_error (error);
  /* The board at 115200: real wire timing that stays quick. */
  fx->transport = bms_loopback_transport_new_owning (sim, ((const Setup *)data)->wire_timing, 1,
                                                     115200, "sim-test");
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
  g_assert_cmpuint (s->n_cells, ==, 16 * ((const Setup *)data)->modules);

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

static char *
write_firmware (const char *dir, gsize size, const char *version)
{
  g_autofree guint8 *data = g_malloc (size);
  g_autofree char *marker = g_strdup_printf ("PWFW-VERSION=%s", version);
  char *path = g_build_filename (dir, "fw.bin", NULL);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8)(i * 13 + 5);
  memcpy (data + 64, marker, strlen (marker) + 1);
  bms_firmware_stamp_vectors (data, size);
  g_assert_true (g_file_set_contents (path, (const char *)data, size, NULL));
  return path;
}

static void
test_flash (Fixture *fx, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("pw-sim-XXXXXX", NULL);
  g_autofree char *fw = write_firmware (dir, 12000, "PW-S3.1.4");
  g_autoptr (BmsFlasher) flasher = NULL;
  g_autoptr (BmsSnapshot) s = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *version = NULL;
  gint64 t0 = g_get_monotonic_time ();

  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  flasher = bms_flasher_new (fx->session);
  bms_flasher_set_file (flasher, fw);
  bms_flasher_set_board_baud (flasher, 115200);
  g_assert_true (bms_flasher_run (flasher, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("12000-byte image flashed in %.1f s", (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpstr (bms_flasher_get_board_version (flasher), ==, "PW-S3.1.4");

  /* The board runs the new firmware and answers the session again. */
  s = bms_session_read_one (fx->session, BMS_ID_SOFTWARE_VERSION, NULL, &error);
  g_assert_no_error (error);
  version = bms_snapshot_dup_string (s, BMS_ID_SOFTWARE_VERSION);
  g_assert_cmpstr (version, ==, "PW-S3.1.4");

  g_unlink (fw);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/sim/session/read-and-write-16", Fixture, &pack16, fixture_set_up,
              test_read_and_write, fixture_tear_down);
  g_test_add ("/sim/session/read-and-write-256", Fixture, &pack256, fixture_set_up,
              test_read_and_write, fixture_tear_down);
  /* Without wire timing: 12 kB at the bootloader's 9600 would take 13 s. */
  g_test_add ("/sim/session/flash", Fixture, &fast16, fixture_set_up, test_flash,
              fixture_tear_down);
  return g_test_run ();
}
