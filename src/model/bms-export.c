/* bms-export.c — history to .xlsx (libxlsxwriter) or .csv, atomically. */
#include "config.h"
#include "bms-context.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <xlsxwriter.h>

#include "bms-export.h"
#include "bms-health.h"
#include "bms-xlsx-check.h"

#define CHART_BUCKETS 1000
#define EXCEL_EPOCH_DAYS 25569.0   /* 1970-01-01 as an Excel serial date */

// clang-format off
G_DEFINE_QUARK (bms-export-error-quark, bms_export_error)
// clang-format on

struct _BmsExport
{
  GObject          parent_instance;

  BmsHistory      *history;
  BmsExportFormat  format;
  gint64           from_us, to_us;
  gint64           device_id;
  guint            max_rows;

  double           fraction;   /* main context only */
  guint64          rows;
  guint64          samples;    /* of the last finished export */
};

G_DEFINE_FINAL_TYPE (BmsExport, bms_export, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_HISTORY,
  PROP_FRACTION,
  PROP_ROWS,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

/* ---------------------------------------------------------- write state */

typedef struct {
  BmsExport             *self;
  const char            *path;
  GCancellable          *cancellable;
  BmsExportProgressFunc  progress;
  gpointer               user_data;
  guint64                total, done, last_done;
  double                 rows_share;     /* of the whole job, for the fraction */
  gint64                 last_report;
  GTimeZone             *tz;
  GHashTable            *device_labels;  /* gint64* → char* */
  GError                *error;

  /* xlsx */
  lxw_workbook          *wb;
  lxw_format            *f_date, *f_v2, *f_v3, *f_int, *f_bold, *f_title;
  GPtrArray             *sample_sheets;  /* lxw_worksheet* */
  GPtrArray             *cell_sheets;
  guint                  data_rows;      /* per sheet, header excluded */
  guint64                n_written;
  guint                  n_cells;

  /* csv */
  FILE                  *csv;
} Ctx;

static void
ctx_clear (Ctx *c)
{
  g_clear_pointer (&c->tz, g_time_zone_unref);
  g_clear_pointer (&c->device_labels, g_hash_table_unref);
  g_clear_pointer (&c->sample_sheets, g_ptr_array_unref);
  g_clear_pointer (&c->cell_sheets, g_ptr_array_unref);
  g_clear_error (&c->error);
}

static void
ctx_progress (Ctx *c, guint64 n)
{
  gint64 now = g_get_monotonic_time ();

  /* Ten times a second, or every 4096 rows when the clock is coarse. */
  c->done += n;
  if (!c->progress ||
      (now - c->last_report < 100000 && c->done - c->last_done < 4096 && c->done < c->total))
    return;
  c->last_report = now;
  c->last_done = c->done;
  c->progress (c->rows_share * (c->total ? MIN (1.0, (double) c->done / c->total) : 1.0),
               c->done, c->user_data);
}

static gint64
utc_offset_s (Ctx *c, gint64 t_us)
{
  gint64 secs = t_us / G_USEC_PER_SEC;
  gint interval = g_time_zone_find_interval (c->tz, G_TIME_TYPE_UNIVERSAL, secs);

  return interval < 0 ? 0 : g_time_zone_get_offset (c->tz, interval);
}

static double
excel_date (Ctx *c, gint64 t_us)
{
  return EXCEL_EPOCH_DAYS + (t_us / 1e6 + utc_offset_s (c, t_us)) / 86400.0;
}

static char *
iso_local (Ctx *c, gint64 t_us)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (t_us / G_USEC_PER_SEC);
  g_autoptr (GDateTime) base = utc ? g_date_time_to_timezone (utc, c->tz) : NULL;
  g_autoptr (GDateTime) dt = base ? g_date_time_add (base, t_us % G_USEC_PER_SEC) : NULL;

  return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S.%f%:z") : g_strdup ("");
}

static const char *
device_label (Ctx *c, gint64 device_id)
{
  const char *label = g_hash_table_lookup (c->device_labels, &device_id);
  return label ? label : "?";
}

static gboolean
load_devices (Ctx *c, GPtrArray **devices_out, GError **error)
{
  g_autoptr (GPtrArray) devices = bms_history_list_devices (c->self->history, error);

  if (!devices)
    return FALSE;
  c->device_labels = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      gint64 *key = g_new (gint64, 1);
      *key = d->id;
      g_hash_table_insert (c->device_labels, key,
                           g_strdup (d->name && *d->name ? d->name : d->key));
    }
  *devices_out = g_steal_pointer (&devices);
  return TRUE;
}

/* ------------------------------------------------------------ temp file */

/* The temporary file is ".OUT.packwatch-export-PID@HOST.XXXXXX" beside
 * OUT: a kill -9 (or a crash, or a power cut) leaves it behind, and the
 * name says whose it was, so the next export in that folder removes the
 * ones whose process is gone (49 MB after a few killed exports before).
 * Files of a live process or of another host are left alone. */
#define TEMP_TAG ".packwatch-export-"

static void remove_stale_temps (const char *path);

char *
bms_export_temp_new (const char *path, GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *name = NULL;
  char *tmp;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  remove_stale_temps (path);
  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  name = g_strdup_printf (".%s" TEMP_TAG "%d@%s.XXXXXX", base, (int) getpid (),
                          g_get_host_name ());
  tmp = g_build_filename (dir, name, NULL);
  fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, 0644);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_WRITE,
                   "Cannot create a file in “%s”: %s", dir, g_strerror (saved));
      g_free (tmp);
      return NULL;
    }
  close (fd);
  return tmp;
}

/* TRUE when name is a temporary file of an export whose process (on this
 * host) has ended. */
static gboolean
is_stale_temp (const char *name)
{
  const char *tag = name[0] == '.' ? strstr (name, TEMP_TAG) : NULL;
  const char *host, *suffix;
  char *end = NULL;
  gint64 pid;

  if (!tag)
    return FALSE;
  pid = g_ascii_strtoll (tag + strlen (TEMP_TAG), &end, 10);
  if (pid <= 0 || pid > G_MAXINT || *end != '@')
    return FALSE;
  host = end + 1;
  suffix = strrchr (host, '.');
  if (!suffix || strlen (suffix) != 7 ||
      strncmp (host, g_get_host_name (), suffix - host) != 0 ||
      strlen (g_get_host_name ()) != (gsize) (suffix - host))
    return FALSE;
  return pid != getpid () && kill ((pid_t) pid, 0) != 0 && errno == ESRCH;
}

