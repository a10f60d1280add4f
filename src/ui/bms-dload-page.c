/* bms-dload-page.c — DLoad, production programming of many boards.
 *
 * The vendor's table (Parameter / Actual / Set / Result) for a fixed list of
 * fields. "Set" comes from a profile (BmsProfile; the password and the
 * Bluetooth name are per board and never stored in profiles) or is typed.
 * Writing builds a BmsChangeSet against the board's values, which checks the
 * whole combination against the vendor rules before anything is sent and
 * writes in a rule-safe order with read-back; the new password goes last,
 * through the same unlocked session. Every board programmed is added to a
 * BmsDloadReport (identity, old → new, results) that is saved whole, on a
 * worker, to the file the user chose (.xlsx or .csv; the folder is
 * remembered), and counts.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-file-chooser.h"
#include "bms-dload-page.h"
#include "bms-application.h"
#include "bms-dload-report.h"
#include "bms-change-set.h"
#include "bms-device.h"
#include "bms-field.h"
#include "bms-history.h"
#include "bms-param-set.h"
#include "bms-profile.h"
#include "bms-setting.h"

typedef struct {
  BmsSetting *setting; /* the vendor's row: what it shows and writes */
  guint8    id;
  GtkLabel *actual;
  GtkEntry *set;
  GtkLabel *result;
  char     *outcome;   /* "ok", "already set", "failed: …" */
  char     *old_text;  /* of the change written, for the report */
  char     *new_text;
} Row;

struct _BmsDloadPage
{
  BmsPage          parent_instance;

  GtkGrid          *table;
  GtkPasswordEntry *unlock_entry;
  GtkLabel         *counter_label;
  GtkLabel         *status_label;
  GtkButton        *report_button;

  GListModel       *fields;    /* BmsSetting, the vendor's rows in order */
  Row              *rows;
  guint             n_rows;
  guint             boards_done;
  char             *report_path;
  BmsDloadReport   *report;
  GSettings        *settings;
  BmsChangeSet     *change_set;
  GCancellable     *cancellable;
};

G_DEFINE_FINAL_TYPE (BmsDloadPage, bms_dload_page, BMS_TYPE_PAGE)

static void update_actions (BmsDloadPage *self);

static void
set_status (BmsDloadPage *self,
            const char   *text)
{
  gtk_label_set_text (self->status_label, text);
}

static Row *
row_for (BmsDloadPage *self,
         guint8        id)
{
  for (guint i = 0; i < self->n_rows; i++)
    if (self->rows[i].id == id)
      return &self->rows[i];
  return NULL;
}

/* The password row's field: a new password goes into the change set. */
static guint8
password_id (BmsDloadPage *self)
{
  for (guint i = 0; i < self->n_rows; i++)
    if (bms_setting_get_secret (self->rows[i].setting))
      return self->rows[i].id;
  g_return_val_if_reached (0);
}

/* --- table -------------------------------------------------------------- */

static void
set_result (Row        *row,
            const char *style,
            const char *text,
            const char *outcome)
{
  const char *styles[] = { "success", "error", "warning", "dim-label" };

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (row->result), styles[i]);
  if (style)
    gtk_widget_add_css_class (GTK_WIDGET (row->result), style);
  gtk_label_set_text (row->result, text);
  g_free (row->outcome);
  row->outcome = g_strdup (outcome);
  if (outcome == NULL)
    {
      g_clear_pointer (&row->old_text, g_free);
      g_clear_pointer (&row->new_text, g_free);
    }
}

/* The values of a change, as the report shows them. */
static void
note_change (Row       *row,
             BmsChange *change)
{
  g_free (row->old_text);
  g_free (row->new_text);
  row->old_text = g_strdup (bms_change_get_old_text (change));
  row->new_text = g_strdup (bms_change_get_new_text (change));
}

static GtkWidget *
header_label (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  return label;
}

static char *
row_title (const BmsFieldInfo *field)
{
  if (field->unit && *field->unit)
    return g_strdup_printf ("%s (%s)", _(field->label), field->unit);
  return g_strdup (_(field->label));
}

