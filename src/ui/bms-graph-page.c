/* bms-graph-page.c — the Graph page: history and live data in a BmsGraphView.
 *
 * Two sources feed the same series. The history database (BmsHistory) is
 * asked on a worker for the visible range, already reduced to about two
 * buckets per pixel; the live device appends every new sample as it arrives
 * (kept in a short in-memory ring, so the newest minute shows even before it
 * is in the database, and the page works without a database at all). A
 * history answer replaces the series and the live samples newer than it are
 * appended again.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "bms-file-chooser.h"
#include "bms-graph-page.h"
#include "bms-graph-view.h"
#include "bms-graph-axis.h"
#include "bms-device.h"
#include "bms-history.h"
#include "bms-export.h"

#define LIVE_CAPACITY     7200      /* two hours at 1 Hz */
#define DEFAULT_SPAN      3600.0    /* the longest window the page opens on */
#define MAX_CELL_SERIES   32
#define REQUERY_DELAY_MS  150
#define N_FIXED           BMS_SERIES_COUNT

typedef struct {
  double  t;
  float   v[N_FIXED];
  guint16 n_cells;
  guint16 cells_mv[BMS_MAX_CELLS];
} LiveSample;

/* The fixed curves, in the order of BmsSeries (history's series). The
 * lowest and highest cell go to the mV pane with the individual cells. */
static const struct {
  const char *name;
  const char *label;
  const char *unit;
  double      scale;     /* history unit -> shown unit */
  gboolean    visible;
} fixed_series[N_FIXED] = {
  { "pack_voltage", N_("Pack voltage"),       "V",  1,    TRUE },
  { "current",      N_("Current"),            "A",  1,    TRUE },
  { "soc",          N_("SOC"),                "%",  1,    TRUE },
  { "temp_mosfet",  N_("MOSFET temperature"), "°C", 1,    TRUE },
  { "temp1",        N_("Temperature 1"),      "°C", 1,    TRUE },
  { "temp2",        N_("Temperature 2"),      "°C", 1,    FALSE },
  { "cell_min",     N_("Lowest cell"),        "mV", 1000, TRUE },
  { "cell_max",     N_("Highest cell"),       "mV", 1000, TRUE },
};

static const double preset_seconds[] = { 600, 3600, 86400, 7 * 86400, 30 * 86400 };

struct _BmsGraphPage
{
  BmsPage          parent_instance;

  BmsHistory      *history;
  gboolean         history_explicit;
  gint64           history_device_id;   /* 0: not looked up yet */

  BmsGraphView    *view;
  GtkToggleButton *presets[G_N_ELEMENTS (preset_seconds)];
  GtkToggleButton *live_button;
  GtkBox          *series_box;
  GtkEntry        *cells_entry;
  GtkLabel        *cells_hint;
  GtkLabel        *range_label;
  GtkLabel        *status_label;
  GtkRevealer     *progress_revealer;
  GtkProgressBar  *progress_bar;
  GtkLabel        *progress_label;

  BmsGraphSeries  *fixed[N_FIXED];
  GPtrArray       *cell_series;     /* BmsGraphSeries of the chosen cells */
  GArray          *cells;           /* guint, 1-based, ascending */
  GArray          *live;            /* LiveSample ring (oldest first) */
  char            *live_key;        /* the board the ring's samples are from */

  BmsHistoryRange *range;           /* last history answer */
  double           queried_t0, queried_t1;
  gboolean         queried_cells;
  GCancellable    *query_cancellable;
  guint            requery_id;
  gboolean         syncing_presets;
  gboolean         fit_data;        /* no span chosen yet: the window fits the data */
  gboolean         fitting;         /* the page itself is moving the window */
  double           fit_span;
  gboolean         awaiting_history; /* the first history answer is still to come */
  gboolean         status_is_source; /* the footer describes the data, no message */

  GCancellable    *export_cancellable;
};

G_DEFINE_FINAL_TYPE (BmsGraphPage, bms_graph_page, BMS_TYPE_PAGE)

static void schedule_query (BmsGraphPage *self, gboolean force);
static void update_export_actions (BmsGraphPage *self);

/* --- series ------------------------------------------------------------- */

/* Cells share the mV pane with the lowest and highest cell: their colours
 * skip those two slots (6 and 7). */
static BmsGraphSeries *
new_cell_series (guint cell,
                 guint position)
{
  static const guint slots[] = { 0, 1, 2, 3, 4, 5, 8, 9 };
  g_autofree char *name = g_strdup_printf ("cell_%u", cell);
  g_autofree char *label = g_strdup_printf (_("Cell %u"), cell);
  BmsGraphSeries *s = bms_graph_series_new (name, label, "mV");

  bms_graph_series_set_color_index (s, slots[position % G_N_ELEMENTS (slots)]);
  return s;
}

static double
live_value (const LiveSample *sample,
            int               fixed_index,
            guint             cell)
{
  if (fixed_index >= 0)
    return sample->v[fixed_index];
  if (cell == 0 || cell > sample->n_cells || sample->cells_mv[cell - 1] == 0)
    return NAN;
  return sample->cells_mv[cell - 1];
}

/* Appends history points for one series: a bucket whose min and max differ
 * becomes two points so the view's per-column min/max sees both. */