static void
remove_stale_temps (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    if (is_stale_temp (name))
      {
        g_autofree char *stale = g_build_filename (dir, name, NULL);
        if (g_unlink (stale) == 0)
          g_message ("Export: removed “%s”, left by an export that was killed", stale);
      }
}

gboolean
bms_export_temp_commit (const char *tmp, const char *path, GError **error)
{
  int fd = open (tmp, O_RDONLY | O_CLOEXEC);
  int saved = 0;

  if (fd < 0 || fsync (fd) != 0)
    saved = errno;
  if (fd >= 0)
    close (fd);
  if (saved == 0 && g_rename (tmp, path) != 0)
    saved = errno;
  if (saved == 0)
    return TRUE;
  g_set_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_WRITE,
               "Cannot save “%s”: %s%s", path, g_strerror (saved),
               saved == ENOSPC ? " (the disk is full: free some space and export again)" : "");
  return FALSE;
}

/* ------------------------------------------------------- read-ahead */

/* The samples are read and decoded from SQLite on a thread of their own,
 * a few batches ahead of the writer, so the two overlap on a machine with
 * more than one core (reading was about 3 % of a 1-million-row export).
 * At most READ_BATCHES batches exist: the reader waits for the writer. */
#define READ_BATCH   256
#define READ_BATCHES 4

typedef struct {
  guint            n;
  BmsHistorySample s[READ_BATCH];
} ReadBatch;

typedef struct {
  BmsExport    *self;
  GCancellable *cancellable;
  GAsyncQueue  *full, *empty;   /* ReadBatch*, or &read_end after the last */
  ReadBatch    *cur;
  gint          stop;           /* atomic: the writer wants no more */
  gboolean      ok;
  GError       *error;
} ReadAhead;

static char read_end;

static gboolean
read_collect (const BmsHistorySample *sample, gpointer data)
{
  ReadAhead *ra = data;

  if (g_atomic_int_get (&ra->stop))
    return FALSE;
  if (ra->cur == NULL)
    ra->cur = g_async_queue_pop (ra->empty);
  memcpy (&ra->cur->s[ra->cur->n++], sample,
          G_STRUCT_OFFSET (BmsHistorySample, cells_mv) + sample->n_cells * sizeof (guint16));
  if (ra->cur->n == READ_BATCH)
    g_async_queue_push (ra->full, g_steal_pointer (&ra->cur));
  return TRUE;
}

static gpointer
read_thread (gpointer data)
{
  ReadAhead *ra = data;
  BmsExport *self = ra->self;

  ra->ok = bms_history_foreach_sample (self->history, self->device_id, self->from_us,
                                       self->to_us, read_collect, ra, ra->cancellable,
                                       &ra->error);
  if (ra->cur != NULL)
    g_async_queue_push (ra->full, g_steal_pointer (&ra->cur));
  g_async_queue_push (ra->full, &read_end);
  return NULL;
}

/* bms_history_foreach_sample () for the export's range, read ahead. */
static gboolean
read_samples (Ctx *c, BmsHistorySampleFunc func, GError **error)
{
  ReadAhead ra = { .self = c->self, .cancellable = c->cancellable };
  g_autofree ReadBatch *batches = g_new (ReadBatch, READ_BATCHES);
  gboolean more = TRUE;
  GThread *thread;
  gpointer item;

  ra.full = g_async_queue_new ();
  ra.empty = g_async_queue_new ();
  for (guint i = 0; i < READ_BATCHES; i++)
    {
      batches[i].n = 0;
      g_async_queue_push (ra.empty, &batches[i]);
    }
  thread = g_thread_new ("export-read", read_thread, &ra);
  /* After the writer stops, keep handing batches back until the reader
   * has seen the stop flag and finished. */
  while ((item = g_async_queue_pop (ra.full)) != &read_end)
    {
      ReadBatch *b = item;

      for (guint i = 0; more && i < b->n; i++)
        more = func (&b->s[i], c);
      b->n = 0;
      if (!more)
        g_atomic_int_set (&ra.stop, 1);
      g_async_queue_push (ra.empty, b);
    }
  g_thread_join (thread);
  g_async_queue_unref (ra.full);
  g_async_queue_unref (ra.empty);
  if (!ra.ok)
    {
      g_propagate_error (error, ra.error);
      return FALSE;
    }
  return TRUE;
}

/* ----------------------------------------------------------------- xlsx */

static const char * const sample_headers[] = {
  "Time", "Device", "Pack voltage (V)", "Current (A)", "SOC (%)", "MOSFET (°C)",
  "Temperature 1 (°C)", "Temperature 2 (°C)", "Lowest cell (V)", "Lowest cell no.",
  "Highest cell (V)", "Highest cell no.", "Difference (mV)", "Status", "Warnings",
  "Extended alarms", NULL
};
static const char * const alarm_headers[] = {
  "Time", "Device", "Alarm", "Event", "Value", "Threshold", "Text", NULL
};
static const char * const audit_headers[] = {
  "Time", "Device", "Field", "Old value", "New value", "Result", NULL
};

static void
write_headers (Ctx *c, lxw_worksheet *ws, const char * const *headers)
{
  guint i;

  for (i = 0; headers[i]; i++)
    worksheet_write_string (ws, 0, i, headers[i], c->f_bold);
  worksheet_set_column (ws, 0, 0, 20, NULL);
  worksheet_set_column (ws, 1, i - 1, 14, NULL);
  worksheet_freeze_panes (ws, 1, 1);
}

static void
write_cell_headers (Ctx *c, lxw_worksheet *ws)
{
  worksheet_write_string (ws, 0, 0, "Time", c->f_bold);
  worksheet_write_string (ws, 0, 1, "Device", c->f_bold);
  for (guint i = 0; i < c->n_cells; i++)
    {
      char name[32];
      g_snprintf (name, sizeof name, "Cell %u (V)", i + 1);
      worksheet_write_string (ws, 0, 2 + i, name, c->f_bold);
    }
  worksheet_set_column (ws, 0, 0, 20, NULL);
  worksheet_set_column (ws, 1, 1, 14, NULL);
  worksheet_freeze_panes (ws, 1, 2);
}

