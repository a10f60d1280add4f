/* BmsPoller against the simulator's loopback transport: samples reach the
 * device and history, offline after three missed cycles, back-to-back cycles
 * when a cycle outlasts the interval, reconnect after the line breaks, and a
 * bus scan. */
#include <string.h>
#include <glib/gstdio.h>
#include "bms-poller.h"
#include "bms-change-set.h"
#include "bms-sim.h"
#include "bms-loopback-transport.h"

static const BmsSessionTiming fast_timing = {
  .first_byte_timeout_ms = 150,
  .inter_byte_timeout_ms = 50,
  .retries = 0,
  .min_gap_ms = 20,
};

typedef struct
{
  BmsSim *sim;
  BmsTransport *transport;
  BmsSession *session;
  BmsPoller *poller;
  /* Cycle bookkeeping, from the main thread's view. */
  guint64 cycles_at_update;
  guint64 cycles_at_offline;
  guint updates;
  guint went_offline;
} Fixture;

static void
on_updated (BmsDevice *device, Fixture *fx)
{
  fx->updates++;
  fx->cycles_at_update = bms_poller_get_cycles (fx->poller);
}

static void
on_online (BmsDevice *device, GParamSpec *pspec, Fixture *fx)
{
  if (bms_device_get_online (device))
    return;
  fx->went_offline++;
  fx->cycles_at_offline = bms_poller_get_cycles (fx->poller);
}

static void
fixture_set_up_at (Fixture *fx, guint address)
{
  g_autoptr (GError) error = NULL;
  BmsSimConfig config;

  bms_sim_config_init (&config);
  config.address = address;
  fx->sim = bms_sim_new (&config, &error);
  g_assert_no_error (error);
  fx->transport = bms_loopback_transport_new (fx->sim, FALSE, 1.0);
  fx->session = bms_session_new (fx->transport, 1);
  bms_session_set_timing (fx->session, &fast_timing);
  fx->poller = bms_poller_new (fx->session);
  g_assert_true (bms_poller_set_interval (fx->poller, 0.2, NULL));
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  fixture_set_up_at (fx, 1);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  bms_poller_stop_sync (fx->poller);
  /* Drop what the worker posted last. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&fx->poller);
  bms_session_close (fx->session);
  g_clear_object (&fx->session);
  g_clear_object (&fx->transport);
  bms_sim_free (fx->sim);
}

typedef gboolean (*Condition) (Fixture *fx);

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
wait_until (Fixture *fx, Condition cond, double seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add ((guint)(seconds * 1000), timeout_cb, &timed_out);

  while (!cond (fx) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return cond (fx);
}

static void
set_faults_cb (BmsSim *sim, gpointer data)
{
  bms_sim_set_faults (sim, data);
}

static void
set_faults (Fixture *fx, const BmsSimFaults *faults)
{
  bms_loopback_transport_with_sim (BMS_LOOPBACK_TRANSPORT (fx->transport), set_faults_cb,
                                   (gpointer)faults);
}

static BmsDevice *
device1 (Fixture *fx)
{
  return bms_poller_lookup_device (fx->poller, 1);
}

static gboolean
online (Fixture *fx)
{
  return device1 (fx) && bms_device_get_online (device1 (fx));
}

static gboolean
offline (Fixture *fx)
{
  return fx->went_offline > 0;
}

static gboolean
five_updates (Fixture *fx)
{
  return fx->updates >= 5;
}

static void
connect_device (Fixture *fx)
{
  g_signal_connect (device1 (fx), "updated", G_CALLBACK (on_updated), fx);
  g_signal_connect (device1 (fx), "notify::online", G_CALLBACK (on_online), fx);
}

static gboolean
one_update (Fixture *fx)
{
  return fx->updates >= 1;
}

/* A reply read while the line was opened is the first sample: the device
 * has it at once, without a second read-all first. */
static void
test_first_reply (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  BmsSessionStats before, after;
  BmsSnapshot *first;

  g_assert_true (bms_session_open (fx->session, &error));
  first = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (bms_poller_set_interval (fx->poller, 30, NULL));
  bms_session_get_stats (fx->session, &before);
  bms_poller_set_first_reply (fx->poller, first);
  bms_poller_start (fx->poller);
  connect_device (fx);
  g_assert_true (wait_until (fx, one_update, 5));
  bms_session_get_stats (fx->session, &after);
  g_assert_cmpuint (after.requests, ==, before.requests);
  g_assert_true (online (fx));
  g_assert_cmpuint (bms_device_get_cell_count (device1 (fx)), ==, 16);
  g_assert_cmpuint (fx->cycles_at_update, <=, 1);
}

static void
test_samples_to_device_and_history (Fixture *fx, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("poller-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsHistory) history = bms_history_new (path, &error);
  g_autoptr (GPtrArray) devices = NULL;
  gint64 n;

  g_assert_no_error (error);
  bms_poller_set_history (fx->poller, history);
  bms_poller_start (fx->poller);
  g_assert_nonnull (device1 (fx)); /* there at once, offline until it answers */
  g_assert_false (bms_device_get_online (device1 (fx)));
  connect_device (fx);
  g_assert_true (wait_until (fx, five_updates, 5));
  g_assert_true (online (fx));
  g_assert_true (bms_poller_get_connected (fx->poller));
  g_assert_false (bms_poller_get_lagging (fx->poller));
  g_assert_cmpuint (bms_device_get_cell_count (device1 (fx)), ==, 16);
  g_assert_cmpuint (g_list_model_get_n_items (bms_device_get_cells (device1 (fx))), ==, 16);
  g_assert_true (bms_device_get_password_locked (device1 (fx)));
  g_assert_nonnull (bms_poller_get_alarm_monitor (fx->poller, 1));
  g_test_message ("%s (cycle %.3f s)", bms_poller_get_message (fx->poller),
                  bms_poller_get_cycle_time (fx->poller));
  g_assert_true (g_str_has_prefix (bms_poller_get_message (fx->poller), "Polling 1 board every"));

  bms_poller_stop_sync (fx->poller);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (bms_history_flush (history, &error));
  g_assert_no_error (error);
  devices = bms_history_list_devices (history, &error);
  g_assert_cmpuint (devices->len, ==, 1);
  n = bms_history_count_samples (history, 0, 0, G_MAXINT64, &error);
  g_assert_cmpint (n, ==, fx->updates);

  bms_history_close (history);
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name (d)))
      {
        g_autofree char *p = g_build_filename (dir, name, NULL);
        g_unlink (p);
      }
  }
  g_rmdir (dir);
}

