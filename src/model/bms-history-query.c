/* bms-history-query.c — reads: devices, samples, range and cell queries */
#include "config.h"
#include "bms-context.h"

#include <math.h>

#include "bms-history-private.h"

/* ---------------------------------------------------------------- reads */

sqlite3 *
reader_lock (BmsHistory *self, GError **error)
{
  g_mutex_lock (&self->reader_lock);
  if (!self->reader)
    {
      g_mutex_unlock (&self->reader_lock);
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLOSED,
                   "The history database is closed");
      return NULL;
    }
  return self->reader;
}

void
reader_unlock (BmsHistory *self)
{
  g_mutex_unlock (&self->reader_lock);
}

/* For reads on a connection of their own (long scans). */
sqlite3 *
open_private_reader (BmsHistory *self, GError **error)
{
  gboolean closed;

  g_mutex_lock (&self->state_lock);
  closed = self->closed;
  g_mutex_unlock (&self->state_lock);
  if (closed)
    {
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLOSED,
                   "The history database is closed");
      return NULL;
    }
  if (self->reader_uri)
    return open_db (self->reader_uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, error);
  return open_db (self->path, SQLITE_OPEN_READONLY, error);
}

void
bms_history_device_free (BmsHistoryDevice *device)
{
  if (!device)
    return;
  g_free (device->key);
  g_free (device->name);
  g_free (device);
}

GPtrArray *
bms_history_list_devices (BmsHistory *self, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_history_device_free);
  g_autoptr (sqlite3_stmt) st = NULL;
  gboolean ok;
  sqlite3 *db;
  int rc = SQLITE_DONE;

  g_return_val_if_fail (BMS_IS_HISTORY (self), NULL);
  if (!(db = reader_lock (self, error)))
    return NULL;
  st = prepare (db, "SELECT id, key, name, (SELECT min(t_ms) FROM samples WHERE device_id = d.id),"
                " (SELECT max(t_ms) FROM samples WHERE device_id = d.id),"
                " (SELECT coalesce(sum(n), 0) FROM rollup_hour WHERE device_id = d.id)"
                " FROM devices d ORDER BY id",
                error);
  while (st && (rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      BmsHistoryDevice *d = g_new0 (BmsHistoryDevice, 1);
      d->id = sqlite3_column_int64 (st, 0);
      d->key = g_strdup ((const char *) sqlite3_column_text (st, 1));
      d->name = g_strdup ((const char *) sqlite3_column_text (st, 2));
      d->first_us = sqlite3_column_int64 (st, 3) * 1000;
      d->last_us = sqlite3_column_int64 (st, 4) * 1000;
      d->n_samples = sqlite3_column_int64 (st, 5);
      g_ptr_array_add (out, d);
    }
  ok = st && (rc == SQLITE_DONE || set_sql_error (error, db, rc, "Cannot list the devices"));
  g_clear_pointer (&st, sqlite3_finalize);
  reader_unlock (self);
  return ok ? g_steal_pointer (&out) : NULL;
}

static BmsHistoryRange *range_query (sqlite3 *db, gboolean schema2, gint64 device_id,
                                     gint64 from_ms, gint64 to_ms, guint max_points,
                                     gboolean with_cells, GError **error);

/* Counting rows would read every sample of the range (a month of 256 cells
 * is 850 MB); one bucket of the rollup cover reads a few hundred rows. */
static gint64
count_device (BmsHistory *self, sqlite3 *db, gint64 device_id, gint64 from_ms, gint64 to_ms,
              GError **error)
{
  g_autoptr (BmsHistoryRange) r = range_query (db, self->schema2_levels, device_id, from_ms,
                                               to_ms, 1, FALSE, error);

  if (!r)
    return -1;
  return r->n_points ? r->count[0] : 0;
}

