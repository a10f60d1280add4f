/* bms-preferences-window.c — Preferences: polling, units, language, history */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-file-chooser.h"
#include "bms-history.h"
#include "bms-preferences-window.h"

struct _BmsPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;
  GtkFileChooserNative *chooser;

  GtkSpinButton        *poll_interval_spin;
  GtkSpinButton        *lock_timeout_spin;
  GtkSpinButton        *retention_spin;
  AdwComboRow          *voltage_unit_row;
  AdwComboRow          *temperature_unit_row;
  AdwComboRow          *language_row;
  AdwActionRow         *database_row;
};

G_DEFINE_FINAL_TYPE (BmsPreferencesWindow, bms_preferences_window,
                     ADW_TYPE_PREFERENCES_WINDOW)

static const char * const languages[] = { "", "en", "zh_CN", NULL };

static gboolean
language_to_row (GValue   *value,
                 GVariant *variant,
                 gpointer  user_data)
{
  const char *lang = g_variant_get_string (variant, NULL);

  for (guint i = 0; languages[i] != NULL; i++)
    if (g_str_equal (lang, languages[i]))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  g_value_set_uint (value, 0);
  return TRUE;
}

static GVariant *
row_to_language (const GValue       *value,
                 const GVariantType *type,
                 gpointer            user_data)
{
  guint i = g_value_get_uint (value);

  return g_variant_new_string (i < G_N_ELEMENTS (languages) - 1 ? languages[i] : "");
}

static gboolean
enum_to_row (GValue   *value,
             GVariant *variant,
             gpointer  user_data)
{
  const char * const *nicks = user_data;
  const char *nick = g_variant_get_string (variant, NULL);

  g_value_set_uint (value, g_strv_contains (nicks, nick) && g_str_equal (nick, nicks[1]));
  return TRUE;
}

static GVariant *
row_to_enum (const GValue       *value,
             const GVariantType *type,
             gpointer            user_data)
{
  const char * const *nicks = user_data;

  return g_variant_new_string (nicks[g_value_get_uint (value) == 1 ? 1 : 0]);
}

static const char * const voltage_nicks[] = { "millivolt", "volt", NULL };
static const char * const temperature_nicks[] = { "celsius", "fahrenheit", NULL };

static void
update_database_subtitle (BmsPreferencesWindow *self)
{
  g_autofree char *path = g_settings_get_string (self->settings, "database-path");
  g_autofree char *fallback = NULL;

  if (*path == '\0')
    {
      fallback = bms_history_default_path ();
      adw_action_row_set_subtitle (self->database_row, fallback);
    }
  else
    adw_action_row_set_subtitle (self->database_row, path);
}

static void
chooser_response (GtkNativeDialog      *dialog,
                  int                   response,
                  BmsPreferencesWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        g_settings_set_string (self->settings, "database-path", path);
    }
  g_clear_object (&self->chooser);
}

static void
choose_database (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  BmsPreferencesWindow *self = BMS_PREFERENCES_WINDOW (widget);

  g_clear_object (&self->chooser);
  self->chooser = gtk_file_chooser_native_new (_("History Database"),
                                               GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SAVE,
                                               _("_Use"), _("_Cancel"));
  bms_file_chooser_start (GTK_FILE_CHOOSER (self->chooser), "database");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser),
                                     "history.db");
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
default_database (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  g_settings_reset (BMS_PREFERENCES_WINDOW (widget)->settings, "database-path");
}

static void
bms_preferences_window_dispose (GObject *object)
{
  BmsPreferencesWindow *self = BMS_PREFERENCES_WINDOW (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), BMS_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (bms_preferences_window_parent_class)->dispose (object);
}

static void
bms_preferences_window_class_init (BmsPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsPreferencesWindow, poll_interval_spin);
  gtk_widget_class_bind_template_child (widget_class, BmsPreferencesWindow, lock_timeout_spin);
  gtk_widget_class_bind_template_child (widget_class, BmsPreferencesWindow, retention_spin);
  gtk_widget_class_bind_template_child (widget_class, BmsPreferencesWindow, voltage_unit_row);
  gtk_widget_class_bind_template_child (widget_class, BmsPreferencesWindow, temperature_unit_row);
  gtk_widget_class_bind_template_child (widget_class, BmsPreferencesWindow, language_row);
  gtk_widget_class_bind_template_child (widget_class, BmsPreferencesWindow, database_row);

  gtk_widget_class_install_action (widget_class, "prefs.choose-database", NULL,
                                   choose_database);
  gtk_widget_class_install_action (widget_class, "prefs.default-database", NULL,
                                   default_database);
}

static void
bms_preferences_window_init (BmsPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

static void
bms_preferences_window_bind (BmsPreferencesWindow *self)
{
  GSettings *s = self->settings;

  g_settings_bind (s, "poll-interval", self->poll_interval_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "lock-timeout", self->lock_timeout_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "retention-days", self->retention_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (s, "language", self->language_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, language_to_row,
                                row_to_language, NULL, NULL);
  g_settings_bind_with_mapping (s, "voltage-unit", self->voltage_unit_row,
                                "selected", G_SETTINGS_BIND_DEFAULT, enum_to_row,
                                row_to_enum, (gpointer) voltage_nicks, NULL);
  g_settings_bind_with_mapping (s, "temperature-unit", self->temperature_unit_row,
                                "selected", G_SETTINGS_BIND_DEFAULT, enum_to_row,
                                row_to_enum, (gpointer) temperature_nicks, NULL);
  g_signal_connect_object (s, "changed::database-path",
                           G_CALLBACK (update_database_subtitle), self,
                           G_CONNECT_SWAPPED);
  update_database_subtitle (self);
}

GtkWidget *
bms_preferences_window_new (GSettings *settings)
{
  BmsPreferencesWindow *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (BMS_TYPE_PREFERENCES_WINDOW, NULL);
  self->settings = g_object_ref (settings);
  bms_preferences_window_bind (self);
  return GTK_WIDGET (self);
}
