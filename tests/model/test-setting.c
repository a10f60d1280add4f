/* BmsSetting: what a settings row shows, from a snapshot; notify only on change. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "bms-setting.h"
#include "device-test-util.h"

static void
count_notify (GObject *object, GParamSpec *pspec, GHashTable *counts)
{
  g_autofree char *key
      = g_strdup_printf ("%s/%s", bms_setting_get_title (BMS_SETTING (object)), pspec->name);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, key));

  g_hash_table_insert (counts, g_steal_pointer (&key), GUINT_TO_POINTER (n + 1));
}

static guint
total (GHashTable *counts)
{
  GHashTableIter iter;
  gpointer value;
  guint sum = 0;

  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    sum += GPOINTER_TO_UINT (value);
  return sum;
}

static void
test_values (void)
{
  g_autoptr (BmsSnapshot) s = device_test_load_14s ();
  g_autoptr (GListModel) list = bms_setting_list_new_everyday ();
  BmsSetting *capacity = bms_setting_list_find (list, "capacity_ah");
  BmsSetting *soc = bms_setting_list_find (list, "soc_set_pct");
  const BmsFieldInfo *capacity_field = bms_field_lookup_name ("capacity_ah");
  const BmsFieldInfo *soc_field = bms_field_lookup_name ("soc_pct");
  g_autofree char *want_capacity = NULL;
  g_autofree char *want_soc = NULL;

  g_assert_nonnull (capacity);
  g_assert_nonnull (soc);
  /* Before a board: a dash, nothing known. */
  g_assert_cmpstr (bms_setting_get_value (capacity), ==, "—");
  g_assert_false (bms_setting_get_known (capacity));

  bms_setting_list_update (list, s);
  want_capacity = bms_field_format (capacity_field, bms_snapshot_get_raw (s, capacity_field->id));
  g_assert_cmpstr (bms_setting_get_value (capacity), ==, want_capacity);
  g_assert_true (g_str_has_suffix (bms_setting_get_value (capacity), " Ah"));
  g_assert_true (bms_setting_get_known (capacity));
  g_assert_true (bms_setting_get_reported (capacity));
  g_assert_true (bms_setting_get_editable (capacity));
  g_assert_nonnull (bms_setting_get_range (capacity));
  g_assert_cmpuint (bms_setting_get_id (capacity), ==, capacity_field->id);

  /* Written as soc_set_pct, shown as the state of charge it sets. */
  want_soc = bms_field_format (soc_field, bms_snapshot_get_raw (s, soc_field->id));
  g_assert_cmpstr (bms_setting_get_value (soc), ==, want_soc);
  g_assert_cmpuint (bms_setting_get_id (soc), ==, bms_field_lookup_name ("soc_set_pct")->id);

  /* A field the board did not send. */
  bms_snapshot_remove (s, capacity_field->id);
  bms_setting_list_update (list, s);
  g_assert_cmpstr (bms_setting_get_value (capacity), ==, "not reported");
  g_assert_false (bms_setting_get_reported (capacity));
  g_assert_true (bms_setting_get_known (capacity));
}

static void
test_notify_only_on_change (void)
{
  g_autoptr (BmsSnapshot) s = device_test_load_14s ();
  g_autoptr (GListModel) list = bms_setting_list_new_everyday ();
  g_autoptr (GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const BmsFieldInfo *capacity = bms_field_lookup_name ("capacity_ah");
  const char *title = bms_setting_get_title (bms_setting_list_find (list, "capacity_ah"));
  g_autofree char *value_key = g_strdup_printf ("%s/value", title);
  guint after_first;

  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr (BmsSetting) setting = g_list_model_get_item (list, i);
      g_signal_connect (setting, "notify", G_CALLBACK (count_notify), counts);
    }

  bms_setting_list_update (list, s);
  after_first = total (counts);
  g_assert_cmpuint (after_first, >, 0);

  /* The same values again: a poll that changes nothing notifies nothing. */
  bms_setting_list_update (list, s);
  g_assert_cmpuint (total (counts), ==, after_first);

  /* One value changes: one notification, on that item's value. */
  g_hash_table_remove_all (counts);
  bms_snapshot_set_raw (s, capacity->id, bms_snapshot_get_raw (s, capacity->id) + 1);
  bms_setting_list_update (list, s);
  g_assert_cmpuint (total (counts), ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (counts, value_key)), ==, 1);
}