gint64
bms_history_count_samples (BmsHistory *self, gint64 device_id, gint64 from_us, gint64 to_us,
                           GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  gint64 n = 0;
  sqlite3 *db;
  int rc;

  g_return_val_if_fail (BMS_IS_HISTORY (self), -1);
  if (!(db = reader_lock (self, error)))
    return -1;
  if (device_id > 0)
    n = count_device (self, db, device_id, to_ms_from (from_us), to_ms_to (to_us), error);
  else if ((st = prepare (db, "SELECT id FROM devices", error)))
    {
      while (n >= 0 && (rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          gint64 c = count_device (self, db, sqlite3_column_int64 (st, 0),
                                   to_ms_from (from_us), to_ms_to (to_us), error);
          n = c < 0 ? -1 : n + c;
        }
      if (n >= 0 && rc != SQLITE_DONE)
        n = set_sql_error (error, db, rc, "Cannot list the devices") - 1;
    }
  else
    n = -1;
  g_clear_pointer (&st, sqlite3_finalize);
  reader_unlock (self);
  return n;
}

gint
bms_history_get_max_cells (BmsHistory *self, gint64 device_id, gint64 from_us, gint64 to_us,
                           GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  gint n = 0;
  sqlite3 *db;
  int rc = SQLITE_DONE;

  g_return_val_if_fail (BMS_IS_HISTORY (self), -1);
  if (!(db = reader_lock (self, error)))
    return -1;
  st = prepare (db, "SELECT cells FROM rollup_hour_cells WHERE (?1 = 0 OR device_id = ?1)"
                " AND t_ms BETWEEN ?2 AND ?3", error);
  if (st)
    {
      sqlite3_bind_int64 (st, 1, device_id);
      sqlite3_bind_int64 (st, 2, floor_to (to_ms_from (from_us), HOUR_MS));
      sqlite3_bind_int64 (st, 3, to_ms_to (to_us));
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          const guint8 *p = sqlite3_column_blob (st, 0);
          guint64 nc = 0;
          if (get_varint (&p, p + sqlite3_column_bytes (st, 0), &nc))
            n = MAX (n, (gint) MIN (nc, BMS_MAX_CELLS));
        }
      if (rc != SQLITE_DONE)
        n = set_sql_error (error, db, rc, "Cannot read the rollups") - 1;
    }
  else
    n = -1;
  g_clear_pointer (&st, sqlite3_finalize);
  reader_unlock (self);
  return n;
}

static void
sample_from_row (BmsHistorySample *s, const Row *row)
{
  s->device_id = row->device_id;
  s->time_us = row->t_ms * 1000;
  for (guint i = 0; i < BMS_SERIES_COUNT; i++)
    s->values[i] = row->has[i] ? row->v[i] * series_info[i].scale : NAN;
  s->cell_min_index = row->min_idx;
  s->cell_max_index = row->max_idx;
  s->status = (guint32) row->status;
  s->warnings = (guint32) row->warnings;
  s->alarms_ext = (guint32) row->alarms_ext;
  s->n_cells = row->n_cells;
  memcpy (s->cells_mv, row->cells, row->n_cells * sizeof (guint16));
}

gboolean
bms_history_foreach_sample (BmsHistory *self, gint64 device_id, gint64 from_us, gint64 to_us,
                            BmsHistorySampleFunc func, gpointer user_data,
                            GCancellable *cancellable, GError **error)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  g_autofree Row *row = g_new0 (Row, 1);
  g_autofree BmsHistorySample *sample = g_new0 (BmsHistorySample, 1);
  gboolean ok = TRUE;
  guint n = 0;
  int rc;

  g_return_val_if_fail (BMS_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  if (!(db = open_private_reader (self, error)))
    return FALSE;
  st = prepare (db, device_id > 0
                ? "SELECT " SAMPLE_COLUMNS " FROM samples WHERE device_id = ?1"
                  " AND t_ms BETWEEN ?2 AND ?3 ORDER BY device_id, t_ms"
                : "SELECT " SAMPLE_COLUMNS " FROM samples WHERE t_ms BETWEEN ?2 AND ?3"
                  " ORDER BY device_id, t_ms", error);
  if (!st)
    {
      sqlite3_close (db);
      return FALSE;
    }
  sqlite3_bind_int64 (st, 1, device_id);
  sqlite3_bind_int64 (st, 2, to_ms_from (from_us));
  sqlite3_bind_int64 (st, 3, to_ms_to (to_us));
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      if ((++n & 1023) == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }
      row_read (row, st);
      sample_from_row (sample, row);
      if (!func (sample, user_data))
        break;
    }
  if (ok && rc != SQLITE_ROW && rc != SQLITE_DONE)
    ok = set_sql_error (error, db, rc, "Cannot read the samples");
  sqlite3_finalize (st);
  sqlite3_close (db);
  return ok;
}