static void
build_table (BmsDloadPage *self)
{
  gtk_grid_attach (self->table, header_label (_("Parameter")), 0, 0, 1, 1);
  gtk_grid_attach (self->table, header_label (_("Actual")), 1, 0, 1, 1);
  gtk_grid_attach (self->table, header_label (_("Set")), 2, 0, 1, 1);
  gtk_grid_attach (self->table, header_label (_("Result")), 3, 0, 1, 1);

  for (guint i = 0; i < self->n_rows; i++)
    {
      Row *row = &self->rows[i];
      const BmsFieldInfo *field = bms_setting_get_field (row->setting);
      g_autofree char *title = row_title (field);
      GtkWidget *name = gtk_label_new (title);

      row->actual = GTK_LABEL (gtk_label_new ("—"));
      row->set = GTK_ENTRY (gtk_entry_new ());
      row->result = GTK_LABEL (gtk_label_new (""));
      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_widget_set_tooltip_text (name, field->description);
      gtk_label_set_xalign (row->actual, 0);
      gtk_widget_add_css_class (GTK_WIDGET (row->actual), "numeric");
      gtk_label_set_xalign (row->result, 0);
      gtk_label_set_wrap (row->result, TRUE);
      gtk_label_set_max_width_chars (row->result, 36);
      gtk_widget_set_hexpand (GTK_WIDGET (row->result), TRUE);
      gtk_editable_set_width_chars (GTK_EDITABLE (row->set), 14);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->set),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
      if (bms_setting_get_numbered (row->setting))
        gtk_entry_set_placeholder_text (row->set, _("e.g. PACK-{n}"));
      if (bms_setting_get_secret (row->setting))
        {
          gtk_entry_set_visibility (row->set, FALSE);
          gtk_entry_set_placeholder_text (row->set, _("unchanged"));
        }
      gtk_grid_attach (self->table, name, 0, i + 1, 1, 1);
      gtk_grid_attach (self->table, GTK_WIDGET (row->actual), 1, i + 1, 1, 1);
      gtk_grid_attach (self->table, GTK_WIDGET (row->set), 2, i + 1, 1, 1);
      gtk_grid_attach (self->table, GTK_WIDGET (row->result), 3, i + 1, 1, 1);
    }
  {
    GtkWidget *note = gtk_label_new (_("Empty “Set” cells are left as they are. {n} in the "
                                       "Bluetooth name becomes the board number (0001, 0002, …). "
                                       "Profiles keep neither the password nor the Bluetooth name."));
    gtk_label_set_wrap (GTK_LABEL (note), TRUE);
    gtk_label_set_xalign (GTK_LABEL (note), 0);
    gtk_widget_add_css_class (note, "dim-label");
    gtk_widget_set_margin_top (note, 12);
    gtk_grid_attach (self->table, note, 0, self->n_rows + 1, 4, 1);
  }
}

static void
show_actual (BmsDloadPage *self)
{
  bms_setting_list_update (self->fields, bms_page_get_snapshot (BMS_PAGE (self)));
  for (guint i = 0; i < self->n_rows; i++)
    {
      BmsSetting *setting = self->rows[i].setting;
      const char *text;

      /* A text as the board has it (an empty name stays empty); the
       * password as dots (never shown on a shop floor). */
      if (!bms_setting_get_reported (setting))
        text = "—";
      else if (bms_setting_get_text (setting) != NULL)
        text = bms_setting_get_text (setting);
      else
        text = bms_setting_get_value (setting);
      gtk_label_set_text (self->rows[i].actual, text);
    }
}

static void
update_counter (BmsDloadPage *self)
{
  g_autofree char *text = g_strdup_printf (ngettext ("%u board programmed", "%u boards programmed",
                                                     self->boards_done), self->boards_done);

  gtk_label_set_text (self->counter_label, text);
}

/* The Set column as a parameter set; FALSE (and the row marked) when a
 * cell does not parse. The password and the Bluetooth name come back
 * separately; {n} in the name is the board number. */
