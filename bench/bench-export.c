/* Excel export: 1 million samples (a 16-column samples sheet plus a 4-column
 * cell sheet: 20 columns a row) through BmsExport, against libxlsxwriter
 * writing the same cells directly in the same run; peak memory of each in a
 * process of its own.
 *   bench-export                 orchestrates and prints the JSON line
 *   bench-export build DB N      fills a history database
 *   bench-export export DB OUT   exports it, prints "seconds peak_kb"
 *   bench-export direct OUT N    writes the same cells directly */
#include <glib/gstdio.h>
#include <math.h>
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

/* The cells the export writes for sample j of build (): the same values
 * computed the same way (raw * scale, as the history does), the same number
 * formats, headers, column widths and frozen panes, and the dates in UTC
 * (the children run with TZ=UTC). Only the Summary, Alarms, Audit and Chart
 * sheets, which the export adds around the data, are not written here. */
static const char *const sample_headers[] = {
  "Time", "Device", "Pack voltage (V)", "Current (A)", "SOC (%)", "MOSFET (°C)",
  "Temperature 1 (°C)", "Temperature 2 (°C)", "Lowest cell (V)", "Lowest cell no.",
  "Highest cell (V)", "Highest cell no.", "Difference (mV)", "Status", "Warnings",
  "Extended alarms"
};

static int
direct (const char *out, guint n)
{
  lxw_workbook_options options = { .constant_memory = LXW_TRUE, .tmpdir = NULL };
  lxw_workbook *wb = workbook_new_opt (out, &options);
  lxw_format *f_date = workbook_add_format (wb), *f_v2 = workbook_add_format (wb);
  lxw_format *f_v3 = workbook_add_format (wb), *f_int = workbook_add_format (wb);
  lxw_format *f_bold = workbook_add_format (wb), *f_title = workbook_add_format (wb);
  lxw_worksheet *summary = workbook_add_worksheet (wb, "Summary");
  lxw_worksheet *ws = workbook_add_worksheet (wb, "Samples");
  lxw_worksheet *wc = workbook_add_worksheet (wb, "Cells");
  double start = bench_now_ms ();

  format_set_num_format (f_date, "yyyy-mm-dd hh:mm:ss");
  format_set_num_format (f_v2, "0.00");
  format_set_num_format (f_v3, "0.000");
  format_set_num_format (f_int, "0");
  format_set_bold (f_bold);
  format_set_bold (f_title);
  format_set_font_size (f_title, 14);
  /* Two rows, so the title row is flushed first and the formats get the
   * export's style numbers. */
  worksheet_write_string (summary, 0, 0, "Packwatch history export", f_title);
  worksheet_write_string (summary, 2, 0, "Samples", f_bold);
  for (guint c = 0; c < G_N_ELEMENTS (sample_headers); c++)
    worksheet_write_string (ws, 0, c, sample_headers[c], f_bold);
  worksheet_set_column (ws, 0, 0, 20, NULL);
  worksheet_set_column (ws, 1, 15, 14, NULL);
  worksheet_freeze_panes (ws, 1, 1);
  worksheet_write_string (wc, 0, 0, "Time", f_bold);
  worksheet_write_string (wc, 0, 1, "Device", f_bold);
  worksheet_write_string (wc, 0, 2, "Cell 1 (V)", f_bold);
  worksheet_write_string (wc, 0, 3, "Cell 2 (V)", f_bold);
  worksheet_set_column (wc, 0, 0, 20, NULL);
  worksheet_set_column (wc, 1, 1, 14, NULL);
  worksheet_freeze_panes (wc, 1, 2);
  for (guint j = 0; j < n; j++)
    {
      gint64 t_us = T0 + (gint64) j * G_USEC_PER_SEC;
      double date = 25569.0 + (t_us / 1e6) / 86400.0;
      guint mv[2] = { 3300 + j % 17, 3310 + j % 13 };
      guint lo = mv[1] < mv[0] ? 1 : 0, hi = mv[1] > mv[0] ? 1 : 0;
      double vlo = mv[lo] * 0.001, vhi = mv[hi] * 0.001;

      worksheet_write_number (ws, j + 1, 0, date, f_date);
      worksheet_write_string (ws, j + 1, 1, "bench", NULL);
      worksheet_write_number (ws, j + 1, 2, (double) (5300 + j % 50) * 0.01, f_v2);
      worksheet_write_number (ws, j + 1, 3, (double) ((gint) (j % 400) - 200) * 0.01, f_v2);
      worksheet_write_number (ws, j + 1, 4, 50, NULL);
      worksheet_write_number (ws, j + 1, 5, 30, NULL);
      worksheet_write_number (ws, j + 1, 6, 25, NULL);
      worksheet_write_number (ws, j + 1, 7, 26, NULL);
      worksheet_write_number (ws, j + 1, 8, vlo, f_v3);
      worksheet_write_number (ws, j + 1, 9, lo + 1, NULL);
      worksheet_write_number (ws, j + 1, 10, vhi, f_v3);
      worksheet_write_number (ws, j + 1, 11, hi + 1, NULL);
      worksheet_write_number (ws, j + 1, 12, round ((vhi - vlo) * 1000), NULL);
      worksheet_write_number (ws, j + 1, 13, 15, f_int);
      worksheet_write_number (ws, j + 1, 14, 0, f_int);
      worksheet_write_number (ws, j + 1, 15, 0, f_int);
      worksheet_write_number (wc, j + 1, 0, date, f_date);
      worksheet_write_string (wc, j + 1, 1, "bench", NULL);
      worksheet_write_number (wc, j + 1, 2, mv[0] / 1000.0, f_v3);
      worksheet_write_number (wc, j + 1, 3, mv[1] / 1000.0, f_v3);
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

    /* Both children write the same dates, and the file sizes say whether
     * they wrote the same cells (the export adds its small extra sheets). */
    g_setenv ("TZ", "UTC", TRUE);
    run_child (argv[0], b, &sb, &kb);
    /* Interleaved, best of two each: a burst of load on this shared
     * machine then shifts one run, not the ratio. */
    se = sd = G_MAXDOUBLE;
    ke = kd = 0;
    for (guint round = 0; round < 2; round++)
      {
        double s;
        long k;

        run_child (argv[0], e, &s, &k);
        se = MIN (se, s), ke = MAX (ke, k);
        run_child (argv[0], d, &s, &k);
        sd = MIN (sd, s), kd = MAX (kd, k);
      }
    extra = g_strdup_printf ("\"peak_rss_mb\": %.1f, \"direct_peak_rss_mb\": %.1f",
                             ke / 1024.0, kd / 1024.0);
    bench_emit ("export_1m", n / se, "rows/s", n / sd, (n / se) / (n / sd),
                ">= 0.9 x direct, < 20 MB", (n / se) >= 0.9 * (n / sd) && ke < 20 * 1024, extra);
    cmd = g_strdup_printf ("rm -rf '%s'", dir);
    return system (cmd) == 0 ? 0 : 1;
  }
}
