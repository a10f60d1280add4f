/* Excel export: 1 million samples (a 16-column samples sheet plus a 4-column
 * cell sheet: 20 columns a row) through BmsExport, against libxlsxwriter
 * writing the same cells directly in the same run; peak memory of each in a
 * process of its own.
 *   bench-export                 orchestrates and prints the JSON line
 *   bench-export build DB N      fills a history database
 *   bench-export export DB OUT   exports it, prints "seconds peak_kb"
 *   bench-export direct OUT N    writes the same cells directly */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <xlsxwriter.h>

#include "bench-common.h"
#include "bms-export.h"

#define T0 G_GINT64_CONSTANT (1700000000000000)

static long
peak_kb (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static int
build (const char *db, guint n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsHistory) h = bms_history_new (db, &error);
  g_autoptr(GPtrArray) snaps = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);
  gint64 dev;

  g_assert_no_error (error);
  dev = bms_history_ensure_device (h, "bench", "bench", &error);
  for (guint i = 0; i < n; i += 5000)
    {
      g_ptr_array_set_size (snaps, 0);
      for (guint k = 0; k < 5000 && i + k < n; k++)
        {
          BmsSnapshot *s = bms_snapshot_new ();
          guint16 mv[2] = { 3300 + (i + k) % 17, 3310 + (i + k) % 13 };
          s->timestamp_us = T0 + (gint64) (i + k) * G_USEC_PER_SEC;
          bms_snapshot_set_cells (s, mv, 2);
          bms_snapshot_set_raw (s, BMS_ID_PACK_VOLTAGE, 5300 + (i + k) % 50);
          bms_snapshot_set_raw (s, BMS_ID_CURRENT, (gint64) ((i + k) % 400) - 200);
          bms_snapshot_set_raw (s, BMS_ID_SOC, 50);
          bms_snapshot_set_raw (s, BMS_ID_MOSFET_TEMP, 30);
          bms_snapshot_set_raw (s, BMS_ID_TEMP1, 25);
          bms_snapshot_set_raw (s, BMS_ID_TEMP2, 26);
          bms_snapshot_set_raw (s, BMS_ID_STATUS, 15);
          bms_snapshot_set_raw (s, BMS_ID_WARNINGS, 0);
          g_ptr_array_add (snaps, s);
        }
      bms_history_append_batch (h, dev, (const BmsSnapshot *const *) snaps->pdata, snaps->len);
      if (!bms_history_flush (h, &error))
        g_error ("flush: %s", error->message);
    }
  return 0;
}

static int
export (const char *db, const char *out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsHistory) h = bms_history_new (db, &error);
  g_autoptr(BmsExport) e = NULL;
  double start;

  g_assert_no_error (error);
  e = bms_export_new (h);
  bms_export_set_format (e, BMS_EXPORT_FORMAT_XLSX);
  start = bench_now_ms ();
  if (!bms_export_write (e, out, NULL, NULL, NULL, &error))
    g_error ("export: %s", error->message);
  printf ("%f %ld %" G_GUINT64_FORMAT "\n", (bench_now_ms () - start) / 1000.0, peak_kb (),
          bms_export_get_rows (e));
  return 0;
}

static int
direct (const char *out, guint n)
{
  lxw_workbook_options options = { .constant_memory = LXW_TRUE, .tmpdir = NULL };
  lxw_workbook *wb = workbook_new_opt (out, &options);
  lxw_worksheet *ws = workbook_add_worksheet (wb, "Samples");
  lxw_worksheet *wc = workbook_add_worksheet (wb, "Cells");
  lxw_format *date = workbook_add_format (wb);
  double start = bench_now_ms ();

  format_set_num_format (date, "yyyy-mm-dd hh:mm:ss");
  for (guint c = 0; c < 16; c++)
    worksheet_write_string (ws, 0, c, "header", NULL);
  for (guint c = 0; c < 4; c++)
    worksheet_write_string (wc, 0, c, "header", NULL);
  for (guint i = 0; i < n; i++)
    {
      double d = 45000 + i / 86400.0;
      worksheet_write_number (ws, i + 1, 0, d, date);
      worksheet_write_string (ws, i + 1, 1, "bench", NULL);
      for (guint c = 2; c < 16; c++)
        worksheet_write_number (ws, i + 1, c, 3.3 + c + (i % 50) / 100.0, NULL);
    }
  for (guint i = 0; i < n; i++)
    {
      worksheet_write_number (wc, i + 1, 0, 45000 + i / 86400.0, date);
      worksheet_write_string (wc, i + 1, 1, "bench", NULL);
      worksheet_write_number (wc, i + 1, 2, 3.3 + (i % 17) / 1000.0, NULL);
      worksheet_write_number (wc, i + 1, 3, 3.31 + (i % 13) / 1000.0, NULL);
    }
  workbook_close (wb);
  printf ("%f %ld %u\n", (bench_now_ms () - start) / 1000.0, peak_kb (), n);
  return 0;
}

static void
run_child (const char *self, const char *const *argv, double *seconds, long *kb)
{
  g_autofree char *out = NULL;
  /* build prints nothing */
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) p = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);

  if (!p || !g_subprocess_communicate_utf8 (p, NULL, NULL, &out, NULL, &error) ||
      !g_subprocess_get_successful (p))
    g_error ("%s %s failed", self, argv[1]);
  if (g_str_equal (argv[1], "build"))
    return;
  if (sscanf (out, "%lf %ld", seconds, kb) != 2)
    g_error ("unexpected output %s", out);
}

int
main (int argc, char **argv)
{
  if (argc >= 4 && g_str_equal (argv[1], "build"))
    return build (argv[2], atoi (argv[3]));
  if (argc >= 4 && g_str_equal (argv[1], "export"))
    return export (argv[2], argv[3]);
  if (argc >= 4 && g_str_equal (argv[1], "direct"))
    return direct (argv[2], atoi (argv[3]));
  {
    const guint n = 1000000;
    g_autofree char *dir = g_dir_make_tmp ("bench-export-XXXXXX", NULL);
    g_autofree char *db = g_build_filename (dir, "h.db", NULL);
    g_autofree char *x1 = g_build_filename (dir, "export.xlsx", NULL);
    g_autofree char *x2 = g_build_filename (dir, "direct.xlsx", NULL);
    g_autofree char *ns = g_strdup_printf ("%u", n);
    g_autofree char *extra = NULL, *cmd = NULL;
    const char *b[] = { argv[0], "build", db, ns, NULL };
    const char *e[] = { argv[0], "export", db, x1, NULL };
    const char *d[] = { argv[0], "direct", x2, ns, NULL };
    double sb, se, sd;
    long kb, ke, kd;

    run_child (argv[0], b, &sb, &kb);
    run_child (argv[0], e, &se, &ke);
    run_child (argv[0], d, &sd, &kd);
    extra = g_strdup_printf ("\"peak_rss_mb\": %.1f, \"direct_peak_rss_mb\": %.1f",
                             ke / 1024.0, kd / 1024.0);
    bench_emit ("export_1m", n / se, "rows/s", n / sd, (n / se) / (n / sd),
                ">= 0.9 x direct, < 20 MB", (n / se) >= 0.9 * (n / sd) && ke < 20 * 1024, extra);
    cmd = g_strdup_printf ("rm -rf '%s'", dir);
    return system (cmd) == 0 ? 0 : 1;
  }
}
