/* Every page of the window on the built-in simulator (--demo=master, 16 modules × 16 cells):
 * the app connects, waits for the first poll to be drawn and saves a PNG of
 * each page in build/tests/ui/screenshots/. */
#include "config.h"

#include <glib/gstdio.h>

#include "ui-test-util.h"

static void
test_page (gconstpointer data)
{
  const char *page = data;
  g_autofree char *name = g_strdup_printf ("demo-master-%s", page);
  g_autofree char *path = ui_test_screenshot_path (name);
  const char *args[] = { "--demo=master", "--page", page, "--screenshot", path, NULL };

  g_unlink (path);
  g_assert_cmpint (ui_test_run_app (args, NULL, NULL), ==, 0);
  ui_test_assert_png (path, 1000, 600);
}

int
main (int   argc,
      char *argv[])
{
  static const char * const pages[] = {
    "monitor", "alarm", "param", "normal",
  };

  g_autoptr(GSettings) settings = NULL;

  ui_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  /* The target: a 1366×768 laptop screen (the window, less the panel). */
  settings = bms_settings_new ();
  g_settings_set_int (settings, "window-width", 1366);
  g_settings_set_int (settings, "window-height", 740);
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autofree char *test = g_strdup_printf ("/ui/demo-master/%s", pages[i]);
      g_test_add_data_func (test, pages[i], test_page);
    }
  return g_test_run ();
}
