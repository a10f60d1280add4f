/* bms-mqtt-source.c — a board read back from the MQTT broker (see
 * bms-mqtt-source.h). The MQTT here is the subscriber's part of 3.1.1:
 * CONNECT/CONNACK, SUBSCRIBE/SUBACK at QoS 0, incoming PUBLISH, PINGREQ,
 * DISCONNECT. */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>
#include <unistd.h>

#include "bms-frame.h"
#include "bms-hex.h"
#include "bms-mqtt-source.h"

#define KEEPALIVE_S 30
#define RETRY_MIN_S 1
#define RETRY_MAX_S 30
#define MAX_PACKET (1024 * 1024)

enum
{
  MQTT_CONNECT = 1,
  MQTT_CONNACK = 2,
  MQTT_PUBLISH = 3,
  MQTT_PUBACK = 4,
  MQTT_SUBSCRIBE = 8,
  MQTT_SUBACK = 9,
  MQTT_PINGREQ = 12,
  MQTT_PINGRESP = 13,
  MQTT_DISCONNECT = 14,
};

struct _BmsMqttSource
{
  GObject parent_instance;

  char *host;
  guint port;
  char *topic;
  char *username;
  char *password;
  gboolean tls;
  char *cafile;

  BmsDevice *device;
  BmsAlarmMonitor *monitor;
  BmsMqttSourceState state;
  char *message;

  GCancellable *cancellable; /* of the current connection */
  GIOStream *stream;
  GByteArray *in;
  GQueue out;                /* GBytes waiting to be written */
  gboolean writing;
  guint ping_timer;
  guint retry_timer;
  guint retry_s;
};

G_DEFINE_FINAL_TYPE (BmsMqttSource, bms_mqtt_source, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STATE,
  PROP_MESSAGE,
  PROP_DEVICE,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

static void connect_now (BmsMqttSource *self);
static void read_more (BmsMqttSource *self);

static void
set_state (BmsMqttSource *self, BmsMqttSourceState state, const char *message)
{
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  if (g_strcmp0 (self->message, message) != 0)
    {
      g_free (self->message);
      self->message = g_strdup (message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
    }
}

/* ---- packets ---- */

static void
put_u16 (GByteArray *b, guint v)
{
  guint8 bytes[2] = { v >> 8, v & 0xFF };
  g_byte_array_append (b, bytes, 2);
}

static void
put_string (GByteArray *b, const char *text)
{
  put_u16 (b, strlen (text));
  g_byte_array_append (b, (const guint8 *) text, strlen (text));
}

/* Fixed header (type, flags, remaining length) before body. */
static GBytes *
packet (guint type, guint flags, GByteArray *body)
{
  GByteArray *p = g_byte_array_new ();
  guint8 first = (type << 4) | flags;
  gsize len = body ? body->len : 0;

  g_byte_array_append (p, &first, 1);
  do
    {
      guint8 digit = len % 128;
      len /= 128;
      if (len > 0)
        digit |= 0x80;
      g_byte_array_append (p, &digit, 1);
    }
  while (len > 0);
  if (body)
    g_byte_array_append (p, body->data, body->len);
  return g_byte_array_free_to_bytes (p);
}

static void write_next (BmsMqttSource *self);

static void
on_written (GObject *stream, GAsyncResult *result, gpointer data)
{
  g_autoptr (BmsMqttSource) self = data;
  g_autoptr (GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (stream), result, NULL, &error))
    return; /* the read side sees the broken connection too */
  self->writing = FALSE;
  write_next (self);
}

static void
write_next (BmsMqttSource *self)
{
  g_autoptr (GBytes) bytes = NULL;
  gsize size;
  gconstpointer data;

  if (self->writing || self->stream == NULL || g_queue_is_empty (&self->out))
    return;
  bytes = g_queue_pop_head (&self->out);
  data = g_bytes_get_data (bytes, &size);
  self->writing = TRUE;
  /* The bytes live on in the closure until the write is done. */
  g_object_set_data_full (G_OBJECT (self), "writing", g_bytes_ref (bytes),
                          (GDestroyNotify) g_bytes_unref);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (self->stream), data, size,
                                   G_PRIORITY_DEFAULT, self->cancellable, on_written,
                                   g_object_ref (self));
}

