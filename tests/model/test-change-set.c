/* BmsChangeSet: preset change sets per chemistry, validation before anything
 * is sent, write order, and writing to the simulator with read-back and
 * audit rows. */
#include <string.h>
#include <glib/gstdio.h>
#include "bms-change-set.h"
#include "bms-session.h"
#include "bms-sim.h"
#include "device-test-util.h"
#include "../link/test-util.h"

static const BmsSessionTiming fast_timing = {
  .first_byte_timeout_ms = 300,
  .inter_byte_timeout_ms = 50,
  .retries = 1,
  .min_gap_ms = 100,
};

typedef struct
{
  BmsSim *sim;
  BmsTransport *transport;
  BmsSession *session;
  char *dir;
  BmsHistory *history;
  gint64 device_id;
} Fixture;

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  BmsSimConfig config;

  bms_sim_config_init (&config);
  fx->sim = bms_sim_new (&config, &error);
  g_assert_no_error (error);
  fx->transport = bms_loopback_transport_new (fx->sim, FALSE, 1.0);
  fx->session = bms_session_new (fx->transport, 1);
  bms_session_set_timing (fx->session, &fast_timing);
  g_assert_true (bms_session_open (fx->session, &error));
  g_assert_no_error (error);

  fx->dir = g_dir_make_tmp ("change-set-XXXXXX", NULL);
  path = g_build_filename (fx->dir, "history.db", NULL);
  fx->history = bms_history_new (path, &error);
  g_assert_no_error (error);
  fx->device_id = bms_history_ensure_device (fx->history, "addr:1", "sim", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  bms_session_close (fx->session);
  g_clear_object (&fx->session);
  g_clear_object (&fx->transport);
  bms_sim_free (fx->sim);
  bms_history_close (fx->history);
  g_clear_object (&fx->history);
  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *p = g_build_filename (fx->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
}

static BmsParamSet *
read_params (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsSnapshot) snap = bms_session_read_all (fx->session, NULL, &error);

  g_assert_no_error (error);
  return bms_param_set_new_from_snapshot (snap);
}

static GPtrArray *
audit_rows (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *rows;

  g_assert_true (bms_history_flush (fx->history, &error));
  rows = bms_history_query_audit (fx->history, fx->device_id, 0, G_MAXINT64, 0, &error);
  g_assert_no_error (error);
  return rows;
}

/* ---- without a board ---- */

static void
test_presets_per_chemistry (void)
{
  static const struct
  {
    guint type;
    gint64 ovp, ovp2, ovp_rec, uvp, uvp2, uvp_rec, bal;
  } columns[] = {
    { BMS_BATTERY_TYPE_LFP, 3650, 3750, 3550, 2500, 2250, 2900, 3400 },
    { BMS_BATTERY_TYPE_NMC, 4200, 4300, 4100, 2750, 2500, 3100, 4100 },
    { BMS_BATTERY_TYPE_LTO, 2800, 2950, 2700, 1800, 1600, 2200, 2600 },
  };
  g_autoptr (BmsSnapshot) snap = device_test_load_14s ();
  g_autoptr (BmsParamSet) current = bms_param_set_new_from_snapshot (snap);

  for (guint i = 0; i < G_N_ELEMENTS (columns); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (BmsChangeSet) set = bms_change_set_new_preset (current, columns[i].type, &error);
      g_autoptr (BmsParamSet) result = NULL;
      g_autofree char *text = NULL;
      BmsChange *ovp;

      g_assert_no_error (error);
      g_assert_true (bms_change_set_validate (set, &error));
      g_assert_no_error (error);
      result = bms_change_set_dup_result (set);
      g_assert_cmpint (bms_param_set_get_raw (result, 0x90), ==, columns[i].ovp);
      g_assert_cmpint (bms_param_set_get_raw (result, 0xD5), ==, columns[i].ovp2);
      g_assert_cmpint (bms_param_set_get_raw (result, 0x91), ==, columns[i].ovp_rec);
      g_assert_cmpint (bms_param_set_get_raw (result, 0x93), ==, columns[i].uvp);
      g_assert_cmpint (bms_param_set_get_raw (result, 0xD6), ==, columns[i].uvp2);
      g_assert_cmpint (bms_param_set_get_raw (result, 0x94), ==, columns[i].uvp_rec);
      g_assert_cmpint (bms_param_set_get_raw (result, 0x9B), ==, columns[i].bal);
      g_assert_cmpint (bms_param_set_get_raw (result, 0xAF), ==, columns[i].type);
      /* Nothing else of the board is touched. */
      g_assert_cmpint (bms_param_set_get_raw (result, 0xAA), ==, 14);
      g_assert_null (bms_change_set_lookup (set, 0xAA));

      ovp = bms_change_set_lookup (set, 0x90);
      g_assert_nonnull (ovp);
      g_assert_cmpstr (bms_change_get_old_text (ovp), ==, "4050 mV");
      g_assert_cmpint (bms_change_get_result (ovp), ==, BMS_CHANGE_PENDING);
      /* A field the board did not report shows "?" as the old value. */
      g_assert_cmpstr (bms_change_get_old_text (bms_change_set_lookup (set, 0xD5)), ==, "?");
      /* The vector is NMC already: no battery type change for NMC. */
      g_assert_cmpint (bms_change_set_lookup (set, 0xAF) == NULL, ==,
                       columns[i].type == BMS_BATTERY_TYPE_NMC);
      text = bms_change_set_to_text (set);
      g_test_message ("%s", text);
      g_assert_nonnull (strstr (text, "cell_ovp_mv (Charge protection (level 1)): 4050 mV → "));
    }
}

