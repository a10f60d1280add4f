/* bms-update-page.c — the Update page: firmware upload and service settings.
 *
 * The firmware file is checked on a worker (size, CRC-32, version marker,
 * and that it is an application image for the bootloader: a file that is not
 * one needs a deliberate "Flash Anyway") before anything is sent; the upload itself is BmsFlasher on the session's
 * worker, each vendor step shown as it happens with bytes, rate, elapsed
 * and remaining time. Calibration, address, voltage-difference protection,
 * the master's total cell count and sleep are verified writes through the
 * password-gated session.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-file-chooser.h"
#include "bms-update-page.h"
#include "bms-setting.h"
#include "bms-device.h"
#include "bms-field.h"
#include "bms-field-writes.h"
#include "bms-flasher-progress.h"
#include "bms-password-dialog.h"
#include "bms-firmware.h"


/* The vendor's seven steps, plus Packwatch's read-back of the version. */
static const char * const step_titles[] = {
  N_("1  Choose and check the firmware file"),
  N_("2  Send the restart command"),
  N_("3  Reconnect at 9600 baud"),
  N_("4  Send 0x20: the bootloader answers its segment"),
  N_("5  Send 0x31 (download)"),
  N_("6  The board answers 0x43 (“C”)"),
  N_("7  Send the firmware information and image"),
  N_("8  Restart and read the new version"),
};
#define N_STEPS G_N_ELEMENTS (step_titles)

typedef enum {
  STEP_PENDING,
  STEP_RUNNING,
  STEP_DONE,
  STEP_FAILED,
} StepState;

struct _BmsUpdatePage
{
  BmsPage             parent_instance;

  AdwActionRow        *file_row;
  AdwPreferencesGroup *steps_group;
  GtkProgressBar      *progress_bar;
  GtkLabel            *board_current_label;
  GtkSpinButton       *calibration_spin;
  GtkSpinButton       *address_spin;
  GtkSpinButton       *diff_spin;
  GtkSpinButton       *pack_cells_spin;
  GtkLabel            *result_label;
  GtkSwitch           *resume_switch;

  AdwActionRow        *step_rows[N_STEPS];
  GtkImage            *step_icons[N_STEPS];
  GtkSpinner          *step_spinners[N_STEPS];

  char                *file_path;
  gboolean             file_ok;
  char                *image_problem;  /* readable, but not a firmware image: why */
  gboolean             forced;         /* the user confirmed flashing it anyway */
  GCancellable        *check_cancellable;
  BmsConnection       *flashing;       /* whose "flash-progress" we follow */
  GCancellable        *flash_cancellable;
  GPtrArray           *writes;
  GCancellable        *write_cancellable;
  gboolean             values_loaded;
  GListModel          *service;        /* BmsSetting: what the settings rows write */
  guint                flash_step;     /* "flash-step": BmsFlasherStep, 0 when none runs */

  gboolean             resuming;       /* the board waited in its bootloader */
};

G_DEFINE_FINAL_TYPE (BmsUpdatePage, bms_update_page, BMS_TYPE_PAGE)

/* "flash-step": the step of a running update (BmsFlasherStep; 0 when none
 * runs), so the window's header can say the board is being updated. */
enum { PROP_0, PROP_FLASH_STEP, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
set_flash_step (BmsUpdatePage *self,
                guint          step)
{
  if (self->flash_step == step)
    return;
  self->flash_step = step;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FLASH_STEP]);
}

guint
bms_update_page_get_flash_step (BmsUpdatePage *self)
{
  g_return_val_if_fail (BMS_IS_UPDATE_PAGE (self), 0);
  return self->flash_step;
}

static void
bms_update_page_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  if (prop_id == PROP_FLASH_STEP)
    g_value_set_uint (value, bms_update_page_get_flash_step (BMS_UPDATE_PAGE (object)));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void update_actions (BmsUpdatePage *self);

/* --- steps -------------------------------------------------------------- */

