/* bms-snapshot.c — decode/encode info fields through the catalogue. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "bms-frame.h"
#include "bms-snapshot.h"

#define PRESENT(s, id)     (((s)->present[(id) >> 6] >> ((id) & 63)) & 1)
#define SET_PRESENT(s, id) ((s)->present[(id) >> 6] |= G_GUINT64_CONSTANT (1) << ((id) & 63))
#define CLR_PRESENT(s, id) ((s)->present[(id) >> 6] &= ~(G_GUINT64_CONSTANT (1) << ((id) & 63)))

BmsSnapshot *
bms_snapshot_new (void)
{
  BmsSnapshot *s = g_new0 (BmsSnapshot, 1);
  s->timestamp_us = g_get_real_time ();
  return s;
}

BmsSnapshot *
bms_snapshot_copy (const BmsSnapshot *snapshot)
{
  BmsSnapshot *s = g_memdup2 (snapshot, sizeof *snapshot);

  for (guint i = 0; i < 256; i++)
    if (snapshot->bytes[i])
      s->bytes[i] = g_memdup2 (snapshot->bytes[i], bms_field_lookup (i)->size);
  return s;
}

void
bms_snapshot_free (BmsSnapshot *snapshot)
{
  if (snapshot == NULL)
    return;
  for (guint i = 0; i < 256; i++)
    if (snapshot->bytes[i] != NULL)
      g_free (snapshot->bytes[i]);
  g_free (snapshot);
}

gboolean
bms_snapshot_has (const BmsSnapshot *snapshot, guint8 id)
{
  return PRESENT (snapshot, id);
}

gint64
bms_snapshot_get_raw (const BmsSnapshot *snapshot, guint8 id)
{
  return snapshot->raw[id];
}

double
bms_snapshot_get (const BmsSnapshot *snapshot, guint8 id)
{
  const BmsFieldInfo *f = bms_field_lookup (id);
  return f ? bms_field_to_engineering (f, snapshot->raw[id]) : 0;
}

guint8
bms_snapshot_setting_id (const BmsSnapshot *snapshot, guint8 id)
{
  const BmsFieldInfo *in_place = bms_field_replacement (id);

  return in_place != NULL && PRESENT (snapshot, in_place->id) && snapshot->raw[in_place->id] != 0
         ? in_place->id : id;
}

guint8
bms_snapshot_pack_voltage_id (const BmsSnapshot *snapshot)
{
  if (PRESENT (snapshot, BMS_ID_PACK_VOLTAGE_HV))
    return BMS_ID_PACK_VOLTAGE_HV;
  return PRESENT (snapshot, BMS_ID_PACK_VOLTAGE) ? BMS_ID_PACK_VOLTAGE : 0;
}

double
bms_snapshot_get_pack_voltage (const BmsSnapshot *snapshot)
{
  guint8 id = bms_snapshot_pack_voltage_id (snapshot);
  return id ? bms_snapshot_get (snapshot, id) : NAN;
}

gboolean
bms_cells_get_range (const guint16 *cells_mv, guint n_cells, guint *lowest, guint *highest)
{
  guint lo = 0, hi = 0;

  g_return_val_if_fail (cells_mv != NULL || n_cells == 0, FALSE);
  for (guint i = 1; i < n_cells; i++)
    {
      if (cells_mv[i] < cells_mv[lo])
        lo = i;
      if (cells_mv[i] > cells_mv[hi])
        hi = i;
    }
  if (lowest != NULL)
    *lowest = lo;
  if (highest != NULL)
    *highest = hi;
  return n_cells > 0;
}

gboolean
bms_snapshot_get_cell_range (const BmsSnapshot *snapshot, guint *lowest, guint *highest)
{
  g_return_val_if_fail (snapshot != NULL, FALSE);
  return bms_cells_get_range (snapshot->cells_mv, MIN (snapshot->n_cells, BMS_MAX_CELLS), lowest,
                              highest);
}

const guint8 *
bms_snapshot_get_bytes (const BmsSnapshot *snapshot, guint8 id)
{
  return snapshot->bytes[id];
}

char *
bms_snapshot_dup_string (const BmsSnapshot *snapshot, guint8 id)
{
  const BmsFieldInfo *f = bms_field_lookup (id);
  char *s;

  if (!f || !snapshot->bytes[id])
    return NULL;
  s = g_strndup ((const char *) snapshot->bytes[id], f->size);
  for (char *p = s; *p; p++)
    if ((guchar) *p < 0x20 || (guchar) *p > 0x7E)
      *p = '?';
  return g_strchomp (s);
}

void
bms_snapshot_set_raw (BmsSnapshot *snapshot, guint8 id, gint64 raw)
{
  snapshot->raw[id] = raw;
  SET_PRESENT (snapshot, id);
}

void
bms_snapshot_set_bytes (BmsSnapshot *snapshot, guint8 id, const guint8 *bytes, gsize len)
{
  const BmsFieldInfo *f = bms_field_lookup (id);

  g_return_if_fail (f != NULL && f->size > 0);
  g_free (snapshot->bytes[id]);
  snapshot->bytes[id] = g_malloc0 (f->size);
  memcpy (snapshot->bytes[id], bytes, MIN (len, f->size));
  SET_PRESENT (snapshot, id);
}

void
bms_snapshot_set_string (BmsSnapshot *snapshot, guint8 id, const char *text)
{
  bms_snapshot_set_bytes (snapshot, id, (const guint8 *) text, strlen (text));
}

void
bms_snapshot_set_cells (BmsSnapshot *snapshot, const guint16 *mv, guint n)
{
  n = MIN (n, BMS_MAX_CELLS);
  memcpy (snapshot->cells_mv, mv, n * sizeof *mv);
  snapshot->n_cells = n;
  SET_PRESENT (snapshot, BMS_ID_CELLS);
  if (n > BMS_CELLS_IN_0X79)
    SET_PRESENT (snapshot, BMS_ID_CELLS_EXT);
  else
    CLR_PRESENT (snapshot, BMS_ID_CELLS_EXT);
}

void
bms_snapshot_set_module_temps (BmsSnapshot *snapshot, const gint16 (*temps)[3], guint n_modules)
{
  n_modules = MIN (n_modules, BMS_MAX_MODULES);
  memcpy (snapshot->module_temps_c, temps, n_modules * sizeof *temps);
  snapshot->n_module_temps = n_modules;
  SET_PRESENT (snapshot, BMS_ID_MODULE_TEMPS);
}

void
bms_snapshot_remove (BmsSnapshot *snapshot, guint8 id)
{
  CLR_PRESENT (snapshot, id);
  g_clear_pointer (&snapshot->bytes[id], g_free);
  snapshot->raw[id] = 0;
}

static gboolean
bad_info (GError **error, guint8 id, gsize offset, const char *why)
{
  g_set_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_INFO,
               "bad info field: identifier 0x%02X at offset %" G_GSIZE_FORMAT ": %s",
               id, offset, why);
  return FALSE;
}

/* What one decode has seen so far: ids and cell numbers, to refuse a
 * repeat and to find cells a block left out. */
