/* Poll efficiency: full read cycles against packwatch-sim over a real
 * pseudo-terminal with wire timing on, compared with the pure wire time of
 * the request and reply bytes in the same run.
 *   bench-poll [PATH-TO-packwatch-sim] */
#include <signal.h>
#include <stdlib.h>

#include <glib/gstdio.h>

#include "bench-common.h"
#include "bms-frame.h"
#include "bms-session.h"

static GSubprocess *
start_sim (const char *sim_exe, const char *link, guint modules, guint baud)
{
  g_autofree char *m = g_strdup_printf ("%u", modules);
  g_autofree char *b = g_strdup_printf ("%u", baud);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autofree char *line = NULL;
  GSubprocess *proc;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, sim_exe, "--pty", link,
                           "--modules", m, "--cells-per-module", "16", "--baud", b, NULL);
  if (!proc)
    g_error ("cannot start %s: %s", sim_exe, error->message);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  if (!line)
    g_error ("simulator did not report its pty");
  return proc;
}

static void
run_case (const char *sim_exe, guint modules, guint baud, guint cycles)
{
  g_autofree char *dir = g_dir_make_tmp ("bench-poll-XXXXXX", NULL);
  g_autofree char *link = g_build_filename (dir, "tty", NULL);
  g_autoptr(GSubprocess) sim = start_sim (sim_exe, link, modules, baud);
  g_autoptr(BmsTransport) transport = NULL;
  g_autoptr(BmsSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) request = bms_request_read_all (1);
  g_autoptr(BmsSnapshot) first = NULL;
  g_autoptr(GByteArray) info = g_byte_array_new ();
  g_autofree char *name = NULL;
  BmsSessionStats before, after;
  double total = 0, wire_ms, cycle_ms;
  gboolean ok;

  transport = bms_transport_new_for_uri (link, baud, &error);
  g_assert_no_error (error);
  session = bms_session_new (transport, 1);
  if (!bms_session_set_baud (session, baud, &error) || !bms_session_open (session, &error))
    g_error ("open: %s", error->message);
  first = bms_session_read_all (session, NULL, &error); /* wakes the board */
  if (!first)
    g_error ("read: %s", error->message);
  bms_session_get_stats (session, &before);
  for (guint i = 0; i < cycles; i++)
    {
      g_autoptr(BmsSnapshot) s = NULL;
      double t0;

      g_usleep (120 * 1000); /* the 100 ms inter-frame gap stays outside the timing */
      t0 = bench_now_ms ();
      s = bms_session_read_all (session, NULL, &error);
      if (!s)
        g_error ("read: %s", error->message);
      total += bench_now_ms () - t0;
    }
  bms_session_get_stats (session, &after);
  cycle_ms = total / cycles;
  /* Bytes actually exchanged per cycle, from the session's own counters. */
  wire_ms = (double) (after.bytes_out - before.bytes_out + after.bytes_in - before.bytes_in)
            / cycles * 10.0 * 1000.0 / baud;
  name = g_strdup_printf ("poll_%u_%u", first->n_cells, baud);
  ok = baud <= 9600 ? cycle_ms <= wire_ms * 1.10 : cycle_ms <= wire_ms + 20;
  bench_emit (name, cycle_ms, "ms", wire_ms, cycle_ms / wire_ms,
              baud <= 9600 ? "<= 1.10 x wire" : "<= wire + 20 ms", ok, NULL);
  bms_session_close (session);
  g_subprocess_send_signal (sim, SIGTERM);
  g_subprocess_wait (sim, NULL, NULL);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_autofree char *def = g_build_filename (g_getenv ("PACKWATCH_BUILD_ROOT") ?: "_build", "src",
                                           "packwatch-sim", NULL);
  const char *sim = argc > 1 ? argv[1] : def;

  run_case (sim, 1, 9600, 8);
  run_case (sim, 1, 115200, 20);
  run_case (sim, 16, 9600, 4);
  run_case (sim, 16, 115200, 20);
  return 0;
}
