/* bms-history.c — the history database.
 *
 * Schema (PRAGMA user_version):
 *   1  devices, samples (WITHOUT ROWID, key (device_id, t_ms): the key is
 *      the time index, so a sample costs no separate index entry), alarm
 *      events, audit log.
 *   2  rollup_minute / rollup_hour (+ _cells): per device and whole minute/hour, the
 *      sample count, min/max of every series ("mm") and of every cell
 *      ("cells"); maintained by the writer in the sample's transaction.
 *      Migrating from 1 builds them from the samples.
 *
 * Encodings (all little helpers below):
 *   cells  zigzag varints: first cell, then each cell minus the previous one.
 *          16 LFP cells take about 17 bytes, 256 cells about 260.
 *   mm     varint presence mask, then per present series zigzag(min) and
 *          varint(max - min).
 *   rollup cells  varint n, n zigzag deltas of the minima, n varints of
 *          max - min.
 */
#include "config.h"
#include "bms-context.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "bms-field.h"
#include "bms-history.h"

#define APPLICATION_ID   0x50574843  /* "PWHC" */
#define MINUTE_MS        G_GINT64_CONSTANT (60000)
#define HOUR_MS          G_GINT64_CONSTANT (3600000)
#define MAX_JOBS_PER_TX  256
/* Page caches (PRAGMA cache_size, KiB). The writer only appends: it needs
 * the right edge of each b-tree (about 20 pages) and re-reads nothing. With
 * SQLite's default 2 MB its cache kept filling with written-once pages for
 * hours, so the process grew for that long (bench-soak: 3 h / 1 h resident
 * 1.34; 512 KiB still 1.24). At 128 KiB it is full within the first hour of
 * 256-cell polling (malloc in use flat from 1 h to 6 h); a large batch
 * spills pages to the WAL before its commit, which costs no measurable
 * ingest rate. The reader keeps the default size, stated here so it stays
 * bounded on purpose. */
#define WRITER_CACHE_KIB 128
#define READER_CACHE_KIB 2048
/* After a commit SQLite truncates a WAL larger than this, so on a small
 * volume the log does not keep the space of its largest transaction. */
#define JOURNAL_SIZE_LIMIT 1048576  /* bytes */
/* Another process creating or migrating the file holds it for this long at
 * most before we give up (a migration of a large file takes seconds). */
#define BUSY_TIMEOUT_MS     5000
#define MIGRATE_TIMEOUT_MS  120000

// clang-format off
G_DEFINE_QUARK (bms-history-error-quark, bms_history_error)
// clang-format on

/* ---------------------------------------------------------------- series */

typedef struct {
  const char *name;
  const char *label;
  const char *unit;
  double      scale;   /* database integer → engineering */
} SeriesInfo;

static const SeriesInfo series_info[BMS_SERIES_COUNT] = {
  { "pack_voltage", "Pack voltage", "V", 0.01 },
  { "current", "Current", "A", 0.01 },
  { "soc", "State of charge", "%", 1 },
  { "temp_mosfet", "MOSFET temperature", "°C", 1 },
  { "temp1", "Temperature 1", "°C", 1 },
  { "temp2", "Temperature 2", "°C", 1 },
  { "cell_min", "Lowest cell", "V", 0.001 },
  { "cell_max", "Highest cell", "V", 0.001 },
};

const char *
bms_series_get_name (BmsSeries series)
{
  g_return_val_if_fail (series < BMS_SERIES_COUNT, NULL);
  return series_info[series].name;
}

const char *
bms_series_get_label (BmsSeries series)
{
  g_return_val_if_fail (series < BMS_SERIES_COUNT, NULL);
  return series_info[series].label;
}

const char *
bms_series_get_unit (BmsSeries series)
{
  g_return_val_if_fail (series < BMS_SERIES_COUNT, NULL);
  return series_info[series].unit;
}

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

static gboolean
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

static guint
decode_cells (const guint8 *p, gsize len, guint16 *mv)
{
  const guint8 *end = p + len;
  gint64 prev = 0;
  guint n = 0;
  guint64 v;

  while (p < end && n < BMS_MAX_CELLS && get_varint (&p, end, &v))
    {
      prev += unzigzag (v);
      mv[n++] = (guint16) CLAMP (prev, 0, G_MAXUINT16);
    }
  return n;
}

/* ------------------------------------------------------------------ rows */

/* One sample in database units. */
typedef struct {
  gint64   device_id;
  gint64   t_ms;
  gboolean has[BMS_SERIES_COUNT];
  gint64   v[BMS_SERIES_COUNT];
  guint    min_idx, max_idx;
  gboolean has_status, has_warnings, has_alarms_ext;
  gint64   status, warnings, alarms_ext;
  guint    n_cells;
  guint16  cells[BMS_MAX_CELLS];
} Row;

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
static Row *
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

#define SAMPLE_COLUMNS \
  "device_id, t_ms, pack_cv, current_ca, soc, temp_mosfet, temp1, temp2, " \
  "status, warnings, alarms_ext, cells"

static void
bind_opt (sqlite3_stmt *st, int col, gboolean has, gint64 v)
{
  if (has)
    sqlite3_bind_int64 (st, col, v);
  else
    sqlite3_bind_null (st, col);
}

#define N_STORED 6  /* series stored as columns; cell min/max are derived */

static void
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
static void
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

typedef struct {
  gint64   device_id;
  gint64   t_ms;        /* unit start; -1 = nothing loaded */
  gboolean dirty;       /* writer: changed since last written to its table */
  guint    n;
  gboolean has[BMS_SERIES_COUNT];
  gint64   min[BMS_SERIES_COUNT];
  gint64   max[BMS_SERIES_COUNT];
  guint    n_cells;
  guint16  cmin[BMS_MAX_CELLS];
  guint16  cmax[BMS_MAX_CELLS];
} Acc;

static void
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

static void
acc_add_cells (Acc *acc, const guint16 *lo, const guint16 *hi, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      if (i >= acc->n_cells)
        acc->cmin[i] = lo[i], acc->cmax[i] = hi[i];
      else
        acc->cmin[i] = MIN (acc->cmin[i], lo[i]), acc->cmax[i] = MAX (acc->cmax[i], hi[i]);
    }
  acc->n_cells = MAX (acc->n_cells, n);
}

static void
acc_add_row (Acc *acc, const Row *row)
{
  acc->n++;
  for (guint s = 0; s < BMS_SERIES_COUNT; s++)
    if (row->has[s])
      acc_add_value (acc, s, row->v[s], row->v[s]);
  acc_add_cells (acc, row->cells, row->cells, row->n_cells);
}

static void
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

static void
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
static void
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

      for (i = 0; i < nc && get_varint (&cells, end, &lo); i++)
        cmin[i] = (guint16) (prev += unzigzag (lo));
      for (guint j = 0; j < i && get_varint (&cells, end, &span); j++)
        cmax[j] = (guint16) (cmin[j] + span);
      acc_add_cells (acc, cmin, cmax, i);
    }
}

typedef enum { LEVEL_SAMPLES, LEVEL_MINUTE, LEVEL_HOUR } Level;
static const gint64 level_unit[] = { 1, MINUTE_MS, HOUR_MS };
static const char * const level_table[] = { "samples", "rollup_minute", "rollup_hour" };
static const char * const level_name[] = { "samples", "minute", "hour" };

static gint64
floor_to (gint64 t, gint64 unit)
{
  gint64 q = t / unit;
  if (t % unit < 0)
    q--;
  return q * unit;
}

/* ------------------------------------------------------------ sql utils */

static gboolean
set_sql_error (GError **error, sqlite3 *db, int code, const char *what)
{
  g_set_error (error, BMS_HISTORY_ERROR,
               code == SQLITE_FULL ? BMS_HISTORY_ERROR_WRITE :
               code == SQLITE_READONLY ? BMS_HISTORY_ERROR_WRITE :
               (code & 0xff) == SQLITE_IOERR ? BMS_HISTORY_ERROR_WRITE :
               code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? BMS_HISTORY_ERROR_CORRUPT :
               BMS_HISTORY_ERROR_OPEN,
               "%s: %s%s", what, db ? sqlite3_errmsg (db) : sqlite3_errstr (code),
               code == SQLITE_FULL ? " (the disk is full: free some space)" :
               (code & 0xff) == SQLITE_IOERR ? " (the disk may be full or failing)" : "");
  return FALSE;
}

static gboolean
exec_sql (sqlite3 *db, const char *sql, GError **error)
{
  char *msg = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &msg);

  if (rc == SQLITE_OK)
    return TRUE;
  sqlite3_free (msg);
  return set_sql_error (error, db, rc, "Database command failed");
}

static sqlite3_stmt *
prepare (sqlite3 *db, const char *sql, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);

  if (rc != SQLITE_OK)
    {
      set_sql_error (error, db, rc, "Cannot prepare a query");
      return NULL;
    }
  return st;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

static gboolean
query_int (sqlite3 *db, const char *sql, gint64 *out, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (db, sql, error);
  int rc;

  if (!st)
    return FALSE;
  rc = sqlite3_step (st);
  if (rc != SQLITE_ROW)
    return set_sql_error (error, db, rc, "Cannot read the database");
  *out = sqlite3_column_int64 (st, 0);
  return TRUE;
}

static sqlite3 *
open_db (const char *path, int flags, GError **error)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);

  if (rc != SQLITE_OK)
    {
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_OPEN,
                   "Cannot open the history database “%s”: %s", path,
                   db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes (db, 0);
  return db;
}

/* file: URI for path with query (e.g. "mode=ro"), percent-encoded so that
 * '?', '#' and '%' in a file name stay part of the name. */
