/* bms-history-private.h — what the files of BmsHistory share.
 *
 * Not installed; included only by bms-history*.c. */
#pragma once

#include <string.h>
#include <sqlite3.h>

#include "bms-field.h"
#include "bms-history.h"

G_BEGIN_DECLS

#define APPLICATION_ID   0x50574843  /* "PWHC" */
#define MINUTE_MS        G_GINT64_CONSTANT (60000)
#define HOUR_MS          G_GINT64_CONSTANT (3600000)
#define DAY_MS           G_GINT64_CONSTANT (86400000)
#define MAX_JOBS_PER_TX  256
/* The writer writes the rollup units in memory after this long without
 * samples, so that readers see the last minute of a stopped poll. */
#define ACC_IDLE_FLUSH_S 60
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

/* The columns of a sample, in the order row_bind and row_read use. */
#define SAMPLE_COLUMNS \
  "device_id, t_ms, pack_cv, current_ca, soc, temp_mosfet, temp1, temp2, " \
  "status, warnings, alarms_ext, cells"

typedef struct {
  const char *name;
  const char *label;
  const char *unit;
  double      scale;   /* database integer → engineering */
} SeriesInfo;

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

typedef struct {
  gint64   device_id;
  gint64   t_ms;        /* unit start; -1 = nothing loaded */
  gboolean dirty;       /* writer: changed since last written to its table */
  guint    n;
  guint    n_merged;    /* writer, minute: samples already in the coarser units */
  gboolean has[BMS_SERIES_COUNT];
  gint64   min[BMS_SERIES_COUNT];
  gint64   max[BMS_SERIES_COUNT];
  guint    n_cells;
  guint16  cmin[BMS_MAX_CELLS];
  guint16  cmax[BMS_MAX_CELLS];
} Acc;

/* The levels a range is read from, finest first; each unit divides the
 * next, so a unit's ragged edges come from the level below. Minute and hour
 * have tables of their own (rollup_minute, rollup_hour, each with a _cells
 * table); the others are rows of rollup_level keyed by their unit in
 * minutes. Levels above the minute are derived from the minute units. */
typedef enum {
  LEVEL_SAMPLES,
  LEVEL_MINUTE,
  LEVEL_2MIN,
  LEVEL_6MIN,
  LEVEL_30MIN,
  LEVEL_HOUR,
  LEVEL_4H,
  LEVEL_DAY,
  N_LEVELS
} Level;
#define N_ROLLUPS (N_LEVELS - LEVEL_MINUTE)  /* Acc per device in the writer */

