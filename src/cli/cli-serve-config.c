/* cli-serve-config.c — reading the key file of `packwatch-cli serve`.
 *
 * As with profiles (bms-profile.c), GKeyFile knows no line numbers: the
 * lines are walked first (groups, keys, duplicates) and each key's line is
 * kept, so every value refused afterwards names FILE:LINE too.
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "bms-poller.h"
#include "bms-session.h"
#include "cli-common.h"
#include "cli-serve-config.h"

#define BOARD_PREFIX "Board "

static const char *const mqtt_keys[] = {
  "Host", "Port", "ClientId", "Prefix", "Discovery", "DiscoveryPrefix", "KeepAlive",
  "Username", "Password", "PasswordFile", "CaFile", "CertFile", "KeyFile", NULL
};
static const char *const serve_keys[] = { "Interval", "Database", "Fsync", NULL };
static const char *const board_keys[] = { "Port", "Baud", "Address", "Id", "Name", NULL };

typedef struct
{
  const char *path;
  GKeyFile *kf;
  GHashTable *lines; /* "group\nkey" or "group" -> line */
  guint n_lines; /* the last line with text */
} Reader;

G_GNUC_PRINTF (4, 5)
static gboolean
fail (GError **error, const char *path, guint line, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "%s:%u: %s", path, line, text);
  return FALSE;
}

static guint
line_of (Reader *r, const char *group, const char *key)
{
  g_autofree char *k = key ? g_strconcat (group, "\n", key, NULL) : g_strdup (group);

  return GPOINTER_TO_UINT (g_hash_table_lookup (r->lines, k));
}

static const char *const *
keys_of_group (const char *group)
{
  if (g_str_equal (group, "MQTT"))
    return mqtt_keys;
  if (g_str_equal (group, "Serve"))
    return serve_keys;
  if (g_str_has_prefix (group, BOARD_PREFIX) && group[strlen (BOARD_PREFIX)] != '\0')
    return board_keys;
  return NULL;
}

static gboolean
scan_group (Reader *r, const char *group, guint line, GError **error)
{
  guint first = line_of (r, group, NULL);

  if (keys_of_group (group) == NULL)
    return fail (error, r->path, line,
                 "unknown group [%s]: a serve configuration has [MQTT], [Serve] and "
                 "[Board NAME] groups", group);
  if (first)
    return fail (error, r->path, line, "the group [%s] appears twice (first on line %u)", group,
                 first);
  g_hash_table_insert (r->lines, g_strdup (group), GUINT_TO_POINTER (line));
  return TRUE;
}

static gboolean
scan_key (Reader *r, const char *group, char *text, guint line, GError **error)
{
  char *eq = strchr (text, '=');
  const char *const *keys;
  guint first;

  if (group == NULL)
    return fail (error, r->path, line, "text before any group: start with [MQTT]");
  if (eq == NULL)
    return fail (error, r->path, line, "expected “Key=value”, a [Group] or a # comment");
  *eq = '\0';
  g_strchomp (text);
  keys = keys_of_group (group);
  if (!g_strv_contains (keys, text))
    {
      g_autofree char *known = g_strjoinv (", ", (char **) keys);
      return fail (error, r->path, line, "unknown key “%s” in [%s] (known: %s)", text, group,
                   known);
    }
  if ((first = line_of (r, group, text)))
    return fail (error, r->path, line, "“%s” appears twice in [%s] (first on line %u)", text,
                 group, first);
  g_hash_table_insert (r->lines, g_strconcat (group, "\n", text, NULL), GUINT_TO_POINTER (line));
  return TRUE;
}

static gboolean
scan_lines (Reader *r, const char *data, gsize length, GError **error)
{
  g_auto (GStrv) lines = NULL;
  g_autofree char *group = NULL;

  if (!g_utf8_validate (data, length, NULL) || memchr (data, '\0', length))
    return fail (error, r->path, 1, "not UTF-8 text: a serve configuration is a key file");
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      char *text = g_strstrip (lines[i]);
      guint line = i + 1;
      gsize len = strlen (text);

      if (len == 0 || *text == '#')
        continue;
      r->n_lines = line; /* the last line with text */
      if (*text == '[')
        {
          if (text[len - 1] != ']' || len < 3)
            return fail (error, r->path, line, "a group name is written [Name]");
          text[len - 1] = '\0';
          if (!scan_group (r, text + 1, line, error))
            return FALSE;
          g_free (group);
          group = g_strdup (text + 1);
        }
      else if (!scan_key (r, group, text, line, error))
        return FALSE;
    }
  return TRUE;
}

