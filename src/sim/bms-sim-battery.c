/* bms-sim-battery.c — cells, heat and the protection logic of the simulated pack.
 *
 * Each cell: capacity, ohmic resistance, one RC polarisation pair and
 * self-discharge (each spread by the seed, a weak cell planted on request),
 * true SOC by coulomb counting, OCV curve of its chemistry; terminal voltage
 * OCV + I·R0 + the RC pair's voltage.
 * Heat: one thermal node per module plus MOSFET, box air and balance
 * resistor nodes, each relaxing exponentially to ambient plus its own I²R.
 * The BMS side: SOC estimate against the capacity setting, passive bleed
 * balancing, protections with delay and recovery that open the MOS/relays.
 */
#include "bms-sim-battery.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CELLS (BMS_MAX_MODULES * 16)
#define SUBSTEP_S 0.25
#define MAX_SUBSTEPS 4000  /* bounds CPU at huge time scales */
#define OCP_RELEASE_S 30.0 /* over-current trips release after this */
#define TEMP_TRIP_DELAY_S 2.0
#define TEMP_HYSTERESIS_C 5.0
#define PRECHARGE_S 2.0
#define REST_S 600.0
#define BALANCE_OHMS 40.0 /* bleed resistor: 3.4 V → 85 mA */
#define BALANCE_MIN_A 0.070
#define BALANCE_MAX_A 0.100
#define MOS_OHMS 0.001
#define BOARD_IDLE_W 0.5
/* Ohmic resistance × capacity at 25 °C (Ω·Ah), in BmsChemistry order: an
 * LFP 100 Ah prismatic cell has about 0.5 mΩ, 280 Ah about 0.18 mΩ. */
static const double r0_ohm_ah[] = { 0.050, 0.080, 0.060 };
/* The polarisation pair: its resistance against the ohmic one, and its time
 * constant (s): tens of seconds, so a reading a few seconds after a current
 * step still shows mostly the ohmic part. */
#define R1_RATIO 0.5
#define TAU_MIN_S 30.0
#define TAU_MAX_S 60.0
/* Self-discharge: about 1.5 % a month (0.02 mA per Ah), spread ±10 % (σ). */
#define LEAK_A_PER_AH 0.00002
/* The demo's household load while discharging: a new level every 1 to 10
 * minutes, 0.05 to 0.5 C, now and then a burst (a kettle, an oven). */
#define LOAD_MIN_S 60.0
#define LOAD_MAX_S 600.0
#define LOAD_MIN_C 0.05
#define LOAD_MAX_C 0.5
#define LOAD_BURST_P 0.12
#define LOAD_BURST_MIN_C 0.6
#define LOAD_BURST_MAX_C 0.9

struct _BmsSimBattery
{
  guint n_modules, cells_per_module, n_cells;
  BmsChemistry chemistry;
  double capacity_ah;
  GRand *rand;
  BmsSimParams params;

  double cap_ah[MAX_CELLS];
  double soc[MAX_CELLS];
  double r_ohm[MAX_CELLS];    /* ohmic (R0) */
  double r1_ohm[MAX_CELLS];   /* polarisation pair: resistance … */
  double tau_s[MAX_CELLS];    /* … and time constant */
  double v_rc[MAX_CELLS];     /* … and its voltage now */
  double rc_decay[MAX_CELLS]; /* exp (-h / τ) for the step rc_h */
  double rc_h;
  double leak_a[MAX_CELLS]; /* self-discharge */
  gboolean weak[MAX_CELLS]; /* planted by bms_sim_battery_plant_weak_cells */
  double v[MAX_CELLS];      /* terminal voltage at the last step */
  double vmin, vmax;        /* of v[] */
  double bal_a[MAX_CELLS];  /* bleed current now (0 = not balancing) */
  double sensor_offset[BMS_MAX_MODULES][3];

  double requested_a, current_a;
  double sense_gain, calibration;
  gboolean cycle;
  BmsSimPhase phase;
  double phase_time;
  GRand *load_rand; /* the demo load's own, so nothing else shifts it */
  double load_c;    /* the demo load's level now (in C) … */
  double load_left; /* … for this many more seconds */
  double soc_estimate;

  double ambient, module_t[BMS_MAX_MODULES], mos_t, box_t, balance_t;
  gboolean heater;

  guint tripped;                    /* BmsSimProtection */
  double timer[BMS_SIM_PROT_COUNT]; /* condition held for … s */
  double since[BMS_SIM_PROT_COUNT]; /* tripped for … s */
  gboolean chg_mos, dis_mos, asleep;
  double precharge_left;

  double discharged_ah, total_ah;
  double time;
};

/* ---- open-circuit voltage ------------------------------------------------ */

typedef struct
{
  double soc, v;
} OcvPoint;

