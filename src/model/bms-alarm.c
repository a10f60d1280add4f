/* bms-alarm.c — one active alarm, and the table that names every code. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "bms-alarm.h"
#include "bms-field.h"

#define M(x) BMS_ALARM_MEASURE_##x
#define S(x) BMS_ALARM_SEVERITY_##x

/* Codes of 0x8B, 0xD4 and 0xD7 are the catalogue's bit names (a test checks
 * that every catalogue bit has an entry here). */
static const BmsAlarmInfo alarm_table[] = {
  /* 0x8B warnings */
  { "low_capacity", 0x8B, N_ ("Low capacity"), "容量过低", S (WARNING), M (SOC), 0xB1, 0 },
  { "mosfet_over_temp", 0x8B, N_ ("MOSFET over-temperature"), "功率管过温", S (PROTECTION),
    M (MOSFET_TEMP), 0x9E, 0 },
  { "pack_over_voltage", 0x8B, N_ ("Pack over-voltage (charge)"), "总压过压", S (PROTECTION),
    M (PACK_VOLTAGE), 0x8E, 0 },
  { "pack_under_voltage", 0x8B, N_ ("Pack under-voltage (discharge)"), "总压欠压", S (PROTECTION),
    M (PACK_VOLTAGE), 0x8F, 0 },
  { "battery_over_temp", 0x8B, N_ ("Battery over-temperature"), "电池过温", S (PROTECTION),
    M (MAX_TEMP), 0xA3, 0xA4 },
  { "charge_over_current", 0x8B, N_ ("Charge over-current"), "充电过流", S (PROTECTION),
    M (CHARGE_CURRENT), 0x99, 0 },
  { "discharge_over_current", 0x8B, N_ ("Discharge over-current"), "放电过流", S (PROTECTION),
    M (DISCHARGE_CURRENT), 0x97, 0 },
  { "cell_voltage_difference", 0x8B, N_ ("Cell voltage difference too high"), "压差过大",
    S (WARNING), M (CELL_DIFF), 0x96, 0 },
  { "box_over_temp", 0x8B, N_ ("Battery box over-temperature"), "电池箱过温", S (PROTECTION),
    M (BOX_TEMP), 0xA0, 0 },
  { "battery_low_temp", 0x8B, N_ ("Battery low temperature"), "电池低温", S (PROTECTION),
    M (MIN_TEMP), 0xA5, 0xA7 },
  { "cell_over_voltage", 0x8B, N_ ("Cell over-voltage"), "单体过压", S (PROTECTION), M (MAX_CELL),
    0x90, 0 },
  { "cell_under_voltage", 0x8B, N_ ("Cell under-voltage"), "单体欠压", S (PROTECTION), M (MIN_CELL),
    0x93, 0 },
  { "protection_309_a", 0x8B, N_ ("Protection 309_A"), "309_A保护", S (PROTECTION), M (NONE), 0,
    0 },
  { "protection_309_b", 0x8B, N_ ("Protection 309_B"), "309_B保护", S (PROTECTION), M (NONE), 0,
    0 },
  { "reserved_14", 0x8B, N_ ("Reserved warning bit 14"), "保留告警位14", S (INFO), M (NONE), 0, 0 },
  { "reserved_15", 0x8B, N_ ("Reserved warning bit 15"), "保留告警位15", S (INFO), M (NONE), 0, 0 },
  /* 0x8C status flags */
  { "charge_mos_off", 0x8C, N_ ("Charge MOS opened by the board"), "充电MOS断开", S (INFO),
    M (NONE), 0, 0 },
  { "discharge_mos_off", 0x8C, N_ ("Discharge MOS opened by the board"), "放电MOS断开", S (INFO),
    M (NONE), 0, 0 },
  /* Packwatch itself: the board stopped answering (BmsDevice "online"). */
  { "comm_lost", 0, N_ ("No reply from the board"), "通讯中断", S (FAULT), M (NONE), 0, 0 },
  /* Packwatch itself: a reply no pack can give, refused (history event only). */
  { BMS_ALARM_CODE_IMPLAUSIBLE, 0, N_ ("Implausible reply"), "应答数据不合理", S (FAULT), M (NONE),
    0, 0 },
  /* 0xD4 relays */
  { "level2", 0xD4, N_ ("Level-2 protection relay tripped"), "二级保护继电器动作", S (FAULT),
    M (NONE), 0, 0 },
  /* 0xD7 master alarms */
  { "cell_over_voltage_level2", 0xD7, N_ ("Cell over-voltage level 2"), "单体二级过压", S (FAULT),
    M (MAX_CELL), 0xD5, 0 },
  { "cell_under_voltage_level2", 0xD7, N_ ("Cell under-voltage level 2"), "单体二级欠压", S (FAULT),
    M (MIN_CELL), 0xD6, 0 },
  { "balance_module_over_temp", 0xD7, N_ ("Balance module over-temperature"), "均衡模块过温",
    S (PROTECTION), M (BALANCE_TEMP), 0xE1, 0 },
  { "heater_fault", 0xD7, N_ ("Heater fault"), "加热故障", S (FAULT), M (NONE), 0, 0 },
  { "lease_expired", 0xD7, N_ ("Lease expired"), "租赁到期", S (WARNING), M (NONE), 0, 0 },
  { "precharge_failed", 0xD7, N_ ("Pre-charge failed"), "预充失败", S (FAULT), M (NONE), 0, 0 },
  { "short_circuit", 0xD7, N_ ("Short circuit"), "短路保护", S (PROTECTION), M (NONE), 0, 0 },
  { "slave_offline", 0xD7, N_ ("Slave module offline"), "从机离线", S (FAULT), M (NONE), 0, 0 },
};

