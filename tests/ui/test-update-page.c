/* test-update-page.c — the Update page on the simulator: a bad file is
 * refused before the board is touched; a good one goes through every step
 * and the board reports the new version. */
#include "page-test-util.h"
#include "bms-update-page.h"
#include "bms-firmware.h"

static gboolean
not_busy (gpointer page)
{
  return !bms_update_page_get_busy (page);
}

static char *
write_image (const char *dir,
             const char *name,
             gsize       size,
             const char *version)
{
  g_autofree guint8 *data = g_malloc (size);
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *marker = version ? g_strconcat (BMS_FIRMWARE_VERSION_MARKER, version, NULL) : NULL;

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 7 + 3);
  if (marker)
    {
      memcpy (data + 64, marker, strlen (marker));
      data[64 + strlen (marker)] = 0;   /* the version ends here */
    }
  if (size >= 8)
    bms_firmware_stamp_vectors (data, size);
  g_assert_true (g_file_set_contents (path, (const char *) data, size, NULL));
  return path;
}

static void
test_update (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *page = bms_update_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  BmsUpdatePage *update = BMS_UPDATE_PAGE (page);
  g_autofree char *dir = g_dir_make_tmp ("packwatch-update-XXXXXX", NULL);
  g_autofree char *empty = write_image (dir, "empty.bin", 0, NULL);
  g_autofree char *good = write_image (dir, "fw-2.1.0.bin", 3000, "PW-2.1.0");

  /* Step 1 refuses an empty file: nothing may start. */
  bms_update_page_set_file (update, empty);
  g_assert_true (page_test_wait (not_busy, update, 10));
  g_assert_false (bms_update_page_get_file_ok (update));

  bms_update_page_set_file (update, good);
  g_assert_true (page_test_wait (not_busy, update, 10));
  g_assert_true (bms_update_page_get_file_ok (update));

  bms_update_page_start_update (update, BMS_DEFAULT_PASSWORD);
  g_assert_true (bms_update_page_get_busy (update));
  g_assert_true (page_test_wait (not_busy, update, 60));
  g_test_message ("result: %s", bms_update_page_get_result (update));
  g_assert_nonnull (strstr (bms_update_page_get_result (update), "version PW-2.1.0"));
  page_test_save_png (window, "update-page.png");

  /* Resume on a board that is not in its bootloader (a fresh simulator
   * behind sim://): step 4 fails with a message, nothing hangs, and the
   * connection comes back afterwards. */
  gtk_switch_set_active (g_object_get_data (G_OBJECT (page), "resume-switch"), TRUE);
  bms_update_page_start_update (update, NULL);
  g_assert_true (bms_update_page_get_busy (update));
  g_assert_true (page_test_wait (not_busy, update, 90));
  g_test_message ("resume result: %s", bms_update_page_get_result (update));
  g_assert_nonnull (strstr (bms_update_page_get_result (update), "No bootloader answered"));
  g_assert_true (page_test_wait (page_test_has_snapshot, connection, 20));

  page_test_close (window, g_steal_pointer (&connection));
  g_remove (empty);
  g_remove (good);
  g_rmdir (dir);
}

static AdwMessageDialog *
find_dialog (gboolean force)
{
  GList *windows = gtk_window_list_toplevels ();
  AdwMessageDialog *found = NULL;

  for (GList *l = windows; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data)
        && (g_object_get_data (l->data, "force-dialog") != NULL) == force)
      found = l->data;
  g_list_free (windows);
  return found;
}

static gboolean
has_dialog (gpointer force)
{
  return find_dialog (GPOINTER_TO_INT (force)) != NULL;
}

static gboolean
history_ready (gpointer data)
{
  return bms_connection_get_history (data) != NULL
         && bms_connection_get_history_device_id (data) > 0;
}

/* A PNG renamed .bin: refused at step 1 with the reason; only a deliberate
 * "Flash Anyway" sends it, and the audit trail says it was forced. */