static BmsParamSet *
collect_target (BmsDloadPage *self,
                char        **password_out,
                gboolean      portable_only)
{
  g_autoptr(BmsParamSet) target = bms_param_set_new ();
  gboolean ok = TRUE;

  *password_out = NULL;
  for (guint i = 0; i < self->n_rows; i++)
    {
      Row *row = &self->rows[i];
      const BmsFieldInfo *field = bms_field_lookup (row->id);
      g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row->set))));
      g_autofree char *string = NULL;
      g_autoptr(GError) error = NULL;
      gint64 raw = 0;

      gtk_widget_remove_css_class (GTK_WIDGET (row->set), "error");
      if (*text == '\0' || (portable_only && !bms_param_is_portable (field)))
        continue;
      if (bms_setting_get_numbered (row->setting) && strstr (text, "{n}") != NULL)
        {
          g_autofree char *number = g_strdup_printf ("%04u", self->boards_done + 1);
          g_auto(GStrv) parts = g_strsplit (text, "{n}", -1);
          g_free (text);
          text = g_strjoinv (number, parts);
        }
      if (!bms_field_parse_value (field, text, &raw, &string, &error))
        {
          gtk_widget_add_css_class (GTK_WIDGET (row->set), "error");
          set_result (row, "error", error->message, "invalid");
          ok = FALSE;
          continue;
        }
      if (bms_setting_get_secret (row->setting))
        *password_out = g_strdup (string ? string : text);
      else if (field->type == BMS_FIELD_ASCII)
        bms_param_set_set_string (target, row->id, string ? string : text);
      else
        bms_param_set_set_raw (target, row->id, raw);
    }
  if (!ok)
    {
      g_clear_pointer (password_out, g_free);
      return NULL;
    }
  return g_steal_pointer (&target);
}

/* --- report ------------------------------------------------------------- */

static void
update_report_button (BmsDloadPage *self,
                      const char   *saved_at)
{
  g_autofree char *base = g_path_get_basename (self->report_path);
  g_autofree char *label = g_strdup_printf (_("Report: %s"), base);
  g_autofree char *tip = saved_at
    ? g_strdup_printf (_("Saved to %s at %s. Every programmed board is added to this report; click to choose another file."),
                       self->report_path, saved_at)
    : g_strdup_printf (_("Every programmed board will be added to %s; click to choose another file."),
                       self->report_path);

  gtk_button_set_label (self->report_button, label);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->report_button), tip);
}

static void
on_report_saved (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(BmsDloadPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!bms_dload_report_save_finish (BMS_DLOAD_REPORT (source), result, &error))
    {
      g_autofree char *text = g_strdup_printf (_("The report could not be saved: %s"), error->message);
      set_status (self, text);
    }
  else if (!gtk_widget_in_destruction (GTK_WIDGET (self)))
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *at = g_date_time_format (now, "%H:%M:%S");
      update_report_button (self, at);
    }
}

static void
save_report (BmsDloadPage *self)
{
  if (bms_dload_report_get_n_boards (self->report) == 0)
    return;
  bms_dload_report_save_async (self->report, self->report_path, NULL, on_report_saved,
                               g_object_ref (self));
}

static void
report_row (BmsDloadPage *self,
            Row          *row)
{
  g_autofree char *title = row_title (bms_field_lookup (row->id));
  const char *actual = gtk_label_get_text (row->actual);
  const char *old_text = row->old_text ? row->old_text : actual;
  const char *new_text = row->new_text ? row->new_text : actual;

  if (bms_setting_get_secret (row->setting))   /* never in a file either */
    old_text = new_text = "••••••";
  bms_dload_report_add_value (self->report, title, old_text, new_text,
                              gtk_label_get_text (row->result));
}

/* The board just written, added to the report, which is saved. */
static void
append_report (BmsDloadPage *self,
               gboolean      all_ok)
{
  BmsDevice *device = BMS_PAGE_DEVICE (self);

  bms_dload_report_begin_board (self->report, NULL,
                                device ? bms_device_get_device_id (device) : NULL,
                                device ? bms_device_get_software_version (device) : NULL,
                                device ? bms_device_get_address (device) : 0);
  for (guint i = 0; i < self->n_rows; i++)
    if (self->rows[i].outcome != NULL)
      report_row (self, &self->rows[i]);
  bms_dload_report_end_board (self->report, all_ok);
  save_report (self);
}

/* --- writing ------------------------------------------------------------ */

static void
finish_board (BmsDloadPage *self,
              gboolean      all_ok)
{
  g_autofree char *text = NULL;

  self->boards_done++;
  append_report (self, all_ok);
  update_counter (self);
  text = g_strdup_printf (all_ok ? _("Board %u programmed. Connect the next board and press Next Board.")
                                 : _("Board %u: some fields failed (see Result). The report says which."),
                          self->boards_done);
  set_status (self, text);
  g_clear_object (&self->cancellable);
  update_actions (self);
}

