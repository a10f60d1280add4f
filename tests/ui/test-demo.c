/* Every page of the window on the built-in simulator (--demo, 16 cells LFP):
 * the app connects, waits for the first poll to be drawn and saves a PNG of
 * each page in build/tests/ui/screenshots/. --demo=replay:FILE opens a
 * recording: the window shows the file's numbers; a bad file stops the
 * start. */
#include "config.h"

#include <glib/gstdio.h>

#include "bms-connection.h"
#include "bms-window.h"
#include "ui-test-util.h"

typedef struct
{
  char *uri;
  double pack_voltage;
  guint cells;
  guint soc;
} Seen;

static void
on_poll (BmsConnection *connection, GParamSpec *pspec, Seen *seen)
{
  BmsDevice *device = bms_connection_get_device (connection);

  if (device == NULL || bms_device_get_cell_count (device) == 0)
    return;
  g_free (seen->uri);
  seen->uri = g_strdup (bms_connection_get_uri (connection));
  seen->pack_voltage = bms_device_get_pack_voltage (device);
  seen->cells = bms_device_get_cell_count (device);
  seen->soc = bms_device_get_soc (device);
}

static void
watch_polls (GtkApplication *app, Seen *seen)
{
  BmsWindow *window = BMS_WINDOW (gtk_application_get_active_window (app));

  g_signal_connect (bms_window_get_connection (window), "notify::poll-count",
                    G_CALLBACK (on_poll), seen);
}

static void
test_replay (void)
{
  const char *root = g_getenv ("PACKWATCH_SOURCE_ROOT");
  g_autofree char *file
      = g_build_filename (root ? root : ".", "tests", "data", "nw-readall-14s.hex", NULL);
  g_autofree char *demo = g_strconcat ("--demo=replay:", file, NULL);
  g_autofree char *path = ui_test_screenshot_path ("demo-replay-monitor");
  const char *args[] = { demo, "--page", "monitor", "--screenshot", path, NULL };
  const char *bad[] = { "--demo=replay:/nonexistent/pack.hex", NULL };
  Seen seen = { 0 };

  g_unlink (path);
  g_assert_cmpint (ui_test_run_app (args, G_CALLBACK (watch_polls), &seen), ==, 0);
  ui_test_assert_png (path, 1000, 600);
  g_assert_true (g_str_has_prefix (seen.uri, "replay:///"));
  g_assert_true (g_str_has_suffix (seen.uri, "nw-readall-14s.hex"));
  g_assert_cmpuint (seen.cells, ==, 14);
  g_assert_cmpfloat_with_epsilon (seen.pack_voltage, 53.59, 1e-9);
  g_assert_cmpuint (seen.soc, ==, 15);
  g_free (seen.uri);

  g_assert_cmpint (ui_test_run_app (bad, NULL, NULL), !=, 0);
}

static void
test_page (gconstpointer data)
{
  const char *page = data;
  g_autofree char *name = g_strdup_printf ("demo-%s", page);
  g_autofree char *path = ui_test_screenshot_path (name);
  const char *args[] = { "--demo", "--page", page, "--screenshot", path, NULL };

  g_unlink (path);
  g_assert_cmpint (ui_test_run_app (args, NULL, NULL), ==, 0);
  ui_test_assert_png (path, 1000, 600);
}

int
main (int   argc,
      char *argv[])
{
  static const char * const pages[] = {
    "monitor", "alarm", "param", "normal", "graph", "update", "lease", "dload", "health",
  };

  ui_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autofree char *test = g_strdup_printf ("/ui/demo/%s", pages[i]);
      g_test_add_data_func (test, pages[i], test_page);
    }
  g_test_add_func ("/ui/demo/replay", test_replay);
  return g_test_run ();
}
