/* bms-health-page.c — the Health page.
 *
 * The analysis (bms_health_analyze) reads the history twice, seconds for a
 * month: it runs on a worker, started when the page is first shown, when
 * the board changes and from the Analyse button, with a spinner meanwhile.
 * The cells are a sortable column view (a 256-cell master stays a list of
 * rows, drawn only where visible); its items are the cell numbers, their
 * figures are looked up in the report. The selected cell's figures and its
 * resistance per week (a small cairo chart) are shown beside it.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "bms-health-page.h"

enum {
  COL_CELL,
  COL_RESISTANCE,
  COL_CONFIDENCE,
  COL_STEPS,
  COL_CAPACITY,
  COL_LEAK,
  COL_RANK,
  N_COLS
};

struct _BmsHealthPage
{
  BmsPage             parent_instance;

  GtkSpinner         *spinner;
  GtkLabel           *status_label;
  GtkStack           *stack;
  AdwStatusPage      *empty_page;
  GtkColumnView      *column_view;
  GtkLabel           *suspects_label;
  GtkLabel           *cell_title;
  GtkLabel           *details_label;
  GtkDrawingArea     *trend_area;

  BmsHistory         *history_override;
  char               *key_override;
  gboolean            overridden;

  GListStore         *cells;       /* GtkStringObject: "1", "2", … */
  GtkSingleSelection *selection;
  BmsHealthReport    *report;
  GCancellable       *cancellable;
  gboolean            busy;
  guint               selected;    /* 1-based, 0: none */
};

G_DEFINE_FINAL_TYPE (BmsHealthPage, bms_health_page, BMS_TYPE_PAGE)

/* --- figures ------------------------------------------------------------- */

static guint
item_cell (gpointer item)
{
  return (guint) g_ascii_strtoull (gtk_string_object_get_string (item), NULL, 10);
}

static guint
suspect_rank (const BmsHealthReport *report, guint cell)
{
  for (guint i = 0; i < report->suspects->len; i++)
    if (((BmsHealthSuspect *) g_ptr_array_index (report->suspects, i))->cell == cell)
      return i + 1;
  return 0;
}

/* The figure of a column for a cell; NAN where there is none. */
static double
figure (const BmsHealthReport *report, guint cell, int col)
{
  const BmsHealthCell *c;
  guint rank;

  if (report == NULL || cell == 0 || cell > report->n_cells)
    return NAN;
  c = &report->cells[cell - 1];
  switch (col)
    {
    case COL_CELL: return cell;
    case COL_RESISTANCE: return c->resistance_mohm;
    case COL_CONFIDENCE: return c->resistance_confidence;
    case COL_STEPS: return c->steps;
    case COL_CAPACITY: return c->capacity_deviation_pct;
    case COL_LEAK: return c->leak_ma;
    case COL_RANK:
      rank = suspect_rank (report, cell);
      return rank ? rank : NAN;
    default: return NAN;
    }
}

static char *
format_figure (double v, int col)
{
  if (!isfinite (v))
    return g_strdup ("—");
  switch (col)
    {
    case COL_RESISTANCE: return g_strdup_printf ("%.3f", v);
    case COL_CONFIDENCE: return g_strdup_printf ("%.2f", v);
    case COL_CAPACITY: return g_strdup_printf ("%+.1f", v);
    case COL_LEAK: return g_strdup_printf ("%.1f", v);
    default: return g_strdup_printf ("%.0f", v);
    }
}

/* --- the column view ----------------------------------------------------- */

typedef struct {
  BmsHealthPage *self;
  int            col;
} Column;

/* Cells without the figure sort after those with it. */
static int
compare_cells (gconstpointer a, gconstpointer b, gpointer data)
{
  Column *column = data;
  double x = figure (column->self->report, item_cell ((gpointer) a), column->col);
  double y = figure (column->self->report, item_cell ((gpointer) b), column->col);

  if (isnan (x) || isnan (y))
    return isnan (x) - isnan (y);
  return (x > y) - (x < y);
}

static void
setup_label (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (item, label);
}

