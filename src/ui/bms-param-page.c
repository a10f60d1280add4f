/* bms-param-page.c — the Param page */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "bms-field-writer.h"
#include "bms-param-dialog.h"
#include "bms-setting.h"
#include "bms-param-page.h"
#include "bms-param-set.h"
#include "bms-change-set.h"
#include "bms-password-dialog.h"

struct _BmsParamPage
{
  BmsPage        parent_instance;

  BmsParamSet   *params;       /* the board's, from the last snapshot */
  GHashTable    *rows;         /* id → AdwActionRow */
  GCancellable  *cancellable;

  GtkWidget     *lock_box;
  GtkImage      *lock_icon;
  GtkLabel      *lock_label;
  GtkButton     *lock_button;
  GtkBox        *groups_box;
  AdwExpanderRow *rules_row;
  GtkWidget     *rules_group;
  GtkWidget     *presets_group;
  GtkWidget     *no_match_page;
  GtkSearchEntry *search_entry;
  GtkBox        *jump_box;
  GtkScrolledWindow *scroller;
  GtkWidget     *content_clamp;
  GPtrArray     *groups;       /* AdwPreferencesGroup per page_groups entry */
};

G_DEFINE_FINAL_TYPE (BmsParamPage, bms_param_page, BMS_TYPE_PAGE)

enum {
  SIGNAL_WRITE_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const struct {
  BmsFieldGroup group;
  const char   *title;
  const char   *jump;          /* the jump list's short name */
} page_groups[] = {
  { BMS_GROUP_VOLTAGE, N_("Voltage Protection"), N_("Voltage") },
  { BMS_GROUP_CURRENT, N_("Current Protection"), N_("Current") },
  { BMS_GROUP_TEMPERATURE, N_("Temperature Protection"), N_("Temperature") },
  { BMS_GROUP_BALANCE, N_("Balancing"), N_("Balancing") },
  { BMS_GROUP_HEATING, N_("Heating"), N_("Heating") },
  { BMS_GROUP_CHARGER, N_("Charger"), N_("Charger") },
};

/* Level-2 ("fail") protections sit right below their level 1, not at the
 * end of the group in id order: the two are set together. */
static const struct {
  guint8 level1;
  guint8 level2;
} level_pairs[] = {
  { BMS_ID_CELL_OVP, BMS_ID_CELL_OVP2 },
  { BMS_ID_CELL_UVP, BMS_ID_CELL_UVP2 },
};

static guint8
level2_of (guint8 id)
{
  for (guint i = 0; i < G_N_ELEMENTS (level_pairs); i++)
    if (level_pairs[i].level1 == id)
      return level_pairs[i].level2;
  return 0;
}

static gboolean
is_level2 (guint8 id)
{
  for (guint i = 0; i < G_N_ELEMENTS (level_pairs); i++)
    if (level_pairs[i].level2 == id)
      return TRUE;
  return FALSE;
}

static void apply_filter (BmsParamPage *self);

static AdwToastOverlay *
toast_overlay (BmsParamPage *self)
{
  return ADW_TOAST_OVERLAY (gtk_widget_get_ancestor (GTK_WIDGET (self),
                                                     ADW_TYPE_TOAST_OVERLAY));
}

static void
toast (BmsParamPage *self,
       const char   *text)
{
  AdwToastOverlay *overlay = toast_overlay (self);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (overlay, adw_toast_new (text));
}

/* ---- rows ---- */

static void
set_row_result (BmsParamPage *self,
                guint8        id,
                gboolean      ok,
                const char   *message)
{
  AdwActionRow *row = g_hash_table_lookup (self->rows, GUINT_TO_POINTER (id));
  GtkWidget *icon;

  if (row == NULL)
    return;
  icon = g_object_get_data (G_OBJECT (row), "result-icon");
  gtk_image_set_from_icon_name (GTK_IMAGE (icon), ok ? "object-select-symbolic"
                                                     : "dialog-error-symbolic");
  gtk_widget_remove_css_class (icon, ok ? "error" : "success");
  gtk_widget_add_css_class (icon, ok ? "success" : "error");
  gtk_widget_set_tooltip_text (icon, message);
  gtk_widget_set_visible (icon, TRUE);
}

/* The extension that is in force for this public field (0xEE for 0x8E on
 * a high-voltage master), or NULL: the snapshot's own choice
 * (bms_snapshot_setting_id), so the page, the alarms and the simulator
 * agree on which limit counts. */
static const BmsFieldInfo *
superseded_by (BmsParamPage *self,
               guint8        id)
{
  BmsDevice *device = BMS_PAGE_DEVICE (self);
  const BmsSnapshot *s = device != NULL ? bms_device_get_snapshot (device) : NULL;
  guint8 in_force = s != NULL ? bms_snapshot_setting_id (s, id) : id;

  return in_force != id ? bms_field_lookup (in_force) : NULL;
}

static void
update_row (BmsParamPage *self,
            guint8        id,
            AdwActionRow *row)
{
  const BmsFieldInfo *field = bms_field_lookup (id);
  const BmsFieldInfo *in_force = superseded_by (self, id);
  GtkLabel *value = g_object_get_data (G_OBJECT (row), "value-label");
  gboolean present = self->params != NULL && bms_param_set_has (self->params, id);
  g_autofree char *text = NULL;
  g_autofree char *subtitle = NULL;

  text = present ? bms_param_dialog_format_value (field, self->params)
                 : g_strdup (self->params ? _("not reported") : "—");
  gtk_label_set_label (value, text);
  /* A replaced public field (0x8E at its 150 V ceiling) means nothing
   * while its extension is set: dimmed, not editable, and saying why. */
  if (in_force != NULL)
    subtitle = g_strdup_printf (_("Superseded by “%s”"), _(in_force->label));
  else
    subtitle = bms_setting_format_range (field);
  adw_action_row_set_subtitle (row, subtitle);
  gtk_widget_set_sensitive (GTK_WIDGET (row), present && in_force == NULL);
  gtk_widget_set_visible (g_object_get_data (G_OBJECT (row), "edit-icon"), in_force == NULL);
  /* An extension the board does not have is no row of its own. */
  g_object_set_data (G_OBJECT (row), "unavailable",
                     GINT_TO_POINTER (field->replaces != 0 && !present));
}

static void
update_rows (BmsParamPage *self)
{
  GHashTableIter iter;
  gpointer key, row;

  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, &key, &row))
    update_row (self, GPOINTER_TO_UINT (key), row);
  apply_filter (self);
}