/* LFP: steep below 10 %, the long flat plateau 3.25–3.34 V, steep above 95 %. */
static const OcvPoint ocv_lfp[] = {
  { 0.00, 2.500 }, { 0.02, 2.900 }, { 0.05, 3.100 },  { 0.10, 3.200 },
  { 0.20, 3.250 }, { 0.30, 3.275 }, { 0.40, 3.290 },  { 0.50, 3.300 },
  { 0.60, 3.305 }, { 0.70, 3.315 }, { 0.80, 3.330 },  { 0.90, 3.340 },
  { 0.95, 3.360 }, { 0.98, 3.420 }, { 0.995, 3.500 }, { 1.00, 3.650 },
};
/* NMC: sloped all the way, 3.0 V empty, 4.2 V full. */
static const OcvPoint ocv_nmc[] = {
  { 0.00, 3.000 }, { 0.03, 3.300 }, { 0.07, 3.450 }, { 0.10, 3.500 }, { 0.20, 3.580 },
  { 0.30, 3.630 }, { 0.40, 3.680 }, { 0.50, 3.740 }, { 0.60, 3.820 }, { 0.70, 3.900 },
  { 0.80, 3.980 }, { 0.90, 4.070 }, { 0.97, 4.150 }, { 1.00, 4.200 },
};
/* LTO: 1.8 V empty, a gentle 2.25–2.4 V middle, 2.8 V full. */
static const OcvPoint ocv_lto[] = {
  { 0.00, 1.800 }, { 0.03, 2.000 }, { 0.07, 2.150 }, { 0.15, 2.220 },
  { 0.30, 2.260 }, { 0.50, 2.300 }, { 0.70, 2.350 }, { 0.85, 2.420 },
  { 0.93, 2.500 }, { 0.98, 2.650 }, { 1.00, 2.800 },
};

static double ocv_from_table (BmsChemistry chemistry, double soc);

/* Every table's points sit on multiples of 1/OCV_GRID, so interpolating
 * between grid points gives the same curve without the search: a 256-cell
 * week in process asks this for every cell at every step. */
#define OCV_GRID 1000

double
bms_sim_ocv (BmsChemistry chemistry, double soc)
{
  static double grid[3][OCV_GRID + 1];
  static gsize done = 0;
  guint c = CLAMP ((guint)chemistry, 0, 2), k;
  double x;

  if (g_once_init_enter (&done))
    {
      for (guint t = 0; t < 3; t++)
        for (guint j = 0; j <= OCV_GRID; j++)
          grid[t][j] = ocv_from_table ((BmsChemistry)t, (double)j / OCV_GRID);
      g_once_init_leave (&done, 1);
    }
  if (!(soc > 0.0 && soc < 1.0))
    return ocv_from_table (chemistry, soc);
  x = soc * OCV_GRID;
  k = MIN ((guint)x, OCV_GRID - 1);
  return grid[c][k] + (x - k) * (grid[c][k + 1] - grid[c][k]);
}

static double
ocv_from_table (BmsChemistry chemistry, double soc)
{
  const OcvPoint *t;
  gsize n;

  switch (chemistry)
    {
    case BMS_CHEMISTRY_NMC:
      t = ocv_nmc;
      n = G_N_ELEMENTS (ocv_nmc);
      break;
    case BMS_CHEMISTRY_LTO:
      t = ocv_lto;
      n = G_N_ELEMENTS (ocv_lto);
      break;
    case BMS_CHEMISTRY_LFP:
    default:
      t = ocv_lfp;
      n = G_N_ELEMENTS (ocv_lfp);
      break;
    }

  /* Beyond the ends the cell runs away: 10 mV per 0.1 % of SOC. */
  if (soc <= 0.0)
    return t[0].v + soc * 10.0;
  if (soc >= 1.0)
    return t[n - 1].v + (soc - 1.0) * 10.0;

  for (gsize i = 1; i < n; i++)
    if (soc <= t[i].soc)
      {
        double f = (soc - t[i - 1].soc) / (t[i].soc - t[i - 1].soc);
        return t[i - 1].v + f * (t[i].v - t[i - 1].v);
      }
  return t[n - 1].v;
}

/* ---- parameters ---------------------------------------------------------- */

void
bms_sim_params_defaults (BmsSimParams *p, BmsChemistry chemistry, guint n_cells, double capacity_ah)
{
  /* Vendor sheet columns, in BmsChemistry order: LFP, NMC, LTO (V per cell). */
  static const double ovp[] = { 3.650, 4.200, 2.800 };
  static const double ovp2[] = { 3.750, 4.300, 2.950 };
  static const double ovp_r[] = { 3.550, 4.100, 2.700 };
  static const double uvp[] = { 2.500, 2.750, 1.800 };
  static const double uvp2[] = { 2.250, 2.500, 1.600 };
  static const double uvp_r[] = { 2.900, 3.100, 2.200 };
  static const double bal[] = { 3.400, 4.100, 2.600 };
  guint c = CLAMP ((guint)chemistry, 0, 2);

  memset (p, 0, sizeof *p);
  p->cell_ovp_v = ovp[c];
  p->cell_ovp2_v = ovp2[c];
  p->cell_ovp_recovery_v = ovp_r[c];
  p->cell_ovp_delay_s = 5;
  p->cell_uvp_v = uvp[c];
  p->cell_uvp2_v = uvp2[c];
  p->cell_uvp_recovery_v = uvp_r[c];
  p->cell_uvp_delay_s = 5;
  /* Pack limits sit a little outside the cell limits so the cell ones act
   * first, as on a real board. */
  p->pack_ovp_v = n_cells * (ovp[c] + 0.05);
  p->pack_uvp_v = n_cells * (uvp[c] - 0.05);
  p->cell_diff_v = 0.800;
  /* "Discharge over-current is twice the discharge current": 1 C continuous. */
  p->charge_ocp_a = capacity_ah;
  p->charge_ocp_delay_s = 5;
  p->discharge_ocp_a = 2 * capacity_ah;
  p->discharge_ocp_delay_s = 5;
  p->peak_discharge_a = 3 * capacity_ah;
  p->balance_start_v = bal[c];
  p->balance_diff_v = 0.020;
  p->balancer = TRUE;
  p->mos_ot_c = 90;
  p->mos_ot_recovery_c = 70;
  p->box_ot_c = 70;
  p->box_ot_recovery_c = 65;
  p->balance_ot_c = 70;
  p->balance_ot_recovery_c = 65;
  p->temp_diff_c = 15;
  p->charge_ot_c = 60;
  p->discharge_ot_c = 60;
  p->charge_lt_c = -30;
  p->charge_lt_recovery_c = -10;
  p->discharge_lt_c = -30;
  p->discharge_lt_recovery_c = -10;
  p->charge_switch = TRUE;
  p->discharge_switch = TRUE;
  p->capacity_setting_ah = capacity_ah;
  p->low_soc_alarm_pct = 20;
  p->heater_mode = BMS_SIM_HEATER_OFF;
  p->heater_start_c = 0;
  p->heater_stop_c = 10;
  p->lease_expired = FALSE;
}