/* Open ranges arrive as the extremes of gint64 in ms: saturate, not overflow. */
static gint64
ms_to_us_saturated (gint64 ms)
{
  if (ms <= G_MININT64 / 1000)
    return G_MININT64;
  if (ms >= G_MAXINT64 / 1000)
    return G_MAXINT64;
  return ms * 1000;
}

/* ---------------------------------------------------------- range query */

void
bms_history_range_free (BmsHistoryRange *range)
{
  if (!range)
    return;
  g_free (range->time_us);
  g_free (range->count);
  for (guint s = 0; s < BMS_SERIES_COUNT; s++)
    {
      g_free (range->min[s]);
      g_free (range->max[s]);
    }
  g_free (range->cell_min_mv);
  g_free (range->cell_max_mv);
  g_free (range);
}

typedef struct {
  sqlite3   *db;
  gboolean   schema2;   /* the file has the minute and hour levels only */
  gint64     device_id;
  gint64     origin, bucket;
  guint      n_buckets;
  gboolean   with_cells;
  Acc      **accs;   /* n_buckets, allocated when a bucket gets data */
  Row       *row;
} RangeCtx;

static Acc *
range_bucket (RangeCtx *c, gint64 t_ms)
{
  gint64 k = (t_ms - c->origin) / c->bucket;
  k = CLAMP (k, 0, (gint64) c->n_buckets - 1);
  if (!c->accs[k])
    c->accs[k] = g_new0 (Acc, 1);
  return c->accs[k];
}

static gboolean
range_scan_samples (RangeCtx *c, gint64 lo, gint64 hi, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  int rc;

  if (lo >= hi)
    return TRUE;
  st = prepare (c->db, "SELECT " SAMPLE_COLUMNS " FROM samples WHERE device_id = ?1"
                " AND t_ms >= ?2 AND t_ms < ?3", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, c->device_id);
  sqlite3_bind_int64 (st, 2, lo);
  sqlite3_bind_int64 (st, 3, hi);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      row_read (c->row, st);
      if (!c->with_cells)
        c->row->n_cells = 0;
      acc_add_row (range_bucket (c, c->row->t_ms), c->row);
    }
  return rc == SQLITE_DONE || set_sql_error (error, c->db, rc, "Cannot read the samples");
}

static gboolean
range_scan_rollup (RangeCtx *c, Level level, gint64 lo, gint64 hi, GError **error)
{
  g_autofree char *sql = rollup_select_sql (level, c->with_cells);
  g_autoptr (sqlite3_stmt) st = prepare (c->db, sql, error);
  int rc;

  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, c->device_id);
  sqlite3_bind_int64 (st, 2, lo);
  sqlite3_bind_int64 (st, 3, hi);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    acc_merge_blobs (range_bucket (c, sqlite3_column_int64 (st, 0)),
                     sqlite3_column_int (st, 1),
                     sqlite3_column_blob (st, 2), sqlite3_column_bytes (st, 2),
                     sqlite3_column_blob (st, 3), sqlite3_column_bytes (st, 3), c->with_cells);
  return rc == SQLITE_DONE || set_sql_error (error, c->db, rc, "Cannot read the rollups");
}

/* The next finer level the file has. */
static Level
range_finer (RangeCtx *c, Level level)
{
  do
    level--;
  while (c->schema2 && level > LEVEL_MINUTE && !level_has_own_table (level));
  return level;
}

/* Whole units of level inside [lo, hi) from its rollup, the edges from the
 * levels below. */
