/* test-flash-sim.c — the whole update, steps 1–8, against the simulated
 * board through the loopback transport and a real session: the board enters
 * its bootloader on 0xBD, takes the image and restarts with the new version.
 * Also: the password gate, and an interrupted update finished with the
 * --bootloader flavour. */
#include <string.h>
#include <glib/gstdio.h>

#include "bms-field.h"
#include "bms-flasher.h"
#include "bms-sim.h"
#include "../link/test-util.h"

typedef struct {
  BmsSim       *sim;
  BmsTransport *line;
  BmsSession   *session;
  char         *dir;
  char         *path;
  GBytes       *image;
  GCancellable *cancellable;
  guint64       cancel_at;
  BmsFlasherStep last_step;
  double        rate;
  gint64        cancelled_us;
} Fixture;

static GBytes *
make_image (gsize size, const char *version)
{
  guint8 *data = g_malloc (size);
  g_autofree char *marker = g_strdup_printf (BMS_FIRMWARE_VERSION_MARKER "%s", version);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 11 + i / 300);
  memcpy (data + 200, marker, strlen (marker) + 1);
  bms_firmware_stamp_vectors (data, size);
  return g_bytes_new_take (data, size);
}

static void
set_up (Fixture *fx, gboolean wire_timing, gsize image_size)
{
  g_autoptr(GError) error = NULL;
  BmsSimConfig config;

  bms_sim_config_init (&config);
  config.flash_size = 64 * 1024;
  fx->sim = bms_sim_new (&config, &error);
  g_assert_no_error (error);
  fx->line = bms_loopback_transport_new (fx->sim, wire_timing, 1.0);
  fx->session = bms_session_new (fx->line, 1);
  g_assert_true (bms_session_open (fx->session, &error));
  g_assert_no_error (error);
  fx->dir = g_dir_make_tmp ("packwatch-flash-sim-XXXXXX", &error);
  g_assert_no_error (error);
  fx->path = g_build_filename (fx->dir, "bms-3.0.bin", NULL);
  fx->image = make_image (image_size, "PW-SIM-3.0");
  g_file_set_contents (fx->path, g_bytes_get_data (fx->image, NULL), image_size, &error);
  g_assert_no_error (error);
  fx->cancellable = g_cancellable_new ();
}

static void
tear_down (Fixture *fx)
{
  bms_session_close (fx->session);
  g_clear_object (&fx->session);
  g_clear_object (&fx->line);
  g_clear_pointer (&fx->sim, bms_sim_free);
  g_unlink (fx->path);
  g_rmdir (fx->dir);
  g_free (fx->path);
  g_free (fx->dir);
  g_bytes_unref (fx->image);
  g_clear_object (&fx->cancellable);
}

static void
on_progress (BmsFlasher *flasher, const BmsFlasherProgress *p, gpointer user_data)
{
  Fixture *fx = user_data;

  if (p->step != fx->last_step)
    g_test_message ("%.2f s step %d %s %s", p->elapsed_s, p->step, p->step_name,
                    p->detail ? p->detail : "");
  fx->last_step = p->step;
  if (p->rate_bps > 0)
    fx->rate = p->rate_bps;
  if (fx->cancel_at > 0 && p->bytes_sent >= fx->cancel_at && fx->cancelled_us == 0)
    {
      fx->cancelled_us = g_get_monotonic_time ();
      g_cancellable_cancel (fx->cancellable);
    }
}

/* The image the board took (bms_sim_get_flashed_image returns a new ref). */
static gboolean
board_has_image (Fixture *fx)
{
  g_autoptr(GBytes) flashed = bms_sim_get_flashed_image (fx->sim);

  return flashed != NULL && g_bytes_equal (flashed, fx->image);
}

static gboolean
board_has_no_image (Fixture *fx)
{
  g_autoptr(GBytes) flashed = bms_sim_get_flashed_image (fx->sim);

  return flashed == NULL;
}

static char *
board_version (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = bms_session_read_one (fx->session, BMS_ID_SOFTWARE_VERSION,
                                                      NULL, &error);

  g_assert_no_error (error);
  return bms_snapshot_dup_string (snap, BMS_ID_SOFTWARE_VERSION);
}

static BmsFlasher *
new_flasher (Fixture *fx)
{
  BmsFlasher *flasher = bms_flasher_new (fx->session);

  bms_flasher_set_file (flasher, fx->path);
  bms_flasher_set_progress_func (flasher, on_progress, fx, NULL);
  return flasher;
}

