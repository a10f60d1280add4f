/* test-sim-endpoints.c — the sim reached the ways the app reaches a board:
 * the in-process loopback (wire timing, time scale, sim://), a
 * pseudo-terminal, TCP, and the packwatch-sim program itself. */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "bms-frame.h"
#include "bms-loopback-transport.h"
#include "bms-sim-private.h"

typedef struct
{
  BmsFrame *frame;
  guint errors;
} One;

static void
one_frame (BmsFrame *frame, gpointer data)
{
  One *o = data;
  if (o->frame == NULL)
    o->frame = frame;
  else
    bms_frame_free (frame);
}

static void
one_error (const GError *error, gpointer data)
{
  ((One *)data)->errors++;
}

/* Writes a request, reads until one frame is complete or timeout_ms pass. */
static BmsFrame *
transact (BmsTransport *t, GByteArray *request, guint timeout_ms, gint64 *elapsed_us)
{
  One o = { NULL, 0 };
  g_autoptr (BmsFrameParser) parser = bms_frame_parser_new (one_frame, one_error, &o);
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time (), deadline = t0 + timeout_ms * 1000;
  guint8 buf[512];

  g_assert_true (bms_transport_write (t, request->data, request->len, &error));
  g_assert_no_error (error);
  g_byte_array_unref (request);
  while (o.frame == NULL && g_get_monotonic_time () < deadline)
    {
      gssize n = bms_transport_read (t, buf, sizeof buf, 50, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, >=, 0);
      bms_frame_parser_push (parser, buf, n);
    }
  if (elapsed_us)
    *elapsed_us = g_get_monotonic_time () - t0;
  return o.frame;
}

static BmsSnapshot *
read_all (BmsTransport *t, guint timeout_ms, gint64 *elapsed_us)
{
  g_autoptr (BmsFrame) reply = transact (t, bms_request_read_all (1), timeout_ms, elapsed_us);
  BmsSnapshot *s = bms_snapshot_new ();

  g_assert_nonnull (reply);
  g_assert_true (bms_snapshot_parse (s, reply->info, reply->info_len, NULL));
  return s;
}

static BmsSim *
new_sim (guint modules)
{
  BmsSimConfig c;
  BmsSim *sim;

  bms_sim_config_init (&c);
  c.modules = modules;
  sim = bms_sim_new (&c, NULL);
  g_assert_nonnull (sim);
  return sim;
}

/* ---- loopback ----------------------------------------------------------- */

static void
test_loopback_wire_timing (void)
{
  BmsSim *sim = new_sim (1);
  g_autoptr (BmsTransport) t = bms_loopback_transport_new (sim, TRUE, 1);
  g_autoptr (GByteArray) req = bms_request_read_all (1);
  g_autoptr (GByteArray) reply = g_byte_array_new ();
  g_autoptr (BmsSnapshot) s = NULL;
  gint64 us;
  double expect;

  g_assert_true (bms_transport_open (t, NULL));
  /* 9600 baud: 10/9600 s a byte, request and reply. */
  bms_sim_receive (sim, req->data, req->len, reply);
  expect = (req->len + reply->len) * 10.0 / 9600;
  s = read_all (t, 3000, &us);
  g_assert_cmpuint (s->n_cells, ==, 16);
  g_test_message ("9600 baud read-all: %u reply bytes, %.0f ms (wire %.0f ms)", reply->len,
                  us / 1000.0, expect * 1000);
  g_assert_cmpfloat (us / 1e6, >=, expect * 0.95);
  g_assert_cmpfloat (us / 1e6, <, expect + 0.5);

  /* 115200 is twelve times faster. */
  g_assert_true (bms_transport_set_baud (t, 115200, NULL));
  g_clear_pointer (&s, bms_snapshot_free);
  {
    g_autoptr (BmsFrame) none = transact (t, bms_request_read_all (1), 300, NULL);
    /* The board still listens at 9600: garbage, no reply. */
    g_assert_null (none);
  }
  bms_transport_close (t);
  g_clear_object (&t);
  bms_sim_free (sim);

  sim = new_sim (1);
  t = bms_loopback_transport_new_owning (sim, TRUE, 1, 115200, "test");
  g_assert_true (bms_transport_open (t, NULL));
  g_assert_true (bms_transport_set_baud (t, 115200, NULL));
  s = read_all (t, 3000, &us);
  g_test_message ("115200 baud read-all: %.0f ms", us / 1000.0);
  g_assert_cmpint (us, >=, (gint64)(expect * 1e6 / 12 * 0.95));
  g_assert_cmpint (us, <, 300000);
  bms_transport_close (t);
}

