/* bms-graph-painter-curves.c — the series of a pane, reduced per pixel column. */
#include "config.h"

#include "bms-graph-painter-private.h"
#include <math.h>

/* Few samples in view: draw them where they are. */
static void
path_raw (cairo_t        *cr,
          BmsGraphSeries *s,
          const BmsGraphGeometry *geo,
          const BmsGraphPane     *pane,
          gsize           i0,
          gsize           i1)
{
  const double *t = bms_graph_series_get_times (s);
  const float *v = bms_graph_series_get_values (s);
  double gap = bms_graph_series_get_max_gap (s);
  gboolean pen_down = FALSE;

  for (gsize i = i0; i < i1; i++)
    {
      double x, y;

      if (isnan (v[i]))
        {
          pen_down = FALSE;
          continue;
        }
      x = bms_graph_geometry_time_x (geo, t[i]);
      y = bms_graph_pane_value_y (pane, v[i]);
      if (pen_down && gap > 0 && i > i0 && t[i] - t[i - 1] > gap)
        pen_down = FALSE;
      if (pen_down)
        cairo_line_to (cr, x, y);
      else if (i + 1 >= i1 || isnan (v[i + 1]) || (gap > 0 && t[i + 1] - t[i] > gap))
        {
          /* A lone sample (the first poll, or between gaps) gets a dot
           * big enough to see. */
          cairo_new_sub_path (cr);
          cairo_arc (cr, x, y, 2.0, 0, 2 * G_PI);
          continue;
        }
      else
        cairo_move_to (cr, x, y);
      pen_down = TRUE;
    }
}

/* Many samples: each pixel column becomes one bar from its lowest to its
 * highest value, stretched to meet the neighbouring columns halfway, one
 * line width thick at least. That is what an antialiased stroke through all
 * the samples would cover, but it reaches cairo as pixel-wide rectangles,
 * which it fills far faster than a zig-zag stroke of the same shape. Columns
 * with no sample are bridged by a line unless the gap exceeds max-gap. */
static void
draw_reduced (BmsGraphPainter *self,
              cairo_t        *cr,
              BmsGraphSeries *s,
              const BmsGraphGeometry *geo,
              const BmsGraphPane     *pane,
              guint           n_cols,
              double          line_width)
{
  BmsGraphBucket *b;
  double gap = bms_graph_series_get_max_gap (s);
  double half = line_width / 2;
  int prev = -1;   /* last column with a finite value */

  g_array_set_size (self->buckets, n_cols);
  b = (BmsGraphBucket *) (gpointer) self->buckets->data;
  bms_graph_series_reduce (s, geo->t0, geo->t1, n_cols, b);

  cairo_new_path (cr);
  for (guint c = 0; c < n_cols; c++)
    {
      double lo, hi, y_top, y_bottom;
      gboolean joined_left, joined_right;

      if (b[c].n == 0 || isnan (b[c].min))
        continue;
      lo = b[c].min;
      hi = b[c].max;
      joined_left = prev >= 0 && prev == (int) c - 1
                    && !(gap > 0 && b[c].t_first - b[prev].t_last > gap);
      joined_right = c + 1 < n_cols && b[c + 1].n > 0 && !isnan (b[c + 1].min)
                     && !(gap > 0 && b[c + 1].t_first - b[c].t_last > gap);
      if (joined_left)
        {
          double mid = (b[prev].last + b[c].first) / 2;
          lo = MIN (lo, mid);
          hi = MAX (hi, mid);
        }
      if (joined_right)
        {
          double mid = (b[c].last + b[c + 1].first) / 2;
          lo = MIN (lo, mid);
          hi = MAX (hi, mid);
        }
      y_top = bms_graph_pane_value_y (pane, hi) - half;
      y_bottom = bms_graph_pane_value_y (pane, lo) + half;
      /* Tall bars snap to whole pixels: their ends are extremes of many
       * samples, and cairo fills aligned boxes several times faster (10 M
       * samples: 17 ms -> 4 ms). Short bars keep their antialiased ends,
       * which is what makes a gentle slope look smooth. */
      if (y_bottom - y_top > 3)
        {
          y_top = floor (y_top);
          y_bottom = ceil (y_bottom);
        }
      cairo_rectangle (cr, geo->plot_x + c, y_top, 1, y_bottom - y_top);
      prev = (int) c;
    }
  cairo_fill (cr);

  /* Bridges over empty columns (sparse stretches inside dense data). */
  prev = -1;
  cairo_new_path (cr);
  for (guint c = 0; c < n_cols; c++)
    {
      if (b[c].n == 0 || isnan (b[c].min))
        continue;
      if (prev >= 0 && prev < (int) c - 1
          && !(gap > 0 && b[c].t_first - b[prev].t_last > gap))
        {
          cairo_move_to (cr, geo->plot_x + prev + 0.5, bms_graph_pane_value_y (pane, b[prev].last));
          cairo_line_to (cr, geo->plot_x + c + 0.5, bms_graph_pane_value_y (pane, b[c].first));
        }
      prev = (int) c;
    }
  cairo_set_line_width (cr, line_width);
  cairo_stroke (cr);
}

