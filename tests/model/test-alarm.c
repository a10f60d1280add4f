/* BmsAlarm and BmsAlarmMonitor: every warning bit, status flag, extension
 * alarm and relay decoded; raise/clear events reach the signal and history. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include "bms-alarm-monitor.h"
#include "device-test-util.h"

/* The vector with both MOS on and no warnings (as published): a quiet
 * board to set single bits on. */
static BmsSnapshot *
quiet_snapshot (void)
{
  BmsSnapshot *s = device_test_load_14s ();
  bms_snapshot_set_raw (s, BMS_ID_STATUS, 0x07);
  bms_snapshot_set_raw (s, BMS_ID_WARNINGS, 0);
  return s;
}

static GPtrArray *
derive_one_bit (guint8 id, guint bit)
{
  g_autoptr (BmsSnapshot) s = quiet_snapshot ();
  bms_snapshot_set_raw (s, id, 1 << bit);
  return bms_alarm_monitor_derive (s);
}

/* Written out here, independent of the implementation's table. */
static const struct
{
  const char *code;
  BmsAlarmSeverity severity;
  gboolean has_value;
  double value;
  double threshold; /* NAN: none */
  guint cell;
} warning_bits[16] = {
  { "low_capacity", BMS_ALARM_SEVERITY_WARNING, TRUE, 15, 20, 0 },
  { "mosfet_over_temp", BMS_ALARM_SEVERITY_PROTECTION, TRUE, 29, 90, 0 },
  { "pack_over_voltage", BMS_ALARM_SEVERITY_PROTECTION, TRUE, 53.59, 56.70, 0 },
  { "pack_under_voltage", BMS_ALARM_SEVERITY_PROTECTION, TRUE, 53.59, 42.70, 0 },
  { "battery_over_temp", BMS_ALARM_SEVERITY_PROTECTION, TRUE, 28, 70, 0 },
  { "charge_over_current", BMS_ALARM_SEVERITY_PROTECTION, TRUE, 2.08, 5, 0 },
  { "discharge_over_current", BMS_ALARM_SEVERITY_PROTECTION, TRUE, 2.08, 7, 0 },
  { "cell_voltage_difference", BMS_ALARM_SEVERITY_WARNING, TRUE, 24, 300, 0 },
  { "box_over_temp", BMS_ALARM_SEVERITY_PROTECTION, TRUE, 30, 100, 0 },
  { "battery_low_temp", BMS_ALARM_SEVERITY_PROTECTION, TRUE, 28, -20, 0 },
  { "cell_over_voltage", BMS_ALARM_SEVERITY_PROTECTION, TRUE, 3835, 4050, 12 },
  { "cell_under_voltage", BMS_ALARM_SEVERITY_PROTECTION, TRUE, 3811, 3050, 9 },
  { "protection_309_a", BMS_ALARM_SEVERITY_PROTECTION, FALSE, 0, NAN, 0 },
  { "protection_309_b", BMS_ALARM_SEVERITY_PROTECTION, FALSE, 0, NAN, 0 },
  { "reserved_14", BMS_ALARM_SEVERITY_INFO, FALSE, 0, NAN, 0 },
  { "reserved_15", BMS_ALARM_SEVERITY_INFO, FALSE, 0, NAN, 0 },
};

