/* bms-param-page.c — the Param page of the window */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-param-page.h"

struct _BmsParamPage
{
  AdwBin         parent_instance;

  BmsConnection *connection;
  GObject       *device;

  AdwStatusPage *status_page;
};

G_DEFINE_FINAL_TYPE (BmsParamPage, bms_param_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_CONNECTION,
  PROP_DEVICE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bms_param_page_dispose (GObject *object)
{
  BmsParamPage *self = BMS_PARAM_PAGE (object);

  /* AdwBin unparents its child itself; gtk_widget_dispose_template would
   * unparent it first and leave AdwBin a dangling pointer. */
  g_clear_object (&self->device);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (bms_param_page_parent_class)->dispose (object);
}

static void
bms_param_page_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  BmsParamPage *self = BMS_PARAM_PAGE (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      g_value_set_object (value, self->connection);
      break;
    case PROP_DEVICE:
      g_value_set_object (value, self->device);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_param_page_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  BmsParamPage *self = BMS_PARAM_PAGE (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      if (g_set_object (&self->connection, g_value_get_object (value)))
        g_object_notify_by_pspec (object, pspec);
      break;
    case PROP_DEVICE:
      bms_param_page_set_device (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_param_page_class_init (BmsParamPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_param_page_dispose;
  object_class->get_property = bms_param_page_get_property;
  object_class->set_property = bms_param_page_set_property;

  properties[PROP_CONNECTION] =
    g_param_spec_object ("connection", NULL, NULL, BMS_TYPE_CONNECTION,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);
  /* G_TYPE_OBJECT until the model's BmsDevice type is on main. */
  properties[PROP_DEVICE] =
    g_param_spec_object ("device", NULL, NULL, G_TYPE_OBJECT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-param-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, status_page);
}

static void
bms_param_page_init (BmsParamPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
bms_param_page_new (BmsConnection *connection)
{
  return g_object_new (BMS_TYPE_PARAM_PAGE, "connection", connection, NULL);
}

BmsConnection *
bms_param_page_get_connection (BmsParamPage *self)
{
  g_return_val_if_fail (BMS_IS_PARAM_PAGE (self), NULL);
  return self->connection;
}

BmsDevice *
bms_param_page_get_device (BmsParamPage *self)
{
  g_return_val_if_fail (BMS_IS_PARAM_PAGE (self), NULL);
  return (BmsDevice *) self->device;
}

void
bms_param_page_set_device (BmsParamPage *self,
                            BmsDevice    *device)
{
  g_return_if_fail (BMS_IS_PARAM_PAGE (self));

  if (!g_set_object (&self->device, (GObject *) device))
    return;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);
}
