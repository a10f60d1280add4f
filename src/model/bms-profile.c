/* bms-profile.c — parameter profiles as GKeyFile text, checked line by line.
 *
 * GKeyFile reports no line numbers, so loading first walks the lines itself
 * (structure, keys, duplicates) and remembers where each key is; GKeyFile then
 * unescapes the values, and every value error is reported with its line.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "bms-profile.h"

/* The macro turns its first argument into the domain's name: spaces a
 * formatter put around the hyphens would end up in it. */
// clang-format off
G_DEFINE_QUARK (bms-profile-error-quark, bms_profile_error)
// clang-format on

struct _BmsProfile
{
  GObject parent_instance;
  BmsParamSet *params;
  char *device;
  char *software_version;
  gint chemistry;
  gint64 created;
};

G_DEFINE_FINAL_TYPE (BmsProfile, bms_profile, G_TYPE_OBJECT)

static const char *const header_keys[]
    = { "Version", "Device", "Chemistry", "SoftwareVersion", "Created", "Application", NULL };

static void
bms_profile_finalize (GObject *object)
{
  BmsProfile *self = BMS_PROFILE (object);

  g_clear_object (&self->params);
  g_free (self->device);
  g_free (self->software_version);
  G_OBJECT_CLASS (bms_profile_parent_class)->finalize (object);
}

static void
bms_profile_class_init (BmsProfileClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bms_profile_finalize;
}

static void
bms_profile_init (BmsProfile *self)
{
  self->chemistry = -1;
}

BmsProfile *
bms_profile_new (BmsParamSet *params)
{
  BmsProfile *self = g_object_new (BMS_TYPE_PROFILE, NULL);
  g_autofree guint8 *ids = NULL;
  guint n = 0;

  self->params = bms_param_set_new ();
  if (params == NULL)
    return self;
  g_return_val_if_fail (BMS_IS_PARAM_SET (params), self);
  ids = bms_param_set_get_ids (params, &n);
  for (guint i = 0; i < n; i++)
    {
      const BmsFieldInfo *field = bms_field_lookup (ids[i]);

      if (field == NULL || !bms_param_is_portable (field))
        continue;
      if (field->type == BMS_FIELD_ASCII)
        bms_param_set_set_string (self->params, ids[i], bms_param_set_get_string (params, ids[i]));
      else
        bms_param_set_set_raw (self->params, ids[i], bms_param_set_get_raw (params, ids[i]));
    }
  if (bms_param_set_has (params, BMS_ID_BATTERY_TYPE))
    self->chemistry = (gint)bms_param_set_get_raw (params, BMS_ID_BATTERY_TYPE);
  return self;
}

BmsProfile *
bms_profile_new_from_snapshot (const BmsSnapshot *snapshot)
{
  g_autoptr (BmsParamSet) params = NULL;
  BmsProfile *self;

  g_return_val_if_fail (snapshot != NULL, NULL);
  params = bms_param_set_new_from_snapshot (snapshot);
  self = bms_profile_new (params);
  self->device = bms_snapshot_dup_string (snapshot, 0xB4);
  self->software_version = bms_snapshot_dup_string (snapshot, BMS_ID_SOFTWARE_VERSION);
  return self;
}

BmsParamSet *
bms_profile_get_params (BmsProfile *self)
{
  g_return_val_if_fail (BMS_IS_PROFILE (self), NULL);
  return self->params;
}

const char *
bms_profile_get_device (BmsProfile *self)
{
  g_return_val_if_fail (BMS_IS_PROFILE (self), NULL);
  return self->device;
}

void
bms_profile_set_device (BmsProfile *self, const char *device)
{
  g_return_if_fail (BMS_IS_PROFILE (self));
  g_free (self->device);
  self->device = g_strdup (device);
}

const char *
bms_profile_get_software_version (BmsProfile *self)
{
  g_return_val_if_fail (BMS_IS_PROFILE (self), NULL);
  return self->software_version;
}

void
bms_profile_set_software_version (BmsProfile *self, const char *version)
{
  g_return_if_fail (BMS_IS_PROFILE (self));
  g_free (self->software_version);
  self->software_version = g_strdup (version);
}