typedef struct
{
  guint64 ids[4];
  guint64 cells[BMS_MAX_CELLS / 64];
} Seen;

#define SEEN(bits, i)     (((bits)[(i) >> 6] >> ((i) & 63)) & 1)
#define SET_SEEN(bits, i) ((bits)[(i) >> 6] |= G_GUINT64_CONSTANT (1) << ((i) & 63))

/* Variable-length blocks; returns the bytes consumed or 0 on error. */
static gsize
parse_cells (BmsSnapshot *s, Seen *seen, const guint8 *p, gsize avail, GError **error, gsize off)
{
  gsize n;

  if (avail < 1 || avail < 1 + (gsize) p[0])
    return bad_info (error, 0x79, off, "cell block runs past the end"), 0;
  if (p[0] % 3)
    return bad_info (error, 0x79, off, "cell block length is not a multiple of 3"), 0;
  n = p[0] / 3;
  for (gsize i = 0; i < n; i++)
    {
      guint cell = p[1 + 3 * i];
      if (cell < 1 || cell > BMS_CELLS_IN_0X79)
        return bad_info (error, 0x79, off, "cell number out of range"), 0;
      if (SEEN (seen->cells, cell - 1))
        {
          g_autofree char *why = g_strdup_printf ("cell %u is given twice", cell);
          return bad_info (error, 0x79, off, why), 0;
        }
      SET_SEEN (seen->cells, cell - 1);
      s->cells_mv[cell - 1] = (p[2 + 3 * i] << 8) | p[3 + 3 * i];
      s->n_cells = MAX (s->n_cells, cell);
    }
  SET_PRESENT (s, BMS_ID_CELLS);
  return 1 + p[0];
}