static void
test_every_warning_bit (void)
{
  const BmsFieldInfo *field = bms_field_lookup (BMS_ID_WARNINGS);

  for (guint bit = 0; bit < 16; bit++)
    {
      g_autoptr (GPtrArray) alarms = derive_one_bit (BMS_ID_WARNINGS, bit);
      BmsAlarm *alarm;

      g_test_message ("0x8B bit %u", bit);
      g_assert_cmpuint (alarms->len, ==, 1);
      alarm = g_ptr_array_index (alarms, 0);
      g_assert_cmpstr (bms_alarm_get_code (alarm), ==, field->names[bit]);
      g_assert_cmpstr (bms_alarm_get_code (alarm), ==, warning_bits[bit].code);
      g_assert_cmpint (bms_alarm_get_severity (alarm), ==, warning_bits[bit].severity);
      g_assert_cmpint (bms_alarm_get_source_id (alarm), ==, BMS_ID_WARNINGS);
      g_assert_cmpstr (bms_alarm_get_name (alarm), !=, bms_alarm_get_code (alarm));
      g_assert_true (g_utf8_validate (bms_alarm_get_name_zh (alarm), -1, NULL));
      g_assert_cmpuint (g_utf8_strlen (bms_alarm_get_name_zh (alarm), -1), >=, 2);
      g_assert_cmpint (bms_alarm_get_has_value (alarm), ==, warning_bits[bit].has_value);
      if (warning_bits[bit].has_value)
        g_assert_cmpfloat_with_epsilon (bms_alarm_get_value (alarm), warning_bits[bit].value, 1e-9);
      if (isnan (warning_bits[bit].threshold))
        g_assert_false (bms_alarm_get_has_threshold (alarm));
      else
        g_assert_cmpfloat_with_epsilon (bms_alarm_get_threshold (alarm),
                                        warning_bits[bit].threshold, 1e-9);
      g_assert_cmpuint (bms_alarm_get_cell (alarm), ==, warning_bits[bit].cell);
      g_assert_cmpint (bms_alarm_get_raised_at (alarm), ==,
                       G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC);
    }
}

/* A high-voltage master protects the pack through the 4-byte pair: the
 * alarm's limit is 0xEE/0xEF when set, 0x8E/0x8F when they are 0. */