static void
test_write_order_keeps_rules (void)
{
  g_autoptr (BmsParamSet) lfp = bms_param_set_new_preset (BMS_BATTERY_TYPE_LFP, NULL);
  g_autoptr (BmsChangeSet) set = bms_change_set_new_preset (lfp, BMS_BATTERY_TYPE_NMC, NULL);
  g_autoptr (GPtrArray) order = bms_change_set_get_write_order (set);
  g_autoptr (BmsParamSet) state = bms_param_set_copy (lfp);
  g_autoptr (GPtrArray) naive = NULL;
  gboolean naive_ok = TRUE;

  g_assert_cmpuint (order->len, ==, bms_change_set_get_size (set));
  for (guint i = 0; i < order->len; i++)
    {
      BmsChange *change = g_ptr_array_index (order, i);
      bms_param_set_set_raw (state, bms_change_get_id (change), bms_change_get_new_raw (change));
      g_assert_true (bms_param_set_validate (state, NULL));
    }
  /* Id order would break a rule on the way (charge protection 4200 before
   * its level 2 is raised), which is why the order matters. */
  g_clear_object (&state);
  state = bms_param_set_copy (lfp);
  for (guint i = 0; i < bms_change_set_get_size (set); i++)
    {
      g_autoptr (BmsChange) change = g_list_model_get_item (G_LIST_MODEL (set), i);
      bms_param_set_set_raw (state, bms_change_get_id (change), bms_change_get_new_raw (change));
      naive_ok = naive_ok && bms_param_set_validate (state, NULL);
    }
  g_assert_false (naive_ok);
}

