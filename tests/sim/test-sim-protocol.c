/* test-sim-protocol.c — the simulated board on the wire: reads, writes, the
 * password gate, persistence, addressing, commands. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "bms-frame.h"
#include "bms-sim-private.h"

typedef struct
{
  GPtrArray *frames;
  guint errors;
} Collect;

static void
collect_frame (BmsFrame *frame, gpointer data)
{
  g_ptr_array_add (((Collect *)data)->frames, frame);
}

static void
collect_error (const GError *error, gpointer data)
{
  ((Collect *)data)->errors++;
}

/* Sends a request, returns the single reply frame (NULL if none). */
static BmsFrame *
exchange (BmsSim *sim, GByteArray *request)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify)bms_frame_free);
  Collect c = { frames, 0 };
  g_autoptr (BmsFrameParser) parser = bms_frame_parser_new (collect_frame, collect_error, &c);

  bms_sim_receive (sim, request->data, request->len, out);
  g_byte_array_unref (request);
  bms_frame_parser_push (parser, out->data, out->len);
  bms_frame_parser_finish (parser);
  g_assert_cmpuint (c.errors, ==, 0);
  g_assert_cmpuint (frames->len, <=, 1);
  if (frames->len == 0)
    return NULL;
  return g_ptr_array_steal_index (frames, 0);
}

static BmsSnapshot *
read_all (BmsSim *sim, guint32 terminal, guint8 command)
{
  g_autoptr (BmsFrame) reply = NULL;
  g_autoptr (GError) error = NULL;
  BmsSnapshot *s = bms_snapshot_new ();

  reply = exchange (sim, command == BMS_CMD_READ_ALL ? bms_request_read_all (terminal)
                                                     : bms_request_read_one (terminal, 0x00));
  g_assert_nonnull (reply);
  g_assert_cmpuint (reply->command, ==, command);
  g_assert_cmpuint (reply->source, ==, BMS_SOURCE_BMS);
  g_assert_cmpuint (reply->transport, ==, BMS_TRANSPORT_REPLY);
  g_assert_cmpuint (reply->terminal, ==, 0);
  g_assert_true (bms_snapshot_parse (s, reply->info, reply->info_len, &error));
  g_assert_no_error (error);
  return s;
}

/* Write reply: [id, result]. */
static guint8
write_raw (BmsSim *sim, guint32 terminal, guint8 id, gint64 raw)
{
  const BmsFieldInfo *f = bms_field_lookup (id);
  guint8 value[8];
  g_autoptr (BmsFrame) reply = NULL;

  bms_field_encode_raw (f, raw, value, 1);
  reply = exchange (sim, bms_request_write (terminal, id, value, f->size));
  g_assert_nonnull (reply);
  g_assert_cmpuint (reply->command, ==, BMS_CMD_WRITE);
  g_assert_cmpuint (reply->info_len, ==, 2);
  g_assert_cmpuint (reply->info[0], ==, id);
  return reply->info[1];
}

static guint8
password (BmsSim *sim, const char *pw)
{
  g_autoptr (BmsFrame) reply = exchange (sim, bms_request_password (1, pw));

  g_assert_nonnull (reply);
  g_assert_cmpuint (reply->command, ==, BMS_CMD_PASSWORD);
  g_assert_cmpuint (reply->info_len, ==, 2);
  g_assert_cmpuint (reply->info[0], ==, BMS_ID_PASSWORD);
  return reply->info[1];
}

static gint64
read_one (BmsSim *sim, guint8 id)
{
  g_autoptr (BmsFrame) reply = exchange (sim, bms_request_read_one (1, id));
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();

  g_assert_nonnull (reply);
  g_assert_cmpuint (reply->command, ==, BMS_CMD_READ);
  g_assert_cmpuint (reply->info[0], ==, id);
  g_assert_true (bms_snapshot_parse (s, reply->info, reply->info_len, NULL));
  g_assert_true (bms_snapshot_has (s, id));
  return bms_snapshot_get_raw (s, id);
}

static BmsSim *
new_sim (guint modules, guint cells, const char *state_file)
{
  BmsSimConfig c;
  g_autoptr (GError) error = NULL;
  BmsSim *sim;

  bms_sim_config_init (&c);
  c.modules = modules;
  c.cells_per_module = cells;
  c.state_file = state_file;
  sim = bms_sim_new (&c, &error);
  g_assert_no_error (error);
  return sim;
}