static void
show_change_results (BmsDloadPage *self)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->change_set)); i++)
    {
      g_autoptr(BmsChange) change = g_list_model_get_item (G_LIST_MODEL (self->change_set), i);
      Row *row = row_for (self, bms_change_get_id (change));
      const char *message = bms_change_get_message (change);
      g_autofree char *outcome = NULL;

      if (row == NULL)
        continue;
      note_change (row, change);
      switch (bms_change_get_result (change))
        {
        case BMS_CHANGE_OK:
          set_result (row, "success", message && *message ? message : _("Written"), "ok");
          break;
        case BMS_CHANGE_FAILED:
          outcome = g_strdup_printf ("failed: %s", message ? message : "");
          set_result (row, "error", message ? message : _("Failed"), outcome);
          break;
        case BMS_CHANGE_NOT_SENT:
          set_result (row, "dim-label", _("Not sent (an earlier field failed)"), "not sent");
          break;
        case BMS_CHANGE_PENDING:
        default:
          set_result (row, "dim-label", _("Not written"), "not written");
          break;
        }
    }
}

static void
on_changes_applied (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(BmsDloadPage) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = bms_connection_apply_finish (BMS_CONNECTION (source), result, &error);
  show_change_results (self);
  g_clear_object (&self->change_set);
  if (!ok)
    set_status (self, error->message);
  finish_board (self, ok);
}

void
bms_dload_page_write_board (BmsDloadPage *self)
{
  const BmsSnapshot *snapshot;
  g_autoptr(BmsParamSet) current = NULL;
  g_autoptr(BmsParamSet) target = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *new_password = NULL;
  const char *unlock;

  g_return_if_fail (BMS_IS_DLOAD_PAGE (self));

  snapshot = bms_page_get_snapshot (BMS_PAGE (self));
  if (!bms_page_get_connected (BMS_PAGE (self)) || snapshot == NULL || self->cancellable != NULL)
    return;
  for (guint i = 0; i < self->n_rows; i++)
    set_result (&self->rows[i], NULL, "", NULL);
  target = collect_target (self, &new_password, FALSE);
  if (target == NULL)
    {
      set_status (self, _("Fix the marked “Set” cells first; nothing was sent."));
      return;
    }
  current = bms_param_set_new_from_snapshot (snapshot);
  self->change_set = bms_change_set_new_from_target (current, target);
  /* A new password is part of the change set: written after every other
   * field and proven by unlocking with it before the old one is dropped. */
  if (new_password != NULL)
    bms_change_set_set_value (self->change_set, password_id (self), 0, new_password, &error);
  if (error == NULL)
    bms_change_set_validate (self->change_set, &error);
  if (error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Nothing was sent: %s"), error->message);
      set_status (self, text);
      g_clear_object (&self->change_set);
      return;
    }
  /* Rows asked for but equal on the board already. */
  for (guint i = 0; i < self->n_rows; i++)
    if (!bms_setting_get_secret (self->rows[i].setting) && bms_param_set_has (target, self->rows[i].id)
        && bms_change_set_lookup (self->change_set, self->rows[i].id) == NULL)
      set_result (&self->rows[i], "success", _("Already set"), "already set");

  unlock = gtk_editable_get_text (GTK_EDITABLE (self->unlock_entry));
  if (unlock == NULL || *unlock == '\0')
    unlock = BMS_DEFAULT_PASSWORD;
  self->cancellable = g_cancellable_new ();
  set_status (self, _("Writing…"));
  update_actions (self);

  bms_connection_apply_async (BMS_PAGE_CONNECTION (self), self->change_set, unlock,
                              self->cancellable, on_changes_applied, g_object_ref (self));
}

static void
action_write (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  bms_dload_page_write_board (BMS_DLOAD_PAGE (widget));
}

static void
action_next (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  BmsDloadPage *self = BMS_DLOAD_PAGE (widget);
  g_autofree char *text = g_strdup_printf (_("Ready for board %u: connect it, then Write to Board."),
                                           self->boards_done + 1);

  for (guint i = 0; i < self->n_rows; i++)
    set_result (&self->rows[i], NULL, "", NULL);
  set_status (self, text);
}

