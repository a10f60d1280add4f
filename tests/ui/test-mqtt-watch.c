/* The window watching a board through a real MQTT broker (mosquitto,
 * started here on a free port): "MQTT broker…" in the connection bar, its
 * dialog filled in and Watch pressed, the published frame of the vendor's
 * 14-cell board shows on Monitor, the bar says it watches, the pages that
 * write show why they cannot, a write is refused with that reason, and the
 * dialog remembers everything but the password. Saves a picture of each
 * (build/tests/ui/screenshots/mqtt-watch-*.png). Skipped without
 * mosquitto. */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-application.h"
#include "bms-connection-bar.h"
#include "bms-mqtt-dialog.h"
#include "bms-window.h"
#include "ui-test-util.h"
#include "../model/mqtt-broker-util.h"

#define TOPIC "packwatch/CAB-U1"
#define READ_ONLY "Watching through an MQTT broker: read-only"

typedef struct
{
  Broker *broker;
  gboolean done;
} Run;

static GtkWidget *
find_label (GtkWidget *root, const char *text)
{
  if (GTK_IS_LABEL (root) && gtk_widget_get_mapped (root)
      && strstr (gtk_label_get_label (GTK_LABEL (root)), text) != NULL)
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_label (child, text);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_watching (gpointer connection)
{
  return bms_connection_get_state (connection) == BMS_CONNECTION_WATCHING;
}

static gboolean
shows_max_cell (gpointer window)
{
  return find_label (window, "3.835") != NULL || find_label (window, "3835") != NULL;
}

static GtkWidget *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();  /* not ours */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) window = g_list_model_get_item (toplevels, i);
      if (BMS_IS_MQTT_DIALOG (window))
        return GTK_WIDGET (window);
    }
  return NULL;
}

static gboolean
is_active (gpointer window)
{
  return gtk_window_is_active (window);
}

static gboolean
shows_read_only (gpointer window)
{
  return find_label (window, READ_ONLY) != NULL;
}

static gboolean
alarm_page_lists_comm_lost (gpointer window)
{
  return find_label (bms_window_get_page_widget (window, "alarm"), "No reply from the board")
         != NULL;
}

static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (5000), TRUE);
}

static void
save (BmsWindow *window, const char *name)
{
  g_autofree char *path = ui_test_screenshot_path (name);
  g_autoptr (GError) error = NULL;

  spin (500);
  g_assert_true (bms_window_save_png (window, path, &error));
  g_assert_no_error (error);
  g_test_message ("picture: %s", path);
}

static void
answered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
is_set (gpointer slot)
{
  return *(gpointer *) slot != NULL;
}

static void
fill_dialog (GtkWidget *dialog, const char *name, const char *text)
{
  GObject *row = gtk_widget_get_template_child (dialog, BMS_TYPE_MQTT_DIALOG, name);

  gtk_editable_set_text (GTK_EDITABLE (row), text);
}