static void
assert_every_field (const BmsSnapshot *s)
{
  const BmsFieldInfo *all;
  guint n;

  all = bms_field_all (&n);
  for (guint i = 0; i < n; i++)
    if (all[i].id == BMS_ID_CELLS_EXT)
      {
        /* Cells 86 and up: a pack of 85 cells or fewer never sends 0xD0. */
        if (bms_snapshot_has (s, all[i].id) != (s->n_cells > BMS_CELLS_IN_0X79))
          g_error ("%u cells, 0xD0 %s", s->n_cells,
                   bms_snapshot_has (s, all[i].id) ? "sent" : "missing");
      }
    else if (all[i].access & BMS_ACCESS_R)
      {
        if (!bms_snapshot_has (s, all[i].id))
          g_error ("read-all lacks 0x%02X %s", all[i].id, all[i].name);
      }
    else
      g_assert_false (bms_snapshot_has (s, all[i].id));
}

static void
test_read_all_16 (void)
{
  g_autoptr (BmsSim) sim = new_sim (1, 16, NULL);
  g_autoptr (BmsSnapshot) s = NULL;
  g_autoptr (BmsSnapshot) s3 = NULL;
  double sum = 0;

  bms_sim_set_current (sim, 10);
  bms_sim_advance (sim, 10);
  s = read_all (sim, 1, BMS_CMD_READ_ALL);
  assert_every_field (s);
  g_assert_cmpuint (s->n_cells, ==, 16);
  for (guint i = 0; i < 16; i++)
    {
      g_assert_cmpuint (s->cells_mv[i], >, 3200);
      g_assert_cmpuint (s->cells_mv[i], <, 3400);
      sum += s->cells_mv[i] / 1000.0;
    }
  g_assert_cmpfloat_with_epsilon (bms_snapshot_get (s, BMS_ID_PACK_VOLTAGE), sum, 0.04);
  /* +10 A through an uncalibrated shunt (±1.5 %). */
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CURRENT), >=, 985);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CURRENT), <=, 1015);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_PROTOCOL_VERSION), ==, 1);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CELL_COUNT), ==, 16);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CELL_OVP), ==, 3650);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_BATTERY_TYPE), ==, BMS_CHEMISTRY_LFP);
  g_assert_cmpuint (s->n_module_temps, ==, 1);
  {
    g_autofree char *pw = bms_snapshot_dup_string (s, BMS_ID_PASSWORD);
    g_assert_cmpstr (pw, ==, BMS_DEFAULT_PASSWORD);
  }

  /* 0x03 with id 0x00 reads all as well, echoing 0x03. */
  s3 = read_all (sim, 0, BMS_CMD_READ);
  assert_every_field (s3);
  g_assert_cmpuint (s3->n_cells, ==, 16);
}

static void
test_read_all_256 (void)
{
  g_autoptr (BmsSim) sim = new_sim (16, 16, NULL);
  g_autoptr (BmsFrame) reply = exchange (sim, bms_request_read_all (1));
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (reply);
  /* Cells 1..85 in 0x79 (255 bytes), the other 171 in 0xD0. */
  g_assert_cmpuint (reply->info[0], ==, BMS_ID_CELLS);
  g_assert_cmpuint (reply->info[1], ==, 255);
  g_assert_cmpuint (reply->info[2 + 3 * 84], ==, 85);
  g_assert_true (bms_snapshot_parse (s, reply->info, reply->info_len, &error));
  g_assert_no_error (error);
  assert_every_field (s);
  g_assert_cmpuint (s->n_cells, ==, 256);
  for (guint i = 0; i < 256; i++)
    {
      g_assert_cmpuint (s->cells_mv[i], >, 3000);
      g_assert_cmpuint (s->cells_mv[i], <, 3500);
    }
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CELL_COUNT), ==, 256);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_MODULE_COUNT), ==, 16);
  g_assert_cmpuint (s->n_module_temps, ==, 16);
  g_assert_cmpuint (reply->info_len + BMS_FRAME_OVERHEAD, <, BMS_FRAME_MAX_SIZE);
  g_test_message ("256-cell read-all reply: %u bytes",
                  (guint)(reply->info_len + BMS_FRAME_OVERHEAD));
}