static char *
sheet_name (const char *base, guint index)
{
  return index == 0 ? g_strdup (base) : g_strdup_printf ("%s (%u)", base, index + 1);
}

static lxw_worksheet *
add_data_sheet (Ctx *c, GPtrArray *sheets, const char *base, gboolean cells)
{
  g_autofree char *name = sheet_name (base, sheets->len);
  lxw_worksheet *ws = workbook_add_worksheet (c->wb, name);

  if (cells)
    write_cell_headers (c, ws);
  else
    write_headers (c, ws, sample_headers);
  g_ptr_array_add (sheets, ws);
  return ws;
}

static void
write_opt_number (lxw_worksheet *ws, guint row, guint col, double v, lxw_format *f)
{
  if (!isnan (v))
    worksheet_write_number (ws, row, col, v, f);
}

static gboolean
xlsx_sample (const BmsHistorySample *s, gpointer data)
{
  Ctx *c = data;
  guint sheet = c->n_written / c->data_rows;
  guint row = c->n_written % c->data_rows + 1;
  lxw_worksheet *ws, *wc = NULL;
  double date = excel_date (c, s->time_us);

  if (g_cancellable_is_cancelled (c->cancellable))
    return FALSE;
  /* Samples arrived since the sheets were planned: continue at the end. */
  while (sheet >= c->sample_sheets->len)
    add_data_sheet (c, c->sample_sheets, "Samples", FALSE);
  while (c->n_cells && sheet >= c->cell_sheets->len)
    add_data_sheet (c, c->cell_sheets, "Cells", TRUE);
  ws = g_ptr_array_index (c->sample_sheets, sheet);
  if (c->n_cells)
    wc = g_ptr_array_index (c->cell_sheets, sheet);

  worksheet_write_number (ws, row, 0, date, c->f_date);
  worksheet_write_string (ws, row, 1, device_label (c, s->device_id), NULL);
  write_opt_number (ws, row, 2, s->values[BMS_SERIES_PACK_VOLTAGE], c->f_v2);
  write_opt_number (ws, row, 3, s->values[BMS_SERIES_CURRENT], c->f_v2);
  write_opt_number (ws, row, 4, s->values[BMS_SERIES_SOC], NULL);
  write_opt_number (ws, row, 5, s->values[BMS_SERIES_TEMP_MOSFET], NULL);
  write_opt_number (ws, row, 6, s->values[BMS_SERIES_TEMP1], NULL);
  write_opt_number (ws, row, 7, s->values[BMS_SERIES_TEMP2], NULL);
  if (s->n_cells)
    {
      write_opt_number (ws, row, 8, s->values[BMS_SERIES_CELL_MIN], c->f_v3);
      worksheet_write_number (ws, row, 9, s->cell_min_index, NULL);
      write_opt_number (ws, row, 10, s->values[BMS_SERIES_CELL_MAX], c->f_v3);
      worksheet_write_number (ws, row, 11, s->cell_max_index, NULL);
      worksheet_write_number (ws, row, 12, round ((s->values[BMS_SERIES_CELL_MAX] -
                                                   s->values[BMS_SERIES_CELL_MIN]) * 1000), NULL);
    }
  worksheet_write_number (ws, row, 13, s->status, c->f_int);
  worksheet_write_number (ws, row, 14, s->warnings, c->f_int);
  worksheet_write_number (ws, row, 15, s->alarms_ext, c->f_int);

  if (wc)
    {
      worksheet_write_number (wc, row, 0, date, c->f_date);
      worksheet_write_string (wc, row, 1, device_label (c, s->device_id), NULL);
      for (guint i = 0; i < s->n_cells && i < c->n_cells; i++)
        worksheet_write_number (wc, row, 2 + i, s->cells_mv[i] / 1000.0, c->f_v3);
    }
  c->n_written++;
  ctx_progress (c, 1);
  return TRUE;
}

static void
xlsx_alarms (Ctx *c, lxw_worksheet *ws, GPtrArray *events)
{
  write_headers (c, ws, alarm_headers);
  worksheet_set_column (ws, 6, 6, 40, NULL);
  for (guint i = 0; i < events->len; i++)
    {
      BmsHistoryAlarmEvent *e = g_ptr_array_index (events, i);
      worksheet_write_number (ws, i + 1, 0, excel_date (c, e->time_us), c->f_date);
      worksheet_write_string (ws, i + 1, 1, device_label (c, e->device_id), NULL);
      worksheet_write_string (ws, i + 1, 2, e->code, NULL);
      worksheet_write_string (ws, i + 1, 3, e->raised ? "raised" : "cleared", NULL);
      write_opt_number (ws, i + 1, 4, e->value, NULL);
      write_opt_number (ws, i + 1, 5, e->threshold, NULL);
      if (e->text)
        worksheet_write_string (ws, i + 1, 6, e->text, NULL);
    }
  ctx_progress (c, events->len);
}

static void
xlsx_audit (Ctx *c, lxw_worksheet *ws, GPtrArray *rows)
{
  write_headers (c, ws, audit_headers);
  for (guint i = 0; i < rows->len; i++)
    {
      BmsHistoryAudit *a = g_ptr_array_index (rows, i);
      worksheet_write_number (ws, i + 1, 0, excel_date (c, a->time_us), c->f_date);
      worksheet_write_string (ws, i + 1, 1, device_label (c, a->device_id), NULL);
      worksheet_write_string (ws, i + 1, 2, a->field, NULL);
      if (a->old_value)
        worksheet_write_string (ws, i + 1, 3, a->old_value, NULL);
      if (a->new_value)
        worksheet_write_string (ws, i + 1, 4, a->new_value, NULL);
      worksheet_write_string (ws, i + 1, 5, a->result, NULL);
    }
  ctx_progress (c, rows->len);
}

/* One row per cell of one device: the figures of bms-health.h and, for
 * a suspect, its rank and reasons. */
