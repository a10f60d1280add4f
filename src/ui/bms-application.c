/* bms-application.c — the Packwatch application: options, actions, settings */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "bms-application.h"
#include "bms-connection-bar.h"
#include "bms-preferences-window.h"
#include "bms-window.h"

struct _BmsApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
  char           *demo_uri;
  char           *port_uri;      /* --port: connect at start */
  guint           baud;          /* --baud, 0 when not given */
  guint           rebuild_id;    /* the language changed: new window soon */
  int             address;       /* --address, -1 when not given */
  char           *start_page;
  char           *screenshot_path;
};

G_DEFINE_FINAL_TYPE (BmsApplication, bms_application, ADW_TYPE_APPLICATION)

static const char * const page_names[] = {
  "monitor", "alarm", "param", "normal", "graph", "update", "lease", "dload", "health", NULL
};

GSettings *
bms_settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettingsSchemaSource) build_source = NULL;
  g_autofree char *exe = NULL;
  g_autofree char *dir = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema != NULL)
    return g_settings_new_full (schema, NULL, NULL);

  /* Run from the build tree: build/src/packwatch next to build/data. */
  exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe != NULL)
    {
      g_autofree char *bindir = g_path_get_dirname (exe);
      dir = g_build_filename (bindir, "..", "data", NULL);
      build_source = g_settings_schema_source_new_from_directory (dir, source,
                                                                  FALSE, NULL);
    }
  if (build_source != NULL)
    schema = g_settings_schema_source_lookup (build_source, APP_ID, TRUE);
  if (schema == NULL)
    g_error ("The settings schema %s is not installed. Install Packwatch "
             "(meson install) or set GSETTINGS_SCHEMA_DIR to the build "
             "tree's data folder.", APP_ID);
  return g_settings_new_full (schema, NULL, NULL);
}

/* --demo=replay:FILE: the recording is checked now, so a bad file stops
 * the start with the file and line instead of a failed connection later. */
static char *
replay_demo_uri (const char *file, GError **error)
{
  g_autofree char *path = g_canonicalize_filename (file, NULL);
  g_autofree char *uri = g_strconcat ("replay://", path, NULL);

  return bms_connection_check_uri (uri, error) ? g_steal_pointer (&uri) : NULL;
}

static gboolean
parse_demo (const char  *option_name,
            const char  *value,
            gpointer     data,
            GError     **error)
{
  BmsApplication *self = data;
  g_autoptr(GError) local = NULL;

  g_clear_pointer (&self->demo_uri, g_free);
  if (value == NULL || *value == '\0')
    self->demo_uri = g_strdup ("sim://");
  else if (g_str_equal (value, "master"))
    self->demo_uri = g_strdup ("sim://master");
  else if (g_str_has_prefix (value, "replay:"))
    {
      self->demo_uri = replay_demo_uri (value + strlen ("replay:"), &local);
      if (self->demo_uri == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("Cannot replay the recording: %s"), local->message);
          return FALSE;
        }
    }
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("Unknown demo “%s”: use --demo for a 16-cell board, "
                     "--demo=master for a 256-cell master or --demo=replay:FILE for "
                     "a recording (packwatch-cli capture)"), value);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_page (const char  *option_name,
            const char  *value,
            gpointer     data,
            GError     **error)
{
  BmsApplication *self = data;
  g_autofree char *list = NULL;

  if (g_strv_contains (page_names, value))
    {
      g_free (self->start_page);
      self->start_page = g_strdup (value);
      return TRUE;
    }
  list = g_strjoinv (", ", (char **) page_names);
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("Unknown page “%s”: choose one of %s"), value, list);
  return FALSE;
}

static gboolean
parse_port (const char  *option_name,
            const char  *value,
            gpointer     data,
            GError     **error)
{
  BmsApplication *self = data;
  g_autoptr(GError) local = NULL;

  g_clear_pointer (&self->port_uri, g_free);
  self->port_uri = bms_port_from_text (value, &local);
  if (self->port_uri == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, local->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_baud (const char  *option_name,
            const char  *value,
            gpointer     data,
            GError     **error)
{
  BmsApplication *self = data;
  guint64 baud = 0;

  if (g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT, &baud, NULL))
    for (const guint *bauds = bms_connection_get_supported_bauds (); *bauds != 0; bauds++)
      if (*bauds == baud)
        {
          self->baud = (guint) baud;
          return TRUE;
        }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("Unsupported baud rate “%s”: use 9600, 19200, 38400, 57600 or 115200"),
               value);
  return FALSE;
}

static gboolean
parse_address (const char  *option_name,
               const char  *value,
               gpointer     data,
               GError     **error)
{
  BmsApplication *self = data;
  guint64 address = 0;

  if (!g_ascii_string_to_unsigned (value, 10, 0, 255, &address, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("Bad address “%s”: use a number from 0 to 255 (0 reaches any board)"),
                   value);
      return FALSE;
    }
  self->address = (int) address;
  return TRUE;
}

