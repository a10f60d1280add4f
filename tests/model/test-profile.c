/* BmsProfile: round trip, and damaged or foreign files refused with the
 * line that is wrong. */
#include <string.h>
#include <glib/gstdio.h>
#include "bms-profile.h"
#include "device-test-util.h"

/* The published vector's values, with the two that Packwatch refuses made
 * valid (balance accuracy 8 mV is below the catalogue's 10; box recovery
 * equals box protection). */
static BmsParamSet *
valid_params (void)
{
  g_autoptr (BmsSnapshot) snap = device_test_load_14s ();
  BmsParamSet *params = bms_param_set_new_from_snapshot (snap);

  bms_param_set_set_raw (params, 0x9C, 10);
  bms_param_set_set_raw (params, 0xA1, 90);
  bms_param_set_set_raw (params, 0xDF, 21);
  bms_param_set_set_string (params, 0xDD, "Pack #1 = main");
  return params;
}

static void
test_round_trip (void)
{
  g_autoptr (BmsParamSet) params = valid_params ();
  g_autoptr (BmsProfile) profile = bms_profile_new (params);
  g_autoptr (BmsProfile) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("packwatch-profile-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "board.pwprofile", NULL);
  g_autofree char *data = NULL;
  g_autofree guint8 *ids = NULL;
  guint n = 0, n_portable = 0;

  bms_profile_set_device (profile, "Input Us");
  bms_profile_set_software_version (profile, "H6.X__S6.1.3S__");
  g_assert_cmpint (bms_profile_get_chemistry (profile), ==, 1);
  g_assert_true (bms_profile_save (profile, path, &error));
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (path, &data, NULL, NULL));
  g_assert_true (g_str_has_prefix (data, "# Packwatch parameter profile"));
  g_assert_nonnull (strstr (data, "[Packwatch Profile]\nVersion=1\n"));
  g_assert_nonnull (strstr (data, "cell_ovp_mv=4050\n"));
  g_assert_nonnull (strstr (data, "pack_ovp_v=56.70\n"));
  g_assert_nonnull (strstr (data, "battery_type=nmc\n"));
  g_assert_nonnull (strstr (data, "# Charge protection (level 1), mV, 1500 to 4500\n"));
  g_assert_null (strstr (data, "parameter_password")); /* per board: never saved */
  g_assert_null (strstr (data, "device_id="));

  back = bms_profile_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bms_profile_get_device (back), ==, "Input Us");
  g_assert_cmpstr (bms_profile_get_software_version (back), ==, "H6.X__S6.1.3S__");
  g_assert_cmpint (bms_profile_get_chemistry (back), ==, 1);
  g_assert_cmpint (bms_profile_get_created (back), >, 0);

  ids = bms_param_set_get_ids (params, &n);
  for (guint i = 0; i < n; i++)
    {
      const BmsFieldInfo *field = bms_field_lookup (ids[i]);
      BmsParamSet *loaded = bms_profile_get_params (back);

      if (!bms_param_is_portable (field))
        {
          g_assert_false (bms_param_set_has (loaded, ids[i]));
          continue;
        }
      n_portable++;
      g_assert_true (bms_param_set_has (loaded, ids[i]));
      if (field->type == BMS_FIELD_ASCII)
        g_assert_cmpstr (bms_param_set_get_string (loaded, ids[i]), ==,
                         bms_param_set_get_string (params, ids[i]));
      else
        g_assert_cmpint (bms_param_set_get_raw (loaded, ids[i]), ==,
                         bms_param_set_get_raw (params, ids[i]));
    }
  g_assert_cmpuint (n_portable, >=, 36);
  g_assert_cmpuint (bms_param_set_get_size (bms_profile_get_params (back)), ==, n_portable);

  g_unlink (path);
  g_rmdir (dir);
}

