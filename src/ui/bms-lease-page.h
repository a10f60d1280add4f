/* bms-lease-page.h — the Lease page of the window */
#pragma once

#include <adwaita.h>
#include "bms-page.h"
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_LEASE_PAGE (bms_lease_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsLeasePage, bms_lease_page, BMS, LEASE_PAGE, BmsPage)

GtkWidget     *bms_lease_page_new            (BmsConnection *connection);

/* "12 days left", "Expired 3 days ago", … for a lease end (Unix s) at now. */
char          *bms_lease_page_format_remaining (gint64 end,
                                                gint64 now);

G_END_DECLS
