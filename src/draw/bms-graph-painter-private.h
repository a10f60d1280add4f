/* bms-graph-painter-private.h — what the drawing layers of the painter share.
 *
 *   bms-graph-painter.c         geometry, palette, text, the draw () entry
 *   bms-graph-painter-axes.c    panes per unit, value and time axes
 *   bms-graph-painter-curves.c  the series, reduced per pixel column
 *   bms-graph-painter-legend.c  the legend
 * A layer draws from the geometry that bms_graph_painter_draw () laid out.
 */
#pragma once

#include "bms-graph-painter.h"

G_BEGIN_DECLS

/* bms-graph-painter-axes.c */
void     bms_graph_painter_layout_panes  (BmsGraphPainter        *self,
                                          BmsGraphGeometry       *geo);
void     bms_graph_painter_place_panes   (BmsGraphGeometry       *geo,
                                          double                  top,
                                          double                  bottom,
                                          double                  label_h);
double   bms_graph_painter_measure_value_labels (PangoLayout            *layout,
                                                 const BmsGraphGeometry *geo);
void     bms_graph_painter_draw_time_axis (BmsGraphPainter       *self,
                                           cairo_t               *cr,
                                           PangoLayout           *layout,
                                           const BmsGraphGeometry *geo,
                                           double                 top,
                                           double                 bottom);
void     bms_graph_painter_draw_pane_frame (BmsGraphPainter        *self,
                                            cairo_t                *cr,
                                            PangoLayout            *layout,
                                            const BmsGraphGeometry *geo,
                                            const BmsGraphPane     *pane);

/* bms-graph-painter-curves.c: the pane's visible series, clipped to it;
 * FALSE when it shows none. */
gboolean bms_graph_painter_draw_pane_curves (BmsGraphPainter        *self,
                                             cairo_t                *cr,
                                             const BmsGraphGeometry *geo,
                                             const BmsGraphPane     *pane);

/* bms-graph-painter-legend.c */
double   bms_graph_painter_layout_legend (BmsGraphPainter  *self,
                                          PangoLayout      *layout,
                                          double            width,
                                          BmsGraphGeometry *geo);
void     bms_graph_painter_draw_legend   (BmsGraphPainter        *self,
                                          cairo_t                *cr,
                                          PangoLayout            *layout,
                                          const BmsGraphGeometry *geo);

G_END_DECLS
