/* bms-dload-page.h — the DLoad page of the window */
#pragma once

#include <adwaita.h>
#include "bms-page.h"
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_DLOAD_PAGE (bms_dload_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsDloadPage, bms_dload_page, BMS, DLOAD_PAGE, BmsPage)

GtkWidget     *bms_dload_page_new            (BmsConnection *connection);

typedef struct _BmsProfile BmsProfile;

/* The profile's values into the "Set" column (per-board rows untouched). */
void           bms_dload_page_apply_profile   (BmsDloadPage *self,
                                               BmsProfile   *profile);
/* One "Set" cell, as typed. */
void           bms_dload_page_set_value       (BmsDloadPage *self,
                                               guint8        id,
                                               const char   *text);
/* Writes the Set column to the connected board (the button does this):
 * rules checked first, results per row, one report row, the counter. */
void           bms_dload_page_write_board     (BmsDloadPage *self);
gboolean       bms_dload_page_get_busy        (BmsDloadPage *self);
guint          bms_dload_page_get_boards_done (BmsDloadPage *self);
/* The row's outcome as written to the report ("ok", "already set",
 * "failed: …", "not sent"), NULL before a write. */
const char    *bms_dload_page_get_result      (BmsDloadPage *self,
                                               guint8        id);
/* The report file (.xlsx, or .csv by its name) that holds every board
 * programmed in this session; its folder is remembered for the next start.
 * The boards so far are saved there at once. */
void           bms_dload_page_set_report_path (BmsDloadPage *self,
                                               const char   *path);
const char    *bms_dload_page_get_report_path (BmsDloadPage *self);

G_END_DECLS
