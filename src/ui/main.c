/* main.c — packwatch, the desktop application */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "bms-application.h"
#include "bms-locale.h"
#include "bms-window.h"

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

/* PACKWATCH_REPORT_FIRST_DATA=1 prints "mapped T" when the window is mapped
 * and "first-data T" once a frame with the board's first reply has been
 * painted (T: g_get_monotonic_time, µs): bench/bench-idle times it. */
static void
first_data_painted (GdkFrameClock *clock,
                    gpointer       user_data)
{
  g_print ("first-data %" G_GINT64_FORMAT "\n", g_get_monotonic_time ());
  g_signal_handlers_disconnect_by_func (clock, first_data_painted, user_data);
}

static void
first_data_arrived (BmsDevice *device,
                    GtkWidget *window)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (window);

  g_signal_handlers_disconnect_by_func (device, first_data_arrived, window);
  if (clock != NULL)
    g_signal_connect (clock, "after-paint", G_CALLBACK (first_data_painted), NULL);
}

static void
first_data_device (BmsConnection *connection,
                   GParamSpec    *pspec,
                   GtkWidget     *window)
{
  BmsDevice *device = bms_connection_get_device (connection);

  if (device != NULL)
    {
      g_signal_handlers_disconnect_by_func (connection, first_data_device, window);
      g_signal_connect (device, "updated", G_CALLBACK (first_data_arrived), window);
    }
}

static void
first_data_mapped (GtkWidget *window)
{
  g_print ("mapped %" G_GINT64_FORMAT "\n", g_get_monotonic_time ());
}

static void
on_activate_first_data (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  BmsConnection *connection;

  if (!BMS_IS_WINDOW (window))
    return;
  connection = bms_window_get_connection (BMS_WINDOW (window));
  g_signal_connect (connection, "notify::device", G_CALLBACK (first_data_device), window);
  first_data_device (connection, NULL, GTK_WIDGET (window));
  if (gtk_widget_get_mapped (GTK_WIDGET (window)))
    first_data_mapped (GTK_WIDGET (window));
  else
    g_signal_connect (window, "map", G_CALLBACK (first_data_mapped), NULL);
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
  if (g_getenv ("PACKWATCH_REPORT_FIRST_DATA"))
    g_signal_connect_after (app, "activate", G_CALLBACK (on_activate_first_data), NULL);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
