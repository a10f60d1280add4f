/* bms-report-dialog.c — the Report action's dialogs: the form, the file
 * chooser, then a progress dialog while BmsReport writes on its worker. */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-file-chooser.h"
#include "bms-report.h"
#include "bms-report-dialog.h"

#define HOUR_US (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)

/* --- the form ----------------------------------------------------------- */

#define BMS_TYPE_REPORT_DIALOG (bms_report_dialog_get_type ())
G_DECLARE_FINAL_TYPE (BmsReportDialog, bms_report_dialog, BMS, REPORT_DIALOG, AdwMessageDialog)

struct _BmsReportDialog
{
  AdwMessageDialog  parent_instance;

  BmsConnection    *connection;
  GtkWidget        *technician;
  GtkWidget        *customer;
  GtkWidget        *site;
  GtkWidget        *range;
  gint64            connected_since;   /* µs; 0 when not connected */
};

G_DEFINE_FINAL_TYPE (BmsReportDialog, bms_report_dialog, ADW_TYPE_MESSAGE_DIALOG)

static void
bms_report_dialog_dispose (GObject *object)
{
  g_clear_object (&BMS_REPORT_DIALOG (object)->connection);
  G_OBJECT_CLASS (bms_report_dialog_parent_class)->dispose (object);
}

static void on_form_response (BmsReportDialog *self,
                              const char      *response);

static void
bms_report_dialog_class_init (BmsReportDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = bms_report_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/packwatch/Packwatch/ui/bms-report-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsReportDialog, technician);
  gtk_widget_class_bind_template_child (widget_class, BmsReportDialog, customer);
  gtk_widget_class_bind_template_child (widget_class, BmsReportDialog, site);
  gtk_widget_class_bind_template_child (widget_class, BmsReportDialog, range);
}

static void
bms_report_dialog_init (BmsReportDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self, "response", G_CALLBACK (on_form_response), NULL);
}

void
bms_report_dialog_range (BmsReportRange  range,
                         gint64          connected_since_us,
                         gint64          now_us,
                         gint64         *from_us,
                         gint64         *to_us)
{
  *to_us = now_us;
  switch (range)
    {
    case BMS_REPORT_RANGE_CONNECTION:
      *from_us = connected_since_us > 0 ? connected_since_us : now_us - 24 * HOUR_US;
      break;
    case BMS_REPORT_RANGE_DAY:
      *from_us = now_us - 24 * HOUR_US;
      break;
    case BMS_REPORT_RANGE_WEEK:
      *from_us = now_us - 7 * 24 * HOUR_US;
      break;
    case BMS_REPORT_RANGE_MONTH:
    default:
      *from_us = now_us - 30 * 24 * HOUR_US;
      break;
    }
}

GtkWidget *
bms_report_dialog_get_field (GtkWidget  *dialog,
                             const char *role)
{
  BmsReportDialog *self = BMS_REPORT_DIALOG (dialog);

  if (g_str_equal (role, "technician"))
    return self->technician;
  if (g_str_equal (role, "customer"))
    return self->customer;
  if (g_str_equal (role, "site"))
    return self->site;
  if (g_str_equal (role, "range"))
    return self->range;
  g_return_val_if_reached (NULL);
}

/* --- writing ------------------------------------------------------------ */

typedef struct {
  GtkWindow    *parent;
  BmsReport    *report;
  GtkWidget    *dialog;     /* the progress dialog */
  GtkWidget    *bar;
  GCancellable *cancellable;
  char         *name;
} Writing;

static void
writing_free (Writing *w)
{
  g_clear_object (&w->parent);
  g_clear_object (&w->report);
  g_clear_object (&w->dialog);
  g_clear_object (&w->cancellable);
  g_free (w->name);
  g_free (w);
}

/* The report as the form describes it. */
static BmsReport *
report_from_form (BmsReportDialog *self)
{
  BmsConnection *c = self->connection;
  BmsReport *report = bms_report_new (bms_connection_get_history (c));
  BmsDevice *device = bms_connection_get_device (c);
  const BmsSnapshot *board = device && bms_connection_get_connected (c)
                             ? bms_device_get_snapshot (device) : NULL;
  gint64 from, to;

  bms_report_dialog_range (adw_combo_row_get_selected (ADW_COMBO_ROW (self->range)),
                           self->connected_since, g_get_real_time (), &from, &to);
  bms_report_set_range (report, from, to);
  bms_report_set_device (report, bms_connection_get_history_device_id (c));
  bms_report_set_board (report, board);
  bms_report_set_people (report, gtk_editable_get_text (GTK_EDITABLE (self->technician)),
                         gtk_editable_get_text (GTK_EDITABLE (self->customer)),
                         gtk_editable_get_text (GTK_EDITABLE (self->site)));
  return report;
}

