/* bms-flasher.c — the firmware update flow, step by step. */
#include "bms-flasher.h"
#include "bms-context.h"

#include <string.h>

#include "bms-field.h"
#include "bms-frame.h"
#include "bms-snapshot.h"

#define SEGMENT_TRIES        3
#define SEGMENT_TIMEOUT_MS   1000
#define WAIT_C_TIMEOUT_MS    3000   /* the bootloader repeats 'C' every second */
#define REBOOT_SETTLE_MS     500
#define ENTER_REPLY_MS       2000
#define CONFIRM_BOOT_MS      1000
#define CONFIRM_TRIES        6
#define CONFIRM_REPLY_MS     1500
#define READ_SLICE_MS        100
#define ECHO_WAIT_MS         300
#define RESET_SETTLE_MS      1200   /* > the bootloader's 1 s block timeout */

struct _BmsFlasher
{
  GObject        parent_instance;

  BmsSession    *session;
  BmsTransport  *transport;     /* only for the --bootloader flavour */
  guint          address;
  char          *path;
  guint64        max_size;
  gboolean       use_restart;
  gboolean       force;
  guint          board_baud;
  gboolean       confirm;
  BmsClockFunc   clock;
  gpointer       clock_data;

  BmsFlasherProgressFunc progress_func;
  gpointer       progress_data;
  GDestroyNotify progress_destroy;
  GMainContext  *signal_context;  /* set by run_async */

  /* State of the current run. */
  BmsFlasherStep step;
  char          *detail;
  GBytes        *image;
  guint32        crc32;
  guint8         segment;
  char          *file_version;
  char          *image_problem;  /* what the image check found, when forced past it */
  char          *board_version;
  gint64         start_us;
  gint64         transfer_start_us;
  BmsYmodemProgress ymodem;
  gint           running;        /* atomic: one update at a time */
};

G_DEFINE_FINAL_TYPE (BmsFlasher, bms_flasher, G_TYPE_OBJECT)
// clang-format off
G_DEFINE_QUARK (bms-flasher-error-quark, bms_flasher_error)
// clang-format on

