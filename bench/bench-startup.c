/* Start-up to the first drawn frame: `packwatch --demo` against a bare
 * AdwApplicationWindow started the same way in the same run (the reference:
 * what GTK and libadwaita themselves cost).
 *   bench-startup PATH-TO-packwatch
 *   bench-startup --bare            (the reference window) */
#include <adwaita.h>

#include "bench-common.h"

static void
bare_after_paint (GdkFrameClock *clock, gpointer data)
{
  g_print ("first-frame\n");
  g_signal_handlers_disconnect_by_func (clock, bare_after_paint, data);
}

static void
bare_map (GtkWidget *w)
{
  g_signal_connect (gtk_widget_get_frame_clock (w), "after-paint",
                    G_CALLBACK (bare_after_paint), NULL);
}

static void
bare_activate (GApplication *app)
{
  GtkWidget *win = adw_application_window_new (GTK_APPLICATION (app));
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 720);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (win),
                                      gtk_label_new ("reference"));
  g_signal_connect (win, "map", G_CALLBACK (bare_map), NULL);
  gtk_window_present (GTK_WINDOW (win));
}

/* Time from spawn to the "first-frame" line, in ms; the child is then ended. */
static double
time_to_first_frame (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  double start = bench_now_ms (), t = -1;
  char *line;

  g_subprocess_launcher_setenv (l, "PACKWATCH_REPORT_FIRST_FRAME", "1", TRUE);
  g_subprocess_launcher_setenv (l, "GSETTINGS_BACKEND", "memory", TRUE);
  p = g_subprocess_launcher_spawnv (l, argv, &error);
  if (!p)
    g_error ("spawn %s: %s", argv[0], error->message);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
  while ((line = g_data_input_stream_read_line (in, NULL, NULL, NULL)))
    {
      gboolean done = g_str_equal (line, "first-frame");
      g_free (line);
      if (done)
        {
          t = bench_now_ms () - start;
          break;
        }
    }
  g_subprocess_force_exit (p);
  g_subprocess_wait (p, NULL, NULL);
  if (t < 0)
    g_error ("%s never reported a first frame", argv[0]);
  return t;
}

int
main (int argc, char **argv)
{
  if (argc > 1 && g_str_equal (argv[1], "--bare"))
    {
      g_autoptr(AdwApplication) app = adw_application_new ("io.github.packwatch.BenchBare",
                                                           G_APPLICATION_NON_UNIQUE);
      g_signal_connect (app, "activate", G_CALLBACK (bare_activate), NULL);
      return g_application_run (G_APPLICATION (app), 1, argv);
    }
  if (argc < 2)
    {
      g_printerr ("usage: bench-startup PATH-TO-packwatch\n");
      return 2;
    }
  {
    const char *app_argv[] = { argv[1], "--demo", NULL };
    const char *bare_argv[] = { argv[0], "--bare", NULL };
    double app_ms = G_MAXDOUBLE, bare_ms = G_MAXDOUBLE;

    /* Best of three each, interleaved so both see the same machine. */
    for (guint i = 0; i < 3; i++)
      {
        bare_ms = MIN (bare_ms, time_to_first_frame (bare_argv));
        app_ms = MIN (app_ms, time_to_first_frame (app_argv));
      }
    bench_emit ("startup_first_frame", app_ms, "ms", bare_ms, app_ms / bare_ms, "< 1000 ms",
                app_ms < 1000, NULL);
  }
  return 0;
}
