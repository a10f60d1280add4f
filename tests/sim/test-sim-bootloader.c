/* test-sim-bootloader.c — 0xBD hands the line to the bootloader; a complete
 * YMODEM image restarts the board with the image's version. */
#include "config.h"

#include <string.h>

#include "bms-firmware.h"
#include "bms-frame.h"
#include "bms-sim-private.h"
#include "bms-ymodem.h"

static BmsSim *
new_sim (void)
{
  BmsSimConfig c;
  BmsSim *sim;

  bms_sim_config_init (&c);
  c.flash_size = 64 * 1024;
  sim = bms_sim_new (&c, NULL);
  g_assert_nonnull (sim);
  return sim;
}

static void
send (BmsSim *sim, GByteArray *request, GByteArray *out)
{
  bms_sim_receive (sim, request->data, request->len, out);
  g_byte_array_unref (request);
}

static void
enter_bootloader (BmsSim *sim)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint8 one = 1;

  send (sim, bms_request_password (1, "123456"), out);
  send (sim, bms_request_write (1, BMS_ID_REMOTE_UPGRADE, &one, 1), out);
  g_assert_true (bms_sim_in_bootloader (sim));
  /* The write was answered (OK) before the board went away. */
  g_assert_cmpuint (out->len, >, 0);
}

static GBytes *
make_image (gsize size, const char *version)
{
  guint8 *data = g_malloc (size);
  g_autofree char *marker = g_strdup_printf ("PWFW-VERSION=%s", version);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8)(i * 7 + 3);
  memcpy (data + 100, marker, strlen (marker) + 1);
  bms_firmware_stamp_vectors (data, size);
  return g_bytes_new_take (data, size);
}

static void
test_flash_image (void)
{
  g_autoptr (BmsSim) sim = new_sim ();
  g_autoptr (GBytes) image = make_image (5000, "PW-S2.0.0");
  g_autoptr (BmsYmodemSender) tx = bms_ymodem_sender_new ("fw.bin", image);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GBytes) flashed = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
  guint8 b;

  enter_bootloader (sim);
  /* The vendor steps: 0x20 gives the segment, 0x31 starts with 'C'. */
  b = 0x20;
  bms_sim_receive (sim, &b, 1, out);
  g_assert_cmpuint (out->len, ==, 1);
  g_byte_array_set_size (out, 0);
  b = 0x31;
  bms_sim_receive (sim, &b, 1, out);
  g_assert_cmpuint (out->len, >=, 1);
  g_assert_cmpuint (out->data[out->len - 1], ==, 'C');

  for (int round = 0; round < 1000 && !bms_ymodem_sender_is_finished (tx); round++)
    {
      g_autoptr (GByteArray) chunk = g_byte_array_new ();
      bms_ymodem_sender_feed (tx, out->data, out->len);
      g_byte_array_set_size (out, 0);
      if (bms_ymodem_sender_take_output (tx, chunk))
        bms_sim_receive (sim, chunk->data, chunk->len, out);
      else
        {
          bms_sim_advance (sim, 0.5);
          bms_sim_receive (sim, NULL, 0, out);
        }
    }
  g_assert_true (bms_ymodem_sender_get_result (tx, &error));
  g_assert_no_error (error);

  /* Restarted into the new firmware. */
  g_assert_false (bms_sim_in_bootloader (sim));
  g_assert_cmpstr (bms_sim_get_software_version (sim), ==, "PW-S2.0.0");
  flashed = bms_sim_get_flashed_image (sim);
  g_assert_nonnull (flashed);
  g_assert_true (g_bytes_equal (flashed, image));
  {
    g_autoptr (GByteArray) req = bms_request_read_one (1, BMS_ID_SOFTWARE_VERSION);
    g_autoptr (BmsFrame) frame = NULL;
    g_autofree char *v = NULL;

    g_byte_array_set_size (out, 0);
    bms_sim_receive (sim, req->data, req->len, out);
    frame = bms_frame_decode (out->data, out->len, &error);
    g_assert_no_error (error);
    g_assert_true (bms_snapshot_parse (s, frame->info, frame->info_len, &error));
    v = bms_snapshot_dup_string (s, BMS_ID_SOFTWARE_VERSION);
    g_assert_cmpstr (v, ==, "PW-S2.0.0");
  }
}

static void
test_no_frames_in_bootloader (void)
{
  g_autoptr (BmsSim) sim = new_sim ();
  g_autoptr (GByteArray) out = g_byte_array_new ();

  enter_bootloader (sim);
  g_byte_array_set_size (out, 0);
  send (sim, bms_request_read_all (1), out);
  g_assert_true (out->len == 0 || out->data[0] != BMS_FRAME_START0);
  g_assert_true (bms_sim_in_bootloader (sim));
}