static void
test_set_value_checks (void)
{
  g_autoptr (BmsParamSet) lfp = bms_param_set_new_preset (BMS_BATTERY_TYPE_LFP, NULL);
  g_autoptr (BmsChangeSet) set = bms_change_set_new (lfp);
  g_autoptr (GError) error = NULL;

  g_assert_false (bms_change_set_set_text (set, "cell_ovp_delay_s", "2", &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RULE);
  g_clear_error (&error);
  g_assert_false (bms_change_set_set_text (set, "pack_voltage_16bit_v", "50", &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_ACCESS);
  g_clear_error (&error);
  g_assert_false (bms_change_set_set_text (set, "no_such_field", "1", &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_UNKNOWN);
  g_clear_error (&error);

  g_assert_true (bms_change_set_set_text (set, "cell_ovp_mv", "3600", &error));
  g_assert_cmpuint (bms_change_set_get_size (set), ==, 1);
  g_assert_true (bms_change_set_set_text (set, "cell_ovp_mv", "3620", &error));
  g_assert_cmpuint (bms_change_set_get_size (set), ==, 1);
  g_assert_cmpstr (bms_change_get_new_text (bms_change_set_lookup (set, 0x90)), ==, "3620 mV");
  /* Back to the current value: no change left. */
  g_assert_true (bms_change_set_set_text (set, "cell_ovp_mv", "3650", &error));
  g_assert_cmpuint (bms_change_set_get_size (set), ==, 0);

  /* The combination is judged: the unchanged recovery is now above the
   * new protection. */
  g_assert_true (bms_change_set_set_text (set, "cell_ovp_mv", "3500", &error));
  g_assert_false (bms_change_set_validate (set, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RULE);
  g_assert_cmpstr (error->message, ==,
                   "Charge recovery 3550 mV must be below charge protection (level 1) 3500 mV");
  g_clear_error (&error);
  g_assert_true (bms_change_set_set_text (set, "cell_ovp_recovery_mv", "3450", &error));
  g_assert_true (bms_change_set_validate (set, &error));
}

/* ---- against the simulator ---- */

static void
test_apply_preset (Fixture *fx, gconstpointer data)
{
  g_autoptr (BmsParamSet) current = read_params (fx);
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsChangeSet) set = NULL;
  g_autoptr (BmsParamSet) after = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  guint n;

  g_assert_cmpint (bms_param_set_get_raw (current, 0xAF), ==, BMS_BATTERY_TYPE_LFP);
  set = bms_change_set_new_preset (current, BMS_BATTERY_TYPE_NMC, &error);
  g_assert_no_error (error);
  n = bms_change_set_get_size (set);
  g_assert_cmpuint (n, >=, 8);

  g_assert_true (
      bms_change_set_apply (set, fx->session, "123456", fx->history, fx->device_id, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (BmsChange) change = g_list_model_get_item (G_LIST_MODEL (set), i);
      g_assert_cmpint (bms_change_get_result (change), ==, BMS_CHANGE_OK);
      g_assert_cmpint (bms_sim_get_parameter (fx->sim, bms_change_get_id (change)), ==,
                       bms_change_get_new_raw (change));
    }
  after = read_params (fx);
  g_assert_cmpint (bms_param_set_get_raw (after, 0x90), ==, 4200);

  rows = audit_rows (fx);
  g_assert_cmpuint (rows->len, ==, n + 1);
  g_assert_cmpstr (((BmsHistoryAudit *)g_ptr_array_index (rows, 0))->field, ==, "unlock");
  for (guint i = 1; i < rows->len; i++)
    g_assert_cmpstr (((BmsHistoryAudit *)g_ptr_array_index (rows, i))->result, ==, "ok");
}

static void
test_invalid_sends_nothing (Fixture *fx, gconstpointer data)
{
  g_autoptr (BmsParamSet) current = read_params (fx);
  g_autoptr (BmsChangeSet) set = bms_change_set_new (current);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  BmsSessionStats before, after;
  gint64 ovp = bms_param_set_get_raw (current, 0x90);

  g_assert_true (bms_change_set_set_value (set, 0x92, 5, NULL, &error));        /* fine alone */
  g_assert_true (bms_change_set_set_value (set, 0x91, ovp + 50, NULL, &error)); /* breaks */
  bms_session_get_stats (fx->session, &before);
  g_assert_false (
      bms_change_set_apply (set, fx->session, "123456", fx->history, fx->device_id, NULL, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RULE);
  bms_session_get_stats (fx->session, &after);
  g_assert_cmpuint (after.requests, ==, before.requests);
  g_assert_cmpint (bms_sim_get_parameter (fx->sim, 0x92), ==,
                   bms_param_set_get_raw (current, 0x92));
  rows = audit_rows (fx);
  g_assert_cmpuint (rows->len, ==, 0);
}

static void
test_wrong_password (Fixture *fx, gconstpointer data)
{
  g_autoptr (BmsParamSet) current = read_params (fx);
  g_autoptr (BmsChangeSet) set = bms_change_set_new (current);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (BmsChange) change = NULL;
  gint64 delay = bms_param_set_get_raw (current, 0x92);

  g_assert_true (bms_change_set_set_value (set, 0x92, delay == 5 ? 6 : 5, NULL, &error));
  g_assert_false (
      bms_change_set_apply (set, fx->session, "654321", fx->history, fx->device_id, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  change = g_list_model_get_item (G_LIST_MODEL (set), 0);
  g_assert_cmpint (bms_change_get_result (change), ==, BMS_CHANGE_NOT_SENT);
  g_assert_cmpint (bms_sim_get_parameter (fx->sim, 0x92), ==, delay);
  rows = audit_rows (fx);
  g_assert_cmpuint (rows->len, ==, 1);
  g_assert_cmpstr (((BmsHistoryAudit *)g_ptr_array_index (rows, 0))->field, ==, "unlock");
  g_assert_true (
      g_str_has_prefix (((BmsHistoryAudit *)g_ptr_array_index (rows, 0))->result, "failed: "));
}

static void
test_password_rules (void)
{
  g_autoptr (BmsParamSet) current = bms_param_set_new ();
  g_autoptr (BmsChangeSet) set = NULL;
  g_autoptr (GError) error = NULL;

  bms_param_set_set_string (current, BMS_ID_PASSWORD, "123456");
  set = bms_change_set_new (current);
  /* Empty (or blank) would lock the board for good; longer than 10 bytes
   * does not fit the field. Refused before any board is involved. */
  g_assert_false (bms_change_set_set_value (set, BMS_ID_PASSWORD, 0, "", &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE);
  g_assert_nonnull (strstr (error->message, "must not be empty"));
  g_clear_error (&error);
  g_assert_false (bms_change_set_set_text (set, "parameter_password", "   ", &error));
  g_assert_nonnull (strstr (error->message, "must not be empty"));
  g_clear_error (&error);
  g_assert_false (bms_change_set_set_value (set, BMS_ID_PASSWORD, 0, "12345678901", &error));
  g_assert_nonnull (strstr (error->message, "too long"));
  g_clear_error (&error);
  g_assert_cmpuint (bms_change_set_get_size (set), ==, 0);
  g_assert_true (bms_change_set_set_value (set, BMS_ID_PASSWORD, 0, "1234567890", &error));
  g_assert_no_error (error);
  /* Never shown in clear (confirmation, audit trail). */
  g_assert_cmpstr (bms_change_get_new_text (bms_change_set_lookup (set, BMS_ID_PASSWORD)), ==,
                   "(hidden)");
}

static void
test_password_last_then_commands (void)
{
  g_autoptr (BmsParamSet) current = bms_param_set_new ();
  g_autoptr (BmsChangeSet) set = NULL;
  g_autoptr (GPtrArray) order = NULL;
  g_autoptr (GError) error = NULL;

  bms_param_set_set_raw (current, 0xAF, 0);
  set = bms_change_set_new (current);
  g_assert_true (bms_change_set_add_command (set, BMS_ID_RESTART, 1, &error));
  g_assert_true (bms_change_set_set_value (set, BMS_ID_PASSWORD, 0, "pw-2", &error));
  g_assert_true (bms_change_set_set_text (set, "device_id", "Pack-9", &error));
  g_assert_true (bms_change_set_set_text (set, "battery_type", "nmc", &error));
  g_assert_no_error (error);
  g_assert_false (bms_change_set_add_command (set, 0x90, 3600, &error)); /* not a command */
  g_clear_error (&error);
  order = bms_change_set_get_write_order (set);
  g_assert_cmpuint (order->len, ==, 4);
  g_assert_cmpuint (bms_change_get_id (g_ptr_array_index (order, 2)), ==, BMS_ID_PASSWORD);
  g_assert_cmpuint (bms_change_get_id (g_ptr_array_index (order, 3)), ==, BMS_ID_RESTART);
}

static void
refuse_writes_of (Fixture *fx, guint8 id)
{
  BmsSimFaults faults = { 0 };

  faults.refuse_write_id = id;
  bms_sim_set_faults (fx->sim, &faults);
}

static void
test_stop_at_refusal (Fixture *fx, gconstpointer data)
{
  g_autoptr (BmsParamSet) current = read_params (fx);
  g_autoptr (BmsChangeSet) set = bms_change_set_new (current);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;

  g_assert_cmpint (bms_param_set_get_raw (current, 0x90), ==, 3650);
  g_assert_cmpint (bms_param_set_get_raw (current, 0x91), ==, 3550);
  /* Recovery must go first; the board refuses it: protection must not follow
   * (3400 mV below the recovery of 3550 mV). */
  refuse_writes_of (fx, 0x91);
  g_assert_true (bms_change_set_set_value (set, 0x91, 3300, NULL, &error));
  g_assert_true (bms_change_set_set_value (set, 0x90, 3400, NULL, &error));
  g_assert_false (
      bms_change_set_apply (set, fx->session, "123456", fx->history, fx->device_id, NULL, &error));
  g_assert_nonnull (error);
  g_assert_cmpint (bms_change_get_result (bms_change_set_lookup (set, 0x91)), ==,
                   BMS_CHANGE_FAILED);
  g_assert_cmpint (bms_change_get_result (bms_change_set_lookup (set, 0x90)), ==,
                   BMS_CHANGE_NOT_SENT);
  g_assert_cmpint (bms_sim_get_parameter (fx->sim, 0x90), ==, 3650);
  g_assert_cmpint (bms_sim_get_parameter (fx->sim, 0x91), ==, 3550);
  rows = audit_rows (fx);
  g_assert_cmpuint (rows->len, ==, 2); /* unlock, the refused write; nothing after */
}

static void
test_restore_when_stopping_breaks_a_rule (Fixture *fx, gconstpointer data)
{
  g_autoptr (BmsParamSet) current = NULL;
  g_autoptr (BmsChangeSet) set = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  BmsHistoryAudit *last;

  /* A board left breaking a rule (recovery 3600 above protection 3500, as
   * the old CLI could leave it): to 3520/3580 no single step keeps the
   * rule, so protection goes first. When the board then refuses recovery,
   * stopping would leave 3600 above 3580: protection is put back. */
  g_assert_true (bms_sim_set_parameter (fx->sim, 0x90, 3500, NULL));
  g_assert_true (bms_sim_set_parameter (fx->sim, 0x91, 3600, NULL));
  current = read_params (fx);
  set = bms_change_set_new (current);
  g_assert_true (bms_change_set_set_value (set, 0x91, 3520, NULL, &error));
  g_assert_true (bms_change_set_set_value (set, 0x90, 3580, NULL, &error));
  g_assert_true (bms_change_set_validate (set, &error));
  refuse_writes_of (fx, 0x91);
  g_assert_false (
      bms_change_set_apply (set, fx->session, "123456", fx->history, fx->device_id, NULL, &error));
  g_assert_cmpint (bms_change_get_result (bms_change_set_lookup (set, 0x90)), ==,
                   BMS_CHANGE_RESTORED);
  g_assert_nonnull (strstr (bms_change_get_message (bms_change_set_lookup (set, 0x90)),
                            "put back to 3500 mV"));
  g_assert_cmpint (bms_change_get_result (bms_change_set_lookup (set, 0x91)), ==,
                   BMS_CHANGE_FAILED);
  g_assert_cmpint (bms_sim_get_parameter (fx->sim, 0x90), ==, 3500);
  rows = audit_rows (fx);
  last = g_ptr_array_index (rows, rows->len - 1);
  g_assert_cmpstr (last->field, ==, "cell_ovp_mv");
  g_assert_cmpstr (last->result, ==, "restored");
}

static void
test_new_password_verified (Fixture *fx, gconstpointer data)
{
  g_autoptr (BmsParamSet) current = read_params (fx);
  g_autoptr (BmsChangeSet) set = bms_change_set_new (current);
  g_autoptr (BmsChangeSet) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  gboolean found = FALSE;

  g_assert_true (bms_change_set_set_value (set, BMS_ID_PASSWORD, 0, "pw-2", &error));
  g_assert_true (
      bms_change_set_apply (set, fx->session, "123456", fx->history, fx->device_id, NULL, &error));
  g_assert_no_error (error);
  rows = audit_rows (fx);
  for (guint i = 0; i < rows->len; i++)
    {
      BmsHistoryAudit *row = g_ptr_array_index (rows, i);
      found |= g_str_equal (row->field, "unlock")
               && g_str_equal (row->result, "ok: with the new password");
      g_assert_null (strstr (row->new_value ? row->new_value : "", "pw-2"));
    }
  g_assert_true (found);
  /* The old one is gone on the board, the new one works. */
  bms_session_lock (fx->session);
  g_assert_false (bms_session_unlock (fx->session, "123456", NULL, NULL));
  g_assert_true (bms_session_unlock (fx->session, "pw-2", NULL, &error));
  g_assert_no_error (error);
}

static void
on_applied (GObject *source, GAsyncResult *result, gpointer data)
{
  gboolean *done = data;
  g_autoptr (GError) error = NULL;

  g_assert_true (bms_change_set_apply_finish (BMS_CHANGE_SET (source), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static void
test_apply_async (Fixture *fx, gconstpointer data)
{
  g_autoptr (BmsParamSet) current = read_params (fx);
  g_autoptr (BmsChangeSet) set = bms_change_set_new (current);
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsChange) change = NULL;
  gboolean done = FALSE;

  g_assert_true (bms_change_set_set_text (set, "balance_start_mv", "3450", &error));
  g_assert_true (bms_change_set_set_text (set, "cell_uvp_delay_s", "7", &error));
  bms_change_set_apply_async (set, fx->session, "123456", NULL, 0, NULL, on_applied, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  /* Results arrive on this thread before the completion. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  change = g_list_model_get_item (G_LIST_MODEL (set), 1);
  g_assert_cmpint (bms_change_get_result (change), ==, BMS_CHANGE_OK);
  g_assert_cmpint (bms_sim_get_parameter (fx->sim, 0x9B), ==, 3450);
  g_assert_cmpint (bms_sim_get_parameter (fx->sim, 0x95), ==, 7);
}

static void
on_read_between (GObject *source, GAsyncResult *result, gpointer data)
{
  gboolean *applied = ((gboolean **)data)[0];
  gboolean *read = ((gboolean **)data)[1];
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsSnapshot) snap = bms_session_read_all_finish (BMS_SESSION (source), result, &error);

  g_assert_no_error (error);
  /* Polls still go between the writes: the set does not hold the line. */
  g_assert_false (*applied);
  *read = TRUE;
}

/* The apply is a job of the session's own queue: while it runs, no thread
 * of its own waits for the session's worker (a fresh process, so that no
 * thread pool is left over from an earlier test). */
static void
test_apply_async_on_session_queue (void)
{
  Fixture fx = { 0 };
  g_autoptr (BmsParamSet) current = NULL;
  g_autoptr (BmsChangeSet) set = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  gboolean applied = FALSE, read = FALSE;
  gboolean *flags[] = { &applied, &read };
  guint threads, most;

  if (!test_in_fresh_process ())
    return;
  fixture_set_up (&fx, NULL);
  current = read_params (&fx);
  set = bms_change_set_new_preset (current, BMS_BATTERY_TYPE_NMC, &error);
  g_assert_no_error (error);

  threads = test_count_threads ();
  bms_change_set_apply_async (set, fx.session, "123456", fx.history, fx.device_id, NULL,
                              on_applied, &applied);
  bms_session_read_all_async (fx.session, NULL, on_read_between, flags);
  most = test_run_counting_threads (&applied);
  g_test_message ("threads: %u before, at most %u during the apply", threads, most);
  g_assert_cmpuint (most, ==, threads);
  g_assert_true (read);

  while (g_main_context_iteration (NULL, FALSE))
    ;
  for (guint i = 0; i < bms_change_set_get_size (set); i++)
    {
      g_autoptr (BmsChange) change = g_list_model_get_item (G_LIST_MODEL (set), i);
      g_assert_cmpint (bms_change_get_result (change), ==, BMS_CHANGE_OK);
    }
  rows = audit_rows (&fx);
  g_assert_cmpuint (rows->len, ==, bms_change_set_get_size (set) + 1);
  fixture_tear_down (&fx, NULL);
}

typedef struct
{
  GCancellable *cancellable;
  gint64 cancelled_us;
  gint64 done_us;
  gboolean done;
  GError *error;
} CancelRun;

/* Cancel as the first result arrives, as a user pressing Cancel. */
static void
on_first_result (BmsChange *change, GParamSpec *pspec, CancelRun *run)
{
  if (run->cancelled_us == 0 && bms_change_get_result (change) == BMS_CHANGE_OK)
    {
      run->cancelled_us = g_get_monotonic_time ();
      g_cancellable_cancel (run->cancellable);
    }
}

static void
on_cancelled_apply (GObject *source, GAsyncResult *result, gpointer data)
{
  CancelRun *run = data;

  g_assert_false (bms_change_set_apply_finish (BMS_CHANGE_SET (source), result, &run->error));
  run->done_us = g_get_monotonic_time ();
  run->done = TRUE;
}

/* Cancel during an apply on the session's queue: the answer comes within a
 * second, the fields already written stay written (each in the audit), the
 * rest are marked as not sent. */
static void
test_apply_async_cancel (Fixture *fx, gconstpointer data)
{
  g_autoptr (BmsParamSet) current = read_params (fx);
  g_autoptr (BmsChangeSet) set = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GPtrArray) order = NULL;
  CancelRun run = { cancellable };
  guint ok = 0, not_sent = 0;

  set = bms_change_set_new_preset (current, BMS_BATTERY_TYPE_NMC, &error);
  g_assert_no_error (error);
  order = bms_change_set_get_write_order (set);
  for (guint i = 0; i < order->len; i++)
    g_signal_connect (order->pdata[i], "notify::result", G_CALLBACK (on_first_result), &run);
  bms_change_set_apply_async (set, fx->session, "123456", fx->history, fx->device_id, cancellable,
                              on_cancelled_apply, &run);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_test_message ("answered %.0f ms after Cancel", (run.done_us - run.cancelled_us) / 1000.0);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&run.error);
  g_assert_cmpint (run.cancelled_us, >, 0);
  g_assert_cmpint (run.done_us - run.cancelled_us, <, G_USEC_PER_SEC);
  for (guint i = 0; i < order->len; i++)
    {
      BmsChange *change = order->pdata[i];

      ok += bms_change_get_result (change) == BMS_CHANGE_OK;
      not_sent += bms_change_get_result (change) == BMS_CHANGE_NOT_SENT;
      if (bms_change_get_result (change) == BMS_CHANGE_OK)
        g_assert_cmpint (bms_sim_get_parameter (fx->sim, bms_change_get_id (change)), ==,
                         bms_change_get_new_raw (change));
    }
  g_assert_cmpuint (ok, >=, 1);
  g_assert_cmpuint (ok, <, order->len);
  g_assert_cmpuint (not_sent, >=, 1);
  for (guint i = 0; i < order->len; i++)
    g_signal_handlers_disconnect_by_data (order->pdata[i], &run);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/change-set/presets-per-chemistry", test_presets_per_chemistry);
  g_test_add_func ("/change-set/write-order-keeps-rules", test_write_order_keeps_rules);
  g_test_add_func ("/change-set/set-value-checks", test_set_value_checks);
  g_test_add_func ("/change-set/password-rules", test_password_rules);
  g_test_add_func ("/change-set/password-last-then-commands", test_password_last_then_commands);
  g_test_add ("/change-set/stop-at-refusal", Fixture, NULL, fixture_set_up, test_stop_at_refusal,
              fixture_tear_down);
  g_test_add ("/change-set/restore-when-stopping-breaks-a-rule", Fixture, NULL, fixture_set_up,
              test_restore_when_stopping_breaks_a_rule, fixture_tear_down);
  g_test_add ("/change-set/new-password-verified", Fixture, NULL, fixture_set_up,
              test_new_password_verified, fixture_tear_down);
  g_test_add ("/change-set/apply-preset", Fixture, NULL, fixture_set_up, test_apply_preset,
              fixture_tear_down);
  g_test_add ("/change-set/invalid-sends-nothing", Fixture, NULL, fixture_set_up,
              test_invalid_sends_nothing, fixture_tear_down);
  g_test_add ("/change-set/wrong-password", Fixture, NULL, fixture_set_up, test_wrong_password,
              fixture_tear_down);
  g_test_add ("/change-set/apply-async", Fixture, NULL, fixture_set_up, test_apply_async,
              fixture_tear_down);
  g_test_add_func ("/change-set/apply-async-on-session-queue", test_apply_async_on_session_queue);
  g_test_add ("/change-set/apply-async-cancel", Fixture, NULL, fixture_set_up,
              test_apply_async_cancel, fixture_tear_down);
  return g_test_run ();
}
