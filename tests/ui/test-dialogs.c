/* The windows around the main one: Preferences (bound to the settings),
 * Keyboard Shortcuts and About open from their actions without warnings,
 * and each saves a picture. The Param edit dialog too, on the demo board. */
#include "config.h"

#include <glib/gstdio.h>

#include "bms-param-dialog.h"
#include "bms-param-set.h"
#include "bms-window.h"
#include "ui-test-util.h"

typedef struct {
  const char *action;      /* app.* or win.* */
  const char *picture;
  gboolean    demo;
  GtkWindow  *main;
  guint       frames;
  gboolean    saved;
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
try_save (gpointer user_data)
{
  Run *run = user_data;
  GtkWindow *dialog = newest_other_window (run);
  g_autofree char *path = ui_test_screenshot_path (run->picture);
  g_autoptr(GError) error = NULL;

  if (dialog == NULL || ++run->frames < 10)
    return G_SOURCE_CONTINUE;
  if (!bms_save_native_png (GTK_WIDGET (dialog), path, &error))
    {
      if (run->frames < 100)
        return G_SOURCE_CONTINUE;
      g_error ("%s", error->message);
    }
  run->saved = TRUE;
  gtk_window_destroy (dialog);
  gtk_window_close (run->main);
  return G_SOURCE_REMOVE;
}

static void
open_dialog (Run *run)
{
  GtkApplication *app = gtk_window_get_application (run->main);

  if (g_str_has_prefix (run->action, "app."))
    g_action_group_activate_action (G_ACTION_GROUP (app), run->action + 4, NULL);
  else if (g_str_has_prefix (run->action, "param."))
    {
      GtkWidget *page = bms_window_get_page_widget (BMS_WINDOW (run->main), "param");
      gtk_widget_activate_action (page, run->action, "y", (guchar) BMS_ID_CELL_OVP);
    }
  else
    gtk_widget_activate_action (GTK_WIDGET (run->main), run->action, NULL);
  g_timeout_add (50, try_save, run);
}

static void
polled (BmsConnection *connection,
        GParamSpec    *pspec,
        Run           *run)
{
  if (bms_connection_get_poll_count (connection) == 1)
    open_dialog (run);
}

static void
activated (GApplication *app,
           Run          *run)
{
  run->main = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (run->demo)
    g_signal_connect (bms_window_get_connection (BMS_WINDOW (run->main)),
                      "notify::poll-count", G_CALLBACK (polled), run);
  else
    open_dialog (run);
}

static void
test_dialog (gconstpointer data)
{
  Run run = *(const Run *) data;
  const char *demo_args[] = { "--demo", "--page", "param", NULL };
  const char *plain_args[] = { NULL };
  g_autofree char *path = ui_test_screenshot_path (run.picture);

  g_unlink (path);
  g_assert_cmpint (ui_test_run_app (run.demo ? demo_args : plain_args,
                                    G_CALLBACK (activated), &run), ==, 0);
  g_assert_true (run.saved);
  ui_test_assert_png (path, 300, 200);
}

/* A high-voltage pack protection at 0 is off, and says so instead of
 * "0.00 V" (which would read as a limit of zero); set, it is a voltage. */
static void
test_replacement_not_used (void)
{
  g_autoptr(BmsParamSet) set = bms_param_set_new ();
  const BmsFieldInfo *hv = bms_field_lookup (BMS_ID_PACK_OVP_HV);
  g_autofree char *off = NULL;
  g_autofree char *on = NULL;
  g_autofree char *public_zero = NULL;

  bms_param_set_set_raw (set, BMS_ID_PACK_OVP_HV, 0);
  off = bms_param_dialog_format_value (hv, set);
  g_assert_cmpstr (off, ==, "Not used");
  bms_param_set_set_raw (set, BMS_ID_PACK_OVP_HV, 94720);
  on = bms_param_dialog_format_value (hv, set);
  g_assert_cmpstr (on, ==, "947.20 V");
  /* A public field at 0 stays a number. */
  bms_param_set_set_raw (set, 0x9B, 0);
  public_zero = bms_param_dialog_format_value (bms_field_lookup (0x9B), set);
  g_assert_cmpstr (public_zero, !=, "Not used");
}

int
main (int   argc,
      char *argv[])
{
  static const Run runs[] = {
    { "app.preferences", "dialog-preferences", FALSE },
    { "win.show-help-overlay", "dialog-shortcuts", FALSE },
    { "app.about", "dialog-about", FALSE },
    { "param.edit", "dialog-param-edit", TRUE },
  };

  ui_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (runs); i++)
    {
      g_autofree char *name = g_strdup_printf ("/ui/dialogs/%s", runs[i].picture + 7);
      g_test_add_data_func (name, &runs[i], test_dialog);
    }
  g_test_add_func ("/ui/dialogs/replacement-not-used", test_replacement_not_used);
  return g_test_run ();
}
