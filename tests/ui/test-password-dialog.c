/* The one password dialog, driven from the keyboard as a user does: Enter
 * with a wrong password marks the same dialog (no second one, a second
 * Enter while the board is asked sends nothing more); Enter with the right
 * one unlocks the board and closes the dialog; Cancel and Escape answer
 * once, with no use of a finished task. Runs against the simulator. */
#include "config.h"

#include "bms-password-dialog.h"
#include "page-test-util.h"

typedef struct {
  guint    answers;
  gboolean ok;
  char    *password;
  GError  *error;
} Answer;

static void
answered (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Answer *a = user_data;

  a->answers++;
  a->ok = bms_password_dialog_ask_finish_password (result, &a->password, &a->error);
}

static GList *
dialogs (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  GList *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);
      if (BMS_IS_PASSWORD_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        found = g_list_prepend (found, window);
    }
  return found;
}

static guint
n_dialogs (void)
{
  g_autoptr(GList) list = dialogs ();
  return g_list_length (list);
}

static BmsPasswordDialog *
the_dialog (void)
{
  g_autoptr(GList) list = dialogs ();

  g_assert_cmpuint (g_list_length (list), ==, 1);
  return list->data;
}

static gboolean
refused (gpointer data)
{
  return bms_password_dialog_get_problem (data) != NULL;
}

static gboolean
has_answer (gpointer data)
{
  return ((Answer *) data)->answers > 0;
}

static gboolean
no_dialog (gpointer data)
{
  return n_dialogs () == 0;
}

static GtkWidget *
parent_window (void)
{
  GtkWidget *window = gtk_window_new ();

  gtk_window_set_default_size (GTK_WINDOW (window), 640, 480);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (page_test_wait (page_test_has_size, window, 20));
  return window;
}

/* What Enter does: the text widget inside the entry emits "activate",
 * which the password entry passes on. */
static void
enter (GtkWidget *entry)
{
  g_signal_emit_by_name (gtk_editable_get_delegate (GTK_EDITABLE (entry)), "activate");
}

static void
press_enter (GtkWidget *entry,
             const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  enter (entry);
}

static void
test_wrong_then_right (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *window = parent_window ();
  Answer a = { 0 };
  BmsPasswordDialog *dialog;
  GtkWidget *entry;

  g_assert_true (bms_connection_get_locked (connection));
  bms_password_dialog_ask_async (window, connection, NULL, NULL, answered, &a);
  page_test_spin (100);
  dialog = the_dialog ();
  entry = bms_password_dialog_get_entry (dialog);

  /* Wrong, and Enter twice while the board is asked: one attempt, the same
   * dialog, marked. */
  press_enter (entry, "654321");
  enter (entry);
  g_assert_true (page_test_wait (refused, dialog, 20));
  page_test_spin (200);
  g_assert_cmpuint (n_dialogs (), ==, 1);
  g_assert_true (the_dialog () == dialog);
  g_assert_true (gtk_widget_has_css_class (entry, "error"));
  g_assert_cmpuint (a.answers, ==, 0);
  g_assert_true (bms_connection_get_locked (connection));

  /* Right, Enter: unlocked, the dialog closes, one answer with the password. */
  press_enter (entry, BMS_DEFAULT_PASSWORD);
  g_assert_true (page_test_wait (has_answer, &a, 20));
  g_assert_true (page_test_wait (no_dialog, NULL, 5));
  page_test_spin (200);
  g_assert_no_error (a.error);
  g_assert_true (a.ok);
  g_assert_cmpstr (a.password, ==, BMS_DEFAULT_PASSWORD);
  g_assert_cmpuint (a.answers, ==, 1);
  g_assert_false (bms_connection_get_locked (connection));

  g_free (a.password);
  gtk_window_destroy (GTK_WINDOW (window));
  bms_connection_disconnect (connection);
  page_test_spin (200);
}

/* Cancel after a wrong password (the leftover dialog of old) and Escape
 * both answer "cancelled" once. */
static void
test_cancel_and_escape (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *window = parent_window ();
  Answer a = { 0 }, b = { 0 };
  BmsPasswordDialog *dialog;

  bms_password_dialog_ask_async (window, connection, NULL, NULL, answered, &a);
  page_test_spin (100);
  dialog = the_dialog ();
  press_enter (bms_password_dialog_get_entry (dialog), "000000");
  g_assert_true (page_test_wait (refused, dialog, 20));
  gtk_window_close (GTK_WINDOW (dialog));   /* what Cancel does */
  g_assert_true (page_test_wait (has_answer, &a, 5));
  g_assert_true (page_test_wait (no_dialog, NULL, 5));
  g_assert_false (a.ok);
  g_assert_error (a.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  bms_password_dialog_ask_async (window, connection, NULL, NULL, answered, &b);
  page_test_spin (100);
  dialog = the_dialog ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "window.close", NULL));
  g_assert_true (page_test_wait (has_answer, &b, 5));
  g_assert_true (page_test_wait (no_dialog, NULL, 5));
  g_assert_cmpuint (b.answers, ==, 1);
  g_assert_error (b.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  page_test_spin (200);
  g_assert_cmpuint (a.answers, ==, 1);

  g_clear_error (&a.error);
  g_clear_error (&b.error);
  gtk_window_destroy (GTK_WINDOW (window));
  bms_connection_disconnect (connection);
  page_test_spin (200);
}

int
main (int argc, char *argv[])
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/password-dialog/wrong-then-right", test_wrong_then_right);
  g_test_add_func ("/password-dialog/cancel-and-escape", test_cancel_and_escape);
  return g_test_run ();
}
