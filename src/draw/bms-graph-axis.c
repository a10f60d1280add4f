/* bms-graph-axis.c — value/time mapping and tick selection. */
#include "bms-graph-axis.h"

#include <math.h>

#define MINUTE 60.0
#define HOUR   3600.0
#define DAY    86400.0
#define MONTH  (30 * DAY)   /* nominal: month ticks are placed by calendar */

struct _BmsGraphAxis
{
  GObject          parent_instance;
  BmsGraphAxisKind kind;
  double           min;
  double           max;
};

G_DEFINE_FINAL_TYPE (BmsGraphAxis, bms_graph_axis, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MIN,
  PROP_MAX,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bms_graph_axis_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  BmsGraphAxis *self = BMS_GRAPH_AXIS (object);

  switch (prop_id)
    {
    case PROP_MIN:
      g_value_set_double (value, self->min);
      break;
    case PROP_MAX:
      g_value_set_double (value, self->max);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_graph_axis_class_init (BmsGraphAxisClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = bms_graph_axis_get_property;

  properties[PROP_MIN] =
    g_param_spec_double ("min", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX] =
    g_param_spec_double ("max", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 1,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bms_graph_axis_init (BmsGraphAxis *self)
{
  self->min = 0;
  self->max = 1;
}

BmsGraphAxis *
bms_graph_axis_new (BmsGraphAxisKind kind)
{
  BmsGraphAxis *self = g_object_new (BMS_TYPE_GRAPH_AXIS, NULL);

  self->kind = kind;
  return self;
}

BmsGraphAxisKind
bms_graph_axis_get_kind (BmsGraphAxis *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_AXIS (self), BMS_GRAPH_AXIS_VALUE);
  return self->kind;
}

double
bms_graph_axis_get_min (BmsGraphAxis *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_AXIS (self), 0);
  return self->min;
}

double
bms_graph_axis_get_max (BmsGraphAxis *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_AXIS (self), 1);
  return self->max;
}

void
bms_graph_axis_set_range (BmsGraphAxis *self,
                          double        min,
                          double        max)
{
  g_return_if_fail (BMS_IS_GRAPH_AXIS (self));
  g_return_if_fail (isfinite (min) && isfinite (max));

  if (!(max > min))
    {
      double centre = (min + max) / 2;
      double half = MAX (fabs (centre) * 0.01, self->kind == BMS_GRAPH_AXIS_TIME ? 1 : 0.5);
      min = centre - half;
      max = centre + half;
    }
  if (self->min != min)
    {
      self->min = min;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN]);
    }
  if (self->max != max)
    {
      self->max = max;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX]);
    }
}

double
bms_graph_axis_to_unit (BmsGraphAxis *self,
                        double        value)
{
  return (value - self->min) / (self->max - self->min);
}

double
bms_graph_axis_from_unit (BmsGraphAxis *self,
                          double        unit)
{
  return self->min + unit * (self->max - self->min);
}

/* --- value ticks -------------------------------------------------------- */

double
bms_graph_axis_nice_step (double span,
                          guint  max_ticks)
{
  double raw, mag, norm;

  if (!(span > 0) || !isfinite (span))
    return 1;
  raw = span / MAX (max_ticks, 2u);
  mag = pow (10, floor (log10 (raw)));
  norm = raw / mag;
  if (norm <= 1)
    return mag;
  if (norm <= 2)
    return 2 * mag;
  if (norm <= 5)
    return 5 * mag;
  return 10 * mag;
}

double
bms_graph_axis_nice_bounds (double *min,
                            double *max,
                            guint   max_ticks)
{
  double step;

  g_return_val_if_fail (min != NULL && max != NULL, 1);

  if (!(*max > *min))
    {
      double half = MAX (fabs (*min) * 0.01, 0.5);
      *min -= half;
      *max += half;
    }
  step = bms_graph_axis_nice_step (*max - *min, max_ticks);
  *min = floor (*min / step) * step;
  *max = ceil (*max / step) * step;
  return step;
}

static void
clamp_to_limits (double *min,
                 double *max,
                 double  limit_lo,
                 double  limit_hi)
{
  if (!isnan (limit_lo))
    *min = MAX (*min, limit_lo);
  if (!isnan (limit_hi))
    *max = MIN (*max, limit_hi);
}