gint
bms_profile_get_chemistry (BmsProfile *self)
{
  g_return_val_if_fail (BMS_IS_PROFILE (self), -1);
  return self->chemistry;
}

void
bms_profile_set_chemistry (BmsProfile *self, gint battery_type)
{
  g_return_if_fail (BMS_IS_PROFILE (self));
  self->chemistry = battery_type;
}

gint64
bms_profile_get_created (BmsProfile *self)
{
  g_return_val_if_fail (BMS_IS_PROFILE (self), 0);
  return self->created;
}

/* ---- writing ---- */

static const char *
chemistry_name (gint battery_type)
{
  const BmsFieldInfo *field = bms_field_lookup (BMS_ID_BATTERY_TYPE);

  if (battery_type < 0 || battery_type > (gint)field->max)
    return NULL;
  return field->names[battery_type];
}

/* " Charge protection (level 1), mV, 1500 to 4500" */
static char *
describe_field (BmsParamSet *scratch, const BmsFieldInfo *field)
{
  gint64 lo, hi;
  g_autofree char *min = NULL, *max = NULL;

  if (field->type == BMS_FIELD_ASCII)
    return g_strdup_printf (" %s, text, at most %u characters", field->label, field->size);
  if (field->type == BMS_FIELD_BOOL)
    return g_strdup_printf (" %s, on or off", field->label);
  if (field->type == BMS_FIELD_ENUM && field->names)
    {
      g_autofree char *names = g_strjoinv (", ", (char **)field->names);
      return g_strdup_printf (" %s, one of %s", field->label, names);
    }
  bms_param_get_range (field, &lo, &hi);
  bms_param_set_set_raw (scratch, field->id, lo);
  min = bms_param_set_format_plain (scratch, field->id);
  bms_param_set_set_raw (scratch, field->id, hi);
  max = bms_param_set_format_plain (scratch, field->id);
  return g_strdup_printf (" %s, %s%s%s to %s", field->label, *field->unit ? field->unit : "",
                          *field->unit ? ", " : "", min, max);
}

char *
bms_profile_to_data (BmsProfile *self, gsize *length)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (BmsParamSet) scratch = bms_param_set_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  g_autofree guint8 *ids = NULL;
  guint n = 0;

  g_return_val_if_fail (BMS_IS_PROFILE (self), NULL);
  self->created = g_date_time_to_unix (now) * G_USEC_PER_SEC;

  g_key_file_set_integer (kf, BMS_PROFILE_GROUP, "Version", BMS_PROFILE_VERSION);
  g_key_file_set_comment (kf, BMS_PROFILE_GROUP, NULL,
                          " Packwatch parameter profile (docs/profile-format.md).\n"
                          " Values are in the unit named above each key.",
                          NULL);
  if (self->device && *self->device)
    g_key_file_set_string (kf, BMS_PROFILE_GROUP, "Device", self->device);
  if (chemistry_name (self->chemistry))
    g_key_file_set_string (kf, BMS_PROFILE_GROUP, "Chemistry", chemistry_name (self->chemistry));
  if (self->software_version && *self->software_version)
    g_key_file_set_string (kf, BMS_PROFILE_GROUP, "SoftwareVersion", self->software_version);
  g_key_file_set_string (kf, BMS_PROFILE_GROUP, "Created", created);
  g_key_file_set_string (kf, BMS_PROFILE_GROUP, "Application", "Packwatch " PACKAGE_VERSION);

  ids = bms_param_set_get_ids (self->params, &n);
  for (guint i = 0; i < n; i++)
    {
      const BmsFieldInfo *field = bms_field_lookup (ids[i]);
      g_autofree char *value = bms_param_set_format_plain (self->params, ids[i]);
      g_autofree char *comment = describe_field (scratch, field);

      g_key_file_set_string (kf, BMS_PROFILE_PARAMS, field->name, value);
      g_key_file_set_comment (kf, BMS_PROFILE_PARAMS, field->name, comment, NULL);
    }
  if (n == 0)
    g_key_file_set_comment (kf, BMS_PROFILE_PARAMS, NULL, " (no parameters)", NULL);
  return g_key_file_to_data (kf, length, NULL);
}

