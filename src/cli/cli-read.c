/* cli-read.c — `packwatch-cli read`: one full read of a board, as a table
 * for people or as JSON. */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bms-field.h"
#include "bms-setting.h"
#include "bms-snapshot.h"
#include "cli-common.h"

#define CELLS_PER_ROW 8

static void
print_cell_summary (const BmsSnapshot *s)
{
  guint min_i, max_i;
  guint64 sum = 0;

  bms_snapshot_get_cell_range (s, &min_i, &max_i);
  for (guint i = 0; i < s->n_cells; i++)
    sum += s->cells_mv[i];
  printf ("Cells: %u   min %.3f V (#%u)   max %.3f V (#%u)   spread %u mV   average %.3f V\n",
          s->n_cells, s->cells_mv[min_i] / 1000.0, min_i + 1, s->cells_mv[max_i] / 1000.0,
          max_i + 1, (guint)(s->cells_mv[max_i] - s->cells_mv[min_i]),
          (double)sum / s->n_cells / 1000.0);
}

static void
print_cell_row (const BmsSnapshot *s, const char *title, guint first, guint count)
{
  if (title != NULL)
    printf ("  %-10s", title);
  printf ("  %3u-%-3u", first + 1, first + count);
  for (guint i = first; i < first + count && i < s->n_cells; i++)
    printf (" %.3f", s->cells_mv[i] / 1000.0);
  printf ("\n");
}

/* One row per module when the master says how many cells each has (0xD2),
 * else rows of eight. */
static void
print_cells (const BmsSnapshot *s)
{
  const guint8 *per_module = bms_snapshot_get_bytes (s, BMS_ID_MODULE_CELLS);
  guint first = 0;

  if (s->n_cells == 0)
    {
      printf ("Cells: none reported\n");
      return;
    }
  print_cell_summary (s);
  for (guint m = 0; per_module != NULL && m < BMS_MAX_MODULES && first < s->n_cells; m++)
    {
      g_autofree char *title = g_strdup_printf ("module %u", m + 1);

      if (per_module[m] == 0)
        continue;
      print_cell_row (s, title, first, MIN (per_module[m], s->n_cells - first));
      first += per_module[m];
    }
  for (; first < s->n_cells; first += CELLS_PER_ROW)
    print_cell_row (s, per_module != NULL ? "" : NULL, first,
                    MIN (CELLS_PER_ROW, s->n_cells - first));
  printf ("  (volts, in cell order)\n");
}

static void
print_module_temps (const BmsSnapshot *s)
{
  for (guint m = 0; m < s->n_module_temps; m++)
    printf ("    module %-2u  T0 %d °C  T1 %d °C  T2 %d °C\n", m + 1, s->module_temps_c[m][0],
            s->module_temps_c[m][1], s->module_temps_c[m][2]);
}

static gboolean
is_block (const BmsFieldInfo *f)
{
  return f->type == BMS_FIELD_CELLS || f->type == BMS_FIELD_CELLS_EXT;
}

#define LABEL_WIDTH 36
#define VALUE_WIDTH 24

/* A label or value wider than its column gets a line of its own, so the
 * columns of the other rows stay where they are. */
static void
print_row (const char *label, const char *value, const char *key)
{
  g_autofree char *l = NULL;
  g_autofree char *v = NULL;

  if (g_utf8_strlen (label, -1) > LABEL_WIDTH)
    {
      printf ("  %s\n", label);
      label = "";
    }
  l = cli_pad (label, LABEL_WIDTH);
  if (g_utf8_strlen (value, -1) > VALUE_WIDTH)
    {
      printf ("  %s %s\n", l, value);
      g_free (l);
      l = cli_pad ("", LABEL_WIDTH);
      value = "";
    }
  v = cli_pad (value, VALUE_WIDTH);
  printf ("  %s %s %s\n", l, v, key);
}

/* The pack's real voltage (0xED on a high-voltage master, else 0x83),
 * first in the telemetry, before the raw field(s) it comes from. */
static void
print_pack_voltage (const BmsSnapshot *s)
{
  g_autofree char *value = NULL;
  guint8 id = bms_snapshot_pack_voltage_id (s);

  value = cli_format_snapshot_value (s, bms_field_lookup (id));
  print_row ("Pack voltage", value != NULL ? value : "", BMS_PACK_VOLTAGE_KEY);
}