static void
test_read_one (void)
{
  g_autoptr (BmsSim) sim = new_sim (1, 16, NULL);
  g_autoptr (BmsFrame) reply = NULL;

  g_assert_cmpint (read_one (sim, BMS_ID_CELL_OVP), ==, 3650);
  g_assert_cmpint (read_one (sim, BMS_ID_CELL_UVP), ==, 2500);
  g_assert_cmpint (read_one (sim, BMS_ID_CELL_OVP2), ==, 3750);
  g_assert_cmpint (read_one (sim, BMS_ID_SOC), ==, 60);
  /* A 16-cell pack has no cells 86 and up: no 0xD0, as for an unknown id. */
  reply = exchange (sim, bms_request_read_one (1, BMS_ID_CELLS_EXT));
  g_assert_nonnull (reply);
  g_assert_cmpuint (reply->info[0], ==, BMS_ID_CELLS_EXT);
  g_assert_cmpuint (reply->info[1], ==, BMS_RESULT_UNKNOWN_FIELD);
  g_clear_pointer (&reply, bms_frame_free);
  /* A write-only field cannot be read. */
  reply = exchange (sim, bms_request_read_one (1, BMS_ID_RESTART));
  g_assert_nonnull (reply);
  g_assert_cmpuint (reply->info[1], ==, BMS_RESULT_UNKNOWN_FIELD);
}

static void
test_write_needs_password (void)
{
  g_autoptr (BmsSim) sim = new_sim (1, 16, NULL);

  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_CELL_OVP, 3600), ==, BMS_RESULT_DENIED);
  g_assert_cmpint (read_one (sim, BMS_ID_CELL_OVP), ==, 3650);

  g_assert_cmpuint (password (sim, "654321"), ==, BMS_RESULT_DENIED);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_CELL_OVP, 3600), ==, BMS_RESULT_DENIED);
  g_assert_cmpint (read_one (sim, BMS_ID_CELL_OVP), ==, 3650);

  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_CELL_OVP, 3600), ==, BMS_RESULT_OK);
  g_assert_cmpint (read_one (sim, BMS_ID_CELL_OVP), ==, 3600);
  /* A wrong password locks again. */
  g_assert_cmpuint (password (sim, "000000"), ==, BMS_RESULT_DENIED);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_CELL_OVP, 3610), ==, BMS_RESULT_DENIED);
}

static void
test_write_results (void)
{
  g_autoptr (BmsSim) sim = new_sim (1, 16, NULL);
  guint8 value[2] = { 0x0E, 0x10 };
  g_autoptr (BmsFrame) reply = NULL;

  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_CELL_OVP, 5000), ==, BMS_RESULT_RANGE);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_CELL_OVP, 999), ==, BMS_RESULT_RANGE);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_PACK_VOLTAGE, 5000), ==, BMS_RESULT_READ_ONLY);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_CYCLES, 1), ==, BMS_RESULT_READ_ONLY);
  g_assert_cmpint (read_one (sim, BMS_ID_CELL_OVP), ==, 3650);
  /* An id the catalogue does not know. */
  reply = exchange (sim, bms_request_write (1, 0x88, value, 2));
  g_assert_nonnull (reply);
  g_assert_cmpuint (reply->info[1], ==, BMS_RESULT_UNKNOWN_FIELD);
  g_clear_pointer (&reply, bms_frame_free);
  /* A value of the wrong size. */
  reply = exchange (sim, bms_request_write (1, BMS_ID_CELL_OVP, value, 1));
  g_assert_cmpuint (reply->info[1], ==, BMS_RESULT_RANGE);
}

