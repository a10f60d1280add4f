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
const char     *bms_application_get_start_page (BmsApplication *self);
const char     *bms_application_get_screenshot_path (BmsApplication *self);

/* Settings without an application (tests, the window on its own). */
GSettings      *bms_settings_new             (void);

G_END_DECLS