static gboolean
range_cover (RangeCtx *c, Level level, gint64 lo, gint64 hi, GError **error)
{
  gint64 unit = level_unit[level], a, b;

  if (lo >= hi)
    return TRUE;
  if (level == LEVEL_SAMPLES)
    return range_scan_samples (c, lo, hi, error);
  a = floor_to (lo + unit - 1, unit);
  b = floor_to (hi, unit);
  if (a >= b)
    return range_cover (c, range_finer (c, level), lo, hi, error);
  return range_cover (c, range_finer (c, level), lo, a, error) &&
         range_scan_rollup (c, level, a, b, error) &&
         range_cover (c, range_finer (c, level), b, hi, error);
}

static BmsHistoryRange *
range_collect (RangeCtx *c, gint64 from_ms, gint64 to_ms, Level level)
{
  BmsHistoryRange *r = g_new0 (BmsHistoryRange, 1);
  guint n = 0, k;

  for (k = 0; k < c->n_buckets; k++)
    if (c->accs[k] && c->accs[k]->n)
      n++;
  r->from_us = ms_to_us_saturated (from_ms);
  r->to_us = ms_to_us_saturated (to_ms);
  r->origin_us = c->origin * 1000;
  r->bucket_us = c->bucket * 1000;
  r->source = level_name[level];
  r->n_points = n;
  r->time_us = g_new (gint64, n);
  r->count = g_new (guint32, n);
  for (guint s = 0; s < BMS_SERIES_COUNT; s++)
    {
      r->min[s] = g_new (double, n);
      r->max[s] = g_new (double, n);
    }
  for (k = 0; k < c->n_buckets; k++)
    if (c->accs[k])
      r->n_cells = MAX (r->n_cells, c->accs[k]->n_cells);
  r->cell_min_mv = g_new0 (guint16, (gsize) n * r->n_cells);
  r->cell_max_mv = g_new0 (guint16, (gsize) n * r->n_cells);
  for (k = 0, n = 0; k < c->n_buckets; k++)
    {
      const Acc *a = c->accs[k];
      if (!a || !a->n)
        continue;
      r->time_us[n] = (c->origin + (gint64) k * c->bucket) * 1000;
      r->count[n] = a->n;
      for (guint s = 0; s < BMS_SERIES_COUNT; s++)
        {
          r->min[s][n] = a->has[s] ? a->min[s] * series_info[s].scale : NAN;
          r->max[s][n] = a->has[s] ? a->max[s] * series_info[s].scale : NAN;
        }
      if (a->n_cells > 0) /* cmin/cmax are NULL when no cells were asked for */
        {
          memcpy (r->cell_min_mv + (gsize) n * r->n_cells, a->cmin, a->n_cells * sizeof (guint16));
          memcpy (r->cell_max_mv + (gsize) n * r->n_cells, a->cmax, a->n_cells * sizeof (guint16));
        }
      n++;
    }
  return r;
}

/* Clamps [from, to] to the data of the device; FALSE when there is none. */
static gboolean
range_extent (sqlite3 *db, gint64 device_id, gint64 *from_ms, gint64 *to_ms, GError **error)
{
  /* Two subqueries: min() and max() together would scan every sample. */
  g_autoptr (sqlite3_stmt) st = prepare (db, "SELECT (SELECT min(t_ms) FROM samples WHERE"
                                         " device_id = ?1), (SELECT max(t_ms) FROM samples"
                                         " WHERE device_id = ?1)", error);
  int rc;

  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, device_id);
  if ((rc = sqlite3_step (st)) != SQLITE_ROW)
    return set_sql_error (error, db, rc, "Cannot read the samples");
  if (sqlite3_column_type (st, 0) == SQLITE_NULL)
    return FALSE;
  *from_ms = MAX (*from_ms, sqlite3_column_int64 (st, 0));
  *to_ms = MIN (*to_ms, sqlite3_column_int64 (st, 1));
  return TRUE;
}

static BmsHistoryRange *
range_empty (gint64 from_ms, gint64 to_ms)
{
  BmsHistoryRange *r = g_new0 (BmsHistoryRange, 1);

  r->from_us = ms_to_us_saturated (from_ms);
  r->to_us = ms_to_us_saturated (to_ms);
  r->bucket_us = 1000;
  r->origin_us = r->from_us;
  r->source = "samples";
  return r;
}