/* Every writable field takes a value in its range and reports it back. */
static void
test_every_writable_field (void)
{
  g_autoptr (BmsSim) sim = new_sim (2, 8, NULL);
  const BmsFieldInfo *all;
  guint n;

  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  all = bms_field_all (&n);
  for (guint i = 0; i < n; i++)
    {
      const BmsFieldInfo *f = &all[i];
      g_autoptr (BmsFrame) reply = NULL;
      g_autoptr (BmsSnapshot) s = NULL;
      guint8 value[64] = { 0 };
      gint64 raw = f->max;

      if (f->access != BMS_ACCESS_RW || f->id == BMS_ID_PASSWORD)
        continue;
      if (f->type == BMS_FIELD_ASCII)
        memset (value, 'A', f->size);
      else if (f->type == BMS_FIELD_BYTES)
        memset (value, f->max, f->size);
      else
        bms_field_encode_raw (f, raw, value, 1);
      /* Terminal 0: the board address itself is among the fields. */
      reply = exchange (sim, bms_request_write (0, f->id, value, f->size));
      g_assert_nonnull (reply);
      if (reply->info[1] != BMS_RESULT_OK)
        g_error ("write of %s refused with %u", f->name, reply->info[1]);

      s = read_all (sim, 0, BMS_CMD_READ_ALL);
      /* The running counter and the calibration trigger read back their own. */
      if (bms_field_is_numeric (f) && !g_str_equal (f->name, "runtime_min")
          && !g_str_equal (f->name, "current_calibration_start"))
        g_assert_cmpint (bms_snapshot_get_raw (s, f->id), ==, raw);
      else if (!bms_field_is_numeric (f))
        g_assert_cmpmem (bms_snapshot_get_bytes (s, f->id), f->size, value, f->size);
    }
  g_assert_cmpuint (bms_sim_get_address (sim), ==, 255);
}

static void
test_persistence (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pw-sim-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "state.ini", NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  BmsSim *sim = new_sim (1, 16, path);

  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_CELL_OVP, 3600), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_HEATER_MODE, 2), ==, BMS_RESULT_OK);
  /* Written at once, by catalogue name. */
  g_assert_true (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_key_file_get_int64 (kf, "parameters", "cell_ovp_mv", NULL), ==, 3600);
  g_assert_cmpint (g_key_file_get_int64 (kf, "parameters", "heater_mode", NULL), ==, 2);
  {
    g_autofree char *pw = g_key_file_get_string (kf, "parameters", "parameter_password", NULL);
    g_assert_cmpstr (pw, ==, "123456");
  }
  bms_sim_free (sim);

  /* A restarted simulator has them, and the gate is closed again. */
  sim = new_sim (1, 16, path);
  g_assert_cmpint (read_one (sim, BMS_ID_CELL_OVP), ==, 3600);
  g_assert_cmpint (read_one (sim, BMS_ID_HEATER_MODE), ==, 2);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_CELL_OVP, 3500), ==, BMS_RESULT_DENIED);

  /* Factory reset brings the vendor defaults back, also in the file. */
  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_FACTORY_RESET, 1), ==, BMS_RESULT_OK);
  g_assert_cmpint (read_one (sim, BMS_ID_CELL_OVP), ==, 3650);
  bms_sim_free (sim);
  g_assert_true (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL));
  g_assert_cmpint (g_key_file_get_int64 (kf, "parameters", "cell_ovp_mv", NULL), ==, 3650);

  /* A broken file is an error that says what to do, and is left alone. */
  g_assert_true (g_file_set_contents (path, "[parameters]\ncell_ovp_mv=99999\n", -1, NULL));
  {
    BmsSimConfig c;
    bms_sim_config_init (&c);
    c.state_file = path;
    g_assert_null (bms_sim_new (&c, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, "cell_ovp_mv"));
  }
  {
    g_autofree char *text = NULL;
    g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
    g_assert_nonnull (strstr (text, "99999"));
  }
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_set_parameter (void)
{
  g_autoptr (BmsSim) sim = new_sim (1, 16, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (bms_sim_set_parameter (sim, BMS_ID_CELL_OVP, 3600, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bms_sim_get_parameter (sim, BMS_ID_CELL_OVP), ==, 3600);
  g_assert_cmpint (read_one (sim, BMS_ID_CELL_OVP), ==, 3600);
  g_assert_false (bms_sim_set_parameter (sim, BMS_ID_CELL_OVP, 5000, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE);
  g_clear_error (&error);
  g_assert_false (bms_sim_set_parameter (sim, BMS_ID_PACK_VOLTAGE, 5000, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_ACCESS);
  g_clear_error (&error);
  g_assert_false (bms_sim_set_parameter (sim, 0x88, 1, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_UNKNOWN);
  /* Telemetry reads through as well. */
  g_assert_cmpint (bms_sim_get_parameter (sim, BMS_ID_CELL_COUNT), ==, 16);
}

static void
test_password_change (void)
{
  g_autoptr (BmsSim) sim = new_sim (1, 16, NULL);
  g_autoptr (BmsFrame) reply = NULL;
  guint8 pw[BMS_PASSWORD_SIZE] = "s3cret";

  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  reply = exchange (sim, bms_request_write (1, BMS_ID_PASSWORD, pw, sizeof pw));
  g_assert_cmpuint (reply->info[1], ==, BMS_RESULT_OK);
  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_DENIED);
  g_assert_cmpuint (password (sim, "s3cret"), ==, BMS_RESULT_OK);
}

static void
test_address (void)
{
  g_autoptr (BmsSim) sim = new_sim (1, 16, NULL);
  g_autoptr (BmsFrame) none = NULL;
  g_autoptr (BmsFrame) mine = NULL;
  g_autoptr (BmsFrame) any = NULL;

  none = exchange (sim, bms_request_read_all (2));
  g_assert_null (none);
  mine = exchange (sim, bms_request_read_all (1));
  g_assert_nonnull (mine);
  any = exchange (sim, bms_request_read_all (0));
  g_assert_nonnull (any);
  /* A password for another board is not ours to judge. */
  g_clear_pointer (&none, bms_frame_free);
  none = exchange (sim, bms_request_password (7, "123456"));
  g_assert_null (none);
}

static void
test_restart_and_sleep (void)
{
  g_autoptr (BmsSim) sim = new_sim (1, 16, NULL);
  g_autoptr (BmsFrame) reply = NULL;

  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_RESTART, 1), ==, BMS_RESULT_OK);
  /* Rebooting (the bootloader's window): nothing answers. */
  reply = exchange (sim, bms_request_read_all (1));
  g_assert_null (reply);
  bms_sim_advance (sim, 3.5);
  /* After a restart the gate is closed. */
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_CELL_OVP, 3600), ==, BMS_RESULT_DENIED);

  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_SLEEP_NOW, 1), ==, BMS_RESULT_OK);
  g_assert_true (bms_sim_is_asleep (sim));
  reply = exchange (sim, bms_request_read_all (1));
  g_assert_null (reply);
  /* Activate wakes it (without a reply); then it answers again. */
  reply = exchange (sim, bms_request_activate (1));
  g_assert_null (reply);
  reply = exchange (sim, bms_request_read_all (1));
  g_assert_nonnull (reply);
}

