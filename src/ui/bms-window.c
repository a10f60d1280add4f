/* bms-window.c — the main window: connection bar, summary and the pages */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "bms-window.h"
#include "packwatch-resources.h"
#include "bms-alarm-page.h"
#include "bms-connection-bar.h"
#include "bms-report-dialog.h"
#include "bms-password-dialog.h"
#include "bms-summary-bar.h"
#include "bms-dload-page.h"
#include "bms-health-page.h"
#include "bms-graph-page.h"
#include "bms-lease-page.h"
#include "bms-monitor-page.h"
#include "bms-normal-page.h"
#include "bms-param-page.h"
#include "bms-update-page.h"
#include "bms-flasher-progress.h"

struct _BmsWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;
  BmsConnection        *connection;
  char                 *screenshot_path;
  guint                 screenshot_timeout_id;
  guint                 screenshot_tick_id;   /* 1 while watching frames */
  gboolean              screenshot_ready;
  guint                 screenshot_retries;
  guint                 screenshot_frames;
  gint64                last_poll_us;        /* to measure the real cycle */
  double                gap_sum;
  guint                 gaps;
  gboolean              interval_adapted;

  AdwToastOverlay      *toast_overlay;
  BmsConnectionBar     *connection_bar;
  BmsSummaryBar        *summary_bar;
  AdwViewStack         *stack;
  AdwViewSwitcherTitle *switcher_title;
  GtkWidget            *monitor_page;
  GtkWidget            *alarm_page;
  GtkWidget            *param_page;
  GtkWidget            *normal_page;
  GtkWidget            *graph_page;
  GtkWidget            *update_page;
  GtkWidget            *lease_page;
  GtkWidget            *dload_page;
  GtkWidget            *health_page;
};

G_DEFINE_FINAL_TYPE (BmsWindow, bms_window, ADW_TYPE_APPLICATION_WINDOW)

static const char * const page_names[] = {
  "monitor", "alarm", "param", "normal", "graph", "update", "lease", "dload", "health", NULL
};

static void
bms_window_save_state (BmsWindow *self)
{
  int width, height;

  if (self->settings == NULL)
    return;
  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  g_settings_delay (self->settings);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
  g_settings_set_string (self->settings, "last-page", bms_window_get_page (self));
  g_settings_apply (self->settings);
}

static gboolean
bms_window_close_request (GtkWindow *window)
{
  bms_window_save_state (BMS_WINDOW (window));
  return GTK_WINDOW_CLASS (bms_window_parent_class)->close_request (window);
}

static void screenshot_watch_frames (BmsWindow *self);
static void screenshot_after_paint (GdkFrameClock *clock, BmsWindow *self);
static gboolean bms_window_can_snapshot (BmsWindow *self);

static void
bms_window_map (GtkWidget *widget)
{
  BmsWindow *self = BMS_WINDOW (widget);

  GTK_WIDGET_CLASS (bms_window_parent_class)->map (widget);
  if (self->screenshot_ready)
    screenshot_watch_frames (self);
}

static void
bms_window_dispose (GObject *object)
{
  BmsWindow *self = BMS_WINDOW (object);

  g_clear_handle_id (&self->screenshot_timeout_id, g_source_remove);
  if (gtk_widget_get_frame_clock (GTK_WIDGET (self)) != NULL)
    g_signal_handlers_disconnect_by_func (gtk_widget_get_frame_clock (GTK_WIDGET (self)),
                                          screenshot_after_paint, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), BMS_TYPE_WINDOW);
  g_clear_object (&self->connection);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (bms_window_parent_class)->dispose (object);
}

static void
bms_window_finalize (GObject *object)
{
  BmsWindow *self = BMS_WINDOW (object);

  g_free (self->screenshot_path);

  G_OBJECT_CLASS (bms_window_parent_class)->finalize (object);
}

