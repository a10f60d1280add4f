/* bms-mqtt-dialog.c — "MQTT broker…" of the connection bar (see
 * bms-mqtt-dialog.h). The password is used for this connection only: the
 * settings are a plain file (dconf), no place for it. */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-file-chooser.h"
#include "bms-mqtt-dialog.h"

struct _BmsMqttDialog
{
  AdwWindow      parent_instance;

  BmsConnection *connection;
  GSettings     *settings;
  char          *cafile;

  AdwEntryRow   *host_row;
  GtkSpinButton *port_spin;
  AdwEntryRow   *prefix_row;
  AdwEntryRow   *device_row;
  AdwEntryRow   *username_row;
  AdwEntryRow   *password_row;
  GtkSwitch     *tls_switch;
  AdwActionRow  *cafile_row;
  GtkWidget     *cafile_clear;
  GtkLabel      *problem_label;
};

G_DEFINE_FINAL_TYPE (BmsMqttDialog, bms_mqtt_dialog, ADW_TYPE_WINDOW)

static char *
row_text (AdwEntryRow *row)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
}

/* A topic level of ours may not hold the MQTT wildcards; the device id is
 * one level, the prefix may be several. */
static gboolean
valid_level (const char  *text,
             gboolean     one_level,
             const char  *what,
             GError     **error)
{
  if (*text != '\0' && strpbrk (text, one_level ? "+#/" : "+#") == NULL &&
      !g_str_has_prefix (text, "/") && !g_str_has_suffix (text, "/"))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               one_level ? _("%s: write the board's id as serve publishes it (the level after "
                             "the prefix, e.g. CAB-A1), without “/”, “+” or “#”")
                         : _("%s: write the prefix of serve's topics (Prefix= of its "
                             "configuration, “packwatch” by default), without “+” or “#”"),
               what);
  return FALSE;
}

BmsMqttSource *
bms_mqtt_dialog_make_source (BmsMqttDialog  *self,
                             GError        **error)
{
  g_autofree char *host = row_text (self->host_row);
  g_autofree char *prefix = row_text (self->prefix_row);
  g_autofree char *device = row_text (self->device_row);
  g_autofree char *username = row_text (self->username_row);
  g_autofree char *topic = NULL;
  BmsMqttSource *source;

  g_return_val_if_fail (BMS_IS_MQTT_DIALOG (self), NULL);

  if (*host == '\0' || strpbrk (host, " /") != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Broker: write the broker's host name or address (e.g. 192.168.1.10)"));
      return NULL;
    }
  if (!valid_level (prefix, FALSE, _("Topic prefix"), error) ||
      !valid_level (device, TRUE, _("Device id"), error))
    return NULL;
  topic = g_strdup_printf ("%s/%s", prefix, device);
  source = bms_mqtt_source_new (host, gtk_spin_button_get_value_as_int (self->port_spin), topic);
  bms_mqtt_source_set_credentials (source, username,
                                   gtk_editable_get_text (GTK_EDITABLE (self->password_row)));
  bms_mqtt_source_set_tls (source, gtk_switch_get_active (self->tls_switch), self->cafile);
  return source;
}

static void
save_settings (BmsMqttDialog *self)
{
  g_autofree char *host = row_text (self->host_row);
  g_autofree char *prefix = row_text (self->prefix_row);
  g_autofree char *device = row_text (self->device_row);
  g_autofree char *username = row_text (self->username_row);

  if (self->settings == NULL)
    return;
  g_settings_delay (self->settings);
  g_settings_set_string (self->settings, "mqtt-host", host);
  g_settings_set_uint (self->settings, "mqtt-port", gtk_spin_button_get_value_as_int (self->port_spin));
  g_settings_set_string (self->settings, "mqtt-prefix", prefix);
  g_settings_set_string (self->settings, "mqtt-device", device);
  g_settings_set_string (self->settings, "mqtt-username", username);
  g_settings_set_boolean (self->settings, "mqtt-tls", gtk_switch_get_active (self->tls_switch));
  g_settings_set_string (self->settings, "mqtt-cafile", self->cafile ? self->cafile : "");
  g_settings_apply (self->settings);
}

gboolean
bms_mqtt_dialog_watch (BmsMqttDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsMqttSource) source = NULL;

  g_return_val_if_fail (BMS_IS_MQTT_DIALOG (self), FALSE);

  source = bms_mqtt_dialog_make_source (self, &error);
  if (source == NULL)
    {
      gtk_label_set_text (self->problem_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->problem_label), TRUE);
      return FALSE;
    }
  save_settings (self);
  bms_connection_watch_mqtt (self->connection, source);
  gtk_window_destroy (GTK_WINDOW (self));
  return TRUE;
}

static void
watch_clicked (BmsMqttDialog *self)
{
  bms_mqtt_dialog_watch (self);
}

