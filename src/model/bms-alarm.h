/* bms-alarm.h — one active alarm or protection of a board.
 *
 * Alarms come from the warning bits (0x8B), the status flags (0x8C), the
 * master's extension alarm bits (0xD7) and relays (0xD4); BmsAlarmMonitor
 * creates and updates them. The code is stable (catalogue bit names, plus
 * "charge_mos_off", "discharge_mos_off", and "comm_lost"
 * while the board does not answer),
 * the name is translated (gettext) and the Chinese name comes from a built-in
 * table so both can be printed side by side.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  BMS_ALARM_SEVERITY_INFO,
  BMS_ALARM_SEVERITY_WARNING,
  BMS_ALARM_SEVERITY_PROTECTION,
  BMS_ALARM_SEVERITY_FAULT,
} BmsAlarmSeverity;

GType bms_alarm_severity_get_type (void) G_GNUC_CONST;
#define BMS_TYPE_ALARM_SEVERITY (bms_alarm_severity_get_type ())
/* "info", "warning", "protection", "fault" */
const char *bms_alarm_severity_to_string (BmsAlarmSeverity severity);

/* What the alarm measures, so the value and threshold can be filled in. */
typedef enum
{
  BMS_ALARM_MEASURE_NONE,
  BMS_ALARM_MEASURE_SOC,               /* % */
  BMS_ALARM_MEASURE_PACK_VOLTAGE,      /* V */
  BMS_ALARM_MEASURE_MAX_CELL,          /* mV, cell index */
  BMS_ALARM_MEASURE_MIN_CELL,          /* mV, cell index */
  BMS_ALARM_MEASURE_CELL_DIFF,         /* mV */
  BMS_ALARM_MEASURE_CHARGE_CURRENT,    /* A */
  BMS_ALARM_MEASURE_DISCHARGE_CURRENT, /* A, as a positive number */
  BMS_ALARM_MEASURE_MOSFET_TEMP,       /* °C */
  BMS_ALARM_MEASURE_BOX_TEMP,          /* °C, sensor 1 */
  BMS_ALARM_MEASURE_MAX_TEMP,          /* °C, battery sensors and modules */
  BMS_ALARM_MEASURE_MIN_TEMP,          /* °C */
  BMS_ALARM_MEASURE_BALANCE_TEMP,      /* °C, 0xE0 */
} BmsAlarmMeasure;

/* The history event of a reply refused as implausible (its text is the
 * reason); never an active alarm. */
#define BMS_ALARM_CODE_IMPLAUSIBLE "implausible_reply"

/* The built-in description of one alarm code. */
typedef struct
{
  const char *code;
  guint8 source_id;    /* field the alarm comes from (0x8B, 0x8C, 0xD4, 0xD7) */
  const char *name;    /* English, marked for gettext */
  const char *name_zh; /* Simplified Chinese */
  BmsAlarmSeverity severity;
  BmsAlarmMeasure measure;
  guint8 threshold_id;             /* field holding the limit, 0 none */
  guint8 threshold_id_discharging; /* when discharging, if different */
} BmsAlarmInfo;

/* NULL when the code is unknown. */
const BmsAlarmInfo *bms_alarm_info_lookup (const char *code);
/* The unit of the alarm's value and limit ("mV", "°C"…); "" when it has
 * none or info is NULL. */
const char *bms_alarm_info_get_unit (const BmsAlarmInfo *info);
/* Every known code; sets *n. */
const BmsAlarmInfo *bms_alarm_info_all (guint *n);

#define BMS_TYPE_ALARM (bms_alarm_get_type ())
G_DECLARE_FINAL_TYPE (BmsAlarm, bms_alarm, BMS, ALARM, GObject)

BmsAlarm *bms_alarm_new (const char *code);

const char *bms_alarm_get_code (BmsAlarm *self);
const char *bms_alarm_get_name (BmsAlarm *self);    /* translated */
const char *bms_alarm_get_name_en (BmsAlarm *self); /* untranslated English */
const char *bms_alarm_get_name_zh (BmsAlarm *self);
BmsAlarmSeverity bms_alarm_get_severity (BmsAlarm *self);
guint8 bms_alarm_get_source_id (BmsAlarm *self);
guint bms_alarm_get_cell (BmsAlarm *self);   /* 1-based, 0 none */
guint bms_alarm_get_module (BmsAlarm *self); /* 1-based, 0 none */
gboolean bms_alarm_get_has_value (BmsAlarm *self);
double bms_alarm_get_value (BmsAlarm *self);
gboolean bms_alarm_get_has_threshold (BmsAlarm *self);
double bms_alarm_get_threshold (BmsAlarm *self);
const char *bms_alarm_get_unit (BmsAlarm *self);
gint64 bms_alarm_get_raised_at (BmsAlarm *self); /* µs since the epoch */
/* One line for logs and the CLI: "Cell over-voltage (cell 3): 3700 mV, limit 3650 mV". */
char *bms_alarm_describe (BmsAlarm *self);

/* For BmsAlarmMonitor. */
void bms_alarm_set_location (BmsAlarm *self, guint cell, guint module);
void bms_alarm_set_value (BmsAlarm *self, gboolean has_value, double value);
void bms_alarm_set_threshold (BmsAlarm *self, gboolean has_threshold, double threshold);
void bms_alarm_set_raised_at (BmsAlarm *self, gint64 time_us);

G_END_DECLS
