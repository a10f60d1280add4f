/* bms-dload-page.h — the DLoad page of the window */
#pragma once

#include <adwaita.h>
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_DLOAD_PAGE (bms_dload_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsDloadPage, bms_dload_page, BMS, DLOAD_PAGE, AdwBin)

GtkWidget     *bms_dload_page_new            (BmsConnection *connection);
BmsConnection *bms_dload_page_get_connection (BmsDloadPage *self);
/* The live device (BmsDevice) of the connection; NULL while disconnected. */
BmsDevice     *bms_dload_page_get_device     (BmsDloadPage *self);
void           bms_dload_page_set_device     (BmsDloadPage *self,
                                               BmsDevice    *device);

G_END_DECLS
