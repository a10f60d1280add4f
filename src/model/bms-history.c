/* bms-history.c — the history database: the type, opening and closing,
 * the public write calls (queued for the writer thread).
 *
 * The other concerns live in bms-history-*.c, sharing
 * bms-history-private.h.
 *
 * Schema (PRAGMA user_version):
 *   1  devices, samples (WITHOUT ROWID, key (device_id, t_ms): the key is
 *      the time index, so a sample costs no separate index entry), alarm
 *      events, audit log.
 *   2  rollup_minute / rollup_hour (+ _cells): per device and whole minute/hour, the
 *      sample count, min/max of every series ("mm") and of every cell
 *      ("cells"); written by the writer once a minute.
 *      Migrating from 1 builds them from the samples.
 *   3  rollup_level: the units of 2, 6 and 30 minutes, 4 hours and a day
 *      (unit_min), n, mm and cells in one row; derived from the minutes
 *      as each is written. Migrating from 2 derives them from the minute
 *      and hour rollups.
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
#include <glib/gstdio.h>

#include "bms-history-private.h"

// clang-format off
G_DEFINE_QUARK (bms-history-error-quark, bms_history_error)
// clang-format on

/* ---------------------------------------------------------------- series */

const SeriesInfo series_info[BMS_SERIES_COUNT] = {
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

/* -------------------------------------------------------------- object */

G_DEFINE_FINAL_TYPE (BmsHistory, bms_history, G_TYPE_OBJECT)

guint bms_history_signals[N_SIGNALS];

void
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

void
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

gboolean
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
  g_clear_pointer (&self->board_queued, g_hash_table_unref);
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
  bms_history_signals[SIGNAL_WRITE_FAILED] =
    g_signal_new ("write-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /* Emitted like "write-failed" when a commit succeeds after failures. */
  bms_history_signals[SIGNAL_WRITE_RESUMED] =
    g_signal_new ("write-resumed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
bms_history_init (BmsHistory *self)
{
  g_mutex_init (&self->reader_lock);
  g_mutex_init (&self->state_lock);
  self->board_queued = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->queue = g_async_queue_new ();
  self->accs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->stmts = stmt_cache_new ();
  self->scratch = g_byte_array_new ();
  self->context = g_main_context_ref_thread_default ();
  self->last_retention_hour = G_MININT64;
  self->recover_rollups = TRUE;
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
      g_autoptr (GError) local = NULL;
      BmsHistory *updated;

      /* The reads need the current tables: update it once if we may. */
      if ((updated = bms_history_new (path, &local)))
        return updated;
      /* Schema 2 on read-only media reads as it is, from the minute and
       * hour rollups only (slower for long ranges, the same values). */
      if (version < 2 || !g_error_matches (local, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_OPEN))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      self->schema2_levels = version < 3;
      self->no_board_table = version < 4;
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

/* Registering a device and claiming it are the same job on the writer's
 * queue, answered with the device's id; only the kind differs. */
static gint64
device_job (BmsHistory *self, JobType type, const char *device_key, const char *name,
            GError **error)
{
  Job *job = g_new0 (Job, 1);
  gint64 id = 0;

  job->type = type;
  job->s1 = g_strdup (device_key);
  job->s2 = g_strdup (name);
  if (!queue_wait (self, job, &id, error))
    return 0;
  return id;
}

gint64
bms_history_ensure_device (BmsHistory *self, const char *device_key, const char *name,
                           GError **error)
{
  g_return_val_if_fail (BMS_IS_HISTORY (self), 0);
  g_return_val_if_fail (device_key && *device_key, 0);
  return device_job (self, JOB_DEVICE, device_key, name, error);
}

gint64
bms_history_claim_device (BmsHistory *self, const char *device_key, const char *name,
                          GError **error)
{
  g_return_val_if_fail (BMS_IS_HISTORY (self), 0);
  g_return_val_if_fail (device_key && *device_key, 0);
  return device_job (self, JOB_CLAIM, device_key, name, error);
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