static BmsSetting *
find_bit (GListModel *list, const char *name, const char *bit_name)
{
  const BmsFieldInfo *field = bms_field_lookup_name (name);

  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr (BmsSetting) setting = g_list_model_get_item (list, i);
      int bit = bms_setting_get_bit (setting);

      if (bms_setting_get_field (setting) == field && bit >= 0
          && g_str_equal (field->names[bit], bit_name))
        return setting;
    }
  return NULL;
}

static void
test_switches (void)
{
  g_autoptr (BmsSnapshot) s = device_test_load_14s ();
  g_autoptr (GListModel) list = bms_setting_list_new_everyday ();
  const BmsFieldInfo *bits = bms_field_lookup_name ("switches");
  const BmsFieldInfo *buzzer_field = bms_field_lookup_name ("buzzer_enabled");
  BmsSetting *power = find_bit (list, "switches", "power");
  BmsSetting *buzzer = bms_setting_list_find (list, "buzzer_enabled");
  int power_bit;
  gint64 raw = -1;

  g_assert_nonnull (power);
  g_assert_nonnull (buzzer);
  g_assert_true (bms_setting_get_is_switch (power));
  g_assert_true (bms_setting_get_is_switch (buzzer));
  power_bit = bms_setting_get_bit (power);

  /* Nothing reported: nothing to write. */
  g_assert_false (bms_setting_raw_for_active (power, TRUE, &raw));

  bms_snapshot_set_raw (s, bits->id, 0x0205 & ~(1 << power_bit));
  bms_snapshot_set_raw (s, buzzer_field->id, 1);
  bms_setting_list_update (list, s);
  g_assert_false (bms_setting_get_active (power));
  g_assert_true (bms_setting_get_active (buzzer));

  /* On: the bit set, every other bit as the board has them. */
  g_assert_true (bms_setting_raw_for_active (power, TRUE, &raw));
  g_assert_cmpint (raw, ==, (0x0205 & ~(1 << power_bit)) | (1 << power_bit));
  g_assert_true (bms_setting_raw_for_active (buzzer, FALSE, &raw));
  g_assert_cmpint (raw, ==, 0);

  bms_snapshot_set_raw (s, bits->id, 0x0205 | (1 << power_bit));
  bms_setting_list_update (list, s);
  g_assert_true (bms_setting_get_active (power));
  g_assert_true (bms_setting_raw_for_active (power, FALSE, &raw));
  g_assert_cmpint (raw, ==, 0x0205 & ~(1 << power_bit));
}

static void
test_master_cell_count (void)
{
  g_autoptr (BmsSnapshot) s = device_test_load_14s ();
  g_autoptr (GListModel) list = bms_setting_list_new_everyday ();
  BmsSetting *one_board = bms_setting_list_find (list, "cell_count_set");
  BmsSetting *pack = bms_setting_list_find (list, "pack_cell_count");

  bms_snapshot_remove (s, BMS_ID_PACK_CELL_COUNT);
  bms_setting_list_update (list, s);
  g_assert_true (bms_setting_get_applicable (one_board));
  g_assert_false (bms_setting_get_applicable (pack));

  /* A master counts the whole pack: its cell count, not one board's. */
  bms_snapshot_set_raw (s, BMS_ID_PACK_CELL_COUNT, 64);
  bms_setting_list_update (list, s);
  g_assert_false (bms_setting_get_applicable (one_board));
  g_assert_true (bms_setting_get_applicable (pack));
  g_assert_cmpstr (bms_setting_get_value (pack), ==, "64");
}

static void
test_identity_text (void)
{
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
  const BmsFieldInfo *date = bms_field_lookup_name ("manufacture_date");
  const BmsFieldInfo *version = bms_field_lookup_name ("software_version");
  const BmsFieldInfo *device_id = bms_field_lookup_name ("device_id");
  g_autofree char *date_text = NULL;
  g_autofree char *version_text = NULL;
  g_autofree char *id_text = NULL;
  g_autofree char *month = bms_field_format_manufacture_date ("2603");

  g_assert_null (bms_setting_format_value (s, date));
  bms_snapshot_set_string (s, date->id, "2603");
  bms_snapshot_set_string (s, version->id, "11.XW_S11.26__");
  bms_snapshot_set_string (s, device_id->id, "2603");
  date_text = bms_setting_format_value (s, date);
  version_text = bms_setting_format_value (s, version);
  id_text = bms_setting_format_value (s, device_id);
  /* The month the window shows, not the four digits the board sends. */
  g_assert_cmpstr (date_text, ==, month);
  g_assert_cmpstr (date_text, !=, "2603");
  g_assert_cmpstr (version_text, ==, "11.XW_S11.26");
  /* Other text fields as they are, even when they look like a date. */
  g_assert_cmpstr (id_text, ==, "2603");
}

