/* cli-write.c — `packwatch-cli write`: validate every NAME=VALUE against the
 * catalogue, then unlock with the password, write each and read it back.
 *
 * Nothing is sent unless every value is valid: the port is not even opened
 * before the last value has been checked against the catalogue. Then one
 * read of the board lets the rules between fields (recovery below
 * protection, …) be judged on the values as they will be, and picks an
 * order of writes that keeps every step within them. */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bms-field.h"
#include "bms-param-set.h"
#include "bms-snapshot.h"
#include "cli-common.h"

typedef struct
{
  const BmsFieldInfo *field;
  const char *text; /* as given */
  gint64 raw;
  char *string; /* ASCII fields */
} Assignment;

static void
assignment_clear (gpointer data)
{
  Assignment *a = data;

  g_clear_pointer (&a->string, g_free);
}

static void
report_unknown (const char *name)
{
  g_auto (GStrv) close = cli_suggest_field_names (name, 4);
  g_autofree char *list = g_strjoinv (", ", close);

  if (close[0] != NULL)
    cli_error ("write",
               "refused: there is no field \"%s\"; did you mean %s? "
               "(`packwatch-cli fields` lists them all)",
               name, list);
  else
    cli_error ("write", "refused: there is no field \"%s\" (`packwatch-cli fields` lists them all)",
               name);
}

/* Checks one NAME=VALUE; prints why it is refused. */
static gboolean
parse_assignment (const char *arg, GArray *assignments)
{
  g_autofree char *name = NULL;
  g_autoptr (GError) error = NULL;
  const char *eq = strchr (arg, '=');
  Assignment a = { NULL, NULL, 0, NULL };

  if (eq == NULL || eq == arg)
    {
      cli_error ("write", "refused: \"%s\" is not NAME=VALUE (e.g. cell_ovp_mv=3650)", arg);
      return FALSE;
    }
  name = g_strndup (arg, (gsize)(eq - arg));
  a.text = eq + 1;
  a.field = bms_field_lookup_name (name);
  if (a.field == NULL)
    {
      report_unknown (name);
      return FALSE;
    }
  for (guint i = 0; i < assignments->len; i++)
    if (g_array_index (assignments, Assignment, i).field == a.field)
      {
        cli_error ("write", "refused: %s is given twice", name);
        return FALSE;
      }
  if (!bms_field_is_writable (a.field))
    {
      cli_error ("write", "refused: %s is read-only", name);
      return FALSE;
    }
  if (!bms_field_parse_value (a.field, a.text, &a.raw, &a.string, &error))
    {
      /* The catalogue's message names the field, the value and the range. */
      cli_error ("write", "refused: %s", error->message);
      return FALSE;
    }
  g_array_append_val (assignments, a);
  return TRUE;
}

static char *
describe_written (const Assignment *a)
{
  if (a->field->id == BMS_ID_PASSWORD)
    return g_strdup ("(new password, not shown)");
  if (a->string != NULL)
    return g_strdup_printf ("\"%s\"", a->string);
  return cli_format_raw (a->field, a->raw);
}

/* Writes one value; prints "name = value: ok (read back …)" or why not. */
static gboolean
write_one (BmsSession *session, const Assignment *a)
{
  g_autoptr (BmsSnapshot) readback = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *written = describe_written (a);
  g_autofree char *back = NULL;

  if (!bms_session_write (session, a->field->id, a->raw, a->string, &readback, NULL, &error))
    {
      printf ("%s = %s: refused: %s\n", a->field->name, written, error->message);
      return FALSE;
    }
  if (readback != NULL)
    back = cli_format_snapshot_value (readback, a->field);
  if (back != NULL && a->field->id != BMS_ID_PASSWORD)
    printf ("%s = %s: ok (read back %s)\n", a->field->name, written, back);
  else
    printf ("%s = %s: ok\n", a->field->name, written);
  return TRUE;
}

