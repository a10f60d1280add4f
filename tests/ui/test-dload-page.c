/* test-dload-page.c — DLoad on the simulator: write a set, results per row,
 * counter and report file; a set breaking a vendor rule sends nothing. */
#include "page-test-util.h"
#include "bms-dload-page.h"
#include "bms-field.h"
#include "bms-profile.h"

static gboolean
not_busy (gpointer page)
{
  return !bms_dload_page_get_busy (page);
}

static char *
read_report (const char *path)
{
  char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  return contents;
}

static gboolean
report_has_lines (gpointer data)
{
  const char *path = data;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  return g_strv_length (lines) >= 3;   /* header, one board, trailing "" */
}

static void
test_program_board (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *page = bms_dload_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  BmsDloadPage *dload = BMS_DLOAD_PAGE (page);
  g_autofree char *dir = g_dir_make_tmp ("packwatch-dload-XXXXXX", NULL);
  g_autofree char *report = g_build_filename (dir, "report.csv", NULL);
  g_autofree char *contents = NULL;

  bms_dload_page_set_report_path (dload, report);
  bms_dload_page_set_value (dload, 0x90, "3600");        /* charge protection L1 */
  bms_dload_page_set_value (dload, 0x91, "3500");        /* recovery below it */
  bms_dload_page_set_value (dload, 0xAA, "120");         /* capacity */
  bms_dload_page_set_value (dload, 0xDD, "PACK-{n}");    /* Bluetooth name */
  bms_dload_page_write_board (dload);
  g_assert_true (bms_dload_page_get_busy (dload));
  g_assert_true (page_test_wait (not_busy, dload, 30));

  g_assert_cmpstr (bms_dload_page_get_result (dload, 0x90), ==, "ok");
  g_assert_cmpstr (bms_dload_page_get_result (dload, 0x91), ==, "ok");
  g_assert_cmpstr (bms_dload_page_get_result (dload, 0xAA), ==, "ok");
  g_assert_cmpstr (bms_dload_page_get_result (dload, 0xDD), ==, "ok");
  g_assert_null (bms_dload_page_get_result (dload, 0x93));   /* left empty: not touched */
  g_assert_cmpuint (bms_dload_page_get_boards_done (dload), ==, 1);

  g_assert_true (page_test_wait (report_has_lines, report, 10));
  contents = read_report (report);
  g_assert_true (g_str_has_prefix (contents, "time,device_id,board,cell_ovp2_mv"));
  g_assert_nonnull (strstr (contents, ",1,"));
  g_assert_nonnull (strstr (contents, ",ok\n"));
  page_test_save_png (window, "dload-page.png");

  /* A set that breaks a vendor rule (recovery above protection) is refused
   * whole: nothing sent, no board counted. */
  bms_dload_page_set_value (dload, 0xAA, "");
  bms_dload_page_set_value (dload, 0xDD, "");
  bms_dload_page_set_value (dload, 0x91, "3700");
  bms_dload_page_write_board (dload);
  g_assert_false (bms_dload_page_get_busy (dload));
  g_assert_cmpuint (bms_dload_page_get_boards_done (dload), ==, 1);

  /* A profile fills the portable rows; a value the board already has is
   * reported as such and the board still counts. */
  {
    g_autoptr(BmsParamSet) params = bms_param_set_new ();
    g_autoptr(BmsProfile) profile = NULL;

    bms_param_set_set_raw (params, 0x90, 3600);    /* written above */
    bms_param_set_set_raw (params, 0x99, 90);      /* charge current */
    profile = bms_profile_new (params);
    bms_dload_page_set_value (dload, 0x91, "");
    bms_dload_page_apply_profile (dload, profile);
    bms_dload_page_write_board (dload);
    g_assert_true (page_test_wait (not_busy, dload, 30));
    g_assert_cmpstr (bms_dload_page_get_result (dload, 0x90), ==, "already set");
    g_assert_cmpstr (bms_dload_page_get_result (dload, 0x99), ==, "ok");
    g_assert_cmpuint (bms_dload_page_get_boards_done (dload), ==, 2);
  }

  /* A new password is part of the change set, written last and proven by
   * unlocking with it (a blank Set cell leaves the password alone). */
  bms_dload_page_set_value (dload, 0x99, "");
  bms_dload_page_set_value (dload, 0x90, "3610");
  bms_dload_page_set_value (dload, BMS_ID_PASSWORD, "pw-3");
  bms_dload_page_write_board (dload);
  g_assert_true (page_test_wait (not_busy, dload, 30));
  g_assert_cmpstr (bms_dload_page_get_result (dload, 0x90), ==, "ok");
  g_assert_cmpstr (bms_dload_page_get_result (dload, BMS_ID_PASSWORD), ==, "ok");
  g_assert_cmpuint (bms_dload_page_get_boards_done (dload), ==, 3);
  {
    BmsSession *session = bms_connection_get_session (connection);
    g_autoptr(GError) error = NULL;

    bms_session_lock (session);
    g_assert_false (bms_session_unlock (session, BMS_DEFAULT_PASSWORD, NULL, NULL));
    g_assert_true (bms_session_unlock (session, "pw-3", NULL, &error));
    g_assert_no_error (error);
  }

  page_test_close (window, g_steal_pointer (&connection));
  g_remove (report);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/dload-page/program-board", test_program_board);
  return g_test_run ();
}
