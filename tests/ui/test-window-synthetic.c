/* The window's pages with a synthetic board (no transport): every page opens,
 * shows the device and saves a picture. */
#include "config.h"

#include <glib/gstdio.h>

#include "bms-application.h"
#include "bms-device.h"
#include "bms-window.h"
#include "bms-alarm-page.h"
#include "ui-test-util.h"

typedef struct {
  guint    modules, cells_per_module;
  gboolean in_alarm;     /* a cell over the limit, warnings set */
  gboolean dark;
} Board;

static void
activated (GApplication *app,
           gpointer      user_data)
{
  const Board *board = user_data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  BmsConnection *connection = bms_window_get_connection (BMS_WINDOW (window));
  g_autoptr(BmsDevice) device = bms_device_new (1);
  g_autoptr(BmsSnapshot) snapshot = ui_test_fake_snapshot (board->modules,
                                                           board->cells_per_module, 7);

  if (board->in_alarm)
    {
      guint16 mv[BMS_MAX_CELLS];
      memcpy (mv, snapshot->cells_mv, snapshot->n_cells * sizeof (guint16));
      mv[3] = 3662;   /* over the 3650 mV protection: red */
      mv[9] = 3571;   /* above the 3550 mV recovery: amber */
      bms_snapshot_set_cells (snapshot, mv, snapshot->n_cells);
      /* cell over-voltage (bit 10) and cell voltage difference (bit 7) */
      bms_snapshot_set_raw (snapshot, BMS_ID_WARNINGS, (1 << 10) | (1 << 7));
      bms_snapshot_set_raw (snapshot, BMS_ID_STATUS, 0x0A);   /* charge MOS opened */
    }
  if (board->dark)
    adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                        ADW_COLOR_SCHEME_FORCE_DARK);
  bms_connection_set_device (connection, device);
  bms_device_update (device, snapshot);
}

static void
run_page (const char  *page,
          const Board *board,
          const char  *suffix)
{
  g_autofree char *name = g_strdup_printf ("synthetic-%s%s", page, suffix);
  g_autofree char *path = ui_test_screenshot_path (name);
  g_autoptr(BmsApplication) app = bms_application_new ();
  char *argv[] = { "packwatch", "--page", (char *) page, "--screenshot", path, NULL };
  int status;

  g_unlink (path);
  g_signal_connect_after (app, "activate", G_CALLBACK (activated), (gpointer) board);
  status = g_application_run (G_APPLICATION (app), G_N_ELEMENTS (argv) - 1, argv);
  g_assert_cmpint (status, ==, 0);
  ui_test_assert_png (path, 800, 500);
}

static void
test_monitor_16 (void)
{
  Board b = { 1, 16 };
  run_page ("monitor", &b, "");
}

static void
test_monitor_256 (void)
{
  Board b = { 16, 16 };
  run_page ("monitor", &b, "-master");
}

static void
test_alarm (void)
{
  Board b = { 1, 16, TRUE };
  run_page ("alarm", &b, "-protection");
  run_page ("monitor", &b, "-protection");
}

static void
test_dark (void)
{
  Board b = { 16, 16, TRUE, TRUE };
  run_page ("monitor", &b, "-master-dark");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_DEFAULT);
}

int
main (int   argc,
      char *argv[])
{
  ui_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/window/monitor-16", test_monitor_16);
  g_test_add_func ("/ui/window/monitor-256", test_monitor_256);
  g_test_add_func ("/ui/window/alarm", test_alarm);
  g_test_add_func ("/ui/window/dark", test_dark);
  return g_test_run ();
}
