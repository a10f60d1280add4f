/* BmsParamSet: catalogue and vendor ranges, every vendor rule on both sides
 * of its boundary, presets per chemistry. */
#include "bms-param-set.h"
#include "device-test-util.h"

typedef enum
{
  ABOVE,
  BELOW,
  AT_MOST_3X,
  BELOW_SET /* BELOW when both are set; 0 means "not used" */
} Rel;

/* Stated again here, independently of the implementation's table. */
static const struct
{
  guint8 a;
  Rel rel;
  guint8 b;
  gint64 a_val; /* a valid pair, away from the boundary */
  gint64 b_val;
} rule_cases[] = {
  { 0xD5, ABOVE, 0x90, 3750, 3650 },    /* level-2 charge above level 1 */
  { 0x91, BELOW, 0x90, 3550, 3650 },    /* charge recovery below level 1 */
  { 0xD6, BELOW, 0x93, 2250, 2500 },    /* level-2 discharge below level 1 */
  { 0x94, ABOVE, 0x93, 2900, 2500 },    /* discharge recovery above level 1 */
  { 0x93, BELOW, 0x90, 2500, 3650 },    /* discharge protection below charge protection */
  { 0x8F, BELOW, 0x8E, 4000, 5840 },    /* pack under-voltage below over-voltage */
  { 0xEF, BELOW_SET, 0xEE, 62720, 94720 }, /* the same, high-voltage pair */
  { 0xDF, AT_MOST_3X, 0x97, 240, 100 }, /* peak discharge at most 3 × continuous */
  { 0x9F, BELOW, 0x9E, 70, 90 },        /* MOSFET recovery below protection */
  { 0xA1, BELOW, 0xA0, 65, 70 },        /* box recovery below protection */
  { 0xE2, BELOW, 0xE1, 65, 70 },        /* balance module recovery below protection */
  { 0xA6, ABOVE, 0xA5, 5, 0 },          /* charge low-temperature recovery above */
  { 0xA8, ABOVE, 0xA7, -10, -20 },      /* discharge low-temperature recovery above */
  { 0xD9, BELOW, 0xDA, 0, 10 },         /* heating start below stop */
};

static BmsParamSet *
pair_set (guint i)
{
  BmsParamSet *set = bms_param_set_new ();
  bms_param_set_set_raw (set, rule_cases[i].a, rule_cases[i].a_val);
  bms_param_set_set_raw (set, rule_cases[i].b, rule_cases[i].b_val);
  return set;
}

static void
expect (BmsParamSet *set, guint8 id, gint64 raw, gboolean ok, gint code)
{
  g_autoptr (GError) error = NULL;
  gboolean result = bms_param_set_check_value (set, id, raw, &error);

  if (ok)
    {
      g_assert_no_error (error);
      g_assert_true (result);
    }
  else
    {
      g_assert_false (result);
      g_assert_error (error, BMS_FIELD_ERROR, code);
    }
}

static void
test_every_rule_both_sides (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (rule_cases); i++)
    {
      g_autoptr (BmsParamSet) set = pair_set (i);
      guint8 a = rule_cases[i].a, b = rule_cases[i].b;
      gint64 av = rule_cases[i].a_val, bv = rule_cases[i].b_val;

      g_test_message ("rule 0x%02X vs 0x%02X", a, b);
      g_assert_true (bms_param_set_validate (set, NULL));
      switch (rule_cases[i].rel)
        {
        case ABOVE:
          expect (set, a, bv + 1, TRUE, 0);
          expect (set, a, bv, FALSE, BMS_FIELD_ERROR_RULE);
          expect (set, b, av - 1, TRUE, 0);
          expect (set, b, av, FALSE, BMS_FIELD_ERROR_RULE);
          break;
        case BELOW_SET:
          expect (set, a, 0, TRUE, 0); /* not used: no rule */
          expect (set, b, 0, TRUE, 0);
          G_GNUC_FALLTHROUGH; /* set, it is BELOW */
        case BELOW:
          expect (set, a, bv - 1, TRUE, 0);
          expect (set, a, bv, FALSE, BMS_FIELD_ERROR_RULE);
          expect (set, b, av + 1, TRUE, 0);
          expect (set, b, av, FALSE, BMS_FIELD_ERROR_RULE);
          break;
        case AT_MOST_3X:
          expect (set, a, 3 * bv, TRUE, 0);
          expect (set, a, 3 * bv + 1, FALSE, BMS_FIELD_ERROR_RULE);
          expect (set, b, 80, TRUE, 0); /* 240 = 3 × 80 */
          expect (set, b, 79, FALSE, BMS_FIELD_ERROR_RULE);
          break;
        }
    }
}

/* A high-voltage master's 16-bit pack pair sits at the 150 V ceiling and
 * means nothing while 0xEE is set: the rule between them is not checked
 * then, and is again once 0xEE goes back to 0. */
