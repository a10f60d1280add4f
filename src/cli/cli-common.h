/* cli-common.h — what every packwatch-cli subcommand shares: exit codes,
 * option parsing, the connection options (--port/--baud/--address), JSON
 * helpers and the hex reader used by `decode`.
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

/* Prints "packwatch-cli CMD: message" on stderr. */
void cli_error (const char *command, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* JSON text helpers. */
void cli_json_append_string (GString *out, const char *text);
/* Copies a JSON text without the whitespace outside strings: one line. */
char *cli_json_compact (const char *json);
/* Appends the members of a JSON object text ("{…}") to an object being
 * built in out (which already holds "{" and maybe members). */
void cli_json_merge_object (GString *out, const char *object_json);

/* One line of a hex dump: bytes as two hex digits, separated by spaces,
 * colons, commas, semicolons or nothing, each optionally prefixed with 0x.
 * A leading "<<<" or ">>>" direction marker and anything after '#' are
 * ignored. Appends the bytes to out (none for a blank or comment line);
 * returns FALSE with an error naming the column on bad input. */
gboolean cli_hex_parse_line (const char *line, GByteArray *out, GError **error);

/* text padded with spaces to width characters (not bytes: "°C" is two). */
char *cli_pad (const char *text, guint width);

/* Levenshtein distance, ASCII case-insensitive. */
guint cli_edit_distance (const char *a, const char *b);

/* Up to max_results field names close to an unknown name (NULL-terminated). */
char **cli_suggest_field_names (const char *unknown, guint max_results);

/* The engineering value of a raw one as a number with as many decimals as
 * the scale has ("3.65" for 365 at 0.01), locale-independent, no unit. */
char *cli_format_number (const BmsFieldInfo *field, gint64 raw);

/* A raw value for people: number and unit, "on"/"off", an enum's name, a bit
 * mask with its bit names. */
char *cli_format_raw (const BmsFieldInfo *field, gint64 raw);
/* The field's value in a snapshot the same way (ASCII as text, bytes as hex);
 * NULL if the snapshot does not carry it. */
char *cli_format_snapshot_value (const BmsSnapshot *snapshot, const BmsFieldInfo *field);

/* Names of the set bits of a BITS field, joined with ", " ("none" if 0). */
char *cli_bit_names (const BmsFieldInfo *field, gint64 raw);

#define CLI_ERROR (cli_error_quark ())
GQuark cli_error_quark (void);
typedef enum
{
  CLI_ERROR_HEX,
  CLI_ERROR_USAGE,
} CliError;

G_END_DECLS