static void
test_high_voltage_threshold (void)
{
  const struct { guint bit; guint8 hv_id; gint64 hv_raw; double limit; } cases[] = {
    { 2, BMS_ID_PACK_OVP_HV, 94720, 947.20 },
    { 3, BMS_ID_PACK_UVP_HV, 62720, 627.20 },
    { 2, BMS_ID_PACK_OVP_HV, 0, 56.70 }, /* 0: not used */
    { 3, BMS_ID_PACK_UVP_HV, 0, 42.70 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (BmsSnapshot) s = quiet_snapshot ();
      g_autoptr (GPtrArray) alarms = NULL;

      bms_snapshot_set_raw (s, BMS_ID_WARNINGS, 1 << cases[i].bit);
      bms_snapshot_set_raw (s, cases[i].hv_id, cases[i].hv_raw);
      alarms = bms_alarm_monitor_derive (s);
      g_assert_cmpuint (alarms->len, ==, 1);
      g_assert_true (bms_alarm_get_has_threshold (g_ptr_array_index (alarms, 0)));
      g_assert_cmpfloat_with_epsilon (bms_alarm_get_threshold (g_ptr_array_index (alarms, 0)),
                                      cases[i].limit, 1e-9);
    }
}

static void
test_describe (void)
{
  g_autoptr (GPtrArray) alarms = derive_one_bit (BMS_ID_WARNINGS, 10);
  g_autofree char *text = bms_alarm_describe (g_ptr_array_index (alarms, 0));

  g_assert_cmpstr (text, ==, "Cell over-voltage (cell 12): 3835 mV, limit 4050 mV");
  g_assert_cmpstr (bms_alarm_get_name_zh (g_ptr_array_index (alarms, 0)), ==, "单体过压");
}

static void
test_discharging_threshold (void)
{
  g_autoptr (BmsSnapshot) s = quiet_snapshot ();
  g_autoptr (GPtrArray) alarms = NULL;

  bms_snapshot_set_raw (s, BMS_ID_CURRENT, -1500);
  bms_snapshot_set_raw (s, BMS_ID_WARNINGS, 1 << 4); /* battery over-temperature */
  alarms = bms_alarm_monitor_derive (s);
  /* Discharging: the discharge high-temperature limit (0xA4 = 70 °C). */
  g_assert_cmpfloat (bms_alarm_get_threshold (g_ptr_array_index (alarms, 0)), ==,
                     bms_snapshot_get (s, 0xA4));
  g_ptr_array_unref (g_steal_pointer (&alarms));
  bms_snapshot_set_raw (s, BMS_ID_WARNINGS, 1 << 6); /* discharge over-current */
  alarms = bms_alarm_monitor_derive (s);
  g_assert_cmpfloat_with_epsilon (bms_alarm_get_value (g_ptr_array_index (alarms, 0)), 15, 1e-9);
}

static void
test_every_extension_bit (void)
{
  const BmsFieldInfo *field = bms_field_lookup (BMS_ID_ALARMS_EXT);
  guint n_names = g_strv_length ((char **)field->names);

  for (guint bit = 0; bit < field->size * 8u; bit++)
    {
      g_autoptr (GPtrArray) alarms = derive_one_bit (BMS_ID_ALARMS_EXT, bit);
      BmsAlarm *alarm;

      g_test_message ("0xD7 bit %u", bit);
      g_assert_cmpuint (alarms->len, ==, 1);
      alarm = g_ptr_array_index (alarms, 0);
      if (bit < n_names)
        {
          g_assert_cmpstr (bms_alarm_get_code (alarm), ==, field->names[bit]);
          g_assert_nonnull (bms_alarm_info_lookup (field->names[bit]));
          g_assert_cmpint (bms_alarm_get_source_id (alarm), ==, BMS_ID_ALARMS_EXT);
        }
      else
        {
          g_autofree char *code = g_strdup_printf ("0xd7_bit_%u", bit);
          g_assert_cmpstr (bms_alarm_get_code (alarm), ==, code);
          g_assert_cmpint (bms_alarm_get_severity (alarm), ==, BMS_ALARM_SEVERITY_WARNING);
        }
    }
  /* Level-2 over-voltage carries the highest cell and the level-2 limit. */
  {
    g_autoptr (BmsSnapshot) s = quiet_snapshot ();
    g_autoptr (GPtrArray) alarms = NULL;
    BmsAlarm *alarm;

    bms_snapshot_set_raw (s, BMS_ID_CELL_OVP2, 4200);
    bms_snapshot_set_raw (s, BMS_ID_ALARMS_EXT, 1);
    alarms = bms_alarm_monitor_derive (s);
    alarm = g_ptr_array_index (alarms, 0);
    g_assert_cmpstr (bms_alarm_get_code (alarm), ==, "cell_over_voltage_level2");
    g_assert_cmpint (bms_alarm_get_severity (alarm), ==, BMS_ALARM_SEVERITY_FAULT);
    g_assert_cmpuint (bms_alarm_get_cell (alarm), ==, 12);
    g_assert_cmpfloat (bms_alarm_get_threshold (alarm), ==, 4200);
  }
}

static void
test_status_and_relays (void)
{
  g_autoptr (BmsSnapshot) s = quiet_snapshot ();
  g_autoptr (GPtrArray) alarms = NULL;
  const BmsFieldInfo *relays = bms_field_lookup (BMS_ID_RELAYS);

  /* Status bit 3 raises nothing, set or clear: healthy real boards send it
   * clear (0x0007, 0x0003; 0x0004 with both MOS switched off), and a set
   * bit is only the field's reading "battery dropped". */
  static const guint statuses[] = { 0x07, 0x03, 0x0F, 0x0B };

  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      bms_snapshot_set_raw (s, BMS_ID_STATUS, statuses[i]);
      alarms = bms_alarm_monitor_derive (s);
      g_assert_cmpuint (alarms->len, ==, 0);
      g_ptr_array_unref (g_steal_pointer (&alarms));
    }
  bms_snapshot_set_raw (s, BMS_ID_STATUS, 0x04);
  bms_snapshot_set_raw (s, 0xAB, 0);
  bms_snapshot_set_raw (s, 0xAC, 0);
  alarms = bms_alarm_monitor_derive (s);
  g_assert_cmpuint (alarms->len, ==, 0);
  g_ptr_array_unref (g_steal_pointer (&alarms));
  bms_snapshot_set_raw (s, 0xAB, 1);
  bms_snapshot_set_raw (s, 0xAC, 1);

  /* Charge MOS open while its switch (0xAB) is on: the board opened it. */
  bms_snapshot_set_raw (s, BMS_ID_STATUS, 0x06);
  alarms = bms_alarm_monitor_derive (s);
  g_assert_cmpuint (alarms->len, ==, 1);
  g_assert_cmpstr (bms_alarm_get_code (g_ptr_array_index (alarms, 0)), ==, "charge_mos_off");
  g_ptr_array_unref (g_steal_pointer (&alarms));
  bms_snapshot_set_raw (s, 0xAB, 0); /* switched off by the user: no alarm */
  alarms = bms_alarm_monitor_derive (s);
  g_assert_cmpuint (alarms->len, ==, 0);
  g_ptr_array_unref (g_steal_pointer (&alarms));
  bms_snapshot_set_raw (s, BMS_ID_STATUS, 0x05);
  alarms = bms_alarm_monitor_derive (s);
  g_assert_cmpuint (alarms->len, ==, 1);
  g_assert_cmpstr (bms_alarm_get_code (g_ptr_array_index (alarms, 0)), ==, "discharge_mos_off");
  g_ptr_array_unref (g_steal_pointer (&alarms));
  bms_snapshot_set_raw (s, BMS_ID_STATUS, 0x07);

  /* Relays: only the level-2 trip is an alarm; the others are states. */
  for (guint bit = 0; relays->names[bit]; bit++)
    {
      gboolean is_alarm = g_str_equal (relays->names[bit], "level2");
      bms_snapshot_set_raw (s, BMS_ID_RELAYS, 1 << bit);
      alarms = bms_alarm_monitor_derive (s);
      g_assert_cmpuint (alarms->len, ==, is_alarm ? 1 : 0);
      if (is_alarm)
        g_assert_cmpint (bms_alarm_get_severity (g_ptr_array_index (alarms, 0)), ==,
                         BMS_ALARM_SEVERITY_FAULT);
      g_ptr_array_unref (g_steal_pointer (&alarms));
    }
}

