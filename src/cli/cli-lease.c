/* cli-lease.c — `packwatch-cli lease`: show, set or remove a board's rental
 * lock (lease end 0xE3, code 0xE4, state 0xE5) with dates as dates.
 *
 * Setting and removing are `write lease_end=… lease_code=…` underneath: the
 * same change set, checks, read-back, report and audit (cli-write.h). */

#include "config.h"

#include <stdio.h>

#include "bms-field.h"
#include "bms-snapshot.h"
#include "cli-common.h"
#include "cli-write.h"

typedef struct
{
  char *password;
  char *until;
  char *code;
  char *db;
  gboolean remove;
  gboolean dry_run;
  gboolean json;
} LeaseOptions;

/* Whole days from now to end, rounded up: a lease ending tonight has 1. */
static gint64
days_left (gint64 end, gint64 now)
{
  return end > now ? (end - now + 86399) / 86400 : 0;
}

static void
print_lease_json (const BmsSnapshot *snapshot, gint64 end, gint64 now)
{
  g_autoptr (GString) out = g_string_new ("{\"state\": ");
  g_autofree char *state = cli_format_snapshot_value (snapshot, bms_field_lookup (BMS_ID_LEASE_STATE));
  g_autofree char *code = bms_snapshot_dup_string (snapshot, BMS_ID_LEASE_CODE);
  g_autofree char *until = bms_field_format_lease_end (end);

  cli_json_append_string (out, state != NULL ? state : (end == 0 ? "none" : "active"));
  g_string_append (out, ", \"end\": ");
  if (end > 0)
    cli_json_append_string (out, until);
  else
    g_string_append (out, "null");
  g_string_append_printf (out, ", \"end_unix\": %" G_GINT64_FORMAT, end);
  if (end > 0)
    g_string_append_printf (out, ", \"days_left\": %" G_GINT64_FORMAT, days_left (end, now));
  g_string_append (out, ", \"code\": ");
  cli_json_append_string (out, code != NULL ? code : "");
  g_string_append (out, "}");
  puts (out->str);
}

static void
print_lease_text (const BmsSnapshot *snapshot, gint64 end, gint64 now)
{
  g_autofree char *state = cli_format_snapshot_value (snapshot, bms_field_lookup (BMS_ID_LEASE_STATE));
  g_autofree char *code = bms_snapshot_dup_string (snapshot, BMS_ID_LEASE_CODE);
  g_autofree char *until = bms_field_format_lease_end (end);

  if (end == 0)
    {
      printf ("Lease:  none (the battery is unrestricted)\n");
      return;
    }
  printf ("Lease:  %s\n", state != NULL ? state : "active");
  if (end > now)
    printf ("Ends:   %s (%" G_GINT64_FORMAT " %s left)\n", until, days_left (end, now),
            days_left (end, now) == 1 ? "day" : "days");
  else
    printf ("Ended:  %s (discharging is stopped; charging is allowed)\n", until);
  printf ("Code:   %s\n", code != NULL && *code != '\0' ? code : "(none)");
}

static int
show_lease (const CliConnection *conn, gboolean json)
{
  g_autoptr (BmsSession) session = NULL;
  g_autoptr (BmsSnapshot) snapshot = NULL;
  g_autoptr (GError) error = NULL;
  gint64 end;

  cli_stop_start ();
  session = cli_connection_open (conn, &error);
  if (session != NULL)
    snapshot = bms_session_read_all (session, cli_stop_get_cancellable (), &error);
  if (session != NULL)
    bms_session_close (session);
  if (snapshot == NULL)
    {
      cli_error ("lease", "%s: %s", conn->port,
                 cli_stop_requested () ? cli_stop_describe () : error->message);
      return cli_stop_requested () ? CLI_EXIT_FAILED : CLI_EXIT_UNREACHABLE;
    }
  if (!bms_snapshot_has (snapshot, BMS_ID_LEASE_END))
    {
      cli_error ("lease", "%s: this board does not report a lease (field lease_end, 0xE3)",
                 conn->port);
      return CLI_EXIT_FAILED;
    }
  end = bms_snapshot_get_raw (snapshot, BMS_ID_LEASE_END);
  if (json)
    print_lease_json (snapshot, end, g_get_real_time () / G_USEC_PER_SEC);
  else
    print_lease_text (snapshot, end, g_get_real_time () / G_USEC_PER_SEC);
  return CLI_EXIT_OK;
}

/* --until must be a date still to come: a lease that has already ended
 * would stop discharging the moment it is written. */
static gboolean
check_until (const char *until, GError **error)
{
  const BmsFieldInfo *field = bms_field_lookup (BMS_ID_LEASE_END);
  g_autofree char *shown = NULL;
  gint64 end;

  if (!bms_field_parse_value (field, until, &end, NULL, error))
    return FALSE;
  if (end == 0)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   "--until none: to remove the lease use --remove");
      return FALSE;
    }
  if (end <= g_get_real_time () / G_USEC_PER_SEC)
    {
      shown = bms_field_format_lease_end (end);
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   "--until %s: the lease would end at %s, which has passed, and the battery "
                   "would stop discharging at once; give a later date",
                   until, shown);
      return FALSE;
    }
  return TRUE;
}

