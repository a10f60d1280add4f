/* test-sim-faults.c — injected line faults come out as the parser sees them. */
#include "config.h"

#include "bms-frame.h"
#include "bms-loopback-transport.h"
#include "bms-sim-private.h"

typedef struct
{
  guint frames, errors;
  GError *last_error;
} Count;

static void
count_frame (BmsFrame *frame, gpointer data)
{
  ((Count *)data)->frames++;
  bms_frame_free (frame);
}

static void
count_error (const GError *error, gpointer data)
{
  Count *c = data;
  c->errors++;
  g_clear_error (&c->last_error);
  c->last_error = g_error_copy (error);
}

static BmsSim *
new_sim (const BmsSimFaults *faults)
{
  BmsSimConfig c;
  BmsSim *sim;

  bms_sim_config_init (&c);
  sim = bms_sim_new (&c, NULL);
  g_assert_nonnull (sim);
  bms_sim_set_faults (sim, faults);
  return sim;
}

/* n read-alls; what the parser makes of the replies. */
static Count
poll_n (BmsSim *sim, guint n, gsize *bytes_out)
{
  Count c = { 0 };
  g_autoptr (BmsFrameParser) parser = bms_frame_parser_new (count_frame, count_error, &c);
  g_autoptr (GByteArray) req = bms_request_read_all (1);
  gsize bytes = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GByteArray) out = g_byte_array_new ();
      bms_sim_receive (sim, req->data, req->len, out);
      bms_frame_parser_push (parser, out->data, out->len);
      bytes += out->len;
    }
  bms_frame_parser_finish (parser);
  if (bytes_out)
    *bytes_out = bytes;
  return c;
}

static void
test_silent_and_drop (void)
{
  BmsSimFaults f = { 0 };
  g_autoptr (BmsSim) sim = NULL;
  gsize bytes;
  Count c;

  f.silent = TRUE;
  sim = new_sim (&f);
  c = poll_n (sim, 5, &bytes);
  g_assert_cmpuint (bytes, ==, 0);

  f.silent = FALSE;
  f.drop_reply_p = 1.0;
  bms_sim_set_faults (sim, &f);
  c = poll_n (sim, 5, &bytes);
  g_assert_cmpuint (bytes, ==, 0);

  f.drop_reply_p = 0.5;
  bms_sim_set_faults (sim, &f);
  c = poll_n (sim, 200, NULL);
  g_assert_cmpuint (c.errors, ==, 0);
  g_assert_cmpuint (c.frames, >, 60);
  g_assert_cmpuint (c.frames, <, 140);
  g_test_message ("drop 0.5: %u of 200 replies came", c.frames);
}

static void
test_corrupt_checksum (void)
{
  BmsSimFaults f = { .corrupt_checksum_p = 1.0 };
  g_autoptr (BmsSim) sim = new_sim (&f);
  Count c = poll_n (sim, 3, NULL);

  g_assert_cmpuint (c.frames, ==, 0);
  g_assert_cmpuint (c.errors, >=, 3);
  g_assert_error (c.last_error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_CHECKSUM);
  g_clear_error (&c.last_error);
}

static void
test_bit_errors (void)
{
  BmsSimFaults f = { .noise_ber = 1e-4 };
  g_autoptr (BmsSim) sim = new_sim (&f);
  Count c = poll_n (sim, 100, NULL);

  /* ~3400 bits a reply: about 70 % get through untouched. */
  g_assert_cmpuint (c.frames, >, 40);
  g_assert_cmpuint (c.frames, <, 95);
  g_assert_cmpuint (c.errors, >, 0);
  g_test_message ("BER 1e-4: %u of 100 replies intact, %u rejections", c.frames, c.errors);
  g_clear_error (&c.last_error);
}

static void
test_noise_bytes (void)
{
  BmsSimFaults f = { .noise_bytes = 16 };
  g_autoptr (BmsSim) sim = new_sim (&f);
  gsize bytes;
  Count c = poll_n (sim, 10, &bytes);

  /* Garbage in front, yet every reply is found. */
  g_assert_cmpuint (c.frames, ==, 10);
  g_clear_error (&c.last_error);
}

static void
test_delay_and_disconnect (void)
{
  BmsSimFaults f = { .delay_reply_ms = 300 };
  BmsSim *sim = new_sim (&f);
  g_autoptr (BmsTransport) t = bms_loopback_transport_new (sim, FALSE, 1);
  g_autoptr (GByteArray) req = bms_request_read_all (1);
  g_autoptr (GError) error = NULL;
  guint8 buf[2048];
  gint64 t0;
  gssize n;

  g_assert_true (bms_transport_open (t, &error));
  t0 = g_get_monotonic_time ();
  g_assert_true (bms_transport_write (t, req->data, req->len, &error));
  n = bms_transport_read (t, buf, sizeof buf, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  n = bms_transport_read (t, buf, sizeof buf, 1000, &error);
  g_assert_cmpint (n, >, 0);
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 290000);

  /* Unplugged: the line fails; plugged back in, it works again. */
  f.delay_reply_ms = 0;
  f.disconnected = TRUE;
  bms_sim_set_faults (sim, &f);
  g_assert_false (bms_transport_write (t, req->data, req->len, &error));
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO);
  g_clear_error (&error);
  g_assert_cmpint (bms_transport_read (t, buf, sizeof buf, 10, &error), ==, -1);
  g_clear_error (&error);
  f.disconnected = FALSE;
  bms_sim_set_faults (sim, &f);
  g_assert_true (bms_transport_write (t, req->data, req->len, &error));
  g_assert_cmpint (bms_transport_read (t, buf, sizeof buf, 500, &error), >, 0);

  bms_transport_close (t);
  g_clear_object (&t);
  bms_sim_free (sim);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/faults/silent-and-drop", test_silent_and_drop);
  g_test_add_func ("/sim/faults/corrupt-checksum", test_corrupt_checksum);
  g_test_add_func ("/sim/faults/bit-errors", test_bit_errors);
  g_test_add_func ("/sim/faults/noise-bytes", test_noise_bytes);
  g_test_add_func ("/sim/faults/delay-and-disconnect", test_delay_and_disconnect);
  return g_test_run ();
}