static void
test_rule_unless_high_voltage (void)
{
  g_autoptr (BmsParamSet) set = bms_param_set_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) rules = bms_param_set_describe_rules ();
  gboolean described = FALSE;

  bms_param_set_set_raw (set, 0x8E, 15000);
  bms_param_set_set_raw (set, 0x8F, 15000);
  bms_param_set_set_raw (set, BMS_ID_PACK_OVP_HV, 94720);
  bms_param_set_set_raw (set, BMS_ID_PACK_UVP_HV, 62720);
  g_assert_true (bms_param_set_validate (set, NULL));
  expect (set, 0x8F, 15000, TRUE, 0);
  g_assert_false (bms_param_set_check_value (set, BMS_ID_PACK_OVP_HV, 0, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RULE);
  for (guint i = 0; rules[i]; i++)
    described = described || g_str_has_suffix (rules[i], ", unless pack over-voltage protection (high voltage) is set");
  g_assert_true (described);
}

static void
test_rule_in_words (void)
{
  g_autoptr (BmsParamSet) set = bms_param_set_new ();
  g_autoptr (GError) error = NULL;

  bms_param_set_set_raw (set, 0x90, 3650);
  bms_param_set_set_raw (set, 0x91, 3550);
  g_assert_false (bms_param_set_check_value (set, 0x91, 3700, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RULE);
  g_assert_cmpstr (error->message, ==,
                   "Charge recovery 3700 mV must be below charge protection (level 1) 3650 mV");
  g_clear_error (&error);

  bms_param_set_set_raw (set, 0x97, 40);
  bms_param_set_set_raw (set, 0xDF, 100);
  g_assert_false (bms_param_set_check_value (set, 0xDF, 121, &error));
  g_assert_cmpstr (error->message, ==,
                   "Peak discharge current 121 A must be at most 3 × discharge current 40 A, "
                   "that is 120 A");
  g_clear_error (&error);

  /* A rule with a field absent from the set is not judged. */
  g_assert_true (bms_param_set_check_value (set, 0x93, 3000, NULL));
}

static const struct
{
  guint8 id;
  gint64 value;
  gboolean ok;
  gint code;
} range_cases[] = {
  { 0x92, 3, FALSE, BMS_FIELD_ERROR_RULE }, /* over-charge delay 4–10 s */
  { 0x92, 4, TRUE, 0 },
  { 0x92, 10, TRUE, 0 },
  { 0x92, 11, FALSE, BMS_FIELD_ERROR_RULE },
  { 0x95, 3, FALSE, BMS_FIELD_ERROR_RULE }, /* over-discharge delay 4–10 s */
  { 0x95, 4, TRUE, 0 },
  { 0x95, 10, TRUE, 0 },
  { 0x95, 11, FALSE, BMS_FIELD_ERROR_RULE },
  { 0x9B, 1999, FALSE, BMS_FIELD_ERROR_RANGE }, /* catalogue 2000–4500 ∩ sheet 1000–4300 */
  { 0x9B, 2000, TRUE, 0 },
  { 0x9B, 4300, TRUE, 0 },
  { 0x9B, 4301, FALSE, BMS_FIELD_ERROR_RULE },
  { 0x9C, 9, FALSE, BMS_FIELD_ERROR_RANGE }, /* catalogue 10–1000 ∩ sheet 1–30 */
  { 0x9C, 10, TRUE, 0 },
  { 0x9C, 30, TRUE, 0 },
  { 0x9C, 31, FALSE, BMS_FIELD_ERROR_RULE },
  { 0x90, 1499, FALSE, BMS_FIELD_ERROR_RULE }, /* level 1 charge 1500–4500 */
  { 0x90, 1500, TRUE, 0 },
  { 0x90, 4500, TRUE, 0 },
  { 0x90, 4501, FALSE, BMS_FIELD_ERROR_RANGE },
  { 0xD5, 2949, FALSE, BMS_FIELD_ERROR_RANGE }, /* level 2 charge 2950–4800 */
  { 0xD5, 2950, TRUE, 0 },
  { 0xD5, 4800, TRUE, 0 },
  { 0xD5, 4801, FALSE, BMS_FIELD_ERROR_RANGE },
  { 0x93, 1499, FALSE, BMS_FIELD_ERROR_RULE }, /* level 1 discharge 1500–4500 */
  { 0x93, 1500, TRUE, 0 },
  { 0x99, 500, TRUE, 0 }, /* charge current 0–500 A */
  { 0x99, 501, FALSE, BMS_FIELD_ERROR_RULE },
  { 0x97, 500, TRUE, 0 }, /* continuous discharge 0–500 A */
  { 0x97, 501, FALSE, BMS_FIELD_ERROR_RULE },
};

static void
test_vendor_ranges (void)
{
  g_autoptr (BmsParamSet) set = bms_param_set_new ();

  for (guint i = 0; i < G_N_ELEMENTS (range_cases); i++)
    {
      g_test_message ("0x%02X = %" G_GINT64_FORMAT, range_cases[i].id, range_cases[i].value);
      expect (set, range_cases[i].id, range_cases[i].value, range_cases[i].ok, range_cases[i].code);
    }
}

static void
test_not_a_parameter (void)
{
  g_autoptr (BmsParamSet) set = bms_param_set_new ();
  g_autoptr (GError) error = NULL;

  g_assert_false (bms_param_set_check_value (set, 0x83, 5000, &error)); /* read only */
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_ACCESS);
  g_clear_error (&error);
  g_assert_false (bms_param_set_check_value (set, 0xBB, 1, &error)); /* a command */
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_ACCESS);
  g_assert_false (bms_param_is_portable (bms_field_lookup (0xB2))); /* password */
  g_assert_false (bms_param_is_portable (bms_field_lookup (0xB4))); /* device id */
  g_assert_false (bms_param_is_portable (bms_field_lookup (0xAE))); /* address */
  g_assert_true (bms_param_is_portable (bms_field_lookup (0x90)));
}