static void
show_page_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  bms_window_show_page (BMS_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

static void
toggle_connection_activated (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *parameter)
{
  bms_connection_bar_toggle (BMS_WINDOW (widget)->connection_bar);
}

static void
unlock_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(BmsWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (bms_password_dialog_ask_finish (result, &error))
    adw_toast_overlay_add_toast (self->toast_overlay,
                                 adw_toast_new (_("Parameters unlocked")));
}

static void
unlock_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  BmsWindow *self = BMS_WINDOW (widget);

  if (!bms_connection_get_connected (self->connection))
    {
      adw_toast_overlay_add_toast (self->toast_overlay,
                                   adw_toast_new (_("Connect to a board first")));
      return;
    }
  bms_password_dialog_ask_async (widget, self->connection, NULL, NULL,
                                 unlock_done, g_object_ref (self));
}

static void
report_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  bms_report_dialog_present (widget, BMS_WINDOW (widget)->connection);
}

static void
lock_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  bms_connection_lock (BMS_WINDOW (widget)->connection);
}

static void
bms_window_class_init (BmsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = bms_window_dispose;
  object_class->finalize = bms_window_finalize;
  window_class->close_request = bms_window_close_request;
  widget_class->map = bms_window_map;

  /* Referencing the bundle keeps its object (and the constructor that
   * registers it) in the link of the static library. */
  (void) packwatch_get_resource ();

  g_type_ensure (BMS_TYPE_CONNECTION_BAR);
  g_type_ensure (BMS_TYPE_SUMMARY_BAR);
  g_type_ensure (BMS_TYPE_MONITOR_PAGE);
  g_type_ensure (BMS_TYPE_ALARM_PAGE);
  g_type_ensure (BMS_TYPE_PARAM_PAGE);
  g_type_ensure (BMS_TYPE_NORMAL_PAGE);
  g_type_ensure (BMS_TYPE_GRAPH_PAGE);
  g_type_ensure (BMS_TYPE_UPDATE_PAGE);
  g_type_ensure (BMS_TYPE_LEASE_PAGE);
  g_type_ensure (BMS_TYPE_DLOAD_PAGE);
  g_type_ensure (BMS_TYPE_HEALTH_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-window.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, connection_bar);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, summary_bar);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, monitor_page);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, alarm_page);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, param_page);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, normal_page);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, graph_page);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, update_page);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, lease_page);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, dload_page);
  gtk_widget_class_bind_template_child (widget_class, BmsWindow, health_page);

  gtk_widget_class_install_action (widget_class, "win.show-page", "s",
                                   show_page_activated);
  gtk_widget_class_install_action (widget_class, "win.toggle-connection", NULL,
                                   toggle_connection_activated);
  gtk_widget_class_install_action (widget_class, "win.unlock", NULL, unlock_activated);
  gtk_widget_class_install_action (widget_class, "win.report", NULL, report_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_p, GDK_CONTROL_MASK,
                                       "win.report", NULL);
  gtk_widget_class_install_action (widget_class, "win.lock", NULL, lock_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK,
                                       "win.toggle-connection", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_u, GDK_CONTROL_MASK,
                                       "win.unlock", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK,
                                       "win.lock", NULL);
  for (guint i = 0; page_names[i] != NULL; i++)
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1 + i,
                                         GDK_ALT_MASK, "win.show-page",
                                         "s", page_names[i]);
}

static void
bms_window_give_pages_connection (BmsWindow *self)
{
  GtkWidget *pages[] = {
    self->monitor_page, self->alarm_page, self->param_page, self->normal_page,
    self->graph_page, self->update_page, self->lease_page, self->dload_page, self->health_page,
  };

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_object_set (pages[i], "connection", self->connection, NULL);
      g_object_bind_property (self->connection, "device", pages[i], "device",
                              G_BINDING_SYNC_CREATE);
    }
}

/* A firmware update runs: the header says so instead of "polling every
 * 1.0 s" over frozen values. Follows the Update page's "flash-step". */
