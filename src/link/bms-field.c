/* bms-field.c — the field catalogue (see bms-field.h). */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "bms-field.h"

// clang-format off
G_DEFINE_QUARK (bms-field-error-quark, bms_field_error)
// clang-format on

static const char * const warning_bits[] = {
  "low_capacity", "mosfet_over_temp", "pack_over_voltage", "pack_under_voltage",
  "battery_over_temp", "charge_over_current", "discharge_over_current",
  "cell_voltage_difference", "box_over_temp", "battery_low_temp",
  "cell_over_voltage", "cell_under_voltage", "protection_309_a",
  "protection_309_b", "reserved_14", "reserved_15", NULL
};
/* Bit 3: the vendor document says 1 = battery connected, 0 = dropped, but
 * every real healthy board seen sends it clear (the vendor's own example
 * 0x0007, others 0x0003, 0x0003, 0x0004), and field drivers read it the
 * other way round. Real boards win: a set bit is the field's "battery
 * dropped", shown neutrally, never an alarm (docs/protocol.md). */
static const char * const status_bits[] = {
  "charge_mos_on", "discharge_mos_on", "balancer_on", "battery_dropped", NULL
};
static const char * const relay_bits[] = {
  "discharge", "precharge", "charge", "level2", "heater", NULL
};
static const char * const alarm_ext_bits[] = {
  "cell_over_voltage_level2", "cell_under_voltage_level2", "balance_module_over_temp",
  "heater_fault", "lease_expired", "precharge_failed", "short_circuit",
  "slave_offline", NULL
};
static const char * const switch_bits[] = {
  "charging", "short_circuit_protection", "power", "anti_ignition", "smart_sleep",
  "smart_lock", "charge_reserved_capacity", "force_relay", "keep_heating",
  "forced_heating", NULL
};
static const char * const battery_types[] = { "lfp", "nmc", "lto", NULL };
static const char * const heater_modes[] = { "off", "charge", "discharge", "all", NULL };
static const char * const lease_states[] = { "none", "active", "expired", NULL };
static const char * const inverter_protocols[] = {
  "none", "fk1", "fk2", "fk3", "fk4", "fk5", "fk6", "fk7", "fk8", "fk9", "fk10",
  "fk11", "fk12", "fk13", "fk14", "fk15", NULL
};

#define R  BMS_ACCESS_R
#define W  BMS_ACCESS_W
#define RW BMS_ACCESS_RW
#define T(x) BMS_FIELD_##x
#define G(x) BMS_GROUP_##x
#define PHYS(lo, hi) .bounded = TRUE, .phys_min = (lo), .phys_max = (hi)

/* id, name, label, type, size, access, unit, scale, min, max, group, ext, names, description,
 * then .replaces and the physical bounds PHYS (lo, hi) where they apply */