static void
on_progress (double   fraction,
             gpointer user_data)
{
  Writing *w = user_data;

  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (w->bar), fraction);
}

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Writing *w = user_data;
  g_autoptr(GError) error = NULL;
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (w->dialog);

  if (bms_report_write_finish (BMS_REPORT (source), result, &error))
    {
      g_autofree char *body = g_strdup_printf (_("Saved as %s"), w->name);
      adw_message_dialog_set_heading (dialog, _("Report Written"));
      adw_message_dialog_set_body (dialog, body);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (w->bar), 1);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    gtk_window_close (GTK_WINDOW (dialog));
  else
    {
      adw_message_dialog_set_heading (dialog, _("The Report Was Not Written"));
      adw_message_dialog_set_body (dialog, error->message);
      gtk_widget_set_visible (w->bar, FALSE);
    }
  adw_message_dialog_set_response_label (dialog, "cancel", _("_Close"));
  g_clear_object (&w->cancellable);
  writing_free (w);
}

static void
on_progress_response (AdwMessageDialog *dialog,
                      const char       *response,
                      GCancellable     *cancellable)
{
  /* Cancelled, the worker stops and the earlier file stays as it was. */
  g_cancellable_cancel (cancellable);
}

static GtkWidget *
start_writing (GtkWindow *parent,
               BmsReport *report,
               GFile     *file)
{
  Writing *w = g_new0 (Writing, 1);
  g_autofree char *path = g_file_get_path (file);
  AdwMessageDialog *dialog;

  w->parent = parent ? g_object_ref (parent) : NULL;
  w->report = g_object_ref (report);
  w->cancellable = g_cancellable_new ();
  w->name = g_file_get_basename (file);
  w->dialog = g_object_ref_sink (adw_message_dialog_new (parent, _("Writing the Report"), w->name));
  dialog = ADW_MESSAGE_DIALOG (w->dialog);
  adw_message_dialog_add_response (dialog, "cancel", _("_Cancel"));
  adw_message_dialog_set_close_response (dialog, "cancel");
  w->bar = gtk_progress_bar_new ();
  adw_message_dialog_set_extra_child (dialog, w->bar);
  g_signal_connect_data (dialog, "response", G_CALLBACK (on_progress_response),
                         g_object_ref (w->cancellable), (GClosureNotify) (void (*) (void)) g_object_unref, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  bms_report_write_async (report, path, on_progress, w, w->cancellable, on_written, w);
  return w->dialog;
}

GtkWidget *
bms_report_dialog_write_to (GtkWidget *dialog,
                            GFile     *file)
{
  BmsReportDialog *self = BMS_REPORT_DIALOG (dialog);
  g_autoptr(BmsReport) report = report_from_form (self);

  return start_writing (gtk_window_get_transient_for (GTK_WINDOW (self)), report, file);
}

/* --- choosing the file -------------------------------------------------- */

typedef struct {
  GtkWindow *parent;
  BmsReport *report;
} Choosing;

static void
on_chooser_response (GtkNativeDialog *native,
                     int              response,
                     Choosing        *c)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
      start_writing (c->parent, c->report, file);
    }
  g_clear_object (&c->parent);
  g_object_unref (c->report);
  g_free (c);
  g_object_unref (native);
}

static char *
suggested_name (BmsConnection *connection)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%d");
  BmsDevice *device = bms_connection_get_device (connection);
  const char *name = device ? bms_device_get_name (device) : NULL;
  g_autofree char *safe = g_strdup (name && *name ? name : "board");

  g_strcanon (safe, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", '-');
  return g_strdup_printf ("packwatch-report-%s-%s.pdf", safe, stamp);
}

static void
choose_file (BmsReportDialog *self)
{
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  GtkFileChooserNative *native =
    gtk_file_chooser_native_new (_("Save the Report"), parent, GTK_FILE_CHOOSER_ACTION_SAVE,
                                 _("_Save"), _("_Cancel"));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *name = suggested_name (self->connection);
  Choosing *c = g_new0 (Choosing, 1);

  gtk_file_filter_set_name (filter, _("PDF documents"));
  gtk_file_filter_add_pattern (filter, "*.pdf");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  bms_file_chooser_start (GTK_FILE_CHOOSER (native), "report");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), name);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  c->parent = parent ? g_object_ref (parent) : NULL;
  c->report = report_from_form (self);
  g_signal_connect (native, "response", G_CALLBACK (on_chooser_response), c);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
on_form_response (BmsReportDialog *self,
                  const char      *response)
{
  if (g_str_equal (response, "save"))
    choose_file (self);
}

GtkWidget *
bms_report_dialog_present (GtkWidget     *parent,
                           BmsConnection *connection)
{
  GtkRoot *root = parent ? gtk_widget_get_root (parent) : NULL;
  BmsReportDialog *self;

  g_return_val_if_fail (BMS_IS_CONNECTION (connection), NULL);

  self = g_object_new (BMS_TYPE_REPORT_DIALOG,
                       "transient-for", GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, NULL);
  self->connection = g_object_ref (connection);
  self->connected_since = bms_connection_get_connected (connection)
                          ? bms_connection_get_connected_since (connection) : 0;
  /* This connection when there is one, else the last day. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (self->range),
                              self->connected_since > 0 ? BMS_REPORT_RANGE_CONNECTION
                                                        : BMS_REPORT_RANGE_DAY);
  if (bms_connection_get_history (connection) == NULL)
    {
      adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (self),
                                   _("No history database is open, so there is nothing "
                                     "to report yet."));
      adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "save", FALSE);
    }
  gtk_window_present (GTK_WINDOW (self));
  return GTK_WIDGET (self);
}
