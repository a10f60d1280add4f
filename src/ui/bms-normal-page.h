/* bms-normal-page.h — the Normal page of the window */
#pragma once

#include <adwaita.h>
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_NORMAL_PAGE (bms_normal_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsNormalPage, bms_normal_page, BMS, NORMAL_PAGE, AdwBin)

GtkWidget     *bms_normal_page_new            (BmsConnection *connection);
BmsConnection *bms_normal_page_get_connection (BmsNormalPage *self);
/* The live device (BmsDevice) of the connection; NULL while disconnected. */
BmsDevice     *bms_normal_page_get_device     (BmsNormalPage *self);
void           bms_normal_page_set_device     (BmsNormalPage *self,
                                               BmsDevice    *device);

G_END_DECLS
