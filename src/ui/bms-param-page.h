/* bms-param-page.h — the Param page of the window */
#pragma once

#include <adwaita.h>
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_PARAM_PAGE (bms_param_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsParamPage, bms_param_page, BMS, PARAM_PAGE, AdwBin)

GtkWidget     *bms_param_page_new            (BmsConnection *connection);
BmsConnection *bms_param_page_get_connection (BmsParamPage *self);
/* The live device (BmsDevice) of the connection; NULL while disconnected. */
BmsDevice     *bms_param_page_get_device     (BmsParamPage *self);
void           bms_param_page_set_device     (BmsParamPage *self,
                                               BmsDevice    *device);

G_END_DECLS
