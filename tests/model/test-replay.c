/* A recording served as a board (issue 11 §2): the in-process replay sim
 * ("replay://FILE") through the loopback transport, the session and the
 * poller gives the device the numbers the file holds; replies loop and echo
 * the request's command and terminal; writes and passwords are refused;
 * bad files are refused naming the file and line. */
#include <string.h>
#include <glib/gstdio.h>
#include "bms-hex.h"
#include "bms-poller.h"
#include "bms-sim.h"
#include "device-test-util.h"

static const BmsSessionTiming fast_timing = {
  .first_byte_timeout_ms = 500,
  .inter_byte_timeout_ms = 50,
  .retries = 0,
  .min_gap_ms = 20,
};

static char *
vendor_path (void)
{
  const char *root = g_getenv ("PACKWATCH_SOURCE_ROOT");

  return g_build_filename (root ? root : ".", "tests", "data", "nw-readall-14s.hex", NULL);
}

static BmsSession *
open_replay (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = g_strconcat ("replay://", path, NULL);
  g_autoptr (BmsTransport) transport = bms_transport_new_for_uri (uri, 115200, &error);
  BmsSession *session;

  g_assert_no_error (error);
  session = bms_session_new (transport, 1);
  bms_session_set_timing (session, &fast_timing);
  g_assert_true (bms_session_open (session, &error));
  g_assert_no_error (error);
  return session;
}

