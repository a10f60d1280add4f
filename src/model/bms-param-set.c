/* bms-param-set.c — parameter values and the vendor rules between them. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "bms-param-set.h"

/* ---- ranges ---- */

/* The vendor parameter sheet (seed-features.md), raw units of each field. */
typedef struct
{
  guint8 id;
  gint64 min;
  gint64 max;
} VendorRange;

static const VendorRange vendor_ranges[] = {
  { 0x90, 1500, 4500 }, /* charge protection level 1, mV */
  { 0xD5, 2950, 4800 }, /* charge protection level 2, mV */
  { 0x93, 1500, 4500 }, /* discharge protection level 1, mV */
  { 0x92, 4, 10 },      /* over-charge delay, s */
  { 0x95, 4, 10 },      /* over-discharge delay, s */
  { 0x9B, 1000, 4300 }, /* balance start voltage, mV */
  { 0x9C, 1, 30 },      /* balance voltage difference, mV */
  { 0x99, 0, 500 },     /* charge current, A */
  { 0x97, 0, 500 },     /* continuous discharge current, A */
};

gboolean
bms_param_is_parameter (const BmsFieldInfo *field)
{
  g_return_val_if_fail (field != NULL, FALSE);
  if (field->access != BMS_ACCESS_RW)
    return FALSE;
  return bms_field_is_numeric (field) || field->type == BMS_FIELD_ASCII;
}

gboolean
bms_param_is_portable (const BmsFieldInfo *field)
{
  static const guint8 per_board[] = {
    0xAD, /* current calibration */
    0xAE, /* board address */
    0xB2, /* parameter password */
    0xB8, /* start current calibration */
    0xB9, /* calibration capacity */
    0xE3, /* lease end */
    0xE4, /* lease code */
  };

  g_return_val_if_fail (field != NULL, FALSE);
  if (!bms_param_is_parameter (field) || field->group == BMS_GROUP_IDENTITY)
    return FALSE;
  return memchr (per_board, field->id, sizeof per_board) == NULL;
}

gboolean
bms_param_check_string (const BmsFieldInfo *field, const char *string, GError **error)
{
  g_autofree char *parsed = NULL;

  g_return_val_if_fail (field != NULL, FALSE);
  if (!bms_field_parse_value (field, string != NULL ? string : "", NULL, &parsed, error))
    return FALSE;
  if (field->id == BMS_ID_PASSWORD && (parsed == NULL || *parsed == '\0'))
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE,
                   _ ("%s must not be empty: the board would take it, and then no password "
                      "could unlock it again, not even for a factory reset. Give 1 to %u "
                      "printable characters"),
                   field->name, field->size);
      return FALSE;
    }
  return TRUE;
}

gboolean
bms_param_get_range (const BmsFieldInfo *field, gint64 *min_out, gint64 *max_out)
{
  g_return_val_if_fail (field != NULL, FALSE);
  *min_out = field->min;
  *max_out = field->max;
  for (guint i = 0; i < G_N_ELEMENTS (vendor_ranges); i++)
    if (vendor_ranges[i].id == field->id)
      {
        *min_out = MAX (field->min, vendor_ranges[i].min);
        *max_out = MIN (field->max, vendor_ranges[i].max);
        return *min_out != field->min || *max_out != field->max;
      }
  return FALSE;
}

/* "3650 mV", "56.70 V": the catalogue's own formatting. */
static char *
format_number (const BmsFieldInfo *field, gint64 raw)
{
  return bms_field_format (field, raw);
}

gboolean
bms_param_check_range (const BmsFieldInfo *field, gint64 raw, GError **error)
{
  gint64 lo, hi;

  g_return_val_if_fail (field != NULL, FALSE);
  if (!bms_field_check_range (field, raw, error))
    return FALSE;
  if (!bms_field_is_numeric (field) || !bms_param_get_range (field, &lo, &hi))
    return TRUE;
  if (raw < lo || raw > hi)
    {
      g_autofree char *value = format_number (field, raw);
      g_autofree char *min = format_number (field, lo);
      g_autofree char *max = format_number (field, hi);
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RULE,
                   _ ("%s (%s) = %s is outside the vendor sheet's range: allowed %s to %s"),
                   field->name, _ (field->label), value, min, max);
      return FALSE;
    }
  return TRUE;
}

