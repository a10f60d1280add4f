/* test-graph-page.c — the Graph page on a recorded history, under Xvfb.
 *
 * Records two hours of a 16-cell pack into a fresh database, opens the page
 * on it, waits for the worker's query to arrive and the page to draw, checks
 * the curves hold data, and saves a picture of the page
 * (tests/ui/pictures/graph-page.png in the build tree) for a human to look at.
 */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>

#include "page-test-util.h"

#include "bms-graph-page.h"
#include "bms-history.h"
#include "bms-field.h"

#define HOURS 2
#define N_CELLS 16

static void
set_eng (BmsSnapshot *s,
         guint8       id,
         double       value)
{
  bms_snapshot_set_raw (s, id, bms_field_from_engineering (bms_field_lookup (id), value));
}

/* A discharge at 30 A then a charge at 20 A, cells drifting apart a little. */
static BmsSnapshot *
make_sample (gint64 t_us,
             guint  i)
{
  BmsSnapshot *s = bms_snapshot_new ();
  guint16 cells[N_CELLS];
  gboolean charging = i > HOURS * 3600 / 2;
  double soc = charging ? 40 + (i - HOURS * 1800) * 0.01 : 70 - i * 0.0083;
  double current = charging ? 20 : -30 + 3 * sin (i / 40.0);
  double sum = 0;

  for (guint c = 0; c < N_CELLS; c++)
    {
      cells[c] = (guint16) (3200 + soc * 2 + (charging ? 25 : -15) + c * (c == 6 ? 3 : 1)
                            + ((i * 31 + c * 17) % 5));
      sum += cells[c];
    }
  s->timestamp_us = t_us;
  bms_snapshot_set_cells (s, cells, N_CELLS);
  set_eng (s, BMS_ID_PACK_VOLTAGE, sum / 1000.0);
  set_eng (s, BMS_ID_CURRENT, current);
  set_eng (s, BMS_ID_SOC, round (soc));
  set_eng (s, BMS_ID_MOSFET_TEMP, 28 + fabs (current) / 6 + sin (i / 300.0));
  set_eng (s, BMS_ID_TEMP1, 24 + fabs (current) / 10);
  set_eng (s, BMS_ID_TEMP2, 23 + fabs (current) / 12);
  return s;
}

static char *
record_history (BmsHistory **history_out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("packwatch-graph-XXXXXX", &error);
  char *path;
  BmsHistory *history;
  gint64 device_id, now = g_get_real_time ();
  guint n = HOURS * 3600;
  GPtrArray *batch = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);

  g_assert_no_error (error);
  path = g_build_filename (dir, "history.db", NULL);
  history = bms_history_new (path, &error);
  g_assert_no_error (error);
  device_id = bms_history_ensure_device (history, "addr:1", "Demo pack", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (batch, make_sample (now - (gint64) (n - i) * G_USEC_PER_SEC, i));
  bms_history_append_batch (history, device_id, (const BmsSnapshot *const *) batch->pdata, batch->len);
  g_assert_true (bms_history_flush (history, &error));
  g_assert_no_error (error);
  g_ptr_array_unref (batch);
  *history_out = history;
  return path;
}

static gboolean
has_data (gpointer view)
{
  GListModel *model = bms_graph_view_get_series (view);
  guint with_data = 0;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(BmsGraphSeries) s = g_list_model_get_item (model, i);
      if (bms_graph_series_get_n_points (s) > 100)
        with_data++;
    }
  return with_data == g_list_model_get_n_items (model);
}

