/* bms-setting.c — one setting of a board as a page shows it. */
#include "config.h"

#include "bms-setting.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "bms-param-set.h"

struct _BmsSetting
{
  GObject parent_instance;

  const BmsFieldInfo *field; /* written */
  const BmsFieldInfo *shown; /* displayed */
  int bit;
  char *title;
  BmsSettingGroup group;
  char *range;

  char *value;
  char *text;
  gint64 raw;
  double number;
  gboolean known;
  gboolean reported;
  gboolean applicable;
  gboolean active;
};

G_DEFINE_FINAL_TYPE (BmsSetting, bms_setting, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (BmsSettingGroup, bms_setting_group,
                    G_DEFINE_ENUM_VALUE (BMS_SETTING_GROUP_BATTERY, "battery"),
                    G_DEFINE_ENUM_VALUE (BMS_SETTING_GROUP_SWITCHES, "switches"),
                    G_DEFINE_ENUM_VALUE (BMS_SETTING_GROUP_SYSTEM, "system"),
                    G_DEFINE_ENUM_VALUE (BMS_SETTING_GROUP_HIDDEN, "hidden"))

enum
{
  PROP_0,
  PROP_VALUE,
  PROP_TEXT,
  PROP_KNOWN,
  PROP_REPORTED,
  PROP_APPLICABLE,
  PROP_ACTIVE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- formatting, shared by every view ---- */

static gboolean
is_choice (const BmsFieldInfo *field)
{
  return field->type == BMS_FIELD_BOOL || (field->type == BMS_FIELD_ENUM && field->names != NULL);
}

char *
bms_setting_choice_label (const BmsFieldInfo *field, gint64 raw)
{
  static const struct
  {
    const char *key, *label;
  } labels[] = {
    { "lfp", N_ ("LiFePO4 (iron phosphate)") },
    { "nmc", N_ ("NMC (ternary)") },
    { "lto", N_ ("LTO (titanate)") },
    { "off", N_ ("Off") },
    { "charge", N_ ("When charging") },
    { "discharge", N_ ("When discharging") },
    { "all", N_ ("Always") },
    { "none", N_ ("None") },
  };
  const char *key;

  g_return_val_if_fail (field != NULL, NULL);

  if (field->type == BMS_FIELD_BOOL)
    return g_strdup (raw ? _ ("On") : _ ("Off"));
  if (field->type != BMS_FIELD_ENUM || field->names == NULL || raw < 0
      || raw >= (gint64)g_strv_length ((char **)field->names))
    return NULL;
  key = field->names[raw];
  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_str_equal (key, labels[i].key))
      return g_strdup (_ (labels[i].label));
  return g_ascii_strup (key, -1); /* fk1 → FK1 */
}

char *
bms_setting_format_range (const BmsFieldInfo *field)
{
  gint64 lo, hi;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  g_return_val_if_fail (field != NULL, NULL);

  if (field->type == BMS_FIELD_ASCII)
    return g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE, "up to %u character", "up to %u characters", field->size),
        field->size);
  if (is_choice (field))
    return g_strdup (_ ("one of the listed choices"));
  bms_param_get_range (field, &lo, &hi);
  a = bms_field_format (field, lo);
  b = bms_field_format (field, hi);
  return g_strdup_printf ("%s … %s", a, b);
}

