/* cli-serve-publish.c — one board as MQTT topics and Home Assistant
 * discovery (docs/fleet.md lists the topics and payloads).
 *
 * Values are plain text in engineering units, one topic each, retained, so
 * a subscriber (and Home Assistant) reads them without templates; a topic
 * is sent again only when its text changes. Read-only: nothing here
 * subscribes, there are no command topics.
 */

#include "config.h"

#include <math.h>
#include <stdio.h>

#include "bms-frame.h"
#include "bms-hex.h"
#include "cli-common.h"
#include "cli-serve-private.h"

/* Sends PREFIX/ID/subtopic when its text changed; retained state only. */
static void
put (ServeBoard *b, const char *subtopic, const char *payload)
{
  g_autofree char *topic = g_strdup_printf ("%s/%s", b->base, subtopic);
  const char *last = g_hash_table_lookup (b->sent, topic);

  if (g_strcmp0 (last, payload) == 0)
    return;
  if (cli_mqtt_publish (b->server->mqtt, topic, payload, TRUE))
    g_hash_table_insert (b->sent, g_steal_pointer (&topic), g_strdup (payload));
}

static void
put_number (ServeBoard *b, const char *subtopic, double value, int decimals)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (value))
    return;
  g_snprintf (text, sizeof text, "%.*f", decimals, value);
  put (b, subtopic, text);
}

static void
put_id (ServeBoard *b, const BmsSnapshot *s, const char *subtopic, guint8 id, int decimals)
{
  if (bms_snapshot_has (s, id))
    put_number (b, subtopic, bms_snapshot_get (s, id), decimals);
}

static void
put_switch (ServeBoard *b, const char *subtopic, gboolean on)
{
  put (b, subtopic, on ? "ON" : "OFF");
}

/* ---- discovery ---- */

typedef struct
{
  const char *object;       /* topic below PREFIX/ID and the object id */
  const char *name;
  const char *unit;         /* NULL: none */
  const char *device_class; /* NULL: none */
  const char *state_class;  /* NULL: none (binary sensors) */
  int precision;            /* suggested_display_precision, -1 none */
} Entity;

static const Entity sensors[] = {
  { "pack_voltage", "Pack voltage", "V", "voltage", "measurement", 2 },
  { "current", "Current", "A", "current", "measurement", 2 },
  { "power", "Power", "W", "power", "measurement", 0 },
  { "soc", "State of charge", "%", "battery", "measurement", 0 },
  { "temperature/mosfet", "MOSFET temperature", "°C", "temperature", "measurement", 0 },
  { "temperature/1", "Temperature 1", "°C", "temperature", "measurement", 0 },
  { "temperature/2", "Temperature 2", "°C", "temperature", "measurement", 0 },
  { "cell_min", "Lowest cell", "V", "voltage", "measurement", 3 },
  { "cell_max", "Highest cell", "V", "voltage", "measurement", 3 },
  { "cell_diff", "Cell difference", "V", "voltage", "measurement", 3 },
  { "cycles", "Cycles", NULL, NULL, "total_increasing", 0 },
  { "alarms/count", "Active alarms", NULL, NULL, "measurement", 0 },
};

static const Entity binary_sensors[] = {
  { "status/charge_mos", "Charge MOSFET", NULL, "power", NULL, -1 },
  { "status/discharge_mos", "Discharge MOSFET", NULL, "power", NULL, -1 },
  { "status/balancer", "Balancing", NULL, "running", NULL, -1 },
  { "alarms/problem", "Alarm", NULL, "problem", NULL, -1 },
};

static void
append_member (GString *out, const char *key, const char *value)
{
  if (value == NULL)
    return;
  g_string_append_printf (out, ",\"%s\":", key);
  cli_json_append_string (out, value);
}

static void
append_device (GString *out, ServeBoard *b)
{
  const BmsSnapshot *s = bms_device_get_snapshot (b->device);
  g_autofree char *identifier = g_strdup_printf ("packwatch_%s", b->id);
  const BmsFieldInfo *hw_field = bms_field_lookup_name ("hardware_version");
  g_autofree char *hw = s && hw_field ? bms_snapshot_dup_string (s, hw_field->id) : NULL;
  const char *sw = bms_device_get_software_version (b->device);

  g_string_append (out, ",\"device\":{\"identifiers\":[");
  cli_json_append_string (out, identifier);
  g_string_append (out, "],\"name\":");
  cli_json_append_string (out, b->conf->name);
  append_member (out, "manufacturer", "JK-family BMS (NW protocol)");
  append_member (out, "model", "NW-protocol master BMS");
  append_member (out, "sw_version", sw && *sw ? sw : NULL);
  append_member (out, "hw_version", hw && *hw ? hw : NULL);
  append_member (out, "serial_number", bms_device_get_device_id (b->device));
  g_string_append (out, "}");
}

