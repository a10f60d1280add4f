/* bms-health.c — cell health estimated from the recorded history.
 *
 * Pass 1 reads every sample once: current steps between adjacent samples
 * give each cell's resistance (ΔV/ΔI, kept in a bounded reservoir), the
 * median cell's voltage per SOC percent gives the pack's open-circuit curve
 * and coulomb counting the pack's capacity. Pass 2 reads the samples again:
 * near empty and near full, where that curve is steep, each cell's voltage
 * (its own IR drop removed) against the median cell's, over the local
 * slope, is an offset in state of charge; its size near empty tells the
 * capacity, its drift in time (with the hours the balancer may have bled
 * the cell fitted apart, so balancing is not taken for a leak) the
 * self-discharge. Sums per cell, for the whole range and per week.
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "bms-device.h"
#include "bms-health.h"

#define RESERVOIR_ALL   512   /* steps kept per cell for the median */
#define RESERVOIR_WEEK  96
#define SOC_BINS        101
/* The balancer bleeds a cell the board's start difference (at least 10 mV,
 * 0x9C) above the lowest one; the history keeps only the balancer bit, so
 * every cell that far up counts as possibly bled. */
#define BALANCE_DIFF_MV 10
/* The knees: where the median cell's open-circuit curve rises at least
 * this much per SOC percent, a cell's voltage pins its state of charge. */
#define KNEE_SLOPE_MV   4.0
#define BOTTOM_SOC      15
#define TOP_SOC         90
#define FIT_SOC_MIN     3
#define FIT_SOC_MAX     97
/* samples near an end before a cell's capacity or leak is told */
#define MIN_END_SAMPLES 600
/* Consecutive samples are far from independent: the leak's standard
 * error counts one independent sample per minute of 1 Hz data. */
#define CORRELATED_SAMPLES 60.0
#define WEEK_US         (G_GINT64_CONSTANT (7) * 24 * 3600 * G_USEC_PER_SEC)
/* 1970-01-05, the first Monday of the Unix epoch. */
#define MONDAY_US       (G_GINT64_CONSTANT (4) * 24 * 3600 * G_USEC_PER_SEC)

/* a cell's SOC offset near an end: which end, time, bleed hours */
enum { X_TOP, X_BOTTOM, X_DAYS, X_BLEED, N_X };

typedef struct {
  guint  seen;
  guint  kept;
  float *r;
} Reservoir;

typedef struct {
  double   xtx[N_X][N_X];
  double   xty[N_X];
  double   yy;
  guint64  n;
  double   days_min, days_max;
  double   bottom_sum, top_sum;   /* mV from the median cell near the ends */
  guint64  bottom_n, top_n;
  double   fit_soc_sum[2];        /* SOC of the fitted samples: bottom, top */
  guint64  fit_n[2];
} CellFit;

typedef struct {
  gint64     start_us;
  guint64    n_samples;
  guint      steps_used;
  guint      cap;
  Reservoir *res;   /* n_cells */
  CellFit   *fit;   /* n_cells */
} Acc;

typedef struct {
  guint     n_cells;
  Acc       all;
  GPtrArray *weeks;   /* Acc*, oldest first */
  guint32   rng;

  /* pass 1 */
  BmsHistorySample prev;
  gboolean  have_prev;
  double    bin_v[SOC_BINS], bin_i[SOC_BINS];
  guint64   bin_n[SOC_BINS];
  double    abs_ah, abs_soc;

  /* between the passes */
  double   *r_cell;          /* mΩ per cell, the median where NAN */
  double    r_median;
  double    ocv[SOC_BINS];   /* NAN where never seen */

  /* pass 2 */
  gint64    first_us;
  double   *bleed_h;         /* hours each cell was possibly bled */
  double   *scratch;
} Analysis;

/* ---- the report ---------------------------------------------------------- */

static void
suspect_free (gpointer data)
{
  BmsHealthSuspect *s = data;

  g_strfreev (s->reasons);
  g_free (s);
}

static void
week_free (gpointer data)
{
  BmsHealthWeek *w = data;

  g_free (w->cells);
  g_free (w);
}

static void
report_clear (gpointer data)
{
  BmsHealthReport *r = data;

  g_free (r->cells);
  g_clear_pointer (&r->suspects, g_ptr_array_unref);
  g_clear_pointer (&r->weeks, g_ptr_array_unref);
}

BmsHealthReport *
bms_health_report_ref (BmsHealthReport *report)
{
  return g_atomic_rc_box_acquire (report);
}

void
bms_health_report_unref (BmsHealthReport *report)
{
  g_atomic_rc_box_release_full (report, report_clear);
}

G_DEFINE_BOXED_TYPE (BmsHealthReport, bms_health_report,
                     bms_health_report_ref, bms_health_report_unref)

