/* bms-hex.c — hex dumps of frames, one per line (see bms-hex.h). */

#include "config.h"

#include "bms-hex.h"

#include <string.h>

/* The macro turns its first argument into the domain's name. */
// clang-format off
G_DEFINE_QUARK (bms-hex-error-quark, bms_hex_error)
// clang-format on

static gboolean
is_separator (char c)
{
  return c == ' ' || c == '\t' || c == ':' || c == ',' || c == ';' || c == '\r' || c == '\n';
}

static gboolean
hex_error (GError **error, const char *line, const char *at, const char *what)
{
  g_autofree char *shown = g_strndup (at, MIN (strcspn (at, " \t,:;\r\n"), 16));

  g_set_error (error, BMS_HEX_ERROR, BMS_HEX_ERROR_SYNTAX, "bad hex at column %d: %s in \"%s\"",
               (int)(at - line) + 1, what, shown);
  return FALSE;
}

gboolean
bms_hex_parse_line (const char *line, GByteArray *out, GError **error)
{
  const char *p = line;
  gsize end = strcspn (line, "#"); /* a comment runs to the end of the line */

  while (g_ascii_isspace (*p))
    p++;
  if (g_str_has_prefix (p, "<<<") || g_str_has_prefix (p, ">>>"))
    p += 3;

  while (p < line + end && *p != '\0')
    {
      const char *token = p;
      gsize digits = 0;
      gboolean prefixed = FALSE;

      if (is_separator (*p))
        {
          p++;
          continue;
        }
      if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        {
          prefixed = TRUE;
          p += 2;
        }
      while (p + digits < line + end && g_ascii_isxdigit (p[digits]))
        digits++;
      if (p + digits < line + end && p[digits] != '\0' && !is_separator (p[digits]))
        return hex_error (error, line, p + digits, "not a hex digit");
      if (digits == 0)
        return hex_error (error, line, token, "no hex digits after 0x");
      if (prefixed && digits > 2)
        return hex_error (error, line, token, "a 0x-prefixed byte has more than two digits");
      if (!prefixed && digits % 2 != 0)
        return hex_error (error, line, token, "odd number of hex digits (a byte is two digits)");

      if (prefixed && digits == 1)
        {
          guint8 b = (guint8)g_ascii_xdigit_value (p[0]);
          g_byte_array_append (out, &b, 1);
        }
      else
        for (gsize i = 0; i < digits; i += 2)
          {
            guint8 b = (guint8)(g_ascii_xdigit_value (p[i]) << 4 | g_ascii_xdigit_value (p[i + 1]));
            g_byte_array_append (out, &b, 1);
          }
      p += digits;
    }
  return TRUE;
}

/* A file line as a frame; *frame stays NULL for a blank or comment line. */
static gboolean
read_line (const char *path, guint line, const char *text, BmsFrame **frame, GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GError) local = NULL;

  if (!bms_hex_parse_line (text, bytes, &local))
    {
      g_set_error (error, BMS_HEX_ERROR, BMS_HEX_ERROR_SYNTAX, "%s:%u: %s", path, line,
                   local->message);
      return FALSE;
    }
  if (bytes->len == 0)
    return TRUE;
  *frame = bms_frame_decode (bytes->data, bytes->len, &local);
  if (*frame == NULL)
    {
      g_set_error (error, BMS_HEX_ERROR, BMS_HEX_ERROR_FRAME, "%s:%u: not a valid frame: %s", path,
                   line, local->message);
      return FALSE;
    }
  return TRUE;
}

static void
clear_hex_frame (gpointer data)
{
  g_clear_pointer (&((BmsHexFrame *)data)->frame, bms_frame_free);
}

GArray *
bms_hex_read_frames (const char *path, GError **error)
{
  g_autoptr (GArray) frames = g_array_new (FALSE, TRUE, sizeof (BmsHexFrame));
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) local = NULL;
  guint n_lines;

  g_return_val_if_fail (path != NULL, NULL);

  g_array_set_clear_func (frames, clear_hex_frame);
  if (!g_file_get_contents (path, &contents, NULL, &local))
    {
      /* GLib's message names the file already. */
      g_set_error_literal (error, BMS_HEX_ERROR, BMS_HEX_ERROR_IO, local->message);
      return NULL;
    }
  lines = g_strsplit (contents, "\n", -1);
  n_lines = g_strv_length (lines);
  if (n_lines > 0 && *lines[n_lines - 1] == '\0')
    n_lines--; /* the newline ending the last line */
  for (guint i = 0; i < n_lines; i++)
    {
      BmsHexFrame entry = { NULL, i + 1 };

      if (!read_line (path, i + 1, lines[i], &entry.frame, error))
        return NULL;
      if (entry.frame != NULL)
        g_array_append_val (frames, entry);
    }
  if (frames->len == 0)
    {
      g_set_error (error, BMS_HEX_ERROR, BMS_HEX_ERROR_NO_FRAME,
                   "%s: no frame in its %u line%s (only blank and # comment lines): "
                   "expected hex frames one per line, as packwatch-cli capture writes them",
                   path, n_lines, n_lines == 1 ? "" : "s");
      return NULL;
    }
  return g_steal_pointer (&frames);
}

char *
bms_hex_format (const guint8 *data, gsize len)
{
  GString *out = g_string_sized_new (len * 3);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, i ? " %02X" : "%02X", data[i]);
  return g_string_free (out, FALSE);
}
