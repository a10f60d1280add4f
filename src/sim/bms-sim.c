/* bms-sim.c — the simulated master BMS: parameter store, protocol endpoint,
 * fault injection, bootloader hand-over.
 *
 * Every catalogue field lives in one store (raw integers, or bytes for ASCII
 * and byte fields). Read-only telemetry is computed from the battery model
 * when a reply is built; parameters are mapped onto the model's SI values
 * through the catalogue's units, so nothing here hard-codes a size or scale.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "bms-bootloader.h"
#include "bms-firmware.h"
#include "bms-frame.h"
#include "bms-hex.h"
#include "bms-sim-private.h"

#define STATE_GROUP "parameters"
#define CALIBRATION_GROUP "calibration"
#define DEFAULT_VERSION "PWSIM_S1.0.0___"
#define HARDWARE_VERSION "PW-MASTER-HW1.0"
/* After a restart the bootloader listens this long (real seconds) for 0x20
 * before it starts the application: the vendor's "send the restart command,
 * reconnect at 9600, send 0x20" path into a firmware update. */
#define BOOT_WINDOW_S 3.0

struct _BmsSim
{
  BmsSimConfig config;
  char *state_file;
  BmsSimWeakCell *weak_cells; /* config.weak_cells points here */
  BmsSimBattery *battery;

  gint64 raw[256];
  guint8 *bytes[256]; /* ASCII and BYTES fields, field size */
  guint address;
  gboolean authenticated;
  gboolean asleep;
  char software_version[16];
  gint64 start_unix;
  gint64 runtime_base_min;
  gboolean state_loaded;   /* never overwrite a file we could not read */
  gboolean slaves_missing; /* the configured pack is not the one found (since boot) */

  BmsFrameParser *parser;
  GByteArray *reply; /* replies of the current receive call */

  BmsSimFaults faults;
  GRand *fault_rand;
  GRand *read_rand; /* the ADC's last-digit jitter */

  gboolean in_bootloader;
  double boot_window; /* real seconds the restart window stays open */
  BmsBootloader *bootloader;
  BmsBootloaderFaults boot_faults;
  GBytes *flashed_image;

  double time_scale;
  gint toggles; /* TOGGLE_* bits, set from any thread */
  BmsSimReadyFunc ready_func;
  gpointer ready_data;

  /* Replay (bms_sim_set_replay): recorded read-all replies and their
   * snapshots, served in turn instead of the battery model's. */
  GPtrArray *replay_frames;
  GPtrArray *replay_snapshots;
  guint replay_next;
  guint replay_last;
};

void
bms_sim_config_init (BmsSimConfig *config)
{
  memset (config, 0, sizeof *config);
  config->modules = 1;
  config->cells_per_module = 16;
  config->chemistry = BMS_CHEMISTRY_LFP;
  config->capacity_ah = 100;
  config->initial_soc = 0.6;
  config->address = 1;
  config->seed = 1;
  config->flash_size = 256 * 1024;
}

/* ---- units ----------------------------------------------------------------
 * The model works in V, A, s, °C; the catalogue says each field's unit. */

static double
unit_factor (const char *unit)
{
  if (unit == NULL)
    return 1;
  if (g_str_equal (unit, "mV") || g_str_equal (unit, "mA") || g_str_equal (unit, "mAh"))
    return 1000;
  if (g_str_equal (unit, "min"))
    return 1.0 / 60;
  return 1;
}

static gint64
clamp_raw (const BmsFieldInfo *f, gint64 raw)
{
  return CLAMP (raw, f->min, f->max);
}

/* An SI value as the field's raw integer, kept inside its range. */
static gint64
si_to_raw (const BmsFieldInfo *f, double si)
{
  if (!isfinite (si))
    si = 0;
  return clamp_raw (f, bms_field_from_engineering (f, si * unit_factor (f->unit)));
}

static double
raw_to_si (const BmsFieldInfo *f, gint64 raw)
{
  return bms_field_to_engineering (f, raw) / unit_factor (f->unit);
}

static const BmsFieldInfo *
field (const char *name)
{
  const BmsFieldInfo *f = bms_field_lookup_name (name);
  g_assert (f != NULL); /* the names below are the catalogue's */
  return f;
}

/* ---- parameters <-> model ------------------------------------------------ */

typedef enum
{
  P_DOUBLE,
  P_BOOL,
  P_ENUM
} ParamKind;

typedef struct
{
  const char *name;
  gsize offset;
  ParamKind kind;
} ParamMap;

#define D(n, m)                                                                                    \
  {                                                                                                \
    n, G_STRUCT_OFFSET (BmsSimParams, m), P_DOUBLE                                                 \
  }
#define B(n, m)                                                                                    \
  {                                                                                                \
    n, G_STRUCT_OFFSET (BmsSimParams, m), P_BOOL                                                   \
  }
#define E(n, m)                                                                                    \
  {                                                                                                \
    n, G_STRUCT_OFFSET (BmsSimParams, m), P_ENUM                                                   \
  }
static const ParamMap param_map[] = {
  D ("pack_ovp_v", pack_ovp_v),
  D ("pack_uvp_v", pack_uvp_v),
  D ("cell_ovp_mv", cell_ovp_v),
  D ("cell_ovp_recovery_mv", cell_ovp_recovery_v),
  D ("cell_ovp_delay_s", cell_ovp_delay_s),
  D ("cell_uvp_mv", cell_uvp_v),
  D ("cell_uvp_recovery_mv", cell_uvp_recovery_v),
  D ("cell_uvp_delay_s", cell_uvp_delay_s),
  D ("cell_diff_protect_mv", cell_diff_v),
  D ("discharge_ocp_a", discharge_ocp_a),
  D ("discharge_ocp_delay_s", discharge_ocp_delay_s),
  D ("charge_ocp_a", charge_ocp_a),
  D ("charge_ocp_delay_s", charge_ocp_delay_s),
  D ("balance_start_mv", balance_start_v),
  D ("balance_diff_mv", balance_diff_v),
  B ("balancer_enabled", balancer),
  D ("mosfet_otp_c", mos_ot_c),
  D ("mosfet_otp_recovery_c", mos_ot_recovery_c),
  D ("box_otp_c", box_ot_c),
  D ("box_otp_recovery_c", box_ot_recovery_c),
  D ("temp_diff_protect_c", temp_diff_c),
  D ("charge_high_temp_c", charge_ot_c),
  D ("discharge_high_temp_c", discharge_ot_c),
  D ("charge_low_temp_c", charge_lt_c),
  D ("charge_low_temp_recovery_c", charge_lt_recovery_c),
  D ("discharge_low_temp_c", discharge_lt_c),
  D ("discharge_low_temp_recovery_c", discharge_lt_recovery_c),
  D ("capacity_ah", capacity_setting_ah),
  B ("charge_mos_enabled", charge_switch),
  B ("discharge_mos_enabled", discharge_switch),
  D ("low_capacity_alarm_pct", low_soc_alarm_pct),
  D ("cell_ovp2_mv", cell_ovp2_v),
  D ("cell_uvp2_mv", cell_uvp2_v),
  E ("heater_mode", heater_mode),
  D ("heater_start_c", heater_start_c),
  D ("heater_stop_c", heater_stop_c),
  D ("peak_discharge_a", peak_discharge_a),
  D ("balance_otp_c", balance_ot_c),
  D ("balance_otp_recovery_c", balance_ot_recovery_c),
};
#undef D
#undef B
#undef E

static gint64 *
store (BmsSim *sim, const char *name)
{
  return &sim->raw[field (name)->id];
}

/* The value of a setting the board acts on: the extension that stands in
 * for f when it is set (not 0), else f's own (passed in, in SI units). */
static double
in_force (BmsSim *sim, const BmsFieldInfo *f, double own)
{
  const BmsFieldInfo *in_place = bms_field_replacement (f->id);

  return in_place != NULL && sim->raw[in_place->id] != 0
         ? raw_to_si (in_place, sim->raw[in_place->id]) : own;
}

/* Sets the extension that stands in for public field id to si. */
static void
put_in_place (BmsSim *sim, guint8 id, double si)
{
  const BmsFieldInfo *in_place = bms_field_replacement (id);

  sim->raw[in_place->id] = si_to_raw (in_place, si);
}

static void
set_bytes (BmsSim *sim, const BmsFieldInfo *f, const guint8 *data, gsize len)
{
  g_free (sim->bytes[f->id]);
  sim->bytes[f->id] = g_malloc0 (f->size);
  if (data != NULL)
    memcpy (sim->bytes[f->id], data, MIN (len, f->size));
}

static void
set_text (BmsSim *sim, const char *name, const char *text)
{
  set_bytes (sim, field (name), (const guint8 *)text, strlen (text));
}

