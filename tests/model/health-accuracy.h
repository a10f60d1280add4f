/* health-accuracy.h — the cell-health estimator against the simulator's
 * truth: a pack of packwatch-sim (LFP, 100 Ah, the household demo cycle,
 * a seed, at most one planted weak cell) runs in process for some days,
 * sampled like the poller every sample_s, into a fresh history; then
 * bms_health_analyze and the comparison. Used by test-health-sim (a few
 * seeds) and bench-health (40 seeds, 16 and 256 cells). */
#pragma once

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "bms-health.h"
#include "bms-sim.h"

typedef struct {
  guint          n_cells;        /* a multiple of 16 */
  double         days;
  double         sample_s;
  guint32        seed;
  BmsSimWeakCell weak;           /* .cell 0: none planted */
} AccuracyRun;

typedef struct {
  double  max_r_error_pct;       /* worst |estimate/truth − 1| over cells with ≥ 20 steps */
  guint   cells_judged;          /* cells with ≥ 20 steps */
  guint   first_suspect;         /* 1-based, 0: none */
  guint   n_suspects;
  guint   steps_used;
  char   *first_reasons;         /* "; "-joined, or NULL */
  double  weak_leak_ma;          /* the estimate for the planted cell (NAN) */
  double  weak_capacity_pct;
} AccuracyResult;

static inline void
accuracy_result_clear (AccuracyResult *r)
{
  g_clear_pointer (&r->first_reasons, g_free);
}

static inline void
accuracy_remove_db (const char *path)
{
  const char *suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = g_strconcat (path, suffixes[i], NULL);
      g_remove (p);
    }
}

/* Runs the sim and writes its samples; FALSE with error on failure. */
static inline gboolean
accuracy_record (const AccuracyRun *run, BmsHistory *history, BmsSim **sim_out, GError **error)
{
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);
  BmsSimConfig config;
  BmsSim *sim;
  gint64 t0_us = G_GINT64_CONSTANT (1767571200000000); /* Mon 2026-01-05 00:00 UTC */
  guint n = (guint) (run->days * 86400 / run->sample_s);
  gint64 dev;

  bms_sim_config_init (&config);
  config.modules = run->n_cells / 16;
  config.cells_per_module = 16;
  config.cycle_profile = TRUE;
  config.seed = run->seed;
  config.weak_cells = &run->weak;
  config.n_weak_cells = run->weak.cell ? 1 : 0;
  if (!(sim = bms_sim_new (&config, error)))
    return FALSE;
  if ((dev = bms_history_ensure_device (history, "sim:accuracy", "Accuracy", error)) <= 0)
    {
      bms_sim_free (sim);
      return FALSE;
    }
  for (guint k = 0; k < n; k++)
    {
      BmsSnapshot *s;

      bms_sim_advance (sim, run->sample_s);
      s = bms_sim_snapshot (sim);
      s->timestamp_us = t0_us + (gint64) ((k + 1) * run->sample_s * G_USEC_PER_SEC);
      g_ptr_array_add (batch, s);
      if (batch->len == 2000 || k + 1 == n)
        {
          bms_history_append_batch (history, dev, (const BmsSnapshot *const *) batch->pdata,
                                    batch->len);
          g_ptr_array_set_size (batch, 0);
        }
    }
  *sim_out = sim;
  return bms_history_flush (history, error);
}

static inline gboolean
accuracy_run (const AccuracyRun *run, const char *dir, AccuracyResult *out, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "accuracy.db", NULL);
  g_autoptr (BmsHistory) history = NULL;
  g_autoptr (BmsHealthReport) report = NULL;
  g_autoptr (BmsSim) sim = NULL;

  memset (out, 0, sizeof *out);
  out->weak_leak_ma = out->weak_capacity_pct = NAN;
  accuracy_remove_db (path);
  if (!(history = bms_history_new (path, error)) || !accuracy_record (run, history, &sim, error)
      || !(report = bms_health_analyze (history, NULL, 0, G_MAXINT64, NULL, error)))
    {
      if (history)
        bms_history_close (history);
      accuracy_remove_db (path);
      return FALSE;
    }
  out->steps_used = report->steps_used;
  for (guint c = 0; c < report->n_cells; c++)
    {
      BmsSimCellTruth truth;
      const BmsHealthCell *cell = &report->cells[c];

      bms_sim_get_cell_truth (sim, c, &truth);
      /* HEALTH_ACCURACY_DEBUG=1: every cell's estimate beside its truth */
      if (g_getenv ("HEALTH_ACCURACY_DEBUG"))
        g_printerr ("cell %3u: R %.3f (%.3f) steps %u cap %+.2f %% (%.1f Ah) leak %.2f (%.2f) mA "
                    "knees %.1f %.1f%s\n", c + 1, cell->resistance_mohm,
                    truth.resistance_ohm * 1000, cell->steps, cell->capacity_deviation_pct,
                    truth.capacity_ah, cell->leak_ma, truth.leak_a * 1000, cell->bottom_knee_mv,
                    cell->top_knee_mv, truth.weak ? " weak" : "");
      if (truth.weak)
        {
          out->weak_leak_ma = cell->leak_ma;
          out->weak_capacity_pct = cell->capacity_deviation_pct;
        }
      if (cell->steps < BMS_HEALTH_SUSPECT_STEPS)
        continue;
      out->cells_judged++;
      out->max_r_error_pct = MAX (out->max_r_error_pct,
                                  isfinite (cell->resistance_mohm)
                                  ? fabs (cell->resistance_mohm / (truth.resistance_ohm * 1000) - 1) * 100
                                  : INFINITY);
    }
  out->n_suspects = report->suspects->len;
  if (report->suspects->len)
    {
      BmsHealthSuspect *s = g_ptr_array_index (report->suspects, 0);
      out->first_suspect = s->cell;
      out->first_reasons = g_strjoinv ("; ", s->reasons);
    }
  bms_history_close (history);
  accuracy_remove_db (path);
  return TRUE;
}
