/* bms-dload-report.c — the DLoad production report, in memory and saved. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <xlsxwriter.h>

#include "bms-dload-report.h"
#include "bms-export.h"
#include "bms-xlsx-check.h"

enum
{
  COL_TIME,
  COL_BOARD,
  COL_DEVICE_ID,
  COL_SOFTWARE,
  COL_ADDRESS,
  COL_PARAMETER,
  COL_OLD,
  COL_NEW,
  COL_RESULT,
  COL_BOARD_RESULT,
  N_COLUMNS
};

static const char *const headings[N_COLUMNS] = {
  N_ ("Time"),    N_ ("Board"),        N_ ("Device ID"), N_ ("Software version"),
  N_ ("Address"), N_ ("Parameter"),    N_ ("Old value"), N_ ("New value"),
  N_ ("Result"),  N_ ("Board result"),
};

/* Characters wide in the workbook, per column. */
static const double widths[N_COLUMNS] = { 26, 7, 18, 16, 8, 30, 14, 14, 34, 14 };

struct _BmsDloadReport
{
  GObject parent_instance;

  GPtrArray *lines;  /* GStrv of N_COLUMNS texts */
  GStrv board;       /* the identity columns of the board begun last */
  guint board_first; /* its first line */
  guint n_boards;

  GMutex save_lock; /* orders the workers' renames */
  guint generation; /* of the content, main thread */
  guint saved;      /* generation last renamed into place */
};

G_DEFINE_FINAL_TYPE (BmsDloadReport, bms_dload_report, G_TYPE_OBJECT)

BmsDloadReport *
bms_dload_report_new (void)
{
  return g_object_new (BMS_TYPE_DLOAD_REPORT, NULL);
}

void
bms_dload_report_begin_board (BmsDloadReport *self, GDateTime *time, const char *device_id,
                              const char *software_version, guint address)
{
  g_autoptr (GDateTime) now = time ? g_date_time_ref (time) : g_date_time_new_now_local ();
  g_autoptr (GDateTime) local = g_date_time_to_local (now);

  g_return_if_fail (BMS_IS_DLOAD_REPORT (self));
  g_strfreev (self->board);
  self->board = g_new0 (char *, COL_ADDRESS + 2);
  self->board[COL_TIME] = g_date_time_format (local, "%Y-%m-%d %H:%M:%S UTC%:z");
  self->board[COL_BOARD] = g_strdup_printf ("%u", ++self->n_boards);
  self->board[COL_DEVICE_ID] = g_strdup (device_id ? device_id : "");
  self->board[COL_SOFTWARE] = g_strdup (software_version ? software_version : "");
  self->board[COL_ADDRESS] = g_strdup_printf ("%u", address);
  self->board_first = self->lines->len;
  self->generation++;
}

static void
add_line (BmsDloadReport *self, const char *parameter, const char *old_value, const char *new_value,
          const char *result)
{
  GStrv line = g_new0 (char *, N_COLUMNS + 1);

  for (guint i = 0; i <= COL_ADDRESS; i++)
    line[i] = g_strdup (self->board[i]);
  line[COL_PARAMETER] = g_strdup (parameter ? parameter : "");
  line[COL_OLD] = g_strdup (old_value ? old_value : "");
  line[COL_NEW] = g_strdup (new_value ? new_value : "");
  line[COL_RESULT] = g_strdup (result ? result : "");
  line[COL_BOARD_RESULT] = g_strdup ("");
  g_ptr_array_add (self->lines, line);
  self->generation++;
}

void
bms_dload_report_add_value (BmsDloadReport *self, const char *parameter, const char *old_value,
                            const char *new_value, const char *result)
{
  g_return_if_fail (BMS_IS_DLOAD_REPORT (self));
  g_return_if_fail (self->board != NULL);
  add_line (self, parameter, old_value, new_value, result);
}

void
bms_dload_report_end_board (BmsDloadReport *self, gboolean ok)
{
  g_return_if_fail (BMS_IS_DLOAD_REPORT (self));
  g_return_if_fail (self->board != NULL);
  if (self->lines->len == self->board_first)
    add_line (self, NULL, NULL, NULL, _ ("Nothing to write"));
  for (guint i = self->board_first; i < self->lines->len; i++)
    {
      GStrv line = g_ptr_array_index (self->lines, i);
      g_free (line[COL_BOARD_RESULT]);
      line[COL_BOARD_RESULT] = g_strdup (ok ? _ ("Programmed") : _ ("Failed"));
    }
  g_clear_pointer (&self->board, g_strfreev);
  self->generation++;
}

guint
bms_dload_report_get_n_boards (BmsDloadReport *self)
{
  g_return_val_if_fail (BMS_IS_DLOAD_REPORT (self), 0);
  return self->n_boards;
}

/* ----------------------------------------------------------------- save */

static gboolean
write_failed (const char *path, int saved, GError **error)
{
  g_set_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_WRITE, "Cannot write “%s”: %s%s", path,
               g_strerror (saved),
               saved == ENOSPC ? " (the disk is full: free some space and save again)" : "");
  return FALSE;
}

static void
csv_line (FILE *out, const char *const *fields)
{
  for (guint i = 0; i < N_COLUMNS; i++)
    {
      if (i > 0)
        fputc (',', out);
      bms_export_csv_field (out, fields[i]);
    }
  fputs ("\r\n", out); /* RFC 4180 */
}

