/* bms-field-writes.h — the few fields a page writes (service settings,
 * lease, calibration, commands) and the result of each, for a result per
 * row. They are written as one change set by
 * bms_connection_write_fields_async; nothing here talks to a board.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

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
/* The lease as one change: its end (Unix time, 0 for none) and its code. */
void       bms_field_writes_add_lease    (GPtrArray   *writes,
                                          gint64       end,
                                          const char  *code);
/* Whether code fits the board's lease code field (length, plain ASCII). */
gboolean   bms_field_writes_check_lease_code (const char *code,
                                              GError    **error);

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
