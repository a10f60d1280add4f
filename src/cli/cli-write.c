/* cli-write.c — `packwatch-cli write`: validate every NAME=VALUE against the
 * catalogue, then unlock with the password, write each and read it back.
 *
 * Nothing is sent unless every value is valid: the port is not even opened
 * before the last value has been checked against the catalogue. Then one
 * read of the board lets the rules between fields (recovery below
 * protection, …) be judged on the values as they will be, and picks an
 * order of writes that keeps every step within them. */

#include "config.h"

#include <stdarg.h>
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

/* --json collects what text mode prints and emits one object at the end.
 * One write runs per process, so this lives in the file. */
static struct
{
  gboolean json;
  gboolean dry_run;
  GString *fields; /* members of the "fields" array */
  GPtrArray *errors;
} report;

/* A reason nothing (more) was done: stderr, and "errors" in JSON. */
static void G_GNUC_PRINTF (1, 2) refuse (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  cli_error ("write", "%s", message);
  if (report.json)
    g_ptr_array_add (report.errors, g_steal_pointer (&message));
}

static void
json_member (GString *out, const char *key, const char *value)
{
  if (value == NULL)
    return;
  g_string_append_printf (out, ", \"%s\": ", key);
  cli_json_append_string (out, value);
}

/* One field's outcome. result: "ok", "refused", "not_written", "planned". */
static void
report_field (const char *name, const char *value, const char *result, const char *old,
              const char *read_back, const char *message)
{
  if (!report.json)
    {
      if (g_str_equal (result, "planned"))
        printf ("%s: %s → %s\n", name, old != NULL ? old : "(not reported)", value);
      else if (g_str_equal (result, "not_written"))
        printf ("%s: not written: %s\n", name, message);
      else if (g_str_equal (result, "refused"))
        printf ("%s = %s: refused: %s\n", name, value, message);
      else if (read_back != NULL)
        printf ("%s = %s: ok (read back %s)\n", name, value, read_back);
      else
        printf ("%s = %s: ok\n", name, value);
      return;
    }
  g_string_append (report.fields, report.fields->len > 0 ? ", {\"name\": " : "{\"name\": ");
  cli_json_append_string (report.fields, name);
  json_member (report.fields, "value", value);
  json_member (report.fields, "result", result);
  json_member (report.fields, "old", old);
  json_member (report.fields, "read_back", read_back);
  json_member (report.fields, "error", message);
  g_string_append (report.fields, "}");
}

static int
report_finish (int status)
{
  g_autoptr (GString) out = NULL;

  if (!report.json)
    return status;
  out = g_string_new (NULL);
  g_string_append_printf (out, "{\"ok\": %s, \"status\": %d, \"dry_run\": %s, \"fields\": [%s]",
                          status == CLI_EXIT_OK ? "true" : "false", status,
                          report.dry_run ? "true" : "false", report.fields->str);
  g_string_append (out, ", \"errors\": [");
  for (guint i = 0; i < report.errors->len; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      cli_json_append_string (out, g_ptr_array_index (report.errors, i));
    }
  g_string_append (out, "]}");
  puts (out->str);
  return status;
}

static void
report_unknown (const char *name)
{
  g_auto (GStrv) close = cli_suggest_field_names (name, 4);
  g_autofree char *list = g_strjoinv (", ", close);

  if (close[0] != NULL)
    refuse ("refused: there is no field \"%s\"; did you mean %s? "
            "(`packwatch-cli fields` lists them all)",
            name, list);
  else
    refuse ("refused: there is no field \"%s\" (`packwatch-cli fields` lists them all)", name);
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
      refuse ("refused: \"%s\" is not NAME=VALUE (e.g. cell_ovp_mv=3650)", arg);
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
        refuse ("refused: %s is given twice", name);
        return FALSE;
      }
  if (!bms_field_is_writable (a.field))
    {
      refuse ("refused: %s is read-only", name);
      return FALSE;
    }
  if (!bms_field_parse_value (a.field, a.text, &a.raw, &a.string, &error))
    {
      /* The catalogue's message names the field, the value and the range. */
      refuse ("refused: %s", error->message);
      return FALSE;
    }
  g_array_append_val (assignments, a);
  return TRUE;
}

/* The value as written: number and unit, name, or text (quoted for people). */
static char *
describe_written (const Assignment *a)
{
  if (a->field->id == BMS_ID_PASSWORD)
    return g_strdup ("(new password, not shown)");
  if (a->string != NULL)
    return report.json ? g_strdup (a->string) : g_strdup_printf ("\"%s\"", a->string);
  return cli_format_raw (a->field, a->raw);
}

