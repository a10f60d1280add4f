/* test-history.c — BmsHistory: schema, migration, refusal of newer and
 * damaged files, bytes per sample, decimated queries, transactions,
 * retention, events and audit. */
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "bms-history.h"

#define SEC G_GINT64_CONSTANT (1000000)
#define T0_US G_GINT64_CONSTANT (1767225600000000) /* 2026-01-01 00:00 UTC */

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("history-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->path = g_build_filename (f->dir, "history.db", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

/* Deterministic, realistic values: LFP cells around 3.3 V with a few mV of
 * spread, one cell drifting, current swinging ±50 A. */
static guint16
cell_mv (guint i, guint c)
{
  return 3280 + (c * 7 + i * 3) % 23 + (c == 5 ? (i / 10) % 40 : 0);
}

static BmsSnapshot *
make_snapshot (gint64 t_us, guint i, guint n_cells)
{
  BmsSnapshot *s = bms_snapshot_new ();
  guint16 cells[BMS_MAX_CELLS];
  guint32 sum = 0;

  s->timestamp_us = t_us;
  for (guint c = 0; c < n_cells; c++)
    sum += cells[c] = cell_mv (i, c);
  bms_snapshot_set_cells (s, cells, n_cells);
  bms_snapshot_set_raw (s, BMS_ID_PACK_VOLTAGE, sum / 10);
  bms_snapshot_set_raw (s, BMS_ID_CURRENT, (gint64) ((i * 37) % 10000) - 5000);
  bms_snapshot_set_raw (s, BMS_ID_SOC, 20 + i % 60);
  bms_snapshot_set_raw (s, BMS_ID_MOSFET_TEMP, 25 + i % 7);
  bms_snapshot_set_raw (s, BMS_ID_TEMP1, 22 + i % 3);
  bms_snapshot_set_raw (s, BMS_ID_TEMP2, 23);
  bms_snapshot_set_raw (s, BMS_ID_STATUS, 0x0b);
  bms_snapshot_set_raw (s, BMS_ID_WARNINGS, i % 100 == 0 ? 0x80 : 0);
  return s;
}

/* n samples at 1 Hz from t0, appended in batches of 600. */
static void
fill (BmsHistory *h, gint64 dev, gint64 t0_us, guint n, guint n_cells)
{
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_ptr_array_add (batch, make_snapshot (t0_us + (gint64) i * SEC, i, n_cells));
      if (batch->len == 600 || i + 1 == n)
        {
          bms_history_append_batch (h, dev, (const BmsSnapshot *const *) batch->pdata, batch->len);
          g_ptr_array_set_size (batch, 0);
        }
    }
  g_assert_true (bms_history_flush (h, &error));
  g_assert_no_error (error);
}

static gint64
sql_int (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  gint64 v;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return v;
}

static void
sql_exec (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
  sqlite3_close (db);
}

/* Every rollup row of every level, in key order, as text (for comparing
 * two databases). */
static char *
rollup_dump (const char *path)
{
  static const char * const tables[] = { "rollup_minute", "rollup_hour" };
  sqlite3 *db = NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf (
        "SELECT r.device_id, r.t_ms, r.n, hex (r.mm), hex (c.cells) FROM %1$s r"
        " LEFT JOIN %1$s_cells c USING (device_id, t_ms) ORDER BY 1, 2", tables[i]);
      sqlite3_stmt *st = NULL;

      g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
      while (sqlite3_step (st) == SQLITE_ROW)
        g_string_append_printf (out, "%s %lld %lld %d %s %s\n", tables[i],
                                sqlite3_column_int64 (st, 0), sqlite3_column_int64 (st, 1),
                                sqlite3_column_int (st, 2), sqlite3_column_text (st, 3),
                                sqlite3_column_text (st, 4));
      sqlite3_finalize (st);
    }
  {
    sqlite3_stmt *st = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT device_id, unit_min, t_ms, n, hex (mm),"
                                         " hex (cells) FROM rollup_level ORDER BY 1, 2, 3",
                                         -1, &st, NULL), ==, SQLITE_OK);
    while (sqlite3_step (st) == SQLITE_ROW)
      g_string_append_printf (out, "rollup_level %lld %lld %lld %d %s %s\n",
                              sqlite3_column_int64 (st, 0), sqlite3_column_int64 (st, 1),
                              sqlite3_column_int64 (st, 2), sqlite3_column_int (st, 3),
                              sqlite3_column_text (st, 4), sqlite3_column_text (st, 5));
    sqlite3_finalize (st);
  }
  sqlite3_close (db);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
file_checksum (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
}

/* Every raw sample of the range (read back with foreach_sample, not from
 * the rollups) lies inside the envelope of its bucket, series and cells,
 * and each bucket's count, min and max are exactly those of its samples:
 * the values are the same whatever level the range was read from. */
typedef struct {
  const BmsHistoryRange *r;
  gint64   nb;
  gint    *point;        /* bucket → index in r, -1 when r has none */
  guint   *count;
  double  *vmin, *vmax;  /* nb × BMS_SERIES_COUNT */
  guint16 *cmin, *cmax;  /* nb × r->n_cells */
  guint    n_samples;
} Envelope;

static gboolean
envelope_add (const BmsHistorySample *s, gpointer data)
{
  Envelope *e = data;
  const BmsHistoryRange *r = e->r;
  gint64 k = (s->time_us - r->origin_us) / r->bucket_us;
  gint p;

  g_assert_cmpint (k, >=, 0);
  g_assert_cmpint (k, <, e->nb);
  p = e->point[k];
  g_assert_cmpint (p, >=, 0);
  e->n_samples++;
  for (guint i = 0; i < BMS_SERIES_COUNT; i++)
    {
      double v = s->values[i];
      double *lo = &e->vmin[k * BMS_SERIES_COUNT + i], *hi = &e->vmax[k * BMS_SERIES_COUNT + i];

      if (isnan (v))
        continue;
      g_assert_cmpfloat (v, >=, r->min[i][p] - 1e-9);
      g_assert_cmpfloat (v, <=, r->max[i][p] + 1e-9);
      *lo = isnan (*lo) ? v : MIN (*lo, v);
      *hi = isnan (*hi) ? v : MAX (*hi, v);
    }
  /* r->n_cells is 0 when the cells were not asked for. */
  g_assert_true (r->n_cells == 0 || s->n_cells <= r->n_cells);
  for (guint c = 0; c < MIN (s->n_cells, r->n_cells); c++)
    {
      gsize i = (gsize) k * r->n_cells + c, j = (gsize) p * r->n_cells + c;

      g_assert_cmpuint (s->cells_mv[c], >=, r->cell_min_mv[j]);
      g_assert_cmpuint (s->cells_mv[c], <=, r->cell_max_mv[j]);
      e->cmin[i] = MIN (e->cmin[i], s->cells_mv[c]);
      e->cmax[i] = MAX (e->cmax[i], s->cells_mv[c]);
    }
  e->count[k]++;
  return TRUE;
}

static void
check_envelope (BmsHistory *h, gint64 dev, const BmsHistoryRange *r)
{
  g_autoptr (GError) error = NULL;
  Envelope e = { r, (r->to_us - r->origin_us) / r->bucket_us + 1 };
  guint total = 0;

  e.point = g_new (gint, e.nb);
  e.count = g_new0 (guint, e.nb);
  e.vmin = g_new (double, e.nb * BMS_SERIES_COUNT);
  e.vmax = g_new (double, e.nb * BMS_SERIES_COUNT);
  e.cmin = g_new (guint16, e.nb * MAX (r->n_cells, 1));
  e.cmax = g_new0 (guint16, e.nb * MAX (r->n_cells, 1));
  memset (e.point, 0xff, e.nb * sizeof (gint));
  memset (e.cmin, 0xff, e.nb * MAX (r->n_cells, 1) * sizeof (guint16));
  for (gint64 i = 0; i < e.nb * BMS_SERIES_COUNT; i++)
    e.vmin[i] = e.vmax[i] = NAN;
  for (guint p = 0; p < r->n_points; p++)
    {
      gint64 k = (r->time_us[p] - r->origin_us) / r->bucket_us;
      g_assert_cmpint (r->time_us[p], ==, r->origin_us + k * r->bucket_us);
      g_assert_cmpint (k, <, e.nb);
      e.point[k] = p;
      total += r->count[p];
    }
  g_assert_true (bms_history_foreach_sample (h, dev, r->from_us, r->to_us, envelope_add, &e,
                                             NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (e.n_samples, ==, total);
  for (guint p = 0; p < r->n_points; p++)
    {
      gint64 k = (r->time_us[p] - r->origin_us) / r->bucket_us;

      g_assert_cmpuint (r->count[p], ==, e.count[k]);
      for (guint i = 0; i < BMS_SERIES_COUNT; i++)
        {
          double lo = e.vmin[k * BMS_SERIES_COUNT + i], hi = e.vmax[k * BMS_SERIES_COUNT + i];
          g_assert_cmpint (isnan (lo), ==, isnan (r->min[i][p]));
          if (!isnan (lo))
            {
              g_assert_cmpfloat_with_epsilon (r->min[i][p], lo, 1e-9);
              g_assert_cmpfloat_with_epsilon (r->max[i][p], hi, 1e-9);
            }
        }
      g_assert_cmpmem (r->cell_min_mv + (gsize) p * r->n_cells, r->n_cells * 2,
                       e.cmin + k * r->n_cells, r->n_cells * 2);
      g_assert_cmpmem (r->cell_max_mv + (gsize) p * r->n_cells, r->n_cells * 2,
                       e.cmax + k * r->n_cells, r->n_cells * 2);
    }
  g_free (e.point);
  g_free (e.count);
  g_free (e.vmin);
  g_free (e.vmax);
  g_free (e.cmin);
  g_free (e.cmax);
}

/* Samples from end_us - days back to end_us: one an hour, then one a
 * minute for the last 4 days, then 1 Hz for the last 2 hours (the level a
 * range is read from depends on its span, not on the density). */
static void
fill_years (BmsHistory *h, gint64 dev, gint64 end_us, guint days, guint n_cells)
{
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);
  g_autoptr (GError) error = NULL;
  guint i = 0;

  for (gint64 t = end_us - (gint64) days * 86400 * SEC; t <= end_us; i++)
    {
      gint64 left = end_us - t;

      g_ptr_array_add (batch, make_snapshot (t, i, n_cells));
      if (batch->len == 600)
        {
          bms_history_append_batch (h, dev, (const BmsSnapshot *const *) batch->pdata, batch->len);
          g_ptr_array_set_size (batch, 0);
        }
      t += left > 4 * 86400 * SEC ? 3600 * SEC : left > 2 * 3600 * SEC ? 60 * SEC : SEC;
    }
  bms_history_append_batch (h, dev, (const BmsSnapshot *const *) batch->pdata, batch->len);
  g_assert_true (bms_history_flush (h, &error));
  g_assert_no_error (error);
}

static void
test_schema (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autofree char *def = bms_history_default_path ();

  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (def, "/packwatch/history.db"));
  g_assert_cmpint (sql_int (f->path, "PRAGMA user_version"), ==, BMS_HISTORY_SCHEMA_VERSION);
  g_assert_cmpint (sql_int (f->path, "SELECT count(*) FROM sqlite_schema WHERE name IN"
                            " ('devices','samples','alarm_events','audit','rollup_minute',"
                            "'rollup_hour', 'rollup_minute_cells', 'rollup_hour_cells',"
                            " 'rollup_level')"), ==, 9);
  g_assert_true (g_file_test (f->path, G_FILE_TEST_EXISTS));
  /* WAL is a property of the file: a fresh connection sees it. */
  {
    sqlite3 *db;
    sqlite3_stmt *st;
    sqlite3_open (f->path, &db);
    sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &st, NULL);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (st, 0), ==, "wal");
    sqlite3_finalize (st);
    sqlite3_close (db);
  }
  /* Reopening an up-to-date file changes nothing. */
  bms_history_close (h);
  g_clear_object (&h);
  h = bms_history_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (bms_history_check_integrity (h, &error));
  g_assert_no_error (error);
}