static void
params_to_store (BmsSim *sim, const BmsSimParams *p)
{
  for (gsize k = 0; k < G_N_ELEMENTS (param_map); k++)
    {
      const BmsFieldInfo *f = field (param_map[k].name);
      const guint8 *member = (const guint8 *)p + param_map[k].offset;

      switch (param_map[k].kind)
        {
        case P_DOUBLE:
          sim->raw[f->id] = si_to_raw (f, *(const double *)member);
          break;
        case P_BOOL:
          sim->raw[f->id] = *(const gboolean *)member ? 1 : 0;
          break;
        case P_ENUM:
          sim->raw[f->id] = clamp_raw (f, *(const BmsSimHeaterMode *)member);
          break;
        }
    }
}

static gboolean
lease_expired (BmsSim *sim)
{
  gint64 end = sim->raw[BMS_ID_LEASE_END];
  return end != 0 && bms_sim_get_unix_time (sim) >= end;
}

/* The store as the model's parameters; called after every change. */
static void
store_to_params (BmsSim *sim)
{
  BmsSimParams p = *bms_sim_battery_get_params (sim->battery);
  const BmsFieldInfo *pack_ovp = field ("pack_ovp_v");
  const BmsFieldInfo *pack_uvp = field ("pack_uvp_v");
  guint n = bms_sim_battery_n_cells (sim->battery);

  for (gsize k = 0; k < G_N_ELEMENTS (param_map); k++)
    {
      const BmsFieldInfo *f = field (param_map[k].name);
      guint8 *member = (guint8 *)&p + param_map[k].offset;

      switch (param_map[k].kind)
        {
        case P_DOUBLE:
          *(double *)member = raw_to_si (f, sim->raw[f->id]);
          break;
        case P_BOOL:
          *(gboolean *)member = sim->raw[f->id] != 0;
          break;
        case P_ENUM:
          *(BmsSimHeaterMode *)member = (BmsSimHeaterMode)sim->raw[f->id];
          break;
        }
    }
  /* A pack beyond the field's reach (the public field ends at 150 V, a
   * 256-cell master is ~900 V) holds the clamped maximum, which means "no
   * pack limit": the cell limits guard it. */
  if (sim->raw[pack_ovp->id] == pack_ovp->max
      && n * p.cell_ovp_v > raw_to_si (pack_ovp, pack_ovp->max))
    p.pack_ovp_v = 0;
  if (sim->raw[pack_uvp->id] == pack_uvp->max
      && n * p.cell_uvp_v > raw_to_si (pack_uvp, pack_uvp->max))
    p.pack_uvp_v = 0;
  /* The 4-byte high-voltage pair, when set, is the limit in force. */
  p.pack_ovp_v = in_force (sim, pack_ovp, p.pack_ovp_v);
  p.pack_uvp_v = in_force (sim, pack_uvp, p.pack_uvp_v);
  p.lease_expired = lease_expired (sim);
  bms_sim_battery_set_params (sim->battery, &p);
}

/* ---- defaults and persistence -------------------------------------------- */

static void
manufacturer_id (BmsSim *sim, char out[25])
{
  static const char type_code[] = { '1', '3', '4' }; /* LFP, NMC, LTO */
  const BmsSimConfig *c = &sim->config;
  double nominal = bms_sim_ocv (c->chemistry, 0.5) * c->modules * c->cells_per_module;

  g_snprintf (out, 25, "BT%c%03u%03u%02u0000260101%03u",
              type_code[CLAMP ((guint)c->chemistry, 0, 2)], MIN ((guint)lround (nominal), 999u),
              MIN ((guint)lround (c->capacity_ah), 999u),
              c->chemistry == BMS_CHEMISTRY_NMC   ? 12u
              : c->chemistry == BMS_CHEMISTRY_LTO ? 99u
                                                  : 40u,
              c->seed % 1000);
}

static void
set_bit_by_name (gint64 *mask, const BmsFieldInfo *f, const char *bit)
{
  for (guint i = 0; f->names && f->names[i]; i++)
    if (g_str_equal (f->names[i], bit))
      *mask |= G_GINT64_CONSTANT (1) << i;
}

/* Factory state: the vendor sheet column for the chemistry, identity. */
static void
load_defaults (BmsSim *sim)
{
  const BmsSimConfig *c = &sim->config;
  const BmsFieldInfo *all;
  BmsSimParams p;
  guint n_fields, n = c->modules * c->cells_per_module;
  char mid[25];
  guint8 mc[BMS_MAX_MODULES] = { 0 };
  guint8 bt[6];

  all = bms_field_all (&n_fields);
  for (guint i = 0; i < n_fields; i++)
    {
      if (bms_field_is_numeric (&all[i]))
        sim->raw[all[i].id] = clamp_raw (&all[i], 0);
      else if (all[i].size > 0)
        set_bytes (sim, &all[i], NULL, 0);
    }

  bms_sim_params_defaults (&p, c->chemistry, n, c->capacity_ah);
  p.peak_discharge_a = 3 * p.discharge_ocp_a;
  params_to_store (sim, &p);
  /* A pack past what 0x8E/0x8F can hold (150 V) is protected through the
   * 4-byte pair, as a high-voltage master is; smaller packs leave it 0. */
  if (p.pack_ovp_v > raw_to_si (bms_field_lookup (BMS_ID_PACK_OVP),
                                bms_field_lookup (BMS_ID_PACK_OVP)->max))
    {
      put_in_place (sim, BMS_ID_PACK_OVP, p.pack_ovp_v);
      put_in_place (sim, BMS_ID_PACK_UVP, p.pack_uvp_v);
    }

  *store (sim, "battery_type") = c->chemistry;
  *store (sim, "board_address") = clamp_raw (field ("board_address"), c->address);
  *store (sim, "cell_count_set") = clamp_raw (field ("cell_count_set"), n);
  *store (sim, "pack_cell_count") = clamp_raw (field ("pack_cell_count"), n);
  *store (sim, "actual_capacity_ah") = si_to_raw (field ("actual_capacity_ah"), c->capacity_ah);
  *store (sim, "sleep_wait_s") = 10;
  *store (sim, "current_calibration_ma") = si_to_raw (field ("current_calibration_ma"), 1.0);
  *store (sim, "buzzer_enabled") = 1;
  *store (sim, "special_charger_current_a") = si_to_raw (field ("special_charger_current_a"), 12);
  set_bit_by_name (store (sim, "switches"), field ("switches"), "charging");
  set_bit_by_name (store (sim, "switches"), field ("switches"), "short_circuit_protection");
  set_bit_by_name (store (sim, "switches"), field ("switches"), "power");

  set_text (sim, "parameter_password", BMS_DEFAULT_PASSWORD);
  set_text (sim, "device_id", "PWSIM001");
  set_text (sim, "manufacture_date", "2601");
  manufacturer_id (sim, mid);
  set_text (sim, "manufacturer_id", mid);
  set_text (sim, "bluetooth_name", "PACKWATCH-SIM");
  set_text (sim, "hardware_version", HARDWARE_VERSION);
  for (guint m = 0; m < c->modules; m++)
    mc[m] = c->cells_per_module;
  set_bytes (sim, field ("module_cells"), mc, sizeof mc);
  bt[0] = 0x02; /* locally administered */
  bt[1] = 0x50;
  for (guint i = 2; i < 6; i++)
    bt[i] = (c->seed >> (8 * (5 - i))) & 0xFF;
  set_bytes (sim, field ("bluetooth_address"), bt, sizeof bt);
  sim->runtime_base_min = 0;
}

static gint64
runtime_min (BmsSim *sim)
{
  return sim->runtime_base_min + (gint64)(bms_sim_battery_time (sim->battery) / 60.0);
}

static gboolean
persisted (const BmsFieldInfo *f)
{
  return f->access == BMS_ACCESS_RW;
}

static void
save_state (BmsSim *sim)
{
  g_autoptr (GKeyFile) kf = NULL;
  g_autoptr (GError) error = NULL;
  const BmsFieldInfo *all;
  guint n;

  if (sim->state_file == NULL || !sim->state_loaded)
    return;
  kf = g_key_file_new ();
  *store (sim, "runtime_min") = runtime_min (sim);
  all = bms_field_all (&n);
  for (guint i = 0; i < n; i++)
    {
      const BmsFieldInfo *f = &all[i];

      if (!persisted (f))
        continue;
      if (bms_field_is_numeric (f))
        g_key_file_set_int64 (kf, STATE_GROUP, f->name, sim->raw[f->id]);
      else if (f->type == BMS_FIELD_ASCII)
        {
          g_autofree char *text = g_strndup ((const char *)sim->bytes[f->id], f->size);
          g_key_file_set_string (kf, STATE_GROUP, f->name, text);
        }
      else
        {
          g_autoptr (GString) hex = g_string_new (NULL);
          for (guint k = 0; k < f->size; k++)
            g_string_append_printf (hex, "%02x", sim->bytes[f->id][k]);
          g_key_file_set_string (kf, STATE_GROUP, f->name, hex->str);
        }
    }
  /* Not a field: the board's own calibration memory. */
  g_key_file_set_double (kf, CALIBRATION_GROUP, "current_gain",
                         bms_sim_battery_get_calibration (sim->battery));
  if (!g_key_file_save_to_file (kf, sim->state_file, &error))
    g_printerr ("packwatch-sim: cannot save the parameters to %s: %s\n", sim->state_file,
                error->message);
}