typedef struct
{
  double time;
} Probe;

static void
probe_time (BmsSim *sim, gpointer data)
{
  ((Probe *)data)->time = bms_sim_battery_time (bms_sim_get_battery (sim));
}

static void
test_loopback_time_scale (void)
{
  BmsSim *sim = new_sim (1);
  g_autoptr (BmsTransport) t = bms_loopback_transport_new_owning (sim, FALSE, 600, 9600, "scaled");
  g_autoptr (BmsSnapshot) s = NULL;
  Probe p;

  g_assert_true (bms_transport_open (t, NULL));
  g_usleep (200000);
  s = read_all (t, 1000, NULL);
  bms_loopback_transport_with_sim (BMS_LOOPBACK_TRANSPORT (t), probe_time, &p);
  /* 0.2 s of real time is two minutes of battery time. */
  g_assert_cmpfloat (p.time, >=, 110);
  g_assert_cmpfloat (p.time, <, 600);
  g_assert_cmpint (bms_snapshot_get_raw (s, bms_field_lookup_name ("runtime_min")->id), >=, 1);
  bms_transport_close (t);
}

static void
test_sim_uri (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsTransport) t = NULL;
  g_autoptr (BmsSnapshot) s = NULL;

  bms_sim_register_uri_scheme ();
  t = bms_transport_new_for_uri ("sim://?wire=0", 9600, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bms_transport_get_name (t), ==, "sim://?wire=0");
  g_assert_true (bms_transport_open (t, &error));
  s = read_all (t, 1000, NULL);
  g_assert_cmpuint (s->n_cells, ==, 16);
  bms_transport_close (t);
  g_clear_object (&t);
  g_clear_pointer (&s, bms_snapshot_free);

  t = bms_transport_new_for_uri ("sim://master?wire=0&chemistry=nmc&ambient=-5", 9600, &error);
  g_assert_no_error (error);
  g_assert_true (bms_transport_open (t, &error));
  s = read_all (t, 1000, NULL);
  g_assert_cmpuint (s->n_cells, ==, 256);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_BATTERY_TYPE), ==, BMS_CHEMISTRY_NMC);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CELL_OVP), ==, 4200);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_TEMP2), ==, -5);
  bms_transport_close (t);
  g_clear_object (&t);

  t = bms_transport_new_for_uri ("sim://slave", 9600, &error);
  g_assert_null (t);
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  t = bms_transport_new_for_uri ("sim://?colour=blue", 9600, &error);
  g_assert_null (t);
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID);
}

static void
get_truth (BmsSim *sim, gpointer data)
{
  BmsSimCellTruth *truth = data;

  for (guint i = 0; i < bms_sim_get_n_cells (sim); i++)
    bms_sim_get_cell_truth (sim, i, &truth[i]);
}

/* The demo takes the simulator's weak cells as the command line does. */
static void
test_sim_uri_weak_cell (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsTransport) t = NULL;
  static const char *const bad[]
      = { "sim://?weak-cell=3:x", "sim://?weak-cell=17", "sim://?weak-cell=2&weak-cell=2" };
  BmsSimCellTruth truth[16];
  guint weak = 0;

  bms_sim_register_uri_scheme ();
  t = bms_transport_new_for_uri ("sim://?wire=0&weak-cell=3:1.5&weak-cell=12:1:0.9:5", 9600,
                                 &error);
  g_assert_no_error (error);
  bms_loopback_transport_with_sim (BMS_LOOPBACK_TRANSPORT (t), get_truth, truth);
  for (guint i = 0; i < 16; i++)
    weak |= truth[i].weak ? 1u << i : 0;
  g_assert_cmphex (weak, ==, (1u << 2) | (1u << 11));
  g_assert_cmpfloat (truth[2].resistance_ohm, >, 1.3 * truth[0].resistance_ohm);
  g_assert_cmpfloat (truth[11].capacity_ah, <, 0.95 * truth[0].capacity_ah);
  g_assert_cmpfloat (truth[11].leak_a, >, truth[0].leak_a + 0.004);
  g_clear_object (&t);

  for (gsize k = 0; k < G_N_ELEMENTS (bad); k++)
    {
      t = bms_transport_new_for_uri (bad[k], 9600, &error);
      g_assert_null (t);
      g_assert_nonnull (error);
      g_test_message ("%s: %s", bad[k], error->message);
      g_assert_true (strstr (error->message, "weak cell") || strstr (error->message, "weak-cell"));
      g_clear_error (&error);
    }
}

