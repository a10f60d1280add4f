/* test-graph-series.c — the per-column reduction against brute force. */
#include "bms-graph-series.h"

#include <math.h>

/* Deterministic data: a slow wave, noise, a spike, a dip and a few gaps. */
static BmsGraphSeries *
make_series (gsize    n,
             guint32  seed,
             gboolean with_nan,
             gboolean incremental)
{
  BmsGraphSeries *s = bms_graph_series_new ("cell_1", "Cell 1", "mV");
  g_autofree double *t = g_new (double, n);
  g_autofree float *v = g_new (float, n);
  GRand *rand = g_rand_new_with_seed (seed);
  double now = 1.7e9;

  for (gsize i = 0; i < n; i++)
    {
      now += g_rand_double_range (rand, 0.5, 1.5);
      t[i] = now;
      v[i] = 3300 + 50 * sin (i / 5000.0) + g_rand_double_range (rand, -3, 3);
      if (with_nan && g_rand_int_range (rand, 0, 500) == 0)
        v[i] = NAN;
    }
  if (n > 10)
    {
      v[n / 3] = 4100;   /* one-sample spike */
      v[2 * n / 3] = 2500;
    }
  if (incremental)
    bms_graph_series_append_many (s, t, v, n);
  else
    bms_graph_series_set_data (s, t, v, n);
  g_rand_free (rand);
  return s;
}

static gboolean
brute_minmax (const float *v,
              gsize        a,
              gsize        b,
              float       *mn,
              float       *mx)
{
  gboolean any = FALSE;

  for (gsize i = a; i < b; i++)
    {
      if (isnan (v[i]))
        continue;
      if (!any || v[i] < *mn)
        *mn = v[i];
      if (!any || v[i] > *mx)
        *mx = v[i];
      any = TRUE;
    }
  return any;
}

static void
test_range_minmax (void)
{
  g_autoptr(BmsGraphSeries) s = make_series (200000, 7, TRUE, FALSE);
  const float *v = bms_graph_series_get_values (s);
  GRand *rand = g_rand_new_with_seed (99);

  for (guint k = 0; k < 3000; k++)
    {
      gsize a = g_rand_int_range (rand, 0, 200000);
      gsize len = k % 3 == 0 ? g_rand_int_range (rand, 0, 70)
                : k % 3 == 1 ? g_rand_int_range (rand, 0, 5000)
                             : g_rand_int_range (rand, 0, 200000);
      gsize b = MIN (a + len, 200000);
      float mn = 0, mx = 0, emn = 0, emx = 0;
      gboolean got = bms_graph_series_range_minmax (s, a, b, &mn, &mx);
      gboolean want = brute_minmax (v, a, b, &emn, &emx);

      g_assert_cmpint (got, ==, want);
      if (want)
        {
          g_assert_cmpfloat (mn, ==, emn);
          g_assert_cmpfloat (mx, ==, emx);
        }
    }
  g_rand_free (rand);
}

/* Appending one by one must give the same pyramid as a bulk load. */
static void
test_incremental_equals_bulk (void)
{
  g_autoptr(BmsGraphSeries) bulk = make_series (100003, 3, TRUE, FALSE);
  g_autoptr(BmsGraphSeries) inc = make_series (100003, 3, TRUE, TRUE);

  for (gsize a = 0; a < 100003; a += 977)
    {
      float m1 = 0, x1 = 0, m2 = 0, x2 = 0;
      gsize b = MIN (a + 40000, 100003);
      g_assert_cmpint (bms_graph_series_range_minmax (bulk, a, b, &m1, &x1), ==,
                       bms_graph_series_range_minmax (inc, a, b, &m2, &x2));
      g_assert_cmpfloat (m1, ==, m2);
      g_assert_cmpfloat (x1, ==, x2);
    }
}

