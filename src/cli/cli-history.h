/* cli-history.h — what the history subcommands (log, export, alarms, audit)
 * share: opening the database, --from/--to and --device. */
#pragma once

#include <glib.h>
#include "bms-history.h"

G_BEGIN_DECLS

/* Opens path (the per-user database when NULL). must_exist: refuse to
 * create a new, empty file and open it for reading only (export, alarms,
 * audit: works on read-only media too). */
BmsHistory *cli_history_open         (const char  *path,
                                      gboolean     must_exist,
                                      GError     **error);
/* ISO 8601 ("2026-01-31T18:00:00", with "Z" or "+01:00", local time when it
 * has no zone) or a date ("2026-01-31": the start of that day, or its end
 * when is_end). NULL or "" leaves *time_us unchanged. */
gboolean    cli_history_parse_time   (const char  *option,
                                      const char  *text,
                                      gboolean     is_end,
                                      gint64      *time_us,
                                      GError     **error);
/* --device as a row id, a device key or a name; NULL → 0 (all). A text
 * that matches several devices (one board name under several ports) is
 * refused with CLI_ERROR_USAGE listing them, so nothing silently picks
 * one. */
gboolean    cli_history_find_device  (BmsHistory  *history,
                                      const char  *text,
                                      gint64      *device_id,
                                      GError     **error);
/* "2026-01-31 18:00:00.250" in local time. */
char       *cli_history_format_time  (gint64       time_us);
/* device id → label (name or key), for printing. */
GHashTable *cli_history_device_labels (BmsHistory *history,
                                       GError    **error);

/* What the recording commands (log, serve) say about the disk: a full
 * disk fails every cycle until space is freed, so it is said when writes
 * start failing and when they succeed again, not once per cycle. */
typedef struct
{
  gboolean failing;     /* reported; waiting for "recording again" */
  guint64  lost_before; /* failed_jobs when that was reported */
} CliWriteState;

/* Compares the history's state with state and says what changed on
 * standard error ("packwatch-cli COMMAND: not recording: …"). */
void        cli_history_report_writes  (const char    *command,
                                        BmsHistory    *history,
                                        CliWriteState *state);
/* At the end: flushes; FALSE (said) when the last write failed. An outage
 * that was reported and is over does not count. */
gboolean    cli_history_finish_writes  (const char    *command,
                                        BmsHistory    *history,
                                        CliWriteState *state);
/* The last line: what was committed, not what was polled ("N samples
 * saved", cycles lost to write failures, implausible replies skipped,
 * "(interrupted)" or "(terminated)" for the signal that stopped it). */
void        cli_history_print_summary  (const char    *command,
                                        BmsHistory    *history,
                                        guint64        implausible,
                                        int            stopped_by);

/* Starts the index-th object of a JSON array with its "time", "time_us"
 * and "device" members; the caller appends the rest and the "}". */
void        cli_history_json_row_start (GString    *out,
                                        guint       index,
                                        gint64      time_us,
                                        const char *device);

/* What the listing subcommands (alarms, audit) differ in; the options
 * (--db, --from, --to, --device, --limit, --json), their checks and the
 * errors are the same for both. */
typedef struct
{
  const char *command;
  const char *summary;
  const char *limit_help;
  GPtrArray *(*query)       (BmsHistory  *history,
                             gint64       device_id,
                             gint64       from_us,
                             gint64       to_us,
                             guint        limit,
                             GError     **error);
  void       (*print_json)  (GPtrArray   *rows,
                             GHashTable  *labels);
  void       (*print_table) (GPtrArray   *rows,
                             GHashTable  *labels);
} CliHistoryListing;

/* Runs a listing subcommand; returns the exit status. */
int         cli_history_list           (const CliHistoryListing *listing,
                                        int                      argc,
                                        char                   **argv);


/* A file written on a worker (export, report): Ctrl+C and SIGTERM cancel
 * it, progress goes to a terminal, a failure is said once. Init, start the
 * asynchronous write with job->cancel and a callback that calls
 * cli_file_job_done, then run: CLI_EXIT_OK, or CLI_EXIT_FAILED once the
 * error has been printed. */
typedef struct {
  const char   *command;
  GMainLoop    *loop;
  GCancellable *cancel;
  GError       *error;
  gboolean      ok;
  gboolean      show_progress;
} CliFileJob;

void        cli_file_job_init          (CliFileJob *job,
                                        const char *command);
void        cli_file_job_progress      (CliFileJob *job,
                                        const char *format,
                                        ...) G_GNUC_PRINTF (2, 3);
/* Takes error (NULL when ok). */
void        cli_file_job_done          (CliFileJob *job,
                                        gboolean    ok,
                                        GError     *error);
int         cli_file_job_run           (CliFileJob *job);

G_END_DECLS
