/* bms-connection-bar.c — port, baud, address, Connect/Disconnect and status */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-connection-bar.h"
#include "bms-mqtt-dialog.h"

#define URI_OTHER "other:"     /* the "Other port…" item: the entry names it */
#define URI_REPLAY "replay://"
#define URI_MQTT "mqtt:"       /* the "MQTT broker…" item: its dialog names the board */
#define MAX_RECENT 6

struct _BmsConnectionBar
{
  GtkBox          parent_instance;

  BmsConnection  *connection;
  GSettings      *settings;
  GPtrArray      *uris;          /* parallel to port_list */
  GCancellable   *list_cancellable;
  char           *wanted_uri;    /* select this once the ports are listed */
  char           *activity;      /* what the board does instead of polling */
  char           *activity_details;
  char           *details;       /* the popover's and the tooltip's text */

  GtkDropDown    *port_dropdown;
  GtkStringList  *port_list;
  GtkEntry       *port_entry;
  GtkDropDown    *baud_dropdown;
  GtkStringList  *baud_list;
  GtkSpinButton  *address_spin;
  GtkButton      *connect_button;
  GtkSpinner     *status_spinner;
  GtkImage       *status_icon;
  GtkLabel       *status_label;
  GtkMenuButton  *status_button;
  GtkLabel       *status_details;
};

G_DEFINE_FINAL_TYPE (BmsConnectionBar, bms_connection_bar, GTK_TYPE_BOX)

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

/* What the user typed (in the bar or after --port) as a port URI: the forms
 * packwatch-cli takes (a device path, COM3, tcp://host:port, sim://,
 * sim://master) plus replay:FILE for a recording from packwatch-cli capture. */
char *
bms_port_from_text (const char  *text,
                    GError     **error)
{
  g_autofree char *port = g_strstrip (g_strdup (text != NULL ? text : ""));

  if (*port == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("No port given: write a serial port (/dev/ttyUSB0, /dev/ttyS1, "
                     "a /dev/serial/by-id/… path, COM3), tcp://host:port, sim:// "
                     "or replay:FILE"));
      return NULL;
    }
  if (g_ascii_strncasecmp (port, "tcp://", 6) == 0)
    return valid_tcp (port, error) ? g_steal_pointer (&port) : NULL;
  if (g_str_equal (port, "sim://") || g_str_equal (port, "sim://master"))
    return g_steal_pointer (&port);
  if (g_str_has_prefix (port, "replay:"))
    {
      const char *file = port + strlen (g_str_has_prefix (port, URI_REPLAY) ? URI_REPLAY : "replay:");
      g_autofree char *path = g_canonicalize_filename (file, NULL);

      if (*file == '\0' || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       _("No recording “%s”: replay:FILE takes a file written by "
                         "packwatch-cli capture"), file);
          return NULL;
        }
      return g_strconcat (URI_REPLAY, path, NULL);
    }
  if (port[0] == '/' || g_ascii_strncasecmp (port, "COM", 3) == 0 || g_str_has_prefix (port, "\\\\"))
    return g_steal_pointer (&port);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               _("“%s” is not a port: write a serial port (/dev/ttyUSB0, /dev/ttyS1, "
                 "a /dev/serial/by-id/… path, COM3), tcp://host:port, sim:// "
                 "or replay:FILE"), port);
  return NULL;
}

static gboolean
is_mqtt (const char *uri)
{
  return g_str_has_prefix (uri, "mqtt://") || g_str_has_prefix (uri, "mqtts://");
}

/* The name the port list shows for a URI it did not detect itself. */
static char *
port_label (const char *uri)
{
  if (g_str_equal (uri, "sim://"))
    return g_strdup (_("Demo (simulated 16-cell BMS)"));
  if (g_str_equal (uri, "sim://master"))
    return g_strdup (_("Demo master (256 cells)"));
  if (g_str_has_prefix (uri, URI_REPLAY))
    {
      g_autofree char *name = g_path_get_basename (uri + strlen (URI_REPLAY));
      return g_strdup_printf (_("Recording %s (replay)"), name);
    }
  if (g_ascii_strncasecmp (uri, "tcp://", 6) == 0)
    return g_strdup_printf (_("Gateway %s"), uri + 6);
  /* A path that exists (a pseudo-terminal, /dev/ttyS1, a by-id link) is a
   * port even when the adapter listing does not know it. */
  if (uri[0] != '/' || g_file_test (uri, G_FILE_TEST_EXISTS))
    return g_strdup (uri);
  return g_strdup_printf (_("%s (not found)"), uri);
}