static void
action_copy_actual (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  BmsDloadPage *self = BMS_DLOAD_PAGE (widget);
  const BmsSnapshot *snapshot = bms_page_get_snapshot (BMS_PAGE (self));
  g_autoptr(BmsParamSet) params = NULL;

  if (snapshot == NULL)
    return;
  params = bms_param_set_new_from_snapshot (snapshot);
  for (guint i = 0; i < self->n_rows; i++)
    {
      Row *row = &self->rows[i];
      g_autofree char *text = NULL;

      if (bms_setting_get_secret (row->setting) || !bms_param_set_has (params, row->id))
        continue;
      text = bms_param_set_format_plain (params, row->id);
      gtk_editable_set_text (GTK_EDITABLE (row->set), text ? text : "");
    }
  set_status (self, _("The board's values are now the set to program."));
}

/* --- profiles ----------------------------------------------------------- */

void
bms_dload_page_apply_profile (BmsDloadPage *self,
                              BmsProfile   *profile)
{
  BmsParamSet *params;

  g_return_if_fail (BMS_IS_DLOAD_PAGE (self));
  g_return_if_fail (BMS_IS_PROFILE (profile));

  params = bms_profile_get_params (profile);
  for (guint i = 0; i < self->n_rows; i++)
    {
      Row *row = &self->rows[i];
      g_autofree char *text = NULL;

      if (!bms_param_is_portable (bms_field_lookup (row->id)))
        continue;   /* the per-board rows keep what was typed */
      text = bms_param_set_has (params, row->id) ? bms_param_set_format_plain (params, row->id) : NULL;
      gtk_editable_set_text (GTK_EDITABLE (row->set), text ? text : "");
      set_result (row, NULL, "", NULL);
    }
}

static void
load_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  BmsProfile *profile = bms_profile_load (task_data, &error);

  if (profile == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, profile, g_object_unref);
}

static void
show_error (BmsDloadPage *self,
            const char   *heading,
            const char   *body)
{
  GtkWidget *dialog = adw_message_dialog_new (bms_page_get_window (BMS_PAGE (self)), heading, body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_profile_loaded (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(BmsDloadPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsProfile) profile = g_task_propagate_pointer (G_TASK (result), &error);
  g_autofree char *base = g_path_get_basename (g_task_get_task_data (G_TASK (result)));
  g_autofree char *text = NULL;

  if (profile == NULL)
    {
      show_error (self, _("The profile was not opened"), error->message);
      return;
    }
  bms_dload_page_apply_profile (self, profile);
  text = g_strdup_printf (_("Profile %s loaded"), base);
  set_status (self, text);
}

static void
save_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  BmsProfile *profile = g_object_get_data (G_OBJECT (task), "profile");
  GError *error = NULL;

  if (!bms_profile_save (profile, task_data, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_profile_saved (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(BmsDloadPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *base = g_path_get_basename (g_task_get_task_data (G_TASK (result)));
  g_autofree char *text = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      show_error (self, _("The profile was not saved"), error->message);
      return;
    }
  text = g_strdup_printf (_("Profile saved as %s"), base);
  set_status (self, text);
}

typedef struct {
  BmsDloadPage *self;
  gboolean      save;
} ChooserData;

static void
on_profile_chosen (GtkNativeDialog *native,
                   int              response,
                   ChooserData     *data)
{
  BmsDloadPage *self = data->self;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GTask) task = NULL;

      if (path != NULL && data->save)
        {
          g_autofree char *password = NULL;
          g_autoptr(BmsParamSet) params = collect_target (self, &password, TRUE);

          if (params == NULL)
            set_status (self, _("Fix the marked “Set” cells first; the profile was not saved."));
          else
            {
              task = g_task_new (NULL, NULL, on_profile_saved, g_object_ref (self));
              g_object_set_data_full (G_OBJECT (task), "profile", bms_profile_new (params),
                                      g_object_unref);
              g_task_set_task_data (task, g_strdup (path), g_free);
              g_task_run_in_thread (task, save_thread);
            }
        }
      else if (path != NULL)
        {
          task = g_task_new (NULL, NULL, on_profile_loaded, g_object_ref (self));
          g_task_set_task_data (task, g_strdup (path), g_free);
          g_task_run_in_thread (task, load_thread);
        }
    }
  g_object_unref (data->self);
  g_free (data);
  g_object_unref (native);
}

static void
action_profile (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  BmsDloadPage *self = BMS_DLOAD_PAGE (widget);
  gboolean save = g_str_equal (name, "dload.save");
  GtkFileChooserNative *native =
    gtk_file_chooser_native_new (save ? _("Save Profile") : _("Open Profile"), bms_page_get_window (BMS_PAGE (self)),
                                 save ? GTK_FILE_CHOOSER_ACTION_SAVE : GTK_FILE_CHOOSER_ACTION_OPEN,
                                 save ? _("_Save") : _("_Open"), _("_Cancel"));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  ChooserData *data = g_new0 (ChooserData, 1);

  gtk_file_filter_set_name (filter, _("Packwatch profiles (*.pwprofile)"));
  gtk_file_filter_add_pattern (filter, "*.pwprofile");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  bms_file_chooser_start (GTK_FILE_CHOOSER (native), "profile");
  if (save)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), "production.pwprofile");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  data->self = g_object_ref (self);
  data->save = save;
  g_signal_connect (native, "response", G_CALLBACK (on_profile_chosen), data);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
on_report_chosen (GtkNativeDialog *native,
                  int              response,
                  BmsDloadPage    *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        bms_dload_page_set_report_path (self, path);
    }
  g_object_unref (native);
  g_object_unref (self);
}