/* A schema-1 file (no rollups) with samples: opening migrates it to the
 * current schema and builds the rollups from the samples. */
static void
test_migration (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = NULL;
  g_autoptr (BmsHistoryRange) r = NULL;
  g_autoptr (GString) sql = g_string_new (
    "PRAGMA application_id = 1347897411; PRAGMA user_version = 1;"
    "CREATE TABLE devices (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE samples (device_id INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
    " pack_cv INTEGER, current_ca INTEGER, soc INTEGER, temp_mosfet INTEGER,"
    " temp1 INTEGER, temp2 INTEGER, status INTEGER, warnings INTEGER,"
    " alarms_ext INTEGER, cells BLOB, PRIMARY KEY (device_id, t_ms)) WITHOUT ROWID;"
    "CREATE TABLE alarm_events (id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL,"
    " t_ms INTEGER NOT NULL, code TEXT NOT NULL, raised INTEGER NOT NULL, value REAL,"
    " threshold REAL, text TEXT);"
    "CREATE TABLE audit (id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL,"
    " t_ms INTEGER NOT NULL, field TEXT NOT NULL, old_value TEXT, new_value TEXT,"
    " result TEXT NOT NULL);"
    "BEGIN; INSERT INTO devices VALUES (1, 'sim:1', 'old', 0);");

  /* 3 hours at one sample per 10 s; pack voltage 50.00 V + i × 10 mV. Cells
   * blob: zigzag varints 3300 (= 6600: 0xC8 0x33), +1 (0x02). */
  for (guint i = 0; i < 1080; i++)
    g_string_append_printf (sql, "INSERT INTO samples (device_id, t_ms, pack_cv, cells)"
                            " VALUES (1, %" G_GINT64_FORMAT ", %u, x'c83302');",
                            T0_US / 1000 + i * 10000, 5000 + i);
  g_string_append (sql, "COMMIT;");
  sql_exec (f->path, sql->str);

  h = bms_history_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sql_int (f->path, "PRAGMA user_version"), ==, BMS_HISTORY_SCHEMA_VERSION);
  g_assert_cmpint (sql_int (f->path, "SELECT count(*) FROM rollup_minute"), ==, 180);
  g_assert_cmpint (sql_int (f->path, "SELECT count(*) FROM rollup_hour"), ==, 3);
  /* 3 h from midnight: 90 units of 2 min, 30 of 6, 6 of 30, one of 4 h, one day. */
  g_assert_cmpint (sql_int (f->path, "SELECT count(*) FROM rollup_level"), ==, 90 + 30 + 6 + 1 + 1);
  g_assert_cmpint (sql_int (f->path, "SELECT count(*) FROM (SELECT sum(n) AS s FROM rollup_level"
                            " GROUP BY unit_min) WHERE s = 1080"), ==, 5);

  /* The data spans 3 h: two points need two-hour buckets, from the hour
   * rollups. */
  r = bms_history_query_range (h, 1, T0_US, T0_US + 3 * 3600 * SEC, 2, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r->source, ==, "hour");
  g_assert_cmpuint (r->n_points, ==, 2);
  g_assert_cmpint (r->bucket_us, ==, 2 * 3600 * SEC);
  g_assert_cmpuint (r->count[0], ==, 720);
  g_assert_cmpuint (r->count[1], ==, 360);
  g_assert_cmpfloat_with_epsilon (r->min[BMS_SERIES_PACK_VOLTAGE][0], 50.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (r->max[BMS_SERIES_PACK_VOLTAGE][0], 57.19, 1e-9);
  g_assert_cmpfloat_with_epsilon (r->min[BMS_SERIES_PACK_VOLTAGE][1], 57.20, 1e-9);
  g_assert_cmpfloat_with_epsilon (r->max[BMS_SERIES_PACK_VOLTAGE][1], 60.79, 1e-9);
  g_assert_cmpfloat_with_epsilon (r->min[BMS_SERIES_CELL_MIN][1], 3.300, 1e-9);
  g_assert_cmpfloat_with_epsilon (r->max[BMS_SERIES_CELL_MAX][1], 3.301, 1e-9);
  g_assert_true (isnan (r->min[BMS_SERIES_CURRENT][0]));
  g_assert_cmpuint (r->n_cells, ==, 2);
  g_assert_cmpuint (r->cell_min_mv[0], ==, 3300);
  g_assert_cmpuint (r->cell_max_mv[1], ==, 3301);
}

/* A schema-2 file (minute and hour rollups, nothing coarser or between):
 * opening it derives the new levels from its minutes and hours, the same
 * rows the writer keeps as it goes, and ranges read from them are exact. */
static void
test_migration_2 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autofree char *written = NULL, *migrated = NULL;
  gint64 end = T0_US + 40 * 86400 * SEC + 4321 * SEC, d1, d2;

  g_assert_no_error (error);
  d1 = bms_history_ensure_device (h, "sim:old1", NULL, &error);
  d2 = bms_history_ensure_device (h, "sim:old2", NULL, &error);
  g_assert_no_error (error);
  fill_years (h, d1, end, 30, 16);
  fill (h, d2, end - 3 * 3600 * SEC + 17 * SEC, 4000, 256);
  written = rollup_dump (f->path);
  bms_history_close (h);
  g_clear_object (&h);

  /* What schema 2 was: this file without rollup_level. */
  sql_exec (f->path, "DROP TABLE rollup_level; PRAGMA user_version = 2");
  g_assert_cmpint (sql_int (f->path, "SELECT count(*) FROM sqlite_schema"
                            " WHERE name = 'rollup_level'"), ==, 0);
  h = bms_history_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sql_int (f->path, "PRAGMA user_version"), ==, BMS_HISTORY_SCHEMA_VERSION);
  migrated = rollup_dump (f->path);
  g_assert_cmpstr (migrated, ==, written);
  for (guint points = 4; points < 5000; points *= 4)
    {
      g_autoptr (BmsHistoryRange) r1 = bms_history_query_range (h, d1, 0, G_MAXINT64, points,
                                                                TRUE, &error);
      g_autoptr (BmsHistoryRange) r2 = bms_history_query_range (h, d2, 0, G_MAXINT64, points,
                                                                TRUE, &error);
      g_assert_no_error (error);
      check_envelope (h, d1, r1);
      check_envelope (h, d2, r2);
    }
  g_clear_object (&h);

  /* A schema-2 file on read-only media cannot be migrated: it is read as
   * it is, from its minutes and hours, with the same values. */
  sql_exec (f->path, "DROP TABLE rollup_level; PRAGMA user_version = 2");
  {
    g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (f->path, "-shm", NULL);
    g_autofree char *before = file_checksum (f->path), *after = NULL;

    g_assert_cmpint (g_mkdir (wal, 0500), ==, 0);
    g_assert_cmpint (g_mkdir (shm, 0500), ==, 0);
    h = bms_history_new_read_only (f->path, &error);
    g_assert_no_error (error);
    g_assert_true (bms_history_is_read_only (h));
    for (guint points = 4; points < 5000; points *= 4)
      {
        g_autoptr (BmsHistoryRange) r = bms_history_query_range (h, d1, 0, G_MAXINT64, points,
                                                                 TRUE, &error);
        g_assert_no_error (error);
        g_assert_true (g_str_equal (r->source, "hour") || g_str_equal (r->source, "minute") ||
                       g_str_equal (r->source, "samples"));
        check_envelope (h, d1, r);
      }
    g_assert_cmpint (bms_history_count_samples (h, d2, 0, G_MAXINT64, &error), ==, 4000);
    g_clear_object (&h);
    after = file_checksum (f->path);
    g_assert_cmpstr (after, ==, before);
    g_rmdir (wal);
    g_rmdir (shm);
  }
}

