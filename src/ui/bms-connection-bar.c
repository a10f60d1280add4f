/* bms-connection-bar.c — port, baud, address, Connect/Disconnect and status */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-connection-bar.h"

#define URI_TCP "tcp:"
#define URI_REPLAY "replay://"

struct _BmsConnectionBar
{
  GtkBox          parent_instance;

  BmsConnection  *connection;
  GSettings      *settings;
  GPtrArray      *uris;          /* parallel to port_list */
  GCancellable   *list_cancellable;
  char           *wanted_uri;    /* select this once the ports are listed */

  GtkDropDown    *port_dropdown;
  GtkStringList  *port_list;
  GtkEntry       *tcp_entry;
  GtkDropDown    *baud_dropdown;
  GtkStringList  *baud_list;
  GtkSpinButton  *address_spin;
  GtkButton      *connect_button;
  GtkSpinner     *status_spinner;
  GtkImage       *status_icon;
  GtkLabel       *status_label;
};

G_DEFINE_FINAL_TYPE (BmsConnectionBar, bms_connection_bar, GTK_TYPE_BOX)

static const char *
selected_uri (BmsConnectionBar *self)
{
  guint i = gtk_drop_down_get_selected (self->port_dropdown);

  if (i == GTK_INVALID_LIST_POSITION || i >= self->uris->len)
    return NULL;
  return g_ptr_array_index (self->uris, i);
}

static void
add_port (BmsConnectionBar *self,
          const char       *uri,
          const char       *label)
{
  g_ptr_array_add (self->uris, g_strdup (uri));
  gtk_string_list_append (self->port_list, label);
}

static gboolean
select_uri (BmsConnectionBar *self,
            const char       *uri)
{
  if (g_str_has_prefix (uri, "tcp://"))
    {
      gtk_editable_set_text (GTK_EDITABLE (self->tcp_entry), uri);
      uri = URI_TCP;
    }
  for (guint i = 0; i < self->uris->len; i++)
    if (g_str_equal (g_ptr_array_index (self->uris, i), uri))
      {
        gtk_drop_down_set_selected (self->port_dropdown, i);
        return TRUE;
      }
  return FALSE;
}

static void
fill_ports (BmsConnectionBar *self,
            GPtrArray        *ports)
{
  g_autofree char *keep = g_strdup (self->wanted_uri ? self->wanted_uri : selected_uri (self));

  g_ptr_array_set_size (self->uris, 0);
  gtk_string_list_splice (self->port_list, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->port_list)), NULL);
  for (guint i = 0; ports != NULL && i < ports->len; i++)
    {
      BmsPortInfo *port = g_ptr_array_index (ports, i);
      add_port (self, port->name, port->description ? port->description : port->name);
    }
  add_port (self, URI_TCP, _("Network gateway (tcp://host:port)"));
  add_port (self, "sim://", _("Demo (simulated BMS)"));
  add_port (self, "sim://master", _("Demo master (256 cells)"));
  if (keep == NULL || *keep == '\0')
    {
      /* First run: the first adapter, or the demo when there is none. */
      if (ports == NULL || ports->len == 0)
        select_uri (self, "sim://");
      return;
    }
  if (!select_uri (self, keep) && g_str_has_prefix (keep, URI_REPLAY))
    {
      /* A recording (--demo=replay:FILE) is a board of its own. */
      g_autofree char *name = g_path_get_basename (keep + strlen (URI_REPLAY));
      g_autofree char *label = g_strdup_printf (_("Recording %s (replay)"), name);
      add_port (self, keep, label);
      select_uri (self, keep);
    }
  else if (!select_uri (self, keep))
    {
      /* The remembered adapter is unplugged: keep it, marked, so the user
       * sees what is missing instead of a silent switch to another port. */
      g_autofree char *label = g_strdup_printf (_("%s (not found)"), keep);
      g_ptr_array_insert (self->uris, 0, g_strdup (keep));
      gtk_string_list_splice (self->port_list, 0, 0, (const char *[]) { label, NULL });
      gtk_drop_down_set_selected (self->port_dropdown, 0);
    }
}

