/* test-graph-draw.c — 1 M and 10 M samples drawn offscreen into 1920 × 1080.
 *
 * Checks the picture, not the clock (bench/bench-draw measures time): the
 * one-sample spike and dip must be visible at the right place, the band of
 * ordinary data must sit between them, and the exports must be real PNG and
 * SVG. The pictures are saved in the build tree for a human to look at.
 */
#include "bms-graph-view.h"

#include <math.h>

#define W 1920
#define H 1080

typedef struct {
  double t0, t1;          /* data time range */
  double t_spike, t_dip;  /* times of the single extreme samples */
} Layout;

static BmsGraphSeries *
make_series (gsize   n,
             Layout *out)
{
  BmsGraphSeries *s = bms_graph_series_new ("cell_1", "Cell 1", "mV");
  double *t = g_new (double, n);
  float *v = g_new (float, n);
  double start = 1.7e9;

  for (gsize i = 0; i < n; i++)
    {
      t[i] = start + i;   /* 1 Hz */
      v[i] = 3300 + 40 * sin (i * 2 * G_PI / (n / 7.0)) + ((i * 7919) % 11) - 5;
    }
  v[n / 4] = 3650;        /* a spike of one sample in up to 5000 per column */
  v[3 * n / 4] = 2900;
  bms_graph_series_set_data (s, t, v, n);
  out->t0 = t[0];
  out->t1 = t[n - 1];
  out->t_spike = t[n / 4];
  out->t_dip = t[3 * n / 4];
  g_free (t);
  g_free (v);
  return s;
}

/* "Series blue": clearly more blue than red, unlike the grey grid, the white
 * background and the text. */
static gboolean
is_curve (const guint8 *px)
{
  int b = px[0], g = px[1], r = px[2];
  return b - r > 60 && b - g > 20;
}

typedef struct {
  int left, right, top, bottom;
  int top_x, bottom_x;
} Extent;

/* The curve's bounding box, ignoring the legend swatch (top-left corner). */
static Extent
curve_extent (cairo_surface_t *surface)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  Extent e = { W, -1, H, -1, -1, -1 };

  cairo_surface_flush (surface);
  for (int y = 0; y < H; y++)
    for (int x = 40; x < W; x++)
      {
        if (!is_curve (data + y * stride + x * 4))
          continue;
        e.left = MIN (e.left, x);
        e.right = MAX (e.right, x);
        if (y < e.top)
          {
            e.top = y;
            e.top_x = x;
          }
        if (y > e.bottom)
          {
            e.bottom = y;
            e.bottom_x = x;
          }
      }
  return e;
}

/* Rows where the middle of the time range has curve pixels: the normal band. */
static void
band_at (cairo_surface_t *surface,
         int              x,
         int             *top,
         int             *bottom)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);

  *top = H;
  *bottom = -1;
  for (int y = 0; y < H; y++)
    if (is_curve (data + y * stride + x * 4))
      {
        *top = MIN (*top, y);
        *bottom = MAX (*bottom, y);
      }
}