#undef M
#undef S

const BmsAlarmInfo *
bms_alarm_info_lookup (const char *code)
{
  g_return_val_if_fail (code != NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (alarm_table); i++)
    if (g_str_equal (alarm_table[i].code, code))
      return &alarm_table[i];
  return NULL;
}

const BmsAlarmInfo *
bms_alarm_info_all (guint *n)
{
  if (n)
    *n = G_N_ELEMENTS (alarm_table);
  return alarm_table;
}

G_DEFINE_ENUM_TYPE (BmsAlarmSeverity, bms_alarm_severity,
                    G_DEFINE_ENUM_VALUE (BMS_ALARM_SEVERITY_INFO, "info"),
                    G_DEFINE_ENUM_VALUE (BMS_ALARM_SEVERITY_WARNING, "warning"),
                    G_DEFINE_ENUM_VALUE (BMS_ALARM_SEVERITY_PROTECTION, "protection"),
                    G_DEFINE_ENUM_VALUE (BMS_ALARM_SEVERITY_FAULT, "fault"))

const char *
bms_alarm_severity_to_string (BmsAlarmSeverity severity)
{
  static const char *const names[] = { "info", "warning", "protection", "fault" };

  g_return_val_if_fail (severity <= BMS_ALARM_SEVERITY_FAULT, "unknown");
  return names[severity];
}

struct _BmsAlarm
{
  GObject parent_instance;
  char *code;
  const BmsAlarmInfo *info; /* NULL for a code missing from the table */
  guint cell;
  guint module;
  gboolean has_value;
  double value;
  gboolean has_threshold;
  double threshold;
  gint64 raised_at;
};

