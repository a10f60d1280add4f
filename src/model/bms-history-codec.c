/* bms-history-codec.c — encoding of samples and rollup units */
#include "config.h"
#include "bms-context.h"

#include <math.h>

#include "bms-history-private.h"

/* ------------------------------------------------------------ encodings */

/* Writes v at p (at most 10 bytes); returns the bytes written. */
static inline guint
varint_to (guint8 *p, guint64 v)
{
  guint n = 0;

  while (v > 0x7f)
    {
      p[n++] = (guint8) (v | 0x80);
      v >>= 7;
    }
  p[n++] = (guint8) v;
  return n;
}

static void
put_varint (GByteArray *out, guint64 v)
{
  guint8 b[10];

  g_byte_array_append (out, b, varint_to (b, v));
}

gboolean
get_varint (const guint8 **p, const guint8 *end, guint64 *v)
{
  guint shift = 0;

  *v = 0;
  while (*p < end && shift < 64)
    {
      guint8 b = *(*p)++;
      *v |= (guint64) (b & 0x7f) << shift;
      if (!(b & 0x80))
        return TRUE;
      shift += 7;
    }
  return FALSE;
}

/* Most cell deltas and spans fit in one byte: a range of 256 cells reads
 * half a million of them per 1 000 rows. */
static inline gboolean
get_varint_fast (const guint8 **p, const guint8 *end, guint64 *v)
{
  if (*p < end && **p < 0x80)
    {
      *v = *(*p)++;
      return TRUE;
    }
  return get_varint (p, end, v);
}

static guint64 zigzag (gint64 v) { return ((guint64) v << 1) ^ (guint64) (v >> 63); }
static gint64 unzigzag (guint64 v) { return (gint64) (v >> 1) ^ -(gint64) (v & 1); }

/* Appends the cells encoded straight into out's buffer (a zigzag delta of
 * two u16 takes at most 3 bytes): the per-byte g_byte_array_append this
 * replaced was half of the writer's time for 256 cells. */
static void
encode_cells (GByteArray *out, const guint16 *mv, guint n)
{
  guint len = out->len;
  gint64 prev = 0;
  guint8 *p;

  g_byte_array_set_size (out, len + 3 * n);
  p = out->data + len;
  for (guint i = 0; i < n; i++)
    {
      p += varint_to (p, zigzag ((gint64) mv[i] - prev));
      prev = mv[i];
    }
  g_byte_array_set_size (out, p - out->data);
}

guint
decode_cells (const guint8 *p, gsize len, guint16 *mv)
{
  const guint8 *end = p + len;
  gint64 prev = 0;
  guint n = 0;
  guint64 v;

  while (p < end && n < BMS_MAX_CELLS && get_varint_fast (&p, end, &v))
    {
      prev += unzigzag (v);
      mv[n++] = (guint16) CLAMP (prev, 0, G_MAXUINT16);
    }
  return n;
}

/* ------------------------------------------------------------------ rows */

static void
row_set_field (Row *row, BmsSeries s, const BmsSnapshot *snap, guint8 id, double factor)
{
  if (!bms_snapshot_has (snap, id))
    return;
  row->has[s] = TRUE;
  row->v[s] = llround (bms_snapshot_get (snap, id) * factor);
}

static void row_derive_cells (Row *row);

