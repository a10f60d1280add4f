/* bms-change-set.c — a validated set of parameter changes and its writing. */
#include "config.h"
#include "bms-context.h"

#include <glib/gi18n-lib.h>

#include "bms-change-set.h"
#include "bms-session.h"

struct _BmsChangeSet
{
  GObject parent_instance;
  BmsParamSet *current;
  GPtrArray *changes;  /* BmsChange, ascending id */
  GPtrArray *commands; /* BmsChange, in the order added; not in the list model */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BmsChangeSet, bms_change_set, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static GType
get_item_type (GListModel *model)
{
  return BMS_TYPE_CHANGE;
}

static guint
get_n_items (GListModel *model)
{
  return BMS_CHANGE_SET (model)->changes->len;
}

static gpointer
get_item (GListModel *model, guint position)
{
  BmsChangeSet *self = BMS_CHANGE_SET (model);

  if (position >= self->changes->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->changes, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
bms_change_set_dispose (GObject *object)
{
  BmsChangeSet *self = BMS_CHANGE_SET (object);

  g_clear_object (&self->current);
  G_OBJECT_CLASS (bms_change_set_parent_class)->dispose (object);
}

static void
bms_change_set_finalize (GObject *object)
{
  g_ptr_array_unref (BMS_CHANGE_SET (object)->changes);
  g_ptr_array_unref (BMS_CHANGE_SET (object)->commands);
  G_OBJECT_CLASS (bms_change_set_parent_class)->finalize (object);
}

static void
bms_change_set_class_init (BmsChangeSetClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = bms_change_set_dispose;
  G_OBJECT_CLASS (klass)->finalize = bms_change_set_finalize;
}

static void
bms_change_set_init (BmsChangeSet *self)
{
  self->changes = g_ptr_array_new_with_free_func (g_object_unref);
  self->commands = g_ptr_array_new_with_free_func (g_object_unref);
}

BmsChangeSet *
bms_change_set_new (BmsParamSet *current)
{
  BmsChangeSet *self;

  g_return_val_if_fail (BMS_IS_PARAM_SET (current), NULL);
  self = g_object_new (BMS_TYPE_CHANGE_SET, NULL);
  self->current = g_object_ref (current);
  return self;
}

BmsChangeSet *
bms_change_set_new_from_target (BmsParamSet *current, BmsParamSet *target)
{
  BmsChangeSet *self = bms_change_set_new (current);
  g_autofree guint8 *ids = NULL;
  guint n = 0;

  g_return_val_if_fail (BMS_IS_PARAM_SET (target), self);
  ids = bms_param_set_get_ids (target, &n);
  for (guint i = 0; i < n; i++)
    {
      const BmsFieldInfo *field = bms_field_lookup (ids[i]);
      BmsChange *change;

      if (field == NULL || !bms_param_is_parameter (field))
        continue;
      if (bms_param_set_has (current, ids[i])
          && bms_param_set_get_raw (current, ids[i]) == bms_param_set_get_raw (target, ids[i])
          && g_strcmp0 (bms_param_set_get_string (current, ids[i]),
                        bms_param_set_get_string (target, ids[i]))
                 == 0)
        continue;
      change = bms_change_new (
          ids[i], bms_param_set_has (current, ids[i]), bms_param_set_get_raw (current, ids[i]),
          bms_param_set_get_string (current, ids[i]), bms_param_set_get_raw (target, ids[i]),
          bms_param_set_get_string (target, ids[i]));
      g_ptr_array_add (self->changes, change);
    }
  return self;
}

BmsChangeSet *
bms_change_set_new_preset (BmsParamSet *current, guint battery_type, GError **error)
{
  g_autoptr (BmsParamSet) preset = NULL;

  g_return_val_if_fail (BMS_IS_PARAM_SET (current), NULL);
  preset = bms_param_set_new_preset (battery_type, error);
  if (preset == NULL)
    return NULL;
  return bms_change_set_new_from_target (current, preset);
}

BmsParamSet *
bms_change_set_get_current (BmsChangeSet *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE_SET (self), NULL);
  return self->current;
}

static guint
find_index (BmsChangeSet *self, guint8 id, gboolean *found)
{
  guint i;

  for (i = 0; i < self->changes->len; i++)
    {
      guint8 other = bms_change_get_id (g_ptr_array_index (self->changes, i));
      if (other >= id)
        {
          *found = other == id;
          return i;
        }
    }
  *found = FALSE;
  return i;
}

BmsChange *
bms_change_set_lookup (BmsChangeSet *self, guint8 id)
{
  gboolean found;
  guint i;

  g_return_val_if_fail (BMS_IS_CHANGE_SET (self), NULL);
  i = find_index (self, id, &found);
  return found ? g_ptr_array_index (self->changes, i) : NULL;
}

guint
bms_change_set_get_size (BmsChangeSet *self)
{
  g_return_val_if_fail (BMS_IS_CHANGE_SET (self), 0);
  return self->changes->len;
}

void
bms_change_set_remove (BmsChangeSet *self, guint8 id)
{
  gboolean found;
  guint i;

  g_return_if_fail (BMS_IS_CHANGE_SET (self));
  i = find_index (self, id, &found);
  if (!found)
    return;
  g_ptr_array_remove_index (self->changes, i);
  g_list_model_items_changed (G_LIST_MODEL (self), i, 1, 0);
}

static gboolean
check_one (const BmsFieldInfo *field, gint64 raw, const char *string, GError **error)
{
  if (!bms_param_is_parameter (field))
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_ACCESS,
                   _ ("%s (%s) is not a parameter that can be set"), field->name, _ (field->label));
      return FALSE;
    }
  if (field->type == BMS_FIELD_ASCII)
    return bms_param_check_string (field, string, error);
  return bms_param_check_range (field, raw, error);
}

