/* test-flasher.c — the flasher's steps against the simulated bootloader on
 * a virtual clock: the whole fault matrix at the level of the update (every
 * failure names its step and leaves the board in its bootloader), recovery
 * with the --bootloader flavour, cancellation, progress reports. */
#include <string.h>
#include <glib/gstdio.h>

#include "bms-bootloader.h"
#include "bms-field.h"
#include "bms-flasher.h"
#include "bms-frame.h"

#define FLASH_SIZE (128 * 1024)

/* ---- a transport whose other end is a BmsBootloader, on virtual time ---- */

#define TEST_TYPE_BOOT_LINE (test_boot_line_get_type ())
G_DECLARE_FINAL_TYPE (TestBootLine, test_boot_line, TEST, BOOT_LINE, GObject)

struct _TestBootLine
{
  GObject         parent_instance;
  BmsBootloader  *boot;
  GByteArray     *rx;            /* bytes on their way to the host */
  GByteArray     *tx_log;        /* everything the host sent */
  BmsFrameParser *parser;        /* the "application" after the update */
  gint64          now_us;
  guint           baud;
  guint           baud_changes;
  char           *app_version;   /* what the board reports after restart; NULL = image's */
  gboolean        echo;          /* an RS485 adapter that hears itself */
};

static void test_boot_line_iface_init (BmsTransportInterface *iface);
G_DEFINE_FINAL_TYPE_WITH_CODE (TestBootLine, test_boot_line, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BMS_TYPE_TRANSPORT, test_boot_line_iface_init))

static void
app_frame (BmsFrame *frame, gpointer user_data)
{
  TestBootLine *self = user_data;
  const char *version = self->app_version != NULL
                          ? self->app_version : bms_bootloader_get_version (self->boot);
  guint8 info[16] = { BMS_ID_SOFTWARE_VERSION };
  g_autoptr(BmsFrame) reply = NULL;

  if (frame->command == BMS_CMD_READ && frame->info_len == 1 &&
      frame->info[0] == BMS_ID_SOFTWARE_VERSION && self->baud == 115200)
    {
      memset (info + 1, ' ', 15);
      memcpy (info + 1, version, MIN (strlen (version), 15));
      reply = bms_frame_new (BMS_CMD_READ, BMS_SOURCE_BMS, BMS_TRANSPORT_REPLY, info, 16);
      bms_frame_encode (reply, self->rx);
    }
  bms_frame_free (frame);
}

static void
app_error (const GError *error, gpointer user_data)
{
}

static gboolean tbl_open (BmsTransport *t, GError **e) { return TRUE; }
static void tbl_close (BmsTransport *t) { }
static const char *tbl_name (BmsTransport *t) { return "test-boot-line"; }

static gboolean
tbl_set_baud (BmsTransport *t, guint baud, GError **error)
{
  TestBootLine *self = TEST_BOOT_LINE (t);

  self->baud = baud;
  self->baud_changes++;
  return TRUE;
}

static gboolean
tbl_write (BmsTransport *t, const guint8 *data, gsize len, GError **error)
{
  TestBootLine *self = TEST_BOOT_LINE (t);

  g_byte_array_append (self->tx_log, data, len);
  if (self->echo)
    g_byte_array_append (self->rx, data, len);
  if (bms_bootloader_finished (self->boot))
    bms_frame_parser_push (self->parser, data, len);
  else if (self->baud == 9600)
    bms_bootloader_receive (self->boot, data, len, self->rx);
  return TRUE;
}

static gssize
tbl_read (BmsTransport *t, guint8 *buf, gsize len, guint timeout_ms, GError **error)
{
  TestBootLine *self = TEST_BOOT_LINE (t);
  guint n;

  for (guint waited = 0; self->rx->len == 0 && waited < timeout_ms; waited += 10)
    {
      self->now_us += 10000;
      bms_bootloader_tick (self->boot, 0.01);
      bms_bootloader_receive (self->boot, NULL, 0, self->rx);
    }
  n = MIN (len, self->rx->len);
  if (n == 0)
    return 0;
  memcpy (buf, self->rx->data, n);
  g_byte_array_remove_range (self->rx, 0, n);
  return n;
}

static void
tbl_flush (BmsTransport *t)
{
  g_byte_array_set_size (TEST_BOOT_LINE (t)->rx, 0);
}

