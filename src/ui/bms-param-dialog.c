/* bms-param-dialog.c — the "modify parameter" dialog */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-param-dialog.h"
#include "bms-setting.h"

typedef struct {
  const BmsFieldInfo *field;
  BmsParamSet        *current;
  GtkWidget          *dialog;
  GtkWidget          *entry;      /* GtkEntry, or GtkDropDown for choices */
  GtkWidget          *problem;
  gint64              raw;
  char               *text;
} Ask;

static void
ask_free (Ask *ask)
{
  g_clear_object (&ask->current);
  g_free (ask->text);
  g_free (ask);
}

static gboolean
is_choice (const BmsFieldInfo *field)
{
  return field->type == BMS_FIELD_BOOL ||
         (field->type == BMS_FIELD_ENUM && field->names != NULL);
}

char *
bms_param_dialog_format_type (const BmsFieldInfo *field)
{
  switch (field->type)
    {
    case BMS_FIELD_BOOL:
      return g_strdup (_("switch (on/off)"));
    case BMS_FIELD_ENUM:
      return g_strdup (_("choice"));
    case BMS_FIELD_ASCII:
      return g_strdup_printf (_("text, %u characters"), field->size);
    case BMS_FIELD_INT:
    case BMS_FIELD_TEMP:
      return g_strdup_printf (_("signed number, %u bytes (id 0x%02X)"), field->size, field->id);
    default:
      return g_strdup_printf (_("unsigned number, %u bytes (id 0x%02X)"), field->size, field->id);
    }
}

char *
bms_param_dialog_format_value (const BmsFieldInfo *field,
                               BmsParamSet        *set)
{
  if (set == NULL || !bms_param_set_has (set, field->id))
    return g_strdup ("—");
  if (field->type == BMS_FIELD_ASCII)
    {
      const char *text = bms_param_set_get_string (set, field->id);
      return g_strdup (text && *text ? text : _("(empty)"));
    }
  if (is_choice (field))
    return bms_setting_choice_label (field, bms_param_set_get_raw (set, field->id));
  /* An extension standing in for a public field is off at 0: "0.00 V" next
   * to a pack protection would read as a limit of zero. */
  if (field->replaces != 0 && bms_param_set_get_raw (set, field->id) == 0)
    return g_strdup (C_("parameter value", "Not used"));
  return bms_field_format (field, bms_param_set_get_raw (set, field->id));
}

/* Reads the editor; TRUE with raw/text set when the value passes the range
 * and every rule, else FALSE with the reason. */
static gboolean
read_value (Ask     *ask,
            GError **error)
{
  const BmsFieldInfo *f = ask->field;
  g_autofree char *text = NULL;

  g_clear_pointer (&ask->text, g_free);
  if (is_choice (f))
    ask->raw = gtk_drop_down_get_selected (GTK_DROP_DOWN (ask->entry));
  else
    {
      const char *typed = gtk_editable_get_text (GTK_EDITABLE (ask->entry));

      if (*typed == '\0')
        {
          g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE,
                       _("Type the new value"));
          return FALSE;
        }
      if (!bms_field_parse_value (f, typed, &ask->raw, &text, error))
        return FALSE;
      if (f->type == BMS_FIELD_ASCII)
        {
          ask->text = g_steal_pointer (&text);
          return TRUE;
        }
    }
  if (!bms_param_check_range (f, ask->raw, error))
    return FALSE;
  if (ask->current != NULL)
    return bms_param_set_check_value (ask->current, f->id, ask->raw, error);
  return TRUE;
}

static void
revalidate (Ask *ask)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = read_value (ask, &error);

  /* An empty entry only disables Write: no scolding before typing. */
  gboolean empty = GTK_IS_EDITABLE (ask->entry) &&
                   *gtk_editable_get_text (GTK_EDITABLE (ask->entry)) == '\0';

  gtk_label_set_label (GTK_LABEL (ask->problem), ok ? "" : error->message);
  gtk_widget_set_visible (ask->problem, !ok && !empty);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (ask->dialog), "write", ok);
}