static void
set_step (BmsUpdatePage *self,
          guint          index,
          StepState      state,
          const char    *detail)
{
  static const char * const icons[] = {
    "content-loading-symbolic", NULL, "emblem-ok-symbolic", "dialog-error-symbolic",
  };
  GtkWidget *icon;

  if (index >= N_STEPS)
    return;
  icon = GTK_WIDGET (self->step_icons[index]);
  gtk_widget_set_visible (GTK_WIDGET (self->step_spinners[index]), state == STEP_RUNNING);
  gtk_spinner_set_spinning (self->step_spinners[index], state == STEP_RUNNING);
  gtk_widget_set_visible (icon, state != STEP_RUNNING);
  if (icons[state])
    gtk_image_set_from_icon_name (self->step_icons[index], icons[state]);
  gtk_widget_remove_css_class (icon, "success");
  gtk_widget_remove_css_class (icon, "error");
  gtk_widget_remove_css_class (icon, "dim-label");
  gtk_widget_add_css_class (icon, state == STEP_DONE ? "success"
                                  : state == STEP_FAILED ? "error" : "dim-label");
  adw_action_row_set_subtitle (self->step_rows[index], detail ? detail : "");
}

static void
reset_steps (BmsUpdatePage *self)
{
  for (guint i = 0; i < N_STEPS; i++)
    set_step (self, i, STEP_PENDING, NULL);
}

static void
build_steps (BmsUpdatePage *self)
{
  for (guint i = 0; i < N_STEPS; i++)
    {
      AdwActionRow *row = ADW_ACTION_ROW (adw_action_row_new ());
      GtkWidget *icon = gtk_image_new ();
      GtkWidget *spinner = gtk_spinner_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _(step_titles[i]));
      adw_action_row_add_prefix (row, icon);
      adw_action_row_add_prefix (row, spinner);
      adw_preferences_group_add (self->steps_group, GTK_WIDGET (row));
      self->step_rows[i] = row;
      self->step_icons[i] = GTK_IMAGE (icon);
      self->step_spinners[i] = GTK_SPINNER (spinner);
    }
  reset_steps (self);
}

