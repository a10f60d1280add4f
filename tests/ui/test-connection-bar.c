/* The connection bar takes any port: typed paths (a pseudo-terminal,
 * /dev/ttyS1, a by-id link), tcp://host:port, sim:// and replay:FILE; it
 * remembers recent ones, marks "(not found)" only a path that is absent,
 * keeps its status short with the details in a popover, and names the demo
 * that really runs. `packwatch --port` connects at start, and a demo keeps
 * its samples out of the user's history database. */
#define _GNU_SOURCE
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <glib/gstdio.h>
#include <glib/gi18n.h>
#include <locale.h>

#include "bms-connection-bar.h"
#include "bms-firmware.h"
#include "bms-flasher.h"
#include "bms-history.h"
#include "bms-update-page.h"
#include "bms-sim.h"
#include "bms-summary-bar.h"
#include "bms-window.h"
#include "packwatch-resources.h"
#include "ui-test-util.h"

/* The first descendant of root of this type (depth first). */
static GtkWidget *
find_child (GtkWidget *root,
            GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_child (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static const char *
shown_port (GtkWidget *bar)
{
  GtkDropDown *ports = GTK_DROP_DOWN (find_child (bar, GTK_TYPE_DROP_DOWN));
  GObject *item = gtk_drop_down_get_selected_item (ports);

  return item ? gtk_string_object_get_string (GTK_STRING_OBJECT (item)) : NULL;
}

static gboolean
port_listed (GtkWidget  *bar,
             const char *label)
{
  GListModel *list = gtk_drop_down_get_model (GTK_DROP_DOWN (find_child (bar, GTK_TYPE_DROP_DOWN)));

  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr(GtkStringObject) item = g_list_model_get_item (list, i);

      if (g_str_equal (gtk_string_object_get_string (item), label))
        return TRUE;
    }
  return FALSE;
}

static void
select_port (GtkWidget  *bar,
             const char *label)
{
  GtkDropDown *ports = GTK_DROP_DOWN (find_child (bar, GTK_TYPE_DROP_DOWN));
  GListModel *list = gtk_drop_down_get_model (ports);

  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr(GtkStringObject) item = g_list_model_get_item (list, i);

      if (g_str_equal (gtk_string_object_get_string (item), label))
        {
          gtk_drop_down_set_selected (ports, i);
          return;
        }
    }
  g_assert_not_reached ();
}

static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static void
test_port_text (void)
{
  const char *root = g_getenv ("PACKWATCH_SOURCE_ROOT");
  g_autofree char *file = g_build_filename (root ? root : ".", "tests", "data",
                                            "nw-readall-14s.hex", NULL);
  g_autofree char *replay = g_strconcat ("replay:", file, NULL);
  const char *good[][2] = {
    { "/dev/ttyS1", "/dev/ttyS1" },
    { "  /dev/serial/by-id/usb-FTDI_FT232R-if00-port0 ", "/dev/serial/by-id/usb-FTDI_FT232R-if00-port0" },
    { "COM3", "COM3" },
    { "tcp://192.168.1.50:8899", "tcp://192.168.1.50:8899" },
    { "sim://", "sim://" },
    { "sim://master", "sim://master" },
  };
  const char *bad[] = { "", "ttyUSB0", "tcp://gateway", "tcp://:8899", "replay:/nonexistent.hex",
                        "ftp://x" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *uri = bms_port_from_text (good[i][0], &error);

      g_assert_no_error (error);
      g_assert_cmpstr (uri, ==, good[i][1]);
    }
  {
    g_autofree char *uri = bms_port_from_text (replay, NULL);
    g_autofree char *want = g_strconcat ("replay://", file, NULL);

    g_assert_cmpstr (uri, ==, want);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *uri = bms_port_from_text (bad[i], &error);

      g_assert_null (uri);
      g_assert_nonnull (error);
      g_test_message ("%s → %s", bad[i], error->message);
    }
}

/* A pseudo-terminal typed into the bar is connected to, remembered, and
 * listed as itself; an absent path is "(not found)". */
