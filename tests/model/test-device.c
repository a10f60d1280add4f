/* BmsDevice, BmsCell, BmsModule: values from a snapshot, notify only on change. */
#include <math.h>
#include "bms-device.h"
#include "device-test-util.h"

typedef struct
{
  GHashTable *counts; /* property name -> notify count */
} NotifyLog;

static void
on_notify (GObject *object, GParamSpec *pspec, NotifyLog *log)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (log->counts, pspec->name));
  g_hash_table_insert (log->counts, (gpointer)pspec->name, GUINT_TO_POINTER (n + 1));
}

static guint
notified (NotifyLog *log, const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (log->counts, name));
}

static void
test_values_from_vector (void)
{
  g_autoptr (BmsSnapshot) snap = device_test_load_14s ();
  g_autoptr (BmsDevice) device = bms_device_new (1);
  g_autoptr (BmsCell) cell9 = NULL;
  g_autoptr (BmsModule) module = NULL;
  g_autofree char *key = NULL;
  BmsDeviceState state;

  bms_device_update (device, snap);
  g_assert_cmpfloat_with_epsilon (bms_device_get_pack_voltage (device), 53.59, 1e-9);
  g_assert_cmpfloat_with_epsilon (bms_device_get_current (device), 2.08, 1e-9);
  g_assert_cmpfloat_with_epsilon (bms_device_get_power (device), 111.47, 1e-9);
  g_assert_cmpuint (bms_device_get_soc (device), ==, 15);
  g_object_get (device, "state", &state, NULL);
  g_assert_cmpint (state, ==, BMS_DEVICE_STATE_CHARGING);
  g_assert_cmpfloat (bms_device_get_mosfet_temperature (device), ==, 29);
  g_assert_cmpfloat (bms_device_get_temperature_1 (device), ==, 30);
  g_assert_cmpfloat (bms_device_get_temperature_2 (device), ==, 28);
  g_assert_cmpfloat (bms_device_get_temperature_min (device), ==, 28);
  g_assert_cmpfloat (bms_device_get_temperature_max (device), ==, 30);
  g_assert_cmpuint (bms_device_get_cycles (device), ==, 4);
  g_assert_cmpuint (bms_device_get_status (device), ==, 7);
  g_assert_cmpuint (bms_device_get_cell_count (device), ==, 14);
  g_assert_cmpfloat_with_epsilon (bms_device_get_min_cell_voltage (device), 3.811, 1e-9);
  g_assert_cmpuint (bms_device_get_min_cell_index (device), ==, 9);
  g_assert_cmpfloat_with_epsilon (bms_device_get_max_cell_voltage (device), 3.835, 1e-9);
  g_assert_cmpuint (bms_device_get_max_cell_index (device), ==, 12);
  g_assert_cmpfloat_with_epsilon (bms_device_get_cell_difference (device), 0.024, 1e-9);
  g_assert_cmpstr (bms_device_get_software_version (device), ==, "H6.X__S6.1.3S__");
  g_assert_cmpstr (bms_device_get_device_id (device), ==, "Input Us");
  g_assert_cmpstr (bms_device_get_manufacture_date (device), ==, "2101");
  g_assert_cmpuint (bms_device_get_protocol_version (device), ==, 1);
  g_assert_true (bms_device_get_online (device));
  g_assert_cmpint (bms_device_get_connected_since (device), ==, snap->timestamp_us);
  g_assert_true (bms_device_get_snapshot (device) != snap);
  g_assert_cmpint (bms_snapshot_get_raw (bms_device_get_snapshot (device), 0x90), ==, 4050);
  key = bms_device_dup_key (device);
  g_assert_cmpstr (key, ==, "id:Input Us");

  g_assert_cmpuint (g_list_model_get_n_items (bms_device_get_cells (device)), ==, 14);
  cell9 = g_list_model_get_item (bms_device_get_cells (device), 8);
  g_assert_cmpuint (bms_cell_get_index (cell9), ==, 9);
  g_assert_cmpuint (bms_cell_get_millivolts (cell9), ==, 3811);
  g_assert_true (bms_cell_get_is_min (cell9));
  g_assert_false (bms_cell_get_is_max (cell9));
  /* Balancer on, start 3300 mV, accuracy 8 mV: the lowest cell does not bleed. */
  g_assert_false (bms_cell_get_balancing (cell9));

  g_assert_cmpuint (g_list_model_get_n_items (bms_device_get_modules (device)), ==, 1);
  module = g_list_model_get_item (bms_device_get_modules (device), 0);
  g_assert_cmpuint (bms_module_get_cell_count (module), ==, 14);
  g_assert_cmpuint (bms_module_get_min_millivolts (module), ==, 3811);
  g_assert_cmpuint (bms_module_get_max_millivolts (module), ==, 3835);
}

