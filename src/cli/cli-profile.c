/* cli-profile.c — `packwatch-cli profile save|load`: a board's parameters to
 * a profile file and back (see docs/profile-format.md).
 *
 * load checks the file line by line, then the whole combination (the board's
 * values with the profile's in place) against the ranges and vendor rules;
 * nothing is sent unless all of it passes. --dry-run prints the change set
 * and sends nothing at all. */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bms-change-set.h"
#include "bms-session.h"
#include "bms-device.h"
#include "bms-profile.h"
#include "cli-audit.h"
#include "cli-common.h"

static BmsSnapshot *
read_board (const char *verb, const CliConnection *conn, BmsSession **session_out, int *status)
{
  g_autoptr (BmsSession) session = NULL;
  g_autoptr (GError) error = NULL;
  BmsSnapshot *snapshot;

  /* Before the session's worker exists: it inherits the blocked mask. */
  cli_stop_start ();
  session = cli_connection_open (conn, &error);
  if (session == NULL)
    {
      cli_error ("profile", "%s: %s: %s", verb, conn->port, error->message);
      *status = CLI_EXIT_UNREACHABLE;
      return NULL;
    }
  snapshot = bms_session_read_all (session, cli_stop_get_cancellable (), &error);
  if (snapshot == NULL && cli_stop_requested ())
    {
      cli_error ("profile", "%s: %s: %s, nothing was written", verb, conn->port,
                 cli_stop_describe ());
      bms_session_close (session);
      *status = CLI_EXIT_FAILED;
      return NULL;
    }
  if (snapshot == NULL)
    {
      cli_error ("profile", "%s: %s: board %d: %s", verb, conn->port, conn->address,
                 error->message);
      bms_session_close (session);
      *status = CLI_EXIT_UNREACHABLE;
      return NULL;
    }
  *session_out = g_steal_pointer (&session);
  return snapshot;
}

static int
profile_save (int argc, char **argv)
{
  CliConnection conn;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsSession) session = NULL;
  g_autoptr (BmsSnapshot) snapshot = NULL;
  g_autoptr (BmsProfile) profile = NULL;
  int status = CLI_EXIT_OK;

  cli_connection_init (&conn);
  if (!cli_parse_options (&argc, &argv, "FILE",
                          "Reads every parameter of a board and saves the ones that can be\n"
                          "copied to another board (not its address, password, identity,\n"
                          "calibration or lease) as a profile file.",
                          NULL, cli_connection_option_group (&conn)))
    return CLI_EXIT_USAGE;
  if (!cli_connection_validate (&conn, &error) || argc != 2)
    {
      cli_error ("profile", "save: %s",
                 error ? error->message : "give exactly one FILE to save the profile to");
      cli_connection_clear (&conn);
      return CLI_EXIT_USAGE;
    }

  snapshot = read_board ("save", &conn, &session, &status);
  if (snapshot != NULL)
    {
      bms_session_close (session);
      profile = bms_profile_new_from_snapshot (snapshot);
      if (!bms_profile_save (profile, argv[1], &error))
        {
          cli_error ("profile", "save: %s: %s", argv[1], error->message);
          status = CLI_EXIT_FAILED;
        }
      else
        printf ("Saved %u parameters of board %d (%s) to %s\n",
                bms_param_set_get_size (bms_profile_get_params (profile)), conn.address,
                bms_profile_get_device (profile) ? bms_profile_get_device (profile) : "no id",
                argv[1]);
    }
  cli_connection_clear (&conn);
  return status;
}

static void
print_results (BmsChangeSet *set)
{
  for (guint i = 0; i < bms_change_set_get_size (set); i++)
    {
      g_autoptr (BmsChange) change = g_list_model_get_item (G_LIST_MODEL (set), i);
      const char *message = bms_change_get_message (change);
      const char *result = bms_change_result_to_string (bms_change_get_result (change));

      /* The change set's "not sent: writing X failed before it" says the
       * result itself: print it once. */
      if (message != NULL && g_str_has_prefix (message, result)
          && message[strlen (result)] == ':')
        result = NULL;
      printf ("%s: %s → %s: %s%s%s\n", bms_change_get_name (change),
              bms_change_get_old_text (change), bms_change_get_new_text (change),
              result ? result : "", result && message ? ": " : "", message ? message : "");
    }
}

