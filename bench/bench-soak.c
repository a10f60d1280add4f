/* Memory over hours of 256-cell polling, with the simulator's time
 * compressed: cycles of the same chain the app runs each poll (session read
 * over the loopback transport, device update, alarm monitor, history
 * append), one simulated second apart. The reference is the anonymous
 * resident memory after the first hour (by then the writer connection's
 * 128 KiB page cache and the reader's have filled); the figure is the memory
 * after three hours. Flat = no growth after that first hour.
 *   bench-soak [CYCLES] */
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <unistd.h>

#include "bench-common.h"
#include "bms-alarm-monitor.h"
#include "bms-device.h"
#include "bms-history.h"
#include "bms-session.h"
#include "bms-sim.h"

/* Anonymous resident memory: what the process allocated. File-backed pages
 * (the database mapped by SQLite) are the page cache's, not ours. */
static double
rss_mb (const char *key)
{
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL) ||
      !(p = strstr (text, key)))
    return 0;
  return g_ascii_strtod (p + strlen (key), NULL) / 1024.0;
}

int
main (int argc, char **argv)
{
  guint cycles = argc > 1 ? atoi (argv[1]) : 3 * 3600, warmup = cycles / 3;
  g_autofree char *dir = g_dir_make_tmp ("bench-soak-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "h.db", NULL);
  g_autoptr(GError) error = NULL;
  BmsSimConfig config;
  BmsSim *sim;
  g_autoptr(BmsTransport) transport = NULL;
  g_autoptr(BmsSession) session = NULL;
  g_autoptr(BmsDevice) device = bms_device_new (1);
  g_autoptr(BmsAlarmMonitor) alarms = bms_alarm_monitor_new (device);
  g_autoptr(BmsHistory) history = bms_history_new (db, &error);
  g_autofree char *extra = NULL, *cmd = NULL;
  double warm = 0, end;
  gint64 dev;

  g_assert_no_error (error);
  bms_sim_config_init (&config);
  config.modules = 16;
  config.cycle_profile = TRUE;
  sim = bms_sim_new (&config, &error);
  g_assert_no_error (error);
  transport = bms_loopback_transport_new (sim, FALSE, 1.0);
  session = bms_session_new (transport, 1);
  {
    /* The simulated board answers at once; the 100 ms line gap would only
     * stretch the run to six minutes of sleeping. */
    BmsSessionTiming timing;
    bms_session_get_timing (session, &timing);
    timing.min_gap_ms = 0;
    bms_session_set_timing (session, &timing);
  }
  if (!bms_session_open (session, &error))
    g_error ("open: %s", error->message);
  dev = bms_history_ensure_device (history, "sim:1", "soak", &error);
  bms_alarm_monitor_set_history (alarms, history, dev);
  for (guint i = 0; i < cycles; i++)
    {
      g_autoptr(BmsSnapshot) s = bms_session_read_all (session, NULL, &error);
      if (!s)
        g_error ("read %u: %s", i, error->message);
      bms_device_update (device, s);
      bms_alarm_monitor_process (alarms, s);
      bms_history_append_snapshot (history, dev, s);
      bms_sim_advance (sim, 1.0);
      if (i % 100 == 99 && !bms_history_flush (history, &error))
        g_error ("flush: %s", error->message);
      if (i + 1 == warmup)
        warm = rss_mb ("RssAnon:");
    }
  bms_history_flush (history, NULL);
  end = rss_mb ("RssAnon:");
  if (g_getenv ("BENCH_MALLOC_STATS"))
    malloc_stats ();
  extra = g_strdup_printf ("\"cycles\": %u, \"warmup_cycles\": %u, \"rss_total_mb\": %.1f",
                           cycles, warmup, rss_mb ("VmRSS:"));
  bench_emit ("memory_hour_256", end, "MB", warm, end / warm, "flat: 3 h <= 1.05 x 1 h",
              end <= warm * 1.05, extra);
  bms_session_close (session);
  g_clear_object (&session);
  g_clear_object (&transport);
  bms_sim_free (sim);
  cmd = g_strdup_printf ("rm -rf '%s'", dir);
  return system (cmd) == 0 ? 0 : 1;
}
