/* test-ymodem.c — the YMODEM sender against the simulated bootloader,
 * in-process on a virtual clock, through every row of the fault matrix. */
#include <string.h>

#include "bms-bootloader.h"
#include "bms-firmware.h"
#include "bms-ymodem.h"

#define FLASH_SIZE (256 * 1024)
#define STEP_S 0.01

typedef struct {
  BmsYmodemSender *sender;
  BmsBootloader   *boot;
  GByteArray      *to_board;   /* everything the sender sent */
  double           t;          /* virtual seconds */
  double           deadline;
  guint            cans_from_sender;
  GRand           *noise;      /* line noise, both directions (optional) */
  double           ber;        /* bit error rate */
  guint            flipped;
} Rig;

static void
add_noise (Rig *rig, GByteArray *bytes)
{
  if (rig->noise == NULL)
    return;
  for (guint i = 0; i < bytes->len; i++)
    for (int b = 0; b < 8; b++)
      if (g_rand_double (rig->noise) < rig->ber)
        {
          bytes->data[i] ^= (guint8) (1u << b);
          rig->flipped++;
        }
}

static GBytes *
make_image (gsize size, const char *version)
{
  GByteArray *a = g_byte_array_sized_new (size);

  for (gsize i = 0; i < size; i++)
    {
      /* Deliberately include protocol bytes (SOH, EOT, ACK, NAK, CAN, 'C',
       * SUB) so a sender or receiver that peeks into data would break. */
      guint8 b = (guint8) ((i * 7 + i / 251) & 0xFF);
      g_byte_array_append (a, &b, 1);
    }
  if (version != NULL && size > 64)
    {
      g_autofree char *marker = g_strdup_printf (BMS_FIRMWARE_VERSION_MARKER "%s", version);
      memcpy (a->data + 32, marker, strlen (marker) + 1);
    }
  return g_byte_array_free_to_bytes (a);
}

static void
deliver_to_sender (Rig *rig, GByteArray *answer)
{
  add_noise (rig, answer);
  if (answer->len > 0)
    bms_ymodem_sender_feed (rig->sender, answer->data, answer->len);
  g_byte_array_set_size (answer, 0);
}

/* Moves the sender's output to the board and the board's answers back,
 * until both are quiet. */
static void
exchange (Rig *rig)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) answer = g_byte_array_new ();

  while (bms_ymodem_sender_take_output (rig->sender, out))
    {
      rig->deadline = rig->t + bms_ymodem_sender_get_timeout_ms (rig->sender) / 1000.0;
      if (out->len == 0)
        continue;
      for (guint i = 0; i + 1 < out->len; i++)
        if (out->data[i] == BMS_YMODEM_CAN && out->data[i + 1] == BMS_YMODEM_CAN &&
            out->len == 2)
          rig->cans_from_sender++;
      g_byte_array_append (rig->to_board, out->data, out->len);
      add_noise (rig, out);
      bms_bootloader_receive (rig->boot, out->data, out->len, answer);
      g_byte_array_set_size (out, 0);
      deliver_to_sender (rig, answer);
    }
}

static void
rig_init (Rig *rig, GBytes *image, const BmsBootloaderFaults *faults)
{
  g_autoptr(GByteArray) answer = g_byte_array_new ();

  memset (rig, 0, sizeof *rig);
  rig->boot = bms_bootloader_new (FLASH_SIZE);
  if (faults != NULL)
    bms_bootloader_set_faults (rig->boot, faults);
  rig->sender = bms_ymodem_sender_new ("/tmp/firmware-v2.bin", image);
  rig->to_board = g_byte_array_new ();

  /* The menu dialogue (steps 4 and 5 of the flasher). */
  bms_bootloader_receive (rig->boot, (guint8[]) { 0x20 }, 1, answer);
  g_assert_cmpuint (answer->len, ==, 1);
  g_assert_cmpuint (answer->data[0], ==, 0x01);
  g_byte_array_set_size (answer, 0);
  bms_bootloader_receive (rig->boot, (guint8[]) { 0x31 }, 1, answer);
  deliver_to_sender (rig, answer);
  rig->deadline = bms_ymodem_sender_get_timeout_ms (rig->sender) / 1000.0;
}