/* ---- search and jump list ---- */

/* What a search matches: the label (shown and English), the field's name
 * and its unit, folded once. */
static char *
search_text (const BmsFieldInfo *field)
{
  g_autofree char *all = g_strdup_printf ("%s %s %s %s", _(field->label), field->label,
                                          field->name, field->unit);
  return g_utf8_casefold (all, -1);
}

static gboolean
row_matches (GtkWidget *row, const char *query)
{
  if (g_object_get_data (G_OBJECT (row), "unavailable") != NULL)
    return FALSE;
  return *query == '\0' || strstr (g_object_get_data (G_OBJECT (row), "search-text"), query);
}

/* Only what changed is touched: a poll calls this with the same query. */
static void
set_visible (GtkWidget *widget, gboolean visible)
{
  if (gtk_widget_get_visible (widget) != visible)
    gtk_widget_set_visible (widget, visible);
}

static void
apply_filter (BmsParamPage *self)
{
  g_autofree char *query = g_utf8_casefold (gtk_editable_get_text (GTK_EDITABLE (self->search_entry)), -1);
  guint shown = 0;

  g_strstrip (query);
  for (guint g = 0; g < self->groups->len; g++)
    {
      GtkWidget *group = g_ptr_array_index (self->groups, g);
      GPtrArray *rows = g_object_get_data (G_OBJECT (group), "rows");
      guint in_group = 0;

      for (guint i = 0; i < rows->len; i++)
        {
          gboolean visible = row_matches (g_ptr_array_index (rows, i), query);

          set_visible (g_ptr_array_index (rows, i), visible);
          in_group += visible;
        }
      set_visible (group, in_group > 0);
      gtk_widget_set_sensitive (g_object_get_data (G_OBJECT (group), "jump-button"), in_group > 0);
      shown += in_group;
    }
  /* While searching, the results come first. */
  set_visible (self->presets_group, *query == '\0');
  set_visible (self->rules_group, *query == '\0');
  set_visible (self->no_match_page, shown == 0 && *query != '\0');
}

