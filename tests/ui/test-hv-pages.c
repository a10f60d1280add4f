/* test-hv-pages.c — the Param and Normal pages on a 256-cell master
 * ("sim://master", ~850 V): the pack protections in force (0xEE/0xEF) come
 * first and the 150 V public pair they replace is marked superseded; the
 * cell count offered fits the master (0xE7, 5…256), not one board's 3…32.
 * On a 16-cell board nothing is superseded. The summary bar shows the
 * board's 0xED, not a guess from the cells. */
#include "page-test-util.h"
#include "bms-normal-page.h"
#include "bms-param-page.h"
#include "bms-summary-bar.h"

static BmsConnection *
connect_to (const char *uri)
{
  BmsConnection *connection = bms_connection_new ();

  bms_connection_connect (connection, uri, 9600, 1);
  g_assert_true (page_test_wait (page_test_has_snapshot, connection, 20));
  return connection;
}

/* The visible action row titled title under widget, or NULL. */
static AdwActionRow *
find_row (GtkWidget  *widget,
          const char *title)
{
  if (ADW_IS_ACTION_ROW (widget)
      && g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0
      && gtk_widget_get_visible (widget))
    return ADW_ACTION_ROW (widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      AdwActionRow *row = find_row (c, title);
      if (row != NULL)
        return row;
    }
  return NULL;
}

static AdwActionRow *
field_row (GtkWidget *page,
           guint8     id)
{
  return find_row (page, bms_field_lookup (id)->label);
}

static void
assert_superseded (GtkWidget *page,
                   guint8     public_id,
                   guint8     hv_id)
{
  AdwActionRow *public_row = field_row (page, public_id);
  AdwActionRow *hv_row = field_row (page, hv_id);
  const char *subtitle;

  g_assert_nonnull (public_row);
  g_assert_nonnull (hv_row);
  /* In force first, then the field it replaces: dimmed and saying so. */
  g_assert_cmpint (gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (hv_row)), <,
                   gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (public_row)));
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (hv_row)));
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (public_row)));
  subtitle = adw_action_row_get_subtitle (public_row);
  g_assert_nonnull (strstr (subtitle, "Superseded by"));
  g_assert_nonnull (strstr (subtitle, bms_field_lookup (hv_id)->label));
}

static void
test_param_master (void)
{
  BmsConnection *connection = connect_to ("sim://master");
  GtkWidget *page = bms_param_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  const BmsSnapshot *s = bms_device_get_snapshot (bms_connection_get_device (connection));

  /* The board as the issue found it: both public fields at their ceiling. */
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_PACK_OVP), ==, 15000);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_PACK_UVP), ==, 15000);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_PACK_OVP_HV), >, 15000);
  assert_superseded (page, BMS_ID_PACK_OVP, BMS_ID_PACK_OVP_HV);
  assert_superseded (page, BMS_ID_PACK_UVP, BMS_ID_PACK_UVP_HV);
  page_test_save_png (window, "param-page-master.png");
  page_test_close (window, connection);
}

/* A 16-cell pack (0xEE/0xEF at 0, "not used"): 0x8E/0x8F are the limits in
 * force, editable, with their range. */
static void
test_param_16 (void)
{
  BmsConnection *connection = connect_to ("sim://");
  GtkWidget *page = bms_param_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  AdwActionRow *ovp = field_row (page, BMS_ID_PACK_OVP);

  g_assert_nonnull (ovp);
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (ovp)));
  g_assert_null (strstr (adw_action_row_get_subtitle (ovp), "Superseded"));
  page_test_close (window, connection);
}

static void
test_normal_cell_count (void)
{
  BmsConnection *connection = connect_to ("sim://master");
  GtkWidget *page = bms_normal_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  AdwActionRow *pack = field_row (page, BMS_ID_PACK_CELL_COUNT);

  /* The master's whole pack, 5…256; not one board's 3…32. */
  g_assert_null (field_row (page, 0xA9));
  g_assert_nonnull (pack);
  g_assert_cmpstr (adw_action_row_get_subtitle (pack), ==, "5 … 256");
  page_test_save_png (window, "normal-page-master.png");
  page_test_close (window, connection);
}

/* The summary bar's pack voltage label ("big-figure" ending in " V"). */
static GtkLabel *
find_voltage_label (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_has_css_class (widget, "big-figure")
      && g_str_has_suffix (gtk_label_get_label (GTK_LABEL (widget)), " V"))
    return GTK_LABEL (widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkLabel *label = find_voltage_label (c);
      if (label != NULL)
        return label;
    }
  return NULL;
}

static char *
summary_voltage (gboolean with_0xed, char **caption, char **tooltip)
{
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
  g_autoptr (BmsDevice) device = bms_device_new (1);
  GtkWidget *bar;
  guint16 cells[256];
  char *text;

  for (guint i = 0; i < 256; i++)
    cells[i] = 3306;                             /* 846.336 V in all */
  bms_snapshot_set_cells (s, cells, 256);
  bms_snapshot_set_raw (s, BMS_ID_CELL_COUNT, 256);
  bms_snapshot_set_raw (s, BMS_ID_PACK_VOLTAGE, 65535); /* 0x83's ceiling */
  if (with_0xed)
    bms_snapshot_set_raw (s, BMS_ID_PACK_VOLTAGE_HV, 84616);
  bms_device_update (device, s);
  bar = g_object_ref_sink (g_object_new (BMS_TYPE_SUMMARY_BAR, "device", device, NULL));
  text = g_strdup (gtk_label_get_label (find_voltage_label (bar)));
  *caption = g_strdup (gtk_label_get_label (GTK_LABEL (
      gtk_widget_get_template_child (bar, BMS_TYPE_SUMMARY_BAR, "voltage_caption"))));
  *tooltip = g_strdup (gtk_widget_get_tooltip_text (
      gtk_widget_get_parent (GTK_WIDGET (find_voltage_label (bar)))));
  g_object_unref (bar);
  return text;
}

/* The summary bar shows the board's pack voltage (0xED) when it sends one;
 * the sum of the cells only stands in for a 0x83 stuck at its ceiling on a
 * board without 0xED, with two decimals like the board's, and then the
 * caption and a tooltip say so. */
static void
test_summary_voltage (void)
{
  g_autofree char *hv_caption = NULL, *hv_tooltip = NULL;
  g_autofree char *sum_caption = NULL, *sum_tooltip = NULL;
  g_autofree char *hv = summary_voltage (TRUE, &hv_caption, &hv_tooltip);
  g_autofree char *saturated = summary_voltage (FALSE, &sum_caption, &sum_tooltip);

  g_assert_cmpstr (hv, ==, "846.16 V");
  g_assert_cmpstr (hv_caption, ==, "Pack voltage");
  g_assert_null (hv_tooltip);
  g_assert_cmpstr (saturated, ==, "846.34 V");
  g_assert_cmpstr (sum_caption, ==, "Sum of cells");
  g_assert_cmpstr (sum_tooltip, ==,
                   "Sum of the cell voltages: the board's pack voltage field stops at 655.35 V");
}

int
main (int   argc,
      char *argv[])
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/ui/hv-pages/param-master", test_param_master);
  g_test_add_func ("/ui/hv-pages/param-16", test_param_16);
  g_test_add_func ("/ui/hv-pages/normal-cell-count", test_normal_cell_count);
  g_test_add_func ("/ui/hv-pages/summary-voltage", test_summary_voltage);
  return g_test_run ();
}