/* The vendor's own example frame, as published (status 0x0007): a healthy
 * board. Through the device and its monitor it raises nothing and the
 * device reports no dropped battery or wire fault. */
static void
test_vendor_example_quiet (void)
{
  g_autoptr (BmsSnapshot) s = device_test_load_14s ();
  g_autoptr (BmsDevice) device = bms_device_new (1);
  g_autoptr (BmsAlarmMonitor) monitor = bms_alarm_monitor_new (device);
  gboolean dropped = TRUE;

  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_STATUS), ==, 0x0007);
  bms_device_update (device, s);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (monitor)), ==, 0);
  g_assert_cmpint (bms_alarm_monitor_get_highest_severity (monitor), ==, -1);
  g_object_get (device, "battery-dropped", &dropped, NULL);
  g_assert_false (dropped);
  g_assert_null (g_object_class_find_property (G_OBJECT_GET_CLASS (device), "cell-wire-ok"));

  /* A set bit 3 is the field's "battery dropped": stated, not an alarm. */
  s->timestamp_us += G_USEC_PER_SEC;
  bms_snapshot_set_raw (s, BMS_ID_STATUS, 0x000F);
  bms_device_update (device, s);
  g_object_get (device, "battery-dropped", &dropped, NULL);
  g_assert_true (dropped);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (monitor)), ==, 0);
}

static void
test_table_complete (void)
{
  static const guint8 sources[] = { BMS_ID_WARNINGS, BMS_ID_ALARMS_EXT };
  const BmsAlarmInfo *all;
  guint n;

  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    {
      const BmsFieldInfo *field = bms_field_lookup (sources[i]);
      for (guint bit = 0; field->names[bit]; bit++)
        {
          const BmsAlarmInfo *info = bms_alarm_info_lookup (field->names[bit]);
          g_assert_nonnull (info);
          g_assert_cmpint (info->source_id, ==, sources[i]);
        }
    }
  all = bms_alarm_info_all (&n);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpstr (all[i].name, !=, "");
      g_assert_true (g_utf8_validate (all[i].name_zh, -1, NULL));
      if (all[i].threshold_id)
        g_assert_nonnull (bms_field_lookup (all[i].threshold_id));
    }
}

typedef struct
{
  guint raised;
  guint cleared;
  char *last_code;
} Events;