static void
bind_label (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  Column *column = data;
  guint cell = item_cell (gtk_list_item_get_item (item));
  g_autofree char *text = format_figure (figure (column->self->report, cell, column->col),
                                         column->col);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), text);
}

static void
free_column (gpointer data, GClosure *closure)
{
  g_free (data);
}

static void
add_column (BmsHealthPage *self, int col, const char *title)
{
  Column *column = g_new0 (Column, 1);
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_autoptr (GtkColumnViewColumn) view_column = NULL;
  GtkCustomSorter *sorter;

  column->self = self;
  column->col = col;
  g_signal_connect_data (factory, "setup", G_CALLBACK (setup_label), NULL, NULL, 0);
  g_signal_connect_data (factory, "bind", G_CALLBACK (bind_label), column, free_column, 0);
  sorter = gtk_custom_sorter_new (compare_cells, column, NULL);
  view_column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_sorter (view_column, GTK_SORTER (sorter));
  gtk_column_view_column_set_expand (view_column, col != COL_CELL);
  g_object_unref (sorter);
  gtk_column_view_append_column (self->column_view, view_column);
}

static void
build_columns (BmsHealthPage *self)
{
  GtkSortListModel *sorted;

  add_column (self, COL_CELL, _("Cell"));
  add_column (self, COL_RESISTANCE, _("Resistance (mΩ)"));
  add_column (self, COL_CONFIDENCE, _("Confidence"));
  add_column (self, COL_STEPS, _("Steps"));
  add_column (self, COL_CAPACITY, _("Capacity (%)"));
  add_column (self, COL_LEAK, _("Leak (mA)"));
  add_column (self, COL_RANK, _("Suspect"));

  self->cells = g_list_store_new (GTK_TYPE_STRING_OBJECT);
  sorted = gtk_sort_list_model_new (G_LIST_MODEL (g_object_ref (self->cells)),
                                    g_object_ref (gtk_column_view_get_sorter (self->column_view)));
  self->selection = gtk_single_selection_new (G_LIST_MODEL (sorted));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
}

/* --- the selected cell --------------------------------------------------- */

static char *
cell_details (const BmsHealthReport *report, guint cell)
{
  const BmsHealthCell *c = &report->cells[cell - 1];
  const BmsHealthSuspect *s = bms_health_report_find_suspect (report, cell);
  GString *out = g_string_new (NULL);
  g_autofree char *r = format_figure (c->resistance_mohm, COL_RESISTANCE);
  g_autofree char *conf = format_figure (c->resistance_confidence, COL_CONFIDENCE);
  g_autofree char *cap = format_figure (c->capacity_deviation_pct, COL_CAPACITY);
  g_autofree char *leak = format_figure (c->leak_ma, COL_LEAK);
  g_autofree char *bottom = format_figure (c->bottom_knee_mv, COL_CAPACITY);
  g_autofree char *top = format_figure (c->top_knee_mv, COL_CAPACITY);

  g_string_append_printf (out, ngettext ("Resistance: %s mΩ (confidence %s, %u current step)",
                                         "Resistance: %s mΩ (confidence %s, %u current steps)",
                                         c->steps), r, conf, c->steps);
  g_string_append_c (out, '\n');
  g_string_append_printf (out, _("Capacity: %s %% against the median cell"), cap);
  g_string_append_c (out, '\n');
  g_string_append_printf (out, _("Leak: %s mA beyond the median cell"), leak);
  g_string_append_c (out, '\n');
  g_string_append_printf (out, _("Near empty: %s mV, near full: %s mV from the median cell"),
                          bottom, top);
  for (guint i = 0; s && s->reasons[i]; i++)
    g_string_append_printf (out, "\n• %s", s->reasons[i]);
  return g_string_free (out, FALSE);
}