static gboolean
load_bytes_hex (BmsSim *sim, const BmsFieldInfo *f, const char *hex)
{
  guint8 buf[256];
  gsize len = strlen (hex);

  if (len != 2u * f->size)
    return FALSE;
  for (guint k = 0; k < f->size; k++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * k]), lo = g_ascii_xdigit_value (hex[2 * k + 1]);
      if (hi < 0 || lo < 0)
        return FALSE;
      buf[k] = (hi << 4) | lo;
    }
  set_bytes (sim, f, buf, f->size);
  return TRUE;
}

/* Loads what the file has; a missing file is a fresh board. A value the
 * catalogue refuses makes the whole file fail: the user must fix or delete
 * it rather than run a board with half its settings. */
static gboolean
load_state (BmsSim *sim, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) keys = NULL;

  if (sim->state_file == NULL)
    return TRUE;
  if (!g_key_file_load_from_file (kf, sim->state_file, G_KEY_FILE_NONE, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "State file %s is not readable: %s (fix or delete it)", sim->state_file,
                   local->message);
      return FALSE;
    }
  keys = g_key_file_get_keys (kf, STATE_GROUP, NULL, NULL);
  for (guint i = 0; keys && keys[i]; i++)
    {
      const BmsFieldInfo *f = bms_field_lookup_name (keys[i]);
      g_autofree char *value = g_key_file_get_string (kf, STATE_GROUP, keys[i], NULL);
      g_autoptr (GError) why = NULL;
      gboolean ok = TRUE;

      if (f == NULL || !persisted (f))
        continue; /* a field of another version: ignore */
      if (bms_field_is_numeric (f))
        {
          gint64 raw = g_key_file_get_int64 (kf, STATE_GROUP, keys[i], &why);
          ok = why == NULL && bms_field_check_range (f, raw, &why);
          if (ok)
            sim->raw[f->id] = raw;
        }
      else if (f->type == BMS_FIELD_ASCII)
        {
          ok = value && strlen (value) <= f->size;
          if (ok)
            set_bytes (sim, f, (const guint8 *)value, strlen (value));
        }
      else
        ok = value && load_bytes_hex (sim, f, value);
      if (!ok)
        {
          g_set_error (
              error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
              "State file %s: %s = \"%s\" is not a valid value%s%s (fix or delete the line)",
              sim->state_file, keys[i], value ? value : "", why ? ": " : "",
              why ? why->message : "");
          return FALSE;
        }
    }
  sim->runtime_base_min = *store (sim, "runtime_min");
  if (g_key_file_has_key (kf, CALIBRATION_GROUP, "current_gain", NULL))
    bms_sim_battery_set_calibration (
        sim->battery, g_key_file_get_double (kf, CALIBRATION_GROUP, "current_gain", NULL));
  return TRUE;
}

/* ---- life cycle ---------------------------------------------------------- */

static void on_frame (BmsFrame *frame, gpointer user_data);
static void check_slaves (BmsSim *sim);

static gboolean
weak_cell_in_range (const BmsSimWeakCell *w, GError **error)
{
  if (!(w->r_factor >= 0.1 && w->r_factor <= 20))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "weak cell %u: RFACTOR must be 0.1 to 20 (got %g)", w->cell, w->r_factor);
  else if (!(w->cap_factor >= 0.1 && w->cap_factor <= 2))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "weak cell %u: CAPFACTOR must be 0.1 to 2 (got %g)", w->cell, w->cap_factor);
  else if (!(w->leak_ma >= 0 && w->leak_ma <= 1000))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "weak cell %u: LEAK_MA must be 0 to 1000 mA (got %g)", w->cell, w->leak_ma);
  else
    return TRUE;
  return FALSE;
}

static gboolean
check_weak_cells (const BmsSimConfig *c, GError **error)
{
  guint n = c->modules * c->cells_per_module;

  for (guint k = 0; k < c->n_weak_cells; k++)
    {
      const BmsSimWeakCell *w = &c->weak_cells[k];

      if (w->cell < 1 || w->cell > n)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "weak cell %u: the pack has cells 1 to %u", w->cell, n);
          return FALSE;
        }
      if (!weak_cell_in_range (w, error))
        return FALSE;
      for (guint j = 0; j < k; j++)
        if (c->weak_cells[j].cell == w->cell)
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "weak cell %u is given twice", w->cell);
            return FALSE;
          }
    }
  return TRUE;
}

/* One number of a weak-cell spec: the whole part must be a number. */
static gboolean
parse_number (const char *text, double *out)
{
  char *end = NULL;

  if (text == NULL || *text == '\0')
    return FALSE;
  *out = g_ascii_strtod (text, &end);
  return end != text && *end == '\0' && isfinite (*out);
}

gboolean
bms_sim_weak_cell_parse (const char *spec, BmsSimWeakCell *weak, GError **error)
{
  static const char *const part[] = { "N", "RFACTOR", "CAPFACTOR", "LEAK_MA" };
  g_auto (GStrv) parts = NULL;
  double v[4] = { 0, 2.0, 1.0, 0.0 };
  guint n;

  g_return_val_if_fail (spec != NULL && weak != NULL, FALSE);
  parts = g_strsplit (spec, ":", -1);
  n = g_strv_length (parts);
  if (n < 1 || n > 4)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "\"%s\" is not N[:RFACTOR[:CAPFACTOR[:LEAK_MA]]]", spec);
      return FALSE;
    }
  for (guint k = 0; k < n; k++)
    if (!parse_number (parts[k], &v[k]))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "\"%s\": %s is not a number (got \"%s\"; the form is "
                     "N[:RFACTOR[:CAPFACTOR[:LEAK_MA]]])",
                     spec, part[k], parts[k]);
        return FALSE;
      }
  if (v[0] < 1 || v[0] > BMS_MAX_CELLS || v[0] != floor (v[0]))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "\"%s\": N must be a cell 1 to %d (got \"%s\")", spec, BMS_MAX_CELLS, parts[0]);
      return FALSE;
    }
  weak->cell = (guint)v[0];
  weak->r_factor = v[1];
  weak->cap_factor = v[2];
  weak->leak_ma = v[3];
  return weak_cell_in_range (weak, error);
}

static gboolean
check_config (const BmsSimConfig *c, GError **error)
{
  const char *what = NULL;

  if (c->modules < 1 || c->modules > BMS_MAX_MODULES)
    what = "modules must be 1 to 16";
  else if (c->cells_per_module < 5 || c->cells_per_module > 16)
    what = "cells per module must be 5 to 16";
  else if (c->chemistry > BMS_CHEMISTRY_LTO)
    what = "chemistry must be lfp, nmc or lto";
  else if (!(c->capacity_ah >= 1 && c->capacity_ah <= 2000))
    what = "capacity must be 1 to 2000 Ah";
  else if (!(c->initial_soc >= 0 && c->initial_soc <= 1))
    what = "initial state of charge must be 0 to 1";
  else if (c->address > 255)
    what = "address must be 0 to 255";
  else if (!check_weak_cells (c, error))
    {
      g_prefix_error (error, "Invalid simulator configuration: ");
      return FALSE;
    }
  if (what)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Invalid simulator configuration: %s", what);
      return FALSE;
    }
  return TRUE;
}

BmsSim *
bms_sim_new (const BmsSimConfig *config, GError **error)
{
  g_autoptr (BmsSim) sim = NULL;

  g_return_val_if_fail (config != NULL, NULL);
  if (!check_config (config, error))
    return NULL;

  sim = g_new0 (BmsSim, 1);
  sim->config = *config;
  sim->state_file = g_strdup (config->state_file);
  sim->config.state_file = sim->state_file;
  sim->weak_cells = g_memdup2 (config->weak_cells, config->n_weak_cells * sizeof (BmsSimWeakCell));
  sim->config.weak_cells = sim->weak_cells;
  if (sim->config.flash_size == 0)
    sim->config.flash_size = 256 * 1024;
  sim->battery = bms_sim_battery_new (config->modules, config->cells_per_module, config->chemistry,
                                      config->capacity_ah, config->initial_soc, config->seed);
  bms_sim_battery_plant_weak_cells (sim->battery, sim->weak_cells, config->n_weak_cells);
  sim->fault_rand = g_rand_new_with_seed (config->seed ^ 0x5EED5EEDu);
  sim->read_rand = g_rand_new_with_seed (config->seed ^ 0xADC0ADC0u);
  sim->parser = bms_frame_parser_new (on_frame, NULL, sim);
  sim->start_unix = g_get_real_time () / G_USEC_PER_SEC;
  g_strlcpy (sim->software_version, DEFAULT_VERSION, sizeof sim->software_version);
  sim->time_scale = 1;
  bms_bootloader_faults_init (&sim->boot_faults);

  load_defaults (sim);
  if (!load_state (sim, error))
    return NULL;
  sim->state_loaded = TRUE;
  /* The command line's address wins over the stored one. */
  sim->address = config->address;
  *store (sim, "board_address") = clamp_raw (field ("board_address"), config->address);
  store_to_params (sim);
  check_slaves (sim);

  if (config->cycle_profile)
    bms_sim_battery_set_cycle (sim->battery, TRUE);
  else
    bms_sim_battery_set_current (sim->battery, config->current_a);
  return g_steal_pointer (&sim);
}