static void
test_offline_after_three_missed (Fixture *fx, gconstpointer data)
{
  BmsSimFaults silent = { .silent = TRUE };
  BmsSimFaults none = { 0 };
  gint64 since;

  bms_poller_start (fx->poller);
  connect_device (fx);
  g_assert_true (wait_until (fx, online, 5));
  set_faults (fx, &silent);
  g_assert_true (wait_until (fx, offline, 10));
  /* Online until the third cycle without a reply, offline on it. */
  g_assert_cmpuint (fx->cycles_at_offline - fx->cycles_at_update, ==, 3);
  g_assert_cmpint (bms_device_get_connected_since (device1 (fx)), ==, 0);
  g_test_message ("%s", bms_poller_get_message (fx->poller));

  /* Recovery: the board answers again and the device comes back. */
  set_faults (fx, &none);
  g_assert_true (wait_until (fx, online, 5));
  since = bms_device_get_connected_since (device1 (fx));
  g_assert_cmpint (since, >, 0);
  g_assert_cmpuint (fx->went_offline, ==, 1);
}

static gboolean
lagging (Fixture *fx)
{
  return bms_poller_get_lagging (fx->poller);
}

static gboolean
not_lagging (Fixture *fx)
{
  return !bms_poller_get_lagging (fx->poller) && bms_poller_get_cycles (fx->poller) > 0;
}

