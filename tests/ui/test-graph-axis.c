/* test-graph-axis.c — value mapping, nice ticks, clock-aligned time ticks. */
#include "bms-graph-axis.h"

#include <math.h>

static void
test_mapping (void)
{
  g_autoptr(BmsGraphAxis) axis = bms_graph_axis_new (BMS_GRAPH_AXIS_VALUE);

  bms_graph_axis_set_range (axis, 3000, 3500);
  g_assert_cmpfloat_with_epsilon (bms_graph_axis_to_unit (axis, 3250), 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (bms_graph_axis_from_unit (axis, 0.2), 3100, 1e-9);
  /* A flat line still gets an axis around its value. */
  bms_graph_axis_set_range (axis, 52, 52);
  g_assert_cmpfloat (bms_graph_axis_get_min (axis), <, 52);
  g_assert_cmpfloat (bms_graph_axis_get_max (axis), >, 52);
}

static void
test_nice_ticks (void)
{
  g_autoptr(BmsGraphAxis) axis = bms_graph_axis_new (BMS_GRAPH_AXIS_VALUE);
  g_autoptr(GArray) ticks = NULL;
  double min = -33.2, max = 21.7, step;
  g_autofree char *label = NULL;

  g_assert_cmpfloat (bms_graph_axis_nice_step (100, 5), ==, 20);
  g_assert_cmpfloat (bms_graph_axis_nice_step (1, 4), ==, 0.5);
  step = bms_graph_axis_nice_bounds (&min, &max, 4);
  g_assert_cmpfloat (step, ==, 20);
  g_assert_cmpfloat (min, ==, -40);
  g_assert_cmpfloat (max, ==, 40);

  bms_graph_axis_set_range (axis, min, max);
  ticks = bms_graph_axis_ticks_for_step (axis, step);
  g_assert_cmpuint (ticks->len, ==, 5);    /* -40 -20 0 20 40: the edges included */
  g_assert_cmpfloat (g_array_index (ticks, double, 2), ==, 0);
  label = bms_graph_axis_format_tick (axis, g_array_index (ticks, double, 0), step);
  g_assert_cmpstr (label, ==, "-40");
  g_clear_pointer (&label, g_free);
  label = bms_graph_axis_format_tick (axis, 3.35, 0.05);
  g_assert_cmpstr (label, ==, "3.35");
}

/* Time ticks fall on the local clock: whole minutes, hours, midnights. */
static void
test_time_ticks (void)
{
  g_autoptr(BmsGraphAxis) axis = bms_graph_axis_new (BMS_GRAPH_AXIS_TIME);
  g_autoptr(GDateTime) start = g_date_time_new_local (2026, 3, 4, 13, 7, 21);
  double t0 = g_date_time_to_unix (start);
  double step;
  g_autoptr(GArray) ticks = NULL;

  bms_graph_axis_set_range (axis, t0, t0 + 3600);
  ticks = bms_graph_axis_ticks (axis, 8, &step);
  g_assert_cmpfloat (step, ==, 600);
  for (guint i = 0; i < ticks->len; i++)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local ((gint64) g_array_index (ticks, double, i));
      g_assert_cmpint (g_date_time_get_minute (dt) % 10, ==, 0);
      g_assert_cmpint (g_date_time_get_second (dt), ==, 0);
    }
  g_clear_pointer (&ticks, g_array_unref);

  bms_graph_axis_set_range (axis, t0, t0 + 20 * 86400);
  ticks = bms_graph_axis_ticks (axis, 8, &step);
  g_assert_cmpfloat (step, >=, 86400);
  for (guint i = 0; i < ticks->len; i++)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local ((gint64) g_array_index (ticks, double, i));
      g_autofree char *label = bms_graph_axis_format_tick (axis, g_array_index (ticks, double, i), step);
      g_assert_cmpint (g_date_time_get_hour (dt), ==, 0);
      g_assert_cmpint (g_date_time_get_minute (dt), ==, 0);
      g_assert_null (strstr (label, "  "));   /* "Mar 7", not "Mar  7" */
    }
}