static void
activated (GApplication *app, gpointer user_data)
{
  Run *run = user_data;
  BmsWindow *window = BMS_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  BmsConnection *connection = bms_window_get_connection (window);
  BmsConnectionBar *bar = BMS_CONNECTION_BAR (
      gtk_widget_get_template_child (GTK_WIDGET (window), BMS_TYPE_WINDOW, "connection_bar"));
  GtkRevealer *banner = GTK_REVEALER (
      gtk_widget_get_template_child (GTK_WIDGET (window), BMS_TYPE_WINDOW, "read_only_revealer"));
  g_autoptr (GSettings) settings = g_settings_new ("io.github.packwatch.Packwatch");
  g_autoptr (GPtrArray) writes = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *port = g_strdup_printf ("%u", run->broker->port);
  g_autofree char *device = NULL;
  GtkWidget *dialog;

  gtk_window_set_default_size (GTK_WINDOW (window), 1366, 768);
  /* A wrong device id is refused in the dialog, which stays. */
  dialog = bms_connection_bar_ask_mqtt (bar);
  gtk_window_present (GTK_WINDOW (dialog));
  fill_dialog (dialog, "host_row", "127.0.0.1");
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (gtk_widget_get_template_child (
                                 dialog, BMS_TYPE_MQTT_DIALOG, "port_spin")),
                             run->broker->port);
  fill_dialog (dialog, "prefix_row", "packwatch");
  fill_dialog (dialog, "device_row", "CAB-U1/#");
  fill_dialog (dialog, "username_row", BROKER_USER);
  fill_dialog (dialog, "password_row", BROKER_PASSWORD);
  g_assert_false (bms_mqtt_dialog_watch (BMS_MQTT_DIALOG (dialog)));
  g_assert_cmpint (bms_connection_get_state (connection), ==, BMS_CONNECTION_DISCONNECTED);
  spin (300);
  save (BMS_WINDOW (window), "mqtt-watch-dialog");
  {
    g_autofree char *path = ui_test_screenshot_path ("mqtt-watch-dialog-only");
    g_assert_true (bms_save_native_png (dialog, path, NULL));
  }
  g_assert_nonnull (find_label (dialog, "Device id"));

  /* Watch: the dialog goes, the board comes through the broker. */
  fill_dialog (dialog, "device_row", "CAB-U1");
  g_assert_true (bms_mqtt_dialog_watch (BMS_MQTT_DIALOG (dialog)));
  /* The window has the focus again, as after a click: an alarm then
   * sends no desktop notification (there is no notification service here). */
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (wait_until (is_active, window, 5));
  g_assert_cmpstr (bms_connection_get_read_only_reason (connection), ==, READ_ONLY);
  g_assert_true (wait_until (is_watching, connection, 10));
  g_assert_true (wait_until (shows_max_cell, window, 10));
  g_assert_nonnull (find_label (GTK_WIDGET (bar), "Watching"));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (banner)));
  save (window, "mqtt-watch-monitor");

  /* The settings keep the board, not the password. */
  device = g_settings_get_string (settings, "mqtt-device");
  g_assert_cmpstr (device, ==, "CAB-U1");
  g_assert_cmpuint (g_settings_get_uint (settings, "mqtt-port"), ==, run->broker->port);
  g_assert_null (g_settings_schema_source_lookup (g_settings_schema_source_get_default (),
                                                  "mqtt-password", TRUE));

  /* A page that writes says why it cannot; its writes are refused. */
  bms_window_show_page (window, "param");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (banner)));
  g_assert_true (wait_until (shows_read_only, window, 5));
  save (window, "mqtt-watch-param");
  bms_connection_write_fields_async (connection, writes, NULL, NULL, answered, &result);
  g_assert_true (wait_until (is_set, &result, 5));
  g_assert_false (bms_connection_write_fields_finish (connection, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_READ_ONLY);
  g_assert_cmpstr (error->message, ==, READ_ONLY);

  /* Alarm shows the published state too: serve says the board is offline. */
  bms_window_show_page (window, "alarm");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (banner)));
  broker_publish (run->broker, TOPIC "/availability", "offline");
  g_assert_true (wait_until (alarm_page_lists_comm_lost, window, 10));
  g_assert_null (find_label (GTK_WIDGET (window), READ_ONLY));
  g_assert_cmpstr (bms_window_get_page (window), ==, "alarm");
  g_assert_cmpint (bms_connection_get_state (connection), ==, BMS_CONNECTION_NO_REPLY);
  save (window, "mqtt-watch-alarm");

  /* While watching, the bar's choice is "MQTT broker…"; Disconnect ends it. */
  g_assert_nonnull (find_label (GTK_WIDGET (bar), "MQTT broker…"));
  bms_connection_bar_toggle (bar);
  g_assert_cmpint (bms_connection_get_state (connection), ==, BMS_CONNECTION_DISCONNECTED);
  g_assert_null (bms_connection_get_read_only_reason (connection));
  /* Connect with that choice asks again, filled from the settings. */
  bms_connection_bar_toggle (bar);
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (gtk_widget_get_template_child (
                       dialog, BMS_TYPE_MQTT_DIALOG, "device_row"))), ==, "CAB-U1");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (gtk_widget_get_template_child (
                       dialog, BMS_TYPE_MQTT_DIALOG, "password_row"))), ==, "");
  gtk_window_destroy (GTK_WINDOW (dialog));
  run->done = TRUE;
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_watch (void)
{
  Broker broker = { 0 };
  g_autoptr (BmsSnapshot) snapshot = NULL;
  g_autofree char *hex = NULL;
  Run run = { &broker, FALSE };
  const char *args[] = { "--page", "monitor", NULL };

  if (!mosquitto)
    {
      g_test_skip ("mosquitto is not installed");
      return;
    }
  broker_init (&broker);
  hex = frame_hex (&snapshot, 0);
  broker_publish (&broker, TOPIC "/frame", hex);
  broker_publish (&broker, TOPIC "/availability", "online");
  g_assert_cmpint (ui_test_run_app (args, G_CALLBACK (activated), &run), ==, 0);
  g_assert_true (run.done);
  broker_clear (&broker);
}

int
main (int argc, char *argv[])
{
  ui_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  ui_test_allow_missing_notifications ();
  broker_find_programs ();
  g_test_add_func ("/ui/mqtt-watch/window", test_watch);
  return g_test_run ();
}
