/* bms-field-writes.c — the fields a page writes and their results */
#include "config.h"

#include <glib/gi18n.h>

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
