/* bms-graph-view-legend.c — the legend: a swatch and label per series with data. */
#include "config.h"

#include "bms-graph-view-private.h"

char **
bms_graph_view_dup_legend (BmsGraphView *self)
{
  GStrvBuilder *builder;
  char **labels;

  g_return_val_if_fail (BMS_IS_GRAPH_VIEW (self), NULL);

  builder = g_strv_builder_new ();
  for (guint i = 0; i < self->geo.legend->len; i++)
    {
      const LegendHit *hit = &g_array_index (self->geo.legend, LegendHit, i);
      g_strv_builder_add (builder, bms_graph_series_get_label (series_at (self, hit->index)));
    }
  labels = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return labels;
}

double
bms_graph_view_layout_legend (BmsGraphView *self,
                              PangoLayout  *layout,
                              double        width,
                              Geometry     *geo)
{
  double x = PAD, y = PAD, line_h = 0;

  for (guint i = 0; i < n_series (self); i++)
    {
      BmsGraphSeries *s = series_at (self, i);
      LegendHit hit = { .index = i };
      double w, h, entry_w;
      float lo, hi;

      /* A series the board never reported (a missing sensor) is no
       * choice to offer. */
      if (!bms_graph_series_range_minmax (s, 0, bms_graph_series_get_n_points (s), &lo, &hi))
        continue;
      bms_graph_view_text_size (layout, bms_graph_series_get_label (s), &w, &h);
      entry_w = LEGEND_SWATCH + 4 + w;
      line_h = MAX (line_h, h);
      if (x > PAD && x + entry_w > width - PAD)
        {
          x = PAD;
          y += line_h + 4;
        }
      graphene_rect_init (&hit.rect, x, y, entry_w, h);
      g_array_append_val (geo->legend, hit);
      x += entry_w + 14;
    }
  return geo->legend->len ? y + line_h + PAD : PAD;
}

void
bms_graph_view_draw_legend (BmsGraphView   *self,
                            cairo_t        *cr,
                            PangoLayout    *layout,
                            const Geometry *geo)
{
  for (guint i = 0; i < geo->legend->len; i++)
    {
      const LegendHit *hit = &g_array_index (geo->legend, LegendHit, i);
      BmsGraphSeries *s = series_at (self, hit->index);
      const GdkRGBA *c = series_color (self, s);
      gboolean visible = bms_graph_series_get_visible (s);
      double sy = hit->rect.origin.y + (hit->rect.size.height - LEGEND_SWATCH) / 2;

      cairo_rectangle (cr, hit->rect.origin.x + 0.5, sy + 0.5,
                       LEGEND_SWATCH - 1, LEGEND_SWATCH - 1);
      set_source (cr, c, 1);
      if (visible)
        cairo_fill_preserve (cr);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
      set_source (cr, &self->palette.fg, visible ? 0.9 : 0.4);
      bms_graph_view_show_text (cr, layout, bms_graph_series_get_label (s),
                 hit->rect.origin.x + LEGEND_SWATCH + 4, hit->rect.origin.y);
    }
}

int
bms_graph_view_legend_hit (BmsGraphView *self,
                           double        x,
                           double        y)
{
  for (guint i = 0; i < self->geo.legend->len; i++)
    {
      const LegendHit *hit = &g_array_index (self->geo.legend, LegendHit, i);
      if (graphene_rect_contains_point (&hit->rect, &GRAPHENE_POINT_INIT (x, y)))
        return (int) hit->index;
    }
  return -1;
}