static void
test_presets (void)
{
  static const gint64 expected[3][6] = {
    /* 0x90, 0xD5, 0x91, 0x93, 0xD6, 0x94 */
    { 3650, 3750, 3550, 2500, 2250, 2900 }, /* LiFePO4 */
    { 4200, 4300, 4100, 2750, 2500, 3100 }, /* NMC */
    { 2800, 2950, 2700, 1800, 1600, 2200 }, /* LTO */
  };
  static const guint8 ids[6] = { 0x90, 0xD5, 0x91, 0x93, 0xD6, 0x94 };
  g_autoptr (GError) error = NULL;

  for (guint type = 0; type < 3; type++)
    {
      g_autoptr (BmsParamSet) preset = bms_param_set_new_preset (type, &error);
      g_assert_no_error (error);
      g_assert_true (bms_param_set_validate (preset, &error));
      g_assert_no_error (error);
      for (guint i = 0; i < 6; i++)
        g_assert_cmpint (bms_param_set_get_raw (preset, ids[i]), ==, expected[type][i]);
      g_assert_cmpint (bms_param_set_get_raw (preset, BMS_ID_BATTERY_TYPE), ==, type);
      g_assert_cmpint (bms_param_set_get_raw (preset, 0x9C), ==, 20);
      g_assert_cmpint (bms_param_set_get_raw (preset, 0x9E), ==, 90);
      g_assert_cmpint (bms_param_set_get_raw (preset, 0xE2), ==, 65);
      g_assert_false (bms_param_set_has (preset, 0xA5)); /* low temperatures: by hand */
    }
  g_assert_null (bms_param_set_new_preset (3, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE);
}

static void
test_from_snapshot (void)
{
  g_autoptr (BmsSnapshot) snap = device_test_load_14s ();
  g_autoptr (BmsParamSet) set = bms_param_set_new_from_snapshot (snap);
  g_autofree char *ovp = NULL, *pack = NULL, *plain = NULL, *type = NULL;
  g_auto (GStrv) rules = bms_param_set_describe_rules ();

  g_assert_true (bms_param_set_has (set, 0x90));
  g_assert_false (bms_param_set_has (set, 0x83)); /* telemetry */
  g_assert_false (bms_param_set_has (set, 0xB7)); /* read only */
  g_assert_cmpint (bms_param_set_get_raw (set, 0xA5), ==, -20);
  g_assert_cmpstr (bms_param_set_get_string (set, 0xB2), ==, "123456");
  ovp = bms_param_set_format (set, 0x90);
  g_assert_cmpstr (ovp, ==, "4050 mV");
  pack = bms_param_set_format (set, 0x8E);
  g_assert_cmpstr (pack, ==, "56.70 V");
  plain = bms_param_set_format_plain (set, 0x8E);
  g_assert_cmpstr (plain, ==, "56.70");
  type = bms_param_set_format_plain (set, BMS_ID_BATTERY_TYPE);
  g_assert_cmpstr (type, ==, "nmc");
  g_assert_cmpuint (g_strv_length (rules), >=, 13);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/param-set/every-rule-both-sides", test_every_rule_both_sides);
  g_test_add_func ("/param-set/rule-in-words", test_rule_in_words);
  g_test_add_func ("/param-set/rule-unless-high-voltage", test_rule_unless_high_voltage);
  g_test_add_func ("/param-set/vendor-ranges", test_vendor_ranges);
  g_test_add_func ("/param-set/not-a-parameter", test_not_a_parameter);
  g_test_add_func ("/param-set/presets", test_presets);
  g_test_add_func ("/param-set/from-snapshot", test_from_snapshot);
  return g_test_run ();
}