static void
test_too_new (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = NULL;
  g_autofree char *before = NULL, *after = NULL, *wal = g_strconcat (f->path, "-wal", NULL);

  sql_exec (f->path, "PRAGMA application_id = 1347897411; PRAGMA user_version = 99;"
                     " CREATE TABLE future (x);");
  before = file_checksum (f->path);
  h = bms_history_new (f->path, &error);
  g_assert_null (h);
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "newer Packwatch"));
  g_assert_nonnull (strstr (error->message, "99"));
  after = file_checksum (f->path);
  g_assert_cmpstr (before, ==, after);
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  g_assert_cmpint (sql_int (f->path, "PRAGMA user_version"), ==, 99);
}

static void
test_damaged (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autofree char *contents = NULL, *before = NULL, *after = NULL;
  g_autofree char *text = g_build_filename (f->dir, "notes.db", NULL);
  gint64 dev;
  gsize len;

  g_assert_no_error (error);
  dev = bms_history_ensure_device (h, "sim:1", "Pack", &error);
  g_assert_no_error (error);
  fill (h, dev, T0_US, 4000, 16);
  g_clear_object (&h);

  /* Scribble over the middle of the file (past the header page). */
  g_assert_true (g_file_get_contents (f->path, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 8 * 4096);
  for (gsize i = 4 * 4096; i < 7 * 4096; i++)
    contents[i] = (char) (i * 131 + 7);
  g_assert_true (g_file_set_contents (f->path, contents, len, NULL));
  before = file_checksum (f->path);

  h = bms_history_new (f->path, &error);
  g_assert_null (h);
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "damaged"));
  after = file_checksum (f->path);
  g_assert_cmpstr (before, ==, after);
  g_clear_error (&error);

  /* Not a database at all. */
  g_assert_true (g_file_set_contents (text, "shopping list: cells, busbars, fuses\n"
                                      "and a lot more text to fill the header page ......\n"
                                      "....................................................\n",
                                      -1, NULL));
  g_free (before);
  before = file_checksum (text);
  h = bms_history_new (text, &error);
  g_assert_null (h);
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CORRUPT);
  g_free (after);
  after = file_checksum (text);
  g_assert_cmpstr (before, ==, after);
}

/* Bytes per sample on disk: the samples b-tree plus both rollups (from
 * dbstat, whole pages), and the whole file divided by the sample count. */
static void
measure (Fixture *f, guint n_cells, guint n, double *btree, double *file)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autofree char *key = g_strdup_printf ("size:%u", n_cells);
  gint64 dev, pages, size;
  GStatBuf st;

  g_assert_no_error (error);
  dev = bms_history_ensure_device (h, key, NULL, &error);
  fill (h, dev, T0_US, n, n_cells);
  g_assert_cmpint (bms_history_count_samples (h, dev, 0, G_MAXINT64, &error), ==, n);
  g_clear_object (&h);   /* checkpoints the WAL into the file */

  pages = sql_int (f->path, "SELECT sum(pgsize) FROM dbstat WHERE name IN"
                   " ('samples', 'rollup_minute', 'rollup_hour', 'rollup_minute_cells',"
                   " 'rollup_hour_cells', 'rollup_level')");
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  size = st.st_size;
  *btree = (double) pages / n;
  *file = (double) size / n;
  g_test_message ("%u cells: %.1f bytes/sample in the samples and rollup b-trees, "
                  "%.1f bytes/sample for the whole file (%" G_GINT64_FORMAT " bytes, %u samples)",
                  n_cells, *btree, *file, size, n);
  g_unlink (f->path);
}

static void
test_sizes (Fixture *f, gconstpointer data)
{
  double btree, file;

  measure (f, 16, 7200, &btree, &file);
  g_assert_cmpfloat (btree, <, 80);
  g_assert_cmpfloat (file, <, 80);
  measure (f, 256, 3600, &btree, &file);
  g_assert_cmpfloat (btree, <, 700);
  g_assert_cmpfloat (file, <, 700);
}

/* The reduced range against a brute-force reduction with the same buckets. */
static void
check_range (BmsHistory *h, gint64 dev, gint64 from_us, gint64 to_us, guint max_points,
             gint64 t0_us, guint n_samples, guint n_cells, const char *source)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistoryRange) r = bms_history_query_range (h, dev, from_us, to_us, max_points,
                                                           TRUE, &error);
  gint64 nb;
  g_autofree double *vmin = NULL, *vmax = NULL;
  g_autofree guint *count = NULL;
  g_autofree guint16 *cmin = NULL, *cmax = NULL;
  guint p = 0;

  g_assert_no_error (error);
  g_assert_cmpstr (r->source, ==, source);
  g_assert_cmpuint (r->n_points, <=, max_points);
  g_assert_cmpint (r->bucket_us, >, 0);
  nb = (r->to_us - r->origin_us) / r->bucket_us + 1;
  g_assert_cmpint (nb, <=, max_points);
  vmin = g_new (double, nb);
  vmax = g_new (double, nb);
  count = g_new0 (guint, nb);
  cmin = g_new (guint16, nb * n_cells);
  cmax = g_new0 (guint16, nb * n_cells);
  memset (cmin, 0xff, nb * n_cells * sizeof (guint16));
  for (guint i = 0; i < n_samples; i++)
    {
      gint64 t = t0_us + (gint64) i * SEC;
      g_autoptr (BmsSnapshot) s = NULL;
      double v;
      gint64 k;

      if (t < from_us || t > to_us)
        continue;
      s = make_snapshot (t, i, n_cells);
      v = bms_snapshot_get (s, BMS_ID_CURRENT);
      k = (t - r->origin_us) / r->bucket_us;
      if (!count[k]++)
        vmin[k] = vmax[k] = v;
      vmin[k] = MIN (vmin[k], v);
      vmax[k] = MAX (vmax[k], v);
      for (guint c = 0; c < n_cells; c++)
        {
          cmin[k * n_cells + c] = MIN (cmin[k * n_cells + c], s->cells_mv[c]);
          cmax[k * n_cells + c] = MAX (cmax[k * n_cells + c], s->cells_mv[c]);
        }
    }
  g_assert_cmpuint (r->n_cells, ==, n_cells);
  for (gint64 k = 0; k < nb; k++)
    {
      if (!count[k])
        continue;
      g_assert_cmpuint (p, <, r->n_points);
      g_assert_cmpint (r->time_us[p], ==, r->origin_us + k * r->bucket_us);
      g_assert_cmpuint (r->count[p], ==, count[k]);
      g_assert_cmpfloat_with_epsilon (r->min[BMS_SERIES_CURRENT][p], vmin[k], 1e-6);
      g_assert_cmpfloat_with_epsilon (r->max[BMS_SERIES_CURRENT][p], vmax[k], 1e-6);
      g_assert_cmpmem (r->cell_min_mv + p * n_cells, n_cells * 2, cmin + k * n_cells, n_cells * 2);
      g_assert_cmpmem (r->cell_max_mv + p * n_cells, n_cells * 2, cmax + k * n_cells, n_cells * 2);
      p++;
    }
  g_assert_cmpuint (p, ==, r->n_points);
}