static const BmsFieldInfo fields[] = {
  { 0x79, "cells_mv", N_("Cell voltages"), T(CELLS), 0, R, "mV", 1, 0, 65535, G(TELEMETRY), FALSE, NULL,
    "Cell voltages 1..85: length byte (3n), then n triples of cell number and mV.", PHYS (0, BMS_CELL_MV_PHYS_MAX) },
  { 0x80, "mosfet_temp_c", N_("MOSFET temperature"), T(TEMP), 2, R, "°C", 1, -40, 100, G(TELEMETRY), FALSE, NULL,
    "Power MOSFET temperature; values above 100 are negative (101 = -1 °C).", PHYS (-50, 150) },
  { 0x81, "temp1_c", N_("Battery box temperature"), T(TEMP), 2, R, "°C", 1, -40, 100, G(TELEMETRY), FALSE, NULL,
    "Battery box temperature (sensor 1), encoded as 0x80.", PHYS (-50, 150) },
  { 0x82, "temp2_c", N_("Battery temperature"), T(TEMP), 2, R, "°C", 1, -40, 100, G(TELEMETRY), FALSE, NULL,
    "Battery temperature (sensor 2), encoded as 0x80.", PHYS (-50, 150) },
  { 0x83, "pack_voltage_16bit_v", N_("Pack voltage (16-bit field)"), T(UINT), 2, R, "V", 0.01, 0, 65535, G(TELEMETRY), FALSE, NULL,
    "Pack voltage in 10 mV steps, 2 bytes: stops at 655.35 V. The pack's voltage is pack_voltage_v: 0xED when sent, else this." },
  { 0x84, "current_a", N_("Current"), T(CURRENT), 2, R, "A", 0.01, -32767, 32767, G(TELEMETRY), FALSE, NULL,
    "Pack current, positive charging. Protocol 1: bit 15 = charging, bits 0-14 = 10 mA; protocol 0: 10000 = zero." },
  { 0x85, "soc_pct", N_("State of charge"), T(UINT), 1, R, "%", 1, 0, 100, G(TELEMETRY), FALSE, NULL,
    "Remaining capacity in percent.", PHYS (0, 100) },
  { 0x86, "temp_sensor_count", N_("Temperature sensors"), T(UINT), 1, R, "", 1, 0, 255, G(TELEMETRY), FALSE, NULL,
    "Number of battery temperature sensors." },
  { 0x87, "cycles", N_("Cycles"), T(UINT), 2, R, "", 1, 0, 65535, G(TELEMETRY), FALSE, NULL,
    "Charge/discharge cycle count." },
  { 0x89, "total_cycle_capacity_ah", N_("Total cycled capacity"), T(UINT), 4, R, "Ah", 1, 0, G_MAXUINT32, G(TELEMETRY), FALSE, NULL,
    "Capacity cycled over the battery's life." },
  { 0x8A, "cell_count", N_("Cell count"), T(UINT), 2, R, "", 1, 0, BMS_MAX_CELLS, G(TELEMETRY), FALSE, NULL,
    "Number of cells (strings) the board measures.", PHYS (0, BMS_MAX_CELLS) },
  { 0x8B, "warnings", N_("Warnings"), T(BITS), 2, R, "", 1, 0, 0xFFFF, G(TELEMETRY), FALSE, warning_bits,
    "Warning bit mask." },
  { 0x8C, "status", N_("Status"), T(BITS), 2, R, "", 1, 0, 0xFFFF, G(TELEMETRY), FALSE, status_bits,
    "Status bits: charge MOS, discharge MOS, balancer; bit 3 is clear on every healthy board seen (field reading of a set bit: battery dropped)." },
  { 0x8E, "pack_ovp_v", N_("Pack over-voltage protection"), T(UINT), 2, RW, "V", 0.01, 1000, 15000, G(VOLTAGE), FALSE, NULL,
    "Pack over-voltage protection in 10 mV steps." },
  { 0x8F, "pack_uvp_v", N_("Pack under-voltage protection"), T(UINT), 2, RW, "V", 0.01, 1000, 15000, G(VOLTAGE), FALSE, NULL,
    "Pack under-voltage protection in 10 mV steps." },
  { 0x90, "cell_ovp_mv", N_("Charge protection (level 1)"), T(UINT), 2, RW, "mV", 1, 1000, 4500, G(VOLTAGE), FALSE, NULL,
    "Cell over-voltage protection, level 1." },
  { 0x91, "cell_ovp_recovery_mv", N_("Charge recovery"), T(UINT), 2, RW, "mV", 1, 1000, 4500, G(VOLTAGE), FALSE, NULL,
    "Cell over-voltage recovery." },
  { 0x92, "cell_ovp_delay_s", N_("Over-charge delay"), T(UINT), 2, RW, "s", 1, 1, 60, G(VOLTAGE), FALSE, NULL,
    "Cell over-voltage protection delay." },
  { 0x93, "cell_uvp_mv", N_("Discharge protection (level 1)"), T(UINT), 2, RW, "mV", 1, 1000, 4500, G(VOLTAGE), FALSE, NULL,
    "Cell under-voltage protection, level 1." },
  { 0x94, "cell_uvp_recovery_mv", N_("Discharge recovery"), T(UINT), 2, RW, "mV", 1, 1000, 4500, G(VOLTAGE), FALSE, NULL,
    "Cell under-voltage recovery." },
  { 0x95, "cell_uvp_delay_s", N_("Over-discharge delay"), T(UINT), 2, RW, "s", 1, 1, 60, G(VOLTAGE), FALSE, NULL,
    "Cell under-voltage protection delay." },
  { 0x96, "cell_diff_protect_mv", N_("Voltage difference protection"), T(UINT), 2, RW, "mV", 1, 0, 1000, G(VOLTAGE), FALSE, NULL,
    "Cell voltage-difference protection." },
  { 0x97, "discharge_ocp_a", N_("Discharge current"), T(UINT), 2, RW, "A", 1, 1, 1000, G(CURRENT), FALSE, NULL,
    "Continuous discharge over-current protection." },
  { 0x98, "discharge_ocp_delay_s", N_("Discharge over-current delay"), T(UINT), 2, RW, "s", 1, 1, 60, G(CURRENT), FALSE, NULL,
    "Discharge over-current protection delay." },
  { 0x99, "charge_ocp_a", N_("Charge current"), T(UINT), 2, RW, "A", 1, 1, 1000, G(CURRENT), FALSE, NULL,
    "Charge over-current protection." },
  { 0x9A, "charge_ocp_delay_s", N_("Charge over-current delay"), T(UINT), 2, RW, "s", 1, 1, 60, G(CURRENT), FALSE, NULL,
    "Charge over-current protection delay." },
  { 0x9B, "balance_start_mv", N_("Balance start voltage"), T(UINT), 2, RW, "mV", 1, 2000, 4500, G(BALANCE), FALSE, NULL,
    "Balancing starts above this cell voltage." },
  { 0x9C, "balance_diff_mv", N_("Balance accuracy"), T(UINT), 2, RW, "mV", 1, 10, 1000, G(BALANCE), FALSE, NULL,
    "Balancing starts when a cell is this much above the lowest." },
  { 0x9D, "balancer_enabled", N_("Balancer"), T(BOOL), 1, RW, "", 1, 0, 1, G(SWITCHES), FALSE, NULL,
    "Balancer switch." },
  { 0x9E, "mosfet_otp_c", N_("Power module protection"), T(UINT), 2, RW, "°C", 1, 0, 100, G(TEMPERATURE), FALSE, NULL,
    "MOSFET over-temperature protection." },
  { 0x9F, "mosfet_otp_recovery_c", N_("Power module recovery"), T(UINT), 2, RW, "°C", 1, 0, 100, G(TEMPERATURE), FALSE, NULL,
    "MOSFET over-temperature recovery." },
  { 0xA0, "box_otp_c", N_("Battery box protection"), T(UINT), 2, RW, "°C", 1, 40, 100, G(TEMPERATURE), FALSE, NULL,
    "Battery box over-temperature protection." },
  { 0xA1, "box_otp_recovery_c", N_("Battery box recovery"), T(UINT), 2, RW, "°C", 1, 40, 100, G(TEMPERATURE), FALSE, NULL,
    "Battery box over-temperature recovery." },
  { 0xA2, "temp_diff_protect_c", N_("Temperature difference protection"), T(UINT), 2, RW, "°C", 1, 5, 20, G(TEMPERATURE), FALSE, NULL,
    "Battery temperature-difference protection." },
  { 0xA3, "charge_high_temp_c", N_("Charge high temperature"), T(UINT), 2, RW, "°C", 1, 0, 100, G(TEMPERATURE), FALSE, NULL,
    "Charge high-temperature protection." },
  { 0xA4, "discharge_high_temp_c", N_("Discharge high temperature"), T(UINT), 2, RW, "°C", 1, 0, 100, G(TEMPERATURE), FALSE, NULL,
    "Discharge high-temperature protection." },
  { 0xA5, "charge_low_temp_c", N_("Charge low temperature"), T(INT), 2, RW, "°C", 1, -45, 25, G(TEMPERATURE), FALSE, NULL,
    "Charge low-temperature protection (signed)." },
  { 0xA6, "charge_low_temp_recovery_c", N_("Charge low temperature recovery"), T(INT), 2, RW, "°C", 1, -45, 25, G(TEMPERATURE), FALSE, NULL,
    "Charge low-temperature recovery (signed)." },
  { 0xA7, "discharge_low_temp_c", N_("Discharge low temperature"), T(INT), 2, RW, "°C", 1, -45, 25, G(TEMPERATURE), FALSE, NULL,
    "Discharge low-temperature protection (signed)." },
  { 0xA8, "discharge_low_temp_recovery_c", N_("Discharge low temperature recovery"), T(INT), 2, RW, "°C", 1, -45, 25, G(TEMPERATURE), FALSE, NULL,
    "Discharge low-temperature recovery (signed)." },
  { 0xA9, "cell_count_set", N_("Cell count setting"), T(UINT), 1, RW, "", 1, 3, 32, G(BATTERY), FALSE, NULL,
    "Cells on this board (a master's whole pack is 0xE7)." },
  { 0xAA, "capacity_ah", N_("Capacity"), T(UINT), 4, RW, "Ah", 1, 1, 100000, G(BATTERY), FALSE, NULL,
    "Nominal battery capacity." },
  { 0xAB, "charge_mos_enabled", N_("Charge MOS"), T(BOOL), 1, RW, "", 1, 0, 1, G(SWITCHES), FALSE, NULL,
    "Charge MOS switch." },
  { 0xAC, "discharge_mos_enabled", N_("Discharge MOS"), T(BOOL), 1, RW, "", 1, 0, 1, G(SWITCHES), FALSE, NULL,
    "Discharge MOS switch." },
  { 0xAD, "current_calibration_ma", N_("Current calibration"), T(UINT), 2, RW, "mA", 1, 100, 20000, G(SYSTEM), FALSE, NULL,
    "The real current measured under a constant load, for calibration." },
  { 0xAE, "board_address", N_("Board address"), T(UINT), 1, RW, "", 1, 1, 255, G(SYSTEM), FALSE, NULL,
    "RS485 address for cascading boards." },
  { 0xAF, "battery_type", N_("Battery type"), T(ENUM), 1, RW, "", 1, 0, 2, G(BATTERY), FALSE, battery_types,
    "0 LiFePO4, 1 ternary (NMC), 2 lithium titanate." },
  { 0xB0, "sleep_wait_s", N_("Sleep waiting time"), T(UINT), 2, RW, "s", 1, 0, 65535, G(SYSTEM), FALSE, NULL,
    "Idle time before the board sleeps." },
  { 0xB1, "low_capacity_alarm_pct", N_("Low capacity alarm"), T(UINT), 1, RW, "%", 1, 0, 80, G(BATTERY), FALSE, NULL,
    "Warn below this state of charge." },
  { 0xB2, "parameter_password", N_("Parameter password"), T(ASCII), 10, RW, "", 1, 0, 0, G(SYSTEM), FALSE, NULL,
    "Password for parameter writes, ASCII zero padded (default 123456)." },
  { 0xB3, "special_charger_enabled", N_("Special charger"), T(BOOL), 1, RW, "", 1, 0, 1, G(CHARGER), FALSE, NULL,
    "Dedicated charger switch." },
  { 0xB4, "device_id", N_("Device ID"), T(ASCII), 8, RW, "", 1, 0, 0, G(IDENTITY), FALSE, NULL,
    "Device id code (MacCode)." },
  { 0xB5, "manufacture_date", N_("Manufacture date"), T(ASCII), 4, RW, "", 1, 0, 0, G(IDENTITY), FALSE, NULL,
    "Manufacture date as ASCII YYMM." },
  { 0xB6, "runtime_min", N_("Working time"), T(UINT), 4, RW, "min", 1, 0, G_MAXUINT32, G(IDENTITY), FALSE, NULL,
    "System working time in minutes." },
  { 0xB7, "software_version", N_("Software version"), T(ASCII), 15, R, "", 1, 0, 0, G(IDENTITY), FALSE, NULL,
    "Firmware (software) version, ASCII." },
  { 0xB8, "current_calibration_start", N_("Start current calibration"), T(UINT), 1, RW, "", 1, 0, 1, G(SYSTEM), FALSE, NULL,
    "1 starts current calibration, 0 stops it." },
  { 0xB9, "actual_capacity_ah", N_("Calibration capacity"), T(UINT), 4, RW, "Ah", 1, 0, 100000, G(BATTERY), FALSE, NULL,
    "Actual battery capacity, for SOC calibration." },
  { 0xBA, "manufacturer_id", N_("Manufacturer ID"), T(ASCII), 24, RW, "", 1, 0, 0, G(IDENTITY), FALSE, NULL,
    "FixBit, type, voltage, capacity, cycle, company, date and serial, 24 ASCII characters." },
  { 0xBB, "restart", N_("Restart"), T(UINT), 1, W, "", 1, 1, 1, G(COMMAND), FALSE, NULL,
    "Write 1 to restart the system." },
  { 0xBC, "factory_reset", N_("Restore factory parameters"), T(UINT), 1, W, "", 1, 1, 1, G(COMMAND), FALSE, NULL,
    "Write 1 to restore the factory parameters." },
  { 0xBD, "remote_upgrade", N_("Enter firmware update"), T(UINT), 1, W, "", 1, 1, 1, G(COMMAND), FALSE, NULL,
    "Write 1 to enter the bootloader for a firmware update." },
  { 0xBE, "gps_off_mv", N_("GPS power-off voltage"), T(UINT), 2, W, "mV", 1, 0, 65535, G(SYSTEM), FALSE, NULL,
    "Low voltage at which the GPS power is switched off." },
  { 0xBF, "gps_on_mv", N_("GPS power-on voltage"), T(UINT), 2, W, "mV", 1, 0, 65535, G(SYSTEM), FALSE, NULL,
    "Voltage at which the GPS power is switched back on." },
  { 0xC0, "protocol_version", N_("Protocol version"), T(UINT), 1, R, "", 1, 0, 1, G(IDENTITY), FALSE, NULL,
    "0 or 1; changes the encoding of 0x84." },
  /* Packwatch extensions for the master BMS (0xD0..0xEF). */
  { 0xD0, "cells_ext_mv", N_("Cell voltages 86 and up"), T(CELLS_EXT), 0, R, "mV", 1, 0, 65535, G(TELEMETRY), TRUE, NULL,
    "Cells 86..256 of a master: length u16 (2n), then n cell voltages in mV (u16), in cell order.", PHYS (0, BMS_CELL_MV_PHYS_MAX) },
  { 0xD1, "module_count", N_("Slave modules"), T(UINT), 1, R, "", 1, 0, BMS_MAX_MODULES, G(TELEMETRY), TRUE, NULL,
    "Number of slave modules connected to the master.", PHYS (0, BMS_MAX_MODULES) },
  { 0xD2, "module_cells", N_("Cells per module"), T(BYTES), 16, RW, "", 1, 0, 16, G(BATTERY), TRUE, NULL,
    "Cell count of slave modules 1..16, one byte each (0 = no module, else 5..16)." },
  { 0xD3, "module_temps_c", N_("Module temperatures"), T(MODULE_TEMPS), 0, R, "°C", 1, -40, 125, G(TELEMETRY), TRUE, NULL,
    "Length byte (6m), then per module T0, T1, T2 as signed 16-bit °C.", PHYS (-50, 150) },
  { 0xD4, "relays", N_("Relays"), T(BITS), 1, R, "", 1, 0, 0x1F, G(TELEMETRY), TRUE, relay_bits,
    "Relay outputs: discharge, pre-charge, charge, level-2 protection, heater." },
  { 0xD5, "cell_ovp2_mv", N_("Charge protection (level 2)"), T(UINT), 2, RW, "mV", 1, 2950, 4800, G(VOLTAGE), TRUE, NULL,
    "Cell over-voltage 'fail' protection, level 2; must be above level 1." },
  { 0xD6, "cell_uvp2_mv", N_("Discharge protection (level 2)"), T(UINT), 2, RW, "mV", 1, 1000, 4500, G(VOLTAGE), TRUE, NULL,
    "Cell under-voltage 'fail' protection, level 2; must be below level 1." },
  { 0xD7, "alarms_ext", N_("Master alarms"), T(BITS), 2, R, "", 1, 0, 0xFFFF, G(TELEMETRY), TRUE, alarm_ext_bits,
    "Master BMS alarm bits beyond 0x8B." },
  { 0xD8, "heater_mode", N_("Heater mode"), T(ENUM), 1, RW, "", 1, 0, 3, G(HEATING), TRUE, heater_modes,
    "Heater: off, when charging, when discharging, always." },
  { 0xD9, "heater_start_c", N_("Heating start temperature"), T(INT), 2, RW, "°C", 1, -40, 30, G(HEATING), TRUE, NULL,
    "The heater switches on below this temperature." },
  { 0xDA, "heater_stop_c", N_("Heating stop temperature"), T(INT), 2, RW, "°C", 1, -30, 50, G(HEATING), TRUE, NULL,
    "The heater switches off above this temperature." },
  { 0xDB, "buzzer_enabled", N_("Buzzer"), T(BOOL), 1, RW, "", 1, 0, 1, G(SWITCHES), TRUE, NULL,
    "Buzzer switch." },
  { 0xDC, "inverter_protocol", N_("Inverter protocol"), T(ENUM), 1, RW, "", 1, 0, 15, G(SYSTEM), TRUE, inverter_protocols,
    "Inverter protocol FK1..FK15 (0 = none)." },
  { 0xDD, "bluetooth_name", N_("Bluetooth name"), T(ASCII), 16, RW, "", 1, 0, 0, G(IDENTITY), TRUE, NULL,
    "Bluetooth device name, ASCII zero padded." },
  { 0xDE, "special_charger_current_a", N_("Special charger current"), T(UINT), 2, RW, "A", 0.1, 0, 5000, G(CHARGER), TRUE, NULL,
    "Charge current for the special charger port in 0.1 A steps." },
  { 0xDF, "peak_discharge_a", N_("Peak discharge current"), T(UINT), 2, RW, "A", 1, 0, 1500, G(CURRENT), TRUE, NULL,
    "Peak discharge current, at most 3x the continuous discharge current." },
  { 0xE0, "balance_temp_c", N_("Balance module temperature"), T(TEMP), 2, R, "°C", 1, -40, 100, G(TELEMETRY), TRUE, NULL,
    "Balancing module temperature, encoded as 0x80.", PHYS (-50, 150) },
  { 0xE1, "balance_otp_c", N_("Balance module protection"), T(UINT), 2, RW, "°C", 1, 0, 100, G(TEMPERATURE), TRUE, NULL,
    "Balancing module over-temperature protection." },
  { 0xE2, "balance_otp_recovery_c", N_("Balance module recovery"), T(UINT), 2, RW, "°C", 1, 0, 100, G(TEMPERATURE), TRUE, NULL,
    "Balancing module over-temperature recovery." },
  { 0xE3, "lease_end", N_("Lease end"), T(UINT), 4, RW, "", 1, 0, G_MAXUINT32, G(SYSTEM), TRUE, NULL,
    "Lease end as Unix time (UTC seconds); 0 = no lease. Shown and written as a local "
    "date: 2027-03-31 24:00 is the end of that day (packwatch-cli lease)." },
  { 0xE4, "lease_code", N_("Lease code"), T(ASCII), 8, RW, "", 1, 0, 0, G(SYSTEM), TRUE, NULL,
    "Lease code, ASCII zero padded." },
  { 0xE5, "lease_state", N_("Lease state"), T(ENUM), 1, R, "", 1, 0, 2, G(SYSTEM), TRUE, lease_states,
    "none, active, expired (discharge stopped, charge allowed)." },
  { 0xE6, "sleep_now", N_("One-click sleep"), T(UINT), 1, W, "", 1, 1, 1, G(COMMAND), TRUE, NULL,
    "Write 1 to put the board to sleep now." },
  { 0xE7, "pack_cell_count", N_("Battery set (total cells)"), T(UINT), 2, RW, "", 1, 5, BMS_MAX_CELLS, G(BATTERY), TRUE, NULL,
    "Total cell count of the whole pack (master); takes effect after a restart." },
  { 0xE8, "bluetooth_address", N_("Bluetooth address"), T(BYTES), 6, R, "", 1, 0, 255, G(IDENTITY), TRUE, NULL,
    "Bluetooth MAC address, 6 bytes." },
  { 0xE9, "switches", N_("Switches"), T(BITS), 2, RW, "", 1, 0, 0x3FF, G(SWITCHES), TRUE, switch_bits,
    "Further switches of the vendor tool, one bit each." },
  { 0xEA, "soc_set_pct", N_("Set state of charge"), T(UINT), 1, W, "%", 1, 0, 100, G(BATTERY), TRUE, NULL,
    "Write the current state of charge." },
  { 0xEB, "discharged_capacity_ah", N_("Discharged capacity"), T(UINT), 4, R, "Ah", 0.1, 0, G_MAXUINT32, G(BATTERY), TRUE, NULL,
    "Capacity discharged since the last full charge, 0.1 Ah steps." },
  { 0xEC, "hardware_version", N_("Hardware version"), T(ASCII), 15, R, "", 1, 0, 0, G(IDENTITY), TRUE, NULL,
    "Hardware version, ASCII." },
  { 0xED, "pack_voltage_hv_v", N_("Pack voltage (high voltage)"), T(UINT), 4, R, "V", 0.01, 0, G_MAXUINT32, G(TELEMETRY), TRUE, NULL,
    "Pack voltage of a high-voltage master in 10 mV steps, 4 bytes: 0x83 stops at 655.35 V, a 256S pack reaches 930 V.", PHYS (0, BMS_MAX_CELLS * BMS_CELL_MV_PHYS_MAX / 10) },
  { 0xEE, "pack_ovp_hv_v", N_("Pack over-voltage protection (high voltage)"), T(UINT), 4, RW, "V", 0.01, 0, 120000, G(VOLTAGE), TRUE, NULL,
    "Pack over-voltage protection of a high-voltage master in 10 mV steps, 4 bytes; when not 0 it replaces 0x8E, which stops at 150 V. 0 = use 0x8E.", .replaces = 0x8E },
  { 0xEF, "pack_uvp_hv_v", N_("Pack under-voltage protection (high voltage)"), T(UINT), 4, RW, "V", 0.01, 0, 120000, G(VOLTAGE), TRUE, NULL,
    "Pack under-voltage protection of a high-voltage master in 10 mV steps, 4 bytes; when not 0 it replaces 0x8F. 0 = use 0x8F.", .replaces = 0x8F },
};