static void
test_lease (void)
{
  g_autoptr (BmsSim) sim = new_sim (1, 16, NULL);
  g_autoptr (BmsSnapshot) s = NULL;
  const BmsFieldInfo *alarms = bms_field_lookup (BMS_ID_ALARMS_EXT);
  guint8 lease_end = bms_field_lookup_name ("lease_end")->id;
  guint8 lease_state = bms_field_lookup_name ("lease_state")->id;
  guint lease_bit = 0;

  while (!g_str_equal (alarms->names[lease_bit], "lease_expired"))
    lease_bit++;
  g_assert_cmpint (read_one (sim, lease_state), ==, 0); /* none */
  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, lease_end, bms_sim_get_unix_time (sim) + 60), ==,
                    BMS_RESULT_OK);
  g_assert_cmpint (read_one (sim, lease_state), ==, 1); /* active */

  bms_sim_set_current (sim, -20);
  bms_sim_advance (sim, 30);
  g_assert_cmpint (read_one (sim, BMS_ID_CURRENT), <, -1950);
  bms_sim_advance (sim, 40);
  s = read_all (sim, 1, BMS_CMD_READ_ALL);
  g_assert_cmpint (bms_snapshot_get_raw (s, lease_state), ==, 2); /* expired */
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CURRENT), ==, 0);
  g_assert_true (bms_snapshot_get_raw (s, BMS_ID_ALARMS_EXT) & (1u << lease_bit));
  g_assert_false (bms_snapshot_get_raw (s, BMS_ID_STATUS) & 2); /* discharge MOS off */
  /* Charging still works. */
  bms_sim_set_current (sim, 20);
  bms_sim_advance (sim, 1);
  g_assert_cmpint (read_one (sim, BMS_ID_CURRENT), >, 1950);
  /* Clearing the lease lets it discharge again. */
  g_assert_cmpuint (write_raw (sim, 1, lease_end, 0), ==, BMS_RESULT_OK);
  bms_sim_set_current (sim, -20);
  bms_sim_advance (sim, 5);
  g_assert_cmpint (read_one (sim, BMS_ID_CURRENT), <, -1950);
}

