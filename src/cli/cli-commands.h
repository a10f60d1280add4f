/* cli-commands.h — the packwatch-cli subcommand table, one line each.
 *
 * CLI_COMMAND (name, function, synopsis, summary)
 *
 * To add a subcommand: write `int cli_NAME (int argc, char **argv)` in
 * src/cli/cli-NAME.c (argv[0] is the subcommand's name; parse options with
 * cli_parse_options, return a CLI_EXIT_* status), add the file to
 * cli_sources in src/cli/meson.build and add its line below. main.c turns
 * this list into both the prototypes and the dispatch table, so there is
 * nothing else to edit. Deliberately no include guard: included twice.
 */
CLI_COMMAND (ports,  cli_ports,  "[--json]",
             "List serial ports with description and USB VID:PID")
CLI_COMMAND (decode, cli_decode, "[--stream | --binary] [FILE]",
             "Decode hex frames (one per line) from FILE or stdin into JSON")
CLI_COMMAND (read,   cli_read,   "--port PORT [--baud B] [--address A] [--json]",
             "Read every field from a board once: a table, or JSON")
CLI_COMMAND (capture, cli_capture, "--port PORT --out FILE [--count N] [--interval S]",
             "Record a board's raw read-all replies as hex lines, for a support case")
CLI_COMMAND (write,  cli_write,  "--port PORT (--password PW | --dry-run) [--db FILE] [--json] NAME=VALUE…",
             "Validate, write and read back parameters (one change set)")
CLI_COMMAND (lease,  cli_lease,  "--port PORT [--password PW (--until DATE [--code CODE] | --remove)] [--db FILE] [--json]",
             "Show, set or remove the board's lease (rental lock), dates as dates")
CLI_COMMAND (fields, cli_fields, "[--markdown [--template FILE] | --json]",
             "Print the field catalogue (docs/protocol.md is generated from it)")
CLI_COMMAND (log,    cli_log,    "--port PORT [--db FILE] [--interval S] [--duration S]",
             "Record samples into the history database until Ctrl+C")
#if HAVE_MQTT
CLI_COMMAND (serve,  cli_serve,  "--config FILE",
             "Poll boards, record them and publish them to an MQTT broker (Home Assistant)")
#endif
CLI_COMMAND (export, cli_export, "[--db FILE] (--xlsx OUT | --csv OUT) [--from TIME] [--to TIME]",
             "Export the history as an Excel workbook or CSV")
CLI_COMMAND (alarms, cli_alarms, "[--db FILE] [--from TIME] [--to TIME] [--json]",
             "Print the alarm events of the history")
CLI_COMMAND (health, cli_health, "[--db FILE] [--device DEVICE] [--from TIME] [--to TIME] [--json]",
             "Estimate each cell's resistance, capacity and leak; name the suspects")
CLI_COMMAND (audit,  cli_audit,  "[--db FILE] [--from TIME] [--to TIME] [--json]",
             "Print the audit trail of parameter writes")
CLI_COMMAND (report, cli_report, "[--db FILE] [--device DEVICE] [--from TIME] [--to TIME] [--technician NAME] [--customer NAME] [--site TEXT] [--port PORT] --out FILE.pdf",
             "Write a service report (PDF): identity, summary, cells, alarms, parameters, audit, graphs")
CLI_COMMAND (profile, cli_profile, "save|load --port PORT [--password PW] [--dry-run] [--db DB] FILE",
             "Save a board's parameters to a profile file, or load one (old → new first)")
CLI_COMMAND (scan,   cli_scan,   "--port PORT [--first A] [--last A] [--timeout MS] [--json]",
             "List the boards that answer on a bus")
CLI_COMMAND (flash,  bms_cli_flash, "--port PORT [--baud B] [--address A] (--password PW | --bootloader) [--max-size BYTES] [--force] [--db FILE] FILE",
             "Update a board's firmware (YMODEM via its bootloader), verified")
