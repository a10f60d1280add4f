/* bms-field-writer.h — one field written from a page: ask for the password
 * if the board is locked, then a change set of one through
 * bms_connection_apply_async (ranges and rules checked, read back,
 * audited). */
#pragma once

#include <gtk/gtk.h>
#include "bms-connection.h"

G_BEGIN_DECLS

/* ask_password: prompt when locked (the UI path); FALSE sends the write as
 * is, and the session's gate refuses it while locked. Finishes with the
 * read-back value as text ("3600 mV"). */
void     bms_field_writer_write_async  (GtkWidget           *parent,
                                        BmsConnection       *connection,
                                        guint8               id,
                                        gint64               raw,
                                        const char          *text,
                                        gboolean             ask_password,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean bms_field_writer_write_finish (GAsyncResult        *result,
                                        char               **readback_text,
                                        GError             **error);
/* A value of id as text, raw for numbers, text for ASCII fields. */
char    *bms_field_writer_format       (guint8               id,
                                        gint64               raw,
                                        const char          *text);

G_END_DECLS
