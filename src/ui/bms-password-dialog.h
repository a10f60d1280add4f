/* bms-password-dialog.h — ask for the parameter password and unlock the session */
#pragma once

#include <adwaita.h>
#include "bms-connection.h"

G_BEGIN_DECLS

/* Shows an AdwMessageDialog asking for the password, unlocks the session
 * with it (off the main thread) and asks again after a wrong one. Finishes
 * TRUE once unlocked, FALSE with G_IO_ERROR_CANCELLED when the user gives up. */
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
