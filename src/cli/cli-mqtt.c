/* cli-mqtt.c — the broker connection of `packwatch-cli serve`: libmosquitto
 * with a network thread of our own (see cli-mqtt.h and network_thread). */

#include "config.h"

#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>

#include "cli-common.h"
#include "cli-mqtt.h"

#define QOS 1
#define RECONNECT_MIN_S 1
#define RECONNECT_MAX_S 30

struct _CliMqtt
{
  struct mosquitto *mosq;
  char *host;
  guint port;
  guint keepalive;
  char *will_topic;
  CliMqttConnectedFunc connected_func;
  gpointer connected_data;
  GMainContext *context;
  GThread *thread;

  GMutex lock;
  GCond changed;      /* acked, stopping */
  GSource *pending;   /* the connected function, queued on context */
  gboolean connected;
  gboolean lost_said; /* "lost"/"does not answer" said; waiting for a connection */
  gboolean stopping;
  gint64 delay_s;     /* the next reconnection's back-off */
  gint64 stop_until;  /* monotonic: the DISCONNECT gets until then */
  int waiting_mid;    /* the "offline" of cli_mqtt_stop */
  gboolean mid_acked;
};

static gboolean
fail (GError **error, const char *what, int rc)
{
  g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "%s: %s", what,
               rc == MOSQ_ERR_ERRNO ? g_strerror (errno) : mosquitto_strerror (rc));
  return FALSE;
}

static gboolean
run_connected (gpointer data)
{
  CliMqtt *self = data;

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->pending, g_source_unref);
  g_mutex_unlock (&self->lock);
  if (self->connected_func)
    self->connected_func (self->connected_data);
  return G_SOURCE_REMOVE;
}

/* The network thread. */
static void
on_connect (struct mosquitto *mosq, void *data, int rc)
{
  CliMqtt *self = data;
  gboolean say;

  if (rc != 0)
    {
      /* Said once: the broker refuses every retry alike. */
      g_mutex_lock (&self->lock);
      say = !self->lost_said;
      self->lost_said = TRUE;
      g_mutex_unlock (&self->lock);
      if (say)
        fprintf (stderr, "packwatch-cli serve: the broker %s:%u refused the connection: %s "
                 "(retrying)\n", self->host, self->port, mosquitto_connack_string (rc));
      return;
    }
  fprintf (stderr, "packwatch-cli serve: connected to the broker %s:%u\n", self->host, self->port);
  mosquitto_publish (mosq, NULL, self->will_topic, 6, "online", QOS, true);
  g_mutex_lock (&self->lock);
  self->connected = TRUE;
  self->lost_said = FALSE;
  self->delay_s = RECONNECT_MIN_S;
  if (self->pending == NULL)
    {
      self->pending = g_idle_source_new ();
      g_source_set_callback (self->pending, run_connected, self, NULL);
      g_source_attach (self->pending, self->context);
    }
  g_mutex_unlock (&self->lock);
}

static void
on_disconnect (struct mosquitto *mosq, void *data, int rc)
{
  CliMqtt *self = data;
  gboolean say;

  g_mutex_lock (&self->lock);
  say = rc != 0 && self->connected;
  self->connected = FALSE;
  self->lost_said |= say;
  g_mutex_unlock (&self->lock);
  if (say)
    fprintf (stderr, "packwatch-cli serve: lost the broker %s:%u (%s): reconnecting, "
             "the boards are still polled and recorded\n", self->host, self->port,
             rc == MOSQ_ERR_ERRNO ? g_strerror (errno) : mosquitto_strerror (rc));
}

static void
on_publish (struct mosquitto *mosq, void *data, int mid)
{
  CliMqtt *self = data;

  g_mutex_lock (&self->lock);
  if (mid == self->waiting_mid)
    {
      self->mid_acked = TRUE;
      g_cond_broadcast (&self->changed);
    }
  g_mutex_unlock (&self->lock);
}

static gboolean
configure (CliMqtt *self, const CliServeConfig *config, GError **error)
{
  int rc;

  mosquitto_int_option (self->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  if (config->username
      && (rc = mosquitto_username_pw_set (self->mosq, config->username, config->password)))
    return fail (error, "username and password", rc);
  if (config->cafile
      && (rc = mosquitto_tls_set (self->mosq, config->cafile, NULL, config->certfile,
                                  config->keyfile, NULL)))
    return fail (error, "TLS (CaFile, CertFile, KeyFile)", rc);
  if ((rc = mosquitto_will_set (self->mosq, self->will_topic, 7, "offline", QOS, true)))
    return fail (error, "the last will", rc);
  /* This file runs the network loop on its own thread (libmosquitto's
   * gives up when the very first connection fails): publishing from the
   * main thread then only queues and wakes it. */
  mosquitto_threaded_set (self->mosq, true);
  mosquitto_connect_callback_set (self->mosq, on_connect);
  mosquitto_disconnect_callback_set (self->mosq, on_disconnect);
  mosquitto_publish_callback_set (self->mosq, on_publish);
  return TRUE;
}

static gpointer
init_library (gpointer data)
{
  mosquitto_lib_init ();
  return NULL;
}

CliMqtt *
cli_mqtt_new (const CliServeConfig *config, const char *will_topic,
              CliMqttConnectedFunc connected, gpointer data, GError **error)
{
  static GOnce once = G_ONCE_INIT;
  CliMqtt *self;

  g_once (&once, init_library, NULL);
  self = g_new0 (CliMqtt, 1);
  g_mutex_init (&self->lock);
  g_cond_init (&self->changed);
  self->host = g_strdup (config->host);
  self->port = config->port;
  self->keepalive = config->keepalive;
  self->will_topic = g_strdup (will_topic);
  self->connected_func = connected;
  self->connected_data = data;
  self->context = g_main_context_ref_thread_default ();
  self->waiting_mid = -1;
  self->mosq = mosquitto_new (config->client_id, true, self);
  if (self->mosq == NULL)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "cannot create the MQTT client: %s",
                   g_strerror (errno));
      cli_mqtt_free (self);
      return NULL;
    }
  if (!configure (self, config, error))
    {
      cli_mqtt_free (self);
      return NULL;
    }
  return self;
}