static char *
path_to_uri (const char *path, const char *query)
{
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  g_autofree char *escaped = g_uri_escape_string (abs, "/", FALSE);

  return g_strdup_printf ("file:%s?%s", escaped, query);
}

/* -------------------------------------------------------------- schema */

static const char schema_v1[] =
  "CREATE TABLE devices ("
  "  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT,"
  "  created_ms INTEGER NOT NULL);"
  "CREATE TABLE samples ("
  "  device_id INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
  "  pack_cv INTEGER, current_ca INTEGER, soc INTEGER,"
  "  temp_mosfet INTEGER, temp1 INTEGER, temp2 INTEGER,"
  "  status INTEGER, warnings INTEGER, alarms_ext INTEGER, cells BLOB,"
  "  PRIMARY KEY (device_id, t_ms)) WITHOUT ROWID;"
  "CREATE TABLE alarm_events ("
  "  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
  "  code TEXT NOT NULL, raised INTEGER NOT NULL, value REAL, threshold REAL,"
  "  text TEXT);"
  "CREATE INDEX alarm_events_time ON alarm_events (t_ms);"
  "CREATE TABLE audit ("
  "  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
  "  field TEXT NOT NULL, old_value TEXT, new_value TEXT, result TEXT NOT NULL);"
  "CREATE INDEX audit_time ON audit (t_ms);";

/* The cells of a rollup live in a table of their own: a graph of pack
 * voltage over a month then reads 40 bytes per minute, not 600. */
static const char schema_v2[] =
  "CREATE TABLE rollup_minute ("
  "  device_id INTEGER NOT NULL, t_ms INTEGER NOT NULL, n INTEGER NOT NULL,"
  "  mm BLOB NOT NULL, PRIMARY KEY (device_id, t_ms)) WITHOUT ROWID;"
  "CREATE TABLE rollup_minute_cells ("
  "  device_id INTEGER NOT NULL, t_ms INTEGER NOT NULL, cells BLOB NOT NULL,"
  "  PRIMARY KEY (device_id, t_ms)) WITHOUT ROWID;"
  "CREATE TABLE rollup_hour ("
  "  device_id INTEGER NOT NULL, t_ms INTEGER NOT NULL, n INTEGER NOT NULL,"
  "  mm BLOB NOT NULL, PRIMARY KEY (device_id, t_ms)) WITHOUT ROWID;"
  "CREATE TABLE rollup_hour_cells ("
  "  device_id INTEGER NOT NULL, t_ms INTEGER NOT NULL, cells BLOB NOT NULL,"
  "  PRIMARY KEY (device_id, t_ms)) WITHOUT ROWID;";

/* Who records which device (bms_history_claim_device). Not a schema
 * version of its own: a table an older Packwatch does not know does not
 * change what it reads, so the file stays usable by it. */
static const char claims_schema[] =
  "CREATE TABLE IF NOT EXISTS writer_claims ("
  "  key TEXT PRIMARY KEY, token TEXT NOT NULL, pid INTEGER NOT NULL,"
  "  host TEXT NOT NULL, started_ms INTEGER NOT NULL, heartbeat_ms INTEGER NOT NULL,"
  "  boot TEXT NOT NULL DEFAULT '')";

/* Statements used per rollup unit, prepared once per connection and kept
 * in a cache keyed by the (static) SQL text: preparing costs far more than
 * running them (it was 60 % of the writer's time when done per sample). */
static const char * const rollup_upsert_sql[] = {
  NULL,
  "INSERT OR REPLACE INTO rollup_minute (device_id, t_ms, n, mm) VALUES (?1, ?2, ?3, ?4)",
  "INSERT OR REPLACE INTO rollup_hour (device_id, t_ms, n, mm) VALUES (?1, ?2, ?3, ?4)",
};
static const char * const rollup_upsert_cells_sql[] = {
  NULL,
  "INSERT OR REPLACE INTO rollup_minute_cells (device_id, t_ms, cells) VALUES (?1, ?2, ?4)",
  "INSERT OR REPLACE INTO rollup_hour_cells (device_id, t_ms, cells) VALUES (?1, ?2, ?4)",
};
static const char * const rollup_delete_sql[] = {
  NULL,
  "DELETE FROM rollup_minute WHERE device_id = ?1 AND t_ms = ?2",
  "DELETE FROM rollup_hour WHERE device_id = ?1 AND t_ms = ?2",
};
static const char * const rollup_delete_cells_sql[] = {
  NULL,
  "DELETE FROM rollup_minute_cells WHERE device_id = ?1 AND t_ms = ?2",
  "DELETE FROM rollup_hour_cells WHERE device_id = ?1 AND t_ms = ?2",
};
static const char * const rollup_load_sql[] = {
  NULL,
  "SELECT r.n, r.mm, c.cells FROM rollup_minute r LEFT JOIN rollup_minute_cells c"
  " USING (device_id, t_ms) WHERE r.device_id = ?1 AND r.t_ms = ?2",
  "SELECT r.n, r.mm, c.cells FROM rollup_hour r LEFT JOIN rollup_hour_cells c"
  " USING (device_id, t_ms) WHERE r.device_id = ?1 AND r.t_ms = ?2",
};

static void
stmt_finalize (gpointer st)
{
  sqlite3_finalize (st);
}

/* static SQL text → sqlite3_stmt*, finalized with the table. */
static GHashTable *
stmt_cache_new (void)
{
  return g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, stmt_finalize);
}

/* A reset statement for sql (a static string), prepared on first use. */
static sqlite3_stmt *
stmt_cached (sqlite3 *db, GHashTable *cache, const char *sql, GError **error)
{
  sqlite3_stmt *st = g_hash_table_lookup (cache, sql);

  if (!st && (st = prepare (db, sql, error)))
    g_hash_table_insert (cache, (gpointer) sql, st);
  return st;
}

static gboolean
step_done (sqlite3 *db, GHashTable *cache, const char *sql, const Acc *acc,
           const GByteArray *blob, GError **error)
{
  sqlite3_stmt *st = stmt_cached (db, cache, sql, error);
  int rc;

  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, acc->device_id);
  sqlite3_bind_int64 (st, 2, acc->t_ms);
  if (blob)
    {
      sqlite3_bind_int (st, 3, acc->n);
      sqlite3_bind_blob (st, 4, blob->data, blob->len, SQLITE_STATIC);
    }
  rc = sqlite3_step (st);
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  return rc == SQLITE_DONE || set_sql_error (error, db, rc, "Cannot write a rollup");
}

static gboolean
rollup_write (sqlite3 *db, GHashTable *cache, Level level, const Acc *acc, GError **error)
{
  g_autoptr (GByteArray) mm = NULL;
  g_autoptr (GByteArray) cells = NULL;

  if (acc->n == 0)
    return step_done (db, cache, rollup_delete_sql[level], acc, NULL, error) &&
           step_done (db, cache, rollup_delete_cells_sql[level], acc, NULL, error);
  mm = g_byte_array_sized_new (64);
  acc_encode_mm (acc, mm);
  if (!step_done (db, cache, rollup_upsert_sql[level], acc, mm, error))
    return FALSE;
  if (acc->n_cells == 0)
    return TRUE;
  cells = g_byte_array_sized_new (1 + 4 * acc->n_cells);
  acc_encode_cells (acc, cells);
  return step_done (db, cache, rollup_upsert_cells_sql[level], acc, cells, error);
}

/* Recomputes the rollup units of one level for a device from the samples in
 * [from_ms, to_ms) (both unit aligned). Used by migration 2 and retention. */
static gboolean
rollup_rebuild (sqlite3 *db, GHashTable *cache, Level level, gint64 device_id,
                gint64 from_ms, gint64 to_ms, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  g_autofree char *del = NULL;
  g_autofree Acc *acc = g_new0 (Acc, 1);
  g_autofree Row *row = g_new0 (Row, 1);
  gint64 unit = level_unit[level];
  int rc;

  del = g_strdup_printf ("DELETE FROM %1$s WHERE device_id = %2$" G_GINT64_FORMAT
                         " AND t_ms >= %3$" G_GINT64_FORMAT " AND t_ms < %4$" G_GINT64_FORMAT ";"
                         "DELETE FROM %1$s_cells WHERE device_id = %2$" G_GINT64_FORMAT
                         " AND t_ms >= %3$" G_GINT64_FORMAT " AND t_ms < %4$" G_GINT64_FORMAT,
                         level_table[level], device_id, from_ms, to_ms);
  if (!exec_sql (db, del, error))
    return FALSE;
  st = prepare (db, "SELECT " SAMPLE_COLUMNS " FROM samples WHERE device_id = ?1"
                " AND t_ms >= ?2 AND t_ms < ?3 ORDER BY t_ms", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, device_id);
  sqlite3_bind_int64 (st, 2, from_ms);
  sqlite3_bind_int64 (st, 3, to_ms);
  acc_reset (acc, device_id, -1);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      row_read (row, st);
      if (acc->t_ms != floor_to (row->t_ms, unit))
        {
          if (acc->n && !rollup_write (db, cache, level, acc, error))
            return FALSE;
          acc_reset (acc, device_id, floor_to (row->t_ms, unit));
        }
      acc_add_row (acc, row);
    }
  if (rc != SQLITE_DONE)
    return set_sql_error (error, db, rc, "Cannot read the samples");
  return acc->n == 0 || rollup_write (db, cache, level, acc, error);
}

static gboolean
rollup_rebuild_all (sqlite3 *db, GHashTable *cache, gint64 from_ms, gint64 to_ms,
                    GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (db, "SELECT id FROM devices", error);
  int rc;

  if (!st)
    return FALSE;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 dev = sqlite3_column_int64 (st, 0);
      if (!rollup_rebuild (db, cache, LEVEL_MINUTE, dev, floor_to (from_ms, MINUTE_MS), to_ms,
                           error) ||
          !rollup_rebuild (db, cache, LEVEL_HOUR, dev, floor_to (from_ms, HOUR_MS), to_ms, error))
        return FALSE;
    }
  return rc == SQLITE_DONE || set_sql_error (error, db, rc, "Cannot list devices");
}

