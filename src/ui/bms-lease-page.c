/* bms-lease-page.c — the LeaseSet page: the board's rental lock.
 *
 * Shows lease end (0xE3, Unix time), remaining days, code (0xE4) and state
 * (0xE5) from the device's last poll, and writes a new end date and code
 * (or removes the lease) through the password-gated session on a worker.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "bms-lease-page.h"
#include "bms-device.h"
#include "bms-field.h"
#include "bms-field-writes.h"
#include "bms-password-dialog.h"


struct _BmsLeasePage
{
  BmsPage        parent_instance;

  GtkLabel       *state_label;
  AdwActionRow   *end_row;
  GtkLabel       *end_label;
  AdwActionRow   *code_show_row;
  GtkLabel       *code_label;
  GtkWidget      *write_button;
  GtkWidget      *remove_button;
  GtkMenuButton  *date_button;
  GtkCalendar    *calendar;
  GtkSpinButton  *days_spin;
  AdwEntryRow    *code_row;
  GtkLabel       *result_label;

  gboolean        syncing;
  gboolean        has_lease;    /* the board reports an end or a code */
  GPtrArray      *writes;       /* the write in flight */
  GCancellable   *cancellable;
};

G_DEFINE_FINAL_TYPE (BmsLeasePage, bms_lease_page, BMS_TYPE_PAGE)

static void update_actions (BmsLeasePage *self);

/* --- dates -------------------------------------------------------------- */

/* The lease runs to the end of the chosen local day, as in packwatch-cli. */
static gint64
end_of_day (GDateTime *day)
{
  return bms_field_lease_end_of_day (g_date_time_get_year (day), g_date_time_get_month (day),
                                     g_date_time_get_day_of_month (day));
}

static GDateTime *
today (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  return g_date_time_new_local (g_date_time_get_year (now), g_date_time_get_month (now),
                                g_date_time_get_day_of_month (now), 0, 0, 0);
}

/* "in 23 days", "expires today", "expired 3 days ago". */
char *
bms_lease_page_format_remaining (gint64 end,
                                 gint64 now)
{
  gint64 left = end - now;
  gint64 days;

  if (end <= 0)
    return g_strdup (_("No lease"));
  if (left > 0)
    {
      days = left / 86400;   /* whole days; the last one counts down in hours */
      if (left < 86400)
        return g_strdup_printf (_("Ends in %u h %u min"), (guint) (left / 3600),
                                (guint) (left % 3600 / 60));
      return g_strdup_printf (ngettext ("%u day left", "%u days left", (gulong) days),
                              (guint) days);
    }
  days = -left / 86400;
  if (days == 0)
    return g_strdup (_("Expired today"));
  return g_strdup_printf (ngettext ("Expired %u day ago", "Expired %u days ago", (gulong) days),
                          (guint) days);
}

static void
sync_date_button (BmsLeasePage *self)
{
  g_autoptr(GDateTime) day = gtk_calendar_get_date (self->calendar);
  g_autofree char *text = g_date_time_format (day, "%Y-%m-%d");

  gtk_menu_button_set_label (self->date_button, text);
}

static void
on_day_selected (BmsLeasePage *self)
{
  g_autoptr(GDateTime) day = gtk_calendar_get_date (self->calendar);
  g_autoptr(GDateTime) start = today ();
  double days = floor (g_date_time_difference (day, start) / (double) G_TIME_SPAN_DAY + 0.5);

  sync_date_button (self);
  if (self->syncing)
    return;
  self->syncing = TRUE;
  gtk_spin_button_set_value (self->days_spin, MAX (days, 0));
  self->syncing = FALSE;
  gtk_popover_popdown (gtk_menu_button_get_popover (self->date_button));
  update_actions (self);
}

static void
on_days_changed (BmsLeasePage *self)
{
  g_autoptr(GDateTime) start = today ();
  g_autoptr(GDateTime) day = NULL;

  if (self->syncing)
    return;
  day = g_date_time_add_days (start, gtk_spin_button_get_value_as_int (self->days_spin));
  self->syncing = TRUE;
  gtk_calendar_select_day (self->calendar, day);
  self->syncing = FALSE;
  sync_date_button (self);
  update_actions (self);
}

/* --- showing the board's lease ------------------------------------------ */

