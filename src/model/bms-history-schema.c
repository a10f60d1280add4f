/* bms-history-schema.c — SQL helpers, opening, creating and migrating the file */
#include "config.h"
#include "bms-context.h"


#include "bms-history-private.h"

/* ------------------------------------------------------------ sql utils */

gboolean
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

gboolean
exec_sql (sqlite3 *db, const char *sql, GError **error)
{
  char *msg = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &msg);

  if (rc == SQLITE_OK)
    return TRUE;
  sqlite3_free (msg);
  return set_sql_error (error, db, rc, "Database command failed");
}

sqlite3_stmt *
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

gboolean
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

sqlite3 *
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
char *
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

/* Schema 3: the levels between minute and hour and above the hour
 * (bms-history-private.h, Level), so that every range the Graph offers
 * reads about 2 200 units: 48 hours from 2-minute units, 7 days from
 * 6-minute ones, 30 days from 30-minute ones, a year from 4-hour ones.
 * One table keyed by the unit in minutes, mm and cells in one row (a
 * query reads a few thousand rows; no join with a cells table needed). */
static const char schema_v3[] =
  "CREATE TABLE rollup_level ("
  "  device_id INTEGER NOT NULL, unit_min INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
  "  n INTEGER NOT NULL, mm BLOB NOT NULL, cells BLOB,"
  "  PRIMARY KEY (device_id, unit_min, t_ms)) WITHOUT ROWID;";

/* The board's identity and settings (bms_history_record_board): a full
 * row set, all with one t_ms, each time one of them changed. value is an
 * INTEGER (the raw value), TEXT (ASCII fields) or BLOB (byte fields). */
static const char schema_v4[] =
  "CREATE TABLE IF NOT EXISTS board_settings ("
  "  device_id INTEGER NOT NULL, t_ms INTEGER NOT NULL, name TEXT NOT NULL, value,"
  "  PRIMARY KEY (device_id, t_ms, name)) WITHOUT ROWID;";

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
 * running them (it was 60 % of the writer's time when done per sample).
 * Parameters: ?1 device, ?2 unit start, ?3 n, ?4 mm, ?5 unit in minutes
 * (rollup_level), ?6 cells. */
#define LEVEL_SQL(minute, hour, level) { NULL, minute, level, level, level, hour, level, level }
static const char * const rollup_upsert_sql[N_LEVELS] = LEVEL_SQL (
  "INSERT OR REPLACE INTO rollup_minute (device_id, t_ms, n, mm) VALUES (?1, ?2, ?3, ?4)",
  "INSERT OR REPLACE INTO rollup_hour (device_id, t_ms, n, mm) VALUES (?1, ?2, ?3, ?4)",
  "INSERT OR REPLACE INTO rollup_level (device_id, unit_min, t_ms, n, mm, cells)"
  " VALUES (?1, ?5, ?2, ?3, ?4, ?6)");
static const char * const rollup_upsert_cells_sql[N_LEVELS] = LEVEL_SQL (
  "INSERT OR REPLACE INTO rollup_minute_cells (device_id, t_ms, cells) VALUES (?1, ?2, ?6)",
  "INSERT OR REPLACE INTO rollup_hour_cells (device_id, t_ms, cells) VALUES (?1, ?2, ?6)",
  NULL);
static const char * const rollup_delete_sql[N_LEVELS] = LEVEL_SQL (
  "DELETE FROM rollup_minute WHERE device_id = ?1 AND t_ms = ?2",
  "DELETE FROM rollup_hour WHERE device_id = ?1 AND t_ms = ?2",
  "DELETE FROM rollup_level WHERE device_id = ?1 AND unit_min = ?5 AND t_ms = ?2");
static const char * const rollup_delete_cells_sql[N_LEVELS] = LEVEL_SQL (
  "DELETE FROM rollup_minute_cells WHERE device_id = ?1 AND t_ms = ?2",
  "DELETE FROM rollup_hour_cells WHERE device_id = ?1 AND t_ms = ?2",
  NULL);
static const char * const rollup_load_sqls[N_LEVELS] = LEVEL_SQL (
  "SELECT r.n, r.mm, c.cells FROM rollup_minute r LEFT JOIN rollup_minute_cells c"
  " USING (device_id, t_ms) WHERE r.device_id = ?1 AND r.t_ms = ?2",
  "SELECT r.n, r.mm, c.cells FROM rollup_hour r LEFT JOIN rollup_hour_cells c"
  " USING (device_id, t_ms) WHERE r.device_id = ?1 AND r.t_ms = ?2",
  "SELECT n, mm, cells FROM rollup_level WHERE device_id = ?1 AND t_ms = ?2 AND unit_min = ?5");

/* n, mm, cells of one unit: ?1 device, ?2 start (rollup_bind_unit for ?5). */
const char *
rollup_load_sql (Level level)
{
  return rollup_load_sqls[level];
}

/* Binds the unit of a rollup_level row, if st has that parameter. */
void
rollup_bind_unit (sqlite3_stmt *st, int index, Level level)
{
  if (sqlite3_bind_parameter_count (st) >= index)
    sqlite3_bind_int64 (st, index, level_unit[level] / MINUTE_MS);
}

static void
stmt_finalize (gpointer st)
{
  sqlite3_finalize (st);
}

/* static SQL text → sqlite3_stmt*, finalized with the table. */
GHashTable *
stmt_cache_new (void)
{
  return g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, stmt_finalize);
}