gboolean
bms_param_parse_value (const BmsFieldInfo *field, const char *text, gint64 *raw_out,
                       char **string_out, GError **error)
{
  g_autoptr (GError) local = NULL;
  gint64 lo, hi;

  g_return_val_if_fail (field != NULL && text != NULL, FALSE);
  if (bms_field_parse_value (field, text, raw_out, string_out, &local))
    return raw_out == NULL || field->type == BMS_FIELD_ASCII
           || bms_param_check_range (field, *raw_out, error);
  /* Outside the catalogue's range: name the range the user can set, the
   * one the pages and `packwatch-cli fields` show, not the wider one. */
  if (g_error_matches (local, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE)
      && field->type != BMS_FIELD_ASCII && bms_param_is_parameter (field)
      && bms_param_get_range (field, &lo, &hi))
    {
      g_autofree char *min = format_number (field, lo);
      g_autofree char *max = format_number (field, hi);
      g_autofree char *given = g_strstrip (g_strdup (text));

      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE,
                   _ ("%s (%s) = %s%s%s is out of range: allowed %s to %s"), field->name,
                   _ (field->label), given, *field->unit ? " " : "", field->unit, min, max);
      return FALSE;
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* ---- rules between fields ---- */

typedef enum
{
  REL_ABOVE,      /* a > b */
  REL_BELOW,      /* a < b */
  REL_AT_MOST_3X, /* a <= 3 × b */
} Relation;

/* Two things follow from the catalogue's "replaces" (an extension standing
 * in for a public field when not 0): a rule on two such extensions holds
 * while either is 0 ("not used"), and a rule against a public field that
 * its extension replaces is not checked while the extension is set (the
 * public value then means nothing). */
typedef struct
{
  guint8 a;
  Relation rel;
  guint8 b;
} Rule;

/* The field whose value is judged comes first. */
static const Rule rules[] = {
  { 0xD5, REL_ABOVE, 0x90 },      /* level-2 charge protection above level 1 */
  { 0x91, REL_BELOW, 0x90 },      /* charge recovery below level 1 */
  { 0xD6, REL_BELOW, 0x93 },      /* level-2 discharge protection below level 1 */
  { 0x94, REL_ABOVE, 0x93 },      /* discharge recovery above level 1 */
  { 0x93, REL_BELOW, 0x90 },      /* discharge protection below charge protection */
  /* pack under-voltage below pack over-voltage, unless a high-voltage
   * master uses the 4-byte pair instead (its 16-bit pair then sits at the
   * 150 V ceiling and means nothing) */
  { 0x8F, REL_BELOW, 0x8E },
  { 0xEF, REL_BELOW, 0xEE },      /* the same for the high-voltage pair, when used */
  { 0xDF, REL_AT_MOST_3X, 0x97 }, /* peak discharge at most 3 × continuous */
  { 0x9F, REL_BELOW, 0x9E },      /* MOSFET recovery below protection */
  { 0xA1, REL_BELOW, 0xA0 },      /* battery box recovery below protection */
  { 0xE2, REL_BELOW, 0xE1 },      /* balance module recovery below protection */
  { 0xA6, REL_ABOVE, 0xA5 },      /* charge low-temperature recovery above protection */
  { 0xA8, REL_ABOVE, 0xA7 },      /* discharge low-temperature recovery above protection */
  { 0xD9, REL_BELOW, 0xDA },      /* heating starts below where it stops */
};

/* "Charge protection (level 1)" in the middle of a sentence. */
static char *
label_inside (const BmsFieldInfo *field)
{
  const char *label = _ (field->label);
  char *text = g_strdup (label);

  if (g_ascii_isupper (text[0]) && text[1] != '\0' && g_ascii_islower (text[1]))
    text[0] = g_ascii_tolower (text[0]);
  return text;
}

/* Both sides are extensions standing in for public fields: 0 = not used. */
static gboolean
unused_at_zero (const Rule *rule)
{
  return bms_field_lookup (rule->a)->replaces != 0 && bms_field_lookup (rule->b)->replaces != 0;
}

static gboolean
rule_holds (const Rule *rule, gint64 a, gint64 b)
{
  switch (rule->rel)
    {
    case REL_ABOVE:
      return a > b;
    case REL_BELOW:
      return a < b;
    case REL_AT_MOST_3X:
      return a <= 3 * b;
    default:
      g_return_val_if_reached (FALSE);
    }
}

static void
set_rule_error (const Rule *rule, gint64 a_raw, gint64 b_raw, GError **error)
{
  const BmsFieldInfo *fa = bms_field_lookup (rule->a);
  const BmsFieldInfo *fb = bms_field_lookup (rule->b);
  g_autofree char *a = format_number (fa, a_raw);
  g_autofree char *b = format_number (fb, b_raw);
  g_autofree char *b_label = label_inside (fb);

  switch (rule->rel)
    {
    case REL_ABOVE:
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RULE, _ ("%s %s must be above %s %s"),
                   _ (fa->label), a, b_label, b);
      break;
    case REL_BELOW:
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RULE, _ ("%s %s must be below %s %s"),
                   _ (fa->label), a, b_label, b);
      break;
    case REL_AT_MOST_3X:
      {
        g_autofree char *limit = format_number (fa, 3 * b_raw);
        g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RULE,
                     _ ("%s %s must be at most 3 × %s %s, that is %s"), _ (fa->label), a, b_label,
                     b, limit);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

char **
bms_param_set_describe_rules (void)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    {
      const BmsFieldInfo *fa = bms_field_lookup (rules[i].a);
      const BmsFieldInfo *fb = bms_field_lookup (rules[i].b);
      const BmsFieldInfo *b_in_place = bms_field_replacement (fb->id);
      g_autofree char *b_label = label_inside (fb);
      const char *fmt = rules[i].rel == REL_ABOVE ? _ ("%s must be above %s")
                        : rules[i].rel == REL_BELOW && unused_at_zero (&rules[i])
                          ? _ ("%s must be below %s when both are set")
                        : rules[i].rel == REL_BELOW ? _ ("%s must be below %s")
                                                    : _ ("%s must be at most 3 × %s");
      g_autofree char *text = g_strdup_printf (fmt, _ (fa->label), b_label);

      if (b_in_place != NULL)
        {
          g_autofree char *unless = label_inside (b_in_place);
          g_ptr_array_add (out, g_strdup_printf (_ ("%s, unless %s is set"), text, unless));
        }
      else
        g_ptr_array_add (out, g_steal_pointer (&text));
    }
  for (guint i = 0; i < G_N_ELEMENTS (vendor_ranges); i++)
    {
      const BmsFieldInfo *f = bms_field_lookup (vendor_ranges[i].id);
      gint64 lo, hi;
      g_autofree char *min = NULL, *max = NULL;

      bms_param_get_range (f, &lo, &hi);
      min = format_number (f, lo);
      max = format_number (f, hi);
      g_ptr_array_add (out, g_strdup_printf (_ ("%s from %s to %s"), _ (f->label), min, max));
    }
  g_ptr_array_add (out, NULL);
  return (char **)g_ptr_array_free (out, FALSE);
}