static void
send (BmsMqttSource *self, GBytes *bytes)
{
  g_queue_push_tail (&self->out, bytes);
  write_next (self);
}

static void
send_connect (BmsMqttSource *self)
{
  g_autoptr (GByteArray) body = g_byte_array_new ();
  g_autofree char *client_id = g_strdup_printf ("packwatch-app-%s-%d", g_get_host_name (),
                                                (int) getpid ());
  guint8 level = 4, flags = 0x02; /* clean session */

  put_string (body, "MQTT");
  g_byte_array_append (body, &level, 1);
  if (self->username)
    flags |= 0x80;
  if (self->username && self->password)
    flags |= 0x40;
  g_byte_array_append (body, &flags, 1);
  put_u16 (body, KEEPALIVE_S);
  put_string (body, client_id);
  if (self->username)
    put_string (body, self->username);
  if (self->username && self->password)
    put_string (body, self->password);
  send (self, packet (MQTT_CONNECT, 0, body));
}

static void
send_subscribe (BmsMqttSource *self)
{
  g_autoptr (GByteArray) body = g_byte_array_new ();
  g_autofree char *frame = g_strdup_printf ("%s/frame", self->topic);
  g_autofree char *availability = g_strdup_printf ("%s/availability", self->topic);
  guint8 qos = 0;

  put_u16 (body, 1);
  put_string (body, frame);
  g_byte_array_append (body, &qos, 1);
  put_string (body, availability);
  g_byte_array_append (body, &qos, 1);
  send (self, packet (MQTT_SUBSCRIBE, 0x02, body));
}

/* ---- the connection ---- */

static void
drop_connection (BmsMqttSource *self)
{
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->stream)
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&self->stream);
  g_queue_clear_full (&self->out, (GDestroyNotify) g_bytes_unref);
  self->writing = FALSE;
  g_byte_array_set_size (self->in, 0);
  g_clear_handle_id (&self->ping_timer, g_source_remove);
}

static gboolean
on_retry (gpointer data)
{
  BmsMqttSource *self = data;

  self->retry_timer = 0;
  connect_now (self);
  return G_SOURCE_REMOVE;
}

/* The connection failed or broke: the board's state is unknown until the
 * broker is back. */
static void
retry_later (BmsMqttSource *self, const char *why)
{
  g_autofree char *message = NULL;

  drop_connection (self);
  bms_device_set_online (self->device, FALSE);
  message = g_strdup_printf (_ ("Waiting for the broker %s:%u: %s; retrying in %u s"), self->host,
                             self->port, why, self->retry_s);
  set_state (self, BMS_MQTT_SOURCE_CONNECTING, message);
  self->retry_timer = g_timeout_add_seconds (self->retry_s, on_retry, self);
  self->retry_s = MIN (self->retry_s * 2, RETRY_MAX_S);
}

static gboolean
on_ping (gpointer data)
{
  BmsMqttSource *self = data;

  send (self, packet (MQTT_PINGREQ, 0, NULL));
  return G_SOURCE_CONTINUE;
}

static void
take_frame (BmsMqttSource *self, const char *hex)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (BmsFrame) frame = NULL;
  g_autoptr (BmsSnapshot) snapshot = bms_snapshot_new ();
  g_autoptr (GError) error = NULL;

  if (!bms_hex_parse_line (hex, bytes, &error)
      || !(frame = bms_frame_decode (bytes->data, bytes->len, &error))
      || !bms_snapshot_parse (snapshot, frame->info, frame->info_len, &error))
    {
      bms_device_reject_reply (self->device, error->message);
      return;
    }
  snapshot->timestamp_us = g_get_real_time ();
  bms_device_update (self->device, snapshot);
}