double
bms_graph_axis_fit_pane (double  lo,
                         double  hi,
                         double  limit_lo,
                         double  limit_hi,
                         double  pane_h,
                         double  label_h,
                         guint   max_ticks,
                         double *min,
                         double *max)
{
  double step, room, per_px;

  g_return_val_if_fail (min != NULL && max != NULL, 1);

  if (isnan (lo) || isnan (hi))
    {
      lo = 0;
      hi = 1;
    }
  else
    {
      /* Headroom so a curve at its extreme does not sit on the frame. */
      double pad = (hi - lo) * 0.05;
      lo -= pad;
      hi += pad;
    }
  clamp_to_limits (&lo, &hi, limit_lo, limit_hi);
  step = bms_graph_axis_nice_bounds (&lo, &hi, max_ticks);
  /* The limits are whole steps (0 and 100 are), so this keeps them so. */
  clamp_to_limits (&lo, &hi, limit_lo, limit_hi);
  if (!(hi > lo))
    hi = lo + step;
  /* An edge label clamped into the pane would sit off its gridline and
   * crowd its neighbour: give it the room to be centred instead. */
  room = label_h / 2 + 1;
  if (pane_h > 2 * room + 10)
    {
      per_px = (hi - lo) / (pane_h - 2 * room);
      lo -= room * per_px;
      hi += room * per_px;
    }
  *min = lo;
  *max = hi;
  return step;
}

GArray *
bms_graph_axis_ticks_for_step (BmsGraphAxis *self,
                               double        step)
{
  GArray *ticks = g_array_new (FALSE, FALSE, sizeof (double));
  double first;

  g_return_val_if_fail (BMS_IS_GRAPH_AXIS (self), ticks);
  g_return_val_if_fail (step > 0, ticks);

  first = ceil (self->min / step - 1e-9) * step;
  for (guint i = 0; i < 1000; i++)
    {
      double v = first + i * step;
      if (v > self->max + step * 1e-9)
        break;
      if (fabs (v) < step * 1e-9)
        v = 0;   /* no "-0" labels */
      g_array_append_val (ticks, v);
    }
  return ticks;
}

static GArray *
value_ticks (BmsGraphAxis *self,
             guint         max_ticks,
             double       *step_out)
{
  double step = bms_graph_axis_nice_step (self->max - self->min, max_ticks);

  if (step_out)
    *step_out = step;
  return bms_graph_axis_ticks_for_step (self, step);
}

/* --- time ticks --------------------------------------------------------- */

static const double time_steps[] = {
  1, 2, 5, 10, 15, 30,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY,
  MONTH, 3 * MONTH, 12 * MONTH,
};

static GDateTime *
local_from_unix (double t)
{
  return g_date_time_new_from_unix_local ((gint64) floor (t));
}

/* First local midnight (or month start, or Monday) at or after t. */
static GDateTime *
calendar_start (double t,
                double step)
{
  g_autoptr(GDateTime) local = local_from_unix (t);
  g_autoptr(GDateTime) day = NULL;
  GDateTime *result;

  if (step >= MONTH)
    {
      day = g_date_time_new_local (g_date_time_get_year (local),
                                   g_date_time_get_month (local), 1, 0, 0, 0);
      result = g_date_time_to_unix (day) < (gint64) ceil (t)
        ? g_date_time_add_months (day, 1) : g_date_time_ref (day);
      return result;
    }
  day = g_date_time_new_local (g_date_time_get_year (local),
                               g_date_time_get_month (local),
                               g_date_time_get_day_of_month (local), 0, 0, 0);
  result = g_date_time_to_unix (day) < (gint64) ceil (t)
    ? g_date_time_add_days (day, 1) : g_date_time_ref (day);
  if (step >= 7 * DAY)
    {
      GDateTime *monday;
      int dow = g_date_time_get_day_of_week (result);   /* 1 = Monday */
      monday = g_date_time_add_days (result, (8 - dow) % 7);
      g_date_time_unref (result);
      result = monday;
    }
  return result;
}

