/* bms-sim-battery.h — the physics and protection logic of the simulated pack.
 *
 * Internal to src/sim. Knows nothing of the wire: parameters come in as
 * engineering values in SI units (V, A, s, °C) through BmsSimParams, and the
 * protocol layer (bms-sim.c) maps them to and from catalogue fields.
 */
#pragma once

#include <glib.h>
#include "bms-sim.h"

G_BEGIN_DECLS

typedef enum
{
  BMS_SIM_HEATER_OFF,
  BMS_SIM_HEATER_CHARGE,    /* heats only while charging is wanted */
  BMS_SIM_HEATER_DISCHARGE, /* heats only while discharging is wanted */
  BMS_SIM_HEATER_ALWAYS,    /* heats whenever it is cold */
} BmsSimHeaterMode;

/* Everything that trips or warns; one bit each. */
typedef enum
{
  BMS_SIM_PROT_CELL_OVP = 1u << 0,
  BMS_SIM_PROT_CELL_UVP = 1u << 1,
  BMS_SIM_PROT_CELL_OVP2 = 1u << 2,
  BMS_SIM_PROT_CELL_UVP2 = 1u << 3,
  BMS_SIM_PROT_PACK_OVP = 1u << 4,
  BMS_SIM_PROT_PACK_UVP = 1u << 5,
  BMS_SIM_PROT_CHARGE_OCP = 1u << 6,
  BMS_SIM_PROT_DISCHARGE_OCP = 1u << 7,
  BMS_SIM_PROT_MOS_OT = 1u << 8,
  BMS_SIM_PROT_BOX_OT = 1u << 9,
  BMS_SIM_PROT_BALANCE_OT = 1u << 10,
  BMS_SIM_PROT_CHARGE_OT = 1u << 11,
  BMS_SIM_PROT_DISCHARGE_OT = 1u << 12,
  BMS_SIM_PROT_CHARGE_LT = 1u << 13,
  BMS_SIM_PROT_DISCHARGE_LT = 1u << 14,
  BMS_SIM_PROT_CELL_DIFF = 1u << 15, /* warning only */
  BMS_SIM_PROT_TEMP_DIFF = 1u << 16, /* warning only */
  BMS_SIM_PROT_LOW_SOC = 1u << 17,   /* warning only */
  BMS_SIM_PROT_LEASE = 1u << 18,     /* lease ran out: no discharge */
  BMS_SIM_PROT_PEAK_OCP = 1u << 19,  /* peak discharge current, no delay */
} BmsSimProtection;

#define BMS_SIM_PROT_COUNT 20

/* Protections that open the charge path / the discharge path. */
#define BMS_SIM_PROT_BLOCKS_CHARGE                                                                 \
  (BMS_SIM_PROT_CELL_OVP | BMS_SIM_PROT_CELL_OVP2 | BMS_SIM_PROT_PACK_OVP                          \
   | BMS_SIM_PROT_CHARGE_OCP | BMS_SIM_PROT_MOS_OT | BMS_SIM_PROT_BOX_OT | BMS_SIM_PROT_BALANCE_OT \
   | BMS_SIM_PROT_CHARGE_OT | BMS_SIM_PROT_CHARGE_LT)
#define BMS_SIM_PROT_BLOCKS_DISCHARGE                                                              \
  (BMS_SIM_PROT_CELL_UVP | BMS_SIM_PROT_CELL_UVP2 | BMS_SIM_PROT_PACK_UVP                          \
   | BMS_SIM_PROT_DISCHARGE_OCP | BMS_SIM_PROT_MOS_OT | BMS_SIM_PROT_BOX_OT                        \
   | BMS_SIM_PROT_BALANCE_OT | BMS_SIM_PROT_DISCHARGE_OT | BMS_SIM_PROT_DISCHARGE_LT               \
   | BMS_SIM_PROT_LEASE | BMS_SIM_PROT_PEAK_OCP)

/* Relay outputs (order of the project's relay bit list). */
typedef enum
{
  BMS_SIM_RELAY_DISCHARGE = 1u << 0,
  BMS_SIM_RELAY_PRECHARGE = 1u << 1,
  BMS_SIM_RELAY_CHARGE = 1u << 2,
  BMS_SIM_RELAY_LEVEL2 = 1u << 3,
  BMS_SIM_RELAY_HEATER = 1u << 4,
} BmsSimRelay;

/* Parameters in SI units (V, A, s, °C, Ah, %). A threshold <= 0 (or, for
 * temperatures, NAN) disables that check. */
typedef struct
{
  double cell_ovp_v, cell_ovp_recovery_v, cell_ovp_delay_s;
  double cell_uvp_v, cell_uvp_recovery_v, cell_uvp_delay_s;
  double cell_ovp2_v, cell_uvp2_v;
  double pack_ovp_v, pack_uvp_v;
  double cell_diff_v;
  double discharge_ocp_a, discharge_ocp_delay_s;
  double charge_ocp_a, charge_ocp_delay_s;
  double peak_discharge_a;
  double balance_start_v, balance_diff_v;
  gboolean balancer;
  double mos_ot_c, mos_ot_recovery_c;
  double box_ot_c, box_ot_recovery_c;
  double balance_ot_c, balance_ot_recovery_c;
  double temp_diff_c;
  double charge_ot_c, discharge_ot_c;
  double charge_lt_c, charge_lt_recovery_c;
  double discharge_lt_c, discharge_lt_recovery_c;
  gboolean charge_switch, discharge_switch;
  double capacity_setting_ah;
  double low_soc_alarm_pct;
  BmsSimHeaterMode heater_mode;
  double heater_start_c, heater_stop_c;
  gboolean lease_expired;
} BmsSimParams;