static void
ports_listed (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  BmsConnectionBar *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ports = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    g_warning ("Listing serial ports failed: %s", error->message);
  fill_ports (self, ports);
  if (self->wanted_uri != NULL && self->connection != NULL &&
      bms_connection_get_state (self->connection) == BMS_CONNECTION_DISCONNECTED &&
      g_object_get_data (G_OBJECT (self), "connect-when-listed"))
    {
      g_object_set_data (G_OBJECT (self), "connect-when-listed", NULL);
      bms_connection_bar_toggle (self);
    }
  g_clear_pointer (&self->wanted_uri, g_free);
}

static void
list_ports_thread (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  GError *error = NULL;
  GPtrArray *ports = bms_connection_list_ports (&error);

  if (ports == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, ports, (GDestroyNotify) g_ptr_array_unref);
}

/* Listing reads sysfs/udev: off the main thread. */
static void
refresh_ports (BmsConnectionBar *self)
{
  g_autoptr(GTask) task = NULL;

  g_cancellable_cancel (self->list_cancellable);
  g_clear_object (&self->list_cancellable);
  self->list_cancellable = g_cancellable_new ();
  task = g_task_new (NULL, self->list_cancellable, ports_listed, self);
  g_task_run_in_thread (task, list_ports_thread);
}

static void
refresh_clicked (BmsConnectionBar *self)
{
  refresh_ports (self);
}

static void
port_selected (BmsConnectionBar *self)
{
  const char *uri = selected_uri (self);
  gboolean tcp = g_strcmp0 (uri, URI_TCP) == 0;
  gboolean sim = uri != NULL &&
                 (g_str_has_prefix (uri, "sim://") || g_str_has_prefix (uri, URI_REPLAY));

  gtk_widget_set_visible (GTK_WIDGET (self->tcp_entry), tcp);
  /* Baud means nothing to a simulator or a TCP gateway's socket. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->baud_dropdown), !tcp && !sim);
}

static guint
selected_baud (BmsConnectionBar *self)
{
  guint i = gtk_drop_down_get_selected (self->baud_dropdown);

  return i == GTK_INVALID_LIST_POSITION ? 9600 : bms_connection_get_supported_bauds ()[i];
}

static void
show_status (BmsConnectionBar *self,
             const char       *icon,
             const char       *css,
             const char       *text)
{
  static const char * const classes[] = { "success", "warning", "error" };

  gtk_image_set_from_icon_name (self->status_icon, icon);
  gtk_label_set_label (self->status_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), text);
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    {
      if (g_strcmp0 (css, classes[i]) == 0)
        gtk_widget_add_css_class (GTK_WIDGET (self->status_icon), classes[i]);
      else
        gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), classes[i]);
    }
}

static void
update_status (BmsConnectionBar *self)
{
  BmsConnectionState state = bms_connection_get_state (self->connection);
  const char *message = bms_connection_get_error_message (self->connection);
  const char *uri = bms_connection_get_uri (self->connection);
  g_autofree char *text = NULL;
  gboolean connected = state != BMS_CONNECTION_DISCONNECTED &&
                       state != BMS_CONNECTION_ERROR;

  /* An error while reconnecting still has a connection to drop. */
  if (state == BMS_CONNECTION_ERROR && bms_connection_get_connected_since (self->connection))
    connected = TRUE;
  gtk_spinner_set_spinning (self->status_spinner, state == BMS_CONNECTION_CONNECTING);
  gtk_widget_set_visible (GTK_WIDGET (self->status_spinner), state == BMS_CONNECTION_CONNECTING);
  gtk_widget_set_visible (GTK_WIDGET (self->status_icon), state != BMS_CONNECTION_CONNECTING);
  switch (state)
    {
    case BMS_CONNECTION_DISCONNECTED:
      show_status (self, "network-offline-symbolic", NULL, _("Not connected"));
      break;
    case BMS_CONNECTION_CONNECTING:
      text = g_strdup_printf (_("Connecting to %s…"), uri);
      show_status (self, "network-offline-symbolic", NULL, text);
      break;
    case BMS_CONNECTION_POLLING:
      {
        guint n = (guint) MIN (bms_connection_get_poll_count (self->connection), G_MAXUINT);
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "Connected to %s · polling every %.1f s · %u reply",
                                             "Connected to %s · polling every %.1f s · %u replies",
                                             n),
                                uri, bms_connection_get_poll_interval (self->connection), n);
        /* Polling, but slower than asked (256 cells at 9600 baud): say so. */
        if (message != NULL)
          {
            g_autofree char *both = g_strdup_printf ("%s · %s", text, message);
            show_status (self, "dialog-warning-symbolic", "warning", both);
          }
        else
          show_status (self, "emblem-ok-symbolic", "success", text);
      }
      break;
    case BMS_CONNECTION_NO_REPLY:
      show_status (self, "dialog-warning-symbolic", "warning",
                   message ? message : _("No reply from the board"));
      break;
    case BMS_CONNECTION_ERROR:
      show_status (self, "dialog-error-symbolic", "error",
                   message ? message : _("The port failed"));
      break;
    }

  gtk_button_set_label (self->connect_button, connected ? _("_Disconnect") : _("_Connect"));
  if (connected)
    gtk_widget_remove_css_class (GTK_WIDGET (self->connect_button), "suggested-action");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->connect_button), "suggested-action");
  gtk_widget_set_sensitive (GTK_WIDGET (self->port_dropdown), !connected);
  gtk_widget_set_sensitive (GTK_WIDGET (self->tcp_entry), !connected);
  gtk_widget_set_sensitive (GTK_WIDGET (self->address_spin), !connected);
  if (connected)
    gtk_widget_set_sensitive (GTK_WIDGET (self->baud_dropdown), FALSE);
  else
    port_selected (self);
}