const BmsHealthSuspect *
bms_health_report_find_suspect (const BmsHealthReport *report, guint cell)
{
  g_return_val_if_fail (report != NULL, NULL);

  for (guint i = 0; i < report->suspects->len; i++)
    {
      const BmsHealthSuspect *s = g_ptr_array_index (report->suspects, i);
      if (s->cell == cell)
        return s;
    }
  return NULL;
}

/* ---- small statistics ---------------------------------------------------- */

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Median of the finite values of v (reordered); NAN when none. */
static double
median_of (double *v, guint n)
{
  guint m = 0;

  for (guint i = 0; i < n; i++)
    if (isfinite (v[i]))
      v[m++] = v[i];
  if (m == 0)
    return NAN;
  qsort (v, m, sizeof *v, compare_double);
  return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

/* 1.4826 × the median absolute deviation: the standard deviation of the
 * bulk, not moved by a few cells far out. */
static double
robust_sigma (const double *v, guint n, double centre)
{
  g_autofree double *d = g_new (double, n);

  for (guint i = 0; i < n; i++)
    d[i] = fabs (v[i] - centre);
  return 1.4826 * median_of (d, n);
}

static guint32
next_random (guint32 *state)
{
  /* xorshift32: deterministic, so one history always gives one report */
  *state ^= *state << 13;
  *state ^= *state >> 17;
  *state ^= *state << 5;
  return *state;
}

static void
reservoir_add (Reservoir *res, guint cap, float value, guint32 *rng)
{
  res->seen++;
  if (res->kept < cap)
    res->r[res->kept++] = value;
  else
    {
      guint j = next_random (rng) % res->seen;
      if (j < cap)
        res->r[j] = value;
    }
}

/* ---- accumulators -------------------------------------------------------- */

static void
acc_init (Acc *acc, guint n_cells, guint cap, gint64 start_us)
{
  acc->start_us = start_us;
  acc->cap = cap;
  acc->res = g_new0 (Reservoir, n_cells);
  acc->fit = g_new0 (CellFit, n_cells);
  for (guint i = 0; i < n_cells; i++)
    {
      acc->res[i].r = g_new (float, cap);
      acc->fit[i].days_min = INFINITY;
      acc->fit[i].days_max = -INFINITY;
    }
}

static void
acc_clear (Acc *acc, guint n_cells)
{
  for (guint i = 0; i < n_cells && acc->res; i++)
    g_free (acc->res[i].r);
  g_clear_pointer (&acc->res, g_free);
  g_clear_pointer (&acc->fit, g_free);
}

static gint64
week_start (gint64 time_us)
{
  gint64 t = time_us - MONDAY_US;
  gint64 k = t >= 0 ? t / WEEK_US : -((-t + WEEK_US - 1) / WEEK_US);

  return k * WEEK_US + MONDAY_US;
}

static Acc *
week_acc (Analysis *a, gint64 time_us)
{
  gint64 start = week_start (time_us);
  Acc *last = a->weeks->len ? g_ptr_array_index (a->weeks, a->weeks->len - 1) : NULL;

  if (last && last->start_us == start)
    return last;
  for (guint i = 0; i < a->weeks->len; i++)
    {
      Acc *w = g_ptr_array_index (a->weeks, i);
      if (w->start_us == start)
        return w;
    }
  last = g_new0 (Acc, 1);
  acc_init (last, a->n_cells, RESERVOIR_WEEK, start);
  g_ptr_array_add (a->weeks, last);
  return last;
}

static void
analysis_free (Analysis *a)
{
  acc_clear (&a->all, a->n_cells);
  for (guint i = 0; a->weeks && i < a->weeks->len; i++)
    {
      Acc *w = g_ptr_array_index (a->weeks, i);
      acc_clear (w, a->n_cells);
      g_free (w);
    }
  g_clear_pointer (&a->weeks, g_ptr_array_unref);
  g_free (a->r_cell);
  g_free (a->bleed_h);
  g_free (a->scratch);
  g_free (a);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Analysis, analysis_free)

/* ---- pass 1: steps, the median cell's curve, the capacity ---------------- */

static double
median_cell_mv (Analysis *a, const BmsHistorySample *s)
{
  guint n = MIN (s->n_cells, a->n_cells);

  for (guint i = 0; i < n; i++)
    a->scratch[i] = s->cells_mv[i];
  return median_of (a->scratch, n);
}

static guint
lowest_mv (const BmsHistorySample *s)
{
  guint low = G_MAXUINT;

  for (guint i = 0; i < s->n_cells; i++)
    low = MIN (low, s->cells_mv[i]);
  return low;
}

static gboolean
maybe_bled (const BmsHistorySample *s, guint cell, guint low)
{
  return (s->status & BMS_STATUS_BALANCER) != 0
         && s->cells_mv[cell] >= low + BALANCE_DIFF_MV;
}

static gboolean
same_value (double x, double y)
{
  return (isnan (x) && isnan (y)) || x == y;
}

/* Two adjacent samples make a step when the current jumped and nothing
 * else that moves a cell's voltage (temperature) changed. */
static gboolean
is_step (const BmsHistorySample *p, const BmsHistorySample *s, double *di)
{
  double dt = (s->time_us - p->time_us) / (double) G_USEC_PER_SEC;

  *di = s->values[BMS_SERIES_CURRENT] - p->values[BMS_SERIES_CURRENT];
  return dt > 0 && dt <= BMS_HEALTH_MAX_GAP_S
         && isfinite (*di) && fabs (*di) >= BMS_HEALTH_MIN_STEP_A
         && same_value (p->values[BMS_SERIES_TEMP1], s->values[BMS_SERIES_TEMP1])
         && same_value (p->values[BMS_SERIES_TEMP2], s->values[BMS_SERIES_TEMP2]);
}

static void
add_step (Analysis *a, Acc *week, const BmsHistorySample *p, const BmsHistorySample *s,
          double di)
{
  guint n = MIN (MIN (p->n_cells, s->n_cells), a->n_cells);
  guint low_p = lowest_mv (p), low_s = lowest_mv (s);

  a->all.steps_used++;
  week->steps_used++;
  for (guint i = 0; i < n; i++)
    {
      float r;

      if (maybe_bled (p, i, low_p) || maybe_bled (s, i, low_s))
        continue;
      r = ((double) s->cells_mv[i] - p->cells_mv[i]) / di;   /* mV/A = mΩ */
      reservoir_add (&a->all.res[i], a->all.cap, r, &a->rng);
      reservoir_add (&week->res[i], week->cap, r, &a->rng);
    }
}

static void
count_charge (Analysis *a, const BmsHistorySample *p, const BmsHistorySample *s)
{
  double dt = (s->time_us - p->time_us) / (double) G_USEC_PER_SEC;
  double soc0 = p->values[BMS_SERIES_SOC], soc1 = s->values[BMS_SERIES_SOC];
  double i0 = p->values[BMS_SERIES_CURRENT];

  /* The board resets its SOC at the ends: count only the middle. */
  if (dt <= 0 || dt > BMS_HEALTH_MAX_GAP_S || !isfinite (i0) || !isfinite (soc0)
      || !isfinite (soc1) || soc0 < 5 || soc0 > 95 || soc1 < 5 || soc1 > 95)
    return;
  a->abs_ah += fabs (i0 * dt / 3600.0);
  a->abs_soc += fabs (soc1 - soc0);
}

static gboolean
pass1_sample (const BmsHistorySample *s, gpointer data)
{
  Analysis *a = data;
  Acc *week = week_acc (a, s->time_us);
  double soc = s->values[BMS_SERIES_SOC], current = s->values[BMS_SERIES_CURRENT];
  double di;

  a->all.n_samples++;
  week->n_samples++;
  if (a->have_prev)
    {
      if (is_step (&a->prev, s, &di))
        add_step (a, week, &a->prev, s, di);
      count_charge (a, &a->prev, s);
    }
  if (isfinite (soc) && isfinite (current) && s->n_cells > 0)
    {
      guint bin = (guint) CLAMP (lround (soc), 0, SOC_BINS - 1);
      a->bin_v[bin] += median_cell_mv (a, s);
      a->bin_i[bin] += current;
      a->bin_n[bin]++;
    }
  memcpy (&a->prev, s, G_STRUCT_OFFSET (BmsHistorySample, cells_mv) + s->n_cells * sizeof (guint16));
  a->have_prev = TRUE;
  return TRUE;
}

static double
reservoir_median (const Reservoir *res, double *spread_out)
{
  g_autofree double *v = g_new (double, MAX (res->kept, 1));
  double m;

  for (guint i = 0; i < res->kept; i++)
    v[i] = res->r[i];
  m = median_of (v, res->kept);
  if (spread_out)
    *spread_out = res->kept ? robust_sigma (v, res->kept, m) : NAN;
  return m;
}

/* Confidence in 0…1: one minus five times the relative standard error of
 * the median (1.25 σ/√n): 2 % gives 0.9, 10 % gives 0.5, 20 % nothing. */
static void
resistance_of (const Reservoir *res, BmsHealthCell *cell)
{
  double spread, m, se;

  cell->steps = res->seen;
  cell->resistance_mohm = cell->resistance_confidence = NAN;
  if (res->seen < BMS_HEALTH_MIN_STEPS)
    return;
  m = reservoir_median (res, &spread);
  if (!(m > 0))
    return;
  se = 1.2533 * spread / sqrt (res->kept) / m;
  cell->resistance_mohm = m;
  cell->resistance_confidence = CLAMP (1.0 - 5.0 * se, 0.0, 1.0);
}

/* The median cell's open-circuit curve per SOC percent (IR drop removed),
 * made non-decreasing, with gaps filled in between seen percents. */
static void
build_curve (Analysis *a)
{
  double r = isfinite (a->r_median) ? a->r_median : 0;
  int last = -1;

  for (guint b = 0; b < SOC_BINS; b++)
    {
      a->ocv[b] = NAN;
      if (a->bin_n[b] == 0 || (r == 0 && fabs (a->bin_i[b] / a->bin_n[b]) > 0.5))
        continue;
      a->ocv[b] = (a->bin_v[b] - a->bin_i[b] * r) / a->bin_n[b];
      if (last >= 0)
        {
          a->ocv[b] = MAX (a->ocv[b], a->ocv[last]);
          for (int k = last + 1; k < (int) b; k++)
            a->ocv[k] = a->ocv[last] + (a->ocv[b] - a->ocv[last]) * (k - last) / (b - last);
        }
      last = b;
    }
}

/* ---- pass 2: each cell against the median cell near the ends ------------ */

static void
fit_add (CellFit *f, const double x[N_X], double y)
{
  for (guint i = 0; i < N_X; i++)
    {
      for (guint j = 0; j < N_X; j++)
        f->xtx[i][j] += x[i] * x[j];
      f->xty[i] += x[i] * y;
    }
  f->yy += y * y;
  f->n++;
  f->days_min = MIN (f->days_min, x[X_DAYS]);
  f->days_max = MAX (f->days_max, x[X_DAYS]);
}

static void
update_bleed (Analysis *a, const BmsHistorySample *s)
{
  double dt = a->have_prev ? (s->time_us - a->prev.time_us) / 3600e6 : 0;
  guint low = lowest_mv (s);

  if (dt <= 0 || dt > BMS_HEALTH_MAX_GAP_S / 3600.0)
    return;
  for (guint i = 0; i < MIN (s->n_cells, a->n_cells); i++)
    if (maybe_bled (s, i, low))
      a->bleed_h[i] += dt;
}

/* One cell's distance to the median cell (mV, its own IR drop removed) in
 * a sample near an end of the curve: kept as mV for the reasons and, over
 * the local slope, as a SOC offset for the fit. */
/* Slope of the curve around bin b in mV per percent; NAN where unseen. */
static double
curve_slope (const Analysis *a, int b)
{
  int lo = MAX (b - 2, 0), hi = MIN (b + 2, SOC_BINS - 1);

  return (a->ocv[hi] - a->ocv[lo]) / (hi - lo);
}

static void
knee_add (Analysis *a, Acc *week, guint i, double soc, double dmv, double x[N_X])
{
  gboolean bottom = soc <= BOTTOM_SOC;
  double slope = curve_slope (a, (int) CLAMP (lround (soc), 0, SOC_BINS - 1));
  CellFit *fits[] = { &a->all.fit[i], &week->fit[i] };

  for (guint k = 0; k < G_N_ELEMENTS (fits); k++)
    {
      if (bottom)
        {
          fits[k]->bottom_sum += dmv;
          fits[k]->bottom_n++;
        }
      else
        {
          fits[k]->top_sum += dmv;
          fits[k]->top_n++;
        }
      /* not the last percents: there the curve is too steep to say
       * more than "full" or "empty" */
      if (slope >= KNEE_SLOPE_MV && soc >= FIT_SOC_MIN && soc <= FIT_SOC_MAX)
        {
          fit_add (fits[k], x, dmv / slope);
          fits[k]->fit_soc_sum[!bottom] += soc;
          fits[k]->fit_n[!bottom]++;
        }
    }
}

static gboolean
pass2_sample (const BmsHistorySample *s, gpointer data)
{
  Analysis *a = data;
  Acc *week = week_acc (a, s->time_us);
  double current = s->values[BMS_SERIES_CURRENT], soc = s->values[BMS_SERIES_SOC];
  guint n = MIN (s->n_cells, a->n_cells);
  double med_mv, med_bleed, x[N_X];

  if (a->first_us == 0)
    a->first_us = s->time_us;
  update_bleed (a, s);
  memcpy (&a->prev, s, G_STRUCT_OFFSET (BmsHistorySample, cells_mv));
  a->have_prev = TRUE;
  if (n == 0 || !isfinite (current) || !isfinite (soc) || (soc > BOTTOM_SOC && soc < TOP_SOC)
      || (!isfinite (a->r_median) && fabs (current) > 0.5))
    return TRUE;

  for (guint i = 0; i < n; i++)
    a->scratch[i] = s->cells_mv[i] - current * a->r_cell[i];
  med_mv = median_of (a->scratch, n);
  for (guint i = 0; i < n; i++)
    a->scratch[i] = a->bleed_h[i];
  med_bleed = median_of (a->scratch, n);
  x[X_TOP] = soc >= TOP_SOC;
  x[X_BOTTOM] = soc <= BOTTOM_SOC;
  x[X_DAYS] = (s->time_us - a->first_us) / (24 * 3600e6);
  for (guint i = 0; i < n; i++)
    {
      x[X_BLEED] = a->bleed_h[i] - med_bleed;
      knee_add (a, week, i, soc, s->cells_mv[i] - current * a->r_cell[i] - med_mv, x);
    }
  return TRUE;
}

/* Solves the normal equations by Gauss–Jordan elimination; a column
 * without variation (no balancing at all, one end only) is left out with
 * a coefficient of 0 and a NAN variance. inv_diag gets the inverse's
 * diagonal. */
static void
solve (const CellFit *f, double beta[N_X], double inv_diag[N_X])
{
  double m[N_X][2 * N_X];
  gboolean used[N_X];

  for (guint i = 0; i < N_X; i++)
    {
      for (guint j = 0; j < N_X; j++)
        {
          m[i][j] = f->xtx[i][j];
          m[i][N_X + j] = i == j;
        }
      used[i] = f->xtx[i][i] > 0;
    }
  for (guint c = 0; c < N_X; c++)
    {
      double pivot = m[c][c];

      /* relative to the column's own scale, so units do not matter */
      if (!used[c] || fabs (pivot) <= 1e-6 * f->xtx[c][c])
        {
          used[c] = FALSE;
          for (guint k = 0; k < 2 * N_X; k++)
            m[c][k] = 0;
          for (guint k = 0; k < N_X; k++)
            m[k][c] = 0;
          continue;
        }
      for (guint k = 0; k < 2 * N_X; k++)
        m[c][k] /= pivot;
      for (guint r = 0; r < N_X; r++)
        if (r != c && m[r][c] != 0)
          {
            double factor = m[r][c];
            for (guint k = 0; k < 2 * N_X; k++)
              m[r][k] -= factor * m[c][k];
          }
    }
  for (guint i = 0; i < N_X; i++)
    {
      beta[i] = 0;
      inv_diag[i] = used[i] ? m[i][N_X + i] : NAN;
      if (used[i])
        for (guint j = 0; j < N_X; j++)
          beta[i] += m[i][N_X + j] * f->xty[j];
    }
}

/* Capacity: a cell's SOC offset from the median cell grows with the
 * depth of discharge when it holds less (it reaches the bottom knee first
 * and the top knee first), while an offset from imbalance is the same at
 * both ends; so the offsets near empty and near full (the fit's two
 * intercepts) over the depth between them give the capacity. Only with
 * both ends seen. Self-discharge: the drift of the offset in time, the
 * balancer's bleed fitted apart, turned into mA with the pack's capacity;
 * reported only over a day and a half and when its standard error (one
 * independent sample per minute) is below BMS_HEALTH_LEAK_SE_MA. */
static void
fit_result (const Analysis *a, const CellFit *f, double capacity_ah, BmsHealthCell *cell)
{
  double beta[N_X], inv[N_X], rss, sigma2, se_ma;
  guint used = 0;

  cell->leak_ma = cell->capacity_deviation_pct = NAN;
  cell->bottom_knee_mv = f->bottom_n ? f->bottom_sum / f->bottom_n : NAN;
  cell->top_knee_mv = f->top_n ? f->top_sum / f->top_n : NAN;
  if (f->n < MIN_END_SAMPLES)
    return;
  solve (f, beta, inv);
  if (f->fit_n[0] >= MIN_END_SAMPLES && f->fit_n[1] >= MIN_END_SAMPLES
      && isfinite (inv[X_TOP]) && isfinite (inv[X_BOTTOM]))
    {
      double depth = f->fit_soc_sum[1] / f->fit_n[1] - f->fit_soc_sum[0] / f->fit_n[0];
      double c = (beta[X_BOTTOM] - beta[X_TOP]) / depth;

      if (depth >= 50 && c < 1)
        cell->capacity_deviation_pct = (1 / (1 - c) - 1) * 100;
    }
  if (f->days_max - f->days_min < 1.5 || !isfinite (capacity_ah))
    return;
  rss = f->yy;
  for (guint i = 0; i < N_X; i++)
    {
      rss -= beta[i] * f->xty[i];
      used += isfinite (inv[i]);
    }
  if (!isfinite (inv[X_DAYS]) || f->n <= used)
    return;
  sigma2 = MAX (rss, 0) / (f->n - used) * CORRELATED_SAMPLES;
  /* %/day → mA: × Ah / 100 / 24 h × 1000 */
  se_ma = sqrt (sigma2 * inv[X_DAYS]) * capacity_ah * 10 / 24;
  if (se_ma < BMS_HEALTH_LEAK_SE_MA)
    cell->leak_ma = -beta[X_DAYS] * capacity_ah * 10 / 24;
}

/* ---- suspects ------------------------------------------------------------ */

typedef struct {
  double centre, sigma;
} Spread;

static Spread
spread_of (const BmsHealthCell *cells, guint n, gsize offset, double floor)
{
  g_autofree double *v = g_new (double, MAX (n, 1));
  Spread s;

  for (guint i = 0; i < n; i++)
    v[i] = G_STRUCT_MEMBER (double, &cells[i], offset);
  s.centre = median_of (v, n);
  for (guint i = 0; i < n; i++)
    v[i] = G_STRUCT_MEMBER (double, &cells[i], offset);
  s.sigma = isfinite (s.centre) ? robust_sigma (v, n, s.centre) : NAN;
  if (!(s.sigma >= floor))
    s.sigma = floor;
  return s;
}

static void
knee_reason (GPtrArray *reasons, const BmsHealthCell *c)
{
  if (isfinite (c->bottom_knee_mv) && c->bottom_knee_mv <= -5)
    g_ptr_array_add (reasons, g_strdup_printf (_("reaches the bottom knee first, %.0f mV below the median"),
                                               -c->bottom_knee_mv));
  else if (isfinite (c->top_knee_mv) && c->top_knee_mv >= 5)
    g_ptr_array_add (reasons, g_strdup_printf (_("reaches the top knee first, %.0f mV above the median"),
                                               c->top_knee_mv));
}

/* How many robust standard deviations out of the pack's spread a figure
 * must be to make a suspect: 4 up to 16 cells, then growing like the
 * largest of n normal deviates (√(2 ln n)), since every cell more is one
 * more draw from the pack's tails: 5.7 for 256 cells. */
static double
suspect_z (guint n_cells)
{
  return 4.0 * sqrt (log (MAX (n_cells, 16)) / log (16));
}

/* A cell is suspect for a figure far out of the pack's own spread
 * (suspect_z robust standard deviations) and far enough to matter in
 * absolute terms. */
static BmsHealthSuspect *
judge_cell (const BmsHealthCell *c, double z_min, Spread r, Spread cap, Spread leak)
{
  g_autoptr (GPtrArray) reasons = g_ptr_array_new ();
  double score = 0, z;

  z = (c->resistance_mohm / r.centre - 1) / r.sigma;
  if (c->steps >= BMS_HEALTH_SUSPECT_STEPS && isfinite (z) && z >= z_min
      && c->resistance_mohm >= 1.3 * r.centre)
    {
      score += z;
      g_ptr_array_add (reasons,
                       g_strdup_printf (ngettext ("%.1f × the median resistance over %u current step",
                                                  "%.1f × the median resistance over %u current steps",
                                                  c->steps),
                                        c->resistance_mohm / r.centre, c->steps));
    }
  z = (cap.centre - c->capacity_deviation_pct) / cap.sigma;
  if (isfinite (z) && z >= z_min && c->capacity_deviation_pct - cap.centre <= -BMS_HEALTH_SUSPECT_CAPACITY_PCT)
    {
      score += z;
      g_ptr_array_add (reasons, g_strdup_printf (_("holds about %.0f %% less than the median cell"),
                                                 cap.centre - c->capacity_deviation_pct));
      knee_reason (reasons, c);
    }
  z = (c->leak_ma - leak.centre) / leak.sigma;
  if (isfinite (z) && z >= z_min && c->leak_ma - leak.centre >= BMS_HEALTH_SUSPECT_LEAK_MA)
    {
      score += z;
      g_ptr_array_add (reasons, g_strdup_printf (_("discharges itself about %.1f mA more than the median cell"),
                                                 c->leak_ma - leak.centre));
    }
  if (reasons->len == 0)
    return NULL;
  {
    BmsHealthSuspect *s = g_new0 (BmsHealthSuspect, 1);
    s->cell = c->cell;
    s->score = score;
    g_ptr_array_add (reasons, NULL);
    s->reasons = (char **) g_ptr_array_steal (reasons, NULL);
    return s;
  }
}

static int
compare_suspects (gconstpointer a, gconstpointer b)
{
  const BmsHealthSuspect *x = *(BmsHealthSuspect *const *) a;
  const BmsHealthSuspect *y = *(BmsHealthSuspect *const *) b;
  return (x->score < y->score) - (x->score > y->score);
}

static void
find_suspects (BmsHealthReport *report)
{
  Spread r = spread_of (report->cells, report->n_cells,
                        G_STRUCT_OFFSET (BmsHealthCell, resistance_mohm), 0);
  Spread cap = spread_of (report->cells, report->n_cells,
                          G_STRUCT_OFFSET (BmsHealthCell, capacity_deviation_pct), 1.0);
  Spread leak = spread_of (report->cells, report->n_cells,
                           G_STRUCT_OFFSET (BmsHealthCell, leak_ma), 0.5);
  double z_min = suspect_z (report->n_cells);

  /* resistance as a ratio to the median: at least 5 % of spread */
  r.sigma = isfinite (r.centre) ? MAX (r.sigma / r.centre, 0.05) : NAN;
  for (guint i = 0; i < report->n_cells; i++)
    {
      BmsHealthSuspect *s = judge_cell (&report->cells[i], z_min, r, cap, leak);
      if (s)
        g_ptr_array_add (report->suspects, s);
    }
  g_ptr_array_sort (report->suspects, compare_suspects);
}

/* ---- putting it together ------------------------------------------------- */

static BmsHealthCell *
cells_of (Analysis *a, Acc *acc, double capacity_ah)
{
  BmsHealthCell *cells = g_new0 (BmsHealthCell, a->n_cells);

  for (guint i = 0; i < a->n_cells; i++)
    {
      cells[i].cell = i + 1;
      resistance_of (&acc->res[i], &cells[i]);
      fit_result (a, &acc->fit[i], capacity_ah, &cells[i]);
    }
  return cells;
}

static gboolean
find_device (BmsHistory *history, const char *key, gint64 *device_id, GError **error)
{
  g_autoptr (GPtrArray) devices = bms_history_list_devices (history, error);
  g_autoptr (GString) keys = g_string_new (NULL);

  if (!devices)
    return FALSE;
  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      if ((key == NULL && devices->len == 1) || g_strcmp0 (d->key, key) == 0)
        {
          *device_id = d->id;
          return TRUE;
        }
      g_string_append_printf (keys, "%s%s", keys->len ? ", " : "", d->key);
    }
  if (key == NULL && devices->len == 0)
    g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_INVALID,
                 _("The history holds no device yet"));
  else if (key == NULL)
    g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_INVALID,
                 _("The history holds several devices (%s): choose one"), keys->str);
  else
    g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_INVALID,
                 _("No device “%s” in the history (known: %s)"), key,
                 keys->len ? keys->str : "-");
  return FALSE;
}

