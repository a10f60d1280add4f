/* cli-fields.c — `packwatch-cli fields`: the field catalogue as a table,
 * Markdown (docs/protocol.md is generated from it) or JSON. */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bms-field.h"
#include "bms-param-set.h"
#include "cli-common.h"

#define TEMPLATE_MARKER "@FIELD_TABLES@"

static const char *
access_text (BmsAccess access)
{
  switch (access)
    {
    case BMS_ACCESS_R:
      return "R";
    case BMS_ACCESS_W:
      return "W";
    case BMS_ACCESS_RW:
      return "RW";
    default:
      return "?";
    }
}

static char *
size_text (const BmsFieldInfo *field)
{
  return field->size == 0 ? g_strdup ("var.") : g_strdup_printf ("%u", field->size);
}

/* The range a user can set (bms_param_get_range: the vendor sheet's where
 * it has one, as the app and `write` check), else the catalogue's. */
static void
user_range (const BmsFieldInfo *field, gint64 *min, gint64 *max)
{
  if (!bms_param_is_parameter (field) || !bms_param_get_range (field, min, max))
    {
      *min = field->min;
      *max = field->max;
    }
}

/* "1500 … 4500", or "" for fields that are not numbers. */
static char *
range_text (const BmsFieldInfo *field, const char *dots)
{
  g_autofree char *min = NULL;
  g_autofree char *max = NULL;
  gint64 lo, hi;

  if (!bms_field_is_numeric (field) || field->type == BMS_FIELD_BITS)
    return g_strdup ("");
  user_range (field, &lo, &hi);
  min = bms_field_format_number (field, lo);
  max = bms_field_format_number (field, hi);
  return g_strdup_printf ("%s%s%s", min, dots, max);
}

/* The physical bounds, "" for a field without them; per cell for the
 * blocks. */
static char *
physical_text (const BmsFieldInfo *field, const char *dots)
{
  g_autofree char *min = NULL;
  g_autofree char *max = NULL;
  gboolean per_element = field->type == BMS_FIELD_CELLS || field->type == BMS_FIELD_CELLS_EXT
                         || field->type == BMS_FIELD_MODULE_TEMPS;

  if (!field->bounded)
    return g_strdup ("");
  min = bms_field_format_number (field, field->phys_min);
  max = bms_field_format_number (field, field->phys_max);
  return g_strdup_printf ("%s%s%s%s", min, dots, max, per_element ? " each" : "");
}

static char *
scale_text (const BmsFieldInfo *field)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  if (!bms_field_is_numeric (field) || field->scale == 1.0 || field->scale == 0.0)
    return g_strdup ("");
  return g_strdup (g_ascii_formatd (buffer, sizeof buffer, "%g", field->scale));
}

