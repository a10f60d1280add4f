/* cli-write.c — `packwatch-cli write`: NAME=VALUE… as one change set, the
 * same BmsChangeSet `profile load` and the app's Param page write through.
 *
 * Nothing is sent unless every value is valid: the catalogue range and the
 * vendor sheet's range are checked before the port is even opened. Then one
 * read of the board lets the change set judge the rules between fields on
 * the values as they will be, pick an order of writes that keeps every step
 * within them, unlock, write with read-back, stop at the first refusal and
 * put back what would leave a rule broken. One more read reports what is on
 * the board afterwards. */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "bms-change-set.h"
#include "bms-session.h"
#include "bms-field.h"
#include "bms-frame.h"
#include "bms-transport.h"
#include "bms-param-set.h"
#include "bms-snapshot.h"
#include "cli-audit.h"
#include "cli-common.h"
#include "cli-write.h"

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
  const char *command; /* "write", "lease": names the command in errors */
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
  cli_error (report.command, "%s", message);
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

/* One field's outcome. result: "ok", "refused", "not_written", "restored",
 * "unchanged", "planned". read_back: the board's value afterwards. */
static void
report_field (const char *name, const char *value, const char *result, const char *old,
              const char *read_back, const char *message)
{
  if (!report.json)
    {
      if (g_str_equal (result, "planned"))
        printf ("%s: %s → %s\n", name, old != NULL ? old : "(not reported)", value);
      else if (g_str_equal (result, "not_written"))
        printf ("%s: not written: %s%s%s%s\n", name, message,
                read_back ? " (the board has " : "", read_back ? read_back : "",
                read_back ? ")" : "");
      else if (g_str_equal (result, "refused"))
        printf ("%s = %s: refused: %s%s%s%s\n", name, value, message,
                read_back ? " (the board has " : "", read_back ? read_back : "",
                read_back ? ")" : "");
      else if (g_str_equal (result, "restored"))
        printf ("%s = %s: restored: %s\n", name, value, message);
      else if (g_str_equal (result, "unchanged"))
        printf ("%s = %s: unchanged: %s\n", name, value, message);
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

static gboolean
is_parameter (const Assignment *a)
{
  return bms_param_is_parameter (a->field);
}

/* The vendor sheet's ranges and the board's rules for a single value, still
 * before the port is opened. */
static gboolean
check_assignment (const Assignment *a)
{
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!is_parameter (a))
    return TRUE; /* a command: the catalogue range was all */
  ok = a->field->type == BMS_FIELD_ASCII ? bms_param_check_string (a->field, a->string, &error)
                                         : bms_param_check_range (a->field, a->raw, &error);
  if (!ok)
    refuse ("refused: %s", error->message);
  return ok;
}

/* Units a value may carry, with the field unit they convert to. */
static const struct
{
  const char *unit;
  const char *base;
  double      factor;
} units[] = {
  { "mV", "mV", 1 }, { "V", "mV", 1000 },
  { "mA", "mA", 1 }, { "A", "mA", 1000 },
  { "mAh", "mAh", 1 }, { "Ah", "mAh", 1000 },
  { "°C", "°C", 1 }, { "C", "°C", 1 },
  { "%", "%", 1 },
  { "ms", "ms", 1 }, { "s", "ms", 1000 }, { "min", "ms", 60000 },
  { "h", "ms", 3600000 },
};

static gboolean
find_unit (const char *unit,
           const char **base,
           double      *factor)
{
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (g_str_equal (units[i].unit, unit))
      {
        *base = units[i].base;
        *factor = units[i].factor;
        return TRUE;
      }
  /* "3.65v", "5a": the case of a lone letter does not matter. */
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (strlen (unit) == 1 && g_ascii_strcasecmp (units[i].unit, unit) == 0)
      {
        *base = units[i].base;
        *factor = units[i].factor;
        return TRUE;
      }
  return FALSE;
}

/* "3.65V", "3650mV", "3.65 V" as a number in the field's own unit ("3650"
 * for cell_ovp_mv); a bare number or a name is returned as it is. NULL with
 * a message when the unit does not fit the field. */
static char *
value_in_field_unit (const BmsFieldInfo  *field,
                     const char          *text,
                     GError             **error)
{
  g_autofree char *t = g_strstrip (g_strdup (text));
  const char *given_base, *field_base;
  double given_factor, field_factor;
  char *end = NULL;
  double v;

  if (field->type == BMS_FIELD_ASCII || !bms_field_is_numeric (field) ||
      g_str_has_prefix (t, "0x") || g_str_has_prefix (t, "0X"))
    return g_strdup (text);
  v = g_ascii_strtod (t, &end);
  if (end == t || *end == '\0' || !isfinite (v))
    return g_strdup (text);
  while (*end == ' ')
    end++;
  if (!find_unit (end, &given_base, &given_factor))
    return g_strdup (text);  /* not a unit: the catalogue says what is wrong */
  if (*field->unit == '\0' || !find_unit (field->unit, &field_base, &field_factor) ||
      !g_str_equal (given_base, field_base))
    {
      if (*field->unit)
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     "%s = \"%s\": %s is not a unit of this field; give a number in %s "
                     "(or a unit that converts to it)", field->name, t, end, field->unit);
      else
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     "%s = \"%s\": this field has no unit; give a plain number",
                     field->name, t);
      return NULL;
    }
  {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.10g", v * given_factor / field_factor));
  }
}

