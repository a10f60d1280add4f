/* bms-device.c — one board on the bus: telemetry as properties. */
#include "bms-device.h"

#include <math.h>

struct _BmsDevice
{
  GObject parent_instance;

  guint address;
  char *name;
  BmsSnapshot *snapshot;

  gboolean online;
  gint64 connected_since;
  gint64 time_connected;
  gint64 last_update;

  double pack_voltage;
  double current;
  double power;
  guint soc;
  BmsDeviceState state;
  double mosfet_temp;
  double temp1;
  double temp2;
  double temp_min;
  double temp_max;
  guint temp_sensors;
  guint cycles;
  double total_capacity;
  double capacity;
  guint warnings;
  guint status;
  guint relays;
  gboolean has_relays;
  gboolean has_current;
  guint alarms_ext;
  guint cell_ovp_mv;
  guint cell_ovp_recovery_mv;
  guint cell_uvp_mv;
  guint cell_uvp_recovery_mv;
  guint balance_start_mv;
  double balancer_temp;
  gboolean has_lease;
  gint64 lease_end;
  guint lease_state;
  char *lease_code;
  guint cell_count;
  guint module_count;
  double min_cell;
  guint min_cell_index;
  double max_cell;
  guint max_cell_index;
  double cell_difference;
  double cell_average;
  char *device_id;
  char *software_version;
  char *manufacture_date;
  char *manufacturer_id;
  char *bluetooth_address;
  guint protocol_version;
  guint battery_type;
  guint working_time;
  gboolean password_locked;
  guint unlock_remaining;
  gboolean lagging;
  char *implausible_reason;
  guint implausible_replies;

  GListStore *cells;
  GListStore *modules;
};

G_DEFINE_FINAL_TYPE (BmsDevice, bms_device, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (BmsDeviceState, bms_device_state,
                    G_DEFINE_ENUM_VALUE (BMS_DEVICE_STATE_STANDBY, "standby"),
                    G_DEFINE_ENUM_VALUE (BMS_DEVICE_STATE_CHARGING, "charging"),
                    G_DEFINE_ENUM_VALUE (BMS_DEVICE_STATE_DISCHARGING, "discharging"))

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_NAME,
  PROP_ONLINE,
  PROP_CONNECTED_SINCE,
  PROP_TIME_CONNECTED,
  PROP_LAST_UPDATE,
  PROP_PACK_VOLTAGE,
  PROP_CURRENT,
  PROP_POWER,
  PROP_SOC,
  PROP_STATE,
  PROP_MOSFET_TEMPERATURE,
  PROP_TEMPERATURE_1,
  PROP_TEMPERATURE_2,
  PROP_TEMPERATURE_MIN,
  PROP_TEMPERATURE_MAX,
  PROP_TEMPERATURE_SENSORS,
  PROP_CYCLES,
  PROP_TOTAL_CAPACITY,
  PROP_CAPACITY,
  PROP_WARNINGS,
  PROP_STATUS,
  PROP_RELAYS,
  PROP_HAS_RELAYS,
  PROP_HAS_CURRENT,
  PROP_ALARMS_EXT,
  PROP_CELL_OVP_MV,
  PROP_CELL_OVP_RECOVERY_MV,
  PROP_CELL_UVP_MV,
  PROP_CELL_UVP_RECOVERY_MV,
  PROP_BALANCE_START_MV,
  PROP_BALANCER_TEMPERATURE,
  PROP_HAS_LEASE,
  PROP_LEASE_END,
  PROP_LEASE_STATE,
  PROP_LEASE_CODE,
  PROP_CHARGE_MOS,
  PROP_DISCHARGE_MOS,
  PROP_BALANCER_ACTIVE,
  PROP_BATTERY_DROPPED,
  PROP_CELL_COUNT,
  PROP_MODULE_COUNT,
  PROP_MIN_CELL_VOLTAGE,
  PROP_MIN_CELL_INDEX,
  PROP_MAX_CELL_VOLTAGE,
  PROP_MAX_CELL_INDEX,
  PROP_CELL_DIFFERENCE,
  PROP_CELL_AVERAGE,
  PROP_DEVICE_ID,
  PROP_SOFTWARE_VERSION,
  PROP_MANUFACTURE_DATE,
  PROP_MANUFACTURER_ID,
  PROP_BLUETOOTH_ADDRESS,
  PROP_PROTOCOL_VERSION,
  PROP_BATTERY_TYPE,
  PROP_WORKING_TIME,
  PROP_PASSWORD_LOCKED,
  PROP_UNLOCK_REMAINING,
  PROP_LAGGING,
  PROP_IMPLAUSIBLE_REASON,
  PROP_IMPLAUSIBLE_REPLIES,
  PROP_CELLS,
  PROP_MODULES,
  N_PROPS
};