/* Every field of expected, the same in got. */
static void
assert_same_snapshot (const BmsSnapshot *expected, const BmsSnapshot *got)
{
  guint fields = 0;

  for (guint id = 1; id < 256; id++)
    {
      const BmsFieldInfo *field = bms_field_lookup ((guint8)id);

      if (!bms_snapshot_has (expected, (guint8)id))
        continue;
      fields++;
      g_assert_true (bms_snapshot_has (got, (guint8)id));
      if (bms_field_is_numeric (field))
        g_assert_cmpint (bms_snapshot_get_raw (got, (guint8)id), ==,
                         bms_snapshot_get_raw (expected, (guint8)id));
      else if (bms_snapshot_get_bytes (expected, (guint8)id) != NULL)
        g_assert_cmpmem (bms_snapshot_get_bytes (got, (guint8)id), field->size,
                         bms_snapshot_get_bytes (expected, (guint8)id), field->size);
    }
  g_assert_cmpuint (got->n_cells, ==, expected->n_cells);
  g_assert_cmpmem (got->cells_mv, got->n_cells * sizeof (guint16), expected->cells_mv,
                   expected->n_cells * sizeof (guint16));
  g_assert_cmpuint (fields, >, 50);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
on_updated (BmsDevice *device, guint *updates)
{
  (*updates)++;
}

static void
test_poller_device (void)
{
  g_autofree char *path = vendor_path ();
  g_autoptr (BmsSnapshot) expected = device_test_load_14s ();
  g_autoptr (BmsSession) session = open_replay (path);
  g_autoptr (BmsPoller) poller = bms_poller_new (session);
  gboolean timed_out = FALSE;
  guint updates = 0, timeout_id;
  BmsDevice *device;

  g_assert_true (bms_poller_set_interval (poller, 0.2, NULL));
  bms_poller_start (poller);
  device = bms_poller_lookup_device (poller, 1);
  g_assert_nonnull (device);
  g_signal_connect (device, "updated", G_CALLBACK (on_updated), &updates);
  timeout_id = g_timeout_add (5000, timeout_cb, &timed_out);
  while (updates < 2 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  bms_poller_stop_sync (poller);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  g_assert_cmpuint (updates, >=, 2);
  assert_same_snapshot (expected, bms_device_get_snapshot (device));
  g_assert_cmpuint (bms_device_get_cell_count (device), ==, 14);
  g_assert_cmpfloat_with_epsilon (bms_device_get_pack_voltage (device), 53.59, 1e-9);
  g_assert_cmpfloat_with_epsilon (bms_device_get_current (device), 2.08, 1e-9);
  g_assert_cmpuint (bms_device_get_soc (device), ==, 15);
  g_assert_cmpfloat_with_epsilon (bms_device_get_min_cell_voltage (device), 3.811, 1e-9);
  g_assert_cmpuint (bms_device_get_min_cell_index (device), ==, 9);
  g_assert_cmpfloat_with_epsilon (bms_device_get_max_cell_voltage (device), 3.835, 1e-9);
  g_assert_cmpfloat_with_epsilon (bms_device_get_mosfet_temperature (device), 29, 1e-9);
  g_assert_cmpuint (bms_device_get_cycles (device), ==, 4);
  g_assert_cmpstr (bms_device_get_software_version (device), ==, "H6.X__S6.1.3S__");
  bms_session_close (session);
}

static void
test_writes_refused (void)
{
  g_autofree char *path = vendor_path ();
  g_autoptr (BmsSession) session = open_replay (path);
  g_autoptr (BmsSnapshot) one = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_false (bms_session_unlock (session, "123456", NULL, &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_DENIED);
  g_clear_error (&error);
  g_assert_false (bms_session_write (session, 0x90, 4100, NULL, NULL, NULL, &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_LOCKED);
  g_clear_error (&error);

  /* A read of one field comes from the recorded reply. */
  one = bms_session_read_one (session, 0x90, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bms_snapshot_get_raw (one, 0x90), ==, 4050);
  bms_session_close (session);
}

/* Raw requests straight into the sim: which reply comes back. */
static BmsFrame *
ask (BmsSim *sim, GByteArray *request)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  BmsFrame *reply;

  bms_sim_receive (sim, request->data, request->len, out);
  g_byte_array_unref (request);
  if (out->len == 0)
    return NULL;
  reply = bms_frame_decode (out->data, out->len, &error);
  g_assert_no_error (error);
  return reply;
}

/* Two recorded replies (the vendor's, and one with SOC 99 and a record
 * number) and a request and a write result a line log would hold too. */
static char *
write_two_reply_file (const char *dir)
{
  g_autoptr (BmsSnapshot) vendor = device_test_load_14s ();
  g_autoptr (GByteArray) info = g_byte_array_new ();
  g_autoptr (GByteArray) second = g_byte_array_new ();
  g_autoptr (GByteArray) first = g_byte_array_new ();
  g_autoptr (GByteArray) request = bms_request_read_all (0);
  g_autoptr (BmsFrame) frame = NULL;
  guint8 write_result[] = { 0x90, BMS_RESULT_DENIED };
  g_autoptr (BmsFrame) result
      = bms_frame_new (BMS_CMD_WRITE, BMS_SOURCE_BMS, BMS_TRANSPORT_REPLY, write_result, 2);
  g_autoptr (GByteArray) result_bytes = g_byte_array_new ();
  g_autofree char *h1 = NULL, *h2 = NULL, *h3 = NULL, *h4 = NULL, *text = NULL;
  char *path = g_build_filename (dir, "two.hex", NULL);

  bms_snapshot_encode (vendor, info);
  frame = bms_frame_new (BMS_CMD_READ_ALL, BMS_SOURCE_BMS, BMS_TRANSPORT_REPLY, info->data,
                         info->len);
  bms_frame_encode (frame, first);
  bms_snapshot_set_raw (vendor, BMS_ID_SOC, 99);
  g_byte_array_set_size (info, 0);
  bms_snapshot_encode (vendor, info);
  g_clear_pointer (&frame, bms_frame_free);
  frame = bms_frame_new (BMS_CMD_READ_ALL, BMS_SOURCE_BMS, BMS_TRANSPORT_REPLY, info->data,
                         info->len);
  frame->record = 0x12345678;
  bms_frame_encode (frame, second);
  bms_frame_encode (result, result_bytes);
  h1 = bms_hex_format (request->data, request->len);
  h2 = bms_hex_format (first->data, first->len);
  h3 = bms_hex_format (result_bytes->data, result_bytes->len);
  h4 = bms_hex_format (second->data, second->len);
  text = g_strdup_printf ("# two replies\n>>> %s\n<<< %s\n%s\n\n%s  # soc 99\n", h1, h2, h3, h4);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_loops_and_echoes (void)
{
  g_autofree char *dir = g_dir_make_tmp ("replay-XXXXXX", NULL);
  g_autofree char *path = write_two_reply_file (dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsSim) sim = NULL;
  BmsSimConfig config;
  guint8 expected_soc[] = { 15, 99, 15 };

  bms_sim_config_init (&config);
  sim = bms_sim_new (&config, &error);
  g_assert_no_error (error);
  g_assert_true (bms_sim_set_replay (sim, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (bms_sim_get_replay_length (sim), ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (expected_soc); i++)
    {
      /* 0x03 of id 0x00 is a read all too; both echo the request. */
      guint8 command = i == 1 ? BMS_CMD_READ : BMS_CMD_READ_ALL;
      g_autoptr (BmsFrame) reply
          = ask (sim, command == BMS_CMD_READ ? bms_request_read_one (1, BMS_ID_READ_ALL)
                                              : bms_request_read_all (1));
      g_autoptr (BmsSnapshot) s = bms_snapshot_new ();

      g_assert_nonnull (reply);
      g_assert_cmpuint (reply->command, ==, command);
      g_assert_cmpuint (reply->terminal, ==, 1);
      g_assert_cmpuint (reply->transport, ==, BMS_TRANSPORT_REPLY);
      g_assert_cmpuint (reply->record, ==, i == 1 ? 0x12345678 : 0);
      g_assert_true (bms_snapshot_parse (s, reply->info, reply->info_len, &error));
      g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_SOC), ==, expected_soc[i]);
    }
  /* Another board's address is not answered; terminal 0 is. */
  g_assert_null (ask (sim, bms_request_read_all (7)));
  {
    g_autoptr (BmsFrame) reply = ask (sim, bms_request_read_all (0));
    g_assert_nonnull (reply);
    g_assert_cmpuint (reply->terminal, ==, 0);
  }
  {
    guint8 value[] = { 0x10, 0x04 };
    g_autoptr (BmsFrame) reply = ask (sim, bms_request_write (1, 0x90, value, 2));
    g_assert_nonnull (reply);
    g_assert_cmpuint (reply->info[0], ==, 0x90);
    g_assert_cmpuint (reply->info[1], ==, BMS_RESULT_DENIED);
  }
  g_unlink (path);
  g_rmdir (dir);
}

static void
assert_refused (const char *path, const char *text, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsSim) sim = NULL;
  g_autofree char *uri = g_strconcat ("replay://", path, NULL);
  BmsSimConfig config;
  BmsTransport *transport;

  if (text != NULL)
    g_assert_true (g_file_set_contents (path, text, -1, NULL));
  bms_sim_config_init (&config);
  sim = bms_sim_new (&config, &error);
  g_assert_false (bms_sim_set_replay (sim, path, &error));
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_cmpuint (bms_sim_get_replay_length (sim), ==, 0);
  g_clear_error (&error);
  transport = bms_transport_new_for_uri (uri, 9600, &error);
  g_assert_null (transport);
  g_assert_nonnull (strstr (error->message, needle));
  if (text != NULL)
    g_unlink (path);
}

static void
test_bad_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("replay-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "bad.hex", NULL);
  g_autofree char *bad_line = g_strdup_printf ("%s:3: bad hex at column 5", path);
  g_autofree char *bad_frame = g_strdup_printf ("%s:2: not a valid frame", path);
  g_autofree char *no_frame = g_strdup_printf ("%s: no frame in its 2 lines", path);
  g_autofree char *no_reply = g_strdup_printf ("%s: none of its 1 frames", path);

  assert_refused (path, "# x\n\n4E 5G\n", bad_line);
  assert_refused (path, "# x\n4E 57 00 13 00\n", bad_frame);
  assert_refused (path, "# only comments\n\n", no_frame);
  assert_refused (path, "4E 57 00 13 00 00 00 00 06 03 00 00 00 00 00 00 68 00 00 01 29\n",
                  no_reply);
  assert_refused (path, NULL, "bad.hex"); /* no such file */
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  bms_sim_register_uri_scheme ();
  g_test_add_func ("/replay/poller-device", test_poller_device);
  g_test_add_func ("/replay/writes-refused", test_writes_refused);
  g_test_add_func ("/replay/loops-and-echoes", test_loops_and_echoes);
  g_test_add_func ("/replay/bad-files", test_bad_files);
  return g_test_run ();
}