/* The config of one entity; object_id is the object with '/' as '_'. */
static char *
discovery_payload (ServeBoard *b, const Entity *e, const char *object_id, gboolean binary)
{
  GString *out = g_string_new ("{\"name\":");
  g_autofree char *unique = g_strdup_printf ("packwatch_%s_%s", b->id, object_id);
  g_autofree char *state = g_strdup_printf ("%s/%s", b->base, e->object);
  g_autofree char *availability = g_strdup_printf ("%s/availability", b->base);

  cli_json_append_string (out, e->name);
  append_member (out, "unique_id", unique);
  append_member (out, "state_topic", state);
  /* Both must say "online": serve is connected (its last will says
   * otherwise) and the board answers. */
  g_string_append (out, ",\"availability\":[{\"topic\":");
  cli_json_append_string (out, b->server->bridge_topic);
  g_string_append (out, "},{\"topic\":");
  cli_json_append_string (out, availability);
  g_string_append (out, "}],\"availability_mode\":\"all\"");
  append_member (out, "device_class", e->device_class);
  append_member (out, "unit_of_measurement", e->unit);
  append_member (out, "state_class", e->state_class);
  if (e->precision >= 0)
    g_string_append_printf (out, ",\"suggested_display_precision\":%d", e->precision);
  if (binary)
    g_string_append (out, ",\"payload_on\":\"ON\",\"payload_off\":\"OFF\"");
  g_string_append (out, ",\"qos\":1");
  append_device (out, b);
  g_string_append (out, "}");
  return g_string_free (out, FALSE);
}

static void
announce (ServeBoard *b, const Entity *e, gboolean binary)
{
  g_autofree char *object_id = g_strdelimit (g_strdup (e->object), "/", '_');
  g_autofree char *topic = g_strdup_printf ("%s/%s/%s/%s/config",
                                            b->server->config->discovery_prefix,
                                            binary ? "binary_sensor" : "sensor", b->id, object_id);
  g_autofree char *payload = discovery_payload (b, e, object_id, binary);

  cli_mqtt_publish (b->server->mqtt, topic, payload, TRUE);
}

static void
announce_cells (ServeBoard *b, guint n_cells)
{
  for (guint i = b->announced_cells; i < n_cells; i++)
    {
      g_autofree char *object = g_strdup_printf ("cell/%u", i + 1);
      g_autofree char *name = g_strdup_printf ("Cell %u", i + 1);
      Entity e = { object, name, "V", "voltage", "measurement", 3 };

      announce (b, &e, FALSE);
    }
  b->announced_cells = MAX (b->announced_cells, n_cells);
}

static void
announce_board (ServeBoard *b, const BmsSnapshot *s)
{
  if (!b->server->config->discovery || !cli_mqtt_is_connected (b->server->mqtt))
    return;
  if (!b->announced)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (sensors); i++)
        announce (b, &sensors[i], FALSE);
      for (gsize i = 0; i < G_N_ELEMENTS (binary_sensors); i++)
        announce (b, &binary_sensors[i], TRUE);
      b->announced = TRUE;
    }
  announce_cells (b, s->n_cells);
}

/* ---- state ---- */

static void
put_info (ServeBoard *b)
{
  g_autoptr (GString) out = g_string_new ("{\"name\":");
  const char *device_id = bms_device_get_device_id (b->device);

  cli_json_append_string (out, b->conf->name);
  append_member (out, "device_id", device_id && *device_id ? device_id : NULL);
  append_member (out, "software_version", bms_device_get_software_version (b->device));
  append_member (out, "port", b->line->port);
  g_string_append_printf (out, ",\"address\":%u,\"cells\":%u}", b->conf->address,
                          bms_device_get_cell_count (b->device));
  put (b, "info", out->str);
}

static void
put_cells (ServeBoard *b, const BmsSnapshot *s)
{
  guint lo, hi;

  for (guint i = 0; i < s->n_cells; i++)
    {
      g_autofree char *topic = g_strdup_printf ("cell/%u", i + 1);
      put_number (b, topic, s->cells_mv[i] / 1000.0, 3);
    }
  if (!bms_snapshot_get_cell_range (s, &lo, &hi))
    return;
  put_number (b, "cell_min", s->cells_mv[lo] / 1000.0, 3);
  put_number (b, "cell_max", s->cells_mv[hi] / 1000.0, 3);
  put_number (b, "cell_diff", (s->cells_mv[hi] - s->cells_mv[lo]) / 1000.0, 3);
}