/* A reset statement for sql (a static string), prepared on first use. */
sqlite3_stmt *
stmt_cached (sqlite3 *db, GHashTable *cache, const char *sql, GError **error)
{
  sqlite3_stmt *st = g_hash_table_lookup (cache, sql);

  if (!st && (st = prepare (db, sql, error)))
    g_hash_table_insert (cache, (gpointer) sql, st);
  return st;
}

static gboolean
step_done (sqlite3 *db, GHashTable *cache, const char *sql, Level level, const Acc *acc,
           const GByteArray *mm, const GByteArray *cells, GError **error)
{
  sqlite3_stmt *st = stmt_cached (db, cache, sql, error);
  int n_params, rc;

  if (!st)
    return FALSE;
  n_params = sqlite3_bind_parameter_count (st);
  sqlite3_bind_int64 (st, 1, acc->device_id);
  sqlite3_bind_int64 (st, 2, acc->t_ms);
  if (mm)
    {
      sqlite3_bind_int (st, 3, acc->n);
      sqlite3_bind_blob (st, 4, mm->data, mm->len, SQLITE_STATIC);
    }
  rollup_bind_unit (st, 5, level);
  if (n_params >= 6 && cells && cells->len)
    sqlite3_bind_blob (st, 6, cells->data, cells->len, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  return rc == SQLITE_DONE || set_sql_error (error, db, rc, "Cannot write a rollup");
}

gboolean
rollup_write (sqlite3 *db, GHashTable *cache, Level level, const Acc *acc, GError **error)
{
  g_autoptr (GByteArray) mm = NULL;
  g_autoptr (GByteArray) cells = NULL;

  if (acc->n == 0)
    return step_done (db, cache, rollup_delete_sql[level], level, acc, NULL, NULL, error) &&
           (!rollup_delete_cells_sql[level] ||
            step_done (db, cache, rollup_delete_cells_sql[level], level, acc, NULL, NULL, error));
  mm = g_byte_array_sized_new (64);
  acc_encode_mm (acc, mm);
  cells = g_byte_array_sized_new (1 + 4 * acc->n_cells);
  if (acc->n_cells > 0)
    acc_encode_cells (acc, cells);
  if (!step_done (db, cache, rollup_upsert_sql[level], level, acc, mm, cells, error))
    return FALSE;
  if (acc->n_cells == 0 || !rollup_upsert_cells_sql[level])
    return TRUE;
  return step_done (db, cache, rollup_upsert_cells_sql[level], level, acc, NULL, cells, error);
}

/* Deletes the units of level in [from_ms, to_ms) of one device. */
static gboolean
rollup_delete_range (sqlite3 *db, Level level, gint64 device_id, gint64 from_ms, gint64 to_ms,
                     GError **error)
{
  g_autofree char *del = NULL;

  if (!level_has_own_table (level))
    del = g_strdup_printf ("DELETE FROM rollup_level WHERE device_id = %" G_GINT64_FORMAT
                           " AND unit_min = %" G_GINT64_FORMAT " AND t_ms >= %" G_GINT64_FORMAT
                           " AND t_ms < %" G_GINT64_FORMAT, device_id,
                           level_unit[level] / MINUTE_MS, from_ms, to_ms);
  else
    del = g_strdup_printf ("DELETE FROM %1$s WHERE device_id = %2$" G_GINT64_FORMAT
                           " AND t_ms >= %3$" G_GINT64_FORMAT " AND t_ms < %4$" G_GINT64_FORMAT ";"
                           "DELETE FROM %1$s_cells WHERE device_id = %2$" G_GINT64_FORMAT
                           " AND t_ms >= %3$" G_GINT64_FORMAT " AND t_ms < %4$" G_GINT64_FORMAT,
                           level_table[level], device_id, from_ms, to_ms);
  return exec_sql (db, del, error);
}

/* Recomputes the minute units of a device from the samples in
 * [from_ms, to_ms) (both minute aligned). */
static gboolean
rollup_rebuild_minutes (sqlite3 *db, GHashTable *cache, gint64 device_id,
                        gint64 from_ms, gint64 to_ms, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  g_autofree Acc *acc = g_new0 (Acc, 1);
  g_autofree Row *row = g_new0 (Row, 1);
  int rc;

  if (!rollup_delete_range (db, LEVEL_MINUTE, device_id, from_ms, to_ms, error))
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
      if (acc->t_ms != floor_to (row->t_ms, MINUTE_MS))
        {
          if (acc->n && !rollup_write (db, cache, LEVEL_MINUTE, acc, error))
            return FALSE;
          acc_reset (acc, device_id, floor_to (row->t_ms, MINUTE_MS));
        }
      acc_add_row (acc, row);
    }
  if (rc != SQLITE_DONE)
    return set_sql_error (error, db, rc, "Cannot read the samples");
  return acc->n == 0 || rollup_write (db, cache, LEVEL_MINUTE, acc, error);
}