static void
on_event (BmsAlarmMonitor *monitor, BmsAlarm *alarm, gboolean raised, gint64 time_us,
          Events *events)
{
  if (raised)
    events->raised++;
  else
    events->cleared++;
  g_free (events->last_code);
  events->last_code = g_strdup (bms_alarm_get_code (alarm));
}

static void
test_monitor_events_to_history (void)
{
  g_autofree char *dir = g_dir_make_tmp ("alarm-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) history = bms_history_new (path, &error);
  g_autoptr (BmsDevice) device = bms_device_new (1);
  g_autoptr (BmsAlarmMonitor) monitor = bms_alarm_monitor_new (device);
  g_autoptr (BmsSnapshot) s = quiet_snapshot ();
  g_autoptr (GPtrArray) rows = NULL;
  Events events = { 0 };
  BmsHistoryAlarmEvent *row;
  gint64 id;

  g_assert_no_error (error);
  id = bms_history_ensure_device (history, "addr:1", "Board 1", &error);
  g_assert_no_error (error);
  bms_alarm_monitor_set_history (monitor, history, id);
  g_signal_connect (monitor, "event", G_CALLBACK (on_event), &events);

  bms_device_update (device, s);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (monitor)), ==, 0);
  g_assert_cmpint (bms_alarm_monitor_get_highest_severity (monitor), ==, -1);

  s->timestamp_us += G_USEC_PER_SEC;
  bms_snapshot_set_raw (s, BMS_ID_WARNINGS, 1 << 10);
  bms_device_update (device, s);
  g_assert_cmpuint (events.raised, ==, 1);
  g_assert_cmpstr (events.last_code, ==, "cell_over_voltage");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (monitor)), ==, 1);
  g_assert_cmpint (bms_alarm_monitor_get_highest_severity (monitor), ==,
                   BMS_ALARM_SEVERITY_PROTECTION);

  /* Still active, the value moves: no new event, the alarm follows. */
  s->timestamp_us += G_USEC_PER_SEC;
  s->cells_mv[11] = 3840;
  bms_device_update (device, s);
  g_assert_cmpuint (events.raised, ==, 1);
  g_assert_cmpfloat (bms_alarm_get_value (bms_alarm_monitor_lookup (monitor, "cell_over_voltage")),
                     ==, 3840);

  s->timestamp_us += G_USEC_PER_SEC;
  bms_snapshot_set_raw (s, BMS_ID_WARNINGS, 0);
  bms_device_update (device, s);
  g_assert_cmpuint (events.cleared, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (monitor)), ==, 0);

  g_assert_true (bms_history_flush (history, &error));
  g_assert_no_error (error);
  rows = bms_history_query_alarm_events (history, id, 0, G_MAXINT64, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 2);
  row = g_ptr_array_index (rows, 0);
  g_assert_cmpstr (row->code, ==, "cell_over_voltage");
  g_assert_true (row->raised);
  g_assert_cmpfloat (row->value, ==, 3835);
  g_assert_cmpfloat (row->threshold, ==, 4050);
  g_assert_cmpint (row->time_us / 1000, ==,
                   (G_GINT64_CONSTANT (1700000001) * G_USEC_PER_SEC) / 1000);
  row = g_ptr_array_index (rows, 1);
  g_assert_false (row->raised);
  g_assert_cmpfloat (row->value, ==, 3840);

  g_signal_handlers_disconnect_by_data (monitor, &events);
  g_free (events.last_code);
  bms_history_close (history);
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name (d)))
      {
        g_autofree char *p = g_build_filename (dir, name, NULL);
        g_unlink (p);
      }
  }
  g_rmdir (dir);
}

static void
test_module_of_cell (void)
{
  g_autoptr (BmsSnapshot) s = quiet_snapshot ();
  g_autoptr (GPtrArray) alarms = NULL;
  guint8 counts[16] = { 8, 6 };

  bms_snapshot_set_raw (s, BMS_ID_MODULE_COUNT, 2);
  bms_snapshot_set_bytes (s, BMS_ID_MODULE_CELLS, counts, 16);
  bms_snapshot_set_raw (s, BMS_ID_WARNINGS, 1 << 10);
  alarms = bms_alarm_monitor_derive (s);
  g_assert_cmpuint (bms_alarm_get_cell (g_ptr_array_index (alarms, 0)), ==, 12);
  g_assert_cmpuint (bms_alarm_get_module (g_ptr_array_index (alarms, 0)), ==, 2);
}