/* The vendor sheet's column for a chemistry (capacity sets the currents). */
void bms_sim_params_defaults (BmsSimParams *params, BmsChemistry chemistry, guint n_cells,
                              double capacity_ah);

/* Open-circuit voltage of one cell at soc (0..1; outside, the curve goes
 * steeply on, as an over-charged or over-discharged cell does). */
double bms_sim_ocv (BmsChemistry chemistry, double soc);

typedef enum
{
  BMS_SIM_PHASE_CHARGE,
  BMS_SIM_PHASE_REST_FULL,
  BMS_SIM_PHASE_DISCHARGE,
  BMS_SIM_PHASE_REST_EMPTY,
} BmsSimPhase;

typedef struct _BmsSimBattery BmsSimBattery;

BmsSimBattery *bms_sim_battery_new (guint modules, guint cells_per_module, BmsChemistry chemistry,
                                    double capacity_ah, double initial_soc, guint32 seed);
void bms_sim_battery_free (BmsSimBattery *b);
/* Once, after new: plants the weak cells (cells 1-based, each in range and
 * given once; bms_sim_new checks). Medians are over the cells not planted. */
void bms_sim_battery_plant_weak_cells (BmsSimBattery *b, const BmsSimWeakCell *weak, guint n);
void bms_sim_battery_cell_truth (BmsSimBattery *b, guint i, BmsSimCellTruth *truth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BmsSimBattery, bms_sim_battery_free)

void bms_sim_battery_set_params (BmsSimBattery *b, const BmsSimParams *p);
const BmsSimParams *bms_sim_battery_get_params (BmsSimBattery *b);
/* Requested current: + charge, − discharge (what the charger/load wants). */
void bms_sim_battery_set_current (BmsSimBattery *b, double amps);
void bms_sim_battery_set_cycle (BmsSimBattery *b, gboolean cycle);
/* settle: the pack has sat there long enough to take that temperature. */
void bms_sim_battery_set_ambient (BmsSimBattery *b, double celsius, gboolean settle);
void bms_sim_battery_advance (BmsSimBattery *b, double dt_s);
/* Clears trips and timers, closes the MOS again (a board restart). */
void bms_sim_battery_reset_protections (BmsSimBattery *b);
/* Sleep: everything open, no balancing, no heating. */
void bms_sim_battery_set_asleep (BmsSimBattery *b, gboolean asleep);

guint bms_sim_battery_n_cells (BmsSimBattery *b);
guint bms_sim_battery_n_modules (BmsSimBattery *b);
guint bms_sim_battery_cells_per_module (BmsSimBattery *b);
BmsChemistry bms_sim_battery_chemistry (BmsSimBattery *b);
double bms_sim_battery_cell_voltage (BmsSimBattery *b, guint i); /* V */
double bms_sim_battery_cell_soc (BmsSimBattery *b, guint i);     /* 0..1 true */
gboolean bms_sim_battery_cell_balancing (BmsSimBattery *b, guint i);
double bms_sim_battery_pack_voltage (BmsSimBattery *b);
double bms_sim_battery_current (BmsSimBattery *b); /* flowing */
/* What the shunt reports: the true current × a gain error (seeded, within
 * ±1.5 %) × the calibration factor. The BMS acts and counts on this. */
double bms_sim_battery_measured_current (BmsSimBattery *b);
/* Current calibration: the real current is real_a (a multimeter's reading);
 * FALSE if too little current flows to calibrate on (under 0.5 A). */
gboolean bms_sim_battery_calibrate_current (BmsSimBattery *b, double real_a);
double bms_sim_battery_get_calibration (BmsSimBattery *b);
void bms_sim_battery_set_calibration (BmsSimBattery *b, double factor);
double bms_sim_battery_requested_current (BmsSimBattery *b);
double bms_sim_battery_soc (BmsSimBattery *b); /* BMS estimate 0..1 */
void bms_sim_battery_set_soc_estimate (BmsSimBattery *b, double soc);
double bms_sim_battery_mos_temp (BmsSimBattery *b);
double bms_sim_battery_box_temp (BmsSimBattery *b);  /* sensor 1 */
double bms_sim_battery_cell_temp (BmsSimBattery *b); /* sensor 2 */
double bms_sim_battery_balance_temp (BmsSimBattery *b);
double bms_sim_battery_module_temp (BmsSimBattery *b, guint module, guint sensor);
double bms_sim_battery_ambient (BmsSimBattery *b);
gboolean bms_sim_battery_charge_mos (BmsSimBattery *b);
gboolean bms_sim_battery_discharge_mos (BmsSimBattery *b);
gboolean bms_sim_battery_balancing (BmsSimBattery *b); /* any cell */
gboolean bms_sim_battery_heater_on (BmsSimBattery *b);
guint bms_sim_battery_relays (BmsSimBattery *b);      /* BmsSimRelay */
guint bms_sim_battery_protections (BmsSimBattery *b); /* BmsSimProtection */
guint16 bms_sim_battery_warnings (BmsSimBattery *b);  /* field 0x8B */
guint bms_sim_battery_cycles (BmsSimBattery *b);
double bms_sim_battery_total_ah (BmsSimBattery *b); /* cycled capacity */
double bms_sim_battery_time (BmsSimBattery *b);     /* s since start */
BmsSimPhase bms_sim_battery_phase (BmsSimBattery *b);
/* Uniform random number in [0, 1) from the pack's seeded generator. */
double bms_sim_battery_random (BmsSimBattery *b);
const char *bms_sim_protection_name (BmsSimProtection p);

G_END_DECLS
