/* test-param-page.c — the Param page on the simulator: the search filters
 * rows by label, field name and unit and hides empty groups; level-2
 * protections sit right below their level 1; the range shown is the one
 * packwatch-cli fields shows (the vendor sheet's where it has one); the jump
 * list scrolls to a group. */
#include "page-test-util.h"
#include "bms-param-page.h"
#include "bms-param-set.h"

static void
search (GtkWidget *page, const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (g_object_get_data (G_OBJECT (page), "search-entry")), text);
  /* GtkSearchEntry reports a change after a short pause. */
  page_test_spin (400);
}

static guint
count_visible (GtkWidget *page)
{
  guint n_fields, shown = 0;
  const BmsFieldInfo *fields = bms_field_all (&n_fields);

  for (guint i = 0; i < n_fields; i++)
    {
      GtkWidget *row = bms_param_page_get_row (BMS_PARAM_PAGE (page), fields[i].id);

      shown += row != NULL && gtk_widget_get_visible (row);
    }
  return shown;
}

static void
test_search (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *page = bms_param_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  GtkWidget *ovp = bms_param_page_get_row (BMS_PARAM_PAGE (page), BMS_ID_CELL_OVP);
  GtkWidget *ovp2 = bms_param_page_get_row (BMS_PARAM_PAGE (page), BMS_ID_CELL_OVP2);
  GtkWidget *uvp = bms_param_page_get_row (BMS_PARAM_PAGE (page), BMS_ID_CELL_UVP);
  GtkWidget *uvp2 = bms_param_page_get_row (BMS_PARAM_PAGE (page), BMS_ID_CELL_UVP2);
  guint all = count_visible (page);
  guint n_fields, in_mv = 0;
  const BmsFieldInfo *fields = bms_field_all (&n_fields);

  g_assert_cmpuint (all, >, 20);
  /* Level 2 right below level 1. */
  g_assert_true (gtk_widget_get_next_sibling (ovp) == ovp2);
  g_assert_true (gtk_widget_get_next_sibling (uvp) == uvp2);

  /* By unit: exactly the rows in mV. */
  for (guint i = 0; i < n_fields; i++)
    {
      GtkWidget *row = bms_param_page_get_row (BMS_PARAM_PAGE (page), fields[i].id);

      in_mv += row != NULL && gtk_widget_get_visible (row) && g_str_equal (fields[i].unit, "mV");
    }
  search (page, "mV");
  g_assert_cmpuint (count_visible (page), ==, in_mv);
  g_assert_true (gtk_widget_get_visible (ovp));

  /* By field name and by label, case-insensitive. */
  search (page, "cell_ovp2");
  g_assert_cmpuint (count_visible (page), ==, 1);
  g_assert_true (gtk_widget_get_visible (ovp2));
  search (page, "LEVEL 2");
  g_assert_true (gtk_widget_get_visible (ovp2) && gtk_widget_get_visible (uvp2));
  g_assert_false (gtk_widget_get_visible (ovp));
  /* A group without a match is hidden with its rows. */
  g_assert_false (gtk_widget_get_visible (gtk_widget_get_ancestor (
      bms_param_page_get_row (BMS_PARAM_PAGE (page), 0x98 /* discharge over-current delay */),
      ADW_TYPE_PREFERENCES_GROUP)));

  search (page, "no such parameter");
  g_assert_cmpuint (count_visible (page), ==, 0);
  search (page, "");
  g_assert_cmpuint (count_visible (page), ==, all);
  page_test_close (window, g_steal_pointer (&connection));
}

/* The subtitle gives the range packwatch-cli fields shows. */
static void
test_range (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *page = bms_param_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  GtkWidget *ovp = bms_param_page_get_row (BMS_PARAM_PAGE (page), BMS_ID_CELL_OVP);
  const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (ovp));
  gint64 lo, hi;

  g_assert_true (bms_param_get_range (bms_field_lookup (BMS_ID_CELL_OVP), &lo, &hi));
  g_assert_cmpint (lo, ==, 1500);
  g_assert_nonnull (strstr (subtitle, "1500 mV"));
  g_assert_nonnull (strstr (subtitle, "4500 mV"));
  page_test_close (window, g_steal_pointer (&connection));
}

static void
test_jump (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *page = bms_param_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  GtkWidget *scroller = gtk_widget_get_ancestor (
      bms_param_page_get_row (BMS_PARAM_PAGE (page), BMS_ID_CELL_OVP), GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller));

  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), ==, 0);
  g_assert_true (gtk_widget_activate_action (page, "param.jump", "i", 4));
  page_test_spin (100);
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), >, 0);
  page_test_close (window, g_steal_pointer (&connection));
}

int
main (int argc, char **argv)
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/param-page/search", test_search);
  g_test_add_func ("/param-page/range", test_range);
  g_test_add_func ("/param-page/jump", test_jump);
  return g_test_run ();
}
