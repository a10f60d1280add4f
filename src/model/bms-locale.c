/* bms-locale.c — where the translations are. */
#include "config.h"

#include "bms-locale.h"

#include <glib/gi18n.h>

const char *
bms_locale_get_dir (void)
{
  static char *dir = NULL;
  g_autofree char *exe = NULL;
  g_autofree char *bindir = NULL;
  g_autofree char *probe = NULL;

  if (dir != NULL)
    return dir;
  exe = g_file_read_link ("/proc/self/exe", NULL);
  bindir = exe ? g_path_get_dirname (exe) : NULL;
  if (bindir != NULL)
    {
      g_autofree char *build_po = g_build_filename (bindir, "..", "po", NULL);
      probe = g_build_filename (build_po, "zh_CN", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
      if (g_file_test (probe, G_FILE_TEST_EXISTS))
        dir = g_steal_pointer (&build_po);
    }
  if (dir == NULL)
    dir = g_strdup (LOCALEDIR);
  return dir;
}

void
bms_locale_bind_textdomain (void)
{
  bindtextdomain (GETTEXT_PACKAGE, bms_locale_get_dir ());
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