static void
history_points (const BmsHistoryRange *range,
                int                    fixed_index,
                guint                  cell,
                double                 scale,
                GArray                *times,
                GArray                *values)
{
  double bucket = range->bucket_us / (double) G_USEC_PER_SEC;

  for (guint i = 0; i < range->n_points; i++)
    {
      double t = range->time_us[i] / (double) G_USEC_PER_SEC;
      double lo, hi;
      float f;

      if (fixed_index >= 0)
        {
          lo = range->min[fixed_index][i] * scale;
          hi = range->max[fixed_index][i] * scale;
        }
      else
        {
          guint16 a = range->cell_min_mv[(gsize) i * range->n_cells + cell - 1];
          guint16 b = range->cell_max_mv[(gsize) i * range->n_cells + cell - 1];
          lo = a ? a : NAN;
          hi = b ? b : NAN;
        }
      if (isnan (lo) || isnan (hi))
        continue;
      if (lo == hi || bucket <= 1)
        {
          double tm = t + (bucket > 1 ? bucket / 2 : 0);
          f = (float) lo;
          g_array_append_val (times, tm);
          g_array_append_val (values, f);
          continue;
        }
      t += bucket / 4;
      f = (float) lo;
      g_array_append_val (times, t);
      g_array_append_val (values, f);
      t += bucket / 2;
      f = (float) hi;
      g_array_append_val (times, t);
      g_array_append_val (values, f);
    }
}

static void
fill_series (BmsGraphPage   *self,
             BmsGraphSeries *series,
             int             fixed_index,
             guint           cell)
{
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (float));
  double last = -G_MAXDOUBLE;
  gboolean have_cells = self->range && self->range->n_cells >= cell;

  if (self->range && (fixed_index >= 0 || have_cells))
    history_points (self->range, fixed_index, cell,
                    fixed_index >= 0 ? fixed_series[fixed_index].scale : 1, times, values);
  if (times->len > 0)
    last = g_array_index (times, double, times->len - 1);
  for (guint i = 0; i < self->live->len; i++)
    {
      const LiveSample *sample = &g_array_index (self->live, LiveSample, i);
      float v;

      if (sample->t <= last)
        continue;
      v = (float) live_value (sample, fixed_index, cell);
      g_array_append_val (times, sample->t);
      g_array_append_val (values, v);
    }
  bms_graph_series_set_data (series, (const double *) (gpointer) times->data,
                             (const float *) (gpointer) values->data, times->len);
}

static void
refill_all (BmsGraphPage *self)
{
  double gap = 10;

  if (self->range)
    gap = MAX (gap, 3.0 * self->range->bucket_us / G_USEC_PER_SEC);
  for (guint i = 0; i < N_FIXED; i++)
    {
      bms_graph_series_set_max_gap (self->fixed[i], gap);
      fill_series (self, self->fixed[i], (int) i, 0);
    }
  for (guint i = 0; i < self->cell_series->len; i++)
    {
      bms_graph_series_set_max_gap (g_ptr_array_index (self->cell_series, i), gap);
      fill_series (self, g_ptr_array_index (self->cell_series, i), -1,
                   g_array_index (self->cells, guint, i));
    }
}

/* --- status ------------------------------------------------------------- */

static void
update_range_label (BmsGraphPage *self)
{
  double t0, t1;
  g_autoptr(GDateTime) a = NULL;
  g_autoptr(GDateTime) b = NULL;
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  g_autofree char *span = NULL;
  g_autofree char *text = NULL;

  bms_graph_view_get_time_range (self->view, &t0, &t1);
  a = g_date_time_new_from_unix_local ((gint64) t0);
  b = g_date_time_new_from_unix_local ((gint64) t1);
  from = g_date_time_format (a, "%Y-%m-%d %H:%M:%S");
  to = g_date_time_format (b, g_date_time_get_day_of_year (a) == g_date_time_get_day_of_year (b)
                              ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S");
  span = bms_graph_axis_format_duration (t1 - t0);
  text = g_strdup_printf ("%s – %s  (%s)", from, to, span);
  gtk_label_set_text (self->range_label, text);
}

static void
set_status (BmsGraphPage *self,
            const char   *text)
{
  gtk_label_set_text (self->status_label, text);
  self->status_is_source = FALSE;
}

/* What the view shows now: history buckets and the live samples after
 * them inside the visible range (live, so it follows the data). */
static guint
points_in_view (BmsGraphPage *self)
{
  double t0, t1, history_end = -G_MAXDOUBLE;
  guint n = 0;

  bms_graph_view_get_time_range (self->view, &t0, &t1);
  for (guint i = 0; self->range && i < self->range->n_points; i++)
    {
      double t = self->range->time_us[i] / (double) G_USEC_PER_SEC;
      history_end = t;
      n += t >= t0 && t <= t1;
    }
  for (guint i = 0; i < self->live->len; i++)
    {
      double t = g_array_index (self->live, LiveSample, i).t;
      n += t > history_end && t >= t0 && t <= t1;
    }
  return n;
}

/* The level a range was read from (BmsHistoryRange.source). */
static const char *
source_description (const char *source)
{
  static const struct { const char *source; const char *text; } levels[] = {
    { "minute", N_("per-minute summaries") },
    { "2min", N_("2-minute summaries") },
    { "6min", N_("6-minute summaries") },
    { "30min", N_("30-minute summaries") },
    { "hour", N_("hourly summaries") },
    { "4h", N_("4-hour summaries") },
    { "day", N_("daily summaries") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (levels); i++)
    if (g_strcmp0 (source, levels[i].source) == 0)
      return _(levels[i].text);
  return _("every sample");
}

static void
describe_source (BmsGraphPage *self)
{
  g_autofree char *text = NULL;
  guint n;

  if (self->history == NULL)
    {
      text = g_strdup_printf (ngettext ("No history database: showing the %u live sample of this session",
                                        "No history database: showing the %u live samples of this session",
                                        self->live->len), self->live->len);
    }
  else if (self->range == NULL)
    text = g_strdup (_("Reading the history…"));
  else if (self->range->n_points == 0)
    text = g_strdup (_("No recorded history in this range: showing the live data of this session"));
  else
    {
      const char *source = source_description (self->range->source);
      n = points_in_view (self);
      text = g_strdup_printf (ngettext ("History: %u point in view from %s, plus live data",
                                        "History: %u points in view from %s, plus live data",
                                        n),
                              n, source);
    }
  set_status (self, text);
  self->status_is_source = TRUE;
}

/* Keeps the count current, but leaves a message (an export's result) be. */
static void
refresh_source (BmsGraphPage *self)
{
  if (self->status_is_source)
    describe_source (self);
}

/* --- presets ------------------------------------------------------------ */

static void
sync_presets (BmsGraphPage *self)
{
  double t0, t1;

  bms_graph_view_get_time_range (self->view, &t0, &t1);
  self->syncing_presets = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (preset_seconds); i++)
    {
      gboolean match = bms_graph_view_get_follow (self->view)
                       && fabs ((t1 - t0) - preset_seconds[i]) < preset_seconds[i] * 0.01;
      gtk_toggle_button_set_active (self->presets[i], match);
    }
  self->syncing_presets = FALSE;
}

static void
on_preset_clicked (GtkToggleButton *button,
                   BmsGraphPage    *self)
{
  if (self->syncing_presets || !gtk_toggle_button_get_active (button))
    return;
  self->fit_data = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (preset_seconds); i++)
    if (self->presets[i] == button)
      bms_graph_view_show_last (self->view, preset_seconds[i]);
  gtk_widget_grab_focus (GTK_WIDGET (self->view));
}

