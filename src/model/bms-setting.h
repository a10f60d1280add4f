/* bms-setting.h — one setting of a board as a page shows it: a title, the
 * value formatted with its unit, whether it can be edited, a switch's state.
 *
 * The field id stays inside: a page binds its row to the properties, and
 * hands bms_setting_get_id() and the raw value from bms_setting_raw_for_active()
 * to the write path, without naming a field itself. Updated from a snapshot
 * with bms_setting_list_update(); a property is notified only when its value
 * changes, so an unchanged poll redraws nothing.
 */
#pragma once

#include <gio/gio.h>
#include "bms-field.h"
#include "bms-snapshot.h"

G_BEGIN_DECLS

/* Where the Normal page shows a setting. */
typedef enum
{
  BMS_SETTING_GROUP_BATTERY,
  BMS_SETTING_GROUP_SWITCHES,
  BMS_SETTING_GROUP_SYSTEM,
  BMS_SETTING_GROUP_HIDDEN, /* written by a button, not listed as a row */
} BmsSettingGroup;

GType bms_setting_group_get_type (void) G_GNUC_CONST;
#define BMS_TYPE_SETTING_GROUP (bms_setting_group_get_type ())

#define BMS_TYPE_SETTING (bms_setting_get_type ())
G_DECLARE_FINAL_TYPE (BmsSetting, bms_setting, BMS, SETTING, GObject)

/* name: the catalogue name of the field written; shown: the field whose
 * value is displayed (NULL: the same); bit: a bit of a BITS field shown as
 * a switch, or -1; title: NULL for the catalogue's label. */
BmsSetting *bms_setting_new (const char *name, const char *shown, int bit, const char *title,
                             BmsSettingGroup group);

void bms_setting_update (BmsSetting *self, const BmsSnapshot *snapshot);

guint8 bms_setting_get_id (BmsSetting *self);
const BmsFieldInfo *bms_setting_get_field (BmsSetting *self);
const char *bms_setting_get_name (BmsSetting *self);
const char *bms_setting_get_title (BmsSetting *self);
const char *bms_setting_get_description (BmsSetting *self);
BmsSettingGroup bms_setting_get_group (BmsSetting *self);
int bms_setting_get_bit (BmsSetting *self);
gboolean bms_setting_get_is_switch (BmsSetting *self);
gboolean bms_setting_get_editable (BmsSetting *self);
const char *bms_setting_get_range (BmsSetting *self);
const char *bms_setting_get_value (BmsSetting *self);
const char *bms_setting_get_text (BmsSetting *self);
gboolean bms_setting_get_known (BmsSetting *self);
gboolean bms_setting_get_reported (BmsSetting *self);
gboolean bms_setting_get_applicable (BmsSetting *self);
gboolean bms_setting_get_active (BmsSetting *self);
/* The parameter password: its value reads as dots and its text is NULL,
 * so no view shows it. */
gboolean bms_setting_get_secret (BmsSetting *self);
/* The Bluetooth name: production numbers it per board ("PACK-{n}"). */
gboolean bms_setting_get_numbered (BmsSetting *self);
/* The value in its unit (engineering), NaN when not reported. */
double bms_setting_get_number (BmsSetting *self);

/* The raw value that turns this switch on or off, the other bits of its
 * field kept as the board last reported them. FALSE when the board has not
 * reported the field (nothing to change yet). */
gboolean bms_setting_raw_for_active (BmsSetting *self, gboolean active, gint64 *raw_out);

/* The Normal page's settings, in order: BmsSetting items. */
GListModel *bms_setting_list_new_everyday (void);
/* The Update page's service settings and commands: board address,
 * voltage difference protection, the master's total cells, the current
 * calibration and its start, one-click sleep. */
GListModel *bms_setting_list_new_service (void);
/* The DLoad page's rows, in the vendor's order: level-2 and level-1 cell
 * protections, currents, balance start, capacity, cell count, the
 * parameter password and the Bluetooth name. */
GListModel *bms_setting_list_new_dload (void);
void bms_setting_list_update (GListModel *list, const BmsSnapshot *snapshot);
/* The item writing the catalogue field name, or NULL. Not a new reference. */
BmsSetting *bms_setting_list_find (GListModel *list, const char *name);

/* A value of snapshot as every view shows it, with its unit: a choice by
 * its label, a manufacture date as a month, a version without its padding.
 * NULL when the snapshot lacks the field. */
char *bms_setting_format_value (const BmsSnapshot *snapshot, const BmsFieldInfo *field);
/* A text field's value as shown: the date and version fields formatted,
 * the others as they are. */
char *bms_setting_format_text (const BmsFieldInfo *field, const char *text);
/* The label of a choice (BOOL or ENUM), or NULL for another type. */
char *bms_setting_choice_label (const BmsFieldInfo *field, gint64 raw);
/* "1 Ah … 100000 Ah", "up to 16 characters", "one of the listed choices". */
char *bms_setting_format_range (const BmsFieldInfo *field);

G_END_DECLS
