/* bms-history.h — the history database: every sample, alarm event and
 * parameter write, in one SQLite file per user.
 *
 * All writes go through a queue to one writer thread, so callers (the poller,
 * the GTK main thread) never wait for the disk: append, then forget. Each
 * queued job is committed in a transaction of its own (a poll cycle's sample
 * and the alarm events queued right behind it share one); a kill at any
 * moment loses at most what was still queued. Reads use their own connection
 * and have GTask variants for the UI.
 *
 * Storage (schema version BMS_HISTORY_SCHEMA_VERSION, see bms-history.c):
 * samples keyed by (device, time in ms) with scalar values as integers in
 * the protocol's own resolution (10 mV, 10 mA, 1 %, 1 °C; lowest and highest
 * cell are derived, not stored) and the cell voltages as one BLOB of
 * zigzag-varint deltas; rollup tables per minute, 2, 6 and 30 minutes, hour,
 * 4 hours and day hold min/max of every series and every cell so that any
 * range reduces to a graph from a few thousand rows.
 */
#pragma once

#include <gio/gio.h>
#include "bms-snapshot.h"

typedef struct _BmsFlasher BmsFlasher;

G_BEGIN_DECLS

#define BMS_HISTORY_SCHEMA_VERSION 4

#define BMS_HISTORY_ERROR (bms_history_error_quark ())
GQuark bms_history_error_quark (void);
typedef enum {
  BMS_HISTORY_ERROR_OPEN,     /* the file cannot be created or opened */
  BMS_HISTORY_ERROR_TOO_NEW,  /* written by a newer Packwatch: left untouched */
  BMS_HISTORY_ERROR_CORRUPT,  /* not a database, or the integrity check failed */
  BMS_HISTORY_ERROR_WRITE,    /* a write failed (disk full, read-only, …) */
  BMS_HISTORY_ERROR_CLOSED,   /* the history was closed */
  BMS_HISTORY_ERROR_INVALID,  /* bad argument: unknown device, empty range */
  BMS_HISTORY_ERROR_CLAIMED,  /* another live writer records this device */
  BMS_HISTORY_ERROR_READ_ONLY,/* opened for reading: writes are refused */
} BmsHistoryError;

/* The series every sample carries (engineering units in the comments). */
typedef enum {
  BMS_SERIES_PACK_VOLTAGE,  /* V */
  BMS_SERIES_CURRENT,       /* A, + charging */
  BMS_SERIES_SOC,           /* % */
  BMS_SERIES_TEMP_MOSFET,   /* °C */
  BMS_SERIES_TEMP1,         /* °C */
  BMS_SERIES_TEMP2,         /* °C */
  BMS_SERIES_CELL_MIN,      /* V, lowest cell of the sample */
  BMS_SERIES_CELL_MAX,      /* V, highest cell of the sample */
  BMS_SERIES_COUNT
} BmsSeries;

const char *bms_series_get_name  (BmsSeries series); /* "pack_voltage", … */
const char *bms_series_get_label (BmsSeries series); /* "Pack voltage", … */
const char *bms_series_get_unit  (BmsSeries series); /* "V", "A", "%", "°C" */

#define BMS_TYPE_HISTORY (bms_history_get_type ())
G_DECLARE_FINAL_TYPE (BmsHistory, bms_history, BMS, HISTORY, GObject)

/* $XDG_DATA_HOME/packwatch/history.db */
char       *bms_history_default_path (void);

/* Opens (creating or migrating) the database. A file from a newer schema is
 * refused with BMS_HISTORY_ERROR_TOO_NEW and not modified; a damaged one with
 * BMS_HISTORY_ERROR_CORRUPT and never overwritten. Runs a quick check of the
 * whole file: from the UI use the async variant. */
BmsHistory *bms_history_new          (const char   *path_or_null,
                                      GError      **error);
