/* BmsMqttSource against a real broker (mosquitto, started here on
 * 127.0.0.1 at a free port, with a password): a frame published as
 * `packwatch-cli serve` publishes it updates the device with the numbers
 * of the reply and the alarm monitor derives its alarms; "offline" takes
 * the device offline; the broker killed and restarted is waited for and
 * subscribed to again; a wrong password is said and retried. Skipped
 * without mosquitto (./dev.sh test installs it). */
#include "bms-mqtt-source.h"
#include "mqtt-broker-util.h"

#define USER BROKER_USER
#define PASSWORD BROKER_PASSWORD
#define TOPIC "packwatch/CAB-T1"

static void
publish (Broker *b, const char *subtopic, const char *payload)
{
  g_autofree char *topic = g_strdup_printf ("%s/%s", TOPIC, subtopic);

  broker_publish (b, topic, payload);
}

static gboolean
is_connected (gpointer data)
{
  return bms_mqtt_source_get_state (data) == BMS_MQTT_SOURCE_CONNECTED;
}

static gboolean
is_online (gpointer data)
{
  return bms_device_get_online (bms_mqtt_source_get_device (data));
}

static gboolean
is_offline (gpointer data)
{
  return !is_online (data);
}

static gboolean
has_alarm (gpointer data)
{
  return g_list_model_get_n_items (G_LIST_MODEL (bms_mqtt_source_get_alarm_monitor (data))) > 0;
}

/* An alarm of the warning bits (0x8B), not "comm_lost". */
static gboolean
has_warning (gpointer data)
{
  GListModel *alarms = G_LIST_MODEL (bms_mqtt_source_get_alarm_monitor (data));

  for (guint i = 0; i < g_list_model_get_n_items (alarms); i++)
    {
      g_autoptr (BmsAlarm) alarm = g_list_model_get_item (alarms, i);
      if (bms_alarm_get_source_id (alarm) == BMS_ID_WARNINGS)
        return TRUE;
    }
  return FALSE;
}

static gboolean
says_waiting (gpointer data)
{
  const char *message = bms_mqtt_source_get_message (data);

  return bms_mqtt_source_get_state (data) == BMS_MQTT_SOURCE_CONNECTING && message
         && strstr (message, "retrying");
}

static void
test_device (void)
{
  Broker broker = { 0 };
  g_autoptr (BmsSnapshot) snapshot = NULL;
  g_autofree char *hex = NULL;
  g_autoptr (BmsMqttSource) source = NULL;
  BmsDevice *device;

  if (!mosquitto)
    {
      g_test_skip ("mosquitto is not installed");
      return;
    }
  broker_init (&broker);
  hex = frame_hex (&snapshot, 0);
  publish (&broker, "frame", hex);
  publish (&broker, "availability", "online");

  source = bms_mqtt_source_new ("127.0.0.1", broker.port, TOPIC);
  bms_mqtt_source_set_credentials (source, USER, PASSWORD);
  bms_mqtt_source_start (source);
  device = bms_mqtt_source_get_device (source);
  g_assert_true (wait_until (is_online, source, 10));
  g_assert_true (is_connected (source));
  g_assert_null (bms_mqtt_source_get_message (source));
  g_assert_cmpfloat_with_epsilon (bms_device_get_pack_voltage (device),
                                  bms_snapshot_get_pack_voltage (snapshot), 1e-9);
  g_assert_cmpfloat_with_epsilon (bms_device_get_current (device),
                                  bms_snapshot_get (snapshot, BMS_ID_CURRENT), 1e-9);
  g_assert_cmpuint (bms_device_get_soc (device), ==, 15);
  g_assert_cmpuint (bms_device_get_cell_count (device), ==, 14);
  g_assert_cmpuint (g_list_model_get_n_items (bms_device_get_cells (device)), ==, 14);
  g_assert_cmpfloat_with_epsilon (bms_device_get_max_cell_voltage (device), 3.835, 1e-9);
  g_assert_cmpstr (bms_device_get_device_id (device), ==, "Input Us");
  g_assert_false (has_alarm (source));

  /* The board stops answering: serve says so, the monitor too. */
  publish (&broker, "availability", "offline");
  g_assert_true (wait_until (is_offline, source, 10));
  g_assert_nonnull (bms_alarm_monitor_lookup (bms_mqtt_source_get_alarm_monitor (source),
                                              "comm_lost"));

  /* A warning bit in the next reply: the same alarms as a polled board. */
  g_clear_pointer (&hex, g_free);
  g_clear_pointer (&snapshot, bms_snapshot_free);
  hex = frame_hex (&snapshot, 1);
  publish (&broker, "frame", hex);
  g_assert_true (wait_until (has_warning, source, 10));
  g_assert_true (is_online (source));
  g_assert_null (bms_alarm_monitor_lookup (bms_mqtt_source_get_alarm_monitor (source),
                                           "comm_lost"));

  /* The broker goes and comes back (without its retained messages). */
  broker_kill (&broker);
  g_assert_true (wait_until (says_waiting, source, 10));
  g_assert_false (is_online (source));
  broker_start (&broker);
  g_assert_true (wait_until (is_connected, source, 15));
  publish (&broker, "frame", hex);
  g_assert_true (wait_until (is_online, source, 10));

  bms_mqtt_source_stop (source);
  g_assert_cmpint (bms_mqtt_source_get_state (source), ==, BMS_MQTT_SOURCE_STOPPED);
  g_assert_false (is_online (source));
  broker_clear (&broker);
}