static void
jump_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  BmsParamPage *self = BMS_PARAM_PAGE (widget);
  guint index = (guint) g_variant_get_int32 (parameter);
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);
  graphene_rect_t bounds;

  if (index >= self->groups->len
      || !gtk_widget_compute_bounds (g_ptr_array_index (self->groups, index),
                                     self->content_clamp, &bounds))
    return;
  gtk_adjustment_set_value (adjustment, bounds.origin.y);
}

static GtkWidget *
row_new (BmsParamPage       *self,
         const BmsFieldInfo *field)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *value = gtk_label_new ("—");
  GtkWidget *icon = gtk_image_new ();
  GtkWidget *edit = gtk_image_new_from_icon_name ("document-edit-symbolic");
  g_autofree char *range = bms_setting_format_range (field);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _(field->label));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), range);
  gtk_widget_set_tooltip_text (row, field->description);
  gtk_widget_add_css_class (value, "numeric");
  gtk_widget_add_css_class (value, "heading");
  gtk_widget_set_visible (icon, FALSE);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), icon);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), value);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), edit);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "param.edit");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "y", field->id);
  g_object_set_data (G_OBJECT (row), "value-label", value);
  g_object_set_data (G_OBJECT (row), "result-icon", icon);
  g_object_set_data (G_OBJECT (row), "edit-icon", edit);
  return row;
}

/* An extension that stands in for a public field (the 4-byte high-voltage
 * pack protections for the 16-bit pair) sits right above that field, not at
 * the end of the group in id order: on a board that has it, it is the
 * protection in force, and the public field below it is marked superseded. */
static void
add_row (BmsParamPage *self, GtkWidget *group, const BmsFieldInfo *field)
{
  GtkWidget *row = row_new (self, field);
  const BmsFieldInfo *in_place = bms_field_replacement (field->id);

  if (in_place != NULL)
    add_row (self, group, in_place);
  g_hash_table_insert (self->rows, GUINT_TO_POINTER (field->id), row);
  g_object_set_data_full (G_OBJECT (row), "search-text", search_text (field), g_free);
  g_ptr_array_add (g_object_get_data (G_OBJECT (group), "rows"), row);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  if (level2_of (field->id) != 0)
    add_row (self, group, bms_field_lookup (level2_of (field->id)));
}

static GtkWidget *
jump_button_new (guint index)
{
  GtkWidget *button = gtk_button_new_with_label (_(page_groups[index].jump));

  gtk_widget_add_css_class (button, "flat");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "param.jump");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "i", (gint32) index);
  return button;
}

static void
build_groups (BmsParamPage *self)
{
  guint n;
  const BmsFieldInfo *fields = bms_field_all (&n);

  for (guint g = 0; g < G_N_ELEMENTS (page_groups); g++)
    {
      GtkWidget *group = adw_preferences_group_new ();

      GtkWidget *jump = jump_button_new (g);

      adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _(page_groups[g].title));
      g_object_set_data_full (G_OBJECT (group), "rows", g_ptr_array_new (),
                              (GDestroyNotify) g_ptr_array_unref);
      g_object_set_data (G_OBJECT (group), "jump-button", jump);
      for (guint i = 0; i < n; i++)
        {
          if (fields[i].group != page_groups[g].group || !bms_param_is_parameter (&fields[i])
              || fields[i].replaces != 0 || is_level2 (fields[i].id))
            continue;
          add_row (self, group, &fields[i]);
        }
      gtk_box_append (self->groups_box, group);
      gtk_box_append (self->jump_box, jump);
      g_ptr_array_add (self->groups, group);
    }
}