static gboolean
migrate_to_2 (sqlite3 *db, GError **error)
{
  g_autoptr (GHashTable) cache = stmt_cache_new ();

  return exec_sql (db, schema_v2, error) &&
         rollup_rebuild_all (db, cache, G_MININT64 / 2, G_MAXINT64 / 2, error);
}

static gboolean
migrate_to_1 (sqlite3 *db, GError **error)
{
  return exec_sql (db, schema_v1, error);
}

typedef gboolean (*MigrateFunc) (sqlite3 *db, GError **error);
static const MigrateFunc migrations[BMS_HISTORY_SCHEMA_VERSION] = {
  migrate_to_1,
  migrate_to_2,
};

static gboolean
check_integrity (sqlite3 *db, const char *path, const char *pragma, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (db, pragma, NULL);
  g_autoptr (GString) found = g_string_new (NULL);
  int rc, lines = 0;

  if (!st)
    {
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CORRUPT,
                   "The history database “%s” is damaged (%s); it was left as it is: "
                   "move it away to start a new one", path, sqlite3_errmsg (db));
      return FALSE;
    }
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *line = (const char *) sqlite3_column_text (st, 0);
      if (g_strcmp0 (line, "ok") != 0 && lines++ < 5)
        g_string_append_printf (found, "%s%s", found->len ? "; " : "", line);
    }
  if (rc != SQLITE_DONE && found->len == 0)
    g_string_append (found, sqlite3_errmsg (db));
  if (found->len == 0)
    return TRUE;
  g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CORRUPT,
               "The history database “%s” is damaged (%s); it was left as it is: "
               "move it away to start a new one", path, found->str);
  return FALSE;
}

/* Checks what the file is before anything writes to it. */
static gboolean
inspect_existing (sqlite3 *db, const char *path, gint64 *version, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  gint64 app_id = 0, n_objects = 0;

  /* One statement, one snapshot: read one by one, another process creating
   * the file could commit in between (tables but no application id yet
   * looked like "another program's database"). */
  st = prepare (db, "SELECT (SELECT user_version FROM pragma_user_version),"
                " (SELECT application_id FROM pragma_application_id),"
                " (SELECT count(*) FROM sqlite_schema)", NULL);
  if (st && sqlite3_step (st) == SQLITE_ROW)
    {
      *version = sqlite3_column_int64 (st, 0);
      app_id = sqlite3_column_int64 (st, 1);
      n_objects = sqlite3_column_int64 (st, 2);
    }
  else if (sqlite3_errcode (db) == SQLITE_CANTOPEN || sqlite3_errcode (db) == SQLITE_READONLY ||
           sqlite3_errcode (db) == SQLITE_PERM)
    {
      /* A WAL file needs its -wal and -shm beside it: on read-only media
       * they cannot be made, which is no sign of damage. */
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_OPEN,
                   "The history database “%s” cannot be written (%s): is it on read-only "
                   "media or in a folder you cannot write? It can still be read",
                   path, sqlite3_errmsg (db));
      return FALSE;
    }
  else
    {
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CORRUPT,
                   "“%s” is not a history database or is damaged (%s); it was left "
                   "as it is: move it away or choose another file", path, sqlite3_errmsg (db));
      return FALSE;
    }
  if ((app_id != 0 && app_id != APPLICATION_ID) || (app_id == 0 && n_objects > 0))
    {
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_OPEN,
                   "“%s” is an SQLite database of another program; it was left as "
                   "it is: choose another file", path);
      return FALSE;
    }
  if (*version > BMS_HISTORY_SCHEMA_VERSION)
    {
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_TOO_NEW,
                   "The history database “%s” was written by a newer Packwatch "
                   "(schema %" G_GINT64_FORMAT ", this version knows up to %d); it was "
                   "left untouched: update Packwatch or choose another file",
                   path, *version, BMS_HISTORY_SCHEMA_VERSION);
      return FALSE;
    }
  return *version == 0 || check_integrity (db, path, "PRAGMA quick_check", error);
}

static gboolean
migrate (sqlite3 *db, gint64 version, GError **error)
{
  g_autofree char *set = NULL;
  gboolean ok;

  if (version == BMS_HISTORY_SCHEMA_VERSION)
    return TRUE;
  /* Two processes may find the same new file empty: the second waits here
   * for the first one's transaction, then sees its schema. */
  sqlite3_busy_timeout (db, MIGRATE_TIMEOUT_MS);
  ok = exec_sql (db, "BEGIN IMMEDIATE", error);
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);
  if (!ok)
    return FALSE;
  if (!query_int (db, "PRAGMA user_version", &version, error))
    {
      exec_sql (db, "ROLLBACK", NULL);
      return FALSE;
    }
  if (version == BMS_HISTORY_SCHEMA_VERSION)
    return exec_sql (db, "COMMIT", error);
  for (gint64 v = version; v < BMS_HISTORY_SCHEMA_VERSION; v++)
    if (!migrations[v] (db, error))
      {
        exec_sql (db, "ROLLBACK", NULL);
        g_prefix_error (error, "Updating the history database to schema %" G_GINT64_FORMAT ": ",
                        v + 1);
        return FALSE;
      }
  set = g_strdup_printf ("PRAGMA application_id = %d; PRAGMA user_version = %d; COMMIT",
                         APPLICATION_ID, BMS_HISTORY_SCHEMA_VERSION);
  if (!exec_sql (db, set, error))
    {
      exec_sql (db, "ROLLBACK", NULL);
      return FALSE;
    }
  return TRUE;
}

/* The switch needs the file to itself and SQLite does not wait for that
 * through the busy handler: a second process opening a new file at the
 * same moment as another got "database is locked". Retries for as long as
 * the busy timeout. Returns the journal mode now in effect. */
static char *
switch_to_wal (sqlite3 *db, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + BUSY_TIMEOUT_MS * G_GINT64_CONSTANT (1000);

  for (;;)
    {
      g_autoptr (sqlite3_stmt) st = prepare (db, "PRAGMA journal_mode = WAL", error);
      int rc;

      if (!st)
        return NULL;
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        return g_strdup ((const char *) sqlite3_column_text (st, 0));
      if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || g_get_monotonic_time () > deadline)
        {
          set_sql_error (error, db, rc, "Cannot switch to WAL mode");
          return NULL;
        }
      g_usleep (g_random_int_range (5000, 25000));
    }
}

static sqlite3 *
open_writer (const char *path, GError **error)
{
  sqlite3 *db;
  gint64 version = 0;
  g_autofree char *mode = NULL;

  if (!(db = open_db (path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error)))
    return NULL;
  if (!inspect_existing (db, path, &version, error) ||
      !(mode = switch_to_wal (db, error)))
    goto fail;
  if (g_ascii_strcasecmp (mode, "wal") != 0)
    {
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_OPEN,
                   "“%s” cannot use write-ahead logging (journal mode stays “%s”): "
                   "put the database on a local file system", path, mode);
      goto fail;
    }
  if (!exec_sql (db, "PRAGMA synchronous = NORMAL;"
                 " PRAGMA journal_size_limit = " G_STRINGIFY (JOURNAL_SIZE_LIMIT) ";"
                 " PRAGMA cache_size = -" G_STRINGIFY (WRITER_CACHE_KIB), error) ||
      !migrate (db, version, error) ||
      !exec_sql (db, claims_schema, error))
    goto fail;
  return db;

fail:
  sqlite3_close (db);
  return NULL;
}

/* -------------------------------------------------------------- object */

typedef enum {
  JOB_SAMPLES,
  JOB_ALARM,
  JOB_AUDIT,
  JOB_DEVICE,
  JOB_CLAIM,
  JOB_DELETE_BEFORE,
  JOB_SYNC_MODE,
  JOB_FLUSH,
  JOB_QUIT,
} JobType;

typedef struct {
  GMutex   lock;
  GCond    cond;
  gboolean done;
  gint64   result;
  GError  *error;
} Waiter;

typedef struct {
  JobType      type;
  gint64       device_id;
  gint64       t_ms;
  GPtrArray   *rows;        /* Row*, JOB_SAMPLES */
  char        *s1, *s2, *s3, *s4;
  gboolean     flag;
  double       d1, d2;
  gint64       result;      /* handed to the waiter */
  Waiter      *waiter;      /* owned by the caller */
} Job;

struct _BmsHistory
{
  GObject       parent_instance;

  char         *path;
  sqlite3      *reader;
  GMutex        reader_lock;
  GAsyncQueue  *queue;
  GThread      *writer;
  GMainContext *context;

  /* Writer thread only. */
  sqlite3      *wdb;
  GHashTable   *accs;         /* device_id → Acc[2] (minute, hour) */
  GHashTable   *stmts;        /* rollup statements (stmt_cached) */
  GByteArray   *scratch;
  sqlite3_stmt *insert_sample;
  sqlite3_stmt *insert_alarm;
  sqlite3_stmt *insert_audit;
  gint64        last_retention_hour;
  gint64        last_heartbeat_us;  /* monotonic */
  gboolean      claims;             /* this history holds claims */

  char         *token;        /* tells this history's claims from others' */
  char         *reader_uri;   /* read-only: how the connections are opened */
  gboolean      read_only;

  GMutex        state_lock;   /* guards the following */
  BmsHistoryStats stats;
  GError       *pending_error;
  char         *write_error;  /* while failing */
  guint         retention_days;
  gboolean      closed;
};