#undef R
#undef W
#undef RW
#undef T
#undef G
#undef PHYS

static const BmsFieldInfo *by_id[256];
static const BmsFieldInfo *replacement_of[256];   /* by the id replaced */

static void
ensure_index (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        {
          by_id[fields[i].id] = &fields[i];
          if (fields[i].replaces != 0)
            replacement_of[fields[i].replaces] = &fields[i];
        }
      g_once_init_leave (&done, 1);
    }
}

const BmsFieldInfo *
bms_field_lookup (guint8 id)
{
  ensure_index ();
  return by_id[id];
}

const BmsFieldInfo *
bms_field_replacement (guint8 id)
{
  ensure_index ();
  return replacement_of[id];
}

const BmsFieldInfo *
bms_field_lookup_name (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (g_str_equal (fields[i].name, name))
      return &fields[i];
  return NULL;
}

const BmsFieldInfo *
bms_field_all (guint *n_fields)
{
  if (n_fields)
    *n_fields = G_N_ELEMENTS (fields);
  return fields;
}

gboolean
bms_field_is_numeric (const BmsFieldInfo *field)
{
  switch (field->type)
    {
    case BMS_FIELD_ASCII:
    case BMS_FIELD_BYTES:
    case BMS_FIELD_CELLS:
    case BMS_FIELD_CELLS_EXT:
    case BMS_FIELD_MODULE_TEMPS:
      return FALSE;
    default:
      return TRUE;
    }
}