static void
prepare_pass2 (Analysis *a, BmsHealthReport *report)
{
  g_autofree double *r = g_new (double, MAX (a->n_cells, 1));

  for (guint i = 0; i < a->n_cells; i++)
    r[i] = report->cells[i].resistance_mohm;
  a->r_median = median_of (r, a->n_cells);
  for (guint i = 0; i < a->n_cells; i++)
    {
      a->r_cell[i] = report->cells[i].resistance_mohm;
      if (!isfinite (a->r_cell[i]))
        a->r_cell[i] = isfinite (a->r_median) ? a->r_median : 0;
    }
  build_curve (a);
  a->have_prev = FALSE;
}

static BmsHealthReport *
report_new (gint64 from_us, gint64 to_us)
{
  BmsHealthReport *report = g_atomic_rc_box_new0 (BmsHealthReport);

  report->from_us = from_us;
  report->to_us = to_us;
  report->median_resistance_mohm = report->pack_capacity_ah = NAN;
  report->suspects = g_ptr_array_new_with_free_func (suspect_free);
  report->weeks = g_ptr_array_new_with_free_func (week_free);
  return report;
}

static void
finish_report (Analysis *a, BmsHealthReport *report)
{
  report->n_samples = a->all.n_samples;
  report->steps_used = a->all.steps_used;
  g_free (report->cells);
  report->cells = cells_of (a, &a->all, report->pack_capacity_ah);
  report->median_resistance_mohm = a->r_median;
  for (guint k = 0; k < a->weeks->len; k++)
    {
      Acc *acc = g_ptr_array_index (a->weeks, k);
      BmsHealthWeek *w = g_new0 (BmsHealthWeek, 1);

      w->start_us = acc->start_us;
      w->n_samples = acc->n_samples;
      w->steps_used = acc->steps_used;
      w->n_cells = a->n_cells;
      w->cells = cells_of (a, acc, report->pack_capacity_ah);
      g_ptr_array_add (report->weeks, w);
    }
  find_suspects (report);
}