/* A bare number that is out of range by a factor of 1000 was most likely
 * meant in the larger unit (cell_ovp_mv=3.65): say how to write it. */
static void
hint_unit (const BmsFieldInfo *field,
           const char         *text,
           GError             *error)
{
  const char *base;
  double factor;
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);
  gint64 raw;

  if (error == NULL || end == text || *end != '\0' ||
      !g_error_matches (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE) ||
      !find_unit (field->unit, &base, &factor) || factor != 1)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (g_str_equal (units[i].base, base) && units[i].factor == 1000)
      {
        raw = bms_field_from_engineering (field, v * 1000);
        if (bms_field_check_range (field, raw, NULL))
          {
            char *old = error->message;

            error->message = g_strdup_printf ("%s. Did you mean %s%s (%g %s)? "
                                              "A value with a unit is taken as it is",
                                              old, text, units[i].unit, v * 1000, field->unit);
            g_free (old);
          }
        return;
      }
}

/* Checks one NAME=VALUE; prints why it is refused. */
static gboolean
parse_assignment (const char *arg, GArray *assignments)
{
  g_autofree char *name = NULL;
  g_autofree char *value = NULL;
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
  value = value_in_field_unit (a.field, a.text, &error);
  if (value == NULL)
    {
      refuse ("refused: %s", error->message);
      return FALSE;
    }
  if (!(is_parameter (&a) ? bms_param_parse_value (a.field, value, &a.raw, &a.string, &error)
                          : bms_field_parse_value (a.field, value, &a.raw, &a.string, &error)))
    {
      hint_unit (a.field, a.text, error);
      /* The catalogue's message names the field, the value and the range. */
      refuse ("refused: %s", error->message);
      g_free (a.string);
      return FALSE;
    }
  if (!check_assignment (&a))
    {
      g_free (a.string);
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

/* The change set every writer shares (profile load, the Param page): a
 * single field is a change set of one; commands go after the parameters. */
static BmsChangeSet *
build_change_set (GArray *assignments, const BmsSnapshot *snapshot)
{
  g_autoptr (BmsParamSet) current = bms_param_set_new_from_snapshot (snapshot);
  g_autoptr (BmsChangeSet) set = bms_change_set_new (current);

  for (guint i = 0; i < assignments->len; i++)
    {
      const Assignment *a = &g_array_index (assignments, Assignment, i);
      g_autoptr (GError) error = NULL;
      gboolean ok = is_parameter (a)
                        ? bms_change_set_set_value (set, a->field->id, a->raw, a->string, &error)
                        : bms_change_set_add_command (set, a->field->id, a->raw, &error);

      if (!ok)
        {
          refuse ("refused: %s", error->message);
          return NULL;
        }
    }
  return g_steal_pointer (&set);
}

static const Assignment *
find_assignment (GArray *assignments, guint8 id)
{
  for (guint i = 0; i < assignments->len; i++)
    if (g_array_index (assignments, Assignment, i).field->id == id)
      return &g_array_index (assignments, Assignment, i);
  return NULL;
}

/* Values the board already has are not written (a change set leaves them
 * out); say so rather than drop them silently. */
static void
report_unchanged (GArray *assignments, BmsChangeSet *set, const BmsSnapshot *snapshot)
{
  for (guint i = 0; i < assignments->len; i++)
    {
      const Assignment *a = &g_array_index (assignments, Assignment, i);
      g_autofree char *value = NULL;
      g_autofree char *now = NULL;

      if (!is_parameter (a) || bms_change_set_lookup (set, a->field->id) != NULL)
        continue;
      value = describe_written (a);
      now = a->field->id == BMS_ID_PASSWORD ? NULL : cli_format_snapshot_value (snapshot, a->field);
      report_field (a->field->name, value, "unchanged", NULL, now,
                    "the board already has this value; nothing to write");
    }
}

/* --dry-run: what would be written, in order, old → new. */
static void
print_plan (GArray *assignments, GPtrArray *order, const BmsSnapshot *snapshot)
{
  for (guint i = 0; i < order->len; i++)
    {
      const Assignment *a
          = find_assignment (assignments, bms_change_get_id (g_ptr_array_index (order, i)));
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

/* One line per field of the change set, with what the board holds now
 * (read once after writing: exactly what is on the board, whatever
 * happened). */
static void
report_results (GArray *assignments, GPtrArray *order, const BmsSnapshot *after)
{
  static const char *const results[] = { "not_written", "ok", "refused", "not_written",
                                         "restored" };

  for (guint i = 0; i < order->len; i++)
    {
      BmsChange *change = g_ptr_array_index (order, i);
      const Assignment *a = find_assignment (assignments, bms_change_get_id (change));
      BmsChangeResult result = bms_change_get_result (change);
      g_autofree char *value = describe_written (a);
      g_autofree char *now = NULL;

      if (after != NULL && a->field->id != BMS_ID_PASSWORD && (a->field->access & BMS_ACCESS_R))
        now = cli_format_snapshot_value (after, a->field);
      report_field (a->field->name, value, results[result], NULL, now,
                    bms_change_get_message (change));
    }
}

static int
status_for (const GError *error)
{
  /* The line failed (silence, nonsense, a lost adapter): the board was not
   * reached. A refusal by the board itself is a failure. */
  if (g_error_matches (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_TIMEOUT)
      || g_error_matches (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_BAD_REPLY)
      || g_error_matches (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED)
      || error->domain == BMS_TRANSPORT_ERROR || error->domain == BMS_FRAME_ERROR)
    return CLI_EXIT_UNREACHABLE;
  return CLI_EXIT_FAILED;
}

static gboolean
goes_silent (GArray *assignments)
{
  static const guint8 silent[] = { BMS_ID_RESTART, BMS_ID_REMOTE_UPGRADE, BMS_ID_SLEEP_NOW };

  for (guint i = 0; i < G_N_ELEMENTS (silent); i++)
    if (find_assignment (assignments, silent[i]) != NULL)
      return TRUE;
  return FALSE;
}

static int
apply (const CliConnection *conn, BmsSession *session, BmsChangeSet *set, GArray *assignments,
       const char *password, const char *db, const BmsSnapshot *before)
{
  g_autoptr (BmsHistory) history = NULL;
  g_autoptr (GPtrArray) order = bms_change_set_get_write_order (set);
  g_autoptr (BmsSnapshot) after = NULL;
  g_autoptr (GError) error = NULL;
  gint64 device_id = 0;
  int status = CLI_EXIT_OK;

  if (db != NULL
      && (history = cli_audit_open (db, before, (guint)conn->address, &device_id, &error)) == NULL)
    {
      refuse ("%s: %s; nothing was written to the board", db, error->message);
      return CLI_EXIT_FAILED;
    }
  if (!bms_change_set_apply (set, session, password, history, device_id,
                             cli_stop_get_cancellable (), &error))
    {
      if (cli_stop_requested ())
        {
          refuse ("%s: %s", conn->port, cli_stop_describe ());
          status = CLI_EXIT_FAILED;
        }
      else
        {
          refuse ("%s: %s", conn->port, error->message);
          status = status_for (error);
        }
    }
  /* What is on the board now; after a lost line, or a board that restarts,
   * sleeps or enters its bootloader, there is nothing to read. */
  if (status != CLI_EXIT_UNREACHABLE && !goes_silent (assignments) && !cli_stop_requested ())
    after = bms_session_read_all (session, cli_stop_get_cancellable (), NULL);
  report_results (assignments, order, after);
  cli_audit_close (history, report.command, db);
  return status;
}

static int
write_all (const CliConnection *conn, const char *password, const char *db, gboolean dry_run,
           GArray *assignments)
{
  g_autoptr (BmsSession) session = NULL;
  g_autoptr (BmsSnapshot) snapshot = NULL;
  g_autoptr (BmsChangeSet) set = NULL;
  g_autoptr (GPtrArray) order = NULL;
  g_autoptr (GError) error = NULL;
  int status;

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
  set = build_change_set (assignments, snapshot);
  if (set == NULL || !bms_change_set_validate (set, &error))
    {
      if (error != NULL)
        refuse ("refused: %s", error->message);
      refuse ("nothing was written to the board");
      bms_session_close (session);
      return CLI_EXIT_USAGE;
    }
  order = bms_change_set_get_write_order (set);
  if (dry_run)
    {
      print_plan (assignments, order, snapshot);
      status = CLI_EXIT_OK;
    }
  else
    status = order->len == 0 ? CLI_EXIT_OK
                             : apply (conn, session, set, assignments, password, db, snapshot);
  report_unchanged (assignments, set, snapshot);
  bms_session_close (session);
  return status;
}

void
cli_write_begin (const char *command, gboolean json, gboolean dry_run)
{
  report.command = command;
  report.json = json;
  report.dry_run = dry_run;
  report.fields = g_string_new (NULL);
  report.errors = g_ptr_array_new_with_free_func (g_free);
}

void
cli_write_refuse (const char *message)
{
  refuse ("%s", message);
}

int
cli_write_values (const CliConnection *conn, const char *password, const char *db,
                  const char *const *values, gboolean valid)
{
  g_autoptr (GArray) assignments = g_array_new (FALSE, TRUE, sizeof (Assignment));
  int status;

  g_array_set_clear_func (assignments, assignment_clear);
  /* Every value is checked, so one run reports every mistake. */
  for (guint i = 0; values[i] != NULL; i++)
    valid &= parse_assignment (values[i], assignments);
  if (!valid)
    {
      if (values[0] != NULL)
        refuse ("nothing was sent to the board");
      status = CLI_EXIT_USAGE;
    }
  else
    status = write_all (conn, password, db, report.dry_run, assignments);
  status = report_finish (status);
  g_string_free (g_steal_pointer (&report.fields), TRUE);
  g_clear_pointer (&report.errors, g_ptr_array_unref);
  return status;
}

int
cli_write (int argc, char **argv)
{
  CliConnection conn;
  g_autofree char *password = NULL;
  g_autofree char *db = NULL;
  g_autoptr (GError) error = NULL;
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
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
      "Record the unlock and every write attempt in this history database's audit trail",
      "FILE" },
    { NULL },
  };

  cli_connection_init (&conn);
  if (!cli_parse_options (&argc, &argv, "NAME=VALUE…",
                          "Checks every value against the field catalogue and the vendor sheet\n"
                          "(nothing is sent if one is invalid), then writes them as one change\n"
                          "set, like profile load: rules between fields judged on the board's\n"
                          "values, an order that keeps every step within them, unlock, write\n"
                          "with read-back, stop at the first refusal. Names and ranges (the\n"
                          "vendor sheet's where it narrows the catalogue, as on the Param\n"
                          "page): packwatch-cli fields.\n"
                          "Values: a number in the field's unit (cell_ovp_mv=3650) or with a\n"
                          "unit (3650mV, 3.65V, \"3.65 V\"; A/mA, Ah/mAh, s/ms/min/h, °C, %),\n"
                          "on/off, enum names (lfp), text for ASCII fields, dates for\n"
                          "lease_end (2027-03-31).",
                          entries, cli_connection_option_group (&conn)))
    return CLI_EXIT_USAGE;
  cli_write_begin ("write", json, dry_run);

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
  status = cli_write_values (&conn, password, db, (const char *const *)argv + 1, valid);
  cli_connection_clear (&conn);
  return status;
}
