/* cli-common.c — helpers shared by the packwatch-cli subcommands. */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bms-field.h"
#include "bms-setting.h"
#include "cli-common.h"

// clang-format off
G_DEFINE_QUARK (packwatch-cli-error-quark, cli_error)
// clang-format on

/* Stopping: SIGINT, SIGTERM and the deadline */

#define STOP_WATCH_SLICE_US (100 * 1000) /* how often the watcher looks at the deadline */

static struct
{
  GMutex lock;
  GCond cond;
  GCancellable *cancellable;
  sigset_t signals;
  gint64 deadline_us;
  int signal;
  gboolean stopped;
} stop;

static void
stop_now (int signum)
{
  g_mutex_lock (&stop.lock);
  if (!stop.stopped)
    {
      stop.stopped = TRUE;
      stop.signal = signum;
    }
  g_cond_broadcast (&stop.cond);
  g_mutex_unlock (&stop.lock);
  g_cancellable_cancel (stop.cancellable);
}

/* Takes the signals (blocked everywhere) and watches the deadline. */
static gpointer
stop_watch (gpointer data)
{
  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 wait_us = STOP_WATCH_SLICE_US;
      struct timespec ts;
      gboolean signalled;
      int signum;

      g_mutex_lock (&stop.lock);
      signalled = stop.signal != 0;
      if (!stop.stopped && stop.deadline_us > 0)
        wait_us = MIN (wait_us, stop.deadline_us - now);
      g_mutex_unlock (&stop.lock);
      if (wait_us <= 0)
        {
          stop_now (0);
          continue;
        }
      ts.tv_sec = wait_us / G_USEC_PER_SEC;
      ts.tv_nsec = (wait_us % G_USEC_PER_SEC) * 1000;
      signum = sigtimedwait (&stop.signals, NULL, &ts);
      if (signum < 0)
        continue; /* EAGAIN: look at the deadline again; EINTR */
      /* A second Ctrl+C means now: the first one is taking too long. */
      if (signalled)
        _exit (128 + signum);
      stop_now (signum);
    }
  return NULL;
}

void
cli_stop_start (void)
{
  g_return_if_fail (stop.cancellable == NULL);

  stop.cancellable = g_cancellable_new ();
  sigemptyset (&stop.signals);
  sigaddset (&stop.signals, SIGINT);
  sigaddset (&stop.signals, SIGTERM);
  pthread_sigmask (SIG_BLOCK, &stop.signals, NULL);
  g_thread_unref (g_thread_new ("cli-stop", stop_watch, NULL));
}

void
cli_stop_set_deadline (gint64 deadline_us)
{
  g_mutex_lock (&stop.lock);
  stop.deadline_us = deadline_us;
  g_mutex_unlock (&stop.lock);
}

GCancellable *
cli_stop_get_cancellable (void)
{
  return stop.cancellable;
}

int
cli_stop_get_signal (void)
{
  int signum;

  g_mutex_lock (&stop.lock);
  signum = stop.signal;
  g_mutex_unlock (&stop.lock);
  return signum;
}

gboolean
cli_stop_requested (void)
{
  gboolean stopped;

  g_mutex_lock (&stop.lock);
  stopped = stop.stopped;
  g_mutex_unlock (&stop.lock);
  return stopped;
}

const char *
cli_stop_describe (void)
{
  switch (cli_stop_get_signal ())
    {
    case SIGINT: return "interrupted (SIGINT)";
    case SIGTERM: return "terminated (SIGTERM)";
    default: return "time is up";
    }
}

gboolean
cli_stop_sleep_until (gint64 until_us)
{
  gboolean stopped;

  g_mutex_lock (&stop.lock);
  while (!stop.stopped && g_get_monotonic_time () < until_us)
    g_cond_wait_until (&stop.cond, &stop.lock, until_us);
  stopped = stop.stopped;
  g_mutex_unlock (&stop.lock);
  return !stopped;
}

gboolean
cli_password_validate (const char *password, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (bms_session_check_password (password, &local_error))
    return TRUE;
  g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "--password: %s", local_error->message);
  return FALSE;
}

void
cli_error (const char *command, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "packwatch-cli %s: %s\n", command, message);
}

gboolean
cli_parse_options (int *argc, char ***argv, const char *parameter_string, const char *summary,
                   const GOptionEntry *entries, GOptionGroup *group)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *command = g_strdup ((*argv)[0]);
  g_autofree char *prgname = g_strdup_printf ("packwatch-cli %s", command);

  /* GOptionContext prints "Usage: <prgname> [OPTION…] …" */
  g_set_prgname (prgname);
  context = g_option_context_new (parameter_string);
  g_option_context_set_summary (context, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  if (group != NULL)
    g_option_context_add_group (context, group);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      cli_error (command, "%s (see packwatch-cli %s --help)", error->message, command);
      return FALSE;
    }
  return TRUE;
}

void
cli_json_append_string (GString *out, const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p != '\0'; p++)
    {
      guchar c = (guchar)*p;

      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char)c);
        }
    }
  g_string_append_c (out, '"');
}

