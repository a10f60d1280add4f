/* bms-history-board.c — the board's identity and settings over time
 *
 * A service report written from the history alone (the board is far away)
 * needs what the samples do not carry: firmware, hardware, manufacturer,
 * chemistry, capacity, address, the module layout and every setting. They
 * change rarely, so they are stored as a row set per change, not per
 * sample: the caller's side compares each record with the one it queued
 * last for the device (nothing is queued when equal), the writer compares
 * it with the latest set in the file (nothing is written when equal, so a
 * reconnect after a restart adds nothing either).
 */
#include "config.h"
#include "bms-context.h"

#include <string.h>

#include "bms-field.h"
#include "bms-history-private.h"

typedef struct {
  const char *name;     /* the catalogue's, static */
  int         type;     /* SQLITE_INTEGER, SQLITE_TEXT or SQLITE_BLOB */
  gint64      raw;
  GBytes     *bytes;    /* TEXT (without NUL) and BLOB */
} BoardValue;

static void
board_value_free (BoardValue *v)
{
  g_clear_pointer (&v->bytes, g_bytes_unref);
  g_free (v);
}

/* Identity and every setting the board lets us read and write; not the
 * password (the key to every write stays out of the file), not commands,
 * not the variable-length telemetry blocks. The module layout is read-only
 * on some boards but is part of the identity the report needs. */
static gboolean
is_board_field (const BmsFieldInfo *f)
{
  if (f->id == BMS_ID_PASSWORD || f->group == BMS_GROUP_COMMAND || f->size == 0)
    return FALSE;
  return f->group == BMS_GROUP_IDENTITY || f->access == BMS_ACCESS_RW ||
         f->id == BMS_ID_MODULE_COUNT || f->id == BMS_ID_MODULE_CELLS;
}

static int
compare_by_name (gconstpointer a, gconstpointer b)
{
  const BoardValue *x = *(BoardValue **) a, *y = *(BoardValue **) b;

  return strcmp (x->name, y->name);
}

/* The record's values in name order (the order of the table's key), and
 * a digest to compare records with. */
static GPtrArray *
board_values_from_snapshot (const BmsSnapshot *snapshot)
{
  GPtrArray *values = g_ptr_array_new_with_free_func ((GDestroyNotify) board_value_free);
  guint n_fields = 0;
  const BmsFieldInfo *fields = bms_field_all (&n_fields);

  for (guint i = 0; i < n_fields; i++)
    {
      const BmsFieldInfo *f = &fields[i];
      BoardValue *v;

      if (!is_board_field (f) || !bms_snapshot_has (snapshot, f->id))
        continue;
      v = g_new0 (BoardValue, 1);
      v->name = f->name;
      if (f->type == BMS_FIELD_ASCII)
        {
          char *text = bms_snapshot_dup_string (snapshot, f->id);
          v->type = SQLITE_TEXT;
          v->bytes = g_bytes_new_take (text, text ? strlen (text) : 0);
        }
      else if (f->type == BMS_FIELD_BYTES)
        {
          const guint8 *bytes = bms_snapshot_get_bytes (snapshot, f->id);
          v->type = SQLITE_BLOB;
          v->bytes = g_bytes_new (bytes, bytes ? f->size : 0);
        }
      else
        {
          v->type = SQLITE_INTEGER;
          v->raw = bms_snapshot_get_raw (snapshot, f->id);
        }
      g_ptr_array_add (values, v);
    }
  g_ptr_array_sort (values, compare_by_name);
  return values;
}

static void
digest_add (GString *digest, const char *name, int type, gint64 raw, const void *data, gsize len)
{
  g_string_append (digest, name);
  if (type == SQLITE_INTEGER)
    g_string_append_printf (digest, "=%" G_GINT64_FORMAT, raw);
  else
    {
      g_string_append_printf (digest, "%c", type == SQLITE_TEXT ? '"' : '#');
      for (gsize i = 0; i < len; i++)
        g_string_append_printf (digest, "%02x", ((const guint8 *) data)[i]);
    }
  g_string_append_c (digest, '\n');
}