gboolean
bms_profile_save (BmsProfile *self, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize length = 0;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (BMS_IS_PROFILE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  data = bms_profile_to_data (self, &length);
  if (!g_file_set_contents (path, data, length, &local))
    {
      g_set_error (error, BMS_PROFILE_ERROR, BMS_PROFILE_ERROR_IO,
                   _ ("Cannot write the profile: %s"), local->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- reading ---- */

typedef struct
{
  const char *name;
  GHashTable *header_lines; /* key -> line */
  GHashTable *param_lines;  /* key -> line */
  guint header_line;        /* line of [Packwatch Profile] */
  guint n_lines;
} Scan;

static void
scan_clear (Scan *scan)
{
  g_clear_pointer (&scan->header_lines, g_hash_table_unref);
  g_clear_pointer (&scan->param_lines, g_hash_table_unref);
}

G_GNUC_PRINTF (5, 6)
static gboolean
fail (GError **error, gint code, const char *name, guint line, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, BMS_PROFILE_ERROR, code, "%s:%u: %s", name, line, text);
  return FALSE;
}

static guint
line_of_offset (const char *data, gsize offset)
{
  guint line = 1;

  for (gsize i = 0; i < offset; i++)
    if (data[i] == '\n')
      line++;
  return line;
}

static gboolean
scan_group (Scan *scan, const char *group, guint line, int *section, GError **error)
{
  if (*section == 0 && !g_str_equal (group, BMS_PROFILE_GROUP))
    return fail (error, BMS_PROFILE_ERROR_FOREIGN, scan->name, line,
                 _ ("the first group is [%s], a Packwatch profile starts with [%s]"), group,
                 BMS_PROFILE_GROUP);
  if (g_str_equal (group, BMS_PROFILE_GROUP))
    {
      if (*section != 0)
        return fail (error, BMS_PROFILE_ERROR_DUPLICATE, scan->name, line,
                     _ ("the group [%s] appears twice"), group);
      scan->header_line = line;
      *section = 1;
      return TRUE;
    }
  if (g_str_equal (group, BMS_PROFILE_PARAMS))
    {
      if (*section == 2)
        return fail (error, BMS_PROFILE_ERROR_DUPLICATE, scan->name, line,
                     _ ("the group [%s] appears twice"), group);
      *section = 2;
      return TRUE;
    }
  return fail (error, BMS_PROFILE_ERROR_UNKNOWN_KEY, scan->name, line,
               _ ("unknown group [%s]: a profile has [%s] and [%s] only"), group, BMS_PROFILE_GROUP,
               BMS_PROFILE_PARAMS);
}

static gboolean
scan_param_key (Scan *scan, const char *key, guint line, GError **error)
{
  const BmsFieldInfo *field = bms_field_lookup_name (key);

  if (field == NULL || !bms_param_is_parameter (field))
    return fail (error, BMS_PROFILE_ERROR_UNKNOWN_KEY, scan->name, line,
                 field ? _ ("“%s” cannot be set, so it has no place in a profile")
                       : _ ("unknown parameter “%s”"),
                 key);
  if (!bms_param_is_portable (field))
    return fail (error, BMS_PROFILE_ERROR_NOT_PORTABLE, scan->name, line,
                 _ ("“%s” (%s) belongs to one board and cannot be loaded from a profile"), key,
                 _ (field->label));
  return TRUE;
}

static gboolean
ends_with_lone_backslash (const char *value)
{
  gsize n = strlen (value);
  guint backslashes = 0;

  while (n > 0 && value[n - 1] == '\\')
    backslashes++, n--;
  return backslashes % 2 == 1;
}

static gboolean
scan_key (Scan *scan, char *text, guint line, int section, GError **error)
{
  char *eq = strchr (text, '=');
  GHashTable *lines;
  gpointer first;

  if (section == 0)
    return fail (error, BMS_PROFILE_ERROR_FOREIGN, scan->name, line,
                 _ ("text before any group: a Packwatch profile starts with [%s]"),
                 BMS_PROFILE_GROUP);
  if (eq == NULL)
    return fail (error, BMS_PROFILE_ERROR_SYNTAX, scan->name, line,
                 _ ("expected “key=value”, a [group] or a # comment"));
  *eq = '\0';
  g_strchomp (text);
  if (*text == '\0')
    return fail (error, BMS_PROFILE_ERROR_SYNTAX, scan->name, line, _ ("a value without a key"));
  if (ends_with_lone_backslash (eq + 1))
    /* Refused here: GLib 2.74's key file parser sets its GError twice for it. */
    return fail (error, BMS_PROFILE_ERROR_SYNTAX, scan->name, line,
                 _ ("the value of “%s” ends with a lone backslash (write \\\\ for a backslash)"),
                 text);
  if (section == 1 && !g_strv_contains (header_keys, text))
    return fail (error, BMS_PROFILE_ERROR_UNKNOWN_KEY, scan->name, line,
                 _ ("unknown key “%s” in [%s]"), text, BMS_PROFILE_GROUP);
  if (section == 2 && !scan_param_key (scan, text, line, error))
    return FALSE;

  lines = section == 1 ? scan->header_lines : scan->param_lines;
  if (g_hash_table_lookup_extended (lines, text, NULL, &first))
    return fail (error, BMS_PROFILE_ERROR_DUPLICATE, scan->name, line,
                 _ ("“%s” appears twice (first on line %u)"), text, GPOINTER_TO_UINT (first));
  g_hash_table_insert (lines, g_strdup (text), GUINT_TO_POINTER (line));
  return TRUE;
}

static gboolean
scan_lines (Scan *scan, const char *data, gsize length, GError **error)
{
  const char *end = NULL;
  g_auto (GStrv) lines = NULL;
  int section = 0;

  /* Also stops at a zero byte: binary files end here. */
  if (!g_utf8_validate (data, length, &end))
    return fail (error, BMS_PROFILE_ERROR_FOREIGN, scan->name, line_of_offset (data, end - data),
                 _ ("binary data or text that is not UTF-8: this is not a Packwatch profile"));
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      char *text = g_strstrip (lines[i]); /* also drops a trailing \r */
      guint line = i + 1;

      scan->n_lines = line;
      if (*text == '\0' || *text == '#')
        continue;
      if (*text == '[')
        {
          gsize len = strlen (text);
          if (text[len - 1] != ']' || len < 3)
            return fail (error, BMS_PROFILE_ERROR_SYNTAX, scan->name, line,
                         _ ("a group name must be written [Name]"));
          text[len - 1] = '\0';
          if (!scan_group (scan, text + 1, line, &section, error))
            return FALSE;
          continue;
        }
      if (!scan_key (scan, text, line, section, error))
        return FALSE;
    }
  if (section == 0)
    return fail (error, BMS_PROFILE_ERROR_FOREIGN, scan->name, MAX (scan->n_lines, 1),
                 _ ("no [%s] group: this is not a Packwatch profile"), BMS_PROFILE_GROUP);
  if (!g_hash_table_contains (scan->header_lines, "Version"))
    return fail (error, BMS_PROFILE_ERROR_VERSION, scan->name, scan->header_line,
                 _ ("[%s] has no Version key"), BMS_PROFILE_GROUP);
  return TRUE;
}

static guint
header_line (Scan *scan, const char *key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (scan->header_lines, key));
}

static gboolean
read_header (BmsProfile *self, Scan *scan, GKeyFile *kf, GError **error)
{
  g_autofree char *version = g_key_file_get_string (kf, BMS_PROFILE_GROUP, "Version", NULL);
  g_autofree char *chemistry = g_key_file_get_string (kf, BMS_PROFILE_GROUP, "Chemistry", NULL);
  g_autofree char *created = g_key_file_get_string (kf, BMS_PROFILE_GROUP, "Created", NULL);

  if (version == NULL || strcmp (g_strstrip (version), "1") != 0)
    return fail (error, BMS_PROFILE_ERROR_VERSION, scan->name, header_line (scan, "Version"),
                 _ ("Version=%s is not supported: this Packwatch reads version %d"),
                 version ? version : "", BMS_PROFILE_VERSION);
  if (chemistry != NULL)
    {
      const BmsFieldInfo *field = bms_field_lookup (BMS_ID_BATTERY_TYPE);
      gint64 raw;

      if (!bms_field_parse_value (field, chemistry, &raw, NULL, NULL))
        return fail (error, BMS_PROFILE_ERROR_VALUE, scan->name, header_line (scan, "Chemistry"),
                     _ ("Chemistry=%s is not one of lfp, nmc, lto"), chemistry);
      self->chemistry = (gint)raw;
    }
  if (created != NULL)
    {
      g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (created, NULL);
      if (dt == NULL)
        return fail (error, BMS_PROFILE_ERROR_VALUE, scan->name, header_line (scan, "Created"),
                     _ ("Created=%s is not an ISO 8601 date and time"), created);
      self->created = g_date_time_to_unix (dt) * G_USEC_PER_SEC;
    }
  self->device = g_key_file_get_string (kf, BMS_PROFILE_GROUP, "Device", NULL);
  self->software_version = g_key_file_get_string (kf, BMS_PROFILE_GROUP, "SoftwareVersion", NULL);
  return TRUE;
}

typedef struct
{
  guint8 id;
  guint line;
} KeyLine;

static gint
by_line (gconstpointer a, gconstpointer b)
{
  return (gint)((const KeyLine *)a)->line - (gint)((const KeyLine *)b)->line;
}

/* The value v (in engineering units) as the field writes it, no unit. */
static char *
format_steps (const BmsFieldInfo *field, double steps)
{
  int decimals = field->scale >= 1 ? 0 : (int)ceil (-log10 (field->scale) - 1e-9);

  return g_strdup_printf ("%.*f", decimals, steps * field->scale);
}

/* What the catalogue's parser would round away or overflow, judged on the
 * text: 3600.7 for a field in whole mV would be written as 3601, and a
 * number past 64 bits would become -9223372036854775808. Names (enum
 * values, on/off, bit names) and 0x hex are left to the parser. */
static gboolean
check_number (Scan *scan, const BmsFieldInfo *field, const char *value, guint line,
              GError **error)
{
  g_autofree char *text = g_strstrip (g_strdup (value));
  g_autofree char *lo = NULL, *hi = NULL;
  char *end = NULL;
  double v, steps;

  if (!bms_field_is_numeric (field) || g_ascii_strncasecmp (text, "0x", 2) == 0)
    return TRUE;
  v = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (v))
    return TRUE;
  steps = v / field->scale;
  if (fabs (steps) >= 0x1p62)
    {
      gint64 min, max;

      bms_param_get_range (field, &min, &max);
      lo = bms_field_format (field, min);
      hi = bms_field_format (field, max);
      return fail (error, BMS_PROFILE_ERROR_VALUE, scan->name, line,
                   _ ("%s (%s) = %s is out of range: allowed %s to %s"), field->name,
                   _ (field->label), text, lo, hi);
    }
  if (fabs (steps - nearbyint (steps)) <= 1e-6 * MAX (1.0, fabs (steps)))
    return TRUE;
  lo = format_steps (field, floor (steps));
  hi = format_steps (field, ceil (steps));
  if (field->scale < 1)
    {
      g_autofree char *step = bms_field_format (field, 1);

      return fail (error, BMS_PROFILE_ERROR_VALUE, scan->name, line,
                   _ ("%s = %s: %s takes steps of %s: write %s or %s"), field->name, text,
                   _ (field->label), step, lo, hi);
    }
  if (*field->unit == '\0')
    return fail (error, BMS_PROFILE_ERROR_VALUE, scan->name, line,
                 _ ("%s = %s: %s takes whole numbers, not fractions: write %s or %s"),
                 field->name, text, _ (field->label), lo, hi);
  return fail (error, BMS_PROFILE_ERROR_VALUE, scan->name, line,
               _ ("%s = %s: %s takes whole %s, not fractions: write %s or %s"), field->name, text,
               _ (field->label), field->unit, lo, hi);
}

