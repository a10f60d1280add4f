/* What a window left open costs: CPU while it polls an unchanging board, and
 * the time from the window mapped to the first numbers on it. Both against
 * an external packwatch-sim on a pseudo-terminal with wire timing on, so
 * the simulator's own work is not counted.
 *   bench-idle [--seconds=S] BUILD_DIR/src      (run under a display)
 *   bench-idle --bare                           (the reference window)
 *
 * idle_cpu_<cells>: percent of one core used by `packwatch --port` over S
 * seconds (default 60) of polling at 1 s, with GSK_RENDERER=cairo and, as
 * idle_cpu_<cells>_default, with GTK's default renderer. References in the
 * same run: `packwatch-cli log` on the same line (the polling and the
 * history without a window: the row's reference and ratio) and a bare
 * AdwApplicationWindow (in the row as "bare_window").
 * first_data_16: ms from the window mapped to the first frame painted with
 * the board's first reply (median of three), against the wire time of one
 * read-all of 16 cells at 9600 baud measured on the same line. */
#include <adwaita.h>
#include <signal.h>
#include <stdlib.h>

#include <glib/gstdio.h>

#include "bench-common.h"
#include "bms-frame.h"
#include "bms-session.h"

#define BAUD 9600

static guint seconds = 60;
static guint warmup = 20;   /* llvmpipe compiles its shaders in the first frames */

static void
bare_activate (GApplication *app)
{
  GtkWidget *win = adw_application_window_new (GTK_APPLICATION (app));

  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 720);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (win),
                                      gtk_label_new ("reference"));
  gtk_window_present (GTK_WINDOW (win));
}

typedef struct {
  char        *dir;
  char        *tty;
  GSubprocess *proc;
} Sim;

static void
sim_start (Sim *sim, const char *bindir, guint modules)
{
  g_autofree char *exe = g_build_filename (bindir, "packwatch-sim", NULL);
  g_autofree char *m = g_strdup_printf ("%u", modules);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autofree char *line = NULL;

  sim->dir = g_dir_make_tmp ("bench-idle-XXXXXX", NULL);
  sim->tty = g_build_filename (sim->dir, "tty", NULL);
  sim->proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, exe, "--pty", sim->tty,
                                "--modules", m, "--cells-per-module", "16", NULL);
  if (sim->proc == NULL)
    g_error ("cannot start %s: %s", exe, error->message);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sim->proc));
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  if (line == NULL)
    g_error ("the simulator did not report its pty");
}

static void
sim_stop (Sim *sim)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", sim->dir);

  g_subprocess_send_signal (sim->proc, SIGTERM);
  g_subprocess_wait (sim->proc, NULL, NULL);
  g_clear_object (&sim->proc);
  /* The app's history and settings were kept in the same folder. */
  if (system (cmd) != 0)
    g_warning ("could not remove %s", sim->dir);
  g_free (sim->dir);
  g_free (sim->tty);
}

static GSubprocessLauncher *
launcher (const Sim *sim, const char *renderer, GSubprocessFlags flags)
{
  GSubprocessLauncher *l = g_subprocess_launcher_new (flags);
  g_autofree char *data = g_build_filename (sim->dir, "data", NULL);
  g_autofree char *config = g_build_filename (sim->dir, "config", NULL);

  g_subprocess_launcher_setenv (l, "GSETTINGS_BACKEND", "memory", TRUE);
  g_subprocess_launcher_setenv (l, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (l, "XDG_CONFIG_HOME", config, TRUE);
  if (renderer != NULL)
    g_subprocess_launcher_setenv (l, "GSK_RENDERER", renderer, TRUE);
  else
    g_subprocess_launcher_unsetenv (l, "GSK_RENDERER");
  return l;
}

/* utime + stime of a process, in clock ticks. */
static double
cpu_ticks (GSubprocess *p)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", g_subprocess_get_identifier (p));
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    g_error ("%s ended early", path);
  /* The command name may hold spaces: count from its closing parenthesis. */
  after = strrchr (text, ')');
  fields = g_strsplit (after + 2, " ", 0);
  return g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL);
}