static void
test_range (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autoptr (GArray) times = NULL, mvs = NULL;
  const guint n = 3 * 3600 + 1234;
  const gint64 t0 = T0_US + 17 * SEC;
  gint64 dev;

  g_assert_no_error (error);
  dev = bms_history_ensure_device (h, "sim:range", "Range", &error);
  g_assert_no_error (error);
  fill (h, dev, t0, n, 24);

  /* Odd edges so that partial minutes and hours come from the samples. */
  check_range (h, dev, 0, G_MAXINT64, 3, t0, n, 24, "hour");
  check_range (h, dev, T0_US + 1234567890, T0_US + 3 * 3600 * SEC + 987654321,
               2, t0, n, 24, "hour");
  check_range (h, dev, T0_US + 100 * SEC, T0_US + 4 * 3600 * SEC,
               60, t0, n, 24, "6min");
  check_range (h, dev, T0_US + 100 * SEC, T0_US + 4 * 3600 * SEC,
               90, t0, n, 24, "2min");
  check_range (h, dev, T0_US + 100 * SEC, T0_US + 4 * 3600 * SEC,
               300, t0, n, 24, "minute");
  check_range (h, dev, T0_US + 100 * SEC, T0_US + 4 * 3600 * SEC,
               10, t0, n, 24, "30min");
  check_range (h, dev, T0_US + 333 * SEC, T0_US + 7777 * SEC,
               1920, t0, n, 24, "samples");
  check_range (h, dev, T0_US + 500 * SEC, T0_US + 520 * SEC,
               1920, t0, n, 24, "samples");

  /* A huge max_points is clamped, not a huge allocation. */
  {
    g_autoptr (BmsHistoryRange) all = bms_history_query_range (h, dev, 0, G_MAXINT64, G_MAXUINT,
                                                               FALSE, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (all->n_points, ==, n);
    g_assert_cmpint ((all->to_us - all->origin_us) / all->bucket_us + 1, <=, BMS_HISTORY_MAX_POINTS);
  }

  g_assert_true (bms_history_query_cell (h, dev, 6, T0_US + 1000 * SEC,
                                         T0_US + 1099 * SEC, &times, &mvs, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (times->len, ==, 100);
  for (guint j = 0; j < times->len; j++)
    {
      guint i = 1000 - 17 + j;
      g_assert_cmpint (g_array_index (times, gint64, j), ==, T0_US + (gint64) (i + 17) * SEC);
      g_assert_cmpuint (g_array_index (mvs, guint16, j), ==, cell_mv (i, 5));
    }
  g_assert_false (bms_history_query_cell (h, dev, 0, 0, G_MAXINT64, NULL, NULL, &error));
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_INVALID);
}

/* A month at 1 Hz of a 256-cell pack is too big for a unit test; a day
 * shows the shape: the graph query reads minute rollups, not samples. */
static void
test_range_speed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autoptr (BmsHistoryRange) r = NULL;
  gint64 dev, t;
  double ms;

  dev = bms_history_ensure_device (h, "sim:speed", NULL, &error);
  t = g_get_monotonic_time ();
  fill (h, dev, T0_US, 6 * 3600, 256);
  ms = (g_get_monotonic_time () - t) / 1000.0;
  g_test_message ("6 h of 256-cell samples written in %.0f ms (%.0f samples/s)",
                  ms, 6 * 3600 / (ms / 1000));
  t = g_get_monotonic_time ();
  r = bms_history_query_range (h, dev, 0, G_MAXINT64, 1920, TRUE, &error);
  ms = (g_get_monotonic_time () - t) / 1000.0;
  g_assert_no_error (error);
  g_test_message ("query of 6 h × 256 cells to %u points: %.1f ms (%s)", r->n_points, ms, r->source);
  g_assert_cmpstr (r->source, ==, "samples");
  g_clear_pointer (&r, bms_history_range_free);
  t = g_get_monotonic_time ();
  r = bms_history_query_range (h, dev, 0, G_MAXINT64, 300, TRUE, &error);
  ms = (g_get_monotonic_time () - t) / 1000.0;
  g_test_message ("query of 6 h × 256 cells to %u points: %.1f ms (%s)", r->n_points, ms, r->source);
  g_assert_cmpstr (r->source, ==, "2min");
  g_assert_cmpfloat (ms, <, 500);
  g_clear_pointer (&r, bms_history_range_free);
  /* 45 s buckets, as a 24 h view asks for: whole minutes are half the
   * points asked for and are read from the rollup, not the samples. */
  r = bms_history_query_range (h, dev, 0, G_MAXINT64, 480, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r->source, ==, "minute");
  g_assert_cmpuint (r->n_points, >=, 480 / 2);
  g_assert_cmpuint (r->n_points, <=, 480);
}

/* Each range the Graph offers, queried as the Graph page asks for it (the
 * view and half a span either side, twice the width of a 1 920-pixel graph
 * in points): the level it is read from is the coarsest whose unit is at
 * most twice the bucket, so at least one bucket a pixel column spans the
 * range, and every value is exact. */
static void
test_range_levels (Fixture *f, gconstpointer data)
{
  static const struct { gint64 seconds; const char *level; } ranges[] = {
    { 600, "samples" }, { 3600, "samples" }, { 86400, "minute" }, { 2 * 86400, "2min" },
    { 7 * 86400, "6min" }, { 30 * 86400, "30min" }, { 365 * 86400, "4h" },
  };
  const guint max_points = 3840;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  /* Odd edges: the ragged ends of each unit come from the finer levels. */
  gint64 end = T0_US + 600 * 86400 * SEC + 12345 * SEC + 678000, dev;

  g_assert_no_error (error);
  dev = bms_history_ensure_device (h, "sim:levels", NULL, &error);
  g_assert_no_error (error);
  fill_years (h, dev, end, 560, 16);
  for (guint i = 0; i < G_N_ELEMENTS (ranges); i++)
    {
      gint64 span = ranges[i].seconds * SEC;
      g_autoptr (BmsHistoryRange) r = bms_history_query_range (h, dev, end - span - span / 2,
                                                               end + span / 2, max_points, TRUE,
                                                               &error);
      gint64 nb;

      g_assert_no_error (error);
      nb = (r->to_us - r->origin_us) / r->bucket_us + 1;
      g_test_message ("%" G_GINT64_FORMAT " s: %s, %u points, %" G_GINT64_FORMAT " buckets of %"
                      G_GINT64_FORMAT " ms", ranges[i].seconds, r->source, r->n_points, nb,
                      r->bucket_us / 1000);
      g_assert_cmpstr (r->source, ==, ranges[i].level);
      g_assert_cmpint (nb, <=, max_points);
      g_assert_cmpint (nb, >=, max_points / 2);
      check_envelope (h, dev, r);
    }
  /* Every level, on odd edges, with and without cells. */
  for (guint points = 3; points < 40000; points = points * 3 + 1)
    {
      g_autoptr (BmsHistoryRange) r = bms_history_query_range (h, dev, end - 20 * 86400 * SEC - 7,
                                                               end - 7777 * SEC, points,
                                                               points % 2, &error);
      g_assert_no_error (error);
      g_test_message ("20 days to %u points: %s", points, r->source);
      check_envelope (h, dev, r);
    }
}

static void
test_transactions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  BmsHistoryStats before, after;
  gint64 dev;

  dev = bms_history_ensure_device (h, "sim:tx", NULL, &error);
  g_assert_no_error (error);
  bms_history_get_stats (h, &before);
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr (BmsSnapshot) s = make_snapshot (T0_US + i * SEC, i, 16);
      bms_history_append_snapshot (h, dev, s);
    }
  g_assert_true (bms_history_flush (h, &error));
  bms_history_get_stats (h, &after);
  /* One transaction per cycle, and a flush alone commits nothing. */
  g_assert_cmpuint (after.commits - before.commits, ==, 20);
  g_assert_cmpuint (after.samples - before.samples, ==, 20);
  g_assert_cmpuint (after.queued, ==, 0);

  /* Syncing every commit changes durability, not the transactions. */
  bms_history_set_sync_every_commit (h, TRUE);
  before = after;
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (BmsSnapshot) s = make_snapshot (T0_US + (60 + i) * SEC, i, 16);
      bms_history_append_snapshot (h, dev, s);
    }
  g_assert_true (bms_history_flush (h, &error));
  bms_history_set_sync_every_commit (h, FALSE);
  bms_history_get_stats (h, &after);
  g_assert_cmpuint (after.commits - before.commits, ==, 3);

  /* A batch is one transaction. */
  before = after;
  fill (h, dev, T0_US + 100 * SEC, 500, 16);
  bms_history_get_stats (h, &after);
  g_assert_cmpuint (after.commits - before.commits, ==, 1);
  g_assert_cmpint (bms_history_count_samples (h, dev, 0, G_MAXINT64, &error), ==, 523);
  g_assert_cmpint (bms_history_count_samples (h, 0, T0_US, T0_US + 9 * SEC, &error), ==, 10);

  /* The same device and millisecond twice: stored once, rollups count once. */
  {
    g_autoptr (BmsSnapshot) s = make_snapshot (T0_US, 0, 16);
    g_autoptr (BmsHistoryRange) r = NULL;
    bms_history_append_snapshot (h, dev, s);
    g_assert_true (bms_history_flush (h, &error));
    r = bms_history_query_range (h, dev, T0_US, T0_US + 59999999, 1, FALSE, &error);
    g_assert_cmpuint (r->count[0], ==, 20);
  }
}