static void
build_rules (BmsParamPage *self)
{
  g_auto(GStrv) rules = bms_param_set_describe_rules ();

  for (guint i = 0; rules[i] != NULL; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), rules[i]);
      adw_expander_row_add_row (self->rules_row, row);
    }
}

/* ---- lock state ---- */

static void
update_lock (BmsParamPage *self)
{
  gboolean connected = bms_page_get_connected (BMS_PAGE (self));
  gboolean locked = !BMS_PAGE_CONNECTION (self) || bms_connection_get_locked (BMS_PAGE_CONNECTION (self));
  guint left = BMS_PAGE_CONNECTION (self) ? bms_connection_get_unlock_remaining (BMS_PAGE_CONNECTION (self)) : 0;
  g_autofree char *text = NULL;

  if (!connected)
    text = g_strdup (_("Connect to a board to read and change its parameters."));
  else if (locked)
    text = g_strdup (_("Parameters are locked. Changing one asks for the board's parameter password first."));
  else
    text = g_strdup_printf (_("Unlocked: changes are written at once. Locks again after %u:%02u without a write."),
                            left / 60, left % 60);
  gtk_label_set_label (self->lock_label, text);
  gtk_image_set_from_icon_name (self->lock_icon, locked ? "system-lock-screen-symbolic"
                                                        : "changes-allow-symbolic");
  gtk_button_set_label (self->lock_button, locked ? _("_Unlock…") : _("_Lock Now"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->lock_button),
                                  locked ? "win.unlock" : "win.lock");
  gtk_widget_set_visible (GTK_WIDGET (self->lock_button), connected);
}

/* ---- writes ---- */

typedef struct {
  BmsParamPage *self;
  guint8        id;
} WriteCtx;

static void
write_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  WriteCtx *ctx = user_data;
  BmsParamPage *self = ctx->self;
  const BmsFieldInfo *field = bms_field_lookup (ctx->id);
  g_autoptr(GError) error = NULL;
  g_autofree char *readback = NULL;
  g_autofree char *message = NULL;
  gboolean ok = bms_field_writer_write_finish (result, &readback, &error);

  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_object_unref (self);
      g_free (ctx);
      return;
    }
  message = ok ? g_strdup_printf (_("%s: written, the board reads back %s"),
                                  _(field->label), readback)
               : g_strdup_printf (_("%s: not written — %s"), _(field->label), error->message);
  set_row_result (self, ctx->id, ok, message);
  toast (self, message);
  g_signal_emit (self, signals[SIGNAL_WRITE_FINISHED], 0, (guint) ctx->id, ok, message);
  g_object_unref (self);
  g_free (ctx);
}

void
bms_param_page_write (BmsParamPage *self,
                      guint8        id,
                      gint64        raw,
                      const char   *text,
                      gboolean      ask_password)
{
  WriteCtx *ctx;

  g_return_if_fail (BMS_IS_PARAM_PAGE (self));
  g_return_if_fail (BMS_PAGE_CONNECTION (self) != NULL);

  ctx = g_new0 (WriteCtx, 1);
  ctx->self = g_object_ref (self);
  ctx->id = id;
  bms_field_writer_write_async (GTK_WIDGET (self), BMS_PAGE_CONNECTION (self), id, raw, text,
                                ask_password, self->cancellable, write_done, ctx);
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
    bms_param_page_write (ctx->self, ctx->id, raw, text, TRUE);
  g_object_unref (ctx->self);
  g_free (ctx);
}

