/* bms-export.h — history to Excel (.xlsx) or CSV.
 *
 * Excel (libxlsxwriter, constant memory): a Summary sheet, Samples sheets
 * (times as real Excel dates in local time), Cells sheets (one column per
 * cell), Alarms, Audit, and a Chart sheet with native line charts of pack
 * voltage and current (a min/max envelope of at most 1000 buckets, so the
 * chart stays light however long the range). A sheet that would pass the
 * row limit continues on "Samples (2)", "Cells (2)", …
 *
 * CSV: one file, one row per sample with every cell as a column; times in
 * ISO 8601 local time with offset.
 *
 * Both are written to a temporary file in the target's folder and renamed
 * over the target only when complete: a failed, cancelled or killed export
 * never damages an earlier file.
 */
#pragma once

#include <stdio.h>
#include <gio/gio.h>
#include "bms-history.h"

G_BEGIN_DECLS

#define BMS_EXPORT_EXCEL_MAX_ROWS 1048576  /* rows of an Excel sheet, header included */

typedef enum {
  BMS_EXPORT_FORMAT_XLSX,
  BMS_EXPORT_FORMAT_CSV,
} BmsExportFormat;

#define BMS_EXPORT_ERROR (bms_export_error_quark ())
GQuark bms_export_error_quark (void);
typedef enum {
  BMS_EXPORT_ERROR_WRITE,    /* the file could not be written (disk full, permissions) */
  BMS_EXPORT_ERROR_INVALID,  /* bad settings: empty range, bad row limit */
} BmsExportError;

#define BMS_TYPE_EXPORT (bms_export_get_type ())
G_DECLARE_FINAL_TYPE (BmsExport, bms_export, BMS, EXPORT, GObject)

BmsExport      *bms_export_new                    (BmsHistory      *history);
BmsHistory     *bms_export_get_history            (BmsExport       *self);
/* ".csv" → CSV, anything else → XLSX. */
BmsExportFormat bms_export_format_for_path        (const char      *path);
void            bms_export_set_format             (BmsExport       *self,
                                                   BmsExportFormat  format);
/* Inclusive, µs; 0 and G_MAXINT64 for open ends (the default). */
void            bms_export_set_range              (BmsExport       *self,
                                                   gint64           from_us,
                                                   gint64           to_us);
/* 0 = every device (the default). */
void            bms_export_set_device             (BmsExport       *self,
                                                   gint64           device_id);
/* Rows per sheet including the header row, 3 … BMS_EXPORT_EXCEL_MAX_ROWS
 * (lower values are for tests). */
gboolean        bms_export_set_max_rows_per_sheet (BmsExport       *self,
                                                   guint            rows,
                                                   GError         **error);

/* The time axis of the workbook's charts, for data from first to last
 * (Excel serial dates): whole steps of a round major unit (about four to
 * eight labels) and a number format that shows what changes between them. */
void            bms_export_time_axis              (double           first,
                                                   double           last,
                                                   double          *min,
                                                   double          *max,
                                                   double          *unit,
                                                   const char     **num_format);

/* Progress of the running (or last) export: "fraction" 0…1 and "rows"
 * (samples, events and audit rows written). For .xlsx the rows are the
 * first half: libxlsxwriter compresses everything when the workbook is
 * closed, without progress, so the fraction then steps to 0.9 and, once
 * the file is checked, to 1. Notified in the main context that started the
 * async export, about ten times a second. */
double          bms_export_get_fraction           (BmsExport       *self);
guint64         bms_export_get_rows               (BmsExport       *self);
/* The samples the last successful export wrote: the data rows of the
 * Samples sheets (or CSV lines) without the alarm and audit rows that
 * "rows" also counts. Read it once the export has finished. */
guint64         bms_export_get_samples            (BmsExport       *self);

typedef void (*BmsExportProgressFunc) (double   fraction,
                                       guint64  rows,
                                       gpointer user_data);

/* Blocking: for workers and the CLI. progress (optional) is called on the
 * calling thread. */
gboolean        bms_export_write                  (BmsExport             *self,
                                                   const char            *path,
                                                   BmsExportProgressFunc  progress,
                                                   gpointer               user_data,
                                                   GCancellable          *cancellable,
                                                   GError               **error);
void            bms_export_write_async            (BmsExport           *self,
                                                   const char          *path,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean        bms_export_write_finish           (BmsExport     *self,
                                                   GAsyncResult  *result,
                                                   GError       **error);

/* The pieces other reports share with the export. A file is written whole
 * to a temporary file beside path (hidden, named after this process, so
 * the ones a killed process left are removed here first) and, once
 * complete, synced and renamed over path: a reader never sees half a file. */
char           *bms_export_temp_new               (const char     *path,
                                                   GError        **error);
gboolean        bms_export_temp_commit            (const char     *tmp,
                                                   const char     *path,
                                                   GError        **error);
/* One CSV field, quoted only when it holds a comma, quote or line break. */
void            bms_export_csv_field              (FILE           *out,
                                                   const char     *text);

G_END_DECLS