static guint
xlsx_health_device (Ctx *c, lxw_worksheet *ws, guint row, const BmsHistoryDevice *d,
                    const BmsHealthReport *report)
{
  for (guint i = 0; i < report->n_cells; i++, row++)
    {
      const BmsHealthCell *cell = &report->cells[i];
      const BmsHealthSuspect *s = bms_health_report_find_suspect (report, cell->cell);

      worksheet_write_string (ws, row, 0, device_label (c, d->id), NULL);
      worksheet_write_number (ws, row, 1, cell->cell, c->f_int);
      write_opt_number (ws, row, 2, cell->resistance_mohm, c->f_v3);
      write_opt_number (ws, row, 3, cell->resistance_confidence, c->f_v2);
      worksheet_write_number (ws, row, 4, cell->steps, c->f_int);
      write_opt_number (ws, row, 5, cell->capacity_deviation_pct, c->f_v2);
      write_opt_number (ws, row, 6, cell->leak_ma, c->f_v2);
      if (s)
        {
          g_autofree char *reasons = g_strjoinv ("; ", s->reasons);
          guint rank = 1;

          while (g_ptr_array_index (report->suspects, rank - 1) != s)
            rank++;
          worksheet_write_number (ws, row, 7, rank, c->f_int);
          worksheet_write_string (ws, row, 8, reasons, NULL);
        }
    }
  return row;
}

/* The Health sheet: bms_health_analyze for each device with samples in
 * the range (the analysis reads the samples twice more). */
static gboolean
xlsx_health (Ctx *c, lxw_worksheet *ws, GPtrArray *devices, GError **error)
{
  static const char *const headers[] = {
    "Device", "Cell", "Resistance (mΩ)", "Confidence", "Steps", "Capacity deviation (%)",
    "Leak (mA)", "Suspect rank", "Reasons", NULL
  };
  BmsExport *self = c->self;
  guint row = 1;

  write_headers (c, ws, headers);
  worksheet_set_column (ws, 8, 8, 80, NULL);
  for (guint k = 0; k < devices->len; k++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, k);
      g_autoptr (BmsHealthReport) report = NULL;

      if ((self->device_id && d->id != self->device_id) || d->n_samples == 0)
        continue;
      if (!(report = bms_health_analyze (self->history, d->key, self->from_us, self->to_us,
                                         c->cancellable, error)))
        return FALSE;
      row = xlsx_health_device (c, ws, row, d, report);
    }
  return TRUE;
}

static void
summary_pair (Ctx *c, lxw_worksheet *ws, guint *row, const char *key, const char *value)
{
  worksheet_write_string (ws, *row, 0, key, c->f_bold);
  worksheet_write_string (ws, *row, 1, value, NULL);
  (*row)++;
}

static void
summary_number (Ctx *c, lxw_worksheet *ws, guint *row, const char *key, double value,
                lxw_format *f)
{
  worksheet_write_string (ws, *row, 0, key, c->f_bold);
  worksheet_write_number (ws, *row, 1, value, f);
  (*row)++;
}

static void
xlsx_summary (Ctx *c, lxw_worksheet *ws, GPtrArray *devices, gint64 n_samples,
              guint n_alarms, guint n_audit, gint64 from_us, gint64 to_us)
{
  g_autoptr (GDateTime) now = g_date_time_new_now (c->tz);
  g_autofree char *offset = g_date_time_format (now, "UTC%:z");
  g_autofree char *zone = g_strdup_printf ("Times are local time (%s, %s)",
                                           g_time_zone_get_identifier (c->tz), offset);
  guint row = 0;

  worksheet_set_column (ws, 0, 0, 22, NULL);
  worksheet_set_column (ws, 1, 5, 20, NULL);
  worksheet_write_string (ws, row++, 0, "Packwatch history export", c->f_title);
  row++;
  summary_pair (c, ws, &row, "Database", bms_history_get_path (c->self->history));
  summary_number (c, ws, &row, "Exported", excel_date (c, g_get_real_time ()), c->f_date);
  if (from_us > 0)
    summary_number (c, ws, &row, "From", excel_date (c, from_us), c->f_date);
  else
    summary_pair (c, ws, &row, "From", "first sample");
  if (to_us < G_MAXINT64)
    summary_number (c, ws, &row, "To", excel_date (c, to_us), c->f_date);
  else
    summary_pair (c, ws, &row, "To", "last sample");
  summary_pair (c, ws, &row, "Time zone", zone);
  summary_number (c, ws, &row, "Samples", n_samples, NULL);
  summary_number (c, ws, &row, "Cells per sample (max)", c->n_cells, NULL);
  summary_number (c, ws, &row, "Alarm events", n_alarms, NULL);
  summary_number (c, ws, &row, "Audit rows", n_audit, NULL);
  summary_number (c, ws, &row, "Sample sheets", c->sample_sheets->len, NULL);
  row++;
  worksheet_write_string (ws, row, 0, "Device", c->f_bold);
  worksheet_write_string (ws, row, 1, "Key", c->f_bold);
  worksheet_write_string (ws, row, 2, "Samples (all time)", c->f_bold);
  worksheet_write_string (ws, row, 3, "First sample", c->f_bold);
  worksheet_write_string (ws, row, 4, "Last sample", c->f_bold);
  row++;
  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      if (c->self->device_id && d->id != c->self->device_id)
        continue;
      worksheet_write_string (ws, row, 0, device_label (c, d->id), NULL);
      worksheet_write_string (ws, row, 1, d->key, NULL);
      worksheet_write_number (ws, row, 2, d->n_samples, NULL);
      if (d->n_samples)
        {
          worksheet_write_number (ws, row, 3, excel_date (c, d->first_us), c->f_date);
          worksheet_write_number (ws, row, 4, excel_date (c, d->last_us), c->f_date);
        }
      row++;
    }
}

/* The chart device: the one asked for, else the one with most samples. */
static gint64
chart_device (Ctx *c, GPtrArray *devices)
{
  gint64 best = 0, n = -1;

  if (c->self->device_id)
    return c->self->device_id;
  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      if (d->n_samples > n)
        best = d->id, n = d->n_samples;
    }
  return best;
}

/* The Chart sheet's columns after the time, and the charts drawn from them. */
typedef struct {
  BmsSeries   series;
  const char *header;
  lxw_format *(*format) (Ctx *c);
} ChartColumn;

