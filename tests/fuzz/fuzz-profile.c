/* fuzz-profile.c — libFuzzer target for the profile loader
 * (bms_profile_load_from_data, src/model/bms-profile.c).
 *
 * The input is the whole content of a profile file. Besides "no crash, no
 * leak, no undefined behaviour" it checks, for any input:
 * - a refused file comes with a BMS_PROFILE_ERROR whose message starts
 *   "NAME:LINE: " with a line that exists in the file (1 for an empty one);
 * - an accepted profile passes bms_param_set_validate, and saved with
 *   bms_profile_to_data it loads again to the same parameters (every id,
 *   raw value and text), device, software version, chemistry and date; a
 *   second save gives the same text but for the Created line.
 * Built by tests/fuzz/run-fuzz.sh profile (clang, -fsanitize=fuzzer,
 * address,undefined) and, with fuzz-replay.c as main, by meson for the
 * corpus replay test. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "bms-profile.h"

#define NAME "fuzz.profile"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint
count_lines (const uint8_t *data, size_t size)
{
  guint lines = 1;

  for (size_t i = 0; i < size; i++)
    if (data[i] == '\n')
      lines++;
  return lines;
}

/* "fuzz.profile:LINE: text" with 1 <= LINE <= lines and some text. */
static void
check_refusal (const GError *error, guint lines)
{
  const char *p;
  char *end = NULL;
  guint64 line;

  if (error == NULL || error->domain != BMS_PROFILE_ERROR || error->message == NULL)
    abort ();
  if (!g_str_has_prefix (error->message, NAME ":"))
    abort ();
  p = error->message + strlen (NAME ":");
  if (!g_ascii_isdigit (*p))
    abort ();
  line = g_ascii_strtoull (p, &end, 10);
  if (line < 1 || line > lines || end[0] != ':' || end[1] != ' ' || end[2] == '\0')
    abort ();
}

static gboolean
same_string (const char *a, const char *b)
{
  /* An empty device or version is not written: absent and empty are one. */
  return g_strcmp0 (a && *a ? a : NULL, b && *b ? b : NULL) == 0;
}

static void
check_same (BmsProfile *a, BmsProfile *b)
{
  BmsParamSet *pa = bms_profile_get_params (a);
  BmsParamSet *pb = bms_profile_get_params (b);
  g_autofree guint8 *ids_a = NULL;
  g_autofree guint8 *ids_b = NULL;
  guint na = 0, nb = 0;

  ids_a = bms_param_set_get_ids (pa, &na);
  ids_b = bms_param_set_get_ids (pb, &nb);
  if (na != nb || (na > 0 && memcmp (ids_a, ids_b, na) != 0))
    abort ();
  for (guint i = 0; i < na; i++)
    {
      const BmsFieldInfo *field = bms_field_lookup (ids_a[i]);

      if (field->type == BMS_FIELD_ASCII)
        {
          if (g_strcmp0 (bms_param_set_get_string (pa, ids_a[i]),
                         bms_param_set_get_string (pb, ids_a[i])) != 0)
            abort ();
        }
      else if (bms_param_set_get_raw (pa, ids_a[i]) != bms_param_set_get_raw (pb, ids_a[i]))
        abort ();
    }
  if (!same_string (bms_profile_get_device (a), bms_profile_get_device (b))
      || !same_string (bms_profile_get_software_version (a),
                       bms_profile_get_software_version (b)))
    abort ();
  /* A chemistry outside lfp/nmc/lto cannot be loaded, so it is kept. */
  if (bms_profile_get_chemistry (a) != bms_profile_get_chemistry (b))
    abort ();
}

/* The text without its Created= line (the save time). */
static char *
without_created (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i]; i++)
    if (!g_str_has_prefix (lines[i], "Created="))
      g_string_append_printf (out, "%s\n", lines[i]);
  return g_string_free (out, FALSE);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsProfile) profile = NULL;
  g_autoptr (BmsProfile) again = NULL;
  g_autoptr (BmsProfile) third = NULL;
  g_autofree char *saved = NULL;
  g_autofree char *resaved = NULL;
  g_autofree char *saved_rest = NULL;
  g_autofree char *resaved_rest = NULL;
  gsize saved_len = 0, resaved_len = 0;

  profile = bms_profile_load_from_data ((const char *) data, size, NAME, &error);
  if (profile == NULL)
    {
      check_refusal (error, count_lines (data, size));
      return 0;
    }
  if (error != NULL)
    abort (); /* accepted, yet an error was set */

  /* What loads must be valid as a whole… */
  if (!bms_param_set_validate (bms_profile_get_params (profile), NULL))
    abort ();

  /* …and survive a save and a load unchanged. */
  saved = bms_profile_to_data (profile, &saved_len);
  if (saved == NULL || strlen (saved) != saved_len)
    abort ();
  again = bms_profile_load_from_data (saved, saved_len, NAME, &error);
  if (again == NULL)
    {
      /* Print what we wrote and why we refuse it: that is the bug. */
      g_printerr ("saved profile refused: %s\n%s\n", error->message, saved);
      abort ();
    }
  check_same (profile, again);
  if (bms_profile_get_created (again) != bms_profile_get_created (profile))
    abort ();

  /* Saving what was loaded back gives the same file, the date aside. */
  resaved = bms_profile_to_data (again, &resaved_len);
  saved_rest = without_created (saved);
  resaved_rest = without_created (resaved);
  if (strcmp (saved_rest, resaved_rest) != 0)
    abort ();
  third = bms_profile_load_from_data (resaved, resaved_len, NAME, NULL);
  if (third == NULL)
    abort ();
  check_same (again, third);
  return 0;
}
