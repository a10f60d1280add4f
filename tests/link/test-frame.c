/* Frame codec and streaming parser. */
#include <string.h>

#include "bms-field.h"
#include "bms-frame.h"
#include "bms-snapshot.h"
#include "test-util.h"

static void
test_request_vector (void)
{
  g_autoptr(GByteArray) expected = test_load_hex ("nw-request-readall.hex");
  g_autoptr(GByteArray) req = bms_request_read_all (0);

  g_assert_cmpmem (req->data, req->len, expected->data, expected->len);
}

static void
test_reply_vector (void)
{
  g_autoptr(GByteArray) bytes = test_load_hex ("nw-readall-14s.hex");
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsFrame) frame = bms_frame_decode (bytes->data, bytes->len, &error);
  g_autoptr(BmsSnapshot) s = bms_snapshot_new ();
  g_autofree char *sw = NULL, *mid = NULL, *pw = NULL;
  guint min_i = 0, max_i = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (bytes->len, ==, 285);
  g_assert_cmpuint (frame->command, ==, BMS_CMD_READ_ALL);
  g_assert_cmpuint (frame->source, ==, BMS_SOURCE_BMS);
  g_assert_cmpuint (frame->transport, ==, BMS_TRANSPORT_REPLY);
  g_assert_true (bms_snapshot_parse (s, frame->info, frame->info_len, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (s->n_cells, ==, 14);
  for (guint i = 0; i < s->n_cells; i++)
    {
      if (s->cells_mv[i] < s->cells_mv[min_i]) min_i = i;
      if (s->cells_mv[i] > s->cells_mv[max_i]) max_i = i;
    }
  g_assert_cmpuint (s->cells_mv[min_i], ==, 3811);
  g_assert_cmpuint (min_i + 1, ==, 9);
  g_assert_cmpuint (s->cells_mv[max_i], ==, 3835);
  g_assert_cmpuint (max_i + 1, ==, 12);
  g_assert_cmpfloat_with_epsilon (bms_snapshot_get (s, BMS_ID_PACK_VOLTAGE), 53.59, 1e-9);
  g_assert_cmpfloat_with_epsilon (bms_snapshot_get (s, BMS_ID_CURRENT), 2.08, 1e-9);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_SOC), ==, 15);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_MOSFET_TEMP), ==, 29);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_TEMP1), ==, 30);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_TEMP2), ==, 28);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CYCLES), ==, 4);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_STATUS), ==, 0x0007);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_WARNINGS), ==, 0);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CELL_OVP), ==, 4050);
  g_assert_cmpint (bms_snapshot_get_raw (s, 0xAA), ==, 14);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_BATTERY_TYPE), ==, 1);
  g_assert_cmpint (bms_snapshot_get_raw (s, 0xA5), ==, -20);
  g_assert_cmpint (bms_snapshot_get_raw (s, 0xB6), ==, 57856);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_PROTOCOL_VERSION), ==, 1);
  pw = bms_snapshot_dup_string (s, BMS_ID_PASSWORD);
  g_assert_cmpstr (pw, ==, "123456");
  sw = bms_snapshot_dup_string (s, BMS_ID_SOFTWARE_VERSION);
  g_assert_cmpstr (sw, ==, "H6.X__S6.1.3S__");
  mid = bms_snapshot_dup_string (s, 0xBA);
  g_assert_cmpstr (mid, ==, "BT3072020120000200521001");
}

static void
test_reply_reencode (void)
{
  g_autoptr(GByteArray) bytes = test_load_hex ("nw-readall-14s.hex");
  g_autoptr(BmsFrame) frame = bms_frame_decode (bytes->data, bytes->len, NULL);
  g_autoptr(BmsSnapshot) s = bms_snapshot_new ();
  g_autoptr(GByteArray) info = g_byte_array_new ();
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(BmsFrame) again = NULL;

  g_assert_true (bms_snapshot_parse (s, frame->info, frame->info_len, NULL));
  bms_snapshot_encode (s, info);
  g_assert_cmpmem (info->data, info->len, frame->info, frame->info_len);
  again = bms_frame_new (frame->command, frame->source, frame->transport, info->data, info->len);
  bms_frame_encode (again, out);
  g_assert_cmpmem (out->data, out->len, bytes->data, bytes->len);
}