static void
test_backoff_when_cycle_exceeds_interval (Fixture *fx, gconstpointer data)
{
  BmsSimFaults slow = { .delay_reply_ms = 350 };
  BmsSimFaults none = { 0 };
  gint64 start;
  guint64 cycles0, cycles;
  double elapsed;

  BmsSessionTiming patient = fast_timing;

  patient.first_byte_timeout_ms = 1000;
  bms_session_set_timing (fx->session, &patient);
  set_faults (fx, &slow);
  bms_poller_start (fx->poller);
  connect_device (fx);
  g_assert_true (wait_until (fx, lagging, 5));
  g_assert_true (g_str_has_prefix (bms_poller_get_message (fx->poller), "Lagging: a cycle takes"));
  g_assert_true (bms_device_get_lagging (device1 (fx)));
  g_test_message ("%s", bms_poller_get_message (fx->poller));

  /* Back to back, one at a time. Each reply takes at least 0.35 s, so more
   * than elapsed / 0.35 cycles would mean overlapping requests; waiting the
   * 0.2 s interval after each slow cycle would give a period of about
   * 0.57 s, i.e. fewer than elapsed / 0.5 cycles. */
  start = g_get_monotonic_time ();
  cycles0 = bms_poller_get_cycles (fx->poller);
  while (g_get_monotonic_time () - start < 3 * G_USEC_PER_SEC)
    g_main_context_iteration (NULL, TRUE);
  cycles = bms_poller_get_cycles (fx->poller) - cycles0;
  elapsed = (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
  g_test_message ("%" G_GUINT64_FORMAT " cycles in %.2f s, cycle %.3f s (interval 0.2 s)", cycles,
                  elapsed, bms_poller_get_cycle_time (fx->poller));
  g_assert_cmpfloat (bms_poller_get_cycle_time (fx->poller), >, 0.35);
  g_assert_cmpuint (cycles, <=, (guint64)(elapsed / 0.35) + 1);
  g_assert_cmpuint (cycles, >=, (guint64)(elapsed / 0.5));
  g_assert_true (bms_device_get_online (device1 (fx)));

  set_faults (fx, &none);
  g_assert_true (wait_until (fx, not_lagging, 5));
  g_assert_true (g_str_has_prefix (bms_poller_get_message (fx->poller), "Polling"));
}

static gboolean
disconnected (Fixture *fx)
{
  return !bms_poller_get_connected (fx->poller) && bms_poller_get_cycles (fx->poller) > 0;
}

static gboolean
reconnected (Fixture *fx)
{
  return bms_poller_get_connected (fx->poller) && online (fx);
}

static void
test_reconnect (Fixture *fx, gconstpointer data)
{
  BmsSimFaults unplugged = { .disconnected = TRUE };
  BmsSimFaults none = { 0 };

  bms_poller_start (fx->poller);
  connect_device (fx);
  g_assert_true (wait_until (fx, online, 5));
  set_faults (fx, &unplugged);
  g_assert_true (wait_until (fx, disconnected, 5));
  g_test_message ("%s", bms_poller_get_message (fx->poller));
  g_assert_nonnull (strstr (bms_poller_get_message (fx->poller), "unplugged"));
  g_assert_true (wait_until (fx, offline, 10));

  set_faults (fx, &none);
  g_assert_true (wait_until (fx, reconnected, 15));
  g_test_message ("%s", bms_poller_get_message (fx->poller));
}

static void
fixture_set_up_at_3 (Fixture *fx, gconstpointer data)
{
  fixture_set_up_at (fx, 3);
}

static gboolean
found_board (Fixture *fx)
{
  return g_list_model_get_n_items (bms_poller_get_devices (fx->poller)) > 0
         && bms_poller_get_cycles (fx->poller) >= 2;
}

static void
readdress_cb (BmsSim *sim, gpointer data)
{
  g_assert_true (bms_sim_set_parameter (sim, BMS_ID_BOARD_ADDRESS, 5, NULL));
}

static gboolean
found_board_5 (Fixture *fx)
{
  BmsDevice *five = bms_poller_lookup_device (fx->poller, 5);
  return five != NULL && bms_device_get_online (five);
}

static void
test_scan (Fixture *fx, gconstpointer data)
{
  g_autoptr (BmsDevice) only = NULL;

  bms_poller_set_scan_range (fx->poller, 1, 5);
  bms_poller_start (fx->poller);
  g_assert_true (wait_until (fx, found_board, 10));
  g_assert_cmpuint (g_list_model_get_n_items (bms_poller_get_devices (fx->poller)), ==, 1);
  only = g_list_model_get_item (bms_poller_get_devices (fx->poller), 0);
  g_assert_cmpuint (bms_device_get_address (only), ==, 3);
  g_assert_true (bms_device_get_online (only));
  g_assert_null (bms_poller_lookup_device (fx->poller, 1));
  g_test_message ("%s", bms_poller_get_message (fx->poller));

  /* The board is given address 5 (as the vendor tool's "board address"
   * setting would): a rescan finds it there, and 3 goes quiet. */
  bms_loopback_transport_with_sim (BMS_LOOPBACK_TRANSPORT (fx->transport), readdress_cb, NULL);
  bms_poller_rescan (fx->poller);
  g_assert_true (wait_until (fx, found_board_5, 10));
  g_assert_cmpuint (g_list_model_get_n_items (bms_poller_get_devices (fx->poller)), ==, 2);
}

static void
test_interval_limits (void)
{
  BmsSimConfig config;
  g_autoptr (BmsSim) sim = NULL;
  g_autoptr (BmsTransport) transport = NULL;
  g_autoptr (BmsSession) session = NULL;
  g_autoptr (BmsPoller) poller = NULL;
  g_autoptr (GError) error = NULL;

  bms_sim_config_init (&config);
  sim = bms_sim_new (&config, NULL);
  transport = bms_loopback_transport_new (sim, FALSE, 1.0);
  session = bms_session_new (transport, 1);
  poller = bms_poller_new (session);
  g_assert_cmpfloat (bms_poller_get_interval (poller), ==, 1.0);
  g_assert_false (bms_poller_set_interval (poller, 0.1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (bms_poller_set_interval (poller, 61, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_true (bms_poller_set_interval (poller, 60, NULL));
  g_assert_true (bms_poller_set_interval (poller, 0.2, NULL));
  g_assert_cmpfloat (bms_poller_get_interval (poller), ==, 0.2);
}

/* ---- a line whose adapter can be unplugged: open fails while it is ---- */

#define TEST_TYPE_FLAKY (test_flaky_get_type ())
G_DECLARE_FINAL_TYPE (TestFlaky, test_flaky, TEST, FLAKY, GObject)

struct _TestFlaky
{
  GObject parent_instance;
  BmsTransport *inner;
  gint unplugged; /* atomic */
  GMutex lock;
  GArray *open_attempts; /* gint64 monotonic µs, while unplugged */
};

static void test_flaky_iface_init (BmsTransportInterface *iface);
G_DEFINE_TYPE_WITH_CODE (TestFlaky, test_flaky, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (BMS_TYPE_TRANSPORT, test_flaky_iface_init))

static gboolean
flaky_gone (TestFlaky *self, GError **error)
{
  if (!g_atomic_int_get (&self->unplugged))
    return FALSE;
  g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_NOT_FOUND,
               "/dev/ttyUSB9: no such port (adapter unplugged)");
  return TRUE;
}

static gboolean
flaky_open (BmsTransport *t, GError **error)
{
  TestFlaky *self = TEST_FLAKY (t);
  gint64 now = g_get_monotonic_time ();

  if (flaky_gone (self, error))
    {
      g_mutex_lock (&self->lock);
      g_array_append_val (self->open_attempts, now);
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  return bms_transport_open (self->inner, error);
}

static void
flaky_close (BmsTransport *t)
{
  bms_transport_close (TEST_FLAKY (t)->inner);
}

static gboolean
flaky_set_baud (BmsTransport *t, guint baud, GError **error)
{
  return bms_transport_set_baud (TEST_FLAKY (t)->inner, baud, error);
}

static gboolean
flaky_write (BmsTransport *t, const guint8 *data, gsize len, GError **error)
{
  if (flaky_gone (TEST_FLAKY (t), error))
    return FALSE;
  return bms_transport_write (TEST_FLAKY (t)->inner, data, len, error);
}

static gssize
flaky_read (BmsTransport *t, guint8 *buf, gsize len, guint timeout_ms, GError **error)
{
  if (flaky_gone (TEST_FLAKY (t), error))
    return -1;
  return bms_transport_read (TEST_FLAKY (t)->inner, buf, len, timeout_ms, error);
}

static void
flaky_flush_input (BmsTransport *t)
{
  bms_transport_flush_input (TEST_FLAKY (t)->inner);
}

static const char *
flaky_get_name (BmsTransport *t)
{
  return "/dev/ttyUSB9";
}

static void
test_flaky_iface_init (BmsTransportInterface *iface)
{
  iface->open = flaky_open;
  iface->close = flaky_close;
  iface->set_baud = flaky_set_baud;
  iface->write = flaky_write;
  iface->read = flaky_read;
  iface->flush_input = flaky_flush_input;
  iface->get_name = flaky_get_name;
}

static void
test_flaky_finalize (GObject *object)
{
  TestFlaky *self = TEST_FLAKY (object);

  g_clear_object (&self->inner);
  g_array_unref (self->open_attempts);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (test_flaky_parent_class)->finalize (object);
}

static void
test_flaky_class_init (TestFlakyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_flaky_finalize;
}

static void
test_flaky_init (TestFlaky *self)
{
  g_mutex_init (&self->lock);
  self->open_attempts = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static guint
open_attempts (TestFlaky *flaky)
{
  guint n;

  g_mutex_lock (&flaky->lock);
  n = flaky->open_attempts->len;
  g_mutex_unlock (&flaky->lock);
  return n;
}

static TestFlaky *the_flaky;

static gboolean
four_open_attempts (Fixture *fx)
{
  return open_attempts (the_flaky) >= 4;
}

/* The adapter disappears (open fails): the poller retries with a growing
 * delay — the interval, then doubled — and picks up when it is back. */
static void
test_reopen_with_backoff (void)
{
  g_autoptr (GError) error = NULL;
  Fixture fx = { 0 };
  BmsSimConfig config;
  gint64 t[4];

  bms_sim_config_init (&config);
  fx.sim = bms_sim_new (&config, &error);
  g_assert_no_error (error);
  the_flaky = g_object_new (TEST_TYPE_FLAKY, NULL);
  the_flaky->inner = bms_loopback_transport_new (fx.sim, FALSE, 1.0);
  fx.transport = BMS_TRANSPORT (the_flaky);
  fx.session = bms_session_new (fx.transport, 1);
  bms_session_set_timing (fx.session, &fast_timing);
  fx.poller = bms_poller_new (fx.session);
  g_assert_true (bms_poller_set_interval (fx.poller, 0.2, NULL));

  bms_poller_start (fx.poller);
  connect_device (&fx);
  g_assert_true (wait_until (&fx, online, 5));

  g_atomic_int_set (&the_flaky->unplugged, TRUE);
  g_assert_true (wait_until (&fx, four_open_attempts, 10));
  g_assert_true (wait_until (&fx, offline, 2));
  g_assert_false (bms_poller_get_connected (fx.poller));
  g_test_message ("%s", bms_poller_get_message (fx.poller));
  g_assert_nonnull (strstr (bms_poller_get_message (fx.poller), "trying again in"));
  g_mutex_lock (&the_flaky->lock);
  memcpy (t, the_flaky->open_attempts->data, sizeof t);
  g_mutex_unlock (&the_flaky->lock);
  /* Gaps of about 0.2, 0.4, 0.8 s: growing, not hammering the port. */
  for (guint i = 1; i < 3; i++)
    {
      double gap = (t[i] - t[i - 1]) / 1e6, next = (t[i + 1] - t[i]) / 1e6;
      g_test_message ("reopen gap %.2f s, then %.2f s", gap, next);
      g_assert_cmpfloat (next, >, gap * 1.5);
    }

  g_atomic_int_set (&the_flaky->unplugged, FALSE);
  g_assert_true (wait_until (&fx, reconnected, 5));
  g_test_message ("%s", bms_poller_get_message (fx.poller));
  fixture_tear_down (&fx, NULL);
  the_flaky = NULL;
}

typedef struct
{
  BmsChangeSet *set;
  GMainContext *context;
} WriteJob;

static gboolean
write_in_poller (BmsSession *session, guint address, gpointer data, GCancellable *cancellable,
                 GError **error)
{
  WriteJob *job = data;

  g_assert_cmpuint (bms_session_get_address (session), ==, address);
  return bms_change_set_apply_full (job->set, session, "123456", NULL, 0, job->context, cancellable,
                                    error);
}

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
} RunResult;

static void
on_run_done (GObject *source, GAsyncResult *result, gpointer data)
{
  RunResult *r = data;

  r->ok = bms_poller_run_finish (BMS_POLLER (source), result, &r->error);
  r->done = TRUE;
}

static gboolean
change_ok (Fixture *fx)
{
  return fx->updates > 0;
}

static void
test_write_between_cycles (Fixture *fx, gconstpointer data)
{
  g_autoptr (BmsParamSet) current = NULL;
  g_autoptr (BmsChangeSet) set = NULL;
  g_autoptr (BmsChange) change = NULL;
  RunResult r = { 0 };
  WriteJob job;
  guint updates;

  /* Not running: refused without calling the function. */
  bms_poller_run_async (fx->poller, 1, write_in_poller, NULL, NULL, NULL, on_run_done, &r);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (r.ok);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_clear_error (&r.error);
  r.done = FALSE;

  bms_poller_start (fx->poller);
  connect_device (fx);
  g_assert_true (wait_until (fx, online, 5));
  current = bms_param_set_new_from_snapshot (bms_device_get_snapshot (device1 (fx)));
  set = bms_change_set_new (current);
  g_assert_true (bms_change_set_set_text (set, "cell_ovp_delay_s", "9", NULL));
  job.set = set;
  job.context = g_main_context_default ();
  bms_poller_run_async (fx->poller, 1, write_in_poller, &job, NULL, NULL, on_run_done, &r);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (r.error);
  g_assert_true (r.ok);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  change = g_list_model_get_item (G_LIST_MODEL (set), 0);
  g_assert_cmpint (bms_change_get_result (change), ==, BMS_CHANGE_OK);

  /* Polling carries on and sees the new value. */
  updates = fx->updates;
  fx->updates = 0;
  g_assert_true (wait_until (fx, change_ok, 3));
  g_assert_cmpint (bms_snapshot_get_raw (bms_device_get_snapshot (device1 (fx)), 0x92), ==, 9);
  g_assert_cmpuint (updates, >, 0);
}

static gboolean
two_cycles_lagging (Fixture *fx)
{
  return bms_poller_get_cycles (fx->poller) >= 2 && bms_poller_get_lagging (fx->poller);
}

/* The case: 256 cells at 9600 baud take longer than 1 s on the wire.
 * The sim times every byte like a UART (10 bits at 9600 baud). */
static void
test_master_256_at_9600 (void)
{
  g_autoptr (GError) error = NULL;
  BmsSessionTiming timing = { 1500, 100, 0, 100 };
  Fixture fx = { 0 };
  BmsSimConfig config;

  bms_sim_config_init (&config);
  config.modules = 16;
  config.cells_per_module = 16;
  fx.sim = bms_sim_new (&config, &error);
  g_assert_no_error (error);
  fx.transport = bms_loopback_transport_new (fx.sim, TRUE, 1.0);
  fx.session = bms_session_new (fx.transport, 1);
  bms_session_set_timing (fx.session, &timing);
  g_assert_true (bms_session_set_baud (fx.session, 9600, &error));
  fx.poller = bms_poller_new (fx.session);

  bms_poller_start (fx.poller);
  connect_device (&fx);
  g_assert_true (wait_until (&fx, two_cycles_lagging, 8));
  g_test_message ("%s", bms_poller_get_message (fx.poller));
  g_assert_cmpfloat (bms_poller_get_cycle_time (fx.poller), >, 1.0);
  g_assert_cmpfloat (bms_poller_get_cycle_time (fx.poller), <, 1.6);
  g_assert_cmpuint (bms_device_get_cell_count (device1 (&fx)), ==, 256);
  g_assert_cmpuint (g_list_model_get_n_items (bms_device_get_modules (device1 (&fx))), ==, 16);
  g_assert_true (bms_device_get_online (device1 (&fx)));
  /* 256 cells in 0x79 + 0xD0, 16 modules' temperatures: nothing to refuse. */
  g_assert_cmpuint (bms_poller_get_implausible_replies (fx.poller), ==, 0);
  g_assert_null (bms_device_get_implausible_reason (device1 (&fx)));
  fixture_tear_down (&fx, NULL);
}

/* ---- implausible replies ---- */

static char *
make_history_dir (BmsHistory **history_out)
{
  char *dir = g_dir_make_tmp ("poller-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autoptr (GError) error = NULL;

  *history_out = bms_history_new (path, &error);
  g_assert_no_error (error);
  return dir;
}

static void
remove_history_dir (BmsHistory *history, const char *dir)
{
  g_autoptr (GDir) d = NULL;
  const char *name;

  bms_history_close (history);
  d = g_dir_open (dir, 0, NULL);
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

static gboolean
three_implausible (Fixture *fx)
{
  return device1 (fx) != NULL && bms_device_get_implausible_replies (device1 (fx)) >= 3;
}

static gboolean
plausible_again (Fixture *fx)
{
  return fx->updates > 0 && bms_device_get_implausible_reason (device1 (fx)) == NULL;
}

static GPtrArray *
implausible_events (BmsHistory *history)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *events;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)bms_history_alarm_event_free);

  g_assert_true (bms_history_flush (history, &error));
  events = bms_history_query_alarm_events (history, 0, 0, G_MAXINT64, 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < events->len; i++)
    {
      BmsHistoryAlarmEvent *e = g_ptr_array_index (events, i);
      if (g_str_equal (e->code, "implausible_reply"))
        g_ptr_array_add (out, g_ptr_array_steal_index (events, i--));
    }
  g_ptr_array_unref (events);
  return out;
}

/* A board that lies from the first reply: no sample, counted, an event per
 * reply with the reason, and the device says why. Then it tells the truth
 * and its samples flow again. */
static void
test_lying_board (Fixture *fx, gconstpointer data)
{
  BmsSimLie lie = GPOINTER_TO_UINT (data);
  BmsSimFaults lying = { .lie = lie };
  BmsSimFaults truthful = { 0 };
  g_autoptr (BmsHistory) history = NULL;
  g_autofree char *dir = make_history_dir (&history);
  g_autoptr (GPtrArray) events = NULL;
  g_autoptr (GError) error = NULL;
  guint64 refused;
  const char *reason;

  set_faults (fx, &lying);
  bms_poller_set_history (fx->poller, history);
  bms_poller_start (fx->poller);
  g_assert_true (wait_until (fx, three_implausible, 5));
  reason = bms_device_get_implausible_reason (device1 (fx));
  g_test_message ("%s: %s | %s", bms_sim_lie_to_string (lie), reason,
                  bms_poller_get_message (fx->poller));
  g_assert_nonnull (reason);
  g_assert_true (
      g_str_has_prefix (bms_poller_get_message (fx->poller), "Implausible reply from board 1: "));
  g_assert_false (bms_device_get_online (device1 (fx)));
  g_assert_cmpuint (bms_device_get_cell_count (device1 (fx)), ==, 0);
  g_assert_null (bms_device_get_snapshot (device1 (fx)));

  bms_poller_stop_sync (fx->poller);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  refused = bms_poller_get_implausible_replies (fx->poller);
  g_assert_cmpuint (refused, ==, bms_device_get_implausible_replies (device1 (fx)));
  g_assert_cmpint (bms_history_count_samples (history, 0, 0, G_MAXINT64, &error), ==, 0);
  events = implausible_events (history);
  g_assert_cmpuint (events->len, ==, refused);
  g_assert_cmpstr (((BmsHistoryAlarmEvent *)events->pdata[0])->text, ==, reason);

  /* The truth again: stored, shown, the reason gone, the count kept. */
  set_faults (fx, &truthful);
  connect_device (fx);
  bms_poller_start (fx->poller);
  g_assert_true (wait_until (fx, plausible_again, 5));
  g_assert_true (bms_device_get_online (device1 (fx)));
  g_assert_cmpuint (bms_device_get_cell_count (device1 (fx)), ==, 16);
  g_assert_cmpuint (bms_device_get_implausible_replies (device1 (fx)), ==, refused);
  bms_poller_stop_sync (fx->poller);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (bms_history_flush (history, &error));
  g_assert_cmpint (bms_history_count_samples (history, 0, 0, G_MAXINT64, &error), ==, fx->updates);
  remove_history_dir (history, dir);
}

typedef struct
{
  gboolean done;
  guint64 requests;
} Stopped;

static void
on_stopped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Stopped *st = user_data;
  BmsSessionStats stats;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  g_assert_true (bms_poller_stop_finish (BMS_POLLER (source), result, NULL));
  bms_session_get_stats (bms_poller_get_session (BMS_POLLER (source)), &stats);
  st->requests = stats.requests;
  st->done = TRUE;
}

static gboolean
stopped (Fixture *fx)
{
  return ((Stopped *)g_object_get_data (G_OBJECT (fx->poller), "stopped"))->done;
}

static gboolean
updated (Fixture *fx)
{
  return fx->updates > 0;
}

/* stop_async answers once the worker made its last request, so the line
 * can be closed after it without a thread joining the worker. */
static void
test_stop_async (Fixture *fx, gconstpointer data)
{
  Stopped first = { 0 }, again = { 0 };
  BmsSessionStats stats;

  bms_poller_start (fx->poller);
  connect_device (fx);
  g_assert_true (wait_until (fx, updated, 5));
  g_object_set_data (G_OBJECT (fx->poller), "stopped", &first);
  bms_poller_stop_async (fx->poller, on_stopped, &first);
  g_assert_false (first.done);
  g_assert_true (wait_until (fx, stopped, 5));
  /* Two intervals later nothing more went on the line. */
  g_usleep (400 * 1000);
  bms_session_get_stats (fx->session, &stats);
  g_assert_cmpuint (stats.requests, ==, first.requests);

  /* Nothing running: answered at once, still in this main context. */
  g_object_set_data (G_OBJECT (fx->poller), "stopped", &again);
  bms_poller_stop_async (fx->poller, on_stopped, &again);
  g_assert_false (again.done);
  g_assert_true (wait_until (fx, stopped, 1));
}

/* An id given twice is refused at decode: a bad frame, never a sample. */
static void
test_duplicate_id_board (Fixture *fx, gconstpointer data)
{
  BmsSimFaults lying = { .lie = BMS_SIM_LIE_DUPLICATE_ID };
  g_autoptr (BmsHistory) history = NULL;
  g_autofree char *dir = make_history_dir (&history);
  g_autoptr (GError) error = NULL;
  BmsSessionStats stats;

  set_faults (fx, &lying);
  bms_poller_set_history (fx->poller, history);
  bms_poller_start (fx->poller);
  connect_device (fx);
  g_assert_true (wait_until (fx, offline, 5) || !online (fx));
  bms_poller_stop_sync (fx->poller);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  bms_session_get_stats (fx->session, &stats);
  g_test_message ("%s; %" G_GUINT64_FORMAT " bad frames", bms_poller_get_message (fx->poller),
                  stats.bad_frames);
  g_assert_cmpuint (stats.bad_frames, >=, 3);
  g_assert_cmpuint (fx->updates, ==, 0);
  g_assert_true (bms_history_flush (history, &error));
  g_assert_cmpint (bms_history_count_samples (history, 0, 0, G_MAXINT64, &error), ==, 0);
  remove_history_dir (history, dir);
}

static gboolean
cell_alarm_raised (Fixture *fx)
{
  BmsAlarmMonitor *monitor = bms_poller_get_alarm_monitor (fx->poller, 1);
  guint n = monitor ? g_list_model_get_n_items (G_LIST_MODEL (monitor)) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (BmsAlarm) alarm = g_list_model_get_item (G_LIST_MODEL (monitor), i);
      if (g_str_equal (bms_alarm_get_code (alarm), "cell_under_voltage"))
        return TRUE;
    }
  return FALSE;
}

typedef struct
{
  guint n;
  guint zero_cell;
} ZeroCells;

static gboolean
count_zero_cell (const BmsHistorySample *sample, gpointer data)
{
  ZeroCells *z = data;

  z->n++;
  if (sample->n_cells >= 3 && sample->cells_mv[2] == 0)
    z->zero_cell++;
  return TRUE;
}

/* A broken sense wire (0 mV) is a fault: stored, shown and alarmed. */
static void
test_dead_cell_stored_and_alarmed (Fixture *fx, gconstpointer data)
{
  BmsSimFaults dead = { .dead_cell = 3 };
  g_autoptr (BmsHistory) history = NULL;
  g_autofree char *dir = make_history_dir (&history);
  g_autoptr (GError) error = NULL;
  BmsAlarmMonitor *monitor;
  ZeroCells z = { 0 };

  set_faults (fx, &dead);
  bms_poller_set_history (fx->poller, history);
  bms_poller_start (fx->poller);
  connect_device (fx);
  g_assert_true (wait_until (fx, cell_alarm_raised, 5));
  g_assert_true (online (fx));
  g_assert_cmpfloat (bms_device_get_min_cell_voltage (device1 (fx)), ==, 0);
  g_assert_cmpuint (bms_device_get_min_cell_index (device1 (fx)), ==, 3);
  g_assert_null (bms_device_get_implausible_reason (device1 (fx)));
  monitor = bms_poller_get_alarm_monitor (fx->poller, 1);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (monitor)); i++)
    {
      g_autoptr (BmsAlarm) alarm = g_list_model_get_item (G_LIST_MODEL (monitor), i);
      if (g_str_equal (bms_alarm_get_code (alarm), "cell_under_voltage"))
        {
          g_assert_cmpuint (bms_alarm_get_cell (alarm), ==, 3);
          g_assert_cmpfloat (bms_alarm_get_value (alarm), ==, 0);
        }
    }
  bms_poller_stop_sync (fx->poller);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (bms_poller_get_implausible_replies (fx->poller), ==, 0);
  g_assert_true (bms_history_flush (history, &error));
  g_assert_true (
      bms_history_foreach_sample (history, 0, 0, G_MAXINT64, count_zero_cell, &z, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (z.n, >, 0);
  g_assert_cmpuint (z.zero_cell, ==, z.n);
  remove_history_dir (history, dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/poller/interval-limits", test_interval_limits);
  g_test_add ("/poller/first-reply", Fixture, NULL, fixture_set_up, test_first_reply,
              fixture_tear_down);
  g_test_add ("/poller/samples-to-device-and-history", Fixture, NULL, fixture_set_up,
              test_samples_to_device_and_history, fixture_tear_down);
  g_test_add ("/poller/offline-after-three-missed", Fixture, NULL, fixture_set_up,
              test_offline_after_three_missed, fixture_tear_down);
  g_test_add ("/poller/backoff-when-cycle-exceeds-interval", Fixture, NULL, fixture_set_up,
              test_backoff_when_cycle_exceeds_interval, fixture_tear_down);
  g_test_add ("/poller/reconnect", Fixture, NULL, fixture_set_up, test_reconnect,
              fixture_tear_down);
  g_test_add_func ("/poller/reopen-with-backoff", test_reopen_with_backoff);
  g_test_add_func ("/poller/master-256-at-9600", test_master_256_at_9600);
  g_test_add ("/poller/write-between-cycles", Fixture, NULL, fixture_set_up,
              test_write_between_cycles, fixture_tear_down);
  g_test_add ("/poller/scan", Fixture, NULL, fixture_set_up_at_3, test_scan, fixture_tear_down);
  g_test_add ("/poller/stop-async", Fixture, NULL, fixture_set_up, test_stop_async,
              fixture_tear_down);
  for (BmsSimLie lie = BMS_SIM_LIE_SOC; lie < BMS_SIM_N_LIES; lie++)
    if (lie != BMS_SIM_LIE_DUPLICATE_ID)
      {
        g_autofree char *path
            = g_strdup_printf ("/poller/implausible/%s", bms_sim_lie_to_string (lie));
        g_test_add (path, Fixture, GUINT_TO_POINTER (lie), fixture_set_up, test_lying_board,
                    fixture_tear_down);
      }
  g_test_add ("/poller/implausible/duplicate-id", Fixture, NULL, fixture_set_up,
              test_duplicate_id_board, fixture_tear_down);
  g_test_add ("/poller/dead-cell-stored-and-alarmed", Fixture, NULL, fixture_set_up,
              test_dead_cell_stored_and_alarmed, fixture_tear_down);
  return g_test_run ();
}
