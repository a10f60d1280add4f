/* bms-graph-view.h — a time graph of several series, drawn with cairo.
 *
 * Series with the same unit share a pane (V, A, %, °C, mV stacked over one
 * time axis). Every series is reduced to per-pixel-column first/min/max/last
 * before it reaches cairo. bms_graph_view_draw() paints the widget, PNG and
 * SVG exports alike; the widget adds a crosshair on top.
 *
 * Mouse: scroll zooms around the pointer, Shift+scroll or a drag pans, a
 * click on a legend entry hides/shows that series. Keyboard: + and − zoom,
 * ←/→ pan, Shift+←/→ move a crosshair, Home shows everything, End follows
 * the newest data, 1–9 toggle the first nine series.
 */
#pragma once

#include <gtk/gtk.h>
#include "bms-graph-series.h"

G_BEGIN_DECLS

#define BMS_TYPE_GRAPH_VIEW (bms_graph_view_get_type ())
G_DECLARE_FINAL_TYPE (BmsGraphView, bms_graph_view, BMS, GRAPH_VIEW, GtkWidget)

#define BMS_GRAPH_VIEW_MIN_SPAN  10.0                 /* seconds */
#define BMS_GRAPH_VIEW_MAX_SPAN  (400.0 * 86400.0)

GtkWidget  *bms_graph_view_new            (void);

void        bms_graph_view_add_series     (BmsGraphView   *self,
                                           BmsGraphSeries *series);
void        bms_graph_view_remove_series  (BmsGraphView   *self,
                                           BmsGraphSeries *series);
void        bms_graph_view_remove_all     (BmsGraphView   *self);
/* A GListModel of BmsGraphSeries, in legend order. */
GListModel *bms_graph_view_get_series     (BmsGraphView   *self);
BmsGraphSeries *bms_graph_view_find_series (BmsGraphView  *self,
                                            const char    *name);

/* The visible time range, seconds since the Unix epoch. Setting it does not
 * change "follow". */
void        bms_graph_view_get_time_range (BmsGraphView   *self,
                                           double         *t0,
                                           double         *t1);
void        bms_graph_view_set_time_range (BmsGraphView   *self,
                                           double          t0,
                                           double          t1);
/* Show `seconds` ending at the newest sample (or now), and follow. */
void        bms_graph_view_show_last      (BmsGraphView   *self,
                                           double          seconds);
gboolean    bms_graph_view_get_follow     (BmsGraphView   *self);
void        bms_graph_view_set_follow     (BmsGraphView   *self,
                                           gboolean        follow);
/* factor > 1 zooms out; anchor is the fixed point as a 0..1 fraction of the
 * visible range. */
void        bms_graph_view_zoom           (BmsGraphView   *self,
                                           double          factor,
                                           double          anchor);
/* Shift by a fraction of the visible span (negative = back in time). */
void        bms_graph_view_pan            (BmsGraphView   *self,
                                           double          fraction);
void        bms_graph_view_zoom_to_fit    (BmsGraphView   *self);
/* The full time range of all series (FALSE when there is no data). */
gboolean    bms_graph_view_get_data_range (BmsGraphView   *self,
                                           double         *t0,
                                           double         *t1);

/* A crosshair at time t as if the pointer were there (Shift+←/→ move it,
 * Escape hides it); NAN hides it. The pointer's crosshair wins. */
void        bms_graph_view_set_cursor_time (BmsGraphView  *self,
                                            double         t);
double      bms_graph_view_get_cursor_time (BmsGraphView  *self);

/* The labels of the legend as last drawn: every series that holds data. */
char      **bms_graph_view_dup_legend     (BmsGraphView   *self);

/* The one drawing function: background, legend, panes, axes, curves. */
void        bms_graph_view_draw           (BmsGraphView   *self,
                                           cairo_t        *cr,
                                           int             width,
                                           int             height);
/* The picture as PNG or SVG bytes (call on the main thread; write the
 * bytes to disk elsewhere). */
GBytes     *bms_graph_view_render_png     (BmsGraphView   *self,
                                           int             width,
                                           int             height,
                                           GError        **error);
GBytes     *bms_graph_view_render_svg     (BmsGraphView   *self,
                                           int             width,
                                           int             height,
                                           GError        **error);

G_END_DECLS
