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

#include <pango/pangocairo.h>

#include "bms-graph-view.h"
#include "bms-graph-axis.h"

G_BEGIN_DECLS

#define N_SLOTS        10
#define PAD            8.0
#define PANE_GAP       10.0
#define LEGEND_SWATCH  12.0

typedef struct {
  GdkRGBA fg;
  GdkRGBA bg;
  GdkRGBA slots[N_SLOTS];
  gboolean dark;
} Palette;

typedef struct {
  double  y, h;            /* plot area of the pane (x and width are shared) */
  double  lo, hi;          /* data extremes in view; NAN when none */
  double  step;            /* value tick spacing */
  char   *unit;
  BmsGraphAxis *axis;
} Pane;

typedef struct {
  graphene_rect_t rect;
  guint           index;   /* position in the series list */
} LegendHit;

typedef struct {
  int     width, height;
  double  plot_x, plot_w;
  double  t0, t1;
  GArray *panes;    /* Pane */
  GArray *legend;   /* LegendHit */
} Geometry;

struct _BmsGraphView
{
  GtkWidget     parent_instance;

  GListStore   *series;
  GArray       *buckets;   /* BmsGraphBucket scratch, one per column */
  Palette       palette;
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
  g_autoptr(BmsGraphSeries) s = g_list_model_get_item (G_LIST_MODEL (self->series), i);
  return s;
}

static inline const GdkRGBA *
series_color (BmsGraphView   *self,
              BmsGraphSeries *s)
{
  return &self->palette.slots[bms_graph_series_get_color_index (s) % N_SLOTS];
}

static inline void
set_source (cairo_t       *cr,
            const GdkRGBA *c,
            double         alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

static inline double
value_y (const Pane *pane,
         double      v)
{
  return pane->y + pane->h * (1 - bms_graph_axis_to_unit (pane->axis, v));
}

static inline double
time_x (const Geometry *geo,
        double          t)
{
  return geo->plot_x + geo->plot_w * (t - geo->t0) / (geo->t1 - geo->t0);
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
PangoLayout *bms_graph_view_create_layout    (BmsGraphView   *self,
                                              cairo_t        *cr);
void         bms_graph_view_text_size        (PangoLayout    *layout,
                                              const char     *text,
                                              double         *w,
                                              double         *h);
void         bms_graph_view_show_text        (cairo_t        *cr,
                                              PangoLayout    *layout,
                                              const char     *text,
                                              double          x,
                                              double          y);

/* bms-graph-view-axes.c */
Pane        *bms_graph_view_pane_for_unit    (Geometry       *geo,
                                              const char     *unit);
void         bms_graph_view_layout_panes     (BmsGraphView   *self,
                                              Geometry       *geo);
void         bms_graph_view_place_panes      (Geometry       *geo,
                                              double          top,
                                              double          bottom,
                                              double          label_h);
double       bms_graph_view_measure_value_labels (PangoLayout    *layout,
                                                  const Geometry *geo);
void         bms_graph_view_draw_time_axis   (BmsGraphView   *self,
                                              cairo_t        *cr,
                                              PangoLayout    *layout,
                                              const Geometry *geo,
                                              double          top,
                                              double          bottom);
void         bms_graph_view_draw_pane_frame  (BmsGraphView   *self,
                                              cairo_t        *cr,
                                              PangoLayout    *layout,
                                              const Geometry *geo,
                                              const Pane     *pane);

/* bms-graph-view-curves.c: the pane's visible series, clipped to it;
 * FALSE when it shows none. */
gboolean     bms_graph_view_draw_pane_curves (BmsGraphView   *self,
                                              cairo_t        *cr,
                                              const Geometry *geo,
                                              const Pane     *pane);

/* bms-graph-view-legend.c */
double       bms_graph_view_layout_legend    (BmsGraphView   *self,
                                              PangoLayout    *layout,
                                              double          width,
                                              Geometry       *geo);
void         bms_graph_view_draw_legend      (BmsGraphView   *self,
                                              cairo_t        *cr,
                                              PangoLayout    *layout,
                                              const Geometry *geo);
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