/* ---- the set ---- */

struct _BmsParamSet
{
  GObject parent_instance;
  guint64 present[4];
  gint64 raw[256];
  char *text[256];
};

G_DEFINE_FINAL_TYPE (BmsParamSet, bms_param_set, G_TYPE_OBJECT)

#define IS_PRESENT(s, id) (((s)->present[(id) >> 6] >> ((id)&63)) & 1)

static void
bms_param_set_finalize (GObject *object)
{
  BmsParamSet *self = BMS_PARAM_SET (object);

  for (guint i = 0; i < 256; i++)
    g_free (self->text[i]);
  G_OBJECT_CLASS (bms_param_set_parent_class)->finalize (object);
}

static void
bms_param_set_class_init (BmsParamSetClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bms_param_set_finalize;
}

static void
bms_param_set_init (BmsParamSet *self)
{
}

BmsParamSet *
bms_param_set_new (void)
{
  return g_object_new (BMS_TYPE_PARAM_SET, NULL);
}

BmsParamSet *
bms_param_set_new_from_snapshot (const BmsSnapshot *snapshot)
{
  BmsParamSet *self = bms_param_set_new ();
  const BmsFieldInfo *fields;
  guint n;

  g_return_val_if_fail (snapshot != NULL, self);
  fields = bms_field_all (&n);
  for (guint i = 0; i < n; i++)
    {
      const BmsFieldInfo *f = &fields[i];

      if (!bms_param_is_parameter (f) || !bms_snapshot_has (snapshot, f->id))
        continue;
      if (f->type == BMS_FIELD_ASCII)
        {
          g_autofree char *text = bms_snapshot_dup_string (snapshot, f->id);
          bms_param_set_set_string (self, f->id, text ? text : "");
        }
      else
        bms_param_set_set_raw (self, f->id, bms_snapshot_get_raw (snapshot, f->id));
    }
  return self;
}

typedef struct
{
  guint8 id;
  gint64 value[3]; /* LiFePO4, NMC, LTO: the values of field 0xAF */
} PresetRow;

/* The vendor parameter sheet; low temperatures are "set by hand" there and
 * are left out on purpose. */
