/* bms-report.c — the service report: settings, the file, the worker
 * (data: bms-report-data.c, pages: bms-report-draw.c). */
#include "config.h"

#include "bms-report-private.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "bms-export.h"

struct _BmsReport
{
  GObject      parent_instance;

  BmsHistory  *history;
  gint64       device_id;
  gint64       from_us, to_us;
  char        *technician, *customer, *site;
  BmsSnapshot *board;
};

G_DEFINE_FINAL_TYPE (BmsReport, bms_report, G_TYPE_OBJECT)
G_DEFINE_QUARK (bms-report-error-quark, bms_report_error)

static void
bms_report_finalize (GObject *object)
{
  BmsReport *self = BMS_REPORT (object);

  g_clear_object (&self->history);
  g_free (self->technician);
  g_free (self->customer);
  g_free (self->site);
  g_clear_pointer (&self->board, bms_snapshot_free);
  G_OBJECT_CLASS (bms_report_parent_class)->finalize (object);
}

static void
bms_report_class_init (BmsReportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bms_report_finalize;
}

static void
bms_report_init (BmsReport *self)
{
}

BmsReport *
bms_report_new (BmsHistory *history)
{
  BmsReport *self;

  g_return_val_if_fail (BMS_IS_HISTORY (history), NULL);

  self = g_object_new (BMS_TYPE_REPORT, NULL);
  self->history = g_object_ref (history);
  return self;
}

static char *
dup_text (const char *text)
{
  g_autofree char *stripped = text ? g_strstrip (g_strdup (text)) : NULL;

  return stripped && *stripped ? g_steal_pointer (&stripped) : NULL;
}

void
bms_report_set_device (BmsReport *self,
                       gint64     device_id)
{
  g_return_if_fail (BMS_IS_REPORT (self));

  self->device_id = device_id;
}

void
bms_report_set_range (BmsReport *self,
                      gint64     from_us,
                      gint64     to_us)
{
  g_return_if_fail (BMS_IS_REPORT (self));

  self->from_us = from_us;
  self->to_us = to_us;
}

void
bms_report_set_people (BmsReport  *self,
                       const char *technician,
                       const char *customer,
                       const char *site)
{
  g_return_if_fail (BMS_IS_REPORT (self));

  g_free (self->technician);
  g_free (self->customer);
  g_free (self->site);
  self->technician = dup_text (technician);
  self->customer = dup_text (customer);
  self->site = dup_text (site);
}

void
bms_report_set_board (BmsReport         *self,
                      const BmsSnapshot *snapshot)
{
  g_return_if_fail (BMS_IS_REPORT (self));

  g_clear_pointer (&self->board, bms_snapshot_free);
  if (snapshot)
    self->board = bms_snapshot_copy (snapshot);
}

/* --- writing ------------------------------------------------------------ */

/* What one write needs, copied so that the worker shares nothing with the
 * object the caller keeps changing. */
typedef struct {
  BmsHistory   *history;
  gint64        device_id;
  gint64        from_us, to_us;
  ReportPeople  people;
  char         *path;
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->history);
  g_free (job->people.technician);
  g_free (job->people.customer);
  g_free (job->people.site);
  g_clear_pointer (&job->people.board, bms_snapshot_free);
  g_free (job->path);
  g_free (job);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Job, job_free)

static Job *
job_new (BmsReport  *self,
         const char *path)
{
  Job *job = g_new0 (Job, 1);

  job->history = g_object_ref (self->history);
  job->device_id = self->device_id;
  job->from_us = self->from_us;
  job->to_us = self->to_us;
  job->people.technician = g_strdup (self->technician);
  job->people.customer = g_strdup (self->customer);
  job->people.site = g_strdup (self->site);
  job->people.board = self->board ? bms_snapshot_copy (self->board) : NULL;
  job->people.generated_us = g_get_real_time ();
  job->path = g_strdup (path);
  return job;
}

/* A cancel stays a cancel; anything else says which file failed. */
static gboolean
write_failed (Job     *job,
              GError  *cause,
              GError **error)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, cause);
  else
    {
      g_set_error (error, BMS_REPORT_ERROR, BMS_REPORT_ERROR_WRITE,
                   _("Cannot write the report to %s: %s"), job->path, cause->message);
      g_error_free (cause);
    }
  return FALSE;
}

/* Written whole to the export's temporary file beside the target (named
 * after this process, so one a kill -9 left is cleaned up later) and
 * renamed over the target only when complete. */
static gboolean
write_pdf (Job                  *job,
           const char           *tmp,
           ReportData           *data,
           const ReportProgress *progress,
           GCancellable         *cancellable,
           GError              **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (tmp);
  g_autoptr(GFileOutputStream) stream = NULL;
  g_autoptr(GError) local = NULL;
  gboolean ok;

  stream = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, cancellable, &local);
  if (stream == NULL)
    return write_failed (job, g_steal_pointer (&local), error);
  ok = report_draw_pdf (data, &job->people, G_OUTPUT_STREAM (stream), progress, cancellable, error);
  if (!g_output_stream_close (G_OUTPUT_STREAM (stream), NULL, ok ? &local : NULL) && ok)
    return write_failed (job, g_steal_pointer (&local), error);
  return ok;
}