static void
show_cell (BmsHealthPage *self)
{
  g_autofree char *title = NULL, *details = NULL;

  if (self->report == NULL || self->selected == 0 || self->selected > self->report->n_cells)
    {
      gtk_label_set_text (self->cell_title, _("Select a cell for its details and trend"));
      gtk_label_set_text (self->details_label, "");
    }
  else
    {
      title = g_strdup_printf (_("Cell %u"), self->selected);
      details = cell_details (self->report, self->selected);
      gtk_label_set_text (self->cell_title, title);
      gtk_label_set_text (self->details_label, details);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self->trend_area));
}

static void
on_selection_changed (BmsHealthPage *self)
{
  gpointer item = gtk_single_selection_get_selected_item (self->selection);

  self->selected = item ? item_cell (item) : 0;
  show_cell (self);
}

void
bms_health_page_select_cell (BmsHealthPage *self, guint cell)
{
  GListModel *model = G_LIST_MODEL (self->selection);

  g_return_if_fail (BMS_IS_HEALTH_PAGE (self));

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (model, i);
      if (item_cell (item) == cell)
        {
          gtk_single_selection_set_selected (self->selection, i);
          return;
        }
    }
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
}

/* --- the trend ----------------------------------------------------------- */

static void
lookup (GtkWidget *widget, const char *name, GdkRGBA *out, const char *fallback)
{
  if (!gtk_style_context_lookup_color (gtk_widget_get_style_context (widget), name, out))
    gdk_rgba_parse (out, fallback);
}

static void
source (cairo_t *cr, const GdkRGBA *c, double alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

static double
week_median (const BmsHealthWeek *w)
{
  g_autofree double *v = g_new (double, MAX (w->n_cells, 1));
  guint m = 0;

  for (guint i = 0; i < w->n_cells; i++)
    if (isfinite (w->cells[i].resistance_mohm))
      v[m++] = w->cells[i].resistance_mohm;
  if (m == 0)
    return NAN;
  for (guint i = 1; i < m; i++)
    for (guint j = i; j > 0 && v[j - 1] > v[j]; j--)
      {
        double t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
  return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

static void
draw_text (cairo_t *cr, GtkWidget *widget, const char *text, double x, double y, double align)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - w * align, y - h / 2.0);
  pango_cairo_show_layout (cr, layout);
  g_object_unref (layout);
}

/* One line for a series of weekly values (NAN breaks it), with dots. */
static void
draw_series (cairo_t *cr, const double *v, guint n, double x0, double dx, double y0,
             double h, double lo, double hi)
{
  gboolean drawing = FALSE;

  for (guint k = 0; k < n; k++)
    {
      double x = x0 + k * dx, y = y0 + h - (v[k] - lo) / (hi - lo) * h;
      if (!isfinite (v[k]))
        {
          drawing = FALSE;
          continue;
        }
      drawing ? cairo_line_to (cr, x, y) : cairo_move_to (cr, x, y);
      drawing = TRUE;
    }
  cairo_stroke (cr);
  for (guint k = 0; k < n; k++)
    if (isfinite (v[k]))
      {
        cairo_arc (cr, x0 + k * dx, y0 + h - (v[k] - lo) / (hi - lo) * h, 3, 0, 2 * G_PI);
        cairo_fill (cr);
      }
}

/* The selected cell's resistance per week (accent) against each week's
 * median cell (dim): a cell getting worse leaves the median behind. */
static void
draw_trend (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  BmsHealthPage *self = data;
  GtkWidget *widget = GTK_WIDGET (area);
  g_autofree double *cell = NULL, *median = NULL;
  double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE, left = 76, top = 10, bottom = 24, right = 40, dx;
  GdkRGBA fg, accent;
  guint n;
  char buf[32];

  if (self->report == NULL || self->selected == 0)
    return;
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  lookup (widget, "accent_color", &accent, "#3584e4");
  n = self->report->weeks->len;
  cell = g_new (double, MAX (n, 1));
  median = g_new (double, MAX (n, 1));
  for (guint k = 0; k < n; k++)
    {
      BmsHealthWeek *w = g_ptr_array_index (self->report->weeks, k);
      cell[k] = self->selected <= w->n_cells ? w->cells[self->selected - 1].resistance_mohm : NAN;
      median[k] = week_median (w);
      for (guint j = 0; j < 2; j++)
        {
          double v = j ? median[k] : cell[k];
          if (isfinite (v))
            {
              lo = MIN (lo, v);
              hi = MAX (hi, v);
            }
        }
    }
  source (cr, &fg, 0.7);
  if (lo > hi)
    {
      draw_text (cr, widget, _("No week with enough current steps yet"), width / 2.0,
                 height / 2.0, 0.5);
      return;
    }
  if (hi - lo < 0.05 * hi)
    {
      double mid = (hi + lo) / 2;
      lo = mid * 0.95;
      hi = mid * 1.05;
    }
  dx = n > 1 ? (width - left - right) / (n - 1) : 0;
  g_snprintf (buf, sizeof buf, "%.2f mΩ", hi);
  draw_text (cr, widget, buf, left - 6, top, 1);
  g_snprintf (buf, sizeof buf, "%.2f mΩ", lo);
  draw_text (cr, widget, buf, left - 6, height - bottom, 1);
  /* dates under the first, the middle and the last week */
  for (guint j = 0; j < 3; j++)
    {
      guint k = j == 0 ? 0 : j == 1 ? n / 2 : n - 1;
      BmsHealthWeek *w = g_ptr_array_index (self->report->weeks, k);
      g_autoptr (GDateTime) dt = g_date_time_new_from_unix_local (w->start_us / G_USEC_PER_SEC);
      g_autofree char *label = g_date_time_format (dt, "%x");

      if ((j == 1 && n < 5) || (j == 2 && n == 1))
        continue;
      draw_text (cr, widget, label, n > 1 ? left + k * dx : (left + width - right) / 2.0,
                 height - bottom / 2.0, n == 1 || j == 1 ? 0.5 : j == 0 ? 0 : 1);
    }
  cairo_set_line_width (cr, 1.5);
  source (cr, &fg, 0.35);
  draw_series (cr, median, n, n > 1 ? left : (left + width - right) / 2.0, dx, top,
               height - top - bottom, lo, hi);
  source (cr, &accent, 1);
  draw_series (cr, cell, n, n > 1 ? left : (left + width - right) / 2.0, dx, top,
               height - top - bottom, lo, hi);
}

/* --- the analysis -------------------------------------------------------- */

static BmsHistory *
page_history (BmsHealthPage *self)
{
  return self->overridden ? self->history_override : bms_page_get_history (BMS_PAGE (self));
}


static void
update_actions (BmsHealthPage *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "health.analyze",
                                 page_history (self) != NULL && !self->busy);
}

