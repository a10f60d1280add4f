/* bms-history-writer.c — the writer thread: batches, rollups, retention, claims */
#include "config.h"
#include "bms-context.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <unistd.h>

#include "bms-history-private.h"

/* ------------------------------------------------------- writer thread */

static Acc *
writer_acc (BmsHistory *self, gint64 device_id)
{
  Acc *accs = g_hash_table_lookup (self->accs, &device_id);

  if (!accs)
    {
      gint64 *key = g_new (gint64, 1);
      *key = device_id;
      accs = g_new0 (Acc, N_ROLLUPS);
      for (guint i = 0; i < N_ROLLUPS; i++)
        acc_reset (&accs[i], device_id, -1);
      g_hash_table_insert (self->accs, key, accs);
    }
  return accs;
}

static gboolean
acc_load (BmsHistory *self, Level level, Acc *acc, gint64 device_id, gint64 t_ms,
          GError **error)
{
  sqlite3_stmt *st = stmt_cached (self->wdb, self->stmts, rollup_load_sql (level), error);
  int rc;

  if (!st)
    return FALSE;
  acc_reset (acc, device_id, t_ms);
  sqlite3_bind_int64 (st, 1, device_id);
  sqlite3_bind_int64 (st, 2, t_ms);
  rollup_bind_unit (st, 5, level);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    acc_merge_blobs (acc, sqlite3_column_int (st, 0),
                     sqlite3_column_blob (st, 1), sqlite3_column_bytes (st, 1),
                     sqlite3_column_blob (st, 2), sqlite3_column_bytes (st, 2), TRUE);
  /* What is stored of a minute is in its coarser units already. */
  acc->n_merged = acc->n;
  sqlite3_reset (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_sql_error (error, self->wdb, rc, "Cannot read a rollup");
  return TRUE;
}

/* Writes the minute in memory of one device and merges it into the
 * coarser units holding it (once a minute rather than once a sample, so
 * six levels above the minute cost nothing per sample). A coarser unit is
 * written when the minute that comes next (next_ms, the start of the
 * minute about to be filled) is not in it: as its last minute completes,
 * or before a gap or a late sample. So between samples only the units
 * holding the open minute wait in memory, which is what recovery rebuilds
 * (writer_recover_rollups); each level costs the write-ahead log a page
 * per unit, not per minute. next_ms < 0 writes everything (flush). */
static gboolean
writer_write_accs (BmsHistory *self, Acc *accs, gint64 next_ms, GError **error)
{
  Acc *minute = &accs[0];

  if (minute->dirty)
    {
      for (Level l = LEVEL_MINUTE + 1; l < N_LEVELS; l++)
        {
          Acc *acc = &accs[l - LEVEL_MINUTE];
          gint64 unit_start = floor_to (minute->t_ms, level_unit[l]);

          if (acc->t_ms != unit_start &&
              ((acc->dirty && !rollup_write (self->wdb, self->stmts, l, acc, error)) ||
               !acc_load (self, l, acc, minute->device_id, unit_start, error)))
            return FALSE;
          acc_merge_acc (acc, minute, minute->n - minute->n_merged);
          acc->dirty = TRUE;
        }
      minute->n_merged = minute->n;
      if (!rollup_write (self->wdb, self->stmts, LEVEL_MINUTE, minute, error))
        return FALSE;
      minute->dirty = FALSE;
    }
  for (Level l = LEVEL_MINUTE + 1; l < N_LEVELS; l++)
    {
      Acc *acc = &accs[l - LEVEL_MINUTE];

      if (!acc->dirty ||
          (next_ms >= acc->t_ms && next_ms < acc->t_ms + level_unit[l]))
        continue;
      if (!rollup_write (self->wdb, self->stmts, l, acc, error))
        return FALSE;
      acc->dirty = FALSE;
    }
  return TRUE;
}

/* Writes every rollup unit changed since it was last written. Runs inside
 * the transaction. */
static gboolean
writer_flush_accs (BmsHistory *self, GError **error)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->accs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!writer_write_accs (self, value, -1, error))
      return FALSE;
  self->accs_dirty = FALSE;
  return TRUE;
}

/* Rollup units are written when a sample of the next minute arrives (the
 * coarser ones when they are complete), on flush, on close and after a
 * minute without samples, not in every sample's transaction: four more
 * pages per sample were 80 % of what a commit wrote to the log. A process
 * killed meanwhile leaves the units holding each device's latest sample
 * (its minute, and the 2-minute … day units around it) behind its
 * samples; they are rebuilt, the minute from the samples and each level
 * from the one below, before anything else is written. */