static void
test_json_keys (void)
{
  g_autoptr(GByteArray) bytes = test_load_hex ("nw-readall-14s.hex");
  g_autoptr(BmsFrame) frame = bms_frame_decode (bytes->data, bytes->len, NULL);
  g_autoptr(BmsSnapshot) s = bms_snapshot_new ();
  g_autofree char *json = NULL;
  const char *keys[] = {
    "\"cells_mv\": [3821, 3834", "\"cell_count\": 14", "\"pack_voltage_v\": 53.59",
    "\"current_a\": 2.08", "\"soc_pct\": 15", "\"mosfet_temp_c\": 29", "\"temp1_c\": 30",
    "\"temp2_c\": 28", "\"cycles\": 4", "\"warnings\": 0", "\"status\": 7",
    "\"protocol_version\": 1", "\"software_version\": \"H6.X__S6.1.3S__\"",
    "\"manufacturer_id\": \"BT3072020120000200521001\"", "\"device_id\": \"Input Us\"",
    "\"runtime_min\": 57856", "\"capacity_ah\": 14", "\"battery_type\": \"nmc\"",
    "\"cell_ovp_mv\": 4050", "\"cell_ovp_recovery_mv\": 4000", "\"cell_uvp_mv\": 3050",
    "\"cell_uvp_recovery_mv\": 3100", "\"charge_low_temp_c\": -20",
  };

  g_assert_true (bms_snapshot_parse (s, frame->info, frame->info_len, NULL));
  json = bms_snapshot_to_json (s);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (!strstr (json, keys[i]))
      g_error ("JSON lacks %s: %s", keys[i], json);
}

typedef struct {
  GPtrArray *frames;
  GPtrArray *errors;
} Collect;

static void
on_frame (BmsFrame *frame, gpointer data)
{
  g_ptr_array_add (((Collect *) data)->frames, frame);
}

static void
on_error (const GError *error, gpointer data)
{
  g_ptr_array_add (((Collect *) data)->errors, g_error_copy (error));
}

static void
collect_init (Collect *c)
{
  c->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_frame_free);
  c->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
}

static void
collect_clear (Collect *c)
{
  g_ptr_array_unref (c->frames);
  g_ptr_array_unref (c->errors);
}

static void
test_parser_chunking (void)
{
  g_autoptr(GByteArray) reply = test_load_hex ("nw-readall-14s.hex");
  g_autoptr(GByteArray) req = test_load_hex ("nw-request-readall.hex");
  GRand *rand = g_rand_new_with_seed (42);

  for (guint round = 0; round < 500; round++)
    {
      Collect c;
      g_autoptr(GByteArray) stream = g_byte_array_new ();
      g_autoptr(BmsFrameParser) p = NULL;
      guint n_frames = 1 + g_rand_int_range (rand, 0, 4);
      gsize pos = 0;

      collect_init (&c);
      p = bms_frame_parser_new (on_frame, on_error, &c);
      for (guint f = 0; f < n_frames; f++)
        {
          /* Noise without a start marker, so no false candidates. */
          guint noise = g_rand_int_range (rand, 0, 20);
          for (guint i = 0; i < noise; i++)
            {
              guint8 b = g_rand_int_range (rand, 0, 256);
              if (b == BMS_FRAME_START0)
                b = 0;
              g_byte_array_append (stream, &b, 1);
            }
          if (f % 2)
            g_byte_array_append (stream, req->data, req->len);
          else
            g_byte_array_append (stream, reply->data, reply->len);
        }
      while (pos < stream->len)
        {
          gsize chunk = g_rand_int_range (rand, 1, 64); /* not inside MIN: it evaluates twice */
          gsize n = MIN (chunk, stream->len - pos);
          bms_frame_parser_push (p, stream->data + pos, n);
          pos += n;
        }
      g_assert_cmpuint (c.frames->len, ==, n_frames);
      g_assert_cmpuint (c.errors->len, ==, 0);
      for (guint f = 0; f < n_frames; f++)
        {
          BmsFrame *fr = g_ptr_array_index (c.frames, f);
          g_assert_cmpuint (fr->info_len, ==, f % 2 ? 1 : reply->len - BMS_FRAME_OVERHEAD);
        }
      collect_clear (&c);
    }
  g_rand_free (rand);
}