static char *
format_bytes (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

static char *
format_clock (double seconds)
{
  guint s = (guint) MAX (seconds, 0);
  return g_strdup_printf ("%u:%02u", s / 60, s % 60);
}

static void
on_flasher_progress (BmsConnection            *connection,
                     const BmsFlasherProgress *p,
                     BmsUpdatePage            *self)
{
  g_autofree char *sent = format_bytes (p->bytes_sent);
  g_autofree char *total = format_bytes (p->bytes_total);
  g_autofree char *rate = format_bytes ((guint64) p->rate_bps);
  g_autofree char *elapsed = format_clock (p->elapsed_s);
  g_autofree char *left = p->remaining_s >= 0 ? format_clock (p->remaining_s) : g_strdup ("—");
  g_autofree char *text = NULL;
  guint index = (guint) p->step - 1;

  set_flash_step (self, p->step < BMS_FLASHER_STEP_DONE ? p->step : 0);
  if (p->step >= BMS_FLASHER_STEP_CHECK_FILE && p->step <= BMS_FLASHER_STEP_CONFIRM)
    {
      for (guint i = 0; i < index; i++)
        set_step (self, i, STEP_DONE, adw_action_row_get_subtitle (self->step_rows[i]));
      set_step (self, index, STEP_RUNNING, p->detail);
    }
  if (p->step == BMS_FLASHER_STEP_DONE)
    for (guint i = 0; i < N_STEPS; i++)
      set_step (self, i, STEP_DONE, adw_action_row_get_subtitle (self->step_rows[i]));

  /* TRANSLATORS: bytes sent of total · rate · elapsed · time left */
  text = g_strdup_printf (_("%s of %s · %s/s · %s elapsed · %s left"),
                          sent, total, rate, elapsed, left);
  gtk_progress_bar_set_text (self->progress_bar, text);
  if (p->bytes_total > 0)
    gtk_progress_bar_set_fraction (self->progress_bar, (double) p->bytes_sent / p->bytes_total);
}

static void
stop_following_flash (BmsUpdatePage *self)
{
  if (self->flashing != NULL)
    g_signal_handlers_disconnect_by_func (self->flashing, on_flasher_progress, self);
  g_clear_object (&self->flashing);
}

/* The connection drives the flasher (and audits the run); the page shows
 * its steps and the outcome. */
static void
on_flash_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(BmsUpdatePage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *version = NULL;
  BmsFlasherStep failed = BMS_FLASHER_STEP_IDLE;
  gboolean ok = bms_connection_flash_finish (BMS_CONNECTION (source), result, &failed,
                                             &version, &error);

  stop_following_flash (self);
  if (ok)
    {
      g_autofree char *text =
        g_strdup_printf (_("Update complete: the board runs version %s"),
                         version ? version : _("(not read back)"));
      for (guint i = 0; i < N_STEPS; i++)
        set_step (self, i, STEP_DONE, adw_action_row_get_subtitle (self->step_rows[i]));
      gtk_progress_bar_set_fraction (self->progress_bar, 1);
      gtk_label_set_text (self->result_label, text);
    }
  else
    {
      if (failed >= 1 && failed <= N_STEPS)
        set_step (self, failed - 1, STEP_FAILED, error->message);
      if (self->resuming && failed == BMS_FLASHER_STEP_SEGMENT)
        gtk_label_set_text (self->result_label,
                            _("No bootloader answered. If the board runs its firmware, turn off "
                              "“Resume in the bootloader”; otherwise check the line and try again."));
      else if (failed > BMS_FLASHER_STEP_REOPEN)
        gtk_label_set_text (self->result_label,
                            _("The update stopped; the board waits in its bootloader. Turn on "
                              "“Resume in the bootloader” and start again to finish it."));
      else
        gtk_label_set_text (self->result_label,
                            _("The update stopped before the board left its firmware; nothing "
                              "was changed."));
      gtk_progress_bar_set_text (self->progress_bar, error->message);
    }
  self->resuming = FALSE;
  g_clear_object (&self->flash_cancellable);
  set_flash_step (self, 0);
  update_actions (self);
}

static void
run_flash (BmsUpdatePage *self,
           gboolean       in_bootloader,
           const char    *password)
{
  BmsConnection *connection = BMS_PAGE_CONNECTION (self);

  self->resuming = in_bootloader;
  self->flashing = g_object_ref (connection);
  g_signal_connect (connection, "flash-progress", G_CALLBACK (on_flasher_progress), self);
  bms_connection_flash_async (connection, self->file_path, self->forced, in_bootloader, password,
                              self->flash_cancellable, on_flash_done, g_object_ref (self));
}

static void
start_flash_with_password (GtkWidget  *widget,
                           gboolean    proceed,
                           const char *password,
                           gpointer    user_data)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (widget);

  if (!proceed || !bms_page_get_connected (BMS_PAGE (self)))
    {
      g_clear_object (&self->flash_cancellable);
      update_actions (self);
      return;
    }
  reset_steps (self);
  set_step (self, 0, STEP_DONE, adw_action_row_get_subtitle (self->file_row));
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_label_set_text (self->result_label, "");
  run_flash (self, FALSE, password);
}

/* --- resuming a board that waits in its bootloader --------------------- */

/* The connection lets go of the line, runs steps 4–8 on it at the
 * bootloader's baud, then connects again. */
static void
start_resume (BmsUpdatePage *self)
{
  BmsConnection *connection = BMS_PAGE_CONNECTION (self);

  if (connection == NULL || bms_connection_get_uri (connection) == NULL)
    return;
  self->flash_cancellable = g_cancellable_new ();
  reset_steps (self);
  set_step (self, 0, STEP_DONE, adw_action_row_get_subtitle (self->file_row));
  set_step (self, 1, STEP_DONE, _("Skipped: the board already waits in its bootloader"));
  set_step (self, 2, STEP_RUNNING, _("Opening the port at 9600 baud…"));
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_label_set_text (self->result_label, "");
  update_actions (self);
  run_flash (self, TRUE, NULL);
}