static void
test_retention (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autoptr (GPtrArray) events = NULL, audit = NULL;
  g_autoptr (BmsHistoryRange) r = NULL;
  gint64 now = g_get_real_time (), dev, n = 0, cut;
  const gint64 day = G_GINT64_CONSTANT (86400000000);

  g_assert_cmpuint (bms_history_get_retention_days (h), ==, 0);
  dev = bms_history_ensure_device (h, "sim:ret", NULL, &error);
  /* One sample every 10 minutes for 10 days. */
  for (guint i = 0; i < 1440; i++)
    {
      g_autoptr (BmsSnapshot) s = make_snapshot (now - 10 * day + i * 600 * SEC, i, 16);
      bms_history_append_snapshot (h, dev, s);
    }
  bms_history_add_alarm_event (h, dev, now - 9 * day, "cell_ovp", TRUE, 3.7, 3.65, "old");
  bms_history_add_alarm_event (h, dev, now - 1 * day, "cell_ovp", FALSE, 3.5, 3.6, "new");
  bms_history_add_audit (h, dev, now - 9 * day, "cell_ovp", "3650", "3600", "ok");
  g_assert_true (bms_history_flush (h, &error));

  cut = now - 5 * day + 1234567;
  g_assert_true (bms_history_delete_before (h, cut, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n, >=, 719);
  g_assert_cmpint (n, <=, 721);
  g_assert_cmpint (bms_history_count_samples (h, dev, 0, G_MAXINT64, &error), ==, 1440 - n);
  g_assert_cmpint (bms_history_count_samples (h, dev, 0, cut - 1, &error), ==, 0);
  /* The rollups forgot the deleted samples too. */
  r = bms_history_query_range (h, dev, 0, G_MAXINT64, 2, FALSE, &error);
  g_assert_cmpstr (r->source, ==, "day");
  g_assert_cmpuint (r->count[0] + (r->n_points > 1 ? r->count[1] : 0), ==, 1440 - n);
  g_assert_cmpint (sql_int (f->path, "SELECT sum(n) FROM rollup_minute"), ==, 1440 - n);
  g_assert_cmpint (sql_int (f->path, "SELECT sum(n) FROM rollup_hour"), ==, 1440 - n);
  g_assert_cmpint (sql_int (f->path, "SELECT count(DISTINCT unit_min) FROM rollup_level"), ==, 5);
  g_assert_cmpint (sql_int (f->path, "SELECT max(s) FROM (SELECT sum(n) AS s FROM rollup_level"
                            " GROUP BY unit_min)"), ==, 1440 - n);
  g_assert_cmpint (sql_int (f->path, "SELECT min(s) FROM (SELECT sum(n) AS s FROM rollup_level"
                            " GROUP BY unit_min)"), ==, 1440 - n);
  events = bms_history_query_alarm_events (h, 0, 0, G_MAXINT64, 0, &error);
  g_assert_cmpuint (events->len, ==, 1);
  audit = bms_history_query_audit (h, 0, 0, G_MAXINT64, 0, &error);
  g_assert_cmpuint (audit->len, ==, 1);   /* the audit trail is kept */

  /* The setting: keep 2 days. */
  bms_history_set_retention_days (h, 2);
  g_assert_cmpuint (bms_history_get_retention_days (h), ==, 2);
  g_assert_true (bms_history_flush (h, &error));
  n = bms_history_count_samples (h, dev, 0, G_MAXINT64, &error);
  g_assert_cmpint (n, >=, 287);
  g_assert_cmpint (n, <=, 289);
}

static void
test_events (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autoptr (GPtrArray) events = NULL, audit = NULL, last = NULL;
  gint64 a, b;
  BmsHistoryAlarmEvent *e;
  BmsHistoryAudit *au;

  a = bms_history_ensure_device (h, "/dev/ttyUSB0:1", "Pack A", &error);
  g_assert_no_error (error);
  b = bms_history_ensure_device (h, "/dev/ttyUSB0:2", "Pack B", &error);
  g_assert_cmpint (a, >, 0);
  g_assert_cmpint (b, !=, a);
  g_assert_cmpint (bms_history_ensure_device (h, "/dev/ttyUSB0:1", "Pack A2", &error), ==, a);
  g_assert_cmpint (bms_history_ensure_device (h, "/dev/ttyUSB0:1", NULL, &error), ==, a);

  for (guint i = 0; i < 10; i++)
    bms_history_add_alarm_event (h, i % 2 ? b : a, T0_US + i * 1000, "cell_ovp", i % 3 == 0,
                                 i == 4 ? NAN : 3.6 + i * 0.01, 3.65, "Cell over-voltage");
  bms_history_add_audit (h, a, T0_US + 5000, "cell_ovp", "3650", "3600", "ok");
  bms_history_add_audit (h, a, T0_US + 6000, "cell_uvp", "2500", "9999", "range");
  g_assert_true (bms_history_flush (h, &error));

  events = bms_history_query_alarm_events (h, a, 0, G_MAXINT64, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 5);
  e = g_ptr_array_index (events, 2);
  g_assert_cmpint (e->time_us, ==, T0_US + 4000);
  g_assert_cmpstr (e->code, ==, "cell_ovp");
  g_assert_true (isnan (e->value));
  g_assert_cmpfloat (e->threshold, ==, 3.65);
  g_assert_cmpstr (e->text, ==, "Cell over-voltage");
  e = g_ptr_array_index (events, 0);
  g_assert_true (e->raised);
  g_assert_cmpfloat_with_epsilon (e->value, 3.6, 1e-9);

  last = bms_history_query_alarm_events (h, 0, 0, G_MAXINT64, 3, &error);
  g_assert_cmpuint (last->len, ==, 3);
  g_assert_cmpint (((BmsHistoryAlarmEvent *) last->pdata[0])->time_us, ==, T0_US + 7000);

  audit = bms_history_query_audit (h, a, T0_US, T0_US + 10000, 0, &error);
  g_assert_cmpuint (audit->len, ==, 2);
  au = g_ptr_array_index (audit, 1);
  g_assert_cmpstr (au->field, ==, "cell_uvp");
  g_assert_cmpstr (au->old_value, ==, "2500");
  g_assert_cmpstr (au->new_value, ==, "9999");
  g_assert_cmpstr (au->result, ==, "range");

  {
    g_autoptr (GPtrArray) devs = bms_history_list_devices (h, &error);
    BmsHistoryDevice *d;
    g_assert_cmpuint (devs->len, ==, 2);
    d = g_ptr_array_index (devs, 0);
    g_assert_cmpstr (d->key, ==, "/dev/ttyUSB0:1");
    g_assert_cmpstr (d->name, ==, "Pack A2");
    g_assert_cmpint (d->n_samples, ==, 0);
  }
}

static void
on_range (GObject *source, GAsyncResult *res, gpointer data)
{
  BmsHistoryRange **out = data;
  g_autoptr (GError) error = NULL;

  *out = bms_history_query_range_finish (BMS_HISTORY (source), res, &error);
  g_assert_no_error (error);
}

static void
on_cell (GObject *source, GAsyncResult *res, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (res);
}

static void
test_async (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autoptr (BmsHistoryRange) r = NULL;
  gint64 dev = bms_history_ensure_device (h, "sim:async", NULL, &error);

  fill (h, dev, T0_US, 300, 16);
  bms_history_query_range_async (h, dev, 0, G_MAXINT64, 10, FALSE, NULL, on_range, &r);
  while (!r)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (r->n_points, ==, 10);
  g_assert_cmpuint (r->n_cells, ==, 0);

  {
    g_autoptr (GArray) times = NULL, mvs = NULL;
    gboolean done = FALSE;
    g_autoptr (GAsyncResult) res = NULL;

    bms_history_query_cell_async (h, dev, 16, 0, G_MAXINT64, NULL, on_cell, &res);
    while (!res)
      g_main_context_iteration (NULL, TRUE);
    done = bms_history_query_cell_finish (h, res, &times, &mvs, &error);
    g_assert_no_error (error);
    g_assert_true (done);
    g_assert_cmpuint (times->len, ==, 300);
    g_assert_cmpuint (g_array_index (mvs, guint16, 7), ==, cell_mv (7, 15));
  }

  /* Closed: writes are dropped, reads fail clearly. */
  bms_history_close (h);
  bms_history_append_snapshot (h, dev, &(BmsSnapshot) { .timestamp_us = T0_US });
  g_assert_cmpint (bms_history_count_samples (h, dev, 0, G_MAXINT64, &error), ==, -1);
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (bms_history_query_cell (h, dev, 1, 0, G_MAXINT64, NULL, NULL, &error));
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLOSED);
}

static void
on_write_failed (BmsHistory *h, const char *message, gpointer data)
{
  *(char **) data = g_strdup (message);
}

/* A file size limit stands in for a full disk: the failed cycle is
 * reported (flush and the write-failed signal), what was committed before
 * stays readable, and the history keeps working for reads. */
static void
test_write_failure (void)
{
  g_autofree char *dir = NULL, *path = NULL, *signalled = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = NULL;
  struct rlimit limit = { 512 * 1024, 512 * 1024 };
  gint64 dev, before = 0, after;
  guint i;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }
  dir = g_dir_make_tmp ("history-full-XXXXXX", NULL);
  path = g_build_filename (dir, "history.db", NULL);
  h = bms_history_new (path, &error);
  g_assert_no_error (error);
  g_signal_connect (h, "write-failed", G_CALLBACK (on_write_failed), &signalled);
  dev = bms_history_ensure_device (h, "sim:full", NULL, &error);
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  for (i = 0; i < 200; i++)
    {
      g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);
      for (guint j = 0; j < 300; j++)
        g_ptr_array_add (batch, make_snapshot (T0_US + (i * 300 + j) * SEC, i * 300 + j, 256));
      bms_history_append_batch (h, dev, (const BmsSnapshot *const *) batch->pdata, batch->len);
      if (!bms_history_flush (h, &error))
        break;
      before = bms_history_count_samples (h, dev, 0, G_MAXINT64, NULL);
    }
  g_assert_cmpuint (i, <, 200);
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_WRITE);
  g_printerr ("flush: %s\n", error->message);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_nonnull (signalled);
  g_clear_error (&error);
  after = bms_history_count_samples (h, dev, 0, G_MAXINT64, &error);
  g_assert_no_error (error);
  /* The rollups of a batch may be written in the next transaction (a
   * flush queued after the writer took the batch): then that one failed
   * and the batch's samples stayed. */
  g_assert_true (after == before || after == before + 300);
  g_assert_cmpint (after, >, 0);
  g_clear_object (&h);
  {
    Fixture f = { dir, path };
    fixture_teardown (&f, NULL);
    dir = path = NULL;   /* freed by the teardown */
  }
}


/* One cycle of a logger: one sample, then flush. TRUE when it committed. */
static gboolean
log_cycle (BmsHistory *h, gint64 dev, guint i)
{
  g_autoptr (BmsSnapshot) s = make_snapshot (T0_US + (gint64) i * SEC, i, 256);
  g_autoptr (GError) error = NULL;
  gboolean ok;

  bms_history_append_snapshot (h, dev, s);
  ok = bms_history_flush (h, &error);
  g_assert_true (ok || g_error_matches (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_WRITE));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return ok;
}

static void
count_failed (BmsHistory *h, const char *message, gpointer data)
{
  (*(guint *) data)++;
}

static void
count_resumed (BmsHistory *h, gpointer data)
{
  (*(guint *) data)++;
}

/* A small volume (RLIMIT_FSIZE: each file may grow to the soft limit, which
 * the test can raise again like freeing space). The WAL must not stay at
 * its largest after a failure (the old code failed every cycle from then
 * on), a full disk is reported once and the recovery once, and the count
 * of saved samples is what the file holds. */
static void
test_disk_full_recovers (void)
{
  g_autofree char *dir = NULL, *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = NULL;
  struct rlimit limit = { 384 * 1024, RLIM_INFINITY };
  g_autofree char *message = NULL;
  guint failed_signals = 0, resumed_signals = 0, run = 0, i = 0, n_failing = 0;
  BmsHistoryStats stats;
  GStatBuf st;
  gint64 dev;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }
  dir = g_dir_make_tmp ("history-small-XXXXXX", NULL);
  path = g_build_filename (dir, "history.db", NULL);
  h = bms_history_new (path, &error);
  g_assert_no_error (error);
  g_signal_connect (h, "write-failed", G_CALLBACK (count_failed), &failed_signals);
  g_signal_connect (h, "write-resumed", G_CALLBACK (count_resumed), &resumed_signals);
  dev = bms_history_ensure_device (h, "sim:small", NULL, &error);
  g_assert_no_error (error);
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);

  /* The WAL reaches the limit long before SQLite's own checkpoint (1000
   * pages): after the failure it must be checkpointed, and the cycles go
   * on while the database file itself has room. */
  while (log_cycle (h, dev, i))
    g_assert_cmpuint (++i, <, 5000);
  g_assert_cmpuint (failed_signals, ==, 1);
  g_assert_true (log_cycle (h, dev, ++i) || log_cycle (h, dev, ++i));
  g_assert_cmpuint (resumed_signals, ==, 1);

  /* Now full for good: the database file may not grow any more. Twenty
   * failing cycles in a row give one report, not twenty. */
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  limit.rlim_cur = st.st_size;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  failed_signals = resumed_signals = 0;
  while (run < 20)
    {
      gboolean ok = log_cycle (h, dev, ++i);
      run = ok ? 0 : run + 1;
      n_failing += !ok;
      g_assert_cmpuint (i, <, 20000);
    }
  g_assert_cmpuint (failed_signals, >=, 1);
  g_assert_cmpuint (failed_signals, ==, resumed_signals + 1);
  bms_history_get_stats (h, &stats);
  g_assert_true (stats.failing);
  message = bms_history_dup_write_error (h);
  g_assert_nonnull (message);

  /* Space is freed: the very next cycle records again, reported once. */
  limit.rlim_cur = RLIM_INFINITY;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  resumed_signals = 0;
  g_assert_true (log_cycle (h, dev, ++i));
  g_assert_true (log_cycle (h, dev, ++i));
  g_assert_cmpuint (resumed_signals, ==, 1);
  bms_history_get_stats (h, &stats);
  g_assert_false (stats.failing);
  g_assert_null (bms_history_dup_write_error (h));

  /* Saved means committed: failed cycles are not counted. */
  g_assert_cmpint ((gint64) stats.samples, ==,
                   bms_history_count_samples (h, dev, 0, G_MAXINT64, NULL));
  g_assert_cmpuint (stats.samples, <, i + 1);
  g_assert_cmpuint (stats.failed_jobs, >=, n_failing);
  g_clear_object (&h);
  {
    Fixture f = { dir, path };
    fixture_teardown (&f, NULL);
    dir = path = NULL;
  }
}

