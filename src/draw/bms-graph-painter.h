/* bms-graph-painter.h — the Graph page's drawing, onto any cairo_t.
 *
 * A painter holds a list of BmsGraphSeries, a palette and a font, and draws
 * them over a time range into a rectangle of a given size: the legend, one
 * pane per unit stacked over one time axis, the value and time ticks, and
 * every series reduced per pixel column. It knows no widget: the Graph view
 * (src/ui) fills the palette and font from the theme and adds input and a
 * crosshair; the service report (src/model/bms-report.c) draws the same
 * pictures into its PDF pages.
 *
 * The geometry of a draw is returned for hit tests (legend, panes).
 */
#pragma once

#include <gio/gio.h>
#include <pango/pangocairo.h>

#include "bms-graph-axis.h"
#include "bms-graph-series.h"

G_BEGIN_DECLS

#define BMS_GRAPH_N_SLOTS        10
#define BMS_GRAPH_PAD            8.0
#define BMS_GRAPH_PANE_GAP       10.0
#define BMS_GRAPH_LEGEND_SWATCH  12.0

/* Same layout as GdkRGBA, which the view copies in. */
typedef struct {
  float red, green, blue, alpha;
} BmsGraphColor;

typedef struct {
  BmsGraphColor fg;
  BmsGraphColor bg;
  BmsGraphColor slots[BMS_GRAPH_N_SLOTS];
  gboolean      dark;
} BmsGraphPalette;

typedef struct {
  double  y, h;            /* plot area of the pane (x and width are shared) */
  double  lo, hi;          /* data extremes in view; NAN when none */
  double  step;            /* value tick spacing */
  char   *unit;
  BmsGraphAxis *axis;
} BmsGraphPane;

typedef struct {
  double  x, y, width, height;
  guint   index;           /* position in the series list */
} BmsGraphLegendHit;

typedef struct {
  int     width, height;
  double  plot_x, plot_w;
  double  t0, t1;
  GArray *panes;    /* BmsGraphPane */
  GArray *legend;   /* BmsGraphLegendHit */
} BmsGraphGeometry;

void  bms_graph_geometry_init  (BmsGraphGeometry *geo);
void  bms_graph_geometry_reset (BmsGraphGeometry *geo);
void  bms_graph_geometry_clear (BmsGraphGeometry *geo);
BmsGraphPane *bms_graph_geometry_pane_for_unit (BmsGraphGeometry *geo,
                                                const char       *unit);

typedef struct {
  GListModel           *series;   /* of BmsGraphSeries, owned reference */
  BmsGraphPalette       palette;
  PangoFontDescription *font;     /* axis and legend text; NULL: "Sans 9" */
  PangoContext         *context;  /* borrowed; NULL: the thread's default font map */
  GArray               *buckets;  /* BmsGraphBucket scratch, one per column */
} BmsGraphPainter;

/* series: a GListModel of BmsGraphSeries (a reference is taken). The
 * palette starts as the light fallback (bms_graph_palette_set_default). */
void  bms_graph_painter_init   (BmsGraphPainter *self,
                                GListModel      *series);
void  bms_graph_painter_clear  (BmsGraphPainter *self);
/* The font is copied; NULL restores the default. */
void  bms_graph_painter_set_font (BmsGraphPainter            *self,
                                  const PangoFontDescription *font);

/* Adwaita's colours for light or dark, for drawing without a theme (PDF)
 * and as the view's fallback for names the theme lacks. */
void  bms_graph_palette_set_default (BmsGraphPalette *palette,
                                     gboolean         dark);
/* The slot's Adwaita colour name ("blue_4") in light or dark mode. */
const char *bms_graph_palette_slot_name (guint    slot,
                                         gboolean dark);

/* The one drawing function: background, legend, panes, axes, curves over
 * [t0, t1] in a width × height box at the origin of cr; geo receives the
 * layout (initialised by the caller). */
void  bms_graph_painter_draw   (BmsGraphPainter  *self,
                                cairo_t          *cr,
                                int               width,
                                int               height,
                                double            t0,
                                double            t1,
                                BmsGraphGeometry *geo);

/* Text helpers shared with the view's crosshair. */
PangoLayout *bms_graph_painter_create_layout (BmsGraphPainter *self,
                                              cairo_t         *cr);
void  bms_graph_text_size      (PangoLayout *layout,
                                const char  *text,
                                double      *w,
                                double      *h);
void  bms_graph_show_text      (cairo_t     *cr,
                                PangoLayout *layout,
                                const char  *text,
                                double       x,
                                double       y);

static inline guint
bms_graph_painter_n_series (BmsGraphPainter *self)
{
  return g_list_model_get_n_items (self->series);
}

/* Borrowed: the list holds the reference. */
static inline BmsGraphSeries *
bms_graph_painter_series_at (BmsGraphPainter *self,
                             guint            i)
{
  BmsGraphSeries *s = g_list_model_get_item (self->series, i);
  g_object_unref (s);
  return s;
}

static inline const BmsGraphColor *
bms_graph_painter_series_color (BmsGraphPainter *self,
                                BmsGraphSeries  *s)
{
  return &self->palette.slots[bms_graph_series_get_color_index (s) % BMS_GRAPH_N_SLOTS];
}

static inline void
bms_graph_set_source (cairo_t             *cr,
                      const BmsGraphColor *c,
                      double               alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

static inline double
bms_graph_pane_value_y (const BmsGraphPane *pane,
                        double              v)
{
  return pane->y + pane->h * (1 - bms_graph_axis_to_unit (pane->axis, v));
}

static inline double
bms_graph_geometry_time_x (const BmsGraphGeometry *geo,
                           double                  t)
{
  return geo->plot_x + geo->plot_w * (t - geo->t0) / (geo->t1 - geo->t0);
}

G_END_DECLS
