/* bms-monitor-page.h — the Monitor page: cell grid, extremes, temperatures, states */
#pragma once

#include <adwaita.h>
#include "bms-page.h"
#include "bms-connection.h"
#include "bms-device.h"

G_BEGIN_DECLS

#define BMS_TYPE_MONITOR_PAGE (bms_monitor_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsMonitorPage, bms_monitor_page, BMS, MONITOR_PAGE, BmsPage)

GtkWidget     *bms_monitor_page_new            (BmsConnection  *connection);

G_END_DECLS
