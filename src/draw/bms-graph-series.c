/* bms-graph-series.c — samples plus a min/max pyramid for fast reduction. */
#include "bms-graph-series.h"

#include <math.h>
#include <string.h>

/* Each pyramid level summarises FANOUT entries of the level below; with 32
 * a month of 1 Hz samples (2.6 M) needs four levels and a range query reads
 * at most 2 × 31 entries per level. */
#define FANOUT 32

typedef struct {
  float min;
  float max;
} MinMax;

struct _BmsGraphSeries
{
  GObject   parent_instance;

  char     *name;
  char     *label;
  char     *unit;
  gboolean  visible;
  double    max_gap;
  guint     color_index;

  GArray   *times;    /* double */
  GArray   *values;   /* float */
  GPtrArray *levels;  /* GArray of MinMax; levels[0] summarises values */
};

G_DEFINE_FINAL_TYPE (BmsGraphSeries, bms_graph_series, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_LABEL,
  PROP_UNIT,
  PROP_VISIBLE,
  PROP_MAX_GAP,
  PROP_COLOR_INDEX,
  N_PROPS
};

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
bms_graph_series_finalize (GObject *object)
{
  BmsGraphSeries *self = BMS_GRAPH_SERIES (object);

  g_free (self->name);
  g_free (self->label);
  g_free (self->unit);
  g_array_unref (self->times);
  g_array_unref (self->values);
  g_ptr_array_unref (self->levels);

  G_OBJECT_CLASS (bms_graph_series_parent_class)->finalize (object);
}

static void
bms_graph_series_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  BmsGraphSeries *self = BMS_GRAPH_SERIES (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_LABEL:
      g_value_set_string (value, self->label);
      break;
    case PROP_UNIT:
      g_value_set_string (value, self->unit);
      break;
    case PROP_VISIBLE:
      g_value_set_boolean (value, self->visible);
      break;
    case PROP_MAX_GAP:
      g_value_set_double (value, self->max_gap);
      break;
    case PROP_COLOR_INDEX:
      g_value_set_uint (value, self->color_index);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_graph_series_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  BmsGraphSeries *self = BMS_GRAPH_SERIES (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    case PROP_LABEL:
      self->label = g_value_dup_string (value);
      break;
    case PROP_UNIT:
      self->unit = g_value_dup_string (value);
      break;
    case PROP_VISIBLE:
      bms_graph_series_set_visible (self, g_value_get_boolean (value));
      break;
    case PROP_MAX_GAP:
      bms_graph_series_set_max_gap (self, g_value_get_double (value));
      break;
    case PROP_COLOR_INDEX:
      bms_graph_series_set_color_index (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_graph_series_class_init (BmsGraphSeriesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bms_graph_series_finalize;
  object_class->get_property = bms_graph_series_get_property;
  object_class->set_property = bms_graph_series_set_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LABEL] =
    g_param_spec_string ("label", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_UNIT] =
    g_param_spec_string ("unit", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VISIBLE] =
    g_param_spec_boolean ("visible", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_GAP] =
    g_param_spec_double ("max-gap", NULL, NULL, 0, G_MAXDOUBLE, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_COLOR_INDEX] =
    g_param_spec_uint ("color-index", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The samples changed (append, replace, clear). */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
bms_graph_series_init (BmsGraphSeries *self)
{
  self->visible = TRUE;
  self->times = g_array_new (FALSE, FALSE, sizeof (double));
  self->values = g_array_new (FALSE, FALSE, sizeof (float));
  self->levels = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
}

BmsGraphSeries *
bms_graph_series_new (const char *name,
                      const char *label,
                      const char *unit)
{
  g_return_val_if_fail (name != NULL, NULL);

  return g_object_new (BMS_TYPE_GRAPH_SERIES,
                       "name", name,
                       "label", label ? label : name,
                       "unit", unit ? unit : "",
                       NULL);
}

const char *
bms_graph_series_get_name (BmsGraphSeries *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), NULL);
  return self->name;
}

const char *
bms_graph_series_get_label (BmsGraphSeries *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), NULL);
  return self->label;
}

const char *
bms_graph_series_get_unit (BmsGraphSeries *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), NULL);
  return self->unit;
}

gboolean
bms_graph_series_get_visible (BmsGraphSeries *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), FALSE);
  return self->visible;
}

void
bms_graph_series_set_visible (BmsGraphSeries *self,
                              gboolean        visible)
{
  g_return_if_fail (BMS_IS_GRAPH_SERIES (self));

  visible = !!visible;
  if (self->visible == visible)
    return;
  self->visible = visible;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VISIBLE]);
}