static void
test_duration (void)
{
  g_autofree char *a = bms_graph_axis_format_duration (45);
  g_autofree char *b = bms_graph_axis_format_duration (600);
  g_autofree char *c = bms_graph_axis_format_duration (5400);
  g_autofree char *d = bms_graph_axis_format_duration (7 * 86400);

  g_assert_cmpstr (a, ==, "45 s");
  g_assert_cmpstr (b, ==, "10 min");
  g_assert_cmpstr (c, ==, "1 h 30 min");
  g_assert_cmpstr (d, ==, "7 d");
}

/* Every label of a pane centred on its gridline and inside the pane, the
 * gridlines evenly spaced, SOC within 0–100 %. Before, the edge labels were
 * pushed inside the pane (uneven spacing) and SOC ticks ran past 100 %. */
static void
check_pane (double lo, double hi, double limit_lo, double limit_hi, double pane_h)
{
  const double label_h = 17;
  g_autoptr(BmsGraphAxis) axis = bms_graph_axis_new (BMS_GRAPH_AXIS_VALUE);
  g_autoptr(GArray) ticks = NULL;
  double min, max, step, gap = NAN;

  step = bms_graph_axis_fit_pane (lo, hi, limit_lo, limit_hi, pane_h, label_h,
                                  CLAMP ((guint) (pane_h / 30), 2u, 12u), &min, &max);
  bms_graph_axis_set_range (axis, min, max);
  ticks = bms_graph_axis_ticks_for_step (axis, step);
  g_test_message ("data %g..%g in %g px: axis %g..%g, step %g, %u ticks",
                  lo, hi, pane_h, min, max, step, ticks->len);
  g_assert_cmpuint (ticks->len, >=, 2);
  if (!isnan (lo))
    {
      g_assert_cmpfloat (min, <=, lo);
      g_assert_cmpfloat (max, >=, hi);
    }
  for (guint i = 0; i < ticks->len; i++)
    {
      double v = g_array_index (ticks, double, i);
      double y = pane_h * (1 - bms_graph_axis_to_unit (axis, v));

      if (!isnan (limit_lo))
        g_assert_cmpfloat (v, >=, limit_lo);
      if (!isnan (limit_hi))
        g_assert_cmpfloat (v, <=, limit_hi);
      g_assert_cmpfloat (y - label_h / 2, >=, 0);
      g_assert_cmpfloat (y + label_h / 2, <=, pane_h);
      if (i > 0)
        {
          double prev = pane_h * (1 - bms_graph_axis_to_unit (axis, g_array_index (ticks, double, i - 1)));
          if (!isnan (gap))
            g_assert_cmpfloat_with_epsilon (prev - y, gap, 1e-6);
          gap = prev - y;
          g_assert_cmpfloat (gap, >=, label_h);   /* labels never overlap */
        }
    }
}

static void
test_fit_pane (void)
{
  check_pane (60, 61, 0, 100, 75);          /* the demo's SOC */
  check_pane (55, 100, 0, 100, 150);        /* a charge to full */
  check_pane (0, 100, 0, 100, 300);
  check_pane (98, 100, 0, 100, 60);
  check_pane (48.5, 50, NAN, NAN, 75);      /* the demo's current */
  check_pane (-30, 20, NAN, NAN, 150);      /* a discharge, then a charge */
  check_pane (3340, 3370, NAN, NAN, 75);    /* cells in mV */
  check_pane (NAN, NAN, NAN, NAN, 120);     /* no data yet */
  check_pane (53.71, 53.71, NAN, NAN, 75);  /* a flat line */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/graph-axis/mapping", test_mapping);
  g_test_add_func ("/graph-axis/nice-ticks", test_nice_ticks);
  g_test_add_func ("/graph-axis/time-ticks", test_time_ticks);
  g_test_add_func ("/graph-axis/duration", test_duration);
  g_test_add_func ("/graph-axis/fit-pane", test_fit_pane);
  return g_test_run ();
}
