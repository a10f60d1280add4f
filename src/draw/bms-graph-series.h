/* bms-graph-series.h — one curve of a graph: sorted times and their values.
 *
 * Holds the samples (time in seconds since the Unix epoch, ascending; value
 * as float, NaN marks a gap) plus a min/max pyramid so that any time range
 * reduces to per-pixel-column first/min/max/last in time proportional to the
 * number of columns, not the number of samples. Drawing never sees more
 * points than pixels.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define BMS_TYPE_GRAPH_SERIES (bms_graph_series_get_type ())
G_DECLARE_FINAL_TYPE (BmsGraphSeries, bms_graph_series, BMS, GRAPH_SERIES, GObject)

/* One pixel column of a reduced range. n == 0: no sample in the column. */
typedef struct {
  double  t_first;   /* time of the first sample in the column */
  double  t_last;    /* time of the last sample in the column */
  float   first;     /* first finite value */
  float   min;       /* NaN when every sample in the column is NaN */
  float   max;
  float   last;      /* last finite value */
  guint   n;         /* samples in the column */
} BmsGraphBucket;

BmsGraphSeries *bms_graph_series_new          (const char *name,
                                               const char *label,
                                               const char *unit);
const char     *bms_graph_series_get_name     (BmsGraphSeries *self);
const char     *bms_graph_series_get_label    (BmsGraphSeries *self);
const char     *bms_graph_series_get_unit     (BmsGraphSeries *self);
gboolean        bms_graph_series_get_visible  (BmsGraphSeries *self);
void            bms_graph_series_set_visible  (BmsGraphSeries *self,
                                               gboolean        visible);
/* Largest time step still drawn as a line (seconds); 0 = never break. */
double          bms_graph_series_get_max_gap  (BmsGraphSeries *self);
void            bms_graph_series_set_max_gap  (BmsGraphSeries *self,
                                               double          seconds);
/* Palette slot used for the colour (the view maps it to a theme colour). */
guint           bms_graph_series_get_color_index (BmsGraphSeries *self);
void            bms_graph_series_set_color_index (BmsGraphSeries *self,
                                                  guint           index);

gsize           bms_graph_series_get_n_points (BmsGraphSeries *self);
const double   *bms_graph_series_get_times    (BmsGraphSeries *self);
const float    *bms_graph_series_get_values   (BmsGraphSeries *self);
/* FALSE when empty. */
gboolean        bms_graph_series_get_time_range (BmsGraphSeries *self,
                                                 double         *t_min,
                                                 double         *t_max);

/* Append samples; times must not go backwards: an earlier sample is dropped
 * and FALSE returned (the caller owns the data and decides whether that is
 * an error). Emits "changed". */
gboolean        bms_graph_series_append       (BmsGraphSeries *self,
                                               double          t,
                                               double          value);
gboolean        bms_graph_series_append_many  (BmsGraphSeries *self,
                                               const double   *times,
                                               const float    *values,
                                               gsize           n);
/* Replace everything (takes copies; samples out of time order are
 * dropped). Emits "changed". */
void            bms_graph_series_set_data     (BmsGraphSeries *self,
                                               const double   *times,
                                               const float    *values,
                                               gsize           n);
void            bms_graph_series_clear        (BmsGraphSeries *self);

/* First index with time >= t (n_points when none). */
gsize           bms_graph_series_lower_bound  (BmsGraphSeries *self,
                                               double          t);
/* Index of the sample nearest to t with a finite value; FALSE if none. */
gboolean        bms_graph_series_nearest      (BmsGraphSeries *self,
                                               double          t,
                                               gsize          *index_out);
/* The sample that holds the value at time t: the nearest one with a finite
 * value, if it is at most half the max gap away (any distance when the max
 * gap is 0). FALSE where nothing was measured at t: before the data, after
 * it, or inside a break of the line. */
gboolean        bms_graph_series_value_at     (BmsGraphSeries *self,
                                               double          t,
                                               gsize          *index_out);
/* Min and max of the finite values in [first, last) of the index range;
 * FALSE when there is none. O(log n) blocks. */
gboolean        bms_graph_series_range_minmax (BmsGraphSeries *self,
                                               gsize           first,
                                               gsize           last,
                                               float          *min_out,
                                               float          *max_out);
/* Reduce [t0, t1) to n_columns equal-width columns (out has n_columns
 * entries). Returns the number of samples in the range. */
gsize           bms_graph_series_reduce       (BmsGraphSeries *self,
                                               double          t0,
                                               double          t1,
                                               guint           n_columns,
                                               BmsGraphBucket *out);

G_END_DECLS
