/* bms-file-chooser.c — where file choosers open
 *
 * A desktop app started from a launcher has / or $HOME as its working
 * directory, and GTK opens a chooser without a folder there (or in "Recent",
 * depending on the portal). A technician exports, picks firmware and saves
 * profiles in the same few folders: start in the last one used for the same
 * purpose, else in Documents. */
#include "config.h"

#include "bms-application.h"
#include "bms-file-chooser.h"

static void remember_folder (const char *purpose, const char *folder);

static char *
remembered_folder (GSettings  *settings,
                   const char *purpose)
{
  g_autoptr(GVariant) folders = g_settings_get_value (settings, "last-folders");
  const char *folder = NULL;

  if (g_variant_lookup (folders, purpose, "&s", &folder) &&
      g_file_test (folder, G_FILE_TEST_IS_DIR))
    return g_strdup (folder);
  return NULL;   /* never used, or removed since */
}

char *
bms_file_chooser_start_folder (const char *purpose)
{
  g_autoptr(GSettings) settings = bms_settings_new ();
  char *folder = remembered_folder (settings, purpose);
  const char *documents;

  if (folder != NULL)
    return folder;
  documents = g_get_user_special_dir (G_USER_DIRECTORY_DOCUMENTS);
  if (documents != NULL && g_file_test (documents, G_FILE_TEST_IS_DIR))
    return g_strdup (documents);
  return g_strdup (g_get_home_dir ());
}

void
bms_file_chooser_remember (const char *purpose,
                           GFile      *file,
                           gboolean    is_folder)
{
  g_autoptr(GFile) parent = is_folder ? g_object_ref (file) : g_file_get_parent (file);
  g_autofree char *path = parent ? g_file_get_path (parent) : NULL;

  if (path != NULL)
    remember_folder (purpose, path);
}

static void
remember_folder (const char *purpose,
                 const char *folder)
{
  g_autoptr(GSettings) settings = bms_settings_new ();
  g_autoptr(GVariant) old = g_settings_get_value (settings, "last-folders");
  GVariantBuilder builder;
  GVariantIter iter;
  const char *key, *value;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (&builder, "{ss}", purpose, folder);
  g_variant_iter_init (&iter, old);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
    if (!g_str_equal (key, purpose))
      g_variant_builder_add (&builder, "{ss}", key, value);
  g_settings_set_value (settings, "last-folders", g_variant_builder_end (&builder));
}

static void
chooser_response (GtkNativeDialog *dialog,
                  int              response,
                  const char      *purpose)
{
  g_autoptr(GFile) file = NULL;

  if (response != GTK_RESPONSE_ACCEPT)
    return;
  file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  if (file != NULL)
    bms_file_chooser_remember (purpose, file,
                               gtk_file_chooser_get_action (GTK_FILE_CHOOSER (dialog)) ==
                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
}

void
bms_file_chooser_start (GtkFileChooser *chooser,
                        const char     *purpose)
{
  g_autofree char *path = NULL;
  g_autoptr(GFile) folder = NULL;

  g_return_if_fail (GTK_IS_FILE_CHOOSER (chooser));
  g_return_if_fail (purpose != NULL);

  path = bms_file_chooser_start_folder (purpose);
  folder = g_file_new_for_path (path);
  gtk_file_chooser_set_current_folder (chooser, folder, NULL);
  if (GTK_IS_NATIVE_DIALOG (chooser))
    g_signal_connect_data (chooser, "response", G_CALLBACK (chooser_response),
                           g_strdup (purpose), (GClosureNotify) G_CALLBACK (g_free), 0);
}
