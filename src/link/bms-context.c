/* bms-context.c — see bms-context.h. */
#include "bms-context.h"

/* Runs func (data) at default priority from the loop that iterates
 * context (NULL: the global default context) until it returns
 * G_SOURCE_REMOVE, as an idle source would, then notify (data). Safe to
 * call from any thread. */
void
bms_context_post (GMainContext   *context,
                  GSourceFunc     func,
                  gpointer        data,
                  GDestroyNotify  notify)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_set_static_name (source, "[packwatch] bms_context_post");
  g_source_attach (source, context);
  g_source_unref (source);
}
