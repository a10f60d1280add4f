/* bms-connection-flash.c — firmware update through the connection and
 * recovery of a board left in its bootloader */
#include "config.h"

#include <glib/gi18n.h>

#include "bms-connection-private.h"
#include "bms-flasher.h"
#include "bms-transport.h"

/* ---- firmware update ---- */

typedef struct {
  char           *path;
  gboolean        force;
  gboolean        in_bootloader;
  char           *password;
  char           *old_version;
  BmsFlasherStep  step;        /* where it failed before the flasher ran */
  BmsFlasher     *flasher;
  BmsTransport   *transport;   /* in_bootloader: the line, ours until the end */
  char           *uri;
  guint           baud;
  guint           address;
} FlashJob;

static void
flash_job_free (FlashJob *job)
{
  g_free (job->path);
  g_free (job->password);
  g_free (job->old_version);
  g_free (job->uri);
  g_clear_object (&job->flasher);
  g_clear_object (&job->transport);
  g_free (job);
}

static void
flasher_progress (BmsFlasher               *flasher,
                  const BmsFlasherProgress *progress,
                  BmsConnection            *self)
{
  g_signal_emit (self, bms_connection_signals[FLASH_PROGRESS], 0, progress);
}

/* After a bootloader run the line goes back to polling, at the board's baud. */
static void
flash_reconnect (BmsConnection *self,
                 FlashJob      *job)
{
  if (job->transport != NULL)
    bms_transport_close (job->transport);
  g_clear_object (&job->transport);
  if (job->uri != NULL)
    bms_connection_connect (self, job->uri, job->baud, job->address);
}

/* Ends the update before the flasher could run: where it stopped, the line
 * back to polling if it was given up for the bootloader. Takes the task. */