static char *
board_values_digest (GPtrArray *values)
{
  GString *digest = g_string_new (NULL);

  for (guint i = 0; i < values->len; i++)
    {
      BoardValue *v = g_ptr_array_index (values, i);
      gsize len = 0;
      gconstpointer data = v->bytes ? g_bytes_get_data (v->bytes, &len) : NULL;

      digest_add (digest, v->name, v->type, v->raw, data, len);
    }
  return g_string_free (digest, FALSE);
}

gboolean
bms_history_record_board (BmsHistory *self, gint64 device_id, gint64 time_us,
                          const BmsSnapshot *snapshot)
{
  g_autoptr (GPtrArray) values = NULL;
  g_autofree char *digest = NULL;
  gboolean same;
  Job *job;

  g_return_val_if_fail (BMS_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (device_id > 0 && snapshot != NULL, FALSE);
  if (self->read_only)
    return FALSE;
  values = board_values_from_snapshot (snapshot);
  if (values->len == 0)
    return FALSE;
  digest = board_values_digest (values);
  g_mutex_lock (&self->state_lock);
  same = g_strcmp0 (g_hash_table_lookup (self->board_queued, &device_id), digest) == 0;
  if (!same)
    g_hash_table_insert (self->board_queued, g_memdup2 (&device_id, sizeof device_id),
                         g_strdup (digest));
  g_mutex_unlock (&self->state_lock);
  if (same)
    return FALSE;
  job = g_new0 (Job, 1);
  job->type = JOB_BOARD;
  job->device_id = device_id;
  job->t_ms = time_us / 1000;
  job->rows = g_steal_pointer (&values);
  job->s1 = g_steal_pointer (&digest);
  return queue_push (self, job);
}

/* The set of job was lost with its transaction (disk full): the next
 * snapshot of the device queues it again, unless a newer one is queued. */
void
board_forget_queued (BmsHistory *self, Job *job)
{
  g_mutex_lock (&self->state_lock);
  if (g_strcmp0 (g_hash_table_lookup (self->board_queued, &job->device_id), job->s1) == 0)
    g_hash_table_remove (self->board_queued, &job->device_id);
  g_mutex_unlock (&self->state_lock);
}

/* The latest set of device_id at or before at_ms (G_MAXINT64 / 2: the
 * latest of all): its time in *t_ms (0 when there is none). */
static gboolean
latest_set_time (sqlite3 *db, gint64 device_id, gint64 at_ms, gint64 *t_ms, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (db, "SELECT max(t_ms) FROM board_settings"
                                         " WHERE device_id = ?1 AND t_ms <= ?2", error);
  int rc;

  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, device_id);
  sqlite3_bind_int64 (st, 2, at_ms);
  if ((rc = sqlite3_step (st)) != SQLITE_ROW)
    return set_sql_error (error, db, rc, "Cannot read the board's settings");
  *t_ms = sqlite3_column_type (st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64 (st, 0);
  return TRUE;
}

/* Calls func for every value of the set at t_ms, in name order. */
typedef void (*ValueFunc) (sqlite3_stmt *st, gpointer user_data);

static gboolean
foreach_value (sqlite3 *db, gint64 device_id, gint64 t_ms, ValueFunc func, gpointer user_data,
               GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (db, "SELECT name, value FROM board_settings"
                                         " WHERE device_id = ?1 AND t_ms = ?2 ORDER BY name",
                                         error);
  int rc;

  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, device_id);
  sqlite3_bind_int64 (st, 2, t_ms);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    func (st, user_data);
  return rc == SQLITE_DONE || set_sql_error (error, db, rc, "Cannot read the board's settings");
}

static void
digest_row (sqlite3_stmt *st, gpointer user_data)
{
  int type = sqlite3_column_type (st, 1);
  const void *data = type == SQLITE_INTEGER ? NULL : sqlite3_column_blob (st, 1);

  digest_add (user_data, (const char *) sqlite3_column_text (st, 0), type,
              sqlite3_column_int64 (st, 1), data, data ? sqlite3_column_bytes (st, 1) : 0);
}