static void
test_protection_on_the_wire (void)
{
  g_autoptr (BmsSim) sim = new_sim (1, 16, NULL);
  g_autoptr (BmsSnapshot) s = NULL;
  const BmsFieldInfo *relays = bms_field_lookup (BMS_ID_RELAYS);

  /* A cold pack refuses charge: warning bit 9, charge MOS and relay open. */
  bms_sim_set_ambient (sim, -35, TRUE);
  bms_sim_set_current (sim, 10);
  bms_sim_advance (sim, 5);
  s = read_all (sim, 1, BMS_CMD_READ_ALL);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_MOSFET_TEMP), <, -30);
  g_assert_true (bms_snapshot_get_raw (s, BMS_ID_WARNINGS) & (1u << 9));
  g_assert_false (bms_snapshot_get_raw (s, BMS_ID_STATUS) & 1);
  g_assert_cmpstr (relays->names[2], ==, "charge");
  g_assert_false (bms_snapshot_get_raw (s, BMS_ID_RELAYS) & (1u << 2));
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CURRENT), ==, 0);
}

/* The vendor procedure: a known load, type the multimeter's reading into
 * 0xAD, start calibration (0xB8); the board then shows that current. */
static void
test_current_calibration (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pw-sim-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "state.ini", NULL);
  guint8 cal = bms_field_lookup_name ("current_calibration_ma")->id;
  guint8 start = bms_field_lookup_name ("current_calibration_start")->id;
  BmsSim *sim = new_sim (1, 16, path);
  gint64 before;

  bms_sim_set_current (sim, -2);
  bms_sim_advance (sim, 1);
  before = read_one (sim, BMS_ID_CURRENT);
  g_test_message ("uncalibrated: %" G_GINT64_FORMAT " (x 0.01 A) for a real -2 A", before);
  g_assert_cmpint (before, !=, -200); /* seed 1's shunt is off */

  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, cal, 2000), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, start, 1), ==, BMS_RESULT_OK);
  g_assert_cmpint (read_one (sim, start), ==, 0);
  g_assert_cmpint (read_one (sim, BMS_ID_CURRENT), ==, -200);
  bms_sim_set_current (sim, 50);
  bms_sim_advance (sim, 1);
  g_assert_cmpint (read_one (sim, BMS_ID_CURRENT), ==, 5000);
  bms_sim_free (sim);

  /* The board remembers it. */
  sim = new_sim (1, 16, path);
  bms_sim_set_current (sim, -2);
  bms_sim_advance (sim, 1);
  g_assert_cmpint (read_one (sim, BMS_ID_CURRENT), ==, -200);
  bms_sim_free (sim);
  g_unlink (path);
  g_rmdir (dir);
}

/* Any pack size and chemistry at rest is healthy: no protection, no
 * warning, both MOS on (the pack limits must not trip packs above 150 V),
 * and status bit 3 clear, as every real healthy board sends it. */
static void
test_quiet_at_rest (void)
{
  static const guint modules[] = { 1, 3, 5, 16 };

  for (int chem = BMS_CHEMISTRY_LFP; chem <= BMS_CHEMISTRY_LTO; chem++)
    for (gsize k = 0; k < G_N_ELEMENTS (modules); k++)
      {
        g_autoptr (BmsSim) sim = NULL;
        g_autoptr (BmsSnapshot) s = NULL;
        BmsSimConfig c;

        bms_sim_config_init (&c);
        c.modules = modules[k];
        c.chemistry = chem;
        sim = bms_sim_new (&c, NULL);
        bms_sim_advance (sim, 30);
        s = read_all (sim, 1, BMS_CMD_READ_ALL);
        if (bms_snapshot_get_raw (s, BMS_ID_WARNINGS) != 0
            || bms_snapshot_get_raw (s, BMS_ID_ALARMS_EXT) != 0
            || (bms_snapshot_get_raw (s, BMS_ID_STATUS) & 0x0B) != 0x03)
          g_error ("%u modules, chemistry %d: warnings 0x%04" G_GINT64_MODIFIER "x, "
                   "status 0x%04" G_GINT64_MODIFIER "x",
                   modules[k], chem, bms_snapshot_get_raw (s, BMS_ID_WARNINGS),
                   bms_snapshot_get_raw (s, BMS_ID_STATUS));
      }
}