/* ---- pty and TCP -------------------------------------------------------- */

typedef struct
{
  BmsSim *sim;
  char *where;
  char *pty_path;
  GCancellable *cancellable;
  GMutex lock;
  GCond cond;
  gboolean ok;
} Server;

static void
server_ready (const char *where, gpointer data)
{
  Server *s = data;
  g_mutex_lock (&s->lock);
  s->where = g_strdup (where);
  g_cond_signal (&s->cond);
  g_mutex_unlock (&s->lock);
}

static gpointer
server_thread (gpointer data)
{
  Server *s = data;
  g_autoptr (GError) error = NULL;

  if (s->pty_path)
    s->ok = bms_sim_serve_pty (s->sim, s->pty_path, 115200, TRUE, s->cancellable, &error);
  else
    s->ok = bms_sim_serve_tcp (s->sim, 0, 115200, TRUE, s->cancellable, &error);
  g_assert_no_error (error);
  return NULL;
}

static GThread *
server_start (Server *s, guint modules, const char *pty_path)
{
  GThread *thread;

  memset (s, 0, sizeof *s);
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  s->sim = new_sim (modules);
  s->pty_path = g_strdup (pty_path);
  s->cancellable = g_cancellable_new ();
  bms_sim_set_ready_func (s->sim, server_ready, s);
  thread = g_thread_new ("sim-server", server_thread, s);
  g_mutex_lock (&s->lock);
  while (s->where == NULL)
    g_cond_wait (&s->cond, &s->lock);
  g_mutex_unlock (&s->lock);
  return thread;
}

static void
server_stop (Server *s, GThread *thread)
{
  g_cancellable_cancel (s->cancellable);
  g_thread_join (thread);
  g_assert_true (s->ok);
  bms_sim_free (s->sim);
  g_object_unref (s->cancellable);
  g_free (s->where);
  g_free (s->pty_path);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
}

static void
test_pty (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pw-sim-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ttyBMS", NULL);
  g_autoptr (BmsTransport) t = NULL;
  g_autoptr (BmsSnapshot) s = NULL;
  g_autoptr (GError) error = NULL;
  Server server;
  GThread *thread = server_start (&server, 16, path);

  g_assert_cmpstr (server.where, ==, path);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_SYMLINK));
  t = bms_transport_new_for_uri (path, 115200, &error);
  g_assert_no_error (error);
  g_assert_true (bms_transport_open (t, &error));
  g_assert_no_error (error);
  s = read_all (t, 3000, NULL);
  g_assert_cmpuint (s->n_cells, ==, 256);
  bms_transport_close (t);

  server_stop (&server, thread);
  /* The link goes with the endpoint. */
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_rmdir (dir);
}

/* Unplugged: the client's line fails and the link disappears; plugged back
 * in, a fresh pty appears at the same path. */
