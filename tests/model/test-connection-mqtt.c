/* BmsConnection watching a board through a real broker (mosquitto, started
 * here): the connection shows the published board (state, device, alarm
 * monitor, the broker and topic in its URI and status), is read-only
 * (not "connected"; a change set, field writes, unlock and a firmware
 * update are refused with the reason), records nothing in the history,
 * says when serve reports the board offline and when the broker is away,
 * and Disconnect ends it. Skipped without mosquitto. */
#include <gio/gio.h>

#include "bms-connection.h"
#include "bms-field.h"
#include "mqtt-broker-util.h"

#define TOPIC "packwatch/CAB-C1"
#define READ_ONLY "Watching through an MQTT broker: read-only"

static BmsMqttSource *
source_for (Broker *b)
{
  BmsMqttSource *source = bms_mqtt_source_new ("127.0.0.1", b->port, TOPIC);

  bms_mqtt_source_set_credentials (source, BROKER_USER, BROKER_PASSWORD);
  return source;
}

static BmsConnectionState wanted;

static gboolean
in_state (gpointer connection)
{
  return bms_connection_get_state (connection) == wanted;
}

static gboolean
wait_state (BmsConnection *connection, BmsConnectionState state, guint seconds)
{
  wanted = state;
  return wait_until (in_state, connection, seconds);
}

static gboolean
has_history (gpointer connection)
{
  return bms_connection_get_history (connection) != NULL;
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

/* Every road to the board answers with the reason, at once. */
static void
assert_writes_refused (BmsConnection *connection)
{
  g_autoptr (BmsParamSet) current = bms_param_set_new ();
  g_autoptr (BmsChangeSet) set = bms_change_set_new (current);
  g_autoptr (GPtrArray) writes = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < 4; i++)
    {
      g_autoptr (GAsyncResult) result = NULL;
      gboolean ok;

      if (i == 0)
        bms_connection_apply_async (connection, set, NULL, NULL, answered, &result);
      else if (i == 1)
        bms_connection_write_fields_async (connection, writes, NULL, NULL, answered, &result);
      else if (i == 2)
        bms_connection_unlock_async (connection, "123456", NULL, answered, &result);
      else
        bms_connection_flash_async (connection, "/nonexistent.bin", FALSE, i == 3, NULL, NULL,
                                    answered, &result);
      g_assert_true (wait_until (is_set, &result, 2));
      if (i == 0)
        ok = bms_connection_apply_finish (connection, result, &error);
      else if (i == 1)
        ok = bms_connection_write_fields_finish (connection, result, &error);
      else if (i == 2)
        ok = bms_connection_unlock_finish (connection, result, &error);
      else
        ok = bms_connection_flash_finish (connection, result, NULL, NULL, &error);
      g_assert_false (ok);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_READ_ONLY);
      g_assert_cmpstr (error->message, ==, READ_ONLY);
      g_clear_error (&error);
    }
  g_assert_true (bms_connection_get_locked (connection));
}

static void
test_watch (void)
{
  Broker broker = { 0 };
  g_autoptr (BmsSnapshot) snapshot = NULL;
  g_autofree char *hex = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *db = NULL;
  g_autoptr (BmsConnection) connection = bms_connection_new ();
  g_autoptr (BmsMqttSource) source = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  BmsDevice *device;

  if (!mosquitto)
    {
      g_test_skip ("mosquitto is not installed");
      return;
    }
  broker_init (&broker);
  db = g_build_filename (broker.dir, "history.db", NULL);
  bms_connection_open_history (connection, db, 0);
  g_assert_true (wait_until (has_history, connection, 10));

  /* Nothing published yet: subscribed, waiting for serve. */
  source = source_for (&broker);
  bms_connection_watch_mqtt (connection, source);
  uri = g_strdup_printf ("mqtt://127.0.0.1:%u/" TOPIC, broker.port);
  g_assert_cmpstr (bms_connection_get_uri (connection), ==, uri);
  g_assert_cmpstr (bms_connection_get_read_only_reason (connection), ==, READ_ONLY);
  g_assert_false (bms_connection_get_connected (connection));
  g_assert_true (bms_connection_get_device (connection) == bms_mqtt_source_get_device (source));
  g_assert_true (bms_connection_get_alarm_monitor (connection)
                 == bms_mqtt_source_get_alarm_monitor (source));
  g_assert_cmpint (bms_connection_get_state (connection), ==, BMS_CONNECTION_CONNECTING);
  g_assert_nonnull (strstr (bms_connection_get_error_message (connection), "127.0.0.1"));

  hex = frame_hex (&snapshot, 0);
  broker_publish (&broker, TOPIC "/frame", hex);
  broker_publish (&broker, TOPIC "/availability", "online");
  g_assert_true (wait_state (connection, BMS_CONNECTION_WATCHING, 10));
  g_assert_null (bms_connection_get_error_message (connection));
  g_assert_cmpuint (bms_connection_get_poll_count (connection), >=, 1);
  g_assert_cmpint (bms_connection_get_connected_since (connection), >, 0);
  device = bms_connection_get_device (connection);
  g_assert_cmpfloat_with_epsilon (bms_device_get_pack_voltage (device),
                                  bms_snapshot_get_pack_voltage (snapshot), 1e-9);
  g_assert_cmpuint (bms_device_get_cell_count (device), ==, 14);
  g_assert_false (bms_connection_get_connected (connection));
  assert_writes_refused (connection);

  /* serve says the board stopped answering: the connection says so. */
  broker_publish (&broker, TOPIC "/availability", "offline");
  g_assert_true (wait_state (connection, BMS_CONNECTION_NO_REPLY, 10));
  g_assert_nonnull (strstr (bms_connection_get_error_message (connection), TOPIC));
  g_assert_nonnull (bms_alarm_monitor_lookup (bms_connection_get_alarm_monitor (connection),
                                              "comm_lost"));
  broker_publish (&broker, TOPIC "/availability", "online");
  g_assert_true (wait_state (connection, BMS_CONNECTION_WATCHING, 10));

  /* The broker goes: connecting again, the reason names the broker. */
  broker_kill (&broker);
  g_assert_true (wait_state (connection, BMS_CONNECTION_CONNECTING, 10));
  g_assert_nonnull (strstr (bms_connection_get_error_message (connection), "retrying"));
  g_assert_false (bms_device_get_online (device));

  /* Nothing was recorded: serve records the board where it polls it. */
  devices = bms_history_list_devices (bms_connection_get_history (connection), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 0);
  g_assert_cmpint (bms_connection_get_history_device_id (connection), ==, 0);

  bms_connection_disconnect (connection);
  g_assert_cmpint (bms_connection_get_state (connection), ==, BMS_CONNECTION_DISCONNECTED);
  g_assert_null (bms_connection_get_read_only_reason (connection));
  g_assert_cmpint (bms_mqtt_source_get_state (source), ==, BMS_MQTT_SOURCE_STOPPED);
  g_assert_cmpint (bms_connection_get_connected_since (connection), ==, 0);
  g_clear_object (&connection);
  broker_clear (&broker);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  broker_find_programs ();
  g_test_add_func ("/connection-mqtt/watch", test_watch);
  return g_test_run ();
}