/* The options live in a group of their own, so that the callbacks get the
 * application; G_OPTION_FLAG_IN_MAIN lists them in plain --help, where a
 * newcomer looks, instead of only under --help-all. */
static void
add_options (BmsApplication *self)
{
  const GOptionEntry entries[] = {
    { "demo", 0, G_OPTION_FLAG_OPTIONAL_ARG | G_OPTION_FLAG_IN_MAIN, G_OPTION_ARG_CALLBACK, parse_demo,
      N_("Connect to the built-in simulated BMS (--demo=master: 256 cells; "
         "--demo=replay:FILE: a board's recording from packwatch-cli capture)"),
      "master|replay:FILE" },
    { "port", 'p', G_OPTION_FLAG_IN_MAIN, G_OPTION_ARG_CALLBACK, parse_port,
      N_("Connect to this port at start: a serial port (/dev/ttyUSB0, /dev/ttyS1, COM3), "
         "tcp://HOST:PORT, sim://, sim://master or replay:FILE"),
      N_("PORT") },
    { "baud", 'b', G_OPTION_FLAG_IN_MAIN, G_OPTION_ARG_CALLBACK, parse_baud,
      N_("Baud rate for --port: 9600 (default), 19200, 38400, 57600 or 115200"),
      N_("B") },
    { "address", 'a', G_OPTION_FLAG_IN_MAIN, G_OPTION_ARG_CALLBACK, parse_address,
      N_("Board address for --port, 0 to 255 (default 1; 0 reaches any board)"),
      N_("A") },
    { "page", 0, G_OPTION_FLAG_IN_MAIN, G_OPTION_ARG_CALLBACK, parse_page,
      N_("Open on a page: monitor, alarm, param, normal, graph, update, lease, dload"),
      N_("NAME") },
    { "screenshot", 0, G_OPTION_FLAG_IN_MAIN, G_OPTION_ARG_FILENAME, &self->screenshot_path,
      N_("Save a PNG of the window once the first data is drawn, then quit"),
      N_("FILE") },
    { NULL }
  };
  GOptionGroup *group;

  group = g_option_group_new ("packwatch", _("Packwatch options"),
                              _("Show Packwatch options"), self, NULL);
  g_option_group_add_entries (group, entries);
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
  g_application_add_option_group (G_APPLICATION (self), group);
}

static int
bms_application_handle_local_options (GApplication *app,
                                      GVariantDict *options)
{
  BmsApplication *self = BMS_APPLICATION (app);

  /* A demo or a screenshot run is its own instance, never forwarded to a
   * window that is already open. */
  if (self->demo_uri != NULL || self->screenshot_path != NULL || self->port_uri != NULL)
    g_application_set_flags (app, g_application_get_flags (app) |
                                  G_APPLICATION_NON_UNIQUE);
  return -1;
}

static void
bms_application_activate (GApplication *app)
{
  BmsApplication *self = BMS_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (bms_window_new (self));
  gtk_window_present (window);
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  BmsApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *prefs = bms_preferences_window_new (self->settings);

  gtk_window_set_transient_for (GTK_WINDOW (prefs), parent);
  gtk_window_present (GTK_WINDOW (prefs));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  BmsApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  const char *developers[] = { "The Packwatch developers", NULL };

  adw_show_about_window (parent,
                         "application-name", _("Packwatch"),
                         "application-icon", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Monitor and configure lithium battery "
                                       "management systems over RS485"),
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (user_data));

  /* Closing the windows lets them save their state. */
  while (windows != NULL)
    {
      GList *next = windows->next;
      gtk_window_close (windows->data);
      windows = next;
    }
}

/* From a desktop notification: raise the window on a page. */
static void
show_page_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));

  if (window == NULL)
    return;
  bms_window_show_page (BMS_WINDOW (window), g_variant_get_string (parameter, NULL));
  gtk_window_present (window);
}

static const GActionEntry app_actions[] = {
  { "show-page", show_page_activated, "s" },
  { "preferences", preferences_activated },
  { "about", about_activated },
  { "quit", quit_activated },
};

/* The Preferences language switch overrides the desktop's language
 * (LANGUAGE); "" follows the desktop again, with the value LANGUAGE had
 * when Packwatch started. textdomain() makes gettext drop the messages it
 * looked up in the old language. */
void
bms_application_apply_language (const char *language)
{
  static gboolean saved;
  static char *desktop_language;

  if (!saved)
    {
      desktop_language = g_strdup (g_getenv ("LANGUAGE"));
      saved = TRUE;
    }
  if (language != NULL && *language != '\0')
    g_setenv ("LANGUAGE", language, TRUE);
  else if (desktop_language != NULL)
    g_setenv ("LANGUAGE", desktop_language, TRUE);
  else
    g_unsetenv ("LANGUAGE");
  textdomain (GETTEXT_PACKAGE);
}

/* A new language: the window is built again in it, on the same page and
 * connected to the same board, so the switch needs no restart. */
