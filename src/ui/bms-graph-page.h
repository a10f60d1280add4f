/* bms-graph-page.h — the Graph page of the window */
#pragma once

#include <adwaita.h>
#include "bms-page.h"
#include "bms-connection.h"
#include "bms-graph-view.h"
#include "bms-history.h"

G_BEGIN_DECLS

#define BMS_TYPE_GRAPH_PAGE (bms_graph_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsGraphPage, bms_graph_page, BMS, GRAPH_PAGE, BmsPage)

GtkWidget     *bms_graph_page_new            (BmsConnection *connection);
/* The history shown; by default the connection's. Setting one overrides
 * the connection's (tests, a database opened from a file). */
void           bms_graph_page_set_history    (BmsGraphPage *self,
                                               BmsHistory   *history);
BmsGraphView  *bms_graph_page_get_view       (BmsGraphPage *self);
/* Exports the visible time range of the shown board to file (".csv" is
 * CSV, anything else Excel) on a worker, with the page's progress bar;
 * the result appears in the status line. */
void           bms_graph_page_export_visible (BmsGraphPage *self,
                                               GFile        *file);
gboolean       bms_graph_page_get_exporting  (BmsGraphPage *self);

G_END_DECLS
