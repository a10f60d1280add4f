/* bms-graph-painter-axes.c — one pane per unit, its value axis, the time axis. */
#include "config.h"

#include "bms-graph-painter-private.h"
#include <math.h>

BmsGraphPane *
bms_graph_geometry_pane_for_unit (BmsGraphGeometry *   geo,
                              const char *unit)
{
  for (guint i = 0; i < geo->panes->len; i++)
    {
      BmsGraphPane *pane = &g_array_index (geo->panes, BmsGraphPane, i);
      if (g_strcmp0 (pane->unit, unit) == 0)
        return pane;
    }
  return NULL;
}

/* One pane per unit, in the order the units first appear among the visible
 * series; each pane's value range covers its visible data. */
void
bms_graph_painter_layout_panes (BmsGraphPainter *self,
                             BmsGraphGeometry *     geo)
{
  for (guint i = 0; i < bms_graph_painter_n_series (self); i++)
    {
      BmsGraphSeries *s = bms_graph_painter_series_at (self, i);
      const char *unit = bms_graph_series_get_unit (s);
      BmsGraphPane *pane;
      gsize i0, i1;
      float lo, hi;

      if (!bms_graph_series_get_visible (s))
        continue;
      pane = bms_graph_geometry_pane_for_unit (geo, unit);
      if (pane == NULL)
        {
          BmsGraphPane fresh = { .unit = g_strdup (unit), .lo = NAN, .hi = NAN,
                         .axis = bms_graph_axis_new (BMS_GRAPH_AXIS_VALUE) };
          g_array_append_val (geo->panes, fresh);
          pane = &g_array_index (geo->panes, BmsGraphPane, geo->panes->len - 1);
        }
      /* One sample beyond each edge: the line leaving the view counts. */
      i0 = bms_graph_series_lower_bound (s, geo->t0);
      i1 = bms_graph_series_lower_bound (s, geo->t1);
      i0 = i0 > 0 ? i0 - 1 : 0;
      i1 = MIN (i1 + 1, bms_graph_series_get_n_points (s));
      if (bms_graph_series_range_minmax (s, i0, i1, &lo, &hi))
        {
          pane->lo = isnan (pane->lo) ? lo : MIN (pane->lo, lo);
          pane->hi = isnan (pane->hi) ? hi : MAX (pane->hi, hi);
        }
    }
  if (geo->panes->len == 0)
    {
      BmsGraphPane empty = { .unit = g_strdup (""), .lo = NAN, .hi = NAN, .axis = bms_graph_axis_new (BMS_GRAPH_AXIS_VALUE) };
      g_array_append_val (geo->panes, empty);
    }
}

static guint
value_tick_count (double pane_height)
{
  return CLAMP ((guint) (pane_height / 30), 2u, 12u);
}

/* Units with a physical range: a state of charge is 0–100 %. */
static void
unit_limits (const char *unit,
             double     *lo,
             double     *hi)
{
  gboolean percent = g_strcmp0 (unit, "%") == 0;

  *lo = percent ? 0 : NAN;
  *hi = percent ? 100 : NAN;
}

void
bms_graph_painter_place_panes (BmsGraphGeometry * geo,
                            double    top,
                            double    bottom,
                            double    label_h)
{
  guint n = geo->panes->len;
  double h = (bottom - top - BMS_GRAPH_PANE_GAP * (n - 1)) / n;

  for (guint p = 0; p < n; p++)
    {
      BmsGraphPane *pane = &g_array_index (geo->panes, BmsGraphPane, p);
      double min, max, limit_lo, limit_hi;

      pane->y = top + p * (h + BMS_GRAPH_PANE_GAP);
      pane->h = MAX (h, 10);
      unit_limits (pane->unit, &limit_lo, &limit_hi);
      pane->step = bms_graph_axis_fit_pane (pane->lo, pane->hi, limit_lo, limit_hi, pane->h,
                                            label_h, value_tick_count (pane->h), &min, &max);
      bms_graph_axis_set_range (pane->axis, min, max);
    }
}