static void
test_wrong_password (void)
{
  Broker broker = { 0 };
  g_autoptr (BmsMqttSource) source = NULL;

  if (!mosquitto)
    {
      g_test_skip ("mosquitto is not installed");
      return;
    }
  broker_init (&broker);
  source = bms_mqtt_source_new ("127.0.0.1", broker.port, TOPIC);
  bms_mqtt_source_set_credentials (source, USER, "wrong");
  bms_mqtt_source_start (source);
  g_assert_true (wait_until (says_waiting, source, 10));
  g_assert_nonnull (strstr (bms_mqtt_source_get_message (source), "not authorised"));
  bms_mqtt_source_stop (source);
  broker_clear (&broker);
}

/* TLS comes from GIO's backend (glib-networking): without one, the source
 * says so at once instead of retrying for ever. */
static void
test_tls_backend (void)
{
  g_autoptr (BmsMqttSource) source = bms_mqtt_source_new ("127.0.0.1", 1, TOPIC);

  if (g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("GIO has a TLS backend here");
      return;
    }
  bms_mqtt_source_set_tls (source, TRUE, NULL);
  bms_mqtt_source_start (source);
  g_assert_cmpint (bms_mqtt_source_get_state (source), ==, BMS_MQTT_SOURCE_STOPPED);
  g_assert_nonnull (strstr (bms_mqtt_source_get_message (source), "glib-networking"));
}

/* TLS through GIO's backend: the broker's certificate, for "localhost",
 * checked against the CA file given; with the system's CAs it is refused
 * and the source says so and retries. */
static void
test_tls (void)
{
  Broker broker = { 0 };
  g_autoptr (BmsSnapshot) snapshot = NULL;
  g_autofree char *hex = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *expected = NULL;
  g_autoptr (BmsMqttSource) source = NULL;
  g_autoptr (BmsMqttSource) untrusted = NULL;

  if (!mosquitto || !g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip (mosquitto ? "GIO has no TLS backend (glib-networking)"
                             : "mosquitto is not installed");
      return;
    }
  broker_configure (&broker);
  if (!broker_add_tls (&broker))
    {
      g_test_skip ("openssl could not make the test certificates");
      broker_clear (&broker);
      return;
    }
  broker_start (&broker);
  hex = frame_hex (&snapshot, 0);
  publish (&broker, "frame", hex);
  publish (&broker, "availability", "online");

  source = bms_mqtt_source_new ("localhost", broker.tls_port, TOPIC);
  bms_mqtt_source_set_credentials (source, USER, PASSWORD);
  bms_mqtt_source_set_tls (source, TRUE, broker.cafile);
  expected = g_strdup_printf ("mqtts://localhost:%u/%s", broker.tls_port, TOPIC);
  uri = bms_mqtt_source_dup_uri (source);
  g_assert_cmpstr (uri, ==, expected);
  bms_mqtt_source_start (source);
  g_assert_true (wait_until (is_online, source, 10));
  g_assert_true (is_connected (source));
  g_assert_cmpfloat_with_epsilon (bms_device_get_pack_voltage (bms_mqtt_source_get_device (source)),
                                  bms_snapshot_get_pack_voltage (snapshot), 1e-9);
  bms_mqtt_source_stop (source);

  /* A certificate of a CA the system does not know: refused, said, retried. */
  untrusted = bms_mqtt_source_new ("localhost", broker.tls_port, TOPIC);
  bms_mqtt_source_set_credentials (untrusted, USER, PASSWORD);
  bms_mqtt_source_set_tls (untrusted, TRUE, NULL);
  bms_mqtt_source_start (untrusted);
  g_assert_true (wait_until (says_waiting, untrusted, 10));
  g_test_message ("%s", bms_mqtt_source_get_message (untrusted));
  g_assert_false (is_online (untrusted));
  bms_mqtt_source_stop (untrusted);
  broker_clear (&broker);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  broker_find_programs ();
  g_test_add_func ("/mqtt-source/device", test_device);
  g_test_add_func ("/mqtt-source/wrong-password", test_wrong_password);
  g_test_add_func ("/mqtt-source/tls-backend", test_tls_backend);
  g_test_add_func ("/mqtt-source/tls", test_tls);
  return g_test_run ();
}
