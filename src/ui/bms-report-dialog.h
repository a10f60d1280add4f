/* bms-report-dialog.h — the Report action: who, where and which range, a
 * file, then the PDF written on a worker with progress and Cancel. */
#pragma once

#include <adwaita.h>
#include "bms-connection.h"

G_BEGIN_DECLS

/* The ranges the dialog offers, in its order. */
typedef enum {
  BMS_REPORT_RANGE_CONNECTION,   /* since this connection started */
  BMS_REPORT_RANGE_DAY,          /* the last 24 h */
  BMS_REPORT_RANGE_WEEK,
  BMS_REPORT_RANGE_MONTH,
} BmsReportRange;

/* Opens the dialog over parent's window for the connection's history and
 * board (its identity and parameters when connected). The default range is
 * this connection when one is up, else the last 24 hours. Returns the
 * dialog (owned by GTK; for tests). */
GtkWidget *bms_report_dialog_present (GtkWidget     *parent,
                                      BmsConnection *connection);

/* The range's start and end for a choice, now being now_us. */
void       bms_report_dialog_range   (BmsReportRange  range,
                                      gint64          connected_since_us,
                                      gint64          now_us,
                                      gint64         *from_us,
                                      gint64         *to_us);

/* The dialog's widgets by role, for tests: "technician", "customer",
 * "site" (AdwEntryRow), "range" (AdwComboRow). */
GtkWidget *bms_report_dialog_get_field (GtkWidget     *dialog,
                                        const char    *role);

/* Starts writing to file as the "Save" response and the file chooser
 * would (for tests); the progress dialog is returned. */
GtkWidget *bms_report_dialog_write_to (GtkWidget     *dialog,
                                       GFile         *file);

G_END_DECLS