static lxw_format *fmt_v2 (Ctx *c) { return c->f_v2; }
static lxw_format *fmt_v3 (Ctx *c) { return c->f_v3; }
static lxw_format *fmt_none (Ctx *c) { return NULL; }

static const ChartColumn chart_columns[] = {
  { BMS_SERIES_PACK_VOLTAGE, "Pack voltage (V)",   fmt_v2 },
  { BMS_SERIES_CURRENT,      "Current (A)",        fmt_v2 },
  { BMS_SERIES_SOC,          "SOC (%)",            fmt_none },
  { BMS_SERIES_TEMP_MOSFET,  "MOSFET (°C)",        fmt_none },
  { BMS_SERIES_TEMP1,        "Temperature 1 (°C)", fmt_none },
  { BMS_SERIES_TEMP2,        "Temperature 2 (°C)", fmt_none },
  { BMS_SERIES_CELL_MIN,     "Lowest cell (V)",    fmt_v3 },
  { BMS_SERIES_CELL_MAX,     "Highest cell (V)",   fmt_v3 },
};

typedef struct {
  const char *title, *axis;
  guint       first, n;     /* indexes into chart_columns */
  double      y_min, y_max; /* NAN: automatic */
} ChartSpec;

static const ChartSpec chart_specs[] = {
  { "Pack voltage",      "V",  0, 1, NAN, NAN },
  { "Current",           "A",  1, 1, NAN, NAN },
  { "SOC",               "%",  2, 1, 0, 100 },
  { "Temperatures",      "°C", 3, 3, NAN, NAN },
  { "Lowest and highest cell", "V", 6, 2, NAN, NAN },
};

/* A major unit for a time axis spanning span_days, from round steps, so
 * that it carries about four to ten labels; *num_format shows what changes
 * between two labels. */
void
bms_export_time_axis (double first, double last, double *min, double *max, double *unit,
                      const char **num_format)
{
  static const double steps_s[] = {
    1, 2, 5, 10, 15, 30, 60, 2 * 60, 5 * 60, 10 * 60, 15 * 60, 30 * 60,
    3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400,
    14 * 86400, 28 * 86400, 56 * 86400, 91 * 86400, 182 * 86400, 364 * 86400,
  };
  double span_s = MAX (last - first, 0) * 86400.0;
  double step_s = steps_s[G_N_ELEMENTS (steps_s) - 1];

  for (guint i = 0; i < G_N_ELEMENTS (steps_s); i++)
    if (span_s / steps_s[i] <= 8)
      {
        step_s = steps_s[i];
        break;
      }
  *unit = step_s / 86400.0;
  /* Labels at round times: the axis starts and ends on a whole step (the
   * rounding of a division may miss the data by a hair: one step more). */
  *min = floor (first / *unit) * *unit;
  *max = ceil (last / *unit) * *unit;
  if (*min > first)
    *min -= *unit;
  if (*max < last || *max <= *min)
    *max += *unit;
  if (step_s < 60)
    *num_format = "hh:mm:ss";
  else if (step_s < 86400 && floor (*min) == floor (*max - 1e-9))
    *num_format = "hh:mm";
  else if (step_s < 86400)
    *num_format = "yyyy-mm-dd hh:mm";
  else
    *num_format = "yyyy-mm-dd";
}

/* A scatter chart on a real time axis: a line chart's category axis treats
 * dates as whole days, which drew minutes of data as one vertical line. */
static lxw_chart *
make_chart (Ctx *c, const ChartSpec *spec, const gboolean *has_data, guint n_rows,
            double first, double last)
{
  lxw_chart *chart = workbook_add_chart (c->wb, LXW_CHART_SCATTER_STRAIGHT);
  double min, max, unit;
  const char *num_format;
  guint n_series = 0;

  for (guint i = spec->first; i < spec->first + spec->n; i++)
    {
      lxw_chart_series *series;
      lxw_chart_line line = { .width = 1.25 };

      if (!has_data[i])
        continue;
      series = chart_add_series (chart, NULL, NULL);
      chart_series_set_categories (series, "Chart", 1, 0, n_rows, 0);
      chart_series_set_values (series, "Chart", 1, 1 + i, n_rows, 1 + i);
      chart_series_set_name_range (series, "Chart", 0, 1 + i);
      chart_series_set_line (series, &line);
      chart_series_set_marker_type (series, LXW_CHART_MARKER_NONE);
      n_series++;
    }
  bms_export_time_axis (first, last, &min, &max, &unit, &num_format);
  chart_title_set_name (chart, spec->title);
  chart_axis_set_num_format (chart->x_axis, num_format);
  chart_axis_set_min (chart->x_axis, min);
  chart_axis_set_max (chart->x_axis, max);
  chart_axis_set_major_unit (chart->x_axis, unit);
  /* Labels along the bottom edge and the left one, wherever the axes cross
   * (a current going negative would otherwise put them across the plot). */
  chart_axis_set_label_position (chart->x_axis, LXW_CHART_AXIS_LABEL_POSITION_LOW);
  chart_axis_set_label_position (chart->y_axis, LXW_CHART_AXIS_LABEL_POSITION_LOW);
  chart_axis_set_crossing_min (chart->y_axis);
  chart_axis_major_gridlines_set_visible (chart->x_axis, LXW_TRUE);
  chart_axis_set_name (chart->y_axis, spec->axis);
  if (!isnan (spec->y_min))
    {
      chart_axis_set_min (chart->y_axis, spec->y_min);
      chart_axis_set_max (chart->y_axis, spec->y_max);
    }
  chart_legend_set_position (chart, n_series > 1 ? LXW_CHART_LEGEND_BOTTOM
                                                 : LXW_CHART_LEGEND_NONE);
  return chart;
}

/* Envelope rows: each bucket gives its minimum at the bucket start and its
 * maximum half a bucket later, so the line traces the full band. */