static void
edit_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  BmsParamPage *self = BMS_PARAM_PAGE (widget);
  guint8 id = g_variant_get_byte (parameter);
  const BmsFieldInfo *field = bms_field_lookup (id);
  WriteCtx *ctx;

  if (field == NULL || self->params == NULL)
    return;
  ctx = g_new0 (WriteCtx, 1);
  ctx->self = g_object_ref (self);
  ctx->id = id;
  bms_param_dialog_ask_async (widget, field, self->params, self->cancellable, edited, ctx);
}

/* ---- chemistry presets: the model's change set, old → new ---- */

typedef struct {
  BmsParamPage *self;
  BmsChangeSet *set;
  GPtrArray    *proposals;   /* BmsChange, as proposed (kept when unticked) */
  GPtrArray    *checks;      /* GtkCheckButton per proposal */
  GtkWidget    *problem;
  GtkWidget    *dialog;
} Proposal;

static void
proposal_free (Proposal *p)
{
  g_object_unref (p->self);
  g_object_unref (p->set);
  g_ptr_array_unref (p->proposals);
  g_ptr_array_unref (p->checks);
  g_free (p);
}

static void
proposal_revalidate (Proposal *p)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  /* The change set holds exactly the ticked proposals. */
  for (guint i = 0; i < p->proposals->len; i++)
    {
      BmsChange *c = g_ptr_array_index (p->proposals, i);
      gboolean on = gtk_check_button_get_active (g_ptr_array_index (p->checks, i));

      if (on)
        bms_change_set_set_value (p->set, bms_change_get_id (c), bms_change_get_new_raw (c),
                                  bms_change_get_new_string (c), NULL);
      else
        bms_change_set_remove (p->set, bms_change_get_id (c));
    }
  ok = bms_change_set_validate (p->set, &error);
  gtk_label_set_label (GTK_LABEL (p->problem), ok ? "" : error->message);
  gtk_widget_set_visible (p->problem, !ok);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (p->dialog), "write",
                                           ok && bms_change_set_get_size (p->set) > 0);
}

static void
proposal_report (Proposal     *p,
                 const GError *error)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (p->self));
  GListModel *changes = G_LIST_MODEL (p->set);
  GString *body = g_string_new (NULL);
  guint ok = 0, n = g_list_model_get_n_items (changes);
  GtkWidget *dialog;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(BmsChange) c = g_list_model_get_item (changes, i);
      BmsChangeResult r = bms_change_get_result (c);
      const char *mark = r == BMS_CHANGE_OK ? "✓" : r == BMS_CHANGE_NOT_SENT ? "–" : "✗";
      const char *message = bms_change_get_message (c);
      g_autofree char *line = g_strdup_printf ("%s %s: %s → %s%s%s", mark,
                                               bms_change_get_label (c),
                                               bms_change_get_old_text (c),
                                               bms_change_get_new_text (c),
                                               message ? " — " : "", message ? message : "");

      ok += r == BMS_CHANGE_OK;
      g_string_append_printf (body, "%s\n", line);
      set_row_result (p->self, bms_change_get_id (c), r == BMS_CHANGE_OK, line + 4);
    }
  if (error != NULL)
    g_string_append_printf (body, "\n%s", error->message);
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, NULL, NULL);
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog),
                                     _("%u of %u Changes Verified"), ok, n);
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog), body->str);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
  g_string_free (body, TRUE);
}

static void
proposal_applied (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Proposal *p = user_data;
  g_autoptr(GError) error = NULL;

  bms_connection_apply_finish (BMS_CONNECTION (source), result, &error);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    proposal_report (p, error);
  proposal_free (p);
}

static void
proposal_unlocked (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Proposal *p = user_data;
  BmsConnection *connection = BMS_PAGE_CONNECTION (p->self);
  g_autofree char *password = NULL;

  if (!bms_password_dialog_ask_finish_password (result, &password, NULL) ||
      connection == NULL || !bms_connection_get_connected (connection))
    {
      proposal_free (p);
      return;
    }
  /* Validates again, unlocks, writes in an order that keeps every step
   * within the rules, reads back and audits — on a worker. */
  bms_connection_apply_async (connection, p->set, password, p->self->cancellable,
                              proposal_applied, p);
}