/* The menu steps and a YMODEM transfer on a virtual clock; the sender's
 * timeouts fire when the board stays quiet. */
static gboolean
transfer (BmsSim *sim, GBytes *image, GError **error)
{
  g_autoptr (BmsYmodemSender) tx = bms_ymodem_sender_new ("fw.bin", image);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint8 b = 0x20;

  bms_sim_receive (sim, &b, 1, out);
  g_byte_array_set_size (out, 0);
  b = 0x31;
  bms_sim_receive (sim, &b, 1, out);
  for (int round = 0; round < 5000 && !bms_ymodem_sender_is_finished (tx); round++)
    {
      g_autoptr (GByteArray) chunk = g_byte_array_new ();

      if (out->len > 0)
        bms_ymodem_sender_feed (tx, out->data, out->len);
      g_byte_array_set_size (out, 0);
      if (bms_ymodem_sender_take_output (tx, chunk))
        bms_sim_receive (sim, chunk->data, chunk->len, out);
      else
        {
          /* Nothing to say: let the board's clock run (its 'C', its NAK). */
          bms_sim_advance (sim, 0.25);
          bms_sim_receive (sim, NULL, 0, out);
          if (out->len == 0 && round % 20 == 19)
            bms_ymodem_sender_timeout (tx);
        }
    }
  return bms_ymodem_sender_get_result (tx, error);
}

/* A corrupted block is NAKed and sent again; a board that cancels leaves
 * itself in the bootloader, where a second attempt completes. */
static void
test_bootloader_faults (void)
{
  g_autoptr (BmsSim) sim = new_sim ();
  g_autoptr (GBytes) image = make_image (8000, "PW-S2.1.0");
  g_autoptr (GBytes) too_big = make_image (70 * 1024, "PW-S9.9.9");
  g_autoptr (GError) error = NULL;
  BmsBootloaderFaults f;

  bms_bootloader_faults_init (&f);
  f.corrupt_block = 2;
  f.cancel_at_block = 5;
  bms_sim_set_bootloader_faults (sim, &f);
  enter_bootloader (sim);

  g_assert_false (transfer (sim, image, &error));
  g_assert_error (error, BMS_YMODEM_ERROR, BMS_YMODEM_ERROR_REMOTE_CANCEL);
  g_clear_error (&error);
  g_assert_true (bms_sim_in_bootloader (sim));

  /* An image beyond the flash (64 KiB here) is refused, board still waiting. */
  g_assert_false (transfer (sim, too_big, &error));
  g_assert_error (error, BMS_YMODEM_ERROR, BMS_YMODEM_ERROR_REMOTE_CANCEL);
  g_clear_error (&error);
  g_assert_true (bms_sim_in_bootloader (sim));

  g_assert_true (transfer (sim, image, &error));
  g_assert_no_error (error);
  g_assert_false (bms_sim_in_bootloader (sim));
  g_assert_cmpstr (bms_sim_get_software_version (sim), ==, "PW-S2.1.0");
}

/* The vendor's way in: restart, then 0x20 while the bootloader listens. */
static void
test_restart_window (void)
{
  g_autoptr (BmsSim) sim = new_sim ();
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint8 one = 1, b = 0x20;

  send (sim, bms_request_password (1, "123456"), out);
  send (sim, bms_request_write (1, BMS_ID_RESTART, &one, 1), out);
  g_assert_false (bms_sim_in_bootloader (sim));
  g_assert_true (bms_sim_is_booting (sim));
  bms_sim_advance (sim, 0.5);
  g_byte_array_set_size (out, 0);
  bms_sim_receive (sim, &b, 1, out);
  g_assert_true (bms_sim_in_bootloader (sim));
  g_assert_cmpuint (out->len, ==, 1); /* the segment number */

  /* Without 0x20 the window closes and the application answers. */
  g_clear_pointer (&sim, bms_sim_free);
  sim = new_sim ();
  send (sim, bms_request_password (1, "123456"), out);
  send (sim, bms_request_write (1, BMS_ID_RESTART, &one, 1), out);
  bms_sim_advance (sim, 3.5);
  g_assert_false (bms_sim_is_booting (sim));
  g_byte_array_set_size (out, 0);
  send (sim, bms_request_read_all (1), out);
  g_assert_cmpuint (out->len, >, 100);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/bootloader/flash-image", test_flash_image);
  g_test_add_func ("/sim/bootloader/no-frames-in-bootloader", test_no_frames_in_bootloader);
  g_test_add_func ("/sim/bootloader/restart-window", test_restart_window);
  g_test_add_func ("/sim/bootloader/faults", test_bootloader_faults);
  return g_test_run ();
}