static void
test_choice_labels (void)
{
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
  const BmsFieldInfo *type = bms_field_lookup_name ("battery_type");
  const BmsFieldInfo *buzzer = bms_field_lookup_name ("buzzer_enabled");
  g_autofree char *lfp = NULL;
  g_autofree char *on = NULL;

  bms_snapshot_set_raw (s, type->id, 0);
  bms_snapshot_set_raw (s, buzzer->id, 1);
  lfp = bms_setting_format_value (s, type);
  on = bms_setting_format_value (s, buzzer);
  g_assert_cmpstr (lfp, ==, "LiFePO4 (iron phosphate)");
  g_assert_cmpstr (on, ==, "On");
  g_assert_null (bms_setting_choice_label (bms_field_lookup_name ("capacity_ah"), 1));
}

/* DLoad: the password never reads back in clear; only the Bluetooth name
 * is numbered per board. */
static void
test_dload_rows (void)
{
  g_autoptr (BmsSnapshot) s = device_test_load_14s ();
  g_autoptr (GListModel) list = bms_setting_list_new_dload ();
  BmsSetting *password = bms_setting_list_find (list, "parameter_password");
  BmsSetting *name = bms_setting_list_find (list, "bluetooth_name");
  guint secret = 0, numbered = 0;

  g_assert_nonnull (password);
  g_assert_nonnull (name);
  bms_snapshot_set_string (s, BMS_ID_PASSWORD, "654321");
  bms_snapshot_set_string (s, bms_setting_get_id (name), "PACK-0007");
  bms_setting_list_update (list, s);
  g_assert_true (bms_setting_get_reported (password));
  g_assert_null (strstr (bms_setting_get_value (password), "654321"));
  g_assert_null (bms_setting_get_text (password));
  g_assert_cmpstr (bms_setting_get_text (name), ==, "PACK-0007");
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr (BmsSetting) setting = g_list_model_get_item (list, i);
      secret += bms_setting_get_secret (setting);
      numbered += bms_setting_get_numbered (setting);
    }
  g_assert_cmpuint (secret, ==, 1);
  g_assert_cmpuint (numbered, ==, 1);
  g_assert_true (bms_setting_get_secret (password));
  g_assert_true (bms_setting_get_numbered (name));
}

/* Update: the number a spin button loads, in the field's unit. */
static void
test_service_numbers (void)
{
  g_autoptr (BmsSnapshot) s = device_test_load_14s ();
  g_autoptr (GListModel) list = bms_setting_list_new_service ();
  BmsSetting *diff = bms_setting_list_find (list, "cell_diff_protect_mv");
  BmsSetting *sleep = bms_setting_list_find (list, "sleep_now");

  g_assert_true (isnan (bms_setting_get_number (diff)));
  bms_snapshot_set_raw (s, bms_setting_get_id (diff), 800);
  bms_setting_list_update (list, s);
  g_assert_cmpfloat (bms_setting_get_number (diff), ==, 800);
  /* A command: written, never read back. */
  g_assert_nonnull (sleep);
  g_assert_true (bms_setting_get_editable (sleep));
  g_assert_false (bms_setting_get_reported (sleep));
  g_assert_true (isnan (bms_setting_get_number (sleep)));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/setting/values", test_values);
  g_test_add_func ("/setting/notify-only-on-change", test_notify_only_on_change);
  g_test_add_func ("/setting/switches", test_switches);
  g_test_add_func ("/setting/master-cell-count", test_master_cell_count);
  g_test_add_func ("/setting/identity-text", test_identity_text);
  g_test_add_func ("/setting/choice-labels", test_choice_labels);
  g_test_add_func ("/setting/dload-rows", test_dload_rows);
  g_test_add_func ("/setting/service-numbers", test_service_numbers);
  return g_test_run ();
}