static void
row_from_snapshot (Row *row, gint64 device_id, const BmsSnapshot *snap)
{
  /* Only the cells that are copied below are ever read. */
  memset (row, 0, G_STRUCT_OFFSET (Row, cells));
  row->device_id = device_id;
  row->t_ms = snap->timestamp_us / 1000;
  row_set_field (row, BMS_SERIES_PACK_VOLTAGE, snap, bms_snapshot_pack_voltage_id (snap), 100);
  row_set_field (row, BMS_SERIES_CURRENT, snap, BMS_ID_CURRENT, 100);
  row_set_field (row, BMS_SERIES_SOC, snap, BMS_ID_SOC, 1);
  row_set_field (row, BMS_SERIES_TEMP_MOSFET, snap, BMS_ID_MOSFET_TEMP, 1);
  row_set_field (row, BMS_SERIES_TEMP1, snap, BMS_ID_TEMP1, 1);
  row_set_field (row, BMS_SERIES_TEMP2, snap, BMS_ID_TEMP2, 1);
  if ((row->has_status = bms_snapshot_has (snap, BMS_ID_STATUS)))
    row->status = bms_snapshot_get_raw (snap, BMS_ID_STATUS);
  if ((row->has_warnings = bms_snapshot_has (snap, BMS_ID_WARNINGS)))
    row->warnings = bms_snapshot_get_raw (snap, BMS_ID_WARNINGS);
  if ((row->has_alarms_ext = bms_snapshot_has (snap, BMS_ID_ALARMS_EXT)))
    row->alarms_ext = bms_snapshot_get_raw (snap, BMS_ID_ALARMS_EXT);

  row->n_cells = MIN (snap->n_cells, BMS_MAX_CELLS);
  memcpy (row->cells, snap->cells_mv, row->n_cells * sizeof (guint16));
  row_derive_cells (row);
}

/* A Row for a snapshot (the cells past n_cells are left uninitialised). */
Row *
row_new (gint64 device_id, const BmsSnapshot *snap)
{
  Row *row = g_new (Row, 1);

  row_from_snapshot (row, device_id, snap);
  return row;
}

/* Lowest and highest cell are not stored: they follow from the cells. */
static void
row_derive_cells (Row *row)
{
  guint lo, hi;
  gboolean has = bms_cells_get_range (row->cells, row->n_cells, &lo, &hi);

  if (has)
    {
      row->v[BMS_SERIES_CELL_MIN] = row->cells[lo], row->min_idx = lo + 1;
      row->v[BMS_SERIES_CELL_MAX] = row->cells[hi], row->max_idx = hi + 1;
    }
  row->has[BMS_SERIES_CELL_MIN] = row->has[BMS_SERIES_CELL_MAX] = has;
}

static void
bind_opt (sqlite3_stmt *st, int col, gboolean has, gint64 v)
{
  if (has)
    sqlite3_bind_int64 (st, col, v);
  else
    sqlite3_bind_null (st, col);
}

#define N_STORED 6  /* series stored as columns; cell min/max are derived */

void
row_bind (const Row *row, sqlite3_stmt *st, GByteArray *scratch)
{
  sqlite3_bind_int64 (st, 1, row->device_id);
  sqlite3_bind_int64 (st, 2, row->t_ms);
  for (guint s = 0; s < N_STORED; s++)
    bind_opt (st, 3 + s, row->has[s], row->v[s]);
  bind_opt (st, 9, row->has_status, row->status);
  bind_opt (st, 10, row->has_warnings, row->warnings);
  bind_opt (st, 11, row->has_alarms_ext, row->alarms_ext);
  g_byte_array_set_size (scratch, 0);
  encode_cells (scratch, row->cells, row->n_cells);
  if (row->n_cells)
    sqlite3_bind_blob (st, 12, scratch->data, scratch->len, SQLITE_STATIC);
  else
    sqlite3_bind_null (st, 12);
}

/* Reads the columns of SAMPLE_COLUMNS. */
void
row_read (Row *row, sqlite3_stmt *st)
{
  memset (row->has, 0, sizeof row->has);
  row->device_id = sqlite3_column_int64 (st, 0);
  row->t_ms = sqlite3_column_int64 (st, 1);
  for (guint s = 0; s < N_STORED; s++)
    {
      row->has[s] = sqlite3_column_type (st, 2 + s) != SQLITE_NULL;
      row->v[s] = sqlite3_column_int64 (st, 2 + s);
    }
  row->status = sqlite3_column_int64 (st, 8);
  row->warnings = sqlite3_column_int64 (st, 9);
  row->alarms_ext = sqlite3_column_int64 (st, 10);
  row->n_cells = decode_cells (sqlite3_column_blob (st, 11), sqlite3_column_bytes (st, 11),
                               row->cells);
  row->min_idx = row->max_idx = 0;
  row_derive_cells (row);
}