/* The value of a key that is there, else NULL; kept raw (no escapes
 * besides GKeyFile's own), trimmed. */
static char *
get (Reader *r, const char *group, const char *key)
{
  char *value;

  if (!line_of (r, group, key))
    return NULL;
  value = g_key_file_get_string (r->kf, group, key, NULL);
  return value ? g_strstrip (value) : NULL;
}

static gboolean
get_uint (Reader *r, const char *group, const char *key, guint min, guint max, guint *out,
          GError **error)
{
  g_autofree char *text = get (r, group, key);
  guint64 value;

  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, min, max, &value, NULL))
    return fail (error, r->path, line_of (r, group, key), "%s=%s: give a whole number from %u to %u",
                 key, text, min, max);
  *out = (guint) value;
  return TRUE;
}

static gboolean
get_bool (Reader *r, const char *group, const char *key, gboolean *out, GError **error)
{
  g_autofree char *text = get (r, group, key);

  if (text == NULL)
    return TRUE;
  if (g_str_equal (text, "true") || g_str_equal (text, "1"))
    *out = TRUE;
  else if (g_str_equal (text, "false") || g_str_equal (text, "0"))
    *out = FALSE;
  else
    return fail (error, r->path, line_of (r, group, key), "%s=%s: write true or false", key, text);
  return TRUE;
}

/* A topic prefix: levels without wildcards, no empty level. */
static gboolean
get_prefix (Reader *r, const char *key, const char *fallback, char **out, GError **error)
{
  g_autofree char *text = get (r, "MQTT", key);
  g_auto (GStrv) levels = NULL;

  if (text == NULL)
    {
      *out = g_strdup (fallback);
      return TRUE;
    }
  levels = g_strsplit (text, "/", -1);
  for (guint i = 0; levels[i]; i++)
    if (levels[i][0] == '\0' || strpbrk (levels[i], "+#") || g_utf8_strlen (levels[i], -1) > 64)
      return fail (error, r->path, line_of (r, "MQTT", key),
                   "%s=%s: a topic prefix is one or more levels separated by “/”, none empty, "
                   "without “+” or “#”", key, text);
  *out = g_steal_pointer (&text);
  return TRUE;
}

/* A file the client must read (certificates, the password file): checked
 * now, so a typo stops the start instead of every reconnect failing. */
static gboolean
get_file (Reader *r, const char *key, char **out, GError **error)
{
  g_autofree char *text = get (r, "MQTT", key);

  if (text == NULL)
    return TRUE;
  if (access (text, R_OK) != 0)
    return fail (error, r->path, line_of (r, "MQTT", key), "%s=%s: %s", key, text,
                 g_strerror (errno));
  *out = g_steal_pointer (&text);
  return TRUE;
}

static gboolean
read_password (Reader *r, CliServeConfig *c, GError **error)
{
  g_autofree char *file = NULL;
  g_autoptr (GError) local = NULL;
  char *contents = NULL;
  const char *env = g_getenv (CLI_SERVE_PASSWORD_ENV);

  c->password = get (r, "MQTT", "Password");
  if (!get_file (r, "PasswordFile", &file, error))
    return FALSE;
  if (c->password && file)
    return fail (error, r->path, line_of (r, "MQTT", "PasswordFile"),
                 "give Password or PasswordFile, not both (Password is on line %u)",
                 line_of (r, "MQTT", "Password"));
  if (file)
    {
      if (!g_file_get_contents (file, &contents, NULL, &local))
        return fail (error, r->path, line_of (r, "MQTT", "PasswordFile"), "%s", local->message);
      /* The first line: an editor's trailing newline is not part of it. */
      contents[strcspn (contents, "\r\n")] = '\0';
      c->password = contents;
    }
  else if (c->password == NULL && env && *env)
    c->password = g_strdup (env);
  if (c->password && c->username == NULL)
    return fail (error, r->path, MAX (line_of (r, "MQTT", "Password"),
                                      MAX (line_of (r, "MQTT", "PasswordFile"), line_of (r, "MQTT", NULL))),
                 "a password needs Username= in [MQTT]");
  return TRUE;
}

