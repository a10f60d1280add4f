/* Helpers shared by the link tests. */
#pragma once
#include <gio/gio.h>

/* Reads a .hex test vector (bytes as hex pairs separated by spaces) from
 * tests/data/ in the source tree. */
static inline GByteArray *
test_load_hex (const char *name)
{
  const char *root = g_getenv ("PACKWATCH_SOURCE_ROOT");
  g_autofree char *path = g_build_filename (root ? root : ".", "tests", "data", name, NULL);
  g_autofree char *text = NULL;
  GByteArray *out = g_byte_array_new ();
  g_auto(GStrv) tokens = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  tokens = g_strsplit_set (g_strstrip (text), " \n", -1);
  for (guint i = 0; tokens[i]; i++)
    if (*tokens[i])
      {
        guint8 b = (guint8) g_ascii_strtoull (tokens[i], NULL, 16);
        g_byte_array_append (out, &b, 1);
      }
  return out;
}

/* Threads of this process now (Linux: one entry each in /proc/self/task).
 * GTask's class starts GLib's own worker ("gmain") once per process; it is
 * started here so that it counts from the first call on. */
static inline guint
test_count_threads (void)
{
  g_autoptr(GDir) dir = NULL;
  guint n = 0;

  g_type_ensure (G_TYPE_TASK);
  dir = g_dir_open ("/proc/self/task", 0, NULL);
  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Runs the default main context until *done, counting the process's threads
 * every millisecond; returns the most seen. Shows whether an asynchronous
 * call parked a thread of its own while it ran. */
static inline guint
test_run_counting_threads (const gboolean *done)
{
  guint most = test_count_threads ();

  while (!*done)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      most = MAX (most, test_count_threads ());
      g_usleep (1000);
    }
  return most;
}

/* TRUE in a fresh process that runs only the calling test (for counting
 * threads, with no pool left from an earlier test); in the parent, runs it
 * there, checks that it passed and returns FALSE. */
static inline gboolean
test_in_fresh_process (void)
{
  if (g_test_subprocess ())
    return TRUE;
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  return FALSE;
}

/* Threads of this process with that name (as g_thread_new gave it). */
static inline guint
test_count_threads_named (const char *name)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", tid, "comm", NULL);
      g_autofree char *comm = NULL;

      if (g_file_get_contents (path, &comm, NULL, NULL) && g_str_equal (g_strchomp (comm), name))
        n++;
    }
  return n;
}