static void
test_balancing_derived (void)
{
  g_autoptr (BmsSnapshot) snap = device_test_load_14s ();
  g_autoptr (BmsDevice) device = bms_device_new (1);
  GListModel *cells = bms_device_get_cells (device);

  bms_device_update (device, snap);
  for (guint i = 0; i < 14; i++)
    {
      g_autoptr (BmsCell) cell = g_list_model_get_item (cells, i);
      gboolean expect = snap->cells_mv[i] - 3811 >= 8;
      g_assert_cmpint (bms_cell_get_balancing (cell), ==, expect);
    }
  /* Balancer bit off: nothing bleeds. */
  bms_snapshot_set_raw (snap, 0x8C, 0x0B);
  bms_device_update (device, snap);
  for (guint i = 0; i < 14; i++)
    {
      g_autoptr (BmsCell) cell = g_list_model_get_item (cells, i);
      g_assert_false (bms_cell_get_balancing (cell));
    }
  g_assert_true (bms_device_get_status (device) == 0x0B);
}

/* What the Monitor page draws besides the cells: limits, relays, the
 * balancer's sensor, each from its field and notified once per change. */
static void
test_limits_and_relays (void)
{
  g_autoptr (BmsSnapshot) snap = device_test_load_14s ();
  g_autoptr (BmsDevice) device = bms_device_new (1);
  NotifyLog log = { g_hash_table_new (g_str_hash, g_str_equal) };
  const BmsFieldInfo *relays = bms_field_lookup_name ("relays");
  const BmsFieldInfo *balancer = bms_field_lookup_name ("balance_temp_c");
  const BmsFieldInfo *start = bms_field_lookup_name ("balance_start_mv");

  g_assert_true (isnan (bms_device_get_balancer_temperature (device)));
  bms_snapshot_remove (snap, relays->id);
  bms_snapshot_remove (snap, balancer->id);
  bms_device_update (device, snap);
  g_assert_cmpuint (bms_device_get_cell_ovp_mv (device), ==, bms_snapshot_get_raw (snap, BMS_ID_CELL_OVP));
  g_assert_cmpuint (bms_device_get_cell_ovp_recovery_mv (device), ==,
                    bms_snapshot_get_raw (snap, BMS_ID_CELL_OVP_RECOVERY));
  g_assert_cmpuint (bms_device_get_cell_uvp_mv (device), ==, bms_snapshot_get_raw (snap, BMS_ID_CELL_UVP));
  g_assert_cmpuint (bms_device_get_cell_uvp_recovery_mv (device), ==,
                    bms_snapshot_get_raw (snap, BMS_ID_CELL_UVP_RECOVERY));
  g_assert_cmpuint (bms_device_get_balance_start_mv (device), ==, bms_snapshot_get_raw (snap, start->id));
  g_assert_cmpuint (bms_device_get_cell_ovp_mv (device), >, bms_device_get_cell_uvp_mv (device));
  g_assert_false (bms_device_get_has_relays (device));
  g_assert_true (bms_device_get_has_current (device));
  g_assert_true (isnan (bms_device_get_balancer_temperature (device)));

  g_signal_connect (device, "notify", G_CALLBACK (on_notify), &log);
  bms_device_update (device, snap);
  g_assert_cmpuint (g_hash_table_size (log.counts), ==, 0);

  bms_snapshot_set_raw (snap, relays->id, 0x05);
  bms_snapshot_set_raw (snap, balancer->id, 31);
  bms_snapshot_set_raw (snap, BMS_ID_CELL_OVP, bms_snapshot_get_raw (snap, BMS_ID_CELL_OVP) - 10);
  bms_device_update (device, snap);
  bms_device_update (device, snap);
  g_assert_true (bms_device_get_has_relays (device));
  g_assert_cmpuint (bms_device_get_relays (device), ==, 0x05);
  g_assert_cmpfloat (bms_device_get_balancer_temperature (device), ==, bms_snapshot_get (snap, balancer->id));
  g_assert_cmpuint (notified (&log, "has-relays"), ==, 1);
  g_assert_cmpuint (notified (&log, "relays"), ==, 1);
  g_assert_cmpuint (notified (&log, "balancer-temperature"), ==, 1);
  g_assert_cmpuint (notified (&log, "cell-ovp-mv"), ==, 1);
  g_assert_cmpuint (notified (&log, "cell-uvp-mv"), ==, 0);
  g_assert_cmpuint (g_hash_table_size (log.counts), ==, 4);
  g_hash_table_unref (log.counts);
}

