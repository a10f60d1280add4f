/* health-synth.h — synthetic pack histories with a known truth for the cell
 * health tests: each cell has its own ohmic resistance, a slower
 * polarisation (one RC pair, 30 s), capacity and self-discharge; a load
 * that steps every one to ten minutes; full cycles between the knees; a
 * passive balancer; the board's quantisation (1 mV, 10 mA, 1 %, 1 °C). */
#pragma once

#include <math.h>
#include <string.h>

#include "bms-device.h"
#include "bms-history.h"

typedef struct {
  guint    n_cells;
  double   days;
  double   capacity_ah;     /* nominal cell capacity */
  double   sample_s;        /* 1 by default */
  guint32  seed;
  guint    weak_cell;       /* 1-based, 0: none */
  double   weak_r;          /* × resistance (1: healthy) */
  double   weak_cap;        /* × capacity */
  double   weak_leak_ma;    /* extra self-discharge */
  double   r_spread;        /* relative standard deviation of resistance (0.05) */
  gboolean temp_changes;    /* TEMP1 flips every 97 s */
  gint64   t0_us;
} SynthPack;

typedef struct {
  double r0_mohm[BMS_MAX_CELLS];
  double cap_ah[BMS_MAX_CELLS];
  double leak_ma[BMS_MAX_CELLS];
  guint  steps;              /* pack steps ≥ BMS_HEALTH_MIN_STEP_A */
} SynthTruth;

static inline void
synth_defaults (SynthPack *p, guint n_cells, double days, guint32 seed)
{
  memset (p, 0, sizeof *p);
  p->n_cells = n_cells;
  p->days = days;
  p->capacity_ah = 20;
  p->sample_s = 1;
  p->seed = seed;
  p->weak_r = p->weak_cap = 1;
  p->r_spread = 0.05;
  p->t0_us = G_GINT64_CONSTANT (1767571200000000); /* Mon 2026-01-05 00:00 UTC */
}

/* LFP-like: steep below 10 % and above 95 %, a shallow middle. */
static inline double
synth_ocv_mv (double soc)
{
  static const double pts[][2] = {
    { 0.00, 2600 }, { 0.03, 2950 }, { 0.06, 3120 }, { 0.10, 3195 }, { 0.20, 3248 },
    { 0.50, 3296 }, { 0.80, 3328 }, { 0.93, 3345 }, { 0.97, 3395 }, { 0.99, 3480 },
    { 1.00, 3600 },
  };
  const guint n = G_N_ELEMENTS (pts);

  if (soc <= 0)
    return pts[0][1] + soc * 8000;
  if (soc >= 1)
    return pts[n - 1][1] + (soc - 1) * 8000;
  for (guint i = 1; i < n; i++)
    if (soc <= pts[i][0])
      return pts[i - 1][1] + (soc - pts[i - 1][0]) / (pts[i][0] - pts[i - 1][0])
                             * (pts[i][1] - pts[i - 1][1]);
  return pts[n - 1][1];
}