static void
test_full_update (void)
{
  Fixture fx = { 0 };
  g_autoptr(BmsFlasher) flasher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  set_up (&fx, FALSE, 40 * 1024 + 99);
  before = board_version (&fx);
  g_assert_cmpstr (before, !=, "PW-SIM-3.0");
  g_assert_true (bms_session_unlock (fx.session, "123456", NULL, &error));
  g_assert_no_error (error);

  flasher = new_flasher (&fx);
  g_assert_true (bms_flasher_run (flasher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bms_flasher_get_step (flasher), ==, BMS_FLASHER_STEP_DONE);
  g_assert_cmpstr (bms_flasher_get_board_version (flasher), ==, "PW-SIM-3.0");
  g_assert_true (board_has_image (&fx));
  g_assert_false (bms_sim_in_bootloader (fx.sim));
  /* The session goes on working with the restarted board. */
  after = board_version (&fx);
  g_assert_cmpstr (after, ==, "PW-SIM-3.0");
  g_test_message ("version %s → %s", before, after);
  tear_down (&fx);
}

static void
test_restart_variant (void)
{
  Fixture fx = { 0 };
  g_autoptr(BmsFlasher) flasher = NULL;
  g_autoptr(GError) error = NULL;

  /* Step 2 with restart (0xBB): the board's restart window catches 0x20. */
  set_up (&fx, FALSE, 3 * 1024);
  g_assert_true (bms_session_unlock (fx.session, "123456", NULL, &error));
  flasher = new_flasher (&fx);
  bms_flasher_set_use_restart (flasher, TRUE);
  g_assert_true (bms_flasher_run (flasher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (bms_flasher_get_board_version (flasher), ==, "PW-SIM-3.0");
  g_assert_true (board_has_image (&fx));
  tear_down (&fx);
}

static void
test_locked_session (void)
{
  Fixture fx = { 0 };
  g_autoptr(BmsFlasher) flasher = NULL;
  g_autoptr(GError) error = NULL;

  set_up (&fx, FALSE, 4096);
  flasher = new_flasher (&fx);
  g_assert_false (bms_flasher_run (flasher, NULL, &error));
  g_assert_error (error, BMS_FLASHER_ERROR, BMS_FLASHER_STEP_ENTER_BOOTLOADER);
  g_assert_true (g_str_has_prefix (error->message, "step 2 ("));
  g_assert_nonnull (strstr (error->message, "password"));
  /* Nothing was sent: the board still runs its firmware. */
  g_assert_false (bms_sim_in_bootloader (fx.sim));
  g_assert_true (board_has_no_image (&fx));
  tear_down (&fx);
}

static void
test_interrupted_then_bootloader_mode (void)
{
  Fixture fx = { 0 };
  g_autoptr(BmsFlasher) flasher = NULL;
  g_autoptr(BmsFlasher) rescue = NULL;
  g_autoptr(GError) error = NULL;

  set_up (&fx, FALSE, 30 * 1024);
  g_assert_true (bms_session_unlock (fx.session, "123456", NULL, &error));
  flasher = new_flasher (&fx);
  fx.cancel_at = 10 * 1024;
  g_assert_false (bms_flasher_run (flasher, fx.cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (g_str_has_prefix (error->message, "step 7 ("));
  /* Not bricked: waiting in its bootloader, nothing flashed. */
  g_assert_true (bms_sim_in_bootloader (fx.sim));
  g_assert_true (board_has_no_image (&fx));
  g_clear_error (&error);

  /* The engineer comes back with --bootloader: steps 4–8 on the line. */
  bms_session_close (fx.session);
  g_assert_true (bms_transport_open (fx.line, &error));
  rescue = bms_flasher_new_for_transport (fx.line, 1);
  bms_flasher_set_file (rescue, fx.path);
  bms_flasher_set_progress_func (rescue, on_progress, &fx, NULL);
  fx.cancel_at = 0;
  g_assert_true (bms_flasher_run (rescue, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (bms_flasher_get_board_version (rescue), ==, "PW-SIM-3.0");
  g_assert_true (board_has_image (&fx));
  bms_transport_close (fx.line);
  tear_down (&fx);
}

static void
test_wire_timed (void)
{
  Fixture fx = { 0 };
  g_autoptr(BmsFlasher) flasher = NULL;
  g_autoptr(GError) error = NULL;
  gint64 t0;

  /* Real 9600 baud timing: measures the throughput an engineer will see. */
  set_up (&fx, TRUE, 4 * 1024);
  g_assert_true (bms_session_unlock (fx.session, "123456", NULL, &error));
  flasher = new_flasher (&fx);
  t0 = g_get_monotonic_time ();
  g_assert_true (bms_flasher_run (flasher, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("4 KiB at 9600 baud: %.2f s in all, transfer rate %.0f B/s",
                  (g_get_monotonic_time () - t0) / 1e6, fx.rate);
  /* 1029 wire bytes per 1024 data bytes: at most 955 B/s; block 0, the
   * answers and EOT cost some, a loaded CI machine more. */
  g_assert_cmpfloat (fx.rate, <, 960);
  g_assert_cmpfloat (fx.rate, >, 400);
  tear_down (&fx);
}

typedef struct {
  gboolean done;
  gboolean ok;
  GError  *error;
  guint    signals;
  gint64   done_us;
} AsyncRun;

static void
on_flashed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncRun *r = user_data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  r->ok = bms_flasher_run_finish (BMS_FLASHER (source), result, &r->error);
  r->done_us = g_get_monotonic_time ();
  r->done = TRUE;
}

static void
on_progress_signal (BmsFlasher *flasher, const BmsFlasherProgress *p, gpointer user_data)
{
  AsyncRun *r = user_data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  r->signals++;
}

/* Through a session, the update is a job of the session's queue: no thread
 * of its own waits for the session's worker (a fresh process, so that no
 * thread pool is left over from an earlier test); progress and the result
 * come in the caller's main context. */
static void
test_async_on_session_queue (void)
{
  Fixture fx = { 0 };
  g_autoptr(BmsFlasher) flasher = NULL;
  g_autoptr(GError) error = NULL;
  AsyncRun r = { 0 };
  guint threads, most;

  if (!test_in_fresh_process ())
    return;
  set_up (&fx, FALSE, 20 * 1024);
  g_assert_true (bms_session_unlock (fx.session, "123456", NULL, &error));
  flasher = new_flasher (&fx);
  g_signal_connect (flasher, "progress", G_CALLBACK (on_progress_signal), &r);
  threads = test_count_threads ();
  bms_flasher_run_async (flasher, NULL, on_flashed, &r);
  most = test_run_counting_threads (&r.done);
  g_test_message ("threads: %u before, at most %u during the update", threads, most);
  g_assert_no_error (r.error);
  g_assert_true (r.ok);
  g_assert_cmpuint (most, ==, threads);
  g_assert_true (board_has_image (&fx));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (r.signals, >, 10);
  tear_down (&fx);
}

/* Cancel during the transfer of an update run as a session job: the answer
 * names the step and comes within a second. */
static void
test_async_cancel (void)
{
  Fixture fx = { 0 };
  g_autoptr(BmsFlasher) flasher = NULL;
  g_autoptr(GError) error = NULL;
  AsyncRun r = { 0 };

  set_up (&fx, FALSE, 30 * 1024);
  g_assert_true (bms_session_unlock (fx.session, "123456", NULL, &error));
  flasher = new_flasher (&fx);
  fx.cancel_at = 8 * 1024;
  bms_flasher_run_async (flasher, fx.cancellable, on_flashed, &r);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (r.ok);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (g_str_has_prefix (r.error->message, "step 7 ("));
  g_assert_cmpint (fx.cancelled_us, >, 0);
  g_assert_cmpint (r.done_us - fx.cancelled_us, <, G_USEC_PER_SEC);
  g_clear_error (&r.error);
  g_assert_true (bms_sim_in_bootloader (fx.sim));
  tear_down (&fx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/flash-sim/full-update", test_full_update);
  g_test_add_func ("/flash-sim/restart-variant", test_restart_variant);
  g_test_add_func ("/flash-sim/locked-session", test_locked_session);
  g_test_add_func ("/flash-sim/interrupted-then-bootloader-mode",
                   test_interrupted_then_bootloader_mode);
  g_test_add_func ("/flash-sim/wire-timed", test_wire_timed);
  g_test_add_func ("/flash-sim/async-on-session-queue", test_async_on_session_queue);
  g_test_add_func ("/flash-sim/async-cancel", test_async_cancel);
  return g_test_run ();
}