static void
set_state_style (GtkLabel   *label,
                 const char *style)
{
  const char *styles[] = { "success", "warning", "error", "dim-label" };

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (label), styles[i]);
  if (style)
    gtk_widget_add_css_class (GTK_WIDGET (label), style);
}

static void
show_lease (BmsLeasePage *self)
{
  BmsDevice *device = BMS_PAGE_DEVICE (self);
  const char *code;
  g_autofree char *remaining = NULL;
  g_autofree char *until = NULL;
  gint64 end;

  if (device == NULL || !bms_device_get_has_lease (device))
    {
      gtk_label_set_text (self->state_label, BMS_PAGE_DEVICE (self) ? _("Not reported by this board")
                                                          : _("Not connected"));
      set_state_style (self->state_label, "dim-label");
      self->has_lease = FALSE;
      gtk_widget_set_visible (GTK_WIDGET (self->end_row), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->code_show_row), FALSE);
      update_actions (self);
      return;
    }
  end = bms_device_get_lease_end (device);
  switch (bms_device_get_lease_state (device))
    {
    case 0:
      gtk_label_set_text (self->state_label, _("No lease: the battery is unrestricted"));
      set_state_style (self->state_label, NULL);
      break;
    case 1:
      gtk_label_set_text (self->state_label, _("Active"));
      set_state_style (self->state_label, "success");
      break;
    default:
      gtk_label_set_text (self->state_label, _("Expired: discharge stopped, charging allowed"));
      set_state_style (self->state_label, "error");
      break;
    }
  /* The same date text as packwatch-cli and the audit trail. */
  until = bms_field_format_lease_end (end);
  gtk_label_set_text (self->end_label, until);
  remaining = bms_lease_page_format_remaining (end, g_get_real_time () / G_USEC_PER_SEC);
  adw_action_row_set_subtitle (self->end_row, remaining);
  gtk_widget_set_visible (GTK_WIDGET (self->end_row), end > 0);
  code = bms_device_get_lease_code (device);
  gtk_label_set_text (self->code_label, code != NULL ? code : "");
  gtk_widget_set_visible (GTK_WIDGET (self->code_show_row), code != NULL && *code != '\0');
  /* Nothing to remove without a lease. */
  self->has_lease = end > 0 || (code != NULL && *code != '\0');
  update_actions (self);
}

/* --- writing ------------------------------------------------------------ */

static void
update_actions (BmsLeasePage *self)
{
  g_autoptr(GError) error = NULL;
  gboolean ready = BMS_PAGE_DEVICE (self) != NULL && bms_page_get_connected (BMS_PAGE (self)) && self->writes == NULL;
  gboolean code_ok = bms_field_writes_check_lease_code (gtk_editable_get_text (GTK_EDITABLE (self->code_row)), &error);

  if (!code_ok)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->code_row), "error");
      gtk_label_set_text (self->result_label, error->message);
    }
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->code_row), "error");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lease.write", ready && code_ok);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lease.remove", ready && self->has_lease);
  /* A pale red button for a lease that is not there still reads as one. */
  gtk_widget_set_visible (self->remove_button, self->has_lease);
}

static void
on_code_changed (BmsLeasePage *self)
{
  gtk_label_set_text (self->result_label, "");
  update_actions (self);
}

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(BmsLeasePage) self = user_data;
  g_autoptr(GPtrArray) writes = g_steal_pointer (&self->writes);
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) text = g_string_new (NULL);

  g_clear_object (&self->cancellable);
  if (!bms_connection_write_fields_finish (BMS_CONNECTION (source), result, &error))
    g_string_assign (text, error->message);
  else if (bms_field_writes_all_ok (writes))
    g_string_assign (text, _("Lease written and read back."));
  else
    bms_field_writes_describe (writes, TRUE, text);
  gtk_label_set_text (self->result_label, text->str);
  update_actions (self);
}

static void
start_write (GtkWidget  *widget,
             gboolean    proceed,
             const char *password,
             gpointer    user_data)
{
  BmsLeasePage *self = BMS_LEASE_PAGE (widget);
  BmsConnection *connection = BMS_PAGE_CONNECTION (self);

  if (!proceed || connection == NULL || !bms_connection_get_connected (connection))
    {
      g_clear_pointer (&self->writes, g_ptr_array_unref);
      gtk_label_set_text (self->result_label, proceed ? _("Not connected") : "");
      update_actions (self);
      return;
    }
  gtk_label_set_text (self->result_label, _("Writing…"));
  self->cancellable = g_cancellable_new ();
  bms_connection_write_fields_async (connection, self->writes, password,
                                     self->cancellable, on_written, g_object_ref (self));
}