static void
print_field (const BmsSnapshot *s, const BmsFieldInfo *f, gboolean show_password)
{
  g_autofree char *value = NULL;

  if (f->id == BMS_ID_PASSWORD && !show_password)
    value = g_strdup ("(not shown; see --show-password)");
  /* An extension standing in for a public field (a high-voltage pack's
   * protections) is off at 0, as the window says: not a limit of 0 V. */
  else if (f->replaces != 0 && bms_snapshot_get_raw (s, f->id) == 0)
    value = g_strdup ("Not used");
  else
    value = cli_format_snapshot_value (s, f);
  if (value == NULL)
    value = g_strdup ("");
  if (f->id == BMS_ID_CURRENT && bms_snapshot_get_raw (s, f->id) != 0)
    {
      char *with_direction
          = g_strdup_printf ("%s%s (%s)", bms_snapshot_get_raw (s, f->id) > 0 ? "+" : "", value,
                             bms_snapshot_get_raw (s, f->id) > 0 ? "charging" : "discharging");
      g_free (value);
      value = with_direction;
    }
  print_row (f->label, value, f->name);
  if (f->type == BMS_FIELD_MODULE_TEMPS)
    print_module_temps (s);
}

static void
print_groups (const BmsSnapshot *s, gboolean show_password)
{
  guint n_fields = 0;
  const BmsFieldInfo *fields = bms_field_all (&n_fields);

  for (int group = BMS_GROUP_TELEMETRY; group <= BMS_GROUP_COMMAND; group++)
    {
      gboolean header = FALSE;

      for (guint i = 0; i < n_fields; i++)
        {
          const BmsFieldInfo *f = &fields[i];

          if ((int)f->group != group || is_block (f) || !bms_snapshot_has (s, f->id))
            continue;
          if (!header)
            {
              g_autofree char *title = g_strdup (bms_field_group_name ((BmsFieldGroup)group));

              title[0] = g_ascii_toupper (title[0]);
              printf ("\n%s\n", title);
              if (group == BMS_GROUP_TELEMETRY && bms_snapshot_pack_voltage_id (s) != 0)
                print_pack_voltage (s);
            }
          header = TRUE;
          print_field (s, f, show_password);
        }
    }
}

static void
print_table (const CliConnection *conn, const BmsSnapshot *s, gboolean show_password)
{
  g_autofree char *software = bms_setting_format_value (s, bms_field_lookup (BMS_ID_SOFTWARE_VERSION));

  printf ("Board %d on %s at %d baud", conn->address, conn->port, conn->baud);
  if (software != NULL)
    printf (", software %s", software);
  printf ("\n\n");
  print_cells (s);
  print_groups (s, show_password);
}

static void
print_json_error (const char *message)
{
  g_autoptr (GString) out = g_string_new ("{\"ok\": false, \"error\": ");

  cli_json_append_string (out, message);
  g_string_append (out, "}");
  puts (out->str);
}

/* Ctrl+C, SIGTERM: the read stops at once, whatever the line does. */
static BmsSession *
open_and_read (const CliConnection *conn, BmsSnapshot **snapshot, GError **error)
{
  BmsSession *session;

  cli_stop_start ();
  session = cli_connection_open (conn, error);
  if (session != NULL)
    *snapshot = bms_session_read_all (session, cli_stop_get_cancellable (), error);
  return session;
}

int
cli_read (int argc, char **argv)
{
  CliConnection conn;
  gboolean json = FALSE, show_password = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsSession) session = NULL;
  g_autoptr (BmsSnapshot) snapshot = NULL;
  int status = CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print one JSON object (keys: docs/cli.md)", NULL },
    { "show-password", 0, 0, G_OPTION_ARG_NONE, &show_password, CLI_SHOW_PASSWORD_HELP, NULL },
    { NULL },
  };

  cli_connection_init (&conn);
  if (!cli_parse_options (&argc, &argv, "",
                          "Reads every field of a board once (read all) and prints cells, pack\n"
                          "values, temperatures, status and warnings, and parameters.",
                          entries, cli_connection_option_group (&conn)))
    status = CLI_EXIT_USAGE;
  else if (argc > 1 || !cli_connection_validate (&conn, &error))
    {
      cli_error ("read", "%s", error != NULL ? error->message : "takes no arguments");
      status = CLI_EXIT_USAGE;
    }
  else if ((session = open_and_read (&conn, &snapshot, &error)) == NULL || snapshot == NULL)
    {
      gboolean stopped = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

      if (stopped)
        cli_error ("read", "%s: %s, nothing was read", conn.port, cli_stop_describe ());
      else
        cli_error ("read", "%s: %s", conn.port, error->message);
      if (json)
        print_json_error (stopped ? cli_stop_describe () : error->message);
      status = stopped ? CLI_EXIT_FAILED : CLI_EXIT_UNREACHABLE;
    }
  else if (!bms_snapshot_check_plausible (snapshot, &error))
    {
      /* The board answered, but with what no pack can be: no numbers. */
      g_autofree char *message = g_strdup_printf ("implausible reply: %s", error->message);

      cli_error ("read", "%s: %s", conn.port, message);
      if (json)
        print_json_error (message);
      status = CLI_EXIT_FAILED;
    }
  else if (json)
    {
      g_autofree char *text = cli_snapshot_to_json (snapshot, show_password);
      puts (text);
    }
  else
    print_table (&conn, snapshot, show_password);

  if (session != NULL)
    bms_session_close (session);
  cli_connection_clear (&conn);
  return status;
}
