/* bms-password-dialog.c — the one password dialog of every page.
 *
 * A window of our own rather than an AdwMessageDialog: a message dialog
 * closes itself on every response, so a wrong password used to mean a
 * second dialog on top of the first, and Enter (which only emits the
 * response) left a dialog behind whose task was already gone. Here the
 * dialog stays until the board unlocks or the user gives up; while the
 * board is asked, Enter and Unlock do nothing more; a wrong password marks
 * the entry in the same dialog.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-password-dialog.h"

struct _BmsPasswordDialog
{
  AdwWindow      parent_instance;

  BmsConnection *connection;
  GTask         *task;         /* until answered; NULL afterwards */
  GCancellable  *unlocking;    /* the unlock in flight, if any */
  GtkWidget     *entry;
  GtkWidget     *problem;
  GtkWidget     *unlock_button;
};

G_DEFINE_FINAL_TYPE (BmsPasswordDialog, bms_password_dialog, ADW_TYPE_WINDOW)

/* Answers the caller once; password NULL: the user gave up. */
static void
answer (BmsPasswordDialog *self,
        const char        *password)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  if (task == NULL)
    return;
  if (self->unlocking != NULL)
    g_cancellable_cancel (self->unlocking);
  if (password != NULL)
    {
      g_task_set_task_data (task, g_strdup (password), g_free);
      g_task_return_boolean (task, TRUE);
    }
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             _("The parameters stay locked"));
}

static void
set_busy (BmsPasswordDialog *self,
          gboolean           busy)
{
  gtk_editable_set_editable (GTK_EDITABLE (self->entry), !busy);
  gtk_widget_set_sensitive (self->unlock_button, !busy);
}

static void
unlocked (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(BmsPasswordDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = bms_connection_unlock_finish (BMS_CONNECTION (source), result, &error);
  g_autofree char *password = NULL;

  g_clear_object (&self->unlocking);
  if (self->task == NULL)
    return;   /* closed meanwhile */
  if (ok)
    {
      password = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->entry)));
      answer (self, password);
      gtk_window_set_focus (GTK_WINDOW (self), NULL);
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  set_busy (self, FALSE);
  gtk_widget_add_css_class (self->entry, "error");
  gtk_label_set_text (GTK_LABEL (self->problem), error->message);
  gtk_widget_set_visible (self->problem, TRUE);
  gtk_widget_grab_focus (self->entry);
  gtk_editable_select_region (GTK_EDITABLE (self->entry), 0, -1);
}

/* Enter and the Unlock button: one attempt at a time. */
static void
submit (BmsPasswordDialog *self)
{
  if (self->task == NULL || self->unlocking != NULL)
    return;
  self->unlocking = g_cancellable_new ();
  set_busy (self, TRUE);
  gtk_widget_remove_css_class (self->entry, "error");
  bms_connection_unlock_async (self->connection, gtk_editable_get_text (GTK_EDITABLE (self->entry)),
                               self->unlocking, unlocked, g_object_ref (self));
}