/* "0 lfp, 1 nmc, 2 lto" for enums, "bit 0 low_capacity, …" for bit masks. */
static char *
names_text (const BmsFieldInfo *field)
{
  g_autoptr (GString) text = g_string_new (NULL);

  if (field->names == NULL || (field->type != BMS_FIELD_ENUM && field->type != BMS_FIELD_BITS))
    return g_strdup ("");
  for (guint i = 0; field->names[i] != NULL; i++)
    g_string_append_printf (text, "%s%s%u `%s`", i > 0 ? ", " : "",
                            field->type == BMS_FIELD_BITS && i == 0 ? "bit " : "", i,
                            field->names[i]);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Markdown cells must not contain a bare '|'. */
static char *
md_escape (const char *text)
{
  g_auto (GStrv) parts = g_strsplit (text != NULL ? text : "", "|", -1);

  return g_strjoinv ("\\|", parts);
}

static void
print_markdown_table (GString *out, gboolean extension)
{
  guint n_fields = 0;
  const BmsFieldInfo *fields = bms_field_all (&n_fields);

  g_string_append (out, "| id | name | size | access | type | unit | scale | range | physical "
                        "bounds | meaning |\n"
                        "|---|---|---|---|---|---|---|---|---|---|\n");
  for (guint i = 0; i < n_fields; i++)
    {
      const BmsFieldInfo *f = &fields[i];
      g_autofree char *size = NULL, *range = NULL, *scale = NULL, *names = NULL;
      g_autofree char *physical = NULL;
      g_autofree char *description = NULL, *meaning = NULL;

      if (f->extension != extension)
        continue;
      size = size_text (f);
      range = range_text (f, " … ");
      physical = physical_text (f, " … ");
      scale = scale_text (f);
      names = names_text (f);
      description = md_escape (f->description != NULL ? f->description : f->label);
      meaning = names[0] != '\0' ? g_strdup_printf ("%s Values: %s.", description, names)
                                 : g_strdup (description);
      g_string_append_printf (out, "| 0x%02X | `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                              f->id, f->name, size, access_text (f->access),
                              bms_field_type_name (f->type), f->unit != NULL ? f->unit : "", scale,
                              range, physical, meaning);
    }
}

static void
append_rules (GString *out)
{
  g_auto (GStrv) rules = bms_param_set_describe_rules ();

  g_string_append (out, "\n## Rules between parameters\n\n"
                        "Packwatch refuses a change that breaks one of these rules, judged on\n"
                        "the board's values with the change in place (`packwatch-cli write`\n"
                        "reads the board once to check them, and orders its writes so that\n"
                        "every intermediate state keeps them):\n\n");
  /* The list ends with the vendor ranges ("… from A to B"): they get their
   * own table below. */
  for (guint i = 0; rules[i] != NULL; i++)
    if (strstr (rules[i], " must be ") != NULL)
      g_string_append_printf (out, "- %s\n", rules[i]);
}

static void
append_vendor_ranges (GString *out)
{
  guint n_fields = 0;
  const BmsFieldInfo *fields = bms_field_all (&n_fields);

  g_string_append (out, "\n## Vendor limits\n\n"
                        "Where the vendor parameter sheet of the master BMS narrows a field's\n"
                        "range, the range above is the sheet's: the app's pages, `packwatch-cli\n"
                        "fields` and `write` all show and check it. The catalogue range is\n"
                        "what boards of the JK family accept on the wire:\n\n"
                        "| id | name | catalogue range | vendor range | unit |\n"
                        "|---|---|---|---|---|\n");
  for (guint i = 0; i < n_fields; i++)
    {
      const BmsFieldInfo *f = &fields[i];
      g_autofree char *catalogue = NULL, *lo = NULL, *hi = NULL;
      gint64 min, max;

      if (!bms_param_is_parameter (f) || !bms_param_get_range (f, &min, &max))
        continue;
      {
        g_autofree char *cmin = bms_field_format_number (f, f->min);
        g_autofree char *cmax = bms_field_format_number (f, f->max);

        catalogue = g_strdup_printf ("%s … %s", cmin, cmax);
      }
      lo = bms_field_format_number (f, min);
      hi = bms_field_format_number (f, max);
      g_string_append_printf (out, "| 0x%02X | `%s` | %s | %s … %s | %s |\n", f->id, f->name,
                              catalogue, lo, hi, f->unit != NULL ? f->unit : "");
    }
}

static char *
markdown_tables (void)
{
  g_autoptr (GString) out = g_string_new (NULL);

  g_string_append (out, "## Identifiers of the public protocol\n\n");
  print_markdown_table (out, FALSE);
  g_string_append (out, "\n## Packwatch extensions (0xD0–0xEF)\n\n");
  print_markdown_table (out, TRUE);
  append_rules (out);
  append_vendor_ranges (out);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static int
print_markdown (const char *template_path)
{
  g_autofree char *tables = markdown_tables ();
  g_autofree char *template = NULL;
  g_autoptr (GError) error = NULL;
  const char *marker;

  if (template_path == NULL)
    {
      fputs (tables, stdout);
      return CLI_EXIT_OK;
    }
  if (!g_file_get_contents (template_path, &template, NULL, &error))
    {
      cli_error ("fields", "%s", error->message);
      return CLI_EXIT_USAGE;
    }
  marker = strstr (template, TEMPLATE_MARKER "\n");
  if (marker == NULL)
    {
      cli_error ("fields", "%s has no line %s where the tables go", template_path, TEMPLATE_MARKER);
      return CLI_EXIT_USAGE;
    }
  fwrite (template, 1, (gsize)(marker - template), stdout);
  fputs (tables, stdout);
  fputs (marker + strlen (TEMPLATE_MARKER "\n"), stdout);
  return CLI_EXIT_OK;
}

static void
append_json_field (GString *out, const BmsFieldInfo *f)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, "{\"id\": %u, \"name\": ", f->id);
  cli_json_append_string (out, f->name);
  g_string_append (out, ", \"label\": ");
  cli_json_append_string (out, f->label);
  g_string_append (out, ", \"type\": ");
  cli_json_append_string (out, bms_field_type_name (f->type));
  g_string_append_printf (out, ", \"size\": %u, \"access\": \"%s\", \"unit\": ", f->size,
                          access_text (f->access));
  cli_json_append_string (out, f->unit != NULL ? f->unit : "");
  g_string_append_printf (out, ", \"scale\": %s",
                          g_ascii_formatd (buffer, sizeof buffer, "%g", f->scale));
  if (bms_field_is_numeric (f))
    {
      gint64 min, max;

      user_range (f, &min, &max);
      g_string_append_printf (out, ", \"min\": %" G_GINT64_FORMAT ", \"max\": %" G_GINT64_FORMAT,
                              min, max);
      if (min != f->min || max != f->max)
        g_string_append_printf (out,
                                ", \"catalogue_min\": %" G_GINT64_FORMAT
                                ", \"catalogue_max\": %" G_GINT64_FORMAT,
                                f->min, f->max);
    }
  if (f->bounded)
    g_string_append_printf (out,
                            ", \"phys_min\": %" G_GINT64_FORMAT ", \"phys_max\": %" G_GINT64_FORMAT,
                            f->phys_min, f->phys_max);
  g_string_append (out, ", \"group\": ");
  cli_json_append_string (out, bms_field_group_name (f->group));
  g_string_append_printf (out, ", \"extension\": %s", f->extension ? "true" : "false");
  if (f->names != NULL)
    {
      g_string_append (out, ", \"names\": [");
      for (guint i = 0; f->names[i] != NULL; i++)
        {
          if (i > 0)
            g_string_append (out, ", ");
          cli_json_append_string (out, f->names[i]);
        }
      g_string_append (out, "]");
    }
  g_string_append (out, ", \"description\": ");
  cli_json_append_string (out, f->description);
  g_string_append (out, "}");
}

