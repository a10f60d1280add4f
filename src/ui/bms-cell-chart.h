/* bms-cell-chart.h — cell voltages as bars against the protection and
 * balance-start lines */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BMS_TYPE_CELL_CHART (bms_cell_chart_get_type ())
G_DECLARE_FINAL_TYPE (BmsCellChart, bms_cell_chart, BMS, CELL_CHART, GtkWidget)

GtkWidget *bms_cell_chart_new        (void);
/* Redraws only when a value changed. */
void       bms_cell_chart_set_cells  (BmsCellChart  *self,
                                      const guint16 *mv,
                                      guint          n);
/* 0: not reported (no line). */
void       bms_cell_chart_set_lines  (BmsCellChart  *self,
                                      guint          ovp_mv,
                                      guint          uvp_mv,
                                      guint          balance_start_mv);
/* The picture, for the widget and for exports. */
void       bms_cell_chart_draw       (BmsCellChart  *self,
                                      cairo_t       *cr,
                                      int            width,
                                      int            height);
/* How many times the widget asked to be redrawn (tests: idle costs nothing). */
guint      bms_cell_chart_get_n_redraws (BmsCellChart *self);

G_END_DECLS