static inline double
synth_gauss (GRand *rand)
{
  double u = g_rand_double_range (rand, 1e-12, 1), v = g_rand_double (rand);
  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

/* Writes the pack's history under device_key and returns its truth. */
static inline void
synth_write (BmsHistory *h, const char *device_key, const SynthPack *p, SynthTruth *truth)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (p->seed);
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);
  g_autoptr (GError) error = NULL;
  double soc[BMS_MAX_CELLS], v1[BMS_MAX_CELLS], r1[BMS_MAX_CELLS], bleed[BMS_MAX_CELLS];
  double load = 0, charge = 0, next_step = 0, last_i = 0;
  gboolean charging = FALSE;
  guint n = (guint) (p->days * 86400 / p->sample_s);
  gint64 dev = bms_history_ensure_device (h, device_key, "Synthetic", &error);

  g_assert_no_error (error);
  memset (truth, 0, sizeof *truth);
  for (guint c = 0; c < p->n_cells; c++)
    {
      gboolean weak = c + 1 == p->weak_cell;
      truth->r0_mohm[c] = (0.1 / p->capacity_ah * 1000) * (1 + p->r_spread * synth_gauss (rand))
                          * (weak ? p->weak_r : 1);
      truth->cap_ah[c] = p->capacity_ah * (1 + 0.015 * synth_gauss (rand)) * (weak ? p->weak_cap : 1);
      truth->leak_ma[c] = 0.3 * fabs (synth_gauss (rand)) + (weak ? p->weak_leak_ma : 0);
      r1[c] = truth->r0_mohm[c] * 0.6;
      soc[c] = 0.55 + 0.01 * synth_gauss (rand);
      v1[c] = 0;
    }
  for (guint k = 0; k < n; k++)
    {
      double t = k * p->sample_s, current, mean_soc = 0, vmin = 1e9, vmax = 0;
      g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
      guint16 mv[BMS_MAX_CELLS];
      gboolean balancing = FALSE;
      double v[BMS_MAX_CELLS];

      if (t >= next_step)
        {
          /* a household: 0.05 C idle to 0.6 C with the kettle on */
          load = -p->capacity_ah * g_rand_double_range (rand, 0.05, 0.6);
          next_step = t + g_rand_double_range (rand, 60, 600);
        }
      for (guint c = 0; c < p->n_cells; c++)
        mean_soc += soc[c] / p->n_cells;
      current = load + charge;
      for (guint c = 0; c < p->n_cells; c++)
        {
          v[c] = synth_ocv_mv (soc[c]) + current * truth->r0_mohm[c] + v1[c];
          vmin = MIN (vmin, v[c]);
          vmax = MAX (vmax, v[c]);
        }
      /* protection and charger: turn round at the knees */
      if (!charging && (mean_soc < 0.07 || vmin < 2800))
        {
          charging = TRUE;
          charge = p->capacity_ah * 0.8;
        }
      else if (charging && (mean_soc > 0.985 || vmax > 3550))
        {
          charging = FALSE;
          charge = 0;
        }
      for (guint c = 0; c < p->n_cells; c++)
        {
          bleed[c] = vmax > 3380 && v[c] - vmin >= 20 ? 0.08 : 0;
          balancing |= bleed[c] > 0;
          mv[c] = (guint16) CLAMP (lround (v[c] + 0.3 * synth_gauss (rand)), 0, 65535);
        }

      s->timestamp_us = p->t0_us + (gint64) (t * G_USEC_PER_SEC);
      bms_snapshot_set_cells (s, mv, p->n_cells);
      bms_snapshot_set_raw (s, BMS_ID_CURRENT, lround (current * 100));
      bms_snapshot_set_raw (s, BMS_ID_SOC, CLAMP (lround (mean_soc * 100), 0, 100));
      bms_snapshot_set_raw (s, BMS_ID_TEMP1, p->temp_changes ? 25 + ((guint) t / 97) % 2 : 25);
      bms_snapshot_set_raw (s, BMS_ID_TEMP2, 24);
      bms_snapshot_set_raw (s, BMS_ID_STATUS, 0x03 | (balancing ? BMS_STATUS_BALANCER : 0));
      if (k > 0 && fabs (lround (current * 100) / 100.0 - last_i) >= 2.0)
        truth->steps++;
      last_i = lround (current * 100) / 100.0;
      g_ptr_array_add (batch, g_steal_pointer (&s));
      if (batch->len == 2000 || k + 1 == n)
        {
          bms_history_append_batch (h, dev, (const BmsSnapshot *const *) batch->pdata, batch->len);
          g_ptr_array_set_size (batch, 0);
        }

      /* the cells move on to the next sample */
      for (guint c = 0; c < p->n_cells; c++)
        {
          double a = exp (-p->sample_s / 30.0);
          double amps = current - bleed[c] - truth->leak_ma[c] / 1000;
          soc[c] += amps * p->sample_s / 3600 / truth->cap_ah[c];
          v1[c] = v1[c] * a + current * r1[c] * (1 - a);
        }
    }
  g_assert_true (bms_history_flush (h, &error));
  g_assert_no_error (error);
}