static gboolean
writer_recover_rollups (BmsHistory *self, GError **error)
{
  g_autoptr (sqlite3_stmt) st =
    prepare (self->wdb, "SELECT d.id, (SELECT max (t_ms) FROM samples s WHERE s.device_id = d.id)"
             " FROM devices d", error);
  int rc;

  if (!st)
    return FALSE;
  g_hash_table_remove_all (self->accs);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 dev = sqlite3_column_int64 (st, 0);
      gint64 last = sqlite3_column_int64 (st, 1);

      if (sqlite3_column_type (st, 1) == SQLITE_NULL)
        continue;
      if (!rollup_rebuild_device (self->wdb, self->stmts, dev, last, last + 1, error))
        return FALSE;
    }
  return rc == SQLITE_DONE || set_sql_error (error, self->wdb, rc, "Cannot list devices");
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
  /* Drop whole units before the cut; rebuild the units it falls in. */
  for (Level l = LEVEL_MINUTE; l < N_LEVELS; l++)
    {
      g_free (sql);
      sql = level_has_own_table (l)
        ? g_strdup_printf ("DELETE FROM %1$s WHERE t_ms < %2$" G_GINT64_FORMAT ";"
                           "DELETE FROM %1$s_cells WHERE t_ms < %2$" G_GINT64_FORMAT,
                           level_table[l], floor_to (t_ms, level_unit[l]))
        : g_strdup_printf ("DELETE FROM rollup_level WHERE unit_min = %" G_GINT64_FORMAT
                           " AND t_ms < %" G_GINT64_FORMAT, level_unit[l] / MINUTE_MS,
                           floor_to (t_ms, level_unit[l]));
      if (!exec_sql (self->wdb, sql, error))
        return FALSE;
    }
  if (!rollup_rebuild_all (self->wdb, self->stmts, t_ms, t_ms + 1, error))
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
  gint64 minute_start;
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

  /* The row goes into the open minute in memory, written (and merged
   * into the coarser units) when a row of another minute arrives
   * (writer_recover_rollups). */
  accs = writer_acc (self, row->device_id);
  minute_start = floor_to (row->t_ms, MINUTE_MS);
  if (accs[0].t_ms != minute_start &&
      (!writer_write_accs (self, accs, minute_start, error) ||
       !acc_load (self, LEVEL_MINUTE, &accs[0], row->device_id, minute_start, error)))
    return FALSE;
  acc_add_row (&accs[0], row);
  accs[0].dirty = TRUE;
  self->accs_dirty = TRUE;
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
    case JOB_BOARD:
      return writer_store_board (self, job, error);
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
    g_signal_emit (self, bms_history_signals[r->signal], 0, r->message);
  else if (self)
    g_signal_emit (self, bms_history_signals[r->signal], 0);
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
writer_record_success (BmsHistory *self, gboolean jobs, guint64 samples)
{
  gboolean resumed;

  g_mutex_lock (&self->state_lock);
  /* Writing the rollup units alone is not a commit of anything queued. */
  self->stats.commits += jobs;
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
  gboolean ok, idle = TRUE, flush = FALSE;

  /* PRAGMA synchronous cannot change inside a transaction. */
  for (guint i = 0; i < jobs->len; i++)
    {
      Job *job = g_ptr_array_index (jobs, i);
      if (job->type == JOB_SYNC_MODE)
        exec_sql (self->wdb, job->flag ? "PRAGMA synchronous = FULL"
                                       : "PRAGMA synchronous = NORMAL", NULL);
      idle &= job->type >= JOB_SYNC_MODE;
      flush |= job->type == JOB_FLUSH || job->type == JOB_QUIT;
    }
  if (idle && !(flush && (self->accs_dirty || self->recover_rollups)))
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
  if (ok && self->recover_rollups)
    ok = writer_recover_rollups (self, &error);

  for (guint i = 0; ok && i < jobs->len; i++)
    ok = writer_run_job (self, g_ptr_array_index (jobs, i), &error);
  if (ok && flush)
    ok = writer_flush_accs (self, &error);
  if (ok)
    ok = exec_sql (self->wdb, "COMMIT", &error);
  if (!ok)
    {
      if (!sqlite3_get_autocommit (self->wdb))
        exec_sql (self->wdb, "ROLLBACK", NULL);
      /* The units in memory held rows committed before: rebuild them. */
      g_hash_table_remove_all (self->accs);
      self->accs_dirty = FALSE;
      self->recover_rollups = TRUE;
      guint lost = 0;

      for (guint i = 0; i < jobs->len; i++)
        {
          Job *job = g_ptr_array_index (jobs, i);
          lost += job->type < JOB_SYNC_MODE;
          if (job->type == JOB_BOARD)
            board_forget_queued (self, job);
        }
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
      self->recover_rollups = FALSE;
      writer_record_success (self, !idle, samples);
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
gboolean
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

gpointer
writer_main (gpointer data)
{
  BmsHistory *self = data;
  g_autoptr (GPtrArray) jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) job_free);
  gboolean quit = FALSE;
  Job *held = NULL;

  /* The units a killed process left unwritten, before any new sample. */
  g_ptr_array_add (jobs, g_new0 (Job, 1));
  ((Job *) jobs->pdata[0])->type = JOB_FLUSH;
  writer_run_batch (self, jobs);
  g_ptr_array_set_size (jobs, 0);

  while (!quit)
    {
      /* Wakes up while idle only to keep a claim alive, or to write the
       * rollup units in memory once samples stop coming. */
      guint64 wait_s = self->claims ? BMS_HISTORY_CLAIM_HEARTBEAT_S : 0;
      Job *job;

      if (self->accs_dirty)
        wait_s = wait_s ? MIN (wait_s, ACC_IDLE_FLUSH_S) : ACC_IDLE_FLUSH_S;
      job = held ? held
            : wait_s ? g_async_queue_timeout_pop (self->queue, wait_s * G_USEC_PER_SEC)
            : g_async_queue_pop (self->queue);
      held = NULL;
      if (!job && self->accs_dirty)
        {
          job = g_new0 (Job, 1);
          job->type = JOB_FLUSH;
        }
      else if (!job)
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
