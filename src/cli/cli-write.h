/* cli-write.h — the write path `packwatch-cli write` and `lease` share:
 * NAME=VALUE… checked, then written as one change set with read-back,
 * reported in text or JSON (docs/cli.md). */
#pragma once

#include <glib.h>

#include "cli-common.h"

G_BEGIN_DECLS

/* Starts a report for command ("write", "lease": errors are prefixed with
 * it); call before cli_write_refuse. */
void cli_write_begin (const char *command, gboolean json, gboolean dry_run);
/* Refuses with message (stderr, and "errors" in JSON). */
void cli_write_refuse (const char *message);
/* Checks every NAME=VALUE of values (NULL-terminated) and, if they and
 * valid (the caller's own checks) hold, writes them as one change set.
 * Prints the report, ends it and returns the exit status. */
int cli_write_values (const CliConnection *conn, const char *password, const char *db,
                      const char *const *values, gboolean valid);

G_END_DECLS