gboolean
bms_field_is_writable (const BmsFieldInfo *field)
{
  return (field->access & BMS_ACCESS_W) != 0;
}

double
bms_field_to_engineering (const BmsFieldInfo *field, gint64 raw)
{
  return (double) raw * field->scale;
}

gint64
bms_field_from_engineering (const BmsFieldInfo *field, double value)
{
  return (gint64) llround (value / field->scale);
}

guint
bms_field_get_decimals (const BmsFieldInfo *field)
{
  double scale = field->scale != 0 ? field->scale : 1.0;
  guint decimals = 0;

  /* As many as the scale has: 0.25 is 2, not the 1 a logarithm says. */
  while (decimals < 6 && scale - floor (scale) > 1e-9)
    {
      scale *= 10;
      decimals++;
    }
  return decimals;
}

/* For people, in their locale ("3,65" in German). */
static char *
format_engineering (const BmsFieldInfo *field, gint64 raw)
{
  return g_strdup_printf ("%.*f", (int) bms_field_get_decimals (field),
                          bms_field_to_engineering (field, raw));
}

char *
bms_field_format_number (const BmsFieldInfo *field, gint64 raw)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *format = NULL;

  g_return_val_if_fail (field != NULL, NULL);
  if (field->scale == 0 || field->scale == 1.0)
    return g_strdup_printf ("%" G_GINT64_FORMAT, raw);
  format = g_strdup_printf ("%%.%uf", bms_field_get_decimals (field));
  return g_strdup (
      g_ascii_formatd (buffer, sizeof buffer, format, bms_field_to_engineering (field, raw)));
}