static void
rig_run (Rig *rig)
{
  g_autoptr(GByteArray) answer = g_byte_array_new ();

  exchange (rig);
  while (!bms_ymodem_sender_is_finished (rig->sender))
    {
      g_assert_cmpfloat (rig->t, <, 600.0);
      rig->t += STEP_S;
      bms_bootloader_tick (rig->boot, STEP_S);
      bms_bootloader_receive (rig->boot, NULL, 0, answer);
      deliver_to_sender (rig, answer);
      if (rig->t >= rig->deadline && !bms_ymodem_sender_is_finished (rig->sender))
        bms_ymodem_sender_timeout (rig->sender);
      exchange (rig);
    }
  /* Let the board see whatever came last (CAN CAN). */
  exchange (rig);
}

static void
rig_clear (Rig *rig)
{
  bms_ymodem_sender_free (rig->sender);
  bms_bootloader_free (rig->boot);
  g_byte_array_unref (rig->to_board);
}

static void
assert_complete (Rig *rig, GBytes *image)
{
  g_autoptr(GError) error = NULL;
  BmsYmodemProgress p;

  g_assert_true (bms_ymodem_sender_get_result (rig->sender, &error));
  g_assert_no_error (error);
  g_assert_true (bms_bootloader_finished (rig->boot));
  g_assert_true (g_bytes_equal (bms_bootloader_get_image (rig->boot), image));
  bms_ymodem_sender_get_progress (rig->sender, &p);
  g_assert_cmpuint (p.bytes_acked, ==, g_bytes_get_size (image));
}

static void
assert_aborted (Rig *rig, BmsYmodemError code, const char *fragment)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (bms_ymodem_sender_get_result (rig->sender, &error));
  g_assert_error (error, BMS_YMODEM_ERROR, (gint) code);
  g_test_message ("aborted: %s", error->message);
  g_assert_nonnull (strstr (error->message, fragment));
  /* Cleanly: the board is back in its menu, nothing was flashed. */
  g_assert_cmpint (bms_bootloader_get_state (rig->boot), ==, BMS_BOOTLOADER_MENU);
  g_assert_false (bms_bootloader_finished (rig->boot));
  g_assert_null (bms_bootloader_get_image (rig->boot));
}

/* ---- tests ------------------------------------------------------------ */

static void
test_crc_vector (void)
{
  g_assert_cmphex (bms_crc16_xmodem ((const guint8 *) "123456789", 9), ==, 0x31C3);
  g_assert_cmphex (bms_crc16_xmodem (NULL, 0), ==, 0x0000);
  /* Incremental equals one-shot. */
  g_assert_cmphex (bms_crc16_xmodem_update (bms_crc16_xmodem ((const guint8 *) "1234", 4),
                                            (const guint8 *) "56789", 5), ==, 0x31C3);
  g_assert_cmphex (bms_crc32 ((const guint8 *) "123456789", 9), ==, 0xCBF43926);
}