/* One writer per device: a second history (another process in real life;
 * the claim holds the token of the history, so two objects of one process
 * behave the same) is refused with the holder's pid and host; a claim of a
 * dead process or with an old heartbeat is taken over; closing releases. */
static void
test_claims (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) a = bms_history_new (f->path, &error);
  g_autoptr (BmsHistory) b = NULL;
  g_autofree char *pid = g_strdup_printf ("process %d on %s", (int) getpid (), g_get_host_name ());
  g_autofree char *sql = NULL;
  g_autofree char *boot = NULL;
  GPid dead;
  const char *argv[] = { "/bin/true", NULL };
  gint64 id_a, id_b;

  g_assert_no_error (error);
  b = bms_history_new (f->path, &error);
  g_assert_no_error (error);
  id_a = bms_history_claim_device (a, "id:PWSIM001", "Pack", &error);
  g_assert_no_error (error);
  g_assert_cmpint (id_a, >, 0);
  /* Claiming again from the same history is fine. */
  g_assert_cmpint (bms_history_claim_device (a, "id:PWSIM001", "Pack", &error), ==, id_a);
  g_assert_no_error (error);
  g_assert_cmpint (bms_history_claim_device (b, "id:PWSIM001", "Pack", &error), ==, 0);
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLAIMED);
  g_assert_nonnull (strstr (error->message, pid));
  g_assert_nonnull (strstr (error->message, "id:PWSIM001"));
  g_clear_error (&error);
  /* Another device is free; reading and plain ensure_device (audit rows of
   * a write while logging) are not refused. */
  g_assert_cmpint (bms_history_claim_device (b, "id:OTHER", NULL, &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpint (bms_history_ensure_device (b, "id:PWSIM001", NULL, &error), ==, id_a);
  g_assert_no_error (error);

  /* Closing releases the claim. */
  g_clear_object (&a);
  id_b = bms_history_claim_device (b, "id:PWSIM001", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id_b, ==, id_a);
  g_clear_object (&b);

  if (!g_file_get_contents ("/proc/sys/kernel/random/boot_id", &boot, NULL, NULL))
    boot = g_strdup ("");
  g_strstrip (boot);

  /* A claim left by a killed process (its pid no longer exists). */
  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                NULL, &dead, &error));
  g_assert_no_error (error);
  waitpid (dead, NULL, 0);
  sql = g_strdup_printf ("INSERT OR REPLACE INTO writer_claims VALUES ('id:PWSIM001', 'gone',"
                         " %d, '%s', 1, %" G_GINT64_FORMAT ", '%s')", (int) dead, g_get_host_name (),
                         g_get_real_time () / 1000, boot);
  sql_exec (f->path, sql);
  a = bms_history_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bms_history_claim_device (a, "id:PWSIM001", NULL, &error), ==, id_a);
  g_assert_no_error (error);
  g_clear_object (&a);

  /* A live pid elsewhere: taken over only once its heartbeat is old. */
  g_free (sql);
  sql = g_strdup_printf ("INSERT OR REPLACE INTO writer_claims VALUES ('id:PWSIM001', 'far',"
                         " 1, 'other-host', 1, %" G_GINT64_FORMAT ", '')", g_get_real_time () / 1000);
  sql_exec (f->path, sql);
  a = bms_history_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bms_history_claim_device (a, "id:PWSIM001", NULL, &error), ==, 0);
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLAIMED);
  g_assert_nonnull (strstr (error->message, "process 1 on other-host"));
  g_clear_error (&error);
  g_free (sql);
  sql = g_strdup_printf ("UPDATE writer_claims SET heartbeat_ms = %" G_GINT64_FORMAT,
                         g_get_real_time () / 1000 - (BMS_HISTORY_CLAIM_STALE_S + 5) * 1000);
  sql_exec (f->path, sql);
  g_assert_cmpint (bms_history_claim_device (a, "id:PWSIM001", NULL, &error), ==, id_a);
  g_assert_no_error (error);
  g_clear_object (&a);

  /* This host and boot, a live pid (init), a heartbeat long stale: alive
   * (a logger stuck on a full disk cannot renew it), so refused. */
  g_free (sql);
  sql = g_strdup_printf ("INSERT OR REPLACE INTO writer_claims VALUES ('id:PWSIM001', 'stuck',"
                         " 1, '%s', 1, 1, '%s')", g_get_host_name (), boot);
  sql_exec (f->path, sql);
  a = bms_history_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bms_history_claim_device (a, "id:PWSIM001", NULL, &error), ==, 0);
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLAIMED);
  g_clear_error (&error);
  g_clear_object (&a);

  /* This host, a live pid (init), a fresh heartbeat, but an earlier boot:
   * after a power cut the pid may belong to anything now. */
  if (*boot)
    {
      g_free (sql);
      sql = g_strdup_printf ("INSERT OR REPLACE INTO writer_claims VALUES ('id:PWSIM001', 'old',"
                             " 1, '%s', 1, %" G_GINT64_FORMAT ", 'an-earlier-boot')",
                             g_get_host_name (), g_get_real_time () / 1000);
      sql_exec (f->path, sql);
      a = bms_history_new (f->path, &error);
      g_assert_no_error (error);
      g_assert_cmpint (bms_history_claim_device (a, "id:PWSIM001", NULL, &error), ==, id_a);
      g_assert_no_error (error);
    }
}

typedef struct {
  const char *path;
  gint       *go;
} RaceArg;

static gpointer
race_open (gpointer data)
{
  RaceArg *arg = data;
  GError *error = NULL;
  BmsHistory *h;

  while (!g_atomic_int_get (arg->go))
    ;
  h = bms_history_new (arg->path, &error);
  if (h)
    {
      bms_history_ensure_device (h, "sim:race", NULL, &error);
      g_object_unref (h);
    }
  return error;
}

/* Several openers creating one new file at the same moment: every one
 * succeeds (the old code gave "table devices already exists" and
 * "Cannot switch to WAL mode: database is locked"). */
static void
test_create_race (Fixture *f, gconstpointer data)
{
  for (guint round = 0; round < 10; round++)
    {
      g_autofree char *path = g_strdup_printf ("%s/race-%u.db", f->dir, round);
      RaceArg arg = { path, NULL };
      GThread *threads[6];
      gint go = 0;

      arg.go = &go;
      for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
        threads[t] = g_thread_new ("race", race_open, &arg);
      g_atomic_int_set (&go, 1);
      for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
        {
          g_autoptr (GError) error = g_thread_join (threads[t]);
          g_assert_no_error (error);
        }
      g_assert_cmpint (sql_int (path, "SELECT count(*) FROM devices"), ==, 1);
      g_assert_cmpint (sql_int (path, "PRAGMA user_version"), ==, BMS_HISTORY_SCHEMA_VERSION);
    }
}

/* Read-only media: even as root (where chmod stops nothing) SQLite cannot
 * create the WAL index when its name is taken by a directory, which is
 * what a read-only folder does to it. Export, alarms, audit and the Graph
 * open such a file for reading; writing is refused clearly. */
static void
test_read_only (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (f->path, "-shm", NULL);
  g_autoptr (BmsHistoryRange) range = NULL;
  g_autofree char *before = NULL, *after = NULL;
  gint64 dev;

  g_assert_no_error (error);
  dev = bms_history_ensure_device (h, "sim:ro", "Pack", &error);
  fill (h, dev, T0_US, 600, 16);
  bms_history_add_alarm_event (h, dev, T0_US, "cell_ovp", TRUE, 3.65, 3.6, "Cell high");
  g_assert_true (bms_history_flush (h, &error));
  g_clear_object (&h);
  before = file_checksum (f->path);
  g_assert_cmpint (g_mkdir (wal, 0500), ==, 0);
  g_assert_cmpint (g_mkdir (shm, 0500), ==, 0);

  /* The writer cannot open it: said as such, not as damage (the old code
   * said "not a history database or is damaged" for every command). */
  h = bms_history_new (f->path, &error);
  g_assert_null (h);
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_OPEN);
  g_assert_nonnull (strstr (error->message, "cannot be written"));
  g_assert_null (strstr (error->message, "damaged"));
  g_clear_error (&error);

  h = bms_history_new_read_only (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (bms_history_is_read_only (h));
  g_assert_cmpint (bms_history_count_samples (h, dev, 0, G_MAXINT64, &error), ==, 600);
  range = bms_history_query_range (h, dev, 0, G_MAXINT64, 100, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (range->n_points, >, 0);
  {
    g_autoptr (GPtrArray) events = bms_history_query_alarm_events (h, 0, 0, G_MAXINT64, 0, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (events->len, ==, 1);
  }
  g_assert_cmpint (bms_history_ensure_device (h, "sim:new", NULL, &error), ==, 0);
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_READ_ONLY);
  g_clear_error (&error);
  g_assert_true (bms_history_flush (h, &error));
  g_clear_object (&h);
  after = file_checksum (f->path);
  g_assert_cmpstr (after, ==, before);
  g_rmdir (wal);
  g_rmdir (shm);
}

/* A file of ours without its samples table: say what SQLite found and that
 * the file is damaged (was "Cannot prepare the writer: not an error"). */
static void
test_missing_table (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);

  g_assert_no_error (error);
  g_clear_object (&h);
  sql_exec (f->path, "DROP TABLE samples");
  h = bms_history_new (f->path, &error);
  g_assert_null (h);
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "no such table: samples"));
  g_assert_nonnull (strstr (error->message, "not a history database or is damaged"));
  g_assert_null (strstr (error->message, "not an error"));
}

