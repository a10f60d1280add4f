/* test-health.c — BmsHealth on synthetic histories with a known truth
 * (health-synth.h): resistance per cell, a planted weak cell (resistance,
 * capacity) ranked first, no suspect in a healthy pack, the steps left out
 * (temperature change, balancing), NAN without evidence, weeks, the JSON,
 * cancelling and the async variant. */
#include <glib/gstdio.h>

#include "bms-health.h"
#include "health-synth.h"

typedef struct {
  char       *dir;
  char       *path;
  BmsHistory *history;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("health-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "history.db", NULL);
  f->history = bms_history_new (f->path, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  g_clear_object (&f->history);
  dir = g_dir_open (f->dir, 0, NULL);
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

static BmsHealthReport *
analyze (Fixture *f, const char *key)
{
  g_autoptr (GError) error = NULL;
  BmsHealthReport *report = bms_health_analyze (f->history, key, 0, G_MAXINT64, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (report);
  return report;
}

/* Every cell with 20 steps or more within ±10 % of its true resistance. */
static void
assert_resistances (const BmsHealthReport *report, const SynthTruth *truth)
{
  for (guint c = 0; c < report->n_cells; c++)
    {
      const BmsHealthCell *cell = &report->cells[c];
      double err;

      if (cell->steps < BMS_HEALTH_SUSPECT_STEPS)
        continue;
      err = cell->resistance_mohm / truth->r0_mohm[c] - 1;
      if (fabs (err) > 0.10)
        g_error ("cell %u: %.3f mΩ estimated, %.3f mΩ true (%+.1f %%) over %u steps", c + 1,
                 cell->resistance_mohm, truth->r0_mohm[c], err * 100, cell->steps);
      g_assert_cmpfloat (cell->resistance_confidence, >, 0.5);
      g_assert_cmpfloat (cell->resistance_confidence, <=, 1.0);
    }
}

static void
test_healthy_pack (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsHealthReport) report = NULL;
  SynthPack pack;
  SynthTruth truth;

  synth_defaults (&pack, 16, 3, 11);
  synth_write (f->history, "synth:1", &pack, &truth);
  report = analyze (f, NULL);

  g_assert_cmpuint (report->n_cells, ==, 16);
  g_assert_cmpuint (report->n_samples, ==, 3 * 86400);
  g_assert_cmpuint (report->steps_used, >, 100);
  g_assert_cmpuint (report->steps_used, <=, truth.steps);
  for (guint c = 0; c < 16; c++)
    g_assert_cmpuint (report->cells[c].steps, >=, BMS_HEALTH_SUSPECT_STEPS);
  assert_resistances (report, &truth);
  g_assert_cmpfloat_with_epsilon (report->pack_capacity_ah, 20, 1.5);
  for (guint c = 0; c < 16; c++)
    {
      g_assert_true (isfinite (report->cells[c].capacity_deviation_pct));
      g_assert_cmpfloat (fabs (report->cells[c].capacity_deviation_pct), <, 6);
    }
  if (report->suspects->len)
    g_error ("healthy pack, cell %u suspected: %s",
             ((BmsHealthSuspect *) report->suspects->pdata[0])->cell,
             ((BmsHealthSuspect *) report->suspects->pdata[0])->reasons[0]);
}

static void
test_weak (Fixture *f, guint n_cells, double r, double cap, double leak_ma, const char *word)
{
  g_autoptr (BmsHealthReport) report = NULL;
  const BmsHealthSuspect *first;
  g_autofree char *reasons = NULL;
  SynthPack pack;
  SynthTruth truth;

  synth_defaults (&pack, n_cells, 3, 23);
  pack.weak_cell = 7;
  pack.weak_r = r;
  pack.weak_cap = cap;
  pack.weak_leak_ma = leak_ma;
  synth_write (f->history, "synth:weak", &pack, &truth);
  report = analyze (f, "synth:weak");

  for (guint c = 0; c < report->n_cells; c++)
    g_test_message ("cell %2u: R %.3f (true %.3f) conf %.2f steps %u cap %+.2f %% (true %+.2f) leak %.2f mA (true %.2f) knees %.1f %.1f",
                    c + 1, report->cells[c].resistance_mohm, truth.r0_mohm[c],
                    report->cells[c].resistance_confidence, report->cells[c].steps,
                    report->cells[c].capacity_deviation_pct, (truth.cap_ah[c] / pack.capacity_ah - 1) * 100,
                    report->cells[c].leak_ma, truth.leak_ma[c],
                    report->cells[c].bottom_knee_mv, report->cells[c].top_knee_mv);
  assert_resistances (report, &truth);
  g_assert_cmpuint (report->suspects->len, >=, 1);
  first = g_ptr_array_index (report->suspects, 0);
  reasons = g_strjoinv ("; ", first->reasons);
  g_test_message ("cell %u: %s", first->cell, reasons);
  g_assert_cmpuint (first->cell, ==, 7);
  g_assert_nonnull (strstr (reasons, word));
  g_assert_true (bms_health_report_find_suspect (report, 7) == first);
}

static void
test_weak_resistance (Fixture *f, gconstpointer data)
{
  test_weak (f, 16, 1.5, 1, 0, "× the median resistance over");
}

static void
test_weak_capacity (Fixture *f, gconstpointer data)
{
  test_weak (f, 16, 1, 0.9, 0, "less than the median cell");
}

/* The same cell, 1.35 × the median resistance in a pack whose resistances
 * spread by 8 % (about 4.4 robust standard deviations out), is a suspect
 * among 16 cells but not among 256, where the tails have sixteen times
 * the chances to reach that far. */
static void
test_threshold_grows_with_cells (Fixture *f, gconstpointer data)
{
  const guint sizes[] = { 16, 256 };

  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      g_autoptr (BmsHealthReport) report = NULL;
      g_autofree char *key = g_strdup_printf ("synth:%u", sizes[k]);
      SynthPack pack;
      SynthTruth truth;

      synth_defaults (&pack, sizes[k], 2, 7);
      pack.sample_s = 2;
      pack.r_spread = 0.08;
      pack.weak_cell = 7;
      pack.weak_r = 1.4;
      synth_write (f->history, key, &pack, &truth);
      report = analyze (f, key);
      for (guint i = 0; i < report->suspects->len; i++)
        {
          const BmsHealthSuspect *s = g_ptr_array_index (report->suspects, i);
          g_test_message ("%u cells: cell %u suspected: %s", sizes[k], s->cell, s->reasons[0]);
        }
      g_test_message ("%u cells: cell 7 at %.2f × the median resistance (true %.2f)", sizes[k],
                      report->cells[6].resistance_mohm / report->median_resistance_mohm,
                      truth.r0_mohm[6] / (0.1 / pack.capacity_ah * 1000));
      g_assert_cmpfloat (report->cells[6].resistance_mohm / report->median_resistance_mohm, >, 1.3);
      if (sizes[k] == 16)
        {
          g_assert_cmpuint (report->suspects->len, >=, 1);
          g_assert_cmpuint (((BmsHealthSuspect *) report->suspects->pdata[0])->cell, ==, 7);
        }
      else
        g_assert_cmpuint (report->suspects->len, ==, 0);
    }
}

/* TEMP1 flips every 97 s: the steps across a flip are left out. */
static void
test_temperature_change (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsHealthReport) plain = NULL, flipping = NULL;
  SynthPack pack;
  SynthTruth truth;

  synth_defaults (&pack, 4, 0.5, 5);
  synth_write (f->history, "synth:plain", &pack, &truth);
  pack.temp_changes = TRUE;
  synth_write (f->history, "synth:flip", &pack, &truth);
  plain = analyze (f, "synth:plain");
  flipping = analyze (f, "synth:flip");

  g_assert_cmpuint (plain->steps_used, ==, truth.steps);
  /* one sample pair in 97 crosses a flip: about 1 % of the steps */
  g_assert_cmpuint (flipping->steps_used, <, plain->steps_used);
  g_assert_cmpuint (flipping->steps_used, >, plain->steps_used * 95 / 100);
}

/* A cell that the balancer may bleed does not count its steps. */
static void
test_balancing_excluded (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsHealthReport) report = NULL;
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);
  g_autoptr (GError) error = NULL;
  gint64 dev = bms_history_ensure_device (f->history, "bal", NULL, &error);

  for (guint k = 0; k < 200; k++)
    {
      BmsSnapshot *s = bms_snapshot_new ();
      double current = k % 2 ? -20 : 0;
      /* cell 2 sits 30 mV high and is bled in the first half */
      guint16 mv[3] = { 3300 + lround (current), 3330 + lround (current * 1.5),
                        3300 + lround (current) };

      s->timestamp_us = G_GINT64_CONSTANT (1767571200000000) + k * G_USEC_PER_SEC;
      bms_snapshot_set_cells (s, mv, 3);
      bms_snapshot_set_raw (s, BMS_ID_CURRENT, lround (current * 100));
      bms_snapshot_set_raw (s, BMS_ID_SOC, 50);
      bms_snapshot_set_raw (s, BMS_ID_TEMP1, 25);
      bms_snapshot_set_raw (s, BMS_ID_STATUS, 0x03 | (k < 100 ? BMS_STATUS_BALANCER : 0));
      g_ptr_array_add (batch, s);
    }
  g_assert_no_error (error);
  bms_history_append_batch (f->history, dev, (const BmsSnapshot *const *) batch->pdata, batch->len);
  g_assert_true (bms_history_flush (f->history, &error));
  report = analyze (f, "bal");

  g_assert_cmpuint (report->steps_used, ==, 199);
  g_assert_cmpuint (report->cells[0].steps, ==, 199);
  /* pairs with the bit in either sample: 0…99 and the pair 99→100 */
  g_assert_cmpuint (report->cells[1].steps, ==, 99);
  g_assert_cmpfloat_with_epsilon (report->cells[0].resistance_mohm, 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (report->cells[1].resistance_mohm, 1.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (report->median_resistance_mohm, 1.0, 1e-9);
}

/* Too little history: every figure null, nobody suspected. */
static void
test_not_enough (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsHealthReport) report = NULL;
  g_autofree char *json = NULL;
  SynthPack pack;
  SynthTruth truth;

  synth_defaults (&pack, 8, 300 / 86400.0, 3);
  synth_write (f->history, "short", &pack, &truth);
  report = analyze (f, NULL);

  g_assert_cmpuint (report->n_cells, ==, 8);
  for (guint c = 0; c < 8; c++)
    {
      g_assert_true (isnan (report->cells[c].resistance_mohm));
      g_assert_true (isnan (report->cells[c].resistance_confidence));
      g_assert_true (isnan (report->cells[c].capacity_deviation_pct));
      g_assert_true (isnan (report->cells[c].leak_ma));
    }
  g_assert_cmpuint (report->suspects->len, ==, 0);
  json = bms_health_report_to_json (report);
  g_assert_nonnull (strstr (json, "{\"cell\":1,\"resistance_mohm\":null,\"resistance_confidence\":null,"
                                  "\"capacity_deviation_pct\":null,\"leak_ma\":null}"));
  g_assert_nonnull (strstr (json, "\"suspects\":[]"));
}

