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

/* One read-all reply of sim, decoded; NULL with error when it does not
 * decode. */
static BmsSnapshot *
read_all_reply (BmsSim *sim, GError **error)
{
  g_autoptr (GByteArray) req = bms_request_read_all (1);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (BmsFrame) frame = NULL;
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();

  bms_sim_receive (sim, req->data, req->len, out);
  frame = bms_frame_decode (out->data, out->len, NULL);
  g_assert_nonnull (frame);
  if (!bms_snapshot_parse (s, frame->info, frame->info_len, error))
    return NULL;
  return g_steal_pointer (&s);
}

static void
test_lies (void)
{
  for (BmsSimLie lie = BMS_SIM_LIE_NONE; lie < BMS_SIM_N_LIES; lie++)
    {
      BmsSimFaults f = { .lie = lie };
      g_autoptr (BmsSim) sim = new_sim (&f);
      g_autoptr (GError) error = NULL;
      g_autoptr (BmsSnapshot) s = read_all_reply (sim, &error);
      BmsSimLie back;

      g_assert_true (bms_sim_lie_from_string (bms_sim_lie_to_string (lie), &back));
      g_assert_cmpint (back, ==, lie);
      if (lie == BMS_SIM_LIE_DUPLICATE_ID)
        {
          g_assert_null (s);
          g_assert_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_INFO);
          g_test_message ("%s: %s", bms_sim_lie_to_string (lie), error->message);
          continue;
        }
      g_assert_no_error (error);
      g_assert_nonnull (s);
      if (lie == BMS_SIM_LIE_NONE)
        {
          g_assert_true (bms_snapshot_check_plausible (s, &error));
          g_assert_no_error (error);
          continue;
        }
      g_assert_false (bms_snapshot_check_plausible (s, &error));
      g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_IMPLAUSIBLE);
      g_test_message ("%s: %s", bms_sim_lie_to_string (lie), error->message);
    }
  g_assert_false (bms_sim_lie_from_string ("fib", &(BmsSimLie){ 0 }));
}

/* The 256-cell master, charged to the top as NMC (over 1000 V), is no
 * liar: 0xD0, module temperatures and the 4-byte pack voltage all pass. */
static void
test_master_plausible (void)
{
  BmsSimConfig c;
  g_autoptr (BmsSim) sim = NULL;
  g_autoptr (BmsSnapshot) s = NULL;
  g_autoptr (GError) error = NULL;

  bms_sim_config_init (&c);
  c.modules = 16;
  c.chemistry = BMS_CHEMISTRY_NMC;
  c.initial_soc = 1.0;
  sim = bms_sim_new (&c, &error);
  g_assert_no_error (error);
  s = read_all_reply (sim, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (s->n_cells, ==, 256);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CELL_COUNT), ==, 256);
  g_assert_cmpuint (s->n_module_temps, ==, 16);
  g_assert_cmpfloat (bms_snapshot_get_pack_voltage (s), >, 1000);
  g_test_message ("256S NMC full: %.2f V", bms_snapshot_get_pack_voltage (s));
  g_assert_true (bms_snapshot_check_plausible (s, &error));
  g_assert_no_error (error);
}

static void
test_dead_cell (void)
{
  BmsSimFaults f = { .dead_cell = 3 };
  g_autoptr (BmsSim) sim = new_sim (&f);
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsSnapshot) s = read_all_reply (sim, &error);
  const BmsFieldInfo *warnings = bms_field_lookup (BMS_ID_WARNINGS);
  guint uv_bit = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (s->cells_mv[2], ==, 0);
  g_assert_cmpuint (s->cells_mv[1], >, 2000);
  while (g_strcmp0 (warnings->names[uv_bit], "cell_under_voltage") != 0)
    uv_bit++;
  g_assert_true (bms_snapshot_get_raw (s, BMS_ID_WARNINGS) & (1 << uv_bit));
  g_assert_true (bms_snapshot_check_plausible (s, &error));
  g_assert_no_error (error);
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
  g_test_add_func ("/sim/faults/lies", test_lies);
  g_test_add_func ("/sim/faults/master-plausible", test_master_plausible);
  g_test_add_func ("/sim/faults/dead-cell", test_dead_cell);
  return g_test_run ();
}
