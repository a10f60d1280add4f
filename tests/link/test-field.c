/* The field catalogue: consistency, range limits, text parsing. */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <glib/gi18n.h>

#include "bms-field.h"
#include "bms-frame.h"
#include "bms-snapshot.h"

static void
test_catalogue_consistent (void)
{
  guint n;
  const BmsFieldInfo *all = bms_field_all (&n);
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_cmpuint (n, >, 80);
  for (guint i = 0; i < n; i++)
    {
      const BmsFieldInfo *f = &all[i];
      if (i > 0)
        g_assert_cmpuint (f->id, >, all[i - 1].id);
      g_assert_true (bms_field_lookup (f->id) == f);
      g_assert_true (bms_field_lookup_name (f->name) == f);
      g_assert_false (g_hash_table_contains (names, f->name));
      g_hash_table_add (names, (gpointer) f->name);
      for (const char *p = f->name; *p; p++)
        g_assert_true (g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '_');
      g_assert_cmpint (f->min, <=, f->max);
      g_assert_true (f->scale > 0);
      g_assert_nonnull (f->label);
      g_assert_nonnull (f->description);
      /* Extensions live where the public list has nothing. */
      g_assert_true (f->extension == (f->id >= 0xD0 && f->id <= 0xEF));
      if (f->type == BMS_FIELD_BITS || f->type == BMS_FIELD_ENUM)
        g_assert_nonnull (f->names);
      if (f->type == BMS_FIELD_BITS)
        g_assert_cmpuint (g_strv_length ((char **) f->names), <=, f->size * 8u);
    }
  g_assert_null (bms_field_lookup (0x01));
}

/* Every numeric field, at both ends of its range, survives encode → decode. */
static void
test_round_trip_limits (void)
{
  guint n;
  const BmsFieldInfo *all = bms_field_all (&n);

  for (guint i = 0; i < n; i++)
    {
      const BmsFieldInfo *f = &all[i];
      gint64 limits[2] = { f->min, f->max };

      for (guint k = 0; k < 2; k++)
        {
          g_autoptr(BmsSnapshot) a = bms_snapshot_new ();
          g_autoptr(BmsSnapshot) b = bms_snapshot_new ();
          g_autoptr(GByteArray) info = g_byte_array_new ();
          g_autoptr(GError) error = NULL;

          if (bms_field_is_numeric (f))
            bms_snapshot_set_raw (a, f->id, limits[k]);
          else if (f->type == BMS_FIELD_ASCII)
            {
              g_autofree char *text = g_strnfill (k ? f->size : 1, 'Z');
              bms_snapshot_set_string (a, f->id, text);
            }
          else if (f->type == BMS_FIELD_BYTES)
            {
              guint8 bytes[64];
              memset (bytes, (guint8) limits[k], sizeof bytes);
              bms_snapshot_set_bytes (a, f->id, bytes, f->size);
            }
          else if (f->type == BMS_FIELD_CELLS || f->type == BMS_FIELD_CELLS_EXT)
            {
              guint16 mv[BMS_MAX_CELLS];
              for (guint c = 0; c < BMS_MAX_CELLS; c++)
                mv[c] = (guint16) limits[k];
              bms_snapshot_set_cells (a, mv, k ? BMS_MAX_CELLS : 1);
            }
          else if (f->type == BMS_FIELD_MODULE_TEMPS)
            {
              gint16 t[BMS_MAX_MODULES][3];
              for (guint m = 0; m < BMS_MAX_MODULES; m++)
                t[m][0] = t[m][1] = t[m][2] = (gint16) limits[k];
              bms_snapshot_set_module_temps (a, (const gint16 (*)[3]) t, k ? BMS_MAX_MODULES : 1);
            }
          if (f->type == BMS_FIELD_CELLS_EXT)
            continue; /* covered with 0x79 */
          g_assert_true (bms_snapshot_encode_field (a, f->id, info));
          if (f->type == BMS_FIELD_CELLS && k)
            g_assert_true (bms_snapshot_encode_field (a, BMS_ID_CELLS_EXT, info));
          g_assert_true (bms_snapshot_parse (b, info->data, info->len, &error));
          g_assert_no_error (error);
          g_assert_true (bms_snapshot_has (b, f->id));
          if (bms_field_is_numeric (f))
            {
              if (bms_snapshot_get_raw (b, f->id) != limits[k])
                g_error ("%s: %" G_GINT64_FORMAT " came back as %" G_GINT64_FORMAT, f->name,
                         limits[k], bms_snapshot_get_raw (b, f->id));
            }
          else if (f->type == BMS_FIELD_CELLS)
            {
              g_assert_cmpuint (b->n_cells, ==, a->n_cells);
              g_assert_cmpmem (b->cells_mv, b->n_cells * 2, a->cells_mv, a->n_cells * 2);
            }
          else if (f->type == BMS_FIELD_MODULE_TEMPS)
            {
              g_assert_cmpuint (b->n_module_temps, ==, a->n_module_temps);
              g_assert_cmpint (b->module_temps_c[0][2], ==, limits[k]);
            }
          else
            g_assert_cmpmem (bms_snapshot_get_bytes (b, f->id), f->size,
                             bms_snapshot_get_bytes (a, f->id), f->size);
        }
    }
}