static gboolean
write_csv (GPtrArray *lines, const char *tmp, const char *path, GError **error)
{
  const char *titles[N_COLUMNS];
  FILE *out = g_fopen (tmp, "wb");
  int failed;

  if (out == NULL)
    return write_failed (path, errno, error);
  for (guint i = 0; i < N_COLUMNS; i++)
    titles[i] = _ (headings[i]);
  fputs ("\xEF\xBB\xBF", out);
  csv_line (out, titles);
  for (guint i = 0; i < lines->len; i++)
    csv_line (out, g_ptr_array_index (lines, i));
  errno = 0;
  failed = fflush (out) != 0 || ferror (out) ? (errno ? errno : EIO) : 0;
  if (fclose (out) != 0 && failed == 0)
    failed = errno ? errno : EIO;
  return failed == 0 || write_failed (path, failed, error);
}

static void
xlsx_sheet (lxw_workbook *wb, GPtrArray *lines)
{
  lxw_worksheet *ws = workbook_add_worksheet (wb, "DLoad");
  lxw_format *bold = workbook_add_format (wb);

  format_set_bold (bold);
  for (guint c = 0; c < N_COLUMNS; c++)
    {
      worksheet_set_column (ws, c, c, widths[c], NULL);
      worksheet_write_string (ws, 0, c, _ (headings[c]), bold);
    }
  for (guint r = 0; r < lines->len; r++)
    {
      GStrv line = g_ptr_array_index (lines, r);
      for (guint c = 0; c < N_COLUMNS; c++)
        if (c == COL_BOARD || c == COL_ADDRESS)
          worksheet_write_number (ws, r + 1, c, g_ascii_strtod (line[c], NULL), NULL);
        else
          worksheet_write_string (ws, r + 1, c, line[c], NULL);
    }
  worksheet_freeze_panes (ws, 1, 0);
  worksheet_autofilter (ws, 0, 0, lines->len, N_COLUMNS - 1);
}

static gboolean
write_xlsx (GPtrArray *lines, const char *tmp, const char *path, GError **error)
{
  lxw_workbook *wb = workbook_new (tmp);
  g_autoptr (BmsXlsxCheck) check = NULL;
  lxw_error err;

  if (wb == NULL)
    return write_failed (path, ENOMEM, error);
  xlsx_sheet (wb, lines);
  check = bms_xlsx_check_new (tmp);
  err = workbook_close (wb);
  if (err != LXW_NO_ERROR)
    {
      g_set_error (error, BMS_EXPORT_ERROR, BMS_EXPORT_ERROR_WRITE,
                   "Cannot write “%s”: %s (is the disk full?)", path, lxw_strerror (err));
      return FALSE;
    }
  if (!bms_xlsx_check_finish (check, 1, NULL, NULL))
    return write_failed (path, ENOSPC, error);
  return TRUE;
}

static gboolean
save_lines (GPtrArray *lines, const char *path, GError **error)
{
  g_autofree char *tmp = bms_export_temp_new (path, error);
  gboolean ok;

  if (tmp == NULL)
    return FALSE;
  if (bms_export_format_for_path (path) == BMS_EXPORT_FORMAT_CSV)
    ok = write_csv (lines, tmp, path, error);
  else
    ok = write_xlsx (lines, tmp, path, error);
  ok = ok && bms_export_temp_commit (tmp, path, error);
  if (!ok)
    g_unlink (tmp);
  return ok;
}

typedef struct
{
  GPtrArray *lines;
  char *path;
  guint generation;
} SaveData;

static void
save_data_free (SaveData *d)
{
  g_ptr_array_unref (d->lines);
  g_free (d->path);
  g_free (d);
}

/* Under the lock, and only when nothing newer has been saved since. */
static gboolean
save_in_order (BmsDloadReport *self, SaveData *d, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->save_lock);

  if (d->generation < self->saved)
    return TRUE;
  if (!save_lines (d->lines, d->path, error))
    return FALSE;
  self->saved = d->generation;
  return TRUE;
}

static SaveData *
save_data_new (BmsDloadReport *self, const char *path)
{
  SaveData *d = g_new0 (SaveData, 1);

  d->lines = g_ptr_array_new_full (self->lines->len, (GDestroyNotify)g_strfreev);
  for (guint i = 0; i < self->lines->len; i++)
    g_ptr_array_add (d->lines, g_strdupv (g_ptr_array_index (self->lines, i)));
  d->path = g_strdup (path);
  d->generation = self->generation;
  return d;
}

gboolean
bms_dload_report_save (BmsDloadReport *self, const char *path, GError **error)
{
  SaveData *d;
  gboolean ok;

  g_return_val_if_fail (BMS_IS_DLOAD_REPORT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  d = save_data_new (self, path);
  ok = save_in_order (self, d, error);
  save_data_free (d);
  return ok;
}

static void
save_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;

  if (save_in_order (source, task_data, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
bms_dload_report_save_async (BmsDloadReport *self, const char *path, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (BMS_IS_DLOAD_REPORT (self));
  g_return_if_fail (path != NULL);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_dload_report_save_async);
  g_task_set_task_data (task, save_data_new (self, path), (GDestroyNotify)save_data_free);
  g_task_run_in_thread (task, save_thread);
}

gboolean
bms_dload_report_save_finish (BmsDloadReport *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --------------------------------------------------------------- object */

static void
bms_dload_report_finalize (GObject *object)
{
  BmsDloadReport *self = BMS_DLOAD_REPORT (object);

  g_ptr_array_unref (self->lines);
  g_strfreev (self->board);
  g_mutex_clear (&self->save_lock);
  G_OBJECT_CLASS (bms_dload_report_parent_class)->finalize (object);
}

static void
bms_dload_report_class_init (BmsDloadReportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bms_dload_report_finalize;
}

static void
bms_dload_report_init (BmsDloadReport *self)
{
  self->lines = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  g_mutex_init (&self->save_lock);
}