static gboolean
valid_tcp (const char  *text,
           GError     **error)
{
  const char *colon;
  guint64 port;

  if (!g_str_has_prefix (text, "tcp://") || (colon = strrchr (text + 6, ':')) == NULL ||
      colon == text + 6 || !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a gateway address: write tcp://host:port, "
                     "for example tcp://192.168.1.50:8899"), text);
      return FALSE;
    }
  return TRUE;
}

void
bms_connection_bar_toggle (BmsConnectionBar *self)
{
  BmsConnectionState state;
  const char *uri;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (BMS_IS_CONNECTION_BAR (self));
  g_return_if_fail (self->connection != NULL);

  state = bms_connection_get_state (self->connection);
  if (state != BMS_CONNECTION_DISCONNECTED &&
      !(state == BMS_CONNECTION_ERROR && !bms_connection_get_connected_since (self->connection)))
    {
      bms_connection_disconnect (self->connection);
      return;
    }
  uri = selected_uri (self);
  if (g_strcmp0 (uri, URI_TCP) == 0)
    {
      uri = gtk_editable_get_text (GTK_EDITABLE (self->tcp_entry));
      if (!valid_tcp (uri, &error))
        {
          show_status (self, "dialog-error-symbolic", "error", error->message);
          gtk_widget_grab_focus (GTK_WIDGET (self->tcp_entry));
          return;
        }
    }
  if (uri == NULL)
    {
      show_status (self, "dialog-error-symbolic", "error",
                   _("Choose a port first: plug in the RS485 adapter and press the refresh button"));
      return;
    }
  if (self->settings != NULL)
    {
      g_settings_set_string (self->settings, "port", uri);
      g_settings_set_uint (self->settings, "baud", selected_baud (self));
      g_settings_set_uint (self->settings, "address",
                           gtk_spin_button_get_value_as_int (self->address_spin));
    }
  bms_connection_connect (self->connection, uri, selected_baud (self),
                          gtk_spin_button_get_value_as_int (self->address_spin));
}