static double
sleep_and_measure (GSubprocess *p)
{
  double t0, t1;

  g_usleep ((gulong) warmup * G_USEC_PER_SEC);
  t0 = cpu_ticks (p);
  g_usleep ((gulong) seconds * G_USEC_PER_SEC);
  t1 = cpu_ticks (p);
  return (t1 - t0) * 100.0 / sysconf (_SC_CLK_TCK) / seconds;
}

static double
idle_cpu (const Sim *sim, const char *const *argv, const char *renderer)
{
  g_autoptr(GSubprocessLauncher) l = launcher (sim, renderer, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                              G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv (l, argv, &error);
  double percent;

  if (p == NULL)
    g_error ("spawn %s: %s", argv[0], error->message);
  percent = sleep_and_measure (p);
  g_subprocess_send_signal (p, SIGTERM);
  g_subprocess_wait (p, NULL, NULL);
  return percent;
}

static void
run_idle (const char *bindir, const char *self, guint modules)
{
  g_autofree char *app = g_build_filename (bindir, "packwatch", NULL);
  g_autofree char *cli = g_build_filename (bindir, "packwatch-cli", NULL);
  g_autofree char *port = NULL;
  g_autofree char *db = NULL;
  g_autofree char *name = g_strdup_printf ("idle_cpu_%u", modules * 16);
  g_autofree char *name_default = g_strdup_printf ("idle_cpu_%u_default", modules * 16);
  g_autofree char *extra = NULL;
  double cairo, gl, bare, logger;
  Sim sim;

  sim_start (&sim, bindir, modules);
  port = g_strdup_printf ("--port=%s", sim.tty);
  db = g_strdup_printf ("--db=%s/cli.db", sim.dir);
  {
    const char *app_argv[] = { app, port, NULL };
    const char *cli_argv[] = { cli, "log", port, db, NULL };
    const char *bare_argv[] = { self, "--bare", NULL };

    cairo = idle_cpu (&sim, app_argv, "cairo");
    gl = idle_cpu (&sim, app_argv, NULL);
    bare = idle_cpu (&sim, bare_argv, NULL);
    logger = idle_cpu (&sim, cli_argv, NULL);
  }
  sim_stop (&sim);
  extra = g_strdup_printf ("\"seconds\": %u, \"bare_window\": %.2f, \"cli_log\": %.2f, "
                           "\"cairo\": %.2f, \"default_renderer\": %.2f",
                           seconds, bare, logger, cairo, gl);
  bench_emit (name, cairo, "% core", logger, logger > 0 ? cairo / logger : 0,
              "<= 2 % (cairo)", cairo <= 2.0, extra);
  bench_emit (name_default, gl, "% core", logger, logger > 0 ? gl / logger : 0,
              "<= 5 % (default renderer)", gl <= 5.0, extra);
}

/* Wire time of one read-all of the simulator on the line, in ms, from the
 * bytes a session exchanged (request and reply). */
static double
read_all_wire_ms (const Sim *sim)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTransport) transport = bms_transport_new_for_uri (sim->tty, BAUD, &error);
  g_autoptr(BmsSession) session = NULL;
  g_autoptr(BmsSnapshot) first = NULL;
  g_autoptr(BmsSnapshot) second = NULL;
  BmsSessionStats before, after;

  g_assert_no_error (error);
  session = bms_session_new (transport, 1);
  if (!bms_session_set_baud (session, BAUD, &error) || !bms_session_open (session, &error))
    g_error ("open: %s", error->message);
  first = bms_session_read_all (session, NULL, &error);   /* wakes the board */
  bms_session_get_stats (session, &before);
  second = bms_session_read_all (session, NULL, &error);
  if (first == NULL || second == NULL)
    g_error ("read: %s", error->message);
  bms_session_get_stats (session, &after);
  bms_session_close (session);
  return (double) (after.bytes_out - before.bytes_out + after.bytes_in - before.bytes_in)
         * 10.0 * 1000.0 / BAUD;
}