/* Writes one value and reports "ok (read back …)" or why not. */
static gboolean
write_one (BmsSession *session, const Assignment *a)
{
  g_autoptr (BmsSnapshot) readback = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *written = describe_written (a);
  g_autofree char *back = NULL;

  if (!bms_session_write (session, a->field->id, a->raw, a->string, &readback,
                          cli_stop_get_cancellable (), &error))
    {
      report_field (a->field->name, written, "refused", NULL, NULL, error->message);
      return FALSE;
    }
  if (readback != NULL && a->field->id != BMS_ID_PASSWORD)
    back = cli_format_snapshot_value (readback, a->field);
  report_field (a->field->name, written, "ok", NULL, back, NULL);
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
  refuse ("refused: %s", error->message);
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
      g_autofree char *old = NULL;
      g_autofree char *new = describe_written (a);

      if (a->field->id == BMS_ID_PASSWORD)
        old = g_strdup ("(not shown)");
      else
        old = cli_format_snapshot_value (snapshot, a->field);
      report_field (a->field->name, new, "planned", old, NULL, NULL);
    }
  if (!report.json)
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

  cli_stop_start ();
  session = cli_connection_open (conn, &error);
  if (session == NULL
      || (snapshot = bms_session_read_all (session, cli_stop_get_cancellable (), &error)) == NULL)
    {
      if (cli_stop_requested ())
        refuse ("%s: %s, nothing was written", conn->port, cli_stop_describe ());
      else
        refuse ("%s: %s", conn->port, error->message);
      if (session != NULL)
        bms_session_close (session);
      return cli_stop_requested () ? CLI_EXIT_FAILED : CLI_EXIT_UNREACHABLE;
    }
  if (!check_rules (assignments, snapshot))
    {
      refuse ("nothing was written to the board");
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
  if (!bms_session_unlock (session, password, cli_stop_get_cancellable (), &error))
    {
      gboolean denied = g_error_matches (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_DENIED);
      gboolean stopped = cli_stop_requested ();

      for (guint i = 0; i < assignments->len; i++)
        {
          const Assignment *a = &g_array_index (assignments, Assignment, i);
          g_autofree char *value = describe_written (a);

          report_field (a->field->name, value, "not_written", NULL, NULL,
                        denied    ? "the board refused the password"
                        : stopped ? cli_stop_describe ()
                                  : "not unlocked");
        }
      refuse ("%s: %s", conn->port, stopped ? cli_stop_describe () : error->message);
      bms_session_close (session);
      return denied || stopped ? CLI_EXIT_FAILED : CLI_EXIT_UNREACHABLE;
    }
  for (guint i = 0; i < order->len; i++)
    if (cli_stop_requested ())
      {
        const Assignment *a
            = &g_array_index (assignments, Assignment, g_array_index (order, guint, i));
        g_autofree char *value = describe_written (a);

        report_field (a->field->name, value, "not_written", NULL, NULL, cli_stop_describe ());
        failed++;
      }
    else if (!write_one (session,
                         &g_array_index (assignments, Assignment, g_array_index (order, guint, i))))
      failed++;
  bms_session_close (session);
  if (failed > 0)
    refuse ("%u of %u field%s not written", failed, assignments->len,
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
  g_autoptr (GString) fields = g_string_new (NULL);
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  gboolean valid = TRUE, dry_run = FALSE, json = FALSE;
  int status;
  const GOptionEntry entries[] = {
    { "password", 'P', 0, G_OPTION_ARG_STRING, &password,
      "The board's parameter password (factory default 123456)", "PW" },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
      "Check values and rules against the board (one read), print old → new in write "
      "order, write nothing",
      NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      "Print one JSON object with every field's result (docs/cli.md)", NULL },
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
  report.json = json;
  report.dry_run = dry_run;
  report.fields = fields;
  report.errors = errors;

  if (!cli_connection_validate (&conn, &error))
    {
      refuse ("%s", error->message);
      valid = FALSE;
    }
  if (password == NULL && !dry_run)
    {
      refuse ("--password is required (the board's parameter password, factory default 123456)");
      valid = FALSE;
    }
  else if (password != NULL && !cli_password_validate (password, &error))
    {
      refuse ("%s", error->message);
      g_clear_error (&error);
      valid = FALSE;
    }
  if (argc < 2)
    {
      refuse ("nothing to write: give one or more NAME=VALUE, e.g. cell_ovp_mv=3650");
      valid = FALSE;
    }
  /* Every value is checked, so one run reports every mistake. */
  for (int i = 1; i < argc; i++)
    valid &= parse_assignment (argv[i], assignments);

  if (!valid)
    {
      if (argc >= 2)
        refuse ("nothing was sent to the board");
      status = CLI_EXIT_USAGE;
    }
  else
    status = write_all (&conn, password, dry_run, assignments);
  cli_connection_clear (&conn);
  return report_finish (status);
}
