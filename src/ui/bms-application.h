/* bms-application.h — the Packwatch application: options, actions, settings */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BMS_TYPE_APPLICATION (bms_application_get_type ())
G_DECLARE_FINAL_TYPE (BmsApplication, bms_application, BMS, APPLICATION, AdwApplication)

BmsApplication *bms_application_new          (void);
/* The app's settings (io.github.packwatch.Packwatch); works uninstalled by
 * falling back to the schema compiled in the build tree. */
GSettings      *bms_application_get_settings (BmsApplication *self);
/* NULL or the URI the command line asked for ("sim://", "sim://master"). */
const char     *bms_application_get_demo_uri (BmsApplication *self);
/* NULL or the port of --port, as a URI. */
const char     *bms_application_get_port_uri (BmsApplication *self);
/* --baud (0: not given) and --address (-1: not given). */
void            bms_application_get_line     (BmsApplication *self,
                                              guint          *baud,
                                              int            *address);
const char     *bms_application_get_start_page (BmsApplication *self);
const char     *bms_application_get_screenshot_path (BmsApplication *self);

/* Sets the interface language now ("" follows the desktop). */
void            bms_application_apply_language (const char *language);

/* Settings without an application (tests, the window on its own). */
GSettings      *bms_settings_new             (void);

G_END_DECLS