/* The NAME=VALUE list `write` would take for these options. */
static gboolean
build_values (const LeaseOptions *o, GPtrArray *values)
{
  g_autoptr (GError) error = NULL;

  if (o->remove)
    {
      g_ptr_array_add (values, g_strdup ("lease_end=none"));
      g_ptr_array_add (values, g_strdup ("lease_code="));
    }
  if (o->until != NULL)
    {
      if (!check_until (o->until, &error))
        {
          cli_write_refuse (error->message);
          return FALSE;
        }
      g_ptr_array_add (values, g_strdup_printf ("lease_end=%s", o->until));
    }
  if (o->code != NULL)
    g_ptr_array_add (values, g_strdup_printf ("lease_code=%s", o->code));
  g_ptr_array_add (values, NULL);
  return TRUE;
}

static gboolean
check_options (const CliConnection *conn, const LeaseOptions *o)
{
  g_autoptr (GError) error = NULL;
  gboolean valid = TRUE;

  if (!cli_connection_validate (conn, &error))
    {
      cli_write_refuse (error->message);
      g_clear_error (&error);
      valid = FALSE;
    }
  if (o->remove && (o->until != NULL || o->code != NULL))
    {
      cli_write_refuse ("--remove takes no --until or --code: it clears both");
      valid = FALSE;
    }
  if (o->password == NULL && !o->dry_run)
    {
      cli_write_refuse ("--password is required to change the lease (the board's parameter "
                        "password, factory default 123456)");
      valid = FALSE;
    }
  else if (o->password != NULL && !cli_password_validate (o->password, &error))
    {
      cli_write_refuse (error->message);
      valid = FALSE;
    }
  return valid;
}

static int
change_lease (const CliConnection *conn, const LeaseOptions *o)
{
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  gboolean valid;

  cli_write_begin ("lease", o->json, o->dry_run);
  valid = check_options (conn, o);
  valid &= build_values (o, values);
  if (values->len == 0)
    {
      /* build_values refused --until: say what happened to the rest. */
      cli_write_refuse ("nothing was sent to the board");
      g_ptr_array_add (values, NULL);
    }
  return cli_write_values (conn, o->password, o->db, (const char *const *)values->pdata, valid);
}

static void
lease_options_clear (LeaseOptions *o)
{
  g_free (o->password);
  g_free (o->until);
  g_free (o->code);
  g_free (o->db);
}

int
cli_lease (int argc, char **argv)
{
  CliConnection conn;
  LeaseOptions o = { 0 };
  int status;
  const GOptionEntry entries[] = {
    { "until", 'u', 0, G_OPTION_ARG_STRING, &o.until,
      "Set a lease that ends at the end of DATE (YYYY-MM-DD, local time)", "DATE" },
    { "code", 'c', 0, G_OPTION_ARG_STRING, &o.code,
      "Set the lease code (up to 8 ASCII characters)", "CODE" },
    { "remove", 'r', 0, G_OPTION_ARG_NONE, &o.remove,
      "Remove the lease: end and code cleared, the battery unrestricted", NULL },
    { "password", 'P', 0, G_OPTION_ARG_STRING, &o.password,
      "The board's parameter password, needed to change the lease", "PW" },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &o.dry_run,
      "Check and print old → new, write nothing", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &o.json,
      "Print JSON (docs/cli.md): the lease, or the write's report", NULL },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &o.db,
      "Record the unlock and the writes in this history database's audit trail", "FILE" },
    { NULL },
  };

  cli_connection_init (&conn);
  if (!cli_parse_options (&argc, &argv, NULL,
                          "Without --until, --code or --remove: shows the board's lease (state,\n"
                          "end date, days left, code). With them: writes the lease as one change\n"
                          "set, like `write lease_end=DATE lease_code=CODE`, with read-back.\n"
                          "At the end of the lease the battery stops discharging; charging\n"
                          "stays allowed.",
                          entries, cli_connection_option_group (&conn)))
    return CLI_EXIT_USAGE;
  if (argc > 1)
    {
      cli_error ("lease", "unexpected argument \"%s\" (see packwatch-cli lease --help)", argv[1]);
      status = CLI_EXIT_USAGE;
    }
  else if (o.until == NULL && o.code == NULL && !o.remove)
    {
      g_autoptr (GError) error = NULL;

      if (!cli_connection_validate (&conn, &error))
        {
          cli_error ("lease", "%s", error->message);
          status = CLI_EXIT_USAGE;
        }
      else
        status = show_lease (&conn, o.json);
    }
  else
    status = change_lease (&conn, &o);
  lease_options_clear (&o);
  cli_connection_clear (&conn);
  return status;
}