static void
take_publish (BmsMqttSource *self, guint flags, const guint8 *body, gsize len)
{
  guint qos = (flags >> 1) & 3;
  gsize topic_len, at;
  g_autofree char *topic = NULL;
  g_autofree char *payload = NULL;

  if (len < 2 || (topic_len = (body[0] << 8) | body[1]) + 2 > len)
    return;
  topic = g_strndup ((const char *) body + 2, topic_len);
  at = 2 + topic_len;
  if (qos > 0)
    {
      g_autoptr (GByteArray) ack = g_byte_array_new ();
      if (at + 2 > len)
        return;
      g_byte_array_append (ack, body + at, 2);
      send (self, packet (MQTT_PUBACK, 0, ack));
      at += 2;
    }
  payload = g_strndup ((const char *) body + at, len - at);
  if (g_str_has_suffix (topic, "/frame"))
    take_frame (self, payload);
  else if (g_str_equal (payload, "offline"))
    bms_device_set_online (self->device, FALSE);
  else if (g_str_equal (payload, "online") && bms_device_get_snapshot (self->device))
    bms_device_set_online (self->device, TRUE);
}

static const char *
connack_reason (guint code)
{
  switch (code)
    {
    case 1: return _ ("the broker does not speak MQTT 3.1.1");
    case 2: return _ ("the broker refused the client id");
    case 3: return _ ("the broker is unavailable");
    case 4: return _ ("the user name or password is wrong");
    case 5: return _ ("not authorised: check the user name and password");
    default: return _ ("the broker refused the connection");
    }
}

/* One whole packet; FALSE when the connection was dropped. */
static gboolean
take_packet (BmsMqttSource *self, guint8 first, const guint8 *body, gsize len)
{
  switch (first >> 4)
    {
    case MQTT_CONNACK:
      if (len < 2 || body[1] != 0)
        {
          retry_later (self, connack_reason (len < 2 ? 255 : body[1]));
          return FALSE;
        }
      send_subscribe (self);
      return TRUE;
    case MQTT_SUBACK:
      self->retry_s = RETRY_MIN_S;
      set_state (self, BMS_MQTT_SOURCE_CONNECTED, NULL);
      self->ping_timer = g_timeout_add_seconds (KEEPALIVE_S / 2, on_ping, self);
      return TRUE;
    case MQTT_PUBLISH:
      take_publish (self, first & 0x0F, body, len);
      return TRUE;
    default:
      return TRUE; /* PINGRESP and the like */
    }
}

/* Takes every whole packet at the start of the input buffer. */
static gboolean
take_packets (BmsMqttSource *self)
{
  for (;;)
    {
      GByteArray *in = self->in;
      gsize len = 0, at = 1;
      guint shift = 0;

      if (in->len < 2)
        return TRUE;
      do
        {
          if (at >= in->len)
            return TRUE;
          len |= (gsize) (in->data[at] & 0x7F) << shift;
          shift += 7;
        }
      while (in->data[at++] & 0x80 && shift < 28);
      if (len > MAX_PACKET)
        {
          retry_later (self, _ ("the broker sent a packet too large to be a board"));
          return FALSE;
        }
      if (in->len < at + len)
        return TRUE;
      {
        g_autoptr (GBytes) packet_bytes = g_bytes_new (in->data, at + len);
        const guint8 *p = g_bytes_get_data (packet_bytes, NULL);

        g_byte_array_remove_range (in, 0, at + len);
        if (!take_packet (self, p[0], p + at, len))
          return FALSE;
      }
    }
}

static void
on_read (GObject *stream, GAsyncResult *result, gpointer data)
{
  g_autoptr (BmsMqttSource) self = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (stream), result,
                                                               &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      retry_later (self, error ? error->message : _ ("the broker closed the connection"));
      return;
    }
  g_byte_array_append (self->in, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (take_packets (self))
    read_more (self);
}

static void
read_more (BmsMqttSource *self)
{
  g_input_stream_read_bytes_async (g_io_stream_get_input_stream (self->stream), 16384,
                                   G_PRIORITY_DEFAULT, self->cancellable, on_read,
                                   g_object_ref (self));
}

