/* test-export.c — BmsExport: .xlsx read back by openpyxl (sheets, rows,
 * dates, the chart), sheet split at a lowered row limit, CSV, and an
 * interrupted, killed or disk-full export leaving the old file whole. */
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <glib/gstdio.h>

#include "bms-export.h"

#define SEC   G_GINT64_CONSTANT (1000000)
#define T0_US G_GINT64_CONSTANT (1767225600000000) /* 2026-01-01 00:00 UTC */
#define OLD_CONTENT "an earlier export that must survive\n"

typedef struct {
  char       *dir;
  char       *out;
  BmsHistory *history;
  gint64      dev;
} Fixture;

static BmsSnapshot *
make_snapshot (gint64 t_us, guint i, guint n_cells)
{
  BmsSnapshot *s = bms_snapshot_new ();
  guint16 cells[BMS_MAX_CELLS];
  guint32 sum = 0;

  s->timestamp_us = t_us;
  for (guint c = 0; c < n_cells; c++)
    sum += cells[c] = 3300 + (c * 7 + i) % 20;
  bms_snapshot_set_cells (s, cells, n_cells);
  bms_snapshot_set_raw (s, BMS_ID_PACK_VOLTAGE, sum / 10);
  bms_snapshot_set_raw (s, BMS_ID_CURRENT, (gint64) (i % 200) * 50 - 5000);
  bms_snapshot_set_raw (s, BMS_ID_SOC, 50 + i % 10);
  bms_snapshot_set_raw (s, BMS_ID_MOSFET_TEMP, 30);
  bms_snapshot_set_raw (s, BMS_ID_STATUS, 0x0b);
  return s;
}

static void
fill (BmsHistory *h, gint64 dev, guint n, guint n_cells)
{
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (batch, make_snapshot (T0_US + 17 * SEC + i * SEC, i, n_cells));
  bms_history_append_batch (h, dev, (const BmsSnapshot *const *) batch->pdata, batch->len);
  g_assert_true (bms_history_flush (h, &error));
}

static void
open_history (Fixture *f, const char *dir, guint n, guint n_cells)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db = g_build_filename (dir, "history.db", NULL);

  f->history = bms_history_new (db, &error);
  g_assert_no_error (error);
  f->dev = bms_history_ensure_device (f->history, "/dev/ttyUSB0:1", "Garage pack", &error);
  g_assert_no_error (error);
  if (n)
    fill (f->history, f->dev, n, n_cells);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("export-XXXXXX", &error);
  g_assert_no_error (error);
  f->out = g_build_filename (f->dir, "out.xlsx", NULL);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *p = g_build_filename (path, name, NULL);
      g_unlink (p);
    }
  g_rmdir (path);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->history);
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->out);
}

static char *
local_time (gint64 t_us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_local (t_us / SEC);
  return g_date_time_format (dt, "%Y-%m-%d %H:%M:%S");
}

static void
check_xlsx (const char *path, const char *expect_json)
{
  const char *root = g_getenv ("PACKWATCH_SOURCE_ROOT");
  g_autofree char *script = g_build_filename (root ? root : ".", "tests", "model",
                                              "check-xlsx.py", NULL);
  const char *argv[] = { "/usr/bin/python3", script, path, expect_json, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!g_file_test (script, G_FILE_TEST_IS_REGULAR))
    {
      g_test_skip ("check-xlsx.py not found: run under meson test or from the source root");
      return;
    }
  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("no /usr/bin/python3 (install python3 and python3-openpyxl)");
      return;
    }
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  g_test_message ("%s%s", out, err);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("openpyxl disagrees with %s:\n%s", path, err);
}