static void
say_unreachable (CliMqtt *self, int rc)
{
  gboolean say;

  g_mutex_lock (&self->lock);
  say = !self->lost_said;
  self->lost_said = TRUE;
  g_mutex_unlock (&self->lock);
  if (say)
    fprintf (stderr, "packwatch-cli serve: the broker %s:%u does not answer (%s): retrying, "
             "the boards are still polled and recorded\n", self->host, self->port,
             rc == MOSQ_ERR_ERRNO ? g_strerror (errno) : mosquitto_strerror (rc));
}

/* Waits the back-off (1 s doubling to 30 s, back to 1 s once connected);
 * FALSE when stopped meanwhile. */
static gboolean
back_off (CliMqtt *self)
{
  gboolean stopping;
  gint64 until;

  g_mutex_lock (&self->lock);
  until = g_get_monotonic_time () + self->delay_s * G_USEC_PER_SEC;
  self->delay_s = MIN (self->delay_s * 2, RECONNECT_MAX_S);
  while (!self->stopping && g_cond_wait_until (&self->changed, &self->lock, until))
    ;
  stopping = self->stopping;
  g_mutex_unlock (&self->lock);
  return !stopping;
}

static gboolean
stopping (CliMqtt *self)
{
  gboolean stopping;

  g_mutex_lock (&self->lock);
  stopping = self->stopping;
  g_mutex_unlock (&self->lock);
  return stopping;
}

/* The network thread: connect, run, and after any failure wait and
 * connect again, until cli_mqtt_stop. */
static gpointer
network_thread (gpointer data)
{
  CliMqtt *self = data;
  gboolean first = TRUE, up = FALSE;
  int rc;

  while (!stopping (self) || up)
    {
      if (!up)
        {
          rc = first ? mosquitto_connect_async (self->mosq, self->host, (int) self->port,
                                                (int) self->keepalive)
                     : mosquitto_reconnect_async (self->mosq);
          first = FALSE;
          if (rc == MOSQ_ERR_SUCCESS)
            up = TRUE;
          else
            {
              say_unreachable (self, rc);
              if (!back_off (self))
                break;
            }
          continue;
        }
      if (stopping (self) && g_get_monotonic_time () > self->stop_until)
        break;
      /* Also returns early when the main thread queues a packet. */
      rc = mosquitto_loop (self->mosq, 200, 1);
      if (rc != MOSQ_ERR_SUCCESS)
        {
          up = FALSE;
          g_mutex_lock (&self->lock);
          self->connected = FALSE;
          g_mutex_unlock (&self->lock);
          if (rc != MOSQ_ERR_NO_CONN)
            say_unreachable (self, rc);
          if (!back_off (self))
            break;
        }
    }
  return NULL;
}

gboolean
cli_mqtt_start (CliMqtt *self, GError **error)
{
  fprintf (stderr, "packwatch-cli serve: connecting to the broker %s:%u\n", self->host, self->port);
  self->delay_s = RECONNECT_MIN_S;
  self->thread = g_thread_try_new ("mqtt", network_thread, self, error);
  return self->thread != NULL;
}

gboolean
cli_mqtt_is_connected (CliMqtt *self)
{
  gboolean connected;

  g_mutex_lock (&self->lock);
  connected = self->connected;
  g_mutex_unlock (&self->lock);
  return connected;
}

gboolean
cli_mqtt_publish (CliMqtt *self, const char *topic, const char *payload, gboolean retain)
{
  if (!cli_mqtt_is_connected (self))
    return FALSE;
  return mosquitto_publish (self->mosq, NULL, topic, (int) strlen (payload), payload, QOS,
                            retain) == MOSQ_ERR_SUCCESS;
}

void
cli_mqtt_stop (CliMqtt *self, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  int mid = -1;

  if (self->thread == NULL)
    return;
  g_mutex_lock (&self->lock);
  if (self->connected
      && mosquitto_publish (self->mosq, &mid, self->will_topic, 7, "offline", QOS, true) == 0)
    {
      self->waiting_mid = mid;
      while (!self->mid_acked && g_cond_wait_until (&self->changed, &self->lock, deadline))
        ;
    }
  self->stopping = TRUE;
  self->stop_until = g_get_monotonic_time () + 200 * G_TIME_SPAN_MILLISECOND;
  g_cond_broadcast (&self->changed);
  g_mutex_unlock (&self->lock);
  /* The thread sends the DISCONNECT (a clean one: no last will), sees the
   * socket closed and ends; without a connection it ends at once. */
  mosquitto_disconnect (self->mosq);
  g_thread_join (g_steal_pointer (&self->thread));
}

void
cli_mqtt_free (CliMqtt *self)
{
  if (self == NULL)
    return;
  if (self->mosq)
    mosquitto_destroy (self->mosq);
  g_mutex_lock (&self->lock);
  if (self->pending)
    {
      g_source_destroy (self->pending);
      g_clear_pointer (&self->pending, g_source_unref);
    }
  g_mutex_unlock (&self->lock);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->changed);
  g_free (self->host);
  g_free (self->will_topic);
  g_free (self);
}