G_DEFINE_FINAL_TYPE (BmsHistory, bms_history, G_TYPE_OBJECT)

enum { SIGNAL_WRITE_FAILED, SIGNAL_WRITE_RESUMED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
job_free (Job *job)
{
  if (job->rows)
    g_ptr_array_unref (job->rows);
  g_free (job->s1);
  g_free (job->s2);
  g_free (job->s3);
  g_free (job->s4);
  g_free (job);
}

static void
waiter_finish (Waiter *w, gint64 result, const GError *error)
{
  g_mutex_lock (&w->lock);
  w->result = result;
  if (error && !w->error)
    w->error = g_error_copy (error);
  w->done = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

static gboolean
queue_push (BmsHistory *self, Job *job)
{
  gboolean closed;

  g_mutex_lock (&self->state_lock);
  closed = self->closed || self->read_only;
  if (!closed)
    {
      self->stats.queued++;
      g_async_queue_push (self->queue, job);
    }
  g_mutex_unlock (&self->state_lock);
  if (closed)
    job_free (job);
  return !closed;
}

/* Pushes a job and waits for the writer to commit it. */
static gboolean
queue_wait (BmsHistory *self, Job *job, gint64 *result, GError **error)
{
  Waiter w = { 0 };
  gboolean ok;

  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  job->waiter = &w;
  if (!queue_push (self, job))
    {
      if (self->read_only)
        g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_READ_ONLY,
                     "The history database “%s” is open for reading only", self->path);
      else
        g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLOSED,
                     "The history database is closed");
      ok = FALSE;
      goto out;
    }
  g_mutex_lock (&w.lock);
  while (!w.done)
    g_cond_wait (&w.cond, &w.lock);
  g_mutex_unlock (&w.lock);
  if (result)
    *result = w.result;
  ok = w.error == NULL;
  if (w.error)
    g_propagate_error (error, w.error);
out:
  g_mutex_clear (&w.lock);
  g_cond_clear (&w.cond);
  return ok;
}

/* ------------------------------------------------------- writer thread */

static Acc *
writer_acc (BmsHistory *self, gint64 device_id)
{
  Acc *accs = g_hash_table_lookup (self->accs, &device_id);

  if (!accs)
    {
      gint64 *key = g_new (gint64, 1);
      *key = device_id;
      accs = g_new0 (Acc, 2);
      acc_reset (&accs[0], device_id, -1);
      acc_reset (&accs[1], device_id, -1);
      g_hash_table_insert (self->accs, key, accs);
    }
  return accs;
}

static gboolean
acc_load (BmsHistory *self, Level level, Acc *acc, gint64 device_id, gint64 t_ms,
          GError **error)
{
  sqlite3_stmt *st = stmt_cached (self->wdb, self->stmts, rollup_load_sql[level], error);
  int rc;

  if (!st)
    return FALSE;
  acc_reset (acc, device_id, t_ms);
  sqlite3_bind_int64 (st, 1, device_id);
  sqlite3_bind_int64 (st, 2, t_ms);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    acc_merge_blobs (acc, sqlite3_column_int (st, 0),
                     sqlite3_column_blob (st, 1), sqlite3_column_bytes (st, 1),
                     sqlite3_column_blob (st, 2), sqlite3_column_bytes (st, 2), TRUE);
  sqlite3_reset (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_sql_error (error, self->wdb, rc, "Cannot read a rollup");
  return TRUE;
}

/* Writes the rollup units changed since they were last written. Runs inside
 * the transaction, before every COMMIT (and before anything that reads or
 * deletes rollups), so each commit carries its samples' rollups. */
static gboolean
writer_flush_accs (BmsHistory *self, GError **error)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->accs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Acc *accs = value;
      for (Level l = LEVEL_MINUTE; l <= LEVEL_HOUR; l++)
        {
          Acc *acc = &accs[l - 1];
          if (acc->dirty && !rollup_write (self->wdb, self->stmts, l, acc, error))
            return FALSE;
          acc->dirty = FALSE;
        }
    }
  return TRUE;
}

static gboolean
writer_delete_before (BmsHistory *self, gint64 t_ms, gint64 *n_deleted, GError **error)
{
  g_autofree char *sql = NULL;

  if (!writer_flush_accs (self, error))
    return FALSE;
  sql = g_strdup_printf ("DELETE FROM samples WHERE t_ms < %" G_GINT64_FORMAT, t_ms);
  if (!exec_sql (self->wdb, sql, error))
    return FALSE;
  if (n_deleted)
    *n_deleted = sqlite3_changes64 (self->wdb);
  g_free (sql);
  sql = g_strdup_printf ("DELETE FROM alarm_events WHERE t_ms < %" G_GINT64_FORMAT, t_ms);
  if (!exec_sql (self->wdb, sql, error))
    return FALSE;
  /* Drop whole units before the cut; rebuild the two units it falls in. */
  g_free (sql);
  sql = g_strdup_printf ("DELETE FROM rollup_minute WHERE t_ms < %1$" G_GINT64_FORMAT ";"
                         "DELETE FROM rollup_minute_cells WHERE t_ms < %1$" G_GINT64_FORMAT ";"
                         "DELETE FROM rollup_hour WHERE t_ms < %2$" G_GINT64_FORMAT ";"
                         "DELETE FROM rollup_hour_cells WHERE t_ms < %2$" G_GINT64_FORMAT ";",
                         floor_to (t_ms, MINUTE_MS), floor_to (t_ms, HOUR_MS));
  if (!exec_sql (self->wdb, sql, error) ||
      !rollup_rebuild_all (self->wdb, self->stmts, t_ms, floor_to (t_ms, HOUR_MS) + HOUR_MS, error))
    return FALSE;
  g_hash_table_remove_all (self->accs);
  return TRUE;
}

static gboolean
writer_retention (BmsHistory *self, gint64 t_ms, GError **error)
{
  guint days;

  if (floor_to (t_ms, HOUR_MS) == self->last_retention_hour)
    return TRUE;
  self->last_retention_hour = floor_to (t_ms, HOUR_MS);
  g_mutex_lock (&self->state_lock);
  days = self->retention_days;
  g_mutex_unlock (&self->state_lock);
  if (days == 0)
    return TRUE;
  return writer_delete_before (self, g_get_real_time () / 1000 - (gint64) days * 86400000,
                               NULL, error);
}

static gboolean
writer_add_row (BmsHistory *self, const Row *row, gboolean *added, GError **error)
{
  Acc *accs;
  int rc;

  /* row_bind sets all 12 parameters (NULL included) each time: no
   * sqlite3_clear_bindings needed. */
  row_bind (row, self->insert_sample, self->scratch);
  rc = sqlite3_step (self->insert_sample);
  sqlite3_reset (self->insert_sample);
  if (rc != SQLITE_DONE)
    return set_sql_error (error, self->wdb, rc, "Cannot store a sample");
  if (sqlite3_changes (self->wdb) == 0)
    return TRUE; /* same device and millisecond again: the first one stays */
  *added = TRUE;

  /* The row goes into the open minute and hour in memory; a unit is written
   * when the row of another unit arrives, and before the COMMIT. */
  accs = writer_acc (self, row->device_id);
  for (Level l = LEVEL_MINUTE; l <= LEVEL_HOUR; l++)
    {
      Acc *acc = &accs[l - 1];
      gint64 unit_start = floor_to (row->t_ms, level_unit[l]);

      if (acc->t_ms != unit_start)
        {
          if (acc->dirty && !rollup_write (self->wdb, self->stmts, l, acc, error))
            return FALSE;
          if (!acc_load (self, l, acc, row->device_id, unit_start, error))
            return FALSE;
        }
      acc_add_row (acc, row);
      acc->dirty = TRUE;
    }
  return writer_retention (self, row->t_ms, error);
}

static gboolean
writer_add_text_row (BmsHistory *self, sqlite3_stmt *st, Job *job, GError **error)
{
  int rc;

  sqlite3_reset (st);
  sqlite3_bind_int64 (st, 1, job->device_id);
  sqlite3_bind_int64 (st, 2, job->t_ms);
  sqlite3_bind_text (st, 3, job->s1, -1, SQLITE_STATIC);
  if (st == self->insert_alarm)
    {
      sqlite3_bind_int (st, 4, job->flag);
      if (isnan (job->d1)) sqlite3_bind_null (st, 5); else sqlite3_bind_double (st, 5, job->d1);
      if (isnan (job->d2)) sqlite3_bind_null (st, 6); else sqlite3_bind_double (st, 6, job->d2);
      sqlite3_bind_text (st, 7, job->s2, -1, SQLITE_STATIC);
    }
  else
    {
      sqlite3_bind_text (st, 4, job->s2, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 5, job->s3, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 6, job->s4, -1, SQLITE_STATIC);
    }
  rc = sqlite3_step (st);
  sqlite3_clear_bindings (st);
  if (rc != SQLITE_DONE)
    return set_sql_error (error, self->wdb, rc, "Cannot store an event");
  g_mutex_lock (&self->state_lock);
  if (st == self->insert_alarm)
    self->stats.alarm_events++;
  else
    self->stats.audit_rows++;
  g_mutex_unlock (&self->state_lock);
  return TRUE;
}

