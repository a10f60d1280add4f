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

G_END_DECLS
