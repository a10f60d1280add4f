/* bms-report.h — the service report: one PDF to hand over after a job.
 *
 * Built from the history (samples, alarm events, the audit of writes and
 * firmware updates) over a time range, plus the board's identity and
 * parameter set: from the snapshot of a live board when one is given, else
 * as the history recorded them (bms_history_get_board) at the end of the
 * range. A4 pages drawn with cairo's PDF surface and Pango: vector
 * graphics, fonts embedded, text in the interface language (gettext). The
 * graphs are drawn by the Graph page's painter (src/draw).
 *
 * Contents, in order: identity, time range, summary, the cell table (per
 * module on a master), cell health, alarms, parameters (differences from
 * the chemistry preset marked), audit, graphs; every page has a footer
 * with its number, the generation time and the Packwatch version.
 *
 * The file is written through a temporary file in the same folder and
 * renamed over the target at the end: an earlier file is never lost, not
 * on an error nor on a cancel. Collecting and drawing run on the calling
 * thread (bms_report_write) or on a worker (bms_report_write_async).
 */
#pragma once

#include <gio/gio.h>

#include "bms-history.h"
#include "bms-snapshot.h"

G_BEGIN_DECLS

#define BMS_REPORT_ERROR (bms_report_error_quark ())
GQuark bms_report_error_quark (void);
typedef enum {
  BMS_REPORT_ERROR_NO_DEVICE,    /* unknown device, or several and none chosen */
  BMS_REPORT_ERROR_EMPTY_RANGE,  /* no sample of the device in the range */
  BMS_REPORT_ERROR_BAD_RANGE,    /* from after to */
  BMS_REPORT_ERROR_WRONG_BOARD,  /* the board snapshot is of another device */
  BMS_REPORT_ERROR_WRITE,        /* the file cannot be created or written */
} BmsReportError;

/* Without a range the report covers the 24 hours before the device's last
 * sample. */
#define BMS_REPORT_DEFAULT_SPAN_US (G_GINT64_CONSTANT (24) * 3600 * G_USEC_PER_SEC)

#define BMS_TYPE_REPORT (bms_report_get_type ())
G_DECLARE_FINAL_TYPE (BmsReport, bms_report, BMS, REPORT, GObject)

BmsReport  *bms_report_new            (BmsHistory        *history);
/* The device's row in the history (BmsHistoryDevice.id); 0: the board's
 * (bms_report_set_board), or the history's only device with samples. */
void        bms_report_set_device     (BmsReport         *self,
                                       gint64             device_id);
/* Wall-clock µs, inclusive; 0 leaves an end to the default. */
void        bms_report_set_range      (BmsReport         *self,
                                       gint64             from_us,
                                       gint64             to_us);
/* Who and where, printed under the title; NULL or "" leaves one out. */
void        bms_report_set_people     (BmsReport         *self,
                                       const char        *technician,
                                       const char        *customer,
                                       const char        *site);
/* The board's identity and parameters (copied), read live: they win over
 * the history's. NULL: the ones the history recorded last up to the end
 * of the range; the report says when none were recorded. */
void        bms_report_set_board      (BmsReport         *self,
                                       const BmsSnapshot *snapshot);

/* Called on the writing thread with 0..1 as the work goes on. */
typedef void (*BmsReportProgressFunc) (double   fraction,
                                       gpointer user_data);

/* Collects, draws and writes path; blocking. Cancelling leaves any earlier
 * file at path as it was. */
gboolean    bms_report_write          (BmsReport             *self,
                                       const char            *path,
                                       BmsReportProgressFunc  progress,
                                       gpointer               progress_data,
                                       GCancellable          *cancellable,
                                       GError               **error);
/* The same on a worker thread; progress is called on the thread-default
 * main context of the caller (from an idle source), at most ~20 times a
 * second, and never after callback. */
void        bms_report_write_async    (BmsReport             *self,
                                       const char            *path,
                                       BmsReportProgressFunc  progress,
                                       gpointer               progress_data,
                                       GCancellable          *cancellable,
                                       GAsyncReadyCallback    callback,
                                       gpointer               user_data);
gboolean    bms_report_write_finish   (BmsReport             *self,
                                       GAsyncResult          *result,
                                       GError               **error);

/* The parts of a manufacturer id (0xBA) in words: "BT · ternary · 72 V ·
 * 20 Ah · 1200 cycles · company 0000 · made 2020-05-21 · no. 001"; NULL
 * when it does not have the 24-character layout. */
char       *bms_report_decode_manufacturer_id (const char *id);

G_END_DECLS