static void
test_page_on_history (void)
{
  BmsHistory *history = NULL;
  g_autofree char *path = record_history (&history);
  GtkWidget *window = gtk_window_new ();
  GtkWidget *page = bms_graph_page_new (NULL);
  BmsGraphView *view = bms_graph_page_get_view (BMS_GRAPH_PAGE (page));
  g_autofree char *dir = g_path_get_dirname (path);
  GListModel *model = bms_graph_view_get_series (view);
  double t0, t1;

  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 720);
  gtk_window_set_child (GTK_WINDOW (window), page);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (page_test_wait (page_test_has_size, window, 20));

  bms_graph_page_set_history (BMS_GRAPH_PAGE (page), history);
  bms_graph_view_show_last (view, HOURS * 3600 + 600);
  g_assert_true (page_test_wait (has_data, view, 15));

  /* Zooming in far enough asks the database for finer buckets again. */
  bms_graph_view_get_time_range (view, &t0, &t1);
  g_assert_cmpfloat (t1 - t0, >, HOURS * 3600);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, BMS_SERIES_COUNT);

  /* Two cells from the picker, filled from the history's cell columns. */
  {
    GtkWidget *entry = g_object_get_data (G_OBJECT (page), "cells-entry");
    gtk_editable_set_text (GTK_EDITABLE (entry), "2 - 40");    /* 16 cells only */
    g_signal_emit_by_name (entry, "activate");
    g_assert_true (gtk_widget_has_css_class (entry, "error"));
    g_assert_cmpuint (g_list_model_get_n_items (model), ==, BMS_SERIES_COUNT);
    gtk_editable_set_text (GTK_EDITABLE (entry), "7, 3");
    g_signal_emit_by_name (entry, "activate");
    g_assert_cmpuint (g_list_model_get_n_items (model), ==, BMS_SERIES_COUNT + 2);
    g_assert_true (page_test_wait (has_data, view, 15));
  }

  page_test_save_png (window, "graph-page.png");

  /* Dark mode takes its colours from the theme; the keyboard crosshair
   * reads values at a time in the middle of the range. */
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_FORCE_DARK);
  bms_graph_view_get_time_range (view, &t0, &t1);
  bms_graph_view_set_cursor_time (view, t0 + (t1 - t0) * 0.3);
  page_test_save_png (window, "graph-page-dark.png");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_DEFAULT);
  bms_graph_view_set_cursor_time (view, NAN);

  /* The visible range to CSV through the export layer, on its worker. */
  {
    g_autofree char *csv = g_build_filename (dir, "range.csv", NULL);
    g_autoptr(GFile) file = g_file_new_for_path (csv);
    g_autofree char *contents = NULL;
    g_auto(GStrv) lines = NULL;
    gint64 deadline = g_get_monotonic_time ()
                      + (g_getenv ("PACKWATCH_VALGRIND") ? 400 : 20) * G_USEC_PER_SEC;

    GtkLabel *status = g_object_get_data (G_OBJECT (page), "status-label");
    g_autofree char *expect = NULL;
    gint64 device_id = bms_history_ensure_device (history, "addr:1", "Demo pack", NULL);

    /* Alarm and audit rows are exported too (own sheets), but the message
     * counts the sample rows: it said 211 for a sheet of 204. */
    for (guint i = 0; i < 4; i++)
      bms_history_add_alarm_event (history, device_id, g_get_real_time () - (gint64) (600 + i) * G_USEC_PER_SEC,
                                   "cell_ovp", i % 2 == 0, 3.66, 3.65, "Cell 3 over-voltage");
    bms_history_add_audit (history, device_id, g_get_real_time () - 700 * G_USEC_PER_SEC,
                           "cell_ovp", "3650", "3600", "ok");
    g_assert_true (bms_history_flush (history, NULL));
    bms_graph_page_export_visible (BMS_GRAPH_PAGE (page), file);
    g_assert_true (bms_graph_page_get_exporting (BMS_GRAPH_PAGE (page)));
    while (bms_graph_page_get_exporting (BMS_GRAPH_PAGE (page))
           && g_get_monotonic_time () < deadline)
      g_main_context_iteration (NULL, FALSE);
    g_assert_false (bms_graph_page_get_exporting (BMS_GRAPH_PAGE (page)));
    g_assert_true (g_file_get_contents (csv, &contents, NULL, NULL));
    lines = g_strsplit (contents, "\n", -1);
    /* Header, every sample of the two hours, a final newline. */
    g_assert_cmpuint (g_strv_length (lines), >=, HOURS * 3600);
    expect = g_strdup_printf ("Exported %u rows to range.csv", g_strv_length (lines) - 2);
    g_assert_cmpstr (gtk_label_get_text (status), ==, expect);
    g_remove (csv);
  }

  gtk_window_destroy (GTK_WINDOW (window));
  bms_history_close (history);
  g_object_unref (history);
  g_remove (path);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_remove (wal);
  g_remove (shm);
  g_rmdir (dir);
}