static void
test_pty_unplug (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pw-sim-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ttyBMS", NULL);
  g_autoptr (BmsTransport) t = NULL;
  g_autoptr (BmsSnapshot) s = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) req = bms_request_read_all (1);
  Server server;
  GThread *thread = server_start (&server, 1, path);
  guint8 buf[64];
  gssize n = 0;

  t = bms_transport_new_for_uri (path, 115200, &error);
  g_assert_true (bms_transport_open (t, &error));
  s = read_all (t, 3000, NULL);
  g_assert_cmpuint (s->n_cells, ==, 16);

  bms_sim_toggle_disconnected (server.sim);
  for (int i = 0; i < 50 && n >= 0; i++)
    {
      if (bms_transport_write (t, req->data, req->len, NULL))
        n = bms_transport_read (t, buf, sizeof buf, 50, NULL);
      else
        n = -1;
    }
  g_assert_cmpint (n, ==, -1);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  bms_transport_close (t);
  g_clear_object (&t);

  bms_sim_toggle_disconnected (server.sim);
  for (int i = 0; i < 100 && !g_file_test (path, G_FILE_TEST_EXISTS); i++)
    g_usleep (10000);
  t = bms_transport_new_for_uri (path, 115200, &error);
  g_assert_true (bms_transport_open (t, &error));
  g_assert_no_error (error);
  g_clear_pointer (&s, bms_snapshot_free);
  s = read_all (t, 3000, NULL);
  g_assert_cmpuint (s->n_cells, ==, 16);
  bms_transport_close (t);

  server_stop (&server, thread);
  g_rmdir (dir);
}

static void
test_tcp (void)
{
  g_autoptr (BmsTransport) t = NULL;
  g_autoptr (BmsSnapshot) s = NULL;
  g_autoptr (GError) error = NULL;
  Server server;
  GThread *thread = server_start (&server, 1, NULL);

  g_assert_true (g_str_has_prefix (server.where, "tcp://127.0.0.1:"));
  for (int round = 0; round < 2; round++) /* a second client after the first left */
    {
      t = bms_transport_new_for_uri (server.where, 115200, &error);
      g_assert_no_error (error);
      g_assert_true (bms_transport_open (t, &error));
      g_assert_no_error (error);
      s = read_all (t, 3000, NULL);
      g_assert_cmpuint (s->n_cells, ==, 16);
      bms_transport_close (t);
      g_clear_object (&t);
      g_clear_pointer (&s, bms_snapshot_free);
    }
  server_stop (&server, thread);
}

/* ---- the program -------------------------------------------------------- */

static char *
sim_program (void)
{
  const char *build = g_getenv ("PACKWATCH_BUILD_ROOT");
  return g_build_filename (build ? build : ".", "src", "packwatch-sim", NULL);
}

static void
test_program_bad_options (void)
{
  static const char *const cases[][3] = {
    { "--modules", "17", "--modules must be 1 to 16" },
    { "--cells-per-module", "4", "--cells-per-module must be 5 to 16" },
    { "--chemistry", "lead", "--chemistry must be lfp, nmc or lto" },
    { "--baud", "1200", "--baud must be 9600" },
    { "--fault-drop", "2", "--fault-drop is a probability" },
    { "--time-scale", "0", "--time-scale must be above 0" },
    { "--boot-fault", "zap", "unknown fault \"zap\"" },
    { "--flash-size", "10", "--flash-size must be 1024" },
  };
  g_autofree char *prog = sim_program ();

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *argv[] = { prog, "--tcp", "0", cases[i][0], cases[i][1], NULL };
      g_autoptr (GSubprocess) p = NULL;
      g_autofree char *err = NULL;
      g_autoptr (GError) error = NULL;

      p = g_subprocess_newv (
          argv, G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_communicate_utf8 (p, NULL, NULL, NULL, &err, &error));
      g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 2);
      if (strstr (err, cases[i][2]) == NULL)
        g_error ("for %s %s expected \"%s\", got: %s", cases[i][0], cases[i][1], cases[i][2], err);
    }
  {
    const char *argv[] = { prog, NULL };
    g_autoptr (GSubprocess) p = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
    g_autofree char *err = NULL;
    g_subprocess_communicate_utf8 (p, NULL, NULL, NULL, &err, NULL);
    g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 2);
    g_assert_nonnull (strstr (err, "--pty PATH or --tcp PORT"));
  }
}