enum { SIGNAL_PROGRESS, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *step_names[] = {
  "idle", "check file", "enter bootloader", "reopen at 9600 baud",
  "send 0x20", "send 0x31", "wait for 'C'", "send image",
  "confirm version", "done",
};

const char *
bms_flasher_step_to_string (BmsFlasherStep step)
{
  if ((guint) step >= G_N_ELEMENTS (step_names))
    return "?";
  return step_names[step];
}

/* ---- object ------------------------------------------------------------ */

static gint64
default_clock (gpointer user_data)
{
  return g_get_monotonic_time ();
}

static void
bms_flasher_finalize (GObject *object)
{
  BmsFlasher *self = BMS_FLASHER (object);

  g_clear_object (&self->session);
  g_clear_object (&self->transport);
  g_free (self->path);
  if (self->progress_destroy != NULL)
    self->progress_destroy (self->progress_data);
  g_clear_pointer (&self->signal_context, g_main_context_unref);
  g_free (self->detail);
  g_clear_pointer (&self->image, g_bytes_unref);
  g_free (self->file_version);
  g_free (self->board_version);
  g_free (self->image_problem);
  G_OBJECT_CLASS (bms_flasher_parent_class)->finalize (object);
}

static void
bms_flasher_class_init (BmsFlasherClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bms_flasher_finalize;

  /* Emitted in the main context that called bms_flasher_run_async;
   * the argument is a BmsFlasherProgress *, valid during the emission. */
  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
bms_flasher_init (BmsFlasher *self)
{
  self->max_size = BMS_FLASHER_DEFAULT_MAX_SIZE;
  self->board_baud = 9600;
  self->confirm = TRUE;
  self->clock = default_clock;
}

BmsFlasher *
bms_flasher_new (BmsSession *session)
{
  BmsFlasher *self;

  g_return_val_if_fail (BMS_IS_SESSION (session), NULL);
  self = g_object_new (BMS_TYPE_FLASHER, NULL);
  self->session = g_object_ref (session);
  self->address = bms_session_get_address (session);
  if (bms_session_get_baud (session) > 0)
    self->board_baud = bms_session_get_baud (session);
  return self;
}

BmsFlasher *
bms_flasher_new_for_transport (BmsTransport *transport, guint address)
{
  BmsFlasher *self;

  g_return_val_if_fail (BMS_IS_TRANSPORT (transport), NULL);
  self = g_object_new (BMS_TYPE_FLASHER, NULL);
  self->transport = g_object_ref (transport);
  self->address = address;
  return self;
}

void
bms_flasher_set_file (BmsFlasher *self, const char *path)
{
  g_return_if_fail (BMS_IS_FLASHER (self));
  g_free (self->path);
  self->path = g_strdup (path);
}

void
bms_flasher_set_max_size (BmsFlasher *self, guint64 max_size)
{
  g_return_if_fail (BMS_IS_FLASHER (self));
  self->max_size = max_size;
}

void
bms_flasher_set_force (BmsFlasher *self, gboolean force)
{
  g_return_if_fail (BMS_IS_FLASHER (self));
  self->force = force;
}

void
bms_flasher_set_use_restart (BmsFlasher *self, gboolean use_restart)
{
  g_return_if_fail (BMS_IS_FLASHER (self));
  self->use_restart = use_restart;
}

void
bms_flasher_set_board_baud (BmsFlasher *self, guint baud)
{
  g_return_if_fail (BMS_IS_FLASHER (self));
  self->board_baud = baud;
}

void
bms_flasher_set_confirm (BmsFlasher *self, gboolean confirm)
{
  g_return_if_fail (BMS_IS_FLASHER (self));
  self->confirm = confirm;
}

void
bms_flasher_set_clock (BmsFlasher *self, BmsClockFunc clock, gpointer user_data)
{
  g_return_if_fail (BMS_IS_FLASHER (self));
  self->clock = clock != NULL ? clock : default_clock;
  self->clock_data = user_data;
}

void
bms_flasher_set_progress_func (BmsFlasher *self, BmsFlasherProgressFunc func,
                               gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (BMS_IS_FLASHER (self));
  if (self->progress_destroy != NULL)
    self->progress_destroy (self->progress_data);
  self->progress_func = func;
  self->progress_data = user_data;
  self->progress_destroy = destroy;
}

BmsFlasherStep bms_flasher_get_step (BmsFlasher *self) { return self->step; }
guint8 bms_flasher_get_segment (BmsFlasher *self) { return self->segment; }
guint32 bms_flasher_get_file_crc32 (BmsFlasher *self) { return self->crc32; }
const char *bms_flasher_get_file_version (BmsFlasher *self) { return self->file_version; }
const char *bms_flasher_get_board_version (BmsFlasher *self) { return self->board_version; }
const char *bms_flasher_get_image_problem (BmsFlasher *self) { return self->image_problem; }

guint64
bms_flasher_get_file_size (BmsFlasher *self)
{
  return self->image != NULL ? g_bytes_get_size (self->image) : 0;
}

/* ---- progress --------------------------------------------------------- */

typedef struct {
  BmsFlasher        *self;
  BmsFlasherProgress progress;
  char              *detail;
} ProgressEmission;

static gboolean
emit_progress_cb (gpointer data)
{
  ProgressEmission *e = data;

  e->progress.detail = e->detail;
  e->progress.step_name = bms_flasher_step_to_string (e->progress.step);
  g_signal_emit (e->self, signals[SIGNAL_PROGRESS], 0, &e->progress);
  g_object_unref (e->self);
  g_free (e->detail);
  g_free (e);
  return G_SOURCE_REMOVE;
}

static void
report (BmsFlasher *self)
{
  BmsFlasherProgress p = { 0 };
  gint64 now = self->clock (self->clock_data);

  p.step = self->step;
  p.step_name = bms_flasher_step_to_string (self->step);
  p.detail = self->detail;
  p.bytes_total = self->image != NULL ? g_bytes_get_size (self->image) : 0;
  p.bytes_sent = self->ymodem.bytes_acked;
  p.retries = self->ymodem.retries;
  p.elapsed_s = (now - self->start_us) / 1e6;
  p.remaining_s = -1;
  if (self->transfer_start_us > 0 && now > self->transfer_start_us)
    {
      p.rate_bps = p.bytes_sent / ((now - self->transfer_start_us) / 1e6);
      if (p.rate_bps > 0)
        p.remaining_s = (p.bytes_total - p.bytes_sent) / p.rate_bps;
    }
  if (self->step == BMS_FLASHER_STEP_DONE)
    p.remaining_s = 0;
  if (self->progress_func != NULL)
    self->progress_func (self, &p, self->progress_data);
  if (self->signal_context != NULL)
    {
      ProgressEmission *e = g_new0 (ProgressEmission, 1);

      e->self = g_object_ref (self);
      e->progress = p;
      e->detail = g_strdup (self->detail);
      bms_context_post (self->signal_context, emit_progress_cb, e, NULL);
    }
}

static void
enter_step (BmsFlasher *self, BmsFlasherStep step, const char *detail_format, ...)
  G_GNUC_PRINTF (3, 4);

static void
enter_step (BmsFlasher *self, BmsFlasherStep step, const char *detail_format, ...)
{
  va_list args;

  self->step = step;
  g_clear_pointer (&self->detail, g_free);
  if (detail_format != NULL)
    {
      va_start (args, detail_format);
      self->detail = g_strdup_vprintf (detail_format, args);
      va_end (args);
    }
  report (self);
}

/* Fails the current step: "step N (name): message[: cause]". */
static gboolean
step_failed (BmsFlasher *self, GError **error, GError *cause, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

static gboolean
step_failed (BmsFlasher *self, GError **error, GError *cause, const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list args;
  gboolean cancelled = cause != NULL &&
    (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
     g_error_matches (cause, BMS_YMODEM_ERROR, BMS_YMODEM_ERROR_CANCELLED));

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, cancelled ? G_IO_ERROR : BMS_FLASHER_ERROR,
               cancelled ? G_IO_ERROR_CANCELLED : (gint) self->step,
               "step %d (%s): %s%s%s", self->step, bms_flasher_step_to_string (self->step),
               msg, cause != NULL ? ": " : "", cause != NULL ? cause->message : "");
  g_clear_error (&cause);
  return FALSE;
}

static gboolean
check_cancelled (BmsFlasher *self, GCancellable *cancellable, GError **error)
{
  if (!g_cancellable_is_cancelled (cancellable))
    return TRUE;
  return step_failed (self, error,
                      g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled"),
                      self->step >= BMS_FLASHER_STEP_SEGMENT
                        ? "stopped; the board waits in its bootloader (use --bootloader)"
                        : "stopped");
}

/* ---- line helpers ----------------------------------------------------- */

#define STOP_NEVER     (-1)
#define STOP_FIRST_BYTE 0x100

/* Reads into buf until timeout_ms passed, or stop_at (a byte value, or
 * STOP_FIRST_BYTE for any byte) arrived. Returns the number of bytes read,
 * -1 on error/cancel. */
static gssize
read_for (BmsFlasher *self, BmsTransport *t, guint timeout_ms, gint stop_at, GByteArray *buf,
          GCancellable *cancellable, GError **error)
{
  gint64 deadline = self->clock (self->clock_data) + (gint64) timeout_ms * 1000;
  guint start = buf->len;

  for (;;)
    {
      gint64 now = self->clock (self->clock_data);
      guint8 chunk[256];
      gssize n;

      if (!check_cancelled (self, cancellable, error))
        return -1;
      if (now >= deadline)
        break;
      n = bms_transport_read (t, chunk, stop_at >= 0 ? 1 : sizeof chunk,
                              (guint) MIN ((deadline - now + 999) / 1000, READ_SLICE_MS), error);
      if (n < 0)
        return -1;
      g_byte_array_append (buf, chunk, (guint) n);
      if (n > 0 && (stop_at == STOP_FIRST_BYTE ||
                    (stop_at >= 0 && memchr (chunk, stop_at, (gsize) n) != NULL)))
        break;
    }
  return buf->len - start;
}

static gboolean
write_bytes (BmsTransport *t, const guint8 *data, gsize len, GError **error)
{
  return bms_transport_write (t, data, len, error);
}

typedef struct {
  guint8    command;
  BmsFrame *reply;
} ReplyCatch;

static void
catch_frame (BmsFrame *frame, gpointer user_data)
{
  ReplyCatch *c = user_data;

  if (c->reply == NULL && frame->transport == BMS_TRANSPORT_REPLY && frame->command == c->command)
    c->reply = frame;
  else
    bms_frame_free (frame);
}

static void
ignore_error (const GError *error, gpointer user_data)
{
}

/* One NW request, one reply. NULL without error on timeout. */
static BmsFrame *
nw_exchange (BmsFlasher *self, BmsTransport *t, GByteArray *request, guint timeout_ms,
             GCancellable *cancellable, GError **error)
{
  ReplyCatch c = { .command = request->data[8] };
  g_autoptr(BmsFrameParser) parser = bms_frame_parser_new (catch_frame, ignore_error, &c);
  gint64 deadline = self->clock (self->clock_data) + (gint64) timeout_ms * 1000;

  bms_transport_flush_input (t);
  if (!write_bytes (t, request->data, request->len, error))
    return NULL;
  while (c.reply == NULL && self->clock (self->clock_data) < deadline)
    {
      g_autoptr(GByteArray) buf = g_byte_array_new ();

      if (read_for (self, t, READ_SLICE_MS, STOP_NEVER, buf, cancellable, error) < 0)
        return NULL;
      bms_frame_parser_push (parser, buf->data, buf->len);
    }
  return c.reply;
}

/* ---- steps ------------------------------------------------------------ */

static gboolean
step_enter_bootloader (BmsFlasher *self, BmsTransport *t, GCancellable *cancellable,
                       GError **error)
{
  guint8 id = self->use_restart ? BMS_ID_RESTART : BMS_ID_REMOTE_UPGRADE;
  g_autoptr(GByteArray) request = bms_request_write (self->address, id, (guint8[]) { 1 }, 1);
  g_autoptr(BmsFrame) reply = NULL;
  GError *local = NULL;

  enter_step (self, BMS_FLASHER_STEP_ENTER_BOOTLOADER, "write 0x%02X = 1", id);
  reply = nw_exchange (self, t, request, ENTER_REPLY_MS, cancellable, &local);
  if (local != NULL)
    return step_failed (self, error, local, "could not send the command");
  if (reply == NULL)
    {
      /* Some boards jump to the bootloader before answering: step 4 tells. */
      enter_step (self, BMS_FLASHER_STEP_ENTER_BOOTLOADER, "no reply; assuming it restarted");
      return TRUE;
    }
  if (reply->info_len >= 2 && reply->info[1] == BMS_RESULT_DENIED)
    return step_failed (self, error, NULL,
                        "the board refused 0x%02X: not authenticated — unlock with the "
                        "parameter password first (--password)", id);
  if (reply->info_len >= 2 && reply->info[1] != BMS_RESULT_OK)
    return step_failed (self, error, NULL, "the board refused 0x%02X (result %u)",
                        id, reply->info[1]);
  return TRUE;
}

static gboolean
step_reopen (BmsFlasher *self, BmsTransport *t, GCancellable *cancellable, GError **error)
{
  g_autoptr(GByteArray) junk = g_byte_array_new ();
  GError *local = NULL;

  enter_step (self, BMS_FLASHER_STEP_REOPEN, NULL);
  if (!bms_transport_set_baud (t, BMS_FLASHER_BOOTLOADER_BAUD, &local))
    return step_failed (self, error, local, "cannot switch the line to 9600 baud");
  /* Let the board restart; whatever it prints meanwhile is not for us. */
  if (read_for (self, t, REBOOT_SETTLE_MS, STOP_NEVER, junk, cancellable, error) < 0)
    return FALSE;
  return TRUE;
}

/* A board in an unknown state (--bootloader, or a retry) may still be in an
 * earlier transfer: CAN CAN takes it back to its menu, and the pause lets a
 * packet cut short time out and stale answers (a late ACK) arrive, to be
 * thrown away. */
static gboolean
reset_to_menu (BmsFlasher *self, BmsTransport *t, GCancellable *cancellable, GError **error)
{
  g_autoptr(GByteArray) junk = g_byte_array_new ();
  GError *local = NULL;

  if (!write_bytes (t, (guint8[]) { BMS_YMODEM_CAN, BMS_YMODEM_CAN }, 2, &local))
    return step_failed (self, error, local, "cannot send CAN CAN");
  if (read_for (self, t, RESET_SETTLE_MS, STOP_NEVER, junk, cancellable, error) < 0)
    return FALSE;
  bms_transport_flush_input (t);
  return TRUE;
}

/* The segment byte among what came back: skip our own echoed 0x20 and
 * late YMODEM answers from an earlier transfer. */
static guint8
pick_segment (const GByteArray *buf)
{
  for (guint i = 0; i < buf->len; i++)
    {
      guint8 b = buf->data[i];
      gboolean more = i + 1 < buf->len;

      if (more && (b == 0x20 || b == BMS_YMODEM_ACK || b == BMS_YMODEM_NAK ||
                   b == BMS_YMODEM_CRC || b == BMS_YMODEM_CAN))
        continue;
      return b;
    }
  return buf->data[buf->len - 1];
}

static gboolean
step_segment (BmsFlasher *self, BmsTransport *t, GCancellable *cancellable, GError **error)
{
  GError *local = NULL;

  enter_step (self, BMS_FLASHER_STEP_SEGMENT, NULL);
  for (guint i = 0; i < SEGMENT_TRIES; i++)
    {
      g_autoptr(GByteArray) buf = g_byte_array_new ();
      gssize n;

      /* Fresh from 0xBD the board sits in its menu; otherwise make sure. */
      if ((i > 0 || self->transport != NULL) && !reset_to_menu (self, t, cancellable, error))
        return FALSE;
      bms_transport_flush_input (t);
      if (!write_bytes (t, (guint8[]) { 0x20 }, 1, &local))
        return step_failed (self, error, local, "cannot send 0x20");
      n = read_for (self, t, SEGMENT_TIMEOUT_MS, STOP_FIRST_BYTE, buf, cancellable, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        continue;
      /* An echoing adapter hands back our 0x20 first; the answer follows. */
      if (read_for (self, t, ECHO_WAIT_MS, STOP_NEVER, buf, cancellable, error) < 0)
        return FALSE;
      self->segment = pick_segment (buf);
      enter_step (self, BMS_FLASHER_STEP_SEGMENT, "segment 0x%02X", self->segment);
      return TRUE;
    }
  return step_failed (self, error, NULL,
                      "the bootloader did not answer 0x20 (%u tries) — is the board in its "
                      "bootloader, at 9600 baud, on this port and address?", SEGMENT_TRIES);
}

static gboolean
step_menu_and_wait_c (BmsFlasher *self, BmsTransport *t, GCancellable *cancellable,
                      GError **error)
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  GError *local = NULL;
  gssize n;

  enter_step (self, BMS_FLASHER_STEP_MENU, NULL);
  bms_transport_flush_input (t);
  if (!write_bytes (t, (guint8[]) { 0x31 }, 1, &local))
    return step_failed (self, error, local, "cannot send 0x31");
  enter_step (self, BMS_FLASHER_STEP_WAIT_C, NULL);
  n = read_for (self, t, WAIT_C_TIMEOUT_MS, BMS_YMODEM_CRC, buf, cancellable, error);
  if (n < 0)
    return FALSE;
  if (buf->len == 0 || memchr (buf->data, BMS_YMODEM_CRC, buf->len) == NULL)
    {
      /* Leave it in its menu rather than waiting for a download. */
      write_bytes (t, (guint8[]) { BMS_YMODEM_CAN, BMS_YMODEM_CAN }, 2, NULL);
      return step_failed (self, error, NULL,
                          "no 'C' within %u s after 0x31 (got %u other bytes); the board "
                          "is still in its bootloader — try again with --bootloader",
                          WAIT_C_TIMEOUT_MS / 1000, buf->len);
    }
  return TRUE;
}

static void
on_ymodem_progress (const BmsYmodemProgress *progress, gpointer user_data)
{
  BmsFlasher *self = user_data;

  self->ymodem = *progress;
  g_clear_pointer (&self->detail, g_free);
  self->detail = g_strdup_printf ("block %u/%u, %s", progress->block, progress->n_blocks,
                                  bms_ymodem_state_to_string (progress->state));
  report (self);
}

static gboolean
step_transfer (BmsFlasher *self, BmsTransport *t, GCancellable *cancellable, GError **error)
{
  g_autoptr(BmsYmodemSender) sender = bms_ymodem_sender_new (self->path, self->image);
  GError *local = NULL;

  enter_step (self, BMS_FLASHER_STEP_TRANSFER, NULL);
  self->transfer_start_us = self->clock (self->clock_data);
  bms_ymodem_sender_set_baud (sender, BMS_FLASHER_BOOTLOADER_BAUD);
  bms_ymodem_sender_set_clock (sender, self->clock, self->clock_data);
  /* Step 6 consumed the bootloader's 'C'. */
  bms_ymodem_sender_feed (sender, (guint8[]) { BMS_YMODEM_CRC }, 1);
  if (bms_ymodem_sender_run (sender, t, on_ymodem_progress, self, cancellable, &local))
    return TRUE;
  if (g_error_matches (local, BMS_YMODEM_ERROR, BMS_YMODEM_ERROR_CANCELLED))
    return step_failed (self, error, local,
                        "stopped at %" G_GUINT64_FORMAT " of %" G_GSIZE_FORMAT " bytes; the "
                        "board waits in its bootloader — finish with --bootloader",
                        self->ymodem.bytes_acked, g_bytes_get_size (self->image));
  step_failed (self, error, NULL, "%s — the board is still in its bootloader: run again "
               "with --bootloader", local->message);
  g_error_free (local);
  return FALSE;
}

static gboolean
step_confirm (BmsFlasher *self, BmsTransport *t, GCancellable *cancellable, GError **error)
{
  g_autoptr(GByteArray) junk = g_byte_array_new ();
  GError *local = NULL;

  enter_step (self, BMS_FLASHER_STEP_CONFIRM, "waiting for the restart");
  if (self->board_baud != BMS_FLASHER_BOOTLOADER_BAUD &&
      !bms_transport_set_baud (t, self->board_baud, &local))
    return step_failed (self, error, local, "cannot switch the line back to %u baud",
                        self->board_baud);
  if (read_for (self, t, CONFIRM_BOOT_MS, STOP_NEVER, junk, cancellable, error) < 0)
    return FALSE;
  for (guint i = 0; i < CONFIRM_TRIES; i++)
    {
      g_autoptr(GByteArray) request = bms_request_read_one (self->address, BMS_ID_SOFTWARE_VERSION);
      g_autoptr(BmsFrame) reply = NULL;
      g_autoptr(BmsSnapshot) snap = bms_snapshot_new ();

      reply = nw_exchange (self, t, request, CONFIRM_REPLY_MS, cancellable, &local);
      if (local != NULL)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
              local->domain == BMS_FLASHER_ERROR)
            {
              g_propagate_error (error, local);
              return FALSE;
            }
          return step_failed (self, error, local, "the line failed");
        }
      if (reply == NULL || !bms_snapshot_parse (snap, reply->info, reply->info_len, NULL) ||
          !bms_snapshot_has (snap, BMS_ID_SOFTWARE_VERSION))
        continue;
      g_free (self->board_version);
      self->board_version = bms_snapshot_dup_string (snap, BMS_ID_SOFTWARE_VERSION);
      enter_step (self, BMS_FLASHER_STEP_CONFIRM, "board reports “%s”", self->board_version);
      if (g_strcmp0 (self->file_version, "unknown") != 0 &&
          g_strcmp0 (self->file_version, self->board_version) != 0)
        return step_failed (self, error, NULL,
                            "the board reports version “%s”, the image carries “%s” — "
                            "it may still run the old firmware", self->board_version,
                            self->file_version);
      return TRUE;
    }
  return step_failed (self, error, NULL,
                      "the image was transferred, but the board did not report its version "
                      "at %u baud within %u tries — check it by hand (packwatch-cli read); "
                      "if it stays silent, it waits in its bootloader (--bootloader)",
                      self->board_baud, CONFIRM_TRIES);
}