/* ---- life cycle ---------------------------------------------------------- */

static double
gauss (GRand *r)
{
  double u1 = g_rand_double_range (r, 1e-12, 1.0);
  double u2 = g_rand_double (r);
  return sqrt (-2.0 * log (u1)) * cos (2 * G_PI * u2);
}

static void update_extremes (BmsSimBattery *b);

/* 1 + sigma × a normal draw, kept within [lo, hi] (one draw: CLAMP would
 * evaluate it up to three times). */
static double
spread (GRand *r, double sigma, double lo, double hi)
{
  double x = 1.0 + sigma * gauss (r);
  return CLAMP (x, lo, hi);
}

BmsSimBattery *
bms_sim_battery_new (guint modules, guint cells_per_module, BmsChemistry chemistry,
                     double capacity_ah, double initial_soc, guint32 seed)
{
  BmsSimBattery *b = g_new0 (BmsSimBattery, 1);

  g_return_val_if_fail (modules >= 1 && modules <= BMS_MAX_MODULES, NULL);
  g_return_val_if_fail (cells_per_module >= 1 && cells_per_module <= 16, NULL);

  b->n_modules = modules;
  b->cells_per_module = cells_per_module;
  b->n_cells = modules * cells_per_module;
  b->chemistry = chemistry;
  b->capacity_ah = capacity_ah;
  b->rand = g_rand_new_with_seed (seed);

  for (guint i = 0; i < b->n_cells; i++)
    {
      /* ±1 % capacity (σ), ±1.5 % SOC, ±5 % resistance: a matched pack. */
      double soc;

      b->cap_ah[i] = capacity_ah * spread (b->rand, 0.01, 0.97, 1.03);
      soc = initial_soc + 0.015 * gauss (b->rand);
      b->soc[i] = CLAMP (soc, 0.0, 1.0);
      b->r_ohm[i] = r0_ohm_ah[CLAMP ((guint)chemistry, 0, 2)] / capacity_ah
                    * spread (b->rand, 0.05, 0.85, 1.15);
      b->v[i] = bms_sim_ocv (chemistry, b->soc[i]);
    }
  for (guint m = 0; m < modules; m++)
    for (guint s = 0; s < 3; s++)
      b->sensor_offset[m][s] = g_rand_double_range (b->rand, -0.8, 0.8);
  b->sense_gain = g_rand_double_range (b->rand, 0.985, 1.015);
  b->calibration = 1.0;
  for (guint i = 0; i < b->n_cells; i++)
    {
      b->r1_ohm[i] = R1_RATIO * b->r_ohm[i] * spread (b->rand, 0.1, 0.7, 1.3);
      b->tau_s[i] = g_rand_double_range (b->rand, TAU_MIN_S, TAU_MAX_S);
      b->leak_a[i] = LEAK_A_PER_AH * capacity_ah * spread (b->rand, 0.1, 0.7, 1.3);
    }
  b->load_rand = g_rand_new_with_seed (seed ^ 0x10AD10ADu);

  b->ambient = 25;
  for (guint m = 0; m < modules; m++)
    b->module_t[m] = b->ambient;
  b->mos_t = b->box_t = b->balance_t = b->ambient;

  double sum = 0;
  for (guint i = 0; i < b->n_cells; i++)
    sum += b->soc[i];
  b->soc_estimate = sum / b->n_cells;
  update_extremes (b);

  bms_sim_params_defaults (&b->params, chemistry, b->n_cells, capacity_ah);
  b->chg_mos = b->dis_mos = TRUE;
  return b;
}