static gboolean
rebuild_windows (gpointer user_data)
{
  BmsApplication *self = user_data;
  GtkWindow *old = NULL;
  g_autofree char *language = g_settings_get_string (self->settings, "language");
  g_autofree char *page = NULL;
  g_autofree char *uri = NULL;
  gboolean preferences_open = FALSE;
  GList *windows;
  BmsWindow *window;
  BmsConnection *connection;

  self->rebuild_id = 0;
  bms_application_apply_language (language);
  /* Preferences (in the old language) close; they open again below. */
  windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));
  for (GList *l = windows; l != NULL; l = l->next)
    if (BMS_IS_PREFERENCES_WINDOW (l->data))
      {
        preferences_open = TRUE;
        gtk_window_destroy (l->data);
      }
    else if (BMS_IS_WINDOW (l->data) && old == NULL)
      old = l->data;   /* the most recently focused main window */
  g_list_free (windows);
  if (old == NULL)
    return G_SOURCE_REMOVE;

  page = g_strdup (bms_window_get_page (BMS_WINDOW (old)));
  connection = bms_window_get_connection (BMS_WINDOW (old));
  if (bms_connection_get_state (connection) != BMS_CONNECTION_DISCONNECTED)
    uri = g_strdup (bms_connection_get_uri (connection));
  /* The port is free for the new window; --demo/--port were for the start. */
  bms_connection_disconnect (connection);
  g_clear_pointer (&self->demo_uri, g_free);
  g_clear_pointer (&self->port_uri, g_free);

  window = bms_window_new (self);
  bms_window_show_page (window, page);
  if (uri != NULL)
    bms_window_connect_to (window, uri);
  gtk_window_present (GTK_WINDOW (window));
  gtk_window_close (old);
  if (preferences_open)
    g_action_group_activate_action (G_ACTION_GROUP (self), "preferences", NULL);
  return G_SOURCE_REMOVE;
}

static void
language_changed (BmsApplication *self)
{
  /* Not from inside the combo row's own notification. */
  if (self->rebuild_id == 0)
    self->rebuild_id = g_idle_add (rebuild_windows, self);
}

static void
bms_application_startup (GApplication *app)
{
  BmsApplication *self = BMS_APPLICATION (app);
  const char *quit_accels[] = { "<Control>q", NULL };
  const char *prefs_accels[] = { "<Control>comma", NULL };

  G_APPLICATION_CLASS (bms_application_parent_class)->startup (app);

  /* "sim://" and "sim://master": the demo boards of the port list. */
  bms_connection_register_demo_boards ();

  g_signal_connect_object (self->settings, "changed::language",
                           G_CALLBACK (language_changed), self, G_CONNECT_SWAPPED);
  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit",
                                         quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self),
                                         "app.preferences", prefs_accels);
}

static void
bms_application_finalize (GObject *object)
{
  BmsApplication *self = BMS_APPLICATION (object);

  g_clear_handle_id (&self->rebuild_id, g_source_remove);
  g_clear_object (&self->settings);
  g_free (self->demo_uri);
  g_free (self->port_uri);
  g_free (self->start_page);
  g_free (self->screenshot_path);

  G_OBJECT_CLASS (bms_application_parent_class)->finalize (object);
}

static void
bms_application_class_init (BmsApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = bms_application_finalize;
  app_class->activate = bms_application_activate;
  app_class->startup = bms_application_startup;
  app_class->handle_local_options = bms_application_handle_local_options;
}

static void
bms_application_init (BmsApplication *self)
{
  self->settings = bms_settings_new ();
  self->address = -1;
  add_options (self);
}

BmsApplication *
bms_application_new (void)
{
  return g_object_new (BMS_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/io/github/packwatch/Packwatch",
                       NULL);
}

GSettings *
bms_application_get_settings (BmsApplication *self)
{
  g_return_val_if_fail (BMS_IS_APPLICATION (self), NULL);
  return self->settings;
}

const char *
bms_application_get_demo_uri (BmsApplication *self)
{
  g_return_val_if_fail (BMS_IS_APPLICATION (self), NULL);
  return self->demo_uri;
}

const char *
bms_application_get_start_page (BmsApplication *self)
{
  g_return_val_if_fail (BMS_IS_APPLICATION (self), NULL);
  return self->start_page;
}

const char *
bms_application_get_screenshot_path (BmsApplication *self)
{
  g_return_val_if_fail (BMS_IS_APPLICATION (self), NULL);
  return self->screenshot_path;
}

/* The port of --port, or NULL. */
const char *
bms_application_get_port_uri (BmsApplication *self)
{
  g_return_val_if_fail (BMS_IS_APPLICATION (self), NULL);
  return self->port_uri;
}

/* --baud (0 when not given) and --address (-1 when not given). */
void
bms_application_get_line (BmsApplication *self,
                          guint          *baud,
                          int            *address)
{
  g_return_if_fail (BMS_IS_APPLICATION (self));
  *baud = self->baud;
  *address = self->address;
}