/* Until the user picks a span, the window shows the data, not an hour
 * with three minutes of it in the right 5 %: from the first sample in
 * view to the newest (following), at most DEFAULT_SPAN. */
static void
fit_to_data (BmsGraphPage *self)
{
  double first, last;

  /* Fitting the first live samples would narrow the window before the
   * history of the minutes before them arrives, and then never ask for it. */
  if (!self->fit_data || self->awaiting_history
      || !bms_graph_view_get_data_range (self->view, &first, &last))
    return;
  /* 4 % more: show_last () puts the newest sample 2 % from the right. */
  self->fit_span = CLAMP ((last - first) * 1.04, BMS_GRAPH_VIEW_MIN_SPAN, DEFAULT_SPAN);
  self->fitting = TRUE;
  bms_graph_view_show_last (self->view, self->fit_span);
  self->fitting = FALSE;
}

/* A span chosen by hand (preset, zoom, pan, scroll) ends the fitting. */
static void
check_span_chosen (BmsGraphPage *self)
{
  double t0, t1;

  if (self->fitting || !self->fit_data)
    return;
  bms_graph_view_get_time_range (self->view, &t0, &t1);
  if (!bms_graph_view_get_follow (self->view)
      || fabs ((t1 - t0) - self->fit_span) > self->fit_span * 0.001)
    self->fit_data = FALSE;
}

static void
on_follow_changed (BmsGraphPage *self)
{
  check_span_chosen (self);
  sync_presets (self);
}

static void
on_range_changed (BmsGraphPage *self)
{
  check_span_chosen (self);
  update_range_label (self);
  refresh_source (self);
  sync_presets (self);
  schedule_query (self, FALSE);
}

/* --- history queries ---------------------------------------------------- */

typedef struct {
  BmsGraphPage *self;      /* weak: the page may go while the query runs */
  gint64        from_us, to_us;
  guint         max_points;
  gboolean      with_cells;
  GCancellable *cancellable;
} QueryData;

static void
query_data_free (QueryData *data)
{
  g_clear_weak_pointer (&data->self);
  g_clear_object (&data->cancellable);
  g_free (data);
}

/* Which database device to show: the connected board's, or else the one
 * with the newest samples (browsing history with nothing connected). */
static gint64
pick_device (BmsHistory *history,
             const char *key,
             GError    **error)
{
  g_autoptr(GPtrArray) devices = bms_history_list_devices (history, error);
  gint64 best = 0, best_last = G_MININT64;

  if (devices == NULL)
    return -1;
  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      if (key != NULL && g_strcmp0 (d->key, key) == 0)
        return d->id;
      if (d->n_samples > 0 && d->last_us > best_last)
        {
          best = d->id;
          best_last = d->last_us;
        }
    }
  return best;
}

typedef struct {
  BmsHistory *history;
  char       *key;
} PickData;

static void
pick_data_free (PickData *data)
{
  g_clear_object (&data->history);
  g_free (data->key);
  g_free (data);
}

static void
pick_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  PickData *data = task_data;
  GError *error = NULL;
  gint64 id = pick_device (data->history, data->key, &error);

  if (id < 0)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, id);
}

static void
on_query_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  QueryData *data = user_data;
  BmsGraphPage *self = data->self;
  g_autoptr(GError) error = NULL;
  BmsHistoryRange *range;

  range = bms_history_query_range_finish (BMS_HISTORY (source), result, &error);
  if (self == NULL || g_cancellable_is_cancelled (data->cancellable))
    {
      g_clear_pointer (&range, bms_history_range_free);
      query_data_free (data);
      return;
    }
  self->awaiting_history = FALSE;
  if (range == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not read the history: %s"), error->message);
      set_status (self, text);
      fit_to_data (self);
      query_data_free (data);
      return;
    }
  g_clear_pointer (&self->range, bms_history_range_free);
  self->range = range;
  self->queried_t0 = data->from_us / (double) G_USEC_PER_SEC;
  self->queried_t1 = data->to_us / (double) G_USEC_PER_SEC;
  self->queried_cells = data->with_cells;
  refill_all (self);
  fit_to_data (self);
  describe_source (self);
  query_data_free (data);
}