static gboolean
three_live_samples (gpointer data)
{
  BmsGraphView *view = data;
  BmsGraphSeries *volts = bms_graph_view_find_series (view, "pack_voltage");
  return bms_graph_series_get_n_points (volts) >= 3;
}

/* Connected to the simulator: every poll appears at once (live follow),
 * database or not. */
static void
test_page_live (void)
{
  BmsConnection *connection = page_test_connect ();
  GtkWidget *page = bms_graph_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  BmsGraphView *view = bms_graph_page_get_view (BMS_GRAPH_PAGE (page));
  BmsGraphSeries *volts = bms_graph_view_find_series (view, "pack_voltage");
  double t0, t1, last;

  GtkToggleButton *hour = g_object_get_data (G_OBJECT (page), "preset-1h");
  double first;

  g_assert_true (page_test_wait (three_live_samples, view, 20));
  /* The page opens fitting the data (not an hour with a few seconds of
   * it at the right edge), following: no preset is lit. */
  g_assert_false (gtk_toggle_button_get_active (hour));
  g_assert_true (bms_graph_view_get_follow (view));
  g_assert_true (bms_graph_series_get_time_range (volts, &first, &last));
  bms_graph_view_get_time_range (view, &t0, &t1);
  g_assert_cmpfloat (t1, >=, last);           /* the newest sample is in view */
  g_assert_cmpfloat (t0, <=, first);          /* and the first */
  /* Seconds of data: the shortest window; more: the data's own span. */
  if ((last - first) * 1.04 <= BMS_GRAPH_VIEW_MIN_SPAN)
    g_assert_cmpfloat_with_epsilon (t1 - t0, BMS_GRAPH_VIEW_MIN_SPAN, 0.01);
  else
    g_assert_cmpfloat (first - t0, <, (t1 - t0) * 0.1);
  g_assert_cmpfloat (bms_graph_series_get_values (volts)[0], >, 10);   /* volts, not raw */

  /* A span chosen by hand stays. */
  g_signal_emit_by_name (hour, "clicked");
  g_assert_true (gtk_toggle_button_get_active (hour));
  page_test_spin (2500);
  bms_graph_view_get_time_range (view, &t0, &t1);
  g_assert_cmpfloat_with_epsilon (t1 - t0, 3600, 1);
  g_assert_true (gtk_toggle_button_get_active (hour));
  page_test_close (window, connection);
}

static gboolean
history_open (gpointer connection)
{
  return bms_connection_get_history (connection) != NULL
         && bms_connection_get_history_device_id (connection) > 0;
}

static guint
footer_points (GtkLabel *status)
{
  const char *text = gtk_label_get_text (status);
  return g_str_has_prefix (text, "History: ") ? (guint) atoi (text + 9) : 0;
}

static gboolean
footer_counts (gpointer data)
{
  return footer_points (data) >= 3;
}

/* Three minutes recorded, then the board live: the window fits the
 * minutes (they sat in the right 5 % of an hour), and the footer's count
 * grows with every sample (it stayed at the query's). */
