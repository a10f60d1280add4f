/* cli-history.h — what the history subcommands (log, export, alarms, audit)
 * share: opening the database, --from/--to and --device. */
#pragma once

#include <glib.h>
#include "bms-history.h"

G_BEGIN_DECLS

/* Opens path (the per-user database when NULL). must_exist: refuse to
 * create a new, empty file (export, alarms, audit). */
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
/* --device as a row id, a device key or a name; NULL → 0 (all). */
gboolean    cli_history_find_device  (BmsHistory  *history,
                                      const char  *text,
                                      gint64      *device_id,
                                      GError     **error);
/* "2026-01-31 18:00:00.250" in local time. */
char       *cli_history_format_time  (gint64       time_us);
/* device id → label (name or key), for printing. */
GHashTable *cli_history_device_labels (BmsHistory *history,
                                       GError    **error);

G_END_DECLS