BmsHealthReport *
bms_health_analyze (BmsHistory   *history,
                    const char   *device_key,
                    gint64        from_us,
                    gint64        to_us,
                    GCancellable *cancellable,
                    GError      **error)
{
  g_autoptr (BmsHealthReport) report = NULL;
  g_autoptr (Analysis) a = NULL;
  gint64 device_id = 0;
  gint max_cells;

  g_return_val_if_fail (BMS_IS_HISTORY (history), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!find_device (history, device_key, &device_id, error))
    return NULL;
  if ((max_cells = bms_history_get_max_cells (history, device_id, from_us, to_us, error)) < 0)
    return NULL;

  a = g_new0 (Analysis, 1);
  a->n_cells = MIN ((guint) max_cells, BMS_MAX_CELLS);
  a->rng = 0x9e3779b9u;
  a->weeks = g_ptr_array_new ();
  a->r_cell = g_new0 (double, MAX (a->n_cells, 1));
  a->bleed_h = g_new0 (double, MAX (a->n_cells, 1));
  a->scratch = g_new0 (double, MAX (a->n_cells, 1));

  acc_init (&a->all, a->n_cells, RESERVOIR_ALL, 0);
  report = report_new (from_us, to_us);

  if (!bms_history_foreach_sample (history, device_id, from_us, to_us, pass1_sample, a,
                                   cancellable, error))
    return NULL;
  if (a->abs_soc >= 20)
    report->pack_capacity_ah = a->abs_ah / a->abs_soc * 100.0;
  report->n_cells = a->n_cells;
  report->cells = g_new0 (BmsHealthCell, a->n_cells);
  for (guint i = 0; i < a->n_cells; i++)
    resistance_of (&a->all.res[i], &report->cells[i]);
  prepare_pass2 (a, report);

  if (!bms_history_foreach_sample (history, device_id, from_us, to_us, pass2_sample, a,
                                   cancellable, error))
    return NULL;
  finish_report (a, report);
  return g_steal_pointer (&report);
}