static void
leave_bootloader (BmsSim *sim)
{
  sim->in_bootloader = FALSE;
  g_clear_pointer (&sim->bootloader, bms_bootloader_free);
}

void
bms_sim_free (BmsSim *sim)
{
  if (sim == NULL)
    return;
  if (sim->battery)
    save_state (sim);
  leave_bootloader (sim);
  for (guint i = 0; i < 256; i++)
    g_free (sim->bytes[i]);
  g_clear_pointer (&sim->parser, bms_frame_parser_free);
  g_clear_pointer (&sim->battery, bms_sim_battery_free);
  g_clear_pointer (&sim->fault_rand, g_rand_free);
  g_clear_pointer (&sim->read_rand, g_rand_free);
  g_clear_pointer (&sim->flashed_image, g_bytes_unref);
  g_clear_pointer (&sim->replay_frames, g_ptr_array_unref);
  g_clear_pointer (&sim->replay_snapshots, g_ptr_array_unref);
  g_free (sim->state_file);
  g_free (sim->weak_cells);
  g_free (sim);
}

/* ---- bootloader hand-over ------------------------------------------------ */

/* A board restart: protections cleared, password gate closed, awake. */
/* What the board finds at boot against what it was told: a cell count
 * (0xE7) or a module layout (0xD2) the wiring does not have means a slave
 * it cannot reach. Settings take effect at boot, as on the real master. */
static void
check_slaves (BmsSim *sim)
{
  const BmsSimConfig *c = &sim->config;
  const guint8 *mc = sim->bytes[field ("module_cells")->id];
  gboolean missing = *store (sim, "pack_cell_count") != (gint64)(c->modules * c->cells_per_module);

  for (guint m = 0; m < BMS_MAX_MODULES && mc; m++)
    if (mc[m] != (m < c->modules ? c->cells_per_module : 0))
      missing = TRUE;
  sim->slaves_missing = missing;
}

static void
restart (BmsSim *sim)
{
  sim->authenticated = FALSE;
  sim->asleep = FALSE;
  bms_sim_battery_set_asleep (sim->battery, FALSE);
  bms_sim_battery_reset_protections (sim->battery);
  bms_frame_parser_reset (sim->parser);
  store_to_params (sim);
  check_slaves (sim);
}

static void
enter_bootloader (BmsSim *sim)
{
  sim->in_bootloader = TRUE;
  sim->authenticated = FALSE;
  bms_frame_parser_reset (sim->parser);
  g_clear_pointer (&sim->bootloader, bms_bootloader_free);
  sim->bootloader = bms_bootloader_new (sim->config.flash_size);
  bms_bootloader_set_faults (sim->bootloader, &sim->boot_faults);
}

void
bms_sim_enter_bootloader (BmsSim *sim)
{
  g_return_if_fail (sim != NULL);
  sim->boot_window = 0;
  enter_bootloader (sim);
}

void
bms_sim_set_bootloader_faults (BmsSim *sim, const BmsBootloaderFaults *faults)
{
  g_return_if_fail (sim != NULL && faults != NULL);
  sim->boot_faults = *faults;
  if (sim->bootloader)
    bms_bootloader_set_faults (sim->bootloader, faults);
}

/* Bytes for the bootloader; its answer goes to out. Once it has accepted an
 * image the board restarts into the new firmware — if it can: like ST's IAP
 * the bootloader only jumps to an image whose vector table holds a stack
 * pointer in SRAM and a reset handler inside the image. Anything else is
 * written to flash but never starts, and the board stays in its
 * bootloader (a good image flashed with --bootloader rescues it). */
static void
bootloader_receive (BmsSim *sim, const guint8 *data, gsize len, GByteArray *out)
{
  bms_bootloader_receive (sim->bootloader, data, len, out);
  if (bms_bootloader_finished (sim->bootloader))
    {
      GBytes *image = bms_bootloader_get_image (sim->bootloader);
      const char *version = bms_bootloader_get_version (sim->bootloader);
      gsize size = image != NULL ? g_bytes_get_size (image) : 0;

      g_clear_pointer (&sim->flashed_image, g_bytes_unref);
      sim->flashed_image = image ? g_bytes_ref (image) : NULL;
      if (!bms_firmware_check_image (image ? g_bytes_get_data (image, NULL) : NULL, size,
                                     sim->config.flash_size, NULL))
        {
          enter_bootloader (sim);
          return;
        }
      memset (sim->software_version, 0, sizeof sim->software_version);
      g_strlcpy (sim->software_version, version ? version : "unknown",
                 sizeof sim->software_version);
      leave_bootloader (sim);
      restart (sim);
    }
}

static void
bootloader_tick (BmsSim *sim, double dt_s)
{
  bms_bootloader_tick (sim->bootloader, dt_s);
}

/* ---- telemetry ----------------------------------------------------------- */

static gint64
temp_raw (const BmsFieldInfo *f, double celsius)
{
  return si_to_raw (f, celsius);
}

static guint
alarms_ext (BmsSim *sim, const BmsFieldInfo *f)
{
  static const struct
  {
    guint prot;
    const char *bit;
  } map[] = {
    { BMS_SIM_PROT_CELL_OVP2, "cell_over_voltage_level2" },
    { BMS_SIM_PROT_CELL_UVP2, "cell_under_voltage_level2" },
    { BMS_SIM_PROT_BALANCE_OT, "balance_module_over_temp" },
    { BMS_SIM_PROT_LEASE, "lease_expired" },
    { BMS_SIM_PROT_PEAK_OCP, "short_circuit" },
  };
  guint tripped = bms_sim_battery_protections (sim->battery);
  gint64 mask = 0;

  for (gsize k = 0; k < G_N_ELEMENTS (map); k++)
    if (tripped & map[k].prot)
      set_bit_by_name (&mask, f, map[k].bit);
  if (sim->slaves_missing)
    set_bit_by_name (&mask, f, "slave_offline");
  return (guint)mask;
}

static guint
relays (BmsSim *sim, const BmsFieldInfo *f)
{
  static const struct
  {
    guint relay;
    const char *bit;
  } map[] = {
    { BMS_SIM_RELAY_DISCHARGE, "discharge" }, { BMS_SIM_RELAY_PRECHARGE, "precharge" },
    { BMS_SIM_RELAY_CHARGE, "charge" },       { BMS_SIM_RELAY_LEVEL2, "level2" },
    { BMS_SIM_RELAY_HEATER, "heater" },
  };
  guint r = bms_sim_battery_relays (sim->battery);
  gint64 mask = 0;

  for (gsize k = 0; k < G_N_ELEMENTS (map); k++)
    if (r & map[k].relay)
      set_bit_by_name (&mask, f, map[k].bit);
  return (guint)mask;
}

static guint
status_bits (BmsSim *sim, const BmsFieldInfo *f)
{
  BmsSimBattery *b = sim->battery;
  gint64 mask = 0;

  if (bms_sim_battery_charge_mos (b))
    set_bit_by_name (&mask, f, "charge_mos_on");
  if (bms_sim_battery_discharge_mos (b))
    set_bit_by_name (&mask, f, "discharge_mos_on");
  if (bms_sim_battery_balancing (b))
    set_bit_by_name (&mask, f, "balancer_on");
  /* A healthy real board sends bit 3 clear (the vendor document's "1 =
   * connected" notwithstanding); with slaves missing the master sets what
   * the field reads as "battery dropped", next to slave_offline in 0xD7. */
  if (sim->slaves_missing)
    set_bit_by_name (&mask, f, "battery_dropped");
  return (guint)mask;
}

static gint64
lease_state (BmsSim *sim)
{
  if (sim->raw[BMS_ID_LEASE_END] == 0)
    return 0;                         /* none */
  return lease_expired (sim) ? 2 : 1; /* expired : active */
}