gboolean
bms_change_set_set_value (BmsChangeSet *self, guint8 id, gint64 raw, const char *string,
                          GError **error)
{
  const BmsFieldInfo *field = bms_field_lookup (id);
  BmsParamSet *cur;
  gboolean found, same;
  guint i;

  g_return_val_if_fail (BMS_IS_CHANGE_SET (self), FALSE);
  if (field == NULL)
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_UNKNOWN, _ ("No field with id 0x%02X"),
                   id);
      return FALSE;
    }
  if (!check_one (field, raw, string, error))
    return FALSE;
  if (field->type != BMS_FIELD_ASCII)
    string = NULL;

  cur = self->current;
  same = bms_param_set_has (cur, id) && bms_param_set_get_raw (cur, id) == raw
         && g_strcmp0 (bms_param_set_get_string (cur, id), string) == 0;
  i = find_index (self, id, &found);
  if (same)
    {
      bms_change_set_remove (self, id);
      return TRUE;
    }
  if (found)
    {
      bms_change_set_new_value (g_ptr_array_index (self->changes, i), raw, string);
      return TRUE;
    }
  g_ptr_array_insert (self->changes, i,
                      bms_change_new (id, bms_param_set_has (cur, id),
                                      bms_param_set_get_raw (cur, id),
                                      bms_param_set_get_string (cur, id), raw, string));
  g_list_model_items_changed (G_LIST_MODEL (self), i, 0, 1);
  return TRUE;
}

gboolean
bms_change_set_set_text (BmsChangeSet *self, const char *name, const char *text, GError **error)
{
  const BmsFieldInfo *field;
  g_autofree char *string = NULL;
  gint64 raw = 0;

  g_return_val_if_fail (BMS_IS_CHANGE_SET (self), FALSE);
  g_return_val_if_fail (name != NULL && text != NULL, FALSE);
  field = bms_field_lookup_name (name);
  if (field == NULL)
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_UNKNOWN, _ ("Unknown parameter “%s”"),
                   name);
      return FALSE;
    }
  if (!bms_field_parse_value (field, text, &raw, &string, error))
    return FALSE;
  return bms_change_set_set_value (self, field->id, raw, string, error);
}