/* The coarsest level whose unit is at most twice the bucket asked for:
 * at least half the points come back, which are twice the pixels the
 * Graph has, so still one a pixel column. As the Graph asks (the view and
 * half a span either side, 3 840 points) every range reads about 2 200
 * units: 24 h from minutes, 48 h from 2-minute units, 7 days from 6-minute
 * ones, 30 days from 30-minute ones, a year from 4-hour ones (a unit is at
 * most 6 times the one below, so no span reads more than 6 × 1 920). 30
 * days read 64 800 minutes before (0.3 s for 256 cells). */
static Level
range_level (gint64 bucket_ms, gboolean schema2)
{
  Level level = LEVEL_SAMPLES;

  for (Level l = LEVEL_MINUTE; l < N_LEVELS; l++)
    if (bucket_ms * 2 >= level_unit[l] && (!schema2 || level_has_own_table (l)))
      level = l;
  return level;
}

static BmsHistoryRange *
range_query (sqlite3 *db, gboolean schema2, gint64 device_id, gint64 from_ms, gint64 to_ms,
             guint max_points, gboolean with_cells, GError **error)
{
  RangeCtx c = { db, schema2, device_id, 0, 0, 0, with_cells, NULL, NULL };
  g_autoptr (GError) local = NULL;
  BmsHistoryRange *r;
  gint64 span, unit;
  Level level;

  if (!range_extent (db, device_id, &from_ms, &to_ms, &local))
    {
      if (local)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      return range_empty (from_ms, to_ms);
    }
  if (from_ms > to_ms)
    return range_empty (from_ms, to_ms);
  span = to_ms - from_ms + 1;
  c.bucket = (span + max_points - 1) / max_points;
  level = range_level (c.bucket, schema2);
  unit = level_unit[level];
  /* Buckets are whole units aligned to the unit, so no rollup row straddles
   * two buckets. */
  c.origin = floor_to (from_ms, unit);
  c.bucket = floor_to (c.bucket + unit - 1, unit);
  while ((to_ms - c.origin) / c.bucket + 1 > max_points)
    c.bucket += unit;
  c.n_buckets = (to_ms - c.origin) / c.bucket + 1;
  c.accs = g_new0 (Acc *, c.n_buckets);
  c.row = g_new0 (Row, 1);
  if (range_cover (&c, level, from_ms, to_ms + 1, error))
    r = range_collect (&c, from_ms, to_ms, level);
  else
    r = NULL;
  for (guint k = 0; k < c.n_buckets; k++)
    g_free (c.accs[k]);
  g_free (c.accs);
  g_free (c.row);
  return r;
}

BmsHistoryRange *
bms_history_query_range (BmsHistory *self, gint64 device_id, gint64 from_us, gint64 to_us,
                         guint max_points, gboolean with_cells, GError **error)
{
  BmsHistoryRange *r;
  sqlite3 *db;

  g_return_val_if_fail (BMS_IS_HISTORY (self), NULL);
  max_points = MIN (max_points, BMS_HISTORY_MAX_POINTS);
  if (device_id <= 0 || max_points == 0 || from_us > to_us)
    {
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_INVALID,
                   "A range query needs a device, at least one point and from ≤ to");
      return NULL;
    }
  if (!(db = reader_lock (self, error)))
    return NULL;
  r = range_query (db, self->schema2_levels, device_id, to_ms_from (from_us), to_ms_to (to_us),
                   max_points, with_cells, error);
  reader_unlock (self);
  return r;
}

static void
range_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  QueryArgs *a = data;
  GError *error = NULL;
  BmsHistoryRange *r = bms_history_query_range (source, a->device_id, a->from_us, a->to_us,
                                                a->max_points, a->with_cells, &error);

  if (r)
    g_task_return_pointer (task, r, (GDestroyNotify) bms_history_range_free);
  else
    g_task_return_error (task, error);
}