static void
print_json (void)
{
  guint n_fields = 0;
  const BmsFieldInfo *fields = bms_field_all (&n_fields);
  g_autoptr (GString) out = g_string_new ("[\n");

  for (guint i = 0; i < n_fields; i++)
    {
      g_string_append (out, "  ");
      append_json_field (out, &fields[i]);
      g_string_append (out, i + 1 < n_fields ? ",\n" : "\n");
    }
  g_string_append (out, "]\n");
  fputs (out->str, stdout);
}

static void
print_table (void)
{
  guint n_fields = 0;
  const BmsFieldInfo *fields = bms_field_all (&n_fields);

  printf ("%-4s  %-30s %-4s %-2s %-6s %-18s %s\n", "id", "name", "size", "rw", "unit", "range",
          "label");
  for (guint i = 0; i < n_fields; i++)
    {
      const BmsFieldInfo *f = &fields[i];
      g_autofree char *size = size_text (f);
      g_autofree char *range = range_text (f, "..");
      g_autofree char *unit = cli_pad (f->unit, 6);

      printf ("0x%02X  %-30s %-4s %-2s %s %-18s %s%s\n", f->id, f->name, size,
              access_text (f->access), unit, range, f->label, f->extension ? " (extension)" : "");
    }
}

int
cli_fields (int argc, char **argv)
{
  gboolean markdown = FALSE, json = FALSE;
  g_autofree char *template_path = NULL;
  const GOptionEntry entries[] = {
    { "markdown", 'm', 0, G_OPTION_ARG_NONE, &markdown,
      "Markdown tables (the field part of docs/protocol.md)", NULL },
    { "template", 't', 0, G_OPTION_ARG_FILENAME, &template_path,
      "With --markdown: print FILE with its line " TEMPLATE_MARKER " replaced by the tables",
      "FILE" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "A JSON array of field descriptions", NULL },
    { NULL },
  };

  if (!cli_parse_options (&argc, &argv, "",
                          "Prints every protocol field the catalogue knows: id, name, size,\n"
                          "access, unit, scale, valid range. docs/protocol.md is generated with\n"
                          "  packwatch-cli fields --markdown --template docs/protocol.md.in",
                          entries, NULL))
    return CLI_EXIT_USAGE;
  if (argc > 1 || (markdown && json) || (template_path != NULL && !markdown))
    {
      cli_error ("fields", "use either --markdown [--template FILE] or --json, and no other "
                           "arguments");
      return CLI_EXIT_USAGE;
    }
  if (markdown)
    return print_markdown (template_path);
  if (json)
    print_json ();
  else
    print_table ();
  return CLI_EXIT_OK;
}
