/* bms-normal-page.c — the Normal page */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-field-writer.h"
#include "bms-normal-page.h"
#include "bms-param-dialog.h"
#include "bms-param-set.h"
#include "bms-setting.h"

#define MAKER_ID_LEN 24

struct _BmsNormalPage
{
  BmsPage        parent_instance;

  GListModel    *settings;      /* BmsSetting: the rows bind to them */
  GCancellable  *cancellable;
  char          *maker_id;      /* on the board */

  AdwPreferencesGroup *battery_group;
  AdwPreferencesGroup *switches_group;
  AdwPreferencesGroup *system_group;
  GtkLabel      *maker_current_label;
  GtkSwitch     *free_switch;
  AdwEntryRow   *free_entry;
  AdwEntryRow   *fixbit_entry;
  AdwComboRow   *type_row;
  AdwEntryRow   *voltage_entry;
  AdwEntryRow   *capacity_entry;
  AdwEntryRow   *cycle_entry;
  AdwEntryRow   *company_entry;
  AdwEntryRow   *date_entry;
  AdwEntryRow   *serial_entry;
  GtkLabel      *maker_preview_label;
  GtkWidget     *maker_write_button;
};

G_DEFINE_FINAL_TYPE (BmsNormalPage, bms_normal_page, BMS_TYPE_PAGE)

static void
toast (BmsNormalPage *self,
       const char    *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (text));
}

static const BmsSnapshot *
snapshot (BmsNormalPage *self)
{
  return BMS_PAGE_DEVICE (self) ? bms_device_get_snapshot (BMS_PAGE_DEVICE (self)) : NULL;
}

/* ---- writing ---- */

typedef struct {
  BmsNormalPage *self;
  guint8         id;
  GtkSwitch     *sw;      /* the switch to settle, or NULL */
  gboolean       wanted;
} WriteCtx;

static void
write_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  WriteCtx *ctx = user_data;
  const BmsFieldInfo *field = bms_field_lookup (ctx->id);
  g_autoptr(GError) error = NULL;
  g_autofree char *readback = NULL;
  g_autofree char *message = NULL;
  gboolean ok = bms_field_writer_write_finish (result, &readback, &error);

  if (ctx->sw != NULL)
    {
      /* The switch shows the board's state: the new one, or the old one back. */
      gboolean state = ok ? ctx->wanted : !ctx->wanted;
      gtk_switch_set_state (ctx->sw, state);
      gtk_switch_set_active (ctx->sw, state);
    }
  if (ok)
    message = g_strdup_printf (_("%s: written, the board reads back %s"), _(field->label), readback);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    message = g_strdup_printf (_("%s: not written — %s"), _(field->label), error->message);
  if (message != NULL)
    toast (ctx->self, message);
  g_clear_object (&ctx->sw);
  g_object_unref (ctx->self);
  g_free (ctx);
}

static void
write_field (BmsNormalPage *self,
             guint8         id,
             gint64         raw,
             const char    *text,
             GtkSwitch     *sw,
             gboolean       wanted)
{
  WriteCtx *ctx = g_new0 (WriteCtx, 1);

  ctx->self = g_object_ref (self);
  ctx->id = id;
  ctx->sw = sw ? g_object_ref (sw) : NULL;
  ctx->wanted = wanted;
  bms_field_writer_write_async (GTK_WIDGET (self), BMS_PAGE_CONNECTION (self), id, raw, text, TRUE,
                                self->cancellable, write_done, ctx);
}

static void
edited (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  WriteCtx *ctx = user_data;
  g_autofree char *text = NULL;
  gint64 raw = 0;

  if (bms_param_dialog_ask_finish (result, &raw, &text, NULL))
    write_field (ctx->self, ctx->id, raw, text, NULL, FALSE);
  g_object_unref (ctx->self);
  g_free (ctx);
}

static void
edit_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  BmsNormalPage *self = BMS_NORMAL_PAGE (widget);
  guint8 id = g_variant_get_byte (parameter);
  g_autoptr(BmsParamSet) params = NULL;
  WriteCtx *ctx;

  if (snapshot (self) == NULL)
    return;
  /* The rules are checked against what the board holds now. */
  params = bms_param_set_new_from_snapshot (snapshot (self));
  ctx = g_new0 (WriteCtx, 1);
  ctx->self = g_object_ref (self);
  ctx->id = id;
  bms_param_dialog_ask_async (widget, bms_field_lookup (id), params,
                              self->cancellable, edited, ctx);
}

/* ---- restart and reset ---- */