static const char *
selected_uri (BmsConnectionBar *self)
{
  guint i = gtk_drop_down_get_selected (self->port_dropdown);

  if (i == GTK_INVALID_LIST_POSITION || i >= self->uris->len)
    return NULL;
  return g_ptr_array_index (self->uris, i);
}

static gboolean
listed (BmsConnectionBar *self,
        const char       *uri)
{
  for (guint i = 0; i < self->uris->len; i++)
    if (g_str_equal (g_ptr_array_index (self->uris, i), uri))
      return TRUE;
  return FALSE;
}

static void
add_port (BmsConnectionBar *self,
          const char       *uri,
          const char       *label)
{
  g_autofree char *own = NULL;

  if (listed (self, uri))
    return;
  if (label == NULL)
    label = own = port_label (uri);
  /* Before "Other port…", which stays last. */
  if (self->uris->len > 0 &&
      g_str_equal (g_ptr_array_index (self->uris, self->uris->len - 1), URI_OTHER))
    {
      guint at = self->uris->len - 1;

      g_ptr_array_insert (self->uris, at, g_strdup (uri));
      gtk_string_list_splice (self->port_list, at, 0, (const char *[]) { label, NULL });
      return;
    }
  g_ptr_array_add (self->uris, g_strdup (uri));
  gtk_string_list_append (self->port_list, label);
}

static gboolean
select_uri (BmsConnectionBar *self,
            const char       *uri)
{
  for (guint i = 0; i < self->uris->len; i++)
    if (g_str_equal (g_ptr_array_index (self->uris, i), uri))
      {
        gtk_drop_down_set_selected (self->port_dropdown, i);
        return TRUE;
      }
  return FALSE;
}

/* Select a port, adding it to the list when it is not there: a recording,
 * a gateway, a path typed earlier, an adapter that is unplugged now. */
static void
show_port (BmsConnectionBar *self,
           const char       *uri)
{
  add_port (self, uri, NULL);
  select_uri (self, uri);
}

/* The ports the user connected to, newest first (sim:// is always listed). */
static void
remember_port (BmsConnectionBar *self,
               const char       *uri)
{
  g_auto(GStrv) old = NULL;
  g_autoptr(GStrvBuilder) recent = g_strv_builder_new ();
  g_auto(GStrv) list = NULL;
  guint n = 1;

  if (self->settings == NULL || g_str_has_prefix (uri, "sim://"))
    return;
  old = g_settings_get_strv (self->settings, "recent-ports");
  g_strv_builder_add (recent, uri);
  for (guint i = 0; old[i] != NULL && n < MAX_RECENT; i++)
    if (!g_str_equal (old[i], uri))
      {
        g_strv_builder_add (recent, old[i]);
        n++;
      }
  list = g_strv_builder_end (recent);
  g_settings_set_strv (self->settings, "recent-ports", (const char * const *) list);
}

/* The whole port list: the adapters found (ports, BmsPortInfo), the recent
 * ports, the demos and "Other port…"; keeps the selection. */
