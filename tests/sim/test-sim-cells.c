/* test-sim-cells.c — each cell's own truth (issue 15): resistance with a
 * polarisation pair, capacity, self-discharge, planted weak cells, the
 * truth file, the board's quantised readings and the demo's stepping load. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "bms-sim-private.h"

static BmsSim *
new_sim (BmsChemistry chemistry, double capacity_ah, guint modules, guint32 seed,
         const BmsSimWeakCell *weak, guint n_weak)
{
  BmsSimConfig c;
  g_autoptr (GError) error = NULL;
  BmsSim *sim;

  bms_sim_config_init (&c);
  c.chemistry = chemistry;
  c.capacity_ah = capacity_ah;
  c.modules = modules;
  c.seed = seed;
  c.weak_cells = weak;
  c.n_weak_cells = n_weak;
  sim = bms_sim_new (&c, &error);
  g_assert_no_error (error);
  return sim;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median over the cells that were not planted, as the truth file gives
 * them: what a weak cell's factors refer to. */
static double
median_of_others (BmsSim *sim, gsize offset)
{
  guint n = bms_sim_get_n_cells (sim), k = 0;
  g_autofree double *v = g_new (double, n);

  for (guint i = 0; i < n; i++)
    {
      BmsSimCellTruth t;
      bms_sim_get_cell_truth (sim, i, &t);
      if (!t.weak)
        v[k++] = G_STRUCT_MEMBER (double, &t, offset);
    }
  qsort (v, k, sizeof *v, compare_double);
  return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static void
test_truth_matches_options (void)
{
  const BmsSimWeakCell weak[] = { { 3, 2.0, 1.0, 0 }, { 9, 1.5, 0.9, 5 } };
  g_autoptr (BmsSim) sim = new_sim (BMS_CHEMISTRY_LFP, 100, 1, 5, weak, G_N_ELEMENTS (weak));
  double r_med = median_of_others (sim, G_STRUCT_OFFSET (BmsSimCellTruth, resistance_ohm));
  double c_med = median_of_others (sim, G_STRUCT_OFFSET (BmsSimCellTruth, capacity_ah));
  double l_med = median_of_others (sim, G_STRUCT_OFFSET (BmsSimCellTruth, leak_a));
  double r_min = 1, r_max = 0;
  BmsSimCellTruth t;

  g_assert_cmpuint (bms_sim_get_n_cells (sim), ==, 16);
  for (guint i = 0; i < 16; i++)
    {
      bms_sim_get_cell_truth (sim, i, &t);
      g_assert_cmpint (t.weak, ==, i == 2 || i == 8);
      if (t.weak)
        continue;
      /* LFP 100 Ah: 0.5 mΩ ± 15 %, a polarisation pair about half of it
       * with tens of seconds, 100 Ah ± 3 %, about 2 mA of self-discharge. */
      g_assert_cmpfloat (t.resistance_ohm, >=, 0.000425);
      g_assert_cmpfloat (t.resistance_ohm, <=, 0.000575);
      g_assert_cmpfloat (t.polarisation_ohm / t.resistance_ohm, >=, 0.35);
      g_assert_cmpfloat (t.polarisation_ohm / t.resistance_ohm, <=, 0.65);
      g_assert_cmpfloat (t.tau_s, >=, 30);
      g_assert_cmpfloat (t.tau_s, <=, 60);
      g_assert_cmpfloat (fabs (t.capacity_ah - 100), <=, 3);
      g_assert_cmpfloat (t.leak_a, >=, 0.0014 - 1e-12);
      g_assert_cmpfloat (t.leak_a, <=, 0.0026 + 1e-12);
      r_min = MIN (r_min, t.resistance_ohm);
      r_max = MAX (r_max, t.resistance_ohm);
    }
  /* The seed spreads them: not sixteen copies of one cell. */
  g_assert_cmpfloat (r_max - r_min, >, 0.00001);

  bms_sim_get_cell_truth (sim, 2, &t);
  g_assert_cmpfloat_with_epsilon (t.resistance_ohm / r_med, 2.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (t.capacity_ah / c_med, 1.0, 1e-9);
  g_assert_cmpfloat (fabs (t.leak_a - l_med), <, 0.0006);
  bms_sim_get_cell_truth (sim, 8, &t);
  g_assert_cmpfloat_with_epsilon (t.resistance_ohm / r_med, 1.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (t.capacity_ah / c_med, 0.9, 1e-9);
  g_assert_cmpfloat (fabs (t.leak_a - l_med - 0.005), <, 0.0006);
  /* The polarisation pair of an aged cell grows with its resistance. */
  g_assert_cmpfloat (t.polarisation_ohm / t.resistance_ohm, <=, 0.65);
}

static void
test_truth_file (void)
{
  const BmsSimWeakCell weak[] = { { 16, 2.0, 1.0, 0 } };
  g_autoptr (BmsSim) sim = new_sim (BMS_CHEMISTRY_NMC, 50, 2, 8, weak, 1);
  g_autofree char *dir = g_dir_make_tmp ("packwatch-truth-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "truth.json", NULL);
  g_autofree char *json = bms_sim_truth_to_json (sim);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *weak_entry = NULL;
  BmsSimCellTruth t;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_assert_true (bms_sim_write_truth (sim, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, json);
  g_assert_true (g_str_has_prefix (json, "{\"cells\":[{\"cell\":1,\"resistance_mohm\":"));
  g_assert_nonnull (strstr (json, "{\"cell\":32,"));
  g_assert_null (strstr (json, "{\"cell\":33,"));
  /* The weak cell's entry carries the model's own figures, in mΩ and mA. */
  bms_sim_get_cell_truth (sim, 15, &t);
  weak_entry = g_strdup_printf ("{\"cell\":16,\"resistance_mohm\":%s,",
                                g_ascii_formatd (buf, sizeof buf, "%.6f", t.resistance_ohm * 1000));
  g_assert_nonnull (strstr (json, weak_entry));
  g_assert_nonnull (strstr (strstr (json, weak_entry), "\"weak\":true}"));
  /* Nothing else is left in the directory: the temporary file was renamed. */
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);

  /* A place that cannot be written is an error, not a crash. */
  g_assert_false (bms_sim_write_truth (sim, "/nonexistent-dir/truth.json", &error));
  g_assert_nonnull (error);
}

static void
test_weak_cell_parse (void)
{
  static const char *const bad[] = {
    "",      "0",        "x",          "3:",        "3:abc", "3:0", "3:25",  "3:1:3",
    "3:1:0", "3:1:1:-1", "3:1:1:2000", "3:1:1:1:1", "2.5",   "257", "3:nan",
  };
  BmsSimWeakCell w;
  BmsSimConfig c;
  BmsSimWeakCell twice[] = { { 2, 2, 1, 0 }, { 2, 3, 1, 0 } };
  BmsSimWeakCell beyond[] = { { 17, 2, 1, 0 } };

  g_assert_true (bms_sim_weak_cell_parse ("7", &w, NULL));
  g_assert_cmpuint (w.cell, ==, 7);
  g_assert_cmpfloat (w.r_factor, ==, 2.0);
  g_assert_cmpfloat (w.cap_factor, ==, 1.0);
  g_assert_cmpfloat (w.leak_ma, ==, 0.0);
  g_assert_true (bms_sim_weak_cell_parse ("256:1.5:0.9:5", &w, NULL));
  g_assert_cmpuint (w.cell, ==, 256);
  g_assert_cmpfloat (w.r_factor, ==, 1.5);
  g_assert_cmpfloat (w.cap_factor, ==, 0.9);
  g_assert_cmpfloat (w.leak_ma, ==, 5.0);
  for (gsize k = 0; k < G_N_ELEMENTS (bad); k++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (bms_sim_weak_cell_parse (bad[k], &w, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_test_message ("%s: %s", bad[k], error->message);
    }

  /* The pack decides what a cell number may be; a cell planted twice is a
   * mistake, not a sum. */
  bms_sim_config_init (&c);
  c.weak_cells = beyond;
  c.n_weak_cells = 1;
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (bms_sim_new (&c, &error));
    g_assert_nonnull (strstr (error->message, "1 to 16"));
  }
  c.weak_cells = twice;
  c.n_weak_cells = 2;
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (bms_sim_new (&c, &error));
    g_assert_nonnull (strstr (error->message, "twice"));
  }
}

/* The same seed gives the same pack and the same readings, sample by
 * sample; another seed another pack. */
static void
test_deterministic (void)
{
  g_autoptr (BmsSim) a = new_sim (BMS_CHEMISTRY_LFP, 100, 1, 21, NULL, 0);
  g_autoptr (BmsSim) b = new_sim (BMS_CHEMISTRY_LFP, 100, 1, 21, NULL, 0);
  g_autoptr (BmsSim) other = new_sim (BMS_CHEMISTRY_LFP, 100, 1, 22, NULL, 0);
  g_autofree char *ja = bms_sim_truth_to_json (a);
  g_autofree char *jb = bms_sim_truth_to_json (b);
  g_autofree char *jo = bms_sim_truth_to_json (other);
  guint differ = 0;

  g_assert_cmpstr (ja, ==, jb);
  g_assert_cmpstr (ja, !=, jo);
  bms_sim_battery_set_cycle (bms_sim_get_battery (a), TRUE);
  bms_sim_battery_set_cycle (bms_sim_get_battery (b), TRUE);
  bms_sim_battery_set_cycle (bms_sim_get_battery (other), TRUE);
  for (int k = 0; k < 6 * 3600 / 5; k++)
    {
      g_autoptr (BmsSnapshot) sa = NULL;
      g_autoptr (BmsSnapshot) sb = NULL;
      g_autoptr (BmsSnapshot) so = NULL;

      bms_sim_advance (a, 5);
      bms_sim_advance (b, 5);
      bms_sim_advance (other, 5);
      sa = bms_sim_snapshot (a);
      sb = bms_sim_snapshot (b);
      so = bms_sim_snapshot (other);
      g_assert_cmpmem (sa->cells_mv, 16 * 2, sb->cells_mv, 16 * 2);
      g_assert_cmpint (bms_snapshot_get_raw (sa, BMS_ID_CURRENT), ==,
                       bms_snapshot_get_raw (sb, BMS_ID_CURRENT));
      differ
          += bms_snapshot_get_raw (sa, BMS_ID_CURRENT) != bms_snapshot_get_raw (so, BMS_ID_CURRENT);
    }
  g_assert_cmpfloat (bms_sim_get_time (a), ==, 6 * 3600);
  /* Another seed draws another load. */
  g_assert_cmpuint (differ, >, 100);
}

/* The board reports what its ADCs give: cells in whole mV (its last digit
 * wobbling by one), the current in 10 mA steps. */
static void
test_quantised (void)
{
  g_autoptr (BmsSim) sim = new_sim (BMS_CHEMISTRY_NMC, 100, 1, 4, NULL, 0);
  BmsSimBattery *bat = bms_sim_get_battery (sim);
  const BmsFieldInfo *current = bms_field_lookup (BMS_ID_CURRENT);
  guint off_by_one = 0;

  g_assert_cmpfloat (current->scale, ==, 0.01);
  bms_sim_set_current (sim, -37.123);
  for (int k = 0; k < 200; k++)
    {
      g_autoptr (BmsSnapshot) s = NULL;

      bms_sim_advance (sim, 1);
      s = bms_sim_snapshot (sim);
      for (guint i = 0; i < 16; i++)
        {
          double mv = bms_sim_battery_cell_voltage (bat, i) * 1000;
          g_assert_cmpfloat (fabs (s->cells_mv[i] - mv), <=, 1.5);
          off_by_one += s->cells_mv[i] != lround (mv);
        }
      g_assert_cmpint (bms_snapshot_get_raw (s, BMS_ID_CURRENT), ==,
                       lround (bms_sim_battery_measured_current (bat) * 100));
    }
  /* The wobble is there, and not on every reading. */
  g_assert_cmpuint (off_by_one, >, 200);
  g_assert_cmpuint (off_by_one, <, 200 * 16);
}

static void
read_cells (BmsSim *sim, double *mv, double *amps)
{
  g_autoptr (BmsSnapshot) s = bms_sim_snapshot (sim);

  for (guint i = 0; i < s->n_cells; i++)
    mv[i] = s->cells_mv[i];
  *amps = bms_snapshot_get (s, BMS_ID_CURRENT);
}

/* A current step shows each cell's ohmic resistance at once (ΔV = ΔI·R0,
 * within the readings' quantisation), then the polarisation pair relaxes
 * over tens of seconds: an estimator must take the instantaneous step. */
static void
check_step (BmsChemistry chemistry, double capacity_ah, guint32 seed)
{
  const BmsSimWeakCell weak[] = { { 5, 2.0, 1.0, 0 } };
  g_autoptr (BmsSim) sim = new_sim (chemistry, capacity_ah, 1, seed, weak, 1);
  double before[16], after[16], later[16], end[16], i0, i1, i2, i3;
  double load = -capacity_ah; /* 1 C */

  bms_sim_advance (sim, 60);
  bms_sim_set_current (sim, load);
  bms_sim_advance (sim, 600); /* ten time constants and more: the pair is charged */
  read_cells (sim, before, &i0);
  bms_sim_set_current (sim, 0);
  bms_sim_advance (sim, 1);
  read_cells (sim, after, &i1);
  bms_sim_advance (sim, 9);
  read_cells (sim, later, &i2);
  bms_sim_advance (sim, 600);
  read_cells (sim, end, &i3);
  g_assert_cmpfloat (i1, ==, 0);
  g_assert_cmpfloat (fabs (i0 - load), <, 0.02 * capacity_ah); /* the shunt's gain error */

  for (guint i = 0; i < 16; i++)
    {
      BmsSimCellTruth t;
      double step_mv, relax_mv, want_step, want_relax, decay;

      bms_sim_get_cell_truth (sim, i, &t);
      decay = exp (-1.0 / t.tau_s);
      /* The pair's voltage, charged to I·R1, gives back 1 - e^(-1/τ) of
       * itself in the first second and the rest afterwards. */
      want_step
          = (i1 - i0) * t.resistance_ohm * 1000 + -load * t.polarisation_ohm * 1000 * (1 - decay);
      want_relax = -load * t.polarisation_ohm * 1000 * decay;
      step_mv = after[i] - before[i];
      relax_mv = end[i] - after[i];
      g_test_message ("cell %u: step %.0f mV (want %.1f), relaxation %.0f mV (want %.1f)", i + 1,
                      step_mv, want_step, relax_mv, want_relax);
      /* Two readings, each within 1.5 mV; the shunt's gain error on ΔI. */
      g_assert_cmpfloat (fabs (step_mv - want_step), <=, 3.0 + 0.02 * want_step);
      g_assert_cmpfloat (fabs (relax_mv - want_relax), <=, 3.0 + 0.02 * want_relax);
      /* Slow: after ten seconds most of the relaxation is still to come. */
      g_assert_cmpfloat (later[i] - after[i], <, 0.5 * relax_mv);
      g_assert_cmpfloat (relax_mv, >, 0.2 * step_mv);
      /* The planted cell shows twice the step of its neighbours. */
      if (i == 4)
        g_assert_cmpfloat (step_mv, >, 1.6 * (after[5] - before[5]));
    }
}

static void
test_step_response (void)
{
  check_step (BMS_CHEMISTRY_LFP, 100, 3);
  check_step (BMS_CHEMISTRY_NMC, 50, 4);
  check_step (BMS_CHEMISTRY_LTO, 40, 5);
}

/* A cell that leaks drifts down against the others while the pack rests
 * (the shunt sees nothing of it). */
static void
test_leak_drifts (void)
{
  const BmsSimWeakCell weak[] = { { 5, 1.0, 1.0, 20 } };
  g_autoptr (BmsSim) sim = new_sim (BMS_CHEMISTRY_NMC, 2, 1, 6, weak, 1);
  BmsSimBattery *bat = bms_sim_get_battery (sim);
  double v0[16], v1[16], amps, soc0, soc1;

  bms_sim_advance (sim, 60);
  read_cells (sim, v0, &amps);
  soc0 = bms_sim_battery_cell_soc (bat, 4);
  for (int h = 0; h < 10; h++)
    bms_sim_advance (sim, 3600);
  read_cells (sim, v1, &amps);
  soc1 = bms_sim_battery_cell_soc (bat, 4);
  g_assert_cmpfloat (amps, ==, 0);
  g_assert_false (bms_sim_battery_balancing (bat));
  /* 20 mA more for 10 h out of 2 Ah: 10 % of its charge, tens of mV on NMC. */
  g_assert_cmpfloat (soc0 - soc1, >, 0.095);
  g_assert_cmpfloat (soc0 - soc1, <, 0.105);
  g_assert_cmpfloat (v0[4] - v1[4], >, 30);
  for (guint i = 0; i < 16; i++)
    if (i != 4)
      g_assert_cmpfloat (fabs (v0[i] - v1[i]), <=, 3);
}

/* The wire says only that some cell bleeds (0x8C bit 2); which ones follow
 * from the rule and the settings, applied to the cells as reported: an
 * estimator can tell which cells to leave out or correct for. Away from
 * the thresholds by more than the readings' wobble, the rule and the
 * model agree on every cell. */
static void
test_balancing_follows_rule (void)
{
  g_autoptr (BmsSim) sim = new_sim (BMS_CHEMISTRY_LFP, 100, 1, 12, NULL, 0);
  BmsSimBattery *bat = bms_sim_get_battery (sim);
  double start = bms_sim_get_parameter (sim, bms_field_lookup_name ("balance_start_mv")->id);
  double diff = bms_sim_get_parameter (sim, bms_field_lookup_name ("balance_diff_mv")->id);
  gint64 last_current = G_MININT64;
  guint bleeding = 0, checked = 0;

  bms_sim_battery_set_cycle (bat, TRUE);
  for (int k = 0; k < 8 * 3600 / 5; k++)
    {
      g_autoptr (BmsSnapshot) s = NULL;
      gint64 current;
      guint lo;

      bms_sim_advance (sim, 5);
      s = bms_sim_snapshot (sim);
      current = bms_snapshot_get_raw (s, BMS_ID_CURRENT);
      g_assert_cmpint (!!(bms_snapshot_get_raw (s, BMS_ID_STATUS) & 4), ==,
                       bms_sim_battery_balancing (bat));
      /* The board decided a substep before it read: skip a current step. */
      if (current != last_current)
        {
          last_current = current;
          continue;
        }
      bms_snapshot_get_cell_range (s, &lo, NULL);
      for (guint i = 0; i < 16; i++)
        {
          double mv = s->cells_mv[i], above = mv - s->cells_mv[lo];
          gboolean rule = mv > start && above > diff;

          if (fabs (mv - start) <= 2 || fabs (above - diff) <= 3)
            continue;
          g_assert_cmpint (rule, ==, bms_sim_battery_cell_balancing (bat, i));
          checked++;
          bleeding += rule;
        }
    }
  g_test_message ("%u cell readings checked, %u of them bleeding", checked, bleeding);
  g_assert_cmpuint (bleeding, >, 20);
}

/* A week of the demo cycle with weak cells planted stays inside the
 * limits: the profile turns at the weakest cell, as a charger and an
 * inverter following the BMS would. */
static void
check_quiet (BmsChemistry chemistry, guint32 seed, guint days)
{
  const BmsSimWeakCell weak[] = { { 3, 2.0, 1.0, 0 }, { 7, 1.0, 0.9, 0 }, { 11, 1.0, 1.0, 5 } };
  g_autoptr (BmsSim) sim = new_sim (chemistry, 100, 1, seed, weak, G_N_ELEMENTS (weak));
  BmsSimBattery *bat = bms_sim_get_battery (sim);
  guint seen = 0;

  bms_sim_battery_set_cycle (bat, TRUE);
  for (guint k = 0; k < days * 24 * 60; k++)
    {
      bms_sim_advance (sim, 60);
      seen |= bms_sim_battery_protections (bat);
    }
  g_test_message ("%u days: %u cycles, protections 0x%x", days, bms_sim_battery_cycles (bat), seen);
  g_assert_cmpuint (seen & ~BMS_SIM_PROT_LOW_SOC, ==, 0);
  /* About four cycles a day. */
  g_assert_cmpuint (bms_sim_battery_cycles (bat), >=, 3 * days);
}

static void
test_weak_cells_quiet (void)
{
  check_quiet (BMS_CHEMISTRY_LFP, 1, 7);
  check_quiet (BMS_CHEMISTRY_NMC, 2, 2);
  check_quiet (BMS_CHEMISTRY_LTO, 3, 2);
}

typedef struct
{
  GArray *levels;   /* the discharge levels in A, in order */
  GArray *held;     /* how long each lasted (s), not counting the phase ends */
  double charge_a0; /* the first charge current */
  gboolean tapered; /* the charge current fell towards the end (CV) */
} LoadLog;

/* The demo cycle's requested current every dt seconds for a day. */
static void
log_load (guint32 seed, double dt, LoadLog *log)
{
  g_autoptr (BmsSim) sim = new_sim (BMS_CHEMISTRY_LFP, 100, 1, seed, NULL, 0);
  BmsSimBattery *bat = bms_sim_get_battery (sim);
  double level = 0, since = -1;
  BmsSimPhase last = BMS_SIM_PHASE_CHARGE;

  log->levels = g_array_new (FALSE, FALSE, sizeof (double));
  log->held = g_array_new (FALSE, FALSE, sizeof (double));
  log->charge_a0 = 0;
  log->tapered = FALSE;
  bms_sim_battery_set_cycle (bat, TRUE);
  for (double t = 0; t < 24 * 3600; t += dt)
    {
      BmsSimPhase phase;
      double a;

      bms_sim_advance (sim, dt);
      phase = bms_sim_battery_phase (bat);
      a = bms_sim_battery_requested_current (bat);
      if (phase == BMS_SIM_PHASE_CHARGE && log->charge_a0 == 0)
        log->charge_a0 = a;
      if (phase == BMS_SIM_PHASE_CHARGE && a < 0.5 * log->charge_a0)
        log->tapered = TRUE;
      if (phase != BMS_SIM_PHASE_DISCHARGE)
        {
          since = -1;
          level = 0;
        }
      else if (a != level)
        {
          if (since >= 0 && last == BMS_SIM_PHASE_DISCHARGE)
            g_array_append_val (log->held, since);
          g_array_append_val (log->levels, a);
          level = a;
          since = 0;
        }
      if (since >= 0)
        since += dt;
      last = phase;
    }
}

static void
test_cycle_load_steps (void)
{
  LoadLog fine, coarse;
  guint big = 0;

  log_load (9, 1, &fine);
  g_test_message ("a day: %u load levels", fine.levels->len);
  /* A day holds a few discharges of an hour or more each. */
  g_assert_cmpuint (fine.levels->len, >=, 30);
  for (guint k = 0; k < fine.held->len; k++)
    {
      double s = g_array_index (fine.held, double, k);
      g_assert_cmpfloat (s, >=, 60 - 1);
      g_assert_cmpfloat (s, <=, 600 + 1);
    }
  for (guint k = 0; k < fine.levels->len; k++)
    {
      double a = -g_array_index (fine.levels, double, k);
      g_assert_cmpfloat (a, >=, 0.05 * 100 - 1e-9);
      g_assert_cmpfloat (a, <=, 0.9 * 100 + 1e-9);
      if (k > 0 && fabs (g_array_index (fine.levels, double, k - 1) + a) >= 20)
        big++;
    }
  /* Steps big enough to read a resistance from, and some bursts. */
  g_assert_cmpuint (big, >=, 10);
  /* The charge is CC-CV: 0.5 C, then tapering. */
  g_assert_cmpfloat (fine.charge_a0, ==, 50);
  g_assert_true (fine.tapered);

  /* The same seed gives the same load whatever steps the clock takes. */
  log_load (9, 7, &coarse);
  g_assert_cmpuint (coarse.levels->len, >=, 30);
  for (guint k = 0; k < MIN (fine.levels->len, coarse.levels->len); k++)
    g_assert_cmpfloat (g_array_index (fine.levels, double, k), ==,
                       g_array_index (coarse.levels, double, k));
  g_array_unref (fine.levels);
  g_array_unref (fine.held);
  g_array_unref (coarse.levels);
  g_array_unref (coarse.held);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/cells/truth-matches-options", test_truth_matches_options);
  g_test_add_func ("/sim/cells/truth-file", test_truth_file);
  g_test_add_func ("/sim/cells/weak-cell-parse", test_weak_cell_parse);
  g_test_add_func ("/sim/cells/deterministic", test_deterministic);
  g_test_add_func ("/sim/cells/quantised", test_quantised);
  g_test_add_func ("/sim/cells/step-response", test_step_response);
  g_test_add_func ("/sim/cells/leak-drifts", test_leak_drifts);
  g_test_add_func ("/sim/cells/cycle-load-steps", test_cycle_load_steps);
  g_test_add_func ("/sim/cells/balancing-follows-rule", test_balancing_follows_rule);
  g_test_add_func ("/sim/cells/weak-cells-quiet", test_weak_cells_quiet);
  return g_test_run ();
}
