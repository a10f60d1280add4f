/* bms-field-writes.h — writes of a few fields through the password-gated
 * session, on a worker, for the Update, Lease and DLoad pages.
 *
 * Each write is verified by the session (read back and compared); the
 * result of every field is kept in its BmsFieldWrite so a page can show a
 * result per row. A locked session is unlocked first with the password the
 * user typed. The pages run them through bms_connection_write_fields_async;
 * only the connection (and tests) pass a session.
 */
#pragma once

#include <gio/gio.h>
#include "bms-history.h"

G_BEGIN_DECLS

typedef struct _BmsSession BmsSession;

typedef struct {
  guint8   id;
  gint64   raw;        /* numeric fields */
  char    *text;       /* ASCII fields (NULL for numeric ones) */
  gboolean done;       /* attempted */
  gboolean ok;
  char    *result;     /* "OK", or what went wrong, for a result column */
} BmsFieldWrite;

/* Element type BmsFieldWrite*, freed with the array. */
GPtrArray *bms_field_writes_new          (void);
void       bms_field_writes_add          (GPtrArray   *writes,
                                          guint8       id,
                                          gint64       raw,
                                          const char  *text);

/* Called in the caller's main context after each field (index into writes). */
typedef void (*BmsFieldWritesProgress) (GPtrArray *writes,
                                        guint      index,
                                        gpointer   user_data);

/* Unlocks with password when given (and the session is locked), then
 * writes every field in order; stop_on_error skips the rest after a
 * failure. The task fails only when unlocking fails or on cancel; the
 * fields' own outcomes are in the array. writes must stay alive and
 * untouched until the callback. With a history (and its device id) every
 * attempt goes to the audit log, old values taken from current (a copy is
 * kept; may be NULL); passwords are logged as hidden. */
void       bms_field_writes_run_async    (BmsSession            *session,
                                          GPtrArray             *writes,
                                          const char            *password,
                                          gboolean               stop_on_error,
                                          BmsHistory            *history,
                                          gint64                 device_id,
                                          const BmsSnapshot     *current,
                                          BmsFieldWritesProgress progress,
                                          gpointer               progress_data,
                                          GCancellable          *cancellable,
                                          GAsyncReadyCallback    callback,
                                          gpointer               user_data);
gboolean   bms_field_writes_run_finish   (GAsyncResult          *result,
                                          GError               **error);
/* A value of id as text: raw for numbers, text for ASCII fields. */
char      *bms_field_writes_format       (guint8                 id,
                                          gint64                 raw,
                                          const char            *text);
/* Every field ok. */
gboolean   bms_field_writes_all_ok       (GPtrArray             *writes);
/* Appends "Label: result" lines to text, one per write (only the failed
 * ones with failures_only), for the pages' result labels. */
void       bms_field_writes_describe     (GPtrArray             *writes,
                                          gboolean               failures_only,
                                          GString               *text);

G_END_DECLS
