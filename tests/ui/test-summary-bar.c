/* test-summary-bar.c — the main window's header: the figures with the same
 * decimals as the board sends, the manufacture date as month and year, the
 * firmware version without its padding. */
#include "page-test-util.h"
#include "bms-format.h"
#include "bms-summary-bar.h"
#include "bms-connection.h"
#include "bms-mqtt-source.h"

/* Pack voltage and current two decimals, power in W or kW with two; no
 * minus sign on a figure that rounds to zero. */
static void
test_figures (void)
{
  const struct { double value; const char *current, *power; } cases[] = {
    { 0, "0.00 A", "0 W" },
    { -0.004, "0.00 A", "0 W" },
    { -0.3, "−0.30 A", "0 W" },
    { 12.345, "12.35 A", "12 W" },
    { -5, "−5.00 A", "−5 W" },
    { 523.4, "523.40 A", "523 W" },
    { 999.6, "999.60 A", "1.00 kW" },
    { -42318, "−42318.00 A", "−42.32 kW" },
  };
  gboolean summed = TRUE;
  g_autofree char *board = bms_format_pack_voltage (52.8, 3.3, 16, &summed);
  g_autofree char *board_sum_lower = NULL;
  g_autofree char *stuck = NULL;

  g_assert_cmpstr (board, ==, "52.80 V");
  g_assert_false (summed);
  /* At 655.35 V with cells adding up to no more: the board's figure. */
  board_sum_lower = bms_format_pack_voltage (655.35, 3.2, 200, &summed);
  g_assert_cmpstr (board_sum_lower, ==, "655.35 V");
  g_assert_false (summed);
  stuck = bms_format_pack_voltage (655.35, 3.306, 256, &summed);
  g_assert_cmpstr (stuck, ==, "846.34 V");
  g_assert_true (summed);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *current = bms_format_current (cases[i].value);
      g_autofree char *power = bms_format_power (cases[i].value);

      g_assert_cmpstr (current, ==, cases[i].current);
      g_assert_cmpstr (power, ==, cases[i].power);
    }
}

static const char *
child_label (GtkWidget  *bar,
             const char *name)
{
  GObject *label = gtk_widget_get_template_child (bar, BMS_TYPE_SUMMARY_BAR, name);

  g_assert_true (GTK_IS_LABEL (label));
  return gtk_label_get_label (GTK_LABEL (label));
}

static void
set_text (BmsSnapshot *s,
          guint8       id,
          const char  *text)
{
  bms_snapshot_set_bytes (s, id, (const guint8 *) text, strlen (text));
}

/* The board's identity as a person reads it: 0xB5 "2601" is January 2026,
 * 0xB7 without the underscores it is padded with; a date that is no month
 * stays as it came. */
static void
test_identity (void)
{
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
  g_autoptr (BmsSnapshot) odd = bms_snapshot_new ();
  g_autoptr (BmsDevice) device = bms_device_new (1);
  GtkWidget *bar;

  set_text (s, 0xB5, "2601");
  set_text (s, BMS_ID_SOFTWARE_VERSION, "H6.X__S6.1.3S__");
  bms_device_update (device, s);
  bar = g_object_ref_sink (g_object_new (BMS_TYPE_SUMMARY_BAR, "device", device, NULL));
  g_assert_cmpstr (child_label (bar, "date_label"), ==, "January 2026");
  g_assert_cmpstr (child_label (bar, "software_label"), ==, "H6.X__S6.1.3S");

  set_text (odd, 0xB5, "2613");
  set_text (odd, BMS_ID_SOFTWARE_VERSION, "PWSIM_S1.0.0___");
  bms_device_update (device, odd);
  g_assert_cmpstr (child_label (bar, "date_label"), ==, "2613");
  g_assert_cmpstr (child_label (bar, "software_label"), ==, "PWSIM_S1.0.0");
  g_object_unref (bar);
}

/* A board watched through a broker cannot be unlocked: the header says
 * "Read-only" with the reason, and its Unlock button is not offered. No
 * broker is needed: the reason holds from the moment the watch starts. */
static void
test_read_only (void)
{
  g_autoptr (BmsConnection) connection = bms_connection_new ();
  g_autoptr (BmsMqttSource) source = bms_mqtt_source_new ("127.0.0.1", 1, "packwatch/CAB-A1");
  GtkWidget *bar = g_object_ref_sink (g_object_new (BMS_TYPE_SUMMARY_BAR, NULL));
  GObject *button;

  bms_summary_bar_set_connection (BMS_SUMMARY_BAR (bar), connection);
  button = gtk_widget_get_template_child (bar, BMS_TYPE_SUMMARY_BAR, "lock_button");
  g_assert_cmpstr (child_label (bar, "lock_label"), ==, "Locked");
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (button)));

  bms_connection_watch_mqtt (connection, source);
  g_assert_cmpstr (child_label (bar, "lock_label"), ==, "Read-only");
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (button)));
  g_assert_nonnull (gtk_widget_get_tooltip_text (GTK_WIDGET (button)));

  bms_connection_disconnect (connection);
  g_assert_cmpstr (child_label (bar, "lock_label"), ==, "Locked");
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (button)));
  g_object_unref (bar);
}

int
main (int   argc,
      char *argv[])
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/ui/summary-bar/figures", test_figures);
  g_test_add_func ("/ui/summary-bar/identity", test_identity);
  g_test_add_func ("/ui/summary-bar/read-only", test_read_only);
  return g_test_run ();
}