static void
test_program_tcp (void)
{
  g_autofree char *prog = sim_program ();
  g_autofree char *dir = g_dir_make_tmp ("pw-sim-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "state.ini", NULL);
  const char *argv[]
      = { prog,           "--tcp",  "0",      "--modules", "2",   "--cells-per-module",
          "10",           "--baud", "115200", "--state",   state, "--cycle",
          "--time-scale", "60",     NULL };
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsTransport) t = NULL;
  g_autoptr (BmsSnapshot) s = NULL;
  g_autofree char *where = NULL;

  p = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
  where = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (where, "tcp://127.0.0.1:"));

  t = bms_transport_new_for_uri (where, 115200, &error);
  g_assert_true (bms_transport_open (t, &error));
  s = read_all (t, 3000, NULL);
  g_assert_cmpuint (s->n_cells, ==, 20);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_MODULE_COUNT), ==, 2);
  g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CURRENT), >, 0); /* the cycle charges first */

  /* SIGUSR1 unplugs the line: the connection goes dead. */
  g_subprocess_send_signal (p, SIGUSR1);
  {
    g_autoptr (GByteArray) req = bms_request_read_all (1);
    guint8 buf[256];
    gssize n = 0;
    for (int i = 0; i < 20 && n >= 0; i++)
      {
        g_usleep (20000);
        if (bms_transport_write (t, req->data, req->len, NULL))
          n = bms_transport_read (t, buf, sizeof buf, 50, NULL);
        else
          n = -1;
      }
    g_assert_cmpint (n, ==, -1);
  }
  bms_transport_close (t);
  g_clear_object (&t);
  /* Plugged in again, a new connection reads. */
  g_subprocess_send_signal (p, SIGUSR1);
  g_usleep (100000);
  t = bms_transport_new_for_uri (where, 115200, &error);
  g_assert_true (bms_transport_open (t, &error));
  g_clear_pointer (&s, bms_snapshot_free);
  s = read_all (t, 3000, NULL);
  g_assert_cmpuint (s->n_cells, ==, 20);
  bms_transport_close (t);

  g_subprocess_send_signal (p, SIGTERM);
  g_assert_true (g_subprocess_wait (p, NULL, &error));
  g_assert_true (g_subprocess_get_if_exited (p));
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
  /* It left its parameters behind. */
  g_assert_true (g_file_test (state, G_FILE_TEST_EXISTS));
  g_unlink (state);
  g_rmdir (dir);
}

/* A board left in its bootloader: it answers the menu, not NW frames. */
static void
test_program_in_bootloader (void)
{
  g_autofree char *prog = sim_program ();
  const char *argv[] = { prog, "--tcp", "0", "--in-bootloader", "--no-wire-timing", NULL };
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsTransport) t = NULL;
  g_autofree char *where = NULL;
  guint8 b = 0x20, buf[16];
  gssize n = 0;

  p = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
  where = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_nonnull (where);
  t = bms_transport_new_for_uri (where, 9600, &error);
  g_assert_true (bms_transport_open (t, &error));
  {
    g_autoptr (BmsFrame) none = transact (t, bms_request_read_all (1), 300, NULL);
    g_assert_null (none);
  }
  bms_transport_flush_input (t);
  g_assert_true (bms_transport_write (t, &b, 1, &error));
  for (int i = 0; i < 20 && n == 0; i++)
    n = bms_transport_read (t, buf, sizeof buf, 50, &error);
  g_assert_cmpint (n, ==, 1); /* the segment number */
  bms_transport_close (t);
  g_subprocess_send_signal (p, SIGTERM);
  g_assert_true (g_subprocess_wait (p, NULL, &error));
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/endpoints/loopback-wire-timing", test_loopback_wire_timing);
  g_test_add_func ("/sim/endpoints/loopback-time-scale", test_loopback_time_scale);
  g_test_add_func ("/sim/endpoints/sim-uri", test_sim_uri);
  g_test_add_func ("/sim/endpoints/sim-uri-weak-cell", test_sim_uri_weak_cell);
  g_test_add_func ("/sim/endpoints/pty", test_pty);
  g_test_add_func ("/sim/endpoints/pty-unplug", test_pty_unplug);
  g_test_add_func ("/sim/endpoints/tcp", test_tcp);
  g_test_add_func ("/sim/endpoints/program-bad-options", test_program_bad_options);
  g_test_add_func ("/sim/endpoints/program-tcp", test_program_tcp);
  g_test_add_func ("/sim/endpoints/program-in-bootloader", test_program_in_bootloader);
  return g_test_run ();
}
