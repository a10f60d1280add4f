/* bms-field-writes.c — the fields a page writes and their results */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "bms-field-writes.h"
#include "bms-field.h"

char *
bms_field_writes_format (guint8      id,
                         gint64      raw,
                         const char *text)
{
  const BmsFieldInfo *field = bms_field_lookup (id);

  if (field == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT, raw);
  if (field->type == BMS_FIELD_ASCII)
    return g_strdup (text ? text : "");
  return bms_field_format (field, raw);
}

static void
field_write_free (BmsFieldWrite *write)
{
  g_free (write->text);
  g_free (write->result);
  g_free (write);
}

GPtrArray *
bms_field_writes_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) field_write_free);
}

void
bms_field_writes_add (GPtrArray  *writes,
                      guint8      id,
                      gint64      raw,
                      const char *text)
{
  BmsFieldWrite *write = g_new0 (BmsFieldWrite, 1);

  g_return_if_fail (writes != NULL);
  write->id = id;
  write->raw = raw;
  write->text = g_strdup (text);
  g_ptr_array_add (writes, write);
}

void
bms_field_writes_add_lease (GPtrArray  *writes,
                            gint64      end,
                            const char *code)
{
  g_return_if_fail (writes != NULL);
  g_return_if_fail (code != NULL);

  bms_field_writes_add (writes, BMS_ID_LEASE_END, end, NULL);
  bms_field_writes_add (writes, BMS_ID_LEASE_CODE, 0, code);
}

gboolean
bms_field_writes_check_lease_code (const char  *code,
                                   GError     **error)
{
  const BmsFieldInfo *field = bms_field_lookup (BMS_ID_LEASE_CODE);

  g_return_val_if_fail (code != NULL, FALSE);

  if (strlen (code) > field->size)
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE,
                   _("The code has %u characters; the board keeps at most %u"),
                   (guint) strlen (code), field->size);
      return FALSE;
    }
  for (const char *p = code; *p; p++)
    if (!g_ascii_isprint (*p))
      {
        g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE,
                     _("Use letters, digits and ASCII signs only in the code"));
        return FALSE;
      }
  return TRUE;
}

gboolean
bms_field_writes_all_ok (GPtrArray *writes)
{
  for (guint i = 0; i < writes->len; i++)
    if (!((BmsFieldWrite *) g_ptr_array_index (writes, i))->ok)
      return FALSE;
  return writes->len > 0;
}

void
bms_field_writes_describe (GPtrArray *writes,
                           gboolean   failures_only,
                           GString   *text)
{
  for (guint i = 0; i < writes->len; i++)
    {
      BmsFieldWrite *w = g_ptr_array_index (writes, i);
      if (!failures_only || !w->ok)
        g_string_append_printf (text, "%s%s: %s", text->len ? "\n" : "",
                                _(bms_field_lookup (w->id)->label), w->result);
    }
}
