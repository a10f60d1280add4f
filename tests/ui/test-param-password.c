/* The password gate seen from the Param page: while locked a write is
 * refused by the session and the board keeps its value; a wrong password
 * is denied; after unlocking with 123456 the same write is verified by
 * read-back. Runs the whole app on the built-in simulator. */
#include "config.h"

#include "bms-param-page.h"
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

int
main (int   argc,
      char *argv[])
{
  ui_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/param/password-gate", test_password_gate);
  return g_test_run ();
}
