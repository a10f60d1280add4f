/* main.c — packwatch, the desktop application */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "bms-application.h"

/* Installed: LOCALEDIR. Run from the build tree: the catalogues meson
 * compiled into build/po (so the language switch works uninstalled). */
static const char *
locale_dir (void)
{
  static char *dir = NULL;
  g_autofree char *exe = NULL;
  g_autofree char *bindir = NULL;
  g_autofree char *probe = NULL;

  if (dir != NULL)
    return dir;
  exe = g_file_read_link ("/proc/self/exe", NULL);
  bindir = exe ? g_path_get_dirname (exe) : NULL;
  if (bindir != NULL)
    {
      g_autofree char *build_po = g_build_filename (bindir, "..", "po", NULL);
      probe = g_build_filename (build_po, "zh_CN", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
      if (g_file_test (probe, G_FILE_TEST_EXISTS))
        dir = g_steal_pointer (&build_po);
    }
  if (dir == NULL)
    dir = g_strdup (LOCALEDIR);
  return dir;
}

/* PACKWATCH_REPORT_FIRST_FRAME=1 prints "first-frame" on stdout once the
 * window has been painted for the first time: bench/bench-startup times it. */
static void
on_after_paint (GdkFrameClock *clock,
                gpointer       user_data)
{
  g_print ("first-frame\n");
  g_signal_handlers_disconnect_by_func (clock, on_after_paint, user_data);
}

static void
on_window_map (GtkWidget *window)
{
  g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint",
                    G_CALLBACK (on_after_paint), NULL);
}

static void
on_activate_after (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    return;
  if (gtk_widget_get_mapped (GTK_WIDGET (window)))
    on_window_map (GTK_WIDGET (window));
  else
    g_signal_connect (window, "map", G_CALLBACK (on_window_map), NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(BmsApplication) app = NULL;
  g_autoptr(GSettings) settings = bms_settings_new ();
  g_autofree char *language = g_settings_get_string (settings, "language");

  /* The Preferences language switch overrides the desktop's language. */
  bms_application_apply_language (language);
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, locale_dir ());
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = bms_application_new ();
  if (g_getenv ("PACKWATCH_REPORT_FIRST_FRAME"))
    g_signal_connect_after (app, "activate", G_CALLBACK (on_activate_after), NULL);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
