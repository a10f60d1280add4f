/* The Report action: Ctrl+P and the main menu open the form over the demo
 * board, its range defaults to this connection, and the PDF it writes on
 * the worker holds what the form said. */
#include "config.h"

#include <glib/gstdio.h>

#include "bms-report-dialog.h"
#include "bms-window.h"
#include "ui-test-util.h"

typedef struct {
  GtkWindow *main;
  GtkWidget *form;
  GtkWidget *progress;
  char      *path;
  gboolean   written;
  guint      ticks;
} Run;

static GtkWindow *
newest_other_window (Run *run)
{
  GList *windows = gtk_window_list_toplevels ();
  GtkWindow *found = NULL;

  for (GList *l = windows; l != NULL; l = l->next)
    if (l->data != run->main && gtk_widget_get_mapped (l->data))
      found = l->data;
  g_list_free (windows);
  return found;
}

static gboolean
wait_written (gpointer user_data)
{
  Run *run = user_data;
  const char *heading = adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (run->progress));

  if (g_strcmp0 (heading, "Report Written") != 0)
    {
      g_assert_cmpstr (heading, !=, "The Report Was Not Written");
      g_assert_cmpuint (++run->ticks, <, 600);   /* 60 s */
      return G_SOURCE_CONTINUE;
    }
  run->written = TRUE;
  gtk_window_destroy (GTK_WINDOW (run->progress));
  gtk_window_destroy (GTK_WINDOW (run->form));
  gtk_window_close (run->main);
  return G_SOURCE_REMOVE;
}

static gboolean
fill_form (gpointer user_data)
{
  Run *run = user_data;
  g_autoptr(GFile) file = g_file_new_for_path (run->path);
  GtkWidget *range;

  run->form = GTK_WIDGET (newest_other_window (run));
  if (run->form == NULL)
    return G_SOURCE_CONTINUE;
  g_assert_true (ADW_IS_MESSAGE_DIALOG (run->form));
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (run->form)), ==,
                   "Service Report");
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (run->form), "save"));
  range = bms_report_dialog_get_field (run->form, "range");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (range)), ==,
                    BMS_REPORT_RANGE_CONNECTION);
  gtk_editable_set_text (GTK_EDITABLE (bms_report_dialog_get_field (run->form, "technician")),
                         "Zhang San");
  gtk_editable_set_text (GTK_EDITABLE (bms_report_dialog_get_field (run->form, "site")),
                         "Cabinet 4");
  run->progress = bms_report_dialog_write_to (run->form, file);
  g_assert_true (ADW_IS_MESSAGE_DIALOG (run->progress));
  g_timeout_add (100, wait_written, run);
  return G_SOURCE_REMOVE;
}

/* The window's main menu (a GtkMenuButton with a menu model). */
static GMenuModel *
find_menu (GtkWidget *widget)
{
  if (GTK_IS_MENU_BUTTON (widget) && gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (widget)))
    return gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (widget));
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GMenuModel *menu = find_menu (c);
      if (menu)
        return menu;
    }
  return NULL;
}

static gboolean
menu_has_action (GMenuModel *menu,
                 const char *action)
{
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autofree char *name = NULL;
      g_autoptr(GMenuModel) section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);

      if (section && menu_has_action (section, action))
        return TRUE;
      if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_ACTION, "s", &name)
          && g_str_equal (name, action))
        return TRUE;
    }
  return FALSE;
}

static void
polled (BmsConnection *connection,
        GParamSpec    *pspec,
        Run           *run)
{
  /* A few samples in the demo's history first. */
  if (bms_connection_get_poll_count (connection) != 3)
    return;
  g_assert_true (menu_has_action (find_menu (GTK_WIDGET (run->main)), "win.report"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (run->main), "win.report", NULL));
  g_timeout_add (100, fill_form, run);
}

static void
activated (GApplication *app,
           Run          *run)
{
  run->main = gtk_application_get_active_window (GTK_APPLICATION (app));
  g_signal_connect (bms_window_get_connection (BMS_WINDOW (run->main)),
                    "notify::poll-count", G_CALLBACK (polled), run);
}

static void
test_write (void)
{
  const char *args[] = { "--demo", NULL };
  g_autofree char *dir = g_dir_make_tmp ("report-dialog-XXXXXX", NULL);
  Run run = { .path = g_build_filename (dir, "report.pdf", NULL) };
  g_autofree char *contents = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;

  g_assert_cmpint (ui_test_run_app (args, G_CALLBACK (activated), &run), ==, 0);
  g_assert_true (run.written);
  g_assert_true (g_file_get_contents (run.path, &contents, &length, NULL));
  g_assert_true (g_str_has_prefix (contents, "%PDF-"));
  if (g_find_program_in_path ("pdftotext"))
    {
      const char *argv[] = { "pdftotext", run.path, "-", NULL };
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                   &text, NULL, NULL, NULL));
      g_assert_nonnull (strstr (text, "Zhang San"));
      g_assert_nonnull (strstr (text, "Cabinet 4"));
      g_assert_nonnull (strstr (text, "Service report"));
    }
  g_unlink (run.path);
  g_rmdir (dir);
  g_free (run.path);
}

static void
test_range (void)
{
  gint64 now = G_GINT64_CONSTANT (1767225600000000), from, to;
  gint64 hour = G_GINT64_CONSTANT (3600000000);

  bms_report_dialog_range (BMS_REPORT_RANGE_CONNECTION, now - 2 * hour, now, &from, &to);
  g_assert_cmpint (from, ==, now - 2 * hour);
  g_assert_cmpint (to, ==, now);
  /* Not connected: the last day. */
  bms_report_dialog_range (BMS_REPORT_RANGE_CONNECTION, 0, now, &from, &to);
  g_assert_cmpint (from, ==, now - 24 * hour);
  bms_report_dialog_range (BMS_REPORT_RANGE_WEEK, now - hour, now, &from, &to);
  g_assert_cmpint (from, ==, now - 7 * 24 * hour);
}

int
main (int   argc,
      char *argv[])
{
  ui_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/report/range", test_range);
  g_test_add_func ("/ui/report/write", test_write);
  return g_test_run ();
}