/* The read-only fields computed from the model. */
typedef enum
{
  TM_NONE,
  TM_MOS_TEMP,
  TM_TEMP1,
  TM_TEMP2,
  TM_BALANCE_TEMP,
  TM_PACK_VOLTAGE,
  TM_CURRENT,
  TM_SOC,
  TM_TEMP_SENSORS,
  TM_CYCLES,
  TM_TOTAL_AH,
  TM_DISCHARGED_AH,
  TM_CELL_COUNT,
  TM_MODULE_COUNT,
  TM_WARNINGS,
  TM_STATUS,
  TM_RELAYS,
  TM_ALARMS_EXT,
  TM_LEASE_STATE,
  TM_PROTOCOL_VERSION,
  TM_RUNTIME,
} TelemetryKind;

/* Which one an id is: looked up by catalogue name once, since a snapshot
 * asks for every field and a bench takes hundreds of thousands of them. */
static TelemetryKind
telemetry_kind (guint8 id)
{
  static const struct
  {
    const char *name;
    TelemetryKind kind;
  } names[] = {
    { "mosfet_temp_c", TM_MOS_TEMP },
    { "temp1_c", TM_TEMP1 },
    { "temp2_c", TM_TEMP2 },
    { "balance_temp_c", TM_BALANCE_TEMP },
    { "current_a", TM_CURRENT },
    { "soc_pct", TM_SOC },
    { "temp_sensor_count", TM_TEMP_SENSORS },
    { "cycles", TM_CYCLES },
    { "total_cycle_capacity_ah", TM_TOTAL_AH },
    { "discharged_capacity_ah", TM_DISCHARGED_AH },
    { "cell_count", TM_CELL_COUNT },
    { "module_count", TM_MODULE_COUNT },
    { "warnings", TM_WARNINGS },
    { "status", TM_STATUS },
    { "relays", TM_RELAYS },
    { "alarms_ext", TM_ALARMS_EXT },
    { "lease_state", TM_LEASE_STATE },
    { "protocol_version", TM_PROTOCOL_VERSION },
    { "runtime_min", TM_RUNTIME },
  };
  static guint8 kinds[256];
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      for (gsize k = 0; k < G_N_ELEMENTS (names); k++)
        kinds[field (names[k].name)->id] = names[k].kind;
      kinds[BMS_ID_PACK_VOLTAGE] = kinds[BMS_ID_PACK_VOLTAGE_HV] = TM_PACK_VOLTAGE;
      g_once_init_leave (&done, 1);
    }
  return (TelemetryKind)kinds[id];
}

/* The raw value of a read-only field computed from the model; FALSE if the
 * field is a stored one. */
static gboolean
telemetry (BmsSim *sim, const BmsFieldInfo *f, gint64 *raw)
{
  BmsSimBattery *b = sim->battery;
  const BmsSimParams *p = bms_sim_battery_get_params (b);

  switch (telemetry_kind (f->id))
    {
    case TM_MOS_TEMP:
      *raw = temp_raw (f, bms_sim_battery_mos_temp (b));
      break;
    case TM_TEMP1:
      *raw = temp_raw (f, bms_sim_battery_box_temp (b));
      break;
    case TM_TEMP2:
      *raw = temp_raw (f, bms_sim_battery_cell_temp (b));
      break;
    case TM_BALANCE_TEMP:
      *raw = temp_raw (f, bms_sim_battery_balance_temp (b));
      break;
    case TM_PACK_VOLTAGE:
      *raw = si_to_raw (f, bms_sim_battery_pack_voltage (b));
      break;
    case TM_CURRENT:
      *raw = si_to_raw (f, bms_sim_battery_measured_current (b));
      break;
    case TM_SOC:
      *raw = si_to_raw (f, 100 * bms_sim_battery_soc (b));
      break;
    case TM_TEMP_SENSORS:
      *raw = 2;
      break;
    case TM_CYCLES:
      *raw = clamp_raw (f, bms_sim_battery_cycles (b));
      break;
    case TM_TOTAL_AH:
      *raw = si_to_raw (f, floor (bms_sim_battery_total_ah (b)));
      break;
    case TM_DISCHARGED_AH:
      *raw = si_to_raw (f, p->capacity_setting_ah * (1 - bms_sim_battery_soc (b)));
      break;
    case TM_CELL_COUNT:
      *raw = clamp_raw (f, bms_sim_battery_n_cells (b));
      break;
    case TM_MODULE_COUNT:
      *raw = clamp_raw (f, bms_sim_battery_n_modules (b));
      break;
    case TM_WARNINGS:
      *raw = bms_sim_battery_warnings (b);
      break;
    case TM_STATUS:
      *raw = status_bits (sim, f);
      break;
    case TM_RELAYS:
      *raw = relays (sim, f);
      break;
    case TM_ALARMS_EXT:
      *raw = alarms_ext (sim, f);
      break;
    case TM_LEASE_STATE:
      *raw = lease_state (sim);
      break;
    case TM_PROTOCOL_VERSION:
      *raw = 1;
      break;
    case TM_RUNTIME:
      *raw = clamp_raw (f, runtime_min (sim));
      break;
    case TM_NONE:
    default:
      return FALSE;
    }
  return TRUE;
}

static void
fill_blocks (BmsSim *sim, BmsSnapshot *s)
{
  BmsSimBattery *b = sim->battery;
  guint n = bms_sim_battery_n_cells (b), nm = bms_sim_battery_n_modules (b);
  guint16 mv[BMS_MAX_CELLS];
  gint16 temps[BMS_MAX_MODULES][3];

  /* A real cell ADC wobbles in its last digit from one read to the next. */
  for (guint i = 0; i < n; i++)
    mv[i] = (guint16)CLAMP (lround (bms_sim_battery_cell_voltage (b, i) * 1000)
                                + g_rand_int_range (sim->read_rand, -1, 2),
                            0, 65535);
  /* 0xD0 only past 85 cells, as docs/protocol.md says a board does: a
   * 16-cell pack that sends an empty one is not what a real board sends. */
  bms_snapshot_set_cells (s, mv, n);

  for (guint m = 0; m < nm; m++)
    for (guint k = 0; k < 3; k++)
      temps[m][k] = (gint16)lround (bms_sim_battery_module_temp (b, m, k));
  bms_snapshot_set_module_temps (s, (const gint16 (*)[3])temps, nm);
}

BmsSnapshot *
bms_sim_snapshot (BmsSim *sim)
{
  BmsSnapshot *s = bms_snapshot_new ();
  const BmsFieldInfo *all;
  guint n;

  g_return_val_if_fail (sim != NULL, NULL);
  all = bms_field_all (&n);
  for (guint i = 0; i < n; i++)
    {
      const BmsFieldInfo *f = &all[i];
      gint64 raw;

      if (!(f->access & BMS_ACCESS_R))
        continue;
      switch (f->type)
        {
        case BMS_FIELD_CELLS:
        case BMS_FIELD_CELLS_EXT:
        case BMS_FIELD_MODULE_TEMPS:
          break; /* fill_blocks */
        case BMS_FIELD_ASCII:
        case BMS_FIELD_BYTES:
          if (f->id == BMS_ID_SOFTWARE_VERSION)
            bms_snapshot_set_bytes (s, f->id, (const guint8 *)sim->software_version,
                                    strlen (sim->software_version));
          else
            bms_snapshot_set_bytes (s, f->id, sim->bytes[f->id], f->size);
          break;
        default:
          if (!telemetry (sim, f, &raw))
            raw = sim->raw[f->id];
          bms_snapshot_set_raw (s, f->id, raw);
          break;
        }
    }
  fill_blocks (sim, s);
  return s;
}

/* ---- writes -------------------------------------------------------------- */

static BmsResult
check_value (const BmsFieldInfo *f, const guint8 *value, gsize len, gint64 *raw)
{
  if (f->type == BMS_FIELD_ASCII)
    {
      if (len > f->size)
        return BMS_RESULT_RANGE;
      for (gsize k = 0; k < len; k++)
        if (value[k] != 0 && (value[k] < 0x20 || value[k] > 0x7E))
          return BMS_RESULT_RANGE;
      return BMS_RESULT_OK;
    }
  if (len != f->size)
    return BMS_RESULT_RANGE;
  if (f->type == BMS_FIELD_BYTES)
    {
      for (gsize k = 0; k < len; k++)
        if (value[k] < f->min || value[k] > f->max)
          return BMS_RESULT_RANGE;
      if (g_str_equal (f->name, "module_cells"))
        for (gsize k = 0; k < len; k++)
          if (value[k] != 0 && value[k] < 5)
            return BMS_RESULT_RANGE;
      return BMS_RESULT_OK;
    }
  *raw = bms_field_decode_raw (f, value, 1);
  return bms_field_check_range (f, *raw, NULL) ? BMS_RESULT_OK : BMS_RESULT_RANGE;
}

/* "Start current calibration" with the real current in 0xAD: the shunt's
 * reading is scaled to it. The trigger reads back 0 once done. */
