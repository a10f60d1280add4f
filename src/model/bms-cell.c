/* bms-cell.c — one cell of the pack. */
#include "bms-cell.h"

struct _BmsCell
{
  GObject parent_instance;
  guint index;
  guint module;
  guint millivolts;
  gboolean balancing;
  gboolean is_min;
  gboolean is_max;
};

G_DEFINE_FINAL_TYPE (BmsCell, bms_cell, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_INDEX,
  PROP_MODULE,
  PROP_MILLIVOLTS,
  PROP_VOLTAGE,
  PROP_BALANCING,
  PROP_IS_MIN,
  PROP_IS_MAX,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bms_cell_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BmsCell *self = BMS_CELL (object);

  switch (prop_id)
    {
    case PROP_INDEX:
      g_value_set_uint (value, self->index);
      break;
    case PROP_MODULE:
      g_value_set_uint (value, self->module);
      break;
    case PROP_MILLIVOLTS:
      g_value_set_uint (value, self->millivolts);
      break;
    case PROP_VOLTAGE:
      g_value_set_double (value, bms_cell_get_voltage (self));
      break;
    case PROP_BALANCING:
      g_value_set_boolean (value, self->balancing);
      break;
    case PROP_IS_MIN:
      g_value_set_boolean (value, self->is_min);
      break;
    case PROP_IS_MAX:
      g_value_set_boolean (value, self->is_max);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_cell_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BmsCell *self = BMS_CELL (object);

  switch (prop_id)
    {
    case PROP_INDEX:
      self->index = g_value_get_uint (value);
      break;
    case PROP_MODULE:
      bms_cell_set_module (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_cell_class_init (BmsCellClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = bms_cell_get_property;
  object_class->set_property = bms_cell_set_property;

  properties[PROP_INDEX]
      = g_param_spec_uint ("index", NULL, "1-based cell number", 1, G_MAXUINT, 1,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MODULE] = g_param_spec_uint (
      "module", NULL, "1-based module number", 1, G_MAXUINT, 1,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MILLIVOLTS] = g_param_spec_uint ("millivolts", NULL, NULL, 0, G_MAXUINT16, 0, ro);
  properties[PROP_VOLTAGE] = g_param_spec_double ("voltage", NULL, "volts", 0, 100, 0, ro);
  properties[PROP_BALANCING] = g_param_spec_boolean ("balancing", NULL, NULL, FALSE, ro);
  properties[PROP_IS_MIN] = g_param_spec_boolean ("is-min", NULL, NULL, FALSE, ro);
  properties[PROP_IS_MAX] = g_param_spec_boolean ("is-max", NULL, NULL, FALSE, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bms_cell_init (BmsCell *self)
{
  self->index = 1;
  self->module = 1;
}

BmsCell *
bms_cell_new (guint index, guint module)
{
  g_return_val_if_fail (index >= 1, NULL);
  return g_object_new (BMS_TYPE_CELL, "index", index, "module", MAX (module, 1), NULL);
}

guint
bms_cell_get_index (BmsCell *self)
{
  g_return_val_if_fail (BMS_IS_CELL (self), 0);
  return self->index;
}

guint
bms_cell_get_module (BmsCell *self)
{
  g_return_val_if_fail (BMS_IS_CELL (self), 0);
  return self->module;
}

guint
bms_cell_get_millivolts (BmsCell *self)
{
  g_return_val_if_fail (BMS_IS_CELL (self), 0);
  return self->millivolts;
}

double
bms_cell_get_voltage (BmsCell *self)
{
  g_return_val_if_fail (BMS_IS_CELL (self), 0);
  return self->millivolts / 1000.0;
}

gboolean
bms_cell_get_balancing (BmsCell *self)
{
  g_return_val_if_fail (BMS_IS_CELL (self), FALSE);
  return self->balancing;
}

gboolean
bms_cell_get_is_min (BmsCell *self)
{
  g_return_val_if_fail (BMS_IS_CELL (self), FALSE);
  return self->is_min;
}

gboolean
bms_cell_get_is_max (BmsCell *self)
{
  g_return_val_if_fail (BMS_IS_CELL (self), FALSE);
  return self->is_max;
}

void
bms_cell_set_module (BmsCell *self, guint module)
{
  g_return_if_fail (BMS_IS_CELL (self));
  module = MAX (module, 1);
  if (self->module == module)
    return;
  self->module = module;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODULE]);
}

void
bms_cell_set_millivolts (BmsCell *self, guint millivolts)
{
  g_return_if_fail (BMS_IS_CELL (self));
  if (self->millivolts == millivolts)
    return;
  self->millivolts = millivolts;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MILLIVOLTS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VOLTAGE]);
}

static void
set_flag (BmsCell *self, gboolean *field, gboolean value, guint prop)
{
  value = !!value;
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

void
bms_cell_set_balancing (BmsCell *self, gboolean balancing)
{
  g_return_if_fail (BMS_IS_CELL (self));
  set_flag (self, &self->balancing, balancing, PROP_BALANCING);
}

void
bms_cell_set_is_min (BmsCell *self, gboolean is_min)
{
  g_return_if_fail (BMS_IS_CELL (self));
  set_flag (self, &self->is_min, is_min, PROP_IS_MIN);
}

void
bms_cell_set_is_max (BmsCell *self, gboolean is_max)
{
  g_return_if_fail (BMS_IS_CELL (self));
  set_flag (self, &self->is_max, is_max, PROP_IS_MAX);
}