static gboolean
writer_ensure_device (BmsHistory *self, Job *job, GError **error)
{
  g_autoptr (sqlite3_stmt) ins = NULL;
  g_autoptr (sqlite3_stmt) sel = NULL;
  int rc;

  ins = prepare (self->wdb, "INSERT INTO devices (key, name, created_ms) VALUES (?1, ?2, ?3)"
                 " ON CONFLICT (key) DO UPDATE SET name = excluded.name"
                 " WHERE excluded.name IS NOT NULL AND name IS NOT excluded.name", error);
  sel = prepare (self->wdb, "SELECT id FROM devices WHERE key = ?1", error);
  if (!ins || !sel)
    return FALSE;
  sqlite3_bind_text (ins, 1, job->s1, -1, SQLITE_STATIC);
  sqlite3_bind_text (ins, 2, job->s2, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (ins, 3, g_get_real_time () / 1000);
  if ((rc = sqlite3_step (ins)) != SQLITE_DONE)
    return set_sql_error (error, self->wdb, rc, "Cannot store the device");
  sqlite3_bind_text (sel, 1, job->s1, -1, SQLITE_STATIC);
  if ((rc = sqlite3_step (sel)) != SQLITE_ROW)
    return set_sql_error (error, self->wdb, rc, "Cannot find the device");
  job->result = sqlite3_column_int64 (sel, 0);
  return TRUE;
}

/* This boot of this machine: a claim from an earlier boot is dead even if
 * its pid now belongs to a live process (after a power cut the logger
 * restarts with pids close to its old one). */
static const char *
boot_id (void)
{
  static gsize once;
  static char *id;

  if (g_once_init_enter (&once))
    {
      if (!g_file_get_contents ("/proc/sys/kernel/random/boot_id", &id, NULL, NULL))
        id = g_strdup ("");
      g_strstrip (id);
      g_once_init_leave (&once, 1);
    }
  return id;
}

/* On this machine the process table decides (a logger stuck on a full
 * disk for minutes cannot renew its heartbeat, yet is alive); elsewhere
 * only the heartbeat can. */
static gboolean
claim_is_stale (gint64 pid, const char *host, const char *boot, gint64 heartbeat_ms)
{
  if (g_strcmp0 (host, g_get_host_name ()) != 0)
    return g_get_real_time () / 1000 - heartbeat_ms > BMS_HISTORY_CLAIM_STALE_S * 1000;
  if (*boot_id () && g_strcmp0 (boot, boot_id ()) != 0)
    return TRUE;
  /* EPERM: alive, only not ours to signal. */
  return pid > 0 && pid != getpid () && kill ((pid_t) pid, 0) != 0 && errno == ESRCH;
}

static gboolean
claim_refuse (sqlite3_stmt *st, const char *key, GError **error)
{
  gint64 pid = sqlite3_column_int64 (st, 1);
  const char *host = (const char *) sqlite3_column_text (st, 2);
  gint64 started_ms = sqlite3_column_int64 (st, 3);
  gint64 beat_s = (g_get_real_time () / 1000 - sqlite3_column_int64 (st, 4)) / 1000;
  g_autoptr (GDateTime) since = g_date_time_new_from_unix_local (started_ms / 1000);
  g_autofree char *when = since ? g_date_time_format (since, "%Y-%m-%d %H:%M:%S")
                                : g_strdup ("?");

  g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLAIMED,
               "“%s” is already being recorded by process %" G_GINT64_FORMAT " on %s "
               "(since %s, last seen %" G_GINT64_FORMAT " s ago); one writer per device: "
               "stop that one first (its claim is taken over once it has ended%s)",
               key, pid, host ? host : "?", when, MAX (beat_s, 0),
               g_strcmp0 (host, g_get_host_name ()) == 0 ? ""
               : ", or when it has not been seen for " G_STRINGIFY (BMS_HISTORY_CLAIM_STALE_S) " s");
  return FALSE;
}

/* Inside the transaction, so two claimants are serialised by BEGIN
 * IMMEDIATE. */
static gboolean
writer_claim (BmsHistory *self, const char *key, GError **error)
{
  g_autoptr (sqlite3_stmt) sel = NULL;
  g_autoptr (sqlite3_stmt) put = NULL;
  gint64 now_ms = g_get_real_time () / 1000;
  int rc;

  sel = prepare (self->wdb, "SELECT token, pid, host, started_ms, heartbeat_ms, boot"
                 " FROM writer_claims WHERE key = ?1", error);
  if (!sel)
    return FALSE;
  sqlite3_bind_text (sel, 1, key, -1, SQLITE_STATIC);
  rc = sqlite3_step (sel);
  if (rc == SQLITE_ROW)
    {
      if (g_strcmp0 ((const char *) sqlite3_column_text (sel, 0), self->token) == 0)
        return TRUE;
      if (!claim_is_stale (sqlite3_column_int64 (sel, 1),
                           (const char *) sqlite3_column_text (sel, 2),
                           (const char *) sqlite3_column_text (sel, 5),
                           sqlite3_column_int64 (sel, 4)))
        return claim_refuse (sel, key, error);
      g_message ("History: taking over “%s” from process %" G_GINT64_FORMAT " on %s, "
                 "which has ended", key, (gint64) sqlite3_column_int64 (sel, 1),
                 (const char *) sqlite3_column_text (sel, 2));
    }
  else if (rc != SQLITE_DONE)
    return set_sql_error (error, self->wdb, rc, "Cannot read the writer claims");
  put = prepare (self->wdb, "INSERT OR REPLACE INTO writer_claims (key, token, pid, host,"
                 " started_ms, heartbeat_ms, boot) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)", error);
  if (!put)
    return FALSE;
  sqlite3_bind_text (put, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (put, 2, self->token, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (put, 3, getpid ());
  sqlite3_bind_text (put, 4, g_get_host_name (), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (put, 5, now_ms);
  sqlite3_bind_text (put, 6, boot_id (), -1, SQLITE_STATIC);
  if ((rc = sqlite3_step (put)) != SQLITE_DONE)
    return set_sql_error (error, self->wdb, rc, "Cannot store the writer claim");
  self->claims = TRUE;
  return TRUE;
}

/* Outside any transaction (autocommit); errors are left to the next
 * transaction to report. */
static void
writer_heartbeat (BmsHistory *self, gboolean force)
{
  char *sql;
  gint64 now = g_get_monotonic_time ();

  if (!self->claims ||
      (!force && now - self->last_heartbeat_us < BMS_HISTORY_CLAIM_HEARTBEAT_S * G_USEC_PER_SEC))
    return;
  self->last_heartbeat_us = now;
  sql = sqlite3_mprintf ("UPDATE writer_claims SET heartbeat_ms = %lld WHERE token = %Q",
                         (long long) (g_get_real_time () / 1000), self->token);
  exec_sql (self->wdb, sql, NULL);
  sqlite3_free (sql);
}

static gboolean
writer_run_job (BmsHistory *self, Job *job, GError **error)
{
  gint64 n = 0;

  switch (job->type)
    {
    case JOB_SAMPLES:
      for (guint i = 0; i < job->rows->len; i++)
        {
          gboolean added = FALSE;
          if (!writer_add_row (self, g_ptr_array_index (job->rows, i), &added, error))
            return FALSE;
          n += added;
        }
      job->result = n;  /* counted once committed */
      return TRUE;
    case JOB_ALARM:
      return writer_add_text_row (self, self->insert_alarm, job, error);
    case JOB_AUDIT:
      return writer_add_text_row (self, self->insert_audit, job, error);
    case JOB_DEVICE:
      return writer_ensure_device (self, job, error);
    case JOB_CLAIM:
      return writer_claim (self, job->s1, error) && writer_ensure_device (self, job, error);
    case JOB_DELETE_BEFORE:
      if (!writer_delete_before (self, job->t_ms, &n, error))
        return FALSE;
      job->result = n;
      return TRUE;
    case JOB_SYNC_MODE:  /* applied before the transaction */
    case JOB_FLUSH:
    case JOB_QUIT:
    default:
      return TRUE;
    }
}

typedef struct {
  GWeakRef ref;
  guint    signal;
  char    *message;
} FailReport;

static void
fail_report_free (gpointer data)
{
  FailReport *r = data;
  g_weak_ref_clear (&r->ref);
  g_free (r->message);
  g_free (r);
}

static gboolean
emit_write_failed (gpointer data)
{
  FailReport *r = data;
  g_autoptr (BmsHistory) self = g_weak_ref_get (&r->ref);

  if (self && r->message)
    g_signal_emit (self, signals[r->signal], 0, r->message);
  else if (self)
    g_signal_emit (self, signals[r->signal], 0);
  return G_SOURCE_REMOVE;
}

static void
post_signal (BmsHistory *self, guint signal, const char *message)
{
  FailReport *r = g_new0 (FailReport, 1);

  g_weak_ref_init (&r->ref, self);
  r->signal = signal;
  r->message = g_strdup (message);
  bms_context_post (self->context, emit_write_failed, r, fail_report_free);
}


/* A full disk fails every cycle until space is freed: it is reported when
 * it starts, not each time (at 5 Hz that was five lines a second). */
static void
writer_record_failure (BmsHistory *self, const GError *error, guint n_jobs)
{
  gboolean first;

  /* The failed transaction may have left the WAL at its largest: fold it
   * into the database and truncate it, so that freed space (or what the
   * file itself still has free) lets the next cycle commit. */
  exec_sql (self->wdb, "PRAGMA wal_checkpoint(TRUNCATE)", NULL);
  g_mutex_lock (&self->state_lock);
  self->stats.failed_jobs += n_jobs;
  first = !self->stats.failing;
  self->stats.failing = TRUE;
  g_free (self->write_error);
  self->write_error = g_strdup (error->message);
  if (!self->pending_error)
    self->pending_error = g_error_copy (error);
  g_mutex_unlock (&self->state_lock);
  /* No g_warning or g_message: a full disk is an expected condition,
   * reported to the caller through bms_history_flush, the stats and
   * "write-failed" (the CLI and the app word it themselves). */
  if (first)
    post_signal (self, SIGNAL_WRITE_FAILED, error->message);
}

static void
writer_record_success (BmsHistory *self, guint64 samples)
{
  gboolean resumed;

  g_mutex_lock (&self->state_lock);
  self->stats.commits++;
  self->stats.samples += samples;
  resumed = self->stats.failing;
  self->stats.failing = FALSE;
  g_clear_pointer (&self->write_error, g_free);
  g_mutex_unlock (&self->state_lock);
  if (resumed)
    post_signal (self, SIGNAL_WRITE_RESUMED, NULL);
}

/* One transaction: the first job plus the non-sample jobs already queued
 * behind it (so a cycle's sample and its alarm events commit together, and
 * every sample job gets a transaction of its own). */
static void
writer_run_batch (BmsHistory *self, GPtrArray *jobs)
{
  g_autoptr (GError) error = NULL;
  gboolean ok, idle = TRUE;

  /* PRAGMA synchronous cannot change inside a transaction. */
  for (guint i = 0; i < jobs->len; i++)
    {
      Job *job = g_ptr_array_index (jobs, i);
      if (job->type == JOB_SYNC_MODE)
        exec_sql (self->wdb, job->flag ? "PRAGMA synchronous = FULL"
                                       : "PRAGMA synchronous = NORMAL", NULL);
      idle &= job->type >= JOB_SYNC_MODE;
    }
  if (idle)
    {
      for (guint i = 0; i < jobs->len; i++)
        {
          Job *job = g_ptr_array_index (jobs, i);
          if (job->waiter)
            waiter_finish (job->waiter, 0, NULL);
        }
      return;
    }
  writer_heartbeat (self, FALSE);
  ok = exec_sql (self->wdb, "BEGIN IMMEDIATE", &error);

  for (guint i = 0; ok && i < jobs->len; i++)
    ok = writer_run_job (self, g_ptr_array_index (jobs, i), &error);
  if (ok)
    ok = writer_flush_accs (self, &error) && exec_sql (self->wdb, "COMMIT", &error);
  if (!ok)
    {
      if (!sqlite3_get_autocommit (self->wdb))
        exec_sql (self->wdb, "ROLLBACK", NULL);
      g_hash_table_remove_all (self->accs);
      guint lost = 0;

      for (guint i = 0; i < jobs->len; i++)
        lost += ((Job *) g_ptr_array_index (jobs, i))->type < JOB_SYNC_MODE;
      writer_record_failure (self, error, lost);
    }
  else
    {
      guint64 samples = 0;

      for (guint i = 0; i < jobs->len; i++)
        {
          Job *job = g_ptr_array_index (jobs, i);
          if (job->type == JOB_SAMPLES)
            samples += job->result;
        }
      writer_record_success (self, samples);
    }
  for (guint i = 0; i < jobs->len; i++)
    {
      Job *job = g_ptr_array_index (jobs, i);
      if (job->waiter)
        waiter_finish (job->waiter, job->result, ok ? NULL : error);
    }
}

/* A table missing from a file that claims to be ours means damage (or a
 * file someone edited): say so with SQLite's own words. Each statement is
 * checked on its own: the message of a failed prepare is gone once the
 * next one succeeds (that gave "not an error"). */
static gboolean
writer_prepare (BmsHistory *self, GError **error)
{
  static const char * const sql[] = {
    "INSERT OR IGNORE INTO samples (" SAMPLE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
    " ?7, ?8, ?9, ?10, ?11, ?12)",
    "INSERT INTO alarm_events (device_id, t_ms, code, raised, value, threshold, text)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "INSERT INTO audit (device_id, t_ms, field, old_value, new_value, result)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  };
  sqlite3_stmt **out[] = { &self->insert_sample, &self->insert_alarm, &self->insert_audit };

  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    if (!(*out[i] = prepare (self->wdb, sql[i], NULL)))
      {
        g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CORRUPT,
                     "“%s” is not a history database or is damaged (%s); it was left "
                     "as it is: move it away or choose another file",
                     self->path, sqlite3_errmsg (self->wdb));
        return FALSE;
      }
  return TRUE;
}

static gpointer
writer_main (gpointer data)
{
  BmsHistory *self = data;
  g_autoptr (GPtrArray) jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) job_free);
  gboolean quit = FALSE;
  Job *held = NULL;

  while (!quit)
    {
      /* Wakes up while idle only to keep a claim alive. */
      Job *job = held ? held
                 : self->claims ? g_async_queue_timeout_pop (self->queue,
                                                            BMS_HISTORY_CLAIM_HEARTBEAT_S * G_USEC_PER_SEC)
                 : g_async_queue_pop (self->queue);

      held = NULL;
      if (!job)
        {
          /* Idle (the board does not answer): the claim stays alive. */
          writer_heartbeat (self, FALSE);
          continue;
        }
      g_ptr_array_add (jobs, job);
      while (jobs->len < MAX_JOBS_PER_TX && (job = g_async_queue_try_pop (self->queue)))
        {
          if (job->type == JOB_SAMPLES)
            {
              held = job;
              break;
            }
          g_ptr_array_add (jobs, job);
        }
      for (guint i = 0; i < jobs->len; i++)
        quit |= ((Job *) g_ptr_array_index (jobs, i))->type == JOB_QUIT;
      g_mutex_lock (&self->state_lock);
      self->stats.queued -= jobs->len;
      g_mutex_unlock (&self->state_lock);
      writer_run_batch (self, jobs);
      g_ptr_array_set_size (jobs, 0);
    }
  if (held)
    job_free (held);
  if (self->claims)
    {
      char *sql = sqlite3_mprintf ("DELETE FROM writer_claims WHERE token = %Q", self->token);
      exec_sql (self->wdb, sql, NULL);
      sqlite3_free (sql);
    }
  return NULL;
}

