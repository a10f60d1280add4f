/* bms-cell.h — one cell of the pack, as the Monitor page binds to it.
 *
 * Cells are owned by their BmsDevice, which changes them on the main thread
 * after every poll; the setters notify only when a value really changes.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define BMS_TYPE_CELL (bms_cell_get_type ())
G_DECLARE_FINAL_TYPE (BmsCell, bms_cell, BMS, CELL, GObject)

/* index: 1-based cell number as the board counts it; module: 1-based. */
BmsCell *bms_cell_new (guint index, guint module);

guint bms_cell_get_index (BmsCell *self);
guint bms_cell_get_module (BmsCell *self);
guint bms_cell_get_millivolts (BmsCell *self);
double bms_cell_get_voltage (BmsCell *self); /* volts */
gboolean bms_cell_get_balancing (BmsCell *self);
gboolean bms_cell_get_is_min (BmsCell *self);
gboolean bms_cell_get_is_max (BmsCell *self);

/* For BmsDevice. */
void bms_cell_set_module (BmsCell *self, guint module);
void bms_cell_set_millivolts (BmsCell *self, guint millivolts);
void bms_cell_set_balancing (BmsCell *self, gboolean balancing);
void bms_cell_set_is_min (BmsCell *self, gboolean is_min);
void bms_cell_set_is_max (BmsCell *self, gboolean is_max);

G_END_DECLS