static void
write_lease (BmsLeasePage *self,
             gint64        end,
             const char   *code)
{
  BmsConnection *connection = BMS_PAGE_CONNECTION (self);

  if (connection == NULL || !bms_connection_get_connected (connection) || self->writes != NULL)
    return;
  self->writes = bms_field_writes_new ();
  bms_field_writes_add_lease (self->writes, end, code);
  update_actions (self);
  bms_password_dialog_ask_if_locked (GTK_WIDGET (self), connection,
                                 _("Enter the parameter password to change the lease."),
                                 start_write, NULL);
}

static void
action_write (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  BmsLeasePage *self = BMS_LEASE_PAGE (widget);
  g_autoptr(GDateTime) day = gtk_calendar_get_date (self->calendar);

  write_lease (self, end_of_day (day), gtk_editable_get_text (GTK_EDITABLE (self->code_row)));
}

static void
on_remove_response (AdwMessageDialog *dialog,
                    const char       *response,
                    BmsLeasePage     *self)
{
  if (g_str_equal (response, "remove"))
    write_lease (self, 0, "");
  g_object_unref (self);
}

static void
action_remove (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  BmsLeasePage *self = BMS_LEASE_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *dialog =
    adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                            _("Remove the Lease?"),
                            _("The battery will no longer lock at the end date: discharging "
                              "stays allowed for good, and an expired battery discharges again."));

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"), "remove", _("_Remove Lease"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_remove_response), g_object_ref (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- GObject ------------------------------------------------------------ */

static void
bms_lease_page_connection_changed (BmsPage *page)
{
  BmsLeasePage *self = BMS_LEASE_PAGE (page);
  BmsConnection *connection = bms_page_get_connection (page);

  if (connection)
    g_signal_connect_object (connection, "notify::state",
                             G_CALLBACK (update_actions), self, G_CONNECT_SWAPPED);
  update_actions (self);
}

static void
bms_lease_page_device_changed (BmsPage *page)
{
  BmsLeasePage *self = BMS_LEASE_PAGE (page);
  BmsDevice *device = bms_page_get_device (page);

  if (device)
    g_signal_connect_object (device, "updated", G_CALLBACK (show_lease), self, G_CONNECT_SWAPPED);
  show_lease (self);
  update_actions (self);
}

static void
bms_lease_page_dispose (GObject *object)
{
  BmsLeasePage *self = BMS_LEASE_PAGE (object);

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (bms_lease_page_parent_class)->dispose (object);
}

static void
bms_lease_page_class_init (BmsLeasePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  BmsPageClass *page_class = BMS_PAGE_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_lease_page_dispose;
  page_class->connection_changed = bms_lease_page_connection_changed;
  page_class->device_changed = bms_lease_page_device_changed;

  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-lease-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, state_label);
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, end_row);
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, end_label);
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, code_show_row);
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, code_label);
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, write_button);
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, remove_button);
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, date_button);
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, calendar);
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, days_spin);
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, code_row);
  gtk_widget_class_bind_template_child (widget_class, BmsLeasePage, result_label);
  gtk_widget_class_bind_template_callback (widget_class, on_day_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_days_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_code_changed);

  gtk_widget_class_install_action (widget_class, "lease.write", NULL, action_write);
  gtk_widget_class_install_action (widget_class, "lease.remove", NULL, action_remove);
}

static void
bms_lease_page_init (BmsLeasePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Tests type the code like a user would. */
  g_object_set_data (G_OBJECT (self), "code-row", self->code_row);
  g_object_set_data (G_OBJECT (self), "write-button", self->write_button);
  g_object_set_data (G_OBJECT (self), "end-label", self->end_label);
  g_object_set_data (G_OBJECT (self), "remove-button", self->remove_button);
  on_days_changed (self);
  show_lease (self);
  update_actions (self);
}

GtkWidget *
bms_lease_page_new (BmsConnection *connection)
{
  return g_object_new (BMS_TYPE_LEASE_PAGE, "connection", connection, NULL);
}