static void
cancel_clicked (BmsPasswordDialog *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

static gboolean
bms_password_dialog_close_request (GtkWindow *window)
{
  BmsPasswordDialog *self = BMS_PASSWORD_DIALOG (window);

  /* GTK 4.8's password entry follows the caps-lock state while focused and
   * can be called after the dialog is gone: drop the focus first. */
  gtk_window_set_focus (window, NULL);
  answer (self, NULL);
  return GTK_WINDOW_CLASS (bms_password_dialog_parent_class)->close_request (window);
}

static void
bms_password_dialog_dispose (GObject *object)
{
  BmsPasswordDialog *self = BMS_PASSWORD_DIALOG (object);

  answer (self, NULL);
  g_clear_object (&self->unlocking);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (bms_password_dialog_parent_class)->dispose (object);
}

static void
bms_password_dialog_class_init (BmsPasswordDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_password_dialog_dispose;
  window_class->close_request = bms_password_dialog_close_request;
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
bms_password_dialog_init (BmsPasswordDialog *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *title = gtk_label_new (_("Unlock Parameters"));
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_("_Cancel"));

  gtk_window_set_title (GTK_WINDOW (self), _("Unlock Parameters"));
  gtk_window_set_modal (GTK_WINDOW (self), TRUE);
  gtk_window_set_resizable (GTK_WINDOW (self), FALSE);
  gtk_window_set_default_size (GTK_WINDOW (self), 360, -1);
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_bottom (box, 24);
  gtk_widget_set_margin_start (box, 24);
  gtk_widget_set_margin_end (box, 24);

  gtk_widget_add_css_class (title, "title-2");
  gtk_box_append (GTK_BOX (box), title);
  g_object_set_data (G_OBJECT (self), "body", gtk_label_new (NULL));
  gtk_label_set_wrap (GTK_LABEL (g_object_get_data (G_OBJECT (self), "body")), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (g_object_get_data (G_OBJECT (self), "body")), 40);
  gtk_box_append (GTK_BOX (box), g_object_get_data (G_OBJECT (self), "body"));

  self->entry = gtk_password_entry_new ();
  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (self->entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Password"), -1);
  g_signal_connect_swapped (self->entry, "activate", G_CALLBACK (submit), self);
  gtk_box_append (GTK_BOX (box), self->entry);

  self->problem = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->problem), TRUE);
  gtk_widget_add_css_class (self->problem, "error");
  gtk_widget_set_visible (self->problem, FALSE);
  gtk_box_append (GTK_BOX (box), self->problem);

  self->unlock_button = gtk_button_new_with_mnemonic (_("_Unlock"));
  gtk_widget_add_css_class (self->unlock_button, "suggested-action");
  g_signal_connect_swapped (self->unlock_button, "clicked", G_CALLBACK (submit), self);
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (cancel_clicked), self);
  gtk_widget_set_hexpand (cancel, TRUE);
  gtk_widget_set_hexpand (self->unlock_button, TRUE);
  gtk_box_set_homogeneous (GTK_BOX (buttons), TRUE);
  gtk_box_append (GTK_BOX (buttons), cancel);
  gtk_box_append (GTK_BOX (buttons), self->unlock_button);
  gtk_box_append (GTK_BOX (box), buttons);

  adw_window_set_content (ADW_WINDOW (self), box);
}

GtkWidget *
bms_password_dialog_get_entry (BmsPasswordDialog *self)
{
  g_return_val_if_fail (BMS_IS_PASSWORD_DIALOG (self), NULL);
  return self->entry;
}

const char *
bms_password_dialog_get_problem (BmsPasswordDialog *self)
{
  g_return_val_if_fail (BMS_IS_PASSWORD_DIALOG (self), NULL);
  return gtk_widget_get_visible (self->problem) ? gtk_label_get_text (GTK_LABEL (self->problem))
                                                : NULL;
}

void
bms_password_dialog_ask_async (GtkWidget           *parent,
                               BmsConnection       *connection,
                               const char          *reason,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  BmsPasswordDialog *self;
  GtkRoot *root;

  g_return_if_fail (GTK_IS_WIDGET (parent));
  g_return_if_fail (BMS_IS_CONNECTION (connection));

  self = g_object_new (BMS_TYPE_PASSWORD_DIALOG, NULL);
  self->connection = g_object_ref (connection);
  self->task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (self->task, bms_password_dialog_ask_async);
  gtk_label_set_text (g_object_get_data (G_OBJECT (self), "body"),
                      reason ? reason : _("Changing parameters needs the board's parameter "
                                          "password (123456 unless it was changed)."));
  root = gtk_widget_get_root (parent);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (self), GTK_WINDOW (root));
  gtk_window_present (GTK_WINDOW (self));
  gtk_widget_grab_focus (self->entry);
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
  g_return_val_if_fail (G_IS_TASK (result), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (password != NULL)
    *password = g_strdup (g_task_get_task_data (G_TASK (result)));
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