double
bms_graph_series_get_max_gap (BmsGraphSeries *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), 0);
  return self->max_gap;
}

void
bms_graph_series_set_max_gap (BmsGraphSeries *self,
                              double          seconds)
{
  g_return_if_fail (BMS_IS_GRAPH_SERIES (self));

  seconds = MAX (seconds, 0);
  if (self->max_gap == seconds)
    return;
  self->max_gap = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_GAP]);
}

guint
bms_graph_series_get_color_index (BmsGraphSeries *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), 0);
  return self->color_index;
}

void
bms_graph_series_set_color_index (BmsGraphSeries *self,
                                  guint           index)
{
  g_return_if_fail (BMS_IS_GRAPH_SERIES (self));

  if (self->color_index == index)
    return;
  self->color_index = index;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLOR_INDEX]);
}

gsize
bms_graph_series_get_n_points (BmsGraphSeries *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), 0);
  return self->times->len;
}

const double *
bms_graph_series_get_times (BmsGraphSeries *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), NULL);
  return (const double *) (gpointer) self->times->data;
}

const float *
bms_graph_series_get_values (BmsGraphSeries *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), NULL);
  return (const float *) (gpointer) self->values->data;
}

gboolean
bms_graph_series_get_time_range (BmsGraphSeries *self,
                                 double         *t_min,
                                 double         *t_max)
{
  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), FALSE);

  if (self->times->len == 0)
    return FALSE;
  if (t_min)
    *t_min = g_array_index (self->times, double, 0);
  if (t_max)
    *t_max = g_array_index (self->times, double, self->times->len - 1);
  return TRUE;
}

/* --- pyramid ------------------------------------------------------------ */

static MinMax
level_entry_of (BmsGraphSeries *self,
                guint           level,
                gsize           index)
{
  if (level == 0)
    {
      float v = g_array_index (self->values, float, index);
      return (MinMax) { v, v };
    }
  return g_array_index ((GArray *) g_ptr_array_index (self->levels, level - 1), MinMax, index);
}

static gsize
level_length (BmsGraphSeries *self,
              guint           level)
{
  if (level == 0)
    return self->values->len;
  return ((GArray *) g_ptr_array_index (self->levels, level - 1))->len;
}

/* Build pyramid level `level` (>= 1) from scratch out of the one below. */
static void
build_level (BmsGraphSeries *self,
             guint           level)
{
  gsize below = level_length (self, level - 1);
  gsize n = (below + FANOUT - 1) / FANOUT;
  GArray *arr = g_array_sized_new (FALSE, FALSE, sizeof (MinMax), n);

  for (gsize b = 0; b < n; b++)
    {
      MinMax mm = { NAN, NAN };
      gsize end = MIN ((b + 1) * FANOUT, below);

      for (gsize i = b * FANOUT; i < end; i++)
        {
          MinMax e = level_entry_of (self, level - 1, i);
          mm.min = fminf (mm.min, e.min);
          mm.max = fmaxf (mm.max, e.max);
        }
      g_array_append_val (arr, mm);
    }

  g_assert (self->levels->len == level - 1);
  g_ptr_array_add (self->levels, arr);
}

static void
rebuild_pyramid (BmsGraphSeries *self)
{
  g_ptr_array_set_size (self->levels, 0);
  for (guint level = 1; level_length (self, level - 1) > FANOUT; level++)
    build_level (self, level);
}

/* The value at index `index` (level 0) was just appended: fold it into each
 * level, creating a new top level when the current top outgrows one block. */
static void
pyramid_append (BmsGraphSeries *self,
                gsize           index,
                float           v)
{
  gsize idx = index;

  for (guint level = 1; ; level++)
    {
      GArray *arr;
      gsize j = idx / FANOUT;

      if (level > self->levels->len)
        {
          if (level_length (self, level - 1) > FANOUT)
            build_level (self, level);
          return;
        }
      arr = g_ptr_array_index (self->levels, level - 1);
      if (j == arr->len)
        {
          MinMax mm = { v, v };
          g_array_append_val (arr, mm);
        }
      else
        {
          MinMax *mm = &g_array_index (arr, MinMax, j);
          mm->min = fminf (mm->min, v);
          mm->max = fmaxf (mm->max, v);
        }
      idx = j;
    }
}