static void
set_busy (BmsHealthPage *self, gboolean busy)
{
  self->busy = busy;
  gtk_spinner_set_spinning (self->spinner, busy);
  update_actions (self);
}

static void
show_report (BmsHealthPage *self)
{
  BmsHealthReport *r = self->report;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GString) suspects = g_string_new (NULL);
  g_autofree char *status = NULL, *samples = NULL;
  g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, r->n_samples);

  for (guint i = 0; i < r->n_cells; i++)
    {
      char number[16];
      g_snprintf (number, sizeof number, "%u", i + 1);
      g_ptr_array_add (items, gtk_string_object_new (number));
    }
  self->selected = 0;
  g_list_store_splice (self->cells, 0, g_list_model_get_n_items (G_LIST_MODEL (self->cells)),
                       items->pdata, items->len);
  for (guint i = 0; i < r->suspects->len; i++)
    {
      BmsHealthSuspect *s = g_ptr_array_index (r->suspects, i);
      g_autofree char *reasons = g_strjoinv ("; ", s->reasons);
      g_string_append_printf (suspects, "%s%u. ", i ? "\n" : "", i + 1);
      g_string_append_printf (suspects, _("cell %u: %s"), s->cell, reasons);
    }
  gtk_label_set_text (self->suspects_label,
                      suspects->len ? suspects->str : _("No cell stands out from the pack."));
  /* TRANSLATORS: %s is the number of samples read */
  samples = g_strdup_printf (ngettext ("%s sample", "%s samples",
                                       (gulong) MIN (r->n_samples, G_MAXULONG)),
                             count);
  /* TRANSLATORS: %s is "N samples" */
  status = g_strdup_printf (ngettext ("%s, %u current step used",
                                      "%s, %u current steps used",
                                      r->steps_used), samples, r->steps_used);
  gtk_label_set_text (self->status_label, status);
  gtk_stack_set_visible_child_name (self->stack,
                                    r->steps_used >= BMS_HEALTH_MIN_STEPS ? "results" : "empty");
  if (r->suspects->len)
    bms_health_page_select_cell (self, ((BmsHealthSuspect *) r->suspects->pdata[0])->cell);
  show_cell (self);
}