/* --------------------------------------------------------- construction */

static void
bms_history_dispose (GObject *object)
{
  bms_history_close (BMS_HISTORY (object));
  G_OBJECT_CLASS (bms_history_parent_class)->dispose (object);
}

static void
bms_history_finalize (GObject *object)
{
  BmsHistory *self = BMS_HISTORY (object);

  g_clear_error (&self->pending_error);
  g_free (self->write_error);
  g_free (self->token);
  g_free (self->reader_uri);
  g_async_queue_unref (self->queue);
  g_hash_table_unref (self->accs);
  g_clear_pointer (&self->stmts, g_hash_table_unref);
  g_byte_array_unref (self->scratch);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->reader_lock);
  g_mutex_clear (&self->state_lock);
  g_free (self->path);
  G_OBJECT_CLASS (bms_history_parent_class)->finalize (object);
}

static void
bms_history_class_init (BmsHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = bms_history_dispose;
  object_class->finalize = bms_history_finalize;

  /* Emitted in the main context the history was created in when a queued
   * write could not be committed (the message says why, e.g. disk full). */
  signals[SIGNAL_WRITE_FAILED] =
    g_signal_new ("write-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /* Emitted like "write-failed" when a commit succeeds after failures. */
  signals[SIGNAL_WRITE_RESUMED] =
    g_signal_new ("write-resumed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
bms_history_init (BmsHistory *self)
{
  g_mutex_init (&self->reader_lock);
  g_mutex_init (&self->state_lock);
  self->queue = g_async_queue_new ();
  self->accs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->stmts = stmt_cache_new ();
  self->scratch = g_byte_array_new ();
  self->context = g_main_context_ref_thread_default ();
  self->last_retention_hour = G_MININT64;
  self->token = g_uuid_string_random ();
}

char *
bms_history_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "packwatch", "history.db", NULL);
}

BmsHistory *
bms_history_new (const char *path_or_null, GError **error)
{
  g_autoptr (BmsHistory) self = NULL;
  g_autofree char *path = path_or_null ? g_strdup (path_or_null) : bms_history_default_path ();
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_OPEN,
                   "Cannot create the folder “%s” for the history database: %s",
                   dir, g_strerror (saved));
      return NULL;
    }
  self = g_object_new (BMS_TYPE_HISTORY, NULL);
  self->path = g_steal_pointer (&path);
  if (!(self->wdb = open_writer (self->path, error)))
    {
      self->closed = TRUE;
      return NULL;
    }
  if (!writer_prepare (self, error))
    {
      bms_history_close (self);
      return NULL;
    }
  if (!(self->reader = open_db (self->path, SQLITE_OPEN_READONLY, error)) ||
      !exec_sql (self->reader, "PRAGMA cache_size = -" G_STRINGIFY (READER_CACHE_KIB), error))
    {
      bms_history_close (self);
      return NULL;
    }
  self->writer = g_thread_new ("bms-history-writer", writer_main, self);
  return g_steal_pointer (&self);
}

/* A WAL database needs its -shm index; where it cannot be created
 * (read-only media, a read-only folder) SQLite can still read the file as
 * immutable: nothing else may write it meanwhile, which read-only media
 * guarantee. */
static sqlite3 *
open_reader_ro (const char *path, char **uri_out, gint64 *version, GError **error)
{
  static const char * const queries[] = { "mode=ro", "mode=ro&immutable=1" };

  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_autofree char *uri = path_to_uri (path, queries[i]);
      g_autoptr (GError) local = NULL;
      sqlite3 *db = open_db (uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, &local);
      gint64 probe;

      /* The first read is where a missing -shm shows (SQLITE_CANTOPEN). */
      if (db && !query_int (db, "PRAGMA user_version", &probe, &local) &&
          i + 1 < G_N_ELEMENTS (queries))
        {
          sqlite3_close (db);
          continue;
        }
      g_clear_error (&local);
      if (!db || !inspect_existing (db, path, version, error))
        {
          if (!db && error)
            g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_OPEN,
                         "Cannot open the history database “%s” for reading", path);
          sqlite3_close (db);
          return NULL;
        }
      *uri_out = g_steal_pointer (&uri);
      return db;
    }
  g_assert_not_reached ();
}

