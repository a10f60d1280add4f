/* cli-mqtt.h — the broker connection of `packwatch-cli serve` (libmosquitto).
 *
 * A network thread connects, reconnects with a growing delay (1 s
 * doubling to 30 s) and sends; the calling thread publishes. The
 * connection's last will sets the will topic to "offline" (retained) when
 * the process dies or the network goes; each (re)connection sets it to
 * "online" and calls the connected function on the thread-default main
 * context of the caller, where everything retained is published again (a
 * broker restarted without persistence has forgotten it).
 */
#pragma once

#include <glib.h>
#include "cli-serve-config.h"

G_BEGIN_DECLS

typedef struct _CliMqtt CliMqtt;

typedef void (*CliMqttConnectedFunc) (gpointer data);

/* Sets up the client (nothing is sent yet). */
CliMqtt *cli_mqtt_new (const CliServeConfig *config, const char *will_topic,
                       CliMqttConnectedFunc connected, gpointer data, GError **error);
/* Starts connecting in the background: an unreachable broker is retried,
 * never an error. */
gboolean cli_mqtt_start (CliMqtt *self, GError **error);
gboolean cli_mqtt_is_connected (CliMqtt *self);
/* QoS 1. FALSE when the message could not even be queued (not connected). */
gboolean cli_mqtt_publish (CliMqtt *self, const char *topic, const char *payload, gboolean retain);
/* Publishes "offline" on the will topic, waits for the broker to take it
 * (at most timeout_ms), disconnects and stops the network thread. */
void cli_mqtt_stop (CliMqtt *self, guint timeout_ms);
void cli_mqtt_free (CliMqtt *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliMqtt, cli_mqtt_free)

G_END_DECLS