char *
bms_field_bit_names (const BmsFieldInfo *field, gint64 raw)
{
  g_autoptr (GString) text = g_string_new (NULL);
  guint n_names = field->names != NULL ? g_strv_length ((char **) field->names) : 0;

  for (guint bit = 0; bit < 64; bit++)
    {
      if (((guint64) raw & (G_GUINT64_CONSTANT (1) << bit)) == 0)
        continue;
      if (text->len > 0)
        g_string_append (text, ", ");
      if (bit < n_names)
        g_string_append (text, field->names[bit]);
      else
        g_string_append_printf (text, "bit %u", bit);
    }
  if (text->len == 0)
    g_string_append (text, "none");
  return g_string_free (g_steal_pointer (&text), FALSE);
}

gboolean
bms_field_check_range (const BmsFieldInfo *field, gint64 raw, GError **error)
{
  g_autofree char *value = NULL, *lo = NULL, *hi = NULL;

  if (!bms_field_is_numeric (field) || (raw >= field->min && raw <= field->max))
    return TRUE;
  value = format_engineering (field, raw);
  lo = format_engineering (field, field->min);
  hi = format_engineering (field, field->max);
  g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE,
               "%s (%s) = %s%s%s is out of range: allowed %s to %s%s%s",
               field->name, _(field->label), value, *field->unit ? " " : "", field->unit,
               lo, hi, *field->unit ? " " : "", field->unit);
  return FALSE;
}

