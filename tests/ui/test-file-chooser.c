/* File choosers open in the folder last used for the same purpose, else in
 * Documents (else home), never in the process's working directory; a folder
 * removed since is not offered. */
#include "config.h"

#include <unistd.h>
#include <glib/gstdio.h>

#include "bms-file-chooser.h"
#include "ui-test-util.h"

/* The folder the chooser shows, once it has loaded it. */
static char *
chooser_folder (GtkFileChooser *chooser)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  g_autoptr(GFile) folder = NULL;

  while ((folder = gtk_file_chooser_get_current_folder (chooser)) == NULL &&
         g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  return folder ? g_file_get_path (folder) : NULL;
}

static void
test_start_folder (void)
{
  g_autofree char *work = g_dir_make_tmp ("packwatch-chooser-XXXXXX", NULL);
  g_autofree char *cwd = g_build_filename (work, "cwd", NULL);
  g_autofree char *exports = g_build_filename (work, "exports", NULL);
  g_autofree char *file = g_build_filename (exports, "pack.xlsx", NULL);
  g_autofree char *home = g_strdup (g_get_home_dir ());
  const char *documents = g_get_user_special_dir (G_USER_DIRECTORY_DOCUMENTS);
  const char *first_choice = documents && g_file_test (documents, G_FILE_TEST_IS_DIR)
                             ? documents : home;
  GtkFileChooserNative *native;
  g_autofree char *start = NULL;
  g_autofree char *again = NULL;
  g_autofree char *other = NULL;
  g_autofree char *gone = NULL;
  g_autoptr(GFile) chosen = g_file_new_for_path (file);

  g_mkdir (cwd, 0700);
  g_mkdir (exports, 0700);
  g_assert_cmpint (g_chdir (cwd), ==, 0);

  native = gtk_file_chooser_native_new ("Export", NULL, GTK_FILE_CHOOSER_ACTION_SAVE,
                                        "_Save", "_Cancel");
  bms_file_chooser_start (GTK_FILE_CHOOSER (native), "export");
  start = chooser_folder (GTK_FILE_CHOOSER (native));
  g_assert_cmpstr (start, ==, first_choice);
  g_assert_cmpstr (start, !=, cwd);

  /* Cancel remembers nothing; an accepted file's folder is remembered for
   * this purpose only. */
  g_signal_emit_by_name (native, "response", GTK_RESPONSE_CANCEL);
  g_object_unref (native);
  g_free (again);
  again = bms_file_chooser_start_folder ("export");
  g_assert_cmpstr (again, ==, first_choice);
  bms_file_chooser_remember ("export", chosen, FALSE);
  g_free (again);
  again = bms_file_chooser_start_folder ("export");
  g_assert_cmpstr (again, ==, exports);
  other = bms_file_chooser_start_folder ("firmware");
  g_assert_cmpstr (other, ==, first_choice);

  /* The next chooser of the purpose opens there. */
  native = gtk_file_chooser_native_new ("Export", NULL, GTK_FILE_CHOOSER_ACTION_SAVE,
                                        "_Save", "_Cancel");
  bms_file_chooser_start (GTK_FILE_CHOOSER (native), "export");
  g_free (start);
  start = chooser_folder (GTK_FILE_CHOOSER (native));
  g_assert_cmpstr (start, ==, exports);
  g_signal_emit_by_name (native, "response", GTK_RESPONSE_CANCEL);
  g_object_unref (native);

  /* The folder is removed: back to Documents. */
  g_rmdir (exports);
  gone = bms_file_chooser_start_folder ("export");
  g_assert_cmpstr (gone, ==, first_choice);

  g_rmdir (cwd);
  g_rmdir (work);
}

int
main (int   argc,
      char *argv[])
{
  ui_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/file-chooser/start-folder", test_start_folder);
  return g_test_run ();
}