static const PresetRow preset_rows[] = {
  { 0x90, { 3650, 4200, 2800 } }, /* charge protection level 1 */
  { 0xD5, { 3750, 4300, 2950 } }, /* charge protection level 2 */
  { 0x91, { 3550, 4100, 2700 } }, /* over-charge recovery */
  { 0x93, { 2500, 2750, 1800 } }, /* discharge protection level 1 */
  { 0xD6, { 2250, 2500, 1600 } }, /* discharge protection level 2 */
  { 0x94, { 2900, 3100, 2200 } }, /* over-discharge recovery */
  { 0x9B, { 3400, 4100, 2600 } }, /* balance start voltage */
  { 0x9C, { 20, 20, 20 } },       /* balance voltage difference */
  { 0x9E, { 90, 90, 90 } },       /* power module protection, °C */
  { 0x9F, { 70, 70, 70 } },       /* power module recovery */
  { 0xE1, { 70, 70, 70 } },       /* balance module protection */
  { 0xE2, { 65, 65, 65 } },       /* balance module recovery */
  { 0xA3, { 60, 60, 60 } },       /* battery high temperature, charging */
  { 0xA4, { 60, 60, 60 } },       /* battery high temperature, discharging */
};

BmsParamSet *
bms_param_set_new_preset (guint battery_type, GError **error)
{
  BmsParamSet *self;

  if (battery_type > BMS_BATTERY_TYPE_LTO)
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE,
                   _ ("No preset for battery type %u: use 0 (LiFePO4), 1 (NMC) or 2 (LTO)"),
                   battery_type);
      return NULL;
    }
  self = bms_param_set_new ();
  for (guint i = 0; i < G_N_ELEMENTS (preset_rows); i++)
    bms_param_set_set_raw (self, preset_rows[i].id, preset_rows[i].value[battery_type]);
  bms_param_set_set_raw (self, BMS_ID_BATTERY_TYPE, battery_type);
  return self;
}

BmsParamSet *
bms_param_set_copy (BmsParamSet *self)
{
  BmsParamSet *copy;

  g_return_val_if_fail (BMS_IS_PARAM_SET (self), NULL);
  copy = bms_param_set_new ();
  memcpy (copy->present, self->present, sizeof self->present);
  memcpy (copy->raw, self->raw, sizeof self->raw);
  for (guint i = 0; i < 256; i++)
    copy->text[i] = g_strdup (self->text[i]);
  return copy;
}

gboolean
bms_param_set_has (BmsParamSet *self, guint8 id)
{
  g_return_val_if_fail (BMS_IS_PARAM_SET (self), FALSE);
  return IS_PRESENT (self, id);
}

gint64
bms_param_set_get_raw (BmsParamSet *self, guint8 id)
{
  g_return_val_if_fail (BMS_IS_PARAM_SET (self), 0);
  return IS_PRESENT (self, id) ? self->raw[id] : 0;
}

const char *
bms_param_set_get_string (BmsParamSet *self, guint8 id)
{
  g_return_val_if_fail (BMS_IS_PARAM_SET (self), NULL);
  return IS_PRESENT (self, id) ? self->text[id] : NULL;
}

void
bms_param_set_set_raw (BmsParamSet *self, guint8 id, gint64 raw)
{
  g_return_if_fail (BMS_IS_PARAM_SET (self));
  self->raw[id] = raw;
  self->present[id >> 6] |= G_GUINT64_CONSTANT (1) << (id & 63);
}

void
bms_param_set_set_string (BmsParamSet *self, guint8 id, const char *text)
{
  g_return_if_fail (BMS_IS_PARAM_SET (self));
  g_free (self->text[id]);
  self->text[id] = g_strdup (text ? text : "");
  self->present[id >> 6] |= G_GUINT64_CONSTANT (1) << (id & 63);
}

void
bms_param_set_remove (BmsParamSet *self, guint8 id)
{
  g_return_if_fail (BMS_IS_PARAM_SET (self));
  g_clear_pointer (&self->text[id], g_free);
  self->raw[id] = 0;
  self->present[id >> 6] &= ~(G_GUINT64_CONSTANT (1) << (id & 63));
}

guint8 *
bms_param_set_get_ids (BmsParamSet *self, guint *n_out)
{
  guint8 *ids = g_new (guint8, 257);
  guint n = 0;

  g_return_val_if_fail (BMS_IS_PARAM_SET (self), NULL);
  for (guint id = 0; id < 256; id++)
    if (IS_PRESENT (self, id))
      ids[n++] = (guint8)id;
  if (n_out)
    *n_out = n;
  return ids;
}