void        bms_history_new_async    (const char          *path_or_null,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
BmsHistory *bms_history_new_finish   (GAsyncResult *result,
                                      GError      **error);
/* Opens an existing database for reading only (export, alarms, audit, the
 * Graph): nothing is created, migrated or written, so a file on read-only
 * media or in a read-only folder opens too (SQLite's immutable mode when
 * not even the WAL index can be created). A file of an older schema is
 * updated first when it can be written. Writes fail with
 * BMS_HISTORY_ERROR_READ_ONLY. */
BmsHistory *bms_history_new_read_only (const char  *path,
                                       GError     **error);
gboolean    bms_history_is_read_only (BmsHistory   *self);
const char *bms_history_get_path     (BmsHistory   *self);
/* Commits what is queued, stops the writer, closes the files. Later writes
 * are dropped; later reads fail with BMS_HISTORY_ERROR_CLOSED. Also done by
 * dispose. */
void        bms_history_close        (BmsHistory   *self);

/* The device row for device_key (e.g. "/dev/ttyUSB0:1" or a device id
 * code), created on first use; the name is updated when it changes. Waits
 * for the writer: do not call it from the GTK main thread. */
gint64      bms_history_ensure_device (BmsHistory  *self,
                                       const char  *device_key,
                                       const char  *name,
                                       GError     **error);

/* Like bms_history_ensure_device, and makes this history the one writer of
 * device_key until it is closed: two writers of one device (the app and a
 * `packwatch-cli log`, or two loggers) would overwrite each other's
 * rollups. Fails with BMS_HISTORY_ERROR_CLAIMED naming the other writer
 * (process id, host, since when) while that one is alive. A claim of this
 * host is taken over when its process is gone or it is from an earlier
 * boot; one of another host when its heartbeat is older than
 * BMS_HISTORY_CLAIM_STALE_S. The writer renews
 * the heartbeat every BMS_HISTORY_CLAIM_HEARTBEAT_S even while idle.
 * Claiming again from the same history succeeds. Waits for the writer. */
#define BMS_HISTORY_CLAIM_HEARTBEAT_S 10
#define BMS_HISTORY_CLAIM_STALE_S     120
gint64      bms_history_claim_device  (BmsHistory  *self,
                                       const char  *device_key,
                                       const char  *name,
                                       GError     **error);

/* Queued writes; they return at once. Failures are reported by the next
 * bms_history_flush and by the "write-failed" signal. time_us is wall-clock
 * microseconds (g_get_real_time); the database keeps milliseconds. */
void        bms_history_append_snapshot (BmsHistory        *self,
                                         gint64             device_id,
                                         const BmsSnapshot *snapshot);
/* Many samples in one transaction (imports, tests, benchmarks). */
void        bms_history_append_batch    (BmsHistory         *self,
                                         gint64              device_id,
                                         const BmsSnapshot *const *snapshots,
                                         guint               n_snapshots);
void        bms_history_add_alarm_event (BmsHistory  *self,
                                         gint64       device_id,
                                         gint64       time_us,
                                         const char  *code,
                                         gboolean     raised,
                                         double       value,
                                         double       threshold,
                                         const char  *text);
void        bms_history_add_audit       (BmsHistory  *self,
                                         gint64       device_id,
                                         gint64       time_us,
                                         const char  *field,
                                         const char  *old_value,
                                         const char  *new_value,
                                         const char  *result);
/* One audit row per firmware update attempt, the same from the app and the
 * CLI: file name, size, CRC-32 and image version, the board's version before
 * and after, whether the image check was overridden, and how it ended
 * (failure: the step and, when given, why). */
void        bms_history_add_firmware_audit (BmsHistory  *self,
                                            gint64       device_id,
                                            BmsFlasher  *flasher,
                                            const char  *path,
                                            const char  *old_version,
                                            const char  *failure);
/* The board's identity (group identity, module layout) and every
 * read-write setting of snapshot, by catalogue name and raw value, stored
 * as a row set stamped time_us when any of them differs from the set
 * recorded last for the device (not the password, no telemetry). Call it
 * with every snapshot: an unchanged board costs a comparison on the
 * caller's thread and nothing in the file. TRUE when a set was queued. */
gboolean    bms_history_record_board    (BmsHistory        *self,
                                         gint64             device_id,
                                         gint64             time_us,
                                         const BmsSnapshot *snapshot);
/* Waits until everything queued before the call is committed. FALSE with the
 * first error since the previous flush if a write failed meanwhile. */
gboolean    bms_history_flush           (BmsHistory  *self,
                                         GError     **error);
void        bms_history_flush_async     (BmsHistory          *self,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gboolean    bms_history_flush_finish    (BmsHistory    *self,
                                         GAsyncResult  *result,
                                         GError       **error);

/* WAL with synchronous=NORMAL (the default) survives a crash or kill -9
 * losing at most the queued cycle, but a power cut may also lose the
 * commits since the last checkpoint. TRUE syncs every commit
 * (synchronous=FULL): nothing committed is lost, at the cost of one fsync
 * per cycle. Applied by the writer in queue order. */
void        bms_history_set_sync_every_commit (BmsHistory *self, gboolean sync);

/* Retention: samples, rollups and alarm events older than days are deleted
 * by the writer (checked once per hour of data and when set). 0 keeps
 * everything (the default). The audit log is never deleted. */
void        bms_history_set_retention_days (BmsHistory *self, guint days);
guint       bms_history_get_retention_days (BmsHistory *self);
/* Deletes samples, rollups and alarm events before time_us now; waits.
 * Returns the number of samples deleted in *n_deleted (optional). */
gboolean    bms_history_delete_before      (BmsHistory *self,
                                            gint64      time_us,
                                            gint64     *n_deleted,
                                            GError    **error);

typedef struct {
  guint64 commits;        /* transactions committed by the writer */
  guint64 samples;        /* samples committed since open */
  guint64 alarm_events;
  guint64 audit_rows;
  guint64 failed_jobs;    /* jobs lost to a failed transaction */
  guint   queued;         /* jobs waiting now */
  gboolean failing;       /* the last transaction failed (disk full, …) */
} BmsHistoryStats;
void        bms_history_get_stats       (BmsHistory      *self,
                                         BmsHistoryStats *out);
/* While writes fail (stats.failing), why the last one failed; else NULL.
 * "write-failed" is emitted once when writes start failing and
 * "write-resumed" once when a commit succeeds again, so a full disk is
 * reported once, not every cycle. */
char       *bms_history_dup_write_error (BmsHistory      *self);

/* ---- Reads (any thread; each call takes the reader connection) ---- */

typedef struct {
  gint64  id;
  char   *key;
  char   *name;
  gint64  first_us;   /* first and last sample, 0 when none */
  gint64  last_us;
  gint64  n_samples;
} BmsHistoryDevice;
void        bms_history_device_free     (BmsHistoryDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BmsHistoryDevice, bms_history_device_free)
/* Element type BmsHistoryDevice*, free func set. */
GPtrArray  *bms_history_list_devices    (BmsHistory *self, GError **error);

/* device_id 0 = all devices; from_us/to_us inclusive, 0 and G_MAXINT64 for
 * open ends. Returns -1 on error. */
gint64      bms_history_count_samples   (BmsHistory *self,
                                         gint64      device_id,
                                         gint64      from_us,
                                         gint64      to_us,
                                         GError    **error);

/* The most cells any sample in the range carried (from the hour rollups, so
 * whole hours around the range count). -1 on error. */
gint        bms_history_get_max_cells   (BmsHistory *self,
                                         gint64      device_id,
                                         gint64      from_us,
                                         gint64      to_us,
                                         GError    **error);

typedef struct {
  gint64   device_id;
  gint64   time_us;
  double   values[BMS_SERIES_COUNT];  /* NAN when the sample lacked it */
  guint    cell_min_index;            /* 1-based, 0 when no cells */
  guint    cell_max_index;
  guint32  status;                    /* 0x8C */
  guint32  warnings;                  /* 0x8B */
  guint32  alarms_ext;                /* 0xD7 */
  guint    n_cells;
  guint16  cells_mv[BMS_MAX_CELLS];
} BmsHistorySample;

/* Calls func for every sample in time order (device_id 0: all devices,
 * ordered by device then time). func returns FALSE to stop. Cancelling
 * fails with G_IO_ERROR_CANCELLED. Uses a connection of its own, so long
 * exports do not hold up other reads. */
typedef gboolean (*BmsHistorySampleFunc) (const BmsHistorySample *sample,
                                          gpointer                user_data);
gboolean    bms_history_foreach_sample  (BmsHistory           *self,
                                         gint64                device_id,
                                         gint64                from_us,
                                         gint64                to_us,
                                         BmsHistorySampleFunc  func,
                                         gpointer              user_data,
                                         GCancellable         *cancellable,
                                         GError              **error);

#define BMS_HISTORY_MAX_POINTS 16384  /* larger max_points are clamped */

/* A time range reduced to at most max_points buckets. Bucket i covers
 * [origin_us + k * bucket_us, + bucket_us) for k = bucket_index[i]; only
 * buckets holding data are returned. min/max are exact: whole units come
 * from the rollup tables (the coarsest unit at most twice the bucket asked
 * for, so at least half of max_points come back), the ragged edges from
 * the finer levels and the samples. */
typedef struct {
  gint64   from_us, to_us;
  gint64   origin_us;
  gint64   bucket_us;
  const char *source;            /* "samples", "minute", "2min", "6min",
                                    "30min", "hour", "4h" or "day" */
  guint    n_points;
  gint64  *time_us;              /* bucket start */
  guint32 *count;                /* samples in the bucket */
  double  *min[BMS_SERIES_COUNT];/* NAN when no sample carried the series */
  double  *max[BMS_SERIES_COUNT];
  guint    n_cells;              /* 0 unless asked for cells */
  guint16 *cell_min_mv;          /* n_points × n_cells, row-major; 0 = none */
  guint16 *cell_max_mv;
} BmsHistoryRange;
void        bms_history_range_free      (BmsHistoryRange *range);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BmsHistoryRange, bms_history_range_free)

BmsHistoryRange *bms_history_query_range        (BmsHistory   *self,
                                                 gint64        device_id,
                                                 gint64        from_us,
                                                 gint64        to_us,
                                                 guint         max_points,
                                                 gboolean      with_cells,
                                                 GError      **error);
void             bms_history_query_range_async  (BmsHistory          *self,
                                                 gint64               device_id,
                                                 gint64               from_us,
                                                 gint64               to_us,
                                                 guint                max_points,
                                                 gboolean             with_cells,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
BmsHistoryRange *bms_history_query_range_finish (BmsHistory    *self,
                                                 GAsyncResult  *result,
                                                 GError       **error);

/* One cell's full series (cell 1-based): two arrays of equal length,
 * times (gint64 µs) and voltages (guint16 mV); samples without that cell are
 * skipped. */
gboolean    bms_history_query_cell      (BmsHistory  *self,
                                         gint64       device_id,
                                         guint        cell,
                                         gint64       from_us,
                                         gint64       to_us,
                                         GArray     **times_out,
                                         GArray     **mv_out,
                                         GError     **error);

void        bms_history_query_cell_async  (BmsHistory          *self,
                                           gint64               device_id,
                                           guint                cell,
                                           gint64               from_us,
                                           gint64               to_us,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    bms_history_query_cell_finish (BmsHistory    *self,
                                           GAsyncResult  *result,
                                           GArray       **times_out,
                                           GArray       **mv_out,
                                           GError       **error);

typedef struct {
  gint64   id;
  gint64   device_id;
  gint64   time_us;
  char    *code;
  gboolean raised;
  double   value;      /* NAN when unknown */
  double   threshold;  /* NAN when unknown */
  char    *text;
} BmsHistoryAlarmEvent;
void        bms_history_alarm_event_free (BmsHistoryAlarmEvent *event);

typedef struct {
  gint64  id;
  gint64  device_id;
  gint64  time_us;
  char   *field;
  char   *old_value;
  char   *new_value;
  char   *result;
} BmsHistoryAudit;
void        bms_history_audit_free      (BmsHistoryAudit *audit);

/* Oldest first; device_id 0 = all; limit 0 = no limit (newest rows kept
 * when limited). Element types as named, free funcs set. */
GPtrArray  *bms_history_query_alarm_events (BmsHistory *self,
                                            gint64      device_id,
                                            gint64      from_us,
                                            gint64      to_us,
                                            guint       limit,
                                            GError    **error);
GPtrArray  *bms_history_query_audit        (BmsHistory *self,
                                            gint64      device_id,
                                            gint64      from_us,
                                            gint64      to_us,
                                            guint       limit,
                                            GError    **error);
void        bms_history_query_alarm_events_async  (BmsHistory          *self,
                                                   gint64               device_id,
                                                   gint64               from_us,
                                                   gint64               to_us,
                                                   guint                limit,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
GPtrArray  *bms_history_query_alarm_events_finish (BmsHistory    *self,
                                                   GAsyncResult  *result,
                                                   GError       **error);
void        bms_history_query_audit_async  (BmsHistory          *self,
                                            gint64               device_id,
                                            gint64               from_us,
                                            gint64               to_us,
                                            guint                limit,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
GPtrArray  *bms_history_query_audit_finish (BmsHistory    *self,
                                            GAsyncResult  *result,
                                            GError       **error);

/* The identity and settings in force at at_us (the set recorded last at or
 * before it) as a snapshot holding only those fields, with the time they
 * were recorded in *recorded_us (optional). NULL without an error when
 * none was recorded by then (or the file predates schema 4). */
BmsSnapshot *bms_history_get_board     (BmsHistory  *self,
                                        gint64       device_id,
                                        gint64       at_us,
                                        gint64      *recorded_us,
                                        GError     **error);

/* Runs PRAGMA integrity_check on a connection of its own; TRUE when "ok",
 * otherwise FALSE with BMS_HISTORY_ERROR_CORRUPT and SQLite's findings. */
gboolean    bms_history_check_integrity (BmsHistory *self, GError **error);

G_END_DECLS