static void
test_comm_lost (void)
{
  g_autoptr (BmsDevice) device = bms_device_new (1);
  g_autoptr (BmsAlarmMonitor) monitor = bms_alarm_monitor_new (device);
  g_autoptr (BmsSnapshot) s = quiet_snapshot ();
  Events events = { 0 };
  BmsAlarm *alarm;

  g_signal_connect (monitor, "event", G_CALLBACK (on_event), &events);
  bms_snapshot_set_raw (s, BMS_ID_WARNINGS, 1 << 10);
  bms_device_update (device, s);
  g_assert_cmpuint (events.raised, ==, 1);

  /* Three missed cycles later the poller marks the device offline. */
  bms_device_set_online (device, FALSE);
  g_assert_cmpuint (events.raised, ==, 2);
  g_assert_cmpstr (events.last_code, ==, "comm_lost");
  alarm = bms_alarm_monitor_lookup (monitor, "comm_lost");
  g_assert_nonnull (alarm);
  g_assert_cmpint (bms_alarm_get_severity (alarm), ==, BMS_ALARM_SEVERITY_FAULT);
  g_assert_cmpstr (bms_alarm_get_name_zh (alarm), ==, "通讯中断");
  /* What the board said last stays: nobody knows better. */
  g_assert_nonnull (bms_alarm_monitor_lookup (monitor, "cell_over_voltage"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (monitor)), ==, 2);

  /* It answers again, with the over-voltage gone. */
  s->timestamp_us += 10 * G_USEC_PER_SEC;
  bms_snapshot_set_raw (s, BMS_ID_WARNINGS, 0);
  bms_device_update (device, s);
  g_assert_cmpuint (events.cleared, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (monitor)), ==, 0);

  g_signal_handlers_disconnect_by_data (monitor, &events);
  g_free (events.last_code);
}

/* docs/alarms.md lists every code with its names and severity. */
static void
test_documented (void)
{
  const char *root = g_getenv ("PACKWATCH_SOURCE_ROOT");
  g_autofree char *path = g_build_filename (root ? root : ".", "docs", "alarms.md", NULL);
  g_autofree char *doc = NULL;
  const BmsAlarmInfo *all;
  guint n;

  g_assert_true (g_file_get_contents (path, &doc, NULL, NULL));
  all = bms_alarm_info_all (&n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *row = g_strdup_printf ("| `%s` | ", all[i].code);
      g_autofree char *names = g_strdup_printf ("| %s | %s | %s |", all[i].name, all[i].name_zh,
                                                bms_alarm_severity_to_string (all[i].severity));
      const char *line = strstr (doc, row);

      g_test_message ("%s", all[i].code);
      g_assert_nonnull (line);
      g_assert_nonnull (strstr (line, names));
      g_assert_true (strstr (line, names) < strchr (line, '\n'));
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/alarm/every-warning-bit", test_every_warning_bit);
  g_test_add_func ("/alarm/describe", test_describe);
  g_test_add_func ("/alarm/high-voltage-threshold", test_high_voltage_threshold);
  g_test_add_func ("/alarm/discharging-threshold", test_discharging_threshold);
  g_test_add_func ("/alarm/every-extension-bit", test_every_extension_bit);
  g_test_add_func ("/alarm/status-and-relays", test_status_and_relays);
  g_test_add_func ("/alarm/vendor-example-quiet", test_vendor_example_quiet);
  g_test_add_func ("/alarm/table-complete", test_table_complete);
  g_test_add_func ("/alarm/module-of-cell", test_module_of_cell);
  g_test_add_func ("/alarm/monitor-events-to-history", test_monitor_events_to_history);
  g_test_add_func ("/alarm/comm-lost", test_comm_lost);
  g_test_add_func ("/alarm/documented", test_documented);
  return g_test_run ();
}
