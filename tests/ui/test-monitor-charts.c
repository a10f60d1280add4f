/* test-monitor-charts.c — the Monitor page's charts: a frame only when a
 * value changed (an idle window costs nothing), the trend keeps the last
 * minutes, both draw something; the selected cell's details follow the
 * polls. */
#include "page-test-util.h"
#include "bms-cell-chart.h"
#include "bms-cell-grid.h"
#include "bms-monitor-page.h"
#include "bms-pack-trend.h"

/* Pixels drawn (not transparent) by a draw function. */
static guint
painted (void (*draw) (gpointer, cairo_t *, int, int), gpointer widget)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 400, 200);
  cairo_t *cr = cairo_create (surface);
  const guint8 *data;
  guint n = 0;

  draw (widget, cr, 400, 200);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  for (int i = 0; i < 400 * 200; i++)
    n += data[i * 4 + 3] != 0;
  cairo_surface_destroy (surface);
  return n;
}

static void
test_cell_chart (void)
{
  GtkWidget *chart = g_object_ref_sink (bms_cell_chart_new ());
  guint16 mv[16];
  guint before;

  for (guint i = 0; i < G_N_ELEMENTS (mv); i++)
    mv[i] = 3340 + i;
  g_assert_cmpuint (painted ((gpointer) bms_cell_chart_draw, chart), ==, 0);
  bms_cell_chart_set_lines (BMS_CELL_CHART (chart), 3650, 2500, 3400);
  bms_cell_chart_set_cells (BMS_CELL_CHART (chart), mv, 16);
  before = bms_cell_chart_get_n_redraws (BMS_CELL_CHART (chart));
  /* The same poll again: no frame. */
  bms_cell_chart_set_lines (BMS_CELL_CHART (chart), 3650, 2500, 3400);
  bms_cell_chart_set_cells (BMS_CELL_CHART (chart), mv, 16);
  g_assert_cmpuint (bms_cell_chart_get_n_redraws (BMS_CELL_CHART (chart)), ==, before);
  mv[3]++;
  bms_cell_chart_set_cells (BMS_CELL_CHART (chart), mv, 16);
  g_assert_cmpuint (bms_cell_chart_get_n_redraws (BMS_CELL_CHART (chart)), ==, before + 1);
  g_assert_cmpuint (painted ((gpointer) bms_cell_chart_draw, chart), >, 400 * 200 / 10);
  g_object_unref (chart);
}

static void
test_pack_trend (void)
{
  GtkWidget *trend = g_object_ref_sink (bms_pack_trend_new ());
  gint64 t = 1000 * G_USEC_PER_SEC;
  guint before;

  for (guint i = 0; i < 5; i++)
    bms_pack_trend_add (BMS_PACK_TREND (trend), t + i * G_USEC_PER_SEC, 53.0 + i * 0.01, 10);
  before = bms_pack_trend_get_n_redraws (BMS_PACK_TREND (trend));
  /* Unchanged values: a sample kept, no frame. */
  bms_pack_trend_add (BMS_PACK_TREND (trend), t + 5 * G_USEC_PER_SEC, 53.04, 10);
  g_assert_cmpuint (bms_pack_trend_get_n_samples (BMS_PACK_TREND (trend)), ==, 6);
  g_assert_cmpuint (bms_pack_trend_get_n_redraws (BMS_PACK_TREND (trend)), ==, before);
  g_assert_cmpuint (painted ((gpointer) bms_pack_trend_draw, trend), >, 0);
  /* Only the last minutes are kept. */
  bms_pack_trend_add (BMS_PACK_TREND (trend),
                      t + (BMS_PACK_TREND_MINUTES * 60 + 3) * G_USEC_PER_SEC, 53.1, -5);
  /* t+3 s … t+5 s and the new one. */
  g_assert_cmpuint (bms_pack_trend_get_n_samples (BMS_PACK_TREND (trend)), ==, 4);
  g_assert_cmpuint (bms_pack_trend_get_n_redraws (BMS_PACK_TREND (trend)), ==, before + 1);
  g_object_unref (trend);
}

/* 256 cells in 16 modules: on a 1920 × 1080 screen the grid grows into the
 * room (taller tiles), and still fits the page below the header. */
static void
test_grid_grows (void)
{
  GtkWidget *grid = g_object_ref_sink (bms_cell_grid_new ());
  guint16 mv[256];
  guint sizes[16];
  guint64 balancing[4] = { 0 };
  int narrow, wide, unused;

  for (guint i = 0; i < 256; i++)
    mv[i] = 3300 + i % 50;
  for (guint m = 0; m < 16; m++)
    sizes[m] = 16;
  bms_cell_grid_set_cells (BMS_CELL_GRID (grid), mv, 256, sizes, 16, balancing);
  /* The left pane at 1366 and at 1920 pixels wide. */
  gtk_widget_measure (grid, GTK_ORIENTATION_VERTICAL, 920, &narrow, &unused, NULL, NULL);
  gtk_widget_measure (grid, GTK_ORIENTATION_VERTICAL, 1590, &wide, &unused, NULL, NULL);
  g_assert_cmpint (wide, >, narrow + 100);
  g_assert_cmpint (wide, <=, 1080 - 180);
  g_object_unref (grid);
}

typedef struct
{
  BmsCellGrid *grid;
  guint        polls;
} Details;

static void
count_poll (Details *d)
{
  d->polls++;
}

static gboolean
polled_twice (gpointer data)
{
  return ((Details *) data)->polls >= 2;
}