static const char good[] = "# comment\n"                 /* 1 */
                           "[Packwatch Profile]\n"       /* 2 */
                           "Version=1\n"                 /* 3 */
                           "Chemistry=lfp\n"             /* 4 */
                           "\n"                          /* 5 */
                           "[Parameters]\n"              /* 6 */
                           "cell_ovp_mv=3650\n"          /* 7 */
                           "cell_ovp_recovery_mv=3550\n" /* 8 */
                           "cell_ovp_delay_s=5\n"        /* 9 */
                           "balance_start_mv=3400\n";    /* 10 */

typedef struct
{
  const char *what;
  const char *data;
  gint code;
  guint line;
} Corrupt;

static const Corrupt corrupt_cases[] = {
  { "unknown key",
    "[Packwatch Profile]\nVersion=1\n[Parameters]\ncell_ovp_mv=3650\n"
    "cell_ovp_mvv=3600\n",
    BMS_PROFILE_ERROR_UNKNOWN_KEY, 5 },
  { "out of range", "[Packwatch Profile]\nVersion=1\n[Parameters]\n\n# x\ncell_ovp_mv=5000\n",
    BMS_PROFILE_ERROR_VALUE, 6 },
  { "outside vendor range", "[Packwatch Profile]\nVersion=1\n[Parameters]\ncell_ovp_delay_s=2\n",
    BMS_PROFILE_ERROR_VALUE, 4 },
  { "not a number", "[Packwatch Profile]\nVersion=1\n[Parameters]\ncell_ovp_mv=high\n",
    BMS_PROFILE_ERROR_VALUE, 4 },
  { "rule broken",
    "[Packwatch Profile]\nVersion=1\n[Parameters]\ncell_ovp_recovery_mv=3700\n"
    "balance_diff_mv=20\ncell_ovp_mv=3650\n",
    BMS_PROFILE_ERROR_RULE, 6 },
  { "garbage line",
    "[Packwatch Profile]\nVersion=1\n[Parameters]\ncell_ovp_mv=3650\n"
    "this line is damaged\n",
    BMS_PROFILE_ERROR_SYNTAX, 5 },
  { "truncated", "[Packwatch Profile]\nVersion=1\n[Parameters]\ncell_ovp_mv=3650\ncell_ov",
    BMS_PROFILE_ERROR_SYNTAX, 5 },
  { "duplicate",
    "[Packwatch Profile]\nVersion=1\n[Parameters]\ncell_ovp_mv=3650\n"
    "cell_ovp_mv=3600\n",
    BMS_PROFILE_ERROR_DUPLICATE, 5 },
  { "per-board key", "[Packwatch Profile]\nVersion=1\n[Parameters]\nparameter_password=1\n",
    BMS_PROFILE_ERROR_NOT_PORTABLE, 4 },
  { "read-only key", "[Packwatch Profile]\nVersion=1\n[Parameters]\npack_voltage_16bit_v=50\n",
    BMS_PROFILE_ERROR_UNKNOWN_KEY, 4 },
  { "newer version", "# x\n[Packwatch Profile]\nVersion=2\n[Parameters]\n",
    BMS_PROFILE_ERROR_VERSION, 3 },
  { "no version", "\n[Packwatch Profile]\nDevice=x\n[Parameters]\n", BMS_PROFILE_ERROR_VERSION, 2 },
  { "unknown header key", "[Packwatch Profile]\nVersion=1\nColour=red\n",
    BMS_PROFILE_ERROR_UNKNOWN_KEY, 3 },
  { "bad chemistry", "[Packwatch Profile]\nVersion=1\nChemistry=lead\n", BMS_PROFILE_ERROR_VALUE,
    3 },
  { "foreign group", "# x\n\n[Desktop Entry]\nName=x\n", BMS_PROFILE_ERROR_FOREIGN, 3 },
  { "json", "{\n  \"cell_ovp_mv\": 3650\n}\n", BMS_PROFILE_ERROR_FOREIGN, 1 },
  { "unknown group", "[Packwatch Profile]\nVersion=1\n[Extra]\n", BMS_PROFILE_ERROR_UNKNOWN_KEY,
    3 },
  { "bad group line", "[Packwatch Profile]\nVersion=1\n[Parameters\n", BMS_PROFILE_ERROR_SYNTAX,
    3 },
  { "not utf-8", "[Packwatch Profile]\nVersion=1\n[Parameters]\nbluetooth_name=\xff\xfe\n",
    BMS_PROFILE_ERROR_FOREIGN, 4 },
  { "empty", "", BMS_PROFILE_ERROR_FOREIGN, 1 },
  /* GLib 2.74 sets its GError twice for this one (found by fuzz-profile). */
  { "value ending in a lone backslash",
    "[Packwatch Profile]\nVersion=1\nDevice=cabinet 7\\\n[Parameters]\ncell_ovp_mv=3650\n",
    BMS_PROFILE_ERROR_SYNTAX, 3 },
};