static void
scan_level (BmsGraphSeries *self,
            guint           level,
            gsize           lo,
            gsize           hi,
            MinMax         *acc)
{
  if (level == 0)
    {
      const float *v = (const float *) (gpointer) self->values->data;
      for (gsize i = lo; i < hi; i++)
        {
          acc->min = fminf (acc->min, v[i]);
          acc->max = fmaxf (acc->max, v[i]);
        }
      return;
    }
  for (gsize i = lo; i < hi; i++)
    {
      MinMax e = level_entry_of (self, level, i);
      acc->min = fminf (acc->min, e.min);
      acc->max = fmaxf (acc->max, e.max);
    }
}

gboolean
bms_graph_series_range_minmax (BmsGraphSeries *self,
                               gsize           first,
                               gsize           last,
                               float          *min_out,
                               float          *max_out)
{
  MinMax acc = { NAN, NAN };
  gsize lo, hi;
  guint level = 0;

  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), FALSE);

  lo = MIN (first, self->values->len);
  hi = MIN (last, self->values->len);
  while (lo < hi)
    {
      gsize lo_al = (lo + FANOUT - 1) / FANOUT * FANOUT;
      gsize hi_al = hi / FANOUT * FANOUT;

      if (level >= self->levels->len || lo_al >= hi_al)
        {
          scan_level (self, level, lo, hi, &acc);
          break;
        }
      scan_level (self, level, lo, lo_al, &acc);
      scan_level (self, level, hi_al, hi, &acc);
      lo = lo_al / FANOUT;
      hi = hi_al / FANOUT;
      level++;
    }

  if (isnan (acc.min))
    return FALSE;
  if (min_out)
    *min_out = acc.min;
  if (max_out)
    *max_out = acc.max;
  return TRUE;
}

/* --- data --------------------------------------------------------------- */

static gboolean
append_one (BmsGraphSeries *self,
            double          t,
            float           v)
{
  gsize n = self->times->len;

  if (n > 0 && t < g_array_index (self->times, double, n - 1))
    return FALSE;
  g_array_append_val (self->times, t);
  g_array_append_val (self->values, v);
  pyramid_append (self, n, v);
  return TRUE;
}

gboolean
bms_graph_series_append (BmsGraphSeries *self,
                         double          t,
                         double          value)
{
  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), FALSE);

  if (!append_one (self, t, (float) value))
    {
      g_debug ("Graph series %s: sample at %.3f is older than the last one; dropped",
               self->name, t);
      return FALSE;
    }
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return TRUE;
}

gboolean
bms_graph_series_append_many (BmsGraphSeries *self,
                              const double   *times,
                              const float    *values,
                              gsize           n)
{
  gsize dropped = 0;

  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), FALSE);
  g_return_val_if_fail (n == 0 || (times != NULL && values != NULL), FALSE);

  for (gsize i = 0; i < n; i++)
    if (!append_one (self, times[i], values[i]))
      dropped++;
  if (dropped > 0)
    g_debug ("Graph series %s: %" G_GSIZE_FORMAT " samples older than their "
             "predecessor were dropped", self->name, dropped);
  if (n > dropped)
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return dropped == 0;
}

void
bms_graph_series_set_data (BmsGraphSeries *self,
                           const double   *times,
                           const float    *values,
                           gsize           n)
{
  gsize kept = 0;
  double last = -G_MAXDOUBLE;

  g_return_if_fail (BMS_IS_GRAPH_SERIES (self));
  g_return_if_fail (n == 0 || (times != NULL && values != NULL));

  g_array_set_size (self->times, n);
  g_array_set_size (self->values, n);
  for (gsize i = 0; i < n; i++)
    {
      if (times[i] < last)
        continue;
      last = times[i];
      g_array_index (self->times, double, kept) = times[i];
      g_array_index (self->values, float, kept) = values[i];
      kept++;
    }
  if (kept < n)
    g_debug ("Graph series %s: %" G_GSIZE_FORMAT " samples out of time order "
             "were dropped", self->name, n - kept);
  g_array_set_size (self->times, kept);
  g_array_set_size (self->values, kept);
  rebuild_pyramid (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
bms_graph_series_clear (BmsGraphSeries *self)
{
  g_return_if_fail (BMS_IS_GRAPH_SERIES (self));

  g_array_set_size (self->times, 0);
  g_array_set_size (self->values, 0);
  g_ptr_array_set_size (self->levels, 0);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/* --- queries ------------------------------------------------------------ */

gsize
bms_graph_series_lower_bound (BmsGraphSeries *self,
                              double          t)
{
  const double *times;
  gsize lo = 0, hi;

  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), 0);

  times = (const double *) (gpointer) self->times->data;
  hi = self->times->len;
  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;
      if (times[mid] < t)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

gboolean
bms_graph_series_nearest (BmsGraphSeries *self,
                          double          t,
                          gsize          *index_out)
{
  const double *times;
  const float *values;
  gsize n, right, left;
  gboolean have_left = FALSE, have_right = FALSE;

  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), FALSE);

  n = self->times->len;
  times = (const double *) (gpointer) self->times->data;
  values = (const float *) (gpointer) self->values->data;
  right = bms_graph_series_lower_bound (self, t);
  left = right;

  /* Skip gap markers on both sides; a handful at most in practice. */
  while (right < n && isnan (values[right]))
    right++;
  have_right = right < n;
  while (left > 0)
    {
      left--;
      if (!isnan (values[left]))
        {
          have_left = TRUE;
          break;
        }
    }

  if (!have_left && !have_right)
    return FALSE;
  if (have_left && (!have_right || t - times[left] <= times[right] - t))
    *index_out = left;
  else
    *index_out = right;
  return TRUE;
}