static void
param_set_apply (BmsParamSet *set, const Assignment *a)
{
  if (a->string != NULL)
    bms_param_set_set_string (set, a->field->id, a->string);
  else
    bms_param_set_set_raw (set, a->field->id, a->raw);
}

static gboolean
is_parameter (const Assignment *a)
{
  return bms_param_is_parameter (a->field);
}

/* The rules between fields, on the board's values with every change in
 * place; prints the broken rule. */
static gboolean
check_rules (GArray *assignments, const BmsSnapshot *snapshot)
{
  g_autoptr (BmsParamSet) target = bms_param_set_new_from_snapshot (snapshot);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint8));
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < assignments->len; i++)
    {
      const Assignment *a = &g_array_index (assignments, Assignment, i);

      if (!is_parameter (a))
        continue;
      param_set_apply (target, a);
      g_array_append_val (ids, a->field->id);
    }
  if (ids->len == 0 || bms_param_set_check_rules (target, (guint8 *)ids->data, ids->len, &error))
    return TRUE;
  cli_error ("write", "refused: %s", error->message);
  return FALSE;
}

/* Indices into assignments: parameters first, each step chosen so that the
 * values on the board keep the rules after it (the given order where no
 * such step exists), then a new password (a board may want it for the
 * writes before), then commands (restart, …) in the given order. */
static GArray *
write_order (GArray *assignments, const BmsSnapshot *snapshot)
{
  g_autoptr (BmsParamSet) step = bms_param_set_new_from_snapshot (snapshot);
  g_autofree gboolean *done = g_new0 (gboolean, assignments->len);
  GArray *order = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint n = 0; n < assignments->len; n++)
    {
      guint pick = G_MAXUINT, first = G_MAXUINT;

      for (guint i = 0; i < assignments->len && pick == G_MAXUINT; i++)
        {
          const Assignment *a = &g_array_index (assignments, Assignment, i);
          g_autoptr (BmsParamSet) trial = NULL;

          if (done[i] || !is_parameter (a) || a->field->id == BMS_ID_PASSWORD)
            continue;
          first = MIN (first, i);
          trial = bms_param_set_copy (step);
          param_set_apply (trial, a);
          if (bms_param_set_check_rules (trial, &a->field->id, 1, NULL))
            pick = i;
        }
      if (pick == G_MAXUINT)
        pick = first;
      if (pick == G_MAXUINT)
        break; /* only commands left */
      done[pick] = TRUE;
      param_set_apply (step, &g_array_index (assignments, Assignment, pick));
      g_array_append_val (order, pick);
    }
  for (guint i = 0; i < assignments->len; i++)
    if (!done[i] && g_array_index (assignments, Assignment, i).field->id == BMS_ID_PASSWORD)
      {
        done[i] = TRUE;
        g_array_append_val (order, i);
      }
  for (guint i = 0; i < assignments->len; i++)
    if (!done[i])
      g_array_append_val (order, i);
  return order;
}

/* --dry-run: what would be written, in order, old → new. */
static void
print_plan (GArray *assignments, GArray *order, const BmsSnapshot *snapshot)
{
  for (guint i = 0; i < order->len; i++)
    {
      const Assignment *a
          = &g_array_index (assignments, Assignment, g_array_index (order, guint, i));
      g_autofree char *old = cli_format_snapshot_value (snapshot, a->field);
      g_autofree char *new = describe_written (a);

      if (a->field->id == BMS_ID_PASSWORD)
        {
          g_free (old);
          old = g_strdup ("(not shown)");
        }
      printf ("%s: %s → %s\n", a->field->name, old != NULL ? old : "(not reported)", new);
    }
  printf ("dry run: the values are valid and keep the rules; nothing was written\n");
}

