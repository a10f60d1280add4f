/* bms-alarm-page.c — active alarms, the event history, desktop notifications */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#include "bms-alarm-page.h"
#include "bms-application.h"

#define MAX_EVENTS 500

struct _BmsAlarmPage
{
  BmsPage          parent_instance;

  BmsAlarmMonitor *monitor;
  GCancellable    *query_cancellable;
  guint            refresh_id;
  guint            n_active;
  guint            n_events;

  AdwPreferencesGroup *active_group;
  AdwPreferencesGroup *history_group;
  GtkListBox      *active_list;
  GtkListBox      *events_list;
  GtkDropDown     *range_dropdown;
};

G_DEFINE_FINAL_TYPE (BmsAlarmPage, bms_alarm_page, BMS_TYPE_PAGE)

static const char *
severity_icon (BmsAlarmSeverity severity)
{
  switch (severity)
    {
    case BMS_ALARM_SEVERITY_INFO:
      return "dialog-information-symbolic";
    case BMS_ALARM_SEVERITY_WARNING:
    case BMS_ALARM_SEVERITY_PROTECTION:
      return "dialog-warning-symbolic";
    case BMS_ALARM_SEVERITY_FAULT:
    default:
      return "dialog-error-symbolic";
    }
}

static const char *
severity_label (BmsAlarmSeverity severity)
{
  switch (severity)
    {
    case BMS_ALARM_SEVERITY_INFO:
      return _("Info");
    case BMS_ALARM_SEVERITY_WARNING:
      return _("Warning");
    case BMS_ALARM_SEVERITY_PROTECTION:
      return _("Protection");
    case BMS_ALARM_SEVERITY_FAULT:
    default:
      return _("Fault");
    }
}

static const char *
severity_class (BmsAlarmSeverity severity)
{
  return severity >= BMS_ALARM_SEVERITY_PROTECTION ? "error"
       : severity == BMS_ALARM_SEVERITY_WARNING ? "warning" : "accent";
}

static char *
format_time (gint64 time_us,
             const char *format)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);

  return dt ? g_date_time_format (dt, format) : g_strdup ("—");
}

/* "3700 mV, limit 3650 mV": the value and the limit once, with units. */
static void
append_value_limit (GString    *s,
                    gboolean    has_value,
                    double      value,
                    gboolean    has_limit,
                    double      limit,
                    const char *unit)
{
  const char *space = unit != NULL && *unit != '\0' ? " " : "";

  if (unit == NULL)
    unit = "";
  if (!has_value && !has_limit)
    return;
  if (s->len)
    g_string_append (s, " · ");
  if (has_value)
    g_string_append_printf (s, "%.4g%s%s", value, space, unit);
  if (has_value && has_limit)
    g_string_append (s, ", ");
  if (has_limit)
    g_string_append_printf (s, _("limit %.4g%s%s"), limit, space, unit);
}

static char *
describe_alarm (BmsAlarm *alarm)
{
  GString *s = g_string_new (NULL);
  const char *unit = bms_alarm_get_unit (alarm);
  g_autofree char *since = format_time (bms_alarm_get_raised_at (alarm), "%H:%M:%S");

  if (bms_alarm_get_module (alarm) > 0)
    g_string_append_printf (s, _("Module %u"), bms_alarm_get_module (alarm));
  if (bms_alarm_get_cell (alarm) > 0)
    {
      if (s->len)
        g_string_append (s, " · ");
      g_string_append_printf (s, _("Cell %u"), bms_alarm_get_cell (alarm));
    }
  append_value_limit (s, bms_alarm_get_has_value (alarm), bms_alarm_get_value (alarm),
                      bms_alarm_get_has_threshold (alarm), bms_alarm_get_threshold (alarm), unit);
  if (s->len)
    g_string_append (s, " · ");
  g_string_append_printf (s, _("since %s"), since);
  return g_string_free (s, FALSE);
}

