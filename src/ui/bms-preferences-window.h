/* bms-preferences-window.h — Preferences: polling, units, language, history */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BMS_TYPE_PREFERENCES_WINDOW (bms_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (BmsPreferencesWindow, bms_preferences_window, BMS,
                      PREFERENCES_WINDOW, AdwPreferencesWindow)

GtkWidget *bms_preferences_window_new (GSettings *settings);

G_END_DECLS
