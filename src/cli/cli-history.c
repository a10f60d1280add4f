/* cli-history.c — helpers of the history subcommands. */

#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>

#include "cli-common.h"
#include "cli-history.h"

BmsHistory *
cli_history_open (const char *path, gboolean must_exist, GError **error)
{
  g_autofree char *resolved = path ? g_strdup (path) : bms_history_default_path ();

  if (must_exist && !g_file_test (resolved, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   "no history database at “%s” (record one with `packwatch-cli log`, "
                   "or name it with --db FILE)", resolved);
      return NULL;
    }
  /* The readers (export, alarms, audit) never write: a file on read-only
   * media or in a folder of another user opens for them too. */
  if (must_exist)
    return bms_history_new_read_only (resolved, error);
  return bms_history_new (resolved, error);
}

gboolean
cli_history_parse_time (const char *option, const char *text, gboolean is_end,
                        gint64 *time_us, GError **error)
{
  g_autoptr (GTimeZone) local = g_time_zone_new_local ();
  g_autoptr (GDateTime) dt = NULL;
  gboolean date_only;

  if (text == NULL || *text == '\0')
    return TRUE;
  date_only = strlen (text) == 10 && text[4] == '-' && text[7] == '-';
  if (date_only)
    {
      g_autofree char *full = g_strconcat (text, "T00:00:00", NULL);
      dt = g_date_time_new_from_iso8601 (full, local);
      if (dt && is_end)
        {
          GDateTime *next = g_date_time_add_days (dt, 1);
          g_date_time_unref (dt);
          dt = next;
        }
    }
  else
    dt = g_date_time_new_from_iso8601 (text, local);
  if (dt == NULL)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   "%s “%s” is not a date: use ISO 8601, e.g. 2026-01-31, "
                   "2026-01-31T18:00:00 (local time) or 2026-01-31T17:00:00Z", option, text);
      return FALSE;
    }
  *time_us = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
  if (date_only && is_end)
    *time_us -= 1;   /* the whole day, inclusive */
  return TRUE;
}

/* "id 3  key /dev/ttyUSB0:1  name PWSIM001  2026-… → 2026-…  1234 samples" */
static void
append_device_line (GString *out, const BmsHistoryDevice *d)
{
  g_autofree char *first = d->first_us ? cli_history_format_time (d->first_us) : NULL;
  g_autofree char *last = d->last_us ? cli_history_format_time (d->last_us) : NULL;

  g_string_append_printf (out, "\n  id %" G_GINT64_FORMAT "  key %s  name %s  ", d->id, d->key,
                          d->name ? d->name : "-");
  if (first)
    g_string_append_printf (out, "%s … %s", first, last);
  else
    g_string_append (out, "no samples");
  g_string_append_printf (out, "  %" G_GINT64_FORMAT " samples", d->n_samples);
}

gboolean
cli_history_find_device (BmsHistory *history, const char *text, gint64 *device_id,
                         GError **error)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GPtrArray) found = g_ptr_array_new ();
  g_autoptr (GString) known = g_string_new (NULL);
  g_autoptr (GString) lines = g_string_new (NULL);
  char *end = NULL;
  gint64 id;

  *device_id = 0;
  if (text == NULL || *text == '\0')
    return TRUE;
  if (!(devices = bms_history_list_devices (history, error)))
    return FALSE;
  id = g_ascii_strtoll (text, &end, 10);
  /* An exact row id or key names one device; a name may be shared. */
  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      if ((*end == '\0' && d->id == id) || g_strcmp0 (d->key, text) == 0)
        {
          *device_id = d->id;
          return TRUE;
        }
    }
  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      if (g_strcmp0 (d->name, text) == 0)
        {
          g_ptr_array_add (found, d);
          append_device_line (lines, d);
        }
      g_string_append_printf (known, "%s%" G_GINT64_FORMAT " %s", known->len ? ", " : "",
                              d->id, d->key);
    }
  if (found->len == 1)
    {
      *device_id = ((BmsHistoryDevice *) found->pdata[0])->id;
      return TRUE;
    }
  if (found->len > 1)
    g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                 "%u devices are named “%s”:%s\nchoose one with --device ID or --device KEY",
                 found->len, text, lines->str);
  else
    g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "no device “%s” in the history (%s%s)",
                 text, known->len ? "known: " : "it has no devices yet", known->str);
  return FALSE;
}

char *
cli_history_format_time (gint64 time_us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);
  g_autofree char *base = dt ? g_date_time_format (dt, "%Y-%m-%d %H:%M:%S") : g_strdup ("?");

  return g_strdup_printf ("%s.%03d", base, (int) (time_us % G_USEC_PER_SEC / 1000));
}

GHashTable *
cli_history_device_labels (BmsHistory *history, GError **error)
{
  g_autoptr (GPtrArray) devices = bms_history_list_devices (history, error);
  GHashTable *labels;

  if (!devices)
    return NULL;
  labels = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  for (guint i = 0; i < devices->len; i++)
    {
      BmsHistoryDevice *d = g_ptr_array_index (devices, i);
      g_hash_table_insert (labels, g_memdup2 (&d->id, sizeof d->id),
                           g_strdup (d->name && *d->name ? d->name : d->key));
    }
  return labels;
}

void
cli_history_json_row_start (GString    *out,
                            guint       index,
                            gint64      time_us,
                            const char *device)
{
  g_autofree char *time = cli_history_format_time (time_us);

  g_string_append (out, index ? ",\n  {\"time\": " : "\n  {\"time\": ");
  cli_json_append_string (out, time);
  g_string_append_printf (out, ", \"time_us\": %" G_GINT64_FORMAT ", \"device\": ", time_us);
  cli_json_append_string (out, device);
}