gboolean
bms_change_set_add_command (BmsChangeSet *self, guint8 id, gint64 raw, GError **error)
{
  const BmsFieldInfo *field = bms_field_lookup (id);

  g_return_val_if_fail (BMS_IS_CHANGE_SET (self), FALSE);
  if (field == NULL || field->access != BMS_ACCESS_W || !bms_field_is_numeric (field))
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_ACCESS,
                   _ ("0x%02X is not a command (a write-only field such as restart)"), id);
      return FALSE;
    }
  if (!bms_field_check_range (field, raw, error))
    return FALSE;
  for (guint i = 0; i < self->commands->len; i++)
    if (bms_change_get_id (g_ptr_array_index (self->commands, i)) == id)
      {
        g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RULE, _ ("%s is given twice"),
                     field->name);
        return FALSE;
      }
  g_ptr_array_add (self->commands, bms_change_new (id, FALSE, 0, NULL, raw, NULL));
  return TRUE;
}

static void
apply_change (BmsParamSet *set, BmsChange *change)
{
  guint8 id = bms_change_get_id (change);

  if (bms_field_lookup (id)->type == BMS_FIELD_ASCII)
    bms_param_set_set_string (set, id, bms_change_get_new_string (change));
  else
    bms_param_set_set_raw (set, id, bms_change_get_new_raw (change));
}

BmsParamSet *
bms_change_set_dup_result (BmsChangeSet *self)
{
  BmsParamSet *result;

  g_return_val_if_fail (BMS_IS_CHANGE_SET (self), NULL);
  result = bms_param_set_copy (self->current);
  for (guint i = 0; i < self->changes->len; i++)
    apply_change (result, g_ptr_array_index (self->changes, i));
  return result;
}

gboolean
bms_change_set_validate (BmsChangeSet *self, GError **error)
{
  g_autoptr (BmsParamSet) result = NULL;
  g_autofree guint8 *ids = NULL;

  g_return_val_if_fail (BMS_IS_CHANGE_SET (self), FALSE);
  ids = g_new0 (guint8, self->changes->len + 1);
  for (guint i = 0; i < self->changes->len; i++)
    {
      BmsChange *change = g_ptr_array_index (self->changes, i);
      const BmsFieldInfo *field = bms_field_lookup (bms_change_get_id (change));

      if (!check_one (field, bms_change_get_new_raw (change), bms_change_get_new_string (change),
                      error))
        return FALSE;
      ids[i] = field->id;
    }
  for (guint i = 0; i < self->commands->len; i++)
    {
      BmsChange *command = g_ptr_array_index (self->commands, i);

      if (!bms_field_check_range (bms_field_lookup (bms_change_get_id (command)),
                                  bms_change_get_new_raw (command), error))
        return FALSE;
    }
  result = bms_change_set_dup_result (self);
  return bms_param_set_check_rules (result, ids, self->changes->len, error);
}

GPtrArray *
bms_change_set_get_write_order (BmsChangeSet *self)
{
  g_autoptr (BmsParamSet) state = NULL;
  g_autoptr (GPtrArray) pending = NULL;
  GPtrArray *order;

  g_return_val_if_fail (BMS_IS_CHANGE_SET (self), NULL);
  state = bms_param_set_copy (self->current);
  pending = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->changes->len; i++)
    if (bms_change_get_id (g_ptr_array_index (self->changes, i)) != BMS_ID_PASSWORD)
      g_ptr_array_add (pending, g_object_ref (g_ptr_array_index (self->changes, i)));
  order = g_ptr_array_new_with_free_func (g_object_unref);

  /* Greedy: take the first change the board would accept right now. The
   * password comes after every other parameter (those are written with the
   * old one), commands after everything. */
  while (pending->len > 0)
    {
      guint pick = 0;

      for (guint i = 0; i < pending->len; i++)
        {
          g_autoptr (BmsParamSet) trial = bms_param_set_copy (state);
          BmsChange *change = g_ptr_array_index (pending, i);
          guint8 id = bms_change_get_id (change);

          apply_change (trial, change);
          if (bms_param_set_check_rules (trial, &id, 1, NULL))
            {
              pick = i;
              break;
            }
        }
      apply_change (state, g_ptr_array_index (pending, pick));
      g_ptr_array_add (order, g_object_ref (g_ptr_array_index (pending, pick)));
      g_ptr_array_remove_index (pending, pick);
    }
  if (bms_change_set_lookup (self, BMS_ID_PASSWORD) != NULL)
    g_ptr_array_add (order, g_object_ref (bms_change_set_lookup (self, BMS_ID_PASSWORD)));
  for (guint i = 0; i < self->commands->len; i++)
    g_ptr_array_add (order, g_object_ref (g_ptr_array_index (self->commands, i)));
  return order;
}

