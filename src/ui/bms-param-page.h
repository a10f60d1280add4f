/* bms-param-page.h — the Param page: protection parameters by group, edits,
 * chemistry presets as change sets, writes with read-back. */
#pragma once

#include <adwaita.h>
#include "bms-page.h"
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_PARAM_PAGE (bms_param_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsParamPage, bms_param_page, BMS, PARAM_PAGE, BmsPage)

GtkWidget     *bms_param_page_new            (BmsConnection *connection);
/* Writes one value as the page's edit dialog does. ask_password FALSE sends
 * it without the prompt (the session refuses while locked). Emits
 * "write-finished" (id, success, message). */
void           bms_param_page_write          (BmsParamPage  *self,
                                              guint8         id,
                                              gint64         raw,
                                              const char    *text,
                                              gboolean       ask_password);
/* Rows on the page (one per writable protection parameter). */
guint          bms_param_page_get_n_rows     (BmsParamPage  *self);
/* The row of a field, NULL if the page has none. */
GtkWidget     *bms_param_page_get_row        (BmsParamPage  *self,
                                              guint8         id);

G_END_DECLS
