/* bms-graph-view-private.h — what the drawing layers of BmsGraphView share.
 *
 * The view is data (the BmsGraphSeries), axis mapping (BmsGraphAxis, one
 * per pane) and drawing layers, each in its own file:
 *   bms-graph-view.c            the widget: range, series list, the one
 *                               draw () entry and the exports
 *   bms-graph-view-input.c      mouse, keys, actions and tooltips
 *   bms-graph-view-style.c      theme colours and text
 *   bms-graph-view-axes.c       panes per unit, value and time axes
 *   bms-graph-view-curves.c     the series, reduced per pixel column
 *   bms-graph-view-legend.c     the legend and its hit test
 *   bms-graph-view-crosshair.c  the crosshair and its read-out
 * A layer draws from the Geometry that bms_graph_view_draw () laid out.
 */
#pragma once

#include "bms-graph-view.h"
#include "bms-graph-painter.h"

G_BEGIN_DECLS

/* The view draws through the painter (src/draw); these names keep the
 * view's input and crosshair layers short. */
typedef BmsGraphPane     Pane;
typedef BmsGraphGeometry Geometry;

struct _BmsGraphView
{
  GtkWidget     parent_instance;

  GListStore   *series;
  BmsGraphPainter painter; /* draws self->series; palette and font from the theme */
  Geometry      geo;       /* of the last draw, for hit tests and hover */

  double        t0, t1;
  gboolean      follow;
  gboolean      range_set;

  double        hover_x, hover_y;
  gboolean      hovering;
  double        cursor_t;    /* keyboard/programmatic crosshair; NAN = none */
  double        drag_t0, drag_t1;
};

static inline guint
n_series (BmsGraphView *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->series));
}

/* Borrowed: the store holds the reference. */
static inline BmsGraphSeries *
series_at (BmsGraphView *self,
           guint         i)
{
  return bms_graph_painter_series_at (&self->painter, i);
}

/* bms-graph-view.c: the range, clamped, without changing "follow". */
void         bms_graph_view_apply_range      (BmsGraphView   *self,
                                              double          t0,
                                              double          t1);

/* bms-graph-view-input.c */
void         bms_graph_view_input_class_init (GtkWidgetClass *widget_class);
void         bms_graph_view_input_init       (BmsGraphView   *self);

/* bms-graph-view-style.c */
void         bms_graph_view_palette_update   (BmsGraphView   *self);

/* bms-graph-view-input.c: the legend entry at x, y; -1 when none. */
int          bms_graph_view_legend_hit       (BmsGraphView   *self,
                                              double          x,
                                              double          y);

/* bms-graph-view-crosshair.c */
gboolean     bms_graph_view_in_plot          (const Geometry *geo,
                                              double          x,
                                              double          y);
void         bms_graph_view_draw_crosshair   (BmsGraphView   *self,
                                              cairo_t        *cr);

G_END_DECLS