static gboolean
run_bootloader_steps (BmsFlasher *self, BmsTransport *t, GCancellable *cancellable,
                      GError **error)
{
  if (!step_segment (self, t, cancellable, error) ||
      !step_menu_and_wait_c (self, t, cancellable, error) ||
      !step_transfer (self, t, cancellable, error))
    return FALSE;
  if (self->confirm && !step_confirm (self, t, cancellable, error))
    return FALSE;
  enter_step (self, BMS_FLASHER_STEP_DONE, NULL);
  return TRUE;
}

static gboolean
exclusive_cb (BmsTransport *transport, gpointer user_data, GCancellable *cancellable,
              GError **error)
{
  BmsFlasher *self = user_data;

  if (!step_enter_bootloader (self, transport, cancellable, error))
    return FALSE;
  if (step_reopen (self, transport, cancellable, error) &&
      run_bootloader_steps (self, transport, cancellable, error))
    return TRUE;
  /* Leave the line as the session knows it; a --bootloader retry
   * switches to 9600 baud again by itself. */
  if (self->board_baud != BMS_FLASHER_BOOTLOADER_BAUD && self->step < BMS_FLASHER_STEP_CONFIRM)
    bms_transport_set_baud (transport, self->board_baud, NULL);
  return FALSE;
}