static void
add_filter (GtkFileChooser *chooser,
            const char     *name,
            const char     *pattern)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, name);
  gtk_file_filter_add_pattern (filter, pattern);
  gtk_file_chooser_add_filter (chooser, filter);
}

static void
action_choose_report (GtkWidget  *widget,
                      const char *name,
                      GVariant   *param)
{
  BmsDloadPage *self = BMS_DLOAD_PAGE (widget);
  GtkFileChooserNative *native =
    gtk_file_chooser_native_new (_("Save the Report As"), bms_page_get_window (BMS_PAGE (self)),
                                 GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  GtkFileChooser *chooser = GTK_FILE_CHOOSER (native);
  g_autofree char *base = g_path_get_basename (self->report_path);
  g_autofree char *dir = g_path_get_dirname (self->report_path);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);

  add_filter (chooser, _("Excel workbooks (*.xlsx)"), "*.xlsx");
  add_filter (chooser, _("CSV files (*.csv)"), "*.csv");
  gtk_file_chooser_set_current_folder (chooser, folder, NULL);
  gtk_file_chooser_set_current_name (chooser, base);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  g_signal_connect (native, "response", G_CALLBACK (on_report_chosen), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

void
bms_dload_page_set_report_path (BmsDloadPage *self,
                                const char   *path)
{
  g_autofree char *dir = NULL;

  g_return_if_fail (BMS_IS_DLOAD_PAGE (self));
  g_return_if_fail (path != NULL);

  g_free (self->report_path);
  self->report_path = g_strdup (path);
  dir = g_path_get_dirname (path);
  g_settings_set_string (self->settings, "dload-report-folder", dir);
  update_report_button (self, NULL);
  save_report (self);   /* the boards so far, in the new file at once */
}

const char *
bms_dload_page_get_report_path (BmsDloadPage *self)
{
  g_return_val_if_fail (BMS_IS_DLOAD_PAGE (self), NULL);
  return self->report_path;
}

guint
bms_dload_page_get_boards_done (BmsDloadPage *self)
{
  g_return_val_if_fail (BMS_IS_DLOAD_PAGE (self), 0);
  return self->boards_done;
}

gboolean
bms_dload_page_get_busy (BmsDloadPage *self)
{
  g_return_val_if_fail (BMS_IS_DLOAD_PAGE (self), FALSE);
  return self->cancellable != NULL;
}

void
bms_dload_page_set_value (BmsDloadPage *self,
                          guint8        id,
                          const char   *text)
{
  Row *row;

  g_return_if_fail (BMS_IS_DLOAD_PAGE (self));
  row = row_for (self, id);
  g_return_if_fail (row != NULL);
  gtk_editable_set_text (GTK_EDITABLE (row->set), text ? text : "");
}

const char *
bms_dload_page_get_result (BmsDloadPage *self,
                           guint8        id)
{
  Row *row;

  g_return_val_if_fail (BMS_IS_DLOAD_PAGE (self), NULL);
  row = row_for (self, id);
  g_return_val_if_fail (row != NULL, NULL);
  return row->outcome;
}

/* --- GObject ------------------------------------------------------------ */

static void
update_actions (BmsDloadPage *self)
{
  gboolean connected = BMS_PAGE_DEVICE (self) != NULL && bms_page_get_connected (BMS_PAGE (self));
  gboolean busy = self->cancellable != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dload.write", connected && !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dload.copy-actual", BMS_PAGE_DEVICE (self) != NULL && !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dload.next", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dload.open", !busy);
}

static void
bms_dload_page_connection_changed (BmsPage *page)
{
  BmsDloadPage *self = BMS_DLOAD_PAGE (page);
  BmsConnection *connection = bms_page_get_connection (page);

  if (connection)
    g_signal_connect_object (connection, "notify::state",
                             G_CALLBACK (update_actions), self, G_CONNECT_SWAPPED);
  update_actions (self);
}

static void
bms_dload_page_device_changed (BmsPage *page)
{
  BmsDloadPage *self = BMS_DLOAD_PAGE (page);
  BmsDevice *device = bms_page_get_device (page);

  if (device)
    g_signal_connect_object (device, "updated", G_CALLBACK (show_actual), self, G_CONNECT_SWAPPED);
  show_actual (self);
  update_actions (self);
}

static void
bms_dload_page_dispose (GObject *object)
{
  BmsDloadPage *self = BMS_DLOAD_PAGE (object);

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->change_set);

  G_OBJECT_CLASS (bms_dload_page_parent_class)->dispose (object);
}

