/* BmsReport's API: the worker's progress, cancelling, the manufacturer id.
 * (The PDF's contents are checked through the CLI in test-report.py.) */
#include "config.h"

#include <glib/gstdio.h>

#include "bms-device.h"
#include "bms-report.h"
#include "bms-sim.h"

typedef struct {
  char       *dir;
  BmsHistory *history;
} Fixture;

/* An hour of the simulated board, a sample a minute. */
static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  BmsSimConfig config;
  BmsSim *sim;
  gint64 now = g_get_real_time (), device;

  f->dir = g_dir_make_tmp ("test-report-XXXXXX", NULL);
  path = g_build_filename (f->dir, "history.db", NULL);
  f->history = bms_history_new (path, &error);
  g_assert_no_error (error);
  bms_sim_config_init (&config);
  sim = bms_sim_new (&config, &error);
  g_assert_no_error (error);
  device = bms_history_ensure_device (f->history, "id:PWSIM001", "PWSIM001", &error);
  g_assert_cmpint (device, >, 0);
  for (int i = 60; i >= 0; i--)
    {
      g_autoptr(BmsSnapshot) s = NULL;

      bms_sim_advance (sim, 60);
      s = bms_sim_snapshot (sim);
      s->timestamp_us = now - (gint64) i * 60 * G_USEC_PER_SEC;
      bms_history_append_snapshot (f->history, device, s);
    }
  bms_sim_free (sim);
  g_assert_true (bms_history_flush (f->history, &error));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  bms_history_close (f->history);
  g_clear_object (&f->history);
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

typedef struct {
  GArray   *fractions;
  gboolean  done;
  gboolean  ok;
  GError   *error;
} Run;

static void
on_progress (double   fraction,
             gpointer user_data)
{
  Run *run = user_data;

  g_assert_false (run->done);   /* never after the callback */
  g_array_append_val (run->fractions, fraction);
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Run *run = user_data;

  run->ok = bms_report_write_finish (BMS_REPORT (source), result, &run->error);
  run->done = TRUE;
}

/* On the worker: the progress rises to 1 on this thread's context, before
 * the callback; the file is a PDF. */
static void
test_async_progress (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(BmsReport) report = bms_report_new (f->history);
  g_autofree char *path = g_build_filename (f->dir, "r.pdf", NULL);
  g_autofree char *contents = NULL;
  Run run = { .fractions = g_array_new (FALSE, FALSE, sizeof (double)) };

  bms_report_write_async (report, path, on_progress, &run, NULL, on_done, &run);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (run.error);
  g_assert_true (run.ok);
  g_assert_cmpuint (run.fractions->len, >=, 1);
  for (guint i = 1; i < run.fractions->len; i++)
    g_assert_cmpfloat (g_array_index (run.fractions, double, i), >=,
                       g_array_index (run.fractions, double, i - 1));
  g_assert_cmpfloat (g_array_index (run.fractions, double, run.fractions->len - 1), ==, 1.0);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_true (g_str_has_prefix (contents, "%PDF-"));
  g_array_unref (run.fractions);
}

/* Cancelled: G_IO_ERROR_CANCELLED, the earlier file as it was, no
 * temporary file left. */
static void
test_cancel_keeps_file (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(BmsReport) report = bms_report_new (f->history);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "r.pdf", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_assert_true (g_file_set_contents (path, "earlier report", -1, NULL));
  g_cancellable_cancel (cancellable);
  g_assert_false (bms_report_write (report, path, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "earlier report");
  dir = g_dir_open (f->dir, 0, NULL);
  while ((name = g_dir_read_name (dir)))
    g_assert_false (name[0] == '.');
}

static void
test_empty_range (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(BmsReport) report = bms_report_new (f->history);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "r.pdf", NULL);
  gint64 long_ago = G_GINT64_CONSTANT (1577836800) * G_USEC_PER_SEC;   /* 2020 */

  bms_report_set_range (report, long_ago, long_ago + (gint64) 3600 * G_USEC_PER_SEC);
  g_assert_false (bms_report_write (report, path, NULL, NULL, NULL, &error));
  g_assert_error (error, BMS_REPORT_ERROR, BMS_REPORT_ERROR_EMPTY_RANGE);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  bms_report_set_range (report, long_ago + (gint64) 3600 * G_USEC_PER_SEC, long_ago);
  g_assert_false (bms_report_write (report, path, NULL, NULL, NULL, &error));
  g_assert_error (error, BMS_REPORT_ERROR, BMS_REPORT_ERROR_BAD_RANGE);
}

static void
test_manufacturer_id (void)
{
  g_autofree char *sample = bms_report_decode_manufacturer_id ("BT3072020120000200521001");

  /* The layout's worked example (docs/protocol.md). */
  g_assert_cmpstr (sample, ==, "BT · ternary · 72 V · 20 Ah · 1200 cycles · company 0000 · "
                               "made 2020-05-21 · no. 001");
  g_assert_null (bms_report_decode_manufacturer_id ("BT30720201200002005210"));   /* short */
  g_assert_null (bms_report_decode_manufacturer_id ("BT9072020120000200521001")); /* type 9 */
  g_assert_null (bms_report_decode_manufacturer_id ("BT30X2020120000200521001")); /* not digits */
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/report/async-progress", Fixture, NULL, fixture_set_up, test_async_progress,
              fixture_tear_down);
  g_test_add ("/report/cancel-keeps-file", Fixture, NULL, fixture_set_up, test_cancel_keeps_file,
              fixture_tear_down);
  g_test_add ("/report/empty-range", Fixture, NULL, fixture_set_up, test_empty_range,
              fixture_tear_down);
  g_test_add_func ("/report/manufacturer-id", test_manufacturer_id);
  return g_test_run ();
}