BmsHistory *
bms_history_new_read_only (const char *path, GError **error)
{
  g_autoptr (BmsHistory) self = NULL;
  gint64 version = 0;

  g_return_val_if_fail (path != NULL, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_OPEN,
                   "There is no history database “%s”", path);
      return NULL;
    }
  self = g_object_new (BMS_TYPE_HISTORY, NULL);
  self->path = g_strdup (path);
  self->read_only = TRUE;
  if (!(self->reader = open_reader_ro (path, &self->reader_uri, &version, error)))
    return NULL;
  if (version == 0)
    {
      g_set_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CORRUPT,
                   "“%s” is not a history database (it is empty)", path);
      return NULL;
    }
  if (version < BMS_HISTORY_SCHEMA_VERSION)
    {
      /* The reads need the current tables: update it once if we may. */
      bms_history_close (self);
      return bms_history_new (path, error);
    }
  exec_sql (self->reader, "PRAGMA cache_size = -" G_STRINGIFY (READER_CACHE_KIB), NULL);
  return g_steal_pointer (&self);
}

gboolean
bms_history_is_read_only (BmsHistory *self)
{
  g_return_val_if_fail (BMS_IS_HISTORY (self), FALSE);
  return self->read_only;
}

static void
new_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *error = NULL;
  BmsHistory *history = bms_history_new (data, &error);

  if (history)
    g_task_return_pointer (task, history, g_object_unref);
  else
    g_task_return_error (task, error);
}

void
bms_history_new_async (const char *path_or_null, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, bms_history_new_async);
  g_task_set_task_data (task, g_strdup (path_or_null), g_free);
  g_task_run_in_thread (task, new_thread);
}

BmsHistory *
bms_history_new_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
bms_history_get_path (BmsHistory *self)
{
  g_return_val_if_fail (BMS_IS_HISTORY (self), NULL);
  return self->path;
}

void
bms_history_close (BmsHistory *self)
{
  g_return_if_fail (BMS_IS_HISTORY (self));
  if (self->writer)
    {
      Job *quit = g_new0 (Job, 1);
      quit->type = JOB_QUIT;
      /* The writer commits everything queued before the quit, then ends;
       * nothing can be queued behind it. */
      g_mutex_lock (&self->state_lock);
      self->closed = TRUE;
      self->stats.queued++;
      g_async_queue_push (self->queue, quit);
      g_mutex_unlock (&self->state_lock);
      g_thread_join (g_steal_pointer (&self->writer));
    }
  g_mutex_lock (&self->state_lock);
  self->closed = TRUE;
  g_mutex_unlock (&self->state_lock);
  /* The writer closes last: the last connection folds the WAL back into
   * the database file. */
  g_mutex_lock (&self->reader_lock);
  g_clear_pointer (&self->reader, sqlite3_close);
  g_mutex_unlock (&self->reader_lock);
  g_clear_pointer (&self->insert_sample, sqlite3_finalize);
  g_clear_pointer (&self->insert_alarm, sqlite3_finalize);
  g_clear_pointer (&self->insert_audit, sqlite3_finalize);
  if (self->stmts)
    g_hash_table_remove_all (self->stmts);
  g_clear_pointer (&self->wdb, sqlite3_close);
}

/* --------------------------------------------------------------- writes */

gint64
bms_history_ensure_device (BmsHistory *self, const char *device_key, const char *name,
                           GError **error)
{
  Job *job;
  gint64 id = 0;

  g_return_val_if_fail (BMS_IS_HISTORY (self), 0);
  g_return_val_if_fail (device_key && *device_key, 0);
  job = g_new0 (Job, 1);
  job->type = JOB_DEVICE;
  job->s1 = g_strdup (device_key);
  job->s2 = g_strdup (name);
  if (!queue_wait (self, job, &id, error))
    return 0;
  return id;
}

gint64
bms_history_claim_device (BmsHistory *self, const char *device_key, const char *name,
                          GError **error)
{
  Job *job;
  gint64 id = 0;

  g_return_val_if_fail (BMS_IS_HISTORY (self), 0);
  g_return_val_if_fail (device_key && *device_key, 0);
  job = g_new0 (Job, 1);
  job->type = JOB_CLAIM;
  job->s1 = g_strdup (device_key);
  job->s2 = g_strdup (name);
  if (!queue_wait (self, job, &id, error))
    return 0;
  return id;
}

void
bms_history_append_batch (BmsHistory *self, gint64 device_id,
                          const BmsSnapshot *const *snapshots, guint n_snapshots)
{
  Job *job;

  g_return_if_fail (BMS_IS_HISTORY (self));
  g_return_if_fail (device_id > 0);
  if (n_snapshots == 0)
    return;
  job = g_new0 (Job, 1);
  job->type = JOB_SAMPLES;
  job->rows = g_ptr_array_new_full (n_snapshots, g_free);
  for (guint i = 0; i < n_snapshots; i++)
    {
      g_ptr_array_add (job->rows, row_new (device_id, snapshots[i]));
    }
  queue_push (self, job);
}

void
bms_history_append_snapshot (BmsHistory *self, gint64 device_id, const BmsSnapshot *snapshot)
{
  g_return_if_fail (snapshot != NULL);
  bms_history_append_batch (self, device_id, &snapshot, 1);
}

void
bms_history_add_alarm_event (BmsHistory *self, gint64 device_id, gint64 time_us,
                             const char *code, gboolean raised, double value,
                             double threshold, const char *text)
{
  Job *job;

  g_return_if_fail (BMS_IS_HISTORY (self));
  g_return_if_fail (code != NULL);
  job = g_new0 (Job, 1);
  job->type = JOB_ALARM;
  job->device_id = device_id;
  job->t_ms = time_us / 1000;
  job->s1 = g_strdup (code);
  job->s2 = g_strdup (text);
  job->flag = raised;
  job->d1 = value;
  job->d2 = threshold;
  queue_push (self, job);
}

void
bms_history_add_audit (BmsHistory *self, gint64 device_id, gint64 time_us,
                       const char *field, const char *old_value, const char *new_value,
                       const char *result)
{
  Job *job;

  g_return_if_fail (BMS_IS_HISTORY (self));
  g_return_if_fail (field != NULL && result != NULL);
  job = g_new0 (Job, 1);
  job->type = JOB_AUDIT;
  job->device_id = device_id;
  job->t_ms = time_us / 1000;
  job->s1 = g_strdup (field);
  job->s2 = g_strdup (old_value);
  job->s3 = g_strdup (new_value);
  job->s4 = g_strdup (result);
  queue_push (self, job);
}

gboolean
bms_history_flush (BmsHistory *self, GError **error)
{
  Job *job;
  GError *pending;
  gboolean ok;

  g_return_val_if_fail (BMS_IS_HISTORY (self), FALSE);
  if (self->read_only)
    return TRUE;  /* nothing was queued */
  job = g_new0 (Job, 1);
  job->type = JOB_FLUSH;
  ok = queue_wait (self, job, NULL, error);
  g_mutex_lock (&self->state_lock);
  pending = g_steal_pointer (&self->pending_error);
  g_mutex_unlock (&self->state_lock);
  /* A failure in the flush's own transaction is the same one as pending:
   * reported once, not again by the next flush. */
  if (!ok)
    {
      g_clear_error (&pending);
      return FALSE;
    }
  if (pending)
    {
      g_propagate_prefixed_error (error, pending, "Some history was not saved: ");
      return FALSE;
    }
  return TRUE;
}