static void
add_events (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  bms_history_add_alarm_event (f->history, f->dev, T0_US + 30 * SEC, "cell_ovp", TRUE,
                               3.66, 3.65, "Cell 3 over-voltage");
  bms_history_add_alarm_event (f->history, f->dev, T0_US + 90 * SEC, "cell_ovp", FALSE,
                               3.55, 3.60, "Cell 3 over-voltage, \"cleared\"");
  bms_history_add_audit (f->history, f->dev, T0_US + 60 * SEC, "cell_ovp", "3650", "3600", "ok");
  g_assert_true (bms_history_flush (f->history, &error));
}

static void
test_xlsx (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsExport) ex = NULL;
  g_autofree char *first = local_time (T0_US + 17 * SEC);
  g_autofree char *expect = NULL;
  guint64 last_rows = 0;

  open_history (f, f->dir, 500, 16);
  add_events (f);
  ex = bms_export_new (f->history);
  g_assert_cmpint (bms_export_format_for_path (f->out), ==, BMS_EXPORT_FORMAT_XLSX);
  g_assert_true (bms_export_write (ex, f->out, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  (void) last_rows;

  /* 500 samples + header; the Chart sheet holds 2 rows per bucket. */
  expect = g_strdup_printf (
    "{\"sheets\": {\"Summary\": null, \"Samples\": 501, \"Cells\": 501, \"Alarms\": 3,"
    "  \"Audit\": 2, \"Health\": 17, \"Chart\": null},"
    " \"dates\": [[\"Samples\", \"A2\", \"%s\"], [\"Cells\", \"A2\", \"%s\"],"
    "             [\"Chart\", \"A2\", \"%s\"]],"
    " \"values\": [[\"Cells\", \"R1\", \"Cell 16 (V)\"], [\"Cells\", \"C2\", 3.3],"
    "              [\"Cells\", \"R2\", 3.305], [\"Samples\", \"B2\", \"Garage pack\"],"
    "              [\"Samples\", \"D2\", -50.0], [\"Samples\", \"E2\", 50],"
    "              [\"Samples\", \"J2\", 1], [\"Alarms\", \"D2\", \"raised\"],"
    "              [\"Alarms\", \"G3\", \"Cell 3 over-voltage, \\\"cleared\\\"\"],"
    "              [\"Audit\", \"E2\", \"3600\"], [\"Summary\", \"A1\", \"Packwatch history export\"],"
    "              [\"Chart\", \"D1\", \"SOC (%%)\"], [\"Chart\", \"D2\", 50],"
    "              [\"Health\", \"C1\", \"Resistance (mΩ)\"], [\"Health\", \"A2\", \"Garage pack\"],"
    "              [\"Health\", \"B17\", 16], [\"Health\", \"I1\", \"Reasons\"]],"
    " \"charts\": 5, \"chart_y\": {\"SOC\": [0, 100]},"
    " \"chart_titles\": [\"Pack voltage\", \"Current\", \"SOC\", \"Temperatures\","
    "                    \"Lowest and highest cell\"]}", first, first, first);
  check_xlsx (f->out, expect);
}

static void
test_split (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsExport) ex = NULL;
  g_autofree char *first = local_time (T0_US + 17 * SEC);
  g_autofree char *second = local_time (T0_US + 117 * SEC);
  g_autofree char *expect = NULL;

  open_history (f, f->dir, 250, 8);
  ex = bms_export_new (f->history);
  g_assert_false (bms_export_set_max_rows_per_sheet (ex, 2, &error));
  g_assert_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (bms_export_set_max_rows_per_sheet (ex, 101, &error));
  g_assert_true (bms_export_write (ex, f->out, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  expect = g_strdup_printf (
    "{\"sheets\": {\"Summary\": null, \"Samples\": 101, \"Samples (2)\": 101,"
    "  \"Samples (3)\": 51, \"Cells\": 101, \"Cells (2)\": 101, \"Cells (3)\": 51,"
    "  \"Alarms\": 1, \"Audit\": 1, \"Health\": 9, \"Chart\": null},"
    " \"dates\": [[\"Samples\", \"A2\", \"%s\"], [\"Samples (2)\", \"A2\", \"%s\"]],"
    " \"values\": [[\"Cells (3)\", \"J1\", \"Cell 8 (V)\"]],"
    " \"charts\": 5}", first, second);
  check_xlsx (f->out, expect);
}

static void
test_csv (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsExport) ex = NULL;
  g_autofree char *csv = g_build_filename (f->dir, "out.csv", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL, header = NULL, row = NULL;

  open_history (f, f->dir, 120, 16);
  ex = bms_export_new (f->history);
  g_assert_cmpint (bms_export_format_for_path ("x.CSV"), ==, BMS_EXPORT_FORMAT_CSV);
  bms_export_set_format (ex, BMS_EXPORT_FORMAT_CSV);
  bms_export_set_range (ex, T0_US + 20 * SEC, T0_US + 79 * SEC);
  g_assert_true (bms_export_write (ex, csv, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 1 + 60 + 1);   /* header, rows, "" */
  header = g_strsplit (lines[0], ",", -1);
  g_assert_cmpuint (g_strv_length (header), ==, 15 + 16);
  g_assert_cmpstr (header[2], ==, "pack_voltage_v");
  g_assert_cmpstr (header[30], ==, "cell_16_v");
  row = g_strsplit (lines[1], ",", -1);
  g_assert_cmpuint (g_strv_length (row), ==, 31);
  g_assert_cmpstr (row[1], ==, "Garage pack");
  g_assert_cmpstr (row[3], ==, "-48.50");   /* i = 3: 3 × 50 − 5000 centiamps */
  g_assert_cmpstr (row[15], ==, "3.303");
  g_assert_true (g_str_has_suffix (row[0], ":00") || strchr (row[0], 'Z') || strchr (row[0], '+'));
  {
    g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (row[0], NULL);
    g_assert_nonnull (dt);
    g_assert_cmpint (g_date_time_to_unix (dt), ==, (T0_US + 20 * SEC) / SEC);
  }
}

/* A 256-cell master: 0x83 stops at 655.35 V, the CSV's pack_voltage_v is
 * the pack's voltage from 0xED (bms_snapshot_pack_voltage_id decides). */
static void
test_csv_high_voltage (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsExport) ex = NULL;
  g_autoptr (BmsSnapshot) s = make_snapshot (T0_US + SEC, 0, 256);
  g_autofree char *csv = g_build_filename (f->dir, "hv.csv", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL, row = NULL;
  const BmsSnapshot *one[] = { s };

  open_history (f, f->dir, 0, 0);
  bms_snapshot_set_raw (s, BMS_ID_PACK_VOLTAGE, 65535);
  bms_snapshot_set_raw (s, BMS_ID_PACK_VOLTAGE_HV, 84616);
  bms_history_append_batch (f->history, f->dev, one, 1);
  g_assert_true (bms_history_flush (f->history, &error));
  ex = bms_export_new (f->history);
  bms_export_set_format (ex, BMS_EXPORT_FORMAT_CSV);
  g_assert_true (bms_export_write (ex, csv, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  row = g_strsplit (lines[1], ",", -1);
  g_assert_cmpstr (row[2], ==, "846.16");
}

static gboolean
dir_has_temp (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)))
    if (g_str_has_prefix (name, ".out."))
      return TRUE;
  return FALSE;
}

static void
assert_old_file (const char *path)
{
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, OLD_CONTENT);
}

static void
cancel_at_4096 (double fraction, guint64 rows, gpointer data)
{
  if (rows >= 4096 && fraction < 1.0)
    g_cancellable_cancel (data);
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsExport) ex = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autofree char *csv = g_build_filename (f->dir, "out.csv", NULL);

  open_history (f, f->dir, 12000, 16);
  g_assert_true (g_file_set_contents (f->out, OLD_CONTENT, -1, NULL));
  g_assert_true (g_file_set_contents (csv, OLD_CONTENT, -1, NULL));
  ex = bms_export_new (f->history);
  g_assert_false (bms_export_write (ex, f->out, cancel_at_4096, cancel, cancel, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_old_file (f->out);
  g_clear_error (&error);

  g_cancellable_reset (cancel);
  bms_export_set_format (ex, BMS_EXPORT_FORMAT_CSV);
  g_assert_false (bms_export_write (ex, csv, cancel_at_4096, cancel, cancel, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_old_file (csv);
  g_assert_false (dir_has_temp (f->dir));
}

/* Parent and child share a folder named after the parent's pid. */
static char *
shared_dir (pid_t parent)
{
  return g_strdup_printf ("%s/packwatch-export-%d", g_get_tmp_dir (), (int) parent);
}

static void
kill_at_4096 (double fraction, guint64 rows, gpointer data)
{
  if (rows >= 4096)
    raise (SIGKILL);
}

static void
test_killed (void)
{
  Fixture fixture = { 0 }, *f = &fixture;
  g_autofree char *dir = shared_dir (g_test_subprocess () ? getppid () : getpid ());
  g_autofree char *out = g_build_filename (dir, "out.xlsx", NULL);

  if (g_test_subprocess ())
    {
      g_autoptr (BmsExport) ex = NULL;
      open_history (f, dir, 0, 0);
      ex = bms_export_new (f->history);
      bms_export_write (ex, out, kill_at_4096, NULL, NULL, NULL);
      g_assert_not_reached ();
    }
  g_mkdir_with_parents (dir, 0700);
  open_history (f, dir, 12000, 16);
  g_clear_object (&f->history);
  g_assert_true (g_file_set_contents (out, OLD_CONTENT, -1, NULL));
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  assert_old_file (out);
  remove_tree (dir);
}

/* Exports `rows` samples of 16 cells in a subprocess whose writes past
 * `limit` bytes fail (EFBIG: a full disk as far as the export can tell);
 * the export must fail with a message matching `pattern`, leave the earlier
 * files untouched and no temporary file behind. With csv_too, the same
 * again as CSV. */
static void
export_under_limit (guint rows, rlim_t limit, gboolean csv_too, const char *pattern)
{
  Fixture fixture = { 0 }, *f = &fixture;
  g_autofree char *dir = shared_dir (g_test_subprocess () ? getppid () : getpid ());
  g_autofree char *out = g_build_filename (dir, "out.xlsx", NULL);
  g_autofree char *csv = g_build_filename (dir, "out.csv", NULL);

  if (g_test_subprocess ())
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (BmsExport) ex = NULL;
      struct rlimit rl = { limit, limit };

      open_history (f, dir, 0, 0);
      ex = bms_export_new (f->history);
      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);
      g_assert_false (bms_export_write (ex, out, NULL, NULL, NULL, &error));
      g_assert_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_WRITE);
      g_printerr ("xlsx: %s\n", error->message);
      g_clear_error (&error);
      if (csv_too)
        {
          bms_export_set_format (ex, BMS_EXPORT_FORMAT_CSV);
          g_assert_false (bms_export_write (ex, csv, NULL, NULL, NULL, &error));
          g_assert_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_WRITE);
          g_printerr ("csv: %s\n", error->message);
        }
      g_clear_object (&f->history);
      return;
    }
  g_mkdir_with_parents (dir, 0700);
  open_history (f, dir, rows, 16);
  g_clear_object (&f->history);
  g_assert_true (g_file_set_contents (out, OLD_CONTENT, -1, NULL));
  g_assert_true (g_file_set_contents (csv, OLD_CONTENT, -1, NULL));
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr (pattern);
  assert_old_file (out);
  assert_old_file (csv);
  g_assert_false (dir_has_temp (dir));
  remove_tree (dir);
}