static void
check_reduce (BmsGraphSeries *s,
              double          t0,
              double          t1,
              guint           cols)
{
  const double *t = bms_graph_series_get_times (s);
  const float *v = bms_graph_series_get_values (s);
  gsize n = bms_graph_series_get_n_points (s);
  g_autofree BmsGraphBucket *b = g_new0 (BmsGraphBucket, cols);
  gsize total = bms_graph_series_reduce (s, t0, t1, cols, b);
  gsize i = 0, counted = 0;
  double w = (t1 - t0) / cols;

  while (i < n && t[i] < t0)
    i++;
  for (guint c = 0; c < cols; c++)
    {
      double edge = c + 1 == cols ? t1 : t0 + w * (c + 1);
      gsize start = i;
      float mn = 0, mx = 0;

      while (i < n && t[i] < edge)
        i++;
      g_assert_cmpuint (b[c].n, ==, i - start);
      counted += i - start;
      if (i == start)
        continue;
      g_assert_cmpfloat (b[c].t_first, ==, t[start]);
      g_assert_cmpfloat (b[c].t_last, ==, t[i - 1]);
      if (!brute_minmax (v, start, i, &mn, &mx))
        {
          g_assert_true (isnan (b[c].min));
          continue;
        }
      g_assert_cmpfloat (b[c].min, ==, mn);
      g_assert_cmpfloat (b[c].max, ==, mx);
      for (gsize j = start; j < i; j++)
        if (!isnan (v[j]))
          {
            g_assert_cmpfloat (b[c].first, ==, v[j]);
            break;
          }
      for (gsize j = i; j > start; j--)
        if (!isnan (v[j - 1]))
          {
            g_assert_cmpfloat (b[c].last, ==, v[j - 1]);
            break;
          }
    }
  g_assert_cmpuint (total, ==, counted);
}

static void
test_reduce (void)
{
  g_autoptr(BmsGraphSeries) s = make_series (300000, 11, TRUE, FALSE);
  double a, b;

  g_assert_true (bms_graph_series_get_time_range (s, &a, &b));
  check_reduce (s, a, b + 1, 1920);            /* everything */
  check_reduce (s, a - 1000, b + 1000, 640);   /* with empty margins */
  check_reduce (s, a + (b - a) * 0.4, a + (b - a) * 0.41, 1920); /* zoomed: sparse columns */
  check_reduce (s, a + 100, a + 110, 1920);    /* more columns than samples */
  check_reduce (s, b + 10, b + 20, 100);       /* nothing at all */
}

/* The reason for min/max: a single-sample spike survives any reduction. */
static void
test_reduce_keeps_spike (void)
{
  g_autoptr(BmsGraphSeries) s = make_series (1000000, 5, FALSE, FALSE);
  g_autofree BmsGraphBucket *b = g_new0 (BmsGraphBucket, 800);
  double a, e;
  float hi = -1, lo = 1e9;

  bms_graph_series_get_time_range (s, &a, &e);
  g_assert_cmpuint (bms_graph_series_reduce (s, a, e + 1, 800, b), ==, 1000000);
  for (guint c = 0; c < 800; c++)
    {
      hi = MAX (hi, b[c].max);
      lo = MIN (lo, b[c].min);
    }
  g_assert_cmpfloat (hi, ==, 4100);
  g_assert_cmpfloat (lo, ==, 2500);
}

static void
test_nearest_and_bounds (void)
{
  g_autoptr(BmsGraphSeries) s = bms_graph_series_new ("soc", "SOC", "%");
  gsize idx = 0;

  g_assert_false (bms_graph_series_nearest (s, 5, &idx));
  g_assert_true (bms_graph_series_append (s, 10, 50));
  g_assert_true (bms_graph_series_append (s, 20, NAN));
  g_assert_true (bms_graph_series_append (s, 30, 52));
  g_assert_true (bms_graph_series_append (s, 30, 53));   /* equal time is fine */

  g_assert_cmpuint (bms_graph_series_lower_bound (s, 0), ==, 0);
  g_assert_cmpuint (bms_graph_series_lower_bound (s, 20), ==, 1);
  g_assert_cmpuint (bms_graph_series_lower_bound (s, 31), ==, 4);

  g_assert_true (bms_graph_series_nearest (s, 12, &idx));
  g_assert_cmpuint (idx, ==, 0);
  g_assert_true (bms_graph_series_nearest (s, 19, &idx));   /* skips the gap */
  g_assert_cmpuint (idx, ==, 0);
  g_assert_true (bms_graph_series_nearest (s, 27, &idx));
  g_assert_cmpuint (idx, ==, 2);
  g_assert_true (bms_graph_series_nearest (s, 99, &idx));
  g_assert_cmpuint (idx, ==, 3);

  g_assert_false (bms_graph_series_append (s, 25, 1));   /* backwards: refused */
  g_assert_cmpuint (bms_graph_series_get_n_points (s), ==, 4);

  bms_graph_series_clear (s);
  g_assert_cmpuint (bms_graph_series_get_n_points (s), ==, 0);
  g_assert_false (bms_graph_series_get_time_range (s, NULL, NULL));
}