char *
bms_change_set_to_text (BmsChangeSet *self)
{
  GString *text = g_string_new (NULL);

  g_return_val_if_fail (BMS_IS_CHANGE_SET (self), NULL);
  for (guint i = 0; i < self->changes->len; i++)
    {
      BmsChange *change = g_ptr_array_index (self->changes, i);
      g_string_append_printf (text, "%s (%s): %s → %s\n", bms_change_get_name (change),
                              bms_change_get_label (change), bms_change_get_old_text (change),
                              bms_change_get_new_text (change));
    }
  for (guint i = 0; i < self->commands->len; i++)
    {
      BmsChange *command = g_ptr_array_index (self->commands, i);
      g_string_append_printf (text, "%s (%s): %s\n", bms_change_get_name (command),
                              bms_change_get_label (command), bms_change_get_new_text (command));
    }
  return g_string_free (text, FALSE);
}

/* ---- writing ---- */

typedef void (*ReportFunc) (BmsChange *change, BmsChangeResult result, const char *message,
                            gpointer data);

static void
report_direct (BmsChange *change, BmsChangeResult result, const char *message, gpointer data)
{
  bms_change_set_result (change, result, message);
}

static void
mark_rest (GPtrArray *order, guint from, const char *message, ReportFunc report, gpointer data)
{
  for (guint i = from; i < order->len; i++)
    report (g_ptr_array_index (order, i), BMS_CHANGE_NOT_SENT, message, data);
}

static void
audit (BmsHistory *history, gint64 device_id, const char *field, const char *old_value,
       const char *new_value, const char *result)
{
  if (history != NULL)
    bms_history_add_audit (history, device_id, g_get_real_time (), field, old_value, new_value,
                           result);
}

static gboolean
write_one (BmsChange *change, BmsSession *session, BmsHistory *history, gint64 device_id,
           GCancellable *cancellable, ReportFunc report, gpointer data, GError **error)
{
  g_autoptr (BmsSnapshot) readback = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *result = NULL;
  gboolean ok;

  ok = bms_session_write (session, bms_change_get_id (change), bms_change_get_new_raw (change),
                          bms_change_get_new_string (change), &readback, cancellable, &local);
  result = ok ? g_strdup ("ok") : g_strdup_printf ("failed: %s", local->message);
  audit (history, device_id, bms_change_get_name (change), bms_change_get_old_text (change),
         bms_change_get_new_text (change), result);
  report (change, ok ? BMS_CHANGE_OK : BMS_CHANGE_FAILED, ok ? NULL : local->message, data);
  if (!ok)
    g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                "%s (%s): ", bms_change_get_name (change),
                                bms_change_get_label (change));
  return ok;
}

/* A new password is proven by unlocking with it before the old one is
 * given up. If the board does not take it, the session goes back to the old
 * one (which the board then still takes: its write did not stick). */
static gboolean
verify_password (BmsChange *change, BmsSession *session, const char *old_password,
                 BmsHistory *history, gint64 device_id, GCancellable *cancellable,
                 ReportFunc report, gpointer data, GError **error)
{
  g_autoptr (GError) local = NULL;
  gboolean old_ok;

  if (bms_session_unlock (session, bms_change_get_new_string (change), cancellable, &local))
    {
      audit (history, device_id, "unlock", NULL, NULL, "ok: with the new password");
      return TRUE;
    }
  old_ok = old_password != NULL && bms_session_unlock (session, old_password, cancellable, NULL);
  audit (history, device_id, "unlock", NULL, NULL,
         old_ok ? "failed with the new password; the old one still unlocks"
                : "failed with the new password and with the old one");
  report (change, BMS_CHANGE_FAILED, local->message, data);
  g_set_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_VERIFY,
               old_ok ? _ ("The board did not unlock with the new password (%s); it still "
                           "takes the old one")
                      : _ ("The board did not unlock with the new password (%s), nor with the "
                           "old one: try both by hand before anything else"),
               local->message);
  return FALSE;
}

/* Stopped after order[0..failed): if the board's values now break a vendor
 * rule (possible when no order kept every step within them, or when the
 * board refused a step), the fields already written are put back, last
 * first, so the board ends as it began. */
