/* bms-change.c — one field of a change set. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "bms-change.h"
#include "bms-field.h"

struct _BmsChange
{
  GObject parent_instance;
  guint8 id;
  gboolean has_old;
  gint64 old_raw;
  gint64 new_raw;
  char *new_string;
  char *old_text;
  char *new_text;
  BmsChangeResult result;
  char *message;
};

G_DEFINE_FINAL_TYPE (BmsChange, bms_change, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (BmsChangeResult, bms_change_result,
                    G_DEFINE_ENUM_VALUE (BMS_CHANGE_PENDING, "pending"),
                    G_DEFINE_ENUM_VALUE (BMS_CHANGE_OK, "ok"),
                    G_DEFINE_ENUM_VALUE (BMS_CHANGE_FAILED, "failed"),
                    G_DEFINE_ENUM_VALUE (BMS_CHANGE_NOT_SENT, "not-sent"),
                    G_DEFINE_ENUM_VALUE (BMS_CHANGE_RESTORED, "restored"))

enum
{
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_LABEL,
  PROP_OLD_TEXT,
  PROP_NEW_TEXT,
  PROP_RESULT,
  PROP_MESSAGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

const char *
bms_change_result_to_string (BmsChangeResult result)
{
  static const char *const names[] = { "pending", "ok", "failed", "not sent", "restored" };

  g_return_val_if_fail (result <= BMS_CHANGE_RESTORED, "unknown");
  return names[result];
}

static void
bms_change_finalize (GObject *object)
{
  BmsChange *self = BMS_CHANGE (object);

  g_free (self->new_string);
  g_free (self->old_text);
  g_free (self->new_text);
  g_free (self->message);
  G_OBJECT_CLASS (bms_change_parent_class)->finalize (object);
}

static void
bms_change_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BmsChange *self = BMS_CHANGE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_uint (value, self->id);
      break;
    case PROP_NAME:
      g_value_set_string (value, bms_change_get_name (self));
      break;
    case PROP_LABEL:
      g_value_set_string (value, bms_change_get_label (self));
      break;
    case PROP_OLD_TEXT:
      g_value_set_string (value, self->old_text);
      break;
    case PROP_NEW_TEXT:
      g_value_set_string (value, self->new_text);
      break;
    case PROP_RESULT:
      g_value_set_enum (value, self->result);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_change_class_init (BmsChangeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = bms_change_finalize;
  object_class->get_property = bms_change_get_property;

  properties[PROP_ID] = g_param_spec_uint ("id", NULL, "field id", 0, 255, 0, ro);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, ro);
  properties[PROP_LABEL] = g_param_spec_string ("label", NULL, NULL, NULL, ro);
  properties[PROP_OLD_TEXT] = g_param_spec_string ("old-text", NULL, NULL, NULL, ro);
  properties[PROP_NEW_TEXT] = g_param_spec_string ("new-text", NULL, NULL, NULL, ro);
  properties[PROP_RESULT]
      = g_param_spec_enum ("result", NULL, NULL, BMS_TYPE_CHANGE_RESULT, BMS_CHANGE_PENDING, ro);
  properties[PROP_MESSAGE] = g_param_spec_string ("message", NULL, NULL, NULL, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bms_change_init (BmsChange *self)
{
}

static char *
format_value (guint8 id, gint64 raw, const char *string)
{
  const BmsFieldInfo *field = bms_field_lookup (id);

  /* Never shown, never in the audit trail. */
  if (id == BMS_ID_PASSWORD)
    return g_strdup (string != NULL && *string != '\0' ? "(hidden)" : "(empty)");
  if (field->type == BMS_FIELD_ASCII)
    return g_strdup (string ? string : "");
  return bms_field_format (field, raw);
}

BmsChange *
bms_change_new (guint8 id, gboolean has_old, gint64 old_raw, const char *old_string, gint64 new_raw,
                const char *new_string)
{
  BmsChange *self;

  g_return_val_if_fail (bms_field_lookup (id) != NULL, NULL);
  self = g_object_new (BMS_TYPE_CHANGE, NULL);
  self->id = id;
  self->has_old = has_old;
  self->old_raw = old_raw;
  self->old_text = has_old ? format_value (id, old_raw, old_string) : g_strdup ("?");
  self->new_raw = new_raw;
  self->new_string = g_strdup (new_string);
  self->new_text = format_value (id, new_raw, new_string);
  return self;
}

guint8
bms_change_get_id (BmsChange *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE (self), 0);
  return self->id;
}

const char *
bms_change_get_name (BmsChange *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE (self), NULL);
  return bms_field_lookup (self->id)->name;
}

const char *
bms_change_get_label (BmsChange *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE (self), NULL);
  return _ (bms_field_lookup (self->id)->label);
}

gboolean
bms_change_get_has_old (BmsChange *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE (self), FALSE);
  return self->has_old;
}

gint64
bms_change_get_old_raw (BmsChange *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE (self), 0);
  return self->old_raw;
}

gint64
bms_change_get_new_raw (BmsChange *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE (self), 0);
  return self->new_raw;
}

const char *
bms_change_get_new_string (BmsChange *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE (self), NULL);
  return self->new_string;
}

const char *
bms_change_get_old_text (BmsChange *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE (self), NULL);
  return self->old_text;
}

const char *
bms_change_get_new_text (BmsChange *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE (self), NULL);
  return self->new_text;
}

BmsChangeResult
bms_change_get_result (BmsChange *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE (self), BMS_CHANGE_PENDING);
  return self->result;
}

const char *
bms_change_get_message (BmsChange *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE (self), NULL);
  return self->message;
}

void
bms_change_set_new_value (BmsChange *self, gint64 raw, const char *string)
{
  g_autofree char *text = NULL;

  g_return_if_fail (BMS_IS_CHANGE (self));
  self->new_raw = raw;
  g_free (self->new_string);
  self->new_string = g_strdup (string);
  text = format_value (self->id, raw, string);
  if (g_strcmp0 (text, self->new_text) == 0)
    return;
  g_free (self->new_text);
  self->new_text = g_steal_pointer (&text);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NEW_TEXT]);
}

void
bms_change_set_result (BmsChange *self, BmsChangeResult result, const char *message)
{
  g_return_if_fail (BMS_IS_CHANGE (self));
  if (self->result != result)
    {
      self->result = result;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESULT]);
    }
  if (g_strcmp0 (self->message, message) != 0)
    {
      g_free (self->message);
      self->message = g_strdup (message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
    }
}
