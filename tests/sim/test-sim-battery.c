/* test-sim-battery.c — the physics of the simulated pack, without the wire. */
#include "bms-sim-battery.h"

#include <math.h>

static double
max_v (BmsSimBattery *b, guint *which)
{
  double m = 0;
  for (guint i = 0; i < bms_sim_battery_n_cells (b); i++)
    if (bms_sim_battery_cell_voltage (b, i) > m)
      {
        m = bms_sim_battery_cell_voltage (b, i);
        if (which)
          *which = i;
      }
  return m;
}

static double
min_v (BmsSimBattery *b)
{
  double m = 1e9;
  for (guint i = 0; i < bms_sim_battery_n_cells (b); i++)
    m = MIN (m, bms_sim_battery_cell_voltage (b, i));
  return m;
}

static void
test_ocv_shapes (void)
{
  /* LFP: a flat plateau in the middle, 2.5 V and 3.65 V at the ends. */
  g_assert_cmpfloat_with_epsilon (bms_sim_ocv (BMS_CHEMISTRY_LFP, 0.0), 2.50, 1e-9);
  g_assert_cmpfloat_with_epsilon (bms_sim_ocv (BMS_CHEMISTRY_LFP, 1.0), 3.65, 1e-9);
  for (double s = 0.2; s <= 0.9; s += 0.1)
    {
      double v = bms_sim_ocv (BMS_CHEMISTRY_LFP, s);
      g_assert_cmpfloat (v, >=, 3.2);
      g_assert_cmpfloat (v, <=, 3.35);
    }
  g_assert_cmpfloat_with_epsilon (bms_sim_ocv (BMS_CHEMISTRY_NMC, 0.0), 3.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (bms_sim_ocv (BMS_CHEMISTRY_NMC, 1.0), 4.2, 1e-9);
  g_assert_cmpfloat_with_epsilon (bms_sim_ocv (BMS_CHEMISTRY_LTO, 0.0), 1.8, 1e-9);
  g_assert_cmpfloat_with_epsilon (bms_sim_ocv (BMS_CHEMISTRY_LTO, 1.0), 2.8, 1e-9);
  /* Every curve rises monotonically, also beyond the ends. */
  for (int c = 0; c < 3; c++)
    for (double s = -0.05; s < 1.05; s += 0.001)
      g_assert_cmpfloat (bms_sim_ocv (c, s + 0.001), >, bms_sim_ocv (c, s));
}

static void
test_charge_raises_soc (void)
{
  g_autoptr (BmsSimBattery) b = bms_sim_battery_new (1, 16, BMS_CHEMISTRY_NMC, 100, 0.5, 7);
  double v0[16], soc0 = bms_sim_battery_soc (b), pack0;

  bms_sim_battery_advance (b, 1);
  pack0 = bms_sim_battery_pack_voltage (b);
  for (guint i = 0; i < 16; i++)
    v0[i] = bms_sim_battery_cell_voltage (b, i);

  bms_sim_battery_set_current (b, 50);
  bms_sim_battery_advance (b, 1800); /* 25 Ah into 100 Ah */

  g_assert_cmpfloat_with_epsilon (bms_sim_battery_current (b), 50, 1e-9);
  g_assert_cmpfloat_with_epsilon (bms_sim_battery_soc (b), soc0 + 0.25, 0.01);
  for (guint i = 0; i < 16; i++)
    g_assert_cmpfloat (bms_sim_battery_cell_voltage (b, i), >, v0[i] + 0.1);
  g_assert_cmpfloat (bms_sim_battery_pack_voltage (b), >, pack0 + 16 * 0.1);
  /* Counted through the shunt, which is off by up to 1.5 %. */
  g_assert_cmpfloat_with_epsilon (bms_sim_battery_total_ah (b), 25, 0.4);

  /* Discharging brings it back and counts toward a cycle. */
  bms_sim_battery_set_current (b, -100);
  bms_sim_battery_advance (b, 3600 * 0.3);
  g_assert_cmpfloat (bms_sim_battery_soc (b), <, soc0);
  g_assert_cmpuint (bms_sim_battery_cycles (b), ==, 0);
}

static void
test_balancing_lowers_highest (void)
{
  /* Small cells so 70–100 mA moves them visibly within an hour. */
  g_autoptr (BmsSimBattery) b = bms_sim_battery_new (1, 8, BMS_CHEMISTRY_NMC, 1, 0.93, 3);
  BmsSimParams p = *bms_sim_battery_get_params (b);
  guint hi = 0;
  double v_hi, spread0;

  p.balance_diff_v = 0.005;
  bms_sim_battery_set_params (b, &p);
  bms_sim_battery_advance (b, 0.25);
  v_hi = max_v (b, &hi);
  spread0 = v_hi - min_v (b);
  g_assert_cmpfloat (v_hi, >, p.balance_start_v);
  g_assert_cmpfloat (spread0, >, p.balance_diff_v);
  g_assert_true (bms_sim_battery_cell_balancing (b, hi));
  g_assert_true (bms_sim_battery_balancing (b));

  /* The bleed warms the balance resistors. */
  bms_sim_battery_advance (b, 120);
  g_assert_cmpfloat (bms_sim_battery_balance_temp (b), >, bms_sim_battery_ambient (b) + 0.2);
  bms_sim_battery_advance (b, 1800);
  g_assert_cmpfloat (bms_sim_battery_cell_voltage (b, hi), <, v_hi - 0.005);
  g_assert_cmpfloat (max_v (b, NULL) - min_v (b), <, spread0);

  /* Switched off, nothing bleeds. */
  p.balancer = FALSE;
  bms_sim_battery_set_params (b, &p);
  bms_sim_battery_advance (b, 1);
  g_assert_false (bms_sim_battery_balancing (b));
}

static void
test_ovp_delay_and_recovery (void)
{
  g_autoptr (BmsSimBattery) b = bms_sim_battery_new (1, 16, BMS_CHEMISTRY_NMC, 10, 0.95, 11);
  const BmsSimParams *p = bms_sim_battery_get_params (b);
  double t_over = -1;

  bms_sim_battery_set_current (b, 5);
  /* Step until the highest cell first reaches the limit. */
  for (int k = 0; k < 4 * 3600 && t_over < 0; k++)
    {
      bms_sim_battery_advance (b, 0.25);
      if (max_v (b, NULL) >= p->cell_ovp_v)
        t_over = bms_sim_battery_time (b);
    }
  g_assert_cmpfloat (t_over, >, 0);
  g_assert_false (bms_sim_battery_protections (b) & BMS_SIM_PROT_CELL_OVP);

  bms_sim_battery_advance (b, p->cell_ovp_delay_s - 1.0);
  g_assert_false (bms_sim_battery_protections (b) & BMS_SIM_PROT_CELL_OVP);
  g_assert_true (bms_sim_battery_charge_mos (b));
  bms_sim_battery_advance (b, 1.5);
  g_assert_true (bms_sim_battery_protections (b) & BMS_SIM_PROT_CELL_OVP);
  g_assert_false (bms_sim_battery_charge_mos (b));
  g_assert_true (bms_sim_battery_discharge_mos (b));
  g_assert_true (bms_sim_battery_warnings (b) & (1u << 10));
  g_assert_cmpfloat (bms_sim_battery_current (b), ==, 0);
  g_assert_false (bms_sim_battery_relays (b) & BMS_SIM_RELAY_CHARGE);
  /* A full pack recalibrates the SOC counter. */
  g_assert_cmpfloat (bms_sim_battery_soc (b), ==, 1.0);

  /* Still tripped at rest: the cell has not dropped to the recovery level. */
  bms_sim_battery_advance (b, 60);
  g_assert_true (bms_sim_battery_protections (b) & BMS_SIM_PROT_CELL_OVP);

  /* Discharge until every cell is below the recovery voltage. */
  bms_sim_battery_set_current (b, -5);
  /* One substep at a time: a cell whose bleed stops later on rises by the
   * bleed current times its resistance, above the level it recovered at. */
  for (int k = 0; k < 4 * 3600 && (bms_sim_battery_protections (b) & BMS_SIM_PROT_CELL_OVP); k++)
    bms_sim_battery_advance (b, 0.25);
  g_assert_false (bms_sim_battery_protections (b) & BMS_SIM_PROT_CELL_OVP);
  g_assert_cmpfloat (max_v (b, NULL), <=, p->cell_ovp_recovery_v);
  bms_sim_battery_advance (b, 1);
  g_assert_true (bms_sim_battery_charge_mos (b));
  g_assert_false (bms_sim_battery_warnings (b) & (1u << 10));
}

static void
test_uvp_and_level2 (void)
{
  g_autoptr (BmsSimBattery) b = bms_sim_battery_new (1, 8, BMS_CHEMISTRY_LFP, 10, 0.05, 5);
  BmsSimParams p = *bms_sim_battery_get_params (b);

  bms_sim_battery_set_current (b, -5);
  bms_sim_battery_advance (b, 1800);
  g_assert_true (bms_sim_battery_protections (b) & BMS_SIM_PROT_CELL_UVP);
  g_assert_false (bms_sim_battery_discharge_mos (b));
  g_assert_true (bms_sim_battery_charge_mos (b));
  g_assert_true (bms_sim_battery_warnings (b) & (1u << 11));
  g_assert_cmpfloat (bms_sim_battery_soc (b), ==, 0.0);

  /* Level 2 with a limit the cells are already below: the level-2 relay. */
  p.cell_uvp2_v = 3.0;
  bms_sim_battery_set_params (b, &p);
  bms_sim_battery_advance (b, p.cell_uvp_delay_s + 1);
  g_assert_true (bms_sim_battery_protections (b) & BMS_SIM_PROT_CELL_UVP2);
  g_assert_true (bms_sim_battery_relays (b) & BMS_SIM_RELAY_LEVEL2);

  /* Charging recovers both. */
  p.cell_uvp2_v = 2.25;
  bms_sim_battery_set_params (b, &p);
  bms_sim_battery_set_current (b, 5);
  bms_sim_battery_advance (b, 1800);
  g_assert_false (bms_sim_battery_protections (b)
                  & (BMS_SIM_PROT_CELL_UVP | BMS_SIM_PROT_CELL_UVP2));
  g_assert_true (bms_sim_battery_discharge_mos (b));
}

static void
test_low_temp_blocks_charge (void)
{
  g_autoptr (BmsSimBattery) b = bms_sim_battery_new (2, 8, BMS_CHEMISTRY_LFP, 50, 0.5, 9);

  bms_sim_battery_set_ambient (b, -35, TRUE);
  bms_sim_battery_set_current (b, 10);
  bms_sim_battery_advance (b, 5);
  g_assert_true (bms_sim_battery_protections (b) & BMS_SIM_PROT_CHARGE_LT);
  g_assert_false (bms_sim_battery_charge_mos (b));
  g_assert_cmpfloat (bms_sim_battery_current (b), ==, 0);
  g_assert_true (bms_sim_battery_warnings (b) & (1u << 9));

  /* Warmed above the recovery temperature, charging flows again. */
  bms_sim_battery_set_ambient (b, 5, TRUE);
  bms_sim_battery_advance (b, 2);
  g_assert_false (bms_sim_battery_protections (b) & BMS_SIM_PROT_CHARGE_LT);
  g_assert_cmpfloat (bms_sim_battery_current (b), ==, 10);
}

static void
test_heater (void)
{
  g_autoptr (BmsSimBattery) b = bms_sim_battery_new (1, 8, BMS_CHEMISTRY_LFP, 50, 0.5, 9);
  BmsSimParams p = *bms_sim_battery_get_params (b);
  double t0;

  p.heater_mode = BMS_SIM_HEATER_CHARGE;
  bms_sim_battery_set_params (b, &p);
  bms_sim_battery_set_ambient (b, -5, TRUE);
  bms_sim_battery_advance (b, 1);
  g_assert_false (bms_sim_battery_heater_on (b)); /* no charger, no heat */

  bms_sim_battery_set_current (b, 10);
  bms_sim_battery_advance (b, 1);
  t0 = bms_sim_battery_cell_temp (b);
  g_assert_true (bms_sim_battery_heater_on (b));
  g_assert_true (bms_sim_battery_relays (b) & BMS_SIM_RELAY_HEATER);
  bms_sim_battery_advance (b, 1800);
  g_assert_cmpfloat (bms_sim_battery_cell_temp (b), >, t0 + 2);
  /* It stops at the stop temperature and holds the pack near it. */
  gboolean seen_off = FALSE;
  double t_max = -100;
  for (int k = 0; k < 8 * 60; k++)
    {
      bms_sim_battery_advance (b, 60);
      seen_off |= !bms_sim_battery_heater_on (b);
      t_max = MAX (t_max, bms_sim_battery_cell_temp (b));
    }
  g_assert_true (seen_off);
  g_assert_cmpfloat (t_max, >=, p.heater_stop_c - 1.5);
  g_assert_cmpfloat (t_max, <, p.heater_stop_c + 2);
}

static void
test_lease_stops_discharge (void)
{
  g_autoptr (BmsSimBattery) b = bms_sim_battery_new (1, 16, BMS_CHEMISTRY_LFP, 100, 0.5, 1);
  BmsSimParams p = *bms_sim_battery_get_params (b);

  bms_sim_battery_set_current (b, -20);
  bms_sim_battery_advance (b, 5);
  g_assert_cmpfloat (bms_sim_battery_current (b), ==, -20);

  p.lease_expired = TRUE;
  bms_sim_battery_set_params (b, &p);
  bms_sim_battery_advance (b, 1);
  g_assert_false (bms_sim_battery_discharge_mos (b));
  g_assert_cmpfloat (bms_sim_battery_current (b), ==, 0);
  /* Charging is still allowed. */
  bms_sim_battery_set_current (b, 20);
  bms_sim_battery_advance (b, 1);
  g_assert_cmpfloat (bms_sim_battery_current (b), ==, 20);
}

static void
test_over_current_and_heat (void)
{
  g_autoptr (BmsSimBattery) b = bms_sim_battery_new (1, 16, BMS_CHEMISTRY_LFP, 100, 0.8, 1);
  const BmsSimParams *p = bms_sim_battery_get_params (b);
  double amb = bms_sim_battery_ambient (b);

  /* Heavy but allowed: things warm up. */
  bms_sim_battery_set_current (b, -150);
  bms_sim_battery_advance (b, 1200);
  g_assert_cmpfloat (bms_sim_battery_current (b), ==, -150);
  g_assert_cmpfloat (bms_sim_battery_mos_temp (b), >, amb + 10);
  g_assert_cmpfloat (bms_sim_battery_cell_temp (b), >, amb + 1);
  g_assert_cmpfloat (bms_sim_battery_box_temp (b), >, amb);

  /* Above the discharge over-current limit: trips after its delay. */
  bms_sim_battery_set_current (b, -(p->discharge_ocp_a + 10));
  bms_sim_battery_advance (b, p->discharge_ocp_delay_s - 1);
  g_assert_true (bms_sim_battery_discharge_mos (b));
  bms_sim_battery_advance (b, 1.5);
  g_assert_false (bms_sim_battery_discharge_mos (b));
  g_assert_true (bms_sim_battery_warnings (b) & (1u << 6));
  /* Released after a while; with the load gone it stays on. */
  bms_sim_battery_set_current (b, 0);
  bms_sim_battery_advance (b, 40);
  g_assert_true (bms_sim_battery_discharge_mos (b));

  /* Resting cools back towards ambient. */
  bms_sim_battery_advance (b, 6 * 3600);
  g_assert_cmpfloat (bms_sim_battery_mos_temp (b), <, amb + 1);
}

static void
test_cycle_profile (void)
{
  g_autoptr (BmsSimBattery) b = bms_sim_battery_new (1, 16, BMS_CHEMISTRY_LFP, 10, 0.5, 2);
  gboolean seen[4] = { FALSE };

  bms_sim_battery_set_cycle (b, TRUE);
  for (int k = 0; k < 12 * 60; k++)
    {
      bms_sim_battery_advance (b, 60);
      seen[bms_sim_battery_phase (b)] = TRUE;
    }
  for (int k = 0; k < 4; k++)
    g_assert_true (seen[k]);
  g_assert_cmpuint (bms_sim_battery_cycles (b), >=, 1);
  /* The demo stays inside the limits: no protection tripped. */
  g_assert_false (bms_sim_battery_protections (b)
                  & (BMS_SIM_PROT_CELL_OVP | BMS_SIM_PROT_CELL_UVP));
}

/* The 256-cell demo runs for hours without tripping anything: only the
 * low-capacity warning at the bottom of each discharge. */
static void
test_master_cycle_quiet (void)
{
  g_autoptr (BmsSimBattery) b = bms_sim_battery_new (16, 16, BMS_CHEMISTRY_LFP, 100, 0.6, 1);
  guint seen = 0;
  double mos_max = 0, bal_max = 0;

  bms_sim_battery_set_cycle (b, TRUE);
  for (int k = 0; k < 12 * 60; k++)
    {
      bms_sim_battery_advance (b, 60);
      seen |= bms_sim_battery_protections (b);
      mos_max = MAX (mos_max, bms_sim_battery_mos_temp (b));
      bal_max = MAX (bal_max, bms_sim_battery_balance_temp (b));
    }
  g_test_message ("12 h: %u cycles, MOSFET up to %.1f °C, balancer up to %.1f °C",
                  bms_sim_battery_cycles (b), mos_max, bal_max);
  g_assert_cmpuint (seen & ~BMS_SIM_PROT_LOW_SOC, ==, 0);
  g_assert_cmpuint (bms_sim_battery_cycles (b), >=, 2);
  /* 50 A through 1 mΩ: about 3 K above ambient. */
  g_assert_cmpfloat (mos_max, >, bms_sim_battery_ambient (b) + 2);
  g_assert_cmpfloat (bal_max, <, 60);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/battery/ocv-shapes", test_ocv_shapes);
  g_test_add_func ("/sim/battery/charge-raises-soc", test_charge_raises_soc);
  g_test_add_func ("/sim/battery/balancing-lowers-highest", test_balancing_lowers_highest);
  g_test_add_func ("/sim/battery/ovp-delay-and-recovery", test_ovp_delay_and_recovery);
  g_test_add_func ("/sim/battery/uvp-and-level2", test_uvp_and_level2);
  g_test_add_func ("/sim/battery/low-temp-blocks-charge", test_low_temp_blocks_charge);
  g_test_add_func ("/sim/battery/heater", test_heater);
  g_test_add_func ("/sim/battery/lease-stops-discharge", test_lease_stops_discharge);
  g_test_add_func ("/sim/battery/over-current-and-heat", test_over_current_and_heat);
  g_test_add_func ("/sim/battery/cycle-profile", test_cycle_profile);
  g_test_add_func ("/sim/battery/master-cycle-quiet", test_master_cycle_quiet);
  return g_test_run ();
}
