/* bms-module.h — one slave module of a master BMS: its cells and its three
 * temperature sensors T0–T2. A single-board pack is one module.
 */
#pragma once

#include <gio/gio.h>
#include "bms-cell.h"

G_BEGIN_DECLS

#define BMS_TYPE_MODULE (bms_module_get_type ())
G_DECLARE_FINAL_TYPE (BmsModule, bms_module, BMS, MODULE, GObject)

/* index: 1-based module number. */
BmsModule *bms_module_new (guint index);

guint bms_module_get_index (BmsModule *self);
guint bms_module_get_cell_count (BmsModule *self);
guint bms_module_get_first_cell (BmsModule *self); /* 1-based, 0 when empty */
/* The module's cells (BmsCell, the same objects as the device's cell list). */
GListModel *bms_module_get_cells (BmsModule *self);
gboolean bms_module_get_has_temperatures (BmsModule *self);
double bms_module_get_temperature (BmsModule *self, guint sensor); /* T0..T2, °C */
guint bms_module_get_min_millivolts (BmsModule *self);
guint bms_module_get_max_millivolts (BmsModule *self);

/* For BmsDevice. cells: BmsCell*, in order; replaces the module's cells. */
void bms_module_set_cells (BmsModule *self, BmsCell **cells, guint n);
void bms_module_set_temperatures (BmsModule *self, gboolean present, const double temps[3]);
/* Recomputes min/max from the cells. */
void bms_module_refresh (BmsModule *self);

G_END_DECLS
