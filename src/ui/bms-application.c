/* bms-application.c — the Packwatch application: options, actions, settings */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "bms-application.h"
#include "bms-preferences-window.h"
#include "bms-window.h"

struct _BmsApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
  char           *demo_uri;
  char           *start_page;
  char           *screenshot_path;
};

G_DEFINE_FINAL_TYPE (BmsApplication, bms_application, ADW_TYPE_APPLICATION)

static const char * const page_names[] = {
  "monitor", "alarm", "param", "normal", "graph", "update", "lease", "dload", NULL
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
  if (self->demo_uri != NULL || self->screenshot_path != NULL)
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

static void
bms_application_startup (GApplication *app)
{
  BmsApplication *self = BMS_APPLICATION (app);
  const char *quit_accels[] = { "<Control>q", NULL };
  const char *prefs_accels[] = { "<Control>comma", NULL };

  G_APPLICATION_CLASS (bms_application_parent_class)->startup (app);

  /* "sim://" and "sim://master": the demo boards of the port list. */
  bms_connection_register_demo_boards ();

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

  g_clear_object (&self->settings);
  g_free (self->demo_uri);
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
