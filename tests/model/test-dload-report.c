/* test-dload-report.c — BmsDloadReport: the CSV and the .xlsx hold the
 * headings, the local time with its offset, the board's identity, old →
 * new values and results; headings follow the interface language; saves
 * replace the file whole. */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <glib/gstdio.h>
#include <glib/gi18n-lib.h>

#include "bms-dload-report.h"

static const char *csv_heading = "Time,Board,Device ID,Software version,Address,Parameter,Old "
                                 "value,New value,Result,Board result";

/* 2026-03-01 04:05:06 UTC, which is 12:05:06 in Shanghai (TZ below). */
static BmsDloadReport *
make_report (void)
{
  g_autoptr (GDateTime) t1 = g_date_time_new_utc (2026, 3, 1, 4, 5, 6);
  g_autoptr (GDateTime) t2 = g_date_time_add_minutes (t1, 3);
  BmsDloadReport *report = bms_dload_report_new ();

  bms_dload_report_begin_board (report, t1, "JK-B2A24S-001", "V15.17", 1);
  bms_dload_report_add_value (report, "Cell OVP (mV)", "3650", "3600", "Written");
  bms_dload_report_add_value (report, "Capacity (Ah)", "100", "120", "Read back 110, not 120");
  bms_dload_report_end_board (report, FALSE);
  bms_dload_report_begin_board (report, t2, "JK-B2A24S-002", "V15.17", 2);
  bms_dload_report_end_board (report, TRUE);
  return report;
}

