/* The window's pages with a synthetic board (no transport): every page opens,
 * shows the device and saves a picture. */
#include "config.h"

#include <glib/gstdio.h>

#include "bms-application.h"
#include "bms-device.h"
#include "bms-window.h"
#include "bms-alarm-page.h"
#include "bms-summary-bar.h"
#include "ui-test-util.h"

typedef struct {
  guint    modules, cells_per_module;
  gboolean in_alarm;     /* a cell over the limit, warnings set */
  gboolean dark;
  const char *implausible; /* the last reply was refused for this reason */
  /* What the summary bar showed then. */
  char *summary_page;
  char *summary_text;
} Board;

static void
look_at_summary (GtkWindow *window, Board *board)
{
  GtkWidget *bar = GTK_WIDGET (
      gtk_widget_get_template_child (GTK_WIDGET (window), BMS_TYPE_WINDOW, "summary_bar"));
  GtkStack *stack
      = GTK_STACK (gtk_widget_get_template_child (bar, BMS_TYPE_SUMMARY_BAR, "figures_stack"));
  GtkLabel *label
      = GTK_LABEL (gtk_widget_get_template_child (bar, BMS_TYPE_SUMMARY_BAR, "implausible_label"));

  board->summary_page = g_strdup (gtk_stack_get_visible_child_name (stack));
  board->summary_text = g_strdup (gtk_label_get_label (label));
}

static void
activated (GApplication *app,
           gpointer      user_data)
{
  Board *board = user_data;
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
  if (board->implausible != NULL)
    bms_device_reject_reply (device, board->implausible);
  look_at_summary (window, board);
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

/* A reply no pack can give: the summary says why instead of drawing the
 * numbers; the next good reply brings them back. */
static void
test_implausible (void)
{
  Board good = { 1, 16 };
  Board b = { 1, 16,
              .implausible = "State of charge (soc_pct) = 250 % is beyond what any pack "
                             "can report (0 to 100 %)" };

  run_page ("monitor", &b, "-implausible");
  g_assert_cmpstr (b.summary_page, ==, "implausible");
  g_assert_true (g_str_has_prefix (b.summary_text, "Implausible reply: State of charge"));
  run_page ("monitor", &good, "");
  g_assert_cmpstr (good.summary_page, ==, "figures");
  g_free (b.summary_page);
  g_free (b.summary_text);
  g_free (good.summary_page);
  g_free (good.summary_text);
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
  g_test_add_func ("/ui/window/implausible", test_implausible);
  return g_test_run ();
}