/* Recomputes the units of level in [from_ms, to_ms) (level aligned) of a
 * device from the units of a finer level src, which must be right there:
 * min/max and counts merge exactly, and an hour is 2 units of 30 minutes
 * instead of 3 600 samples. */
static gboolean
rollup_derive (sqlite3 *db, GHashTable *cache, Level level, Level src, gint64 device_id,
               gint64 from_ms, gint64 to_ms, GError **error)
{
  g_autofree char *sql = rollup_select_sql (src, TRUE);
  g_autoptr (sqlite3_stmt) st = NULL;
  g_autofree Acc *acc = g_new0 (Acc, 1);
  gint64 unit = level_unit[level];
  int rc;

  if (!rollup_delete_range (db, level, device_id, from_ms, to_ms, error) ||
      !(st = prepare (db, sql, error)))
    return FALSE;
  sqlite3_bind_int64 (st, 1, device_id);
  sqlite3_bind_int64 (st, 2, from_ms);
  sqlite3_bind_int64 (st, 3, to_ms);
  acc_reset (acc, device_id, -1);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 t = sqlite3_column_int64 (st, 0);
      if (acc->t_ms != floor_to (t, unit))
        {
          if (acc->n && !rollup_write (db, cache, level, acc, error))
            return FALSE;
          acc_reset (acc, device_id, floor_to (t, unit));
        }
      acc_merge_blobs (acc, sqlite3_column_int (st, 1),
                       sqlite3_column_blob (st, 2), sqlite3_column_bytes (st, 2),
                       sqlite3_column_blob (st, 3), sqlite3_column_bytes (st, 3), TRUE);
    }
  if (rc != SQLITE_DONE)
    return set_sql_error (error, db, rc, "Cannot read the rollups");
  return acc->n == 0 || rollup_write (db, cache, level, acc, error);
}

/* Recomputes every rollup unit of a device that overlaps [from_ms, to_ms):
 * the minutes from the samples, each level above from the one below. Used
 * by migrations, retention and the writer's recovery of the units a killed
 * process left unwritten. Levels in [first, last] only. */