/* The writer keeps the open minute and hour in memory and writes them when
 * another unit starts and before each COMMIT. Whatever the order of
 * arrival (cycles, batches over minute and hour edges, two devices
 * interleaved, late samples into units already written, duplicates, the
 * cell count changing), the committed rollups must equal those rebuilt
 * from the samples (migration 2 rebuilds them), after every commit. */
static void
test_rollups_incremental (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autofree char *written = NULL, *rebuilt = NULL;
  gint64 d1, d2;

  g_assert_no_error (error);
  d1 = bms_history_ensure_device (h, "sim:1", NULL, &error);
  d2 = bms_history_ensure_device (h, "sim:2", NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 150; i++)
    {
      g_autoptr (BmsSnapshot) s = make_snapshot (T0_US + 3540 * SEC + i * SEC, i, 16);
      bms_history_append_snapshot (h, d1, s);
      if (i % 50 == 49)
        {
          /* Committed: every sample is in its minute and hour already. */
          g_assert_true (bms_history_flush (h, &error));
          g_assert_cmpint (sql_int (f->path, "SELECT sum (n) FROM rollup_minute"
                                    " WHERE device_id = 1"), ==, i + 1);
          g_assert_cmpint (sql_int (f->path, "SELECT sum (n) FROM rollup_hour"
                                    " WHERE device_id = 1"), ==, i + 1);
        }
    }
  fill (h, d2, T0_US + 3300 * SEC, 700, 16);
  {
    /* Late samples (into minutes and the hour written long ago), one
     * duplicate, and 256 cells in a minute of 16-cell samples. */
    g_autoptr (GPtrArray) late = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);
    for (guint i = 0; i < 5; i++)
      g_ptr_array_add (late, make_snapshot (T0_US + 3540 * SEC + i * SEC + SEC / 2, 1000 + i, 16));
    g_ptr_array_add (late, make_snapshot (T0_US + 3545 * SEC, 7, 16));
    g_ptr_array_add (late, make_snapshot (T0_US + 3600 * SEC + SEC / 4, 9, 256));
    g_ptr_array_add (late, make_snapshot (T0_US + 10 * SEC, 3, 16));
    bms_history_append_batch (h, d1, (const BmsSnapshot *const *) late->pdata, late->len);
  }
  {
    g_autoptr (BmsSnapshot) s = make_snapshot (T0_US + 3320 * SEC + SEC / 2, 77, 256);
    bms_history_append_snapshot (h, d2, s);
  }
  g_assert_true (bms_history_flush (h, &error));
  g_assert_cmpint (sql_int (f->path, "SELECT count (*) FROM samples"), ==, 150 + 700 + 7 + 1);
  g_assert_cmpint (sql_int (f->path, "SELECT sum (n) FROM rollup_minute"), ==, 858);
  g_assert_cmpint (sql_int (f->path, "SELECT sum (n) FROM rollup_hour"), ==, 858);
  written = rollup_dump (f->path);
  g_clear_object (&h);

  sql_exec (f->path, "DROP TABLE rollup_minute; DROP TABLE rollup_minute_cells;"
            "DROP TABLE rollup_hour; DROP TABLE rollup_hour_cells; DROP TABLE rollup_level;"
            " PRAGMA user_version = 1");
  h = bms_history_new (f->path, &error);
  g_assert_no_error (error);
  rebuilt = rollup_dump (f->path);
  g_assert_cmpstr (written, ==, rebuilt);
}

/* Appends one sample and waits for its own commit, as a poll cycle does
 * (no flush: a logger flushes once a minute). */
static void
append_committed (BmsHistory *h, gint64 dev, gint64 t_us, guint i, guint n_cells)
{
  g_autoptr (BmsSnapshot) s = make_snapshot (t_us, i, n_cells);
  BmsHistoryStats stats;
  guint64 commits;

  bms_history_get_stats (h, &stats);
  commits = stats.commits;
  bms_history_append_snapshot (h, dev, s);
  do
    {
      g_usleep (500);
      bms_history_get_stats (h, &stats);
    }
  while (stats.commits == commits && !stats.failing);
}

static gint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64) st.st_size : 0;
}

/* Each poll cycle commits its sample alone; the rollup units it changes
 * are written once a minute, so a 16-cell sample costs the write-ahead
 * log about one page, not five (20 KiB, 2 GB a day at 1 Hz). */
static void
test_wal_per_sample (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  gint64 dev, base;
  guint n = 150;

  g_assert_no_error (error);
  dev = bms_history_ensure_device (h, "sim:wal", NULL, &error);
  g_assert_no_error (error);
  append_committed (h, dev, T0_US, 0, 16);
  base = file_size (wal);
  for (guint i = 1; i <= n; i++)
    append_committed (h, dev, T0_US + i * SEC, i, 16);
  g_test_message ("16 cells: %.0f bytes of WAL per sample",
                  (double) (file_size (wal) - base) / n);
  g_assert_cmpint ((file_size (wal) - base) / n, <=, 8192);
  /* What was kept in memory is written by flush. */
  g_assert_true (bms_history_flush (h, &error));
  g_assert_cmpint (sql_int (f->path, "SELECT sum (n) FROM rollup_minute"), ==, n + 1);
  g_assert_cmpint (sql_int (f->path, "SELECT sum (n) FROM rollup_hour"), ==, n + 1);
}

/* A board as a poll reads it: identity, settings, the password, telemetry. */
static BmsSnapshot *
make_board (gint64 t_us, guint i, gint64 cell_ovp_mv)
{
  BmsSnapshot *s = make_snapshot (t_us, i, 16);

  bms_snapshot_set_string (s, BMS_ID_SOFTWARE_VERSION, "NW_S2.1.7___");
  bms_snapshot_set_string (s, 0xBA, "BTXX00072V020A1200000020");
  bms_snapshot_set_string (s, BMS_ID_PASSWORD, "123456");
  bms_snapshot_set_raw (s, BMS_ID_BATTERY_TYPE, 1);
  bms_snapshot_set_raw (s, BMS_ID_BOARD_ADDRESS, 3);
  bms_snapshot_set_raw (s, BMS_ID_CELL_OVP, cell_ovp_mv);
  return s;
}

static gint64
n_board_sets (const char *path)
{
  return sql_int (path, "SELECT count(DISTINCT t_ms) FROM board_settings");
}

/* Identity and settings are stored once per change and read back as they
 * were at a given time; the password is never stored. */