void
bms_history_query_range_async (BmsHistory *self, gint64 device_id, gint64 from_us,
                               gint64 to_us, guint max_points, gboolean with_cells,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  QueryArgs *a = g_new0 (QueryArgs, 1);

  *a = (QueryArgs) { device_id, from_us, to_us, max_points, 0, with_cells };
  g_task_set_source_tag (task, bms_history_query_range_async);
  g_task_set_task_data (task, a, g_free);
  g_task_run_in_thread (task, range_thread);
}

BmsHistoryRange *
bms_history_query_range_finish (BmsHistory *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
bms_history_query_cell (BmsHistory *self, gint64 device_id, guint cell, gint64 from_us,
                        gint64 to_us, GArray **times_out, GArray **mv_out, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) mvs = g_array_new (FALSE, FALSE, sizeof (guint16));
  guint16 cells[BMS_MAX_CELLS];
  gboolean ok = TRUE;
  sqlite3 *db;
  int rc;

  g_return_val_if_fail (BMS_IS_HISTORY (self), FALSE);
  if (cell < 1 || cell > BMS_MAX_CELLS)
    {
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_INVALID,
                   "Cell %u does not exist: cells are numbered 1 to %d", cell, BMS_MAX_CELLS);
      return FALSE;
    }
  /* A month is seconds of decoding: a connection of its own keeps the
   * shared reader free for the graphs meanwhile. */
  if (!(db = open_private_reader (self, error)))
    return FALSE;
  st = prepare (db, "SELECT t_ms, cells FROM samples WHERE device_id = ?1"
                " AND t_ms BETWEEN ?2 AND ?3 ORDER BY t_ms", error);
  if (st)
    {
      sqlite3_bind_int64 (st, 1, device_id);
      sqlite3_bind_int64 (st, 2, to_ms_from (from_us));
      sqlite3_bind_int64 (st, 3, to_ms_to (to_us));
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          guint n = decode_cells (sqlite3_column_blob (st, 1), sqlite3_column_bytes (st, 1), cells);
          gint64 t = sqlite3_column_int64 (st, 0) * 1000;
          if (cell > n)
            continue;
          g_array_append_val (times, t);
          g_array_append_val (mvs, cells[cell - 1]);
        }
      if (rc != SQLITE_DONE)
        ok = set_sql_error (error, db, rc, "Cannot read the samples");
    }
  else
    ok = FALSE;
  g_clear_pointer (&st, sqlite3_finalize);
  sqlite3_close (db);
  if (!ok)
    return FALSE;
  if (times_out)
    *times_out = g_steal_pointer (&times);
  if (mv_out)
    *mv_out = g_steal_pointer (&mvs);
  return TRUE;
}

typedef struct {
  gint64  device_id, from_us, to_us;
  guint   cell;
  GArray *times, *mvs;
} CellQuery;

static void
cell_query_free (gpointer data)
{
  CellQuery *q = data;
  g_clear_pointer (&q->times, g_array_unref);
  g_clear_pointer (&q->mvs, g_array_unref);
  g_free (q);
}

static void
cell_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  CellQuery *q = data;
  GError *error = NULL;

  if (bms_history_query_cell (source, q->device_id, q->cell, q->from_us, q->to_us,
                              &q->times, &q->mvs, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
bms_history_query_cell_async (BmsHistory *self, gint64 device_id, guint cell, gint64 from_us,
                              gint64 to_us, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  CellQuery *q = g_new0 (CellQuery, 1);

  q->device_id = device_id;
  q->cell = cell;
  q->from_us = from_us;
  q->to_us = to_us;
  g_task_set_source_tag (task, bms_history_query_cell_async);
  g_task_set_task_data (task, q, cell_query_free);
  g_task_run_in_thread (task, cell_thread);
}

gboolean
bms_history_query_cell_finish (BmsHistory *self, GAsyncResult *result, GArray **times_out,
                               GArray **mv_out, GError **error)
{
  CellQuery *q = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (times_out)
    *times_out = g_steal_pointer (&q->times);
  if (mv_out)
    *mv_out = g_steal_pointer (&q->mvs);
  return TRUE;
}