static gboolean
read_tls (Reader *r, CliServeConfig *c, GError **error)
{
  if (!get_file (r, "CaFile", &c->cafile, error) || !get_file (r, "CertFile", &c->certfile, error)
      || !get_file (r, "KeyFile", &c->keyfile, error))
    return FALSE;
  if ((c->certfile == NULL) != (c->keyfile == NULL))
    return fail (error, r->path, line_of (r, "MQTT", c->certfile ? "CertFile" : "KeyFile"),
                 "a client certificate needs both CertFile and KeyFile");
  if (c->certfile && c->cafile == NULL)
    return fail (error, r->path, line_of (r, "MQTT", "CertFile"),
                 "a client certificate is sent over TLS only: give CaFile too");
  return TRUE;
}

static gboolean
read_mqtt (Reader *r, CliServeConfig *c, GError **error)
{
  c->host = get (r, "MQTT", "Host");
  if (c->host == NULL || *c->host == '\0')
    {
      if (c->host != NULL)
        return fail (error, r->path, line_of (r, "MQTT", "Host"), "Host= is empty: name the broker");
      g_free (c->host);
      c->host = g_strdup ("localhost");
    }
  c->client_id = get (r, "MQTT", "ClientId");
  if (c->client_id == NULL || *c->client_id == '\0')
    {
      g_free (c->client_id);
      c->client_id = g_strdup_printf ("packwatch-%s", g_get_host_name ());
    }
  c->username = get (r, "MQTT", "Username");
  if (!read_tls (r, c, error))
    return FALSE;
  c->port = c->cafile ? 8883 : 1883;
  return get_uint (r, "MQTT", "Port", 1, 65535, &c->port, error)
         && get_prefix (r, "Prefix", CLI_SERVE_DEFAULT_PREFIX, &c->prefix, error)
         && get_bool (r, "MQTT", "Discovery", &c->discovery, error)
         && get_prefix (r, "DiscoveryPrefix", CLI_SERVE_DEFAULT_DISCOVERY_PREFIX,
                        &c->discovery_prefix, error)
         && get_uint (r, "MQTT", "KeepAlive", 5, 3600, &c->keepalive, error)
         && read_password (r, c, error);
}

static gboolean
read_serve (Reader *r, CliServeConfig *c, GError **error)
{
  g_autofree char *interval = get (r, "Serve", "Interval");

  if (interval)
    {
      char *end = NULL;
      double value = g_ascii_strtod (interval, &end);

      if (end == interval || *end != '\0' || isnan (value) || value < BMS_POLLER_INTERVAL_MIN
          || value > BMS_POLLER_INTERVAL_MAX)
        return fail (error, r->path, line_of (r, "Serve", "Interval"),
                     "Interval=%s: give seconds from %g to %g", interval, BMS_POLLER_INTERVAL_MIN,
                     BMS_POLLER_INTERVAL_MAX);
      c->interval = value;
    }
  c->database = get (r, "Serve", "Database");
  return get_bool (r, "Serve", "Fsync", &c->fsync, error);
}

static void
board_free (CliServeBoard *b)
{
  g_free (b->group);
  g_free (b->name);
  g_free (b->port);
  g_free (b->id);
  g_free (b);
}

static gboolean
check_id (Reader *r, CliServeBoard *b, GError **error)
{
  g_autofree char *clean = NULL;

  if (b->id == NULL)
    return TRUE;
  clean = cli_serve_topic_id (b->id);
  if (*b->id == '\0' || strlen (b->id) > 64 || !g_str_equal (clean, b->id))
    return fail (error, r->path, line_of (r, b->group, "Id"),
                 "Id=%s: up to 64 letters, digits, “_” and “-” (it names topics and Home "
                 "Assistant ids)", b->id);
  return TRUE;
}

static gboolean
check_baud (Reader *r, CliServeBoard *b, GError **error)
{
  for (guint i = 0; bms_supported_bauds[i] != 0; i++)
    if (bms_supported_bauds[i] == b->baud)
      return TRUE;
  return fail (error, r->path, line_of (r, b->group, "Baud"),
               "Baud=%u is not supported: use 9600, 19200, 38400, 57600 or 115200", b->baud);
}