static void
test_good (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsProfile) profile = bms_profile_load_from_data (good, strlen (good), "good", &error);

  g_assert_no_error (error);
  g_assert_cmpint (bms_profile_get_chemistry (profile), ==, 0);
  g_assert_cmpuint (bms_param_set_get_size (bms_profile_get_params (profile)), ==, 4);
  g_assert_cmpint (bms_param_set_get_raw (bms_profile_get_params (profile), 0x91), ==, 3550);
}

static void
test_corrupt_refused_with_line (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (corrupt_cases); i++)
    {
      const Corrupt *c = &corrupt_cases[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (BmsProfile) profile = NULL;
      g_autofree char *prefix = g_strdup_printf ("p.txt:%u: ", c->line);

      profile = bms_profile_load_from_data (c->data, strlen (c->data), "p.txt", &error);
      g_test_message ("%s: %s", c->what, error ? error->message : "(accepted)");
      g_assert_null (profile);
      g_assert_error (error, BMS_PROFILE_ERROR, c->code);
      g_assert_true (g_str_has_prefix (error->message, prefix));
    }
}

static void
test_binary_file (void)
{
  static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsProfile) profile = NULL;

  profile = bms_profile_load_from_data (png, sizeof png - 1, "image.png", &error);
  g_assert_null (profile);
  g_assert_error (error, BMS_PROFILE_ERROR, BMS_PROFILE_ERROR_FOREIGN);
  g_assert_true (g_str_has_prefix (error->message, "image.png:1: "));
}

static void
test_rule_message (void)
{
  const char *data = corrupt_cases[4].data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsProfile) profile = bms_profile_load_from_data (data, strlen (data), "p", &error);

  g_assert_null (profile);
  g_assert_cmpstr (error->message, ==,
                   "p:6: Charge recovery 3700 mV must be below charge protection (level 1) "
                   "3650 mV");
}

static char *
load_error (const char *data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsProfile) profile = bms_profile_load_from_data (data, strlen (data), "p", &error);

  g_assert_null (profile);
  g_assert_error (error, BMS_PROFILE_ERROR, BMS_PROFILE_ERROR_VALUE);
  return g_strdup (error->message);
}

/* Issue 11 §8: a number past 64 bits is out of range (not
 * -9223372036854775808), and a fraction the field cannot hold is refused
 * with what to write instead (not rounded). */