static void
test_packet_layout (void)
{
  g_autoptr(GBytes) image = make_image (1500, NULL);
  g_autoptr(BmsYmodemSender) s = bms_ymodem_sender_new ("dir/fw.bin", image);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  const guint8 *d;

  g_assert_false (bms_ymodem_sender_take_output (s, out));
  bms_ymodem_sender_feed (s, (guint8[]) { 'C' }, 1);
  g_assert_true (bms_ymodem_sender_take_output (s, out));
  g_assert_cmpuint (out->len, ==, 133);
  d = out->data;
  g_assert_cmpuint (d[0], ==, BMS_YMODEM_SOH);
  g_assert_cmpuint (d[1], ==, 0);
  g_assert_cmpuint (d[2], ==, 0xFF);
  g_assert_cmpstr ((const char *) d + 3, ==, "fw.bin");
  g_assert_cmpstr ((const char *) d + 3 + 7, ==, "1500");
  g_assert_cmphex (bms_crc16_xmodem (d + 3, 128), ==, (guint16) (d[131] << 8 | d[132]));

  g_byte_array_set_size (out, 0);
  bms_ymodem_sender_feed (s, (guint8[]) { BMS_YMODEM_ACK, 'C' }, 2);
  g_assert_true (bms_ymodem_sender_take_output (s, out));
  g_assert_cmpuint (out->len, ==, 1029);
  g_assert_cmpuint (out->data[0], ==, BMS_YMODEM_STX);
  g_assert_cmpuint (out->data[1], ==, 1);
  g_assert_cmpuint (out->data[2], ==, 0xFE);
  g_assert_cmpmem (out->data + 3, 1024, g_bytes_get_data (image, NULL), 1024);

  g_byte_array_set_size (out, 0);
  bms_ymodem_sender_feed (s, (guint8[]) { BMS_YMODEM_ACK }, 1);
  g_assert_true (bms_ymodem_sender_take_output (s, out));
  g_assert_cmpuint (out->len, ==, 1029);
  g_assert_cmpuint (out->data[1], ==, 2);
  /* 476 file bytes, then SUB padding. */
  g_assert_cmpmem (out->data + 3, 476, (const guint8 *) g_bytes_get_data (image, NULL) + 1024, 476);
  for (guint i = 3 + 476; i < 3 + 1024; i++)
    g_assert_cmpuint (out->data[i], ==, BMS_YMODEM_PAD);

  /* EOT: NAK then ACK, then the closing empty block 0. */
  g_byte_array_set_size (out, 0);
  bms_ymodem_sender_feed (s, (guint8[]) { BMS_YMODEM_ACK }, 1);
  bms_ymodem_sender_take_output (s, out);
  g_assert_cmpmem (out->data, out->len, (guint8[]) { BMS_YMODEM_EOT }, 1);
  g_byte_array_set_size (out, 0);
  bms_ymodem_sender_feed (s, (guint8[]) { BMS_YMODEM_NAK }, 1);
  bms_ymodem_sender_take_output (s, out);
  g_assert_cmpmem (out->data, out->len, (guint8[]) { BMS_YMODEM_EOT }, 1);
  g_byte_array_set_size (out, 0);
  bms_ymodem_sender_feed (s, (guint8[]) { BMS_YMODEM_ACK, 'C' }, 2);
  bms_ymodem_sender_take_output (s, out);
  g_assert_cmpuint (out->len, ==, 133);
  for (guint i = 1; i < 133; i++)
    g_assert_cmpuint (out->data[i], ==, i == 2 ? 0xFF : 0);
  bms_ymodem_sender_feed (s, (guint8[]) { BMS_YMODEM_ACK }, 1);
  g_assert_cmpint (bms_ymodem_sender_get_state (s), ==, BMS_YMODEM_STATE_DONE);
}

static void
test_plain_ack_to_eot (void)
{
  g_autoptr(GBytes) image = make_image (10, NULL);
  g_autoptr(BmsYmodemSender) s = bms_ymodem_sender_new ("fw.bin", image);
  g_autoptr(GByteArray) out = g_byte_array_new ();

  bms_ymodem_sender_feed (s, (guint8[]) { 'C', BMS_YMODEM_ACK, 'C', BMS_YMODEM_ACK }, 4);
  bms_ymodem_sender_take_output (s, out);
  g_assert_cmpuint (out->data[out->len - 1], ==, BMS_YMODEM_EOT);
  /* A receiver that ACKs the first EOT is fine too. */
  bms_ymodem_sender_feed (s, (guint8[]) { BMS_YMODEM_ACK, 'C', BMS_YMODEM_ACK }, 3);
  g_assert_cmpint (bms_ymodem_sender_get_state (s), ==, BMS_YMODEM_STATE_DONE);
}

static void
run_clean (gsize size)
{
  g_autoptr(GBytes) image = make_image (size, "2.0.1-test");
  Rig rig;

  rig_init (&rig, image, NULL);
  rig_run (&rig);
  assert_complete (&rig, image);
  if (size > 64)
    g_assert_cmpstr (bms_bootloader_get_version (rig.boot), ==, "2.0.1-test");
  else
    g_assert_cmpstr (bms_bootloader_get_version (rig.boot), ==, "unknown");
  rig_clear (&rig);
}

static void
test_clean_sizes (void)
{
  run_clean (1);
  run_clean (1024);
  run_clean (1025);
  run_clean (100 * 1024 + 17);
  /* More than 255 blocks: the block number wraps. */
  run_clean (FLASH_SIZE);
}

