/* bench-draw.c — graph drawing time: reduced drawing against a naive polyline.
 *
 * Draws 1 M and 10 M samples (1 Hz, one cell) into a 1920 × 1080 image
 * surface with bms_graph_view_draw(), the function the widget and exports
 * use, and compares it with a plain antialiased cairo polyline of the same
 * data in the same run. The naive stroke of millions of points takes seconds,
 * so it is timed on the first NAIVE_CAP samples and scaled linearly (stated in
 * the output). Prints one JSON object per figure (bench/run collects them):
 *   {"name": "draw_1m", "value": ms, "unit": "ms", "reference": naive ms,
 *    "ratio": value / reference, ...}
 * GTK needs a display: without one the program runs itself again under
 * xvfb-run (drawing goes to an image surface either way).
 */
#include "bms-graph-view.h"
#include "bench-common.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#define W 1920
#define H 1080
#define NAIVE_CAP 200000
#define RUNS 7

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v,
        guint   n)
{
  qsort (v, n, sizeof (double), cmp_double);
  return v[n / 2];
}

static BmsGraphSeries *
make_series (gsize n)
{
  BmsGraphSeries *s = bms_graph_series_new ("cell_1", "Cell 1", "mV");
  g_autofree double *t = g_new (double, n);
  g_autofree float *v = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    {
      t[i] = 1.7e9 + i;
      v[i] = 3300 + 40 * sin (i * 2 * G_PI / 86400.0) + ((i * 7919) % 11) - 5;
    }
  bms_graph_series_set_data (s, t, v, n);
  return s;
}

static double
time_reduced (BmsGraphView    *view,
              cairo_surface_t *surface)
{
  double ms[RUNS];

  /* Untimed warm-up: the first draw loads fonts and fills glyph caches,
   * which panning and zooming never pay again. */
  for (guint r = 0; r < 2; r++)
    {
      cairo_t *cr = cairo_create (surface);
      bms_graph_view_draw (view, cr, W, H);
      cairo_destroy (cr);
    }
  for (guint r = 0; r < RUNS; r++)
    {
      cairo_t *cr = cairo_create (surface);
      gint64 start = g_get_monotonic_time ();

      bms_graph_view_draw (view, cr, W, H);
      cairo_surface_flush (surface);
      ms[r] = (g_get_monotonic_time () - start) / 1000.0;
      cairo_destroy (cr);
    }
  return median (ms, RUNS);
}

/* The same data as one antialiased path of every sample, over the same plot
 * width; timed on `cap` samples and scaled to n. */
static double
time_naive (BmsGraphSeries  *s,
            cairo_surface_t *surface,
            gsize            cap)
{
  const double *t = bms_graph_series_get_times (s);
  const float *v = bms_graph_series_get_values (s);
  gsize n = bms_graph_series_get_n_points (s);
  gsize m = MIN (cap, n);
  double t0 = t[0], span = t[n - 1] - t[0];
  cairo_t *cr = cairo_create (surface);
  gint64 start;
  double ms;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  start = g_get_monotonic_time ();
  cairo_move_to (cr, 60, H / 2.0);
  for (gsize i = 0; i < m; i++)
    cairo_line_to (cr, 60 + (W - 80) * (t[i] - t0) / span, H - 40 - (v[i] - 3200) * 4);
  cairo_set_source_rgb (cr, 0.1, 0.4, 0.85);
  cairo_set_line_width (cr, 1.5);
  cairo_stroke (cr);
  cairo_surface_flush (surface);
  ms = (g_get_monotonic_time () - start) / 1000.0;
  cairo_destroy (cr);
  return ms * (double) n / (double) m;
}

static void
run (const char *name,
     gsize       n,
     double      target_ms)
{
  BmsGraphView *view = BMS_GRAPH_VIEW (g_object_ref_sink (bms_graph_view_new ()));
  g_autoptr(BmsGraphSeries) s = make_series (n);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  double a, b, reduced, naive;
  g_autofree char *target = NULL;
  g_autofree char *extra = NULL;

  bms_graph_view_add_series (view, s);
  bms_graph_view_set_follow (view, FALSE);
  bms_graph_series_get_time_range (s, &a, &b);
  bms_graph_view_set_time_range (view, a, b);

  reduced = time_reduced (view, surface);
  naive = time_naive (s, surface, NAIVE_CAP);
  target = g_strdup_printf ("< %.0f ms", target_ms);
  extra = g_strdup_printf ("\"points\": %" G_GSIZE_FORMAT ", \"size\": \"%dx%d\", "
                           "\"naive_sampled_points\": %d, \"runs\": %d",
                           n, W, H, (int) MIN (NAIVE_CAP, n), RUNS);
  bench_emit (name, reduced, "ms", naive, reduced / naive, target,
              reduced < target_ms, extra);

  cairo_surface_destroy (surface);
  bms_graph_view_remove_all (view);
  g_object_unref (view);
}

int
main (int argc, char **argv)
{
  if (!gtk_init_check ())
    {
      if (g_getenv ("BENCH_DRAW_IN_XVFB") == NULL)
        {
          char *args[] = { "xvfb-run", "-a", argv[0], NULL };
          g_setenv ("BENCH_DRAW_IN_XVFB", "1", TRUE);
          execvp ("xvfb-run", args);
        }
      fprintf (stderr, "bench-draw: no display and xvfb-run did not help; "
                       "install xvfb or run it in a desktop session\n");
      return 1;
    }
  run ("draw_1m", 1000000, 16);
  run ("draw_10m", 10000000, 50);
  return 0;
}