typedef enum {
  JOB_SAMPLES,
  JOB_ALARM,
  JOB_AUDIT,
  JOB_BOARD,
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
  GPtrArray   *rows;        /* Row*, JOB_SAMPLES; BoardValue*, JOB_BOARD */
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
  GHashTable   *accs;         /* device_id → Acc[N_ROLLUPS], by level - LEVEL_MINUTE */
  GHashTable   *stmts;        /* rollup statements (stmt_cached) */
  GByteArray   *scratch;
  sqlite3_stmt *insert_sample;
  sqlite3_stmt *insert_alarm;
  sqlite3_stmt *insert_audit;
  gint64        last_retention_hour;
  gint64        last_heartbeat_us;  /* monotonic */
  gboolean      claims;             /* this history holds claims */
  gboolean      accs_dirty;         /* a rollup unit in memory is not written */
  gboolean      recover_rollups;    /* rebuild the latest units first */

  char         *token;        /* tells this history's claims from others' */
  char         *reader_uri;   /* read-only: how the connections are opened */
  gboolean      read_only;
  gboolean      schema2_levels; /* a schema-2 file read-only: minute and hour only */
  gboolean      no_board_table; /* a schema-2/3 file read-only: no board_settings */

  GMutex        state_lock;   /* guards the following */
  BmsHistoryStats stats;
  GError       *pending_error;
  char         *write_error;  /* while failing */
  guint         retention_days;
  gboolean      closed;
  GHashTable   *board_queued; /* device_id → digest of the board record last queued */
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* The arguments of a query run in a GTask thread. */
typedef struct {
  gint64   device_id, from_us, to_us;
  guint    max_points, limit;
  gboolean with_cells;
} QueryArgs;

enum { SIGNAL_WRITE_FAILED, SIGNAL_WRITE_RESUMED, N_SIGNALS };

static inline gint64 to_ms_from (gint64 us) { return us <= 0 ? G_MININT64 / 2 : us / 1000; }
static inline gint64 to_ms_to (gint64 us) { return us >= G_MAXINT64 / 2 ? G_MAXINT64 / 2 : us / 1000; }

/* bms-history-codec.c */
extern const gint64 level_unit[];
extern const char * const level_table[];
extern const char * const level_name[];
gboolean
get_varint (const guint8 **p, const guint8 *end, guint64 *v);

guint
decode_cells (const guint8 *p, gsize len, guint16 *mv);

Row *
row_new (gint64 device_id, const BmsSnapshot *snap);

void
row_bind (const Row *row, sqlite3_stmt *st, GByteArray *scratch);

void
row_read (Row *row, sqlite3_stmt *st);

void
acc_reset (Acc *acc, gint64 device_id, gint64 t_ms);

void
acc_add_row (Acc *acc, const Row *row);

void
acc_encode_mm (const Acc *acc, GByteArray *out);

void
acc_encode_cells (const Acc *acc, GByteArray *out);

void
acc_merge_blobs (Acc *acc, guint n, const guint8 *mm, gsize mm_len,
                 const guint8 *cells, gsize cells_len, gboolean want_cells);

void
acc_merge_acc (Acc *acc, const Acc *from, guint n);

gboolean
level_has_own_table (Level level);

char *
rollup_select_sql (Level level, gboolean with_cells);

gint64
floor_to (gint64 t, gint64 unit);

gint64
ceil_to (gint64 t, gint64 unit);

/* bms-history-schema.c */
const char *
rollup_load_sql (Level level);

void
rollup_bind_unit (sqlite3_stmt *st, int index, Level level);
gboolean
set_sql_error (GError **error, sqlite3 *db, int code, const char *what);

gboolean
exec_sql (sqlite3 *db, const char *sql, GError **error);

sqlite3_stmt *
prepare (sqlite3 *db, const char *sql, GError **error);

gboolean
query_int (sqlite3 *db, const char *sql, gint64 *out, GError **error);

sqlite3 *
open_db (const char *path, int flags, GError **error);

char *
path_to_uri (const char *path, const char *query);

GHashTable *
stmt_cache_new (void);

sqlite3_stmt *
stmt_cached (sqlite3 *db, GHashTable *cache, const char *sql, GError **error);

gboolean
rollup_write (sqlite3 *db, GHashTable *cache, Level level, const Acc *acc, GError **error);

gboolean
rollup_rebuild_device (sqlite3 *db, GHashTable *cache, gint64 device_id,
                       gint64 from_ms, gint64 to_ms, GError **error);

gboolean
rollup_rebuild_all (sqlite3 *db, GHashTable *cache, gint64 from_ms, gint64 to_ms,
                    GError **error);

gboolean
check_integrity (sqlite3 *db, const char *path, const char *pragma, GError **error);

gboolean
inspect_existing (sqlite3 *db, const char *path, gint64 *version, GError **error);

sqlite3 *
open_writer (const char *path, GError **error);

/* bms-history.c */
extern const SeriesInfo series_info[];
extern guint bms_history_signals[N_SIGNALS];
void
job_free (Job *job);

void
waiter_finish (Waiter *w, gint64 result, const GError *error);

gboolean
queue_push (BmsHistory *self, Job *job);

/* bms-history-board.c */
gboolean
writer_store_board (BmsHistory *self, Job *job, GError **error);

void
board_forget_queued (BmsHistory *self, Job *job);

/* bms-history-writer.c */
gboolean
writer_prepare (BmsHistory *self, GError **error);

gpointer
writer_main (gpointer data);

/* bms-history-query.c */
sqlite3 *
reader_lock (BmsHistory *self, GError **error);

void
reader_unlock (BmsHistory *self);

sqlite3 *
open_private_reader (BmsHistory *self, GError **error);

G_END_DECLS