static void
bms_dload_page_finalize (GObject *object)
{
  BmsDloadPage *self = BMS_DLOAD_PAGE (object);

  for (guint i = 0; i < self->n_rows; i++)
    {
      g_free (self->rows[i].outcome);
      g_free (self->rows[i].old_text);
      g_free (self->rows[i].new_text);
      g_clear_object (&self->rows[i].setting);
    }
  g_free (self->rows);
  g_clear_object (&self->fields);
  g_free (self->report_path);
  g_clear_object (&self->report);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (bms_dload_page_parent_class)->finalize (object);
}

static void
bms_dload_page_class_init (BmsDloadPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  BmsPageClass *page_class = BMS_PAGE_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_dload_page_dispose;
  page_class->connection_changed = bms_dload_page_connection_changed;
  page_class->device_changed = bms_dload_page_device_changed;
  object_class->finalize = bms_dload_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-dload-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsDloadPage, table);
  gtk_widget_class_bind_template_child (widget_class, BmsDloadPage, unlock_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsDloadPage, counter_label);
  gtk_widget_class_bind_template_child (widget_class, BmsDloadPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, BmsDloadPage, report_button);

  gtk_widget_class_install_action (widget_class, "dload.open", NULL, action_profile);
  gtk_widget_class_install_action (widget_class, "dload.save", NULL, action_profile);
  gtk_widget_class_install_action (widget_class, "dload.copy-actual", NULL, action_copy_actual);
  gtk_widget_class_install_action (widget_class, "dload.write", NULL, action_write);
  gtk_widget_class_install_action (widget_class, "dload.next", NULL, action_next);
  gtk_widget_class_install_action (widget_class, "dload.choose-report", NULL, action_choose_report);
}

/* In the folder chosen last (the Documents folder at first), named by date. */
static char *
default_report_path (GSettings *settings)
{
  g_autofree char *folder = g_settings_get_string (settings, "dload-report-folder");
  const char *documents = g_get_user_special_dir (G_USER_DIRECTORY_DOCUMENTS);
  const char *dir = *folder ? folder : documents ? documents : g_get_home_dir ();
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%d");
  g_autofree char *name = g_strdup_printf ("packwatch-dload-%s.xlsx", stamp);

  return g_build_filename (dir, name, NULL);
}

static void
bms_dload_page_init (BmsDloadPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->fields = bms_setting_list_new_dload ();
  self->n_rows = g_list_model_get_n_items (self->fields);
  self->rows = g_new0 (Row, self->n_rows);
  for (guint i = 0; i < self->n_rows; i++)
    {
      self->rows[i].setting = g_list_model_get_item (self->fields, i);
      self->rows[i].id = bms_setting_get_id (self->rows[i].setting);
    }
  self->settings = bms_settings_new ();
  self->report = bms_dload_report_new ();
  self->report_path = default_report_path (self->settings);
  build_table (self);
  show_actual (self);
  update_counter (self);
  update_report_button (self, NULL);
  update_actions (self);
  set_status (self, _("Open a profile or type the values, then Write to Board."));
}

GtkWidget *
bms_dload_page_new (BmsConnection *connection)
{
  return g_object_new (BMS_TYPE_DLOAD_PAGE, "connection", connection, NULL);
}

