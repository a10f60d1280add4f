/* bms-update-page.h — the Update page of the window */
#pragma once

#include <adwaita.h>
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_UPDATE_PAGE (bms_update_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsUpdatePage, bms_update_page, BMS, UPDATE_PAGE, AdwBin)

GtkWidget     *bms_update_page_new            (BmsConnection *connection);
BmsConnection *bms_update_page_get_connection (BmsUpdatePage *self);
/* The live device (BmsDevice) of the connection; NULL while disconnected. */
BmsDevice     *bms_update_page_get_device     (BmsUpdatePage *self);
void           bms_update_page_set_device     (BmsUpdatePage *self,
                                               BmsDevice    *device);

G_END_DECLS
