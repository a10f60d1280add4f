/* bms-dload-report.h — the production report of the DLoad page.
 *
 * One line per value asked of a board: when (local time with its UTC
 * offset), which board (number in this session, device id, software
 * version, RS485 address), the parameter, its old and new value, the result
 * and the board's overall result. A board with nothing to write still gets
 * one line. Saved whole as .csv (UTF-8 with a byte order mark, so Excel
 * shows translated headings right) or .xlsx, through a temporary file that
 * is renamed over the target when complete, headings in the interface
 * language.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BMS_TYPE_DLOAD_REPORT (bms_dload_report_get_type ())
G_DECLARE_FINAL_TYPE (BmsDloadReport, bms_dload_report, BMS, DLOAD_REPORT, GObject)

BmsDloadReport *bms_dload_report_new (void);
/* Starts the next board; time NULL is now. */
void bms_dload_report_begin_board (BmsDloadReport *self, GDateTime *time, const char *device_id,
                                   const char *software_version, guint address);
/* One value of the board begun last; texts as shown in the window. */
void bms_dload_report_add_value (BmsDloadReport *self, const char *parameter, const char *old_value,
                                 const char *new_value, const char *result);
void bms_dload_report_end_board (BmsDloadReport *self, gboolean ok);
guint bms_dload_report_get_n_boards (BmsDloadReport *self);

/* Blocking; .csv is CSV, anything else .xlsx. */
gboolean bms_dload_report_save (BmsDloadReport *self, const char *path, GError **error);
/* On a worker, of the report as it is now. When saves overlap, the file
 * ends with the newest content. */
void bms_dload_report_save_async (BmsDloadReport *self, const char *path, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
gboolean bms_dload_report_save_finish (BmsDloadReport *self, GAsyncResult *result, GError **error);

G_END_DECLS