static void
on_changed (BmsGraphSeries *s,
            guint          *count)
{
  (*count)++;
}

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           guint      *count)
{
  (*count)++;
}

static void
test_properties_and_signal (void)
{
  g_autoptr(BmsGraphSeries) s = bms_graph_series_new ("pack_voltage", "Pack voltage", "V");
  guint changed = 0, notified = 0;
  double t[3] = { 1, 2, 3 };
  float v[3] = { 52, 53, 54 };

  g_signal_connect (s, "changed", G_CALLBACK (on_changed), &changed);
  g_signal_connect (s, "notify::visible", G_CALLBACK (on_notify), &notified);
  bms_graph_series_set_data (s, t, v, 3);
  bms_graph_series_append (s, 4, 55);
  g_assert_cmpuint (changed, ==, 2);

  g_assert_true (bms_graph_series_get_visible (s));
  bms_graph_series_set_visible (s, TRUE);
  g_assert_cmpuint (notified, ==, 0);      /* no change, no notify */
  bms_graph_series_set_visible (s, FALSE);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpstr (bms_graph_series_get_unit (s), ==, "V");
  g_assert_cmpstr (bms_graph_series_get_label (s), ==, "Pack voltage");
}

/* The crosshair's value: only where something was measured. Data at
 * 1000..1010 s every second, then 1100..1105 (a 90 s break). */
static void
test_value_at (void)
{
  g_autoptr(BmsGraphSeries) s = bms_graph_series_new ("v", "V", "V");
  gsize idx = G_MAXSIZE;

  for (guint i = 0; i <= 10; i++)
    bms_graph_series_append (s, 1000 + i, 50 + i);
  for (guint i = 0; i <= 5; i++)
    bms_graph_series_append (s, 1100 + i, 60 + i);
  /* A max gap of 0 never breaks the line: the nearest value, however far. */
  bms_graph_series_set_max_gap (s, 0);
  g_assert_true (bms_graph_series_value_at (s, 1000 - 1800, &idx));
  g_assert_cmpuint (idx, ==, 0);
  bms_graph_series_set_max_gap (s, 10);

  /* Half an hour before the data: no value (was the first sample's). */
  g_assert_false (bms_graph_series_value_at (s, 1000 - 1800, &idx));
  g_assert_false (bms_graph_series_value_at (s, 994, &idx));
  g_assert_true (bms_graph_series_value_at (s, 996, &idx));
  g_assert_cmpuint (idx, ==, 0);
  g_assert_true (bms_graph_series_value_at (s, 1004.4, &idx));
  g_assert_cmpfloat (bms_graph_series_get_values (s)[idx], ==, 54);
  /* Inside the break, away from both ends. */
  g_assert_false (bms_graph_series_value_at (s, 1050, &idx));
  g_assert_true (bms_graph_series_value_at (s, 1098, &idx));
  g_assert_cmpfloat (bms_graph_series_get_values (s)[idx], ==, 60);
  /* After the last sample. */
  g_assert_true (bms_graph_series_value_at (s, 1108, &idx));
  g_assert_false (bms_graph_series_value_at (s, 1200, &idx));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/graph-series/range-minmax", test_range_minmax);
  g_test_add_func ("/graph-series/incremental-equals-bulk", test_incremental_equals_bulk);
  g_test_add_func ("/graph-series/reduce", test_reduce);
  g_test_add_func ("/graph-series/reduce-keeps-spike", test_reduce_keeps_spike);
  g_test_add_func ("/graph-series/nearest-and-bounds", test_nearest_and_bounds);
  g_test_add_func ("/graph-series/value-at", test_value_at);
  g_test_add_func ("/graph-series/properties-and-signal", test_properties_and_signal);
  return g_test_run ();
}