typedef struct {
  BmsHistory *history;
  char       *device_key;
  gint64      from_us, to_us;
} AnalyzeJob;

static void
analyze_job_free (gpointer data)
{
  AnalyzeJob *job = data;

  g_object_unref (job->history);
  g_free (job->device_key);
  g_free (job);
}

static void
analyze_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  AnalyzeJob *job = data;
  GError *error = NULL;
  BmsHealthReport *report = bms_health_analyze (job->history, job->device_key, job->from_us,
                                                job->to_us, cancellable, &error);

  if (report)
    g_task_return_pointer (task, report, (GDestroyNotify) bms_health_report_unref);
  else
    g_task_return_error (task, error);
}

void
bms_health_analyze_async (BmsHistory          *history,
                          const char          *device_key,
                          gint64               from_us,
                          gint64               to_us,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  AnalyzeJob *job;

  g_return_if_fail (BMS_IS_HISTORY (history));

  job = g_new0 (AnalyzeJob, 1);
  job->history = g_object_ref (history);
  job->device_key = g_strdup (device_key);
  job->from_us = from_us;
  job->to_us = to_us;
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_health_analyze_async);
  g_task_set_task_data (task, job, analyze_job_free);
  g_task_run_in_thread (task, analyze_thread);
}

BmsHealthReport *
bms_health_analyze_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- JSON ---------------------------------------------------------------- */

