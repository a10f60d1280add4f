/* test-health-sim.c — the cell-health estimator against packwatch-sim's
 * truth after a simulated week (tests/model/health-accuracy.h), the fast
 * version of bench-health: a few seeds of 16 cells. Every cell with 20
 * steps or more within ±10 % of its true resistance; a cell of 1.5 × the
 * resistance and one of 0.9 × the capacity ranked first; no suspect in a
 * pack without a planted cell. (The 5 mA leak is not found yet: see
 * docs/health.md.) */
#include "health-accuracy.h"

static char *dir;

static void
check (guint32 seed, guint weak_cell, double r_factor, double cap_factor)
{
  g_autoptr (GError) error = NULL;
  AccuracyRun run = { 16, 7, 2, seed, { weak_cell, r_factor, cap_factor, 0 } };
  AccuracyResult r;

  g_assert_true (accuracy_run (&run, dir, &r, &error));
  g_assert_no_error (error);
  g_test_message ("seed %u: worst resistance error %.2f %% over %u cells, %u steps; first suspect "
                  "%u: %s", seed, r.max_r_error_pct, r.cells_judged, r.steps_used,
                  r.first_suspect, r.first_reasons ? r.first_reasons : "-");
  g_assert_cmpuint (r.cells_judged, ==, 16);
  g_assert_cmpfloat (r.max_r_error_pct, <=, 10);
  if (weak_cell)
    g_assert_cmpuint (r.first_suspect, ==, weak_cell);
  else
    g_assert_cmpuint (r.n_suspects, ==, 0);
  accuracy_result_clear (&r);
}

static void
test_weak_resistance (void)
{
  check (11, 9, 1.5, 1.0);
}

static void
test_weak_capacity (void)
{
  check (12, 4, 1.0, 0.9);
}

static void
test_healthy (void)
{
  check (13, 0, 1.0, 1.0);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("health-sim-XXXXXX", NULL);
  g_test_add_func ("/health/sim/weak-resistance", test_weak_resistance);
  g_test_add_func ("/health/sim/weak-capacity", test_weak_capacity);
  g_test_add_func ("/health/sim/healthy", test_healthy);
  status = g_test_run ();
  g_rmdir (dir);
  g_free (dir);
  return status;
}
