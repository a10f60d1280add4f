/* bms-alarm-monitor.h — the active alarms of one board, as a list model.
 *
 * Derives alarms from every warning bit (0x8B), the status flags (0x8C: cell
 * wire off, MOS opened by the board), the master's extension alarm bits
 * (0xD7) and the level-2 relay (0xD4), plus "comm_lost" while the device is
 * offline (it stopped answering). Each change is an event: the "event"
 * signal, and a row in the history database when one is set.
 *
 * Lives on the thread that owns the device (the GTK main thread); the history
 * calls only queue.
 */
#pragma once

#include <gio/gio.h>
#include "bms-alarm.h"
#include "bms-device.h"
#include "bms-history.h"

G_BEGIN_DECLS

#define BMS_TYPE_ALARM_MONITOR (bms_alarm_monitor_get_type ())
G_DECLARE_FINAL_TYPE (BmsAlarmMonitor, bms_alarm_monitor, BMS, ALARM_MONITOR, GObject)

/* Follows device's "updated" signal; device may be NULL, then feed it with
 * bms_alarm_monitor_process. Items: BmsAlarm, in the order raised. */
BmsAlarmMonitor *bms_alarm_monitor_new (BmsDevice *device);
BmsDevice *bms_alarm_monitor_get_device (BmsAlarmMonitor *self);
/* Events go to history under device_id (bms_history_ensure_device). */
void bms_alarm_monitor_set_history (BmsAlarmMonitor *self, BmsHistory *history, gint64 device_id);
void bms_alarm_monitor_process (BmsAlarmMonitor *self, const BmsSnapshot *snapshot);
/* The active alarm with this code, or NULL (transfer none). */
BmsAlarm *bms_alarm_monitor_lookup (BmsAlarmMonitor *self, const char *code);
/* Highest severity among the active alarms; -1 when none. */
gint bms_alarm_monitor_get_highest_severity (BmsAlarmMonitor *self);

/* The alarms a snapshot shows, with value, threshold, cell and module filled
 * in where known (new BmsAlarm objects, raised-at = snapshot time). */
GPtrArray *bms_alarm_monitor_derive (const BmsSnapshot *snapshot);

G_END_DECLS