static gboolean
xlsx_chart (Ctx *c, lxw_worksheet *ws, GPtrArray *devices, gint64 from_us, gint64 to_us,
            GError **error)
{
  g_autoptr (BmsHistoryRange) r = NULL;
  lxw_chart_options place = { .x_offset = 10, .y_offset = 10, .x_scale = 2.0, .y_scale = 1.5 };
  gboolean has_data[G_N_ELEMENTS (chart_columns)] = { FALSE };
  gint64 dev = chart_device (c, devices);
  double first = 0, last = 0;
  guint row = 1, place_row = 1;

  worksheet_write_string (ws, 0, 0, "Time", c->f_bold);
  for (guint k = 0; k < G_N_ELEMENTS (chart_columns); k++)
    worksheet_write_string (ws, 0, 1 + k, chart_columns[k].header, c->f_bold);
  worksheet_set_column (ws, 0, 0, 20, NULL);
  worksheet_set_column (ws, 1, G_N_ELEMENTS (chart_columns), 12, NULL);
  /* Printed, the charts stay whole: one page wide, across. */
  worksheet_set_landscape (ws);
  worksheet_fit_to_pages (ws, 1, 0);
  if (dev <= 0)
    return TRUE;
  r = bms_history_query_range (c->self->history, dev, from_us, to_us, CHART_BUCKETS, FALSE, error);
  if (!r)
    return FALSE;
  for (guint i = 0; i < r->n_points; i++)
    for (guint half = 0; half < 2; half++, row++)
      {
        double date = excel_date (c, r->time_us[i] + half * r->bucket_us / 2);

        if (row == 1)
          first = date;
        last = date;
        worksheet_write_number (ws, row, 0, date, c->f_date);
        for (guint k = 0; k < G_N_ELEMENTS (chart_columns); k++)
          {
            BmsSeries s = chart_columns[k].series;
            double v = half ? r->max[s][i] : r->min[s][i];

            write_opt_number (ws, row, 1 + k, v, chart_columns[k].format (c));
            has_data[k] |= !isnan (v);
          }
      }
  if (row == 1)
    return TRUE;
  for (guint k = 0; k < G_N_ELEMENTS (chart_specs); k++)
    {
      const ChartSpec *spec = &chart_specs[k];
      gboolean any = FALSE;

      for (guint i = spec->first; i < spec->first + spec->n; i++)
        any |= has_data[i];
      if (!any)
        continue;
      worksheet_insert_chart_opt (ws, place_row, 2 + G_N_ELEMENTS (chart_columns),
                                  make_chart (c, spec, has_data, row - 1, first, last), &place);
      place_row += 24;
    }
  return TRUE;
}

static void
xlsx_formats (Ctx *c)
{
  c->f_date = workbook_add_format (c->wb);
  format_set_num_format (c->f_date, "yyyy-mm-dd hh:mm:ss");
  c->f_v2 = workbook_add_format (c->wb);
  format_set_num_format (c->f_v2, "0.00");
  c->f_v3 = workbook_add_format (c->wb);
  format_set_num_format (c->f_v3, "0.000");
  c->f_int = workbook_add_format (c->wb);
  format_set_num_format (c->f_int, "0");
  c->f_bold = workbook_add_format (c->wb);
  format_set_bold (c->f_bold);
  c->f_title = workbook_add_format (c->wb);
  format_set_bold (c->f_title);
  format_set_font_size (c->f_title, 14);
}

/* The read-back of the closed workbook (see bms-xlsx-check.h); its
 * failure is a write failure of the export, told as one. */
static gboolean
check_xlsx (Ctx *c, BmsXlsxCheck *check, guint n_sheets, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (bms_xlsx_check_finish (check, n_sheets, c->cancellable, &local))
    return TRUE;
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_set_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_WRITE,
               "Cannot write “%s”: the workbook came out incomplete (the disk is full, "
               "or the temporary folder is: free some space and export again)", c->path);
  return FALSE;
}

static gboolean
write_xlsx (Ctx *c, const char *tmp, GError **error)
{
  BmsExport *self = c->self;
  g_autoptr (GPtrArray) devices = NULL, alarms = NULL, audit = NULL;
  lxw_workbook_options opts = { .constant_memory = LXW_TRUE };
  lxw_worksheet *summary, *ws_alarms, *ws_audit, *ws_health, *ws_chart;
  gint64 n_samples;
  gint n_cells;
  guint n_sheets;
  lxw_error err;
  g_autoptr (BmsXlsxCheck) check = NULL;

  if (!load_devices (c, &devices, error) ||
      (n_samples = bms_history_count_samples (self->history, self->device_id, self->from_us,
                                              self->to_us, error)) < 0 ||
      (n_cells = bms_history_get_max_cells (self->history, self->device_id, self->from_us,
                                            self->to_us, error)) < 0 ||
      !(alarms = bms_history_query_alarm_events (self->history, self->device_id, self->from_us,
                                                 self->to_us, 0, error)) ||
      !(audit = bms_history_query_audit (self->history, self->device_id, self->from_us,
                                         self->to_us, 0, error)))
    return FALSE;
  c->n_cells = n_cells;
  c->data_rows = self->max_rows - 1;
  c->total = n_samples + alarms->len + audit->len;
  /* Very large files need ZIP64; small ones stay readable by old tools. */
  opts.use_zip64 = (double) n_samples * (16 + n_cells) > 2e7;

  c->wb = workbook_new_opt (tmp, &opts);
  if (!c->wb)
    {
      g_set_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_WRITE,
                   "Cannot start the workbook “%s” (out of memory or temporary space)", c->path);
      return FALSE;
    }
  xlsx_formats (c);
  c->sample_sheets = g_ptr_array_new ();
  c->cell_sheets = g_ptr_array_new ();
  n_sheets = MAX (1, (n_samples + c->data_rows - 1) / c->data_rows);
  summary = workbook_add_worksheet (c->wb, "Summary");
  for (guint i = 0; i < n_sheets; i++)
    add_data_sheet (c, c->sample_sheets, "Samples", FALSE);
  for (guint i = 0; n_cells && i < n_sheets; i++)
    add_data_sheet (c, c->cell_sheets, "Cells", TRUE);
  ws_alarms = workbook_add_worksheet (c->wb, "Alarms");
  ws_audit = workbook_add_worksheet (c->wb, "Audit");
  ws_health = workbook_add_worksheet (c->wb, "Health");
  ws_chart = workbook_add_worksheet (c->wb, "Chart");

  xlsx_summary (c, summary, devices, n_samples, alarms->len, audit->len,
                self->from_us, self->to_us);
  if (!read_samples (c, xlsx_sample, error) ||
      g_cancellable_set_error_if_cancelled (c->cancellable, error))
    return FALSE;
  xlsx_alarms (c, ws_alarms, alarms);
  xlsx_audit (c, ws_audit, audit);
  if (!xlsx_health (c, ws_health, devices, error))
    return FALSE;
  if (!xlsx_chart (c, ws_chart, devices, self->from_us, self->to_us, error) ||
      g_cancellable_set_error_if_cancelled (c->cancellable, error))
    return FALSE;

  n_sheets = 5 + c->sample_sheets->len + c->cell_sheets->len;
  /* Compressing (inside workbook_close) takes about as long as the rows;
   * it reports no progress, so the fraction steps over it. */
  check = bms_xlsx_check_new (tmp);
  err = workbook_close (g_steal_pointer (&c->wb));
  if (c->progress && err == LXW_NO_ERROR)
    c->progress (0.9, c->done, c->user_data);
  if (err != LXW_NO_ERROR)
    {
      g_set_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_WRITE,
                   "Cannot write “%s”: %s (is the disk full?)", c->path, lxw_strerror (err));
      return FALSE;
    }
  return check_xlsx (c, check, n_sheets, error);
}