static void
calibrate_current (BmsSim *sim)
{
  const BmsFieldInfo *f = field ("current_calibration_ma");

  bms_sim_battery_calibrate_current (sim->battery, raw_to_si (f, sim->raw[f->id]));
  sim->raw[field ("current_calibration_start")->id] = 0;
}

typedef enum
{
  AFTER_NOTHING,
  AFTER_RESTART,
  AFTER_BOOTLOADER,
  AFTER_SLEEP,
} AfterReply;

/* Applies a checked value; commands say what to do once the reply is out. */
static AfterReply
apply_write (BmsSim *sim, const BmsFieldInfo *f, const guint8 *value, gsize len, gint64 raw)
{
  if (!bms_field_is_numeric (f))
    {
      set_bytes (sim, f, value, len);
      save_state (sim);
      return AFTER_NOTHING;
    }
  switch (f->id)
    {
    case BMS_ID_RESTART:
      return AFTER_RESTART;
    case BMS_ID_FACTORY_RESET:
      {
        /* The working-time counter is the board's life, not a setting. */
        gint64 runtime = runtime_min (sim);
        load_defaults (sim);
        sim->runtime_base_min = runtime - (gint64)(bms_sim_battery_time (sim->battery) / 60.0);
      }
      sim->address = sim->config.address;
      *store (sim, "board_address") = clamp_raw (field ("board_address"), sim->address);
      store_to_params (sim);
      save_state (sim);
      return AFTER_NOTHING;
    case BMS_ID_REMOTE_UPGRADE:
      return AFTER_BOOTLOADER;
    case BMS_ID_SLEEP_NOW:
      return AFTER_SLEEP;
    default:
      break;
    }
  sim->raw[f->id] = raw;
  if (f->id == BMS_ID_BOARD_ADDRESS)
    sim->address = (guint)raw;
  else if (g_str_equal (f->name, "runtime_min"))
    sim->runtime_base_min = raw - (gint64)(bms_sim_battery_time (sim->battery) / 60.0);
  else if (g_str_equal (f->name, "soc_set_pct"))
    bms_sim_battery_set_soc_estimate (sim->battery, raw_to_si (f, raw) / 100.0);
  else if (g_str_equal (f->name, "current_calibration_start") && raw == 1)
    calibrate_current (sim);
  store_to_params (sim);
  if (persisted (f))
    save_state (sim);
  return AFTER_NOTHING;
}

gboolean
bms_sim_set_parameter (BmsSim *sim, guint8 id, gint64 raw, GError **error)
{
  const BmsFieldInfo *f = bms_field_lookup (id);

  g_return_val_if_fail (sim != NULL, FALSE);
  if (f == NULL || !bms_field_is_numeric (f) || !bms_field_is_writable (f))
    {
      g_set_error (error, BMS_FIELD_ERROR, f ? BMS_FIELD_ERROR_ACCESS : BMS_FIELD_ERROR_UNKNOWN,
                   "Field 0x%02X is not a writable numeric parameter", id);
      return FALSE;
    }
  if (!bms_field_check_range (f, raw, error))
    return FALSE;
  switch (apply_write (sim, f, NULL, 0, raw))
    {
    case AFTER_RESTART:
      restart (sim);
      sim->boot_window = BOOT_WINDOW_S;
      break;
    case AFTER_BOOTLOADER:
      enter_bootloader (sim);
      break;
    case AFTER_SLEEP:
      sim->asleep = TRUE;
      bms_sim_battery_set_asleep (sim->battery, TRUE);
      break;
    case AFTER_NOTHING:
      break;
    }
  return TRUE;
}

gint64
bms_sim_get_parameter (BmsSim *sim, guint8 id)
{
  const BmsFieldInfo *f = bms_field_lookup (id);
  gint64 raw;

  g_return_val_if_fail (sim != NULL, 0);
  if (f && (f->access & BMS_ACCESS_R) && telemetry (sim, f, &raw))
    return raw;
  return sim->raw[id];
}

/* ---- frames -------------------------------------------------------------- */

static void
send_frame (BmsSim *sim, const BmsFrame *frame)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  const BmsSimFaults *fl = &sim->faults;

  if (fl->silent || (fl->drop_reply_p > 0 && g_rand_double (sim->fault_rand) < fl->drop_reply_p))
    return;
  bms_frame_encode (frame, bytes);
  if (fl->corrupt_checksum_p > 0 && g_rand_double (sim->fault_rand) < fl->corrupt_checksum_p)
    bytes->data[bytes->len - 1] ^= 0x5A;
  if (fl->noise_ber > 0)
    for (guint i = 0; i < bytes->len; i++)
      for (guint bit = 0; bit < 8; bit++)
        if (g_rand_double (sim->fault_rand) < fl->noise_ber)
          bytes->data[i] ^= 1u << bit;
  for (guint i = 0; i < fl->noise_bytes; i++)
    {
      guint8 junk = (guint8)g_rand_int_range (sim->fault_rand, 0, 256);
      g_byte_array_append (sim->reply, &junk, 1);
    }
  g_byte_array_append (sim->reply, bytes->data, bytes->len);
}

static void
send_reply (BmsSim *sim, guint8 command, const guint8 *info, gsize len)
{
  g_autoptr (BmsFrame) frame
      = bms_frame_new (command, BMS_SOURCE_BMS, BMS_TRANSPORT_REPLY, info, len);

  send_frame (sim, frame);
}

static void
send_result (BmsSim *sim, guint8 command, guint8 id, BmsResult result)
{
  guint8 info[2] = { id, result };
  send_reply (sim, command, info, 2);
}

static const char *const lie_names[BMS_SIM_N_LIES] = {
  "none", "soc", "temperature", "cell-mv", "cell-count", "missing-cell", "duplicate-id",
};

const char *
bms_sim_lie_to_string (BmsSimLie lie)
{
  g_return_val_if_fail (lie < BMS_SIM_N_LIES, NULL);
  return lie_names[lie];
}

gboolean
bms_sim_lie_from_string (const char *name, BmsSimLie *lie)
{
  for (guint i = 0; i < BMS_SIM_N_LIES; i++)
    if (g_strcmp0 (name, lie_names[i]) == 0)
      {
        *lie = (BmsSimLie)i;
        return TRUE;
      }
  return FALSE;
}

/* A broken sense wire: the cell reads 0 mV and the board warns about it. */
static void
apply_dead_cell (BmsSim *sim, BmsSnapshot *s)
{
  guint cell = sim->faults.dead_cell;
  gint64 warnings = bms_snapshot_get_raw (s, BMS_ID_WARNINGS);
  guint16 mv[BMS_MAX_CELLS];

  if (cell == 0 || cell > s->n_cells)
    return;
  memcpy (mv, s->cells_mv, sizeof mv);
  mv[cell - 1] = 0;
  bms_snapshot_set_cells (s, mv, s->n_cells);
  set_bit_by_name (&warnings, bms_field_lookup (BMS_ID_WARNINGS), "cell_under_voltage");
  bms_snapshot_set_raw (s, BMS_ID_WARNINGS, warnings);
}

/* The lies a snapshot can carry; the others are made on the encoded bytes. */
static void
apply_lie (BmsSim *sim, BmsSnapshot *s)
{
  switch (sim->faults.lie)
    {
    case BMS_SIM_LIE_SOC:
      bms_snapshot_set_raw (s, BMS_ID_SOC, 250);
      break;
    case BMS_SIM_LIE_TEMPERATURE:
      bms_snapshot_set_raw (s, BMS_ID_TEMP2, -150);
      break;
    case BMS_SIM_LIE_CELL_MV:
      s->cells_mv[0] = 65535;
      break;
    case BMS_SIM_LIE_CELL_COUNT:
      bms_snapshot_set_raw (s, BMS_ID_CELL_COUNT, 999);
      break;
    default:
      break;
    }
}

static void
apply_lie_to_bytes (BmsSim *sim, GByteArray *info)
{
  const guint8 soc_again[] = { BMS_ID_SOC, 50 };

  switch (sim->faults.lie)
    {
    case BMS_SIM_LIE_MISSING_CELL:
      /* 0x79 comes first: [0x79, 3n, 1, hi, lo, 2, hi, lo, …] */
      if (info->len >= 8 && info->data[0] == BMS_ID_CELLS && info->data[1] >= 6)
        {
          g_byte_array_remove_range (info, 5, 3);
          info->data[1] -= 3;
        }
      break;
    case BMS_SIM_LIE_DUPLICATE_ID:
      g_byte_array_append (info, soc_again, sizeof soc_again);
      break;
    default:
      break;
    }
}