void
bms_mqtt_dialog_set_cafile (BmsMqttDialog *self,
                            const char    *path)
{
  g_return_if_fail (BMS_IS_MQTT_DIALOG (self));

  g_free (self->cafile);
  self->cafile = path && *path ? g_strdup (path) : NULL;
  adw_action_row_set_subtitle (self->cafile_row, self->cafile ? self->cafile
                                                 : _("The system's certificate authorities"));
  gtk_widget_set_visible (self->cafile_clear, self->cafile != NULL);
  /* A CA of one's own means TLS. */
  if (self->cafile != NULL)
    gtk_switch_set_active (self->tls_switch, TRUE);
}

static void
cafile_clear_clicked (BmsMqttDialog *self)
{
  bms_mqtt_dialog_set_cafile (self, NULL);
}

static void
cafile_chosen (GtkNativeDialog *native,
               int              response,
               BmsMqttDialog   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;

      if (path != NULL)
        bms_mqtt_dialog_set_cafile (self, path);
    }
  g_object_unref (native);
  g_object_unref (self);
}

static void
cafile_choose_clicked (BmsMqttDialog *self)
{
  GtkFileChooserNative *native =
    gtk_file_chooser_native_new (_("The Broker's CA Certificate"), GTK_WINDOW (self),
                                 GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("Certificates (*.pem, *.crt)"));
  gtk_file_filter_add_pattern (filter, "*.pem");
  gtk_file_filter_add_pattern (filter, "*.crt");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  bms_file_chooser_start (GTK_FILE_CHOOSER (native), "certificate");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  g_signal_connect (native, "response", G_CALLBACK (cafile_chosen), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
load_settings (BmsMqttDialog *self)
{
  g_autofree char *host = g_settings_get_string (self->settings, "mqtt-host");
  g_autofree char *prefix = g_settings_get_string (self->settings, "mqtt-prefix");
  g_autofree char *device = g_settings_get_string (self->settings, "mqtt-device");
  g_autofree char *username = g_settings_get_string (self->settings, "mqtt-username");
  g_autofree char *cafile = g_settings_get_string (self->settings, "mqtt-cafile");

  gtk_editable_set_text (GTK_EDITABLE (self->host_row), host);
  gtk_spin_button_set_value (self->port_spin, g_settings_get_uint (self->settings, "mqtt-port"));
  gtk_editable_set_text (GTK_EDITABLE (self->prefix_row), prefix);
  gtk_editable_set_text (GTK_EDITABLE (self->device_row), device);
  gtk_editable_set_text (GTK_EDITABLE (self->username_row), username);
  gtk_switch_set_active (self->tls_switch, g_settings_get_boolean (self->settings, "mqtt-tls"));
  bms_mqtt_dialog_set_cafile (self, cafile);
}

static void
bms_mqtt_dialog_dispose (GObject *object)
{
  BmsMqttDialog *self = BMS_MQTT_DIALOG (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), BMS_TYPE_MQTT_DIALOG);
  g_clear_object (&self->connection);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->cafile, g_free);
  G_OBJECT_CLASS (bms_mqtt_dialog_parent_class)->dispose (object);
}

static void
bms_mqtt_dialog_class_init (BmsMqttDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_mqtt_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-mqtt-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsMqttDialog, host_row);
  gtk_widget_class_bind_template_child (widget_class, BmsMqttDialog, port_spin);
  gtk_widget_class_bind_template_child (widget_class, BmsMqttDialog, prefix_row);
  gtk_widget_class_bind_template_child (widget_class, BmsMqttDialog, device_row);
  gtk_widget_class_bind_template_child (widget_class, BmsMqttDialog, username_row);
  gtk_widget_class_bind_template_child (widget_class, BmsMqttDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, BmsMqttDialog, tls_switch);
  gtk_widget_class_bind_template_child (widget_class, BmsMqttDialog, cafile_row);
  gtk_widget_class_bind_template_child (widget_class, BmsMqttDialog, cafile_clear);
  gtk_widget_class_bind_template_child (widget_class, BmsMqttDialog, problem_label);
  gtk_widget_class_bind_template_callback (widget_class, watch_clicked);
  gtk_widget_class_bind_template_callback (widget_class, cafile_clear_clicked);
  gtk_widget_class_bind_template_callback (widget_class, cafile_choose_clicked);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
bms_mqtt_dialog_init (BmsMqttDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_set_visible (self->cafile_clear, FALSE);
}

BmsMqttDialog *
bms_mqtt_dialog_new (GtkWindow     *parent,
                     BmsConnection *connection,
                     GSettings     *settings)
{
  BmsMqttDialog *self;

  g_return_val_if_fail (BMS_IS_CONNECTION (connection), NULL);

  self = g_object_new (BMS_TYPE_MQTT_DIALOG, "transient-for", parent, NULL);
  self->connection = g_object_ref (connection);
  if (settings != NULL)
    {
      self->settings = g_object_ref (settings);
      load_settings (self);
    }
  else
    {
      gtk_editable_set_text (GTK_EDITABLE (self->host_row), "localhost");
      gtk_editable_set_text (GTK_EDITABLE (self->prefix_row), "packwatch");
    }
  return self;
}