static void
test_page_short_history_live (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("packwatch-graph-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  BmsConnection *connection = bms_connection_new ();
  GtkWidget *page, *window;
  BmsGraphView *view;
  GtkLabel *status;
  double t0, t1, first, last;
  guint before;

  bms_connection_open_history (connection, path, 0);
  bms_connection_connect (connection, "sim://", 9600, 1);
  g_assert_true (page_test_wait (page_test_has_snapshot, connection, 20));
  g_assert_true (page_test_wait (history_open, connection, 20));
  {
    /* Three minutes before now, of this very board. */
    BmsHistory *history = bms_connection_get_history (connection);
    gint64 id = bms_connection_get_history_device_id (connection), now = g_get_real_time ();
    g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);

    for (guint i = 0; i < 180; i++)
      g_ptr_array_add (batch, make_sample (now - (gint64) (190 - i) * G_USEC_PER_SEC, i));
    bms_history_append_batch (history, id, (const BmsSnapshot *const *) batch->pdata, batch->len);
    g_assert_true (bms_history_flush (history, &error));
  }
  page = bms_graph_page_new (connection);
  window = page_test_window (connection, page);
  view = bms_graph_page_get_view (BMS_GRAPH_PAGE (page));
  status = g_object_get_data (G_OBJECT (page), "status-label");

  g_assert_true (page_test_wait (footer_counts, status, 20));
  page_test_spin (500);
  g_assert_true (bms_graph_view_get_data_range (view, &first, &last));
  bms_graph_view_get_time_range (view, &t0, &t1);
  g_test_message ("data %.0f s, window %.0f s", last - first, t1 - t0);
  g_assert_cmpfloat (first - (g_get_real_time () / 1e6 - 190), <, 5);
  g_assert_cmpfloat (t0, <=, first);
  g_assert_cmpfloat (t1, >=, last);
  g_assert_cmpfloat (t1 - t0, <, (last - first) * 1.2);

  before = footer_points (status);
  page_test_spin (3500);
  g_test_message ("footer: %u then %u points", before, footer_points (status));
  g_assert_cmpuint (footer_points (status), >, before);

  page_test_close (window, connection);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_remove (path);
  g_remove (wal);
  g_remove (shm);
  g_rmdir (dir);
}

static gboolean
footer_names_level (gpointer data)
{
  return strstr (gtk_label_get_text (data), " summaries") != NULL;
}

/* Ten days at one sample a minute, the last 7 days shown: the page asks for
 * twice its width in points over 10 days, which the history reads from
 * 6-minute units (schema 3), and the footer names them (it said "every
 * sample" for a level it did not know). */
static void
test_page_level_footer (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("packwatch-graph-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);
  g_autoptr(BmsHistory) history = bms_history_new (path, &error);
  GtkWidget *window = gtk_window_new ();
  GtkWidget *page = bms_graph_page_new (NULL);
  BmsGraphView *view = bms_graph_page_get_view (BMS_GRAPH_PAGE (page));
  GtkLabel *status = g_object_get_data (G_OBJECT (page), "status-label");
  gint64 id, now = g_get_real_time ();
  const guint n = 10 * 1440;

  g_assert_no_error (error);
  id = bms_history_ensure_device (history, "addr:1", "Demo pack", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (batch, make_sample (now - (gint64) (n - i) * 60 * G_USEC_PER_SEC, i));
  bms_history_append_batch (history, id, (const BmsSnapshot *const *) batch->pdata, batch->len);
  g_assert_true (bms_history_flush (history, &error));

  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 720);
  gtk_window_set_child (GTK_WINDOW (window), page);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (page_test_wait (page_test_has_size, window, 20));
  bms_graph_page_set_history (BMS_GRAPH_PAGE (page), history);
  bms_graph_view_show_last (view, 7 * 86400);
  g_assert_true (page_test_wait (footer_names_level, status, 20));
  page_test_spin (500);
  g_test_message ("footer: %s", gtk_label_get_text (status));
  g_assert_nonnull (strstr (gtk_label_get_text (status), "from 6-minute summaries"));

  gtk_window_destroy (GTK_WINDOW (window));
  bms_history_close (history);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_remove (path);
  g_remove (wal);
  g_remove (shm);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/graph-page/on-history", test_page_on_history);
  g_test_add_func ("/graph-page/live", test_page_live);
  g_test_add_func ("/graph-page/short-history-live", test_page_short_history_live);
  g_test_add_func ("/graph-page/level-footer", test_page_level_footer);
  return g_test_run ();
}
