/* cli-scan.c — `packwatch-cli scan`: which addresses answer on a bus.
 *
 * Probes each address once with a short timeout and no retries (a missing
 * board costs a quarter of a second, not the 4.5 s of a full read). */

#include "config.h"

#include <stdio.h>

#include "cli-common.h"

/* A board that answers with an implausible reply is there, but what it
 * says is not: the reason stands in for its cell count. */
static void
print_board (guint address, const BmsSnapshot *snapshot, gboolean json, gboolean first)
{
  g_autofree char *id = bms_snapshot_dup_string (snapshot, 0xB4);
  g_autofree char *version = bms_snapshot_dup_string (snapshot, BMS_ID_SOFTWARE_VERSION);
  g_autoptr (GError) implausible = NULL;

  bms_snapshot_check_plausible (snapshot, &implausible);
  if (json)
    {
      g_autoptr (GString) out = g_string_new (first ? "  {" : ",\n  {");
      g_string_append_printf (out, "\"address\": %u, \"device_id\": ", address);
      cli_json_append_string (out, id);
      g_string_append (out, ", \"software_version\": ");
      cli_json_append_string (out, version);
      if (implausible != NULL)
        {
          g_string_append (out, ", \"implausible\": ");
          cli_json_append_string (out, implausible->message);
        }
      else
        g_string_append_printf (out, ", \"cell_count\": %u", snapshot->n_cells);
      g_string_append (out, "}");
      fputs (out->str, stdout);
      return;
    }
  if (implausible != NULL)
    printf ("%3u  %-8s  implausible reply: %s\n", address, id && *id ? id : "-",
            implausible->message);
  else
    printf ("%3u  %-8s  %2u cells  %s\n", address, id && *id ? id : "-", snapshot->n_cells,
            version ? version : "");
}

int
cli_scan (int argc, char **argv)
{
  CliConnection conn;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsSession) session = NULL;
  BmsSessionTiming timing;
  int first = 1, last = 16, timeout_ms = 250;
  gboolean json = FALSE;
  guint found = 0;
  const GOptionEntry entries[]
      = { { "first", 0, 0, G_OPTION_ARG_INT, &first, "First address to probe (default 1)", "A" },
          { "last", 0, 0, G_OPTION_ARG_INT, &last, "Last address to probe (default 16)", "A" },
          { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_ms,
            "Milliseconds to wait for each board's first byte (default 250)", "MS" },
          { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON array", NULL },
          { NULL } };

  cli_connection_init (&conn);
  if (!cli_parse_options (&argc, &argv, "",
                          "Probes the addresses of a bus and lists the boards that answer,\n"
                          "with device id, cell count and software version.",
                          entries, cli_connection_option_group (&conn)))
    return CLI_EXIT_USAGE;
  if (!cli_connection_validate (&conn, &error))
    {
      cli_error ("scan", "%s", error->message);
      cli_connection_clear (&conn);
      return CLI_EXIT_USAGE;
    }
  if (first < 1 || last > 255 || first > last || timeout_ms < 50 || timeout_ms > 5000)
    {
      cli_error ("scan",
                 "--first/--last must be 1 to 255 with first ≤ last, and --timeout "
                 "50 to 5000 ms (given %d..%d, %d ms)",
                 first, last, timeout_ms);
      cli_connection_clear (&conn);
      return CLI_EXIT_USAGE;
    }

  cli_stop_start ();
  session = cli_connection_open (&conn, &error);
  if (session == NULL)
    {
      cli_error ("scan", "%s: %s", conn.port, error->message);
      cli_connection_clear (&conn);
      return CLI_EXIT_UNREACHABLE;
    }
  bms_session_get_timing (session, &timing);
  timing.first_byte_timeout_ms = (guint)timeout_ms;
  timing.retries = 0;
  bms_session_set_timing (session, &timing);

  if (json)
    printf ("[\n");
  for (int a = first; a <= last; a++)
    {
      g_autoptr (BmsSnapshot) snapshot = NULL;
      g_autoptr (GError) local = NULL;

      bms_session_set_address (session, (guint)a);
      snapshot = bms_session_read_all (session, cli_stop_get_cancellable (), &local);
      if (snapshot != NULL)
        print_board ((guint)a, snapshot, json, found++ == 0);
      else if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        break;
      else if (!g_error_matches (local, BMS_SESSION_ERROR, BMS_SESSION_ERROR_TIMEOUT)
               && !g_error_matches (local, BMS_SESSION_ERROR, BMS_SESSION_ERROR_BAD_REPLY))
        {
          cli_error ("scan", "%s: address %d: %s", conn.port, a, local->message);
          break;
        }
    }
  if (json)
    printf ("%s]\n", found ? "\n" : "");
  bms_session_close (session);
  if (cli_stop_requested ())
    {
      cli_error ("scan", "%s: %s, %u board%s found before", conn.port, cli_stop_describe (),
                 found, found == 1 ? "" : "s");
      cli_connection_clear (&conn);
      return CLI_EXIT_FAILED;
    }
  if (found == 0)
    cli_error ("scan", "%s: no board answered at addresses %d to %d", conn.port, first, last);
  else if (!json)
    printf ("%u board%s found\n", found, found == 1 ? "" : "s");
  cli_connection_clear (&conn);
  return found > 0 ? CLI_EXIT_OK : CLI_EXIT_UNREACHABLE;
}