static void
response (AdwMessageDialog *dialog,
          const char       *response_id,
          GTask            *task)
{
  Ask *ask = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!g_str_equal (response_id, "write"))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Not changed"));
  else if (!read_value (ask, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static GtkWidget *
make_editor (Ask *ask)
{
  const BmsFieldInfo *f = ask->field;

  if (is_choice (f))
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      g_auto(GStrv) items = NULL;
      gint64 n = f->type == BMS_FIELD_BOOL ? 2 : g_strv_length ((char **) f->names);

      for (gint64 v = 0; v < n; v++)
        {
          g_autofree char *label = bms_setting_choice_label (f, v);
          g_strv_builder_add (builder, label);
        }
      items = g_strv_builder_end (builder);
      ask->entry = gtk_drop_down_new_from_strings ((const char * const *) items);
    }
  else
    {
      ask->entry = gtk_entry_new ();
      gtk_entry_set_activates_default (GTK_ENTRY (ask->entry), TRUE);
      if (f->type == BMS_FIELD_ASCII)
        gtk_entry_set_max_length (GTK_ENTRY (ask->entry), f->size);
      if (*f->unit)
        gtk_entry_set_placeholder_text (GTK_ENTRY (ask->entry), f->unit);
    }
  if (is_choice (f) && ask->current && bms_param_set_has (ask->current, f->id))
    gtk_drop_down_set_selected (GTK_DROP_DOWN (ask->entry),
                                bms_param_set_get_raw (ask->current, f->id));
  gtk_accessible_update_property (GTK_ACCESSIBLE (ask->entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("New value"), -1);
  return ask->entry;
}

static void
add_line (GtkGrid    *grid,
          int         row,
          const char *name,
          GtkWidget  *value)
{
  GtkWidget *label = gtk_label_new (name);

  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_grid_attach (grid, label, 0, row, 1, 1);
  gtk_widget_set_hexpand (value, TRUE);
  if (GTK_IS_LABEL (value))
    {
      gtk_label_set_xalign (GTK_LABEL (value), 0);
      gtk_label_set_selectable (GTK_LABEL (value), TRUE);
      gtk_label_set_wrap (GTK_LABEL (value), TRUE);
    }
  gtk_grid_attach (grid, value, 1, row, 1, 1);
}

static GtkWidget *
make_form (Ask *ask)
{
  GtkWidget *grid = gtk_grid_new ();
  g_autofree char *current = bms_param_dialog_format_value (ask->field, ask->current);
  g_autofree char *type = bms_param_dialog_format_type (ask->field);
  g_autofree char *range = bms_setting_format_range (ask->field);
  GtkWidget *editor = make_editor (ask);

  gtk_grid_set_row_spacing (GTK_GRID (grid), 8);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  add_line (GTK_GRID (grid), 0, _("Current value"), gtk_label_new (current));
  add_line (GTK_GRID (grid), 1, _("Type"), gtk_label_new (type));
  add_line (GTK_GRID (grid), 2, _("Allowed"), gtk_label_new (range));
  add_line (GTK_GRID (grid), 3, _("New value"), editor);
  ask->problem = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (ask->problem), TRUE);
  gtk_label_set_xalign (GTK_LABEL (ask->problem), 0);
  gtk_widget_add_css_class (ask->problem, "error");
  gtk_grid_attach (GTK_GRID (grid), ask->problem, 0, 4, 2, 1);
  if (GTK_IS_ENTRY (editor))
    g_signal_connect_swapped (editor, "changed", G_CALLBACK (revalidate), ask);
  else
    g_signal_connect_swapped (editor, "notify::selected", G_CALLBACK (revalidate), ask);
  return grid;
}

void
bms_param_dialog_ask_async (GtkWidget           *parent,
                            const BmsFieldInfo  *field,
                            BmsParamSet         *current,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GtkRoot *root;
  GTask *task;
  Ask *ask;

  g_return_if_fail (GTK_IS_WIDGET (parent));
  g_return_if_fail (field != NULL);

  root = gtk_widget_get_root (parent);
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_param_dialog_ask_async);
  ask = g_new0 (Ask, 1);
  ask->field = field;
  ask->current = current ? g_object_ref (current) : NULL;
  g_task_set_task_data (task, ask, (GDestroyNotify) ask_free);

  ask->dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        _(field->label), field->description);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (ask->dialog),
                                    "cancel", _("_Cancel"),
                                    "write", _("_Write to Board"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (ask->dialog), "write",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (ask->dialog), "write");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (ask->dialog), "cancel");
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (ask->dialog), make_form (ask));
  g_signal_connect (ask->dialog, "response", G_CALLBACK (response), task);
  revalidate (ask);
  gtk_window_present (GTK_WINDOW (ask->dialog));
  gtk_widget_grab_focus (ask->entry);
}

gboolean
bms_param_dialog_ask_finish (GAsyncResult  *result,
                             gint64        *raw_out,
                             char         **text_out,
                             GError       **error)
{
  Ask *ask;

  g_return_val_if_fail (G_IS_TASK (result), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  ask = g_task_get_task_data (G_TASK (result));
  if (raw_out != NULL)
    *raw_out = ask->raw;
  if (text_out != NULL)
    *text_out = g_strdup (ask->text);
  return TRUE;
}