/* Every write past 256 KiB fails: the zip itself cannot be written. */
static void
test_disk_full (void)
{
  export_under_limit (12000, 256 * 1024, TRUE,
                      "*xlsx: Cannot write*csv: *disk is full*");
}

/* A limit between the size of the sheets' XML (libxlsxwriter's unchecked
 * temporary files) and the size of the zip: the zip comes out well formed
 * but with cut sheets, and only reading it back can tell. */
static void
test_temp_files_cut (void)
{
  export_under_limit (6000, 1024 * 1024, FALSE, "*xlsx: Cannot write*came out incomplete*");
}

static void
on_written (GObject *source, GAsyncResult *res, gpointer data)
{
  gboolean *done = data;
  g_autoptr (GError) error = NULL;

  g_assert_true (bms_export_write_finish (BMS_EXPORT (source), res, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static void
count_notify (GObject *object, GParamSpec *pspec, gpointer data)
{
  (*(guint *) data)++;
}

static void
test_async (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsExport) ex = NULL;
  gboolean done = FALSE;
  guint notifies = 0;

  open_history (f, f->dir, 9000, 16);
  ex = bms_export_new (f->history);
  g_signal_connect (ex, "notify::fraction", G_CALLBACK (count_notify), &notifies);
  bms_export_write_async (ex, f->out, NULL, on_written, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpfloat (bms_export_get_fraction (ex), ==, 1.0);
  g_assert_cmpuint (bms_export_get_rows (ex), ==, 9000);
  g_assert_cmpuint (notifies, >=, 2);
  g_assert_true (g_file_test (f->out, G_FILE_TEST_IS_REGULAR));
}

/* The charts' time axis: round steps at round times, whatever the span. */
static void
test_time_axis (void)
{
  const double day = 86400, t0 = 46023.5 + 17 / day; /* 2026-01-01 12:00:17 */
  static const struct {
    double      span_s, unit_s;
    const char *format;
  } cases[] = {
    { 3,           1,          "hh:mm:ss" },
    { 183,         30,         "hh:mm:ss" },  /* three minutes of samples */
    { 3600,        10 * 60,    "hh:mm" },
    { 11 * 3600,   2 * 3600,   "hh:mm" },
    { 30 * 3600,   6 * 3600,   "yyyy-mm-dd hh:mm" },
    { 30 * 86400,  7 * 86400,  "yyyy-mm-dd" },
  };
  double min, max, unit;
  const char *format;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      double last = t0 + cases[i].span_s / day;

      bms_export_time_axis (t0, last, &min, &max, &unit, &format);
      g_test_message ("span %.0f s: unit %.0f s, %s", cases[i].span_s, unit * day, format);
      g_assert_cmpfloat_with_epsilon (unit * day, cases[i].unit_s, 1e-3);
      g_assert_cmpstr (format, ==, cases[i].format);
      g_assert_cmpfloat (min, <=, t0);
      g_assert_cmpfloat (max, >=, last);
      /* Whole steps from a round start: labels at round times. */
      g_assert_cmpfloat_with_epsilon (fmod (min * day + 1e-4, cases[i].unit_s), 0, 1e-3);
      g_assert_cmpfloat (round ((max - min) / unit), >=, 1);
      g_assert_cmpfloat (round ((max - min) / unit), <=, 9);
    }
  /* One sample: still an axis one step wide around it. */
  bms_export_time_axis (t0, t0, &min, &max, &unit, &format);
  g_assert_cmpfloat (max, >, min);
  g_assert_cmpfloat (min, <=, t0);
  g_assert_cmpfloat (max, >=, t0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add (name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/export/xlsx", test_xlsx);
  ADD ("/export/split", test_split);
  ADD ("/export/csv", test_csv);
  ADD ("/export/csv-high-voltage", test_csv_high_voltage);
  ADD ("/export/cancel", test_cancel);
  g_test_add_func ("/export/killed", test_killed);
  g_test_add_func ("/export/disk-full", test_disk_full);
  g_test_add_func ("/export/temp-files-cut", test_temp_files_cut);
  ADD ("/export/async", test_async);
  g_test_add_func ("/export/time-axis", test_time_axis);
  return g_test_run ();
}