static void
command_response (AdwMessageDialog *dialog,
                  const char       *response,
                  BmsNormalPage    *self)
{
  BmsSetting *command = g_object_get_data (G_OBJECT (dialog), "setting");

  if (g_str_equal (response, "do"))
    write_field (self, bms_setting_get_id (command), 1, NULL, NULL, FALSE);
  g_object_unref (self);
}

static void
confirm_command (BmsNormalPage *self,
                 const char    *name,
                 const char    *heading,
                 const char    *body,
                 const char    *verb)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog;

  if (snapshot (self) == NULL)
    {
      toast (self, _("Connect to a board first"));
      return;
    }
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, heading, body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"), "do", verb, NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "do",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "setting", bms_setting_list_find (self->settings, name));
  g_signal_connect (dialog, "response", G_CALLBACK (command_response), g_object_ref (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
restart_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  confirm_command (BMS_NORMAL_PAGE (widget), "restart", _("Restart the Board?"),
                   _("The board stops protecting and measuring for a few seconds while it restarts. "
                     "Do not restart it under heavy load."),
                   _("_Restart"));
}

static void
reset_activated (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  confirm_command (BMS_NORMAL_PAGE (widget), "factory_reset",
                   _("Restore Factory Parameters?"),
                   _("Every protection parameter, the capacity and the switches go back to the factory "
                     "values. Check them against the battery before charging or discharging again."),
                   _("_Restore Factory Parameters"));
}

/* ---- rows ---- */

static void
add_value_row (BmsNormalPage       *self,
               AdwPreferencesGroup *group,
               BmsSetting          *setting)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *value = gtk_label_new (NULL);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), bms_setting_get_title (setting));
  gtk_widget_set_tooltip_text (row, bms_setting_get_description (setting));
  if (bms_setting_get_range (setting) != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), bms_setting_get_range (setting));
  gtk_widget_add_css_class (value, "heading");
  gtk_widget_add_css_class (value, "numeric");
  gtk_label_set_selectable (GTK_LABEL (value), TRUE);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), value);
  if (bms_setting_get_editable (setting))
    {
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 gtk_image_new_from_icon_name ("document-edit-symbolic"));
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "normal.edit");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "y", bms_setting_get_id (setting));
    }
  g_object_bind_property (setting, "value", value, "label", G_BINDING_SYNC_CREATE);
  g_object_bind_property (setting, "known", row, "sensitive", G_BINDING_SYNC_CREATE);
  g_object_bind_property (setting, "applicable", row, "visible", G_BINDING_SYNC_CREATE);
  adw_preferences_group_add (group, row);
}

static gboolean
switch_state_set (GtkSwitch     *sw,
                  gboolean       state,
                  BmsNormalPage *self)
{
  BmsSetting *setting = g_object_get_data (G_OBJECT (sw), "setting");
  gint64 raw;

  /* Unreported: nothing to change yet, the switch stays as it was. */
  if (bms_setting_raw_for_active (setting, state, &raw))
    write_field (self, bms_setting_get_id (setting), raw, NULL, sw, state);
  return TRUE;     /* the state follows the board's answer */
}

/* The switch shows the board's state; the user's flip is not an edit. */
static void
switch_follow (BmsSetting *setting,
               GParamSpec *pspec,
               GtkSwitch  *sw)
{
  gboolean on = bms_setting_get_active (setting);
  gpointer self = g_object_get_data (G_OBJECT (sw), "page");

  g_signal_handlers_block_by_func (sw, switch_state_set, self);
  gtk_switch_set_active (sw, on);
  gtk_switch_set_state (sw, on);
  g_signal_handlers_unblock_by_func (sw, switch_state_set, self);
}

static void
add_switch_row (BmsNormalPage       *self,
                AdwPreferencesGroup *group,
                BmsSetting          *setting)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *sw = gtk_switch_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), bms_setting_get_title (setting));
  gtk_widget_set_valign (sw, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), sw);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), sw);
  g_object_set_data (G_OBJECT (sw), "setting", setting);
  g_object_set_data (G_OBJECT (sw), "page", self);
  g_signal_connect (sw, "state-set", G_CALLBACK (switch_state_set), self);
  g_signal_connect_object (setting, "notify::active", G_CALLBACK (switch_follow), sw, 0);
  g_object_bind_property (setting, "reported", row, "sensitive", G_BINDING_SYNC_CREATE);
  adw_preferences_group_add (group, row);
}

