/* bms-report-data.c — the history of the report's range: one pass over the
 * samples for the summary, the cell table, the energy and the graphs, then
 * the alarm events and the audit rows. */
#include "config.h"

#include "bms-report-private.h"

#include <glib/gi18n.h>
#include <math.h>

#include "bms-device.h"
#include "bms-graph-series.h"

/* Each graph gets at most this many columns of min and max: a month of
 * 1 Hz samples reaches the painter as 4096 points per series. */
#define GRAPH_COLUMNS 2048

/* The graph series, in the order of Decimator slots. */
enum {
  SLOT_VOLTAGE,
  SLOT_CURRENT,
  SLOT_SOC,
  SLOT_TEMP_MOSFET,
  SLOT_TEMP1,
  SLOT_TEMP2,
  SLOT_SPREAD,
  N_SLOTS
};

/* Per-column min and max of one series, appended in time order when the
 * column is done. */
typedef struct {
  BmsGraphSeries *series;
  gint64  column;
  double  t_min, v_min, t_max, v_max;
  gboolean any;
} Decimator;

typedef struct {
  ReportData          *data;
  const ReportProgress *progress;
  Decimator            slots[N_SLOTS];
  double               column_s;
  gint64               prev_us;
  double               prev_v, prev_i;
  gint64               last_report_us;
} Pass;

void
report_data_free (ReportData *data)
{
  if (data == NULL)
    return;
  bms_history_device_free (data->device);
  g_clear_pointer (&data->alarms, g_ptr_array_unref);
  g_clear_pointer (&data->audit, g_ptr_array_unref);
  g_clear_pointer (&data->health, bms_health_report_unref);
  g_free (data->health_error);
  for (guint i = 0; i < REPORT_N_GRAPHS; i++)
    g_clear_object (&data->graphs[i]);
  g_free (data);
}

/* --- which device ------------------------------------------------------- */

static BmsHistoryDevice *
device_copy (const BmsHistoryDevice *d)
{
  BmsHistoryDevice *copy = g_new0 (BmsHistoryDevice, 1);

  *copy = *d;
  copy->key = g_strdup (d->key);
  copy->name = g_strdup (d->name);
  return copy;
}

static char *
known_keys (GPtrArray *devices)
{
  g_autoptr(GString) keys = g_string_new (NULL);

  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      if (d->n_samples == 0)
        continue;
      g_string_append_printf (keys, "%s%s", keys->len ? ", " : "", d->key);
    }
  return g_string_free (g_steal_pointer (&keys), FALSE);
}

static char *
board_key (const BmsSnapshot *board)
{
  guint address = bms_snapshot_has (board, BMS_ID_BOARD_ADDRESS)
                  ? (guint) bms_snapshot_get_raw (board, BMS_ID_BOARD_ADDRESS) : 1;

  return bms_device_key_for_snapshot (board, address);
}

/* The device asked for; else the board's; else the only one with samples. */
static BmsHistoryDevice *
pick_device (GPtrArray         *devices,
             gint64             device_id,
             const char        *of_board,
             guint             *n_with_samples)
{
  BmsHistoryDevice *found = NULL;

  *n_with_samples = 0;
  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      gboolean match = device_id ? d->id == device_id
                       : of_board ? g_strcmp0 (d->key, of_board) == 0
                       : d->n_samples > 0;

      *n_with_samples += d->n_samples > 0;
      if (match && found == NULL)
        found = d;
    }
  return found;
}

