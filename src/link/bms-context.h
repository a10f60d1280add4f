/* bms-context.h — hand work from a worker thread to the thread that owns a
 * main context.
 *
 * g_main_context_invoke() is not that: when the calling thread finds the
 * context free (its owner is between two iterations, as a test or a
 * command-line loop often is) and the context is the global default, it runs
 * the function *in the calling thread*. A poller thread then emitted device
 * signals into GTK widgets while the main thread was using them. This always
 * queues the function on the context, to run in whichever thread iterates it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void bms_context_post (GMainContext   *context,
                       GSourceFunc     func,
                       gpointer        data,
                       GDestroyNotify  notify);

G_END_DECLS