static int
write_all (const CliConnection *conn, const char *password, gboolean dry_run, GArray *assignments)
{
  g_autoptr (BmsSession) session = NULL;
  g_autoptr (BmsSnapshot) snapshot = NULL;
  g_autoptr (GArray) order = NULL;
  g_autoptr (GError) error = NULL;
  guint failed = 0;

  session = cli_connection_open (conn, &error);
  if (session == NULL || (snapshot = bms_session_read_all (session, NULL, &error)) == NULL)
    {
      cli_error ("write", "%s: %s", conn->port, error->message);
      if (session != NULL)
        bms_session_close (session);
      return CLI_EXIT_UNREACHABLE;
    }
  if (!check_rules (assignments, snapshot))
    {
      cli_error ("write", "nothing was written to the board");
      bms_session_close (session);
      return CLI_EXIT_USAGE;
    }
  order = write_order (assignments, snapshot);
  if (dry_run)
    {
      print_plan (assignments, order, snapshot);
      bms_session_close (session);
      return CLI_EXIT_OK;
    }
  if (!bms_session_unlock (session, password, NULL, &error))
    {
      gboolean denied = g_error_matches (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_DENIED);

      for (guint i = 0; i < assignments->len; i++)
        printf ("%s: not written: %s\n", g_array_index (assignments, Assignment, i).field->name,
                denied ? "the board refused the password" : "not unlocked");
      cli_error ("write", "%s: %s", conn->port, error->message);
      bms_session_close (session);
      return denied ? CLI_EXIT_FAILED : CLI_EXIT_UNREACHABLE;
    }
  for (guint i = 0; i < order->len; i++)
    if (!write_one (session,
                    &g_array_index (assignments, Assignment, g_array_index (order, guint, i))))
      failed++;
  bms_session_close (session);
  if (failed > 0)
    cli_error ("write", "%u of %u field%s not written", failed, assignments->len,
               assignments->len == 1 ? "" : "s");
  return failed > 0 ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

int
cli_write (int argc, char **argv)
{
  CliConnection conn;
  g_autofree char *password = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) assignments = g_array_new (FALSE, TRUE, sizeof (Assignment));
  gboolean valid = TRUE, dry_run = FALSE;
  int status;
  const GOptionEntry entries[] = {
    { "password", 'P', 0, G_OPTION_ARG_STRING, &password,
      "The board's parameter password (factory default 123456)", "PW" },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
      "Check values and rules against the board (one read), print old → new in write "
      "order, write nothing",
      NULL },
    { NULL },
  };

  g_array_set_clear_func (assignments, assignment_clear);
  cli_connection_init (&conn);
  if (!cli_parse_options (&argc, &argv, "NAME=VALUE…",
                          "Checks every value against the field catalogue (nothing is sent if\n"
                          "one is invalid), unlocks the board with the password, writes each\n"
                          "field and reads it back. Names and ranges: packwatch-cli fields.\n"
                          "Values: numbers in the field's unit (3650, 3.65), on/off, enum\n"
                          "names (lfp), text for ASCII fields.",
                          entries, cli_connection_option_group (&conn)))
    return CLI_EXIT_USAGE;

  if (!cli_connection_validate (&conn, &error))
    {
      cli_error ("write", "%s", error->message);
      valid = FALSE;
    }
  if (password == NULL && !dry_run)
    {
      cli_error ("write", "--password is required (the board's parameter password, "
                          "factory default 123456)");
      valid = FALSE;
    }
  if (argc < 2)
    {
      cli_error ("write", "nothing to write: give one or more NAME=VALUE, e.g. cell_ovp_mv=3650");
      valid = FALSE;
    }
  /* Every value is checked, so one run reports every mistake. */
  for (int i = 1; i < argc; i++)
    valid &= parse_assignment (argv[i], assignments);

  if (!valid)
    {
      if (argc >= 2)
        cli_error ("write", "nothing was sent to the board");
      status = CLI_EXIT_USAGE;
    }
  else
    status = write_all (&conn, password, dry_run, assignments);
  cli_connection_clear (&conn);
  return status;
}