static void
test_json (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsHealthReport) report = NULL;
  g_autofree char *json = NULL, *suffix = NULL;
  SynthPack pack;
  SynthTruth truth;

  synth_defaults (&pack, 16, 3, 23);
  pack.weak_cell = 7;
  pack.weak_r = 2;
  synth_write (f->history, "synth:json", &pack, &truth);
  report = analyze (f, NULL);
  json = bms_health_report_to_json (report);
  g_test_message ("%s", json);

  g_assert_true (g_str_has_prefix (json, "{\"cells\":[\n  {\"cell\":1,\"resistance_mohm\":"));
  g_assert_nonnull (strstr (json, "\"suspects\":[\n  {\"cell\":7,\"reasons\":[\"2."));
  g_assert_nonnull (strstr (json, " × the median resistance over "));
  suffix = g_strdup_printf ("\"steps_used\":%u}\n", report->steps_used);
  g_assert_true (g_str_has_suffix (json, suffix));
}

/* Two weeks of data: a trend entry per week, each with its own steps. */
static void
test_weeks (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsHealthReport) report = NULL;
  SynthPack pack;
  SynthTruth truth;

  synth_defaults (&pack, 4, 1, 9);
  pack.t0_us += G_GINT64_CONSTANT (6 * 86400 + 43200) * G_USEC_PER_SEC; /* Sunday noon */
  pack.sample_s = 2;
  synth_write (f->history, "weeks", &pack, &truth);
  report = analyze (f, NULL);

  g_assert_cmpuint (report->weeks->len, ==, 1 + 1);
  for (guint k = 0; k < 2; k++)
    {
      BmsHealthWeek *w = g_ptr_array_index (report->weeks, k);
      g_assert_cmpint (w->start_us, ==, G_GINT64_CONSTANT (1767571200000000) + (gint64) k * 7 * 86400 * G_USEC_PER_SEC);
      g_assert_cmpuint (w->n_samples, ==, 43200 / 2);
      g_assert_cmpuint (w->n_cells, ==, 4);
      g_assert_cmpuint (w->steps_used, >, 10);
      g_assert_true (isfinite (w->cells[0].resistance_mohm));
    }
  g_assert_cmpuint (((BmsHealthWeek *) report->weeks->pdata[0])->steps_used
                    + ((BmsHealthWeek *) report->weeks->pdata[1])->steps_used, ==, report->steps_used);
}