/* -------------------------------------------------------------- rollups */

void
acc_reset (Acc *acc, gint64 device_id, gint64 t_ms)
{
  memset (acc, 0, sizeof *acc);
  acc->device_id = device_id;
  acc->t_ms = t_ms;
}

static void
acc_add_value (Acc *acc, guint s, gint64 lo, gint64 hi)
{
  if (!acc->has[s])
    {
      acc->has[s] = TRUE;
      acc->min[s] = lo;
      acc->max[s] = hi;
      return;
    }
  acc->min[s] = MIN (acc->min[s], lo);
  acc->max[s] = MAX (acc->max[s], hi);
}

/* Two plain loops (the cells both have, then the new ones) rather than a
 * test per cell, so that the compiler can vectorise the first. */
static void
acc_add_cells (Acc *acc, const guint16 *lo, const guint16 *hi, guint n)
{
  guint common = MIN (n, acc->n_cells);

  for (guint i = 0; i < common; i++)
    {
      acc->cmin[i] = MIN (acc->cmin[i], lo[i]);
      acc->cmax[i] = MAX (acc->cmax[i], hi[i]);
    }
  if (n > common)
    {
      memcpy (acc->cmin + common, lo + common, (n - common) * sizeof (guint16));
      memcpy (acc->cmax + common, hi + common, (n - common) * sizeof (guint16));
      acc->n_cells = n;
    }
}

void
acc_add_row (Acc *acc, const Row *row)
{
  acc->n++;
  for (guint s = 0; s < BMS_SERIES_COUNT; s++)
    if (row->has[s])
      acc_add_value (acc, s, row->v[s], row->v[s]);
  acc_add_cells (acc, row->cells, row->cells, row->n_cells);
}

void
acc_encode_mm (const Acc *acc, GByteArray *out)
{
  guint64 mask = 0;

  for (guint s = 0; s < BMS_SERIES_COUNT; s++)
    if (acc->has[s])
      mask |= 1u << s;
  put_varint (out, mask);
  for (guint s = 0; s < BMS_SERIES_COUNT; s++)
    if (acc->has[s])
      {
        put_varint (out, zigzag (acc->min[s]));
        put_varint (out, (guint64) (acc->max[s] - acc->min[s]));
      }
}

void
acc_encode_cells (const Acc *acc, GByteArray *out)
{
  put_varint (out, acc->n_cells);
  encode_cells (out, acc->cmin, acc->n_cells);
  {
    guint len = out->len;
    guint8 *p;

    g_byte_array_set_size (out, len + 3 * acc->n_cells);
    p = out->data + len;
    for (guint i = 0; i < acc->n_cells; i++)
      p += varint_to (p, acc->cmax[i] - acc->cmin[i]);
    g_byte_array_set_size (out, p - out->data);
  }
}

/* Merges a stored rollup row (mm and cells blobs) into acc. */
void
acc_merge_blobs (Acc *acc, guint n, const guint8 *mm, gsize mm_len,
                 const guint8 *cells, gsize cells_len, gboolean want_cells)
{
  const guint8 *end = mm + mm_len;
  guint64 mask = 0, lo, span, nc;

  acc->n += n;
  if (mm && get_varint (&mm, end, &mask))
    for (guint s = 0; s < BMS_SERIES_COUNT; s++)
      if ((mask & (1u << s)) && get_varint (&mm, end, &lo) && get_varint (&mm, end, &span))
        acc_add_value (acc, s, unzigzag (lo), unzigzag (lo) + (gint64) span);

  if (!want_cells || !cells)
    return;
  end = cells + cells_len;
  if (get_varint (&cells, end, &nc) && nc <= BMS_MAX_CELLS)
    {
      guint16 cmin[BMS_MAX_CELLS], cmax[BMS_MAX_CELLS];
      gint64 prev = 0;
      guint i;

      guint j;

      for (i = 0; i < nc && get_varint_fast (&cells, end, &lo); i++)
        cmin[i] = (guint16) (prev += unzigzag (lo));
      for (j = 0; j < i && get_varint_fast (&cells, end, &span); j++)
        cmax[j] = (guint16) (cmin[j] + span);
      for (; j < i; j++)  /* a truncated blob: no span known */
        cmax[j] = cmin[j];
      acc_add_cells (acc, cmin, cmax, i);
    }
}