static void
start_range_query (BmsGraphPage *self)
{
  QueryData *data;
  double t0, t1, span;
  int width = gtk_widget_get_width (GTK_WIDGET (self->view));

  bms_graph_view_get_time_range (self->view, &t0, &t1);
  span = t1 - t0;
  g_cancellable_cancel (self->query_cancellable);
  g_clear_object (&self->query_cancellable);
  self->query_cancellable = g_cancellable_new ();

  /* Half a span on either side, so short pans need no new query. */
  data = g_new0 (QueryData, 1);
  g_set_weak_pointer (&data->self, self);
  data->from_us = (gint64) ((t0 - span / 2) * G_USEC_PER_SEC);
  data->to_us = (gint64) ((t1 + span / 2) * G_USEC_PER_SEC);
  data->max_points = (guint) CLAMP (width > 0 ? width * 2 : 1920, 200, 8000);
  data->with_cells = self->cells->len > 0;
  data->cancellable = g_object_ref (self->query_cancellable);
  bms_history_query_range_async (self->history, self->history_device_id,
                                 data->from_us, data->to_us, data->max_points,
                                 data->with_cells, data->cancellable, on_query_done, data);
}

static void
on_pick_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(BmsGraphPage) self = user_data;
  g_autoptr(GError) error = NULL;
  gint64 id = g_task_propagate_int (G_TASK (result), &error);

  if (error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not read the history: %s"), error->message);
      set_status (self, text);
      self->awaiting_history = FALSE;
      fit_to_data (self);
      return;
    }
  if (id == 0)
    {
      set_status (self, BMS_PAGE_DEVICE (self) != NULL ? _("No recorded history of this board yet: "
                                                 "showing the live data of this session")
                                             : _("The history is empty: connect a board to record data"));
      self->awaiting_history = FALSE;
      fit_to_data (self);
      return;
    }
  self->history_device_id = id;
  update_export_actions (self);
  start_range_query (self);
}

static gboolean
requery_timeout (gpointer user_data)
{
  BmsGraphPage *self = user_data;
  g_autoptr(GTask) task = NULL;
  PickData *data;

  self->requery_id = 0;
  if (self->history == NULL)
    {
      describe_source (self);
      return G_SOURCE_REMOVE;
    }
  if (self->history_device_id > 0)
    {
      start_range_query (self);
      return G_SOURCE_REMOVE;
    }
  data = g_new0 (PickData, 1);
  data->history = g_object_ref (self->history);
  if (BMS_PAGE_DEVICE (self) != NULL)
    data->key = bms_device_dup_key (BMS_PAGE_DEVICE (self));
  task = g_task_new (NULL, NULL, on_pick_done, g_object_ref (self));
  g_task_set_task_data (task, data, (GDestroyNotify) pick_data_free);
  g_task_run_in_thread (task, pick_thread);
  return G_SOURCE_REMOVE;
}

/* A query is needed when the view leaves the fetched range, the zoom
 * changed enough to want other buckets, or the cells changed. */
static gboolean
needs_query (BmsGraphPage *self)
{
  double t0, t1, span, fetched_span;

  if (self->range == NULL)
    return TRUE;
  bms_graph_view_get_time_range (self->view, &t0, &t1);
  span = t1 - t0;
  fetched_span = self->queried_t1 - self->queried_t0;
  if (fabs (fetched_span / 2 - span) > span * 0.25)
    return TRUE;
  if ((self->cells->len > 0) != self->queried_cells)
    return TRUE;
  if (t0 < self->queried_t0)
    return TRUE;
  /* Following: the live ring covers the new right edge. */
  return !bms_graph_view_get_follow (self->view) && t1 > self->queried_t1;
}

static void
schedule_query (BmsGraphPage *self,
                gboolean      force)
{
  if (self->history == NULL)
    return;
  if (!force && !needs_query (self))
    return;
  g_clear_handle_id (&self->requery_id, g_source_remove);
  self->requery_id = g_timeout_add (REQUERY_DELAY_MS, requery_timeout, self);
}

/* --- live --------------------------------------------------------------- */