typedef struct {
  BmsHistory *history;
  char       *key;        /* NULL: the device below */
  gint64      device_id;  /* the connected board's row, 0: none */
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  g_object_unref (job->history);
  g_free (job->key);
  g_free (job);
}

/* The connected board's key in the history, or without one the device
 * with the newest samples (browsing the history with nothing connected). */
static char *
pick_device (BmsHistory *history, gint64 device_id, GError **error)
{
  g_autoptr (GPtrArray) devices = bms_history_list_devices (history, error);
  BmsHistoryDevice *best = NULL;

  if (devices == NULL)
    return NULL;
  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      if (device_id > 0 && d->id == device_id)
        return g_strdup (d->key);
      if (d->n_samples > 0 && (best == NULL || d->last_us > best->last_us))
        best = d;
    }
  return g_strdup (best ? best->key : NULL);
}

static void
analyze_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  g_autofree char *key = g_strdup (job->key);
  GError *error = NULL;
  BmsHealthReport *report;

  if (key == NULL && (key = pick_device (job->history, job->device_id, &error)) == NULL && error)
    {
      g_task_return_error (task, error);
      return;
    }
  report = bms_health_analyze (job->history, key, 0, G_MAXINT64, cancellable, &error);
  if (report)
    g_task_return_pointer (task, report, (GDestroyNotify) bms_health_report_unref);
  else
    g_task_return_error (task, error);
}

static void
on_analyzed (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (BmsHealthPage) self = data;
  g_autoptr (GError) error = NULL;
  BmsHealthReport *report = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (g_task_get_cancellable (G_TASK (result)) != self->cancellable)
    {
      g_clear_pointer (&report, bms_health_report_unref);
      return;   /* a newer analysis is under way */
    }
  set_busy (self, FALSE);
  if (report == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not analyse the history: %s"),
                                               error->message);
      gtk_label_set_text (self->status_label, text);
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  g_clear_pointer (&self->report, bms_health_report_unref);
  self->report = report;
  show_report (self);
}

void
bms_health_page_analyze (BmsHealthPage *self)
{
  BmsHistory *history;
  g_autoptr (GTask) task = NULL;
  Job *job;

  g_return_if_fail (BMS_IS_HEALTH_PAGE (self));

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if ((history = page_history (self)) == NULL)
    {
      gtk_label_set_text (self->status_label,
                          _("No history database: cell health is estimated from recorded data."));
      set_busy (self, FALSE);
      return;
    }
  self->cancellable = g_cancellable_new ();
  job = g_new0 (Job, 1);
  job->history = g_object_ref (history);
  job->key = self->overridden ? g_strdup (self->key_override) : NULL;
  job->device_id = self->overridden ? 0 : bms_page_get_history_device_id (BMS_PAGE (self));
  task = g_task_new (NULL, self->cancellable, on_analyzed, g_object_ref (self));
  g_task_set_task_data (task, job, job_free);
  g_task_run_in_thread (task, analyze_thread);
  gtk_label_set_text (self->status_label, _("Analysing the history…"));
  set_busy (self, TRUE);
}

static void
action_analyze (GtkWidget *widget, const char *name, GVariant *param)
{
  bms_health_page_analyze (BMS_HEALTH_PAGE (widget));
}

/* --- public -------------------------------------------------------------- */

GtkWidget *
bms_health_page_new (void)
{
  return g_object_new (BMS_TYPE_HEALTH_PAGE, NULL);
}