static GtkWidget *
active_row_new (gpointer item,
                gpointer user_data)
{
  BmsAlarm *alarm = item;
  BmsAlarmSeverity severity = bms_alarm_get_severity (alarm);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name (severity_icon (severity));
  GtkWidget *label = gtk_label_new (severity_label (severity));
  g_autofree char *subtitle = describe_alarm (alarm);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), bms_alarm_get_name (alarm));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_add_css_class (icon, severity_class (severity));
  gtk_widget_add_css_class (label, severity_class (severity));
  gtk_widget_add_css_class (label, "heading");
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  return row;
}

static GtkWidget *
placeholder_new (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_set_margin_top (label, 18);
  gtk_widget_set_margin_bottom (label, 18);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  return label;
}

static void
update_active_title (BmsAlarmPage *self)
{
  g_autofree char *description = NULL;

  self->n_active = self->monitor ? g_list_model_get_n_items (G_LIST_MODEL (self->monitor)) : 0;
  if (self->monitor == NULL)
    description = g_strdup (_("Connect to a board to see its alarms."));
  else if (self->n_active == 0)
    description = g_strdup (_("Nothing is wrong right now."));
  else
    description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u alarm is active.",
                                                "%u alarms are active.", self->n_active),
                                   self->n_active);
  adw_preferences_group_set_description (self->active_group, description);
}

static void
notify_desktop (BmsAlarmPage *self,
                BmsAlarm     *alarm)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkApplication *app;
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *body = NULL;
  g_autofree char *id = NULL;

  if (!GTK_IS_WINDOW (root) || gtk_window_is_active (GTK_WINDOW (root)))
    return;
  /* Alarms the board has as the line opens are on screen with the first
   * numbers, often before the new window is even active: the desktop hears
   * of those that arise later. */
  if (BMS_PAGE_CONNECTION (self) != NULL &&
      bms_connection_get_poll_count (BMS_PAGE_CONNECTION (self)) <= 1)
    return;
  app = gtk_window_get_application (GTK_WINDOW (root));
  /* A --screenshot run is for pictures, not for the desktop's attention. */
  if (app == NULL || (BMS_IS_APPLICATION (app) &&
                      bms_application_get_screenshot_path (BMS_APPLICATION (app)) != NULL))
    return;
  body = describe_alarm (alarm);
  notification = g_notification_new (bms_alarm_get_name (alarm));
  g_notification_set_body (notification, body);
  g_notification_set_priority (notification,
                               bms_alarm_get_severity (alarm) >= BMS_ALARM_SEVERITY_PROTECTION
                               ? G_NOTIFICATION_PRIORITY_URGENT : G_NOTIFICATION_PRIORITY_HIGH);
  g_notification_set_default_action_and_target (notification, "app.show-page", "s", "alarm");
  id = g_strdup_printf ("alarm-%s", bms_alarm_get_code (alarm));
  g_application_send_notification (G_APPLICATION (app), id, notification);
}

static gboolean
refresh_later (gpointer user_data)
{
  BmsAlarmPage *self = user_data;

  self->refresh_id = 0;
  bms_alarm_page_refresh_history (self);
  return G_SOURCE_REMOVE;
}

static void
alarm_event (BmsAlarmPage *self,
             BmsAlarm     *alarm,
             gboolean      raised,
             gint64        time_us)
{
  if (raised)
    notify_desktop (self, alarm);
  /* The event reaches the database through the writer's queue: read back a
   * little later, and only once for a burst of events. */
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (1500, refresh_later, self);
}