/* ------------------------------------------------------------------ csv */

void
bms_export_csv_field (FILE *out, const char *text)
{
  gboolean quote = strpbrk (text, ",\"\n\r") != NULL;

  if (!quote)
    {
      fputs (text, out);
      return;
    }
  fputc ('"', out);
  for (const char *p = text; *p; p++)
    {
      if (*p == '"')
        fputc ('"', out);
      fputc (*p, out);
    }
  fputc ('"', out);
}

static void
csv_number (Ctx *c, double v, const char *fmt)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  fputc (',', c->csv);
  if (!isnan (v))
    fputs (g_ascii_formatd (buf, sizeof buf, fmt, v), c->csv);
}

static gboolean
csv_sample (const BmsHistorySample *s, gpointer data)
{
  Ctx *c = data;
  g_autofree char *time = iso_local (c, s->time_us);

  if (g_cancellable_is_cancelled (c->cancellable) || ferror (c->csv))
    return FALSE;
  fputs (time, c->csv);
  fputc (',', c->csv);
  bms_export_csv_field (c->csv, device_label (c, s->device_id));
  csv_number (c, s->values[BMS_SERIES_PACK_VOLTAGE], "%.2f");
  csv_number (c, s->values[BMS_SERIES_CURRENT], "%.2f");
  csv_number (c, s->values[BMS_SERIES_SOC], "%.0f");
  csv_number (c, s->values[BMS_SERIES_TEMP_MOSFET], "%.0f");
  csv_number (c, s->values[BMS_SERIES_TEMP1], "%.0f");
  csv_number (c, s->values[BMS_SERIES_TEMP2], "%.0f");
  csv_number (c, s->values[BMS_SERIES_CELL_MIN], "%.3f");
  csv_number (c, s->n_cells ? s->cell_min_index : NAN, "%.0f");
  csv_number (c, s->values[BMS_SERIES_CELL_MAX], "%.3f");
  csv_number (c, s->n_cells ? s->cell_max_index : NAN, "%.0f");
  fprintf (c->csv, ",%u,%u,%u", s->status, s->warnings, s->alarms_ext);
  for (guint i = 0; i < c->n_cells; i++)
    csv_number (c, i < s->n_cells ? s->cells_mv[i] / 1000.0 : NAN, "%.3f");
  fputc ('\n', c->csv);
  c->n_written++;
  ctx_progress (c, 1);
  return TRUE;
}

static gboolean
csv_failed (Ctx *c, int saved, GError **error)
{
  g_set_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_WRITE, "Cannot write “%s”: %s%s",
               c->path, g_strerror (saved),
               saved == ENOSPC || saved == EFBIG ? " (the disk is full: free some space and export again)" : "");
  return FALSE;
}

static gboolean
write_csv (Ctx *c, const char *tmp, GError **error)
{
  BmsExport *self = c->self;
  g_autoptr (GPtrArray) devices = NULL;
  gint64 n_samples;
  gint n_cells;
  gboolean ok;
  int rc;

  if (!load_devices (c, &devices, error) ||
      (n_samples = bms_history_count_samples (self->history, self->device_id, self->from_us,
                                              self->to_us, error)) < 0 ||
      (n_cells = bms_history_get_max_cells (self->history, self->device_id, self->from_us,
                                            self->to_us, error)) < 0)
    return FALSE;
  c->n_cells = n_cells;
  c->total = n_samples;
  if (!(c->csv = g_fopen (tmp, "w")))
    return csv_failed (c, errno, error);
  setvbuf (c->csv, NULL, _IOFBF, 1 << 16);
  fputs ("time,device,pack_voltage_v,current_a,soc_pct,temp_mosfet_c,temp1_c,temp2_c,"
         "cell_min_v,cell_min_index,cell_max_v,cell_max_index,status,warnings,alarms_ext",
         c->csv);
  for (gint i = 0; i < n_cells; i++)
    fprintf (c->csv, ",cell_%d_v", i + 1);
  fputc ('\n', c->csv);
  ok = read_samples (c, csv_sample, error);
  errno = 0;
  if (ok && (fflush (c->csv) != 0 || ferror (c->csv)))
    {
      int saved = errno ? errno : EIO;
      fclose (c->csv);
      c->csv = NULL;
      return csv_failed (c, saved, error);
    }
  rc = fclose (c->csv);
  c->csv = NULL;
  if (!ok || g_cancellable_set_error_if_cancelled (c->cancellable, error))
    return FALSE;
  return rc == 0 || csv_failed (c, errno, error);
}

/* ------------------------------------------------------------------ run */