static gsize
parse_cells_ext (BmsSnapshot *s, Seen *seen, const guint8 *p, gsize avail, GError **error,
                 gsize off)
{
  gsize len, n;

  if (avail < 2)
    return bad_info (error, BMS_ID_CELLS_EXT, off, "length runs past the end"), 0;
  len = ((gsize) p[0] << 8) | p[1];
  if (avail < 2 + len || len % 2)
    return bad_info (error, BMS_ID_CELLS_EXT, off, "block runs past the end or odd length"), 0;
  n = len / 2;
  if (BMS_CELLS_IN_0X79 + n > BMS_MAX_CELLS)
    return bad_info (error, BMS_ID_CELLS_EXT, off, "more than 256 cells"), 0;
  for (gsize i = 0; i < n; i++)
    {
      s->cells_mv[BMS_CELLS_IN_0X79 + i] = (p[2 + 2 * i] << 8) | p[3 + 2 * i];
      SET_SEEN (seen->cells, BMS_CELLS_IN_0X79 + i);
    }
  if (n)
    s->n_cells = MAX (s->n_cells, BMS_CELLS_IN_0X79 + n);
  SET_PRESENT (s, BMS_ID_CELLS_EXT);
  return 2 + len;
}

static gsize
parse_module_temps (BmsSnapshot *s, const guint8 *p, gsize avail, GError **error, gsize off)
{
  gsize n;

  if (avail < 1 || avail < 1 + (gsize) p[0] || p[0] % 6 || p[0] / 6 > BMS_MAX_MODULES)
    return bad_info (error, BMS_ID_MODULE_TEMPS, off, "module temperature block malformed"), 0;
  n = p[0] / 6;
  for (gsize m = 0; m < n; m++)
    for (gsize t = 0; t < 3; t++)
      s->module_temps_c[m][t] = (gint16) ((p[1 + 6 * m + 2 * t] << 8) | p[2 + 6 * m + 2 * t]);
  s->n_module_temps = n;
  SET_PRESENT (s, BMS_ID_MODULE_TEMPS);
  return 1 + p[0];
}

static gsize
parse_value (BmsSnapshot *s, Seen *seen, const BmsFieldInfo *f, const guint8 *p, gsize avail,
             GError **error, gsize off)
{
  switch (f->type)
    {
    case BMS_FIELD_CELLS:
      return parse_cells (s, seen, p, avail, error, off);
    case BMS_FIELD_CELLS_EXT:
      return parse_cells_ext (s, seen, p, avail, error, off);
    case BMS_FIELD_MODULE_TEMPS:
      return parse_module_temps (s, p, avail, error, off);
    default:
      if (avail < f->size)
        return bad_info (error, f->id, off, "value runs past the end"), 0;
      if (bms_field_is_numeric (f))
        bms_snapshot_set_raw (s, f->id, bms_field_decode_raw (f, p, 1));
      else
        bms_snapshot_set_bytes (s, f->id, p, f->size);
      return f->size;
    }
}