static void
flash_step_changed (BmsWindow *self)
{
  guint step = bms_update_page_get_flash_step (BMS_UPDATE_PAGE (self->update_page));
  g_autofree char *text = NULL;
  const char *details;

  if (step == 0)
    {
      bms_connection_bar_set_activity (self->connection_bar, NULL, NULL);
      bms_summary_bar_set_frozen (self->summary_bar, NULL);
      return;
    }
  /* TRANSLATORS: the step of the firmware update, of the 8 on the Update page */
  text = g_strdup_printf (_("Updating firmware · step %u of %u"), step,
                          (guint) BMS_FLASHER_STEP_CONFIRM);
  details = step < BMS_FLASHER_STEP_ENTER_BOOTLOADER
            ? _("Checking the firmware file. The board still runs its firmware; "
                "it is not polled during the update.")
            : _("The board is in its bootloader, being updated: it answers no reads, "
                "and the values shown are from before the update. The Update page "
                "shows the progress.");
  bms_connection_bar_set_activity (self->connection_bar, text, details);
  bms_summary_bar_set_frozen (self->summary_bar,
                              _("Values from before the firmware update: the board is "
                                "being updated"));
}

/* Not recording although connected (another process records the board,
 * the database is read-only): said once, when it starts. */
static void
recording_note_changed (BmsWindow *self)
{
  const char *note = bms_connection_get_recording_note (self->connection);
  AdwToast *toast;

  if (note == NULL)
    return;
  toast = adw_toast_new (note);
  adw_toast_set_timeout (toast, 0);  /* stays until dismissed: it matters */
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* The interval the wire allows. A 256-cell master at 9600 baud needs about
 * 1.25 s for one read-all: at the default 1.0 s it would be "lagging" for
 * ever. When the user never chose an interval, poll at the measured cycle
 * (rounded up to 0.1 s) for this connection and say so once; an interval
 * the user chose in Preferences stays, with the lag in the status. */
static void
poll_counted (BmsWindow *self)
{
  gint64 now = g_get_monotonic_time ();
  double interval = bms_connection_get_poll_interval (self->connection);
  double mean, wanted;
  g_autoptr(GVariant) chosen = NULL;
  g_autofree char *text = NULL;
  AdwToast *toast;

  if (bms_connection_get_state (self->connection) != BMS_CONNECTION_POLLING ||
      bms_connection_get_poll_count (self->connection) < 2)
    {
      /* The first reply comes after opening and probing: not a cycle. */
      self->last_poll_us = now;
      self->gap_sum = 0;
      self->gaps = 0;
      return;
    }
  self->gap_sum += (now - self->last_poll_us) / (double) G_USEC_PER_SEC;
  self->gaps++;
  self->last_poll_us = now;
  if (self->interval_adapted || self->gaps < 3 || self->settings == NULL)
    return;
  mean = self->gap_sum / self->gaps;
  self->gap_sum = 0;
  self->gaps = 0;
  chosen = g_settings_get_user_value (self->settings, "poll-interval");
  if (chosen != NULL || mean < interval * 1.1)
    return;
  wanted = ceil (mean * 10.0) / 10.0;
  self->interval_adapted = TRUE;
  bms_connection_set_poll_interval (self->connection, wanted);
  text = g_strdup_printf (_("A full read of this board takes %.2f s on this line: polling every "
                            "%.1f s instead of %.1f s. Preferences sets the interval."),
                          mean, wanted, interval);
  toast = adw_toast_new (text);
  adw_toast_set_timeout (toast, 10);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* Another board may be faster: the next connection starts at the setting. */
static void
state_changed (BmsWindow *self)
{
  if (bms_connection_get_state (self->connection) != BMS_CONNECTION_DISCONNECTED ||
      !self->interval_adapted)
    return;
  self->interval_adapted = FALSE;
  if (self->settings != NULL)
    bms_connection_set_poll_interval (self->connection,
                                      g_settings_get_double (self->settings, "poll-interval"));
}

static void
bms_window_init (BmsWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->connection = bms_connection_new ();
  bms_summary_bar_set_connection (self->summary_bar, self->connection);
  bms_window_give_pages_connection (self);
  g_signal_connect_object (self->connection, "notify::recording-note",
                           G_CALLBACK (recording_note_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->connection, "notify::poll-count",
                           G_CALLBACK (poll_counted), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->update_page, "notify::flash-step",
                           G_CALLBACK (flash_step_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->connection, "notify::state",
                           G_CALLBACK (state_changed), self, G_CONNECT_SWAPPED);
}

/* A demo (sim://, sim://master, a replay:// recording) never writes into
 * the user's history: each has a database of its own in the cache folder,
 * so its Graph page still works, and a 53 V demo and an 859 V master never
 * share a curve. NULL for a real board: the user's database. */
char *
bms_demo_history_path (const char *uri)
{
  g_autofree char *name = NULL;

  if (uri == NULL)
    return NULL;
  if (g_str_equal (uri, "sim://"))
    name = g_strdup ("demo.db");
  else if (g_str_equal (uri, "sim://master"))
    name = g_strdup ("demo-master.db");
  else if (g_str_has_prefix (uri, "replay://") || g_str_has_prefix (uri, "sim://"))
    {
      /* One per recording: two captures are two boards. */
      g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA1, uri, -1);
      name = g_strdup_printf ("replay-%.12s.db", hash);
    }
  else
    return NULL;
  return g_build_filename (g_get_user_cache_dir (), "packwatch", "demo", name, NULL);
}

static void
open_history (BmsWindow *self)
{
  g_autofree char *demo = bms_demo_history_path (bms_connection_get_uri (self->connection));
  g_autofree char *path = demo ? g_strdup (demo)
                               : g_settings_get_string (self->settings, "database-path");
  const char *open = g_object_get_data (G_OBJECT (self), "history-opened");

  if (demo != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (demo);
      g_mkdir_with_parents (dir, 0700);
    }
  /* Connecting again to the same kind of board keeps the open database. */
  if (open != NULL && g_str_equal (open, path))
    return;
  g_object_set_data_full (G_OBJECT (self), "history-opened", g_strdup (path), g_free);
  bms_connection_open_history (self->connection, path,
                               /* Demo data is worth a day at most. */
                               demo ? 1 : g_settings_get_uint (self->settings, "retention-days"));
}

static void
database_path_changed (BmsWindow *self)
{
  g_object_set_data (G_OBJECT (self), "history-opened", NULL);
  open_history (self);
}

static void
retention_changed (BmsWindow *self)
{
  BmsHistory *history = bms_connection_get_history (self->connection);
  g_autofree char *demo = bms_demo_history_path (bms_connection_get_uri (self->connection));

  if (history != NULL && demo == NULL)
    bms_history_set_retention_days (history,
                                    g_settings_get_uint (self->settings, "retention-days"));
}

static void
bms_window_restore_state (BmsWindow      *self,
                          BmsApplication *application)
{
  const char *page = bms_application_get_start_page (application);
  g_autofree char *last_page = NULL;

  self->settings = g_object_ref (bms_application_get_settings (application));
  bms_connection_bar_setup (self->connection_bar, self->connection, self->settings);
  g_settings_bind (self->settings, "poll-interval", self->connection, "poll-interval",
                   G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "lock-timeout", self->connection, "lock-timeout",
                   G_SETTINGS_BIND_GET);
  g_signal_connect_object (self->settings, "changed::database-path",
                           G_CALLBACK (database_path_changed), self, G_CONNECT_SWAPPED);
  /* The URI is set before the port opens, and samples come only after:
   * switching here keeps every demo sample out of the user's database. */
  g_signal_connect_object (self->connection, "notify::uri",
                           G_CALLBACK (open_history), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::retention-days",
                           G_CALLBACK (retention_changed), self, G_CONNECT_SWAPPED);
  /* A window that connects at start opens its database as it connects. */
  if (bms_application_get_demo_uri (application) == NULL &&
      bms_application_get_port_uri (application) == NULL)
    open_history (self);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
  if (page == NULL)
    page = last_page = g_settings_get_string (self->settings, "last-page");
  bms_window_show_page (self, page);
}

static void
take_screenshot (BmsWindow *self)
{
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&self->screenshot_timeout_id, g_source_remove);
  if (self->screenshot_path == NULL)
    return;
  if (!bms_window_save_png (self, self->screenshot_path, &error))
    g_printerr ("%s\n", error->message);
  else
    g_printerr ("Saved %s\n", self->screenshot_path);
  g_clear_pointer (&self->screenshot_path, g_free);
  gtk_window_close (GTK_WINDOW (self));
}

static void screenshot_watch_frames (BmsWindow *self);

static gboolean
screenshot_idle (gpointer user_data)
{
  BmsWindow *self = user_data;

  /* A relayout pending at this moment gives an empty picture: try again
   * after the next frame (a few times), rather than save nothing. */
  self->screenshot_tick_id = 0;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)) && self->screenshot_retries < 20 &&
      !bms_window_can_snapshot (self))
    {
      self->screenshot_retries++;
      screenshot_watch_frames (self);
      return G_SOURCE_REMOVE;
    }
  take_screenshot (self);
  return G_SOURCE_REMOVE;
}