void
bms_sim_battery_free (BmsSimBattery *b)
{
  if (b == NULL)
    return;
  g_rand_free (b->rand);
  g_rand_free (b->load_rand);
  g_free (b);
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of values[i] over the cells not planted (all if every one is). */
static double
median_unplanted (BmsSimBattery *b, const double *values)
{
  g_autofree double *v = g_new (double, b->n_cells);
  guint n = 0;

  for (guint i = 0; i < b->n_cells; i++)
    if (!b->weak[i])
      v[n++] = values[i];
  if (n == 0)
    for (guint i = 0; i < b->n_cells; i++)
      v[n++] = values[i];
  qsort (v, n, sizeof *v, compare_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void
bms_sim_battery_plant_weak_cells (BmsSimBattery *b, const BmsSimWeakCell *weak, guint n)
{
  double r_median, cap_median;

  for (guint k = 0; k < n; k++)
    {
      g_return_if_fail (weak[k].cell >= 1 && weak[k].cell <= b->n_cells);
      b->weak[weak[k].cell - 1] = TRUE;
    }
  r_median = median_unplanted (b, b->r_ohm);
  cap_median = median_unplanted (b, b->cap_ah);
  for (guint k = 0; k < n; k++)
    {
      guint i = weak[k].cell - 1;
      double r = weak[k].r_factor * r_median;

      /* A cell that has aged is worse in both parts of its resistance. */
      b->r1_ohm[i] *= r / b->r_ohm[i];
      b->r_ohm[i] = r;
      b->cap_ah[i] = weak[k].cap_factor * cap_median;
      b->leak_a[i] += weak[k].leak_ma / 1000.0;
    }
}

void
bms_sim_battery_cell_truth (BmsSimBattery *b, guint i, BmsSimCellTruth *t)
{
  g_return_if_fail (i < b->n_cells && t != NULL);
  t->resistance_ohm = b->r_ohm[i];
  t->polarisation_ohm = b->r1_ohm[i];
  t->tau_s = b->tau_s[i];
  t->capacity_ah = b->cap_ah[i];
  t->leak_a = b->leak_a[i];
  t->weak = b->weak[i];
}

void
bms_sim_battery_set_params (BmsSimBattery *b, const BmsSimParams *p)
{
  b->params = *p;
}

const BmsSimParams *
bms_sim_battery_get_params (BmsSimBattery *b)
{
  return &b->params;
}

void
bms_sim_battery_set_current (BmsSimBattery *b, double amps)
{
  b->requested_a = amps;
  b->cycle = FALSE;
}

void
bms_sim_battery_set_cycle (BmsSimBattery *b, gboolean cycle)
{
  b->cycle = cycle;
  b->phase = BMS_SIM_PHASE_CHARGE;
  b->phase_time = 0;
}

void
bms_sim_battery_set_ambient (BmsSimBattery *b, double celsius, gboolean settle)
{
  b->ambient = celsius;
  if (!settle)
    return;
  for (guint m = 0; m < b->n_modules; m++)
    b->module_t[m] = celsius;
  b->mos_t = b->box_t = b->balance_t = celsius;
}

void
bms_sim_battery_reset_protections (BmsSimBattery *b)
{
  b->tripped = 0;
  memset (b->timer, 0, sizeof b->timer);
  memset (b->since, 0, sizeof b->since);
}

void
bms_sim_battery_set_asleep (BmsSimBattery *b, gboolean asleep)
{
  b->asleep = asleep;
}

/* ---- one step ------------------------------------------------------------ */

/* The highest and lowest cell, once per step: three stages ask, and a
 * 256-cell week in process is millions of steps. */
static void
update_extremes (BmsSimBattery *b)
{
  double lo = b->v[0], hi = b->v[0];

  for (guint i = 1; i < b->n_cells; i++)
    {
      lo = MIN (lo, b->v[i]);
      hi = MAX (hi, b->v[i]);
    }
  b->vmin = lo;
  b->vmax = hi;
}

static double
max_cell_v (BmsSimBattery *b)
{
  return b->vmax;
}

static double
min_cell_v (BmsSimBattery *b)
{
  return b->vmin;
}

static double
min_module_sensor (BmsSimBattery *b)
{
  double m = 1e9;
  for (guint k = 0; k < b->n_modules; k++)
    for (guint s = 0; s < 3; s++)
      m = MIN (m, bms_sim_battery_module_temp (b, k, s));
  return m;
}

static double
max_module_sensor (BmsSimBattery *b)
{
  double m = -1e9;
  for (guint k = 0; k < b->n_modules; k++)
    for (guint s = 0; s < 3; s++)
      m = MAX (m, bms_sim_battery_module_temp (b, k, s));
  return m;
}

/* The demo's discharge load in C: levels held 1 to 10 minutes, as a
 * household's appliances switch, so an estimator finds current steps. Drawn
 * from the load's own generator: the same seed gives the same load. */
static double
household_load (BmsSimBattery *b, double h)
{
  b->load_left -= h;
  if (b->load_left > 0)
    return b->load_c;
  if (g_rand_double (b->load_rand) < LOAD_BURST_P)
    b->load_c = g_rand_double_range (b->load_rand, LOAD_BURST_MIN_C, LOAD_BURST_MAX_C);
  else
    b->load_c = g_rand_double_range (b->load_rand, LOAD_MIN_C, LOAD_MAX_C);
  /* The overshoot carries over: a level lasts what was drawn, whatever the
   * step size. */
  b->load_left += g_rand_double_range (b->load_rand, LOAD_MIN_S, LOAD_MAX_S);
  return b->load_c;
}

/* The demo profile: CC-CV charge at 0.5 C, rest, discharge into a household
 * load that steps between levels, rest, again. */
static void
run_profile (BmsSimBattery *b, double h)
{
  const BmsSimParams *p = &b->params;
  double c = b->params.capacity_setting_ah > 0 ? b->params.capacity_setting_ah : b->capacity_ah;
  double vmax = max_cell_v (b), vmin = min_cell_v (b);

  b->phase_time += h;
  switch (b->phase)
    {
    case BMS_SIM_PHASE_CHARGE:
      {
        double cv = p->cell_ovp_v - 0.03;
        double f = CLAMP ((cv - vmax) / 0.07, 0.05, 1.0);
        b->requested_a = 0.5 * c * f;
        if (b->soc_estimate >= 0.99 || (b->tripped & BMS_SIM_PROT_CELL_OVP)
            || (f <= 0.05 && vmax >= cv))
          {
            b->phase = BMS_SIM_PHASE_REST_FULL;
            b->phase_time = 0;
          }
      }
      break;
    case BMS_SIM_PHASE_DISCHARGE:
      b->requested_a = -household_load (b, h) * c;
      if (b->soc_estimate <= 0.10 || (b->tripped & BMS_SIM_PROT_CELL_UVP)
          || vmin <= p->cell_uvp_v + 0.1)
        {
          b->phase = BMS_SIM_PHASE_REST_EMPTY;
          b->phase_time = 0;
        }
      break;
    case BMS_SIM_PHASE_REST_FULL:
    case BMS_SIM_PHASE_REST_EMPTY:
      b->requested_a = 0;
      if (b->phase_time >= REST_S)
        {
          b->phase = b->phase == BMS_SIM_PHASE_REST_FULL ? BMS_SIM_PHASE_DISCHARGE
                                                         : BMS_SIM_PHASE_CHARGE;
          b->phase_time = 0;
          b->load_left = 0; /* a new level at once */
        }
      break;
    }
}

static void
update_heater (BmsSimBattery *b)
{
  const BmsSimParams *p = &b->params;
  gboolean wanted;
  double t = min_module_sensor (b);

  switch (p->heater_mode)
    {
    case BMS_SIM_HEATER_CHARGE:
      wanted = b->requested_a > 0;
      break;
    case BMS_SIM_HEATER_DISCHARGE:
      wanted = b->requested_a < 0;
      break;
    case BMS_SIM_HEATER_ALWAYS:
      wanted = TRUE;
      break;
    case BMS_SIM_HEATER_OFF:
    default:
      wanted = FALSE;
      break;
    }
  if (!wanted || b->asleep)
    b->heater = FALSE;
  else if (t < p->heater_start_c)
    b->heater = TRUE;
  else if (t >= p->heater_stop_c)
    b->heater = FALSE;
}

static void
update_switches (BmsSimBattery *b, double h)
{
  const BmsSimParams *p = &b->params;
  gboolean was_dis = b->dis_mos;

  b->chg_mos = p->charge_switch && !b->asleep && !(b->tripped & BMS_SIM_PROT_BLOCKS_CHARGE);
  b->dis_mos = p->discharge_switch && !b->asleep && !(b->tripped & BMS_SIM_PROT_BLOCKS_DISCHARGE);
  if (b->dis_mos && !was_dis)
    b->precharge_left = PRECHARGE_S;
  else if (b->precharge_left > 0)
    b->precharge_left -= h;

  b->current_a = b->requested_a;
  if ((b->current_a > 0 && !b->chg_mos) || (b->current_a < 0 && !b->dis_mos))
    b->current_a = 0;
  /* The load sees nothing until the pre-charge relay has done its job. */
  if (b->current_a < 0 && b->precharge_left > 0)
    b->current_a = 0;
}

static void
update_balancing (BmsSimBattery *b)
{
  const BmsSimParams *p = &b->params;
  double vmin = min_cell_v (b);

  for (guint i = 0; i < b->n_cells; i++)
    {
      gboolean on = p->balancer && !b->asleep && b->v[i] > p->balance_start_v
                    && b->v[i] - vmin > p->balance_diff_v;
      b->bal_a[i] = on ? CLAMP (b->v[i] / BALANCE_OHMS, BALANCE_MIN_A, BALANCE_MAX_A) : 0;
    }
}

static void
update_charge (BmsSimBattery *b, double h)
{
  double i_pack = b->current_a;
  double i_seen = bms_sim_battery_measured_current (b);
  double c = b->params.capacity_setting_ah > 0 ? b->params.capacity_setting_ah : b->capacity_ah;

  /* An advance runs substeps of one size: exp () once per cell for it. */
  if (h != b->rc_h)
    {
      for (guint i = 0; i < b->n_cells; i++)
        b->rc_decay[i] = exp (-h / b->tau_s[i]);
      b->rc_h = h;
    }
  for (guint i = 0; i < b->n_cells; i++)
    {
      double i_cell = i_pack - b->bal_a[i];
      double decay = b->rc_decay[i];

      /* The RC pair, exactly for a current held over the step. */
      b->v_rc[i] = b->v_rc[i] * decay + i_cell * b->r1_ohm[i] * (1.0 - decay);
      /* Self-discharge flows inside the cell: the shunt never sees it. */
      b->soc[i] += (i_cell - b->leak_a[i]) * h / 3600.0 / b->cap_ah[i];
      b->v[i] = bms_sim_ocv (b->chemistry, b->soc[i]) + i_cell * b->r_ohm[i] + b->v_rc[i];
    }
  /* The BMS counts what its shunt tells it. */
  b->soc_estimate = CLAMP (b->soc_estimate + i_seen * h / 3600.0 / c, 0.0, 1.0);
  if (i_seen < 0)
    b->discharged_ah += -i_seen * h / 3600.0;
  b->total_ah += fabs (i_seen) * h / 3600.0;
}

/* Exponential relaxation towards ambient + P/G: stable for any step. */
static double
relax (double t, double ambient, double power_w, double g_w_per_k, double c_j_per_k, double h)
{
  double eq = ambient + power_w / g_w_per_k;
  return eq + (t - eq) * exp (-h * g_w_per_k / c_j_per_k);
}

static void
update_thermal (BmsSimBattery *b, double h)
{
  double i2 = b->current_a * b->current_a;
  double sum_module = 0, bal_w = 0;

  for (guint m = 0; m < b->n_modules; m++)
    {
      double c = b->cells_per_module * b->capacity_ah * 20.0; /* 2 kJ/K per 100 Ah cell */
      double g = b->cells_per_module * 0.5;
      double w = 0;
      for (guint k = 0; k < b->cells_per_module; k++)
        {
          guint i = m * b->cells_per_module + k;
          w += i2 * b->r_ohm[i] + b->v_rc[i] * b->v_rc[i] / b->r1_ohm[i];
        }
      /* Heater pads good for 30 K above ambient (15 W per 100 Ah cell). */
      if (b->heater)
        w += g * 30.0;
      b->module_t[m] = relax (b->module_t[m], b->ambient, w, g, c, h);
      sum_module += b->module_t[m];
    }
  /* Each slave module bleeds through its own resistors; the one balance
   * sensor sits on the hottest (the module bleeding most). */
  for (guint m = 0; m < b->n_modules; m++)
    {
      double w = 0;
      for (guint k = 0; k < b->cells_per_module; k++)
        {
          guint i = m * b->cells_per_module + k;
          w += b->bal_a[i] * b->v[i];
        }
      bal_w = MAX (bal_w, w);
    }
  b->mos_t = relax (b->mos_t, b->ambient, BOARD_IDLE_W + i2 * MOS_OHMS, 1.0, 200.0, h);
  b->balance_t = relax (b->balance_t, b->ambient, bal_w, 0.3, 50.0, h);
  /* Box air sits between ambient and the cells. */
  b->box_t = relax (b->box_t, (b->ambient + sum_module / b->n_modules) / 2, 0, 2.0, 500.0, h);
}

static guint
prot_index (BmsSimProtection p)
{
  return g_bit_nth_lsf (p, -1);
}

/* Generic trip/recover: the condition must hold for delay_s to trip; once
 * tripped it stays until recover is true. */
static void
protect (BmsSimBattery *b, BmsSimProtection which, gboolean trip, gboolean recover, double delay_s,
         double h)
{
  guint k = prot_index (which);

  if (b->tripped & which)
    {
      b->since[k] += h;
      if (recover)
        {
          b->tripped &= ~which;
          b->timer[k] = 0;
          b->since[k] = 0;
        }
      return;
    }
  if (!trip)
    {
      b->timer[k] = 0;
      return;
    }
  b->timer[k] += h;
  /* 1 µs of slack so a delay of n substeps trips on the n-th. */
  if (b->timer[k] + 1e-6 >= delay_s)
    {
      b->tripped |= which;
      b->since[k] = 0;
    }
}

static gboolean
released (BmsSimBattery *b, BmsSimProtection which)
{
  return b->since[prot_index (which)] >= OCP_RELEASE_S;
}

static void
update_protections (BmsSimBattery *b, double h)
{
  const BmsSimParams *p = &b->params;
  double vmax = max_cell_v (b), vmin = min_cell_v (b);
  double pack = bms_sim_battery_pack_voltage (b);
  double tmax = max_module_sensor (b), tmin = min_module_sensor (b);
  double i = bms_sim_battery_measured_current (b);
  gboolean was_ovp = b->tripped & BMS_SIM_PROT_CELL_OVP;
  gboolean was_uvp = b->tripped & BMS_SIM_PROT_CELL_UVP;

  protect (b, BMS_SIM_PROT_CELL_OVP, p->cell_ovp_v > 0 && vmax >= p->cell_ovp_v,
           vmax <= p->cell_ovp_recovery_v, p->cell_ovp_delay_s, h);
  protect (b, BMS_SIM_PROT_CELL_UVP, p->cell_uvp_v > 0 && vmin <= p->cell_uvp_v,
           vmin >= p->cell_uvp_recovery_v, p->cell_uvp_delay_s, h);
  protect (b, BMS_SIM_PROT_CELL_OVP2, p->cell_ovp2_v > 0 && vmax >= p->cell_ovp2_v,
           vmax <= p->cell_ovp_recovery_v, p->cell_ovp_delay_s, h);
  protect (b, BMS_SIM_PROT_CELL_UVP2, p->cell_uvp2_v > 0 && vmin <= p->cell_uvp2_v,
           vmin >= p->cell_uvp_recovery_v, p->cell_uvp_delay_s, h);
  protect (b, BMS_SIM_PROT_PACK_OVP, p->pack_ovp_v > 0 && pack >= p->pack_ovp_v,
           pack <= p->pack_ovp_v - 0.1 * b->n_cells, p->cell_ovp_delay_s, h);
  protect (b, BMS_SIM_PROT_PACK_UVP, p->pack_uvp_v > 0 && pack <= p->pack_uvp_v,
           pack >= p->pack_uvp_v + 0.2 * b->n_cells, p->cell_uvp_delay_s, h);
  protect (b, BMS_SIM_PROT_CELL_DIFF, p->cell_diff_v > 0 && vmax - vmin >= p->cell_diff_v,
           vmax - vmin < p->cell_diff_v * 0.9, 1.0, h);

  protect (b, BMS_SIM_PROT_CHARGE_OCP, p->charge_ocp_a > 0 && i > p->charge_ocp_a,
           released (b, BMS_SIM_PROT_CHARGE_OCP), p->charge_ocp_delay_s, h);
  protect (b, BMS_SIM_PROT_DISCHARGE_OCP, p->discharge_ocp_a > 0 && -i > p->discharge_ocp_a,
           released (b, BMS_SIM_PROT_DISCHARGE_OCP), p->discharge_ocp_delay_s, h);
  protect (b, BMS_SIM_PROT_PEAK_OCP, p->peak_discharge_a > 0 && -i > p->peak_discharge_a,
           released (b, BMS_SIM_PROT_PEAK_OCP), 0, h);

  protect (b, BMS_SIM_PROT_MOS_OT, b->mos_t >= p->mos_ot_c, b->mos_t <= p->mos_ot_recovery_c,
           TEMP_TRIP_DELAY_S, h);
  protect (b, BMS_SIM_PROT_BOX_OT, b->box_t >= p->box_ot_c, b->box_t <= p->box_ot_recovery_c,
           TEMP_TRIP_DELAY_S, h);
  protect (b, BMS_SIM_PROT_BALANCE_OT, p->balance_ot_c > 0 && b->balance_t >= p->balance_ot_c,
           b->balance_t <= p->balance_ot_recovery_c, TEMP_TRIP_DELAY_S, h);
  protect (b, BMS_SIM_PROT_CHARGE_OT, tmax >= p->charge_ot_c,
           tmax <= p->charge_ot_c - TEMP_HYSTERESIS_C, TEMP_TRIP_DELAY_S, h);
  protect (b, BMS_SIM_PROT_DISCHARGE_OT, tmax >= p->discharge_ot_c,
           tmax <= p->discharge_ot_c - TEMP_HYSTERESIS_C, TEMP_TRIP_DELAY_S, h);
  protect (b, BMS_SIM_PROT_CHARGE_LT, tmin <= p->charge_lt_c, tmin >= p->charge_lt_recovery_c,
           TEMP_TRIP_DELAY_S, h);
  protect (b, BMS_SIM_PROT_DISCHARGE_LT, tmin <= p->discharge_lt_c,
           tmin >= p->discharge_lt_recovery_c, TEMP_TRIP_DELAY_S, h);
  protect (b, BMS_SIM_PROT_TEMP_DIFF, p->temp_diff_c > 0 && tmax - tmin >= p->temp_diff_c,
           tmax - tmin < p->temp_diff_c - 1, TEMP_TRIP_DELAY_S, h);

  protect (b, BMS_SIM_PROT_LOW_SOC, b->soc_estimate * 100 <= p->low_soc_alarm_pct,
           b->soc_estimate * 100 > p->low_soc_alarm_pct + 2, 0, h);
  protect (b, BMS_SIM_PROT_LEASE, p->lease_expired, !p->lease_expired, 0, h);

  /* A full or an empty pack is where the SOC counter gets corrected. */
  if (!was_ovp && (b->tripped & BMS_SIM_PROT_CELL_OVP))
    b->soc_estimate = 1.0;
  if (!was_uvp && (b->tripped & BMS_SIM_PROT_CELL_UVP))
    b->soc_estimate = 0.0;
}

static void
step (BmsSimBattery *b, double h)
{
  if (b->cycle)
    run_profile (b, h);
  update_heater (b);
  update_switches (b, h);
  update_balancing (b);
  update_charge (b, h);
  update_extremes (b);
  update_thermal (b, h);
  update_protections (b, h);
  b->time += h;
}

void
bms_sim_battery_advance (BmsSimBattery *b, double dt_s)
{
  guint n;
  double h;

  if (!(dt_s > 0))
    return;
  n = (guint)MIN (ceil (dt_s / SUBSTEP_S - 1e-9), (double)MAX_SUBSTEPS);
  n = MAX (n, 1);
  h = dt_s / n;
  for (guint k = 0; k < n; k++)
    step (b, h);
}

/* ---- read-outs ----------------------------------------------------------- */

guint
bms_sim_battery_n_cells (BmsSimBattery *b)
{
  return b->n_cells;
}
guint
bms_sim_battery_n_modules (BmsSimBattery *b)
{
  return b->n_modules;
}
guint
bms_sim_battery_cells_per_module (BmsSimBattery *b)
{
  return b->cells_per_module;
}
BmsChemistry
bms_sim_battery_chemistry (BmsSimBattery *b)
{
  return b->chemistry;
}

double
bms_sim_battery_cell_voltage (BmsSimBattery *b, guint i)
{
  g_return_val_if_fail (i < b->n_cells, 0);
  return b->v[i];
}

double
bms_sim_battery_cell_soc (BmsSimBattery *b, guint i)
{
  g_return_val_if_fail (i < b->n_cells, 0);
  return b->soc[i];
}

gboolean
bms_sim_battery_cell_balancing (BmsSimBattery *b, guint i)
{
  g_return_val_if_fail (i < b->n_cells, FALSE);
  return b->bal_a[i] > 0;
}

double
bms_sim_battery_pack_voltage (BmsSimBattery *b)
{
  double sum = 0;
  for (guint i = 0; i < b->n_cells; i++)
    sum += b->v[i];
  return sum;
}

double
bms_sim_battery_current (BmsSimBattery *b)
{
  return b->current_a;
}
double
bms_sim_battery_requested_current (BmsSimBattery *b)
{
  return b->requested_a;
}

double
bms_sim_battery_measured_current (BmsSimBattery *b)
{
  return b->current_a * b->sense_gain * b->calibration;
}

gboolean
bms_sim_battery_calibrate_current (BmsSimBattery *b, double real_a)
{
  double raw = fabs (b->current_a * b->sense_gain);

  if (raw < 0.5 || !(fabs (real_a) > 0))
    return FALSE;
  b->calibration = fabs (real_a) / raw;
  return TRUE;
}

double
bms_sim_battery_get_calibration (BmsSimBattery *b)
{
  return b->calibration;
}

void
bms_sim_battery_set_calibration (BmsSimBattery *b, double factor)
{
  if (factor > 0.5 && factor < 2.0)
    b->calibration = factor;
}
double
bms_sim_battery_soc (BmsSimBattery *b)
{
  return b->soc_estimate;
}

void
bms_sim_battery_set_soc_estimate (BmsSimBattery *b, double soc)
{
  b->soc_estimate = CLAMP (soc, 0.0, 1.0);
}

double
bms_sim_battery_mos_temp (BmsSimBattery *b)
{
  return b->mos_t;
}
double
bms_sim_battery_box_temp (BmsSimBattery *b)
{
  return b->box_t;
}
double
bms_sim_battery_balance_temp (BmsSimBattery *b)
{
  return b->balance_t;
}
double
bms_sim_battery_ambient (BmsSimBattery *b)
{
  return b->ambient;
}

double
bms_sim_battery_cell_temp (BmsSimBattery *b)
{
  double sum = 0;
  for (guint m = 0; m < b->n_modules; m++)
    sum += b->module_t[m];
  return sum / b->n_modules;
}

double
bms_sim_battery_module_temp (BmsSimBattery *b, guint module, guint sensor)
{
  g_return_val_if_fail (module < b->n_modules && sensor < 3, 0);
  return b->module_t[module] + b->sensor_offset[module][sensor];
}

gboolean
bms_sim_battery_charge_mos (BmsSimBattery *b)
{
  return b->chg_mos;
}
gboolean
bms_sim_battery_discharge_mos (BmsSimBattery *b)
{
  return b->dis_mos;
}
gboolean
bms_sim_battery_heater_on (BmsSimBattery *b)
{
  return b->heater;
}
guint
bms_sim_battery_protections (BmsSimBattery *b)
{
  return b->tripped;
}
double
bms_sim_battery_total_ah (BmsSimBattery *b)
{
  return b->total_ah;
}
double
bms_sim_battery_time (BmsSimBattery *b)
{
  return b->time;
}
BmsSimPhase
bms_sim_battery_phase (BmsSimBattery *b)
{
  return b->phase;
}
double
bms_sim_battery_random (BmsSimBattery *b)
{
  return g_rand_double (b->rand);
}

gboolean
bms_sim_battery_balancing (BmsSimBattery *b)
{
  for (guint i = 0; i < b->n_cells; i++)
    if (b->bal_a[i] > 0)
      return TRUE;
  return FALSE;
}

guint
bms_sim_battery_relays (BmsSimBattery *b)
{
  guint r = 0;

  if (b->dis_mos && b->precharge_left <= 0)
    r |= BMS_SIM_RELAY_DISCHARGE;
  if (b->dis_mos && b->precharge_left > 0)
    r |= BMS_SIM_RELAY_PRECHARGE;
  if (b->chg_mos)
    r |= BMS_SIM_RELAY_CHARGE;
  if (b->tripped & (BMS_SIM_PROT_CELL_OVP2 | BMS_SIM_PROT_CELL_UVP2))
    r |= BMS_SIM_RELAY_LEVEL2;
  if (b->heater)
    r |= BMS_SIM_RELAY_HEATER;
  return r;
}

guint16
bms_sim_battery_warnings (BmsSimBattery *b)
{
  static const struct
  {
    guint prot;
    guint bit;
  } map[] = {
    { BMS_SIM_PROT_LOW_SOC, 0 },
    { BMS_SIM_PROT_MOS_OT, 1 },
    { BMS_SIM_PROT_PACK_OVP, 2 },
    { BMS_SIM_PROT_PACK_UVP, 3 },
    { BMS_SIM_PROT_CHARGE_OT | BMS_SIM_PROT_DISCHARGE_OT, 4 },
    { BMS_SIM_PROT_CHARGE_OCP, 5 },
    { BMS_SIM_PROT_DISCHARGE_OCP | BMS_SIM_PROT_PEAK_OCP, 6 },
    { BMS_SIM_PROT_CELL_DIFF, 7 },
    { BMS_SIM_PROT_BOX_OT, 8 },
    { BMS_SIM_PROT_CHARGE_LT | BMS_SIM_PROT_DISCHARGE_LT, 9 },
    { BMS_SIM_PROT_CELL_OVP | BMS_SIM_PROT_CELL_OVP2, 10 },
    { BMS_SIM_PROT_CELL_UVP | BMS_SIM_PROT_CELL_UVP2, 11 },
  };
  guint16 w = 0;

  for (gsize k = 0; k < G_N_ELEMENTS (map); k++)
    if (b->tripped & map[k].prot)
      w |= 1u << map[k].bit;
  return w;
}

guint
bms_sim_battery_cycles (BmsSimBattery *b)
{
  double c = b->params.capacity_setting_ah > 0 ? b->params.capacity_setting_ah : b->capacity_ah;
  return (guint)(b->discharged_ah / c);
}

const char *
bms_sim_protection_name (BmsSimProtection p)
{
  static const char *const names[BMS_SIM_PROT_COUNT] = {
    "cell_ovp",   "cell_uvp",   "cell_ovp2",     "cell_uvp2", "pack_ovp",
    "pack_uvp",   "charge_ocp", "discharge_ocp", "mos_ot",    "box_ot",
    "balance_ot", "charge_ot",  "discharge_ot",  "charge_lt", "discharge_lt",
    "cell_diff",  "temp_diff",  "low_soc",       "lease",     "peak_ocp",
  };
  guint k = prot_index (p);
  return k < BMS_SIM_PROT_COUNT ? names[k] : "unknown";
}
