/* test-ymodem-lrzsz.c — interoperability: our sender against Debian's lrzsz
 * (`rb --ymodem`), an independent YMODEM receiver, over a pseudo-terminal,
 * behind tests/flash/ymodem-rb-wrapper which plays the bootloader menu. */
#include <string.h>
#include <glib/gstdio.h>

#include "bms-flasher.h"
#include "bms-termios-transport.h"
#include "bms-ymodem.h"

typedef struct {
  GSubprocess  *wrapper;
  BmsTransport *line;
  char         *dir;
} Link;

static gboolean
link_up (Link *link, guint8 segment)
{
  const char *root = g_getenv ("PACKWATCH_SOURCE_ROOT");
  g_autofree char *script = NULL;
  g_autofree char *seg = g_strdup_printf ("%u", segment);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autofree char *pty = NULL;
  g_autofree char *rb = g_find_program_in_path ("rb");

  if (rb == NULL)
    {
      g_test_skip ("lrzsz (rb) is not installed — see dev.sh");
      return FALSE;
    }
  g_assert_nonnull (root);
  script = g_build_filename (root, "tests", "flash", "ymodem-rb-wrapper", NULL);
  link->dir = g_dir_make_tmp ("packwatch-rb-XXXXXX", &error);
  g_assert_no_error (error);
  link->wrapper = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                                    "/usr/bin/python3", script, link->dir, seg, NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (link->wrapper));
  pty = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pty);
  link->line = BMS_TRANSPORT (bms_termios_transport_new (pty, 9600));
  bms_transport_open (link->line, &error);
  g_assert_no_error (error);
  return TRUE;
}

static void
link_down (Link *link)
{
  g_autoptr(GDir) d = NULL;
  const char *name;

  if (link->line != NULL)
    bms_transport_close (link->line);
  g_clear_object (&link->line);
  if (link->wrapper != NULL)
    {
      g_subprocess_force_exit (link->wrapper);
      g_subprocess_wait (link->wrapper, NULL, NULL);
    }
  g_clear_object (&link->wrapper);
  if (link->dir == NULL)
    return;
  d = g_dir_open (link->dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (link->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (link->dir);
  g_clear_pointer (&link->dir, g_free);
}

/* Steps 4–6 of the flasher, by hand: 0x20 → segment, 0x31 → 'C'. */
static void
menu_dialogue (Link *link, guint8 want_segment)
{
  g_autoptr(GError) error = NULL;
  guint8 b = 0;
  gssize n;

  bms_transport_write (link->line, (guint8[]) { 0x20 }, 1, &error);
  g_assert_no_error (error);
  n = bms_transport_read (link->line, &b, 1, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 1);
  g_assert_cmpuint (b, ==, want_segment);
  bms_transport_write (link->line, (guint8[]) { 0x31 }, 1, &error);
  g_assert_no_error (error);
}

static GBytes *
make_image (gsize size)
{
  GByteArray *a = g_byte_array_sized_new (size);

  for (gsize i = 0; i < size; i++)
    {
      guint8 b = (guint8) ((i * 13 + i / 509) & 0xFF);
      g_byte_array_append (a, &b, 1);
    }
  /* A file that itself ends in SUB bytes must come through intact: the
   * receiver strips padding by the size in block 0, not by value. */
  if (size >= 3)
    memset (a->data + size - 3, 0x1A, 3);
  /* The flasher only sends what passes the image check. */
  if (size >= 8)
    bms_firmware_stamp_vectors (a->data, size);
  return g_byte_array_free_to_bytes (a);
}

static void
progress_cb (const BmsYmodemProgress *p, gpointer user_data)
{
  guint *calls = user_data;

  (*calls)++;
  if (g_test_verbose ())
    g_test_message ("%.3f %s block %u/%u, %u retries, %u timeouts",
                    g_get_monotonic_time () / 1e6, bms_ymodem_state_to_string (p->state),
                    p->block, p->n_blocks, p->retries, p->timeouts);
}

static void
send_to_rb (gsize size)
{
  g_autoptr(GBytes) image = make_image (size);
  g_autoptr(BmsYmodemSender) sender = bms_ymodem_sender_new ("/some/dir/fw-lrzsz.bin", image);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;
  g_autofree char *path = NULL;
  gsize received_len = 0;
  guint calls = 0;
  gint64 t0;
  Link link = { 0 };

  if (!link_up (&link, 0x07))
    return;
  menu_dialogue (&link, 0x07);
  t0 = g_get_monotonic_time ();
  bms_ymodem_sender_set_baud (sender, 9600);
  bms_ymodem_sender_run (sender, link.line, progress_cb, &calls, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%" G_GSIZE_FORMAT " bytes to rb in %.3f s, %u progress reports",
                  size, (g_get_monotonic_time () - t0) / 1e6, calls);
  g_assert_cmpuint (calls, >=, (size + 1023) / 1024);

  bms_transport_close (link.line);
  g_subprocess_wait_check (link.wrapper, NULL, &error);
  g_assert_no_error (error);
  path = g_build_filename (link.dir, "fw-lrzsz.bin", NULL);
  g_file_get_contents (path, &received, &received_len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (received, received_len, g_bytes_get_data (image, NULL), size);
  link_down (&link);
}

static void
test_small (void)
{
  send_to_rb (5);
}

static void
test_exact_blocks (void)
{
  send_to_rb (4 * 1024);
}

static void
test_firmware_sized (void)
{
  send_to_rb (96 * 1024 + 333);
}

/* Steps 4–7 of the flasher itself (--bootloader flavour) against rb. */
static void
test_flasher_steps (void)
{
  g_autoptr(GBytes) image = make_image (10 * 1024 + 1);
  g_autoptr(BmsFlasher) flasher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *src_dir = g_dir_make_tmp ("packwatch-fw-XXXXXX", NULL);
  g_autofree char *src = g_build_filename (src_dir, "fw-flasher.bin", NULL);
  g_autofree char *received = NULL;
  g_autofree char *path = NULL;
  gsize received_len = 0;
  Link link = { 0 };

  if (!link_up (&link, 0x42))
    return;
  g_file_set_contents (src, g_bytes_get_data (image, NULL), g_bytes_get_size (image), &error);
  g_assert_no_error (error);
  flasher = bms_flasher_new_for_transport (link.line, 1);
  bms_flasher_set_file (flasher, src);
  /* rb is no BMS: there is no version to read back afterwards. */
  bms_flasher_set_confirm (flasher, FALSE);
  g_assert_true (bms_flasher_run (flasher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (bms_flasher_get_segment (flasher), ==, 0x42);

  bms_transport_close (link.line);
  g_subprocess_wait_check (link.wrapper, NULL, &error);
  g_assert_no_error (error);
  path = g_build_filename (link.dir, "fw-flasher.bin", NULL);
  g_file_get_contents (path, &received, &received_len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (received, received_len, g_bytes_get_data (image, NULL),
                   g_bytes_get_size (image));
  g_unlink (src);
  g_rmdir (src_dir);
  link_down (&link);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ymodem-lrzsz/small", test_small);
  g_test_add_func ("/ymodem-lrzsz/exact-blocks", test_exact_blocks);
  g_test_add_func ("/ymodem-lrzsz/firmware-sized", test_firmware_sized);
  g_test_add_func ("/ymodem-lrzsz/flasher-steps-4-to-7", test_flasher_steps);
  return g_test_run ();
}
