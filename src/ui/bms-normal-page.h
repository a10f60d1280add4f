/* bms-normal-page.h — the Normal page: battery settings, restart/reset,
 * switches, inverter protocol, Bluetooth name, manufacturer id. */
#pragma once

#include <adwaita.h>
#include "bms-page.h"
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_NORMAL_PAGE (bms_normal_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsNormalPage, bms_normal_page, BMS, NORMAL_PAGE, BmsPage)

GtkWidget     *bms_normal_page_new            (BmsConnection *connection);
/* The manufacturer id the part editors (or the free input) make now, or
 * NULL with the reason when a part is malformed. */
char          *bms_normal_page_build_maker_id (BmsNormalPage *self,
                                               GError       **error);
/* Split a 24-character id into the editors. */
void           bms_normal_page_set_maker_id   (BmsNormalPage *self,
                                               const char    *id);

G_END_DECLS
