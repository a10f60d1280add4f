/* bms-alarm-page.h — active alarms, the event history, desktop notifications */
#pragma once

#include <adwaita.h>
#include "bms-page.h"
#include "bms-connection.h"
#include "bms-history.h"

G_BEGIN_DECLS

#define BMS_TYPE_ALARM_PAGE (bms_alarm_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsAlarmPage, bms_alarm_page, BMS, ALARM_PAGE, BmsPage)

GtkWidget     *bms_alarm_page_new             (BmsConnection *connection);
/* Reads the event history for the chosen range again (off the main thread). */
void           bms_alarm_page_refresh_history (BmsAlarmPage  *self);
/* Rows shown now: active alarms, history events. */
guint          bms_alarm_page_get_n_active    (BmsAlarmPage  *self);
guint          bms_alarm_page_get_n_events    (BmsAlarmPage  *self);
/* An event row's subtitle: time, raised/cleared, where, value and limit
 * once with units. title: the row's title (the alarm's name). */
char          *bms_alarm_page_describe_event  (const BmsHistoryAlarmEvent *event,
                                               const char                 *title);

G_END_DECLS