static void
on_device_updated (BmsGraphPage *self)
{
  BmsDevice *device = BMS_PAGE_DEVICE (self);
  const BmsSnapshot *snapshot = bms_device_get_snapshot (device);
  LiveSample sample = { 0 };

  if (snapshot == NULL)
    return;
  /* The ring outlives a disconnect (the session's data stays in view) but
   * not a change of board. */
  {
    g_autofree char *key = bms_device_dup_key (device);
    if (g_strcmp0 (key, self->live_key) != 0)
      {
        g_free (self->live_key);
        self->live_key = g_steal_pointer (&key);
        g_array_set_size (self->live, 0);
        refill_all (self);
      }
  }
  sample.t = (snapshot->timestamp_us ? snapshot->timestamp_us : g_get_real_time ())
             / (double) G_USEC_PER_SEC;
  if (self->live->len > 0
      && sample.t <= g_array_index (self->live, LiveSample, self->live->len - 1).t)
    return;
  /* The device reads 0xED (high-voltage packs) before the 16-bit 0x83. */
  sample.v[BMS_SERIES_PACK_VOLTAGE] = bms_device_get_pack_voltage (device);
  sample.v[BMS_SERIES_CURRENT] = bms_device_get_current (device);
  sample.v[BMS_SERIES_SOC] = bms_device_get_soc (device);
  sample.v[BMS_SERIES_TEMP_MOSFET] = bms_device_get_mosfet_temperature (device);
  sample.v[BMS_SERIES_TEMP1] = bms_device_get_temperature_1 (device);
  sample.v[BMS_SERIES_TEMP2] = bms_device_get_temperature_2 (device);
  sample.v[BMS_SERIES_CELL_MIN] = snapshot->n_cells ? bms_device_get_min_cell_voltage (device) * 1000 : NAN;
  sample.v[BMS_SERIES_CELL_MAX] = snapshot->n_cells ? bms_device_get_max_cell_voltage (device) * 1000 : NAN;
  sample.n_cells = (guint16) MIN (snapshot->n_cells, BMS_MAX_CELLS);
  memcpy (sample.cells_mv, snapshot->cells_mv, sample.n_cells * sizeof (guint16));

  if (self->live->len >= LIVE_CAPACITY + 600)
    g_array_remove_range (self->live, 0, 600);
  g_array_append_val (self->live, sample);

  for (guint i = 0; i < N_FIXED; i++)
    bms_graph_series_append (self->fixed[i], sample.t, sample.v[i]);
  for (guint i = 0; i < self->cell_series->len; i++)
    bms_graph_series_append (g_ptr_array_index (self->cell_series, i), sample.t,
                             live_value (&sample, -1, g_array_index (self->cells, guint, i)));
  fit_to_data (self);
  /* The footer counts what is in view: it changes with every sample. */
  refresh_source (self);

  /* A long live session would grow the series without end: swap them for
   * the database's buckets again (or, without one, for the ring). */
  if (bms_graph_series_get_n_points (self->fixed[0]) > 4 * LIVE_CAPACITY)
    {
      if (self->history != NULL && self->history_device_id > 0)
        schedule_query (self, TRUE);
      else
        refill_all (self);
    }
}

/* --- cells -------------------------------------------------------------- */

static guint
known_cell_count (BmsGraphPage *self)
{
  if (BMS_PAGE_DEVICE (self) != NULL && bms_device_get_cell_count (BMS_PAGE_DEVICE (self)) > 0)
    return bms_device_get_cell_count (BMS_PAGE_DEVICE (self));
  if (self->range != NULL && self->range->n_cells > 0)
    return self->range->n_cells;
  return BMS_MAX_CELLS;
}

/* "1-4, 9 12" -> ascending unique cell numbers; an error names the part. */
static GArray *
parse_cells (const char *text,
             guint       n_cells,
             GError    **error)
{
  g_autoptr(GArray) cells = g_array_new (FALSE, FALSE, sizeof (guint));
  /* "1 - 4" is a range too. */
  g_autoptr(GRegex) dash = g_regex_new ("\\s*-\\s*", 0, 0, NULL);
  g_autofree char *tight = g_regex_replace_literal (dash, text, -1, 0, "-", 0, NULL);
  g_auto(GStrv) parts = g_regex_split_simple ("[,;\\s]+", tight ? tight : text, 0, 0);
  gboolean seen[BMS_MAX_CELLS + 1] = { FALSE };

  for (guint i = 0; parts[i] != NULL; i++)
    {
      guint64 a, b;

      if (*parts[i] == '\0')
        continue;
      if (!g_ascii_string_to_unsigned (parts[i], 10, 1, n_cells, &a, NULL))
        {
          const char *minus = strchr (parts[i], '-');
          g_autofree char *first = minus ? g_strndup (parts[i], minus - parts[i]) : NULL;

          if (minus == NULL
              || !g_ascii_string_to_unsigned (first, 10, 1, n_cells, &a, NULL)
              || !g_ascii_string_to_unsigned (minus + 1, 10, a, n_cells, &b, NULL))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("“%s” is not a cell or a range of cells between 1 and %u"),
                           parts[i], n_cells);
              return NULL;
            }
        }
      else
        b = a;
      for (guint64 c = a; c <= b; c++)
        seen[c] = TRUE;
    }
  for (guint c = 1; c <= BMS_MAX_CELLS; c++)
    if (seen[c])
      g_array_append_val (cells, c);
  if (cells->len > MAX_CELL_SERIES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%u cells chosen: show at most %u at once (the lowest and highest "
                     "cell curves cover the whole pack)"), cells->len, MAX_CELL_SERIES);
      return NULL;
    }
  return g_steal_pointer (&cells);
}

static void
set_cells (BmsGraphPage *self,
           GArray       *cells)
{
  for (guint i = 0; i < self->cell_series->len; i++)
    bms_graph_view_remove_series (self->view, g_ptr_array_index (self->cell_series, i));
  g_ptr_array_set_size (self->cell_series, 0);
  g_array_set_size (self->cells, 0);
  for (guint i = 0; i < cells->len; i++)
    {
      guint cell = g_array_index (cells, guint, i);
      BmsGraphSeries *s = new_cell_series (cell, i);

      g_array_append_val (self->cells, cell);
      g_ptr_array_add (self->cell_series, s);
      fill_series (self, s, -1, cell);
      bms_graph_view_add_series (self->view, s);
    }
  schedule_query (self, TRUE);
}

static void
on_cells_apply (BmsGraphPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) cells = parse_cells (gtk_editable_get_text (GTK_EDITABLE (self->cells_entry)),
                                         known_cell_count (self), &error);

  if (cells == NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->cells_entry), "error");
      gtk_label_set_text (self->cells_hint, error->message);
      return;
    }
  gtk_widget_remove_css_class (GTK_WIDGET (self->cells_entry), "error");
  gtk_label_set_text (self->cells_hint, _("Up to 32 cells, by number or range."));
  set_cells (self, cells);
}

/* --- export: pictures --------------------------------------------------- */