char *
bms_setting_format_text (const BmsFieldInfo *field, const char *text)
{
  g_return_val_if_fail (field != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  if (g_str_equal (field->name, "manufacture_date"))
    return bms_field_format_manufacture_date (text);
  if (g_str_equal (field->name, "software_version"))
    return bms_field_format_version (text);
  return g_strdup (text);
}

char *
bms_setting_format_value (const BmsSnapshot *snapshot, const BmsFieldInfo *field)
{
  gint64 raw;

  g_return_val_if_fail (snapshot != NULL, NULL);
  g_return_val_if_fail (field != NULL, NULL);

  if (!bms_snapshot_has (snapshot, field->id))
    return NULL;
  if (field->type == BMS_FIELD_ASCII)
    {
      g_autofree char *text = bms_snapshot_dup_string (snapshot, field->id);
      return bms_setting_format_text (field, text != NULL ? text : "");
    }
  raw = bms_snapshot_get_raw (snapshot, field->id);
  if (is_choice (field))
    {
      char *label = bms_setting_choice_label (field, raw);
      if (label != NULL)
        return label;
    }
  return bms_field_format (field, raw);
}

/* ---- the item ---- */

static void
set_string (BmsSetting *self, char **field, char *value, guint prop)
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
set_bool (BmsSetting *self, gboolean *field, gboolean value, guint prop)
{
  value = !!value;
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

/* A master reports its whole pack's cell count in pack_cell_count
 * ("battery set", 5…256, over its slave modules): that is the cell count
 * to set there. cell_count_set's 3…32 is one board's, so it is offered
 * only on a board without pack_cell_count, and the other only on a board
 * that has it. */
static gboolean
fits_board (BmsSetting *self, const BmsSnapshot *s)
{
  const BmsFieldInfo *pack = bms_field_lookup (BMS_ID_PACK_CELL_COUNT);
  gboolean master = s != NULL && bms_snapshot_has (s, pack->id);

  if (g_str_equal (self->field->name, "cell_count_set"))
    return !master;
  if (self->field == pack)
    return master;
  return TRUE;
}

static char *
display_value (BmsSetting *self, const BmsSnapshot *s)
{
  char *value;

  if (s == NULL)
    return g_strdup ("—");
  if (bms_setting_get_secret (self) && bms_snapshot_has (s, self->shown->id))
    return g_strdup ("••••••"); /* never shown on a shop floor */
  value = bms_setting_format_value (s, self->shown);
  if (value == NULL)
    return g_strdup (_ ("not reported"));
  if (*value == '\0' && self->shown->type == BMS_FIELD_ASCII)
    {
      g_free (value);
      return g_strdup (_ ("(empty)"));
    }
  return value;
}

void
bms_setting_update (BmsSetting *self, const BmsSnapshot *snapshot)
{
  gboolean reported;
  gboolean active = FALSE;

  g_return_if_fail (BMS_IS_SETTING (self));

  reported = snapshot != NULL && bms_snapshot_has (snapshot, self->shown->id);
  self->raw = reported ? bms_snapshot_get_raw (snapshot, self->shown->id) : 0;
  self->number = reported && bms_field_is_numeric (self->shown)
                     ? bms_snapshot_get (snapshot, self->shown->id)
                     : NAN;
  if (reported)
    active = self->bit >= 0 ? (self->raw >> self->bit) & 1 : self->raw != 0;

  g_object_freeze_notify (G_OBJECT (self));
  set_string (self, &self->value, display_value (self, snapshot), PROP_VALUE);
  set_string (self, &self->text,
              reported && self->shown->type == BMS_FIELD_ASCII && !bms_setting_get_secret (self)
                  ? bms_snapshot_dup_string (snapshot, self->shown->id)
                  : NULL,
              PROP_TEXT);
  set_bool (self, &self->known, snapshot != NULL, PROP_KNOWN);
  set_bool (self, &self->reported, reported, PROP_REPORTED);
  set_bool (self, &self->applicable, fits_board (self, snapshot), PROP_APPLICABLE);
  set_bool (self, &self->active, active, PROP_ACTIVE);
  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
bms_setting_raw_for_active (BmsSetting *self, gboolean active, gint64 *raw_out)
{
  g_return_val_if_fail (BMS_IS_SETTING (self), FALSE);
  g_return_val_if_fail (raw_out != NULL, FALSE);

  if (!self->reported)
    return FALSE;
  if (self->bit < 0)
    *raw_out = !!active;
  else if (active)
    *raw_out = self->raw | (G_GINT64_CONSTANT (1) << self->bit);
  else
    *raw_out = self->raw & ~(G_GINT64_CONSTANT (1) << self->bit);
  return TRUE;
}

BmsSetting *
bms_setting_new (const char *name, const char *shown, int bit, const char *title,
                 BmsSettingGroup group)
{
  BmsSetting *self;
  const BmsFieldInfo *field = bms_field_lookup_name (name);

  g_return_val_if_fail (field != NULL, NULL);
  g_return_val_if_fail (shown == NULL || bms_field_lookup_name (shown) != NULL, NULL);
  g_return_val_if_fail (
      bit < 0 || (field->names != NULL && bit < (int)g_strv_length ((char **)field->names)), NULL);

  self = g_object_new (BMS_TYPE_SETTING, NULL);
  self->field = field;
  self->shown = shown != NULL ? bms_field_lookup_name (shown) : field;
  self->bit = bit;
  self->title = g_strdup (title != NULL ? title : _ (field->label));
  self->group = group;
  if (bms_setting_get_editable (self))
    self->range = bms_setting_format_range (field);
  self->value = g_strdup ("—");
  self->applicable = fits_board (self, NULL);
  return self;
}

static void
bms_setting_finalize (GObject *object)
{
  BmsSetting *self = BMS_SETTING (object);

  g_free (self->title);
  g_free (self->range);
  g_free (self->value);
  g_free (self->text);
  G_OBJECT_CLASS (bms_setting_parent_class)->finalize (object);
}

static void
bms_setting_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BmsSetting *self = BMS_SETTING (object);

  switch (prop_id)
    {
    case PROP_VALUE:
      g_value_set_string (value, self->value);
      break;
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;
    case PROP_KNOWN:
      g_value_set_boolean (value, self->known);
      break;
    case PROP_REPORTED:
      g_value_set_boolean (value, self->reported);
      break;
    case PROP_APPLICABLE:
      g_value_set_boolean (value, self->applicable);
      break;
    case PROP_ACTIVE:
      g_value_set_boolean (value, self->active);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

#define RO (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS)

static void
bms_setting_class_init (BmsSettingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bms_setting_finalize;
  object_class->get_property = bms_setting_get_property;

  properties[PROP_VALUE]
      = g_param_spec_string ("value", NULL, "the value with its unit, as shown", NULL, RO);
  properties[PROP_TEXT] = g_param_spec_string (
      "text", NULL, "a text field's value as sent, NULL when absent", NULL, RO);
  properties[PROP_KNOWN] = g_param_spec_boolean ("known", NULL, "a board has been read", FALSE, RO);
  properties[PROP_REPORTED]
      = g_param_spec_boolean ("reported", NULL, "the board reported the field", FALSE, RO);
  properties[PROP_APPLICABLE]
      = g_param_spec_boolean ("applicable", NULL, "the setting fits this kind of board", TRUE, RO);
  properties[PROP_ACTIVE]
      = g_param_spec_boolean ("active", NULL, "a switch's state on the board", FALSE, RO);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bms_setting_init (BmsSetting *self)
{
  self->bit = -1;
  self->number = NAN;
  self->applicable = TRUE;
}

guint8
bms_setting_get_id (BmsSetting *self)
{
  g_return_val_if_fail (BMS_IS_SETTING (self), 0);
  return self->field->id;
}

const BmsFieldInfo *
bms_setting_get_field (BmsSetting *self)
{
  g_return_val_if_fail (BMS_IS_SETTING (self), NULL);
  return self->field;
}

const char *
bms_setting_get_name (BmsSetting *self)
{
  g_return_val_if_fail (BMS_IS_SETTING (self), NULL);
  return self->field->name;
}

const char *
bms_setting_get_description (BmsSetting *self)
{
  g_return_val_if_fail (BMS_IS_SETTING (self), NULL);
  return self->field->description;
}

gboolean
bms_setting_get_is_switch (BmsSetting *self)
{
  g_return_val_if_fail (BMS_IS_SETTING (self), FALSE);
  return self->bit >= 0 || self->field->type == BMS_FIELD_BOOL;
}

gboolean
bms_setting_get_secret (BmsSetting *self)
{
  g_return_val_if_fail (BMS_IS_SETTING (self), FALSE);
  return self->shown->id == BMS_ID_PASSWORD;
}

gboolean
bms_setting_get_numbered (BmsSetting *self)
{
  g_return_val_if_fail (BMS_IS_SETTING (self), FALSE);
  return g_str_equal (self->field->name, "bluetooth_name");
}

/* A switch is edited by its switch, a value through the dialog. */
gboolean
bms_setting_get_editable (BmsSetting *self)
{
  g_return_val_if_fail (BMS_IS_SETTING (self), FALSE);
  return bms_field_is_writable (self->field);
}

#define GETTER(type, name, member)                                                                 \
  type bms_setting_get_##name (BmsSetting *self)                                                   \
  {                                                                                                \
    g_return_val_if_fail (BMS_IS_SETTING (self), (type)0);                                         \
    return self->member;                                                                           \
  }

GETTER (const char *, title, title)
GETTER (BmsSettingGroup, group, group)
GETTER (int, bit, bit)
GETTER (const char *, range, range)
GETTER (const char *, value, value)
GETTER (const char *, text, text)
GETTER (gboolean, known, known)
GETTER (gboolean, reported, reported)
GETTER (gboolean, applicable, applicable)
GETTER (gboolean, active, active)
GETTER (double, number, number)

/* ---- the Normal page's list ---- */

/* Labels of the switch bits, by catalogue bit name. */
static const struct
{
  const char *name;
  const char *label;
} switch_bit_labels[] = {
  { "charging", N_ ("Charging switch") },
  { "short_circuit_protection", N_ ("Short-circuit protection") },
  { "power", N_ ("Power switch") },
  { "anti_ignition", N_ ("Anti-ignition") },
  { "smart_sleep", N_ ("Smart sleep") },
  { "smart_lock", N_ ("Smart lock") },
  { "charge_reserved_capacity", N_ ("Charging reserved capacity") },
  { "force_relay", N_ ("Force-activate relay") },
  { "keep_heating", N_ ("Keep heating") },
  { "forced_heating", N_ ("Forced heating") },
};

static void
add (GListStore *store, const char *name, const char *shown, int bit, const char *title,
     BmsSettingGroup group)
{
  g_autoptr (BmsSetting) setting = bms_setting_new (name, shown, bit, title, group);
  g_list_store_append (store, setting);
}

static void
add_switch_bits (GListStore *store)
{
  const BmsFieldInfo *bits = bms_field_lookup_name ("switches");

  for (guint b = 0; bits->names[b] != NULL; b++)
    for (guint k = 0; k < G_N_ELEMENTS (switch_bit_labels); k++)
      if (g_str_equal (bits->names[b], switch_bit_labels[k].name))
        add (store, "switches", NULL, b, _ (switch_bit_labels[k].label),
             BMS_SETTING_GROUP_SWITCHES);
}

GListModel *
bms_setting_list_new_everyday (void)
{
  GListStore *store = g_list_store_new (BMS_TYPE_SETTING);
  const BmsSettingGroup battery = BMS_SETTING_GROUP_BATTERY;
  const BmsSettingGroup switches = BMS_SETTING_GROUP_SWITCHES;
  const BmsSettingGroup system = BMS_SETTING_GROUP_SYSTEM;

  add (store, "capacity_ah", NULL, -1, NULL, battery);
  add (store, "cell_count_set", NULL, -1, NULL, battery);
  add (store, "pack_cell_count", NULL, -1, NULL, battery);
  /* Written as a setting, read back as the state of charge it sets. */
  add (store, "soc_set_pct", "soc_pct", -1, _ ("State of charge"), battery);
  add (store, "low_capacity_alarm_pct", NULL, -1, NULL, battery);
  add (store, "balance_diff_mv", NULL, -1, NULL, battery);
  add (store, "balance_start_mv", NULL, -1, NULL, battery);
  add (store, "actual_capacity_ah", NULL, -1, NULL, battery);
  add (store, "discharged_capacity_ah", NULL, -1, NULL, battery);
  add (store, "battery_type", NULL, -1, NULL, battery);

  add (store, "charge_mos_enabled", NULL, -1, _ ("Charge MOS"), switches);
  add (store, "discharge_mos_enabled", NULL, -1, _ ("Discharge MOS"), switches);
  add (store, "balancer_enabled", NULL, -1, _ ("Balancer"), switches);
  add (store, "special_charger_enabled", NULL, -1, _ ("Special charger"), switches);
  add (store, "buzzer_enabled", NULL, -1, _ ("Buzzer"), switches);
  add (store, "heater_mode", NULL, -1, NULL, switches);
  add_switch_bits (store);

  add (store, "inverter_protocol", NULL, -1, NULL, system);
  add (store, "bluetooth_name", NULL, -1, NULL, system);
  add (store, "device_id", NULL, -1, NULL, system);

  add (store, "manufacturer_id", NULL, -1, NULL, BMS_SETTING_GROUP_HIDDEN);
  add (store, "restart", NULL, -1, NULL, BMS_SETTING_GROUP_HIDDEN);
  add (store, "factory_reset", NULL, -1, NULL, BMS_SETTING_GROUP_HIDDEN);
  return G_LIST_MODEL (store);
}

GListModel *
bms_setting_list_new_service (void)
{
  GListStore *store = g_list_store_new (BMS_TYPE_SETTING);
  const char *names[] = { "board_address",          "cell_diff_protect_mv",      "pack_cell_count",
                          "current_calibration_ma", "current_calibration_start", "sleep_now" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    add (store, names[i], NULL, -1, NULL, BMS_SETTING_GROUP_HIDDEN);
  return G_LIST_MODEL (store);
}

GListModel *
bms_setting_list_new_dload (void)
{
  GListStore *store = g_list_store_new (BMS_TYPE_SETTING);
  const char *names[]
      = { "cell_ovp2_mv",     "cell_ovp_mv", "cell_ovp_recovery_mv", "charge_ocp_a",
          "cell_uvp2_mv",     "cell_uvp_mv", "cell_uvp_recovery_mv", "discharge_ocp_a",
          "balance_start_mv", "capacity_ah", "cell_count_set",       "parameter_password",
          "bluetooth_name" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    add (store, names[i], NULL, -1, NULL, BMS_SETTING_GROUP_HIDDEN);
  return G_LIST_MODEL (store);
}

void
bms_setting_list_update (GListModel *list, const BmsSnapshot *snapshot)
{
  g_return_if_fail (G_IS_LIST_MODEL (list));

  for (guint i = 0, n = g_list_model_get_n_items (list); i < n; i++)
    {
      g_autoptr (BmsSetting) setting = g_list_model_get_item (list, i);
      bms_setting_update (setting, snapshot);
    }
}

BmsSetting *
bms_setting_list_find (GListModel *list, const char *name)
{
  g_return_val_if_fail (G_IS_LIST_MODEL (list), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0, n = g_list_model_get_n_items (list); i < n; i++)
    {
      g_autoptr (BmsSetting) setting = g_list_model_get_item (list, i);
      if (g_str_equal (setting->field->name, name) && setting->bit < 0)
        return setting; /* the list holds its reference */
    }
  return NULL;
}