static void
test_not_an_image (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *page = bms_update_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  BmsUpdatePage *update = BMS_UPDATE_PAGE (page);
  g_autofree char *dir = g_dir_make_tmp ("packwatch-update-XXXXXX", NULL);
  g_autofree char *png = write_image (dir, "photo.bin", 3000, NULL);
  g_autofree char *db = g_build_filename (dir, "history.db", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;
  AdwMessageDialog *dialog;
  BmsHistoryAudit *row;
  gsize len = 0;

  bms_connection_open_history (connection, db, 0);
  g_assert_true (page_test_wait (history_ready, connection, 20));
  g_assert_true (g_file_get_contents (png, &contents, &len, NULL));
  memcpy (contents, "\x89PNG\r\n\x1a\n", 8);
  g_assert_true (g_file_set_contents (png, contents, (gssize) len, NULL));

  bms_update_page_set_file (update, png);
  g_assert_true (page_test_wait (not_busy, update, 10));
  g_assert_false (bms_update_page_get_file_ok (update));
  /* Without the confirmation nothing starts. */
  bms_update_page_start_update (update, BMS_DEFAULT_PASSWORD);
  g_assert_false (bms_update_page_get_busy (update));

  /* The button asks first, naming what is wrong. */
  gtk_widget_activate_action (page, "update.start", NULL);
  g_assert_true (page_test_wait (has_dialog, GINT_TO_POINTER (TRUE), 10));
  dialog = find_dialog (TRUE);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "0x474E5089"));
  g_assert_cmpint (adw_message_dialog_get_response_appearance (dialog, "force"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);
  g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "cancel");
  adw_message_dialog_response (dialog, "force");
  gtk_window_destroy (GTK_WINDOW (dialog));
  /* Then the usual confirmation; the test starts through the API instead. */
  g_assert_true (page_test_wait (has_dialog, GINT_TO_POINTER (FALSE), 10));
  dialog = find_dialog (FALSE);
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));

  bms_update_page_start_update (update, BMS_DEFAULT_PASSWORD);
  g_assert_true (bms_update_page_get_busy (update));
  g_assert_true (page_test_wait (not_busy, update, 90));
  g_test_message ("forced result: %s", bms_update_page_get_result (update));

  g_assert_true (bms_history_flush (bms_connection_get_history (connection), &error));
  g_assert_no_error (error);
  rows = bms_history_query_audit (bms_connection_get_history (connection), 0, 0, G_MAXINT64, 0,
                                  &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, >=, 1);
  row = g_ptr_array_index (rows, rows->len - 1);
  g_assert_cmpstr (row->field, ==, "firmware");
  g_assert_nonnull (strstr (row->result, "photo.bin, 3000 bytes, CRC-32 "));
  g_assert_nonnull (strstr (row->result, "FORCED past the image check: not a firmware image"));
  g_assert_cmpstr (row->old_value, !=, "unknown");

  page_test_close (window, g_steal_pointer (&connection));
  g_remove (png);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *file = g_strconcat (db, (const char *[]) { "", "-wal", "-shm" }[i], NULL);
      g_remove (file);
    }
  g_rmdir (dir);
}

/* The spin button next to the row titled title. */
static GtkSpinButton *
find_spin (GtkWidget  *widget,
           const char *title)
{
  if (ADW_IS_ACTION_ROW (widget)
      && g_str_has_prefix (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title))
    {
      GtkWidget *target = adw_action_row_get_activatable_widget (ADW_ACTION_ROW (widget));
      return GTK_IS_SPIN_BUTTON (target) ? GTK_SPIN_BUTTON (target) : NULL;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkSpinButton *spin = find_spin (c, title);
      if (spin != NULL)
        return spin;
    }
  return NULL;
}

static void
unlocked (GObject *source, GAsyncResult *result, gpointer done)
{
  g_assert_true (bms_connection_unlock_finish (BMS_CONNECTION (source), result, NULL));
  *(gboolean *) done = TRUE;
}

static gboolean
is_true (gpointer flag)
{
  return *(gboolean *) flag;
}

typedef struct {
  BmsConnection *connection;
  double         want;
} BoardValue;

static gboolean
board_has (gpointer data)
{
  BoardValue *v = data;
  const BmsSnapshot *s = bms_device_get_snapshot (bms_connection_get_device (v->connection));

  return s != NULL && bms_snapshot_get (s, bms_field_lookup_name ("cell_diff_protect_mv")->id) == v->want;
}

/* A settings row shows the board's value, and its Write button writes the
 * field its row names (through the page's settings, not a field id). */
static void
test_service_settings (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *page = bms_update_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  const BmsSnapshot *s = bms_device_get_snapshot (bms_connection_get_device (connection));
  const BmsFieldInfo *diff = bms_field_lookup_name ("cell_diff_protect_mv");
  GtkSpinButton *spin = find_spin (page, "_Voltage difference");
  BoardValue v = { connection, 0 };
  gboolean done = FALSE;

  g_assert_nonnull (spin);
  g_assert_cmpfloat (gtk_spin_button_get_value (spin), ==, bms_snapshot_get (s, diff->id));

  v.want = bms_snapshot_get (s, diff->id) == 500 ? 600 : 500;
  bms_connection_unlock_async (connection, BMS_DEFAULT_PASSWORD, NULL, unlocked, &done);
  g_assert_true (page_test_wait (is_true, &done, 20));
  gtk_spin_button_set_value (spin, v.want);
  g_assert_true (gtk_widget_activate_action (page, "update.write-field", "s", "cell_diff_protect_mv"));
  g_assert_true (page_test_wait (board_has, &v, 30));
  page_test_close (window, g_steal_pointer (&connection));
}

int
main (int argc, char **argv)
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/update-page/update", test_update);
  g_test_add_func ("/update-page/not-an-image", test_not_an_image);
  g_test_add_func ("/update-page/service-settings", test_service_settings);
  return g_test_run ();
}