static void
show_error (BmsGraphPage *self,
            const char   *heading,
            const char   *body)
{
  GtkWidget *dialog = adw_message_dialog_new (bms_page_get_window (BMS_PAGE (self)), heading, body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static char *
suggested_name (const char *extension)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%d-%H%M");
  return g_strdup_printf ("packwatch-graph-%s.%s", stamp, extension);
}

typedef void (*ChosenFunc) (BmsGraphPage *self, GFile *file, const char *kind);

typedef struct {
  BmsGraphPage *self;
  ChosenFunc    func;
  char         *kind;
} ChooserData;

static void
on_chooser_response (GtkNativeDialog *native,
                     int              response,
                     ChooserData     *data)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
      data->func (data->self, file, data->kind);
    }
  g_object_unref (data->self);
  g_free (data->kind);
  g_free (data);
  g_object_unref (native);
}

static void
choose_file (BmsGraphPage *self,
             const char   *title,
             const char   *kind,
             const char   *pattern_name,
             ChosenFunc    func)
{
  GtkFileChooserNative *native =
    gtk_file_chooser_native_new (title, bms_page_get_window (BMS_PAGE (self)), GTK_FILE_CHOOSER_ACTION_SAVE,
                                 _("_Save"), _("_Cancel"));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *pattern = g_strdup_printf ("*.%s", kind);
  g_autofree char *name = suggested_name (kind);
  ChooserData *data = g_new0 (ChooserData, 1);

  gtk_file_filter_set_name (filter, pattern_name);
  gtk_file_filter_add_pattern (filter, pattern);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  bms_file_chooser_start (GTK_FILE_CHOOSER (native), "export");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), name);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  data->self = g_object_ref (self);
  data->func = func;
  data->kind = g_strdup (kind);
  g_signal_connect (native, "response", G_CALLBACK (on_chooser_response), data);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
on_picture_written (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(BmsGraphPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_file_get_basename (G_FILE (source));

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    {
      show_error (self, _("The picture was not saved"), error->message);
      return;
    }
  {
    g_autofree char *text = g_strdup_printf (_("Picture saved as %s"), name);
    set_status (self, text);
  }
}

/* Drawing takes milliseconds, so it stays on the main thread (the series
 * live there); the file is written by GIO's worker. */
static void
write_picture (BmsGraphPage *self,
               GFile        *file,
               const char   *kind)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  int width = MAX (gtk_widget_get_width (GTK_WIDGET (self->view)), 800);
  int height = MAX (gtk_widget_get_height (GTK_WIDGET (self->view)), 450);

  bytes = g_str_equal (kind, "svg")
    ? bms_graph_view_render_svg (self->view, width, height, &error)
    : bms_graph_view_render_png (self->view, width, height, &error);
  if (bytes == NULL)
    {
      show_error (self, _("The picture was not saved"), error->message);
      return;
    }
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                                       NULL, on_picture_written, g_object_ref (self));
}

static void
action_save_picture (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  BmsGraphPage *self = BMS_GRAPH_PAGE (widget);
  gboolean svg = g_str_equal (name, "graph-page.save-svg");

  choose_file (self, svg ? _("Save Graph as SVG") : _("Save Graph as PNG"),
               svg ? "svg" : "png", svg ? _("SVG pictures") : _("PNG pictures"), write_picture);
}

/* --- export: data ------------------------------------------------------- */

static void
on_export_progress (BmsGraphPage *self,
                    GParamSpec   *pspec,
                    BmsExport    *export)
{
  guint64 rows = bms_export_get_rows (export);
  /* Numbers go in as text: gettext cannot see through G_GUINT64_FORMAT. */
  g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, rows);
  g_autofree char *text = NULL;

  gtk_progress_bar_set_fraction (self->progress_bar, bms_export_get_fraction (export));
  text = g_strdup_printf (ngettext ("Exporting… %s row written",
                                    "Exporting… %s rows written", (gulong) MIN (rows, G_MAXULONG)),
                          count);
  gtk_label_set_text (self->progress_label, text);
}

static void
export_finished (BmsGraphPage *self)
{
  g_clear_object (&self->export_cancellable);
  gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
  update_export_actions (self);
}

typedef struct {
  BmsGraphPage *self;
  char         *name;
} ExportData;