static void
save_png (cairo_surface_t *surface,
          const char      *name)
{
  const char *root = g_getenv ("PACKWATCH_BUILD_ROOT");
  g_autofree char *dir = g_build_filename (root ? root : ".", "tests", "ui", "pictures", NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_mkdir_with_parents (dir, 0755);
  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
  g_test_message ("picture: %s", path);
}

static void
check_draw (gsize       n,
            const char *png_name)
{
  GtkWidget *view = g_object_ref_sink (bms_graph_view_new ());
  Layout lay;
  g_autoptr(BmsGraphSeries) s = make_series (n, &lay);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create (surface);
  Extent e;
  int band_top, band_bottom, expect_x;
  double span = lay.t1 - lay.t0;

  bms_graph_view_add_series (BMS_GRAPH_VIEW (view), s);
  bms_graph_view_set_follow (BMS_GRAPH_VIEW (view), FALSE);
  bms_graph_view_set_time_range (BMS_GRAPH_VIEW (view), lay.t0, lay.t1);
  bms_graph_view_draw (BMS_GRAPH_VIEW (view), cr, W, H);
  cairo_destroy (cr);
  save_png (surface, png_name);

  e = curve_extent (surface);
  g_assert_cmpint (e.right, >, e.left + W / 2);    /* the curve spans the width */
  /* The spike is the topmost pixel and the dip the lowest, each within a
   * few pixels of where its time falls. */
  expect_x = e.left + (int) round ((lay.t_spike - lay.t0) / span * (e.right - e.left));
  g_assert_cmpint (ABS (e.top_x - expect_x), <=, 3);
  expect_x = e.left + (int) round ((lay.t_dip - lay.t0) / span * (e.right - e.left));
  g_assert_cmpint (ABS (e.bottom_x - expect_x), <=, 3);
  /* The ordinary data (±45 mV around 3300) lies well inside the extremes
   * (3650 and 2900): a decimation that drops samples would lose them. */
  band_at (surface, (e.left + e.right) / 2, &band_top, &band_bottom);
  g_assert_cmpint (band_top, >, e.top + 100);
  g_assert_cmpint (band_bottom, <, e.bottom - 100);
  g_assert_cmpint (band_bottom - band_top, <, (e.bottom - e.top) / 3);

  cairo_surface_destroy (surface);
  bms_graph_view_remove_all (BMS_GRAPH_VIEW (view));
  g_object_unref (view);
}

static void
test_draw_1m (void)
{
  check_draw (1000000, "graph-1m.png");
}

static void
test_draw_10m (void)
{
  check_draw (10000000, "graph-10m.png");
}

/* A month of 1 Hz samples of 256 cells as the Graph page holds it: the
 * database's min/max buckets (two points per pixel column), not 670 M raw
 * samples. Drawing every cell must stay bounded; the figure itself belongs
 * to bench-draw. The bound here only catches an accidental O(samples). */
static void
test_month_256_cells (void)
{
  GtkWidget *view = g_object_ref_sink (bms_graph_view_new ());
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  double start = 1.7e9, month = 30 * 86400.0, bucket = month / (2 * W);
  g_autofree double *t = g_new (double, 4 * W);
  g_autofree float *v = g_new (float, 4 * W);
  GPtrArray *all = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 t_start;
  double ms;
  cairo_t *cr;

  for (guint c = 0; c < 256; c++)
    {
      g_autofree char *name = g_strdup_printf ("cell_%u", c + 1);
      BmsGraphSeries *s = bms_graph_series_new (name, name, "mV");

      for (guint i = 0; i < 2 * W; i++)
        {
          double base = 3300 + 60 * sin (i / 200.0) + (c % 16);
          t[2 * i] = start + i * bucket + bucket / 4;
          v[2 * i] = base - 4;
          t[2 * i + 1] = start + i * bucket + 3 * bucket / 4;
          v[2 * i + 1] = base + 4;
        }
      bms_graph_series_set_color_index (s, c);
      bms_graph_series_set_data (s, t, v, 4 * W);
      bms_graph_view_add_series (BMS_GRAPH_VIEW (view), s);
      g_ptr_array_add (all, s);
    }
  bms_graph_view_set_follow (BMS_GRAPH_VIEW (view), FALSE);
  bms_graph_view_set_time_range (BMS_GRAPH_VIEW (view), start, start + month);

  cr = cairo_create (surface);
  t_start = g_get_monotonic_time ();
  bms_graph_view_draw (BMS_GRAPH_VIEW (view), cr, W, H);
  cairo_surface_flush (surface);
  ms = (g_get_monotonic_time () - t_start) / 1000.0;
  cairo_destroy (cr);
  g_test_message ("month of 256 cells (bucketed): %.1f ms", ms);
  g_assert_cmpfloat (ms, <, 5000);
  save_png (surface, "graph-month-256.png");

  cairo_surface_destroy (surface);
  bms_graph_view_remove_all (BMS_GRAPH_VIEW (view));
  g_ptr_array_unref (all);
  g_object_unref (view);
}

static void
test_export (void)
{
  GtkWidget *view = g_object_ref_sink (bms_graph_view_new ());
  g_autoptr(BmsGraphSeries) volts = bms_graph_series_new ("pack_voltage", "Pack voltage", "V");
  g_autoptr(BmsGraphSeries) amps = bms_graph_series_new ("current", "Current", "A");
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GBytes) svg = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 *data;
  gsize len;

  bms_graph_series_set_color_index (amps, 1);
  for (int i = 0; i < 7200; i++)
    {
      bms_graph_series_append (volts, 1.7e9 + i, 52 + sin (i / 600.0));
      bms_graph_series_append (amps, 1.7e9 + i, 20 * cos (i / 900.0));
    }
  bms_graph_view_add_series (BMS_GRAPH_VIEW (view), volts);
  bms_graph_view_add_series (BMS_GRAPH_VIEW (view), amps);
  bms_graph_view_zoom_to_fit (BMS_GRAPH_VIEW (view));

  png = bms_graph_view_render_png (BMS_GRAPH_VIEW (view), 800, 500, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (png, &len);
  g_assert_cmpuint (len, >, 1000);
  g_assert_cmpmem (data, 8, "\x89PNG\r\n\x1a\n", 8);

  svg = bms_graph_view_render_svg (BMS_GRAPH_VIEW (view), 800, 500, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (svg, &len);
  g_assert_nonnull (g_strstr_len ((const char *) data, MIN (len, 200), "<svg"));

  g_assert_null (bms_graph_view_render_png (BMS_GRAPH_VIEW (view), 0, 500, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);

  bms_graph_view_remove_all (BMS_GRAPH_VIEW (view));
  g_object_unref (view);
}

/* A series without data (a sensor the board does not have, or nothing
 * recorded yet) leaves the legend; it comes back with its first value. */
static void
test_legend_skips_empty (void)
{
  GtkWidget *view = g_object_ref_sink (bms_graph_view_new ());
  g_autoptr(BmsGraphSeries) volts = bms_graph_series_new ("pack_voltage", "Pack voltage", "V");
  g_autoptr(BmsGraphSeries) temp2 = bms_graph_series_new ("temp2", "Temperature 2", "°C");
  g_autoptr(BmsGraphSeries) empty = bms_graph_series_new ("cell_3", "Cell 3", "mV");
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 400);
  cairo_t *cr = cairo_create (surface);
  g_auto(GStrv) legend = NULL;

  for (int i = 0; i < 60; i++)
    {
      bms_graph_series_append (volts, 1.7e9 + i, 52);
      bms_graph_series_append (temp2, 1.7e9 + i, NAN);   /* the board sends none */
    }
  bms_graph_view_add_series (BMS_GRAPH_VIEW (view), volts);
  bms_graph_view_add_series (BMS_GRAPH_VIEW (view), temp2);
  bms_graph_view_add_series (BMS_GRAPH_VIEW (view), empty);
  bms_graph_view_zoom_to_fit (BMS_GRAPH_VIEW (view));
  bms_graph_view_draw (BMS_GRAPH_VIEW (view), cr, 800, 400);
  legend = bms_graph_view_dup_legend (BMS_GRAPH_VIEW (view));
  g_assert_cmpstrv (legend, ((const char *[]) { "Pack voltage", NULL }));
  g_clear_pointer (&legend, g_strfreev);

  bms_graph_series_append (empty, 1.7e9 + 61, 3301);
  bms_graph_view_draw (BMS_GRAPH_VIEW (view), cr, 800, 400);
  legend = bms_graph_view_dup_legend (BMS_GRAPH_VIEW (view));
  g_assert_cmpstrv (legend, ((const char *[]) { "Pack voltage", "Cell 3", NULL }));

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  bms_graph_view_remove_all (BMS_GRAPH_VIEW (view));
  g_object_unref (view);
}

/* Zoom and pan keep the span within limits and turn following off. */
static void
test_zoom_pan (void)
{
  BmsGraphView *view = BMS_GRAPH_VIEW (g_object_ref_sink (bms_graph_view_new ()));
  double t0, t1;

  bms_graph_view_set_time_range (view, 1000, 2000);
  bms_graph_view_set_follow (view, FALSE);
  bms_graph_view_zoom (view, 0.5, 0.0);
  bms_graph_view_get_time_range (view, &t0, &t1);
  g_assert_cmpfloat_with_epsilon (t0, 1000, 1e-6);
  g_assert_cmpfloat_with_epsilon (t1, 1500, 1e-6);
  bms_graph_view_pan (view, -0.5);
  bms_graph_view_get_time_range (view, &t0, &t1);
  g_assert_cmpfloat_with_epsilon (t0, 750, 1e-6);
  g_assert_cmpfloat_with_epsilon (t1, 1250, 1e-6);
  bms_graph_view_zoom (view, 1e-9, 0.5);
  bms_graph_view_get_time_range (view, &t0, &t1);
  g_assert_cmpfloat_with_epsilon (t1 - t0, BMS_GRAPH_VIEW_MIN_SPAN, 1e-6);
  g_assert_false (bms_graph_view_get_follow (view));
  g_object_unref (view);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/graph-draw/1m", test_draw_1m);
  g_test_add_func ("/graph-draw/10m", test_draw_10m);
  g_test_add_func ("/graph-draw/month-256-cells", test_month_256_cells);
  g_test_add_func ("/graph-draw/export", test_export);
  g_test_add_func ("/graph-draw/zoom-pan", test_zoom_pan);
  g_test_add_func ("/graph-draw/legend-skips-empty", test_legend_skips_empty);
  return g_test_run ();
}