static void
test_numbers_not_rounded_or_wrapped (void)
{
  g_autofree char *huge = load_error ("[Packwatch Profile]\nVersion=1\n[Parameters]\n"
                                      "cell_ovp_mv=99999999999999999999\n");
  g_autofree char *negative = load_error ("[Packwatch Profile]\nVersion=1\n[Parameters]\n"
                                          "\ncell_ovp_mv=-99999999999999999999\n");
  g_autofree char *fraction = load_error ("[Packwatch Profile]\nVersion=1\n[Parameters]\n"
                                          "cell_ovp_delay_s=5\ncell_ovp_mv=3600.7\n");
  g_autofree char *step = load_error ("[Packwatch Profile]\nVersion=1\n[Parameters]\n"
                                      "pack_ovp_v=56.705\n");
  const char *good_numbers = "[Packwatch Profile]\nVersion=1\n[Parameters]\n"
                             "cell_ovp_mv=3600.0\npack_ovp_v=56.70\ncell_uvp_mv=2.9e3\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsProfile) profile = NULL;

  g_test_message ("%s\n%s\n%s\n%s", huge, negative, fraction, step);
  g_assert_true (g_str_has_prefix (huge, "p:4: cell_ovp_mv ("));
  g_assert_true (g_str_has_suffix (huge, ") = 99999999999999999999 is out of range: "
                                         "allowed 1500 mV to 4500 mV"));
  g_assert_true (g_str_has_prefix (negative, "p:5: cell_ovp_mv "));
  g_assert_nonnull (strstr (negative, "= -99999999999999999999 is out of range"));
  g_assert_null (strstr (negative, "9223372036854775808"));
  g_assert_true (g_str_has_prefix (fraction, "p:5: cell_ovp_mv = 3600.7: "));
  g_assert_true (g_str_has_suffix (fraction, " takes whole mV, not fractions: "
                                             "write 3600 or 3601"));
  g_assert_true (g_str_has_prefix (step, "p:4: pack_ovp_v = 56.705: "));
  g_assert_true (g_str_has_suffix (step, " takes steps of 0.01 V: write 56.70 or 56.71"));

  profile = bms_profile_load_from_data (good_numbers, strlen (good_numbers), "p", &error);
  g_assert_no_error (error);
  g_assert_cmpint (bms_param_set_get_raw (bms_profile_get_params (profile), 0x90), ==, 3600);
  g_assert_cmpint (bms_param_set_get_raw (bms_profile_get_params (profile), 0x8E), ==, 5670);
  g_assert_cmpint (bms_param_set_get_raw (bms_profile_get_params (profile), 0x93), ==, 2900);
}

/* Notepad saves UTF-8 with a byte-order mark: still a profile, and the line
 * numbers stay those of the file. */
static void
test_byte_order_mark (void)
{
  g_autofree char *with_bom = g_strconcat ("\xEF\xBB\xBF", good, NULL);
  g_autofree char *bad = g_strconcat ("\xEF\xBB\xBF[Packwatch Profile]\nVersion=1\n"
                                      "[Parameters]\ncell_ovp_mv=5000\n", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsProfile) profile = NULL;

  profile = bms_profile_load_from_data (with_bom, strlen (with_bom), "bom", &error);
  g_assert_no_error (error);
  g_assert_cmpint (bms_param_set_get_raw (bms_profile_get_params (profile), 0x91), ==, 3550);
  g_assert_null (bms_profile_load_from_data (bad, strlen (bad), "bom", &error));
  g_assert_error (error, BMS_PROFILE_ERROR, BMS_PROFILE_ERROR_VALUE);
  g_assert_true (g_str_has_prefix (error->message, "bom:4: "));
}

static void
test_missing_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsProfile) profile = bms_profile_load ("/nonexistent/packwatch.profile", &error);

  g_assert_null (profile);
  g_assert_error (error, BMS_PROFILE_ERROR, BMS_PROFILE_ERROR_IO);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/profile/round-trip", test_round_trip);
  g_test_add_func ("/profile/good", test_good);
  g_test_add_func ("/profile/corrupt-refused-with-line", test_corrupt_refused_with_line);
  g_test_add_func ("/profile/binary-file", test_binary_file);
  g_test_add_func ("/profile/rule-message", test_rule_message);
  g_test_add_func ("/profile/missing-file", test_missing_file);
  g_test_add_func ("/profile/numbers-not-rounded-or-wrapped", test_numbers_not_rounded_or_wrapped);
  g_test_add_func ("/profile/byte-order-mark", test_byte_order_mark);
  return g_test_run ();
}