static void
test_typed_port (void)
{
  g_autoptr(GSettings) settings = bms_settings_new ();
  g_autoptr(BmsConnection) connection = bms_connection_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *bar;
  GtkWidget *status_button;
  GtkEntry *entry;
  int master = posix_openpt (O_RDWR | O_NOCTTY);
  const char *pty;
  g_auto(GStrv) recent = NULL;
  g_autofree char *missing = NULL;

  g_assert_cmpint (master, >=, 0);
  g_assert_cmpint (grantpt (master), ==, 0);
  g_assert_cmpint (unlockpt (master), ==, 0);
  pty = ptsname (master);
  g_settings_set_string (settings, "port", "/dev/ttyPACKWATCH-GONE");
  g_settings_set_strv (settings, "recent-ports", NULL);

  bar = g_object_new (BMS_TYPE_CONNECTION_BAR, NULL);
  gtk_window_set_child (GTK_WINDOW (window), bar);
  bms_connection_bar_setup (BMS_CONNECTION_BAR (bar), connection, settings);
  gtk_window_present (GTK_WINDOW (window));
  spin (300);
  g_assert_cmpstr (shown_port (bar), ==, "/dev/ttyPACKWATCH-GONE (not found)");

  /* A typo: the whole reason, not cut off, in the popover. */
  select_port (bar, "Other port or gateway…");
  entry = GTK_ENTRY (find_child (bar, GTK_TYPE_ENTRY));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (entry)));
  gtk_editable_set_text (GTK_EDITABLE (entry), "tcp://gateway");
  bms_connection_bar_toggle (BMS_CONNECTION_BAR (bar));
  g_assert_cmpint (bms_connection_get_state (connection), ==, BMS_CONNECTION_DISCONNECTED);
  status_button = find_child (bar, GTK_TYPE_MENU_BUTTON);
  g_assert_true (gtk_widget_get_visible (status_button));
  {
    GtkPopover *popover = gtk_menu_button_get_popover (GTK_MENU_BUTTON (status_button));
    GtkLabel *details = GTK_LABEL (gtk_popover_get_child (popover));

    g_assert_nonnull (strstr (gtk_label_get_label (details), "tcp://host:port"));
    g_assert_nonnull (strstr (gtk_label_get_label (details), "tcp://192.168.1.50:8899"));
    gtk_popover_popdown (popover);
  }

  gtk_editable_set_text (GTK_EDITABLE (entry), pty);
  bms_connection_bar_toggle (BMS_CONNECTION_BAR (bar));
  g_assert_cmpstr (bms_connection_get_uri (connection), ==, pty);
  g_assert_cmpstr (shown_port (bar), ==, pty);
  recent = g_settings_get_strv (settings, "recent-ports");
  g_assert_cmpstr (recent[0], ==, pty);
  bms_connection_disconnect (connection);

  /* Listed again after a refresh, as itself: it exists. */
  missing = g_strdup_printf ("%s (not found)", pty);
  g_assert_false (port_listed (bar, missing));
  g_assert_true (port_listed (bar, pty));

  /* Demos are not "recent": they are always listed. */
  select_port (bar, "Other port or gateway…");
  gtk_editable_set_text (GTK_EDITABLE (entry), "sim://master");
  bms_connection_bar_toggle (BMS_CONNECTION_BAR (bar));
  g_assert_cmpstr (bms_connection_get_uri (connection), ==, "sim://master");
  g_assert_cmpstr (shown_port (bar), ==, "Demo master (256 cells)");
  g_strfreev (recent);
  recent = g_settings_get_strv (settings, "recent-ports");
  g_assert_cmpuint (g_strv_length (recent), ==, 1);
  bms_connection_disconnect (connection);

  gtk_window_destroy (GTK_WINDOW (window));
  close (master);
}

typedef struct
{
  char      *uri;
  char      *history;
  char      *label;
  guint      cells;
  guint      address;
} Seen;

static void
on_poll (BmsConnection *connection, GParamSpec *pspec, Seen *seen)
{
  BmsDevice *device = bms_connection_get_device (connection);
  BmsHistory *history = bms_connection_get_history (connection);
  GtkWidget *window = g_object_get_data (G_OBJECT (connection), "test-window");

  if (device == NULL || bms_device_get_cell_count (device) == 0 || history == NULL)
    return;
  g_free (seen->uri);
  seen->uri = g_strdup (bms_connection_get_uri (connection));
  g_free (seen->history);
  seen->history = g_strdup (bms_history_get_path (history));
  g_free (seen->label);
  seen->label = g_strdup (shown_port (find_child (window, BMS_TYPE_CONNECTION_BAR)));
  seen->cells = bms_device_get_cell_count (device);
}