static void
run_fault (const BmsBootloaderFaults *faults, gsize size, guint min_retries)
{
  g_autoptr(GBytes) image = make_image (size, "3.1");
  BmsYmodemProgress p;
  Rig rig;

  rig_init (&rig, image, faults);
  rig_run (&rig);
  assert_complete (&rig, image);
  g_assert_cmpstr (bms_bootloader_get_version (rig.boot), ==, "3.1");
  bms_ymodem_sender_get_progress (rig.sender, &p);
  g_assert_cmpuint (p.retries, >=, min_retries);
  g_test_message ("%u retries, %u timeouts, %.2f s", p.retries, p.timeouts, rig.t);
  rig_clear (&rig);
}

static void
test_fault_corrupted_byte (void)
{
  BmsBootloaderFaults f;

  for (gint block = 0; block <= 5; block++)
    {
      bms_bootloader_faults_init (&f);
      f.corrupt_block = block;
      run_fault (&f, 5 * 1024, 1);
    }
}

static void
test_fault_dropped_byte (void)
{
  BmsBootloaderFaults f;

  for (gint block = 0; block <= 5; block++)
    {
      bms_bootloader_faults_init (&f);
      f.drop_byte_block = block;
      run_fault (&f, 5 * 1024, 1);
    }
}

static void
test_fault_lost_ack (void)
{
  BmsBootloaderFaults f;

  /* Header, first, middle and last block: the board NAKs the duplicate
   * (like ST's bootloader) and the sender must find its way on. */
  for (gint block = 0; block <= 5; block++)
    {
      bms_bootloader_faults_init (&f);
      f.lose_ack_block = block;
      run_fault (&f, 5 * 1024, 1);
    }
}

static void
test_fault_lost_eot_answer (void)
{
  BmsBootloaderFaults f;

  for (gint which = 1; which <= 2; which++)
    {
      bms_bootloader_faults_init (&f);
      f.lose_eot_answer = which;
      run_fault (&f, 3000, 1);
    }
}

static void
test_fault_board_cancels (void)
{
  g_autoptr(GBytes) image = make_image (8 * 1024, NULL);
  BmsBootloaderFaults f;
  Rig rig;

  bms_bootloader_faults_init (&f);
  f.cancel_at_block = 4;
  rig_init (&rig, image, &f);
  rig_run (&rig);
  assert_aborted (&rig, BMS_YMODEM_ERROR_REMOTE_CANCEL, "block 4 of 8");
  /* The sender does not answer a cancel with its own. */
  g_assert_cmpuint (rig.cans_from_sender, ==, 0);
  rig_clear (&rig);
}

static void
test_fault_board_silent (void)
{
  g_autoptr(GBytes) image = make_image (8 * 1024, NULL);
  BmsBootloaderFaults f;
  Rig rig;

  bms_bootloader_faults_init (&f);
  f.silent_at_block = 3;
  rig_init (&rig, image, &f);
  rig_run (&rig);
  /* Ten retries, then CAN CAN: the board drops the transfer. */
  assert_aborted (&rig, BMS_YMODEM_ERROR_RETRIES, "block 3 of 8");
  g_assert_cmpuint (rig.cans_from_sender, ==, 1);
  g_assert_cmpfloat (rig.t, <, 60.0);
  rig_clear (&rig);
}

static void
test_fault_no_c (void)
{
  g_autoptr(GBytes) image = make_image (2048, NULL);
  BmsBootloaderFaults f;
  Rig rig;

  bms_bootloader_faults_init (&f);
  f.no_c = TRUE;
  rig_init (&rig, image, &f);
  rig_run (&rig);
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (bms_ymodem_sender_get_result (rig.sender, &error));
    g_assert_error (error, BMS_YMODEM_ERROR, BMS_YMODEM_ERROR_NO_START);
  }
  /* CAN CAN took it out of its download wait, back to the menu. */
  g_assert_cmpint (bms_bootloader_get_state (rig.boot), ==, BMS_BOOTLOADER_MENU);
  rig_clear (&rig);
}