static gboolean
job_run (Job                  *job,
         const ReportProgress *progress,
         GCancellable         *cancellable,
         GError              **error)
{
  g_autoptr(ReportData) data = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *tmp = NULL;
  ReportProgress collecting = *progress, drawing = *progress;

  collecting.to = 0.5;
  drawing.from = 0.5;
  /* Before the long part: a folder that cannot be written fails at once. */
  if (!(tmp = bms_export_temp_new (job->path, &local)))
    return write_failed (job, g_steal_pointer (&local), error);
  data = report_data_collect (job->history, job->device_id, job->people.board, job->from_us,
                              job->to_us, &collecting, cancellable, error);
  /* Without a live board, its identity and settings as the history kept
   * them at the end of the range (a board far away, a claim for warranty). */
  if (data != NULL && job->people.board == NULL)
    {
      job->people.board = bms_history_get_board (job->history, data->device->id, data->to_us,
                                                 &job->people.board_recorded_us, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          g_clear_pointer (&data, report_data_free);
        }
    }
  if (data == NULL || !write_pdf (job, tmp, data, &drawing, cancellable, error))
    {
      g_unlink (tmp);
      return FALSE;
    }
  if (!bms_export_temp_commit (tmp, job->path, error))
    {
      g_unlink (tmp);
      return FALSE;
    }
  report_progress (progress, 1);
  return TRUE;
}

gboolean
bms_report_write (BmsReport             *self,
                  const char            *path,
                  BmsReportProgressFunc  progress,
                  gpointer               progress_data,
                  GCancellable          *cancellable,
                  GError               **error)
{
  g_autoptr(Job) job = NULL;
  ReportProgress p = { progress, progress_data, 0, 1 };

  g_return_val_if_fail (BMS_IS_REPORT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  job = job_new (self, path);
  return job_run (job, &p, cancellable, error);
}

/* --- on a worker -------------------------------------------------------- */

typedef struct {
  GMainContext          *context;
  BmsReportProgressFunc  func;
  gpointer               data;
  gint64                 last_us;   /* worker only */
} AsyncProgress;

typedef struct {
  BmsReportProgressFunc func;
  gpointer              data;
  double                fraction;
} ProgressIdle;

static gboolean
progress_idle (gpointer user_data)
{
  ProgressIdle *idle = user_data;

  idle->func (idle->fraction, idle->data);
  return G_SOURCE_REMOVE;
}

/* On the worker: hands the fraction to the caller's context, 20 times a
 * second at most (and always the end). */
static void
post_progress (double   fraction,
               gpointer user_data)
{
  AsyncProgress *p = user_data;
  gint64 now = g_get_monotonic_time ();
  ProgressIdle *idle;
  GSource *source;

  if (now - p->last_us < G_USEC_PER_SEC / 20 && fraction < 1)
    return;
  p->last_us = now;
  idle = g_new (ProgressIdle, 1);
  *idle = (ProgressIdle) { p->func, p->data, fraction };
  /* At the task's own priority: every update runs before the callback. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, progress_idle, idle, g_free);
  g_source_attach (source, p->context);
  g_source_unref (source);
}

typedef struct {
  Job           *job;
  AsyncProgress  progress;
} AsyncJob;

static void
async_job_free (AsyncJob *a)
{
  job_free (a->job);
  g_main_context_unref (a->progress.context);
  g_free (a);
}

static void
write_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  AsyncJob *a = task_data;
  ReportProgress p = { a->progress.func ? post_progress : NULL, &a->progress, 0, 1 };
  GError *error = NULL;

  if (job_run (a->job, &p, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
bms_report_write_async (BmsReport             *self,
                        const char            *path,
                        BmsReportProgressFunc  progress,
                        gpointer               progress_data,
                        GCancellable          *cancellable,
                        GAsyncReadyCallback    callback,
                        gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  AsyncJob *a;

  g_return_if_fail (BMS_IS_REPORT (self));
  g_return_if_fail (path != NULL);

  a = g_new0 (AsyncJob, 1);
  a->job = job_new (self, path);
  a->progress.context = g_main_context_ref_thread_default ();
  a->progress.func = progress;
  a->progress.data = progress_data;
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_report_write_async);
  g_task_set_task_data (task, a, (GDestroyNotify) async_job_free);
  g_task_run_in_thread (task, write_thread);
}

gboolean
bms_report_write_finish (BmsReport     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- manufacturer id ---------------------------------------------------- */

static char *
digits_number (const char *s,
               guint       n)
{
  char part[8] = { 0 };

  g_assert (n < sizeof part);
  for (guint i = 0; i < n; i++)
    if (!g_ascii_isdigit (s[i]))
      return NULL;
  memcpy (part, s, n);
  return g_strdup_printf ("%" G_GUINT64_FORMAT, g_ascii_strtoull (part, NULL, 10));
}

static const char *
maker_type (char c)
{
  switch (c)
    {
    case '1':
      return _("iron phosphate");
    case '2':
      return _("manganese");
    case '3':
      return _("ternary");
    default:
      return NULL;
    }
}

char *
bms_report_decode_manufacturer_id (const char *id)
{
  g_autofree char *volts = NULL, *amps = NULL, *cycles = NULL;
  const char *type;

  g_return_val_if_fail (id != NULL, NULL);

  /* BT 3 072 020 12 0000 20 05 21 001 (docs/protocol.md) */
  if (strlen (id) != 24 || !(type = maker_type (id[2])))
    return NULL;
  volts = digits_number (id + 3, 3);
  amps = digits_number (id + 6, 3);
  cycles = digits_number (id + 9, 2);
  for (guint i = 15; i < 24; i++)
    if (!g_ascii_isdigit (id[i]))
      return NULL;
  if (!volts || !amps || !cycles)
    return NULL;
  /* TRANSLATORS: the parts of a manufacturer id: product code, cell type,
   * voltage class, capacity class, cycle life in hundreds, company code,
   * production date (20YY-MM-DD), serial number */
  return g_strdup_printf (_("%.2s · %s · %s V · %s Ah · %s00 cycles · company %.4s · "
                            "made 20%.2s-%.2s-%.2s · no. %.3s"),
                          id, type, volts, amps, cycles, id + 11, id + 15, id + 17, id + 19,
                          id + 21);
}
