/* bms-connection-mqtt.c — watching a board through an MQTT broker: the
 * connection shows the device of a BmsMqttSource, follows its state, and
 * refuses every write (see bms_connection_watch_mqtt in bms-connection.h).
 *
 * Nothing is recorded in the history: the serve that publishes the board
 * records every sample itself, on the machine with the adapters; a second
 * copy here would be a gappy one (only while the app watches) under the
 * same device key as the board polled at the cabinet, mixing the two. */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-connection-private.h"

static void
set_read_only_reason (BmsConnection *self,
                      const char    *reason)
{
  if (g_strcmp0 (self->read_only_reason, reason) == 0)
    return;
  g_free (self->read_only_reason);
  self->read_only_reason = g_strdup (reason);
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_READ_ONLY_REASON]);
}

/* The source's state (broker) and the device's (serve's word on the board)
 * as the connection's. */
static void
follow_source (BmsConnection *self)
{
  BmsMqttSourceState state = bms_mqtt_source_get_state (self->mqtt);
  const char *topic = bms_mqtt_source_get_topic (self->mqtt);
  g_autofree char *why = NULL;

  if (state == BMS_MQTT_SOURCE_STOPPED)
    {
      bms_connection_set_state (self, BMS_CONNECTION_ERROR, bms_mqtt_source_get_message (self->mqtt));
      return;
    }
  if (state == BMS_MQTT_SOURCE_CONNECTING)
    {
      bms_connection_set_state (self, BMS_CONNECTION_CONNECTING,
                                bms_mqtt_source_get_message (self->mqtt));
      return;
    }
  if (self->connected_since == 0)
    bms_connection_set_connected_since (self, g_get_real_time ());
  if (bms_device_get_online (self->device))
    {
      bms_connection_set_state (self, BMS_CONNECTION_WATCHING, NULL);
      return;
    }
  if (bms_device_get_snapshot (self->device) == NULL)
    {
      why = g_strdup_printf (_("Subscribed to %s/frame on the broker; nothing published there yet "
                               "(is packwatch-cli serve publishing this board?)"), topic);
      bms_connection_set_state (self, BMS_CONNECTION_CONNECTING, why);
      return;
    }
  why = g_strdup_printf (_("The board %s is offline: the serve that polls it gets no reply "
                           "(the values shown are the last it published)"), topic);
  bms_connection_set_state (self, BMS_CONNECTION_NO_REPLY, why);
}

static void
frame_taken (BmsConnection *self)
{
  self->polls++;
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_POLL_COUNT]);
  follow_source (self);
}

void
bms_connection_watch_mqtt (BmsConnection *self,
                           BmsMqttSource *source)
{
  g_autofree char *uri = NULL;

  g_return_if_fail (BMS_IS_CONNECTION (self));
  g_return_if_fail (BMS_IS_MQTT_SOURCE (source));

  bms_connection_disconnect (self);
  self->mqtt = g_object_ref (source);
  uri = bms_mqtt_source_dup_uri (source);
  g_free (self->uri);
  self->uri = g_steal_pointer (&uri);
  self->polls = 0;
  g_object_notify_by_pspec (G_OBJECT (self), bms_connection_properties[PROP_URI]);
  set_read_only_reason (self, _("Watching through an MQTT broker: read-only"));
  bms_connection_show_device (self, bms_mqtt_source_get_device (source),
                              bms_mqtt_source_get_alarm_monitor (source));
  g_signal_connect_object (source, "notify::state", G_CALLBACK (follow_source), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (source, "notify::message", G_CALLBACK (follow_source), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->device, "notify::online", G_CALLBACK (follow_source), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->device, "updated", G_CALLBACK (frame_taken), self,
                           G_CONNECT_SWAPPED);
  bms_mqtt_source_start (source);
  follow_source (self);
}

void
bms_connection_stop_watching (BmsConnection *self)
{
  g_autoptr(BmsMqttSource) source = g_steal_pointer (&self->mqtt);

  if (source == NULL)
    return;
  g_signal_handlers_disconnect_by_data (source, self);
  g_signal_handlers_disconnect_by_func (bms_mqtt_source_get_device (source), follow_source, self);
  g_signal_handlers_disconnect_by_func (bms_mqtt_source_get_device (source), frame_taken, self);
  bms_mqtt_source_stop (source);
  set_read_only_reason (self, NULL);
}

const char *
bms_connection_get_read_only_reason (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->read_only_reason;
}
