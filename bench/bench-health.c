/* bench-health.c — how close the cell-health estimator comes to the
 * simulator's truth (issue 15): after a simulated week of the household
 * cycle, for 16 and 256 cells and many seeds,
 *   health_resistance_error_pct  the worst |R estimate / R true − 1| of any
 *                                cell with ≥ 20 steps (target ≤ 10 %)
 *   health_weak_found_pct        a planted weak cell (1.5 × resistance,
 *                                0.9 × capacity, or 5 mA more leak) ranked
 *                                first (target ≥ 95 %)
 *   health_false_alarm_pct       a pack without one gets a suspect
 *                                (target ≤ 5 %)
 * plus one row per kind of weak cell and pack size. The reference of each
 * row is its target and the ratio value / target.
 *
 *   bench-health [--seeds N] [--days D] [--sample-s S] [--cells 16,256]
 *                [--leak-ma MA]
 * (--leak-ma: the planted leak, 5 mA by default, to find the smallest one
 * found.) */
#include <stdlib.h>

#include "bench-common.h"
#include "../tests/model/health-accuracy.h"

typedef struct {
  const char *name;
  double      r_factor, cap_factor, leak_ma;
} Kind;

static Kind kinds[] = {
  { "resistance", 1.5, 1.0, 0 },
  { "capacity", 1.0, 0.9, 0 },
  { "leak", 1.0, 1.0, 5 },
};

typedef struct {
  guint  runs, found, false_alarms, clean_runs;
  double worst_r;
} Tally;

static void
one_run (AccuracyRun *run, const char *dir, Tally *t, Tally *kind_t)
{
  g_autoptr (GError) error = NULL;
  AccuracyResult r;

  if (!accuracy_run (run, dir, &r, &error))
    g_error ("seed %u: %s", run->seed, error->message);
  t->worst_r = MAX (t->worst_r, r.max_r_error_pct);
  if (run->weak.cell)
    {
      gboolean found = r.first_suspect == run->weak.cell;
      t->runs++;
      t->found += found;
      kind_t->runs++;
      kind_t->found += found;
      if (!found)
        g_printerr ("  %u cells seed %u: planted cell %u (R×%.1f cap×%.1f +%.0f mA; estimated "
                    "cap %+.1f %% leak %.1f mA) not first: %u %s\n",
                    run->n_cells, run->seed, run->weak.cell, run->weak.r_factor,
                    run->weak.cap_factor, run->weak.leak_ma, r.weak_capacity_pct, r.weak_leak_ma,
                    r.first_suspect, r.first_reasons ? r.first_reasons : "");
    }
  else
    {
      t->clean_runs++;
      t->false_alarms += r.n_suspects > 0;
      if (r.n_suspects)
        g_printerr ("  %u cells seed %u: false alarm: cell %u %s\n", run->n_cells, run->seed,
                    r.first_suspect, r.first_reasons);
    }
  accuracy_result_clear (&r);
}

int
main (int argc, char **argv)
{
  int seeds = 40;
  double days = 7, sample_s = 2, leak_ma = 5;
  g_autofree char *cells_text = NULL;
  g_auto (GStrv) cells = NULL;
  g_autofree char *dir = NULL;
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  const GOptionEntry entries[] = {
    { "seeds", 0, 0, G_OPTION_ARG_INT, &seeds, "Seeds per case (40)", "N" },
    { "days", 0, 0, G_OPTION_ARG_DOUBLE, &days, "Simulated days (7)", "D" },
    { "sample-s", 0, 0, G_OPTION_ARG_DOUBLE, &sample_s, "Seconds between samples (2)", "S" },
    { "cells", 0, 0, G_OPTION_ARG_STRING, &cells_text, "Pack sizes (16,256)", "LIST" },
    { "leak-ma", 0, 0, G_OPTION_ARG_DOUBLE, &leak_ma, "Planted leak (5 mA)", "MA" },
    { NULL }
  };
  Tally all = { 0 };
  double t_start = bench_now_ms ();

  /* in memory where there is /dev/shm: the disk is not what is measured */
  if (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR))
    g_setenv ("TMPDIR", "/dev/shm", TRUE);
  dir = g_dir_make_tmp ("bench-health-XXXXXX", NULL);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, NULL) || seeds < 1 || days <= 0
      || leak_ma <= 0)
    return 2;
  kinds[2].leak_ma = leak_ma;
  cells = g_strsplit (cells_text ? cells_text : "16,256", ",", -1);
  for (guint c = 0; cells[c]; c++)
    {
      guint n_cells = atoi (cells[c]);
      Tally size = { 0 };

      for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
        {
          Tally kind = { 0 };
          g_autofree char *name = g_strdup_printf ("health_weak_found_%s_%u_pct", kinds[k].name, n_cells);

          for (int s = 1; s <= seeds; s++)
            {
              AccuracyRun run = { n_cells, days, sample_s, (guint32) s,
                                  { 1 + (s * 7 + k * 5) % n_cells, kinds[k].r_factor,
                                    kinds[k].cap_factor, kinds[k].leak_ma } };
              one_run (&run, dir, &size, &kind);
            }
          bench_emit (name, 100.0 * kind.found / kind.runs, "%", 95, kind.found / (0.95 * kind.runs),
                      "≥ 95 %", kind.found >= 0.95 * kind.runs, NULL);
        }
      for (int s = 1; s <= seeds; s++)
        {
          AccuracyRun run = { n_cells, days, sample_s, (guint32) (1000 + s), { 0 } };
          Tally none = { 0 };
          one_run (&run, dir, &size, &none);
        }
      all.runs += size.runs;
      all.found += size.found;
      all.clean_runs += size.clean_runs;
      all.false_alarms += size.false_alarms;
      all.worst_r = MAX (all.worst_r, size.worst_r);
    }
  {
    g_autofree char *extra = g_strdup_printf ("\"seeds\": %d, \"days\": %g, \"sample_s\": %g, "
                                              "\"cells\": \"%s\", \"seconds\": %.0f",
                                              seeds, days, sample_s,
                                              cells_text ? cells_text : "16,256",
                                              (bench_now_ms () - t_start) / 1000);
    double found = 100.0 * all.found / MAX (all.runs, 1);
    double alarms = 100.0 * all.false_alarms / MAX (all.clean_runs, 1);

    bench_emit ("health_resistance_error_pct", all.worst_r, "%", 10, all.worst_r / 10,
                "≤ 10 %", all.worst_r <= 10, extra);
    bench_emit ("health_weak_found_pct", found, "%", 95, found / 95, "≥ 95 %", found >= 95, extra);
    bench_emit ("health_false_alarm_pct", alarms, "%", 5, alarms / 5, "≤ 5 %", alarms <= 5, extra);
  }
  g_rmdir (dir);
  return 0;
}
