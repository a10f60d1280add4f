/* test-dload-page.c — DLoad on the simulator: write a set, results per row,
 * counter and the report (identity, old → new, results; CSV and xlsx, the
 * folder remembered); a set breaking a vendor rule sends nothing. */
#include "page-test-util.h"
#include "bms-dload-page.h"
#include "bms-application.h"
#include "bms-device.h"
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
  return g_strv_length (lines) >= 3;   /* heading, one line, trailing "" */
}

static gboolean
file_exists (gpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
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
  /* Headings as in the window; one line per value: the board's identity,
   * the value before and after, the result shown, the board's result. */
  g_assert_true (g_str_has_prefix (contents, "\xEF\xBB\xBFTime,Board,Device ID,Software version,"
                                             "Address,Parameter,Old value,New value,Result,"
                                             "Board result\r\n"));
  {
    BmsDevice *device = bms_connection_get_device (connection);
    g_autofree char *identity = g_strdup_printf (",1,%s,%s,%u,", bms_device_get_device_id (device),
                                                 bms_device_get_software_version (device),
                                                 bms_device_get_address (device));
    g_auto(GStrv) lines = g_strsplit (contents, "\r\n", -1);

    g_assert_cmpuint (g_strv_length (lines), ==, 6);   /* heading, 4 values, "" */
    for (guint i = 1; i <= 4; i++)
      {
        g_assert_nonnull (strstr (lines[i], identity));
        g_assert_true (g_str_has_suffix (lines[i], ",Programmed"));
        g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC[+-]\\d\\d:\\d\\d,",
                                             lines[i], 0, 0));
      }
    g_assert_nonnull (strstr (contents, ",3650 mV,3600 mV,Written,"));       /* 0x90 old → new */
    g_assert_nonnull (strstr (contents, ",PACKWATCH-SIM,PACK-0001,Written,")); /* {n} filled in */
  }
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

  /* Another file: the boards so far are saved there at once, as a
   * workbook, and its folder is remembered for the next session. */
  {
    g_autofree char *sub = g_build_filename (dir, "line-2", NULL);
    g_autofree char *xlsx = g_build_filename (sub, "report.xlsx", NULL);
    g_autoptr(GSettings) settings = bms_settings_new ();
    g_autofree char *folder = NULL;
    GtkWidget *next = NULL;
    g_autofree char *next_dir = NULL;

    g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
    bms_dload_page_set_report_path (dload, xlsx);
    g_assert_true (page_test_wait (file_exists, xlsx, 10));
    folder = g_settings_get_string (settings, "dload-report-folder");
    g_assert_cmpstr (folder, ==, sub);
    next = g_object_ref_sink (bms_dload_page_new (connection));
    next_dir = g_path_get_dirname (bms_dload_page_get_report_path (BMS_DLOAD_PAGE (next)));
    g_assert_cmpstr (next_dir, ==, sub);
    g_assert_true (g_str_has_suffix (bms_dload_page_get_report_path (BMS_DLOAD_PAGE (next)), ".xlsx"));
    g_object_unref (next);
    g_remove (xlsx);
    g_rmdir (sub);
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