gboolean
bms_graph_series_value_at (BmsGraphSeries *self,
                           double          t,
                           gsize          *index_out)
{
  gsize idx;
  double at;

  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), FALSE);

  if (!bms_graph_series_nearest (self, t, &idx))
    return FALSE;
  at = g_array_index (self->times, double, idx);
  /* Half the gap: a line is drawn between samples up to max_gap apart, so
   * any t on it is that close to one of its ends. */
  if (self->max_gap > 0 && fabs (t - at) > self->max_gap / 2)
    return FALSE;
  *index_out = idx;
  return TRUE;
}

static void
fill_bucket (BmsGraphSeries *self,
             gsize           i0,
             gsize           i1,
             BmsGraphBucket *b)
{
  const double *times = (const double *) (gpointer) self->times->data;
  const float *values = (const float *) (gpointer) self->values->data;

  memset (b, 0, sizeof *b);
  b->n = (guint) MIN (i1 - i0, G_MAXUINT);
  if (i1 <= i0)
    {
      b->first = b->last = b->min = b->max = NAN;
      return;
    }
  b->t_first = times[i0];
  b->t_last = times[i1 - 1];
  if (!bms_graph_series_range_minmax (self, i0, i1, &b->min, &b->max))
    {
      b->first = b->last = b->min = b->max = NAN;
      return;
    }
  /* A finite value exists, so both scans stop inside the column. */
  while (isnan (values[i0]))
    i0++;
  while (isnan (values[i1 - 1]))
    i1--;
  b->first = values[i0];
  b->last = values[i1 - 1];
}

/* First index in [lo, hi) with time >= t, starting from a guess: gallop
 * away from it, then bisect. With evenly spaced samples the guess is
 * (nearly) right, so each column costs a few nearby reads instead of a
 * binary search through the whole (cache-cold) time array. */
static gsize
lower_bound_near (const double *times,
                  gsize         lo,
                  gsize         hi,
                  gsize         guess,
                  double        t)
{
  gsize step = 1;

  guess = CLAMP (guess, lo, hi);
  if (guess < hi && times[guess] < t)
    {
      lo = guess + 1;
      while (lo + step < hi && times[lo + step] < t)
        {
          lo += step + 1;
          step *= 2;
        }
      hi = MIN (hi, lo + step);
    }
  else
    {
      hi = guess;
      while (hi > lo + step && times[hi - step - 1] >= t)
        {
          hi -= step + 1;
          step *= 2;
        }
      lo = hi > lo + step ? hi - step - 1 : lo;
    }
  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;
      if (times[mid] < t)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

gsize
bms_graph_series_reduce (BmsGraphSeries *self,
                         double          t0,
                         double          t1,
                         guint           n_columns,
                         BmsGraphBucket *out)
{
  const double *times;
  gsize start, prev, end;
  double width;

  g_return_val_if_fail (BMS_IS_GRAPH_SERIES (self), 0);
  g_return_val_if_fail (n_columns == 0 || out != NULL, 0);

  if (n_columns == 0 || !(t1 > t0))
    return 0;

  width = (t1 - t0) / n_columns;
  times = (const double *) (gpointer) self->times->data;
  start = prev = bms_graph_series_lower_bound (self, t0);
  end = bms_graph_series_lower_bound (self, t1);
  for (guint c = 0; c < n_columns; c++)
    {
      gsize guess = start + (gsize) ((double) (end - start) * (c + 1) / n_columns);
      gsize next = (c + 1 == n_columns)
        ? end
        : lower_bound_near (times, prev, end, guess, t0 + width * (c + 1));
      fill_bucket (self, prev, next, &out[c]);
      prev = next;
    }
  return prev - start;
}
