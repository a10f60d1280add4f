/* Helpers shared by the link tests. */
#pragma once
#include <glib.h>

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