static gboolean
rollup_rebuild_levels (sqlite3 *db, GHashTable *cache, gint64 device_id, gint64 from_ms,
                       gint64 to_ms, Level first, Level last, GError **error)
{
  for (Level l = first; l <= last; l++)
    {
      gint64 a = floor_to (from_ms, level_unit[l]), b = ceil_to (to_ms, level_unit[l]);
      if (!(l == LEVEL_MINUTE ? rollup_rebuild_minutes (db, cache, device_id, a, b, error)
                              : rollup_derive (db, cache, l, l - 1, device_id, a, b, error)))
        return FALSE;
    }
  return TRUE;
}

gboolean
rollup_rebuild_device (sqlite3 *db, GHashTable *cache, gint64 device_id, gint64 from_ms,
                       gint64 to_ms, GError **error)
{
  return rollup_rebuild_levels (db, cache, device_id, from_ms, to_ms, LEVEL_MINUTE,
                                N_LEVELS - 1, error);
}

typedef gboolean (*DeviceFunc) (sqlite3 *db, GHashTable *cache, gint64 device_id,
                                GError **error);

static gboolean
foreach_device (sqlite3 *db, GHashTable *cache, DeviceFunc func, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (db, "SELECT id FROM devices", error);
  int rc;

  if (!st)
    return FALSE;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    if (!func (db, cache, sqlite3_column_int64 (st, 0), error))
      return FALSE;
  return rc == SQLITE_DONE || set_sql_error (error, db, rc, "Cannot list devices");
}

gboolean
rollup_rebuild_all (sqlite3 *db, GHashTable *cache, gint64 from_ms, gint64 to_ms,
                    GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (db, "SELECT id FROM devices", error);
  int rc;

  if (!st)
    return FALSE;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    if (!rollup_rebuild_device (db, cache, sqlite3_column_int64 (st, 0), from_ms, to_ms, error))
      return FALSE;
  return rc == SQLITE_DONE || set_sql_error (error, db, rc, "Cannot list devices");
}

/* Schema 2 as it was: minutes from the samples, hours from the minutes. */
static gboolean
migrate_device_to_2 (sqlite3 *db, GHashTable *cache, gint64 device_id, GError **error)
{
  return rollup_rebuild_minutes (db, cache, device_id, G_MININT64 / 2, G_MAXINT64 / 2, error) &&
         rollup_derive (db, cache, LEVEL_HOUR, LEVEL_MINUTE, device_id, G_MININT64 / 2,
                        G_MAXINT64 / 2, error);
}

/* The new levels from the minute and hour units already there: a year of
 * 1 Hz samples is 31 M rows, its minutes 525 600. */
static gboolean
migrate_device_to_3 (sqlite3 *db, GHashTable *cache, gint64 device_id, GError **error)
{
  return rollup_rebuild_levels (db, cache, device_id, G_MININT64 / 2, G_MAXINT64 / 2,
                                LEVEL_2MIN, LEVEL_30MIN, error) &&
         rollup_rebuild_levels (db, cache, device_id, G_MININT64 / 2, G_MAXINT64 / 2,
                                LEVEL_4H, LEVEL_DAY, error);
}

/* Nothing to carry over: the history before it kept no settings. */
static gboolean
migrate_to_4 (sqlite3 *db, GError **error)
{
  return exec_sql (db, schema_v4, error);
}

static gboolean
migrate_to_3 (sqlite3 *db, GError **error)
{
  g_autoptr (GHashTable) cache = stmt_cache_new ();

  return exec_sql (db, schema_v3, error) &&
         foreach_device (db, cache, migrate_device_to_3, error);
}

static gboolean
migrate_to_2 (sqlite3 *db, GError **error)
{
  g_autoptr (GHashTable) cache = stmt_cache_new ();

  return exec_sql (db, schema_v2, error) &&
         foreach_device (db, cache, migrate_device_to_2, error);
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
  migrate_to_3,
  migrate_to_4,
};

gboolean
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
gboolean
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

sqlite3 *
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