static gboolean
read_board (Reader *r, const char *group, CliServeBoard **out, GError **error)
{
  g_autoptr (GError) local = NULL;
  CliServeBoard *b = g_new0 (CliServeBoard, 1);

  *out = b;
  b->group = g_strdup (group);
  b->baud = CLI_DEFAULT_BAUD;
  b->address = CLI_DEFAULT_ADDRESS;
  b->port = get (r, group, "Port");
  b->id = get (r, group, "Id");
  b->name = get (r, group, "Name");
  if (b->name == NULL || *b->name == '\0')
    {
      g_free (b->name);
      b->name = g_strdup (group + strlen (BOARD_PREFIX));
    }
  if (b->port == NULL || *b->port == '\0')
    return fail (error, r->path, line_of (r, group, b->port ? "Port" : NULL),
                 "[%s] needs Port= (a serial port such as /dev/ttyUSB0, a pseudo-terminal path, "
                 "tcp://HOST:PORT or sim://)", group);
  return get_uint (r, group, "Baud", 1, G_MAXUINT, &b->baud, error) && check_baud (r, b, error)
         && get_uint (r, group, "Address", 1, 255, &b->address, error) && check_id (r, b, error);
}

/* One line, one baud; one board per port and address; one board per Id. */
static gboolean
check_boards (Reader *r, CliServeConfig *c, GError **error)
{
  for (guint i = 0; i < c->boards->len; i++)
    for (guint j = 0; j < i; j++)
      {
        CliServeBoard *a = c->boards->pdata[j], *b = c->boards->pdata[i];

        if (!g_str_equal (a->port, b->port))
          {
            if (a->id && b->id && g_str_equal (a->id, b->id))
              return fail (error, r->path, line_of (r, b->group, "Id"),
                           "Id=%s is also the Id of [%s] (line %u)", b->id, a->group,
                           line_of (r, a->group, "Id"));
            continue;
          }
        if (a->address == b->address)
          return fail (error, r->path, line_of (r, b->group, NULL),
                       "[%s] is the board of [%s] (line %u) again: %s address %u", b->group,
                       a->group, line_of (r, a->group, NULL), b->port, b->address);
        if (a->baud != b->baud)
          return fail (error, r->path, line_of (r, b->group, "Baud"),
                       "[%s] is on %s at %u baud, [%s] (line %u) at %u: one line has one speed",
                       b->group, b->port, b->baud, a->group, line_of (r, a->group, NULL), a->baud);
      }
  return TRUE;
}

static gboolean
read_boards (Reader *r, CliServeConfig *c, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (r->kf, NULL);

  for (guint i = 0; groups[i]; i++)
    if (g_str_has_prefix (groups[i], BOARD_PREFIX))
      {
        CliServeBoard *b = NULL;
        gboolean ok = read_board (r, groups[i], &b, error);

        g_ptr_array_add (c->boards, b);
        if (!ok)
          return FALSE;
      }
  if (c->boards->len == 0)
    return fail (error, r->path, MAX (r->n_lines, 1),
                 "no [Board NAME] group: name at least one board to poll, with its Port=");
  return check_boards (r, c, error);
}

static CliServeConfig *
config_new (void)
{
  CliServeConfig *c = g_new0 (CliServeConfig, 1);

  c->discovery = TRUE;
  c->keepalive = 30;
  c->interval = BMS_POLLER_INTERVAL_DEFAULT;
  c->boards = g_ptr_array_new_with_free_func ((GDestroyNotify) board_free);
  return c;
}

CliServeConfig *
cli_serve_config_load (const char *path, GError **error)
{
  g_autoptr (CliServeConfig) c = config_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GHashTable) lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gsize length = 0;
  Reader r = { path, kf, lines, 0 };

  if (!g_file_get_contents (path, &data, &length, &local))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "%s", local->message);
      return NULL;
    }
  if (!scan_lines (&r, data, length, error))
    return NULL;
  if (!g_key_file_load_from_data (kf, data, length, G_KEY_FILE_NONE, &local))
    {
      fail (error, path, 1, "%s", local->message);
      return NULL;
    }
  if (!read_mqtt (&r, c, error) || !read_serve (&r, c, error) || !read_boards (&r, c, error))
    return NULL;
  return g_steal_pointer (&c);
}

void
cli_serve_config_free (CliServeConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->host);
  g_free (c->client_id);
  g_free (c->prefix);
  g_free (c->discovery_prefix);
  g_free (c->username);
  if (c->password)
    memset (c->password, 0, strlen (c->password));
  g_free (c->password);
  g_free (c->cafile);
  g_free (c->certfile);
  g_free (c->keyfile);
  g_free (c->database);
  g_ptr_array_unref (c->boards);
  g_free (c);
}

char *
cli_serve_topic_id (const char *text)
{
  char *id = g_strdup (text);

  for (char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      *p = '_';
  return id;
}