static void
proposal_response (AdwMessageDialog *dialog,
                   const char       *response,
                   Proposal         *p)
{
  if (!g_str_equal (response, "write"))
    {
      proposal_free (p);
      return;
    }
  bms_password_dialog_ask_async (GTK_WIDGET (p->self), BMS_PAGE_CONNECTION (p->self),
                                 _("Writing a change set needs the board's parameter password."),
                                 p->self->cancellable, proposal_unlocked, p);
}

static GtkWidget *
proposal_row_new (Proposal  *p,
                  BmsChange *c)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *check = gtk_check_button_new ();
  g_autofree char *subtitle = g_strdup_printf ("%s → %s", bms_change_get_old_text (c),
                                               bms_change_get_new_text (c));

  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), bms_change_get_label (c));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
  g_ptr_array_add (p->checks, check);
  g_signal_connect_swapped (check, "toggled", G_CALLBACK (proposal_revalidate), p);
  return row;
}

static GtkWidget *
proposal_body (Proposal *p)
{
  GtkWidget *list = gtk_list_box_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  GtkWidget *scroller = gtk_scrolled_window_new ();

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  for (guint i = 0; i < p->proposals->len; i++)
    gtk_list_box_append (GTK_LIST_BOX (list),
                         proposal_row_new (p, g_ptr_array_index (p->proposals, i)));
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroller), 360);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), list);
  gtk_box_append (GTK_BOX (box), scroller);
  p->problem = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (p->problem), TRUE);
  gtk_label_set_xalign (GTK_LABEL (p->problem), 0);
  gtk_widget_add_css_class (p->problem, "error");
  gtk_box_append (GTK_BOX (box), p->problem);
  return box;
}

static void
preset_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  BmsParamPage *self = BMS_PARAM_PAGE (widget);
  static const char * const names[] = { N_("LiFePO4"), N_("NMC"), N_("LTO") };
  guint type = g_variant_get_int32 (parameter);
  g_autoptr(GError) error = NULL;
  GtkRoot *root = gtk_widget_get_root (widget);
  BmsChangeSet *set;
  Proposal *p;
  guint n;

  if (self->params == NULL || type >= G_N_ELEMENTS (names))
    return;
  set = bms_change_set_new_preset (self->params, type, &error);
  if (set == NULL)
    {
      toast (self, error->message);
      return;
    }
  n = g_list_model_get_n_items (G_LIST_MODEL (set));
  if (n == 0)
    {
      g_autofree char *text = g_strdup_printf (_("The board already has the %s values"),
                                               _(names[type]));
      toast (self, text);
      g_object_unref (set);
      return;
    }
  p = g_new0 (Proposal, 1);
  p->self = g_object_ref (self);
  p->set = set;
  p->proposals = g_ptr_array_new_with_free_func (g_object_unref);
  p->checks = g_ptr_array_new ();
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (p->proposals, g_list_model_get_item (G_LIST_MODEL (set), i));

  p->dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, NULL, NULL);
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (p->dialog),
                                     _("Apply the %s Preset?"), _(names[type]));
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (p->dialog),
                                  g_dngettext (GETTEXT_PACKAGE,
                                               "%u value differs from the vendor sheet. Untick what should stay; each value is read back after writing.",
                                               "%u values differ from the vendor sheet. Untick what should stay; each value is read back after writing.",
                                               n), n);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (p->dialog), proposal_body (p));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (p->dialog),
                                    "cancel", _("_Cancel"),
                                    "write", _("_Write to Board"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (p->dialog), "write",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (p->dialog), "cancel");
  g_signal_connect (p->dialog, "response", G_CALLBACK (proposal_response), p);
  proposal_revalidate (p);
  gtk_window_present (GTK_WINDOW (p->dialog));
}

/* ---- device ---- */

