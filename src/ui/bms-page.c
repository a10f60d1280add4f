/* bms-page.c — base of the window's pages.
 *
 * Every page shows one connection and the device it polls. Holding them,
 * dropping the page's signal handlers from the old object and telling the
 * page (through a vfunc, so it can connect its own handlers and refresh
 * before "notify" goes out) is the same for all eight, so it lives here.
 */
#include "config.h"

#include "bms-page.h"

typedef struct
{
  BmsConnection *connection;
  BmsDevice     *device;
} BmsPagePrivate;

G_DEFINE_TYPE_WITH_PRIVATE (BmsPage, bms_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_CONNECTION,
  PROP_DEVICE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Drops what the page connected to @object, then takes @value. */
static gboolean
replace_object (BmsPage  *self,
                gpointer *slot,
                gpointer  value)
{
  if (*slot == value)
    return FALSE;
  if (*slot != NULL)
    g_signal_handlers_disconnect_by_data (*slot, self);
  g_set_object ((GObject **) slot, value);
  return TRUE;
}

static void
bms_page_dispose (GObject *object)
{
  BmsPage *self = BMS_PAGE (object);
  BmsPagePrivate *priv = bms_page_get_instance_private (self);

  /* No vfunc here: the page has already torn itself down. */
  replace_object (self, (gpointer *) &priv->device, NULL);
  replace_object (self, (gpointer *) &priv->connection, NULL);

  G_OBJECT_CLASS (bms_page_parent_class)->dispose (object);
}

static void
bms_page_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  BmsPage *self = BMS_PAGE (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      g_value_set_object (value, bms_page_get_connection (self));
      break;
    case PROP_DEVICE:
      g_value_set_object (value, bms_page_get_device (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_page_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  BmsPage *self = BMS_PAGE (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      bms_page_set_connection (self, g_value_get_object (value));
      break;
    case PROP_DEVICE:
      bms_page_set_device (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_page_class_init (BmsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = bms_page_dispose;
  object_class->get_property = bms_page_get_property;
  object_class->set_property = bms_page_set_property;

  properties[PROP_CONNECTION] =
    g_param_spec_object ("connection", NULL, NULL, BMS_TYPE_CONNECTION,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);
  properties[PROP_DEVICE] =
    g_param_spec_object ("device", NULL, NULL, BMS_TYPE_DEVICE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bms_page_init (BmsPage *self)
{
}

BmsConnection *
bms_page_get_connection (BmsPage *self)
{
  BmsPagePrivate *priv = bms_page_get_instance_private (self);

  g_return_val_if_fail (BMS_IS_PAGE (self), NULL);
  return priv->connection;
}

void
bms_page_set_connection (BmsPage       *self,
                         BmsConnection *connection)
{
  BmsPagePrivate *priv = bms_page_get_instance_private (self);

  g_return_if_fail (BMS_IS_PAGE (self));
  g_return_if_fail (connection == NULL || BMS_IS_CONNECTION (connection));

  if (!replace_object (self, (gpointer *) &priv->connection, connection))
    return;
  if (BMS_PAGE_GET_CLASS (self)->connection_changed != NULL)
    BMS_PAGE_GET_CLASS (self)->connection_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION]);
}

BmsDevice *
bms_page_get_device (BmsPage *self)
{
  BmsPagePrivate *priv = bms_page_get_instance_private (self);

  g_return_val_if_fail (BMS_IS_PAGE (self), NULL);
  return priv->device;
}

void
bms_page_set_device (BmsPage   *self,
                     BmsDevice *device)
{
  BmsPagePrivate *priv = bms_page_get_instance_private (self);

  g_return_if_fail (BMS_IS_PAGE (self));
  g_return_if_fail (device == NULL || BMS_IS_DEVICE (device));

  if (!replace_object (self, (gpointer *) &priv->device, device))
    return;
  if (BMS_PAGE_GET_CLASS (self)->device_changed != NULL)
    BMS_PAGE_GET_CLASS (self)->device_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);
}

/* Whether the page's connection has a line to a board (writes can go). */
gboolean
bms_page_get_connected (BmsPage *self)
{
  BmsConnection *connection = bms_page_get_connection (self);

  return connection != NULL && bms_connection_get_connected (connection);
}

/* The window to put a dialog on, or NULL when the page is not shown. */
GtkWindow *
bms_page_get_window (BmsPage *self)
{
  GtkRoot *root;

  g_return_val_if_fail (BMS_IS_PAGE (self), NULL);
  root = gtk_widget_get_root (GTK_WIDGET (self));
  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

/* The history database, or NULL while it opens or without a connection. */
BmsHistory *
bms_page_get_history (BmsPage *self)
{
  BmsConnection *connection = bms_page_get_connection (self);

  return connection != NULL ? bms_connection_get_history (connection) : NULL;
}

/* The device's row in the history, or 0 when there is none. */
gint64
bms_page_get_history_device_id (BmsPage *self)
{
  BmsConnection *connection = bms_page_get_connection (self);

  return connection != NULL ? bms_connection_get_history_device_id (connection) : 0;
}

/* The device's last decoded values, or NULL. */
const BmsSnapshot *
bms_page_get_snapshot (BmsPage *self)
{
  BmsDevice *device = bms_page_get_device (self);

  return device != NULL ? bms_device_get_snapshot (device) : NULL;
}

/* Makes template bindings that format with the settings run again. */
void
bms_page_notify_device (BmsPage *self)
{
  g_return_if_fail (BMS_IS_PAGE (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);
}