static void
test_fault_too_large (void)
{
  g_autoptr(GBytes) image = make_image (FLASH_SIZE + 1, NULL);
  Rig rig;

  rig_init (&rig, image, NULL);
  rig_run (&rig);
  assert_aborted (&rig, BMS_YMODEM_ERROR_REMOTE_CANCEL, "block 0");
  /* Refused at block 0: not one data byte went out. */
  g_assert_cmpuint (rig.to_board->len, ==, 133);
  rig_clear (&rig);
}

static void
test_fault_empty (void)
{
  g_autoptr(GBytes) image = g_bytes_new (NULL, 0);
  Rig rig;

  rig_init (&rig, image, NULL);
  rig_run (&rig);
  assert_aborted (&rig, BMS_YMODEM_ERROR_REMOTE_CANCEL, "block 0");
  rig_clear (&rig);
}

static void
test_cancel (void)
{
  g_autoptr(GBytes) image = make_image (20 * 1024, NULL);
  g_autoptr(GByteArray) answer = g_byte_array_new ();
  BmsYmodemProgress p;
  Rig rig;

  /* Cancel before the board answers block 3. */
  rig_init (&rig, image, NULL);
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();

      bms_ymodem_sender_take_output (rig.sender, out);
      bms_bootloader_receive (rig.boot, out->data, out->len, answer);
      if (i < 3)
        deliver_to_sender (&rig, answer);
    }
  g_byte_array_set_size (answer, 0);
  bms_ymodem_sender_cancel (rig.sender);
  exchange (&rig);
  bms_ymodem_sender_get_progress (rig.sender, &p);
  g_assert_cmpuint (p.bytes_acked, >, 0);
  g_assert_cmpuint (rig.cans_from_sender, ==, 1);
  assert_aborted (&rig, BMS_YMODEM_ERROR_CANCELLED, "cancelled");
  rig_clear (&rig);
}

/* Random bit errors both ways, many seeds: whatever happens, the board
 * never ends up with a wrong image, and "done" means it has the right one. */
static void
test_line_noise (void)
{
  guint done = 0, failed = 0, unconfirmed = 0;

  for (guint32 seed = 1; seed <= 60; seed++)
    {
      g_autoptr(GBytes) image = make_image (6 * 1024 + seed * 37, "N-1");
      Rig rig;

      rig_init (&rig, image, NULL);
      rig.noise = g_rand_new_with_seed (seed);
      rig.ber = seed % 2 ? 2e-5 : 1e-4;
      rig_run (&rig);
      if (bms_bootloader_get_image (rig.boot) != NULL)
        g_assert_true (g_bytes_equal (bms_bootloader_get_image (rig.boot), image));
      if (bms_ymodem_sender_get_state (rig.sender) == BMS_YMODEM_STATE_DONE)
        {
          if (bms_ymodem_sender_close_unconfirmed (rig.sender))
            unconfirmed++;
          else
            g_assert_true (bms_bootloader_finished (rig.boot));
          done++;
        }
      else
        {
          g_autoptr(GError) error = NULL;

          /* A failed transfer never leaves a half-accepted image. */
          g_assert_false (bms_bootloader_finished (rig.boot));
          bms_ymodem_sender_get_result (rig.sender, &error);
          /* At 1e-4 a 1 KiB block arrives intact less than half the time:
           * eleven bad copies in a row happen. That must be a clean abort. */
          g_assert_error (error, BMS_YMODEM_ERROR, BMS_YMODEM_ERROR_RETRIES);
          g_test_message ("seed %u: %s (%u bits flipped)", seed, error->message, rig.flipped);
          failed++;
        }
      g_rand_free (rig.noise);
      rig_clear (&rig);
    }
  g_test_message ("60 noisy transfers: %u done (%u with the batch end unconfirmed), %u failed",
                  done, unconfirmed, failed);
  g_assert_cmpuint (done, >=, 40);
}

static void
test_many_faults (void)
{
  BmsBootloaderFaults f;

  /* Several faults in one transfer. */
  bms_bootloader_faults_init (&f);
  f.corrupt_block = 2;
  f.drop_byte_block = 4;
  f.lose_ack_block = 6;
  f.lose_eot_answer = 2;
  run_fault (&f, 9 * 1024 + 5, 4);
}

static guint
count_byte (GByteArray *a, guint8 b)
{
  guint n = 0;

  for (guint i = 0; i < a->len; i++)
    n += a->data[i] == b;
  return n;
}