void
bms_connection_bar_connect_to (BmsConnectionBar *self,
                               const char       *uri)
{
  g_return_if_fail (BMS_IS_CONNECTION_BAR (self));
  g_return_if_fail (uri != NULL);

  if (select_uri (self, uri))
    {
      bms_connection_bar_toggle (self);
      return;
    }
  /* Not listed yet: the port listing is still running. */
  g_free (self->wanted_uri);
  self->wanted_uri = g_strdup (uri);
  g_object_set_data (G_OBJECT (self), "connect-when-listed", GINT_TO_POINTER (TRUE));
}

static void
fill_bauds (BmsConnectionBar *self)
{
  for (guint i = 0; bms_connection_get_supported_bauds ()[i] != 0; i++)
    {
      g_autofree char *text = g_strdup_printf ("%u", bms_connection_get_supported_bauds ()[i]);
      gtk_string_list_append (self->baud_list, text);
    }
}

static void
select_baud (BmsConnectionBar *self,
             guint             baud)
{
  for (guint i = 0; bms_connection_get_supported_bauds ()[i] != 0; i++)
    if (bms_connection_get_supported_bauds ()[i] == baud)
      gtk_drop_down_set_selected (self->baud_dropdown, i);
}

static void
bms_connection_bar_dispose (GObject *object)
{
  BmsConnectionBar *self = BMS_CONNECTION_BAR (object);

  g_cancellable_cancel (self->list_cancellable);
  g_clear_object (&self->list_cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), BMS_TYPE_CONNECTION_BAR);
  g_clear_object (&self->connection);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (bms_connection_bar_parent_class)->dispose (object);
}

static void
bms_connection_bar_finalize (GObject *object)
{
  BmsConnectionBar *self = BMS_CONNECTION_BAR (object);

  g_ptr_array_unref (self->uris);
  g_free (self->wanted_uri);

  G_OBJECT_CLASS (bms_connection_bar_parent_class)->finalize (object);
}

static void
bms_connection_bar_class_init (BmsConnectionBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_connection_bar_dispose;
  object_class->finalize = bms_connection_bar_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-connection-bar.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, port_dropdown);
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, port_list);
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, tcp_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, baud_dropdown);
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, baud_list);
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, address_spin);
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, connect_button);
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, status_spinner);
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, status_icon);
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, status_label);
  gtk_widget_class_bind_template_callback (widget_class, refresh_clicked);
  gtk_widget_class_bind_template_callback (widget_class, bms_connection_bar_toggle);
}

static void
bms_connection_bar_init (BmsConnectionBar *self)
{
  self->uris = g_ptr_array_new_with_free_func (g_free);
  gtk_widget_init_template (GTK_WIDGET (self));
  fill_bauds (self);
  g_signal_connect_object (self->port_dropdown, "notify::selected",
                           G_CALLBACK (port_selected), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->tcp_entry, "activate",
                           G_CALLBACK (bms_connection_bar_toggle), self, G_CONNECT_SWAPPED);
  fill_ports (self, NULL);
}

void
bms_connection_bar_setup (BmsConnectionBar *self,
                          BmsConnection    *connection,
                          GSettings        *settings)
{
  g_autofree char *port = NULL;

  g_return_if_fail (BMS_IS_CONNECTION_BAR (self));
  g_return_if_fail (BMS_IS_CONNECTION (connection));

  g_set_object (&self->connection, connection);
  g_set_object (&self->settings, settings);
  if (settings != NULL)
    {
      port = g_settings_get_string (settings, "port");
      select_baud (self, g_settings_get_uint (settings, "baud"));
      gtk_spin_button_set_value (self->address_spin, g_settings_get_uint (settings, "address"));
      if (*port != '\0')
        self->wanted_uri = g_strdup (port);
    }
  else
    select_baud (self, 9600);
  g_signal_connect_object (connection, "notify::state",
                           G_CALLBACK (update_status), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::error-message",
                           G_CALLBACK (update_status), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::poll-count",
                           G_CALLBACK (update_status), self, G_CONNECT_SWAPPED);
  update_status (self);
  refresh_ports (self);
}