int
cli_history_list (const CliHistoryListing *listing,
                  int                      argc,
                  char                   **argv)
{
  g_autofree char *db = NULL, *from = NULL, *to = NULL, *device = NULL;
  g_autoptr (BmsHistory) history = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GHashTable) labels = NULL;
  g_autoptr (GError) error = NULL;
  gint64 from_us = 0, to_us = G_MAXINT64, device_id = 0;
  gboolean json = FALSE;
  int limit = 0;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "History database (default: the per-user one)", "FILE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "First time (ISO 8601 or a date)", "TIME" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "Last time (ISO 8601, or a date: to its end)", "TIME" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "Only this device (id, key or name)", "DEVICE" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, listing->limit_help, "N" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print a JSON array", NULL },
    { NULL }
  };

  if (!cli_parse_options (&argc, &argv, "", listing->summary, entries, NULL))
    return CLI_EXIT_USAGE;
  if (argc > 1 || limit < 0)
    {
      cli_error (listing->command, argc > 1 ? "takes no arguments" : "--limit must be 0 or more");
      return CLI_EXIT_USAGE;
    }
  if (!cli_history_parse_time ("--from", from, FALSE, &from_us, &error) ||
      !cli_history_parse_time ("--to", to, TRUE, &to_us, &error) ||
      !(history = cli_history_open (db, TRUE, &error)) ||
      !cli_history_find_device (history, device, &device_id, &error) ||
      !(labels = cli_history_device_labels (history, &error)) ||
      !(rows = listing->query (history, device_id, from_us, to_us, limit, &error)))
    {
      cli_error (listing->command, "%s", error->message);
      return g_error_matches (error, CLI_ERROR, CLI_ERROR_USAGE) ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
    }
  if (json)
    listing->print_json (rows, labels);
  else
    listing->print_table (rows, labels);
  return CLI_EXIT_OK;
}

void
cli_history_report_writes (const char *command, BmsHistory *history, CliWriteState *state)
{
  BmsHistoryStats stats;

  bms_history_get_stats (history, &stats);
  if (stats.failing && !state->failing)
    {
      g_autofree char *why = bms_history_dup_write_error (history);
      cli_error (command, "not recording: %s (the board is still polled; recording resumes "
                 "by itself once the write succeeds)", why ? why : "a write failed");
      state->failing = TRUE;
      state->lost_before = stats.failed_jobs - 1;
    }
  else if (!stats.failing && state->failing)
    {
      fprintf (stderr, "packwatch-cli %s: recording again (%" G_GUINT64_FORMAT
               " cycles were not saved)\n", command, stats.failed_jobs - state->lost_before);
      state->failing = FALSE;
    }
}

gboolean
cli_history_finish_writes (const char *command, BmsHistory *history, CliWriteState *state)
{
  g_autoptr (GError) error = NULL;
  BmsHistoryStats stats;

  if (bms_history_flush (history, &error))
    return TRUE;
  bms_history_get_stats (history, &stats);
  if (!state->failing && !stats.failing)
    return TRUE;
  cli_error (command, "%s", error->message);
  return FALSE;
}

void
cli_history_print_summary (const char *command, BmsHistory *history, guint64 implausible,
                           int stopped_by)
{
  BmsHistoryStats stats;

  bms_history_get_stats (history, &stats);
  fprintf (stderr, "packwatch-cli %s: %" G_GUINT64_FORMAT " samples saved", command, stats.samples);
  if (stats.failed_jobs)
    fprintf (stderr, ", %" G_GUINT64_FORMAT " cycles lost to write failures", stats.failed_jobs);
  if (implausible > 0)
    fprintf (stderr, ", %" G_GUINT64_FORMAT " implausible replies skipped", implausible);
  fprintf (stderr, "%s\n",
           stopped_by ? (stopped_by == SIGINT ? " (interrupted)" : " (terminated)") : "");
}

static gboolean
file_job_signal (gpointer data)
{
  CliFileJob *job = data;

  g_cancellable_cancel (job->cancel);
  return G_SOURCE_CONTINUE;
}

void
cli_file_job_init (CliFileJob *job,
                   const char *command)
{
  memset (job, 0, sizeof *job);
  job->command = command;
  job->loop = g_main_loop_new (NULL, FALSE);
  job->cancel = g_cancellable_new ();
  job->show_progress = isatty (STDERR_FILENO);
}

void
cli_file_job_progress (CliFileJob *job,
                       const char *format,
                       ...)
{
  va_list args;

  if (!job->show_progress)
    return;
  fputc ('\r', stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
}

void
cli_file_job_done (CliFileJob *job,
                   gboolean    ok,
                   GError     *error)
{
  job->ok = ok;
  if (ok)
    g_clear_error (&error);
  else
    job->error = error;
  g_main_loop_quit (job->loop);
}

int
cli_file_job_run (CliFileJob *job)
{
  guint sigint = g_unix_signal_add (SIGINT, file_job_signal, job);
  guint sigterm = g_unix_signal_add (SIGTERM, file_job_signal, job);

  g_main_loop_run (job->loop);
  while (g_main_context_iteration (NULL, FALSE))
    ; /* the last progress update */
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_clear_pointer (&job->loop, g_main_loop_unref);
  g_clear_object (&job->cancel);
  if (job->show_progress)
    fputc ('\n', stderr);
  if (!job->ok)
    {
      cli_error (job->command, "%s%s", job->error->message,
                 g_error_matches (job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                 ? " (interrupted; any earlier file is unchanged)" : "");
      g_clear_error (&job->error);
      return CLI_EXIT_FAILED;
    }
  return CLI_EXIT_OK;
}
