/* bms-update-page.h — the Update page of the window */
#pragma once

#include <adwaita.h>
#include "bms-page.h"
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_UPDATE_PAGE (bms_update_page_get_type ())
G_DECLARE_FINAL_TYPE (BmsUpdatePage, bms_update_page, BMS, UPDATE_PAGE, BmsPage)

GtkWidget     *bms_update_page_new            (BmsConnection *connection);

/* Checks path on a worker (size, CRC-32, version, the image's vector table)
 * as if chosen in the file chooser; get_file_ok says whether it passed. A
 * readable file that is not a firmware image fails; the Start button then
 * asks whether to flash it anyway, and start_update runs it only after that
 * confirmation. */
void           bms_update_page_set_file       (BmsUpdatePage *self,
                                               const char    *path);
gboolean       bms_update_page_get_file_ok    (BmsUpdatePage *self);
/* Starts the update without the confirmation dialog (the button asks
 * first), unlocking with password when the session is locked. */
void           bms_update_page_start_update   (BmsUpdatePage *self,
                                               const char    *password);
/* A check, an update or a write is running. */
gboolean       bms_update_page_get_busy       (BmsUpdatePage *self);
/* The last outcome shown to the user. */
const char    *bms_update_page_get_result     (BmsUpdatePage *self);

/* The step of a running update (BmsFlasherStep), 0 when none runs;
 * notified as "flash-step". */
guint          bms_update_page_get_flash_step (BmsUpdatePage *self);

G_END_DECLS
