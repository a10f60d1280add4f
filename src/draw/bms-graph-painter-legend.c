/* bms-graph-painter-legend.c — the legend: a swatch and label per series with data. */
#include "config.h"

#include "bms-graph-painter-private.h"

double
bms_graph_painter_layout_legend (BmsGraphPainter *self,
                              PangoLayout  *layout,
                              double        width,
                              BmsGraphGeometry *     geo)
{
  double x = BMS_GRAPH_PAD, y = BMS_GRAPH_PAD, line_h = 0;

  for (guint i = 0; i < bms_graph_painter_n_series (self); i++)
    {
      BmsGraphSeries *s = bms_graph_painter_series_at (self, i);
      BmsGraphLegendHit hit = { .index = i };
      double w, h, entry_w;
      float lo, hi;

      /* A series the board never reported (a missing sensor) is no
       * choice to offer. */
      if (!bms_graph_series_range_minmax (s, 0, bms_graph_series_get_n_points (s), &lo, &hi))
        continue;
      bms_graph_text_size (layout, bms_graph_series_get_label (s), &w, &h);
      entry_w = BMS_GRAPH_LEGEND_SWATCH + 4 + w;
      line_h = MAX (line_h, h);
      if (x > BMS_GRAPH_PAD && x + entry_w > width - BMS_GRAPH_PAD)
        {
          x = BMS_GRAPH_PAD;
          y += line_h + 4;
        }
      hit.x = x;
      hit.y = y;
      hit.width = entry_w;
      hit.height = h;
      g_array_append_val (geo->legend, hit);
      x += entry_w + 14;
    }
  return geo->legend->len ? y + line_h + BMS_GRAPH_PAD : BMS_GRAPH_PAD;
}

void
bms_graph_painter_draw_legend (BmsGraphPainter *self,
                            cairo_t        *cr,
                            PangoLayout    *layout,
                            const BmsGraphGeometry *geo)
{
  for (guint i = 0; i < geo->legend->len; i++)
    {
      const BmsGraphLegendHit *hit = &g_array_index (geo->legend, BmsGraphLegendHit, i);
      BmsGraphSeries *s = bms_graph_painter_series_at (self, hit->index);
      const BmsGraphColor *c = bms_graph_painter_series_color (self, s);
      gboolean visible = bms_graph_series_get_visible (s);
      double sy = hit->y + (hit->height - BMS_GRAPH_LEGEND_SWATCH) / 2;

      cairo_rectangle (cr, hit->x + 0.5, sy + 0.5,
                       BMS_GRAPH_LEGEND_SWATCH - 1, BMS_GRAPH_LEGEND_SWATCH - 1);
      bms_graph_set_source (cr, c, 1);
      if (visible)
        cairo_fill_preserve (cr);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
      bms_graph_set_source (cr, &self->palette.fg, visible ? 0.9 : 0.4);
      bms_graph_show_text (cr, layout, bms_graph_series_get_label (s),
                 hit->x + BMS_GRAPH_LEGEND_SWATCH + 4, hit->y);
    }
}
