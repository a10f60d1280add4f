/* bms-param-dialog.h — the "modify parameter" dialog: name, current value,
 * type, range and the new value, with the vendor rules checked as you type. */
#pragma once

#include <adwaita.h>
#include "bms-field.h"
#include "bms-param-set.h"

G_BEGIN_DECLS

/* current: the board's parameters (rules are checked against them); may be
 * NULL. Finishes with the new raw value (numeric fields) or text (ASCII). */
void     bms_param_dialog_ask_async  (GtkWidget           *parent,
                                      const BmsFieldInfo  *field,
                                      BmsParamSet         *current,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
gboolean bms_param_dialog_ask_finish (GAsyncResult        *result,
                                      gint64              *raw_out,
                                      char               **text_out,
                                      GError             **error);
/* Human type: "unsigned, 2 bytes", "text, 16 characters", "choice", "switch". */
char    *bms_param_dialog_format_type  (const BmsFieldInfo *field);
/* A raw value as the UI shows it (translated names for switches). */
char    *bms_param_dialog_format_value (const BmsFieldInfo *field,
                                        BmsParamSet        *set);

G_END_DECLS
