/* The password gate seen from the Param page: while locked a write is
 * refused by the session and the board keeps its value; a wrong password
 * is denied; after unlocking with 123456 the same write is verified by
 * read-back. Runs the whole app on the built-in simulator. */
#include "config.h"

#include "bms-param-page.h"
#include "bms-password-dialog.h"
#include "bms-setting.h"
#include "bms-session.h"
#include "bms-window.h"
#include "ui-test-util.h"

typedef struct {
  BmsWindow     *window;
  BmsConnection *connection;
  BmsParamPage  *page;
  int            step;
  gboolean       locked_write_refused;
  gboolean       wrong_password_denied;
  gboolean       unlocked_write_ok;
  gint64         value_after_locked_write;
  char          *refusal;
} Fixture;

static void finish (Fixture *f);

static gint64
board_value (Fixture *f,
             guint8   id)
{
  const BmsSnapshot *s = bms_device_get_snapshot (bms_connection_get_device (f->connection));
  return s && bms_snapshot_has (s, id) ? bms_snapshot_get_raw (s, id) : -1;
}

static void
unlocked (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Fixture *f = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = bms_connection_unlock_finish (f->connection, result, &error);

  if (f->step == 2)
    {
      f->wrong_password_denied = !ok && g_error_matches (error, BMS_SESSION_ERROR,
                                                         BMS_SESSION_ERROR_DENIED);
      g_assert_true (bms_connection_get_locked (f->connection));
      f->step = 3;
      bms_connection_unlock_async (f->connection, "123456", NULL, unlocked, f);
      return;
    }
  g_assert_no_error (error);
  g_assert_false (bms_connection_get_locked (f->connection));
  f->step = 4;
  bms_param_page_write (f->page, BMS_ID_CELL_OVP, 3600, NULL, FALSE);
}

/* The refused write has to leave the board alone: wait for a fresh poll. */
static void
polled_after_refusal (Fixture *f)
{
  if (f->step != 1)
    return;
  f->value_after_locked_write = board_value (f, BMS_ID_CELL_OVP);
  f->step = 2;
  bms_connection_unlock_async (f->connection, "654321", NULL, unlocked, f);
}

static void
write_finished (BmsParamPage *page,
                guint         id,
                gboolean      ok,
                const char   *message,
                Fixture      *f)
{
  g_assert_cmpuint (id, ==, BMS_ID_CELL_OVP);
  if (f->step == 0)
    {
      f->locked_write_refused = !ok;
      f->refusal = g_strdup (message);
      f->step = 1;
      return;
    }
  f->unlocked_write_ok = ok && g_str_has_suffix (message, "3600 mV");
  finish (f);
}

static void
first_poll (Fixture *f)
{
  if (bms_connection_get_poll_count (f->connection) != 1)
    return;
  g_assert_true (bms_connection_get_locked (f->connection));
  g_assert_cmpint (board_value (f, BMS_ID_CELL_OVP), ==, 3650);
  bms_param_page_write (f->page, BMS_ID_CELL_OVP, 3600, NULL, FALSE);
}

static void
activated (GApplication *app,
           Fixture      *f)
{
  f->window = BMS_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  f->connection = bms_window_get_connection (f->window);
  f->page = BMS_PARAM_PAGE (bms_window_get_page_widget (f->window, "param"));
  g_signal_connect (f->page, "write-finished", G_CALLBACK (write_finished), f);
  g_signal_connect_swapped (f->connection, "notify::poll-count", G_CALLBACK (first_poll), f);
  g_signal_connect_swapped (f->connection, "notify::poll-count",
                            G_CALLBACK (polled_after_refusal), f);
}

static void
finish (Fixture *f)
{
  gtk_window_close (GTK_WINDOW (f->window));
}

static gboolean
give_up (gpointer user_data)
{
  Fixture *f = user_data;

  g_test_message ("stuck at step %d", f->step);
  finish (f);
  return G_SOURCE_REMOVE;
}

static void
test_password_gate (void)
{
  Fixture f = { 0 };
  const char *args[] = { "--demo", "--page", "param", NULL };
  guint timeout = g_timeout_add_seconds (25, give_up, &f);

  g_assert_cmpint (ui_test_run_app (args, G_CALLBACK (activated), &f), ==, 0);
  g_source_remove (timeout);
  g_test_message ("locked write: %s", f.refusal ? f.refusal : "(none)");
  g_assert_true (f.locked_write_refused);
  g_assert_nonnull (strstr (f.refusal, "not written"));
  g_assert_cmpint (f.value_after_locked_write, ==, 3650);
  g_assert_true (f.wrong_password_denied);
  g_assert_true (f.unlocked_write_ok);
  g_free (f.refusal);
}