static void
test_boot_line_iface_init (BmsTransportInterface *iface)
{
  iface->open = tbl_open;
  iface->close = tbl_close;
  iface->set_baud = tbl_set_baud;
  iface->write = tbl_write;
  iface->read = tbl_read;
  iface->flush_input = tbl_flush;
  iface->get_name = tbl_name;
}

static void
test_boot_line_finalize (GObject *object)
{
  TestBootLine *self = TEST_BOOT_LINE (object);

  bms_bootloader_free (self->boot);
  g_byte_array_unref (self->rx);
  g_byte_array_unref (self->tx_log);
  bms_frame_parser_free (self->parser);
  g_free (self->app_version);
  G_OBJECT_CLASS (test_boot_line_parent_class)->finalize (object);
}

static void
test_boot_line_class_init (TestBootLineClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_boot_line_finalize;
}

static void
test_boot_line_init (TestBootLine *self)
{
  self->boot = bms_bootloader_new (FLASH_SIZE);
  self->rx = g_byte_array_new ();
  self->tx_log = g_byte_array_new ();
  self->parser = bms_frame_parser_new (app_frame, app_error, self);
  self->now_us = 1;
  self->baud = 9600;   /* a board waiting in its bootloader */
}

static gint64
virtual_clock (gpointer user_data)
{
  return TEST_BOOT_LINE (user_data)->now_us;
}

/* ---- fixtures ----------------------------------------------------------- */

typedef struct {
  TestBootLine *line;
  BmsFlasher   *flasher;
  char         *dir;
  char         *path;
  GBytes       *image;
  GArray       *steps;       /* BmsFlasherStep per report, deduplicated */
  guint         reports;
  guint64       last_sent;
  double        last_rate;
  double        last_remaining;
  guint         last_retries;
  GCancellable *cancellable;
  guint         cancel_at_bytes;
} Fixture;

static GBytes *
make_image (gsize size, const char *version)
{
  GByteArray *a = g_byte_array_sized_new (size);

  for (gsize i = 0; i < size; i++)
    {
      guint8 b = (guint8) ((i * 31 + i / 97) & 0xFF);
      g_byte_array_append (a, &b, 1);
    }
  if (version != NULL)
    {
      g_autofree char *marker = g_strdup_printf (BMS_FIRMWARE_VERSION_MARKER "%s", version);
      g_assert_cmpuint (size, >, 100 + strlen (marker));
      memcpy (a->data + 100, marker, strlen (marker) + 1);
    }
  if (size >= 8)
    bms_firmware_stamp_vectors (a->data, size);
  return g_byte_array_free_to_bytes (a);
}

static void
on_progress (BmsFlasher *flasher, const BmsFlasherProgress *p, gpointer user_data)
{
  Fixture *fx = user_data;

  fx->reports++;
  if (fx->steps->len == 0 ||
      g_array_index (fx->steps, BmsFlasherStep, fx->steps->len - 1) != p->step)
    g_array_append_val (fx->steps, p->step);
  g_assert_cmpuint (p->bytes_sent, >=, fx->last_sent);
  g_assert_cmpuint (p->bytes_sent, <=, p->bytes_total);
  g_assert_cmpfloat (p->elapsed_s, >=, 0);
  g_assert_nonnull (p->step_name);
  fx->last_sent = p->bytes_sent;
  fx->last_rate = p->rate_bps;
  fx->last_remaining = p->remaining_s;
  fx->last_retries = p->retries;
  if (fx->cancel_at_bytes > 0 && p->bytes_sent >= fx->cancel_at_bytes)
    g_cancellable_cancel (fx->cancellable);
}

static void
fixture_write_file (Fixture *fx, GBytes *contents)
{
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&fx->image, g_bytes_unref);
  fx->image = g_bytes_ref (contents);
  g_file_set_contents (fx->path, g_bytes_get_data (contents, NULL),
                       g_bytes_get_size (contents), &error);
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) image = make_image (20 * 1024 + 77, "PW-2.1.0");

  fx->dir = g_dir_make_tmp ("packwatch-flasher-XXXXXX", &error);
  g_assert_no_error (error);
  fx->path = g_build_filename (fx->dir, "bms-fw-2.1.0.bin", NULL);
  fixture_write_file (fx, image);
  fx->line = g_object_new (TEST_TYPE_BOOT_LINE, NULL);
  fx->flasher = bms_flasher_new_for_transport (BMS_TRANSPORT (fx->line), 1);
  bms_flasher_set_file (fx->flasher, fx->path);
  bms_flasher_set_board_baud (fx->flasher, 115200);
  bms_flasher_set_clock (fx->flasher, virtual_clock, fx->line);
  bms_flasher_set_progress_func (fx->flasher, on_progress, fx, NULL);
  fx->steps = g_array_new (FALSE, FALSE, sizeof (BmsFlasherStep));
  fx->cancellable = g_cancellable_new ();
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  g_unlink (fx->path);
  g_rmdir (fx->dir);
  g_free (fx->path);
  g_free (fx->dir);
  g_clear_pointer (&fx->image, g_bytes_unref);
  g_clear_object (&fx->flasher);
  g_clear_object (&fx->line);
  g_array_unref (fx->steps);
  g_clear_object (&fx->cancellable);
}