static void
device_updated (BmsParamPage *self)
{
  const BmsSnapshot *s = bms_device_get_snapshot (BMS_PAGE_DEVICE (self));

  g_clear_object (&self->params);
  if (s != NULL)
    self->params = bms_param_set_new_from_snapshot (s);
  update_rows (self);
  update_lock (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "param.preset", self->params != NULL);
}

/* ---- GObject ---- */

static void
bms_param_page_dispose (GObject *object)
{
  BmsParamPage *self = BMS_PARAM_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  bms_page_set_device (BMS_PAGE (self), NULL);
  g_clear_object (&self->params);
  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_clear_pointer (&self->groups, g_ptr_array_unref);

  G_OBJECT_CLASS (bms_param_page_parent_class)->dispose (object);
}

static void
bms_param_page_connection_changed (BmsPage *page)
{
  BmsParamPage *self = BMS_PARAM_PAGE (page);
  BmsConnection *connection = bms_page_get_connection (page);

  if (connection == NULL)
    {
      update_lock (self);
      return;
    }
  g_signal_connect_object (connection, "notify::locked",
                           G_CALLBACK (update_lock), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::unlock-remaining",
                           G_CALLBACK (update_lock), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::state",
                           G_CALLBACK (update_lock), self, G_CONNECT_SWAPPED);
  update_lock (self);
}

static void
bms_param_page_device_changed (BmsPage *page)
{
  BmsParamPage *self = BMS_PARAM_PAGE (page);
  BmsDevice *device = bms_page_get_device (page);

  if (device == NULL)
    {
      g_clear_object (&self->params);
      update_rows (self);
      return;
    }
  g_signal_connect_object (device, "updated", G_CALLBACK (device_updated), self,
                           G_CONNECT_SWAPPED);
  device_updated (self);
}

static void
bms_param_page_class_init (BmsParamPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  BmsPageClass *page_class = BMS_PAGE_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_param_page_dispose;
  page_class->connection_changed = bms_param_page_connection_changed;
  page_class->device_changed = bms_param_page_device_changed;

  signals[SIGNAL_WRITE_FINISHED] =
    g_signal_new ("write-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_UINT, G_TYPE_BOOLEAN, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-param-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, lock_box);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, lock_icon);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, lock_label);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, lock_button);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, groups_box);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, rules_row);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, rules_group);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, presets_group);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, no_match_page);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, jump_box);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, scroller);
  gtk_widget_class_bind_template_child (widget_class, BmsParamPage, content_clamp);
  gtk_widget_class_bind_template_callback (widget_class, apply_filter);

  gtk_widget_class_install_action (widget_class, "param.edit", "y", edit_activated);
  gtk_widget_class_install_action (widget_class, "param.preset", "i", preset_activated);
  gtk_widget_class_install_action (widget_class, "param.jump", "i", jump_activated);
}

static void
bms_param_page_init (BmsParamPage *self)
{
  self->rows = g_hash_table_new (NULL, NULL);
  self->groups = g_ptr_array_new ();
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Typing on the page searches. */
  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self));
  g_object_set_data (G_OBJECT (self), "search-entry", self->search_entry);
  build_groups (self);
  apply_filter (self);
  build_rules (self);
  update_lock (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "param.preset", FALSE);
}

GtkWidget *
bms_param_page_new (BmsConnection *connection)
{
  return g_object_new (BMS_TYPE_PARAM_PAGE, "connection", connection, NULL);
}

GtkWidget *
bms_param_page_get_row (BmsParamPage *self,
                        guint8        id)
{
  g_return_val_if_fail (BMS_IS_PARAM_PAGE (self), NULL);
  return g_hash_table_lookup (self->rows, GUINT_TO_POINTER (id));
}

guint
bms_param_page_get_n_rows (BmsParamPage *self)
{
  g_return_val_if_fail (BMS_IS_PARAM_PAGE (self), 0);
  return g_hash_table_size (self->rows);
}