static GtkWidget *
find_type (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_type (c, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_live_details (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *page = bms_monitor_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  BmsDevice *device = bms_connection_get_device (connection);
  Details d = { BMS_CELL_GRID (find_type (page, BMS_TYPE_CELL_GRID)), 0 };
  g_autofree char *now = NULL;
  gulong id;

  g_assert_nonnull (d.grid);
  /* The tiles are bare numbers: the header gives their unit. */
  g_assert_true (g_str_has_suffix (
      gtk_label_get_label (g_object_get_data (G_OBJECT (page), "cell-count-label")), " · in V"));
  g_assert_true (gtk_widget_get_visible (find_type (page, BMS_TYPE_CELL_CHART)));
  bms_cell_grid_set_selected (d.grid, 4);
  /* After polls, the details are those of the tile now. */
  id = g_signal_connect_swapped (device, "updated", G_CALLBACK (count_poll), &d);
  g_assert_true (page_test_wait (polled_twice, &d, 20));
  g_signal_handler_disconnect (device, id);
  now = bms_cell_grid_describe_cell (d.grid, 4);
  g_assert_nonnull (g_object_get_data (G_OBJECT (page), "selected-label"));
  g_assert_cmpstr (gtk_label_get_label (g_object_get_data (G_OBJECT (page), "selected-label")), ==,
                   now);
  page_test_close (window, g_steal_pointer (&connection));
}

/* Snapshot and measure calls of every cell grid: what a poll costs the
 * renderer and the layout. */
static guint grid_snapshots, grid_measures;
static void (*real_snapshot) (GtkWidget *, GtkSnapshot *);
static void (*real_measure) (GtkWidget *, GtkOrientation, int, int *, int *, int *, int *);

static void
counting_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  grid_snapshots++;
  real_snapshot (widget, snapshot);
}

static void
counting_measure (GtkWidget *widget, GtkOrientation o, int for_size, int *min, int *nat,
                  int *min_base, int *nat_base)
{
  grid_measures++;
  real_measure (widget, o, for_size, min, nat, min_base, nat_base);
}

static gboolean
grid_drawn (gpointer data)
{
  return grid_snapshots > 0;
}

/* Lets a few frames go by (the frame clock runs at most every ~16 ms). */
static void
settle (void)
{
  page_test_spin (200);
}

/* Until the grid has not been drawn for a while: the window's first frames,
 * its activation (backdrop) and the like are over. */
static void
settle_quiet (void)
{
  gint64 end = page_test_deadline (20);
  guint before;

  do
    {
      before = grid_snapshots;
      page_test_spin (500);
    }
  while (grid_snapshots != before && g_get_monotonic_time () < end);
}

/* 16 modules of 16 cells, as a master board reports them, polled with
 * unchanged values: no frame and no layout at all; one cell that moves draws
 * its tile only. */
static void
test_grid_redraws_changed_tile (void)
{
  GtkWidgetClass *klass = g_type_class_ref (BMS_TYPE_CELL_GRID);
  GtkWidget *window = gtk_window_new ();
  GtkWidget *grid = bms_cell_grid_new ();
  BmsCellGrid *g = BMS_CELL_GRID (grid);
  guint16 mv[256];
  guint sizes[16];
  guint64 balancing[4] = { 0, 1, 0, 0 };
  guint drawn;

  real_snapshot = klass->snapshot;
  real_measure = klass->measure;
  klass->snapshot = counting_snapshot;
  klass->measure = counting_measure;
  for (guint i = 0; i < 256; i++)
    mv[i] = 3300 + i % 50;
  for (guint m = 0; m < 16; m++)
    sizes[m] = 16;
  bms_cell_grid_set_cells (g, mv, 256, sizes, 16, balancing);
  gtk_window_set_child (GTK_WINDOW (window), grid);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 800);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (page_test_wait (grid_drawn, NULL, 10));
  settle_quiet ();
  g_assert_cmpuint (bms_cell_grid_get_n_tiles_drawn (g), >=, 256);

  /* Other tests' windows share the display in a parallel run: one taking
   * the focus redraws this window once (backdrop), whatever the grid does.
   * So up to three rounds of five polls; the old grid drew on every poll,
   * so no round was ever quiet. */
  for (guint round = 0; round < 3; round++)
    {
      grid_snapshots = grid_measures = 0;
      drawn = bms_cell_grid_get_n_tiles_drawn (g);
      for (guint poll = 0; poll < 5; poll++)
        {
          bms_cell_grid_set_cells (g, mv, 256, sizes, 16, balancing);
          settle ();
        }
      if (grid_snapshots == 0)
        break;
      settle_quiet ();
    }
  g_assert_cmpuint (grid_snapshots, ==, 0);
  g_assert_cmpuint (grid_measures, ==, 0);
  g_assert_cmpuint (bms_cell_grid_get_n_tiles_drawn (g), ==, drawn);

  /* Cell 100 (neither the lowest nor the highest) moves by a millivolt. */
  mv[100]++;
  bms_cell_grid_set_cells (g, mv, 256, sizes, 16, balancing);
  settle_quiet ();
  g_assert_cmpuint (grid_snapshots, >=, 1);
  g_assert_cmpuint (grid_measures, ==, 0);
  g_assert_cmpuint (bms_cell_grid_get_n_tiles_drawn (g), ==, drawn + 1);

  klass->snapshot = real_snapshot;
  klass->measure = real_measure;
  gtk_window_destroy (GTK_WINDOW (window));
  g_type_class_unref (klass);
}

int
main (int argc, char **argv)
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/monitor-charts/cell-chart", test_cell_chart);
  g_test_add_func ("/monitor-charts/pack-trend", test_pack_trend);
  g_test_add_func ("/monitor-charts/live-details", test_live_details);
  g_test_add_func ("/monitor-charts/grid-grows", test_grid_grows);
  g_test_add_func ("/monitor-charts/grid-redraws-changed-tile", test_grid_redraws_changed_tile);
  return g_test_run ();
}