static int
load_into_board (const CliConnection *conn, BmsProfile *profile, const char *file,
                 const char *password, const char *db, gboolean dry_run)
{
  g_autoptr (BmsHistory) history = NULL;
  gint64 device_id = 0;
  g_autoptr (BmsSession) session = NULL;
  g_autoptr (BmsSnapshot) snapshot = NULL;
  g_autoptr (BmsParamSet) current = NULL;
  g_autoptr (BmsChangeSet) set = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  int status = CLI_EXIT_OK;

  snapshot = read_board ("load", conn, &session, &status);
  if (snapshot == NULL)
    return status;
  current = bms_param_set_new_from_snapshot (snapshot);
  set = bms_change_set_new_from_target (current, bms_profile_get_params (profile));
  text = bms_change_set_to_text (set);
  printf ("%s", text);
  if (bms_change_set_get_size (set) == 0)
    printf ("Board %d already has every value of %s: nothing to write\n", conn->address, file);
  else if (!bms_change_set_validate (set, &error))
    {
      cli_error ("profile", "load: refused, nothing was sent: %s", error->message);
      status = CLI_EXIT_USAGE;
    }
  else if (dry_run)
    printf ("Dry run: %u change%s, nothing was sent\n", bms_change_set_get_size (set),
            bms_change_set_get_size (set) == 1 ? "" : "s");
  else if (db != NULL
           && (history = cli_audit_open (db, snapshot, (guint)conn->address, &device_id, &error))
                  == NULL)
    {
      cli_error ("profile", "load: %s: %s; nothing was sent", db, error->message);
      status = CLI_EXIT_FAILED;
    }
  else if (!bms_change_set_apply (set, session, password, history, device_id,
                                  cli_stop_get_cancellable (), &error))
    {
      print_results (set);
      /* Stopped between or in a write: the results say which were made. */
      if (cli_stop_requested ())
        cli_error ("profile", "load: %s: %s; the lines above say which fields were written",
                   conn->port, cli_stop_describe ());
      else
        cli_error ("profile", "load: %s", error->message);
      status = cli_stop_requested () ? CLI_EXIT_FAILED
               : g_error_matches (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_TIMEOUT)
                   ? CLI_EXIT_UNREACHABLE
                   : CLI_EXIT_FAILED;
    }
  else
    {
      print_results (set);
      printf ("Wrote %u field%s to board %d\n", bms_change_set_get_size (set),
              bms_change_set_get_size (set) == 1 ? "" : "s", conn->address);
    }
  bms_session_close (session);
  cli_audit_close (history, "profile load", db);
  return status;
}

static int
profile_load (int argc, char **argv)
{
  CliConnection conn;
  g_autofree char *password = NULL;
  g_autofree char *db = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsProfile) profile = NULL;
  gboolean dry_run = FALSE, valid = TRUE;
  int status = CLI_EXIT_USAGE;
  const GOptionEntry entries[]
      = { { "password", 'P', 0, G_OPTION_ARG_STRING, &password,
            "The board's parameter password (factory default 123456)", "PW" },
          { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
            "Print the changes (old → new) and send nothing", NULL },
          { "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
            "Record every write attempt in this history database's audit log", "FILE" },
          { NULL } };

  cli_connection_init (&conn);
  if (!cli_parse_options (&argc, &argv, "FILE",
                          "Checks the profile line by line, reads the board, and shows what\n"
                          "would change (old → new). Unless --dry-run, checks the whole\n"
                          "combination against the ranges and vendor rules, unlocks the board\n"
                          "with the password and writes each field with read-back.",
                          entries, cli_connection_option_group (&conn)))
    return CLI_EXIT_USAGE;

  if (!cli_connection_validate (&conn, &error))
    {
      cli_error ("profile", "load: %s", error->message);
      valid = FALSE;
    }
  if (password == NULL && !dry_run)
    {
      cli_error ("profile", "load: --password is required (the board's parameter password, "
                            "factory default 123456), or --dry-run to only see the changes");
      valid = FALSE;
    }
  else if (password != NULL && !dry_run && !cli_password_validate (password, &error))
    {
      cli_error ("profile", "load: %s", error->message);
      g_clear_error (&error);
      valid = FALSE;
    }
  if (argc != 2)
    {
      cli_error ("profile", "load: give exactly one profile FILE");
      valid = FALSE;
    }
  /* The file is judged before the port is opened. */
  if (valid)
    {
      g_clear_error (&error);
      profile = bms_profile_load (argv[1], &error);
      if (profile == NULL)
        {
          cli_error ("profile", "load: refused, nothing was sent: %s", error->message);
          valid = FALSE;
        }
    }
  if (valid)
    status = load_into_board (&conn, profile, argv[1], password, db, dry_run);
  cli_connection_clear (&conn);
  return status;
}

int
cli_profile (int argc, char **argv)
{
  /* The action's argv[0] names it in full, so its --help and errors say
   * "packwatch-cli profile save", not "packwatch-cli save". */
  if (argc >= 2 && strcmp (argv[1], "save") == 0)
    {
      argv[1] = (char *) "profile save";
      return profile_save (argc - 1, argv + 1);
    }
  if (argc >= 2 && strcmp (argv[1], "load") == 0)
    {
      argv[1] = (char *) "profile load";
      return profile_load (argc - 1, argv + 1);
    }
  if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    {
      printf (
          "Usage:\n"
          "  packwatch-cli profile save --port PORT [--baud B] [--address A] FILE\n"
          "  packwatch-cli profile load --port PORT --password PW [--dry-run] [--db FILE] FILE\n\n"
          "`packwatch-cli profile save --help` and `… load --help` describe the options;\n"
          "docs/profile-format.md describes the file.\n");
      return CLI_EXIT_OK;
    }
  cli_error ("profile",
             "%s%s%s: use `profile save …` or `profile load …` "
             "(packwatch-cli profile --help)",
             argc >= 2 ? "unknown action \"" : "missing action", argc >= 2 ? argv[1] : "",
             argc >= 2 ? "\"" : "");
  return CLI_EXIT_USAGE;
}