static void
flush_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *error = NULL;

  if (bms_history_flush (source, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
bms_history_flush_async (BmsHistory *self, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, bms_history_flush_async);
  g_task_run_in_thread (task, flush_thread);
}

gboolean
bms_history_flush_finish (BmsHistory *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
bms_history_set_sync_every_commit (BmsHistory *self, gboolean sync)
{
  Job *job;

  g_return_if_fail (BMS_IS_HISTORY (self));
  job = g_new0 (Job, 1);
  job->type = JOB_SYNC_MODE;
  job->flag = sync;
  queue_push (self, job);
}

void
bms_history_set_retention_days (BmsHistory *self, guint days)
{
  g_return_if_fail (BMS_IS_HISTORY (self));
  g_mutex_lock (&self->state_lock);
  self->retention_days = days;
  g_mutex_unlock (&self->state_lock);
  if (days > 0)
    {
      Job *job = g_new0 (Job, 1);
      job->type = JOB_DELETE_BEFORE;
      job->t_ms = g_get_real_time () / 1000 - (gint64) days * 86400000;
      queue_push (self, job);
    }
}

guint
bms_history_get_retention_days (BmsHistory *self)
{
  guint days;

  g_return_val_if_fail (BMS_IS_HISTORY (self), 0);
  g_mutex_lock (&self->state_lock);
  days = self->retention_days;
  g_mutex_unlock (&self->state_lock);
  return days;
}

gboolean
bms_history_delete_before (BmsHistory *self, gint64 time_us, gint64 *n_deleted, GError **error)
{
  Job *job;
  gint64 n = 0;

  g_return_val_if_fail (BMS_IS_HISTORY (self), FALSE);
  job = g_new0 (Job, 1);
  job->type = JOB_DELETE_BEFORE;
  job->t_ms = time_us / 1000;
  if (!queue_wait (self, job, &n, error))
    return FALSE;
  if (n_deleted)
    *n_deleted = n;
  return TRUE;
}

void
bms_history_get_stats (BmsHistory *self, BmsHistoryStats *out)
{
  g_return_if_fail (BMS_IS_HISTORY (self));
  g_mutex_lock (&self->state_lock);
  *out = self->stats;
  g_mutex_unlock (&self->state_lock);
}

char *
bms_history_dup_write_error (BmsHistory *self)
{
  char *message;

  g_return_val_if_fail (BMS_IS_HISTORY (self), NULL);
  g_mutex_lock (&self->state_lock);
  message = g_strdup (self->write_error);
  g_mutex_unlock (&self->state_lock);
  return message;
}

/* ---------------------------------------------------------------- reads */

static sqlite3 *
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

static void
reader_unlock (BmsHistory *self)
{
  g_mutex_unlock (&self->reader_lock);
}

/* For reads on a connection of their own (long scans). */
static sqlite3 *
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

static gint64 to_ms_from (gint64 us) { return us <= 0 ? G_MININT64 / 2 : us / 1000; }
static gint64 to_ms_to (gint64 us) { return us >= G_MAXINT64 / 2 ? G_MAXINT64 / 2 : us / 1000; }

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

static BmsHistoryRange *range_query (sqlite3 *db, gint64 device_id, gint64 from_ms,
                                     gint64 to_ms, guint max_points, gboolean with_cells,
                                     GError **error);

/* Counting rows would read every sample of the range (a month of 256 cells
 * is 850 MB); one bucket of the rollup cover reads a few hundred rows. */
static gint64
count_device (sqlite3 *db, gint64 device_id, gint64 from_ms, gint64 to_ms, GError **error)
{
  g_autoptr (BmsHistoryRange) r = range_query (db, device_id, from_ms, to_ms, 1, FALSE, error);

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
    n = count_device (db, device_id, to_ms_from (from_us), to_ms_to (to_us), error);
  else if ((st = prepare (db, "SELECT id FROM devices", error)))
    {
      while (n >= 0 && (rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          gint64 c = count_device (db, sqlite3_column_int64 (st, 0), to_ms_from (from_us),
                                   to_ms_to (to_us), error);
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
  g_autofree char *sql = c->with_cells
    ? g_strdup_printf ("SELECT r.t_ms, r.n, r.mm, c.cells FROM %1$s r LEFT JOIN %1$s_cells c"
                       " USING (device_id, t_ms) WHERE r.device_id = ?1 AND r.t_ms >= ?2"
                       " AND r.t_ms < ?3", level_table[level])
    : g_strdup_printf ("SELECT t_ms, n, mm, NULL FROM %s WHERE device_id = ?1"
                       " AND t_ms >= ?2 AND t_ms < ?3", level_table[level]);
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

/* Whole units of level inside [lo, hi) from its rollup, the edges from the
 * level below. */
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
    return range_cover (c, level - 1, lo, hi, error);
  return range_cover (c, level - 1, lo, a, error) &&
         range_scan_rollup (c, level, a, b, error) &&
         range_cover (c, level - 1, b, hi, error);
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

static BmsHistoryRange *
range_query (sqlite3 *db, gint64 device_id, gint64 from_ms, gint64 to_ms, guint max_points,
             gboolean with_cells, GError **error)
{
  RangeCtx c = { db, device_id, 0, 0, 0, with_cells, NULL, NULL };
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
  level = c.bucket >= HOUR_MS ? LEVEL_HOUR : c.bucket >= MINUTE_MS ? LEVEL_MINUTE : LEVEL_SAMPLES;
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
  r = range_query (db, device_id, to_ms_from (from_us), to_ms_to (to_us), max_points,
                   with_cells, error);
  reader_unlock (self);
  return r;
}

typedef struct {
  gint64   device_id, from_us, to_us;
  guint    max_points, limit;
  gboolean with_cells;
} QueryArgs;

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

/* ------------------------------------------------------- events, audit */

void
bms_history_alarm_event_free (BmsHistoryAlarmEvent *event)
{
  if (!event)
    return;
  g_free (event->code);
  g_free (event->text);
  g_free (event);
}

void
bms_history_audit_free (BmsHistoryAudit *audit)
{
  if (!audit)
    return;
  g_free (audit->field);
  g_free (audit->old_value);
  g_free (audit->new_value);
  g_free (audit->result);
  g_free (audit);
}

static double
column_double_or_nan (sqlite3_stmt *st, int col)
{
  return sqlite3_column_type (st, col) == SQLITE_NULL ? NAN : sqlite3_column_double (st, col);
}

static char *
column_dup (sqlite3_stmt *st, int col)
{
  return g_strdup ((const char *) sqlite3_column_text (st, col));
}

static gpointer
read_alarm (sqlite3_stmt *st)
{
  BmsHistoryAlarmEvent *e = g_new0 (BmsHistoryAlarmEvent, 1);

  e->id = sqlite3_column_int64 (st, 0);
  e->device_id = sqlite3_column_int64 (st, 1);
  e->time_us = sqlite3_column_int64 (st, 2) * 1000;
  e->code = column_dup (st, 3);
  e->raised = sqlite3_column_int (st, 4);
  e->value = column_double_or_nan (st, 5);
  e->threshold = column_double_or_nan (st, 6);
  e->text = column_dup (st, 7);
  return e;
}

static gpointer
read_audit (sqlite3_stmt *st)
{
  BmsHistoryAudit *a = g_new0 (BmsHistoryAudit, 1);

  a->id = sqlite3_column_int64 (st, 0);
  a->device_id = sqlite3_column_int64 (st, 1);
  a->time_us = sqlite3_column_int64 (st, 2) * 1000;
  a->field = column_dup (st, 3);
  a->old_value = column_dup (st, 4);
  a->new_value = column_dup (st, 5);
  a->result = column_dup (st, 6);
  return a;
}

static GPtrArray *
query_events (BmsHistory *self, gboolean alarms, gint64 device_id, gint64 from_us,
              gint64 to_us, guint limit, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (
    alarms ? (GDestroyNotify) bms_history_alarm_event_free : (GDestroyNotify) bms_history_audit_free);
  g_autoptr (sqlite3_stmt) st = NULL;
  g_autofree char *sql = NULL;
  gboolean ok = TRUE;
  sqlite3 *db;
  int rc;

  g_return_val_if_fail (BMS_IS_HISTORY (self), NULL);
  sql = g_strdup_printf ("SELECT * FROM (SELECT %s FROM %s WHERE (?1 = 0 OR device_id = ?1)"
                         " AND t_ms BETWEEN ?2 AND ?3 ORDER BY t_ms DESC, id DESC LIMIT ?4)"
                         " ORDER BY t_ms, id",
                         alarms ? "id, device_id, t_ms, code, raised, value, threshold, text"
                                : "id, device_id, t_ms, field, old_value, new_value, result",
                         alarms ? "alarm_events" : "audit");
  if (!(db = reader_lock (self, error)))
    return NULL;
  if ((st = prepare (db, sql, error)))
    {
      sqlite3_bind_int64 (st, 1, device_id);
      sqlite3_bind_int64 (st, 2, to_ms_from (from_us));
      sqlite3_bind_int64 (st, 3, to_ms_to (to_us));
      sqlite3_bind_int64 (st, 4, limit ? (gint64) limit : -1);
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        g_ptr_array_add (out, alarms ? read_alarm (st) : read_audit (st));
      if (rc != SQLITE_DONE)
        ok = set_sql_error (error, db, rc, "Cannot read the event log");
    }
  else
    ok = FALSE;
  g_clear_pointer (&st, sqlite3_finalize);
  reader_unlock (self);
  return ok ? g_steal_pointer (&out) : NULL;
}

GPtrArray *
bms_history_query_alarm_events (BmsHistory *self, gint64 device_id, gint64 from_us,
                                gint64 to_us, guint limit, GError **error)
{
  return query_events (self, TRUE, device_id, from_us, to_us, limit, error);
}

GPtrArray *
bms_history_query_audit (BmsHistory *self, gint64 device_id, gint64 from_us, gint64 to_us,
                         guint limit, GError **error)
{
  return query_events (self, FALSE, device_id, from_us, to_us, limit, error);
}

static void
events_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  QueryArgs *a = data;
  GError *error = NULL;
  gboolean alarms = g_task_get_source_tag (task) == bms_history_query_alarm_events_async;
  GPtrArray *out = query_events (source, alarms, a->device_id, a->from_us, a->to_us,
                                 a->limit, &error);

  if (out)
    g_task_return_pointer (task, out, (GDestroyNotify) g_ptr_array_unref);
  else
    g_task_return_error (task, error);
}

static void
events_async (BmsHistory *self, gpointer tag, gint64 device_id, gint64 from_us, gint64 to_us,
              guint limit, GCancellable *cancellable, GAsyncReadyCallback callback,
              gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  QueryArgs *a = g_new0 (QueryArgs, 1);

  *a = (QueryArgs) { device_id, from_us, to_us, 0, limit, FALSE };
  g_task_set_source_tag (task, tag);
  g_task_set_task_data (task, a, g_free);
  g_task_run_in_thread (task, events_thread);
}

void
bms_history_query_alarm_events_async (BmsHistory *self, gint64 device_id, gint64 from_us,
                                      gint64 to_us, guint limit, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  events_async (self, bms_history_query_alarm_events_async, device_id, from_us, to_us, limit,
                cancellable, callback, user_data);
}

GPtrArray *
bms_history_query_alarm_events_finish (BmsHistory *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
bms_history_query_audit_async (BmsHistory *self, gint64 device_id, gint64 from_us,
                               gint64 to_us, guint limit, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  events_async (self, bms_history_query_audit_async, device_id, from_us, to_us, limit,
                cancellable, callback, user_data);
}

GPtrArray *
bms_history_query_audit_finish (BmsHistory *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
bms_history_check_integrity (BmsHistory *self, GError **error)
{
  sqlite3 *db;
  gboolean ok;

  g_return_val_if_fail (BMS_IS_HISTORY (self), FALSE);
  if (!(db = open_private_reader (self, error)))
    return FALSE;
  ok = check_integrity (db, self->path, "PRAGMA integrity_check", error);
  sqlite3_close (db);
  return ok;
}