static void
test_board (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autoptr (BmsSnapshot) a = make_board (T0_US, 0, 3650);
  g_autoptr (BmsSnapshot) b = make_board (T0_US + 10 * SEC, 10, 3600);
  g_autoptr (BmsSnapshot) got = NULL;
  g_autofree char *version = NULL;
  gint64 dev, recorded = -1;

  g_assert_no_error (error);
  dev = bms_history_ensure_device (h, "sim:board", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (bms_history_record_board (h, dev, T0_US, a));
  for (guint i = 1; i < 10; i++)
    {
      g_autoptr (BmsSnapshot) same = make_board (T0_US + i * SEC, i, 3650);
      g_assert_false (bms_history_record_board (h, dev, T0_US + i * SEC, same));
    }
  g_assert_true (bms_history_record_board (h, dev, T0_US + 10 * SEC, b));
  g_assert_true (bms_history_flush (h, &error));
  g_assert_cmpint (n_board_sets (f->path), ==, 2);
  g_assert_cmpint (sql_int (f->path, "SELECT count(*) FROM board_settings"
                            " WHERE name = 'password' OR name = 'pack_voltage'"), ==, 0);

  /* Before the first set: nothing, and no error. */
  g_assert_null (bms_history_get_board (h, dev, T0_US - SEC, &recorded, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recorded, ==, 0);
  got = bms_history_get_board (h, dev, T0_US + 9 * SEC, &recorded, &error);
  g_assert_no_error (error);
  g_assert_nonnull (got);
  g_assert_cmpint (recorded, ==, T0_US);
  g_assert_cmpint (bms_snapshot_get_raw (got, BMS_ID_CELL_OVP), ==, 3650);
  g_assert_cmpint (bms_snapshot_get_raw (got, BMS_ID_BATTERY_TYPE), ==, 1);
  g_assert_cmpint (bms_snapshot_get_raw (got, BMS_ID_BOARD_ADDRESS), ==, 3);
  version = bms_snapshot_dup_string (got, BMS_ID_SOFTWARE_VERSION);
  g_assert_cmpstr (version, ==, "NW_S2.1.7___");
  g_assert_false (bms_snapshot_has (got, BMS_ID_PASSWORD));
  g_assert_false (bms_snapshot_has (got, BMS_ID_PACK_VOLTAGE));
  g_clear_pointer (&got, bms_snapshot_free);
  got = bms_history_get_board (h, dev, G_MAXINT64, &recorded, &error);
  g_assert_no_error (error);
  g_assert_cmpint (recorded, ==, T0_US + 10 * SEC);
  g_assert_cmpint (bms_snapshot_get_raw (got, BMS_ID_CELL_OVP), ==, 3600);
  g_clear_object (&h);

  /* Another process (or the app after a restart) finds the board as it
   * was stored: the set is queued but not written again. */
  h = bms_history_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (bms_history_record_board (h, dev, T0_US + 60 * SEC, b));
  g_assert_true (bms_history_flush (h, &error));
  g_assert_cmpint (n_board_sets (f->path), ==, 2);
  /* Read-only: the same from a reader. */
  g_clear_object (&h);
  h = bms_history_new_read_only (f->path, &error);
  g_assert_no_error (error);
  g_clear_pointer (&got, bms_snapshot_free);
  got = bms_history_get_board (h, dev, T0_US + 5 * SEC, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bms_snapshot_get_raw (got, BMS_ID_CELL_OVP), ==, 3650);
}

/* A set lost with its transaction (here: the table is gone, as on a disk
 * that failed) is queued again by the next snapshot of the unchanged
 * board, not only when the board changes. */
static void
test_board_failed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autoptr (BmsSnapshot) board = make_board (T0_US, 0, 3650);
  gint64 dev;

  g_assert_no_error (error);
  dev = bms_history_ensure_device (h, "sim:lost", NULL, &error);
  g_assert_no_error (error);
  sql_exec (f->path, "ALTER TABLE board_settings RENAME TO away");
  g_assert_true (bms_history_record_board (h, dev, T0_US, board));
  g_assert_false (bms_history_flush (h, &error));
  g_clear_error (&error);
  sql_exec (f->path, "ALTER TABLE away RENAME TO board_settings");
  g_assert_true (bms_history_record_board (h, dev, T0_US + SEC, board));
  g_assert_true (bms_history_flush (h, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_board_sets (f->path), ==, 1);
  g_assert_false (bms_history_record_board (h, dev, T0_US + 2 * SEC, board));
}

/* A schema-3 file (before the board's settings were kept): opening it adds
 * the table and keeps everything else. */
static void
test_migration_3 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (f->path, &error);
  g_autoptr (BmsSnapshot) board = make_board (T0_US + 600 * SEC, 600, 3650);
  g_autofree char *written = NULL, *migrated = NULL;
  gint64 dev;

  g_assert_no_error (error);
  dev = bms_history_ensure_device (h, "sim:old3", NULL, &error);
  g_assert_no_error (error);
  fill (h, dev, T0_US, 600, 16);
  written = rollup_dump (f->path);
  bms_history_close (h);
  g_clear_object (&h);

  /* What schema 3 was: this file without board_settings. */
  sql_exec (f->path, "DROP TABLE board_settings; PRAGMA user_version = 3");
  g_assert_cmpint (sql_int (f->path, "SELECT count(*) FROM sqlite_schema"
                            " WHERE name = 'board_settings'"), ==, 0);
  h = bms_history_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sql_int (f->path, "PRAGMA user_version"), ==, BMS_HISTORY_SCHEMA_VERSION);
  g_assert_cmpint (sql_int (f->path, "SELECT count(*) FROM board_settings"), ==, 0);
  migrated = rollup_dump (f->path);
  g_assert_cmpstr (migrated, ==, written);
  g_assert_cmpint (bms_history_count_samples (h, dev, 0, G_MAXINT64, &error), ==, 600);
  g_assert_null (bms_history_get_board (h, dev, G_MAXINT64, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bms_history_record_board (h, dev, T0_US + 600 * SEC, board));
  g_assert_true (bms_history_flush (h, &error));
  g_assert_cmpint (n_board_sets (f->path), ==, 1);
}

/* WAL bytes of 150 poll cycles, each recording the board too when board is
 * TRUE (as the poller does). */
static gint64
wal_of_cycles (const char *path, gboolean board)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = bms_history_new (path, &error);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autoptr (BmsSnapshot) first = make_board (T0_US, 0, 3650);
  gint64 dev, base;

  g_assert_no_error (error);
  dev = bms_history_ensure_device (h, "sim:wal", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (bms_history_record_board (h, dev, T0_US, first));
  append_committed (h, dev, T0_US, 0, 16);
  base = file_size (wal);
  for (guint i = 1; i <= 150; i++)
    {
      g_autoptr (BmsSnapshot) s = make_board (T0_US + i * SEC, i, 3650);
      if (board)
        g_assert_false (bms_history_record_board (h, dev, T0_US + i * SEC, s));
      append_committed (h, dev, T0_US + i * SEC, i, 16);
    }
  return file_size (wal) - base;
}

/* An unchanged board writes nothing: a poll cycle costs the WAL the same
 * bytes with the board recorded every cycle as without. */
static void
test_board_wal (Fixture *f, gconstpointer data)
{
  g_autofree char *other = g_build_filename (f->dir, "plain.db", NULL);
  gint64 with = wal_of_cycles (f->path, TRUE), without = wal_of_cycles (other, FALSE);

  g_test_message ("WAL over 150 cycles: %" G_GINT64_FORMAT " bytes with the board recorded,"
                  " %" G_GINT64_FORMAT " without", with, without);
  g_assert_cmpint (with, ==, without);
  g_assert_cmpint (n_board_sets (f->path), ==, 1);
}

/* A process killed before it wrote its last minute (no flush, no close,
 * as under kill -9): the next one to open the file rebuilds that minute
 * from the samples and the coarser units holding it from the levels below. */
static void
test_rollups_recovered (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) h = NULL;

  if (g_test_subprocess ())
    {
      gint64 dev;

      h = bms_history_new (g_getenv ("HISTORY_TEST_PATH"), &error);
      g_assert_no_error (error);
      dev = bms_history_ensure_device (h, "sim:killed", NULL, &error);
      for (guint i = 0; i < 100; i++)
        append_committed (h, dev, T0_US + i * SEC, i, 16);
      /* A gap, then 30 samples in minute 6. */
      for (guint i = 0; i < 30; i++)
        append_committed (h, dev, T0_US + (360 + i) * SEC, 100 + i, 16);
      _exit (0);  /* no close, as under kill -9 */
    }
  g_setenv ("HISTORY_TEST_PATH", f->path, TRUE);
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_assert_cmpint (sql_int (f->path, "SELECT count (*) FROM samples"), ==, 130);
  /* Minutes 0 and 1 were written when the next began; minute 6 was open. */
  g_assert_cmpint (sql_int (f->path, "SELECT sum (n) FROM rollup_minute"), ==, 100);
  /* The 2- and 6-minute units of minutes 0 and 1 were written when minute
   * 6 began outside them; the 30-minute … day units hold minute 6 too and
   * waited in memory. */
  g_assert_cmpint (sql_int (f->path, "SELECT coalesce (sum (n), 0) FROM rollup_level"
                            " WHERE unit_min IN (2, 6)"), ==, 200);
  g_assert_cmpint (sql_int (f->path, "SELECT coalesce (sum (n), 0) FROM rollup_level"
                            " WHERE unit_min >= 30"), ==, 0);
  g_assert_cmpint (sql_int (f->path, "SELECT coalesce (sum (n), 0) FROM rollup_hour"), ==, 0);
  h = bms_history_new (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (bms_history_flush (h, &error));
  g_assert_cmpint (sql_int (f->path, "SELECT sum (n) FROM rollup_minute"), ==, 130);
  g_assert_cmpint (sql_int (f->path, "SELECT sum (n) FROM rollup_hour"), ==, 130);
  g_assert_cmpint (sql_int (f->path, "SELECT count(*) FROM (SELECT sum(n) AS s FROM rollup_level"
                            " GROUP BY unit_min) WHERE s = 130"), ==, 5);
  /* The same rows as built from the samples by a migration. */
  {
    g_autofree char *recovered = NULL, *rebuilt = NULL;
    g_autoptr (BmsHistoryRange) r = NULL;

    recovered = rollup_dump (f->path);
    r = bms_history_query_range (h, 1, 0, G_MAXINT64, 1, TRUE, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (r->count[0], ==, 130);
    check_envelope (h, 1, r);
    g_clear_object (&h);
    sql_exec (f->path, "DROP TABLE rollup_minute; DROP TABLE rollup_minute_cells;"
              "DROP TABLE rollup_hour; DROP TABLE rollup_hour_cells; DROP TABLE rollup_level;"
              " PRAGMA user_version = 1");
    h = bms_history_new (f->path, &error);
    g_assert_no_error (error);
    rebuilt = rollup_dump (f->path);
    g_assert_cmpstr (recovered, ==, rebuilt);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add (name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/history/schema", test_schema);
  ADD ("/history/migration", test_migration);
  ADD ("/history/migration-2", test_migration_2);
  ADD ("/history/too-new", test_too_new);
  ADD ("/history/damaged", test_damaged);
  ADD ("/history/sizes", test_sizes);
  ADD ("/history/range", test_range);
  ADD ("/history/range-speed", test_range_speed);
  ADD ("/history/range-levels", test_range_levels);
  ADD ("/history/transactions", test_transactions);
  ADD ("/history/rollups-incremental", test_rollups_incremental);
  ADD ("/history/wal-per-sample", test_wal_per_sample);
  ADD ("/history/board", test_board);
  ADD ("/history/board-wal", test_board_wal);
  ADD ("/history/board-failed", test_board_failed);
  ADD ("/history/migration-3", test_migration_3);
  ADD ("/history/rollups-recovered", test_rollups_recovered);
  ADD ("/history/retention", test_retention);
  ADD ("/history/events", test_events);
  ADD ("/history/async", test_async);
  g_test_add_func ("/history/write-failure", test_write_failure);
  g_test_add_func ("/history/disk-full-recovers", test_disk_full_recovers);
  ADD ("/history/claims", test_claims);
  ADD ("/history/create-race", test_create_race);
  ADD ("/history/read-only", test_read_only);
  ADD ("/history/missing-table", test_missing_table);
  return g_test_run ();
}
