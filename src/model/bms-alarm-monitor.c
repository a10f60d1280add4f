/* bms-alarm-monitor.c — active alarms from warning bits, status, relays. */
#include "config.h"

#include <math.h>

#include "bms-alarm-monitor.h"

struct _BmsAlarmMonitor
{
  GObject parent_instance;
  BmsDevice *device;
  gulong updated_id;
  gulong online_id;
  GPtrArray *active; /* BmsAlarm, order raised */
  BmsHistory *history;
  gint64 history_device_id;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BmsAlarmMonitor, bms_alarm_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum
{
  PROP_0,
  PROP_DEVICE,
  PROP_N_ITEMS,
  PROP_HIGHEST_SEVERITY,
  N_PROPS
};

enum
{
  SIGNAL_EVENT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ---- GListModel ---- */

static GType
get_item_type (GListModel *model)
{
  return BMS_TYPE_ALARM;
}

static guint
get_n_items (GListModel *model)
{
  return BMS_ALARM_MONITOR (model)->active->len;
}

static gpointer
get_item (GListModel *model, guint position)
{
  BmsAlarmMonitor *self = BMS_ALARM_MONITOR (model);

  if (position >= self->active->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->active, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

/* ---- deriving alarms from a snapshot ---- */

/* 1-based module of a 1-based cell, 0 when the board reports no modules. */
static guint
module_of_cell (const BmsSnapshot *s, guint cell)
{
  const guint8 *counts = bms_snapshot_get_bytes (s, BMS_ID_MODULE_CELLS);
  guint n_modules, first = 1;

  if (counts == NULL || !bms_snapshot_has (s, BMS_ID_MODULE_COUNT))
    return 0;
  n_modules = (guint)CLAMP (bms_snapshot_get_raw (s, BMS_ID_MODULE_COUNT), 0, BMS_MAX_MODULES);
  for (guint m = 0; m < n_modules; m++)
    {
      if (cell >= first && cell < first + counts[m])
        return m + 1;
      first += counts[m];
    }
  return 0;
}

typedef struct
{
  gboolean has;
  double value;
  guint cell;
  guint module;
} Measured;

static void
measure_cells (const BmsSnapshot *s, BmsAlarmMeasure measure, Measured *m)
{
  guint lo, hi;

  if (!bms_snapshot_get_cell_range (s, &lo, &hi))
    return;
  m->has = TRUE;
  if (measure == BMS_ALARM_MEASURE_CELL_DIFF)
    {
      m->value = s->cells_mv[hi] - s->cells_mv[lo];
      return;
    }
  m->cell = (measure == BMS_ALARM_MEASURE_MAX_CELL ? hi : lo) + 1;
  m->value = s->cells_mv[m->cell - 1];
  m->module = module_of_cell (s, m->cell);
}

/* Battery temperature: sensor 2 and the modules' T0–T2 (sensor 1 when the
 * board has nothing else). */
static void
measure_battery_temp (const BmsSnapshot *s, gboolean highest, Measured *m)
{
  guint8 id = bms_snapshot_has (s, BMS_ID_TEMP2) ? BMS_ID_TEMP2 : BMS_ID_TEMP1;

  if (bms_snapshot_has (s, id))
    {
      m->has = TRUE;
      m->value = bms_snapshot_get (s, id);
    }
  for (guint mod = 0; mod < s->n_module_temps && mod < BMS_MAX_MODULES; mod++)
    for (guint t = 0; t < 3; t++)
      {
        double v = s->module_temps_c[mod][t];
        if (!m->has || (highest ? v > m->value : v < m->value))
          {
            m->has = TRUE;
            m->value = v;
            m->module = mod + 1;
          }
      }
}

static void
measure_field (const BmsSnapshot *s, guint8 id, Measured *m)
{
  if (!bms_snapshot_has (s, id))
    return;
  m->has = TRUE;
  m->value = bms_snapshot_get (s, id);
}

static Measured
measure (const BmsSnapshot *s, BmsAlarmMeasure what)
{
  Measured m = { FALSE, 0, 0, 0 };

  switch (what)
    {
    case BMS_ALARM_MEASURE_SOC:
      measure_field (s, BMS_ID_SOC, &m);
      break;
    case BMS_ALARM_MEASURE_PACK_VOLTAGE:
      if (bms_snapshot_pack_voltage_id (s))
        measure_field (s, bms_snapshot_pack_voltage_id (s), &m);
      break;
    case BMS_ALARM_MEASURE_MOSFET_TEMP:
      measure_field (s, BMS_ID_MOSFET_TEMP, &m);
      break;
    case BMS_ALARM_MEASURE_BOX_TEMP:
      measure_field (s, BMS_ID_TEMP1, &m);
      break;
    case BMS_ALARM_MEASURE_BALANCE_TEMP:
      measure_field (s, 0xE0, &m);
      break;
    case BMS_ALARM_MEASURE_CHARGE_CURRENT:
      measure_field (s, BMS_ID_CURRENT, &m);
      break;
    case BMS_ALARM_MEASURE_DISCHARGE_CURRENT:
      measure_field (s, BMS_ID_CURRENT, &m);
      m.value = fabs (m.value);
      break;
    case BMS_ALARM_MEASURE_MAX_CELL:
    case BMS_ALARM_MEASURE_MIN_CELL:
    case BMS_ALARM_MEASURE_CELL_DIFF:
      measure_cells (s, what, &m);
      break;
    case BMS_ALARM_MEASURE_MAX_TEMP:
      measure_battery_temp (s, TRUE, &m);
      break;
    case BMS_ALARM_MEASURE_MIN_TEMP:
      measure_battery_temp (s, FALSE, &m);
      break;
    case BMS_ALARM_MEASURE_NONE:
    default:
      break;
    }
  return m;
}

static BmsAlarm *
make_alarm (const BmsSnapshot *s, const char *code)
{
  BmsAlarm *alarm = bms_alarm_new (code);
  const BmsAlarmInfo *info = bms_alarm_info_lookup (code);
  Measured m;
  guint8 threshold_id;

  bms_alarm_set_raised_at (alarm, s->timestamp_us ? s->timestamp_us : g_get_real_time ());
  if (info == NULL)
    return alarm;
  m = measure (s, info->measure);
  bms_alarm_set_value (alarm, m.has, m.value);
  bms_alarm_set_location (alarm, m.cell, m.module);

  threshold_id = info->threshold_id;
  if (info->threshold_id_discharging != 0 && bms_snapshot_has (s, BMS_ID_CURRENT)
      && bms_snapshot_get (s, BMS_ID_CURRENT) < 0)
    threshold_id = info->threshold_id_discharging;
  threshold_id = bms_snapshot_setting_id (s, threshold_id);
  if (threshold_id != 0 && bms_snapshot_has (s, threshold_id))
    bms_alarm_set_threshold (alarm, TRUE, bms_snapshot_get (s, threshold_id));
  return alarm;
}

static void
derive_bits (const BmsSnapshot *s, guint8 id, GPtrArray *out)
{
  const BmsFieldInfo *field = bms_field_lookup (id);
  guint64 bits;
  guint n_names;

  if (field == NULL || field->names == NULL || !bms_snapshot_has (s, id))
    return;
  bits = (guint64)bms_snapshot_get_raw (s, id);
  n_names = g_strv_length ((char **)field->names);
  for (guint bit = 0; bit < field->size * 8u; bit++)
    {
      const char *name = bit < n_names ? field->names[bit] : NULL;
      g_autofree char *unnamed = NULL;

      if ((bits & (G_GUINT64_CONSTANT (1) << bit)) == 0)
        continue;
      if (name == NULL)
        name = unnamed = g_strdup_printf ("0x%02x_bit_%u", id, bit);
      /* Relays are states; only the level-2 trip is an alarm. */
      if (id == BMS_ID_RELAYS && bms_alarm_info_lookup (name) == NULL)
        continue;
      g_ptr_array_add (out, make_alarm (s, name));
    }
}

static void
derive_status (const BmsSnapshot *s, GPtrArray *out)
{
  gint64 status;

  if (!bms_snapshot_has (s, BMS_ID_STATUS))
    return;
  status = bms_snapshot_get_raw (s, BMS_ID_STATUS);
  /* Bit 3 raises nothing either way: healthy real boards send it clear
   * against the vendor document, and what a set bit means is only the
   * field's reading (docs/protocol.md). A master's missing slaves come
   * with their own alarm in 0xD7. */
  /* A MOS that is switched on in the settings but open: the board opened it. */
  if ((status & BMS_STATUS_CHARGE_MOS) == 0 && bms_snapshot_has (s, 0xAB)
      && bms_snapshot_get_raw (s, 0xAB) != 0)
    g_ptr_array_add (out, make_alarm (s, "charge_mos_off"));
  if ((status & BMS_STATUS_DISCHARGE_MOS) == 0 && bms_snapshot_has (s, 0xAC)
      && bms_snapshot_get_raw (s, 0xAC) != 0)
    g_ptr_array_add (out, make_alarm (s, "discharge_mos_off"));
}

GPtrArray *
bms_alarm_monitor_derive (const BmsSnapshot *snapshot)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_val_if_fail (snapshot != NULL, out);
  derive_bits (snapshot, BMS_ID_WARNINGS, out);
  derive_status (snapshot, out);
  derive_bits (snapshot, BMS_ID_ALARMS_EXT, out);
  derive_bits (snapshot, BMS_ID_RELAYS, out);
  return out;
}

/* ---- tracking changes ---- */

static BmsAlarm *
find (GPtrArray *alarms, const char *code, guint *index_out)
{
  for (guint i = 0; i < alarms->len; i++)
    {
      BmsAlarm *alarm = g_ptr_array_index (alarms, i);
      if (g_str_equal (bms_alarm_get_code (alarm), code))
        {
          if (index_out)
            *index_out = i;
          return alarm;
        }
    }
  return NULL;
}

static void
record (BmsAlarmMonitor *self, BmsAlarm *alarm, gboolean raised, gint64 time_us)
{
  if (self->history != NULL)
    {
      g_autofree char *text = bms_alarm_describe (alarm);
      bms_history_add_alarm_event (
          self->history, self->history_device_id, time_us, bms_alarm_get_code (alarm), raised,
          bms_alarm_get_has_value (alarm) ? bms_alarm_get_value (alarm) : NAN,
          bms_alarm_get_has_threshold (alarm) ? bms_alarm_get_threshold (alarm) : NAN, text);
    }
  g_signal_emit (self, signals[SIGNAL_EVENT], 0, alarm, raised, time_us);
}

static void
refresh (BmsAlarm *alarm, BmsAlarm *fresh)
{
  bms_alarm_set_location (alarm, bms_alarm_get_cell (fresh), bms_alarm_get_module (fresh));
  bms_alarm_set_value (alarm, bms_alarm_get_has_value (fresh), bms_alarm_get_value (fresh));
  bms_alarm_set_threshold (alarm, bms_alarm_get_has_threshold (fresh),
                           bms_alarm_get_threshold (fresh));
}

void
bms_alarm_monitor_process (BmsAlarmMonitor *self, const BmsSnapshot *snapshot)
{
  g_autoptr (GPtrArray) now = NULL;
  gint64 time_us;
  gint old_severity;
  guint old_n;

  g_return_if_fail (BMS_IS_ALARM_MONITOR (self));
  g_return_if_fail (snapshot != NULL);
  now = bms_alarm_monitor_derive (snapshot);
  time_us = snapshot->timestamp_us ? snapshot->timestamp_us : g_get_real_time ();
  old_severity = bms_alarm_monitor_get_highest_severity (self);
  old_n = self->active->len;

  /* Cleared: in the list, not in the snapshot. */
  for (guint i = self->active->len; i > 0; i--)
    {
      g_autoptr (BmsAlarm) alarm = g_object_ref (g_ptr_array_index (self->active, i - 1));
      if (find (now, bms_alarm_get_code (alarm), NULL) != NULL
          || g_str_equal (bms_alarm_get_code (alarm), "comm_lost"))
        continue;
      g_ptr_array_remove_index (self->active, i - 1);
      g_list_model_items_changed (G_LIST_MODEL (self), i - 1, 1, 0);
      record (self, alarm, FALSE, time_us);
    }
  /* Raised or still active. */
  for (guint i = 0; i < now->len; i++)
    {
      BmsAlarm *fresh = g_ptr_array_index (now, i);
      BmsAlarm *alarm = find (self->active, bms_alarm_get_code (fresh), NULL);

      if (alarm != NULL)
        {
          refresh (alarm, fresh);
          continue;
        }
      g_ptr_array_add (self->active, g_object_ref (fresh));
      g_list_model_items_changed (G_LIST_MODEL (self), self->active->len - 1, 0, 1);
      record (self, fresh, TRUE, time_us);
    }

  if (old_n != self->active->len)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
  if (old_severity != bms_alarm_monitor_get_highest_severity (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HIGHEST_SEVERITY]);
}

BmsAlarm *
bms_alarm_monitor_lookup (BmsAlarmMonitor *self, const char *code)
{
  g_return_val_if_fail (BMS_IS_ALARM_MONITOR (self), NULL);
  g_return_val_if_fail (code != NULL, NULL);
  return find (self->active, code, NULL);
}

gint
bms_alarm_monitor_get_highest_severity (BmsAlarmMonitor *self)
{
  gint highest = -1;

  g_return_val_if_fail (BMS_IS_ALARM_MONITOR (self), -1);
  for (guint i = 0; i < self->active->len; i++)
    highest = MAX (highest, (gint)bms_alarm_get_severity (g_ptr_array_index (self->active, i)));
  return highest;
}

/* ---- object ---- */

static void
on_device_updated (BmsDevice *device, BmsAlarmMonitor *self)
{
  const BmsSnapshot *snapshot = bms_device_get_snapshot (device);

  if (snapshot != NULL)
    bms_alarm_monitor_process (self, snapshot);
}

/* A board that stops answering is an alarm of its own ("comm_lost"), raised
 * when the device goes offline and cleared by its next reply. The other
 * alarms stay as last reported: nobody knows better. */
static void
on_device_online (BmsDevice *device, GParamSpec *pspec, BmsAlarmMonitor *self)
{
  guint index;
  BmsAlarm *active = find (self->active, "comm_lost", &index);
  gint old_severity = bms_alarm_monitor_get_highest_severity (self);
  gint64 now = g_get_real_time ();

  if (bms_device_get_online (device) == (active == NULL))
    return;
  if (active == NULL)
    {
      g_autoptr (BmsAlarm) alarm = bms_alarm_new ("comm_lost");

      bms_alarm_set_raised_at (alarm, now);
      g_ptr_array_add (self->active, g_object_ref (alarm));
      g_list_model_items_changed (G_LIST_MODEL (self), self->active->len - 1, 0, 1);
      record (self, alarm, TRUE, now);
    }
  else
    {
      g_autoptr (BmsAlarm) alarm = g_object_ref (active);

      g_ptr_array_remove_index (self->active, index);
      g_list_model_items_changed (G_LIST_MODEL (self), index, 1, 0);
      record (self, alarm, FALSE, now);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
  if (old_severity != bms_alarm_monitor_get_highest_severity (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HIGHEST_SEVERITY]);
}

static void
bms_alarm_monitor_dispose (GObject *object)
{
  BmsAlarmMonitor *self = BMS_ALARM_MONITOR (object);

  g_clear_signal_handler (&self->updated_id, self->device);
  g_clear_signal_handler (&self->online_id, self->device);
  g_clear_object (&self->device);
  g_clear_object (&self->history);
  G_OBJECT_CLASS (bms_alarm_monitor_parent_class)->dispose (object);
}

static void
bms_alarm_monitor_finalize (GObject *object)
{
  BmsAlarmMonitor *self = BMS_ALARM_MONITOR (object);

  g_ptr_array_unref (self->active);
  G_OBJECT_CLASS (bms_alarm_monitor_parent_class)->finalize (object);
}

static void
bms_alarm_monitor_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BmsAlarmMonitor *self = BMS_ALARM_MONITOR (object);

  switch (prop_id)
    {
    case PROP_DEVICE:
      g_value_set_object (value, self->device);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->active->len);
      break;
    case PROP_HIGHEST_SEVERITY:
      g_value_set_int (value, bms_alarm_monitor_get_highest_severity (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_alarm_monitor_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  BmsAlarmMonitor *self = BMS_ALARM_MONITOR (object);

  switch (prop_id)
    {
    case PROP_DEVICE:
      self->device = g_value_dup_object (value);
      if (self->device != NULL)
        {
          self->updated_id
              = g_signal_connect (self->device, "updated", G_CALLBACK (on_device_updated), self);
          self->online_id = g_signal_connect (self->device, "notify::online",
                                              G_CALLBACK (on_device_online), self);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_alarm_monitor_class_init (BmsAlarmMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = bms_alarm_monitor_dispose;
  object_class->finalize = bms_alarm_monitor_finalize;
  object_class->get_property = bms_alarm_monitor_get_property;
  object_class->set_property = bms_alarm_monitor_set_property;

  properties[PROP_DEVICE]
      = g_param_spec_object ("device", NULL, NULL, BMS_TYPE_DEVICE,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_ITEMS]
      = g_param_spec_uint ("n-items", NULL, "active alarms", 0, G_MAXUINT, 0,
                           G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HIGHEST_SEVERITY] = g_param_spec_int (
      "highest-severity", NULL, "BmsAlarmSeverity, -1 none", -1, BMS_ALARM_SEVERITY_FAULT, -1,
      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* event (alarm, raised, time_us): one per raise and per clear. */
  signals[SIGNAL_EVENT]
      = g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 3, BMS_TYPE_ALARM, G_TYPE_BOOLEAN, G_TYPE_INT64);
}

static void
bms_alarm_monitor_init (BmsAlarmMonitor *self)
{
  self->active = g_ptr_array_new_with_free_func (g_object_unref);
}

BmsAlarmMonitor *
bms_alarm_monitor_new (BmsDevice *device)
{
  g_return_val_if_fail (device == NULL || BMS_IS_DEVICE (device), NULL);
  return g_object_new (BMS_TYPE_ALARM_MONITOR, "device", device, NULL);
}

BmsDevice *
bms_alarm_monitor_get_device (BmsAlarmMonitor *self)
{
  g_return_val_if_fail (BMS_IS_ALARM_MONITOR (self), NULL);
  return self->device;
}

void
bms_alarm_monitor_set_history (BmsAlarmMonitor *self, BmsHistory *history, gint64 device_id)
{
  g_return_if_fail (BMS_IS_ALARM_MONITOR (self));
  g_return_if_fail (history == NULL || BMS_IS_HISTORY (history));
  g_set_object (&self->history, history);
  self->history_device_id = device_id;
}