guint
bms_param_set_get_size (BmsParamSet *self)
{
  guint n = 0;

  g_return_val_if_fail (BMS_IS_PARAM_SET (self), 0);
  for (guint i = 0; i < 4; i++)
    n += __builtin_popcountll (self->present[i]);
  return n;
}

char *
bms_param_set_format (BmsParamSet *self, guint8 id)
{
  const BmsFieldInfo *field = bms_field_lookup (id);

  g_return_val_if_fail (BMS_IS_PARAM_SET (self), NULL);
  if (!IS_PRESENT (self, id) || field == NULL)
    return NULL;
  if (field->type == BMS_FIELD_ASCII)
    return g_strdup (self->text[id] ? self->text[id] : "");
  return bms_field_format (field, self->raw[id]);
}

char *
bms_param_set_format_plain (BmsParamSet *self, guint8 id)
{
  const BmsFieldInfo *field = bms_field_lookup (id);
  g_autofree char *text = NULL;
  const char *space;

  g_return_val_if_fail (BMS_IS_PARAM_SET (self), NULL);
  text = bms_param_set_format (self, id);
  if (text == NULL || field->type == BMS_FIELD_ASCII || *field->unit == '\0')
    return g_steal_pointer (&text);
  /* bms_field_format gives "<number> <unit>": keep the number. */
  space = strrchr (text, ' ');
  return space ? g_strndup (text, space - text) : g_steal_pointer (&text);
}

/* ---- checks ---- */

static gboolean
check_rule (BmsParamSet *self, const Rule *rule, GError **error)
{
  const BmsFieldInfo *b_in_place = bms_field_replacement (rule->b);

  if (!IS_PRESENT (self, rule->a) || !IS_PRESENT (self, rule->b))
    return TRUE;
  if (b_in_place != NULL && IS_PRESENT (self, b_in_place->id) && self->raw[b_in_place->id] != 0)
    return TRUE;
  if (unused_at_zero (rule) && (self->raw[rule->a] == 0 || self->raw[rule->b] == 0))
    return TRUE;
  if (rule_holds (rule, self->raw[rule->a], self->raw[rule->b]))
    return TRUE;
  set_rule_error (rule, self->raw[rule->a], self->raw[rule->b], error);
  return FALSE;
}

static gboolean
rule_involves (const Rule *rule, const guint8 *ids, guint n_ids)
{
  const BmsFieldInfo *b_in_place = bms_field_replacement (rule->b);

  if (ids == NULL)
    return TRUE;
  for (guint i = 0; i < n_ids; i++)
    if (rule->a == ids[i] || rule->b == ids[i] || (b_in_place != NULL && b_in_place->id == ids[i]))
      return TRUE;
  return FALSE;
}

gboolean
bms_param_set_check_rules (BmsParamSet *self, const guint8 *ids, guint n_ids, GError **error)
{
  g_return_val_if_fail (BMS_IS_PARAM_SET (self), FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    if (rule_involves (&rules[i], ids, n_ids) && !check_rule (self, &rules[i], error))
      return FALSE;
  return TRUE;
}

gboolean
bms_param_set_check_value (BmsParamSet *self, guint8 id, gint64 raw, GError **error)
{
  const BmsFieldInfo *field = bms_field_lookup (id);
  g_autoptr (BmsParamSet) trial = NULL;

  g_return_val_if_fail (BMS_IS_PARAM_SET (self), FALSE);
  if (field == NULL)
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_UNKNOWN, _ ("No field with id 0x%02X"),
                   id);
      return FALSE;
    }
  if (!bms_param_is_parameter (field))
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_ACCESS,
                   _ ("%s (%s) is not a parameter that can be set"), field->name, _ (field->label));
      return FALSE;
    }
  if (!bms_param_check_range (field, raw, error))
    return FALSE;
  trial = bms_param_set_copy (self);
  bms_param_set_set_raw (trial, id, raw);
  return bms_param_set_check_rules (trial, &id, 1, error);
}

gboolean
bms_param_set_validate (BmsParamSet *self, GError **error)
{
  g_return_val_if_fail (BMS_IS_PARAM_SET (self), FALSE);
  for (guint id = 0; id < 256; id++)
    {
      const BmsFieldInfo *field = bms_field_lookup (id);

      if (!IS_PRESENT (self, id) || field == NULL || !bms_field_is_numeric (field))
        continue;
      if (!bms_param_check_range (field, self->raw[id], error))
        return FALSE;
    }
  return bms_param_set_check_rules (self, NULL, 0, error);
}