static void
test_current_versions (void)
{
  const BmsFieldInfo *f = bms_field_lookup (BMS_ID_CURRENT);
  guint8 b[2];

  bms_field_encode_raw (f, 208, b, 1);
  g_assert_cmpuint (b[0], ==, 0x80);
  g_assert_cmpuint (b[1], ==, 0xD0);
  bms_field_encode_raw (f, -500, b, 1);
  g_assert_cmpint (bms_field_decode_raw (f, b, 1), ==, -500);
  bms_field_encode_raw (f, -500, b, 0);
  g_assert_cmpuint ((b[0] << 8) | b[1], ==, 9500);
  g_assert_cmpint (bms_field_decode_raw (f, b, 0), ==, -500);
}

static void
test_temperature_encoding (void)
{
  const BmsFieldInfo *f = bms_field_lookup (BMS_ID_MOSFET_TEMP);
  guint8 b[2] = { 0, 101 };

  g_assert_cmpint (bms_field_decode_raw (f, b, 1), ==, -1);
  bms_field_encode_raw (f, -20, b, 1);
  g_assert_cmpuint (b[1], ==, 120);
}

static void
test_parse_values (void)
{
  gint64 raw = 0;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (bms_field_parse_value (bms_field_lookup_name ("cell_ovp_mv"), "3650", &raw, NULL, &error));
  g_assert_cmpint (raw, ==, 3650);
  g_assert_true (bms_field_parse_value (bms_field_lookup_name ("pack_ovp_v"), "58.4", &raw, NULL, &error));
  g_assert_cmpint (raw, ==, 5840);
  g_assert_true (bms_field_parse_value (bms_field_lookup_name ("battery_type"), "LFP", &raw, NULL, &error));
  g_assert_cmpint (raw, ==, 0);
  g_assert_true (bms_field_parse_value (bms_field_lookup_name ("inverter_protocol"), "fk15", &raw, NULL, &error));
  g_assert_cmpint (raw, ==, 15);
  g_assert_true (bms_field_parse_value (bms_field_lookup_name ("balancer_enabled"), "on", &raw, NULL, &error));
  g_assert_cmpint (raw, ==, 1);
  g_assert_true (bms_field_parse_value (bms_field_lookup_name ("switches"), "smart_sleep|buzzer_x", &raw, NULL, NULL) == FALSE);
  g_assert_true (bms_field_parse_value (bms_field_lookup_name ("switches"), "smart_sleep|power", &raw, NULL, &error));
  g_assert_cmpint (raw, ==, (1 << 4) | (1 << 2));
  g_assert_true (bms_field_parse_value (bms_field_lookup_name ("charge_low_temp_c"), "-20", &raw, NULL, &error));
  g_assert_cmpint (raw, ==, -20);
  g_assert_true (bms_field_parse_value (bms_field_lookup_name ("bluetooth_name"), "Cabinet 7", &raw, &text, &error));
  g_assert_cmpstr (text, ==, "Cabinet 7");
  g_assert_no_error (error);

  g_assert_false (bms_field_parse_value (bms_field_lookup_name ("cell_ovp_mv"), "5000", &raw, NULL, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE);
  g_assert_nonnull (strstr (error->message, "cell_ovp_mv"));
  g_assert_nonnull (strstr (error->message, "5000"));
  g_assert_nonnull (strstr (error->message, "1000 to 4500 mV"));
  g_clear_error (&error);
  g_assert_false (bms_field_parse_value (bms_field_lookup_name ("cell_ovp_mv"), "abc", &raw, NULL, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_false (bms_field_parse_value (bms_field_lookup_name ("device_id"), "123456789", &raw, &text, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE);
}

static void
test_format (void)
{
  g_autofree char *a = bms_field_format (bms_field_lookup_name ("pack_ovp_v"), 5840);
  g_autofree char *b = bms_field_format (bms_field_lookup_name ("battery_type"), 2);
  g_autofree char *c = bms_field_format (bms_field_lookup_name ("special_charger_current_a"), 120);

  g_assert_cmpstr (a, ==, "58.40 V");
  g_assert_cmpstr (b, ==, "lto");
  g_assert_cmpstr (c, ==, "12.0 A");
}

static void
test_bad_info (void)
{
  g_autoptr(BmsSnapshot) s = bms_snapshot_new ();
  g_autoptr(GError) error = NULL;
  guint8 unknown[] = { 0x01, 0x00 };
  guint8 short_value[] = { 0x83, 0x14 };
  guint8 bad_cells[] = { 0x79, 0x06, 0x01, 0x0E, 0xED };

  g_assert_false (bms_snapshot_parse (s, unknown, sizeof unknown, &error));
  g_assert_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_INFO);
  g_assert_nonnull (strstr (error->message, "0x01"));
  g_clear_error (&error);
  g_assert_false (bms_snapshot_parse (s, short_value, sizeof short_value, &error));
  g_assert_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_INFO);
  g_clear_error (&error);
  g_assert_false (bms_snapshot_parse (s, bad_cells, sizeof bad_cells, &error));
  g_assert_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_INFO);
}

/* 0xEE/0xEF, when sent and not 0, are the pack protections in force. */
static void
test_setting_id (void)
{
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();

  g_assert_cmpuint (bms_snapshot_setting_id (s, BMS_ID_PACK_OVP), ==, BMS_ID_PACK_OVP);
  bms_snapshot_set_raw (s, BMS_ID_PACK_OVP, 15000);
  bms_snapshot_set_raw (s, BMS_ID_PACK_OVP_HV, 0);
  g_assert_cmpuint (bms_snapshot_setting_id (s, BMS_ID_PACK_OVP), ==, BMS_ID_PACK_OVP);
  bms_snapshot_set_raw (s, BMS_ID_PACK_OVP_HV, 94720);
  g_assert_cmpuint (bms_snapshot_setting_id (s, BMS_ID_PACK_OVP), ==, BMS_ID_PACK_OVP_HV);
  g_assert_cmpuint (bms_snapshot_setting_id (s, BMS_ID_PACK_UVP), ==, BMS_ID_PACK_UVP);
  bms_snapshot_set_raw (s, BMS_ID_PACK_UVP_HV, 62720);
  g_assert_cmpuint (bms_snapshot_setting_id (s, BMS_ID_PACK_UVP), ==, BMS_ID_PACK_UVP_HV);
  g_assert_cmpuint (bms_snapshot_setting_id (s, 0x90), ==, 0x90);
  g_assert_cmpfloat_with_epsilon (bms_snapshot_get (s, BMS_ID_PACK_OVP_HV), 947.20, 1e-9);
}

/* One formatting of a value for the app and the CLI: decimals from the
 * scale, number with unit, C-locale number, enum names, bools, bit names. */
static void
test_format_value (void)
{
  const BmsFieldInfo *pack_ovp = bms_field_lookup (0x8E);    /* V, 0.01 */
  const BmsFieldInfo *cell_ovp = bms_field_lookup (0x90);    /* mV, 1 */
  const BmsFieldInfo *balancer = bms_field_lookup (0x9D);    /* bool */
  const BmsFieldInfo *chemistry = bms_field_lookup (0xAF);   /* enum */
  const BmsFieldInfo *status = bms_field_lookup (0x8C);      /* bits */
  BmsFieldInfo quarter = *cell_ovp;
  g_autofree char *a = bms_field_format (pack_ovp, 5840);
  g_autofree char *b = bms_field_format (cell_ovp, 3650);
  g_autofree char *c = bms_field_format_number (pack_ovp, 5840);
  g_autofree char *d = bms_field_format_number (cell_ovp, -12);
  g_autofree char *e = bms_field_format (balancer, 1);
  g_autofree char *f = bms_field_format (balancer, 2);
  g_autofree char *g = bms_field_format (chemistry, 0);
  g_autofree char *h = bms_field_bit_names (status, 0x5 | (1 << 9));
  g_autofree char *i = bms_field_bit_names (status, 0);

  g_assert_cmpuint (bms_field_get_decimals (pack_ovp), ==, 2);
  g_assert_cmpuint (bms_field_get_decimals (cell_ovp), ==, 0);
  quarter.scale = 0.25;
  g_assert_cmpuint (bms_field_get_decimals (&quarter), ==, 2);
  g_assert_cmpstr (a, ==, "58.40 V");
  g_assert_cmpstr (b, ==, "3650 mV");
  g_assert_cmpstr (c, ==, "58.40");
  g_assert_cmpstr (d, ==, "-12");
  g_assert_cmpstr (e, ==, "on");
  g_assert_cmpstr (f, ==, "invalid");
  g_assert_cmpstr (g, ==, chemistry->names[0]);
  g_assert_cmpstr (h, ==, "charge_mos_on, balancer_on, bit 9");
  g_assert_cmpstr (i, ==, "none");
}

/* lease_end is Unix time on the wire and a date for people: a lease "until
 * 2027-03-31" ends at midnight after that day (TZ=UTC here). */
static void
test_lease_end_dates (void)
{
  const BmsFieldInfo *field = bms_field_lookup (BMS_ID_LEASE_END);
  g_autoptr (GError) error = NULL;
  g_autofree char *day_end = NULL, *minute = NULL, *none = NULL;
  gint64 raw = -1;

  g_assert_true (bms_field_parse_value (field, "2027-03-31", &raw, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (raw, ==, 1806537600); /* 2027-04-01 00:00 UTC */
  day_end = bms_field_format (field, raw);
  g_assert_cmpstr (day_end, ==, "2027-03-31 24:00");
  g_assert_true (bms_field_parse_value (field, day_end, &raw, NULL, NULL));
  g_assert_cmpint (raw, ==, 1806537600);
  g_assert_true (bms_field_parse_value (field, "2027-03-31 12:30", &raw, NULL, NULL));
  minute = bms_field_format (field, raw);
  g_assert_cmpstr (minute, ==, "2027-03-31 12:30");
  g_assert_true (bms_field_parse_value (field, "none", &raw, NULL, NULL));
  g_assert_cmpint (raw, ==, 0);
  none = bms_field_format (field, 0);
  g_assert_cmpstr (none, ==, "none");
  /* A plain Unix time still works. */
  g_assert_true (bms_field_parse_value (field, "1806537600", &raw, NULL, NULL));
  g_assert_cmpint (raw, ==, 1806537600);
  g_assert_false (bms_field_parse_value (field, "2027-02-30", &raw, NULL, &error));
  g_assert_nonnull (strstr (error->message, "is not a date"));
}

/* 0xB5 is ASCII YYMM: shown as month and year, anything else as it came. */
static void
test_manufacture_date (void)
{
  const struct { const char *raw, *shown; } cases[] = {
    { "2601", "January 2026" },
    { "2512", "December 2025" },
    { "0007", "July 2000" },
    { "2613", "2613" },          /* no 13th month */
    { "2600", "2600" },
    { "26A1", "26A1" },
    { "261", "261" },
    { "26011", "26011" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *shown = bms_field_format_manufacture_date (cases[i].raw);
      g_assert_cmpstr (shown, ==, cases[i].shown);
    }
}

/* The month comes from the message catalogue: Preferences' language has no
 * LC_TIME locale of its own. Needs the built zh_CN catalogue. */
static void
test_manufacture_date_zh_cn (void)
{
  g_autofree char *po = g_build_filename (g_getenv ("PACKWATCH_BUILD_ROOT"), "po", NULL);
  g_autofree char *mo = g_build_filename (po, "zh_CN", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  g_autofree char *january = NULL;
  g_autofree char *october = NULL;

  if (!g_file_test (mo, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no built zh_CN catalogue");
      return;
    }
  /* gettext ignores LANGUAGE in the C locale. */
  if (setlocale (LC_MESSAGES, "C.UTF-8") == NULL)
    {
      g_test_skip ("no C.UTF-8 locale");
      return;
    }
  bindtextdomain (GETTEXT_PACKAGE, po);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  january = bms_field_format_manufacture_date ("2601");
  october = bms_field_format_manufacture_date ("2410");
  g_unsetenv ("LANGUAGE");
  setlocale (LC_MESSAGES, "C");
  g_assert_cmpstr (january, ==, "2026年1月");
  g_assert_cmpstr (october, ==, "2024年10月");
}

/* 0xB7 as the board pads it: the padding at the end goes, nothing else. */
static void
test_format_version (void)
{
  const struct { const char *raw, *shown; } cases[] = {
    { "PWSIM_S1.0.0___", "PWSIM_S1.0.0" },
    { "H6.X__S6.1.3S__", "H6.X__S6.1.3S" },
    { "V1.2 _ _", "V1.2" },
    { "V1.2", "V1.2" },
    { "___", "" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *shown = bms_field_format_version (cases[i].raw);
      g_assert_cmpstr (shown, ==, cases[i].shown);
    }
}

int
main (int argc, char **argv)
{
  /* Lease dates are local: a known zone. */
  g_setenv ("TZ", "UTC", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/field/format-value", test_format_value);
  g_test_add_func ("/field/catalogue-consistent", test_catalogue_consistent);
  g_test_add_func ("/field/round-trip-limits", test_round_trip_limits);
  g_test_add_func ("/field/current-versions", test_current_versions);
  g_test_add_func ("/field/temperature-encoding", test_temperature_encoding);
  g_test_add_func ("/field/parse-values", test_parse_values);
  g_test_add_func ("/field/format", test_format);
  g_test_add_func ("/field/bad-info", test_bad_info);
  g_test_add_func ("/field/setting-id", test_setting_id);
  g_test_add_func ("/field/lease-end-dates", test_lease_end_dates);
  g_test_add_func ("/field/manufacture-date", test_manufacture_date);
  g_test_add_func ("/field/manufacture-date-zh-cn", test_manufacture_date_zh_cn);
  g_test_add_func ("/field/format-version", test_format_version);
  return g_test_run ();
}