static void
set_faults (Fixture *fx, void (*edit) (BmsBootloaderFaults *f))
{
  BmsBootloaderFaults f;

  bms_bootloader_faults_init (&f);
  edit (&f);
  bms_bootloader_set_faults (fx->line->boot, &f);
}

static void
assert_complete (Fixture *fx, gboolean ok, GError *error)
{
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_true (bms_bootloader_finished (fx->line->boot));
  g_assert_true (g_bytes_equal (bms_bootloader_get_image (fx->line->boot), fx->image));
  g_assert_cmpstr (bms_flasher_get_board_version (fx->flasher), ==, "PW-2.1.0");
  g_assert_cmpint (bms_flasher_get_step (fx->flasher), ==, BMS_FLASHER_STEP_DONE);
}

/* Aborted cleanly: the error names the step, nothing was flashed and the
 * board sits in its bootloader menu, ready for a --bootloader retry. */
static void
assert_aborted_at (Fixture *fx, gboolean ok, GError *error, BmsFlasherStep step)
{
  g_autofree char *prefix = g_strdup_printf ("step %d (", step);

  g_assert_false (ok);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  g_assert_cmpint (bms_flasher_get_step (fx->flasher), ==, step);
  g_assert_false (bms_bootloader_finished (fx->line->boot));
  g_assert_null (bms_bootloader_get_image (fx->line->boot));
  g_assert_cmpint (bms_bootloader_get_state (fx->line->boot), ==, BMS_BOOTLOADER_MENU);
}

/* The same board, a second try with nothing changed but the fault gone. */
static void
assert_recovers (Fixture *fx, gboolean power_cycle)
{
  g_autoptr(GError) error = NULL;
  BmsBootloaderFaults none;
  gboolean ok;

  bms_bootloader_faults_init (&none);
  bms_bootloader_set_faults (fx->line->boot, &none);
  /* A board gone silent needs its power cycled: it comes back in its
   * bootloader (it has no valid application to start). */
  if (power_cycle)
    bms_bootloader_reset (fx->line->boot);
  g_cancellable_reset (fx->cancellable);
  fx->cancel_at_bytes = 0;
  fx->last_sent = 0;
  fx->line->baud = 9600;
  ok = bms_flasher_run (fx->flasher, NULL, &error);
  assert_complete (fx, ok, error);
}

/* ---- tests --------------------------------------------------------------- */

static void
test_full_bootloader_mode (Fixture *fx, gconstpointer data)
{
  static const BmsFlasherStep expected[] = {
    BMS_FLASHER_STEP_CHECK_FILE, BMS_FLASHER_STEP_SEGMENT, BMS_FLASHER_STEP_MENU,
    BMS_FLASHER_STEP_WAIT_C, BMS_FLASHER_STEP_TRANSFER, BMS_FLASHER_STEP_CONFIRM,
    BMS_FLASHER_STEP_DONE,
  };
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = bms_flasher_run (fx->flasher, NULL, &error);
  assert_complete (fx, ok, error);
  g_assert_cmpmem (fx->steps->data, fx->steps->len * sizeof (BmsFlasherStep),
                   expected, sizeof expected);
  g_assert_cmpuint (bms_flasher_get_segment (fx->flasher), ==, 0x01);
  g_assert_cmpuint (bms_flasher_get_file_size (fx->flasher), ==, 20 * 1024 + 77);
  g_assert_cmphex (bms_flasher_get_file_crc32 (fx->flasher), ==,
                   bms_crc32 (g_bytes_get_data (fx->image, NULL), g_bytes_get_size (fx->image)));
  g_assert_cmpstr (bms_flasher_get_file_version (fx->flasher), ==, "PW-2.1.0");
  g_assert_cmpuint (fx->last_sent, ==, g_bytes_get_size (fx->image));
  g_assert_cmpfloat (fx->last_remaining, ==, 0);
  /* Back at the board's own speed for the version check. */
  g_assert_cmpuint (fx->line->baud, ==, 115200);
}