char *
bms_field_format_physical (const BmsFieldInfo *field)
{
  g_autofree char *lo = NULL, *hi = NULL;

  g_return_val_if_fail (field != NULL, NULL);
  if (!field->bounded)
    return NULL;
  lo = format_engineering (field, field->phys_min);
  hi = format_engineering (field, field->phys_max);
  return g_strdup_printf ("%s … %s%s%s", lo, hi, *field->unit ? " " : "", field->unit);
}

gboolean
bms_field_check_physical (const BmsFieldInfo *field, gint64 raw, GError **error)
{
  g_autofree char *value = NULL, *lo = NULL, *hi = NULL;
  const char *space = *field->unit ? " " : "";

  g_return_val_if_fail (field != NULL, FALSE);
  if (!field->bounded || (raw >= field->phys_min && raw <= field->phys_max))
    return TRUE;
  value = format_engineering (field, raw);
  lo = format_engineering (field, field->phys_min);
  hi = format_engineering (field, field->phys_max);
  g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_IMPLAUSIBLE,
               "%s (%s) = %s%s%s is beyond what any pack can report (%s to %s%s%s)",
               _(field->label), field->name, value, space, field->unit, lo, hi, space,
               field->unit);
  return FALSE;
}

static gboolean
parse_name_list (const BmsFieldInfo *field, const char *text, gint64 *raw_out)
{
  for (guint i = 0; field->names[i]; i++)
    if (g_ascii_strcasecmp (field->names[i], text) == 0)
      {
        *raw_out = i;
        return TRUE;
      }
  return FALSE;
}

static gboolean
parse_bits (const BmsFieldInfo *field, const char *text, gint64 *raw_out)
{
  g_auto(GStrv) parts = g_strsplit (text, "|", -1);
  gint64 mask = 0;

  for (guint i = 0; parts[i]; i++)
    {
      gint64 bit;
      g_strstrip (parts[i]);
      if (*parts[i] == '\0')
        continue;
      if (!parse_name_list (field, parts[i], &bit))
        return FALSE;
      mask |= G_GINT64_CONSTANT (1) << bit;
    }
  *raw_out = mask;
  return TRUE;
}