static gboolean
read_param (BmsProfile *self, Scan *scan, GKeyFile *kf, const KeyLine *key, GError **error)
{
  const BmsFieldInfo *field = bms_field_lookup (key->id);
  g_autofree char *value = g_key_file_get_string (kf, BMS_PROFILE_PARAMS, field->name, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  gint64 raw = 0;

  if (value == NULL)
    value = g_strdup ("");
  if (!check_number (scan, field, value, key->line, error))
    return FALSE;
  if (!bms_field_parse_value (field, value, &raw, &text, &local)
      || (field->type != BMS_FIELD_ASCII && !bms_param_check_range (field, raw, &local)))
    return fail (error, BMS_PROFILE_ERROR_VALUE, scan->name, key->line, "%s", local->message);
  if (field->type == BMS_FIELD_ASCII)
    bms_param_set_set_string (self->params, key->id, text);
  else
    bms_param_set_set_raw (self->params, key->id, raw);

  /* Rules are judged as soon as both of their fields are read, so the line
   * named is the one that completes the broken pair. */
  if (!bms_param_set_check_rules (self->params, &key->id, 1, &local))
    return fail (error, BMS_PROFILE_ERROR_RULE, scan->name, key->line, "%s", local->message);
  return TRUE;
}

static gboolean
read_params (BmsProfile *self, Scan *scan, GKeyFile *kf, GError **error)
{
  g_autoptr (GArray) keys = g_array_new (FALSE, FALSE, sizeof (KeyLine));
  GHashTableIter iter;
  gpointer name, line;

  g_hash_table_iter_init (&iter, scan->param_lines);
  while (g_hash_table_iter_next (&iter, &name, &line))
    {
      KeyLine key = { bms_field_lookup_name (name)->id, GPOINTER_TO_UINT (line) };
      g_array_append_val (keys, key);
    }
  g_array_sort (keys, by_line);
  for (guint i = 0; i < keys->len; i++)
    if (!read_param (self, scan, kf, &g_array_index (keys, KeyLine, i), error))
      return FALSE;
  return TRUE;
}

BmsProfile *
bms_profile_load_from_data (const char *data, gsize length, const char *name, GError **error)
{
  g_autoptr (BmsProfile) self = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *copy = NULL;
  Scan scan = { name ? name : "profile" };
  gboolean ok;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  /* Windows editors (Notepad) start UTF-8 files with a byte-order mark. */
  if (length >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    data += 3, length -= 3;
  if (length == 0)
    {
      fail (error, BMS_PROFILE_ERROR_FOREIGN, scan.name, 1,
            _ ("the file is empty: this is not a Packwatch profile"));
      return NULL;
    }
  copy = g_strndup (data, length);

  scan.header_lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  scan.param_lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self = g_object_new (BMS_TYPE_PROFILE, NULL);
  self->params = bms_param_set_new ();

  ok = scan_lines (&scan, copy, length, error);
  if (ok && !g_key_file_load_from_data (kf, copy, length, G_KEY_FILE_NONE, &local))
    ok = fail (error, BMS_PROFILE_ERROR_SYNTAX, scan.name, 1, "%s", local->message);
  ok = ok && read_header (self, &scan, kf, error) && read_params (self, &scan, kf, error);
  scan_clear (&scan);
  return ok ? g_steal_pointer (&self) : NULL;
}

BmsProfile *
bms_profile_load (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  g_autofree char *display = NULL;
  g_autoptr (GError) local = NULL;
  gsize length = 0;

  g_return_val_if_fail (path != NULL, NULL);
  if (!g_file_get_contents (path, &data, &length, &local))
    {
      g_set_error (error, BMS_PROFILE_ERROR, BMS_PROFILE_ERROR_IO,
                   _ ("Cannot read the profile: %s"), local->message);
      return NULL;
    }
  display = g_filename_display_name (path);
  return bms_profile_load_from_data (data, length, display, error);
}