static void
put_alarms (ServeBoard *b)
{
  GListModel *model = G_LIST_MODEL (b->monitor);
  guint n = g_list_model_get_n_items (model);
  g_autoptr (GString) out = g_string_new ("[");

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (BmsAlarm) alarm = g_list_model_get_item (model, i);
      g_autofree char *text = bms_alarm_describe (alarm);

      g_string_append (out, i ? ",{\"code\":" : "{\"code\":");
      cli_json_append_string (out, bms_alarm_get_code (alarm));
      append_member (out, "severity", bms_alarm_severity_to_string (bms_alarm_get_severity (alarm)));
      append_member (out, "text", text);
      g_string_append_printf (out, ",\"raised_at\":%.3f}",
                              bms_alarm_get_raised_at (alarm) / (double) G_USEC_PER_SEC);
    }
  g_string_append (out, "]");
  put (b, "alarms/active", out->str);
  put_number (b, "alarms/count", n, 0);
  put_switch (b, "alarms/problem", n > 0);
}

/* The whole reply as the board sent it, re-encoded as a read-all reply
 * frame in hex (as `capture` writes and `decode` reads them): everything
 * the topics above leave out, for a reader that wants the board exactly as
 * the app sees it. Without the parameter password (0xB2), the key to every
 * write. */
static void
put_frame (ServeBoard *b, const BmsSnapshot *s)
{
  g_autoptr (BmsSnapshot) copy = bms_snapshot_copy (s);
  g_autoptr (GByteArray) info = g_byte_array_new ();
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (BmsFrame) frame = NULL;
  g_autofree char *hex = NULL;

  bms_snapshot_remove (copy, BMS_ID_PASSWORD);
  bms_snapshot_encode (copy, info);
  frame = bms_frame_new (BMS_CMD_READ_ALL, BMS_SOURCE_BMS, BMS_TRANSPORT_REPLY, info->data,
                         info->len);
  bms_frame_encode (frame, bytes);
  hex = bms_hex_format (bytes->data, bytes->len);
  put (b, "frame", hex);
}

static void
put_state (ServeBoard *b, const BmsSnapshot *s)
{
  guint status = (guint) bms_snapshot_get_raw (s, BMS_ID_STATUS);

  put_number (b, "pack_voltage", bms_snapshot_get_pack_voltage (s), 2);
  put_id (b, s, "current", BMS_ID_CURRENT, 2);
  put_number (b, "power", bms_device_get_power (b->device), 0);
  put_id (b, s, "soc", BMS_ID_SOC, 0);
  put_id (b, s, "temperature/mosfet", BMS_ID_MOSFET_TEMP, 0);
  put_id (b, s, "temperature/1", BMS_ID_TEMP1, 0);
  put_id (b, s, "temperature/2", BMS_ID_TEMP2, 0);
  put_id (b, s, "cycles", BMS_ID_CYCLES, 0);
  if (bms_snapshot_has (s, BMS_ID_STATUS))
    {
      put_number (b, "status/flags", status, 0);
      put_switch (b, "status/charge_mos", status & BMS_STATUS_CHARGE_MOS);
      put_switch (b, "status/discharge_mos", status & BMS_STATUS_DISCHARGE_MOS);
      put_switch (b, "status/balancer", status & BMS_STATUS_BALANCER);
    }
  put_cells (b, s);
  put_frame (b, s);
}

void
cli_serve_board_publish (ServeBoard *b)
{
  const BmsSnapshot *s = bms_device_get_snapshot (b->device);

  if (s == NULL || b->id == NULL || !cli_mqtt_is_connected (b->server->mqtt))
    return;
  announce_board (b, s);
  put_info (b);
  put_state (b, s);
  put_alarms (b);
  put (b, "availability", bms_device_get_online (b->device) ? "online" : "offline");
}

void
cli_serve_board_forget (ServeBoard *b)
{
  g_hash_table_remove_all (b->sent);
  b->announced = FALSE;
  b->announced_cells = 0;
}

void
cli_serve_board_publish_availability (ServeBoard *b, gboolean online)
{
  if (b->id != NULL)
    put (b, "availability", online ? "online" : "offline");
}

void
cli_serve_board_publish_alarm (ServeBoard *b, BmsAlarm *alarm, gboolean raised, gint64 time_us)
{
  g_autoptr (GString) out = g_string_new ("{\"event\":");
  g_autofree char *topic = NULL;
  g_autofree char *text = bms_alarm_describe (alarm);

  if (b->id == NULL)
    return;
  topic = g_strdup_printf ("%s/alarms/event", b->base);
  cli_json_append_string (out, raised ? "raised" : "cleared");
  append_member (out, "code", bms_alarm_get_code (alarm));
  append_member (out, "severity", bms_alarm_severity_to_string (bms_alarm_get_severity (alarm)));
  append_member (out, "text", text);
  g_string_append_printf (out, ",\"time\":%.3f}", time_us / (double) G_USEC_PER_SEC);
  cli_mqtt_publish (b->server->mqtt, topic, out->str, FALSE);
  put_alarms (b);
}