static void
on_export_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  ExportData *data = user_data;
  g_autoptr(BmsGraphPage) self = data->self;
  g_autofree char *name = data->name;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *count = NULL;
  guint64 rows;

  g_free (data);
  g_signal_handlers_disconnect_by_data (source, self);
  export_finished (self);
  if (!bms_export_write_finish (BMS_EXPORT (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_status (self, _("Export cancelled; no file was changed"));
      else
        show_error (self, _("The export failed"), error->message);
      return;
    }
  /* The rows of the sheet: "rows" also counted the alarm and audit rows
   * (211 said for a sheet of 204 samples). */
  rows = bms_export_get_samples (BMS_EXPORT (source));
  count = g_strdup_printf ("%" G_GUINT64_FORMAT, rows);
  text = g_strdup_printf (ngettext ("Exported %s row to %s",
                                    "Exported %s rows to %s", (gulong) MIN (rows, G_MAXULONG)),
                          count, name);
  set_status (self, text);
}

/* BmsExport writes on its own worker into a temporary file renamed into
 * place at the end; progress arrives as notifications in this context. */
static void
export_data_to (BmsGraphPage *self,
                GFile        *file,
                const char   *kind)
{
  g_autoptr(BmsExport) export = bms_export_new (self->history);
  g_autofree char *path = g_file_get_path (file);
  ExportData *data;
  double t0, t1;

  if (path == NULL)
    {
      show_error (self, _("The export failed"),
                  _("Choose a folder on this computer: the export needs a local file"));
      return;
    }
  bms_graph_view_get_time_range (self->view, &t0, &t1);
  bms_export_set_format (export, g_str_equal (kind, "csv") ? BMS_EXPORT_FORMAT_CSV
                                                           : BMS_EXPORT_FORMAT_XLSX);
  bms_export_set_device (export, self->history_device_id);
  bms_export_set_range (export, (gint64) (t0 * G_USEC_PER_SEC), (gint64) (t1 * G_USEC_PER_SEC));
  g_signal_connect_object (export, "notify::fraction", G_CALLBACK (on_export_progress),
                           self, G_CONNECT_SWAPPED);

  self->export_cancellable = g_cancellable_new ();
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_label_set_text (self->progress_label, _("Exporting…"));
  gtk_revealer_set_reveal_child (self->progress_revealer, TRUE);
  update_export_actions (self);

  data = g_new0 (ExportData, 1);
  data->self = g_object_ref (self);
  data->name = g_file_get_basename (file);
  bms_export_write_async (export, path, self->export_cancellable, on_export_done, data);
}

void
bms_graph_page_export_visible (BmsGraphPage *self,
                               GFile        *file)
{
  g_autofree char *path = NULL;

  g_return_if_fail (BMS_IS_GRAPH_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (self->export_cancellable == NULL);

  if (self->history == NULL || self->history_device_id <= 0)
    {
      show_error (self, _("Nothing to export"),
                  _("There is no recorded history of this board yet"));
      return;
    }
  path = g_file_get_path (file);
  export_data_to (self, file,
                  bms_export_format_for_path (path ? path : "") == BMS_EXPORT_FORMAT_CSV
                  ? "csv" : "xlsx");
}

gboolean
bms_graph_page_get_exporting (BmsGraphPage *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_PAGE (self), FALSE);
  return self->export_cancellable != NULL;
}

static void
action_export_data (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  BmsGraphPage *self = BMS_GRAPH_PAGE (widget);

  if (self->history == NULL || self->history_device_id <= 0)
    return;
  if (g_str_equal (name, "graph-page.export-csv"))
    choose_file (self, _("Export Visible Range as CSV"), "csv", _("CSV files"), export_data_to);
  else
    choose_file (self, _("Export Visible Range as Excel"), "xlsx", _("Excel workbooks"),
                 export_data_to);
}

static void
on_export_cancel (BmsGraphPage *self)
{
  if (self->export_cancellable)
    g_cancellable_cancel (self->export_cancellable);
}

static void
update_export_actions (BmsGraphPage *self)
{
  gboolean can_data = self->history != NULL && self->history_device_id > 0
                      && self->export_cancellable == NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph-page.export-csv", can_data);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "graph-page.export-xlsx", can_data);
}

/* --- view actions ------------------------------------------------------- */

static void
action_view (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  BmsGraphPage *self = BMS_GRAPH_PAGE (widget);

  if (g_str_equal (name, "graph-page.zoom-in"))
    bms_graph_view_zoom (self->view, 0.8, 0.5);
  else if (g_str_equal (name, "graph-page.zoom-out"))
    bms_graph_view_zoom (self->view, 1.25, 0.5);
  else
    bms_graph_view_zoom_to_fit (self->view);
}

/* --- device and history ------------------------------------------------- */

static void
set_history (BmsGraphPage *self,
             BmsHistory   *history)
{
  if (self->history == history)
    return;
  g_cancellable_cancel (self->query_cancellable);
  g_clear_object (&self->history);
  g_clear_pointer (&self->range, bms_history_range_free);
  self->history = history ? g_object_ref (history) : NULL;
  self->history_device_id = 0;
  self->awaiting_history = history != NULL;
  update_export_actions (self);
  refill_all (self);
  describe_source (self);
  schedule_query (self, TRUE);
}

static void
on_connection_history (BmsGraphPage *self)
{
  if (self->history_explicit)
    return;
  set_history (self, bms_connection_get_history (BMS_PAGE_CONNECTION (self)));
}

void
bms_graph_page_set_history (BmsGraphPage *self,
                            BmsHistory   *history)
{
  g_return_if_fail (BMS_IS_GRAPH_PAGE (self));
  g_return_if_fail (history == NULL || BMS_IS_HISTORY (history));

  self->history_explicit = history != NULL;
  set_history (self, history);
}

BmsGraphView *
bms_graph_page_get_view (BmsGraphPage *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_PAGE (self), NULL);
  return self->view;
}

static void
bms_graph_page_connection_changed (BmsPage *page)
{
  BmsGraphPage *self = BMS_GRAPH_PAGE (page);
  BmsConnection *connection = bms_page_get_connection (page);

  if (connection == NULL)
    return;
  g_signal_connect_object (connection, "notify::history",
                           G_CALLBACK (on_connection_history), self, G_CONNECT_SWAPPED);
  on_connection_history (self);
}

static void
bms_graph_page_device_changed (BmsPage *page)
{
  BmsGraphPage *self = BMS_GRAPH_PAGE (page);
  BmsDevice *device = bms_page_get_device (page);

  self->history_device_id = 0;
  if (device)
    g_signal_connect_object (device, "updated", G_CALLBACK (on_device_updated),
                             self, G_CONNECT_SWAPPED);
  refill_all (self);
  schedule_query (self, TRUE);
}

/* --- GObject ------------------------------------------------------------ */

