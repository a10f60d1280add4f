/* bms-xlsx-check.h — reads back a workbook to prove it is complete.
 *
 * libxlsxwriter does not check the writes to its temporary files: on a full
 * disk it can produce a well-formed zip whose worksheets are cut short. A
 * BmsXlsxCheck proves the finished file whole: every worksheet in the zip's
 * central directory inflates to its end and closes with </worksheet>, and
 * there are as many worksheets as the writer made.
 *
 * Start it before workbook_close () and it follows the zip as it is
 * written, on a thread of its own, so on two cores the check costs no extra
 * time; finish it once the file is closed and it inflates only what the
 * thread could not. Created after the file is complete it simply reads it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _BmsXlsxCheck BmsXlsxCheck;

/* Starts following the zip being written at path. Never NULL: when path
 * cannot be opened yet, the whole check runs in _finish (). */
BmsXlsxCheck *bms_xlsx_check_new (const char *path);
/* The writer has closed the file: stops following it and checks the rest.
 * FALSE with G_IO_ERROR_INVALID_DATA when a worksheet is missing, cut
 * short or unreadable, G_IO_ERROR_CANCELLED when cancelled. Call once. */
gboolean bms_xlsx_check_finish (BmsXlsxCheck *self, guint n_worksheets, GCancellable *cancellable,
                                GError **error);
/* Worksheets found complete while the file was written (after _finish). */
guint bms_xlsx_check_get_n_live (BmsXlsxCheck *self);
void bms_xlsx_check_free (BmsXlsxCheck *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BmsXlsxCheck, bms_xlsx_check_free)

G_END_DECLS
