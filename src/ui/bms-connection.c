/* bms-connection.c — shared connection context of a window */
#include "config.h"

#include "bms-connection.h"

struct _BmsConnection
{
  GObject             parent_instance;

  BmsConnectionState  state;
  char               *error_message;
  char               *uri;
  GObject            *session;
  GObject            *poller;
  GObject            *device;
  GObject            *history;
  gint64              connected_since;
};

G_DEFINE_FINAL_TYPE (BmsConnection, bms_connection, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_ERROR_MESSAGE,
  PROP_URI,
  PROP_SESSION,
  PROP_POLLER,
  PROP_DEVICE,
  PROP_HISTORY,
  PROP_CONNECTED_SINCE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

GType
bms_connection_state_get_type (void)
{
  static gsize type_id = 0;
  static const GEnumValue values[] = {
    { BMS_CONNECTION_DISCONNECTED, "BMS_CONNECTION_DISCONNECTED", "disconnected" },
    { BMS_CONNECTION_CONNECTING, "BMS_CONNECTION_CONNECTING", "connecting" },
    { BMS_CONNECTION_POLLING, "BMS_CONNECTION_POLLING", "polling" },
    { BMS_CONNECTION_NO_REPLY, "BMS_CONNECTION_NO_REPLY", "no-reply" },
    { BMS_CONNECTION_ERROR, "BMS_CONNECTION_ERROR", "error" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static ("BmsConnectionState", values));
  return type_id;
}

static void
bms_connection_dispose (GObject *object)
{
  BmsConnection *self = BMS_CONNECTION (object);

  g_clear_object (&self->poller);
  g_clear_object (&self->device);
  g_clear_object (&self->session);
  g_clear_object (&self->history);

  G_OBJECT_CLASS (bms_connection_parent_class)->dispose (object);
}

static void
bms_connection_finalize (GObject *object)
{
  BmsConnection *self = BMS_CONNECTION (object);

  g_free (self->error_message);
  g_free (self->uri);

  G_OBJECT_CLASS (bms_connection_parent_class)->finalize (object);
}

static void
bms_connection_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  BmsConnection *self = BMS_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR_MESSAGE:
      g_value_set_string (value, self->error_message);
      break;
    case PROP_URI:
      g_value_set_string (value, self->uri);
      break;
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    case PROP_POLLER:
      g_value_set_object (value, self->poller);
      break;
    case PROP_DEVICE:
      g_value_set_object (value, self->device);
      break;
    case PROP_HISTORY:
      g_value_set_object (value, self->history);
      break;
    case PROP_CONNECTED_SINCE:
      g_value_set_int64 (value, self->connected_since);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_connection_class_init (BmsConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = bms_connection_dispose;
  object_class->finalize = bms_connection_finalize;
  object_class->get_property = bms_connection_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, BMS_TYPE_CONNECTION_STATE,
                       BMS_CONNECTION_DISCONNECTED, ro);
  properties[PROP_ERROR_MESSAGE] =
    g_param_spec_string ("error-message", NULL, NULL, NULL, ro);
  properties[PROP_URI] =
    g_param_spec_string ("uri", NULL, NULL, NULL, ro);
  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, G_TYPE_OBJECT, ro);
  properties[PROP_POLLER] =
    g_param_spec_object ("poller", NULL, NULL, G_TYPE_OBJECT, ro);
  properties[PROP_DEVICE] =
    g_param_spec_object ("device", NULL, NULL, G_TYPE_OBJECT, ro);
  properties[PROP_HISTORY] =
    g_param_spec_object ("history", NULL, NULL, G_TYPE_OBJECT, ro);
  properties[PROP_CONNECTED_SINCE] =
    g_param_spec_int64 ("connected-since", NULL, NULL, 0, G_MAXINT64, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bms_connection_init (BmsConnection *self)
{
}

BmsConnection *
bms_connection_new (void)
{
  return g_object_new (BMS_TYPE_CONNECTION, NULL);
}

BmsConnectionState
bms_connection_get_state (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), BMS_CONNECTION_DISCONNECTED);
  return self->state;
}

const char *
bms_connection_get_error_message (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->error_message;
}

const char *
bms_connection_get_uri (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return self->uri;
}

BmsDevice *
bms_connection_get_device (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return (BmsDevice *) self->device;
}

BmsPoller *
bms_connection_get_poller (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return (BmsPoller *) self->poller;
}

BmsHistory *
bms_connection_get_history (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return (BmsHistory *) self->history;
}

BmsSession *
bms_connection_get_session (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), NULL);
  return (BmsSession *) self->session;
}

gint64
bms_connection_get_connected_since (BmsConnection *self)
{
  g_return_val_if_fail (BMS_IS_CONNECTION (self), 0);
  return self->connected_since;
}

void
bms_connection_set_device (BmsConnection *self,
                           BmsDevice     *device)
{
  g_return_if_fail (BMS_IS_CONNECTION (self));

  if (g_set_object (&self->device, (GObject *) device))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);
}
