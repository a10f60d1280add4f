/* bms-window.h — the main window: connection bar, summary and the pages */
#pragma once

#include <adwaita.h>
#include "bms-application.h"
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_WINDOW (bms_window_get_type ())
G_DECLARE_FINAL_TYPE (BmsWindow, bms_window, BMS, WINDOW, AdwApplicationWindow)

BmsWindow     *bms_window_new            (BmsApplication *application);
BmsConnection *bms_window_get_connection (BmsWindow      *self);
/* Page names: monitor, alarm, param, normal, graph, update, lease, dload. */
void           bms_window_show_page      (BmsWindow      *self,
                                          const char     *name);
const char    *bms_window_get_page       (BmsWindow      *self);
/* The page widget by name (BmsMonitorPage …), NULL for an unknown name. */
GtkWidget     *bms_window_get_page_widget (BmsWindow     *self,
                                           const char    *name);
/* Render the window as it is now into a PNG file. */
gboolean       bms_window_save_png       (BmsWindow      *self,
                                          const char     *path,
                                          GError        **error);

/* The same for any shown window or dialog (the Preferences, a message dialog). */
gboolean       bms_save_native_png       (GtkWidget      *native,
                                          const char     *path,
                                          GError        **error);

/* Selects the port and connects, as the Connect button does. */
void           bms_window_connect_to     (BmsWindow      *self,
                                          const char     *uri);
/* The history database of a demo URI (sim://, sim://master, replay://…),
 * in the user's cache folder; NULL for a real board. */
char          *bms_demo_history_path     (const char     *uri);

G_END_DECLS