static void
on_resume_toggled (BmsUpdatePage *self)
{
  update_actions (self);
}

void
bms_update_page_start_update (BmsUpdatePage *self,
                              const char    *password)
{
  g_return_if_fail (BMS_IS_UPDATE_PAGE (self));
  g_return_if_fail (self->flash_cancellable == NULL);

  if (!self->file_ok && !(self->image_problem != NULL && self->forced))
    return;
  if (gtk_switch_get_active (self->resume_switch))
    {
      start_resume (self);
      return;
    }
  if (!bms_page_get_connected (BMS_PAGE (self)))
    return;
  self->flash_cancellable = g_cancellable_new ();
  start_flash_with_password (GTK_WIDGET (self), TRUE, password, NULL);
}

gboolean
bms_update_page_get_busy (BmsUpdatePage *self)
{
  g_return_val_if_fail (BMS_IS_UPDATE_PAGE (self), FALSE);
  return self->flash_cancellable != NULL || self->writes != NULL || self->check_cancellable != NULL;
}

const char *
bms_update_page_get_result (BmsUpdatePage *self)
{
  g_return_val_if_fail (BMS_IS_UPDATE_PAGE (self), NULL);
  return gtk_label_get_text (self->result_label);
}

static void
on_start_response (AdwMessageDialog *dialog,
                   const char       *response,
                   BmsUpdatePage    *self)
{
  if (g_str_equal (response, "update") && gtk_switch_get_active (self->resume_switch))
    start_resume (self);
  else if (g_str_equal (response, "update") && bms_page_get_connected (BMS_PAGE (self)))
    {
      self->flash_cancellable = g_cancellable_new ();
      update_actions (self);
      bms_password_dialog_ask_if_locked (GTK_WIDGET (self), BMS_PAGE_CONNECTION (self),
                                         _("Enter the parameter password to update the firmware."),
                                         start_flash_with_password, NULL);
    }
  g_object_unref (self);
}

static void confirm_update (BmsUpdatePage *self);

static void
on_force_response (AdwMessageDialog *dialog,
                   const char       *response,
                   BmsUpdatePage    *self)
{
  self->forced = g_str_equal (response, "force");
  if (self->forced)
    confirm_update (self);
  g_object_unref (self);
}

/* A file that is not a firmware image for this bootloader is refused unless
 * the user overrides it deliberately (the audit trail records it). */