static void
edit_drop_block_10 (BmsBootloaderFaults *f)
{
  f->drop_byte_block = 10;
}

static void
edit_silent_block_2 (BmsBootloaderFaults *f)
{
  f->silent_at_block = 2;
}

static void
test_echoing_adapter (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  /* Every byte we send comes back before the board's answer. */
  fx->line->echo = TRUE;
  bms_bootloader_set_segment (fx->line->boot, 0x03);
  ok = bms_flasher_run (fx->flasher, NULL, &error);
  assert_complete (fx, ok, error);
  g_assert_cmpuint (bms_flasher_get_segment (fx->flasher), ==, 0x03);
  /* The echo is recognised, not mistaken for answers (an echoed 0x06 in
   * the data would read as an ACK). */
  g_assert_cmpuint (fx->last_retries, ==, 0);
}

static void
test_rate_and_time_left (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  /* The virtual line answers instantly, the clock advances only while
   * waiting: a dropped byte costs a 1 s block timeout, so the rate is
   * finite and known: at most 21 KiB over about one second. */
  set_faults (fx, edit_drop_block_10);
  g_assert_true (bms_flasher_run (fx->flasher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (fx->last_rate, >, 0);
}

#define FAULT_TEST(name, body)                                                  \
  static void edit_##name (BmsBootloaderFaults *f) { body; }                     \
  static void                                                                   \
  test_##name (Fixture *fx, gconstpointer data)                                 \
  {                                                                             \
    g_autoptr(GError) error = NULL;                                             \
    gboolean ok;                                                                \
    set_faults (fx, edit_##name);                                               \
    ok = bms_flasher_run (fx->flasher, NULL, &error);                           \
    assert_complete (fx, ok, error);                                            \
  }

FAULT_TEST (corrupted_byte, f->corrupt_block = 7)
FAULT_TEST (dropped_byte, f->drop_byte_block = 3)
FAULT_TEST (lost_ack, f->lose_ack_block = 12)
FAULT_TEST (lost_ack_last, f->lose_ack_block = 21)
FAULT_TEST (lost_eot_answer, f->lose_eot_answer = 1)
FAULT_TEST (lost_eot_ack, f->lose_eot_answer = 2)

#define ABORT_TEST(name, body, step, power_cycle)                                          \
  static void edit_##name (BmsBootloaderFaults *f) { body; }                     \
  static void                                                                   \
  test_##name (Fixture *fx, gconstpointer data)                                 \
  {                                                                             \
    g_autoptr(GError) error = NULL;                                             \
    gboolean ok;                                                                \
    set_faults (fx, edit_##name);                                               \
    ok = bms_flasher_run (fx->flasher, NULL, &error);                           \
    assert_aborted_at (fx, ok, error, step);                                    \
    assert_recovers (fx, power_cycle);                                          \
  }

ABORT_TEST (board_cancels, f->cancel_at_block = 5, BMS_FLASHER_STEP_TRANSFER, FALSE)
ABORT_TEST (board_silent, f->silent_at_block = 9, BMS_FLASHER_STEP_TRANSFER, TRUE)
ABORT_TEST (no_c, f->no_c = TRUE, BMS_FLASHER_STEP_WAIT_C, FALSE)
ABORT_TEST (no_segment, f->no_segment = TRUE, BMS_FLASHER_STEP_SEGMENT, FALSE)

static void
test_board_silent_recovery_after_restart (Fixture *fx, gconstpointer data)
{
  /* Covered by board_silent: kept separate to assert the message. */
  g_autoptr(GError) error = NULL;

  set_faults (fx, edit_silent_block_2);
  g_assert_false (bms_flasher_run (fx->flasher, NULL, &error));
  g_assert_nonnull (strstr (error->message, "not acknowledged after 10 retries"));
  g_assert_nonnull (strstr (error->message, "--bootloader"));
}

static void
test_image_too_large_for_board (Fixture *fx, gconstpointer data)
{
  g_autoptr(GBytes) big = make_image (FLASH_SIZE + 4096, "PW-9");
  g_autoptr(GError) error = NULL;
  gboolean ok;

  /* Within our budget, too big for this board: the board refuses it at
   * block 0 with CAN CAN. */
  fixture_write_file (fx, big);
  bms_flasher_set_max_size (fx->flasher, FLASH_SIZE * 2);
  ok = bms_flasher_run (fx->flasher, NULL, &error);
  assert_aborted_at (fx, ok, error, BMS_FLASHER_STEP_TRANSFER);
  g_assert_nonnull (strstr (error->message, "refused the file"));
}

static void
test_image_over_budget (Fixture *fx, gconstpointer data)
{
  g_autoptr(GBytes) big = make_image (FLASH_SIZE + 1, NULL);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  fixture_write_file (fx, big);
  bms_flasher_set_max_size (fx->flasher, FLASH_SIZE);
  ok = bms_flasher_run (fx->flasher, NULL, &error);
  assert_aborted_at (fx, ok, error, BMS_FLASHER_STEP_CHECK_FILE);
  g_assert_nonnull (strstr (error->message, "flash budget"));
  /* Refused before touching the board. */
  g_assert_cmpuint (fx->line->tx_log->len, ==, 0);
}

static void
test_empty_file (Fixture *fx, gconstpointer data)
{
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  fixture_write_file (fx, empty);
  ok = bms_flasher_run (fx->flasher, NULL, &error);
  assert_aborted_at (fx, ok, error, BMS_FLASHER_STEP_CHECK_FILE);
  g_assert_nonnull (strstr (error->message, "is empty"));
  g_assert_cmpuint (fx->line->tx_log->len, ==, 0);
}

static void
test_not_an_image (Fixture *fx, gconstpointer data)
{
  g_autoptr(GBytes) image = make_image (6000, "PW-PNG");
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *bytes = g_bytes_unref_to_data (g_steal_pointer (&image), &(gsize) { 0 });
  gboolean ok;

  memcpy (bytes, "\x89PNG\r\n\x1a\n", 8);
  png = g_bytes_new_take (bytes, 6000);
  fixture_write_file (fx, png);
  ok = bms_flasher_run (fx->flasher, NULL, &error);
  assert_aborted_at (fx, ok, error, BMS_FLASHER_STEP_CHECK_FILE);
  g_assert_nonnull (strstr (error->message, "not a firmware image: the first word 0x474E5089"));
  g_assert_cmpuint (fx->line->tx_log->len, ==, 0);
  g_assert_null (bms_flasher_get_image_problem (fx->flasher));

  /* Forced deliberately: sent, and the reason is kept for the audit. */
  g_clear_error (&error);
  bms_flasher_set_force (fx->flasher, TRUE);
  bms_flasher_run (fx->flasher, NULL, &error);
  g_assert_cmpint (bms_flasher_get_step (fx->flasher), >, BMS_FLASHER_STEP_CHECK_FILE);
  g_assert_cmpuint (fx->line->tx_log->len, >, 6000);
  g_assert_nonnull (strstr (bms_flasher_get_image_problem (fx->flasher), "0x474E5089"));
}

static void
test_missing_file (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  bms_flasher_set_file (fx->flasher, "/nonexistent/fw.bin");
  ok = bms_flasher_run (fx->flasher, NULL, &error);
  assert_aborted_at (fx, ok, error, BMS_FLASHER_STEP_CHECK_FILE);
  g_assert_nonnull (strstr (error->message, "/nonexistent/fw.bin"));
  bms_flasher_set_file (fx->flasher, fx->dir);
  g_clear_error (&error);
  ok = bms_flasher_run (fx->flasher, NULL, &error);
  assert_aborted_at (fx, ok, error, BMS_FLASHER_STEP_CHECK_FILE);
  g_assert_cmpuint (fx->line->tx_log->len, ==, 0);
}

static void
test_cancel_midway (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  fx->cancel_at_bytes = 8 * 1024;
  ok = bms_flasher_run (fx->flasher, fx->cancellable, &error);
  g_assert_false (ok);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (g_str_has_prefix (error->message, "step 7 ("));
  g_assert_cmpint (bms_bootloader_get_state (fx->line->boot), ==, BMS_BOOTLOADER_MENU);
  g_assert_false (bms_bootloader_finished (fx->line->boot));
  assert_recovers (fx, FALSE);
}

static void
test_cancel_before_start (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (fx->cancellable);
  g_assert_false (bms_flasher_run (fx->flasher, fx->cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (fx->line->tx_log->len, ==, 0);
}

static void
test_rescue_abandoned_transfer (Fixture *fx, gconstpointer data)
{
  g_autoptr(GBytes) old = make_image (5000, "PW-OLD");
  g_autoptr(BmsYmodemSender) gone = bms_ymodem_sender_new ("old.bin", old);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) answer = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  gboolean ok;

  /* An earlier sender vanished in the middle of block 2 (no CAN CAN), and
   * the board's ACK to block 1 still waits on the line. */
  bms_bootloader_receive (fx->line->boot, (guint8[]) { 0x20, 0x31 }, 2, answer);
  bms_ymodem_sender_feed (gone, (guint8[]) { 'C' }, 1);
  for (guint i = 0; i < 3; i++)
    {
      g_byte_array_set_size (out, 0);
      g_byte_array_set_size (answer, 0);
      bms_ymodem_sender_take_output (gone, out);
      bms_bootloader_receive (fx->line->boot, out->data, i < 2 ? out->len : 500, answer);
      bms_ymodem_sender_feed (gone, answer->data, answer->len);
    }
  g_byte_array_append (fx->line->rx, (guint8[]) { BMS_YMODEM_ACK }, 1);
  g_assert_cmpint (bms_bootloader_get_state (fx->line->boot), ==, BMS_BOOTLOADER_RECEIVING);

  ok = bms_flasher_run (fx->flasher, NULL, &error);
  assert_complete (fx, ok, error);
  g_assert_cmpuint (bms_flasher_get_segment (fx->flasher), ==, 0x01);
}

static void
test_version_mismatch (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  /* The board comes back with the old firmware: not "done". */
  fx->line->app_version = g_strdup ("PW-1.9.9");
  ok = bms_flasher_run (fx->flasher, NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, BMS_FLASHER_ERROR, BMS_FLASHER_STEP_CONFIRM);
  g_assert_nonnull (strstr (error->message, "PW-1.9.9"));
  g_assert_nonnull (strstr (error->message, "PW-2.1.0"));
}

static void
on_progress_signal (BmsFlasher *flasher, const BmsFlasherProgress *p, gpointer user_data)
{
  guint *count = user_data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  (*count)++;
}

typedef struct {
  gboolean done;
  gboolean ok;
  GError  *error;
} AsyncResult;

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncResult *r = user_data;

  r->ok = bms_flasher_run_finish (BMS_FLASHER (source), result, &r->error);
  r->done = TRUE;
  g_main_context_wakeup (NULL);
}

static void
test_async_signal (Fixture *fx, gconstpointer data)
{
  AsyncResult r = { 0 };
  guint signals = 0;

  g_signal_connect (fx->flasher, "progress", G_CALLBACK (on_progress_signal), &signals);
  bms_flasher_run_async (fx->flasher, NULL, on_done, &r);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (r.error);
  g_assert_true (r.ok);
  /* Signals queued by the worker arrive in this thread's context. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (signals, ==, fx->reports);
  g_assert_cmpuint (signals, >, 20);
}

static void
test_check_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("packwatch-fw-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "fw.bin", NULL);
  g_autoptr(GBytes) got = NULL;
  guint32 crc = 0;

  g_file_set_contents (path, "123456789", 9, &error);
  g_assert_no_error (error);
  got = bms_firmware_check_file (path, 9, &crc, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (got), ==, 9);
  g_assert_cmphex (crc, ==, 0xCBF43926);
  g_assert_null (bms_firmware_check_file (path, 8, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_unlink (path);
  g_rmdir (dir);
}

static void
put_le32 (guint8 *p, guint32 v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (guint8) (v >> (8 * i));
}

/* The vector table check: each case the word pair, the size, and the words
 * the message must contain (NULL: accepted). */
static void
test_check_image (void)
{
  static const struct { guint32 sp, reset; gsize len; const char *says; } cases[] = {
    { 0x20005000, 0x08004101, 4096, NULL },
    { 0x20080000, 0x08004FFF, 4096, NULL },            /* top of the largest SRAM, last byte */
    { 0x474E5089, 0x0A1A0A0D, 4096, "the first word 0x474E5089 is not a stack pointer in SRAM" },
    { 0x20000000, 0x08004101, 4096, "0x20000000 is not a stack pointer" },  /* empty stack */
    { 0x20005002, 0x08004101, 4096, "0x20005002 is not a stack pointer" },  /* misaligned */
    { 0x20080004, 0x08004101, 4096, "0x20080004 is not a stack pointer" },  /* past SRAM */
    { 0x00000000, 0x00000000, 4096, "the first word 0x00000000" },           /* erased/blank */
    { 0x20005000, 0x08004100, 4096, "second word 0x08004100 is not a reset handler" },
    { 0x20005000, 0x08000101, 4096, "reset handler 0x08000101 lies outside" }, /* bootloader's */
    { 0x20005000, 0x08005001, 4096, "reset handler 0x08005001 lies outside" }, /* past the end */
    { 0x20005000, 0x08004101, 4, "cannot hold the vector table" },
    { 0x20005000, 0x08004101, 0, "empty" },
    { 0x20005000, 0x08004101, 8193, "more than the board's application area of 8192" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree guint8 *image = g_malloc0 (MAX (cases[i].len, 8));
      g_autoptr(GError) error = NULL;
      gboolean ok;

      put_le32 (image, cases[i].sp);
      put_le32 (image + 4, cases[i].reset);
      ok = bms_firmware_check_image (image, cases[i].len, 8192, &error);
      if (cases[i].says == NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          continue;
        }
      g_assert_false (ok);
      g_assert_nonnull (error);
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("case %u: “%s” does not say “%s”", i, error->message, cases[i].says);
    }
}

static void
test_stamped_vectors (void)
{
  /* The generator every test image goes through passes the check at any size. */
  for (gsize len = 8; len < 600; len++)
    {
      g_autofree guint8 *image = g_malloc0 (len);

      bms_firmware_stamp_vectors (image, len);
      g_assert_true (bms_firmware_check_image (image, len, len, NULL));
    }
}

static void
test_find_version (void)
{
  static const struct { const char *in; const char *out; } cases[] = {
    { "xxPWFW-VERSION=1.2.3\0rest", "1.2.3" },
    { "PWFW-VERSION=H6.X__S6.1.3S__LONGER", "H6.X__S6.1.3S__" },
    { "PWFW-VERSION=v2 \n", "v2" },
    { "PWFW-VERSION=\n", "unknown" },
    { "no marker here", "unknown" },
    { "PWFW-VERSIO", "unknown" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = strlen (cases[i].in) + (i == 0 ? 5 : 0);
      g_autofree char *v = bms_firmware_find_version ((const guint8 *) cases[i].in, len);
      g_assert_cmpstr (v, ==, cases[i].out);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add ("/flasher/" path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("bootloader-mode/full", test_full_bootloader_mode);
  ADD ("bootloader-mode/rate", test_rate_and_time_left);
  ADD ("bootloader-mode/echoing-adapter", test_echoing_adapter);
  ADD ("fault/corrupted-byte", test_corrupted_byte);
  ADD ("fault/dropped-byte", test_dropped_byte);
  ADD ("fault/lost-ack", test_lost_ack);
  ADD ("fault/lost-ack-last-block", test_lost_ack_last);
  ADD ("fault/lost-eot-answer", test_lost_eot_answer);
  ADD ("fault/lost-eot-ack", test_lost_eot_ack);
  ADD ("fault/board-cancels", test_board_cancels);
  ADD ("fault/board-silent", test_board_silent);
  ADD ("fault/board-silent-message", test_board_silent_recovery_after_restart);
  ADD ("fault/no-c", test_no_c);
  ADD ("fault/no-segment", test_no_segment);
  ADD ("fault/image-too-large-for-board", test_image_too_large_for_board);
  ADD ("fault/image-over-budget", test_image_over_budget);
  ADD ("fault/empty-file", test_empty_file);
  ADD ("fault/missing-file", test_missing_file);
  ADD ("fault/not-an-image", test_not_an_image);
  ADD ("fault/rescue-abandoned-transfer", test_rescue_abandoned_transfer);
  ADD ("cancel/midway", test_cancel_midway);
  ADD ("cancel/before-start", test_cancel_before_start);
  ADD ("confirm/version-mismatch", test_version_mismatch);
  ADD ("async/progress-signal", test_async_signal);
#undef ADD
  g_test_add_func ("/flasher/check-file", test_check_file);
  g_test_add_func ("/flasher/find-version", test_find_version);
  g_test_add_func ("/flasher/check-image", test_check_image);
  g_test_add_func ("/flasher/stamped-vectors", test_stamped_vectors);
  return g_test_run ();
}
