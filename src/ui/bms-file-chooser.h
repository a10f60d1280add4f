/* bms-file-chooser.h — where file choosers open */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Makes a chooser open in the folder last used for this purpose ("export",
 * "firmware", "profile", "report", "database", …), else in the user's
 * Documents folder, else in the home folder: never in the process's working
 * directory. Call it right after creating the chooser, before connecting
 * "response": the folder of an accepted file is remembered (GSettings
 * "last-folders") for the next chooser of the same purpose. */
void  bms_file_chooser_start         (GtkFileChooser *chooser,
                                      const char     *purpose);
/* The folder bms_file_chooser_start() opens a chooser of this purpose in. */
char *bms_file_chooser_start_folder  (const char     *purpose);

/* Remembers the folder of a file taken for this purpose (the folder itself
 * when is_folder); bms_file_chooser_start() does it on "response". */
void  bms_file_chooser_remember      (const char     *purpose,
                                      GFile          *file,
                                      gboolean        is_folder);

G_END_DECLS