static void
ask_force (BmsUpdatePage *self)
{
  g_autofree char *base = g_path_get_basename (self->file_path);
  g_autofree char *body =
    g_strdup_printf (_("%s is not a firmware image for this board's bootloader: %s.\n\n"
                       "Flashed anyway, the board will most likely not start it and stay in its "
                       "bootloader until a real image is flashed. Continue only if you know this "
                       "file is right for this board."), base, self->image_problem);
  GtkWidget *dialog = adw_message_dialog_new (bms_page_get_window (BMS_PAGE (self)),
                                              _("Not a Firmware Image"), body);

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"), "force", _("_Flash Anyway"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "force",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "force-dialog", GINT_TO_POINTER (TRUE));
  g_signal_connect (dialog, "response", G_CALLBACK (on_force_response), g_object_ref (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
action_start (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (widget);

  if (!self->file_ok && self->image_problem != NULL)
    ask_force (self);
  else
    confirm_update (self);
}

static void
confirm_update (BmsUpdatePage *self)
{
  g_autofree char *base = g_path_get_basename (self->file_path);
  g_autofree char *body =
    g_strdup_printf (_("The board restarts into its bootloader and receives %s. It stops "
                       "protecting the pack while it updates: disconnect loads and chargers "
                       "first, and do not unplug the adapter."), base);
  GtkWidget *dialog = adw_message_dialog_new (bms_page_get_window (BMS_PAGE (self)), _("Update the Firmware?"), body);

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"), "update", _("_Update"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "update",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_start_response), g_object_ref (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
action_cancel (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (widget);

  if (self->flash_cancellable)
    g_cancellable_cancel (self->flash_cancellable);
}

/* --- file check --------------------------------------------------------- */

typedef struct {
  guint32 crc;
  gsize   size;
  char   *version;
  char   *problem;
} CheckResult;

static void
check_result_free (CheckResult *r)
{
  g_free (r->version);
  g_free (r->problem);
  g_free (r);
}

static void
check_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  const char *path = task_data;
  CheckResult *r = g_new0 (CheckResult, 1);
  GError *error = NULL;
  g_autoptr(GBytes) image = bms_firmware_check_file (path, BMS_FLASHER_DEFAULT_MAX_SIZE,
                                                     &r->crc, &error);

  if (image == NULL)
    {
      check_result_free (r);
      g_task_return_error (task, error);
      return;
    }
  r->size = g_bytes_get_size (image);
  r->version = bms_firmware_find_version (g_bytes_get_data (image, NULL), r->size);
  if (!bms_firmware_check_image (g_bytes_get_data (image, NULL), r->size,
                                 BMS_FLASHER_DEFAULT_MAX_SIZE, &error))
    {
      r->problem = g_strdup (error->message);
      g_clear_error (&error);
    }
  g_task_return_pointer (task, r, (GDestroyNotify) check_result_free);
}

static void
on_check_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(BmsUpdatePage) self = user_data;
  g_autoptr(GError) error = NULL;
  CheckResult *r = g_task_propagate_pointer (G_TASK (result), &error);
  g_autofree char *text = NULL;

  g_clear_object (&self->check_cancellable);
  if (r == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      self->file_ok = FALSE;
      adw_action_row_set_subtitle (self->file_row, error->message);
      gtk_widget_add_css_class (GTK_WIDGET (self->file_row), "error");
      set_step (self, 0, STEP_FAILED, error->message);
    }
  else
    {
      g_autofree char *base = g_path_get_basename (self->file_path);
      g_autofree char *size = format_bytes (r->size);

      /* TRANSLATORS: file name, size, CRC-32, firmware version */
      text = g_strdup_printf (_("%s — %s, CRC-32 %08X, version %s"), base, size, r->crc, r->version);
      self->image_problem = g_steal_pointer (&r->problem);
      self->file_ok = self->image_problem == NULL;
      if (self->image_problem != NULL)
        {
          g_autofree char *why = g_strdup_printf ("%s: %s", text, self->image_problem);

          adw_action_row_set_subtitle (self->file_row, why);
          gtk_widget_add_css_class (GTK_WIDGET (self->file_row), "error");
          set_step (self, 0, STEP_FAILED, why);
        }
      else
        {
          adw_action_row_set_subtitle (self->file_row, text);
          gtk_widget_remove_css_class (GTK_WIDGET (self->file_row), "error");
          set_step (self, 0, STEP_DONE, text);
        }
      check_result_free (r);
    }
  update_actions (self);
}

void
bms_update_page_set_file (BmsUpdatePage *self,
                          const char    *path)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (BMS_IS_UPDATE_PAGE (self));
  g_return_if_fail (path != NULL);

  if (self->check_cancellable)
    g_cancellable_cancel (self->check_cancellable);
  g_clear_object (&self->check_cancellable);
  g_free (self->file_path);
  self->file_path = g_strdup (path);
  self->file_ok = FALSE;
  g_clear_pointer (&self->image_problem, g_free);
  self->forced = FALSE;
  reset_steps (self);
  set_step (self, 0, STEP_RUNNING, _("Checking…"));
  adw_action_row_set_subtitle (self->file_row, _("Checking…"));
  update_actions (self);

  self->check_cancellable = g_cancellable_new ();
  task = g_task_new (NULL, self->check_cancellable, on_check_done, g_object_ref (self));
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, check_thread);
}

gboolean
bms_update_page_get_file_ok (BmsUpdatePage *self)
{
  g_return_val_if_fail (BMS_IS_UPDATE_PAGE (self), FALSE);
  return self->file_ok;
}