G_DEFINE_FINAL_TYPE (BmsAlarm, bms_alarm, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CODE,
  PROP_NAME,
  PROP_NAME_ZH,
  PROP_SEVERITY,
  PROP_SOURCE_ID,
  PROP_CELL,
  PROP_MODULE,
  PROP_HAS_VALUE,
  PROP_VALUE,
  PROP_HAS_THRESHOLD,
  PROP_THRESHOLD,
  PROP_UNIT,
  PROP_RAISED_AT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bms_alarm_finalize (GObject *object)
{
  BmsAlarm *self = BMS_ALARM (object);

  g_free (self->code);
  G_OBJECT_CLASS (bms_alarm_parent_class)->finalize (object);
}

static void
bms_alarm_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BmsAlarm *self = BMS_ALARM (object);

  switch (prop_id)
    {
    case PROP_CODE:
      g_value_set_string (value, self->code);
      break;
    case PROP_NAME:
      g_value_set_string (value, bms_alarm_get_name (self));
      break;
    case PROP_NAME_ZH:
      g_value_set_string (value, bms_alarm_get_name_zh (self));
      break;
    case PROP_SEVERITY:
      g_value_set_enum (value, bms_alarm_get_severity (self));
      break;
    case PROP_SOURCE_ID:
      g_value_set_uint (value, bms_alarm_get_source_id (self));
      break;
    case PROP_CELL:
      g_value_set_uint (value, self->cell);
      break;
    case PROP_MODULE:
      g_value_set_uint (value, self->module);
      break;
    case PROP_HAS_VALUE:
      g_value_set_boolean (value, self->has_value);
      break;
    case PROP_VALUE:
      g_value_set_double (value, self->value);
      break;
    case PROP_HAS_THRESHOLD:
      g_value_set_boolean (value, self->has_threshold);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    case PROP_UNIT:
      g_value_set_string (value, bms_alarm_get_unit (self));
      break;
    case PROP_RAISED_AT:
      g_value_set_int64 (value, self->raised_at);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_alarm_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BmsAlarm *self = BMS_ALARM (object);

  switch (prop_id)
    {
    case PROP_CODE:
      self->code = g_value_dup_string (value);
      self->info = self->code ? bms_alarm_info_lookup (self->code) : NULL;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_alarm_class_init (BmsAlarmClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = bms_alarm_finalize;
  object_class->get_property = bms_alarm_get_property;
  object_class->set_property = bms_alarm_set_property;

  properties[PROP_CODE]
      = g_param_spec_string ("code", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, "translated", NULL, ro);
  properties[PROP_NAME_ZH] = g_param_spec_string ("name-zh", NULL, NULL, NULL, ro);
  properties[PROP_SEVERITY] = g_param_spec_enum ("severity", NULL, NULL, BMS_TYPE_ALARM_SEVERITY,
                                                 BMS_ALARM_SEVERITY_WARNING, ro);
  properties[PROP_SOURCE_ID] = g_param_spec_uint ("source-id", NULL, NULL, 0, 255, 0, ro);
  properties[PROP_CELL] = g_param_spec_uint ("cell", NULL, "1-based, 0 none", 0, G_MAXUINT, 0, ro);
  properties[PROP_MODULE]
      = g_param_spec_uint ("module", NULL, "1-based, 0 none", 0, G_MAXUINT, 0, ro);
  properties[PROP_HAS_VALUE] = g_param_spec_boolean ("has-value", NULL, NULL, FALSE, ro);
  properties[PROP_VALUE]
      = g_param_spec_double ("value", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0, ro);
  properties[PROP_HAS_THRESHOLD] = g_param_spec_boolean ("has-threshold", NULL, NULL, FALSE, ro);
  properties[PROP_THRESHOLD]
      = g_param_spec_double ("threshold", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0, ro);
  properties[PROP_UNIT] = g_param_spec_string ("unit", NULL, NULL, NULL, ro);
  properties[PROP_RAISED_AT] = g_param_spec_int64 ("raised-at", NULL, "µs", 0, G_MAXINT64, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bms_alarm_init (BmsAlarm *self)
{
}

BmsAlarm *
bms_alarm_new (const char *code)
{
  g_return_val_if_fail (code != NULL && *code != '\0', NULL);
  return g_object_new (BMS_TYPE_ALARM, "code", code, NULL);
}

const char *
bms_alarm_get_code (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), NULL);
  return self->code;
}

const char *
bms_alarm_get_name (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), NULL);
  return self->info ? _ (self->info->name) : self->code;
}

const char *
bms_alarm_get_name_en (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), NULL);
  return self->info ? self->info->name : self->code;
}

const char *
bms_alarm_get_name_zh (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), NULL);
  return self->info ? self->info->name_zh : self->code;
}

BmsAlarmSeverity
bms_alarm_get_severity (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), BMS_ALARM_SEVERITY_WARNING);
  return self->info ? self->info->severity : BMS_ALARM_SEVERITY_WARNING;
}

guint8
bms_alarm_get_source_id (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), 0);
  return self->info ? self->info->source_id : 0;
}

guint
bms_alarm_get_cell (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), 0);
  return self->cell;
}

guint
bms_alarm_get_module (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), 0);
  return self->module;
}

gboolean
bms_alarm_get_has_value (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), FALSE);
  return self->has_value;
}

double
bms_alarm_get_value (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), 0);
  return self->value;
}

