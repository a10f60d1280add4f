/* BmsMqttSource against a real broker (mosquitto, started here on
 * 127.0.0.1 at a free port, with a password): a frame published as
 * `packwatch-cli serve` publishes it updates the device with the numbers
 * of the reply and the alarm monitor derives its alarms; "offline" takes
 * the device offline; the broker killed and restarted is waited for and
 * subscribed to again; a wrong password is said and retried. Skipped
 * without mosquitto (./dev.sh test installs it). */
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <unistd.h>

#include "bms-frame.h"
#include "bms-hex.h"
#include "bms-mqtt-source.h"

#define USER "packwatch"
#define PASSWORD "s3cret-Pw-17"
#define TOPIC "packwatch/CAB-T1"

typedef struct
{
  char *dir;
  char *conf;
  guint port;
  GPid pid;
} Broker;

static char *mosquitto, *mosquitto_pub, *mosquitto_passwd;

static guint
free_port (void)
{
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, any, TRUE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
run_sync (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL
                               | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status,
                               &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

static gboolean
wait_until (gboolean (*done) (gpointer), gpointer data, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!done (data) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (10000), TRUE);
  return done (data);
}

static gboolean
accepts (gpointer data)
{
  Broker *b = data;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) c = g_socket_client_connect_to_host (client, "127.0.0.1", b->port,
                                                                     NULL, NULL);
  return c != NULL;
}

static void
broker_start (Broker *b)
{
  const char *argv[] = { mosquitto, "-c", b->conf, NULL };
  g_autoptr (GError) error = NULL;

  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                                | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &b->pid, &error));
  g_assert_no_error (error);
  g_assert_true (wait_until (accepts, b, 10));
}

static void
broker_kill (Broker *b)
{
  kill (b->pid, SIGKILL);
  waitpid (b->pid, NULL, 0);
  g_spawn_close_pid (b->pid);
  b->pid = 0;
}

static void
broker_init (Broker *b)
{
  g_autofree char *passwords = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  b->dir = g_dir_make_tmp ("packwatch-mqtt-source-XXXXXX", &error);
  g_assert_no_error (error);
  passwords = g_build_filename (b->dir, "passwd", NULL);
  {
    const char *argv[] = { mosquitto_passwd, "-b", "-c", passwords, USER, PASSWORD, NULL };
    run_sync (argv);
  }
  b->port = free_port ();
  b->conf = g_build_filename (b->dir, "broker.conf", NULL);
  /* Started as root, mosquitto would become the user "mosquitto", who
   * cannot read this private folder. */
  text = g_strdup_printf ("listener %u 127.0.0.1\nallow_anonymous false\npassword_file %s\n"
                          "persistence false\nuser %s\n", b->port, passwords,
                          getpwuid (getuid ())->pw_name);
  g_assert_true (g_file_set_contents (b->conf, text, -1, NULL));
  broker_start (b);
}

static void
broker_clear (Broker *b)
{
  g_autofree char *passwords = g_build_filename (b->dir, "passwd", NULL);

  if (b->pid)
    broker_kill (b);
  g_unlink (passwords);
  g_unlink (b->conf);
  g_rmdir (b->dir);
  g_free (b->conf);
  g_free (b->dir);
}

static void
publish (Broker *b, const char *subtopic, const char *payload)
{
  g_autofree char *port = g_strdup_printf ("%u", b->port);
  g_autofree char *topic = g_strdup_printf ("%s/%s", TOPIC, subtopic);
  const char *argv[] = { mosquitto_pub, "-h", "127.0.0.1", "-p", port, "-u", USER, "-P", PASSWORD,
                         "-q", "1", "-r", "-t", topic, "-m", payload, NULL };
  run_sync (argv);
}

/* The vendor's 14-cell reply, maybe with warning bits, as serve publishes it. */
static char *
frame_hex (BmsSnapshot **out, gint64 warnings)
{
  const char *root = g_getenv ("PACKWATCH_SOURCE_ROOT");
  g_autofree char *path = g_build_filename (root ? root : ".", "tests", "data",
                                            "nw-readall-14s.hex", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GByteArray) info = g_byte_array_new ();
  g_autoptr (GByteArray) encoded = g_byte_array_new ();
  g_autoptr (BmsFrame) frame = NULL;
  g_autoptr (BmsFrame) reply = NULL;
  BmsSnapshot *snapshot = bms_snapshot_new ();

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (bms_hex_parse_line (g_strstrip (text), bytes, NULL));
  frame = bms_frame_decode (bytes->data, bytes->len, NULL);
  g_assert_nonnull (frame);
  g_assert_true (bms_snapshot_parse (snapshot, frame->info, frame->info_len, NULL));
  bms_snapshot_set_raw (snapshot, BMS_ID_WARNINGS, warnings);
  bms_snapshot_encode (snapshot, info);
  reply = bms_frame_new (BMS_CMD_READ_ALL, BMS_SOURCE_BMS, BMS_TRANSPORT_REPLY, info->data,
                         info->len);
  bms_frame_encode (reply, encoded);
  *out = snapshot;
  return bms_hex_format (encoded->data, encoded->len);
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mosquitto = g_find_program_in_path ("mosquitto");
  if (!mosquitto && g_file_test ("/usr/sbin/mosquitto", G_FILE_TEST_IS_EXECUTABLE))
    mosquitto = g_strdup ("/usr/sbin/mosquitto");
  mosquitto_pub = g_find_program_in_path ("mosquitto_pub");
  mosquitto_passwd = g_find_program_in_path ("mosquitto_passwd");
  if (!mosquitto_pub || !mosquitto_passwd)
    g_clear_pointer (&mosquitto, g_free);
  g_test_add_func ("/mqtt-source/device", test_device);
  g_test_add_func ("/mqtt-source/wrong-password", test_wrong_password);
  g_test_add_func ("/mqtt-source/tls-backend", test_tls_backend);
  return g_test_run ();
}
