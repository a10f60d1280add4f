/* bms-summary-bar.h — SOC, pack voltage, current, power, identity, password state */
#pragma once

#include <gtk/gtk.h>
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_SUMMARY_BAR (bms_summary_bar_get_type ())
G_DECLARE_FINAL_TYPE (BmsSummaryBar, bms_summary_bar, BMS, SUMMARY_BAR, GtkBox)

void bms_summary_bar_set_connection (BmsSummaryBar *self,
                                     BmsConnection *connection);

/* Dims the figures with the reason (a firmware update); NULL undoes it. */
void bms_summary_bar_set_frozen (BmsSummaryBar *self,
                                 const char    *why);

G_END_DECLS