enum
{
  SIGNAL_UPDATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Change helpers: store and notify only when the value differs. */

static void
set_double (BmsDevice *self, double *field, double value, guint prop)
{
  if (*field == value || (isnan (*field) && isnan (value)))
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_uint (BmsDevice *self, guint *field, guint value, guint prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_int64 (BmsDevice *self, gint64 *field, gint64 value, guint prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_bool (BmsDevice *self, gboolean *field, gboolean value, guint prop)
{
  value = !!value;
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

/* Takes ownership of value. */
static void
take_string (BmsDevice *self, char **field, char *value, guint prop)
{
  if (g_strcmp0 (*field, value) == 0)
    {
      g_free (value);
      return;
    }
  g_free (*field);
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
bms_device_finalize (GObject *object)
{
  BmsDevice *self = BMS_DEVICE (object);

  g_clear_pointer (&self->snapshot, bms_snapshot_free);
  g_clear_object (&self->cells);
  g_clear_object (&self->modules);
  g_free (self->name);
  g_free (self->device_id);
  g_free (self->software_version);
  g_free (self->manufacture_date);
  g_free (self->manufacturer_id);
  g_free (self->bluetooth_address);
  g_free (self->implausible_reason);
  g_free (self->lease_code);
  G_OBJECT_CLASS (bms_device_parent_class)->finalize (object);
}

static void
bms_device_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BmsDevice *self = BMS_DEVICE (object);

  switch (prop_id)
    {
    case PROP_ADDRESS:
      g_value_set_uint (value, self->address);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_ONLINE:
      g_value_set_boolean (value, self->online);
      break;
    case PROP_CONNECTED_SINCE:
      g_value_set_int64 (value, self->connected_since);
      break;
    case PROP_TIME_CONNECTED:
      g_value_set_int64 (value, self->time_connected);
      break;
    case PROP_LAST_UPDATE:
      g_value_set_int64 (value, self->last_update);
      break;
    case PROP_PACK_VOLTAGE:
      g_value_set_double (value, self->pack_voltage);
      break;
    case PROP_CURRENT:
      g_value_set_double (value, self->current);
      break;
    case PROP_POWER:
      g_value_set_double (value, self->power);
      break;
    case PROP_SOC:
      g_value_set_uint (value, self->soc);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_MOSFET_TEMPERATURE:
      g_value_set_double (value, self->mosfet_temp);
      break;
    case PROP_TEMPERATURE_1:
      g_value_set_double (value, self->temp1);
      break;
    case PROP_TEMPERATURE_2:
      g_value_set_double (value, self->temp2);
      break;
    case PROP_TEMPERATURE_MIN:
      g_value_set_double (value, self->temp_min);
      break;
    case PROP_TEMPERATURE_MAX:
      g_value_set_double (value, self->temp_max);
      break;
    case PROP_TEMPERATURE_SENSORS:
      g_value_set_uint (value, self->temp_sensors);
      break;
    case PROP_CYCLES:
      g_value_set_uint (value, self->cycles);
      break;
    case PROP_TOTAL_CAPACITY:
      g_value_set_double (value, self->total_capacity);
      break;
    case PROP_CAPACITY:
      g_value_set_double (value, self->capacity);
      break;
    case PROP_WARNINGS:
      g_value_set_uint (value, self->warnings);
      break;
    case PROP_STATUS:
      g_value_set_uint (value, self->status);
      break;
    case PROP_RELAYS:
      g_value_set_uint (value, self->relays);
      break;
    case PROP_HAS_RELAYS:
      g_value_set_boolean (value, self->has_relays);
      break;
    case PROP_HAS_CURRENT:
      g_value_set_boolean (value, self->has_current);
      break;
    case PROP_ALARMS_EXT:
      g_value_set_uint (value, self->alarms_ext);
      break;
    case PROP_CELL_OVP_MV:
      g_value_set_uint (value, self->cell_ovp_mv);
      break;
    case PROP_CELL_OVP_RECOVERY_MV:
      g_value_set_uint (value, self->cell_ovp_recovery_mv);
      break;
    case PROP_CELL_UVP_MV:
      g_value_set_uint (value, self->cell_uvp_mv);
      break;
    case PROP_CELL_UVP_RECOVERY_MV:
      g_value_set_uint (value, self->cell_uvp_recovery_mv);
      break;
    case PROP_BALANCE_START_MV:
      g_value_set_uint (value, self->balance_start_mv);
      break;
    case PROP_BALANCER_TEMPERATURE:
      g_value_set_double (value, self->balancer_temp);
      break;
    case PROP_HAS_LEASE:
      g_value_set_boolean (value, self->has_lease);
      break;
    case PROP_LEASE_END:
      g_value_set_int64 (value, self->lease_end);
      break;
    case PROP_LEASE_STATE:
      g_value_set_uint (value, self->lease_state);
      break;
    case PROP_LEASE_CODE:
      g_value_set_string (value, self->lease_code);
      break;
    case PROP_CHARGE_MOS:
      g_value_set_boolean (value, (self->status & BMS_STATUS_CHARGE_MOS) != 0);
      break;
    case PROP_DISCHARGE_MOS:
      g_value_set_boolean (value, (self->status & BMS_STATUS_DISCHARGE_MOS) != 0);
      break;
    case PROP_BALANCER_ACTIVE:
      g_value_set_boolean (value, (self->status & BMS_STATUS_BALANCER) != 0);
      break;
    case PROP_BATTERY_DROPPED:
      g_value_set_boolean (value, (self->status & BMS_STATUS_BATTERY_DROPPED) != 0);
      break;
    case PROP_CELL_COUNT:
      g_value_set_uint (value, self->cell_count);
      break;
    case PROP_MODULE_COUNT:
      g_value_set_uint (value, self->module_count);
      break;
    case PROP_MIN_CELL_VOLTAGE:
      g_value_set_double (value, self->min_cell);
      break;
    case PROP_MIN_CELL_INDEX:
      g_value_set_uint (value, self->min_cell_index);
      break;
    case PROP_MAX_CELL_VOLTAGE:
      g_value_set_double (value, self->max_cell);
      break;
    case PROP_MAX_CELL_INDEX:
      g_value_set_uint (value, self->max_cell_index);
      break;
    case PROP_CELL_DIFFERENCE:
      g_value_set_double (value, self->cell_difference);
      break;
    case PROP_CELL_AVERAGE:
      g_value_set_double (value, self->cell_average);
      break;
    case PROP_DEVICE_ID:
      g_value_set_string (value, self->device_id);
      break;
    case PROP_SOFTWARE_VERSION:
      g_value_set_string (value, self->software_version);
      break;
    case PROP_MANUFACTURE_DATE:
      g_value_set_string (value, self->manufacture_date);
      break;
    case PROP_MANUFACTURER_ID:
      g_value_set_string (value, self->manufacturer_id);
      break;
    case PROP_BLUETOOTH_ADDRESS:
      g_value_set_string (value, self->bluetooth_address);
      break;
    case PROP_PROTOCOL_VERSION:
      g_value_set_uint (value, self->protocol_version);
      break;
    case PROP_BATTERY_TYPE:
      g_value_set_uint (value, self->battery_type);
      break;
    case PROP_WORKING_TIME:
      g_value_set_uint (value, self->working_time);
      break;
    case PROP_PASSWORD_LOCKED:
      g_value_set_boolean (value, self->password_locked);
      break;
    case PROP_UNLOCK_REMAINING:
      g_value_set_uint (value, self->unlock_remaining);
      break;
    case PROP_LAGGING:
      g_value_set_boolean (value, self->lagging);
      break;
    case PROP_IMPLAUSIBLE_REASON:
      g_value_set_string (value, self->implausible_reason);
      break;
    case PROP_IMPLAUSIBLE_REPLIES:
      g_value_set_uint (value, self->implausible_replies);
      break;
    case PROP_CELLS:
      g_value_set_object (value, self->cells);
      break;
    case PROP_MODULES:
      g_value_set_object (value, self->modules);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_device_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BmsDevice *self = BMS_DEVICE (object);

  switch (prop_id)
    {
    case PROP_ADDRESS:
      self->address = g_value_get_uint (value);
      break;
    case PROP_NAME:
      bms_device_set_name (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

#define RO (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS)

static GParamSpec *
pd (const char *name, const char *blurb)
{
  return g_param_spec_double (name, NULL, blurb, -G_MAXDOUBLE, G_MAXDOUBLE, 0, RO);
}

static GParamSpec *
pu (const char *name, const char *blurb)
{
  return g_param_spec_uint (name, NULL, blurb, 0, G_MAXUINT, 0, RO);
}

static GParamSpec *
pb (const char *name, const char *blurb, gboolean dflt)
{
  return g_param_spec_boolean (name, NULL, blurb, dflt, RO);
}

static GParamSpec *
ps (const char *name, const char *blurb)
{
  return g_param_spec_string (name, NULL, blurb, NULL, RO);
}

static GParamSpec *
pi64 (const char *name, const char *blurb)
{
  return g_param_spec_int64 (name, NULL, blurb, 0, G_MAXINT64, 0, RO);
}

static void
bms_device_class_init (BmsDeviceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bms_device_finalize;
  object_class->get_property = bms_device_get_property;
  object_class->set_property = bms_device_set_property;

  properties[PROP_ADDRESS]
      = g_param_spec_uint ("address", NULL, "board address on the bus", 0, G_MAXUINT32, 1,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME]
      = g_param_spec_string ("name", NULL, "display name", NULL,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ONLINE] = pb ("online", "answered within the last three cycles", FALSE);
  properties[PROP_CONNECTED_SINCE] = pi64 ("connected-since", "µs since the epoch, 0 offline");
  properties[PROP_TIME_CONNECTED] = pi64 ("time-connected", "seconds online");
  properties[PROP_LAST_UPDATE] = pi64 ("last-update", "µs since the epoch");
  properties[PROP_PACK_VOLTAGE] = pd ("pack-voltage", "V");
  properties[PROP_CURRENT] = pd ("current", "A, positive charging");
  properties[PROP_POWER] = pd ("power", "W, positive charging");
  properties[PROP_SOC] = pu ("soc", "%");
  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, BMS_TYPE_DEVICE_STATE,
                                              BMS_DEVICE_STATE_STANDBY, RO);
  properties[PROP_MOSFET_TEMPERATURE] = pd ("mosfet-temperature", "°C");
  properties[PROP_TEMPERATURE_1] = pd ("temperature-1", "°C, sensor 1 (battery box)");
  properties[PROP_TEMPERATURE_2] = pd ("temperature-2", "°C, sensor 2 (battery)");
  properties[PROP_TEMPERATURE_MIN] = pd ("temperature-min", "°C, lowest battery sensor");
  properties[PROP_TEMPERATURE_MAX] = pd ("temperature-max", "°C, highest battery sensor");
  properties[PROP_TEMPERATURE_SENSORS] = pu ("temperature-sensors", NULL);
  properties[PROP_CYCLES] = pu ("cycles", NULL);
  properties[PROP_TOTAL_CAPACITY] = pd ("total-capacity", "Ah cycled in total");
  properties[PROP_CAPACITY] = pd ("capacity", "Ah, capacity setting");
  properties[PROP_WARNINGS] = pu ("warnings", "bits of 0x8B");
  properties[PROP_STATUS] = pu ("status", "bits of 0x8C");
  properties[PROP_RELAYS] = pu ("relays", "relay states (extension)");
  properties[PROP_HAS_RELAYS] = pb ("has-relays", "the board reports its relays", FALSE);
  properties[PROP_HAS_CURRENT] = pb ("has-current", "the board reports the pack current", FALSE);
  properties[PROP_ALARMS_EXT] = pu ("alarms-ext", "extension alarm bits");
  properties[PROP_CELL_OVP_MV] = pu ("cell-ovp-mv", "cell over-voltage protection, 0 unknown");
  properties[PROP_CELL_OVP_RECOVERY_MV] = pu ("cell-ovp-recovery-mv", "0 unknown");
  properties[PROP_CELL_UVP_MV] = pu ("cell-uvp-mv", "cell under-voltage protection, 0 unknown");
  properties[PROP_CELL_UVP_RECOVERY_MV] = pu ("cell-uvp-recovery-mv", "0 unknown");
  properties[PROP_BALANCE_START_MV] = pu ("balance-start-mv", "0 unknown");
  properties[PROP_BALANCER_TEMPERATURE]
      = pd ("balancer-temperature", "°C, balance module; NaN when none is fitted");
  properties[PROP_HAS_LEASE] = pb ("has-lease", "the board reports a lease end", FALSE);
  properties[PROP_LEASE_END] = pi64 ("lease-end", "Unix time, 0 none");
  properties[PROP_LEASE_STATE] = pu ("lease-state", "0 none, 1 active, 2 expired");
  properties[PROP_LEASE_CODE] = ps ("lease-code", "NULL when not reported");
  properties[PROP_CHARGE_MOS] = pb ("charge-mos", NULL, FALSE);
  properties[PROP_DISCHARGE_MOS] = pb ("discharge-mos", NULL, FALSE);
  properties[PROP_BALANCER_ACTIVE] = pb ("balancer-active", NULL, FALSE);
  properties[PROP_BATTERY_DROPPED] = pb ("battery-dropped", "status bit 3 set (field reading)", FALSE);
  properties[PROP_CELL_COUNT] = pu ("cell-count", NULL);
  properties[PROP_MODULE_COUNT] = pu ("module-count", NULL);
  properties[PROP_MIN_CELL_VOLTAGE] = pd ("min-cell-voltage", "V");
  properties[PROP_MIN_CELL_INDEX] = pu ("min-cell-index", "1-based, 0 none");
  properties[PROP_MAX_CELL_VOLTAGE] = pd ("max-cell-voltage", "V");
  properties[PROP_MAX_CELL_INDEX] = pu ("max-cell-index", "1-based, 0 none");
  properties[PROP_CELL_DIFFERENCE] = pd ("cell-difference", "V, max - min");
  properties[PROP_CELL_AVERAGE] = pd ("cell-average", "V");
  properties[PROP_DEVICE_ID] = ps ("device-id", "MacCode");
  properties[PROP_SOFTWARE_VERSION] = ps ("software-version", NULL);
  properties[PROP_MANUFACTURE_DATE] = ps ("manufacture-date", "YYMM");
  properties[PROP_MANUFACTURER_ID] = ps ("manufacturer-id", NULL);
  properties[PROP_BLUETOOTH_ADDRESS] = ps ("bluetooth-address", NULL);
  properties[PROP_PROTOCOL_VERSION] = pu ("protocol-version", NULL);
  properties[PROP_BATTERY_TYPE] = pu ("battery-type", "0 LiFePO4, 1 NMC, 2 LTO");
  properties[PROP_WORKING_TIME] = pu ("working-time", "minutes");
  properties[PROP_PASSWORD_LOCKED] = pb ("password-locked", NULL, TRUE);
  properties[PROP_UNLOCK_REMAINING] = pu ("unlock-remaining", "seconds");
  properties[PROP_LAGGING] = pb ("lagging", "polling slower than the interval", FALSE);
  properties[PROP_IMPLAUSIBLE_REASON]
      = ps ("implausible-reason", "why the last reply was refused as implausible; NULL when it "
                                  "was not");
  properties[PROP_IMPLAUSIBLE_REPLIES] = pu ("implausible-replies", "replies refused so far");
  properties[PROP_CELLS] = g_param_spec_object ("cells", NULL, NULL, G_TYPE_LIST_MODEL,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MODULES] = g_param_spec_object ("modules", NULL, NULL, G_TYPE_LIST_MODEL,
                                                  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* After every bms_device_update, once all properties are set. */
  signals[SIGNAL_UPDATED] = g_signal_new ("updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
bms_device_init (BmsDevice *self)
{
  self->password_locked = TRUE;
  self->balancer_temp = NAN;
  self->cells = g_list_store_new (BMS_TYPE_CELL);
  self->modules = g_list_store_new (BMS_TYPE_MODULE);
}

BmsDevice *
bms_device_new (guint address)
{
  return g_object_new (BMS_TYPE_DEVICE, "address", address, NULL);
}

/* ---- taking a snapshot apart ---- */

static double
snap_double (const BmsSnapshot *s, guint8 id, double fallback)
{
  return bms_snapshot_has (s, id) ? bms_snapshot_get (s, id) : fallback;
}

static guint
snap_uint (const BmsSnapshot *s, guint8 id, guint fallback)
{
  return bms_snapshot_has (s, id) ? (guint)MAX (bms_snapshot_get_raw (s, id), 0) : fallback;
}

/* A field known only by its catalogue name (extension fields). */
static gboolean
lookup_named (const BmsSnapshot *s, const char *name, guint8 *id_out)
{
  const BmsFieldInfo *field = bms_field_lookup_name (name);

  if (field == NULL || !bms_snapshot_has (s, field->id))
    return FALSE;
  *id_out = field->id;
  return TRUE;
}

/* ASCII fields as text, byte fields (the Bluetooth address) as AA:BB:… */
static char *
snap_string_named (const BmsSnapshot *s, const char *name)
{
  const BmsFieldInfo *field;
  const guint8 *bytes;
  GString *text;
  guint8 id;

  if (!lookup_named (s, name, &id))
    return NULL;
  field = bms_field_lookup (id);
  if (field->type == BMS_FIELD_ASCII)
    return bms_snapshot_dup_string (s, id);
  bytes = bms_snapshot_get_bytes (s, id);
  if (bytes == NULL)
    return NULL;
  text = g_string_new (NULL);
  for (guint i = 0; i < field->size; i++)
    g_string_append_printf (text, "%s%02X", i ? ":" : "", bytes[i]);
  return g_string_free (text, FALSE);
}

/* Cells per module, from the extension fields when present; otherwise one
 * module (or the cells split evenly over the modules that report sensors). */
guint
bms_device_module_layout (const BmsSnapshot *s, guint n_cells, guint counts[BMS_MAX_MODULES])
{
  guint n_modules = 1;
  guint per_module = 0;

  if (bms_snapshot_has (s, BMS_ID_MODULE_COUNT))
    n_modules = (guint)CLAMP (bms_snapshot_get_raw (s, BMS_ID_MODULE_COUNT), 1, BMS_MAX_MODULES);
  else if (s->n_module_temps > 0)
    n_modules = MIN (s->n_module_temps, BMS_MAX_MODULES);

  if (bms_snapshot_has (s, BMS_ID_MODULE_CELLS))
    {
      const BmsFieldInfo *field = bms_field_lookup (BMS_ID_MODULE_CELLS);
      const guint8 *bytes = bms_snapshot_get_bytes (s, BMS_ID_MODULE_CELLS);

      if (field != NULL && bytes != NULL && field->size >= n_modules)
        {
          guint total = 0;
          for (guint m = 0; m < n_modules; m++)
            total += counts[m] = bytes[m];
          if (total == n_cells)
            return n_modules;
        }
      else if (field != NULL && bms_field_is_numeric (field))
        per_module = (guint)MAX (bms_snapshot_get_raw (s, BMS_ID_MODULE_CELLS), 0);
    }

  if (per_module == 0 || per_module * n_modules < n_cells)
    per_module = (n_cells + n_modules - 1) / n_modules;
  for (guint m = 0, left = n_cells; m < n_modules; m++)
    {
      counts[m] = MIN (per_module, left);
      left -= counts[m];
    }
  return n_modules;
}

static void
sync_cells (BmsDevice *self, const BmsSnapshot *s)
{
  guint have = g_list_model_get_n_items (G_LIST_MODEL (self->cells));
  guint want = MIN (s->n_cells, BMS_MAX_CELLS);

  if (want < have)
    g_list_store_splice (self->cells, want, have - want, NULL, 0);
  else if (want > have)
    {
      g_autoptr (GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = have; i < want; i++)
        g_ptr_array_add (added, bms_cell_new (i + 1, 1));
      g_list_store_splice (self->cells, have, 0, added->pdata, added->len);
    }
}

static void
sync_modules (BmsDevice *self, const BmsSnapshot *s)
{
  guint counts[BMS_MAX_MODULES] = { 0 };
  guint n_cells = g_list_model_get_n_items (G_LIST_MODEL (self->cells));
  guint n_modules = n_cells ? bms_device_module_layout (s, n_cells, counts) : 0;
  guint have = g_list_model_get_n_items (G_LIST_MODEL (self->modules));
  guint first = 0;

  if (n_modules < have)
    g_list_store_splice (self->modules, n_modules, have - n_modules, NULL, 0);
  for (guint m = have; m < n_modules; m++)
    {
      g_autoptr (BmsModule) module = bms_module_new (m + 1);
      g_list_store_append (self->modules, module);
    }

  for (guint m = 0; m < n_modules; m++)
    {
      g_autoptr (BmsModule) module = g_list_model_get_item (G_LIST_MODEL (self->modules), m);
      g_autofree BmsCell **cells = g_new0 (BmsCell *, counts[m] + 1);
      gboolean has_temps = m < s->n_module_temps;
      double temps[3] = { 0, 0, 0 };

      for (guint i = 0; i < counts[m]; i++)
        {
          cells[i] = g_list_model_get_item (G_LIST_MODEL (self->cells), first + i);
          bms_cell_set_module (cells[i], m + 1);
        }
      bms_module_set_cells (module, cells, counts[m]);
      for (guint i = 0; i < counts[m]; i++)
        g_object_unref (cells[i]);
      first += counts[m];

      for (guint t = 0; has_temps && t < 3; t++)
        temps[t] = s->module_temps_c[m][t];
      bms_module_set_temperatures (module, has_temps, temps);
      bms_module_refresh (module);
    }
  set_uint (self, &self->module_count, n_modules, PROP_MODULE_COUNT);
}

/* Passive balancing bleeds the cells that are above the start voltage and
 * more than the start difference above the lowest cell; the board reports
 * only that the balancer runs, so the cells are derived from its settings. */
static gboolean
cell_balancing (const BmsSnapshot *s, guint mv, guint min_mv)
{
  if (!bms_snapshot_has (s, BMS_ID_STATUS)
      || (bms_snapshot_get_raw (s, BMS_ID_STATUS) & BMS_STATUS_BALANCER) == 0)
    return FALSE;
  if (!bms_snapshot_has (s, 0x9B) || !bms_snapshot_has (s, 0x9C))
    return FALSE;
  return mv >= bms_snapshot_get_raw (s, 0x9B)
         && (gint64)mv - (gint64)min_mv >= bms_snapshot_get_raw (s, 0x9C);
}

static void
update_cells (BmsDevice *self, const BmsSnapshot *s)
{
  guint n = MIN (s->n_cells, BMS_MAX_CELLS);
  guint min_i = 0, max_i = 0;
  guint64 sum = 0;

  sync_cells (self, s);
  bms_snapshot_get_cell_range (s, &min_i, &max_i);
  for (guint i = 0; i < n; i++)
    sum += s->cells_mv[i];

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (BmsCell) cell = g_list_model_get_item (G_LIST_MODEL (self->cells), i);
      bms_cell_set_millivolts (cell, s->cells_mv[i]);
      bms_cell_set_is_min (cell, i == min_i);
      bms_cell_set_is_max (cell, i == max_i);
      bms_cell_set_balancing (cell, cell_balancing (s, s->cells_mv[i], s->cells_mv[min_i]));
    }
  sync_modules (self, s);

  set_uint (self, &self->cell_count,
            bms_snapshot_has (s, BMS_ID_CELL_COUNT) ? snap_uint (s, BMS_ID_CELL_COUNT, 0) : n,
            PROP_CELL_COUNT);
  set_double (self, &self->min_cell, n ? s->cells_mv[min_i] / 1000.0 : 0, PROP_MIN_CELL_VOLTAGE);
  set_uint (self, &self->min_cell_index, n ? min_i + 1 : 0, PROP_MIN_CELL_INDEX);
  set_double (self, &self->max_cell, n ? s->cells_mv[max_i] / 1000.0 : 0, PROP_MAX_CELL_VOLTAGE);
  set_uint (self, &self->max_cell_index, n ? max_i + 1 : 0, PROP_MAX_CELL_INDEX);
  set_double (self, &self->cell_difference,
              n ? (s->cells_mv[max_i] - s->cells_mv[min_i]) / 1000.0 : 0, PROP_CELL_DIFFERENCE);
  set_double (self, &self->cell_average, n ? (double)sum / n / 1000.0 : 0, PROP_CELL_AVERAGE);
}

static void
update_temperatures (BmsDevice *self, const BmsSnapshot *s)
{
  double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;

  set_double (self, &self->mosfet_temp, snap_double (s, BMS_ID_MOSFET_TEMP, 0),
              PROP_MOSFET_TEMPERATURE);
  set_double (self, &self->temp1, snap_double (s, BMS_ID_TEMP1, 0), PROP_TEMPERATURE_1);
  set_double (self, &self->temp2, snap_double (s, BMS_ID_TEMP2, 0), PROP_TEMPERATURE_2);
  set_uint (self, &self->temp_sensors, snap_uint (s, 0x86, 0), PROP_TEMPERATURE_SENSORS);

  for (guint8 id = BMS_ID_TEMP1; id <= BMS_ID_TEMP2; id++)
    if (bms_snapshot_has (s, id))
      {
        lo = MIN (lo, bms_snapshot_get (s, id));
        hi = MAX (hi, bms_snapshot_get (s, id));
      }
  for (guint m = 0; m < s->n_module_temps && m < BMS_MAX_MODULES; m++)
    for (guint t = 0; t < 3; t++)
      {
        lo = MIN (lo, s->module_temps_c[m][t]);
        hi = MAX (hi, s->module_temps_c[m][t]);
      }
  set_double (self, &self->temp_min, lo <= hi ? lo : 0, PROP_TEMPERATURE_MIN);
  set_double (self, &self->temp_max, lo <= hi ? hi : 0, PROP_TEMPERATURE_MAX);
}

static void
update_power (BmsDevice *self, const BmsSnapshot *s)
{
  double voltage = bms_snapshot_pack_voltage_id (s) ? bms_snapshot_get_pack_voltage (s) : 0;
  double current = snap_double (s, BMS_ID_CURRENT, 0);
  BmsDeviceState state = BMS_DEVICE_STATE_STANDBY;

  if (current >= BMS_DEVICE_STANDBY_CURRENT_A)
    state = BMS_DEVICE_STATE_CHARGING;
  else if (current <= -BMS_DEVICE_STANDBY_CURRENT_A)
    state = BMS_DEVICE_STATE_DISCHARGING;

  set_double (self, &self->pack_voltage, voltage, PROP_PACK_VOLTAGE);
  set_double (self, &self->current, current, PROP_CURRENT);
  set_bool (self, &self->has_current, bms_snapshot_has (s, BMS_ID_CURRENT), PROP_HAS_CURRENT);
  set_double (self, &self->power, round (voltage * current * 100) / 100, PROP_POWER);
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

static void
update_status (BmsDevice *self, const BmsSnapshot *s)
{
  guint old_status = self->status;
  guint8 id;

  set_uint (self, &self->soc, snap_uint (s, BMS_ID_SOC, 0), PROP_SOC);
  set_uint (self, &self->cycles, snap_uint (s, BMS_ID_CYCLES, 0), PROP_CYCLES);
  set_double (self, &self->total_capacity, snap_double (s, 0x89, 0), PROP_TOTAL_CAPACITY);
  set_double (self, &self->capacity, snap_double (s, 0xAA, 0), PROP_CAPACITY);
  set_uint (self, &self->warnings, snap_uint (s, BMS_ID_WARNINGS, 0), PROP_WARNINGS);
  set_uint (self, &self->status, snap_uint (s, BMS_ID_STATUS, 0), PROP_STATUS);
  set_uint (self, &self->relays, snap_uint (s, BMS_ID_RELAYS, 0), PROP_RELAYS);
  set_bool (self, &self->has_relays, bms_snapshot_has (s, BMS_ID_RELAYS), PROP_HAS_RELAYS);
  set_uint (self, &self->alarms_ext, snap_uint (s, BMS_ID_ALARMS_EXT, 0), PROP_ALARMS_EXT);
  set_uint (self, &self->protocol_version, snap_uint (s, BMS_ID_PROTOCOL_VERSION, 0),
            PROP_PROTOCOL_VERSION);
  set_uint (self, &self->battery_type, snap_uint (s, BMS_ID_BATTERY_TYPE, 0), PROP_BATTERY_TYPE);
  set_uint (self, &self->working_time, snap_uint (s, 0xB6, 0), PROP_WORKING_TIME);

  if ((old_status ^ self->status) & BMS_STATUS_CHARGE_MOS)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHARGE_MOS]);
  if ((old_status ^ self->status) & BMS_STATUS_DISCHARGE_MOS)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISCHARGE_MOS]);
  if ((old_status ^ self->status) & BMS_STATUS_BALANCER)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BALANCER_ACTIVE]);
  if ((old_status ^ self->status) & BMS_STATUS_BATTERY_DROPPED)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATTERY_DROPPED]);

  /* Identity fields are absent from some replies: keep the last known. */
  if (bms_snapshot_has (s, 0xB4))
    take_string (self, &self->device_id, bms_snapshot_dup_string (s, 0xB4), PROP_DEVICE_ID);
  if (bms_snapshot_has (s, BMS_ID_SOFTWARE_VERSION))
    take_string (self, &self->software_version,
                 bms_snapshot_dup_string (s, BMS_ID_SOFTWARE_VERSION), PROP_SOFTWARE_VERSION);
  if (bms_snapshot_has (s, 0xB5))
    take_string (self, &self->manufacture_date, bms_snapshot_dup_string (s, 0xB5),
                 PROP_MANUFACTURE_DATE);
  if (bms_snapshot_has (s, 0xBA))
    take_string (self, &self->manufacturer_id, bms_snapshot_dup_string (s, 0xBA),
                 PROP_MANUFACTURER_ID);
  if (lookup_named (s, "bluetooth_address", &id))
    take_string (self, &self->bluetooth_address, snap_string_named (s, "bluetooth_address"),
                 PROP_BLUETOOTH_ADDRESS);
}

/* The cell limits the Monitor page draws; absent ones read 0 (no line). */
static void
update_limits (BmsDevice *self, const BmsSnapshot *s)
{
  const BmsFieldInfo *balancer = bms_field_lookup_name ("balance_temp_c");
  const BmsFieldInfo *start = bms_field_lookup_name ("balance_start_mv");

  set_uint (self, &self->cell_ovp_mv, snap_uint (s, BMS_ID_CELL_OVP, 0), PROP_CELL_OVP_MV);
  set_uint (self, &self->cell_ovp_recovery_mv, snap_uint (s, BMS_ID_CELL_OVP_RECOVERY, 0),
            PROP_CELL_OVP_RECOVERY_MV);
  set_uint (self, &self->cell_uvp_mv, snap_uint (s, BMS_ID_CELL_UVP, 0), PROP_CELL_UVP_MV);
  set_uint (self, &self->cell_uvp_recovery_mv, snap_uint (s, BMS_ID_CELL_UVP_RECOVERY, 0),
            PROP_CELL_UVP_RECOVERY_MV);
  set_uint (self, &self->balance_start_mv, snap_uint (s, start->id, 0), PROP_BALANCE_START_MV);
  set_double (self, &self->balancer_temp, snap_double (s, balancer->id, NAN),
              PROP_BALANCER_TEMPERATURE);
}

/* A board without the lease state field: a lease end means active. */
static void
update_lease (BmsDevice *self, const BmsSnapshot *s)
{
  gboolean has = bms_snapshot_has (s, BMS_ID_LEASE_END);
  gint64 end = has ? bms_snapshot_get_raw (s, BMS_ID_LEASE_END) : 0;
  guint state = end != 0;

  if (bms_snapshot_has (s, BMS_ID_LEASE_STATE))
    state = snap_uint (s, BMS_ID_LEASE_STATE, 0);
  set_bool (self, &self->has_lease, has, PROP_HAS_LEASE);
  set_int64 (self, &self->lease_end, end, PROP_LEASE_END);
  set_uint (self, &self->lease_state, has ? state : 0, PROP_LEASE_STATE);
  take_string (self, &self->lease_code,
               bms_snapshot_has (s, BMS_ID_LEASE_CODE)
                   ? bms_snapshot_dup_string (s, BMS_ID_LEASE_CODE)
                   : NULL,
               PROP_LEASE_CODE);
}

static void
update_connection (BmsDevice *self, gint64 now_us)
{
  set_int64 (self, &self->last_update, now_us, PROP_LAST_UPDATE);
  if (!self->online)
    {
      set_int64 (self, &self->connected_since, now_us, PROP_CONNECTED_SINCE);
      set_bool (self, &self->online, TRUE, PROP_ONLINE);
    }
  set_int64 (self, &self->time_connected, MAX (now_us - self->connected_since, 0) / G_USEC_PER_SEC,
             PROP_TIME_CONNECTED);
}

void
bms_device_update (BmsDevice *self, const BmsSnapshot *snapshot)
{
  g_return_if_fail (BMS_IS_DEVICE (self));
  g_return_if_fail (snapshot != NULL);

  g_clear_pointer (&self->snapshot, bms_snapshot_free);
  self->snapshot = bms_snapshot_copy (snapshot);

  g_object_freeze_notify (G_OBJECT (self));
  update_power (self, snapshot);
  update_temperatures (self, snapshot);
  update_status (self, snapshot);
  update_limits (self, snapshot);
  update_lease (self, snapshot);
  update_cells (self, snapshot);
  update_connection (self, snapshot->timestamp_us ? snapshot->timestamp_us : g_get_real_time ());
  take_string (self, &self->implausible_reason, NULL, PROP_IMPLAUSIBLE_REASON);
  g_object_thaw_notify (G_OBJECT (self));

  g_signal_emit (self, signals[SIGNAL_UPDATED], 0);
}

const BmsSnapshot *
bms_device_get_snapshot (BmsDevice *self)
{
  g_return_val_if_fail (BMS_IS_DEVICE (self), NULL);
  return self->snapshot;
}

void
bms_device_set_online (BmsDevice *self, gboolean online)
{
  g_return_if_fail (BMS_IS_DEVICE (self));

  if (online)
    {
      if (!self->online)
        update_connection (self, g_get_real_time ());
      return;
    }
  g_object_freeze_notify (G_OBJECT (self));
  set_bool (self, &self->online, FALSE, PROP_ONLINE);
  set_int64 (self, &self->connected_since, 0, PROP_CONNECTED_SINCE);
  set_int64 (self, &self->time_connected, 0, PROP_TIME_CONNECTED);
  g_object_thaw_notify (G_OBJECT (self));
}

void
bms_device_set_password_state (BmsDevice *self, gboolean locked, guint unlock_remaining_s)
{
  g_return_if_fail (BMS_IS_DEVICE (self));
  set_bool (self, &self->password_locked, locked, PROP_PASSWORD_LOCKED);
  set_uint (self, &self->unlock_remaining, locked ? 0 : unlock_remaining_s, PROP_UNLOCK_REMAINING);
}

void
bms_device_set_lagging (BmsDevice *self, gboolean lagging)
{
  g_return_if_fail (BMS_IS_DEVICE (self));
  set_bool (self, &self->lagging, lagging, PROP_LAGGING);
}

void
bms_device_reject_reply (BmsDevice *self, const char *reason)
{
  g_return_if_fail (BMS_IS_DEVICE (self));
  g_return_if_fail (reason != NULL);

  g_object_freeze_notify (G_OBJECT (self));
  set_uint (self, &self->implausible_replies, self->implausible_replies + 1,
            PROP_IMPLAUSIBLE_REPLIES);
  take_string (self, &self->implausible_reason, g_strdup (reason), PROP_IMPLAUSIBLE_REASON);
  g_object_thaw_notify (G_OBJECT (self));
}

void
bms_device_set_name (BmsDevice *self, const char *name)
{
  g_return_if_fail (BMS_IS_DEVICE (self));
  take_string (self, &self->name, g_strdup (name), PROP_NAME);
}

char *
bms_device_dup_key (BmsDevice *self)
{
  g_return_val_if_fail (BMS_IS_DEVICE (self), NULL);
  if (self->device_id != NULL && self->device_id[0] != '\0')
    return g_strdup_printf ("id:%s", self->device_id);
  return g_strdup_printf ("addr:%u", self->address);
}

char *
bms_device_key_for_snapshot (const BmsSnapshot *snapshot, guint address)
{
  g_autofree char *id = NULL;

  g_return_val_if_fail (snapshot != NULL, NULL);
  id = bms_snapshot_dup_string (snapshot, 0xB4);
  if (id != NULL && id[0] != '\0')
    return g_strdup_printf ("id:%s", id);
  return g_strdup_printf ("addr:%u", address);
}

#define GETTER(type, name, field)                                                                  \
  type bms_device_get_##name (BmsDevice *self)                                                     \
  {                                                                                                \
    g_return_val_if_fail (BMS_IS_DEVICE (self), (type)0);                                          \
    return self->field;                                                                            \
  }

GETTER (guint, address, address)
GETTER (const char *, name, name)
GETTER (gboolean, online, online)
GETTER (const char *, implausible_reason, implausible_reason)
GETTER (guint, implausible_replies, implausible_replies)
GETTER (gint64, connected_since, connected_since)
GETTER (gint64, time_connected, time_connected)
GETTER (gint64, last_update, last_update)
GETTER (double, pack_voltage, pack_voltage)
GETTER (double, current, current)
GETTER (double, power, power)
GETTER (guint, soc, soc)
GETTER (BmsDeviceState, state, state)
GETTER (double, mosfet_temperature, mosfet_temp)
GETTER (double, temperature_1, temp1)
GETTER (double, temperature_2, temp2)
GETTER (double, temperature_min, temp_min)
GETTER (double, temperature_max, temp_max)
GETTER (guint, cycles, cycles)
GETTER (guint, warnings, warnings)
GETTER (guint, status, status)
GETTER (guint, cell_count, cell_count)
GETTER (double, min_cell_voltage, min_cell)
GETTER (guint, min_cell_index, min_cell_index)
GETTER (double, max_cell_voltage, max_cell)
GETTER (guint, max_cell_index, max_cell_index)
GETTER (double, cell_difference, cell_difference)
GETTER (double, cell_average, cell_average)
GETTER (const char *, device_id, device_id)
GETTER (const char *, software_version, software_version)
GETTER (const char *, manufacture_date, manufacture_date)
GETTER (const char *, bluetooth_address, bluetooth_address)
GETTER (guint, protocol_version, protocol_version)
GETTER (gboolean, password_locked, password_locked)
GETTER (guint, unlock_remaining, unlock_remaining)
GETTER (gboolean, lagging, lagging)

GETTER (guint, relays, relays)
GETTER (gboolean, has_relays, has_relays)
GETTER (gboolean, has_current, has_current)
GETTER (guint, cell_ovp_mv, cell_ovp_mv)
GETTER (guint, cell_ovp_recovery_mv, cell_ovp_recovery_mv)
GETTER (guint, cell_uvp_mv, cell_uvp_mv)
GETTER (guint, cell_uvp_recovery_mv, cell_uvp_recovery_mv)
GETTER (guint, balance_start_mv, balance_start_mv)
GETTER (double, balancer_temperature, balancer_temp)
GETTER (const char *, manufacturer_id, manufacturer_id)
GETTER (gboolean, has_lease, has_lease)
GETTER (gint64, lease_end, lease_end)
GETTER (guint, lease_state, lease_state)
GETTER (const char *, lease_code, lease_code)

gboolean
bms_device_get_warning (BmsDevice *self, const char *bit_name)
{
  const BmsFieldInfo *field = bms_field_lookup (BMS_ID_WARNINGS);

  g_return_val_if_fail (BMS_IS_DEVICE (self), FALSE);
  g_return_val_if_fail (bit_name != NULL, FALSE);

  for (guint i = 0; field->names[i] != NULL; i++)
    if (g_str_equal (field->names[i], bit_name))
      return (self->warnings >> i) & 1;
  g_return_val_if_reached (FALSE);
}

GListModel *
bms_device_get_cells (BmsDevice *self)
{
  g_return_val_if_fail (BMS_IS_DEVICE (self), NULL);
  return G_LIST_MODEL (self->cells);
}

GListModel *
bms_device_get_modules (BmsDevice *self)
{
  g_return_val_if_fail (BMS_IS_DEVICE (self), NULL);
  return G_LIST_MODEL (self->modules);
}