static void
on_file_chosen (GtkNativeDialog *native,
                int              response,
                BmsUpdatePage   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        bms_update_page_set_file (self, path);
      else
        adw_action_row_set_subtitle (self->file_row,
                                     _("Choose a file on this computer (the update reads it directly)"));
    }
  g_object_unref (native);
  g_object_unref (self);
}

static void
action_choose_file (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (widget);
  GtkFileChooserNative *native =
    gtk_file_chooser_native_new (_("Choose Firmware"), bms_page_get_window (BMS_PAGE (self)),
                                 GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("Firmware images (*.bin)"));
  gtk_file_filter_add_pattern (filter, "*.bin");
  gtk_file_filter_add_pattern (filter, "*.BIN");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  gtk_file_filter_set_name (all, _("All files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), all);
  bms_file_chooser_start (GTK_FILE_CHOOSER (native), "firmware");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  g_signal_connect (native, "response", G_CALLBACK (on_file_chosen), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

/* --- settings writes ---------------------------------------------------- */

static void
on_settings_written (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(BmsUpdatePage) self = user_data;
  g_autoptr(GPtrArray) writes = g_steal_pointer (&self->writes);
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) text = g_string_new (NULL);

  g_clear_object (&self->write_cancellable);
  if (!bms_connection_write_fields_finish (BMS_CONNECTION (source), result, &error))
    g_string_assign (text, error->message);
  else
    bms_field_writes_describe (writes, FALSE, text);
  gtk_label_set_text (self->result_label, text->str);
  update_actions (self);
}

static void
start_settings_write (GtkWidget  *widget,
                      gboolean    proceed,
                      const char *password,
                      gpointer    user_data)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (widget);

  if (!proceed || !bms_page_get_connected (BMS_PAGE (self)))
    {
      g_clear_pointer (&self->writes, g_ptr_array_unref);
      update_actions (self);
      return;
    }
  gtk_label_set_text (self->result_label, _("Writing…"));
  self->write_cancellable = g_cancellable_new ();
  bms_connection_write_fields_async (BMS_PAGE_CONNECTION (self), self->writes, password,
                                     self->write_cancellable, on_settings_written,
                                     g_object_ref (self));
}

static void
write_fields (BmsUpdatePage *self,
              GPtrArray     *writes,
              const char    *reason)
{
  if (!bms_page_get_connected (BMS_PAGE (self)) || self->writes != NULL)
    {
      g_ptr_array_unref (writes);
      return;
    }
  self->writes = writes;
  update_actions (self);
  bms_password_dialog_ask_if_locked (GTK_WIDGET (self), BMS_PAGE_CONNECTION (self), reason,
                                     start_settings_write, NULL);
}

static gboolean
checked_raw (BmsUpdatePage *self,
             BmsSetting    *setting,
             double         value,
             gint64        *raw)
{
  const BmsFieldInfo *field = bms_setting_get_field (setting);
  g_autoptr(GError) error = NULL;

  *raw = bms_field_from_engineering (field, value);
  if (!bms_field_check_range (field, *raw, &error))
    {
      gtk_label_set_text (self->result_label, error->message);
      return FALSE;
    }
  return TRUE;
}

static void
action_write_field (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (widget);
  BmsSetting *setting = bms_setting_list_find (self->service, g_variant_get_string (param, NULL));
  GtkSpinButton *spin = g_object_get_data (G_OBJECT (setting), "spin");
  GPtrArray *writes;
  gint64 raw;

  if (!checked_raw (self, setting, gtk_spin_button_get_value (spin), &raw))
    return;
  writes = bms_field_writes_new ();
  bms_field_writes_add (writes, bms_setting_get_id (setting), raw, NULL);
  write_fields (self, writes, _("Enter the parameter password to change this setting."));
}

static void
action_calibrate (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (widget);
  BmsSetting *measured = bms_setting_list_find (self->service, "current_calibration_ma");
  BmsSetting *start = bms_setting_list_find (self->service, "current_calibration_start");
  GPtrArray *writes;
  gint64 raw;

  /* The measured current in mA, then "start calibration". */
  if (!checked_raw (self, measured, gtk_spin_button_get_value (self->calibration_spin) * 1000,
                    &raw))
    return;
  writes = bms_field_writes_new ();
  bms_field_writes_add (writes, bms_setting_get_id (measured), raw, NULL);
  bms_field_writes_add (writes, bms_setting_get_id (start), 1, NULL);
  write_fields (self, writes, _("Enter the parameter password to calibrate the current."));
}

static void
on_sleep_response (AdwMessageDialog *dialog,
                   const char       *response,
                   BmsUpdatePage    *self)
{
  if (g_str_equal (response, "sleep"))
    {
      GPtrArray *writes = bms_field_writes_new ();
      BmsSetting *sleep = bms_setting_list_find (self->service, "sleep_now");

      bms_field_writes_add (writes, bms_setting_get_id (sleep), 1, NULL);
      write_fields (self, writes, _("Enter the parameter password to put the board to sleep."));
    }
  g_object_unref (self);
}

static void
action_sleep (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (widget);
  GtkWidget *dialog =
    adw_message_dialog_new (bms_page_get_window (BMS_PAGE (self)), _("Put the Board to Sleep?"),
                            _("The board stops answering and opens its MOSFETs: the pack "
                              "neither charges nor discharges until the board is woken by a "
                              "charger, a load or its button."));

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"), "sleep", _("_Sleep"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "sleep",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_sleep_response), g_object_ref (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- device ------------------------------------------------------------- */

static void
update_actions (BmsUpdatePage *self)
{
  gboolean connected = BMS_PAGE_DEVICE (self) != NULL && bms_page_get_connected (BMS_PAGE (self));
  gboolean busy = self->flash_cancellable != NULL || self->writes != NULL;

  gboolean resume = gtk_switch_get_active (self->resume_switch);
  gboolean have_line = BMS_PAGE_CONNECTION (self) && bms_connection_get_uri (BMS_PAGE_CONNECTION (self));

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "update.start",
                                 (resume ? have_line : connected) && !busy
                                 && (self->file_ok || self->image_problem != NULL));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "update.cancel", self->flash_cancellable != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "update.choose-file", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "update.write-field", connected && !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "update.calibrate", connected && !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "update.sleep", connected && !busy);
}

/* The board's values once, so later edits are not overwritten by polls. */
static void
load_spins (BmsUpdatePage *self)
{
  for (guint i = 0; i < g_list_model_get_n_items (self->service); i++)
    {
      g_autoptr(BmsSetting) setting = g_list_model_get_item (self->service, i);
      GtkSpinButton *spin = g_object_get_data (G_OBJECT (setting), "spin");

      if (spin != NULL && bms_setting_get_reported (setting))
        gtk_spin_button_set_value (spin, bms_setting_get_number (setting));
    }
}

static void
on_device_updated (BmsUpdatePage *self)
{
  BmsDevice *device = BMS_PAGE_DEVICE (self);
  const BmsSnapshot *snapshot = bms_device_get_snapshot (device);
  g_autofree char *current = g_strdup_printf ("%.2f A", bms_device_get_current (device));

  gtk_label_set_text (self->board_current_label, current);
  if (snapshot != NULL && !self->values_loaded)
    {
      bms_setting_list_update (self->service, snapshot);
      load_spins (self);
      self->values_loaded = TRUE;
    }
}

/* --- GObject ------------------------------------------------------------ */

static void
bms_update_page_connection_changed (BmsPage *page)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (page);
  BmsConnection *connection = bms_page_get_connection (page);

  if (connection)
    g_signal_connect_object (connection, "notify::state",
                             G_CALLBACK (update_actions), self, G_CONNECT_SWAPPED);
  update_actions (self);
}