static void
draw_series (BmsGraphPainter *self,
             cairo_t        *cr,
             BmsGraphSeries *s,
             const BmsGraphGeometry *geo,
             const BmsGraphPane     *pane,
             guint           n_in_pane)
{
  guint n_cols = (guint) MAX (geo->plot_w, 1);
  gsize n = bms_graph_series_get_n_points (s);
  gsize i0 = bms_graph_series_lower_bound (s, geo->t0);
  gsize i1 = bms_graph_series_lower_bound (s, geo->t1);
  double line_width = n_in_pane > 16 ? 1.0 : 1.5;

  /* Include the neighbours just outside so lines run to the edges. */
  i0 = i0 > 0 ? i0 - 1 : 0;
  i1 = MIN (i1 + 1, n);
  if (i1 <= i0)
    return;

  bms_graph_set_source (cr, bms_graph_painter_series_color (self, s), 1);
  cairo_set_line_width (cr, line_width);
  cairo_new_path (cr);
  /* Up to one sample per column: a real polyline. The fast antialiasing
   * grid keeps a jagged 2000-point stroke within a few milliseconds and is
   * hard to tell from the default at these line widths. */
  if (i1 - i0 <= (gsize) n_cols)
    {
      path_raw (cr, s, geo, pane, i0, i1);
      cairo_save (cr);
      cairo_set_antialias (cr, CAIRO_ANTIALIAS_FAST);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);   /* a lone sample shows as a dot */
      cairo_stroke (cr);
      cairo_restore (cr);
      return;
    }
  draw_reduced (self, cr, s, geo, pane, n_cols, line_width);
}

gboolean
bms_graph_painter_draw_pane_curves (BmsGraphPainter *self,
                                 cairo_t        *cr,
                                 const BmsGraphGeometry *geo,
                                 const BmsGraphPane     *pane)
{
  guint n_in_pane = 0;
  gboolean any_visible = FALSE;

  cairo_save (cr);
  cairo_rectangle (cr, geo->plot_x, pane->y, geo->plot_w, pane->h);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_BEVEL);
  for (guint i = 0; i < bms_graph_painter_n_series (self); i++)
    {
      BmsGraphSeries *s = bms_graph_painter_series_at (self, i);
      if (bms_graph_series_get_visible (s)
          && g_strcmp0 (bms_graph_series_get_unit (s), pane->unit) == 0)
        n_in_pane++;
    }
  for (guint i = 0; i < bms_graph_painter_n_series (self); i++)
    {
      BmsGraphSeries *s = bms_graph_painter_series_at (self, i);
      if (!bms_graph_series_get_visible (s)
          || g_strcmp0 (bms_graph_series_get_unit (s), pane->unit) != 0)
        continue;
      any_visible = TRUE;
      draw_series (self, cr, s, geo, pane, n_in_pane);
    }
  cairo_restore (cr);
  return any_visible;
}
