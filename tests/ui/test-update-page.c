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

int
main (int argc, char **argv)
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/update-page/update", test_update);
  return g_test_run ();
}