gboolean
bms_export_write (BmsExport *self, const char *path, BmsExportProgressFunc progress,
                  gpointer user_data, GCancellable *cancellable, GError **error)
{
  Ctx c = { .self = self, .path = path, .cancellable = cancellable,
            .progress = progress, .user_data = user_data };
  g_autofree char *tmp = NULL;
  gboolean ok;

  g_return_val_if_fail (BMS_IS_EXPORT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  if (self->from_us > self->to_us)
    {
      g_set_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_INVALID,
                   "The export range ends before it starts");
      return FALSE;
    }
  if (!(tmp = bms_export_temp_new (path, error)))
    return FALSE;
  c.tz = g_time_zone_new_local ();
  c.rows_share = self->format == BMS_EXPORT_FORMAT_CSV ? 1.0 : 0.5;
  if (self->format == BMS_EXPORT_FORMAT_CSV)
    ok = write_csv (&c, tmp, error);
  else
    ok = write_xlsx (&c, tmp, error);
  if (c.wb)
    lxw_workbook_free (g_steal_pointer (&c.wb));
  if (c.csv)
    fclose (c.csv);
  ok = ok && bms_export_temp_commit (tmp, path, error);
  self->samples = ok ? c.n_written : 0;
  if (!ok)
    g_unlink (tmp);
  else if (progress)
    progress (1.0, c.done, user_data);
  ctx_clear (&c);
  return ok;
}

/* ---------------------------------------------------------------- async */

typedef struct {
  GWeakRef  ref;
  double    fraction;
  guint64   rows;
} ProgressUpdate;

static void
set_progress (BmsExport *self, double fraction, guint64 rows)
{
  if (self->fraction != fraction)
    {
      self->fraction = fraction;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_FRACTION]);
    }
  if (self->rows != rows)
    {
      self->rows = rows;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ROWS]);
    }
}

static gboolean
apply_progress (gpointer data)
{
  ProgressUpdate *u = data;
  g_autoptr (BmsExport) self = g_weak_ref_get (&u->ref);

  if (self)
    set_progress (self, u->fraction, u->rows);
  return G_SOURCE_REMOVE;
}

static void
progress_update_free (gpointer data)
{
  ProgressUpdate *u = data;
  g_weak_ref_clear (&u->ref);
  g_free (u);
}

static void
post_progress (double fraction, guint64 rows, gpointer data)
{
  GTask *task = data;
  ProgressUpdate *u = g_new0 (ProgressUpdate, 1);

  g_weak_ref_init (&u->ref, g_task_get_source_object (task));
  u->fraction = fraction;
  u->rows = rows;
  bms_context_post (g_task_get_context (task), apply_progress, u,
                    progress_update_free);
}

static void
write_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *error = NULL;

  if (bms_export_write (source, data, post_progress, task, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
bms_export_write_async (BmsExport *self, const char *path, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_return_if_fail (BMS_IS_EXPORT (self));
  set_progress (self, 0.0, 0);
  g_task_set_source_tag (task, bms_export_write_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, write_thread);
}

gboolean
bms_export_write_finish (BmsExport *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --------------------------------------------------------------- object */

static void
bms_export_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BmsExport *self = BMS_EXPORT (object);

  switch (prop_id)
    {
    case PROP_HISTORY:
      g_value_set_object (value, self->history);
      break;
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_ROWS:
      g_value_set_uint64 (value, self->rows);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_export_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BmsExport *self = BMS_EXPORT (object);

  switch (prop_id)
    {
    case PROP_HISTORY:
      self->history = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_export_dispose (GObject *object)
{
  g_clear_object (&BMS_EXPORT (object)->history);
  G_OBJECT_CLASS (bms_export_parent_class)->dispose (object);
}

static void
bms_export_class_init (BmsExportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = bms_export_get_property;
  object_class->set_property = bms_export_set_property;
  object_class->dispose = bms_export_dispose;

  props[PROP_HISTORY] =
    g_param_spec_object ("history", NULL, NULL, BMS_TYPE_HISTORY,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_ROWS] =
    g_param_spec_uint64 ("rows", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
bms_export_init (BmsExport *self)
{
  self->to_us = G_MAXINT64;
  self->max_rows = BMS_EXPORT_EXCEL_MAX_ROWS;
}

BmsExport *
bms_export_new (BmsHistory *history)
{
  g_return_val_if_fail (BMS_IS_HISTORY (history), NULL);
  return g_object_new (BMS_TYPE_EXPORT, "history", history, NULL);
}

BmsHistory *
bms_export_get_history (BmsExport *self)
{
  g_return_val_if_fail (BMS_IS_EXPORT (self), NULL);
  return self->history;
}

BmsExportFormat
bms_export_format_for_path (const char *path)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  return g_str_has_suffix (lower, ".csv") ? BMS_EXPORT_FORMAT_CSV : BMS_EXPORT_FORMAT_XLSX;
}

void
bms_export_set_format (BmsExport *self, BmsExportFormat format)
{
  g_return_if_fail (BMS_IS_EXPORT (self));
  self->format = format;
}

void
bms_export_set_range (BmsExport *self, gint64 from_us, gint64 to_us)
{
  g_return_if_fail (BMS_IS_EXPORT (self));
  self->from_us = from_us;
  self->to_us = to_us;
}

void
bms_export_set_device (BmsExport *self, gint64 device_id)
{
  g_return_if_fail (BMS_IS_EXPORT (self));
  self->device_id = device_id;
}

gboolean
bms_export_set_max_rows_per_sheet (BmsExport *self, guint rows, GError **error)
{
  g_return_val_if_fail (BMS_IS_EXPORT (self), FALSE);
  if (rows < 3 || rows > BMS_EXPORT_EXCEL_MAX_ROWS)
    {
      g_set_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_INVALID,
                   "Rows per sheet must be between 3 and %d, not %u",
                   BMS_EXPORT_EXCEL_MAX_ROWS, rows);
      return FALSE;
    }
  self->max_rows = rows;
  return TRUE;
}

double
bms_export_get_fraction (BmsExport *self)
{
  g_return_val_if_fail (BMS_IS_EXPORT (self), 0.0);
  return self->fraction;
}

guint64
bms_export_get_rows (BmsExport *self)
{
  g_return_val_if_fail (BMS_IS_EXPORT (self), 0);
  return self->rows;
}

guint64
bms_export_get_samples (BmsExport *self)
{
  g_return_val_if_fail (BMS_IS_EXPORT (self), 0);
  return self->samples;
}
