/* cli-common.h — what every packwatch-cli subcommand shares: exit codes,
 * option parsing, the connection options (--port/--baud/--address), JSON
 * helpers.
 *
 * A subcommand is one function `int cli_NAME (int argc, char **argv)` in its
 * own file src/cli/cli-NAME.c, registered by one line in cli-commands.h.
 * argv[0] is the subcommand's name.
 */
#pragma once

#include <glib.h>
#include "bms-session.h"

G_BEGIN_DECLS

/* Exit statuses, documented in docs/cli.md. */
enum
{
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAILED = 1,      /* an invalid frame, a write the board refused, a read-back mismatch */
  CLI_EXIT_USAGE = 2,       /* bad option, value or rule: nothing was written to the board */
  CLI_EXIT_UNREACHABLE = 3, /* the port cannot be opened or the board does not answer */
  CLI_EXIT_BUSY = 4,        /* log: another live process records this device */
};

#define CLI_DEFAULT_BAUD 9600
#define CLI_DEFAULT_ADDRESS 1

/* Parses the options of one subcommand (argv[0] is its name) with GOptionContext.
 * On --help prints the help and exits 0; on an error prints it with a hint
 * and returns FALSE (the caller returns CLI_EXIT_USAGE). */
gboolean cli_parse_options (int *argc, char ***argv, const char *parameter_string,
                            const char *summary, const GOptionEntry *entries, GOptionGroup *group);

/* --port/--baud/--address, shared by every subcommand that talks to a board. */
typedef struct
{
  char *port;
  int baud;
  int address;
} CliConnection;

void cli_connection_init (CliConnection *conn);
void cli_connection_clear (CliConnection *conn);
/* A GOptionGroup filling conn; hand it to cli_parse_options. */
GOptionGroup *cli_connection_option_group (CliConnection *conn);
/* Checks --port is given, the baud is supported and the address fits. */
gboolean cli_connection_validate (const CliConnection *conn, GError **error);
/* Opens the transport ("sim://", "tcp://host:port", a serial port or path)
 * and a session with the board. */
BmsSession *cli_connection_open (const CliConnection *conn, GError **error);
/* The same with a transport of the caller's in front of the line's (wrap
 * takes the line's, returns a new reference), e.g. capture's tap; wrapped
 * (optional) gets a reference to it. */
typedef BmsTransport *(*CliTransportWrap) (BmsTransport *line);
BmsSession *cli_connection_open_wrapped (const CliConnection *conn, CliTransportWrap wrap,
                                         BmsTransport **wrapped, GError **error);

/* Stopping a command that talks to a board, whatever the line does.
 * cli_stop_start blocks SIGINT and SIGTERM in the calling thread and every
 * thread started after it (call it before the session's worker exists) and
 * has a watcher thread take them: the stop cancellable is cancelled at the
 * first signal or at the deadline; a second signal exits at once with
 * 128 + its number. */
void cli_stop_start (void);
/* Monotonic time (g_get_monotonic_time) at which to stop; 0: none. */
void cli_stop_set_deadline (gint64 deadline_us);
/* Cancelled when the command has to stop; NULL before cli_stop_start. */
GCancellable *cli_stop_get_cancellable (void);
/* SIGINT or SIGTERM if one stopped the command, else 0. */
int cli_stop_get_signal (void);
gboolean cli_stop_requested (void);
/* "interrupted (SIGINT)", "terminated (SIGTERM)" or "time is up". */
const char *cli_stop_describe (void);
/* Sleeps until the monotonic time until_us or the stop; FALSE if stopped. */
gboolean cli_stop_sleep_until (gint64 until_us);

/* Checks a --password before anything is sent: 1 to 10 printable ASCII
 * characters (the board keeps 10 bytes in 0xB2). */
gboolean cli_password_validate (const char *password, GError **error);

/* Prints "packwatch-cli CMD: message" on stderr. */
void cli_error (const char *command, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* JSON text helpers. */
void cli_json_append_string (GString *out, const char *text);
/* Copies a JSON text without the whitespace outside strings: one line. */
char *cli_json_compact (const char *json);
/* Appends the members of a JSON object text ("{…}") to an object being
 * built in out (which already holds "{" and maybe members). */
void cli_json_merge_object (GString *out, const char *object_json);

/* A snapshot as JSON (bms_snapshot_to_json) without the parameter password
 * (0xB2) unless show_password: it is the key to every write, and read/decode
 * output lands in logs and bug reports. */
char *cli_snapshot_to_json (const BmsSnapshot *snapshot, gboolean show_password);
/* The help text of --show-password, the same for every command. */
#define CLI_SHOW_PASSWORD_HELP \
  "Also print the parameter password (0xB2), e.g. to recover a lost one"

/* text padded with spaces to width characters (not bytes: "°C" is two). */
char *cli_pad (const char *text, guint width);

/* Levenshtein distance, ASCII case-insensitive. */
guint cli_edit_distance (const char *a, const char *b);

/* Up to max_results field names close to an unknown name (NULL-terminated). */
char **cli_suggest_field_names (const char *unknown, guint max_results);

/* A raw value for people: number and unit, "on"/"off", an enum's name, a bit
 * mask with its bit names. */
char *cli_format_raw (const BmsFieldInfo *field, gint64 raw);
/* The field's value in a snapshot the same way (ASCII as text, bytes as hex);
 * NULL if the snapshot does not carry it. */
char *cli_format_snapshot_value (const BmsSnapshot *snapshot, const BmsFieldInfo *field);


#define CLI_ERROR (cli_error_quark ())
GQuark cli_error_quark (void);
typedef enum
{
  CLI_ERROR_USAGE,
} CliError;

G_END_DECLS