static void
restore_if_broken (BmsChangeSet *self, GPtrArray *order, guint failed, BmsSession *session,
                   BmsHistory *history, gint64 device_id, GCancellable *cancellable,
                   ReportFunc report, gpointer data)
{
  g_autoptr (BmsParamSet) state = bms_param_set_copy (self->current);
  g_autoptr (GError) broken = NULL;

  for (guint i = 0; i < failed; i++)
    if (bms_param_is_parameter (bms_field_lookup (bms_change_get_id (g_ptr_array_index (order, i)))))
      apply_change (state, g_ptr_array_index (order, i));
  if (bms_param_set_check_rules (state, NULL, 0, &broken))
    return;
  for (guint i = failed; i-- > 0;)
    {
      BmsChange *change = g_ptr_array_index (order, i);
      guint8 id = bms_change_get_id (change);
      g_autoptr (GError) local = NULL;
      g_autofree char *why = NULL;
      gboolean ok;

      if (id == BMS_ID_PASSWORD || !bms_change_get_has_old (change)
          || !bms_param_is_parameter (bms_field_lookup (id)))
        continue;
      ok = bms_session_write (session, id, bms_change_get_old_raw (change),
                              bms_param_set_get_string (self->current, id), NULL, cancellable,
                              &local);
      why = ok ? g_strdup_printf (_ ("written, then put back to %s: stopping here would have "
                                     "left the rule broken: %s"),
                                  bms_change_get_old_text (change), broken->message)
               : g_strdup_printf (_ ("written; putting back %s failed: %s"),
                                  bms_change_get_old_text (change), local->message);
      audit (history, device_id, bms_change_get_name (change), bms_change_get_new_text (change),
             bms_change_get_old_text (change), ok ? "restored" : why);
      report (change, ok ? BMS_CHANGE_RESTORED : BMS_CHANGE_OK, why, data);
    }
}

/* An apply under way: validated and unlocked in its first step, then one
 * write (with its read-back) a step, so that on the session's queue the
 * poller's reads still go in between the writes. */
typedef struct
{
  BmsChangeSet *set;
  BmsSession *session;
  char *password;
  BmsHistory *history;
  gint64 device_id;
  GMainContext *context;       /* where results are set; NULL: the applying thread */
  GPtrArray *order;            /* NULL before the first step */
  guint next;
} Apply;

static Apply *
apply_new (BmsChangeSet *set, BmsSession *session, const char *password, BmsHistory *history,
           gint64 device_id, GMainContext *context)
{
  Apply *a = g_new0 (Apply, 1);

  a->set = g_object_ref (set);
  a->session = g_object_ref (session);
  a->password = g_strdup (password);
  a->history = history ? g_object_ref (history) : NULL;
  a->device_id = device_id;
  a->context = context ? g_main_context_ref (context) : NULL;
  return a;
}

static void
apply_free (Apply *a)
{
  g_clear_object (&a->set);
  g_clear_object (&a->session);
  g_clear_object (&a->history);
  g_free (a->password);
  g_clear_pointer (&a->context, g_main_context_unref);
  g_clear_pointer (&a->order, g_ptr_array_unref);
  g_free (a);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Apply, apply_free)

typedef struct
{
  BmsChange *change;
  BmsChangeResult result;
  char *message;
} Report;

static gboolean
report_on_owner (gpointer data)
{
  Report *r = data;

  bms_change_set_result (r->change, r->result, r->message);
  return G_SOURCE_REMOVE;
}

static void
report_free (gpointer data)
{
  Report *r = data;

  g_object_unref (r->change);
  g_free (r->message);
  g_free (r);
}

static void
report_invoke (BmsChange *change, BmsChangeResult result, const char *message, gpointer data)
{
  Apply *a = data;
  Report *r = g_new0 (Report, 1);

  r->change = g_object_ref (change);
  r->result = result;
  r->message = g_strdup (message);
  bms_context_post (a->context, report_on_owner, r, report_free);
}

static ReportFunc
apply_report (Apply *a)
{
  return a->context != NULL ? report_invoke : report_direct;
}