gboolean
bms_snapshot_parse (BmsSnapshot *snapshot, const guint8 *info, gsize len, GError **error)
{
  Seen seen = { { 0 }, { 0 } };
  gsize off = 0;
  gsize current_off = G_MAXSIZE;

  g_return_val_if_fail (snapshot != NULL, FALSE);

  while (off < len)
    {
      guint8 id = info[off];
      const BmsFieldInfo *f = bms_field_lookup (id);
      gsize used;

      if (f == NULL)
        return bad_info (error, id, off, "unknown identifier");
      /* Which of two values would be true? Neither can be trusted. */
      if (SEEN (seen.ids, id))
        return bad_info (error, id, off, "identifier given twice in one frame");
      SET_SEEN (seen.ids, id);
      /* The current's meaning depends on 0xC0, which comes later. */
      if (f->type == BMS_FIELD_CURRENT)
        current_off = off + 1;
      used = parse_value (snapshot, &seen, f, info + off + 1, len - off - 1, error, off);
      if (used == 0)
        return FALSE;
      off += 1 + used;
    }
  if (current_off != G_MAXSIZE && bms_snapshot_has (snapshot, BMS_ID_PROTOCOL_VERSION))
    snapshot->raw[BMS_ID_CURRENT] =
      bms_field_decode_raw (bms_field_lookup (BMS_ID_CURRENT), info + current_off,
                            (guint8) snapshot->raw[BMS_ID_PROTOCOL_VERSION]);
  snapshot->n_cells_missing = 0;
  for (guint i = 0; i < snapshot->n_cells; i++)
    snapshot->n_cells_missing += !SEEN (seen.cells, i);
  return TRUE;
}

/* Plausibility ---------------------------------------------------------- */

static gboolean implausible (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
implausible (GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  if (error != NULL)
    *error = g_error_new_valist (BMS_FIELD_ERROR, BMS_FIELD_ERROR_IMPLAUSIBLE, format, args);
  va_end (args);
  return FALSE;
}

static gboolean
check_cells (const BmsSnapshot *s, GError **error)
{
  if (s->n_cells_missing > 0)
    return implausible (error, "the cell block reaches cell %u but lacks %u of those cells",
                        s->n_cells, s->n_cells_missing);
  for (guint i = 0; i < s->n_cells; i++)
    {
      const BmsFieldInfo *f
          = bms_field_lookup (i < BMS_CELLS_IN_0X79 ? BMS_ID_CELLS : BMS_ID_CELLS_EXT);
      if (s->cells_mv[i] > f->phys_max)
        return implausible (error,
                            "cell %u = %u mV is beyond what any cell can show "
                            "(%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " mV)",
                            i + 1, s->cells_mv[i], f->phys_min, f->phys_max);
    }
  if (PRESENT (s, BMS_ID_CELL_COUNT) && PRESENT (s, BMS_ID_CELLS)
      && s->raw[BMS_ID_CELL_COUNT] != (gint64)s->n_cells)
    return implausible (error,
                        "the cell count (cell_count) is %" G_GINT64_FORMAT
                        " but the cell block carries %u cells",
                        s->raw[BMS_ID_CELL_COUNT], s->n_cells);
  return TRUE;
}

static gboolean
check_module_temps (const BmsSnapshot *s, GError **error)
{
  const BmsFieldInfo *f = bms_field_lookup (BMS_ID_MODULE_TEMPS);

  for (guint m = 0; m < s->n_module_temps; m++)
    for (guint t = 0; t < 3; t++)
      if (s->module_temps_c[m][t] < f->phys_min || s->module_temps_c[m][t] > f->phys_max)
        return implausible (error,
                            "module %u T%u = %d °C is beyond what any pack can report "
                            "(%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " °C)",
                            m + 1, t, s->module_temps_c[m][t], f->phys_min, f->phys_max);
  return TRUE;
}

gboolean
bms_snapshot_check_plausible (const BmsSnapshot *snapshot, GError **error)
{
  guint n;
  const BmsFieldInfo *all = bms_field_all (&n);

  g_return_val_if_fail (snapshot != NULL, FALSE);
  for (guint i = 0; i < n; i++)
    if (bms_field_is_numeric (&all[i]) && PRESENT (snapshot, all[i].id)
        && !bms_field_check_physical (&all[i], snapshot->raw[all[i].id], error))
      return FALSE;
  return check_cells (snapshot, error) && check_module_temps (snapshot, error);
}