static void
bms_update_page_device_changed (BmsPage *page)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (page);
  BmsDevice *device = bms_page_get_device (page);

  self->values_loaded = FALSE;
  if (device)
    {
      g_signal_connect_object (device, "updated", G_CALLBACK (on_device_updated),
                               self, G_CONNECT_SWAPPED);
      on_device_updated (self);
    }
  else
    gtk_label_set_text (self->board_current_label, "—");
  update_actions (self);
}

static void
bms_update_page_dispose (GObject *object)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (object);
  GCancellable **cancellables[] = {
    &self->check_cancellable, &self->flash_cancellable, &self->write_cancellable,
  };

  for (guint i = 0; i < G_N_ELEMENTS (cancellables); i++)
    {
      if (*cancellables[i])
        g_cancellable_cancel (*cancellables[i]);
      g_clear_object (cancellables[i]);
    }
  stop_following_flash (self);

  G_OBJECT_CLASS (bms_update_page_parent_class)->dispose (object);
}

static void
bms_update_page_finalize (GObject *object)
{
  BmsUpdatePage *self = BMS_UPDATE_PAGE (object);

  g_free (self->file_path);
  g_free (self->image_problem);
  g_clear_pointer (&self->writes, g_ptr_array_unref);
  g_clear_object (&self->service);
  G_OBJECT_CLASS (bms_update_page_parent_class)->finalize (object);
}