static void
test_bootloader_menu (void)
{
  g_autoptr(BmsBootloader) boot = bms_bootloader_new (FLASH_SIZE);
  g_autoptr(GByteArray) out = g_byte_array_new ();

  /* Menu: 0x20 → segment; anything else is ignored. */
  bms_bootloader_set_segment (boot, 0x05);
  bms_bootloader_receive (boot, (guint8[]) { 'x', 0x20 }, 2, out);
  g_assert_cmpmem (out->data, out->len, (guint8[]) { 0x05 }, 1);
  g_byte_array_set_size (out, 0);

  /* 0x31 → 'C' at once and every second until the first block. */
  bms_bootloader_receive (boot, (guint8[]) { 0x31 }, 1, out);
  for (int i = 0; i < 350; i++)
    bms_bootloader_tick (boot, 0.01);
  bms_bootloader_receive (boot, NULL, 0, out);
  g_assert_cmpuint (count_byte (out, 'C'), ==, 4);
  g_assert_cmpint (bms_bootloader_get_state (boot), ==, BMS_BOOTLOADER_WAIT_FIRST);

  /* A sender starting over with 0x20 gets the menu back. */
  g_byte_array_set_size (out, 0);
  bms_bootloader_receive (boot, (guint8[]) { 0x20 }, 1, out);
  g_assert_cmpmem (out->data, out->len, (guint8[]) { 0x05 }, 1);
  g_assert_cmpint (bms_bootloader_get_state (boot), ==, BMS_BOOTLOADER_MENU);
  g_assert_null (bms_bootloader_get_version (boot));
}

static void
test_bootloader_abandoned (void)
{
  g_autoptr(GBytes) image = make_image (4096, NULL);
  g_autoptr(GByteArray) answer = g_byte_array_new ();
  Rig rig;

  /* The sender vanishes after two blocks: 30 s later the board is back
   * in its menu, ready for --bootloader. */
  rig_init (&rig, image, NULL);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();

      bms_ymodem_sender_take_output (rig.sender, out);
      bms_bootloader_receive (rig.boot, out->data, out->len, answer);
      deliver_to_sender (&rig, answer);
    }
  g_assert_cmpint (bms_bootloader_get_state (rig.boot), ==, BMS_BOOTLOADER_RECEIVING);
  for (int i = 0; i < 3100; i++)
    bms_bootloader_tick (rig.boot, 0.01);
  g_assert_cmpint (bms_bootloader_get_state (rig.boot), ==, BMS_BOOTLOADER_MENU);
  g_assert_false (bms_bootloader_finished (rig.boot));
  rig_clear (&rig);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ymodem/crc-vector", test_crc_vector);
  g_test_add_func ("/ymodem/packet-layout", test_packet_layout);
  g_test_add_func ("/ymodem/plain-ack-to-eot", test_plain_ack_to_eot);
  g_test_add_func ("/ymodem/clean-sizes", test_clean_sizes);
  g_test_add_func ("/ymodem/fault/corrupted-byte", test_fault_corrupted_byte);
  g_test_add_func ("/ymodem/fault/dropped-byte", test_fault_dropped_byte);
  g_test_add_func ("/ymodem/fault/lost-ack", test_fault_lost_ack);
  g_test_add_func ("/ymodem/fault/lost-eot-answer", test_fault_lost_eot_answer);
  g_test_add_func ("/ymodem/fault/board-cancels", test_fault_board_cancels);
  g_test_add_func ("/ymodem/fault/board-silent", test_fault_board_silent);
  g_test_add_func ("/ymodem/fault/no-c", test_fault_no_c);
  g_test_add_func ("/ymodem/fault/too-large", test_fault_too_large);
  g_test_add_func ("/ymodem/fault/empty-file", test_fault_empty);
  g_test_add_func ("/ymodem/fault/several", test_many_faults);
  g_test_add_func ("/ymodem/cancel", test_cancel);
  g_test_add_func ("/ymodem/line-noise", test_line_noise);
  g_test_add_func ("/bootloader/menu", test_bootloader_menu);
  g_test_add_func ("/bootloader/abandoned-transfer", test_bootloader_abandoned);
  return g_test_run ();
}