gboolean
bms_alarm_get_has_threshold (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), FALSE);
  return self->has_threshold;
}

double
bms_alarm_get_threshold (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), 0);
  return self->threshold;
}

const char *
bms_alarm_info_get_unit (const BmsAlarmInfo *info)
{
  switch (info ? info->measure : BMS_ALARM_MEASURE_NONE)
    {
    case BMS_ALARM_MEASURE_SOC:
      return "%";
    case BMS_ALARM_MEASURE_PACK_VOLTAGE:
      return "V";
    case BMS_ALARM_MEASURE_MAX_CELL:
    case BMS_ALARM_MEASURE_MIN_CELL:
    case BMS_ALARM_MEASURE_CELL_DIFF:
      return "mV";
    case BMS_ALARM_MEASURE_CHARGE_CURRENT:
    case BMS_ALARM_MEASURE_DISCHARGE_CURRENT:
      return "A";
    case BMS_ALARM_MEASURE_MOSFET_TEMP:
    case BMS_ALARM_MEASURE_BOX_TEMP:
    case BMS_ALARM_MEASURE_MAX_TEMP:
    case BMS_ALARM_MEASURE_MIN_TEMP:
    case BMS_ALARM_MEASURE_BALANCE_TEMP:
      return "°C";
    case BMS_ALARM_MEASURE_NONE:
    default:
      return "";
    }
}

const char *
bms_alarm_get_unit (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), NULL);
  return bms_alarm_info_get_unit (self->info);
}

gint64
bms_alarm_get_raised_at (BmsAlarm *self)
{
  g_return_val_if_fail (BMS_IS_ALARM (self), 0);
  return self->raised_at;
}

char *
bms_alarm_describe (BmsAlarm *self)
{
  GString *s;
  const char *unit;

  g_return_val_if_fail (BMS_IS_ALARM (self), NULL);
  unit = bms_alarm_get_unit (self);
  s = g_string_new (bms_alarm_get_name (self));
  if (self->cell > 0 && self->module > 0)
    g_string_append_printf (s, _ (" (cell %u, module %u)"), self->cell, self->module);
  else if (self->cell > 0)
    g_string_append_printf (s, _ (" (cell %u)"), self->cell);
  else if (self->module > 0)
    g_string_append_printf (s, _ (" (module %u)"), self->module);
  if (self->has_value)
    g_string_append_printf (s, ": %g%s%s", self->value, *unit ? " " : "", unit);
  if (self->has_threshold)
    g_string_append_printf (s, _ (", limit %g%s%s"), self->threshold, *unit ? " " : "", unit);
  return g_string_free (s, FALSE);
}

void
bms_alarm_set_location (BmsAlarm *self, guint cell, guint module)
{
  g_return_if_fail (BMS_IS_ALARM (self));
  if (self->cell != cell)
    {
      self->cell = cell;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CELL]);
    }
  if (self->module != module)
    {
      self->module = module;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODULE]);
    }
}

static void
set_measure (BmsAlarm *self, gboolean *has, double *field, gboolean new_has, double value,
             guint prop_has, guint prop_value)
{
  new_has = !!new_has;
  if (!new_has)
    value = 0;
  if (*has != new_has)
    {
      *has = new_has;
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop_has]);
    }
  if (*field != value)
    {
      *field = value;
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop_value]);
    }
}

void
bms_alarm_set_value (BmsAlarm *self, gboolean has_value, double value)
{
  g_return_if_fail (BMS_IS_ALARM (self));
  set_measure (self, &self->has_value, &self->value, has_value, value, PROP_HAS_VALUE, PROP_VALUE);
}

void
bms_alarm_set_threshold (BmsAlarm *self, gboolean has_threshold, double threshold)
{
  g_return_if_fail (BMS_IS_ALARM (self));
  set_measure (self, &self->has_threshold, &self->threshold, has_threshold, threshold,
               PROP_HAS_THRESHOLD, PROP_THRESHOLD);
}

void
bms_alarm_set_raised_at (BmsAlarm *self, gint64 time_us)
{
  g_return_if_fail (BMS_IS_ALARM (self));
  if (self->raised_at == time_us)
    return;
  self->raised_at = time_us;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RAISED_AT]);
}