static void
bms_update_page_class_init (BmsUpdatePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  BmsPageClass *page_class = BMS_PAGE_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_update_page_dispose;
  page_class->connection_changed = bms_update_page_connection_changed;
  page_class->device_changed = bms_update_page_device_changed;
  object_class->finalize = bms_update_page_finalize;
  object_class->get_property = bms_update_page_get_property;
  properties[PROP_FLASH_STEP] =
    g_param_spec_uint ("flash-step", NULL, NULL, 0, BMS_FLASHER_STEP_DONE, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-update-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsUpdatePage, file_row);
  gtk_widget_class_bind_template_child (widget_class, BmsUpdatePage, steps_group);
  gtk_widget_class_bind_template_child (widget_class, BmsUpdatePage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BmsUpdatePage, board_current_label);
  gtk_widget_class_bind_template_child (widget_class, BmsUpdatePage, calibration_spin);
  gtk_widget_class_bind_template_child (widget_class, BmsUpdatePage, address_spin);
  gtk_widget_class_bind_template_child (widget_class, BmsUpdatePage, diff_spin);
  gtk_widget_class_bind_template_child (widget_class, BmsUpdatePage, pack_cells_spin);
  gtk_widget_class_bind_template_child (widget_class, BmsUpdatePage, result_label);
  gtk_widget_class_bind_template_child (widget_class, BmsUpdatePage, resume_switch);
  gtk_widget_class_bind_template_callback (widget_class, on_resume_toggled);

  gtk_widget_class_install_action (widget_class, "update.choose-file", NULL, action_choose_file);
  gtk_widget_class_install_action (widget_class, "update.start", NULL, action_start);
  gtk_widget_class_install_action (widget_class, "update.cancel", NULL, action_cancel);
  gtk_widget_class_install_action (widget_class, "update.write-field", "s", action_write_field);
  gtk_widget_class_install_action (widget_class, "update.calibrate", NULL, action_calibrate);
  gtk_widget_class_install_action (widget_class, "update.sleep", NULL, action_sleep);
}

/* Each settings row's spin button, by the setting its Write button names
 * (the rows' action targets in the template). */
static void
attach_spins (BmsUpdatePage *self)
{
  const struct { const char *setting; GtkSpinButton *spin; } rows[] = {
    { "board_address", self->address_spin },
    { "cell_diff_protect_mv", self->diff_spin },
    { "pack_cell_count", self->pack_cells_spin },
  };

  self->service = bms_setting_list_new_service ();
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    g_object_set_data (G_OBJECT (bms_setting_list_find (self->service, rows[i].setting)), "spin",
                       rows[i].spin);
}

static void
bms_update_page_init (BmsUpdatePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  attach_spins (self);
  /* Tests flip the switch like a user would. */
  g_object_set_data (G_OBJECT (self), "resume-switch", self->resume_switch);
  build_steps (self);
  update_actions (self);
}

GtkWidget *
bms_update_page_new (BmsConnection *connection)
{
  return g_object_new (BMS_TYPE_UPDATE_PAGE, "connection", connection, NULL);
}