static void
on_connected (GObject *client, GAsyncResult *result, gpointer data)
{
  g_autoptr (BmsMqttSource) self = data;
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (client),
                                                                          result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (connection == NULL)
    {
      retry_later (self, error->message);
      return;
    }
  self->stream = G_IO_STREAM (connection);
  send_connect (self);
  read_more (self);
}

/* A CA of our own: the TLS connection checks the broker against it. */
static void
on_client_event (GSocketClient *client, GSocketClientEvent event, GSocketConnectable *connectable,
                 GIOStream *connection, gpointer data)
{
  BmsMqttSource *self = data;
  g_autoptr (GTlsDatabase) database = NULL;
  g_autoptr (GError) error = NULL;

  if (event != G_SOCKET_CLIENT_TLS_HANDSHAKING || self->cafile == NULL)
    return;
  database = g_tls_file_database_new (self->cafile, &error);
  if (database)
    g_tls_connection_set_database (G_TLS_CONNECTION (connection), database);
}

static void
connect_now (BmsMqttSource *self)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autofree char *message = g_strdup_printf (_ ("Connecting to the broker %s:%u"), self->host,
                                              self->port);

  drop_connection (self);
  if (self->tls && !g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      /* Retrying would not help: nothing here can speak TLS. */
      set_state (self, BMS_MQTT_SOURCE_STOPPED,
                 _ ("TLS is not available on this system (GIO has no TLS backend: install "
                    "glib-networking)"));
      return;
    }
  self->cancellable = g_cancellable_new ();
  set_state (self, BMS_MQTT_SOURCE_CONNECTING, message);
  g_socket_client_set_timeout (client, 10);
  if (self->tls)
    {
      g_socket_client_set_tls (client, TRUE);
      g_signal_connect_object (client, "event", G_CALLBACK (on_client_event), self, 0);
    }
  g_socket_client_connect_to_host_async (client, self->host, self->port, self->cancellable,
                                         on_connected, g_object_ref (self));
}

/* ---- public ---- */

BmsMqttSource *
bms_mqtt_source_new (const char *host, guint port, const char *topic)
{
  BmsMqttSource *self;

  g_return_val_if_fail (host != NULL && topic != NULL, NULL);
  self = g_object_new (BMS_TYPE_MQTT_SOURCE, NULL);
  self->host = g_strdup (host);
  self->port = port;
  self->topic = g_strdup (topic);
  return self;
}

void
bms_mqtt_source_set_credentials (BmsMqttSource *self, const char *username, const char *password)
{
  g_return_if_fail (BMS_IS_MQTT_SOURCE (self));
  g_free (self->username);
  self->username = g_strdup (username && *username ? username : NULL);
  g_free (self->password);
  self->password = g_strdup (password);
}

void
bms_mqtt_source_set_tls (BmsMqttSource *self, gboolean tls, const char *cafile)
{
  g_return_if_fail (BMS_IS_MQTT_SOURCE (self));
  self->tls = tls;
  g_free (self->cafile);
  self->cafile = g_strdup (cafile);
}

void
bms_mqtt_source_start (BmsMqttSource *self)
{
  g_return_if_fail (BMS_IS_MQTT_SOURCE (self));
  g_clear_handle_id (&self->retry_timer, g_source_remove);
  self->retry_s = RETRY_MIN_S;
  connect_now (self);
}

void
bms_mqtt_source_stop (BmsMqttSource *self)
{
  g_return_if_fail (BMS_IS_MQTT_SOURCE (self));
  g_clear_handle_id (&self->retry_timer, g_source_remove);
  if (self->stream && self->state == BMS_MQTT_SOURCE_CONNECTED)
    {
      /* Best effort, not waited for: the broker drops us either way. */
      g_autoptr (GBytes) bye = packet (MQTT_DISCONNECT, 0, NULL);
      g_output_stream_write_all (g_io_stream_get_output_stream (self->stream),
                                 g_bytes_get_data (bye, NULL), g_bytes_get_size (bye), NULL,
                                 NULL, NULL);
    }
  drop_connection (self);
  bms_device_set_online (self->device, FALSE);
  set_state (self, BMS_MQTT_SOURCE_STOPPED, NULL);
}

