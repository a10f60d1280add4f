/* bms-change.h — one field of a change set: old → new, and what happened
 * when it was written. Rows of the Param page's confirmation and of the DLoad
 * table (Parameter / Actual / Set / Result).
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  BMS_CHANGE_PENDING,  /* not written yet */
  BMS_CHANGE_OK,       /* written and read back equal */
  BMS_CHANGE_FAILED,   /* refused by the board, read back different, or no reply */
  BMS_CHANGE_NOT_SENT, /* an earlier field failed: stopped before this one */
  BMS_CHANGE_RESTORED, /* written, then put back: stopping after a refusal would have
                        * left a vendor rule broken */
} BmsChangeResult;

GType bms_change_result_get_type (void) G_GNUC_CONST;
#define BMS_TYPE_CHANGE_RESULT (bms_change_result_get_type ())
const char *bms_change_result_to_string (BmsChangeResult result); /* "ok", "failed", … */

#define BMS_TYPE_CHANGE (bms_change_get_type ())
G_DECLARE_FINAL_TYPE (BmsChange, bms_change, BMS, CHANGE, GObject)

/* old_text NULL: the board did not report the field. new_raw for numeric
 * fields, new_string for ASCII ones. */
BmsChange *bms_change_new (guint8 id, gboolean has_old, gint64 old_raw, const char *old_string,
                           gint64 new_raw, const char *new_string);

guint8 bms_change_get_id (BmsChange *self);
const char *bms_change_get_name (BmsChange *self);  /* catalogue name */
const char *bms_change_get_label (BmsChange *self); /* translated label */
gboolean bms_change_get_has_old (BmsChange *self);
gint64 bms_change_get_old_raw (BmsChange *self);
gint64 bms_change_get_new_raw (BmsChange *self);
const char *bms_change_get_new_string (BmsChange *self); /* ASCII fields */
/* "3650 mV", "lfp", the text; old is "?" when unknown. */
const char *bms_change_get_old_text (BmsChange *self);
const char *bms_change_get_new_text (BmsChange *self);
BmsChangeResult bms_change_get_result (BmsChange *self);
const char *bms_change_get_message (BmsChange *self);

void bms_change_set_new_value (BmsChange *self, gint64 raw, const char *string);
void bms_change_set_result (BmsChange *self, BmsChangeResult result, const char *message);

G_END_DECLS