/* ---- a chemistry preset through the dialogs, as a user would ---- */

typedef struct {
  BmsWindow     *window;
  BmsConnection *connection;
  int            step;
  char          *report;
  guint          tick;
  guint          give_up;
} Preset;

/* The shown message dialog; with want_entry, the password dialog. */
static AdwMessageDialog *
find_dialog (Preset   *p,
             gboolean  want_entry)
{
  GList *windows = gtk_window_list_toplevels ();
  AdwMessageDialog *found = NULL;

  for (GList *l = windows; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data) &&
        (g_object_get_data (l->data, "entry") != NULL) == want_entry)
      found = l->data;
  g_list_free (windows);
  return found;
}

static BmsPasswordDialog *
find_password_dialog (void)
{
  GList *windows = gtk_window_list_toplevels ();
  BmsPasswordDialog *found = NULL;

  for (GList *l = windows; l != NULL; l = l->next)
    if (BMS_IS_PASSWORD_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      found = l->data;
  g_list_free (windows);
  return found;
}

static gboolean
preset_tick (gpointer user_data)
{
  Preset *p = user_data;
  AdwMessageDialog *dialog = find_dialog (p, FALSE);
  GtkWidget *page;

  switch (p->step)
    {
    case 0:   /* data arrived: ask for the NMC preset */
      if (bms_connection_get_poll_count (p->connection) < 1)
        return G_SOURCE_CONTINUE;
      page = bms_window_get_page_widget (p->window, "param");
      gtk_widget_activate_action (page, "param.preset", "i", 1);
      p->step = 1;
      return G_SOURCE_CONTINUE;
    case 1:   /* the change set: old → new, write it */
      if (dialog == NULL)
        return G_SOURCE_CONTINUE;
      g_assert_true (adw_message_dialog_get_response_enabled (dialog, "write"));
      /* As a click does: the response, then the dialog closes. */
      adw_message_dialog_response (dialog, "write");
      gtk_window_destroy (GTK_WINDOW (dialog));
      p->step = 2;
      return G_SOURCE_CONTINUE;
    case 2:   /* the password, and Enter */
      {
        BmsPasswordDialog *password = find_password_dialog ();
        GtkWidget *entry;

        if (password == NULL)
          return G_SOURCE_CONTINUE;
        entry = bms_password_dialog_get_entry (password);
        gtk_editable_set_text (GTK_EDITABLE (entry), "123456");
        g_signal_emit_by_name (gtk_editable_get_delegate (GTK_EDITABLE (entry)), "activate");
        p->step = 3;
        return G_SOURCE_CONTINUE;
      }
    case 3:   /* the report */
      if (dialog == NULL || adw_message_dialog_get_heading (dialog) == NULL ||
          !strstr (adw_message_dialog_get_heading (dialog), "Verified"))
        return G_SOURCE_CONTINUE;
      p->report = g_strdup_printf ("%s\n%s", adw_message_dialog_get_heading (dialog),
                                   adw_message_dialog_get_body (dialog));
      adw_message_dialog_response (dialog, "close");
      gtk_window_destroy (GTK_WINDOW (dialog));
      p->step = 4;
      return G_SOURCE_CONTINUE;
    case 4:   /* a poll after the writes shows the board's new values */
      if (board_value ((Fixture *) &(Fixture) { .connection = p->connection }, BMS_ID_CELL_OVP) != 4200)
        return G_SOURCE_CONTINUE;
      p->step = 5;
      p->tick = 0;
      gtk_window_close (GTK_WINDOW (p->window));
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
preset_activated (GApplication *app,
                  Preset       *p)
{
  p->window = BMS_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  p->connection = bms_window_get_connection (p->window);
  p->tick = g_timeout_add (100, preset_tick, p);
}

static gboolean
preset_give_up (gpointer user_data)
{
  Preset *p = user_data;

  AdwMessageDialog *dialog = find_dialog (p, FALSE);

  g_test_message ("stuck at step %d; dialog: %s / %s", p->step,
                  dialog ? adw_message_dialog_get_heading (dialog) : "none",
                  dialog ? adw_message_dialog_get_body (dialog) : "");
  p->give_up = 0;
  if (p->tick != 0)
    g_source_remove (p->tick);
  p->tick = 0;
  gtk_window_close (GTK_WINDOW (p->window));
  return G_SOURCE_REMOVE;
}

static void
test_preset (void)
{
  Preset p = { 0 };
  const char *args[] = { "--demo", "--page", "param", NULL };
  p.give_up = g_timeout_add_seconds (25, preset_give_up, &p);
  g_assert_cmpint (ui_test_run_app (args, G_CALLBACK (preset_activated), &p), ==, 0);
  if (p.give_up != 0)
    g_source_remove (p.give_up);
  g_test_message ("%s", p.report ? p.report : "(no report)");
  g_assert_cmpint (p.step, ==, 5);
  g_assert_nonnull (p.report);
  g_assert_null (strstr (p.report, "✗"));
  g_free (p.report);
}

/* ---- a switch of the Normal page: asks the password, writes, settles ---- */

static GtkSwitch *
find_switch (GtkWidget *widget,
             guint8     id)
{
  BmsSetting *setting = g_object_get_data (G_OBJECT (widget), "setting");

  if (GTK_IS_SWITCH (widget) && setting != NULL && bms_setting_get_id (setting) == id)
    return GTK_SWITCH (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkSwitch *found = find_switch (child, id);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
switch_tick (gpointer user_data)
{
  Preset *p = user_data;
  Fixture f = { .connection = p->connection };
  GtkSwitch *sw;

  switch (p->step)
    {
    case 0:   /* data: flip the buzzer */
      if (bms_connection_get_poll_count (p->connection) < 1)
        return G_SOURCE_CONTINUE;
      sw = find_switch (bms_window_get_page_widget (p->window, "normal"), 0xDB);
      g_assert_nonnull (sw);
      g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (sw)));
      p->report = g_strdup (board_value (&f, 0xDB) ? "on" : "off");
      gtk_switch_set_active (sw, !gtk_switch_get_active (sw));
      p->step = 1;
      return G_SOURCE_CONTINUE;
    case 1:   /* locked: the password is asked for; typed, then Enter */
      {
        BmsPasswordDialog *password = find_password_dialog ();
        GtkWidget *entry;

        if (password == NULL)
          return G_SOURCE_CONTINUE;
        entry = bms_password_dialog_get_entry (password);
        gtk_editable_set_text (GTK_EDITABLE (entry), "123456");
        g_signal_emit_by_name (gtk_editable_get_delegate (GTK_EDITABLE (entry)), "activate");
        p->step = 2;
        return G_SOURCE_CONTINUE;
      }
    case 2:   /* the board has it, the switch shows it, the dialog is gone */
      if (find_password_dialog () != NULL)
        return G_SOURCE_CONTINUE;
      sw = find_switch (bms_window_get_page_widget (p->window, "normal"), 0xDB);
      if (board_value (&f, 0xDB) == (g_str_equal (p->report, "on") ? 1 : 0) ||
          gtk_switch_get_state (sw) != gtk_switch_get_active (sw))
        return G_SOURCE_CONTINUE;
      p->step = 3;
      p->tick = 0;
      gtk_window_close (GTK_WINDOW (p->window));
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
switch_activated (GApplication *app,
                  Preset       *p)
{
  p->window = BMS_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  p->connection = bms_window_get_connection (p->window);
  p->tick = g_timeout_add (100, switch_tick, p);
}

static void
test_switch (void)
{
  Preset p = { 0 };
  const char *args[] = { "--demo", "--page", "normal", NULL };

  p.give_up = g_timeout_add_seconds (25, preset_give_up, &p);
  g_assert_cmpint (ui_test_run_app (args, G_CALLBACK (switch_activated), &p), ==, 0);
  if (p.give_up != 0)
    g_source_remove (p.give_up);
  g_assert_cmpint (p.step, ==, 3);
  g_free (p.report);
}

int
main (int   argc,
      char *argv[])
{
  ui_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/param/password-gate", test_password_gate);
  g_test_add_func ("/ui/param/preset-nmc", test_preset);
  g_test_add_func ("/ui/normal/buzzer-switch", test_switch);
  return g_test_run ();
}