static void
fill_ports (BmsConnectionBar *self,
            GPtrArray        *ports)
{
  const char *active = NULL;
  g_autofree char *keep = NULL;
  g_auto(GStrv) recent = NULL;

  if (self->connection != NULL &&
      bms_connection_get_state (self->connection) != BMS_CONNECTION_DISCONNECTED)
    active = bms_connection_get_uri (self->connection);
  /* A board watched through a broker is the "MQTT broker…" item. */
  if (active != NULL && is_mqtt (active))
    active = URI_MQTT;
  keep = g_strdup (active ? active : self->wanted_uri ? self->wanted_uri : selected_uri (self));
  g_ptr_array_set_size (self->uris, 0);
  gtk_string_list_splice (self->port_list, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->port_list)), NULL);
  for (guint i = 0; ports != NULL && i < ports->len; i++)
    {
      BmsPortInfo *port = g_ptr_array_index (ports, i);
      add_port (self, port->name, port->description ? port->description : port->name);
    }
  recent = self->settings ? g_settings_get_strv (self->settings, "recent-ports") : NULL;
  for (guint i = 0; recent != NULL && recent[i] != NULL; i++)
    add_port (self, recent[i], NULL);
  add_port (self, "sim://", NULL);
  add_port (self, "sim://master", NULL);
  add_port (self, URI_MQTT, _("MQTT broker…"));
  add_port (self, URI_OTHER, _("Other port or gateway…"));
  if (keep != NULL && g_str_equal (keep, URI_MQTT))
    select_uri (self, URI_MQTT);
  else if (keep != NULL && *keep != '\0' && !g_str_equal (keep, URI_OTHER))
    show_port (self, keep);
  else if (keep == NULL || *keep == '\0')
    /* First run: the first adapter, or the demo when there is none. */
    select_uri (self, ports != NULL && ports->len > 0
                        ? ((BmsPortInfo *) g_ptr_array_index (ports, 0))->name : "sim://");
  else
    select_uri (self, URI_OTHER);
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
  gboolean other = g_strcmp0 (uri, URI_OTHER) == 0;
  gboolean serial = uri != NULL && !other && strstr (uri, "://") == NULL &&
                    !g_str_equal (uri, URI_MQTT);

  gtk_widget_set_visible (GTK_WIDGET (self->port_entry), other);
  /* Baud means nothing to a simulator, a recording or a gateway's socket;
   * a typed port may be a serial one. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->baud_dropdown), serial || other);
  /* The broker's board is named in its dialog, not by an address. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->address_spin), g_strcmp0 (uri, URI_MQTT) != 0);
}

static guint
selected_baud (BmsConnectionBar *self)
{
  guint i = gtk_drop_down_get_selected (self->baud_dropdown);

  return i == GTK_INVALID_LIST_POSITION ? 9600 : bms_connection_get_supported_bauds ()[i];
}

/* A few words in the bar, which never cut off; the whole story in the
 * popover of the button next to them (and the tooltip). */
static void
show_status (BmsConnectionBar *self,
             const char       *icon,
             const char       *css,
             const char       *text,
             const char       *details)
{
  static const char * const classes[] = { "success", "warning", "error" };

  /* Setting an image, even to the icon it shows, lays it out again. */
  if (g_strcmp0 (gtk_image_get_icon_name (self->status_icon), icon) != 0)
    gtk_image_set_from_icon_name (self->status_icon, icon);
  gtk_label_set_label (self->status_label, text);
  g_free (self->details);
  self->details = g_strdup (details ? details : text);
  /* The reply count changes with every poll: a closed popover's label
   * would lay out the window each time. It is filled when it opens. */
  if (gtk_widget_get_mapped (GTK_WIDGET (self->status_details)))
    gtk_label_set_label (self->status_details, self->details);
  gtk_widget_set_visible (GTK_WIDGET (self->status_button), details != NULL);
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    {
      if (g_strcmp0 (css, classes[i]) == 0)
        gtk_widget_add_css_class (GTK_WIDGET (self->status_icon), classes[i]);
      else
        gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), classes[i]);
    }
}

static void
details_shown (BmsConnectionBar *self)
{
  gtk_label_set_label (self->status_details, self->details);
}

/* Asked for on hover only, so a poll does not reset it. */
static gboolean
status_query_tooltip (BmsConnectionBar *self,
                      int               x,
                      int               y,
                      gboolean          keyboard,
                      GtkTooltip       *tooltip)
{
  if (self->details == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, self->details);
  return TRUE;
}

static void
show_error (BmsConnectionBar *self,
            const char       *details)
{
  show_status (self, "dialog-error-symbolic", "error", _("Check the port"), details);
  gtk_menu_button_popup (self->status_button);
}