static void
append_number (GString *out, double v, const char *format)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    g_string_append (out, "null");
  else
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, format, v));
}

static void
append_string (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (out, "\\%c", *p);
      else if ((guchar) *p < 0x20)
        g_string_append_printf (out, "\\u%04x", (guchar) *p);
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

char *
bms_health_report_to_json (const BmsHealthReport *report)
{
  GString *out = g_string_new ("{\"cells\":[");

  g_return_val_if_fail (report != NULL, NULL);

  for (guint i = 0; i < report->n_cells; i++)
    {
      const BmsHealthCell *c = &report->cells[i];

      g_string_append_printf (out, "%s\n  {\"cell\":%u,\"resistance_mohm\":", i ? "," : "", c->cell);
      append_number (out, c->resistance_mohm, "%.4g");
      g_string_append (out, ",\"resistance_confidence\":");
      append_number (out, c->resistance_confidence, "%.2f");
      g_string_append (out, ",\"capacity_deviation_pct\":");
      append_number (out, c->capacity_deviation_pct, "%.2f");
      g_string_append (out, ",\"leak_ma\":");
      append_number (out, c->leak_ma, "%.2f");
      g_string_append (out, "}");
    }
  g_string_append (out, report->n_cells ? "\n],\"suspects\":[" : "],\"suspects\":[");
  for (guint i = 0; i < report->suspects->len; i++)
    {
      const BmsHealthSuspect *s = g_ptr_array_index (report->suspects, i);

      g_string_append_printf (out, "%s\n  {\"cell\":%u,\"reasons\":[", i ? "," : "", s->cell);
      for (guint k = 0; s->reasons[k]; k++)
        {
          if (k)
            g_string_append_c (out, ',');
          append_string (out, s->reasons[k]);
        }
      g_string_append (out, "]}");
    }
  g_string_append_printf (out, "%s],\"steps_used\":%u}\n", report->suspects->len ? "\n" : "",
                          report->steps_used);
  return g_string_free (out, FALSE);
}
