/* bms-change-set.h — old → new for each field, judged as a whole, written
 * field by field with read-back.
 *
 * Nothing is sent before the whole combination (the board's current values
 * with every change in place) passes the catalogue ranges, the vendor ranges
 * and the vendor rules. Writing unlocks the session with the password, then
 * writes each field in an order that keeps every intermediate state within
 * the rules, reads it back, and stops at the first failure (the rest are
 * marked "not sent"); if the fields already written would then leave a
 * vendor rule broken, they are put back ("restored"). A new password is
 * proven by unlocking with it. Every attempt is added to the history's
 * audit log.
 */
#pragma once

#include <gio/gio.h>
#include "bms-change.h"
#include "bms-param-set.h"
#include "bms-history.h"

G_BEGIN_DECLS

/* The apply functions take the session; src/ui goes through
 * bms_connection_apply_async and never sees it. */
typedef struct _BmsSession BmsSession;

#define BMS_TYPE_CHANGE_SET (bms_change_set_get_type ())
G_DECLARE_FINAL_TYPE (BmsChangeSet, bms_change_set, BMS, CHANGE_SET, GObject)

/* current: the values read from the board (a reference is kept; do not
 * change it meanwhile). Items: BmsChange, ascending field id. */
BmsChangeSet *bms_change_set_new (BmsParamSet *current);
/* Every field of target that differs from current. */
BmsChangeSet *bms_change_set_new_from_target (BmsParamSet *current, BmsParamSet *target);
/* The vendor sheet's column for a chemistry (0xAF value), as a proposal. */
BmsChangeSet *bms_change_set_new_preset (BmsParamSet *current, guint battery_type, GError **error);

BmsParamSet *bms_change_set_get_current (BmsChangeSet *self);
/* Adds or replaces the change of one field after checking that it is a
 * parameter and within its ranges (rules are judged by validate). A value
 * equal to the current one removes the change. string for ASCII fields. */
gboolean bms_change_set_set_value (BmsChangeSet *self, guint8 id, gint64 raw, const char *string,
                                   GError **error);
/* Same from user text: name is a catalogue name, text as the CLI takes it. */
gboolean bms_change_set_set_text (BmsChangeSet *self, const char *name, const char *text,
                                  GError **error);
/* A command (write-only field: restart, factory reset, …) sent after every
 * parameter, in the order added; not a list model item. */
gboolean bms_change_set_add_command (BmsChangeSet *self, guint8 id, gint64 raw, GError **error);
void bms_change_set_remove (BmsChangeSet *self, guint8 id);
BmsChange *bms_change_set_lookup (BmsChangeSet *self, guint8 id);
guint bms_change_set_get_size (BmsChangeSet *self);
/* The current values with every change in place (new). */
BmsParamSet *bms_change_set_dup_result (BmsChangeSet *self);
/* Ranges of every changed field, then every rule that involves one, on the
 * combination after the change. */
gboolean bms_change_set_validate (BmsChangeSet *self, GError **error);
/* The write order: every prefix keeps the rules (falls back to id order
 * where no such order exists), then a new password, then the commands.
 * Array of BmsChange (new, refs). */
GPtrArray *bms_change_set_get_write_order (BmsChangeSet *self);
/* "cell_ovp_mv (Charge protection (level 1)): 3650 mV → 3600 mV", one line
 * per field; for dry runs and confirmations. */
char *bms_change_set_to_text (BmsChangeSet *self);

/* Blocking (not on the GTK main thread): validate, unlock, write each field
 * with read-back. password NULL: the session is unlocked already (the
 * session's gate refuses the writes otherwise). history may be NULL. FALSE with the first failure; each
 * BmsChange has its result. The results are set from the calling thread. */
gboolean bms_change_set_apply (BmsChangeSet *self, BmsSession *session, const char *password,
                               BmsHistory *history, gint64 device_id, GCancellable *cancellable,
                               GError **error);
/* The same, with the BmsChange results set on results_context (NULL: on the
 * calling thread). For a caller that is already on a worker, e.g. a
 * function run by bms_poller_run_async. */
gboolean bms_change_set_apply_full (BmsChangeSet *self, BmsSession *session, const char *password,
                                    BmsHistory *history, gint64 device_id,
                                    GMainContext *results_context, GCancellable *cancellable,
                                    GError **error);
/* The same on a worker; results reach the BmsChange objects on the thread
 * that called this (its thread-default main context). */
void bms_change_set_apply_async (BmsChangeSet *self, BmsSession *session, const char *password,
                                 BmsHistory *history, gint64 device_id, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean bms_change_set_apply_finish (BmsChangeSet *self, GAsyncResult *result, GError **error);

G_END_DECLS