static void
test_parser_two_in_one_read (void)
{
  g_autoptr(GByteArray) req = test_load_hex ("nw-request-readall.hex");
  g_autoptr(GByteArray) two = g_byte_array_new ();
  Collect c;
  g_autoptr(BmsFrameParser) p = NULL;

  collect_init (&c);
  p = bms_frame_parser_new (on_frame, on_error, &c);
  g_byte_array_append (two, req->data, req->len);
  g_byte_array_append (two, req->data, req->len);
  bms_frame_parser_push (p, two->data, two->len);
  g_assert_cmpuint (c.frames->len, ==, 2);
  collect_clear (&c);
}

/* Noise that contains false "NW" starts: the real frames must survive. */
static void
test_parser_false_starts (void)
{
  g_autoptr(GByteArray) reply = test_load_hex ("nw-readall-14s.hex");
  GRand *rand = g_rand_new_with_seed (7);

  for (guint round = 0; round < 200; round++)
    {
      Collect c;
      g_autoptr(GByteArray) stream = g_byte_array_new ();
      g_autoptr(BmsFrameParser) p = NULL;
      guint8 fake[] = { 0x4E, 0x57, 0x00, 0x20 };

      collect_init (&c);
      p = bms_frame_parser_new (on_frame, on_error, &c);
      g_byte_array_append (stream, fake, g_rand_int_range (rand, 1, 5));
      g_byte_array_append (stream, reply->data, reply->len);
      bms_frame_parser_push (p, stream->data, stream->len);
      bms_frame_parser_finish (p);
      g_assert_cmpuint (c.frames->len, ==, 1);
      collect_clear (&c);
    }
  g_rand_free (rand);
}

static GError *
decode_error (GByteArray *bytes)
{
  GError *error = NULL;
  BmsFrame *f = bms_frame_decode (bytes->data, bytes->len, &error);
  g_assert_null (f);
  return error;
}

static void
test_errors (void)
{
  g_autoptr(GByteArray) good = test_load_hex ("nw-readall-14s.hex");
  g_autoptr(GByteArray) b = NULL;
  g_autoptr(GError) e = NULL;

  b = g_byte_array_new ();
  g_byte_array_append (b, good->data, good->len);
  b->data[0] = 0x4F;
  e = decode_error (b);
  g_assert_error (e, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_START);
  g_assert_nonnull (strstr (e->message, "bad start"));
  g_clear_error (&e);

  b->data[0] = 0x4E;
  b->data[2] = 0x00; b->data[3] = 0x05;
  e = decode_error (b);
  g_assert_error (e, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_LENGTH);
  g_clear_error (&e);
  b->data[2] = good->data[2]; b->data[3] = good->data[3];

  g_byte_array_set_size (b, good->len - 3);
  e = decode_error (b);
  g_assert_error (e, BMS_FRAME_ERROR, BMS_FRAME_ERROR_TRUNCATED);
  g_assert_nonnull (strstr (e->message, "truncated"));
  g_clear_error (&e);
  g_byte_array_set_size (b, 0);
  g_byte_array_append (b, good->data, good->len);

  b->data[good->len - 5] = 0x69;
  e = decode_error (b);
  g_assert_error (e, BMS_FRAME_ERROR, BMS_FRAME_ERROR_NO_END_MARKER);
  g_assert_nonnull (strstr (e->message, "end marker"));
  g_clear_error (&e);
  b->data[good->len - 5] = 0x68;

  b->data[20] ^= 0x01;
  e = decode_error (b);
  g_assert_error (e, BMS_FRAME_ERROR, BMS_FRAME_ERROR_CHECKSUM);
  g_assert_nonnull (strstr (e->message, "checksum mismatch"));
}