static void
test_errors (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  SynthPack pack;
  SynthTruth truth;

  g_assert_null (bms_health_analyze (f->history, NULL, 0, G_MAXINT64, NULL, &error));
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_INVALID);
  g_clear_error (&error);

  synth_defaults (&pack, 4, 0.05, 1);
  synth_write (f->history, "a", &pack, &truth);
  synth_write (f->history, "b", &pack, &truth);
  g_assert_null (bms_health_analyze (f->history, NULL, 0, G_MAXINT64, NULL, &error));
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "a, b"));
  g_clear_error (&error);
  g_assert_null (bms_health_analyze (f->history, "c", 0, G_MAXINT64, NULL, &error));
  g_assert_error (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "“c”"));
  g_clear_error (&error);

  g_cancellable_cancel (cancel);
  g_assert_null (bms_health_analyze (f->history, "a", 0, G_MAXINT64, cancel, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
on_analyzed (GObject *source, GAsyncResult *result, gpointer data)
{
  BmsHealthReport **out = data;
  g_autoptr (GError) error = NULL;

  *out = bms_health_analyze_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_async (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsHealthReport) sync = NULL;
  BmsHealthReport *async = NULL;
  g_autofree char *a = NULL, *b = NULL;
  SynthPack pack;
  SynthTruth truth;

  synth_defaults (&pack, 8, 0.25, 4);
  synth_write (f->history, "async", &pack, &truth);
  bms_health_analyze_async (f->history, "async", 0, G_MAXINT64, NULL, on_analyzed, &async);
  while (async == NULL)
    g_main_context_iteration (NULL, TRUE);
  sync = analyze (f, "async");
  a = bms_health_report_to_json (sync);
  b = bms_health_report_to_json (async);
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpuint (async->steps_used, >, 0);
  bms_health_report_unref (async);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/health/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("healthy-pack", test_healthy_pack);
  ADD ("weak-resistance", test_weak_resistance);
  ADD ("weak-capacity", test_weak_capacity);
  ADD ("threshold-grows-with-cells", test_threshold_grows_with_cells);
  ADD ("temperature-change", test_temperature_change);
  ADD ("balancing-excluded", test_balancing_excluded);
  ADD ("not-enough", test_not_enough);
  ADD ("json", test_json);
  ADD ("weeks", test_weeks);
  ADD ("errors", test_errors);
  ADD ("async", test_async);
#undef ADD
  return g_test_run ();
}
