/* bms-health-page.h — the Health page: each cell's resistance, capacity
 * deviation and leak from the history, the suspects with their reasons and
 * the weekly trend of the selected cell (bms-health.h does the sums). */
#pragma once

#include <adwaita.h>
#include "bms-health.h"
#include "bms-page.h"

G_BEGIN_DECLS

#define BMS_TYPE_HEALTH_PAGE (bms_health_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsHealthPage, bms_health_page, BMS, HEALTH_PAGE, BmsPage)

GtkWidget             *bms_health_page_new          (void);
/* The history and device analysed; by default the connection's and the
 * connected board's (or the history's only device). Setting one overrides
 * them (tests, a database opened from a file). */
void                   bms_health_page_set_history  (BmsHealthPage *self,
                                                     BmsHistory    *history,
                                                     const char    *device_key);
/* Starts an analysis on a worker (cancelling one under way). The page
 * starts one by itself when first shown and when the board changes. */
void                   bms_health_page_analyze      (BmsHealthPage *self);
gboolean               bms_health_page_get_busy     (BmsHealthPage *self);
/* The last finished analysis, or NULL. */
BmsHealthReport       *bms_health_page_get_report   (BmsHealthPage *self);
/* Selects cell (1-based) in the list: its details and trend are shown. */
void                   bms_health_page_select_cell  (BmsHealthPage *self,
                                                     guint          cell);

G_END_DECLS