static void
test_warning_bits (void)
{
  g_autoptr (BmsSnapshot) snap = device_test_load_14s ();
  g_autoptr (BmsDevice) device = bms_device_new (1);
  const BmsFieldInfo *warnings = bms_field_lookup (BMS_ID_WARNINGS);

  for (guint i = 0; warnings->names[i] != NULL; i++)
    {
      bms_snapshot_set_raw (snap, BMS_ID_WARNINGS, 1 << i);
      bms_device_update (device, snap);
      for (guint j = 0; warnings->names[j] != NULL; j++)
        g_assert_true (bms_device_get_warning (device, warnings->names[j]) == (i == j));
    }
}

/* The lease as the Lease page shows it; the state derived from the end on
 * a board without the state field. */
static void
test_lease (void)
{
  g_autoptr (BmsSnapshot) snap = device_test_load_14s ();
  g_autoptr (BmsDevice) device = bms_device_new (1);
  NotifyLog log = { g_hash_table_new (g_str_hash, g_str_equal) };

  bms_snapshot_remove (snap, BMS_ID_LEASE_END);
  bms_snapshot_remove (snap, BMS_ID_LEASE_STATE);
  bms_snapshot_remove (snap, BMS_ID_LEASE_CODE);
  bms_device_update (device, snap);
  g_assert_false (bms_device_get_has_lease (device));
  g_assert_null (bms_device_get_lease_code (device));

  g_signal_connect (device, "notify", G_CALLBACK (on_notify), &log);
  bms_snapshot_set_raw (snap, BMS_ID_LEASE_END, 1900000000);
  bms_snapshot_set_string (snap, BMS_ID_LEASE_CODE, "A1B2");
  bms_device_update (device, snap);
  bms_device_update (device, snap);
  g_assert_true (bms_device_get_has_lease (device));
  g_assert_cmpint (bms_device_get_lease_end (device), ==, 1900000000);
  g_assert_cmpuint (bms_device_get_lease_state (device), ==, 1);
  g_assert_cmpstr (bms_device_get_lease_code (device), ==, "A1B2");
  g_assert_cmpuint (notified (&log, "lease-end"), ==, 1);
  g_assert_cmpuint (notified (&log, "lease-code"), ==, 1);

  /* The board's own state wins over the derivation. */
  bms_snapshot_set_raw (snap, BMS_ID_LEASE_STATE, 2);
  bms_device_update (device, snap);
  g_assert_cmpuint (bms_device_get_lease_state (device), ==, 2);
  bms_snapshot_remove (snap, BMS_ID_LEASE_STATE);
  bms_snapshot_set_raw (snap, BMS_ID_LEASE_END, 0);
  bms_device_update (device, snap);
  g_assert_cmpuint (bms_device_get_lease_state (device), ==, 0);
  g_hash_table_unref (log.counts);
}