static BmsHistoryDevice *
find_device (BmsHistory        *history,
             gint64             device_id,
             const BmsSnapshot *board,
             GError           **error)
{
  g_autoptr(GPtrArray) devices = bms_history_list_devices (history, error);
  g_autofree char *of_board = board ? board_key (board) : NULL;
  g_autofree char *keys = NULL;
  BmsHistoryDevice *found;
  guint with_samples;

  if (devices == NULL)
    return NULL;
  keys = known_keys (devices);
  found = pick_device (devices, device_id, of_board, &with_samples);
  if (found && of_board && g_strcmp0 (found->key, of_board) != 0)
    {
      g_set_error (error, BMS_REPORT_ERROR, BMS_REPORT_ERROR_WRONG_BOARD,
                   _("The connected board is %s, not %s: connect that board, or leave "
                     "the device out to report on this one"), of_board, found->key);
      return NULL;
    }
  if (found == NULL && device_id == 0 && of_board == NULL && with_samples == 0)
    {
      g_set_error (error, BMS_REPORT_ERROR, BMS_REPORT_ERROR_NO_DEVICE,
                   _("The history holds no samples yet: record a board first"));
      return NULL;
    }
  if (device_id == 0 && of_board == NULL && with_samples > 1)
    {
      g_set_error (error, BMS_REPORT_ERROR, BMS_REPORT_ERROR_NO_DEVICE,
                   _("The history holds several devices (%s): say which one the report is about"),
                   keys);
      return NULL;
    }
  if (found == NULL || found->n_samples == 0)
    {
      g_set_error (error, BMS_REPORT_ERROR, BMS_REPORT_ERROR_NO_DEVICE,
                   _("%s has no samples in the history; devices with samples: %s"),
                   found ? found->key : of_board ? of_board : "?", *keys ? keys : _("none"));
      return NULL;
    }
  return device_copy (found);
}

/* --- the samples -------------------------------------------------------- */

static void
decimator_flush (Decimator *d)
{
  if (!d->any)
    return;
  /* Both extremes of the column, in the order they happened. */
  if (d->t_min <= d->t_max)
    {
      bms_graph_series_append (d->series, d->t_min, d->v_min);
      if (d->t_max > d->t_min)
        bms_graph_series_append (d->series, d->t_max, d->v_max);
    }
  else
    {
      bms_graph_series_append (d->series, d->t_max, d->v_max);
      bms_graph_series_append (d->series, d->t_min, d->v_min);
    }
  d->any = FALSE;
}

static void
decimator_add (Decimator *d,
               gint64     column,
               double     t,
               double     v)
{
  if (isnan (v))
    return;
  if (d->any && column != d->column)
    decimator_flush (d);
  if (!d->any)
    {
      d->column = column;
      d->t_min = d->t_max = t;
      d->v_min = d->v_max = v;
      d->any = TRUE;
      return;
    }
  if (v < d->v_min)
    {
      d->v_min = v;
      d->t_min = t;
    }
  if (v > d->v_max)
    {
      d->v_max = v;
      d->t_max = t;
    }
}

static void
add_cells (ReportData             *data,
           const BmsHistorySample *s)
{
  data->n_cells = MAX (data->n_cells, s->n_cells);
  for (guint c = 0; c < s->n_cells; c++)
    {
      ReportCell *cell = &data->cells[c];
      guint16 mv = s->cells_mv[c];

      if (mv == 0)
        continue;
      cell->last = mv;
      cell->min = cell->n ? MIN (cell->min, mv) : mv;
      cell->max = cell->n ? MAX (cell->max, mv) : mv;
      cell->sum += mv;
      cell->n++;
    }
}

static void
add_energy (Pass                   *pass,
            const BmsHistorySample *s)
{
  double v = s->values[BMS_SERIES_PACK_VOLTAGE];
  double i = s->values[BMS_SERIES_CURRENT];

  if (pass->prev_us && !isnan (pass->prev_v) && !isnan (pass->prev_i))
    {
      double dt_h = (s->time_us - pass->prev_us) / 3.6e9;
      double wh = pass->prev_v * pass->prev_i * dt_h;
      double ah = pass->prev_i * dt_h;

      /* A pause (the logger stopped) is not integrated over. */
      if (dt_h * 3600 <= REPORT_MAX_GAP_S)
        {
          if (wh > 0)
            pass->data->energy_in_wh += wh;
          else
            pass->data->energy_out_wh -= wh;
          if (ah > 0)
            pass->data->charge_in_ah += ah;
          else
            pass->data->charge_out_ah -= ah;
        }
    }
  pass->prev_us = s->time_us;
  pass->prev_v = v;
  pass->prev_i = i;
}