/* Merges the unit from (a minute) into acc, a coarser unit holding it;
 * n of its samples are new to acc. min/max merge idempotently, so a minute
 * merged again after late samples only adds those to the count. */
void
acc_merge_acc (Acc *acc, const Acc *from, guint n)
{
  acc->n += n;
  for (guint s = 0; s < BMS_SERIES_COUNT; s++)
    if (from->has[s])
      acc_add_value (acc, s, from->min[s], from->max[s]);
  acc_add_cells (acc, from->cmin, from->cmax, from->n_cells);
}

const gint64 level_unit[] = {
  1, MINUTE_MS, 2 * MINUTE_MS, 6 * MINUTE_MS, 30 * MINUTE_MS, HOUR_MS, 4 * HOUR_MS, DAY_MS,
};
const char * const level_table[] = {
  "samples", "rollup_minute", "rollup_level", "rollup_level", "rollup_level", "rollup_hour",
  "rollup_level", "rollup_level",
};
const char * const level_name[] = {
  "samples", "minute", "2min", "6min", "30min", "hour", "4h", "day",
};
G_STATIC_ASSERT (G_N_ELEMENTS (level_unit) == N_LEVELS);
G_STATIC_ASSERT (G_N_ELEMENTS (level_table) == N_LEVELS);
G_STATIC_ASSERT (G_N_ELEMENTS (level_name) == N_LEVELS);

/* Minute and hour keep the tables of schema 2 (mm and cells apart); the
 * other levels are rows of rollup_level, mm and cells in one row. */
gboolean
level_has_own_table (Level level)
{
  return level == LEVEL_MINUTE || level == LEVEL_HOUR;
}

/* t_ms, n, mm, cells (NULL unless with_cells) of the units of level with
 * ?1 = device, ?2 <= t_ms < ?3, in time order. */
char *
rollup_select_sql (Level level, gboolean with_cells)
{
  if (!level_has_own_table (level))
    return g_strdup_printf ("SELECT t_ms, n, mm, %s FROM rollup_level WHERE device_id = ?1"
                            " AND unit_min = %" G_GINT64_FORMAT " AND t_ms >= ?2 AND t_ms < ?3"
                            " ORDER BY t_ms", with_cells ? "cells" : "NULL",
                            level_unit[level] / MINUTE_MS);
  if (with_cells)
    return g_strdup_printf ("SELECT r.t_ms, r.n, r.mm, c.cells FROM %1$s r LEFT JOIN %1$s_cells c"
                            " USING (device_id, t_ms) WHERE r.device_id = ?1 AND r.t_ms >= ?2"
                            " AND r.t_ms < ?3 ORDER BY r.t_ms", level_table[level]);
  return g_strdup_printf ("SELECT t_ms, n, mm, NULL FROM %s WHERE device_id = ?1"
                          " AND t_ms >= ?2 AND t_ms < ?3 ORDER BY t_ms", level_table[level]);
}

gint64
floor_to (gint64 t, gint64 unit)
{
  gint64 q = t / unit;
  if (t % unit < 0)
    q--;
  return q * unit;
}

gint64
ceil_to (gint64 t, gint64 unit)
{
  return floor_to (t + unit - 1, unit);
}