static char *
tmp_path (const char *name)
{
  g_autofree char *dir = g_dir_make_tmp ("test-dload-report-XXXXXX", NULL);

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static void
remove_path (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_assert_cmpint (g_rmdir (dir), ==, 0); /* no temporary file left behind */
}

static void
test_csv (void)
{
  g_autoptr (BmsDloadReport) report = make_report ();
  g_autofree char *path = tmp_path ("report.csv");
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (bms_dload_report_get_n_boards (report), ==, 2);
  g_assert_true (bms_dload_report_save (report, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "\xEF\xBB\xBF"));
  lines = g_strsplit (text + 3, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5); /* heading, 3 lines, "" */
  g_assert_cmpstr (lines[0], ==, csv_heading);
  g_assert_cmpstr (lines[1], ==,
                   "2026-03-01 12:05:06 UTC+08:00,1,JK-B2A24S-001,V15.17,1,"
                   "Cell OVP (mV),3650,3600,Written,Failed");
  g_assert_cmpstr (lines[2], ==,
                   "2026-03-01 12:05:06 UTC+08:00,1,JK-B2A24S-001,V15.17,1,"
                   "Capacity (Ah),100,120,\"Read back 110, not 120\",Failed");
  g_assert_cmpstr (lines[3], ==,
                   "2026-03-01 12:08:06 UTC+08:00,2,JK-B2A24S-002,V15.17,2,"
                   ",,,Nothing to write,Programmed");
  g_assert_cmpstr (lines[4], ==, "");
  remove_path (path);
}

static void
check_xlsx (const char *path, const char *expect_json)
{
  const char *root = g_getenv ("PACKWATCH_SOURCE_ROOT");
  g_autofree char *script
      = g_build_filename (root ? root : ".", "tests", "model", "check-xlsx.py", NULL);
  const char *argv[] = { "/usr/bin/python3", script, path, expect_json, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!g_file_test (script, G_FILE_TEST_IS_REGULAR))
    {
      g_test_skip ("check-xlsx.py not found: run under meson test");
      return;
    }
  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  g_test_message ("%s%s", out, err);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("openpyxl disagrees with %s:\n%s", path, err);
}

static void
test_xlsx (void)
{
  g_autoptr (BmsDloadReport) report = make_report ();
  g_autofree char *path = tmp_path ("report.xlsx");
  g_autoptr (GError) error = NULL;

  g_assert_true (bms_dload_report_save (report, path, &error));
  g_assert_no_error (error);
  check_xlsx (path, "{\"sheets\": {\"DLoad\": 4}, \"values\": ["
                    "[\"DLoad\", \"A1\", \"Time\"], [\"DLoad\", \"G1\", \"Old value\"],"
                    "[\"DLoad\", \"H1\", \"New value\"], [\"DLoad\", \"I1\", \"Result\"],"
                    "[\"DLoad\", \"A2\", \"2026-03-01 12:05:06 UTC+08:00\"],"
                    "[\"DLoad\", \"B3\", 1.0], [\"DLoad\", \"C3\", \"JK-B2A24S-001\"],"
                    "[\"DLoad\", \"D3\", \"V15.17\"], [\"DLoad\", \"E4\", 2.0],"
                    "[\"DLoad\", \"F3\", \"Capacity (Ah)\"], [\"DLoad\", \"G3\", \"100\"],"
                    "[\"DLoad\", \"H3\", \"120\"], [\"DLoad\", \"I3\", \"Read back 110, not 120\"],"
                    "[\"DLoad\", \"J2\", \"Failed\"], [\"DLoad\", \"J4\", \"Programmed\"]]}");
  remove_path (path);
}

/* A later save replaces the file; a save into a folder that does not exist
 * says which file. */
static void
test_replace (void)
{
  g_autoptr (BmsDloadReport) report = make_report ();
  g_autofree char *path = tmp_path ("report.csv");
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (bms_dload_report_save (report, path, NULL));
  bms_dload_report_begin_board (report, NULL, "JK-3", "V15.17", 3);
  bms_dload_report_add_value (report, "Bluetooth name", "OLD", "PACK-0003", "Written");
  bms_dload_report_end_board (report, TRUE);
  g_assert_true (bms_dload_report_save (report, path, NULL));
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (
      strstr (text, ",3,JK-3,V15.17,3,Bluetooth name,OLD,PACK-0003,Written,Programmed\r\n"));
  g_assert_true (g_str_has_suffix (text, "Programmed\r\n"));
  remove_path (path);

  g_assert_false (bms_dload_report_save (report, "/nonexistent-dir/report.csv", &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent-dir"));
}

static void
on_saved (GObject *source, GAsyncResult *result, gpointer data)
{
  guint *pending = data;
  g_autoptr (GError) error = NULL;

  g_assert_true (bms_dload_report_save_finish (BMS_DLOAD_REPORT (source), result, &error));
  g_assert_no_error (error);
  (*pending)--;
}

/* Overlapping saves end with the newest content in the file. */
static void
test_async (void)
{
  g_autoptr (BmsDloadReport) report = bms_dload_report_new ();
  g_autofree char *path = tmp_path ("report.xlsx");
  g_autofree char *csv = g_strdup (path);
  guint pending = 0;

  strcpy (csv + strlen (csv) - 4, "csv");
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *id = g_strdup_printf ("JK-%u", i + 1);
      bms_dload_report_begin_board (report, NULL, id, "V15.17", 1);
      bms_dload_report_end_board (report, TRUE);
      bms_dload_report_save_async (report, csv, NULL, on_saved, &pending);
      pending++;
    }
  while (pending > 0)
    g_main_context_iteration (NULL, TRUE);
  {
    g_autofree char *text = NULL;
    g_auto (GStrv) lines = NULL;

    g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
    lines = g_strsplit (text, "\r\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 22);
    g_assert_nonnull (strstr (lines[20], ",20,JK-20,"));
  }
  remove_path (csv);
}

/* Headings in the interface language (the catalogue built in build/po). */
static void
test_translated (void)
{
  const char *build = g_getenv ("PACKWATCH_BUILD_ROOT");
  g_autofree char *po = g_build_filename (build ? build : ".", "po", NULL);
  g_autofree char *mo = g_build_filename (po, "zh_CN", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  g_autoptr (BmsDloadReport) report = make_report ();
  g_autofree char *path = tmp_path ("report.csv");
  g_autofree char *text = NULL;

  if (!g_file_test (mo, G_FILE_TEST_EXISTS) || !setlocale (LC_ALL, "C.UTF-8"))
    {
      g_test_skip ("no zh_CN catalogue in the build tree or no C.UTF-8 locale");
      return;
    }
  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  bindtextdomain (GETTEXT_PACKAGE, po);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  g_assert_true (bms_dload_report_save (report, path, NULL));
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_unsetenv ("LANGUAGE");
  setlocale (LC_ALL, "C");
  g_assert_true (g_str_has_prefix (text, "\xEF\xBB\xBF"
                                         "时间,"));
  g_assert_null (strstr (text, "Old value"));
  remove_path (path);
}

int
main (int argc, char *argv[])
{
  /* Before anything reads the local zone: a zone with an offset. */
  g_setenv ("TZ", "Asia/Shanghai", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dload-report/csv", test_csv);
  g_test_add_func ("/dload-report/xlsx", test_xlsx);
  g_test_add_func ("/dload-report/replace", test_replace);
  g_test_add_func ("/dload-report/async", test_async);
  g_test_add_func ("/dload-report/translated", test_translated);
  return g_test_run ();
}