static double
first_data_once (const char *bindir, const char *renderer)
{
  g_autofree char *app = g_build_filename (bindir, "packwatch", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) l = NULL;
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autofree char *port = NULL;
  gint64 mapped = -1, shown = -1;
  char *line;
  Sim sim;

  /* A fresh board each time: asleep, as one found on connecting. */
  sim_start (&sim, bindir, 1);
  port = g_strdup_printf ("--port=%s", sim.tty);
  l = launcher (&sim, renderer, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_setenv (l, "PACKWATCH_REPORT_FIRST_DATA", "1", TRUE);
  p = g_subprocess_launcher_spawn (l, &error, app, port, NULL);
  if (p == NULL)
    g_error ("spawn %s: %s", app, error->message);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
  while (shown < 0 && (line = g_data_input_stream_read_line (in, NULL, NULL, NULL)))
    {
      if (g_str_has_prefix (line, "mapped "))
        mapped = g_ascii_strtoll (line + 7, NULL, 10);
      else if (g_str_has_prefix (line, "first-data "))
        shown = g_ascii_strtoll (line + 11, NULL, 10);
      g_free (line);
    }
  g_subprocess_send_signal (p, SIGTERM);
  g_subprocess_wait (p, NULL, NULL);
  sim_stop (&sim);
  if (mapped < 0 || shown < 0)
    g_error ("%s never reported its first data", app);
  return (shown - mapped) / 1000.0;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
run_first_data (const char *bindir)
{
  g_autofree char *extra = NULL;
  double runs[3], gl[3], wire;
  Sim sim;

  sim_start (&sim, bindir, 1);
  wire = read_all_wire_ms (&sim);
  sim_stop (&sim);
  for (guint i = 0; i < G_N_ELEMENTS (runs); i++)
    {
      runs[i] = first_data_once (bindir, "cairo");
      gl[i] = first_data_once (bindir, NULL);
    }
  qsort (runs, G_N_ELEMENTS (runs), sizeof runs[0], compare_double);
  qsort (gl, G_N_ELEMENTS (gl), sizeof gl[0], compare_double);
  /* The figure is the cairo renderer's: with the default one under Xvfb,
   * llvmpipe compiling its shaders for the first frames is most of it. */
  extra = g_strdup_printf ("\"renderer\": \"cairo\", \"default_renderer_ms\": %.1f", gl[1]);
  bench_emit ("first_data_16", runs[1], "ms", wire, runs[1] / wire, "<= wire + 300 ms",
              runs[1] <= wire + 300, extra);
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("BUILD_DIR/src");
  gboolean bare = FALSE;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Seconds measured per figure (default 60)", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Seconds before measuring (default 20)", "S" },
    { "bare", 0, 0, G_OPTION_ARG_NONE, &bare, "Be the reference window", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;

  if (argc > 1 && g_str_equal (argv[1], "--bare"))
    {
      g_autoptr(AdwApplication) app = adw_application_new ("io.github.packwatch.BenchIdleBare",
                                                           G_APPLICATION_NON_UNIQUE);
      g_signal_connect (app, "activate", G_CALLBACK (bare_activate), NULL);
      return g_application_run (G_APPLICATION (app), 1, argv);
    }
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 || seconds == 0)
    {
      g_printerr ("usage: bench-idle [--seconds=S] [--warmup=S] BUILD_DIR/src%s%s\n",
                  error ? ": " : "", error ? error->message : "");
      return 2;
    }
  run_first_data (argv[1]);
  run_idle (argv[1], argv[0], 1);
  run_idle (argv[1], argv[0], 16);
  return 0;
}