/* Left margin: wide enough for the longest value label of any pane. */
double
bms_graph_painter_measure_value_labels (PangoLayout    *layout,
                                     const BmsGraphGeometry *geo)
{
  double widest = 0;

  for (guint p = 0; p < geo->panes->len; p++)
    {
      const BmsGraphPane *pane = &g_array_index (geo->panes, BmsGraphPane, p);
      g_autoptr(GArray) ticks = NULL;
      double step;

      ticks = bms_graph_axis_ticks_for_step (pane->axis, step = pane->step);
      for (guint i = 0; i < ticks->len; i++)
        {
          g_autofree char *label =
            bms_graph_axis_format_tick (pane->axis, g_array_index (ticks, double, i), step);
          double w;
          bms_graph_text_size (layout, label, &w, NULL);
          widest = MAX (widest, w);
        }
    }
  return widest;
}

void
bms_graph_painter_draw_time_axis (BmsGraphPainter *self,
                               cairo_t        *cr,
                               PangoLayout    *layout,
                               const BmsGraphGeometry *geo,
                               double          top,
                               double          bottom)
{
  g_autoptr(BmsGraphAxis) axis = bms_graph_axis_new (BMS_GRAPH_AXIS_TIME);
  g_autoptr(GArray) ticks = NULL;
  double step, last_right = -G_MAXDOUBLE;

  bms_graph_axis_set_range (axis, geo->t0, geo->t1);
  ticks = bms_graph_axis_ticks (axis, MAX ((guint) (geo->plot_w / 110), 2u), &step);
  for (guint i = 0; i < ticks->len; i++)
    {
      double t = g_array_index (ticks, double, i);
      double x = round (bms_graph_geometry_time_x (geo, t)) + 0.5;
      g_autofree char *label = bms_graph_axis_format_tick (axis, t, step);
      double w;

      bms_graph_set_source (cr, &self->palette.fg, 0.10);
      cairo_move_to (cr, x, top);
      cairo_line_to (cr, x, bottom);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);

      bms_graph_text_size (layout, label, &w, NULL);
      if (x - w / 2 < last_right + 6 || x + w / 2 > geo->width - 2 || x - w / 2 < 2)
        continue;
      bms_graph_set_source (cr, &self->palette.fg, 0.7);
      bms_graph_show_text (cr, layout, label, x - w / 2, bottom + 4);
      last_right = x + w / 2;
    }
}

void
bms_graph_painter_draw_pane_frame (BmsGraphPainter *self,
                                cairo_t        *cr,
                                PangoLayout    *layout,
                                const BmsGraphGeometry *geo,
                                const BmsGraphPane     *pane)
{
  g_autoptr(GArray) ticks = NULL;
  double step;

  ticks = bms_graph_axis_ticks_for_step (pane->axis, step = pane->step);
  for (guint i = 0; i < ticks->len; i++)
    {
      double v = g_array_index (ticks, double, i);
      double y = round (bms_graph_pane_value_y (pane, v)) + 0.5;
      g_autofree char *label = bms_graph_axis_format_tick (pane->axis, v, step);
      double w, h, ly;

      bms_graph_set_source (cr, &self->palette.fg, 0.10);
      cairo_move_to (cr, geo->plot_x, y);
      cairo_line_to (cr, geo->plot_x + geo->plot_w, y);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);

      /* Edge labels stay inside their pane so stacked panes never collide. */
      bms_graph_text_size (layout, label, &w, &h);
      ly = CLAMP (y - h / 2, pane->y - 1, pane->y + pane->h - h + 1);
      bms_graph_set_source (cr, &self->palette.fg, 0.7);
      bms_graph_show_text (cr, layout, label, geo->plot_x - 6 - w, ly);
    }

  bms_graph_set_source (cr, &self->palette.fg, 0.25);
  cairo_rectangle (cr, geo->plot_x + 0.5, round (pane->y) + 0.5,
                   geo->plot_w - 1, round (pane->h) - 1);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);

  if (pane->unit && *pane->unit)
    {
      bms_graph_set_source (cr, &self->palette.fg, 0.55);
      bms_graph_show_text (cr, layout, pane->unit, geo->plot_x + 6, pane->y + 3);
    }
}
