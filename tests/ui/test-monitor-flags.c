/* test-monitor-flags.c — the Monitor page's status flags for the vendor's
 * own example frame (status 0x0007, a healthy board with bit 3 clear, as
 * every real board sends it): nothing painted red, no wire fault. A set
 * bit 3 (the field's "battery dropped") is shown neutrally. */
#include "page-test-util.h"
#include "bms-monitor-page.h"
#include "../model/device-test-util.h"

typedef struct {
  guint n_error;
  gboolean has_bit3;
  gboolean bit3_info;
} Flags;

static void
collect (GtkWidget *widget,
         Flags     *flags)
{
  if (gtk_widget_has_css_class (widget, "status-flag") && gtk_widget_get_visible (widget)
      && gtk_widget_get_visible (gtk_widget_get_parent (widget)))
    {
      const char *title = gtk_label_get_label (GTK_LABEL (gtk_widget_get_first_child (widget)));

      g_test_message ("flag: %s", title);
      if (gtk_widget_has_css_class (widget, "flag-error"))
        flags->n_error++;
      if (g_str_equal (title, "Status bit 3"))
        {
          flags->has_bit3 = TRUE;
          flags->bit3_info = gtk_widget_has_css_class (widget, "flag-info");
        }
      g_assert_cmpstr (title, !=, "Cell wires");
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    collect (c, flags);
}

static Flags
flags_for_status (guint status)
{
  g_autoptr (BmsSnapshot) s = device_test_load_14s ();
  g_autoptr (BmsDevice) device = bms_device_new (1);
  GtkWidget *page = g_object_ref_sink (bms_monitor_page_new (NULL));
  Flags flags = { 0 };

  bms_page_set_device (BMS_PAGE (page), device);
  bms_snapshot_set_raw (s, BMS_ID_STATUS, status);
  bms_device_update (device, s);
  collect (page, &flags);
  bms_page_set_device (BMS_PAGE (page), NULL);
  g_object_unref (page);
  return flags;
}

static void
test_vendor_example (void)
{
  Flags flags = flags_for_status (0x0007);

  g_assert_cmpuint (flags.n_error, ==, 0);
  g_assert_false (flags.has_bit3);
}

static void
test_bit3_set (void)
{
  Flags flags = flags_for_status (0x000F);

  g_assert_cmpuint (flags.n_error, ==, 0);
  g_assert_true (flags.has_bit3);
  g_assert_true (flags.bit3_info);
}

int
main (int   argc,
      char *argv[])
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/ui/monitor-flags/vendor-example", test_vendor_example);
  g_test_add_func ("/ui/monitor-flags/bit3-set", test_bit3_set);
  return g_test_run ();
}