static void
flash_failed (GTask          *task,
              BmsFlasherStep  step,
              GError         *error)
{
  FlashJob *job = g_task_get_task_data (task);

  job->step = step;
  flash_reconnect (g_task_get_source_object (task), job);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
flashed (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BmsConnection *self = g_task_get_source_object (task);
  FlashJob *job = g_task_get_task_data (task);
  GError *error = NULL;
  gboolean ok = bms_flasher_run_finish (BMS_FLASHER (source), result, &error);

  g_signal_handlers_disconnect_by_data (source, self);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
    if (self->history != NULL && self->history_device_id > 0)
      bms_history_add_firmware_audit (self->history, self->history_device_id, job->flasher,
                                      job->path, job->old_version,
                                      error != NULL ? error->message : NULL);
  /* (a no-op unless the line was given up for the bootloader) */
  flash_reconnect (self, job);
  bms_connection_task_return (task, ok, error);
}

static void
run_flasher (BmsConnection *self,
             GTask         *task)
{
  FlashJob *job = g_task_get_task_data (task);

  bms_flasher_set_force (job->flasher, job->force);
  bms_flasher_set_file (job->flasher, job->path);
  bms_flasher_set_board_baud (job->flasher, job->baud);
  g_signal_connect_object (job->flasher, "progress", G_CALLBACK (flasher_progress), self, 0);
  bms_flasher_run_async (job->flasher, g_task_get_cancellable (task), flashed, task);
}

/* Unlocked (through the session) or the port opened (in the bootloader):
 * the flasher runs; without one the update ends at step. Takes the task. */
static void
flash_ready (GTask          *task,
             BmsFlasher     *flasher,
             BmsFlasherStep  step,
             GError         *error)
{
  FlashJob *job = g_task_get_task_data (task);

  if (flasher == NULL)
    {
      flash_failed (task, step, error);
      return;
    }
  job->flasher = flasher;
  run_flasher (g_task_get_source_object (task), task);
}

static void
flash_unlocked (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  BmsConnection *self = BMS_CONNECTION (source);
  GError *error = NULL;

  if (bms_connection_unlock_finish (self, result, &error) && self->session == NULL)
    error = g_error_new (BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED,
                         _("Not connected to a board"));
  flash_ready (user_data, error == NULL ? bms_flasher_new (self->session) : NULL,
               BMS_FLASHER_STEP_ENTER_BOOTLOADER, error);
}

static void
open_transport_thread (GTask        *task,
                       gpointer      source,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  GError *error = NULL;
  gboolean ok = bms_transport_open (task_data, &error);

  bms_connection_task_return (task, ok, error);
}

static void
bootloader_line_opened (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  FlashJob *job = g_task_get_task_data (user_data);
  GError *error = NULL;

  g_task_propagate_boolean (G_TASK (result), &error);
  flash_ready (user_data,
               error == NULL ? bms_flasher_new_for_transport (job->transport, job->address) : NULL,
               BMS_FLASHER_STEP_SEGMENT, error);
}

/* The poller must not touch the line meanwhile: disconnect, open the port
 * at the bootloader's baud (on a worker), run steps 4–8, connect again. */
static void
flash_in_bootloader (BmsConnection *self,
                     GTask         *task)
{
  FlashJob *job = g_task_get_task_data (task);
  g_autoptr(GTask) open = NULL;
  GError *error = NULL;

  if (self->uri == NULL)
    {
      flash_failed (task, BMS_FLASHER_STEP_REOPEN,
                    g_error_new_literal (BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED,
                                         _("No port chosen: connect to the board’s port first")));
      return;
    }
  job->uri = g_strdup (self->uri);
  job->baud = self->session != NULL ? self->baud : BMS_FLASHER_BOOTLOADER_BAUD;
  job->address = self->session != NULL ? self->address : 1;
  bms_connection_disconnect (self);
  job->transport = bms_transport_new_for_uri (job->uri, BMS_FLASHER_BOOTLOADER_BAUD, &error);
  if (job->transport == NULL)
    {
      flash_failed (task, BMS_FLASHER_STEP_REOPEN, error);
      return;
    }
  open = g_task_new (self, g_task_get_cancellable (task), bootloader_line_opened, task);
  g_task_set_task_data (open, g_object_ref (job->transport), g_object_unref);
  g_task_run_in_thread (open, open_transport_thread);
}

void
bms_connection_flash_async (BmsConnection       *self,
                            const char          *path,
                            gboolean             force,
                            gboolean             in_bootloader,
                            const char          *password,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;
  FlashJob *job;
  const BmsSnapshot *snapshot;

  g_return_if_fail (BMS_IS_CONNECTION (self));
  g_return_if_fail (path != NULL);

  job = g_new0 (FlashJob, 1);
  job->path = g_strdup (path);
  job->force = force;
  job->in_bootloader = in_bootloader;
  job->password = g_strdup (password);
  job->baud = self->baud;
  snapshot = self->device != NULL ? bms_device_get_snapshot (self->device) : NULL;
  if (snapshot != NULL && bms_snapshot_has (snapshot, BMS_ID_SOFTWARE_VERSION))
    job->old_version = bms_snapshot_dup_string (snapshot, BMS_ID_SOFTWARE_VERSION);
  /* In the bootloader the update would open the line itself: never while
   * the board is watched through a broker. */
  if (in_bootloader && self->read_only_reason != NULL)
    {
      task = g_task_new (self, cancellable, callback, user_data);
      g_task_set_source_tag (task, bms_connection_flash_async);
      g_task_set_task_data (task, job, (GDestroyNotify) flash_job_free);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_READ_ONLY, "%s",
                               self->read_only_reason);
      g_object_unref (task);
      return;
    }
  if (in_bootloader)
    {
      /* Not tied to the connection's own cancellable: it disconnects. */
      task = g_task_new (self, cancellable, callback, user_data);
      g_task_set_source_tag (task, bms_connection_flash_async);
      g_task_set_task_data (task, job, (GDestroyNotify) flash_job_free);
      flash_in_bootloader (self, task);
      return;
    }
  job->step = BMS_FLASHER_STEP_ENTER_BOOTLOADER;
  task = bms_connection_job_task_new (self, cancellable, bms_connection_flash_async, job,
                                      (GDestroyNotify) flash_job_free, callback, user_data);
  if (task == NULL)
    return;
  if (password != NULL && !bms_session_is_unlocked (self->session))
    {
      bms_connection_unlock_async (self, password, g_task_get_cancellable (task),
                                   flash_unlocked, task);
      return;
    }
  flash_ready (task, bms_flasher_new (self->session), BMS_FLASHER_STEP_ENTER_BOOTLOADER, NULL);
}

gboolean
bms_connection_flash_finish (BmsConnection   *self,
                             GAsyncResult    *result,
                             BmsFlasherStep  *step,
                             char           **board_version,
                             GError         **error)
{
  FlashJob *job;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  job = g_task_get_task_data (G_TASK (result));
  if (step != NULL)
    *step = job->flasher != NULL ? bms_flasher_get_step (job->flasher) : job->step;
  if (board_version != NULL)
    *board_version = job->flasher != NULL
                     ? g_strdup (bms_flasher_get_board_version (job->flasher)) : NULL;
  bms_connection_refresh_lock_state (self);
  return g_task_propagate_boolean (G_TASK (result), error);
}