static void
bms_graph_page_dispose (GObject *object)
{
  BmsGraphPage *self = BMS_GRAPH_PAGE (object);

  g_clear_handle_id (&self->requery_id, g_source_remove);
  if (self->query_cancellable)
    g_cancellable_cancel (self->query_cancellable);
  if (self->export_cancellable)
    g_cancellable_cancel (self->export_cancellable);
  g_clear_object (&self->query_cancellable);
  g_clear_object (&self->export_cancellable);
  g_clear_object (&self->history);
  g_clear_pointer (&self->range, bms_history_range_free);
  for (guint i = 0; i < N_FIXED; i++)
    g_clear_object (&self->fixed[i]);
  g_clear_pointer (&self->cell_series, g_ptr_array_unref);

  G_OBJECT_CLASS (bms_graph_page_parent_class)->dispose (object);
}

static void
bms_graph_page_finalize (GObject *object)
{
  BmsGraphPage *self = BMS_GRAPH_PAGE (object);

  g_array_unref (self->cells);
  g_array_unref (self->live);
  g_free (self->live_key);
  G_OBJECT_CLASS (bms_graph_page_parent_class)->finalize (object);
}

static void
bms_graph_page_class_init (BmsGraphPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  BmsPageClass *page_class = BMS_PAGE_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_graph_page_dispose;
  object_class->finalize = bms_graph_page_finalize;
  page_class->connection_changed = bms_graph_page_connection_changed;
  page_class->device_changed = bms_graph_page_device_changed;

  g_type_ensure (BMS_TYPE_GRAPH_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-graph-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsGraphPage, view);
  gtk_widget_class_bind_template_child_full (widget_class, "preset_10m", FALSE,
                                             G_STRUCT_OFFSET (BmsGraphPage, presets[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "preset_1h", FALSE,
                                             G_STRUCT_OFFSET (BmsGraphPage, presets[1]));
  gtk_widget_class_bind_template_child_full (widget_class, "preset_24h", FALSE,
                                             G_STRUCT_OFFSET (BmsGraphPage, presets[2]));
  gtk_widget_class_bind_template_child_full (widget_class, "preset_7d", FALSE,
                                             G_STRUCT_OFFSET (BmsGraphPage, presets[3]));
  gtk_widget_class_bind_template_child_full (widget_class, "preset_30d", FALSE,
                                             G_STRUCT_OFFSET (BmsGraphPage, presets[4]));
  gtk_widget_class_bind_template_child (widget_class, BmsGraphPage, live_button);
  gtk_widget_class_bind_template_child (widget_class, BmsGraphPage, series_box);
  gtk_widget_class_bind_template_child (widget_class, BmsGraphPage, cells_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsGraphPage, cells_hint);
  gtk_widget_class_bind_template_child (widget_class, BmsGraphPage, range_label);
  gtk_widget_class_bind_template_child (widget_class, BmsGraphPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, BmsGraphPage, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, BmsGraphPage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BmsGraphPage, progress_label);
  gtk_widget_class_bind_template_callback (widget_class, on_preset_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_cells_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_export_cancel);

  gtk_widget_class_install_action (widget_class, "graph-page.zoom-in", NULL, action_view);
  gtk_widget_class_install_action (widget_class, "graph-page.zoom-out", NULL, action_view);
  gtk_widget_class_install_action (widget_class, "graph-page.zoom-fit", NULL, action_view);
  gtk_widget_class_install_action (widget_class, "graph-page.save-png", NULL, action_save_picture);
  gtk_widget_class_install_action (widget_class, "graph-page.save-svg", NULL, action_save_picture);
  gtk_widget_class_install_action (widget_class, "graph-page.export-csv", NULL, action_export_data);
  gtk_widget_class_install_action (widget_class, "graph-page.export-xlsx", NULL, action_export_data);
}

static void
add_series_toggle (BmsGraphPage   *self,
                   BmsGraphSeries *series)
{
  GtkWidget *check = gtk_check_button_new_with_label (bms_graph_series_get_label (series));

  g_object_bind_property (series, "visible", check, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_box_append (self->series_box, check);
}

static void
bms_graph_page_init (BmsGraphPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Tests type cells like a user would. */
  g_object_set_data (G_OBJECT (self), "cells-entry", self->cells_entry);
  g_object_set_data (G_OBJECT (self), "preset-1h", self->presets[1]);
  g_object_set_data (G_OBJECT (self), "status-label", self->status_label);

  self->cell_series = g_ptr_array_new_with_free_func (g_object_unref);
  self->cells = g_array_new (FALSE, FALSE, sizeof (guint));
  self->live = g_array_new (FALSE, FALSE, sizeof (LiveSample));

  for (guint i = 0; i < N_FIXED; i++)
    {
      self->fixed[i] = bms_graph_series_new (fixed_series[i].name, _(fixed_series[i].label),
                                             fixed_series[i].unit);
      bms_graph_series_set_color_index (self->fixed[i], i);
      bms_graph_series_set_visible (self->fixed[i], fixed_series[i].visible);
      bms_graph_series_set_max_gap (self->fixed[i], 10);
      bms_graph_view_add_series (self->view, self->fixed[i]);
      add_series_toggle (self, self->fixed[i]);
    }

  g_object_bind_property (self->view, "follow", self->live_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->view, "notify::time-end", G_CALLBACK (on_range_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->view, "notify::follow", G_CALLBACK (on_follow_changed),
                           self, G_CONNECT_SWAPPED);
  self->fit_data = TRUE;
  self->fit_span = DEFAULT_SPAN;
  self->fitting = TRUE;
  bms_graph_view_show_last (self->view, DEFAULT_SPAN);
  self->fitting = FALSE;
  update_range_label (self);
  sync_presets (self);
  update_export_actions (self);
  describe_source (self);
}

GtkWidget *
bms_graph_page_new (BmsConnection *connection)
{
  return g_object_new (BMS_TYPE_GRAPH_PAGE, "connection", connection, NULL);
}