static void
watch_polls (GtkApplication *app, Seen *seen)
{
  BmsWindow *window = BMS_WINDOW (gtk_application_get_active_window (app));
  BmsConnection *connection = bms_window_get_connection (window);

  g_object_set_data (G_OBJECT (connection), "test-window", window);
  g_signal_connect (connection, "notify::poll-count", G_CALLBACK (on_poll), seen);
}

static void
seen_clear (Seen *seen)
{
  g_clear_pointer (&seen->uri, g_free);
  g_clear_pointer (&seen->history, g_free);
  g_clear_pointer (&seen->label, g_free);
}

/* --demo with sim://master remembered: the list names the 16-cell demo
 * that runs, and its samples go into a database of the demo's own. */
static void
test_demo_history (void)
{
  g_autoptr(GSettings) settings = bms_settings_new ();
  g_autofree char *user_db = bms_history_default_path ();
  g_autofree char *demo_db = bms_demo_history_path ("sim://");
  g_autofree char *master_db = bms_demo_history_path ("sim://master");
  g_autofree char *path = ui_test_screenshot_path ("connection-bar-demo");
  const char *args[] = { "--demo", "--screenshot", path, NULL };
  const char *master_args[] = { "--port", "sim://master", "--screenshot", path, NULL };
  Seen seen = { 0 };

  g_settings_set_string (settings, "port", "sim://master");
  g_settings_set_string (settings, "database-path", "");
  g_assert_cmpint (ui_test_run_app (args, G_CALLBACK (watch_polls), &seen), ==, 0);
  g_assert_cmpstr (seen.uri, ==, "sim://");
  g_assert_cmpuint (seen.cells, ==, 16);
  g_assert_cmpstr (seen.label, ==, "Demo (simulated 16-cell BMS)");
  g_assert_cmpstr (seen.history, ==, demo_db);
  g_assert_true (g_file_test (demo_db, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (user_db, G_FILE_TEST_EXISTS));
  seen_clear (&seen);

  /* --port connects at start; the master demo has a database of its own. */
  g_assert_cmpint (ui_test_run_app (master_args, G_CALLBACK (watch_polls), &seen), ==, 0);
  g_assert_cmpstr (seen.uri, ==, "sim://master");
  g_assert_cmpuint (seen.cells, ==, 256);
  g_assert_cmpstr (seen.label, ==, "Demo master (256 cells)");
  g_assert_cmpstr (seen.history, ==, master_db);
  g_assert_cmpstr (master_db, !=, demo_db);
  g_assert_false (g_file_test (user_db, G_FILE_TEST_EXISTS));
  seen_clear (&seen);
}

typedef struct
{
  GtkWindow *window;
  double     interval;
  guint      timeout_id;
} Interval;

static void
interval_changed (BmsConnection *connection, GParamSpec *pspec, Interval *seen)
{
  seen->interval = bms_connection_get_poll_interval (connection);
  gtk_window_close (seen->window);
}

/* With an interval of the user's own: six polls and no change. */
static void
count_polls (BmsConnection *connection, GParamSpec *pspec, Interval *seen)
{
  if (bms_connection_get_poll_count (connection) >= 6)
    gtk_window_close (seen->window);
}

static gboolean
give_up (gpointer data)
{
  Interval *seen = data;

  seen->timeout_id = 0;
  gtk_window_close (seen->window);
  return G_SOURCE_REMOVE;
}

static void
watch_interval (GtkApplication *app, Interval *seen)
{
  BmsConnection *connection;

  seen->window = gtk_application_get_active_window (app);
  connection = bms_window_get_connection (BMS_WINDOW (seen->window));
  seen->interval = bms_connection_get_poll_interval (connection);
  g_signal_connect (connection, "notify::poll-interval", G_CALLBACK (interval_changed), seen);
  g_signal_connect (connection, "notify::poll-count", G_CALLBACK (count_polls), seen);
  seen->timeout_id = g_timeout_add_seconds (30, give_up, seen);
}

/* The master demo needs about 1.25 s a cycle at 9600 baud: with the
 * default interval the window polls at the measured cycle instead of
 * lagging for ever; an interval the user chose stays. */
static void
test_master_interval (void)
{
  g_autoptr(GSettings) settings = bms_settings_new ();
  const char *args[] = { "--port", "sim://master", NULL };
  Interval seen = { 0 };

  g_settings_reset (settings, "poll-interval");
  g_assert_cmpint (ui_test_run_app (args, G_CALLBACK (watch_interval), &seen), ==, 0);
  g_clear_handle_id (&seen.timeout_id, g_source_remove);
  g_test_message ("polling every %.1f s", seen.interval);
  g_assert_cmpfloat (seen.interval, >, 1.0);
  g_assert_cmpfloat (seen.interval, <=, 2.0);
  g_assert_null (g_settings_get_user_value (settings, "poll-interval"));

  g_settings_set_double (settings, "poll-interval", 1.0);
  memset (&seen, 0, sizeof seen);
  g_assert_cmpint (ui_test_run_app (args, G_CALLBACK (watch_interval), &seen), ==, 0);
  g_clear_handle_id (&seen.timeout_id, g_source_remove);
  g_assert_cmpfloat (seen.interval, ==, 1.0);
  g_settings_reset (settings, "poll-interval");
}

typedef struct
{
  GtkWindow *window;
  char      *file;
  gboolean   started;
  guint      max_step;
  char      *during;       /* the bar's status while the board is in its bootloader */
  double     opacity;      /* of the summary bar then */
  char      *after;
} Flash;

static const char *
status_text (GtkWidget *window)
{
  GtkWidget *bar = find_child (window, BMS_TYPE_CONNECTION_BAR);
  GtkWidget *button = find_child (bar, GTK_TYPE_MENU_BUTTON);

  return gtk_label_get_label (GTK_LABEL (gtk_widget_get_prev_sibling (button)));
}

static void
flash_step (BmsUpdatePage *page, GParamSpec *pspec, Flash *flash)
{
  guint step = bms_update_page_get_flash_step (page);

  flash->max_step = MAX (flash->max_step, step);
  if (step >= BMS_FLASHER_STEP_TRANSFER && flash->during == NULL)
    {
      flash->during = g_strdup (status_text (GTK_WIDGET (flash->window)));
      flash->opacity = gtk_widget_get_opacity (find_child (GTK_WIDGET (flash->window),
                                                           BMS_TYPE_SUMMARY_BAR));
    }
  if (step == 0 && flash->max_step > 0)
    {
      flash->after = g_strdup (status_text (GTK_WIDGET (flash->window)));
      gtk_window_close (flash->window);
    }
}

static void
start_flash (BmsConnection *connection, GParamSpec *pspec, Flash *flash)
{
  GtkWidget *page = bms_window_get_page_widget (BMS_WINDOW (flash->window), "update");

  if (flash->started || bms_connection_get_poll_count (connection) < 1)
    return;
  flash->started = TRUE;
  bms_update_page_set_file (BMS_UPDATE_PAGE (page), flash->file);
  /* Checking the file runs first; start once it is done. */
  while (bms_update_page_get_busy (BMS_UPDATE_PAGE (page)))
    g_main_context_iteration (NULL, TRUE);
  bms_update_page_start_update (BMS_UPDATE_PAGE (page), BMS_DEFAULT_PASSWORD);
}

static void
watch_flash (GtkApplication *app, Flash *flash)
{
  GtkWidget *page;

  flash->window = gtk_application_get_active_window (app);
  page = bms_window_get_page_widget (BMS_WINDOW (flash->window), "update");
  g_signal_connect (page, "notify::flash-step", G_CALLBACK (flash_step), flash);
  g_signal_connect (bms_window_get_connection (BMS_WINDOW (flash->window)), "notify::poll-count",
                    G_CALLBACK (start_flash), flash);
}

/* During a firmware update the header says the board is being updated and
 * dims the frozen figures, instead of "polling every 1.0 s". */
static void
test_flash_header (void)
{
  g_autofree char *dir = g_dir_make_tmp ("packwatch-bar-XXXXXX", NULL);
  g_autofree guint8 *data = g_malloc (3000);
  const char *marker = BMS_FIRMWARE_VERSION_MARKER "PW-2.1.0";
  const char *args[] = { "--demo", "--page", "update", NULL };
  Flash flash = { 0 };

  for (gsize i = 0; i < 3000; i++)
    data[i] = (guint8) (i * 7 + 3);
  memcpy (data + 64, marker, strlen (marker) + 1);
  bms_firmware_stamp_vectors (data, 3000);
  flash.file = g_build_filename (dir, "fw.bin", NULL);
  g_assert_true (g_file_set_contents (flash.file, (const char *) data, 3000, NULL));

  g_assert_cmpint (ui_test_run_app (args, G_CALLBACK (watch_flash), &flash), ==, 0);
  g_test_message ("during: %s; after: %s", flash.during, flash.after);
  g_assert_cmpuint (flash.max_step, >=, BMS_FLASHER_STEP_TRANSFER);
  g_assert_nonnull (flash.during);
  g_assert_true (g_str_has_prefix (flash.during, "Updating firmware"));
  g_assert_cmpfloat (flash.opacity, <, 1.0);
  g_assert_nonnull (flash.after);
  g_assert_false (g_str_has_prefix (flash.after, "Updating firmware"));

  g_remove (flash.file);
  g_rmdir (dir);
  g_free (flash.file);
  g_free (flash.during);
  g_free (flash.after);
}

static gboolean give_up_language (gpointer data);

typedef struct
{
  GtkApplication *app;
  GtkWindow      *first;
  GtkWindow      *second;
  char           *title;     /* of the Monitor page in the new window */
  char           *page;
  char           *uri;
  guint           timeout_id;
} Language;

static const char *
monitor_title (GtkWindow *window)
{
  GtkWidget *page = bms_window_get_page_widget (BMS_WINDOW (window), "monitor");
  GtkWidget *stack = page;

  while (stack != NULL && !ADW_IS_VIEW_STACK (stack))
    stack = gtk_widget_get_parent (stack);
  return adw_view_stack_page_get_title (adw_view_stack_get_page (ADW_VIEW_STACK (stack), page));
}

static void
second_polls (BmsConnection *connection, GParamSpec *pspec, Language *lang)
{
  if (lang->title != NULL || bms_connection_get_poll_count (connection) < 1)
    return;
  lang->title = g_strdup (monitor_title (lang->second));
  lang->page = g_strdup (bms_window_get_page (BMS_WINDOW (lang->second)));
  lang->uri = g_strdup (bms_connection_get_uri (connection));
  gtk_window_close (lang->second);
}

static void
window_added (GtkApplication *app, GtkWindow *window, Language *lang)
{
  if (!BMS_IS_WINDOW (window) || window == lang->first)
    return;
  lang->second = window;
  g_signal_connect (bms_window_get_connection (BMS_WINDOW (window)), "notify::poll-count",
                    G_CALLBACK (second_polls), lang);
}

static void
first_polls (BmsConnection *connection, GParamSpec *pspec, Language *lang)
{
  g_autoptr(GSettings) settings = NULL;

  if (lang->second != NULL || bms_connection_get_poll_count (connection) < 1)
    return;
  g_signal_handlers_disconnect_by_func (connection, first_polls, lang);
  g_assert_cmpstr (monitor_title (lang->first), ==, "Monitor");
  settings = bms_settings_new ();
  g_settings_set_string (settings, "language", "zh_CN");
}

static void
watch_language (GtkApplication *app, Language *lang)
{
  lang->app = app;
  lang->first = gtk_application_get_active_window (app);
  g_signal_connect (app, "window-added", G_CALLBACK (window_added), lang);
  g_signal_connect (bms_window_get_connection (BMS_WINDOW (lang->first)), "notify::poll-count",
                    G_CALLBACK (first_polls), lang);
  lang->timeout_id = g_timeout_add_seconds (40, give_up_language, lang);
}

static gboolean
give_up_language (gpointer data)
{
  Language *lang = data;
  GList *windows = g_list_copy (gtk_application_get_windows (lang->app));

  lang->timeout_id = 0;
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
  g_list_free (windows);
  return G_SOURCE_REMOVE;
}

/* Preferences' language applies at once: the window is built again in the
 * new language, on the same page and connected to the same board. */
static void
test_language (void)
{
  g_autoptr(GSettings) settings = bms_settings_new ();
  g_autofree char *po = g_build_filename (g_getenv ("PACKWATCH_BUILD_ROOT"), "po", NULL);
  const char *args[] = { "--demo", "--page", "graph", NULL };
  Language lang = { 0 };

  /* gettext ignores LANGUAGE in the C locale: take C.UTF-8, as a desktop
   * session has a real locale. */
  g_test_message ("locale %s", setlocale (LC_MESSAGES, NULL));
  if (g_str_equal (setlocale (LC_MESSAGES, NULL), "C") && setlocale (LC_MESSAGES, "C.UTF-8") == NULL)
    {
      g_test_skip ("no C.UTF-8 locale");
      return;
    }
  bindtextdomain (GETTEXT_PACKAGE, po);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_settings_set_string (settings, "language", "");
  bms_application_apply_language ("");

  g_assert_cmpint (ui_test_run_app (args, G_CALLBACK (watch_language), &lang), ==, 0);
  g_clear_handle_id (&lang.timeout_id, g_source_remove);
  g_test_message ("Monitor is %s in the new window", lang.title);
  g_assert_cmpstr (lang.title, ==, "数据监控");
  g_assert_cmpstr (lang.page, ==, "graph");
  g_assert_cmpstr (lang.uri, ==, "sim://");

  g_settings_set_string (settings, "language", "");
  bms_application_apply_language ("");
  g_free (lang.title);
  g_free (lang.page);
  g_free (lang.uri);
}

static void
test_bad_port_option (void)
{
  const char *args[] = { "--port", "ttyUSB0", NULL };
  const char *baud[] = { "--port", "sim://", "--baud", "1234", NULL };

  g_assert_cmpint (ui_test_run_app (args, NULL, NULL), !=, 0);
  g_assert_cmpint (ui_test_run_app (baud, NULL, NULL), !=, 0);
}

static gboolean
polled (gpointer data)
{
  return bms_connection_get_poll_count (data) >= GPOINTER_TO_UINT (g_object_get_data (data, "want"));
}

static void
wait_polls (BmsConnection *connection,
            guint          n)
{
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  g_object_set_data (G_OBJECT (connection), "want", GUINT_TO_POINTER (n));
  while (!polled (connection) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (polled (connection));
}

/* Polling, the bar's text stays the same from poll to poll (a new reply
 * count each second laid out the window each second); the count is in the
 * popover, filled when it opens. */
static void
test_status_steady (void)
{
  g_autoptr(GSettings) settings = bms_settings_new ();
  g_autoptr(BmsConnection) connection = bms_connection_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *bar = g_object_new (BMS_TYPE_CONNECTION_BAR, NULL);
  GtkWidget *button;
  GtkPopover *popover;
  GtkLabel *status, *details;
  g_autofree char *text = NULL;
  g_autofree char *closed = NULL;
  g_autofree char *count = NULL;

  gtk_window_set_child (GTK_WINDOW (window), bar);
  bms_connection_bar_setup (BMS_CONNECTION_BAR (bar), connection, settings);
  gtk_window_present (GTK_WINDOW (window));
  button = find_child (bar, GTK_TYPE_MENU_BUTTON);
  status = GTK_LABEL (gtk_widget_get_prev_sibling (button));
  popover = gtk_menu_button_get_popover (GTK_MENU_BUTTON (button));
  details = GTK_LABEL (gtk_popover_get_child (popover));
  bms_connection_connect (connection, "sim://", 9600, 1);
  wait_polls (connection, 2);
  text = g_strdup (gtk_label_get_label (status));
  closed = g_strdup (gtk_label_get_label (details));
  g_assert_cmpstr (text, ==, "Polling every 1.0 s");
  wait_polls (connection, 4);
  g_assert_cmpstr (gtk_label_get_label (status), ==, text);
  g_assert_cmpstr (gtk_label_get_label (details), ==, closed);

  gtk_menu_button_popup (GTK_MENU_BUTTON (button));
  count = g_strdup_printf ("· %" G_GUINT64_FORMAT " replies",
                           bms_connection_get_poll_count (connection));
  g_assert_true (g_str_has_suffix (gtk_label_get_label (details), count));
  gtk_popover_popdown (popover);
  bms_connection_disconnect (connection);
  gtk_window_destroy (GTK_WINDOW (window));
  spin (200);
}

int
main (int   argc,
      char *argv[])
{
  ui_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  bms_sim_register_uri_scheme ();
  /* Referencing the bundle links it (and its registration) into the test. */
  (void) packwatch_get_resource ();
  g_test_add_func ("/ui/connection-bar/port-text", test_port_text);
  g_test_add_func ("/ui/connection-bar/typed-port", test_typed_port);
  g_test_add_func ("/ui/connection-bar/status-steady", test_status_steady);
  g_test_add_func ("/ui/connection-bar/demo-history", test_demo_history);
  g_test_add_func ("/ui/connection-bar/bad-port-option", test_bad_port_option);
  g_test_add_func ("/ui/connection-bar/master-interval", test_master_interval);
  g_test_add_func ("/ui/connection-bar/flash-header", test_flash_header);
  g_test_add_func ("/ui/connection-bar/language", test_language);
  return g_test_run ();
}
