/* test-health-page.c — the Health page on synthetic histories, under Xvfb:
 * the analysis on its worker, the suspect named and selected, sorting by
 * resistance, a cell's details, the weekly trend drawn, the empty state,
 * and a 256-cell pack (pictures in tests/ui/pictures of the build tree). */
#include <adwaita.h>
#include <glib/gstdio.h>

#include "page-test-util.h"
#include "../model/health-synth.h"

#include "bms-health-page.h"

typedef struct {
  char       *dir;
  char       *path;
  BmsHistory *history;
} Db;

static void
db_open (Db *db)
{
  g_autoptr (GError) error = NULL;

  db->dir = g_dir_make_tmp ("packwatch-health-XXXXXX", &error);
  g_assert_no_error (error);
  db->path = g_build_filename (db->dir, "history.db", NULL);
  db->history = bms_history_new (db->path, &error);
  g_assert_no_error (error);
}

static void
db_close (Db *db)
{
  const char *suffixes[] = { "", "-wal", "-shm" };

  bms_history_close (db->history);
  g_object_unref (db->history);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = g_strconcat (db->path, suffixes[i], NULL);
      g_remove (p);
    }
  g_rmdir (db->dir);
  g_free (db->path);
  g_free (db->dir);
}

static gboolean
idle_page (gpointer page)
{
  return !bms_health_page_get_busy (page) && bms_health_page_get_report (page) != NULL;
}

static GtkWidget *
show_page (GtkWidget **window_out, BmsHistory *history, const char *key)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *page = bms_health_page_new ();

  gtk_window_set_default_size (GTK_WINDOW (window), 1366, 768);
  gtk_window_set_child (GTK_WINDOW (window), page);
  bms_health_page_set_history (BMS_HEALTH_PAGE (page), history, key);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (page_test_wait (page_test_has_size, window, 20));
  /* shown, the page starts its analysis by itself */
  g_assert_true (page_test_wait (idle_page, page, 60));
  *window_out = window;
  return page;
}

static const char *
label_text (GtkWidget *page, const char *name)
{
  return gtk_label_get_text (g_object_get_data (G_OBJECT (page), name));
}

static guint
first_row_cell (GtkColumnView *view)
{
  g_autoptr (GObject) item = g_list_model_get_item (G_LIST_MODEL (gtk_column_view_get_model (view)), 0);
  return (guint) g_ascii_strtoull (gtk_string_object_get_string (GTK_STRING_OBJECT (item)), NULL, 10);
}

static void
test_weak_cell (void)
{
  Db db;
  SynthPack pack;
  SynthTruth truth;
  GtkWidget *window, *page;
  GtkColumnView *view;
  g_autoptr (GtkColumnViewColumn) resistance = NULL;
  BmsHealthReport *report;

  db_open (&db);
  synth_defaults (&pack, 16, 9, 31);
  pack.sample_s = 2;
  pack.weak_cell = 5;
  pack.weak_r = 2;
  synth_write (db.history, "synth:page", &pack, &truth);
  page = show_page (&window, db.history, "synth:page");
  report = bms_health_page_get_report (BMS_HEALTH_PAGE (page));
  view = g_object_get_data (G_OBJECT (page), "column-view");

  g_assert_cmpuint (report->n_cells, ==, 16);
  g_assert_cmpuint (report->weeks->len, ==, 2);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (g_object_get_data (G_OBJECT (page), "stack")),
                   ==, "results");
  g_assert_true (g_str_has_prefix (label_text (page, "suspects-label"), "1. cell 5: 2."));
  g_assert_nonnull (strstr (label_text (page, "status-label"), "current steps used"));
  /* the first suspect is selected: its figures and reasons beside the list */
  g_assert_true (g_str_has_prefix (label_text (page, "details-label"), "Resistance: "));
  g_assert_nonnull (strstr (label_text (page, "details-label"), "× the median resistance"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (gtk_column_view_get_model (view))), ==, 16);
  g_assert_cmpuint (first_row_cell (view), ==, 1);

  /* sorted by resistance, worst first: the planted cell on top */
  resistance = g_list_model_get_item (gtk_column_view_get_columns (view), 1);
  g_assert_cmpstr (gtk_column_view_column_get_title (resistance), ==, "Resistance (mΩ)");
  gtk_column_view_sort_by_column (view, resistance, GTK_SORT_DESCENDING);
  g_assert_cmpuint (first_row_cell (view), ==, 5);
  page_test_save_png (window, "health-page.png");

  bms_health_page_select_cell (BMS_HEALTH_PAGE (page), 12);
  g_assert_false (strstr (label_text (page, "details-label"), "× the median resistance"));
  page_test_save_png (window, "health-page-cell.png");

  gtk_window_destroy (GTK_WINDOW (window));
  db_close (&db);
}

/* A few minutes of history: no figure, the empty state says why. */
static void
test_not_enough (void)
{
  Db db;
  SynthPack pack;
  SynthTruth truth;
  GtkWidget *window, *page;

  db_open (&db);
  synth_defaults (&pack, 8, 120 / 86400.0, 2);
  synth_write (db.history, "synth:short", &pack, &truth);
  page = show_page (&window, db.history, NULL);

  g_assert_cmpstr (gtk_stack_get_visible_child_name (g_object_get_data (G_OBJECT (page), "stack")),
                   ==, "empty");
  page_test_save_png (window, "health-page-empty.png");
  gtk_window_destroy (GTK_WINDOW (window));
  db_close (&db);
}

/* A master of 256 cells: a list of rows, scrolled, not 256 tiles. */
static void
test_256_cells (void)
{
  Db db;
  SynthPack pack;
  SynthTruth truth;
  GtkWidget *window, *page;
  BmsHealthReport *report;
  GtkColumnView *view;

  db_open (&db);
  synth_defaults (&pack, 256, 0.25, 8);
  pack.weak_cell = 200;
  pack.weak_r = 2;
  synth_write (db.history, "synth:256", &pack, &truth);
  page = show_page (&window, db.history, "synth:256");
  report = bms_health_page_get_report (BMS_HEALTH_PAGE (page));
  view = g_object_get_data (G_OBJECT (page), "column-view");

  g_assert_cmpuint (report->n_cells, ==, 256);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (gtk_column_view_get_model (view))), ==, 256);
  g_test_message ("%s", label_text (page, "suspects-label"));
  g_assert_true (g_str_has_prefix (label_text (page, "suspects-label"), "1. cell 200: "));
  page_test_save_png (window, "health-page-256.png");
  gtk_window_destroy (GTK_WINDOW (window));
  db_close (&db);
}

int
main (int argc, char **argv)
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/ui/health/weak-cell", test_weak_cell);
  g_test_add_func ("/ui/health/not-enough", test_not_enough);
  g_test_add_func ("/ui/health/256-cells", test_256_cells);
  return g_test_run ();
}
