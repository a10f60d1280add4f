/* cli-audit.h — the audit trail as the writing subcommands (write, profile
 * load, flash) keep it: rows in the history database given with --db. */
#pragma once

#include "bms-history.h"
#include "bms-snapshot.h"

G_BEGIN_DECLS

/* Opens db and finds or adds the board's device row (the same key as the
 * app and the poller: its id 0xB4, or its address when snapshot is NULL or
 * carries no id). */
BmsHistory *cli_audit_open  (const char         *db,
                             const BmsSnapshot  *snapshot,
                             guint               address,
                             gint64             *device_id,
                             GError            **error);
/* Flushes and closes; says on stderr when the rows could not be saved. */
void        cli_audit_close (BmsHistory         *history,
                             const char         *command,
                             const char         *db);

G_END_DECLS
