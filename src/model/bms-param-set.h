/* bms-param-set.h — a set of parameter values (the writable fields of the
 * catalogue) and the rules between them.
 *
 * Validation is the catalogue range of each field, narrowed by the vendor
 * parameter sheet (e.g. over-charge delay 4–10 s), plus the vendor rules
 * between fields (level-2 charge protection above level 1, recovery below
 * protection, peak discharge at most 3 × continuous, …). A broken rule is a
 * BMS_FIELD_ERROR_RULE whose message states the rule with both values.
 */
#pragma once

#include <glib-object.h>
#include "bms-field.h"
#include "bms-snapshot.h"

G_BEGIN_DECLS

/* Values of field 0xAF (battery type), used to pick presets. */
#define BMS_BATTERY_TYPE_LFP 0
#define BMS_BATTERY_TYPE_NMC 1
#define BMS_BATTERY_TYPE_LTO 2

/* A writable, readable numeric or ASCII field: what a parameter set holds.
 * Commands (write-only) and byte blocks are not parameters. */
gboolean bms_param_is_parameter (const BmsFieldInfo *field);
/* A parameter that may be copied from one board to another (profiles,
 * presets): not identity, address, password, calibration or lease fields. */
gboolean bms_param_is_portable (const BmsFieldInfo *field);
/* The allowed raw range: the catalogue range intersected with the vendor
 * sheet's. Returns TRUE when the vendor sheet narrows it. */
gboolean bms_param_get_range (const BmsFieldInfo *field, gint64 *min_out, gint64 *max_out);
/* An ASCII parameter's text: the catalogue's length and characters, and
 * the board's rules (the parameter password 0xB2 is 1 to 10 printable
 * characters: an empty one cannot be typed to unlock the board again). */
gboolean bms_param_check_string (const BmsFieldInfo *field, const char *string, GError **error);
/* Catalogue range, then vendor range; the error says which and why. */
gboolean bms_param_check_range (const BmsFieldInfo *field, gint64 raw, GError **error);
/* bms_field_parse_value, then bms_param_check_range: a value out of range
 * is refused naming the range the user can set (the vendor sheet's where
 * it has one). */
gboolean bms_param_parse_value (const BmsFieldInfo *field, const char *text, gint64 *raw_out,
                                char **string_out, GError **error);

#define BMS_TYPE_PARAM_SET (bms_param_set_get_type ())
G_DECLARE_FINAL_TYPE (BmsParamSet, bms_param_set, BMS, PARAM_SET, GObject)

BmsParamSet *bms_param_set_new (void);
/* Every parameter field the snapshot carries. */
BmsParamSet *bms_param_set_new_from_snapshot (const BmsSnapshot *snapshot);
/* The vendor sheet's column for this battery type (0xAF value) plus the
 * sheet's temperatures; NULL with an error for an unknown type. */
BmsParamSet *bms_param_set_new_preset (guint battery_type, GError **error);
BmsParamSet *bms_param_set_copy (BmsParamSet *self);

gboolean bms_param_set_has (BmsParamSet *self, guint8 id);
gint64 bms_param_set_get_raw (BmsParamSet *self, guint8 id);
/* ASCII fields; NULL when absent. */
const char *bms_param_set_get_string (BmsParamSet *self, guint8 id);
/* Unchecked: the caller validates (see bms_param_set_check_value). */
void bms_param_set_set_raw (BmsParamSet *self, guint8 id, gint64 raw);
void bms_param_set_set_string (BmsParamSet *self, guint8 id, const char *text);
void bms_param_set_remove (BmsParamSet *self, guint8 id);
/* Ids present, ascending; n_out gets the count. */
guint8 *bms_param_set_get_ids (BmsParamSet *self, guint *n_out);
guint bms_param_set_get_size (BmsParamSet *self);
/* "3650 mV", "lfp", "on", the text of an ASCII field; NULL when absent. */
char *bms_param_set_format (BmsParamSet *self, guint8 id);
/* Text a profile stores: the engineering number without unit ("3650",
 * "58.40"), the name of an enum value, "on"/"off", or the ASCII text. */
char *bms_param_set_format_plain (BmsParamSet *self, guint8 id);

/* Would setting id to raw be accepted? Range checks plus every rule that
 * involves id, evaluated on this set with the new value in place. */
gboolean bms_param_set_check_value (BmsParamSet *self, guint8 id, gint64 raw, GError **error);
/* Rules that involve at least one of ids (all rules when ids is NULL). */
gboolean bms_param_set_check_rules (BmsParamSet *self, const guint8 *ids, guint n_ids,
                                    GError **error);
/* Ranges of every value and every rule. */
gboolean bms_param_set_validate (BmsParamSet *self, GError **error);

/* For documentation and the UI: the rules in words ("Charge recovery must
 * be below charge protection (level 1)"), NULL-terminated. */
char **bms_param_set_describe_rules (void);

G_END_DECLS