static BmsSessionJobResult
apply_start (Apply *a, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *result = NULL;

  if (!bms_change_set_validate (a->set, error))
    return BMS_SESSION_JOB_FAILED;
  a->order = bms_change_set_get_write_order (a->set);
  if (a->order->len == 0)
    return BMS_SESSION_JOB_DONE;
  /* NULL: the session was unlocked just before (the password dialog);
   * the session's gate refuses the writes if it is not. */
  if (a->password == NULL)
    return BMS_SESSION_JOB_AGAIN;
  if (bms_session_unlock (a->session, a->password, cancellable, &local))
    {
      audit (a->history, a->device_id, "unlock", NULL, NULL, "ok");
      return BMS_SESSION_JOB_AGAIN;
    }
  result = g_strdup_printf ("failed: %s", local->message);
  audit (a->history, a->device_id, "unlock", NULL, NULL, result);
  mark_rest (a->order, 0, local->message, apply_report (a), a);
  g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s", _ ("Unlocking failed: "));
  return BMS_SESSION_JOB_FAILED;
}

static BmsSessionJobResult
apply_next (Apply *a, GCancellable *cancellable, GError **error)
{
  BmsChange *change = g_ptr_array_index (a->order, a->next);
  ReportFunc report = apply_report (a);
  g_autofree char *why = NULL;
  gboolean ok;

  ok = write_one (change, a->session, a->history, a->device_id, cancellable, report, a, error);
  if (ok && bms_change_get_id (change) == BMS_ID_PASSWORD)
    ok = verify_password (change, a->session, a->password, a->history, a->device_id, cancellable,
                          report, a, error);
  if (ok)
    return ++a->next < a->order->len ? BMS_SESSION_JOB_AGAIN : BMS_SESSION_JOB_DONE;
  why = g_strdup_printf (_ ("not sent: writing %s failed before it"), bms_change_get_name (change));
  mark_rest (a->order, a->next + 1, why, report, a);
  restore_if_broken (a->set, a->order, a->next, a->session, a->history, a->device_id, cancellable,
                     report, a);
  return BMS_SESSION_JOB_FAILED;
}

/* One step of an apply; on the session's worker for apply_async, in a loop
 * on the caller's thread for the blocking calls. */
static BmsSessionJobResult
apply_step (BmsSession *session, gpointer data, GCancellable *cancellable, GError **error)
{
  Apply *a = data;

  if (a->order == NULL)
    return apply_start (a, cancellable, error);
  return apply_next (a, cancellable, error);
}

gboolean
bms_change_set_apply (BmsChangeSet *self, BmsSession *session, const char *password,
                      BmsHistory *history, gint64 device_id, GCancellable *cancellable,
                      GError **error)
{
  return bms_change_set_apply_full (self, session, password, history, device_id, NULL, cancellable,
                                    error);
}

gboolean
bms_change_set_apply_full (BmsChangeSet *self, BmsSession *session, const char *password,
                           BmsHistory *history, gint64 device_id, GMainContext *results_context,
                           GCancellable *cancellable, GError **error)
{
  g_autoptr (Apply) a = NULL;
  BmsSessionJobResult result;

  g_return_val_if_fail (BMS_IS_CHANGE_SET (self), FALSE);
  g_return_val_if_fail (BMS_IS_SESSION (session), FALSE);

  a = apply_new (self, session, password, history, device_id, results_context);
  do
    result = apply_step (session, a, cancellable, error);
  while (result == BMS_SESSION_JOB_AGAIN);
  return result == BMS_SESSION_JOB_DONE;
}

/* A job of the session's own queue: no thread waits for the worker. */
void
bms_change_set_apply_async (BmsChangeSet *self, BmsSession *session, const char *password,
                            BmsHistory *history, gint64 device_id, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GMainContext) context = g_main_context_ref_thread_default ();
  Apply *a;

  g_return_if_fail (BMS_IS_CHANGE_SET (self));
  g_return_if_fail (BMS_IS_SESSION (session));

  a = apply_new (self, session, password, history, device_id, context);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_change_set_apply_async);
  g_task_set_task_data (task, a, (GDestroyNotify)apply_free);
  bms_session_run_task (session, task, apply_step, a);
}

gboolean
bms_change_set_apply_finish (BmsChangeSet *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