static void
set_monitor (BmsAlarmPage    *self,
             BmsAlarmMonitor *monitor)
{
  if (self->monitor == monitor)
    return;
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_set_object (&self->monitor, monitor);
  gtk_list_box_bind_model (self->active_list, G_LIST_MODEL (monitor),
                           active_row_new, NULL, NULL);
  if (monitor != NULL)
    {
      g_signal_connect_object (monitor, "items-changed",
                               G_CALLBACK (update_active_title), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (monitor, "event",
                               G_CALLBACK (alarm_event), self, G_CONNECT_SWAPPED);
    }
  update_active_title (self);
}

/* ---- event history ---- */

/* The event's text is the alarm described when it was recorded: its name,
 * where, value and limit with units. The row's title is the name already,
 * so the rest of the text is all the subtitle needs; a text that is not a
 * description (a refused reply's reason) comes after value and limit. */
char *
bms_alarm_page_describe_event (const BmsHistoryAlarmEvent *event,
                               const char                 *title)
{
  const BmsAlarmInfo *info = bms_alarm_info_lookup (event->code);
  g_autofree char *when = format_time (event->time_us, "%Y-%m-%d %H:%M:%S");
  GString *subtitle = g_string_new (when);
  const char *text = event->text != NULL ? event->text : "";
  const char *rest = NULL;

  g_string_append_printf (subtitle, " · %s", event->raised ? _("raised") : _("cleared"));
  if (info != NULL && g_str_has_prefix (text, info->name))
    rest = text + strlen (info->name);
  else if (title != NULL && *title != '\0' && g_str_has_prefix (text, title))
    rest = text + strlen (title);
  if (rest != NULL)
    {
      while (*rest == ' ' || *rest == ':')
        rest++;
      if (*rest != '\0')
        g_string_append_printf (subtitle, " · %s", rest);
      return g_string_free (subtitle, FALSE);
    }
  append_value_limit (subtitle, !isnan (event->value), event->value, !isnan (event->threshold),
                      event->threshold, bms_alarm_info_get_unit (info));
  if (*text != '\0')
    g_string_append_printf (subtitle, " · %s", text);
  return g_string_free (subtitle, FALSE);
}

static GtkWidget *
event_row_new (const BmsHistoryAlarmEvent *event)
{
  const BmsAlarmInfo *info = bms_alarm_info_lookup (event->code);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon;
  const char *title = info ? _(info->name) : event->code;
  g_autofree char *subtitle = bms_alarm_page_describe_event (event, title);

  icon = gtk_image_new_from_icon_name (event->raised ? "go-up-symbolic" : "object-select-symbolic");
  gtk_widget_add_css_class (icon, event->raised ? "error" : "success");
  gtk_widget_set_tooltip_text (icon, event->raised ? _("Raised") : _("Cleared"));
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
  return row;
}

static void
clear_events (BmsAlarmPage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->events_list))) != NULL)
    gtk_list_box_remove (self->events_list, child);
  self->n_events = 0;
}

static void
events_loaded (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  BmsAlarmPage *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = bms_history_query_alarm_events_finish (BMS_HISTORY (source),
                                                                       result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  clear_events (self);
  if (events == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The history could not be read: %s"),
                                               error->message);
      gtk_list_box_set_placeholder (self->events_list, placeholder_new (text));
      return;
    }
  gtk_list_box_set_placeholder (self->events_list,
                                placeholder_new (_("No alarm events in this time range.")));
  /* Newest first. */
  for (guint i = events->len; i > 0; i--)
    gtk_list_box_append (self->events_list, event_row_new (g_ptr_array_index (events, i - 1)));
  self->n_events = events->len;
}

static gint64
range_start (BmsAlarmPage *self)
{
  static const gint64 hours[] = { 1, 24, 24 * 7, 24 * 30 };
  guint i = gtk_drop_down_get_selected (self->range_dropdown);

  if (i >= G_N_ELEMENTS (hours))
    return 0;
  return g_get_real_time () - hours[i] * 3600 * G_USEC_PER_SEC;
}

