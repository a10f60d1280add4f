/* bms-password-dialog.h — the one password dialog: asks for the parameter
 * password and unlocks the board through the connection */
#pragma once

#include <adwaita.h>
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_PASSWORD_DIALOG (bms_password_dialog_get_type ())
G_DECLARE_FINAL_TYPE (BmsPasswordDialog, bms_password_dialog, BMS, PASSWORD_DIALOG, AdwWindow)

/* For tests: the entry, and the last refusal shown (NULL when none). */
GtkWidget  *bms_password_dialog_get_entry   (BmsPasswordDialog *self);
const char *bms_password_dialog_get_problem (BmsPasswordDialog *self);

/* Shows the dialog, unlocks the board with the password (on the session's
 * worker) and, after a wrong one, marks the entry in the same dialog.
 * Finishes TRUE once unlocked (the dialog closes), FALSE with
 * G_IO_ERROR_CANCELLED when the user gives up. */
void     bms_password_dialog_ask_async  (GtkWidget           *parent,
                                         BmsConnection       *connection,
                                         const char          *reason,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gboolean bms_password_dialog_ask_finish (GAsyncResult        *result,
                                         GError             **error);

/* The same, and the password that unlocked (for a change set, which unlocks
 * again on its worker). */
gboolean bms_password_dialog_ask_finish_password (GAsyncResult  *result,
                                                  char         **password,
                                                  GError       **error);

/* The pages' gate before a write: calls func once, at once with proceed
 * TRUE and password NULL when the board is unlocked; otherwise after the
 * dialog above, with proceed TRUE and the password that unlocked, or
 * proceed FALSE when the user gave up. */
typedef void (*BmsPasswordFunc) (GtkWidget  *widget,
                                 gboolean    proceed,
                                 const char *password,
                                 gpointer    user_data);
void     bms_password_dialog_ask_if_locked (GtkWidget       *widget,
                                            BmsConnection   *connection,
                                            const char      *reason,
                                            BmsPasswordFunc  func,
                                            gpointer         user_data);

G_END_DECLS