static gboolean
on_sample (const BmsHistorySample *s,
           gpointer                user_data)
{
  Pass *pass = user_data;
  ReportData *data = pass->data;
  double t = s->time_us / (double) G_USEC_PER_SEC;
  gint64 column = (gint64) ((t - data->from_us / (double) G_USEC_PER_SEC) / pass->column_s);
  guint spread = 0;
  static const BmsSeries slot_series[] = {
    BMS_SERIES_PACK_VOLTAGE, BMS_SERIES_CURRENT, BMS_SERIES_SOC,
    BMS_SERIES_TEMP_MOSFET, BMS_SERIES_TEMP1, BMS_SERIES_TEMP2,
  };

  if (data->n_samples++ == 0)
    data->first_us = s->time_us;
  data->last_us = s->time_us;
  for (guint k = 0; k < BMS_SERIES_COUNT; k++)
    {
      double v = s->values[k];
      if (isnan (v))
        continue;
      data->min[k] = isnan (data->min[k]) ? v : MIN (data->min[k], v);
      data->max[k] = isnan (data->max[k]) ? v : MAX (data->max[k], v);
      data->last[k] = v;
    }
  add_cells (data, s);
  add_energy (pass, s);
  for (guint k = 0; k < G_N_ELEMENTS (slot_series); k++)
    decimator_add (&pass->slots[k], column, t, s->values[slot_series[k]]);
  if (s->cell_min_index && s->cell_max_index)
    {
      spread = s->cells_mv[s->cell_max_index - 1] - s->cells_mv[s->cell_min_index - 1];
      data->spread_max_mv = MAX (data->spread_max_mv, spread);
      decimator_add (&pass->slots[SLOT_SPREAD], column, t, spread);
    }
  if (s->time_us - pass->last_report_us > (data->to_us - data->from_us) / 100)
    {
      pass->last_report_us = s->time_us;
      report_progress (pass->progress,
                       (s->time_us - data->from_us) / (double) MAX (data->to_us - data->from_us, 1));
    }
  return TRUE;
}

static BmsGraphSeries *
graph_series (ReportData  *data,
              ReportGraph  graph,
              const char  *name,
              const char  *label,
              const char  *unit,
              guint        color,
              double       max_gap)
{
  g_autoptr(BmsGraphSeries) s = bms_graph_series_new (name, label, unit);

  bms_graph_series_set_color_index (s, color);
  bms_graph_series_set_max_gap (s, max_gap);
  g_list_store_append (data->graphs[graph], s);
  return s;
}

static void
pass_init (Pass                 *pass,
           ReportData           *data,
           const ReportProgress *progress)
{
  double span_s = (data->to_us - data->from_us) / (double) G_USEC_PER_SEC;
  double gap;

  pass->data = data;
  pass->progress = progress;
  pass->column_s = MAX (span_s / GRAPH_COLUMNS, 1e-3);
  pass->prev_v = pass->prev_i = NAN;
  gap = MAX (REPORT_MAX_GAP_S, 2.5 * pass->column_s);
  for (guint g = 0; g < REPORT_N_GRAPHS; g++)
    data->graphs[g] = g_list_store_new (BMS_TYPE_GRAPH_SERIES);
  /* The Graph page's colour slots for the same series. */
  pass->slots[SLOT_VOLTAGE].series =
    graph_series (data, REPORT_GRAPH_VOLTAGE, "pack_voltage", _("Pack voltage"), "V", 0, gap);
  pass->slots[SLOT_CURRENT].series =
    graph_series (data, REPORT_GRAPH_CURRENT, "current", _("Current"), "A", 1, gap);
  pass->slots[SLOT_SOC].series =
    graph_series (data, REPORT_GRAPH_SOC, "soc", _("State of charge"), "%", 2, gap);
  pass->slots[SLOT_TEMP_MOSFET].series =
    graph_series (data, REPORT_GRAPH_TEMPERATURE, "temp_mosfet", _("MOSFET"), "°C", 3, gap);
  pass->slots[SLOT_TEMP1].series =
    graph_series (data, REPORT_GRAPH_TEMPERATURE, "temp1", _("Sensor 1"), "°C", 4, gap);
  pass->slots[SLOT_TEMP2].series =
    graph_series (data, REPORT_GRAPH_TEMPERATURE, "temp2", _("Sensor 2"), "°C", 0, gap);
  pass->slots[SLOT_SPREAD].series =
    graph_series (data, REPORT_GRAPH_SPREAD, "cell_spread", _("Cell spread (highest − lowest)"),
                  "mV", 7, gap);
}