char *
cli_json_compact (const char *json)
{
  GString *out = g_string_sized_new (strlen (json));
  gboolean in_string = FALSE;

  for (const char *p = json; *p != '\0'; p++)
    {
      char c = *p;

      if (in_string)
        {
          g_string_append_c (out, c);
          if (c == '\\' && p[1] != '\0')
            g_string_append_c (out, *++p);
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (g_ascii_isspace (c))
        continue;
      g_string_append_c (out, c);
      if (c == '"')
        in_string = TRUE;
      else if (c == ',' || c == ':')
        g_string_append_c (out, ' '); /* readable, still one line */
    }
  return g_string_free (out, FALSE);
}

void
cli_json_merge_object (GString *out, const char *object_json)
{
  g_autofree char *compact = cli_json_compact (object_json);
  gsize len = strlen (compact);

  if (len < 2 || compact[0] != '{' || compact[len - 1] != '}')
    return;
  if (len == 2)
    return; /* empty object */
  if (out->len > 0 && out->str[out->len - 1] != '{')
    g_string_append (out, ", ");
  g_string_append_len (out, compact + 1, (gssize)len - 2);
}

char *
cli_snapshot_to_json (const BmsSnapshot *snapshot, gboolean show_password)
{
  g_autoptr (BmsSnapshot) shown = NULL;

  if (show_password || !bms_snapshot_has (snapshot, BMS_ID_PASSWORD))
    return bms_snapshot_to_json (snapshot);
  shown = bms_snapshot_copy (snapshot);
  bms_snapshot_remove (shown, BMS_ID_PASSWORD);
  return bms_snapshot_to_json (shown);
}

guint
cli_edit_distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);

  for (gsize j = 0; j <= lb; j++)
    row[j] = (guint)j;
  for (gsize i = 1; i <= la; i++)
    {
      guint diagonal = row[0];

      row[0] = (guint)i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint above = row[j];
          guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;

          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diagonal + cost);
          diagonal = above;
        }
    }
  return row[lb];
}

typedef struct
{
  const char *name;
  guint score;
} Candidate;

static int
compare_candidates (gconstpointer a, gconstpointer b)
{
  const Candidate *ca = a, *cb = b;

  if (ca->score != cb->score)
    return ca->score < cb->score ? -1 : 1;
  return strcmp (ca->name, cb->name);
}

char **
cli_suggest_field_names (const char *unknown, guint max_results)
{
  guint n_fields = 0;
  const BmsFieldInfo *fields = bms_field_all (&n_fields);
  g_autoptr (GArray) candidates = g_array_new (FALSE, FALSE, sizeof (Candidate));
  g_autoptr (GPtrArray) result = g_ptr_array_new ();
  g_autofree char *lower = g_ascii_strdown (unknown, -1);
  guint limit = MAX (2, (guint)strlen (unknown) / 3);

  for (guint i = 0; i < n_fields; i++)
    {
      Candidate c = { fields[i].name, cli_edit_distance (lower, fields[i].name) };
      /* "ovp" finds cell_ovp_mv: a part of the name counts as close */
      gboolean part = strlen (lower) >= 3 && strstr (fields[i].name, lower) != NULL;

      if (c.score <= limit || part)
        g_array_append_val (candidates, c);
    }
  g_array_sort (candidates, compare_candidates);
  for (guint i = 0; i < candidates->len && i < max_results; i++)
    g_ptr_array_add (result, g_strdup (g_array_index (candidates, Candidate, i).name));
  g_ptr_array_add (result, NULL);
  return (char **)g_ptr_array_free (g_steal_pointer (&result), FALSE);
}

char *
cli_format_raw (const BmsFieldInfo *field, gint64 raw)
{
  g_autofree char *bits = NULL;

  /* A mask with its bit names; everything else is the one formatting of
   * number and unit (the CLI's numbers are in the C locale: main sets
   * LC_NUMERIC). */
  if (field->type != BMS_FIELD_BITS)
    return bms_field_format (field, raw);
  bits = bms_field_bit_names (field, raw);
  return g_strdup_printf ("0x%04" G_GINT64_MODIFIER "x (%s)", raw, bits);
}

char *
cli_format_snapshot_value (const BmsSnapshot *snapshot, const BmsFieldInfo *field)
{
  const guint8 *bytes;

  if (!bms_snapshot_has (snapshot, field->id))
    return NULL;
  switch (field->type)
    {
    case BMS_FIELD_ASCII:
      /* As the window shows it: a date as a month, a version unpadded. */
      return bms_setting_format_value (snapshot, field);
    case BMS_FIELD_BYTES:
      {
        GString *text = g_string_new (NULL);
        /* Cells per module are counts; other byte fields (addresses) read as hex. */
        gboolean counts = field->id == BMS_ID_MODULE_CELLS;

        bytes = bms_snapshot_get_bytes (snapshot, field->id);
        for (guint i = 0; bytes != NULL && i < field->size; i++)
          {
            if (counts && bytes[i] == 0)
              continue; /* no module in this slot */
            g_string_append_printf (text, counts ? "%s%u" : "%s%02X", text->len > 0 ? " " : "",
                                    bytes[i]);
          }
        return g_string_free (text, FALSE);
      }
    case BMS_FIELD_CELLS:
    case BMS_FIELD_CELLS_EXT:
      return g_strdup_printf ("%u cells", snapshot->n_cells);
    case BMS_FIELD_MODULE_TEMPS:
      return g_strdup_printf ("%u modules", snapshot->n_module_temps);
    default:
      return cli_format_raw (field, bms_snapshot_get_raw (snapshot, field->id));
    }
}

char *
cli_pad (const char *text, guint width)
{
  GString *out = g_string_new (text != NULL ? text : "");
  glong chars = g_utf8_strlen (out->str, -1);

  for (glong i = chars; i < (glong)width; i++)
    g_string_append_c (out, ' ');
  return g_string_free (out, FALSE);
}