static gboolean
step_check_file (BmsFlasher *self, GError **error)
{
  GError *local = NULL;

  enter_step (self, BMS_FLASHER_STEP_CHECK_FILE, NULL);
  g_clear_pointer (&self->image, g_bytes_unref);
  g_clear_pointer (&self->file_version, g_free);
  if (self->path == NULL)
    return step_failed (self, error, NULL, "no firmware file chosen");
  self->image = bms_firmware_check_file (self->path, self->max_size, &self->crc32, &local);
  if (self->image == NULL)
    {
      step_failed (self, error, NULL, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  g_clear_pointer (&self->image_problem, g_free);
  if (!bms_firmware_check_image (g_bytes_get_data (self->image, NULL),
                                 g_bytes_get_size (self->image), self->max_size, &local))
    {
      if (!self->force)
        {
          step_failed (self, error, NULL, "%s; nothing was sent to the board", local->message);
          g_error_free (local);
          return FALSE;
        }
      self->image_problem = g_strdup (local->message);
      g_clear_error (&local);
      enter_step (self, BMS_FLASHER_STEP_CHECK_FILE, "forced past the image check: %s",
                  self->image_problem);
    }
  self->file_version = bms_firmware_find_version (g_bytes_get_data (self->image, NULL),
                                                  g_bytes_get_size (self->image));
  enter_step (self, BMS_FLASHER_STEP_CHECK_FILE, "%" G_GSIZE_FORMAT " bytes, CRC-32 %08X, version %s",
              g_bytes_get_size (self->image), self->crc32, self->file_version);
  return TRUE;
}

static gboolean run_steps (BmsFlasher *self, GCancellable *cancellable, GError **error);

gboolean
bms_flasher_run (BmsFlasher *self, GCancellable *cancellable, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (BMS_IS_FLASHER (self), FALSE);

  if (!g_atomic_int_compare_and_exchange (&self->running, 0, 1))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                           "this update is already running; wait for it or cancel it");
      return FALSE;
    }
  ok = run_steps (self, cancellable, error);
  g_atomic_int_set (&self->running, 0);
  return ok;
}