static void
build_rows (BmsNormalPage *self)
{
  AdwPreferencesGroup *groups[] = {
    [BMS_SETTING_GROUP_BATTERY] = self->battery_group,
    [BMS_SETTING_GROUP_SWITCHES] = self->switches_group,
    [BMS_SETTING_GROUP_SYSTEM] = self->system_group,
    [BMS_SETTING_GROUP_HIDDEN] = NULL,
  };

  for (guint i = 0; i < g_list_model_get_n_items (self->settings); i++)
    {
      g_autoptr(BmsSetting) setting = g_list_model_get_item (self->settings, i);
      AdwPreferencesGroup *group = groups[bms_setting_get_group (setting)];

      if (group == NULL)
        continue;
      if (bms_setting_get_is_switch (setting))
        add_switch_row (self, group, setting);
      else
        add_value_row (self, group, setting);
    }
}

/* ---- manufacturer id ---- */

typedef struct {
  AdwEntryRow *entry;
  guint        len;
  gboolean     digits;
} Part;

static guint
maker_parts (BmsNormalPage *self,
             Part          *parts)
{
  Part p[] = {
    { self->fixbit_entry, 2, FALSE }, { NULL, 1, TRUE },  /* type: combo */
    { self->voltage_entry, 3, TRUE }, { self->capacity_entry, 3, TRUE },
    { self->cycle_entry, 2, TRUE }, { self->company_entry, 4, FALSE },
    { self->date_entry, 6, TRUE }, { self->serial_entry, 3, TRUE },
  };
  memcpy (parts, p, sizeof p);
  return G_N_ELEMENTS (p);
}

static gboolean
valid_ascii (const char *text)
{
  for (const char *c = text; *c; c++)
    if (!g_ascii_isprint (*c))
      return FALSE;
  return TRUE;
}

char *
bms_normal_page_build_maker_id (BmsNormalPage  *self,
                                GError        **error)
{
  Part parts[8];
  guint n = maker_parts (self, parts);
  GString *id;

  g_return_val_if_fail (BMS_IS_NORMAL_PAGE (self), NULL);

  if (gtk_switch_get_active (self->free_switch))
    {
      const char *text = gtk_editable_get_text (GTK_EDITABLE (self->free_entry));
      if (strlen (text) != MAKER_ID_LEN || !valid_ascii (text))
        {
          g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE,
                       _("The manufacturer ID needs exactly 24 plain characters (has %u)"),
                       (guint) g_utf8_strlen (text, -1));
          return NULL;
        }
      return g_strdup (text);
    }
  id = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    {
      const char *text;
      char type[2] = { 0 };

      if (parts[i].entry == NULL)
        {
          type[0] = '1' + adw_combo_row_get_selected (self->type_row);
          g_string_append (id, type);
          continue;
        }
      text = gtk_editable_get_text (GTK_EDITABLE (parts[i].entry));
      if (strlen (text) != parts[i].len || !valid_ascii (text) ||
          (parts[i].digits && strspn (text, "0123456789") != parts[i].len))
        {
          g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE,
                       parts[i].digits ? _("%s: needs exactly %u digits")
                                       : _("%s: needs exactly %u characters"),
                       adw_preferences_row_get_title (ADW_PREFERENCES_ROW (parts[i].entry)),
                       parts[i].len);
          g_string_free (id, TRUE);
          return NULL;
        }
      g_string_append (id, text);
    }
  return g_string_free (id, FALSE);
}

void
bms_normal_page_set_maker_id (BmsNormalPage *self,
                              const char    *id)
{
  Part parts[8];
  guint n = maker_parts (self, parts);
  guint at = 0;

  g_return_if_fail (BMS_IS_NORMAL_PAGE (self));

  gtk_editable_set_text (GTK_EDITABLE (self->free_entry), id ? id : "");
  if (id == NULL || strlen (id) != MAKER_ID_LEN)
    return;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *part = g_strndup (id + at, parts[i].len);

      if (parts[i].entry != NULL)
        gtk_editable_set_text (GTK_EDITABLE (parts[i].entry), part);
      else if (part[0] >= '1' && part[0] <= '3')
        adw_combo_row_set_selected (self->type_row, part[0] - '1');
      at += parts[i].len;
    }
}

static void
maker_changed (BmsNormalPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = bms_normal_page_build_maker_id (self, &error);
  gboolean free_input = gtk_switch_get_active (self->free_switch);
  Part parts[8];
  guint n = maker_parts (self, parts);

  gtk_widget_set_visible (GTK_WIDGET (self->free_entry), free_input);
  gtk_widget_set_visible (GTK_WIDGET (self->type_row), !free_input);
  for (guint i = 0; i < n; i++)
    if (parts[i].entry != NULL)
      gtk_widget_set_visible (GTK_WIDGET (parts[i].entry), !free_input);
  gtk_label_set_label (self->maker_preview_label, id ? id : error->message);
  if (id != NULL)
    gtk_widget_remove_css_class (GTK_WIDGET (self->maker_preview_label), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->maker_preview_label), "error");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "normal.write-maker-id",
                                 id != NULL && snapshot (self) != NULL &&
                                 g_strcmp0 (id, self->maker_id) != 0);
}

