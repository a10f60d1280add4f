/* bms-graph-view-crosshair.c — the crosshair and its read-out of every series. */
#include "config.h"

#include "bms-graph-view-private.h"
#include <glib/gi18n.h>
#include <math.h>

#define MAX_CROSSHAIR_LINES 12

static const Pane *
pane_at (const Geometry *geo,
         double          y)
{
  for (guint p = 0; p < geo->panes->len; p++)
    {
      const Pane *pane = &g_array_index (geo->panes, Pane, p);
      if (y >= pane->y && y < pane->y + pane->h)
        return pane;
    }
  return NULL;
}

gboolean
bms_graph_view_in_plot (const Geometry *geo,
                        double          x,
                        double          y)
{
  return x >= geo->plot_x && x < geo->plot_x + geo->plot_w && pane_at (geo, y) != NULL;
}

static char *
format_value (double      v,
              const char *unit)
{
  double a = fabs (v);
  int decimals = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;

  if (g_strcmp0 (unit, "mV") == 0 || g_strcmp0 (unit, "%") == 0)
    decimals = 0;
  return g_strdup_printf ("%.*f %s", decimals, v, unit ? unit : "");
}

static GPtrArray *
crosshair_lines (BmsGraphView *self,
                 cairo_t      *cr,
                 double        t)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local ((gint64) floor (t));
  guint shown = 0, hidden = 0;

  g_ptr_array_add (lines, g_date_time_format (when, "%Y-%m-%d %H:%M:%S"));
  for (guint i = 0; i < n_series (self); i++)
    {
      BmsGraphSeries *s = series_at (self, i);
      const Pane *pane = bms_graph_geometry_pane_for_unit (&self->geo, bms_graph_series_get_unit (s));
      g_autofree char *value = NULL;
      gsize idx;
      double v, px, py;

      if (!bms_graph_series_get_visible (s) || pane == NULL
          || !bms_graph_series_value_at (s, t, &idx))
        continue;
      v = bms_graph_series_get_values (s)[idx];
      px = bms_graph_geometry_time_x (&self->geo, bms_graph_series_get_times (s)[idx]);
      py = bms_graph_pane_value_y (pane, v);
      if (px >= self->geo.plot_x && px <= self->geo.plot_x + self->geo.plot_w)
        {
          bms_graph_set_source (cr, bms_graph_painter_series_color (&self->painter, s), 1);
          cairo_arc (cr, px, py, 3, 0, 2 * G_PI);
          cairo_fill (cr);
        }
      if (shown >= MAX_CROSSHAIR_LINES)
        {
          hidden++;
          continue;
        }
      value = format_value (v, bms_graph_series_get_unit (s));
      g_ptr_array_add (lines, g_strdup_printf ("%s: %s", bms_graph_series_get_label (s), value));
      shown++;
    }
  if (hidden > 0)
    g_ptr_array_add (lines, g_strdup_printf (ngettext ("and %u more", "and %u more", hidden), hidden));
  /* The time alone would suggest values; say there are none. */
  if (shown == 0)
    g_ptr_array_add (lines, g_strdup (_("No data at this time")));
  return lines;
}

void
bms_graph_view_draw_crosshair (BmsGraphView *self,
                               cairo_t      *cr)
{
  const Geometry *geo = &self->geo;
  g_autoptr(PangoLayout) layout = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *text = NULL;
  const Pane *first, *last;
  double t, x, w, h, bx, by;

  double px, py;

  if (geo->panes->len == 0)
    return;
  first = &g_array_index (geo->panes, Pane, 0);
  last = &g_array_index (geo->panes, Pane, geo->panes->len - 1);
  if (self->hovering && bms_graph_view_in_plot (geo, self->hover_x, self->hover_y))
    {
      px = self->hover_x;
      py = self->hover_y;
    }
  else if (!isnan (self->cursor_t) && self->cursor_t >= geo->t0 && self->cursor_t <= geo->t1)
    {
      px = bms_graph_geometry_time_x (geo, self->cursor_t);
      py = first->y + 40;
    }
  else
    return;
  x = round (px) + 0.5;
  t = geo->t0 + (px - geo->plot_x) / geo->plot_w * (geo->t1 - geo->t0);

  bms_graph_set_source (cr, &self->painter.palette.fg, 0.5);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, x, first->y);
  cairo_line_to (cr, x, last->y + last->h);
  cairo_stroke (cr);

  lines = crosshair_lines (self, cr, t);
  g_ptr_array_add (lines, NULL);
  text = g_strjoinv ("\n", (char **) lines->pdata);
  layout = bms_graph_painter_create_layout (&self->painter, cr);
  bms_graph_text_size (layout, text, &w, &h);
  bx = px + 14;
  if (bx + w + 12 > geo->plot_x + geo->plot_w)
    bx = px - 14 - w - 12;
  by = CLAMP (py - h / 2, 2, MAX (geo->height - h - 14, 2));

  bms_graph_set_source (cr, &self->painter.palette.bg, 0.92);
  cairo_rectangle (cr, bx, by, w + 12, h + 10);
  cairo_fill_preserve (cr);
  bms_graph_set_source (cr, &self->painter.palette.fg, 0.3);
  cairo_stroke (cr);
  bms_graph_set_source (cr, &self->painter.palette.fg, 0.9);
  bms_graph_show_text (cr, layout, text, bx + 6, by + 5);
}

void
bms_graph_view_set_cursor_time (BmsGraphView *self,
                                double        t)
{
  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));

  self->cursor_t = t;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
bms_graph_view_get_cursor_time (BmsGraphView *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_VIEW (self), NAN);
  return self->cursor_t;
}