static guint8
protocol_version (const BmsSnapshot *snapshot)
{
  return bms_snapshot_has (snapshot, BMS_ID_PROTOCOL_VERSION)
         ? (guint8) snapshot->raw[BMS_ID_PROTOCOL_VERSION] : 1;
}

static void
encode_cells (const BmsSnapshot *s, GByteArray *out)
{
  guint n = MIN (s->n_cells, BMS_CELLS_IN_0X79);
  guint8 len = n * 3;

  g_byte_array_append (out, &len, 1);
  for (guint i = 0; i < n; i++)
    {
      guint8 t[3] = { i + 1, s->cells_mv[i] >> 8, s->cells_mv[i] & 0xFF };
      g_byte_array_append (out, t, 3);
    }
}

static void
encode_cells_ext (const BmsSnapshot *s, GByteArray *out)
{
  guint n = s->n_cells > BMS_CELLS_IN_0X79 ? s->n_cells - BMS_CELLS_IN_0X79 : 0;
  guint8 len[2] = { (2 * n) >> 8, (2 * n) & 0xFF };

  g_byte_array_append (out, len, 2);
  for (guint i = 0; i < n; i++)
    {
      guint16 v = s->cells_mv[BMS_CELLS_IN_0X79 + i];
      guint8 t[2] = { v >> 8, v & 0xFF };
      g_byte_array_append (out, t, 2);
    }
}

static void
encode_module_temps (const BmsSnapshot *s, GByteArray *out)
{
  guint8 len = s->n_module_temps * 6;

  g_byte_array_append (out, &len, 1);
  for (guint m = 0; m < s->n_module_temps; m++)
    for (guint t = 0; t < 3; t++)
      {
        guint16 v = (guint16) s->module_temps_c[m][t];
        guint8 b[2] = { v >> 8, v & 0xFF };
        g_byte_array_append (out, b, 2);
      }
}

gboolean
bms_snapshot_encode_field (const BmsSnapshot *snapshot, guint8 id, GByteArray *out)
{
  const BmsFieldInfo *f = bms_field_lookup (id);
  guint8 buf[8];

  if (f == NULL || !PRESENT (snapshot, id))
    return FALSE;
  g_byte_array_append (out, &id, 1);
  switch (f->type)
    {
    case BMS_FIELD_CELLS:
      encode_cells (snapshot, out);
      break;
    case BMS_FIELD_CELLS_EXT:
      encode_cells_ext (snapshot, out);
      break;
    case BMS_FIELD_MODULE_TEMPS:
      encode_module_temps (snapshot, out);
      break;
    case BMS_FIELD_ASCII:
    case BMS_FIELD_BYTES:
      if (snapshot->bytes[id])
        g_byte_array_append (out, snapshot->bytes[id], f->size);
      else
        {
          g_autofree guint8 *zero = g_malloc0 (f->size);
          g_byte_array_append (out, zero, f->size);
        }
      break;
    default:
      bms_field_encode_raw (f, snapshot->raw[id], buf, protocol_version (snapshot));
      g_byte_array_append (out, buf, f->size);
      break;
    }
  return TRUE;
}

void
bms_snapshot_encode (const BmsSnapshot *snapshot, GByteArray *out)
{
  guint n;
  const BmsFieldInfo *all = bms_field_all (&n);

  for (guint i = 0; i < n; i++)
    if (all[i].access & BMS_ACCESS_R)
      bms_snapshot_encode_field (snapshot, all[i].id, out);
}

/* JSON ------------------------------------------------------------------ */

static void
json_string (GString *s, const char *text)
{
  g_string_append_c (s, '"');
  for (const char *p = text; *p; p++)
    {
      guchar c = *p;
      if (c == '"' || c == '\\')
        g_string_append_printf (s, "\\%c", c);
      else if (c < 0x20 || c > 0x7E)
        g_string_append_printf (s, "\\u%04x", c);
      else
        g_string_append_c (s, c);
    }
  g_string_append_c (s, '"');
}