char *
bms_mqtt_source_dup_uri (BmsMqttSource *self)
{
  g_autofree char *host = NULL;

  g_return_val_if_fail (BMS_IS_MQTT_SOURCE (self), NULL);
  /* An IPv6 address needs its brackets to keep its colons apart from the port. */
  host = strchr (self->host, ':') ? g_strdup_printf ("[%s]", self->host) : g_strdup (self->host);
  return g_strdup_printf ("%s://%s:%u/%s", self->tls ? "mqtts" : "mqtt", host, self->port,
                          self->topic);
}

const char *
bms_mqtt_source_get_topic (BmsMqttSource *self)
{
  g_return_val_if_fail (BMS_IS_MQTT_SOURCE (self), NULL);
  return self->topic;
}

BmsMqttSourceState
bms_mqtt_source_get_state (BmsMqttSource *self)
{
  g_return_val_if_fail (BMS_IS_MQTT_SOURCE (self), BMS_MQTT_SOURCE_STOPPED);
  return self->state;
}

const char *
bms_mqtt_source_get_message (BmsMqttSource *self)
{
  g_return_val_if_fail (BMS_IS_MQTT_SOURCE (self), NULL);
  return self->message;
}

BmsDevice *
bms_mqtt_source_get_device (BmsMqttSource *self)
{
  g_return_val_if_fail (BMS_IS_MQTT_SOURCE (self), NULL);
  return self->device;
}

BmsAlarmMonitor *
bms_mqtt_source_get_alarm_monitor (BmsMqttSource *self)
{
  g_return_val_if_fail (BMS_IS_MQTT_SOURCE (self), NULL);
  return self->monitor;
}

static void
bms_mqtt_source_dispose (GObject *object)
{
  BmsMqttSource *self = BMS_MQTT_SOURCE (object);

  g_clear_handle_id (&self->retry_timer, g_source_remove);
  drop_connection (self);
  g_clear_object (&self->monitor);
  g_clear_object (&self->device);
  G_OBJECT_CLASS (bms_mqtt_source_parent_class)->dispose (object);
}

static void
bms_mqtt_source_finalize (GObject *object)
{
  BmsMqttSource *self = BMS_MQTT_SOURCE (object);

  g_free (self->host);
  g_free (self->topic);
  g_free (self->username);
  if (self->password)
    memset (self->password, 0, strlen (self->password));
  g_free (self->password);
  g_free (self->cafile);
  g_free (self->message);
  g_byte_array_unref (self->in);
  G_OBJECT_CLASS (bms_mqtt_source_parent_class)->finalize (object);
}

static void
bms_mqtt_source_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BmsMqttSource *self = BMS_MQTT_SOURCE (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    case PROP_DEVICE:
      g_value_set_object (value, self->device);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_mqtt_source_class_init (BmsMqttSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = bms_mqtt_source_dispose;
  object_class->finalize = bms_mqtt_source_finalize;
  object_class->get_property = bms_mqtt_source_get_property;
  properties[PROP_STATE] = g_param_spec_int ("state", NULL, NULL, BMS_MQTT_SOURCE_STOPPED,
                                             BMS_MQTT_SOURCE_CONNECTED, BMS_MQTT_SOURCE_STOPPED,
                                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY
                                               | G_PARAM_STATIC_STRINGS);
  properties[PROP_MESSAGE] = g_param_spec_string ("message", NULL, NULL, NULL,
                                                  G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY
                                                    | G_PARAM_STATIC_STRINGS);
  properties[PROP_DEVICE] = g_param_spec_object ("device", NULL, NULL, BMS_TYPE_DEVICE,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bms_mqtt_source_init (BmsMqttSource *self)
{
  self->in = g_byte_array_new ();
  g_queue_init (&self->out);
  self->device = bms_device_new (0);
  self->monitor = bms_alarm_monitor_new (self->device);
  self->retry_s = RETRY_MIN_S;
}