/* "Battery set" takes effect at boot: a cell count the wiring does not have
 * means a slave the master cannot reach. */
static void
test_pack_cell_count (void)
{
  g_autoptr (BmsSim) sim = new_sim (2, 8, NULL);
  const BmsFieldInfo *alarms = bms_field_lookup (BMS_ID_ALARMS_EXT);
  guint8 count = bms_field_lookup_name ("pack_cell_count")->id;
  guint bit = 0;

  while (!g_str_equal (alarms->names[bit], "slave_offline"))
    bit++;
  g_assert_cmpint (read_one (sim, count), ==, 16);
  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, count, 24), ==, BMS_RESULT_OK);
  g_assert_false (read_one (sim, BMS_ID_ALARMS_EXT) & (1u << bit)); /* not before a restart */

  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_RESTART, 1), ==, BMS_RESULT_OK);
  bms_sim_advance (sim, 3.5);
  g_assert_true (read_one (sim, BMS_ID_ALARMS_EXT) & (1u << bit));
  g_assert_true (read_one (sim, BMS_ID_STATUS) & (1u << 3)); /* battery_dropped */

  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, count, 16), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_RESTART, 1), ==, BMS_RESULT_OK);
  bms_sim_advance (sim, 3.5);
  g_assert_false (read_one (sim, BMS_ID_ALARMS_EXT) & (1u << bit));
  g_assert_false (read_one (sim, BMS_ID_STATUS) & (1u << 3));
}

/* Field drivers read 0x8C by position (bit 0 charge MOS, 1 discharge MOS,
 * 2 balancer, 3 "battery dropped") and refuse to discharge on a set bit 3:
 * the simulator must speak like the real boards, whose healthy status is
 * 0x0003 at rest (0x0007 when balancing). */
static void
test_status_bits_by_position (void)
{
  g_autoptr (BmsSim) sim = NULL;
  BmsSimConfig c;
  const BmsFieldInfo *status = bms_field_lookup (BMS_ID_STATUS);
  static const char * const names[] = { "charge_mos_on", "discharge_mos_on", "balancer_on",
                                        "battery_dropped" };
  guint8 start = bms_field_lookup_name ("balance_start_mv")->id;
  guint8 diff = bms_field_lookup_name ("balance_diff_mv")->id;

  for (guint bit = 0; bit < G_N_ELEMENTS (names); bit++)
    g_assert_cmpstr (status->names[bit], ==, names[bit]);
  /* NMC: its steep curve turns the cells' spread of charge into tens of mV. */
  bms_sim_config_init (&c);
  c.chemistry = BMS_CHEMISTRY_NMC;
  sim = bms_sim_new (&c, NULL);
  bms_sim_advance (sim, 5);
  g_assert_cmpint (read_one (sim, BMS_ID_STATUS), ==, 0x0003);

  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, 0xAB, 0), ==, BMS_RESULT_OK); /* charge MOS off */
  bms_sim_advance (sim, 1);
  g_assert_cmpint (read_one (sim, BMS_ID_STATUS), ==, 0x0002);
  g_assert_cmpuint (write_raw (sim, 1, 0xAC, 0), ==, BMS_RESULT_OK); /* discharge MOS off */
  bms_sim_advance (sim, 1);
  g_assert_cmpint (read_one (sim, BMS_ID_STATUS), ==, 0x0000);
  g_assert_cmpuint (write_raw (sim, 1, 0xAB, 1), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, 0xAC, 1), ==, BMS_RESULT_OK);
  /* Balancing from a low start and the smallest difference: some cell is
   * more than 10 mV above the lowest, and bleeds. */
  g_assert_cmpuint (write_raw (sim, 1, start, 2000), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, diff, 10), ==, BMS_RESULT_OK);
  bms_sim_advance (sim, 1);
  g_assert_cmpint (read_one (sim, BMS_ID_STATUS), ==, 0x0007);
}

