/* bms-cell-grid.h — every cell of a pack as a tile, grouped by module.
 *
 * A drawn widget (256 child widgets would cost more than they give): each
 * tile shows the voltage, coloured against the protection thresholds, with a
 * balancing mark, ▲/▼ on the highest/lowest cell and a bar showing where the
 * cell sits between the pack's lowest and highest. Keyboard: arrow keys move
 * a selection whose details go to the accessible description and the
 * "selected" property; tooltips give the same text on hover.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BMS_TYPE_CELL_GRID (bms_cell_grid_get_type ())
G_DECLARE_FINAL_TYPE (BmsCellGrid, bms_cell_grid, BMS, CELL_GRID, GtkWidget)

typedef struct {
  guint ovp_mv;            /* over-voltage protection; 0 = unknown */
  guint ovp_recovery_mv;   /* warning above this */
  guint uvp_mv;            /* under-voltage protection; 0 = unknown */
  guint uvp_recovery_mv;   /* warning below this */
} BmsCellLimits;

GtkWidget *bms_cell_grid_new            (void);
/* mv: n_cells voltages; module_sizes: cells per module (n_modules of them,
 * summing to n_cells) or NULL for one block; balancing: a bit per cell
 * (cell i in balancing[i / 64] bit i % 64) or NULL. */
void       bms_cell_grid_set_cells      (BmsCellGrid   *self,
                                         const guint16 *mv,
                                         guint          n_cells,
                                         const guint   *module_sizes,
                                         guint          n_modules,
                                         const guint64 *balancing);
/* Three sensors per module, °C; NAN where absent. */
void       bms_cell_grid_set_module_temps (BmsCellGrid *self,
                                           const double (*temps)[3],
                                           guint        n_modules);
void       bms_cell_grid_set_limits     (BmsCellGrid         *self,
                                         const BmsCellLimits *limits);
void       bms_cell_grid_set_show_volts (BmsCellGrid   *self,
                                         gboolean       volts);
guint      bms_cell_grid_get_n_cells    (BmsCellGrid   *self);
/* Index of the selected cell, -1 if none. */
int        bms_cell_grid_get_selected   (BmsCellGrid   *self);
void       bms_cell_grid_set_selected   (BmsCellGrid   *self,
                                         int            index);
/* Tiles drawn since the grid was made: a poll that changes one cell draws
 * one tile, a poll that changes nothing draws none (tests). */
guint      bms_cell_grid_get_n_tiles_drawn (BmsCellGrid *self);
/* Human description of one cell ("Cell 17 (module 2, cell 1): 3.301 V …"). */
char      *bms_cell_grid_describe_cell  (BmsCellGrid   *self,
                                         guint          index);

G_END_DECLS