/* A corrupted frame in a stream is reported, the next good one still comes out. */
static void
test_parser_reports_and_recovers (void)
{
  g_autoptr(GByteArray) good = test_load_hex ("nw-readall-14s.hex");
  g_autoptr(GByteArray) stream = g_byte_array_new ();
  g_autoptr(BmsFrameParser) p = NULL;
  Collect c;

  collect_init (&c);
  p = bms_frame_parser_new (on_frame, on_error, &c);
  g_byte_array_append (stream, good->data, good->len);
  stream->data[100] ^= 0xFF;
  g_byte_array_append (stream, good->data, good->len);
  bms_frame_parser_push (p, stream->data, stream->len);
  g_assert_cmpuint (c.frames->len, ==, 1);
  g_assert_cmpuint (c.errors->len, >=, 1);
  g_assert_error ((GError *) g_ptr_array_index (c.errors, 0), BMS_FRAME_ERROR,
                  BMS_FRAME_ERROR_CHECKSUM);
  collect_clear (&c);
}

static void
test_oversize_bounded (void)
{
  guint8 huge[] = { 0x4E, 0x57, 0xFF, 0xFF };
  Collect c;
  g_autoptr(BmsFrameParser) p = NULL;

  collect_init (&c);
  p = bms_frame_parser_new (on_frame, on_error, &c);
  bms_frame_parser_push (p, huge, sizeof huge);
  g_assert_cmpuint (c.errors->len, ==, 1);
  g_assert_error ((GError *) g_ptr_array_index (c.errors, 0), BMS_FRAME_ERROR,
                  BMS_FRAME_ERROR_BAD_LENGTH);
  collect_clear (&c);
}

static void
test_requests (void)
{
  g_autoptr(GByteArray) pw = bms_request_password (1, "123456");
  g_autoptr(BmsFrame) f = bms_frame_decode (pw->data, pw->len, NULL);
  guint8 v[2] = { 0x0E, 0x42 };
  g_autoptr(GByteArray) wr = bms_request_write (1, BMS_ID_CELL_OVP, v, 2);
  g_autoptr(BmsFrame) w = bms_frame_decode (wr->data, wr->len, NULL);

  g_assert_nonnull (f);
  g_assert_cmpuint (f->terminal, ==, 1);
  g_assert_cmpuint (f->command, ==, BMS_CMD_PASSWORD);
  g_assert_cmpuint (f->info_len, ==, 11);
  g_assert_cmpuint (f->info[0], ==, BMS_ID_PASSWORD);
  g_assert_cmpmem (f->info + 1, 6, "123456", 6);
  g_assert_cmpuint (f->info[7], ==, 0);
  g_assert_cmpuint (w->command, ==, BMS_CMD_WRITE);
  g_assert_cmpuint (w->info_len, ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/frame/request-vector", test_request_vector);
  g_test_add_func ("/frame/reply-vector", test_reply_vector);
  g_test_add_func ("/frame/reply-reencode", test_reply_reencode);
  g_test_add_func ("/frame/json-keys", test_json_keys);
  g_test_add_func ("/frame/errors", test_errors);
  g_test_add_func ("/frame/requests", test_requests);
  g_test_add_func ("/parser/chunking-noise", test_parser_chunking);
  g_test_add_func ("/parser/two-in-one-read", test_parser_two_in_one_read);
  g_test_add_func ("/parser/false-starts", test_parser_false_starts);
  g_test_add_func ("/parser/reports-and-recovers", test_parser_reports_and_recovers);
  g_test_add_func ("/parser/oversize-bounded", test_oversize_bounded);
  return g_test_run ();
}