static void
test_notify_only_on_change (void)
{
  g_autoptr (BmsSnapshot) snap = device_test_load_14s ();
  g_autoptr (BmsDevice) device = bms_device_new (1);
  g_autoptr (BmsCell) cell1 = NULL, cell2 = NULL;
  NotifyLog dev_log = { g_hash_table_new (g_str_hash, g_str_equal) };
  NotifyLog c1_log = { g_hash_table_new (g_str_hash, g_str_equal) };
  NotifyLog c2_log = { g_hash_table_new (g_str_hash, g_str_equal) };

  bms_device_update (device, snap);
  cell1 = g_list_model_get_item (bms_device_get_cells (device), 0);
  cell2 = g_list_model_get_item (bms_device_get_cells (device), 1);
  g_signal_connect (device, "notify", G_CALLBACK (on_notify), &dev_log);
  g_signal_connect (cell1, "notify", G_CALLBACK (on_notify), &c1_log);
  g_signal_connect (cell2, "notify", G_CALLBACK (on_notify), &c2_log);

  /* The same values again: not one notification. */
  bms_device_update (device, snap);
  g_assert_cmpuint (g_hash_table_size (dev_log.counts), ==, 0);
  g_assert_cmpuint (g_hash_table_size (c1_log.counts), ==, 0);

  /* One cell moves by 2 mV, still neither min nor max. */
  snap->cells_mv[0] += 2;
  bms_device_update (device, snap);
  g_assert_cmpuint (notified (&c1_log, "millivolts"), ==, 1);
  g_assert_cmpuint (notified (&c1_log, "voltage"), ==, 1);
  g_assert_cmpuint (g_hash_table_size (c2_log.counts), ==, 0);
  g_assert_cmpuint (notified (&dev_log, "pack-voltage"), ==, 0);
  g_assert_cmpuint (notified (&dev_log, "min-cell-voltage"), ==, 0);
  g_assert_cmpuint (notified (&dev_log, "max-cell-index"), ==, 0);
  g_assert_cmpuint (notified (&dev_log, "cell-average"), ==, 1);
  g_assert_cmpuint (g_hash_table_size (dev_log.counts), ==, 1);

  /* The current changes sign: current, power and state, once each. */
  g_hash_table_remove_all (dev_log.counts);
  bms_snapshot_set_raw (snap, 0x84, -500);
  bms_device_update (device, snap);
  g_assert_cmpuint (notified (&dev_log, "current"), ==, 1);
  g_assert_cmpuint (notified (&dev_log, "power"), ==, 1);
  g_assert_cmpuint (notified (&dev_log, "state"), ==, 1);
  g_assert_cmpuint (g_hash_table_size (dev_log.counts), ==, 3);
  g_assert_cmpint (bms_device_get_state (device), ==, BMS_DEVICE_STATE_DISCHARGING);

  /* Offline: online, connected-since, time-connected; twice is once. */
  g_hash_table_remove_all (dev_log.counts);
  bms_device_set_online (device, FALSE);
  bms_device_set_online (device, FALSE);
  g_assert_cmpuint (notified (&dev_log, "online"), ==, 1);
  g_assert_cmpuint (notified (&dev_log, "connected-since"), ==, 1);
  g_assert_false (bms_device_get_online (device));
  g_assert_cmpint (bms_device_get_connected_since (device), ==, 0);

  g_hash_table_remove_all (dev_log.counts);
  bms_device_set_password_state (device, FALSE, 300);
  bms_device_set_password_state (device, FALSE, 300);
  g_assert_cmpuint (notified (&dev_log, "password-locked"), ==, 1);
  g_assert_cmpuint (notified (&dev_log, "unlock-remaining"), ==, 1);

  g_signal_handlers_disconnect_by_data (device, &dev_log);
  g_signal_handlers_disconnect_by_data (cell1, &c1_log);
  g_signal_handlers_disconnect_by_data (cell2, &c2_log);
  g_hash_table_unref (dev_log.counts);
  g_hash_table_unref (c1_log.counts);
  g_hash_table_unref (c2_log.counts);
}