static gboolean
parse_number (const BmsFieldInfo *field, const char *text, gint64 *raw_out)
{
  char *end = NULL;
  double v;

  if (field->type == BMS_FIELD_BOOL)
    {
      if (!g_ascii_strcasecmp (text, "on") || !g_ascii_strcasecmp (text, "true"))
        return (*raw_out = 1), TRUE;
      if (!g_ascii_strcasecmp (text, "off") || !g_ascii_strcasecmp (text, "false"))
        return (*raw_out = 0), TRUE;
    }
  if (g_str_has_prefix (text, "0x") || g_str_has_prefix (text, "0X"))
    {
      guint64 u = g_ascii_strtoull (text + 2, &end, 16);
      if (end == text + 2 || *end != '\0')
        return FALSE;
      *raw_out = (gint64) u;
      return TRUE;
    }
  v = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (v))
    return FALSE;
  *raw_out = bms_field_from_engineering (field, v);
  return TRUE;
}

static gboolean parse_lease_end (const char *text, gint64 *raw_out);

gboolean
bms_field_parse_value (const BmsFieldInfo *field, const char *text, gint64 *raw_out,
                       char **string_out, GError **error)
{
  g_autofree char *t = NULL;
  gboolean ok;
  gint64 raw = 0;

  g_return_val_if_fail (field != NULL && text != NULL, FALSE);
  t = g_strstrip (g_strdup (text));

  if (field->type == BMS_FIELD_ASCII)
    {
      if (strlen (t) > field->size)
        {
          g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE,
                       "%s = \"%s\" is too long: at most %u characters", field->name, t,
                       field->size);
          return FALSE;
        }
      for (const char *p = t; *p; p++)
        if (*p < 0x20 || *p > 0x7E)
          {
            g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE,
                         "%s = \"%s\": only printable ASCII characters are allowed",
                         field->name, t);
            return FALSE;
          }
      if (string_out)
        *string_out = g_steal_pointer (&t);
      return TRUE;
    }
  if (!bms_field_is_numeric (field))
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE,
                   "%s cannot be set from text", field->name);
      return FALSE;
    }
  if (field->type == BMS_FIELD_ENUM)
    ok = parse_name_list (field, t, &raw) || parse_number (field, t, &raw);
  else if (field->type == BMS_FIELD_BITS)
    ok = parse_number (field, t, &raw) || parse_bits (field, t, &raw);
  else if (field->id == BMS_ID_LEASE_END)
    ok = parse_lease_end (t, &raw) || parse_number (field, t, &raw);
  else
    ok = parse_number (field, t, &raw);
  if (!ok)
    {
      g_autofree char *choices = field->names ? g_strjoinv (", ", (char **) field->names) : NULL;
      if (field->id == BMS_ID_LEASE_END)
        g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE,
                     "%s = \"%s\" is not a date: give YYYY-MM-DD (the lease runs to the end "
                     "of that day), YYYY-MM-DD HH:MM, or none",
                     field->name, t);
      else
        g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE,
                     "%s = \"%s\" is not a valid value%s%s%s", field->name, t,
                     choices ? " (one of: " : "", choices ? choices : "", choices ? ")" : "");
      return FALSE;
    }
  if (!bms_field_check_range (field, raw, error))
    return FALSE;
  *raw_out = raw;
  return TRUE;
}

gint64
bms_field_lease_end_of_day (int year, int month, int day)
{
  g_autoptr (GDateTime) midnight = g_date_time_new_local (year, month, day, 0, 0, 0);
  g_autoptr (GDateTime) next = NULL;

  if (midnight == NULL)
    return -1;
  next = g_date_time_add_days (midnight, 1);
  return g_date_time_to_unix (next);
}

char *
bms_field_format_lease_end (gint64 end)
{
  g_autoptr (GDateTime) when = NULL;
  g_autoptr (GDateTime) before = NULL;

  if (end <= 0)
    return g_strdup ("none");
  when = g_date_time_new_from_unix_local (end);
  if (when == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT, end);
  if (g_date_time_get_hour (when) != 0 || g_date_time_get_minute (when) != 0
      || g_date_time_get_second (when) != 0)
    return g_date_time_format (when, "%Y-%m-%d %H:%M");
  /* Midnight: the last day of the lease is the one before. */
  before = g_date_time_add_days (when, -1);
  return g_date_time_format (before, "%Y-%m-%d 24:00");
}

/* The month's own name in the UI's language, from the message catalogue
 * rather than the C library's LC_TIME: Preferences switches the language
 * (gettext) without a matching system locale, which may not be installed. */
static const char *
month_name (guint month)
{
  switch (month)
    {
    case 1: return C_("month", "January");
    case 2: return C_("month", "February");
    case 3: return C_("month", "March");
    case 4: return C_("month", "April");
    case 5: return C_("month", "May");
    case 6: return C_("month", "June");
    case 7: return C_("month", "July");
    case 8: return C_("month", "August");
    case 9: return C_("month", "September");
    case 10: return C_("month", "October");
    case 11: return C_("month", "November");
    case 12: return C_("month", "December");
    default: g_return_val_if_reached (NULL);
    }
}

