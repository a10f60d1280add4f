/* test-graph-layers.c — the drawing layers of BmsGraphView together, at a
 * fixed time range (no clock in the picture): panes per unit, the legend
 * with a hidden series, and the crosshair the widget draws on top. The
 * pictures graph-layers.png and graph-layers-cursor.png are saved for a
 * human to look at and to compare across changes of the drawing code. */
#include "page-test-util.h"
#include "bms-graph-view.h"

#include <math.h>

#define T0 1.7e9

static BmsGraphSeries *
make_series (const char *name,
             const char *label,
             const char *unit,
             double      base,
             double      amplitude,
             guint       color)
{
  BmsGraphSeries *s = bms_graph_series_new (name, label, unit);
  double t[600];
  float v[600];

  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    {
      t[i] = T0 + i * 6;
      v[i] = base + amplitude * sin (i / 40.0 + color);
    }
  bms_graph_series_set_data (s, t, v, G_N_ELEMENTS (t));
  bms_graph_series_set_color_index (s, color);
  return s;
}

static GtkWidget *
make_window (BmsGraphView **view_out)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = bms_graph_view_new ();
  BmsGraphView *graph = BMS_GRAPH_VIEW (view);
  g_autoptr(BmsGraphSeries) volts = make_series ("voltage", "Pack voltage", "V", 53, 1, 0);
  g_autoptr(BmsGraphSeries) amps = make_series ("current", "Current", "A", 0, 30, 1);
  g_autoptr(BmsGraphSeries) temp1 = make_series ("temp1", "Temperature 1", "°C", 30, 3, 3);
  g_autoptr(BmsGraphSeries) hidden = make_series ("temp2", "Temperature 2", "°C", 28, 2, 4);

  bms_graph_view_add_series (graph, volts);
  bms_graph_view_add_series (graph, amps);
  bms_graph_view_add_series (graph, temp1);
  bms_graph_view_add_series (graph, hidden);
  bms_graph_series_set_visible (hidden, FALSE);
  bms_graph_view_set_follow (graph, FALSE);
  bms_graph_view_set_time_range (graph, T0, T0 + 3600);
  /* The crosshair comes from set_cursor_time only: Xvfb's pointer rests at
   * the screen's centre (x 960, inside this window), and a motion event
   * from it would draw a second crosshair there. */
  gtk_widget_set_can_target (view, FALSE);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 600);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (page_test_wait (page_test_has_size, view, 20));
  *view_out = graph;
  return window;
}

static GBytes *
picture (GtkWidget  *widget,
         const char *name,
         int        *w,
         int        *h)
{
  g_autofree char *path = page_test_picture_path (name);
  g_autoptr(GdkTexture) texture = NULL;
  guint8 *data;

  page_test_save_png (widget, name);
  texture = gdk_texture_new_from_filename (path, NULL);
  g_assert_nonnull (texture);
  *w = gdk_texture_get_width (texture);
  *h = gdk_texture_get_height (texture);
  data = g_malloc (*w * *h * 4);
  gdk_texture_download (texture, data, *w * 4);
  return g_bytes_new_take (data, *w * *h * 4);
}

static void
test_layers (void)
{
  BmsGraphView *view = NULL;
  GtkWidget *window = make_window (&view);
  g_autoptr(GBytes) plain = NULL, cursor = NULL;
  g_auto(GStrv) legend = NULL;
  const guint8 *a, *b;
  int w, h, w2, h2, line_x = -1, longest = 0, left = G_MAXINT, right = -1;

  /* A hidden series stays in the legend (to be shown again). */
  legend = bms_graph_view_dup_legend (view);
  plain = picture (GTK_WIDGET (view), "graph-layers.png", &w, &h);
  g_assert_cmpstrv (legend, ((const char *[]) { "Pack voltage", "Current", "Temperature 1",
                                                "Temperature 2", NULL }));

  /* The crosshair is the only difference, drawn at the cursor: a line
   * through the panes and its read-out box beside it. */
  bms_graph_view_set_cursor_time (view, T0 + 1800);
  cursor = picture (GTK_WIDGET (view), "graph-layers-cursor.png", &w2, &h2);
  g_assert_cmpint (w, ==, w2);
  g_assert_cmpint (h, ==, h2);
  a = g_bytes_get_data (plain, NULL);
  b = g_bytes_get_data (cursor, NULL);
  for (int x = 0; x < w; x++)
    {
      int run = 0;
      for (int y = 0; y < h; y++)
        if (memcmp (a + (y * w + x) * 4, b + (y * w + x) * 4, 4) != 0)
          {
            run++;
            left = MIN (left, x);
            right = MAX (right, x);
          }
      if (run > longest)
        {
          longest = run;
          line_x = x;
        }
    }
  g_assert_cmpint (longest, >, h / 2);             /* the line through the panes */
  g_assert_cmpint (line_x, >, w / 3);               /* half-way through the range, */
  g_assert_cmpint (line_x, <, 2 * w / 3);           /* past the value labels */
  g_assert_cmpint (right - line_x, >, 60);          /* the read-out box on its right */
  g_assert_cmpint (line_x - left, <, 5);

  gtk_window_destroy (GTK_WINDOW (window));
  page_test_spin (100);
}

int
main (int argc, char **argv)
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/graph-layers/legend-panes-crosshair", test_layers);
  return g_test_run ();
}