static void
update_status (BmsConnectionBar *self)
{
  BmsConnectionState state = bms_connection_get_state (self->connection);
  const char *message = bms_connection_get_error_message (self->connection);
  const char *uri = bms_connection_get_uri (self->connection);
  g_autofree char *details = NULL;
  gboolean connected = state != BMS_CONNECTION_DISCONNECTED &&
                       state != BMS_CONNECTION_ERROR;

  /* An error while reconnecting still has a connection to drop. */
  if (state == BMS_CONNECTION_ERROR && bms_connection_get_connected_since (self->connection))
    connected = TRUE;
  gtk_spinner_set_spinning (self->status_spinner, state == BMS_CONNECTION_CONNECTING);
  gtk_widget_set_visible (GTK_WIDGET (self->status_spinner), state == BMS_CONNECTION_CONNECTING);
  gtk_widget_set_visible (GTK_WIDGET (self->status_icon), state != BMS_CONNECTION_CONNECTING);
  if (self->activity != NULL && connected)
    {
      /* A firmware update: the board is not polled and its values are old. */
      gtk_widget_set_visible (GTK_WIDGET (self->status_spinner), TRUE);
      gtk_spinner_set_spinning (self->status_spinner, TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->status_icon), FALSE);
      show_status (self, "system-software-update-symbolic", "warning", self->activity,
                   self->activity_details);
    }
  else switch (state)
    {
    case BMS_CONNECTION_DISCONNECTED:
      show_status (self, "network-offline-symbolic", NULL, _("Not connected"), NULL);
      break;
    case BMS_CONNECTION_CONNECTING:
      /* Through a broker the reason names what is waited for. */
      details = message ? g_strdup (message) : g_strdup_printf (_("Connecting to %s…"), uri);
      show_status (self, "network-offline-symbolic", NULL, _("Connecting…"), details);
      break;
    case BMS_CONNECTION_POLLING:
      {
        guint n = (guint) MIN (bms_connection_get_poll_count (self->connection), G_MAXUINT);
        double interval = bms_connection_get_poll_interval (self->connection);

        details = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                "Connected to %s · polling every %.1f s · %u reply",
                                                "Connected to %s · polling every %.1f s · %u replies",
                                                n),
                                   uri, interval, n);
        /* Polling, but slower than asked (256 cells at 9600 baud): say so. */
        if (message != NULL)
          {
            g_autofree char *both = g_strdup_printf ("%s\n\n%s", details, message);
            show_status (self, "dialog-warning-symbolic", "warning", _("Slower than asked"), both);
          }
        else
          {
            /* No reply count here: it would change the bar every poll. */
            g_autofree char *ok = g_strdup_printf (_("Polling every %.1f s"), interval);
            show_status (self, "emblem-ok-symbolic", "success", ok, details);
          }
      }
      break;
    case BMS_CONNECTION_WATCHING:
      {
        guint n = (guint) MIN (bms_connection_get_poll_count (self->connection), G_MAXUINT);
        g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                              "Watching · %u update",
                                                              "Watching · %u updates", n), n);

        details = g_strdup_printf (_("Watching %s through the MQTT broker, read-only: the "
                                     "values are those packwatch-cli serve publishes"), uri);
        show_status (self, "emblem-ok-symbolic", "success", text, details);
      }
      break;
    case BMS_CONNECTION_NO_REPLY:
      show_status (self, "dialog-warning-symbolic", "warning", _("No reply"),
                   message ? message : _("No reply from the board"));
      break;
    case BMS_CONNECTION_ERROR:
      show_status (self, "dialog-error-symbolic", "error", _("Connection failed"),
                   message ? message : _("The port failed"));
      break;
    }

  gtk_button_set_label (self->connect_button, connected ? _("_Disconnect") : _("_Connect"));
  if (connected)
    gtk_widget_remove_css_class (GTK_WIDGET (self->connect_button), "suggested-action");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->connect_button), "suggested-action");
  if (connected && uri != NULL && is_mqtt (uri))
    select_uri (self, URI_MQTT);
  gtk_widget_set_sensitive (GTK_WIDGET (self->port_dropdown), !connected);
  gtk_widget_set_sensitive (GTK_WIDGET (self->port_entry), !connected);
  gtk_widget_set_sensitive (GTK_WIDGET (self->address_spin), !connected);
  if (connected)
    gtk_widget_set_sensitive (GTK_WIDGET (self->baud_dropdown), FALSE);
  else
    port_selected (self);
}