void
bms_health_page_set_history (BmsHealthPage *self, BmsHistory *history, const char *device_key)
{
  g_return_if_fail (BMS_IS_HEALTH_PAGE (self));

  g_set_object (&self->history_override, history);
  g_free (self->key_override);
  self->key_override = g_strdup (device_key);
  self->overridden = TRUE;
  g_clear_pointer (&self->report, bms_health_report_unref);
  update_actions (self);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    bms_health_page_analyze (self);
}

gboolean
bms_health_page_get_busy (BmsHealthPage *self)
{
  g_return_val_if_fail (BMS_IS_HEALTH_PAGE (self), FALSE);
  return self->busy;
}

BmsHealthReport *
bms_health_page_get_report (BmsHealthPage *self)
{
  g_return_val_if_fail (BMS_IS_HEALTH_PAGE (self), NULL);
  return self->report;
}

/* --- GObject ------------------------------------------------------------- */

static void
on_map (BmsHealthPage *self)
{
  if (self->report == NULL && !self->busy)
    bms_health_page_analyze (self);
}

static void
bms_health_page_device_changed (BmsPage *page)
{
  BmsHealthPage *self = BMS_HEALTH_PAGE (page);

  update_actions (self);
  if (self->overridden)
    return;
  g_clear_pointer (&self->report, bms_health_report_unref);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    bms_health_page_analyze (self);
}

/* The history opens on a worker after the page exists: analyse once it is
 * there. */
static void
bms_health_page_connection_changed (BmsPage *page)
{
  BmsConnection *connection = bms_page_get_connection (page);

  if (connection)
    g_signal_connect_object (connection, "notify::history",
                             G_CALLBACK (bms_health_page_device_changed), page, G_CONNECT_SWAPPED);
  bms_health_page_device_changed (page);
}

static void
bms_health_page_dispose (GObject *object)
{
  BmsHealthPage *self = BMS_HEALTH_PAGE (object);

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->report, bms_health_report_unref);
  g_clear_object (&self->history_override);
  g_clear_pointer (&self->key_override, g_free);
  if (self->selection)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  g_clear_object (&self->selection);
  g_clear_object (&self->cells);

  G_OBJECT_CLASS (bms_health_page_parent_class)->dispose (object);
}

static void
bms_health_page_class_init (BmsHealthPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  BmsPageClass *page_class = BMS_PAGE_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_health_page_dispose;
  page_class->device_changed = bms_health_page_device_changed;
  page_class->connection_changed = bms_health_page_connection_changed;

  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-health-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsHealthPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, BmsHealthPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, BmsHealthPage, stack);
  gtk_widget_class_bind_template_child (widget_class, BmsHealthPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, BmsHealthPage, column_view);
  gtk_widget_class_bind_template_child (widget_class, BmsHealthPage, suspects_label);
  gtk_widget_class_bind_template_child (widget_class, BmsHealthPage, cell_title);
  gtk_widget_class_bind_template_child (widget_class, BmsHealthPage, details_label);
  gtk_widget_class_bind_template_child (widget_class, BmsHealthPage, trend_area);

  gtk_widget_class_install_action (widget_class, "health.analyze", NULL, action_analyze);
}

static void
bms_health_page_init (BmsHealthPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  build_columns (self);
  g_signal_connect_swapped (self->selection, "notify::selected",
                            G_CALLBACK (on_selection_changed), self);
  gtk_drawing_area_set_draw_func (self->trend_area, draw_trend, self, NULL);
  g_signal_connect (self, "map", G_CALLBACK (on_map), NULL);
  /* Tests read what a user sees. */
  g_object_set_data (G_OBJECT (self), "status-label", self->status_label);
  g_object_set_data (G_OBJECT (self), "suspects-label", self->suspects_label);
  g_object_set_data (G_OBJECT (self), "details-label", self->details_label);
  g_object_set_data (G_OBJECT (self), "stack", self->stack);
  g_object_set_data (G_OBJECT (self), "column-view", self->column_view);
  show_cell (self);
  update_actions (self);
}
