/* bms-alarm-page.h — the Alarm page of the window */
#pragma once

#include <adwaita.h>
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_ALARM_PAGE (bms_alarm_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsAlarmPage, bms_alarm_page, BMS, ALARM_PAGE, AdwBin)

GtkWidget     *bms_alarm_page_new            (BmsConnection *connection);
BmsConnection *bms_alarm_page_get_connection (BmsAlarmPage *self);
/* The live device (BmsDevice) of the connection; NULL while disconnected. */
BmsDevice     *bms_alarm_page_get_device     (BmsAlarmPage *self);
void           bms_alarm_page_set_device     (BmsAlarmPage *self,
                                               BmsDevice    *device);

G_END_DECLS