static void
calendar_ticks (BmsGraphAxis *self,
                double        step,
                GArray       *ticks)
{
  g_autoptr(GDateTime) dt = calendar_start (self->min, step);
  int months = (int) round (step / MONTH);
  int days = (int) round (step / DAY);

  for (guint guard = 0; guard < 1000; guard++)
    {
      double v = (double) g_date_time_to_unix (dt);
      GDateTime *next;

      if (v > self->max)
        break;
      g_array_append_val (ticks, v);
      next = step >= MONTH ? g_date_time_add_months (dt, months)
                           : g_date_time_add_days (dt, days);
      g_date_time_unref (dt);
      dt = next;
    }
}

/* Sub-day steps align to the local clock: the UTC offset at the start is
 * used for the whole range (a DST change shifts later ticks by an hour). */
static void
clock_ticks (BmsGraphAxis *self,
             double        step,
             GArray       *ticks)
{
  g_autoptr(GDateTime) local = local_from_unix (self->min);
  double offset = g_date_time_get_utc_offset (local) / (double) G_TIME_SPAN_SECOND;
  double first = ceil ((self->min + offset) / step - 1e-9) * step - offset;

  for (guint i = 0; i < 1000; i++)
    {
      double v = first + i * step;
      if (v > self->max + 1e-6)
        break;
      g_array_append_val (ticks, v);
    }
}

static GArray *
time_ticks (BmsGraphAxis *self,
            guint         max_ticks,
            double       *step_out)
{
  GArray *ticks = g_array_new (FALSE, FALSE, sizeof (double));
  double span = self->max - self->min;
  double step = time_steps[G_N_ELEMENTS (time_steps) - 1];

  for (guint i = 0; i < G_N_ELEMENTS (time_steps); i++)
    if (span / time_steps[i] <= MAX (max_ticks, 2u))
      {
        step = time_steps[i];
        break;
      }
  if (step >= DAY)
    calendar_ticks (self, step, ticks);
  else
    clock_ticks (self, step, ticks);
  if (step_out)
    *step_out = step;
  return ticks;
}

GArray *
bms_graph_axis_ticks (BmsGraphAxis *self,
                      guint         max_ticks,
                      double       *step_out)
{
  g_return_val_if_fail (BMS_IS_GRAPH_AXIS (self), NULL);

  if (self->kind == BMS_GRAPH_AXIS_TIME)
    return time_ticks (self, max_ticks, step_out);
  return value_ticks (self, max_ticks, step_out);
}

static int
decimals_for_step (double step)
{
  if (!(step > 0) || step >= 1)
    return 0;
  return CLAMP ((int) ceil (-log10 (step) - 1e-9), 0, 9);
}

char *
bms_graph_axis_format_tick (BmsGraphAxis *self,
                            double        value,
                            double        step)
{
  g_autoptr(GDateTime) local = NULL;

  g_return_val_if_fail (BMS_IS_GRAPH_AXIS (self), NULL);

  if (self->kind == BMS_GRAPH_AXIS_VALUE)
    return g_strdup_printf ("%.*f", decimals_for_step (step), value);

  local = local_from_unix (value);
  if (step >= MONTH)
    return g_date_time_format (local, "%b %Y");
  if (step >= DAY)
    return g_date_time_format (local, "%b %-d");
  if (g_date_time_get_hour (local) == 0 && g_date_time_get_minute (local) == 0
      && g_date_time_get_second (local) == 0)
    return g_date_time_format (local, "%b %-d");   /* midnight: say which day */
  if (step >= MINUTE)
    return g_date_time_format (local, "%H:%M");
  return g_date_time_format (local, "%H:%M:%S");
}

char *
bms_graph_axis_format_duration (double seconds)
{
  guint64 s = (guint64) llround (MAX (seconds, 0));

  if (s < 60)
    return g_strdup_printf ("%u s", (guint) s);
  if (s < 3600)
    return g_strdup_printf ("%u min", (guint) (s / 60));
  if (s < 86400)
    {
      if (s % 3600 >= 60)
        return g_strdup_printf ("%u h %u min", (guint) (s / 3600), (guint) (s % 3600 / 60));
      return g_strdup_printf ("%u h", (guint) (s / 3600));
    }
  if (s % 86400 >= 3600)
    return g_strdup_printf ("%u d %u h", (guint) (s / 86400), (guint) (s % 86400 / 3600));
  return g_strdup_printf ("%u d", (guint) (s / 86400));
}
