/* bms-module.c — one slave module: its cells and sensors T0–T2. */
#include "bms-module.h"

struct _BmsModule
{
  GObject parent_instance;
  guint index;
  GListStore *cells;
  gboolean has_temps;
  double temps[3];
  guint min_mv;
  guint max_mv;
};

G_DEFINE_FINAL_TYPE (BmsModule, bms_module, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_INDEX,
  PROP_CELL_COUNT,
  PROP_FIRST_CELL,
  PROP_CELLS,
  PROP_HAS_TEMPERATURES,
  PROP_T0,
  PROP_T1,
  PROP_T2,
  PROP_MIN_MILLIVOLTS,
  PROP_MAX_MILLIVOLTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bms_module_dispose (GObject *object)
{
  BmsModule *self = BMS_MODULE (object);

  g_clear_object (&self->cells);
  G_OBJECT_CLASS (bms_module_parent_class)->dispose (object);
}

static void
bms_module_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BmsModule *self = BMS_MODULE (object);

  switch (prop_id)
    {
    case PROP_INDEX:
      g_value_set_uint (value, self->index);
      break;
    case PROP_CELL_COUNT:
      g_value_set_uint (value, bms_module_get_cell_count (self));
      break;
    case PROP_FIRST_CELL:
      g_value_set_uint (value, bms_module_get_first_cell (self));
      break;
    case PROP_CELLS:
      g_value_set_object (value, self->cells);
      break;
    case PROP_HAS_TEMPERATURES:
      g_value_set_boolean (value, self->has_temps);
      break;
    case PROP_T0:
      g_value_set_double (value, self->temps[0]);
      break;
    case PROP_T1:
      g_value_set_double (value, self->temps[1]);
      break;
    case PROP_T2:
      g_value_set_double (value, self->temps[2]);
      break;
    case PROP_MIN_MILLIVOLTS:
      g_value_set_uint (value, self->min_mv);
      break;
    case PROP_MAX_MILLIVOLTS:
      g_value_set_uint (value, self->max_mv);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_module_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BmsModule *self = BMS_MODULE (object);

  switch (prop_id)
    {
    case PROP_INDEX:
      self->index = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_module_class_init (BmsModuleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = bms_module_dispose;
  object_class->get_property = bms_module_get_property;
  object_class->set_property = bms_module_set_property;

  properties[PROP_INDEX]
      = g_param_spec_uint ("index", NULL, "1-based module number", 1, G_MAXUINT, 1,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CELL_COUNT] = g_param_spec_uint ("cell-count", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_FIRST_CELL] = g_param_spec_uint ("first-cell", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_CELLS] = g_param_spec_object ("cells", NULL, NULL, G_TYPE_LIST_MODEL,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_HAS_TEMPERATURES]
      = g_param_spec_boolean ("has-temperatures", NULL, NULL, FALSE, ro);
  properties[PROP_T0] = g_param_spec_double ("t0", NULL, "°C", -273, 1000, 0, ro);
  properties[PROP_T1] = g_param_spec_double ("t1", NULL, "°C", -273, 1000, 0, ro);
  properties[PROP_T2] = g_param_spec_double ("t2", NULL, "°C", -273, 1000, 0, ro);
  properties[PROP_MIN_MILLIVOLTS]
      = g_param_spec_uint ("min-millivolts", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_MAX_MILLIVOLTS]
      = g_param_spec_uint ("max-millivolts", NULL, NULL, 0, G_MAXUINT, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bms_module_init (BmsModule *self)
{
  self->index = 1;
  self->cells = g_list_store_new (BMS_TYPE_CELL);
}

BmsModule *
bms_module_new (guint index)
{
  g_return_val_if_fail (index >= 1, NULL);
  return g_object_new (BMS_TYPE_MODULE, "index", index, NULL);
}

guint
bms_module_get_index (BmsModule *self)
{
  g_return_val_if_fail (BMS_IS_MODULE (self), 0);
  return self->index;
}

guint
bms_module_get_cell_count (BmsModule *self)
{
  g_return_val_if_fail (BMS_IS_MODULE (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->cells));
}

guint
bms_module_get_first_cell (BmsModule *self)
{
  g_autoptr (BmsCell) first = NULL;

  g_return_val_if_fail (BMS_IS_MODULE (self), 0);
  first = g_list_model_get_item (G_LIST_MODEL (self->cells), 0);
  return first ? bms_cell_get_index (first) : 0;
}

GListModel *
bms_module_get_cells (BmsModule *self)
{
  g_return_val_if_fail (BMS_IS_MODULE (self), NULL);
  return G_LIST_MODEL (self->cells);
}

gboolean
bms_module_get_has_temperatures (BmsModule *self)
{
  g_return_val_if_fail (BMS_IS_MODULE (self), FALSE);
  return self->has_temps;
}

double
bms_module_get_temperature (BmsModule *self, guint sensor)
{
  g_return_val_if_fail (BMS_IS_MODULE (self), 0);
  g_return_val_if_fail (sensor < 3, 0);
  return self->temps[sensor];
}

guint
bms_module_get_min_millivolts (BmsModule *self)
{
  g_return_val_if_fail (BMS_IS_MODULE (self), 0);
  return self->min_mv;
}

guint
bms_module_get_max_millivolts (BmsModule *self)
{
  g_return_val_if_fail (BMS_IS_MODULE (self), 0);
  return self->max_mv;
}

static gboolean
same_cells (BmsModule *self, BmsCell **cells, guint n)
{
  if (g_list_model_get_n_items (G_LIST_MODEL (self->cells)) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (BmsCell) cell = g_list_model_get_item (G_LIST_MODEL (self->cells), i);
      if (cell != cells[i])
        return FALSE;
    }
  return TRUE;
}

void
bms_module_set_cells (BmsModule *self, BmsCell **cells, guint n)
{
  guint old_n;
  guint old_first;

  g_return_if_fail (BMS_IS_MODULE (self));
  if (same_cells (self, cells, n))
    return;
  old_n = bms_module_get_cell_count (self);
  old_first = bms_module_get_first_cell (self);
  g_list_store_splice (self->cells, 0, old_n, (gpointer *)cells, n);
  if (old_n != n)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CELL_COUNT]);
  if (old_first != bms_module_get_first_cell (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIRST_CELL]);
  bms_module_refresh (self);
}

void
bms_module_set_temperatures (BmsModule *self, gboolean present, const double temps[3])
{
  static const guint props[3] = { PROP_T0, PROP_T1, PROP_T2 };

  g_return_if_fail (BMS_IS_MODULE (self));
  present = !!present;
  if (self->has_temps != present)
    {
      self->has_temps = present;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_TEMPERATURES]);
    }
  for (guint i = 0; i < 3; i++)
    {
      double t = present ? temps[i] : 0;
      if (self->temps[i] == t)
        continue;
      self->temps[i] = t;
      g_object_notify_by_pspec (G_OBJECT (self), properties[props[i]]);
    }
}

void
bms_module_refresh (BmsModule *self)
{
  guint n = bms_module_get_cell_count (self);
  guint min_mv = n ? G_MAXUINT : 0;
  guint max_mv = 0;

  g_return_if_fail (BMS_IS_MODULE (self));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (BmsCell) cell = g_list_model_get_item (G_LIST_MODEL (self->cells), i);
      guint mv = bms_cell_get_millivolts (cell);
      min_mv = MIN (min_mv, mv);
      max_mv = MAX (max_mv, mv);
    }
  if (self->min_mv != min_mv)
    {
      self->min_mv = min_mv;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_MILLIVOLTS]);
    }
  if (self->max_mv != max_mv)
    {
      self->max_mv = max_mv;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_MILLIVOLTS]);
    }
}
