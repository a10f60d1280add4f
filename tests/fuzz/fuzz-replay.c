/* fuzz-replay.c — a main for fuzz-frame-parser.c without libFuzzer: runs
 * every file of the given directories (or the files given) through the
 * target once, printing TAP. Lets the ordinary build (gcc, no sanitizer
 * runtime needed) keep the seed corpus and every crash found so far as a
 * regression test. */

#include <stdio.h>
#include <stdint.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
collect (const char *path, GPtrArray *files)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_ptr_array_add (files, g_strdup (path));
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (files, g_build_filename (path, name, NULL));
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *)a, *(char *const *)b);
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  int failed = 0;

  for (int i = 1; i < argc; i++)
    collect (argv[i], files);
  g_ptr_array_sort (files, compare_paths);
  if (files->len == 0)
    {
      printf ("1..0 # SKIP no corpus files given\n");
      return 1;
    }
  printf ("1..%u\n", files->len);
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (!g_file_get_contents (path, &contents, &len, NULL))
        {
          printf ("not ok %u - %s: cannot read\n", i + 1, path);
          failed++;
          continue;
        }
      /* A property violation aborts the whole program: the log shows which file. */
      fflush (stdout);
      LLVMFuzzerTestOneInput ((const uint8_t *)contents, len);
      printf ("ok %u - %s (%" G_GSIZE_FORMAT " bytes)\n", i + 1, path, len);
    }
  return failed > 0 ? 1 : 0;
}