static void
test_modules_256 (void)
{
  g_autoptr (BmsSnapshot) snap = bms_snapshot_new ();
  g_autoptr (BmsDevice) device = bms_device_new (1);
  guint16 mv[BMS_MAX_CELLS];
  gint16 temps[BMS_MAX_MODULES][3];
  guint8 counts[16];
  GListModel *modules = bms_device_get_modules (device);

  for (guint i = 0; i < BMS_MAX_CELLS; i++)
    mv[i] = 3300 + i % 50;
  mv[200] = 3100;
  for (guint m = 0; m < BMS_MAX_MODULES; m++)
    {
      counts[m] = 16;
      for (guint t = 0; t < 3; t++)
        temps[m][t] = 20 + m + t;
    }
  temps[7][1] = -5;
  bms_snapshot_set_cells (snap, mv, BMS_MAX_CELLS);
  bms_snapshot_set_module_temps (snap, (const gint16 (*)[3])temps, BMS_MAX_MODULES);
  bms_snapshot_set_raw (snap, BMS_ID_MODULE_COUNT, 16);
  bms_snapshot_set_bytes (snap, BMS_ID_MODULE_CELLS, counts, 16);
  bms_device_update (device, snap);

  g_assert_cmpuint (g_list_model_get_n_items (bms_device_get_cells (device)), ==, 256);
  g_assert_cmpuint (g_list_model_get_n_items (modules), ==, 16);
  g_assert_cmpuint (bms_device_get_min_cell_index (device), ==, 201);
  g_assert_cmpfloat (bms_device_get_temperature_min (device), ==, -5);
  g_assert_cmpfloat (bms_device_get_temperature_max (device), ==, 37);
  for (guint m = 0; m < 16; m++)
    {
      g_autoptr (BmsModule) module = g_list_model_get_item (modules, m);
      g_autoptr (BmsCell) first = g_list_model_get_item (bms_module_get_cells (module), 0);
      g_assert_cmpuint (bms_module_get_cell_count (module), ==, 16);
      g_assert_cmpuint (bms_module_get_first_cell (module), ==, m * 16 + 1);
      g_assert_cmpuint (bms_cell_get_module (first), ==, m + 1);
      g_assert_true (bms_module_get_has_temperatures (module));
      g_assert_cmpfloat (bms_module_get_temperature (module, 2), ==, 22 + m);
    }

  /* Uneven modules: 2 modules of 9 and 7 cells. */
  counts[0] = 9;
  counts[1] = 7;
  bms_snapshot_set_cells (snap, mv, 16);
  bms_snapshot_set_raw (snap, BMS_ID_MODULE_COUNT, 2);
  bms_snapshot_set_bytes (snap, BMS_ID_MODULE_CELLS, counts, 16);
  bms_snapshot_set_module_temps (snap, (const gint16 (*)[3])temps, 2);
  bms_device_update (device, snap);
  g_assert_cmpuint (g_list_model_get_n_items (bms_device_get_cells (device)), ==, 16);
  g_assert_cmpuint (g_list_model_get_n_items (modules), ==, 2);
  {
    g_autoptr (BmsModule) second = g_list_model_get_item (modules, 1);
    g_assert_cmpuint (bms_module_get_cell_count (second), ==, 7);
    g_assert_cmpuint (bms_module_get_first_cell (second), ==, 10);
  }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/device/values-from-vector", test_values_from_vector);
  g_test_add_func ("/device/balancing-derived", test_balancing_derived);
  g_test_add_func ("/device/notify-only-on-change", test_notify_only_on_change);
  g_test_add_func ("/device/limits-and-relays", test_limits_and_relays);
  g_test_add_func ("/device/warning-bits", test_warning_bits);
  g_test_add_func ("/device/lease", test_lease);
  g_test_add_func ("/device/modules-256", test_modules_256);
  return g_test_run ();
}
