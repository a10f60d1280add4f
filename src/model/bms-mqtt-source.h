/* bms-mqtt-source.h — one board as `packwatch-cli serve` publishes it,
 * read back from the MQTT broker.
 *
 * Subscribes to PREFIX/ID/frame (the board's whole last reply, see
 * docs/fleet.md) and PREFIX/ID/availability and turns them into updates of
 * a BmsDevice, so whatever shows a polled board shows this one alike; its
 * BmsAlarmMonitor derives the alarms from the same replies. Read-only by
 * construction: nothing is ever published.
 *
 * Speaks MQTT 3.1.1 itself over GIO (a subscriber needs CONNECT,
 * SUBSCRIBE, PUBLISH and PINGREQ only), so the app needs no MQTT library;
 * TLS through GIO's TLS backend (glib-networking: without it a TLS source
 * stops at once and says so). Everything runs on the thread-default main
 * context of the caller without blocking it; a lost broker is retried with
 * a delay doubling from 1 to 30 s.
 */
#pragma once

#include <gio/gio.h>
#include "bms-alarm-monitor.h"
#include "bms-device.h"

G_BEGIN_DECLS

typedef enum
{
  BMS_MQTT_SOURCE_STOPPED,
  BMS_MQTT_SOURCE_CONNECTING, /* also between retries; see "message" */
  BMS_MQTT_SOURCE_CONNECTED,  /* subscribed */
} BmsMqttSourceState;

#define BMS_TYPE_MQTT_SOURCE (bms_mqtt_source_get_type ())
G_DECLARE_FINAL_TYPE (BmsMqttSource, bms_mqtt_source, BMS, MQTT_SOURCE, GObject)

/* topic: PREFIX/ID as serve publishes it ("packwatch/CAB-A1"). */
BmsMqttSource *bms_mqtt_source_new (const char *host, guint port, const char *topic);
/* Before start; password may be NULL. */
void bms_mqtt_source_set_credentials (BmsMqttSource *self, const char *username,
                                      const char *password);
/* Before start: TLS, the broker's certificate checked against cafile (NULL:
 * the system's CAs). */
void bms_mqtt_source_set_tls (BmsMqttSource *self, gboolean tls, const char *cafile);

void bms_mqtt_source_start (BmsMqttSource *self);
void bms_mqtt_source_stop (BmsMqttSource *self);

/* What is watched, as a URI: mqtt://HOST:PORT/PREFIX/ID (mqtts:// with TLS). */
char *bms_mqtt_source_dup_uri (BmsMqttSource *self);
const char *bms_mqtt_source_get_topic (BmsMqttSource *self);

BmsMqttSourceState bms_mqtt_source_get_state (BmsMqttSource *self);
/* What is happening, in words ("Waiting for the broker …: Connection
 * refused; retrying in 4 s"); NULL when connected. */
const char *bms_mqtt_source_get_message (BmsMqttSource *self);
BmsDevice *bms_mqtt_source_get_device (BmsMqttSource *self);
BmsAlarmMonitor *bms_mqtt_source_get_alarm_monitor (BmsMqttSource *self);

G_END_DECLS