void
bms_connection_bar_toggle (BmsConnectionBar *self)
{
  BmsConnectionState state;
  const char *uri;
  g_autofree char *typed = NULL;
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
  if (g_strcmp0 (uri, URI_MQTT) == 0)
    {
      gtk_window_present (GTK_WINDOW (bms_connection_bar_ask_mqtt (self)));
      return;
    }
  if (g_strcmp0 (uri, URI_OTHER) == 0)
    {
      typed = bms_port_from_text (gtk_editable_get_text (GTK_EDITABLE (self->port_entry)), &error);
      if (typed == NULL)
        {
          show_error (self, error->message);
          gtk_widget_grab_focus (GTK_WIDGET (self->port_entry));
          return;
        }
      /* From now on the list holds it, selected. */
      show_port (self, typed);
      gtk_editable_set_text (GTK_EDITABLE (self->port_entry), "");
      uri = typed;
    }
  if (uri == NULL)
    {
      show_error (self, _("Choose a port first: plug in the RS485 adapter and press the refresh button"));
      return;
    }
  if (self->settings != NULL)
    {
      g_settings_set_string (self->settings, "port", uri);
      g_settings_set_uint (self->settings, "baud", selected_baud (self));
      g_settings_set_uint (self->settings, "address",
                           gtk_spin_button_get_value_as_int (self->address_spin));
      remember_port (self, uri);
    }
  bms_connection_connect (self->connection, uri, selected_baud (self),
                          gtk_spin_button_get_value_as_int (self->address_spin));
}

/* "MQTT broker…": the dialog that names the broker and the board. */
GtkWidget *
bms_connection_bar_ask_mqtt (BmsConnectionBar *self)
{
  GtkRoot *root;

  g_return_val_if_fail (BMS_IS_CONNECTION_BAR (self), NULL);
  g_return_val_if_fail (self->connection != NULL, NULL);

  root = gtk_widget_get_root (GTK_WIDGET (self));
  return GTK_WIDGET (bms_mqtt_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                          self->connection, self->settings));
}

void
bms_connection_bar_connect_to (BmsConnectionBar *self,
                               const char       *uri)
{
  g_return_if_fail (BMS_IS_CONNECTION_BAR (self));
  g_return_if_fail (uri != NULL);

  /* The listing that is still running must select this one, not the port
   * the settings remember. */
  g_free (self->wanted_uri);
  self->wanted_uri = g_strdup (uri);
  show_port (self, uri);
  bms_connection_bar_toggle (self);
}

/* Something the board does instead of being polled (a firmware update):
 * shown instead of the polling status until cleared with NULL. */
void
bms_connection_bar_set_activity (BmsConnectionBar *self,
                                 const char       *text,
                                 const char       *details)
{
  g_return_if_fail (BMS_IS_CONNECTION_BAR (self));

  if (g_strcmp0 (self->activity, text) == 0 && g_strcmp0 (self->activity_details, details) == 0)
    return;
  g_free (self->activity);
  self->activity = g_strdup (text);
  g_free (self->activity_details);
  self->activity_details = g_strdup (details);
  if (self->connection != NULL)
    update_status (self);
}

/* --baud and --address of the command line: for this run only. */
void
bms_connection_bar_set_line (BmsConnectionBar *self,
                             guint             baud,
                             guint             address)
{
  g_return_if_fail (BMS_IS_CONNECTION_BAR (self));

  if (baud != 0)
    {
      const guint *bauds = bms_connection_get_supported_bauds ();

      for (guint i = 0; bauds[i] != 0; i++)
        if (bauds[i] == baud)
          gtk_drop_down_set_selected (self->baud_dropdown, i);
    }
  gtk_spin_button_set_value (self->address_spin, address);
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
  g_free (self->activity);
  g_free (self->activity_details);
  g_free (self->details);

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
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, port_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, status_button);
  gtk_widget_class_bind_template_child (widget_class, BmsConnectionBar, status_details);
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
  g_signal_connect_object (self->port_entry, "activate",
                           G_CALLBACK (bms_connection_bar_toggle), self, G_CONNECT_SWAPPED);
  fill_ports (self, NULL);
  g_signal_connect_object (gtk_menu_button_get_popover (self->status_button), "show",
                           G_CALLBACK (details_shown), self, G_CONNECT_SWAPPED);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->status_label), TRUE);
  g_signal_connect_object (self->status_label, "query-tooltip",
                           G_CALLBACK (status_query_tooltip), self, G_CONNECT_SWAPPED);
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
  fill_ports (self, NULL);
  g_signal_connect_object (connection, "notify::state",
                           G_CALLBACK (update_status), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::error-message",
                           G_CALLBACK (update_status), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::poll-count",
                           G_CALLBACK (update_status), self, G_CONNECT_SWAPPED);
  update_status (self);
  refresh_ports (self);
}