static void
handle_read (BmsSim *sim, const BmsFrame *frame)
{
  g_autoptr (BmsSnapshot) s = bms_sim_snapshot (sim);
  g_autoptr (GByteArray) info = g_byte_array_new ();
  guint8 id = frame->info_len > 0 ? frame->info[0] : BMS_ID_READ_ALL;

  apply_dead_cell (sim, s);
  if (frame->command == BMS_CMD_READ_ALL || id == BMS_ID_READ_ALL)
    {
      apply_lie (sim, s);
      bms_snapshot_encode (s, info);
      apply_lie_to_bytes (sim, info);
    }
  else if (!bms_snapshot_encode_field (s, id, info))
    {
      send_result (sim, frame->command, id, BMS_RESULT_UNKNOWN_FIELD);
      return;
    }
  send_reply (sim, frame->command, info->data, info->len);
}

static void
handle_password (BmsSim *sim, const BmsFrame *frame)
{
  const guint8 *stored = sim->bytes[BMS_ID_PASSWORD];
  guint8 given[BMS_PASSWORD_SIZE] = { 0 };
  gboolean ok;

  if (frame->info_len < 1 || frame->info[0] != BMS_ID_PASSWORD
      || frame->info_len > 1 + BMS_PASSWORD_SIZE)
    {
      send_result (sim, frame->command, frame->info_len ? frame->info[0] : 0, BMS_RESULT_DENIED);
      return;
    }
  memcpy (given, frame->info + 1, frame->info_len - 1);
  ok = memcmp (given, stored, BMS_PASSWORD_SIZE) == 0;
  sim->authenticated = ok;
  send_result (sim, frame->command, BMS_ID_PASSWORD, ok ? BMS_RESULT_OK : BMS_RESULT_DENIED);
}

static void
handle_write (BmsSim *sim, const BmsFrame *frame)
{
  const BmsFieldInfo *f;
  BmsResult result;
  AfterReply after = AFTER_NOTHING;
  gint64 raw = 0;
  guint8 id;

  if (frame->info_len < 1)
    return;
  id = frame->info[0];
  f = bms_field_lookup (id);
  if (f == NULL)
    result = BMS_RESULT_UNKNOWN_FIELD;
  else if (!sim->authenticated)
    result = BMS_RESULT_DENIED;
  else if (!bms_field_is_writable (f))
    result = BMS_RESULT_READ_ONLY;
  else if (sim->faults.refuse_write_id != 0 && id == sim->faults.refuse_write_id)
    result = BMS_RESULT_RANGE; /* a board that will not take this value, for tests */
  else
    result = check_value (f, frame->info + 1, frame->info_len - 1, &raw);
  if (result == BMS_RESULT_OK)
    after = apply_write (sim, f, frame->info + 1, frame->info_len - 1, raw);
  send_result (sim, frame->command, id, result);

  switch (after)
    {
    case AFTER_RESTART:
      restart (sim);
      sim->boot_window = BOOT_WINDOW_S;
      break;
    case AFTER_BOOTLOADER:
      enter_bootloader (sim);
      break;
    case AFTER_SLEEP:
      sim->asleep = TRUE;
      sim->authenticated = FALSE;
      bms_sim_battery_set_asleep (sim->battery, TRUE);
      break;
    case AFTER_NOTHING:
      break;
    }
}

/* ---- replay -------------------------------------------------------------- */

/* A read all (0x06, or 0x03 of id 0x00) gets the next recorded reply, with
 * the request's command word and terminal number; a read of one field is
 * answered from the reply served last. */
static void
replay_read (BmsSim *sim, const BmsFrame *request)
{
  guint8 id = request->info_len > 0 ? request->info[0] : BMS_ID_READ_ALL;
  g_autoptr (GByteArray) info = g_byte_array_new ();
  g_autoptr (BmsFrame) reply = NULL;
  const BmsFrame *recorded;

  if (request->command == BMS_CMD_READ && id != BMS_ID_READ_ALL)
    {
      if (!bms_snapshot_encode_field (g_ptr_array_index (sim->replay_snapshots, sim->replay_last),
                                      id, info))
        send_result (sim, request->command, id, BMS_RESULT_UNKNOWN_FIELD);
      else
        send_reply (sim, request->command, info->data, info->len);
      return;
    }
  sim->replay_last = sim->replay_next;
  sim->replay_next = (sim->replay_next + 1) % sim->replay_frames->len;
  recorded = g_ptr_array_index (sim->replay_frames, sim->replay_last);
  reply = bms_frame_new (request->command, BMS_SOURCE_BMS, BMS_TRANSPORT_REPLY, recorded->info,
                         recorded->info_len);
  reply->terminal = request->terminal;
  reply->record = recorded->record;
  send_frame (sim, reply);
}

/* A recording is a locked board: no write, no password opens it. */
static void
replay_frame (BmsSim *sim, const BmsFrame *request)
{
  guint8 id = request->info_len > 0 ? request->info[0] : 0;

  switch (request->command)
    {
    case BMS_CMD_READ:
    case BMS_CMD_READ_ALL:
      replay_read (sim, request);
      break;
    case BMS_CMD_WRITE:
      if (request->info_len > 0)
        send_result (sim, request->command, id,
                     bms_field_lookup (id) ? BMS_RESULT_DENIED : BMS_RESULT_UNKNOWN_FIELD);
      break;
    case BMS_CMD_PASSWORD:
      send_result (sim, request->command, id, BMS_RESULT_DENIED);
      break;
    default:
      break;
    }
}

/* The read-all replies of a hex file; requests and the replies to writes
 * and passwords (a line capture has them too) are left out. */
static gboolean
load_replay (BmsSim *sim, const char *path, GArray *frames, GError **error)
{
  for (guint i = 0; i < frames->len; i++)
    {
      BmsHexFrame *entry = &g_array_index (frames, BmsHexFrame, i);
      g_autoptr (BmsSnapshot) snapshot = bms_snapshot_new ();
      g_autoptr (GError) local = NULL;

      if (entry->frame->transport == BMS_TRANSPORT_REQUEST
          || (entry->frame->command != BMS_CMD_READ_ALL && entry->frame->command != BMS_CMD_READ))
        continue;
      if (!bms_snapshot_parse (snapshot, entry->frame->info, entry->frame->info_len, &local))
        {
          g_set_error (error, BMS_HEX_ERROR, BMS_HEX_ERROR_FRAME, "%s:%u: the reply's fields: %s",
                       path, entry->line, local->message);
          return FALSE;
        }
      if (!bms_snapshot_has (snapshot, BMS_ID_CELLS))
        continue; /* the answer to a read of one field */
      g_ptr_array_add (sim->replay_frames, g_steal_pointer (&entry->frame));
      g_ptr_array_add (sim->replay_snapshots, g_steal_pointer (&snapshot));
    }
  if (sim->replay_frames->len == 0)
    {
      g_set_error (error, BMS_HEX_ERROR, BMS_HEX_ERROR_NO_FRAME,
                   "%s: none of its %u frames is a read-all reply (a board's answer to 0x06, "
                   "starting with the cells 0x79)",
                   path, frames->len);
      return FALSE;
    }
  return TRUE;
}

gboolean
bms_sim_set_replay (BmsSim *sim, const char *path, GError **error)
{
  g_autoptr (GArray) frames = NULL;

  g_return_val_if_fail (sim != NULL && path != NULL, FALSE);

  frames = bms_hex_read_frames (path, error);
  if (frames == NULL)
    return FALSE;
  g_clear_pointer (&sim->replay_frames, g_ptr_array_unref);
  g_clear_pointer (&sim->replay_snapshots, g_ptr_array_unref);
  sim->replay_frames = g_ptr_array_new_with_free_func ((GDestroyNotify)bms_frame_free);
  sim->replay_snapshots = g_ptr_array_new_with_free_func ((GDestroyNotify)bms_snapshot_free);
  sim->replay_next = sim->replay_last = 0;
  if (!load_replay (sim, path, frames, error))
    {
      g_clear_pointer (&sim->replay_frames, g_ptr_array_unref);
      g_clear_pointer (&sim->replay_snapshots, g_ptr_array_unref);
      return FALSE;
    }
  return TRUE;
}

guint
bms_sim_get_replay_length (BmsSim *sim)
{
  g_return_val_if_fail (sim != NULL, 0);
  return sim->replay_frames ? sim->replay_frames->len : 0;
}

static void
on_frame (BmsFrame *frame, gpointer user_data)
{
  BmsSim *sim = user_data;
  g_autoptr (BmsFrame) owned = frame;

  if (sim->in_bootloader || frame->transport != BMS_TRANSPORT_REQUEST)
    return;
  if (frame->terminal != 0 && frame->terminal != sim->address)
    return;
  if (sim->replay_frames != NULL)
    {
      replay_frame (sim, frame);
      return;
    }
  if (sim->asleep)
    {
      /* Only an activate wakes a sleeping board; it is not answered. */
      if (frame->command == BMS_CMD_ACTIVATE)
        {
          sim->asleep = FALSE;
          bms_sim_battery_set_asleep (sim->battery, FALSE);
        }
      return;
    }
  switch (frame->command)
    {
    case BMS_CMD_READ:
    case BMS_CMD_READ_ALL:
      handle_read (sim, frame);
      break;
    case BMS_CMD_WRITE:
      handle_write (sim, frame);
      break;
    case BMS_CMD_PASSWORD:
      handle_password (sim, frame);
      break;
    case BMS_CMD_ACTIVATE:
    default:
      break;
    }
}