void
bms_alarm_page_refresh_history (BmsAlarmPage *self)
{
  BmsHistory *history;

  g_return_if_fail (BMS_IS_ALARM_PAGE (self));

  history = bms_page_get_history (BMS_PAGE (self));
  g_cancellable_cancel (self->query_cancellable);
  g_clear_object (&self->query_cancellable);
  if (history == NULL)
    {
      const char *why = BMS_PAGE_CONNECTION (self) ? bms_connection_get_history_error (BMS_PAGE_CONNECTION (self)) : NULL;
      g_autofree char *text = why ? g_strdup_printf (_("No history database: %s"), why)
                                  : g_strdup (_("The history database is opening…"));
      clear_events (self);
      gtk_list_box_set_placeholder (self->events_list, placeholder_new (text));
      return;
    }
  self->query_cancellable = g_cancellable_new ();
  bms_history_query_alarm_events_async (history,
                                        bms_page_get_history_device_id (BMS_PAGE (self)),
                                        range_start (self), G_MAXINT64, MAX_EVENTS,
                                        self->query_cancellable, events_loaded, self);
}

/* ---- GObject ---- */

static void
bms_alarm_page_dispose (GObject *object)
{
  BmsAlarmPage *self = BMS_ALARM_PAGE (object);

  g_cancellable_cancel (self->query_cancellable);
  g_clear_object (&self->query_cancellable);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  set_monitor (self, NULL);

  G_OBJECT_CLASS (bms_alarm_page_parent_class)->dispose (object);
}

static void
connection_monitor_changed (BmsAlarmPage *self)
{
  BmsConnection *connection = BMS_PAGE_CONNECTION (self);

  set_monitor (self, connection ? bms_connection_get_alarm_monitor (connection) : NULL);
}

static void
connect_connection (BmsAlarmPage  *self,
                    BmsConnection *connection)
{
  g_signal_connect_object (connection, "notify::alarm-monitor",
                           G_CALLBACK (connection_monitor_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::history",
                           G_CALLBACK (bms_alarm_page_refresh_history), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::history-error",
                           G_CALLBACK (bms_alarm_page_refresh_history), self,
                           G_CONNECT_SWAPPED);
}

static void
bms_alarm_page_connection_changed (BmsPage *page)
{
  BmsAlarmPage *self = BMS_ALARM_PAGE (page);
  BmsConnection *connection = bms_page_get_connection (page);

  if (connection != NULL)
    connect_connection (self, connection);
  connection_monitor_changed (self);
  bms_alarm_page_refresh_history (self);
}

static void
bms_alarm_page_class_init (BmsAlarmPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_alarm_page_dispose;
  BMS_PAGE_CLASS (klass)->connection_changed = bms_alarm_page_connection_changed;

  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-alarm-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsAlarmPage, active_group);
  gtk_widget_class_bind_template_child (widget_class, BmsAlarmPage, history_group);
  gtk_widget_class_bind_template_child (widget_class, BmsAlarmPage, active_list);
  gtk_widget_class_bind_template_child (widget_class, BmsAlarmPage, events_list);
  gtk_widget_class_bind_template_child (widget_class, BmsAlarmPage, range_dropdown);
  gtk_widget_class_bind_template_callback (widget_class, bms_alarm_page_refresh_history);
}

static void
bms_alarm_page_init (BmsAlarmPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_list_box_set_placeholder (self->active_list,
                                placeholder_new (_("No active alarms")));
  g_signal_connect_object (self->range_dropdown, "notify::selected",
                           G_CALLBACK (bms_alarm_page_refresh_history), self,
                           G_CONNECT_SWAPPED);
  update_active_title (self);
}

GtkWidget *
bms_alarm_page_new (BmsConnection *connection)
{
  return g_object_new (BMS_TYPE_ALARM_PAGE, "connection", connection, NULL);
}

guint
bms_alarm_page_get_n_active (BmsAlarmPage *self)
{
  g_return_val_if_fail (BMS_IS_ALARM_PAGE (self), 0);
  return self->n_active;
}

guint
bms_alarm_page_get_n_events (BmsAlarmPage *self)
{
  g_return_val_if_fail (BMS_IS_ALARM_PAGE (self), 0);
  return self->n_events;
}
