/* main.c — packwatch, the desktop application */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "bms-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(BmsApplication) app = NULL;
  g_autoptr(GSettings) settings = bms_settings_new ();
  g_autofree char *language = g_settings_get_string (settings, "language");

  /* The Preferences language switch overrides the desktop's language. */
  if (*language != '\0')
    g_setenv ("LANGUAGE", language, TRUE);
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = bms_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
