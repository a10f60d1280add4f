/* Poll efficiency: full read cycles against the simulator with wire timing,
 * compared with the pure wire time of the request and reply bytes. */
#include "bench-common.h"
#include "bms-frame.h"
#include "bms-session.h"
#include "bms-sim.h"

static void
run_case (guint modules, guint baud, guint cycles)
{
  BmsSimConfig config;
  g_autoptr(BmsSim) sim = NULL;
  g_autoptr(BmsTransport) transport = NULL;
  g_autoptr(BmsSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) request = bms_request_read_all (1);
  g_autoptr(BmsSnapshot) first = NULL;
  g_autoptr(GByteArray) info = g_byte_array_new ();
  g_autofree char *name = NULL, *target = NULL;
  double total = 0, wire_ms, cycle_ms;
  guint cells;
  gboolean ok;

  bms_sim_config_init (&config);
  config.modules = modules;
  config.cells_per_module = 16;
  sim = bms_sim_new (&config, &error);
  g_assert_no_error (error);
  transport = bms_loopback_transport_new (sim, TRUE, 1.0);
  g_assert_true (bms_transport_set_baud (transport, baud, NULL));
  session = bms_session_new (transport, 1);
  bms_session_set_baud (session, baud);
  if (!bms_session_open (session, &error))
    g_error ("open: %s", error->message);

  first = bms_session_read_all (session, NULL, &error); /* wakes the board */
  if (!first)
    g_error ("read: %s", error->message);
  cells = first->n_cells;
  for (guint i = 0; i < cycles; i++)
    {
      g_autoptr(BmsSnapshot) s = NULL;
      double t0;

      g_usleep (120 * 1000); /* keep the 100 ms inter-frame gap outside the timing */
      t0 = bench_now_ms ();
      s = bms_session_read_all (session, NULL, &error);
      if (!s)
        g_error ("read: %s", error->message);
      total += bench_now_ms () - t0;
      if (i == 0)
        {
          g_byte_array_set_size (info, 0);
          bms_snapshot_encode (s, info);
        }
    }
  cycle_ms = total / cycles;
  wire_ms = (request->len + info->len + BMS_FRAME_OVERHEAD) * 10.0 * 1000.0 / baud;
  name = g_strdup_printf ("poll_%u_%u", cells, baud);
  if (baud <= 9600)
    {
      ok = cycle_ms <= wire_ms * 1.10;
      target = g_strdup ("<= 1.10 x wire");
    }
  else
    {
      ok = cycle_ms <= wire_ms + 20;
      target = g_strdup ("<= wire + 20 ms");
    }
  bench_emit (name, cycle_ms, "ms", wire_ms, cycle_ms / wire_ms, target, ok, NULL);
  bms_session_close (session);
}

int
main (int argc, char **argv)
{
  run_case (1, 9600, 8);
  run_case (1, 115200, 20);
  run_case (16, 9600, 4);
  run_case (16, 115200, 20);
  return 0;
}