static gboolean
run_steps (BmsFlasher *self, GCancellable *cancellable, GError **error)
{
  g_autoptr(GError) local = NULL;

  self->start_us = self->clock (self->clock_data);
  self->transfer_start_us = 0;
  memset (&self->ymodem, 0, sizeof self->ymodem);
  g_clear_pointer (&self->board_version, g_free);
  if (!step_check_file (self, error) || !check_cancelled (self, cancellable, error))
    return FALSE;
  if (self->transport != NULL)
    return run_bootloader_steps (self, self->transport, cancellable, error);

  if (bms_session_run_exclusive (self->session, exclusive_cb, self, cancellable, &local))
    return TRUE;
  if (g_error_matches (local, BMS_SESSION_ERROR, BMS_SESSION_ERROR_LOCKED))
    {
      self->step = BMS_FLASHER_STEP_ENTER_BOOTLOADER;
      return step_failed (self, error, g_steal_pointer (&local),
                          "the session is locked — unlock it with the parameter password "
                          "first; nothing was sent to the board");
    }
  if (local->domain == BMS_FLASHER_ERROR || g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return step_failed (self, error, g_steal_pointer (&local), "the session failed");
}

/* ---- async ------------------------------------------------------------ */

static void
return_result (GTask *task, gboolean ok, GError *error)
{
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/* The --bootloader flavour has no session: a thread of its own does the I/O. */
static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  gboolean ok = bms_flasher_run (source, cancellable, &error);

  return_result (task, ok, error);
}

/* Through a session: one job of its queue, so no thread waits for the
 * session's worker; the transfer holds the line as run_exclusive did. */
static BmsSessionJobResult
run_job (BmsSession *session, gpointer user_data, GCancellable *cancellable, GError **error)
{
  return bms_flasher_run (user_data, cancellable, error) ? BMS_SESSION_JOB_DONE
                                                          : BMS_SESSION_JOB_FAILED;
}

void
bms_flasher_run_async (BmsFlasher *self, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (BMS_IS_FLASHER (self));
  g_clear_pointer (&self->signal_context, g_main_context_unref);
  self->signal_context = g_main_context_ref_thread_default ();
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_flasher_run_async);
  /* Our own error names the step and what to do; GTask's would not. */
  g_task_set_check_cancellable (task, FALSE);
  if (self->session != NULL)
    bms_session_run_task (self->session, task, run_job, self);
  else
    g_task_run_in_thread (task, run_thread);
}

gboolean
bms_flasher_run_finish (BmsFlasher *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
