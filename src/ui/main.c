/* main.c — packwatch, the desktop application */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "bms-application.h"
#include "bms-locale.h"

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
  bms_locale_bind_textdomain ();

  app = bms_application_new ();
  if (g_getenv ("PACKWATCH_REPORT_FIRST_FRAME"))
    g_signal_connect_after (app, "activate", G_CALLBACK (on_activate_after), NULL);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