char *
bms_field_format_manufacture_date (const char *yymm)
{
  guint year, month;

  g_return_val_if_fail (yymm != NULL, NULL);

  if (strlen (yymm) != 4 || !g_ascii_isdigit (yymm[0]) || !g_ascii_isdigit (yymm[1])
      || !g_ascii_isdigit (yymm[2]) || !g_ascii_isdigit (yymm[3]))
    return g_strdup (yymm);
  year = 2000 + (yymm[0] - '0') * 10 + (yymm[1] - '0');
  month = (yymm[2] - '0') * 10 + (yymm[3] - '0');
  if (month < 1 || month > 12)
    return g_strdup (yymm);
  /* TRANSLATORS: a month of a year, e.g. "January 2026": %1$s is the
   * month's name (translated on its own, context "month"), %2$u the year. */
  return g_strdup_printf (C_("month and year", "%1$s %2$u"), month_name (month), year);
}

char *
bms_field_format_version (const char *text)
{
  gsize len;

  g_return_val_if_fail (text != NULL, NULL);

  len = strlen (text);
  while (len > 0 && (text[len - 1] == '_' || text[len - 1] == ' '))
    len--;
  return g_strndup (text, len);
}

/* "2027-03-31" (to the end of that day), "2027-03-31 24:00", "none", or a
 * plain Unix time. */
static gboolean
parse_lease_end (const char *text, gint64 *raw_out)
{
  int year, month, day, hour = 24, minute = 0;
  char tail;
  int n;

  if (g_ascii_strcasecmp (text, "none") == 0)
    return (*raw_out = 0), TRUE;
  n = sscanf (text, "%4d-%2d-%2d %2d:%2d%c", &year, &month, &day, &hour, &minute, &tail);
  if (n != 3 && n != 5)
    return FALSE;
  if (n == 5 && hour == 24 && minute == 0)
    n = 3;
  if (n == 3)
    *raw_out = bms_field_lease_end_of_day (year, month, day);
  else
    {
      g_autoptr (GDateTime) when = NULL;

      if (hour > 23 || minute > 59)
        return FALSE;
      when = g_date_time_new_local (year, month, day, hour, minute, 0);
      *raw_out = when != NULL ? g_date_time_to_unix (when) : -1;
    }
  return *raw_out >= 0;
}

char *
bms_field_format (const BmsFieldInfo *field, gint64 raw)
{
  g_autofree char *num = NULL;

  if (field->id == BMS_ID_LEASE_END)
    return bms_field_format_lease_end (raw);

  if (field->type == BMS_FIELD_ENUM && field->names && raw >= 0 &&
      raw < (gint64) g_strv_length ((char **) field->names))
    return g_strdup (field->names[raw]);
  if (field->type == BMS_FIELD_BOOL)
    return g_strdup (raw == 0 ? "off" : raw == 1 ? "on" : "invalid");
  if (field->type == BMS_FIELD_BITS)
    return g_strdup_printf ("0x%0*" G_GINT64_MODIFIER "X", field->size * 2, raw);
  num = format_engineering (field, raw);
  if (*field->unit)
    return g_strdup_printf ("%s %s", num, field->unit);
  return g_steal_pointer (&num);
}

const char *
bms_field_group_name (BmsFieldGroup group)
{
  static const char * const names[] = {
    "telemetry", "voltage", "current", "temperature", "balance", "heating",
    "charger", "battery", "switches", "system", "identity", "command",
  };
  g_return_val_if_fail (group < G_N_ELEMENTS (names), "unknown");
  return names[group];
}

const char *
bms_field_type_name (BmsFieldType type)
{
  static const char * const names[] = {
    "uint", "int", "temp", "current", "bool", "enum", "bits", "ascii", "bytes",
    "cells", "cells_ext", "module_temps",
  };
  g_return_val_if_fail (type < G_N_ELEMENTS (names), "unknown");
  return names[type];
}

static guint64
read_be (const guint8 *in, guint size)
{
  guint64 v = 0;
  for (guint i = 0; i < size; i++)
    v = (v << 8) | in[i];
  return v;
}

static void
write_be (guint8 *out, guint size, guint64 v)
{
  for (guint i = size; i > 0; i--)
    {
      out[i - 1] = v & 0xFF;
      v >>= 8;
    }
}

gboolean
bms_field_encode_raw (const BmsFieldInfo *field, gint64 raw, guint8 *out,
                      guint8 protocol_version)
{
  g_return_val_if_fail (bms_field_is_numeric (field), FALSE);

  switch (field->type)
    {
    case BMS_FIELD_TEMP:
      write_be (out, field->size, raw < 0 ? (guint64) (100 - raw) : (guint64) raw);
      break;
    case BMS_FIELD_INT:
      write_be (out, field->size, (guint64) raw);
      break;
    case BMS_FIELD_CURRENT:
      if (protocol_version == 0)
        write_be (out, 2, (guint64) (10000 + raw));
      else
        write_be (out, 2, raw >= 0 ? (0x8000 | (guint64) raw) : (guint64) (-raw));
      break;
    default:
      write_be (out, field->size, (guint64) raw);
      break;
    }
  return TRUE;
}

gint64
bms_field_decode_raw (const BmsFieldInfo *field, const guint8 *in, guint8 protocol_version)
{
  guint64 u = read_be (in, field->size);

  switch (field->type)
    {
    case BMS_FIELD_TEMP:
      return u > 100 ? -(gint64) (u - 100) : (gint64) u;
    case BMS_FIELD_INT:
      return field->size == 2 ? (gint16) u : field->size == 1 ? (gint8) u : (gint32) u;
    case BMS_FIELD_CURRENT:
      if (protocol_version == 0)
        return (gint64) u - 10000;
      return (u & 0x8000) ? (gint64) (u & 0x7FFF) : -(gint64) (u & 0x7FFF);
    default:
      return (gint64) u;
    }
}
