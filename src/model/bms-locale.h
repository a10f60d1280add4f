/* bms-locale.h — where the translations are, for the app and the CLI. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Binds the gettext domain (UTF-8) to the catalogues: installed, LOCALEDIR;
 * run from the build tree, the ones meson compiled into build/po (so the
 * language switch and zh_CN reports work uninstalled). Call after
 * setlocale. */
void        bms_locale_bind_textdomain (void);
const char *bms_locale_get_dir         (void);

G_END_DECLS