void
bms_sim_receive (BmsSim *sim, const guint8 *data, gsize len, GByteArray *out)
{
  g_return_if_fail (sim != NULL && out != NULL);

  if (sim->in_bootloader)
    {
      bootloader_receive (sim, data, len, out);
      return;
    }
  if (sim->boot_window > 0)
    {
      /* Rebooting: only the bootloader's 0x20 is heard, the rest is lost. */
      const guint8 *hit = len ? memchr (data, 0x20, len) : NULL;
      if (hit == NULL)
        return;
      sim->boot_window = 0;
      enter_bootloader (sim);
      bootloader_receive (sim, hit, len - (hit - data), out);
      return;
    }
  if (len == 0)
    return;
  sim->reply = out;
  for (gsize k = 0; k < len; k++)
    {
      /* Byte by byte: a write of 0xBD hands the rest to the bootloader. */
      if (sim->in_bootloader)
        {
          bootloader_receive (sim, data + k, len - k, out);
          break;
        }
      bms_frame_parser_push (sim->parser, data + k, 1);
    }
  sim->reply = NULL;
}

/* ---- the rest of the API ------------------------------------------------- */

enum
{
  TOGGLE_DISCONNECTED = 1,
  TOGGLE_SILENT = 2
};

void
bms_sim_toggle_disconnected (BmsSim *sim)
{
  g_atomic_int_or (&sim->toggles, TOGGLE_DISCONNECTED);
}

void
bms_sim_toggle_silent (BmsSim *sim)
{
  g_atomic_int_or (&sim->toggles, TOGGLE_SILENT);
}

static void
apply_toggles (BmsSim *sim)
{
  guint t = g_atomic_int_and (&sim->toggles, 0);

  if (t & TOGGLE_DISCONNECTED)
    {
      sim->faults.disconnected = !sim->faults.disconnected;
      g_printerr ("packwatch-sim: line %s\n",
                  sim->faults.disconnected ? "disconnected" : "connected again");
    }
  if (t & TOGGLE_SILENT)
    {
      sim->faults.silent = !sim->faults.silent;
      g_printerr ("packwatch-sim: board %s\n", sim->faults.silent ? "silent" : "answering again");
    }
}

void
bms_sim_advance (BmsSim *sim, double dt_s)
{
  g_return_if_fail (sim != NULL);
  if (g_atomic_int_get (&sim->toggles))
    apply_toggles (sim);
  if (!(dt_s > 0))
    return;
  /* Boot timing is the firmware's own, in real time whatever the scale. */
  if (sim->in_bootloader)
    bootloader_tick (sim, dt_s / sim->time_scale);
  if (sim->boot_window > 0)
    sim->boot_window = MAX (0, sim->boot_window - dt_s / sim->time_scale);
  /* The lease runs on the simulated clock: split the step where it ends. */
  if (!lease_expired (sim) && sim->raw[BMS_ID_LEASE_END] != 0)
    {
      double left = (double)(sim->raw[BMS_ID_LEASE_END] - bms_sim_get_unix_time (sim));
      if (left > 0 && left < dt_s)
        {
          bms_sim_battery_advance (sim->battery, left);
          dt_s -= left;
        }
    }
  if (bms_sim_battery_get_params (sim->battery)->lease_expired != lease_expired (sim))
    store_to_params (sim);
  bms_sim_battery_advance (sim->battery, dt_s);
  if (bms_sim_battery_get_params (sim->battery)->lease_expired != lease_expired (sim))
    store_to_params (sim);
}

double
bms_sim_get_time (BmsSim *sim)
{
  g_return_val_if_fail (sim != NULL, 0);
  return bms_sim_battery_time (sim->battery);
}

guint
bms_sim_get_n_cells (BmsSim *sim)
{
  g_return_val_if_fail (sim != NULL, 0);
  return bms_sim_battery_n_cells (sim->battery);
}

void
bms_sim_get_cell_truth (BmsSim *sim, guint cell, BmsSimCellTruth *truth)
{
  g_return_if_fail (sim != NULL && truth != NULL);
  g_return_if_fail (cell < bms_sim_battery_n_cells (sim->battery));
  bms_sim_battery_cell_truth (sim->battery, cell, truth);
}

/* A number for JSON, whatever the locale. */
static void
append_number (GString *out, const char *key, double value, const char *format)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, ",\"%s\":%s", key, g_ascii_formatd (buf, sizeof buf, format, value));
}

char *
bms_sim_truth_to_json (BmsSim *sim)
{
  GString *out = g_string_new ("{\"cells\":[");
  guint n;

  g_return_val_if_fail (sim != NULL, NULL);
  n = bms_sim_battery_n_cells (sim->battery);
  for (guint i = 0; i < n; i++)
    {
      BmsSimCellTruth t;

      bms_sim_battery_cell_truth (sim->battery, i, &t);
      g_string_append_printf (out, "%s{\"cell\":%u", i ? "," : "", i + 1);
      append_number (out, "resistance_mohm", t.resistance_ohm * 1000, "%.6f");
      append_number (out, "capacity_ah", t.capacity_ah, "%.6f");
      append_number (out, "leak_ma", t.leak_a * 1000, "%.6f");
      append_number (out, "polarisation_mohm", t.polarisation_ohm * 1000, "%.6f");
      append_number (out, "tau_s", t.tau_s, "%.3f");
      g_string_append_printf (out, ",\"weak\":%s}", t.weak ? "true" : "false");
    }
  g_string_append (out, "]}\n");
  return g_string_free (out, FALSE);
}

gboolean
bms_sim_write_truth (BmsSim *sim, const char *path, GError **error)
{
  g_autofree char *json = NULL;

  g_return_val_if_fail (sim != NULL && path != NULL, FALSE);
  json = bms_sim_truth_to_json (sim);
  /* g_file_set_contents writes a temporary file and renames it over path:
   * a reader never sees half a truth. */
  if (!g_file_set_contents (path, json, -1, error))
    {
      g_prefix_error (error, "cannot write %s: ", path);
      return FALSE;
    }
  return TRUE;
}

void
bms_sim_set_faults (BmsSim *sim, const BmsSimFaults *faults)
{
  g_return_if_fail (sim != NULL && faults != NULL);
  sim->faults = *faults;
}

void
bms_sim_set_current (BmsSim *sim, double current_a)
{
  g_return_if_fail (sim != NULL);
  bms_sim_battery_set_current (sim->battery, current_a);
}

void
bms_sim_set_ambient (BmsSim *sim, double celsius, gboolean settle)
{
  g_return_if_fail (sim != NULL);
  bms_sim_battery_set_ambient (sim->battery, celsius, settle);
}

gboolean
bms_sim_in_bootloader (BmsSim *sim)
{
  return sim->in_bootloader;
}

GBytes *
bms_sim_get_flashed_image (BmsSim *sim)
{
  return sim->flashed_image ? g_bytes_ref (sim->flashed_image) : NULL;
}

guint
bms_sim_get_address (BmsSim *sim)
{
  return sim->address;
}

const char *
bms_sim_get_software_version (BmsSim *sim)
{
  return sim->software_version;
}

BmsSimBattery *
bms_sim_get_battery (BmsSim *sim)
{
  return sim->battery;
}

guint
bms_sim_get_reply_delay_ms (BmsSim *sim)
{
  return sim->faults.delay_reply_ms;
}

gboolean
bms_sim_is_disconnected (BmsSim *sim)
{
  return sim->faults.disconnected;
}

gint64
bms_sim_get_unix_time (BmsSim *sim)
{
  return sim->start_unix + (gint64)bms_sim_battery_time (sim->battery);
}

gboolean
bms_sim_is_booting (BmsSim *sim)
{
  return sim->in_bootloader || sim->boot_window > 0;
}

gboolean
bms_sim_is_asleep (BmsSim *sim)
{
  return sim->asleep;
}

gboolean
bms_sim_is_authenticated (BmsSim *sim)
{
  return sim->authenticated;
}

void
bms_sim_set_time_scale (BmsSim *sim, double scale)
{
  g_return_if_fail (sim != NULL && scale > 0);
  sim->time_scale = scale;
}

double
bms_sim_get_time_scale (BmsSim *sim)
{
  return sim->time_scale;
}

void
bms_sim_set_ready_func (BmsSim *sim, BmsSimReadyFunc func, gpointer user_data)
{
  g_return_if_fail (sim != NULL);
  sim->ready_func = func;
  sim->ready_data = user_data;
}

void
bms_sim_notify_ready (BmsSim *sim, const char *where)
{
  if (sim->ready_func)
    sim->ready_func (where, sim->ready_data);
}