static char *
format_local (gint64 time_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);

  return g_date_time_format (dt, "%Y-%m-%d %H:%M");
}

static gboolean
check_range (ReportData  *data,
             GError     **error)
{
  if (data->from_us > data->to_us)
    {
      g_autofree char *from = format_local (data->from_us);
      g_autofree char *to = format_local (data->to_us);
      g_set_error (error, BMS_REPORT_ERROR, BMS_REPORT_ERROR_BAD_RANGE,
                   _("The range starts (%s) after it ends (%s): swap the two times"), from, to);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_not_empty (ReportData  *data,
                 GError     **error)
{
  g_autofree char *from = NULL, *to = NULL, *first = NULL, *last = NULL;

  if (data->n_samples > 0)
    return TRUE;
  from = format_local (data->from_us);
  to = format_local (data->to_us);
  first = format_local (data->device->first_us);
  last = format_local (data->device->last_us);
  g_set_error (error, BMS_REPORT_ERROR, BMS_REPORT_ERROR_EMPTY_RANGE,
               _("No samples of %s from %s to %s; its history runs from %s to %s"),
               data->device->key, from, to, first, last);
  return FALSE;
}

/* Cell health over the same range (a second pass over the samples). A
 * failure of the estimate costs its section, not the report; a cancel
 * stays a cancel. */
static gboolean
collect_health (BmsHistory   *history,
                ReportData   *data,
                GCancellable *cancellable,
                GError      **error)
{
  g_autoptr(GError) local = NULL;

  data->health = bms_health_analyze (history, data->device->key, data->from_us, data->to_us,
                                     cancellable, &local);
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (local != NULL)
    data->health_error = g_strdup (local->message);
  return TRUE;
}

ReportData *
report_data_collect (BmsHistory           *history,
                     gint64                device_id,
                     const BmsSnapshot    *board,
                     gint64                from_us,
                     gint64                to_us,
                     const ReportProgress *progress,
                     GCancellable         *cancellable,
                     GError              **error)
{
  g_autoptr(ReportData) data = g_new0 (ReportData, 1);
  Pass pass = { 0 };

  if (!(data->device = find_device (history, device_id, board, error)))
    return NULL;
  data->to_us = to_us ? to_us : data->device->last_us;
  data->from_us = from_us ? from_us : data->to_us - BMS_REPORT_DEFAULT_SPAN_US;
  if (!check_range (data, error))
    return NULL;
  for (guint k = 0; k < BMS_SERIES_COUNT; k++)
    data->min[k] = data->max[k] = data->last[k] = NAN;

  pass_init (&pass, data, progress);
  if (!bms_history_foreach_sample (history, data->device->id, data->from_us, data->to_us,
                                   on_sample, &pass, cancellable, error))
    return NULL;
  for (guint k = 0; k < N_SLOTS; k++)
    decimator_flush (&pass.slots[k]);
  if (!check_not_empty (data, error))
    return NULL;

  data->alarms = bms_history_query_alarm_events (history, data->device->id, data->from_us,
                                                 data->to_us, 0, error);
  if (data->alarms == NULL)
    return NULL;
  data->audit = bms_history_query_audit (history, data->device->id, data->from_us,
                                         data->to_us, 0, error);
  if (data->audit == NULL)
    return NULL;
  return collect_health (history, data, cancellable, error) ? g_steal_pointer (&data) : NULL;
}