/* Random frames and garbage, authenticated: the board never crashes or
 * complains, whatever it is told (writes, commands, bad sizes, junk). */
static void
test_random_input (void)
{
  g_autoptr (BmsSim) sim = new_sim (2, 8, NULL);
  g_autoptr (GRand) r = g_rand_new_with_seed (42);
  guint replies = 0;

  for (int k = 0; k < 20000; k++)
    {
      g_autoptr (GByteArray) out = g_byte_array_new ();
      g_autoptr (GByteArray) req = NULL;
      guint8 info[24];
      gsize len = g_rand_int_range (r, 0, sizeof info);
      static const guint8 cmds[] = { 1, 2, 3, 5, 6, 7 };

      for (gsize i = 0; i < len; i++)
        info[i] = g_rand_int_range (r, 0, 256);
      if (k % 500 == 0)
        {
          g_autoptr (GByteArray) pw = bms_request_password (0, "123456");
          bms_sim_receive (sim, pw->data, pw->len, out);
        }
      if (g_rand_int_range (r, 0, 10) == 0)
        {
          /* Plain junk on the line. */
          bms_sim_receive (sim, info, len, out);
        }
      else
        {
          g_autoptr (BmsFrame) f = bms_frame_new (cmds[g_rand_int_range (r, 0, 6)], BMS_SOURCE_PC,
                                                  BMS_TRANSPORT_REQUEST, info, len);
          f->terminal = g_rand_int_range (r, 0, 3);
          req = g_byte_array_new ();
          bms_frame_encode (f, req);
          bms_sim_receive (sim, req->data, req->len, out);
        }
      replies += out->len > 0;
      bms_sim_advance (sim, 0.5);
    }
  g_test_message ("20000 random inputs, %u answered", replies);
  g_assert_cmpuint (replies, >, 0);
}

static void
test_bootloader_entry (void)
{
  g_autoptr (BmsSim) sim = new_sim (1, 16, NULL);
  g_autoptr (BmsFrame) reply = NULL;

  g_assert_cmpuint (password (sim, "123456"), ==, BMS_RESULT_OK);
  g_assert_cmpuint (write_raw (sim, 1, BMS_ID_REMOTE_UPGRADE, 1), ==, BMS_RESULT_OK);
  g_assert_true (bms_sim_in_bootloader (sim));
  /* The NW protocol is not spoken in the bootloader. */
  {
    g_autoptr (GByteArray) out = g_byte_array_new ();
    g_autoptr (GByteArray) req = bms_request_read_all (1);
    bms_sim_receive (sim, req->data, req->len, out);
    g_assert_true (out->len == 0 || out->data[0] != BMS_FRAME_START0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/protocol/read-all-16", test_read_all_16);
  g_test_add_func ("/sim/protocol/read-all-256", test_read_all_256);
  g_test_add_func ("/sim/protocol/read-one", test_read_one);
  g_test_add_func ("/sim/protocol/write-needs-password", test_write_needs_password);
  g_test_add_func ("/sim/protocol/write-results", test_write_results);
  g_test_add_func ("/sim/protocol/every-writable-field", test_every_writable_field);
  g_test_add_func ("/sim/protocol/persistence", test_persistence);
  g_test_add_func ("/sim/protocol/set-parameter", test_set_parameter);
  g_test_add_func ("/sim/protocol/password-change", test_password_change);
  g_test_add_func ("/sim/protocol/address", test_address);
  g_test_add_func ("/sim/protocol/restart-and-sleep", test_restart_and_sleep);
  g_test_add_func ("/sim/protocol/lease", test_lease);
  g_test_add_func ("/sim/protocol/protection-on-the-wire", test_protection_on_the_wire);
  g_test_add_func ("/sim/protocol/current-calibration", test_current_calibration);
  g_test_add_func ("/sim/protocol/quiet-at-rest", test_quiet_at_rest);
  g_test_add_func ("/sim/protocol/pack-cell-count", test_pack_cell_count);
  g_test_add_func ("/sim/protocol/status-bits-by-position", test_status_bits_by_position);
  g_test_add_func ("/sim/protocol/random-input", test_random_input);
  g_test_add_func ("/sim/protocol/bootloader-entry", test_bootloader_entry);
  return g_test_run ();
}
