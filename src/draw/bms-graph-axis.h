/* bms-graph-axis.h — maps a value range to 0..1 and chooses ticks.
 *
 * A value axis picks "nice" ticks (1, 2, 5 × 10^k); a time axis (values are
 * seconds since the Unix epoch) picks clock-aligned ticks in local time —
 * seconds, minutes, hours, days, weeks, months — and formats their labels.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  BMS_GRAPH_AXIS_VALUE,
  BMS_GRAPH_AXIS_TIME,
} BmsGraphAxisKind;

#define BMS_TYPE_GRAPH_AXIS (bms_graph_axis_get_type ())
G_DECLARE_FINAL_TYPE (BmsGraphAxis, bms_graph_axis, BMS, GRAPH_AXIS, GObject)

BmsGraphAxis     *bms_graph_axis_new        (BmsGraphAxisKind kind);
BmsGraphAxisKind  bms_graph_axis_get_kind   (BmsGraphAxis    *self);
double            bms_graph_axis_get_min    (BmsGraphAxis    *self);
double            bms_graph_axis_get_max    (BmsGraphAxis    *self);
/* Sets both ends; an empty or inverted range is widened around its centre
 * (a flat line still gets an axis). */
void              bms_graph_axis_set_range  (BmsGraphAxis    *self,
                                             double           min,
                                             double           max);
/* value -> 0..1 (outside for values beyond the range), and back. */
double            bms_graph_axis_to_unit    (BmsGraphAxis    *self,
                                             double           value);
double            bms_graph_axis_from_unit  (BmsGraphAxis    *self,
                                             double           unit);

/* Ticks inside [min, max], at most max_ticks of them (at least 2 wanted).
 * step_out (optional) gets the spacing (seconds for a time axis; for month
 * ticks, 30 days). Returns an array of double. */
GArray           *bms_graph_axis_ticks      (BmsGraphAxis    *self,
                                             guint            max_ticks,
                                             double          *step_out);
/* The label of a tick produced with that step ("3.35", "14:05", "Mar 4"). */
char             *bms_graph_axis_format_tick (BmsGraphAxis   *self,
                                              double          value,
                                              double          step);

/* Helpers shared by the view. */
double            bms_graph_axis_nice_step  (double           span,
                                             guint            max_ticks);
/* Widens [*min, *max] outwards to multiples of a nice step for n ticks;
 * returns that step (use it for the ticks: the widened span may suggest
 * another). */
double            bms_graph_axis_nice_bounds (double          *min,
                                              double          *max,
                                              guint            max_ticks);
/* The value range of a pane of pane_h pixels showing data from lo to hi
 * (NAN: none yet): 5 % headroom, kept within [limit_lo, limit_hi] (NAN:
 * unlimited; SOC stays within 0–100 %), widened to whole steps for at most
 * max_ticks ticks, then by half a label_h-pixel label at either end so
 * every label sits centred on its gridline, evenly spaced, inside the
 * pane. Returns the tick step; the ticks are at multiples of it. */
double            bms_graph_axis_fit_pane   (double           lo,
                                             double           hi,
                                             double           limit_lo,
                                             double           limit_hi,
                                             double           pane_h,
                                             double           label_h,
                                             guint            max_ticks,
                                             double          *min,
                                             double          *max);
/* Value ticks at multiples of step inside [min, max]. */
GArray           *bms_graph_axis_ticks_for_step (BmsGraphAxis  *self,
                                                 double         step);
/* Duration text for a span of seconds: "45 s", "10 min", "1 h 30 min", "7 d". */
char             *bms_graph_axis_format_duration (double      seconds);

G_END_DECLS
