/* bms-password-dialog.c — ask for the parameter password and unlock the session */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-password-dialog.h"

typedef struct {
  GtkWidget     *parent;
  BmsConnection *connection;
  char          *reason;
  char          *password;
} Ask;

static void
ask_free (Ask *ask)
{
  g_clear_object (&ask->parent);
  g_clear_object (&ask->connection);
  g_free (ask->reason);
  g_free (ask->password);
  g_free (ask);
}

static void show_dialog (GTask *task, const char *problem);

static void
unlocked (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (bms_connection_unlock_finish (BMS_CONNECTION (source), result, &error))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  show_dialog (g_steal_pointer (&task), error->message);
}

static void
response (AdwMessageDialog *dialog,
          const char       *response_id,
          GTask            *task)
{
  Ask *ask = g_task_get_task_data (task);
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "entry");

  /* GTK 4.8's password entry follows the keyboard's caps-lock state while
   * focused and can be called after the dialog is gone: drop the focus
   * before the dialog closes. */
  gtk_window_set_focus (GTK_WINDOW (dialog), NULL);
  if (!g_str_equal (response_id, "unlock"))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("The parameters stay locked"));
      g_object_unref (task);
      return;
    }
  g_free (ask->password);
  ask->password = g_strdup (gtk_editable_get_text (entry));
  bms_connection_unlock_async (ask->connection, ask->password,
                               g_task_get_cancellable (task), unlocked, task);
}

static void
entry_activated (GtkWidget        *entry,
                 AdwMessageDialog *dialog)
{
  adw_message_dialog_response (dialog, "unlock");
}

static void
show_dialog (GTask      *task,
             const char *problem)
{
  Ask *ask = g_task_get_task_data (task);
  GtkRoot *root = gtk_widget_get_root (ask->parent);
  GtkWidget *dialog, *entry, *box;
  g_autofree char *body = NULL;

  body = g_strdup_printf ("%s%s%s",
                          ask->reason ? ask->reason : _("Changing parameters needs the board's parameter password (123456 unless it was changed)."),
                          problem ? "\n\n" : "", problem ? problem : "");
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Unlock Parameters"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "unlock", _("_Unlock"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "unlock",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "unlock");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  entry = gtk_password_entry_new ();
  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Password"), -1);
  g_signal_connect (entry, "activate", G_CALLBACK (entry_activated), dialog);
  gtk_box_append (GTK_BOX (box), entry);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  g_object_set_data (G_OBJECT (dialog), "entry", entry);

  g_signal_connect (dialog, "response", G_CALLBACK (response), task);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (entry);
}

void
bms_password_dialog_ask_async (GtkWidget           *parent,
                               BmsConnection       *connection,
                               const char          *reason,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  Ask *ask;

  g_return_if_fail (GTK_IS_WIDGET (parent));
  g_return_if_fail (BMS_IS_CONNECTION (connection));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_password_dialog_ask_async);
  ask = g_new0 (Ask, 1);
  ask->parent = g_object_ref (parent);
  ask->connection = g_object_ref (connection);
  ask->reason = g_strdup (reason);
  g_task_set_task_data (task, ask, (GDestroyNotify) ask_free);
  show_dialog (task, NULL);
}

gboolean
bms_password_dialog_ask_finish (GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
bms_password_dialog_ask_finish_password (GAsyncResult  *result,
                                         char         **password,
                                         GError       **error)
{
  Ask *ask;

  g_return_val_if_fail (G_IS_TASK (result), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  ask = g_task_get_task_data (G_TASK (result));
  if (password != NULL)
    *password = g_strdup (ask->password);
  return TRUE;
}

typedef struct {
  GtkWidget       *widget;
  BmsPasswordFunc  func;
  gpointer         user_data;
} IfLocked;

static void
asked_if_locked (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  IfLocked *data = user_data;
  g_autofree char *password = NULL;
  gboolean ok = bms_password_dialog_ask_finish_password (result, &password, NULL);

  data->func (data->widget, ok, password, data->user_data);
  g_object_unref (data->widget);
  g_free (data);
}

void
bms_password_dialog_ask_if_locked (GtkWidget       *widget,
                                   BmsConnection   *connection,
                                   const char      *reason,
                                   BmsPasswordFunc  func,
                                   gpointer         user_data)
{
  IfLocked *data;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (BMS_IS_CONNECTION (connection));

  if (!bms_connection_get_locked (connection))
    {
      func (widget, TRUE, NULL, user_data);
      return;
    }
  data = g_new0 (IfLocked, 1);
  data->widget = g_object_ref (widget);
  data->func = func;
  data->user_data = user_data;
  bms_password_dialog_ask_async (widget, connection, reason, NULL, asked_if_locked, data);
}