static void
json_number (GString *s, const BmsFieldInfo *f, gint64 raw)
{
  if (f->scale == 1)
    g_string_append_printf (s, "%" G_GINT64_FORMAT, raw);
  else
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append (s, g_ascii_formatd (buf, sizeof buf, f->scale < 0.1 ? "%.2f" : "%.1f",
                                           bms_field_to_engineering (f, raw)));
    }
}

static void
json_value (GString *s, const BmsSnapshot *snap, const BmsFieldInfo *f)
{
  switch (f->type)
    {
    case BMS_FIELD_CELLS:
      g_string_append_c (s, '[');
      for (guint i = 0; i < snap->n_cells; i++)
        g_string_append_printf (s, "%s%u", i ? ", " : "", snap->cells_mv[i]);
      g_string_append_c (s, ']');
      break;
    case BMS_FIELD_MODULE_TEMPS:
      g_string_append_c (s, '[');
      for (guint m = 0; m < snap->n_module_temps; m++)
        g_string_append_printf (s, "%s[%d, %d, %d]", m ? ", " : "", snap->module_temps_c[m][0],
                                snap->module_temps_c[m][1], snap->module_temps_c[m][2]);
      g_string_append_c (s, ']');
      break;
    case BMS_FIELD_ASCII:
      {
        g_autofree char *text = bms_snapshot_dup_string (snap, f->id);
        json_string (s, text ? text : "");
      }
      break;
    case BMS_FIELD_BYTES:
      g_string_append_c (s, '[');
      for (guint i = 0; i < f->size; i++)
        g_string_append_printf (s, "%s%u", i ? ", " : "",
                                snap->bytes[f->id] ? snap->bytes[f->id][i] : 0);
      g_string_append_c (s, ']');
      break;
    case BMS_FIELD_ENUM:
      {
        gint64 raw = snap->raw[f->id];
        if (f->names && raw >= 0 && raw < (gint64) g_strv_length ((char **) f->names))
          json_string (s, f->names[raw]);
        else
          g_string_append_printf (s, "%" G_GINT64_FORMAT, raw);
      }
      break;
    case BMS_FIELD_BOOL:
      g_string_append (s, snap->raw[f->id] ? "true" : "false");
      break;
    default:
      json_number (s, f, snap->raw[f->id]);
      break;
    }
}

/* The pack's real voltage goes first among the pack values, before the
 * raw field(s) it comes from. */
static gboolean
json_pack_voltage_here (const BmsSnapshot *snapshot, const BmsFieldInfo *f)
{
  return f->id == BMS_ID_PACK_VOLTAGE
         || (f->id == BMS_ID_PACK_VOLTAGE_HV && !PRESENT (snapshot, BMS_ID_PACK_VOLTAGE));
}

char *
bms_snapshot_to_json (const BmsSnapshot *snapshot)
{
  GString *s = g_string_new ("{");
  gboolean first = TRUE;
  guint n;
  const BmsFieldInfo *all = bms_field_all (&n);

  for (guint i = 0; i < n; i++)
    {
      const BmsFieldInfo *f = &all[i];
      if (f->type == BMS_FIELD_CELLS_EXT || !PRESENT (snapshot, f->id))
        continue;
      g_string_append (s, first ? "" : ", ");
      first = FALSE;
      if (json_pack_voltage_here (snapshot, f))
        {
          const BmsFieldInfo *in_use = bms_field_lookup (bms_snapshot_pack_voltage_id (snapshot));

          json_string (s, BMS_PACK_VOLTAGE_KEY);
          g_string_append (s, ": ");
          json_number (s, in_use, snapshot->raw[in_use->id]);
          g_string_append (s, ", ");
        }
      json_string (s, f->name);
      g_string_append (s, ": ");
      json_value (s, snapshot, f);
    }
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}