gboolean
writer_store_board (BmsHistory *self, Job *job, GError **error)
{
  g_autoptr (sqlite3_stmt) ins = NULL;
  g_autoptr (GString) stored = g_string_new (NULL);
  gint64 last = 0, t_ms = job->t_ms;

  if (!latest_set_time (self->wdb, job->device_id, G_MAXINT64 / 2, &last, error))
    return FALSE;
  if (last != 0 &&
      !foreach_value (self->wdb, job->device_id, last, digest_row, stored, error))
    return FALSE;
  if (last != 0 && strcmp (stored->str, job->s1) == 0)
    return TRUE;
  /* A set is told apart by its time: a second change within the same
   * millisecond (or a clock set back) comes right after the last. */
  if (last != 0 && t_ms <= last)
    t_ms = last + 1;
  if (!(ins = prepare (self->wdb, "INSERT INTO board_settings (device_id, t_ms, name, value)"
                       " VALUES (?1, ?2, ?3, ?4)", error)))
    return FALSE;
  for (guint i = 0; i < job->rows->len; i++)
    {
      BoardValue *v = g_ptr_array_index (job->rows, i);
      gsize len = 0;
      gconstpointer data = v->bytes ? g_bytes_get_data (v->bytes, &len) : NULL;
      int rc;

      sqlite3_reset (ins);
      sqlite3_bind_int64 (ins, 1, job->device_id);
      sqlite3_bind_int64 (ins, 2, t_ms);
      sqlite3_bind_text (ins, 3, v->name, -1, SQLITE_STATIC);
      if (v->type == SQLITE_INTEGER)
        sqlite3_bind_int64 (ins, 4, v->raw);
      else if (v->type == SQLITE_TEXT)
        sqlite3_bind_text (ins, 4, data ? data : "", (int) len, SQLITE_TRANSIENT);
      else
        sqlite3_bind_blob (ins, 4, data ? data : "", (int) len, SQLITE_TRANSIENT);
      if ((rc = sqlite3_step (ins)) != SQLITE_DONE)
        return set_sql_error (error, self->wdb, rc, "Cannot store the board's settings");
    }
  return TRUE;
}

static void
snapshot_row (sqlite3_stmt *st, gpointer user_data)
{
  BmsSnapshot *snapshot = user_data;
  const BmsFieldInfo *f = bms_field_lookup_name ((const char *) sqlite3_column_text (st, 0));

  /* A name this version does not know (a newer catalogue) is skipped. */
  if (f == NULL || !is_board_field (f))
    return;
  switch (sqlite3_column_type (st, 1))
    {
    case SQLITE_INTEGER:
      bms_snapshot_set_raw (snapshot, f->id, sqlite3_column_int64 (st, 1));
      break;
    case SQLITE_TEXT:
    case SQLITE_BLOB:
      if (f->type == BMS_FIELD_ASCII || f->type == BMS_FIELD_BYTES)
        bms_snapshot_set_bytes (snapshot, f->id, sqlite3_column_blob (st, 1),
                                sqlite3_column_bytes (st, 1));
      break;
    default:
      break;
    }
}

BmsSnapshot *
bms_history_get_board (BmsHistory *self, gint64 device_id, gint64 at_us, gint64 *recorded_us,
                       GError **error)
{
  g_autoptr (BmsSnapshot) snapshot = NULL;
  gint64 t_ms = 0;
  gboolean ok;
  sqlite3 *db;

  g_return_val_if_fail (BMS_IS_HISTORY (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (recorded_us)
    *recorded_us = 0;
  if (self->no_board_table)
    return NULL;
  if (!(db = reader_lock (self, error)))
    return NULL;
  ok = latest_set_time (db, device_id, to_ms_to (at_us), &t_ms, error);
  if (ok && t_ms != 0)
    {
      snapshot = bms_snapshot_new ();
      ok = foreach_value (db, device_id, t_ms, snapshot_row, snapshot, error);
    }
  reader_unlock (self);
  if (!ok)
    return NULL;
  if (snapshot != NULL && recorded_us)
    *recorded_us = t_ms * 1000;
  return g_steal_pointer (&snapshot);
}