/* Two painted frames after the first data: the pages have laid out and drawn
 * it. The picture itself is taken from an idle, outside the paint cycle. */
static void
screenshot_after_paint (GdkFrameClock *clock,
                        BmsWindow     *self)
{
  if (++self->screenshot_frames == 2)
    {
      g_signal_handlers_disconnect_by_func (clock, screenshot_after_paint, self);
      g_idle_add_full (G_PRIORITY_DEFAULT, screenshot_idle, g_object_ref (self),
                       g_object_unref);
      return;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
screenshot_watch_frames (BmsWindow *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  if (clock == NULL || self->screenshot_tick_id != 0)
    return;
  self->screenshot_tick_id = 1;
  self->screenshot_frames = 0;
  g_signal_connect (clock, "after-paint", G_CALLBACK (screenshot_after_paint), self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
screenshot_data_arrived (BmsWindow *self)
{
  if (self->screenshot_path == NULL)
    return;
  self->screenshot_ready = TRUE;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    screenshot_watch_frames (self);
}

static void
screenshot_device_changed (BmsWindow *self)
{
  BmsDevice *device = bms_connection_get_device (self->connection);

  if (device != NULL)
    g_signal_connect_object (device, "updated",
                             G_CALLBACK (screenshot_data_arrived), self,
                             G_CONNECT_SWAPPED);
}

static gboolean
screenshot_timeout (gpointer user_data)
{
  BmsWindow *self = user_data;

  self->screenshot_timeout_id = 0;
  g_printerr ("No data arrived within 30 s; saving the window as it is.\n");
  take_screenshot (self);
  return G_SOURCE_REMOVE;
}

static void
bms_window_schedule_screenshot (BmsWindow  *self,
                                const char *path,
                                gboolean    wait_for_data)
{
  self->screenshot_path = g_strdup (path);
  /* A picture mid-transition shows two page switchers on top of each other. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  if (!wait_for_data)
    {
      /* Nothing to wait for: the first frames of an idle window. */
      screenshot_data_arrived (self);
      return;
    }
  g_signal_connect_object (self->connection, "notify::device",
                             G_CALLBACK (screenshot_device_changed), self,
                             G_CONNECT_SWAPPED);
  screenshot_device_changed (self);
  self->screenshot_timeout_id = g_timeout_add_seconds (30, screenshot_timeout, self);
}

BmsWindow *
bms_window_new (BmsApplication *application)
{
  BmsWindow *self;
  const char *screenshot;

  g_return_val_if_fail (BMS_IS_APPLICATION (application), NULL);

  self = g_object_new (BMS_TYPE_WINDOW, "application", application, NULL);
  bms_window_restore_state (self, application);
  if (bms_application_get_port_uri (application) != NULL)
    {
      guint baud;
      int address;

      bms_application_get_line (application, &baud, &address);
      bms_connection_bar_set_line (self->connection_bar, baud, address >= 0 ? address : 1);
      bms_connection_bar_connect_to (self->connection_bar,
                                     bms_application_get_port_uri (application));
    }
  else if (bms_application_get_demo_uri (application) != NULL)
    bms_connection_bar_connect_to (self->connection_bar,
                                   bms_application_get_demo_uri (application));
  screenshot = bms_application_get_screenshot_path (application);
  if (screenshot != NULL)
    bms_window_schedule_screenshot (self, screenshot,
                                    bms_application_get_demo_uri (application) != NULL ||
                                    bms_application_get_port_uri (application) != NULL ||
                                    g_getenv ("PACKWATCH_SCREENSHOT_WAIT") != NULL);
  return self;
}

BmsConnection *
bms_window_get_connection (BmsWindow *self)
{
  g_return_val_if_fail (BMS_IS_WINDOW (self), NULL);
  return self->connection;
}

void
bms_window_show_page (BmsWindow  *self,
                      const char *name)
{
  g_return_if_fail (BMS_IS_WINDOW (self));
  g_return_if_fail (name != NULL);

  if (adw_view_stack_get_child_by_name (self->stack, name) != NULL)
    adw_view_stack_set_visible_child_name (self->stack, name);
}

const char *
bms_window_get_page (BmsWindow *self)
{
  const char *name;

  g_return_val_if_fail (BMS_IS_WINDOW (self), NULL);
  name = adw_view_stack_get_visible_child_name (self->stack);
  return name != NULL ? name : "monitor";
}

GtkWidget *
bms_window_get_page_widget (BmsWindow  *self,
                            const char *name)
{
  g_return_val_if_fail (BMS_IS_WINDOW (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return adw_view_stack_get_child_by_name (self->stack, name);
}

static GskRenderNode *
render_window (gpointer native)
{
  GtkWidget *widget = GTK_WIDGET (native);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();

  gdk_paintable_snapshot (paintable, snapshot, gtk_widget_get_width (widget),
                          gtk_widget_get_height (widget));
  return gtk_snapshot_free_to_node (snapshot);
}

static gboolean
bms_window_can_snapshot (BmsWindow *self)
{
  g_autoptr(GskRenderNode) node = render_window (self);

  return node != NULL;
}

gboolean
bms_window_save_png (BmsWindow   *self,
                     const char  *path,
                     GError     **error)
{
  g_return_val_if_fail (BMS_IS_WINDOW (self), FALSE);
  return bms_save_native_png (GTK_WIDGET (self), path, error);
}

gboolean
bms_save_native_png (GtkWidget   *native,
                     const char  *path,
                     GError     **error)
{
  GtkWidget *widget = native;
  gpointer self = native;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer;

  g_return_val_if_fail (GTK_IS_NATIVE (native), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  renderer = gtk_native_get_renderer (GTK_NATIVE (self));
  if (renderer == NULL || width <= 0 || height <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   _("Cannot save a picture of the window: it is not shown yet"));
      return FALSE;
    }
  node = render_window (self);
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Cannot save a picture of the window: nothing was drawn"));
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Could not write the picture to %s"), path);
      return FALSE;
    }
  return TRUE;
}

/* Selects the port and connects, as the Connect button does. */
void
bms_window_connect_to (BmsWindow  *self,
                       const char *uri)
{
  g_return_if_fail (BMS_IS_WINDOW (self));
  g_return_if_fail (uri != NULL);

  bms_connection_bar_connect_to (self->connection_bar, uri);
}