static void
write_maker_id_activated (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  BmsNormalPage *self = BMS_NORMAL_PAGE (widget);
  g_autofree char *id = bms_normal_page_build_maker_id (self, NULL);

  if (id != NULL)
    write_field (self, bms_setting_get_id (bms_setting_list_find (self->settings, "manufacturer_id")),
                 0, id, NULL, FALSE);
}

static void
connect_maker_editors (BmsNormalPage *self)
{
  Part parts[8];
  guint n = maker_parts (self, parts);

  for (guint i = 0; i < n; i++)
    if (parts[i].entry != NULL)
      g_signal_connect_swapped (parts[i].entry, "changed", G_CALLBACK (maker_changed), self);
  g_signal_connect_swapped (self->free_entry, "changed", G_CALLBACK (maker_changed), self);
  g_signal_connect_swapped (self->type_row, "notify::selected", G_CALLBACK (maker_changed), self);
  g_signal_connect_swapped (self->free_switch, "notify::active", G_CALLBACK (maker_changed), self);
}

/* ---- device ---- */

static void
device_updated (BmsNormalPage *self)
{
  BmsSetting *maker_setting = bms_setting_list_find (self->settings, "manufacturer_id");
  const char *maker;

  bms_setting_list_update (self->settings, snapshot (self));
  maker = bms_setting_get_text (maker_setting);
  gtk_label_set_label (self->maker_current_label, maker && *maker ? maker : "—");
  /* Fill the editors from the board once, and again when the board's id
   * changes (after a write), never over the user's typing otherwise. */
  if (g_strcmp0 (maker, self->maker_id) != 0)
    {
      g_free (self->maker_id);
      self->maker_id = g_strdup (maker);
      bms_normal_page_set_maker_id (self, self->maker_id);
    }
  maker_changed (self);
}

/* ---- GObject ---- */

static void
bms_normal_page_device_changed (BmsPage *page)
{
  BmsNormalPage *self = BMS_NORMAL_PAGE (page);
  BmsDevice *device = bms_page_get_device (page);

  if (device != NULL)
    g_signal_connect_object (device, "updated", G_CALLBACK (device_updated), self,
                             G_CONNECT_SWAPPED);
  if (self->settings != NULL)
    device_updated (self);
}

static void
bms_normal_page_dispose (GObject *object)
{
  BmsNormalPage *self = BMS_NORMAL_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  bms_page_set_device (BMS_PAGE (self), NULL);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (bms_normal_page_parent_class)->dispose (object);
}

static void
bms_normal_page_finalize (GObject *object)
{
  g_free (BMS_NORMAL_PAGE (object)->maker_id);
  G_OBJECT_CLASS (bms_normal_page_parent_class)->finalize (object);
}

static void
bms_normal_page_class_init (BmsNormalPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_normal_page_dispose;
  object_class->finalize = bms_normal_page_finalize;
  BMS_PAGE_CLASS (klass)->device_changed = bms_normal_page_device_changed;

  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-normal-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, battery_group);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, switches_group);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, system_group);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, maker_current_label);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, free_switch);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, free_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, fixbit_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, type_row);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, voltage_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, capacity_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, cycle_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, company_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, date_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, serial_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, maker_preview_label);
  gtk_widget_class_bind_template_child (widget_class, BmsNormalPage, maker_write_button);

  gtk_widget_class_install_action (widget_class, "normal.edit", "y", edit_activated);
  gtk_widget_class_install_action (widget_class, "normal.restart", NULL, restart_activated);
  gtk_widget_class_install_action (widget_class, "normal.reset", NULL, reset_activated);
  gtk_widget_class_install_action (widget_class, "normal.write-maker-id", NULL,
                                   write_maker_id_activated);
}

static void
bms_normal_page_init (BmsNormalPage *self)
{
  self->settings = bms_setting_list_new_everyday ();
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  build_rows (self);
  connect_maker_editors (self);
  device_updated (self);
}

GtkWidget *
bms_normal_page_new (BmsConnection *connection)
{
  return g_object_new (BMS_TYPE_NORMAL_PAGE, "connection", connection, NULL);
}

