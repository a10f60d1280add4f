/* bms-device.h — one board on the bus, as the pages of the app see it.
 *
 * Every telemetry value of the last snapshot is a property (notified only when
 * it changes), plus derived values: power, state, min/max cell with index,
 * difference, average, time connected. The cells are a GListModel of BmsCell
 * and the modules a GListModel of BmsModule (up to 16 × 16).
 *
 * Not thread-safe: change it on the thread that owns it (the poller delivers
 * snapshots there with bms_context_post).
 */
#pragma once

#include <gio/gio.h>
#include "bms-snapshot.h"
#include "bms-cell.h"
#include "bms-module.h"

G_BEGIN_DECLS

typedef enum
{
  BMS_DEVICE_STATE_STANDBY,
  BMS_DEVICE_STATE_CHARGING,
  BMS_DEVICE_STATE_DISCHARGING,
} BmsDeviceState;

GType bms_device_state_get_type (void) G_GNUC_CONST;
#define BMS_TYPE_DEVICE_STATE (bms_device_state_get_type ())

/* |current| below this is "standby". */
#define BMS_DEVICE_STANDBY_CURRENT_A 0.1

/* Status bits of 0x8C. */
#define BMS_STATUS_CHARGE_MOS (1u << 0)
#define BMS_STATUS_DISCHARGE_MOS (1u << 1)
#define BMS_STATUS_BALANCER (1u << 2)
/* Set: the field's "battery dropped". Healthy real boards send it clear,
 * whatever the vendor document says (docs/protocol.md): never an alarm. */
#define BMS_STATUS_BATTERY_DROPPED (1u << 3)

#define BMS_TYPE_DEVICE (bms_device_get_type ())
G_DECLARE_FINAL_TYPE (BmsDevice, bms_device, BMS, DEVICE, GObject)

BmsDevice *bms_device_new (guint address);

/* Takes the values of snapshot (copied) and marks the device online. */
void bms_device_update (BmsDevice *self, const BmsSnapshot *snapshot);
/* The last snapshot given to bms_device_update, or NULL. Owned by the device,
 * valid until the next update. */
const BmsSnapshot *bms_device_get_snapshot (BmsDevice *self);

void bms_device_set_online (BmsDevice *self, gboolean online);
/* The board answered with a reply no pack can give (bms_snapshot_check_
 * plausible): counted, and the reason kept until the next good update. The
 * values stay those of the last plausible reply. */
void bms_device_reject_reply (BmsDevice *self, const char *reason);
void bms_device_set_password_state (BmsDevice *self, gboolean locked, guint unlock_remaining_s);
void bms_device_set_lagging (BmsDevice *self, gboolean lagging);
void bms_device_set_name (BmsDevice *self, const char *name);

guint bms_device_get_address (BmsDevice *self);
const char *bms_device_get_name (BmsDevice *self);
/* Stable key for the history database: "id:<device id>" when the board has a
 * device id, else "addr:<address>". */
char *bms_device_dup_key (BmsDevice *self);
/* The same key from a snapshot (for code without a device: the poller's
 * worker, the CLI), so every writer of the history names a board alike. */
char *bms_device_key_for_snapshot (const BmsSnapshot *snapshot, guint address);
gboolean bms_device_get_online (BmsDevice *self);
/* NULL unless the last reply was refused as implausible. */
const char *bms_device_get_implausible_reason (BmsDevice *self);
guint bms_device_get_implausible_replies (BmsDevice *self);
gint64 bms_device_get_connected_since (BmsDevice *self); /* µs, 0 offline */
gint64 bms_device_get_time_connected (BmsDevice *self);  /* s */
gint64 bms_device_get_last_update (BmsDevice *self);     /* µs */
double bms_device_get_pack_voltage (BmsDevice *self);    /* V */
double bms_device_get_current (BmsDevice *self);         /* A, + charging */
double bms_device_get_power (BmsDevice *self);           /* W */
guint bms_device_get_soc (BmsDevice *self);              /* % */
BmsDeviceState bms_device_get_state (BmsDevice *self);
double bms_device_get_mosfet_temperature (BmsDevice *self);
double bms_device_get_temperature_1 (BmsDevice *self);
double bms_device_get_temperature_2 (BmsDevice *self);
double bms_device_get_temperature_min (BmsDevice *self);
double bms_device_get_temperature_max (BmsDevice *self);
guint bms_device_get_cycles (BmsDevice *self);
guint bms_device_get_warnings (BmsDevice *self);
guint bms_device_get_status (BmsDevice *self);
guint bms_device_get_cell_count (BmsDevice *self);
double bms_device_get_min_cell_voltage (BmsDevice *self); /* V */
guint bms_device_get_min_cell_index (BmsDevice *self);    /* 1-based, 0 none */
double bms_device_get_max_cell_voltage (BmsDevice *self);
guint bms_device_get_max_cell_index (BmsDevice *self);
double bms_device_get_cell_difference (BmsDevice *self); /* V */
double bms_device_get_cell_average (BmsDevice *self);    /* V */
const char *bms_device_get_device_id (BmsDevice *self);
const char *bms_device_get_software_version (BmsDevice *self);
const char *bms_device_get_manufacture_date (BmsDevice *self);
const char *bms_device_get_bluetooth_address (BmsDevice *self);
guint bms_device_get_protocol_version (BmsDevice *self);
gboolean bms_device_get_password_locked (BmsDevice *self);
guint bms_device_get_unlock_remaining (BmsDevice *self);
gboolean bms_device_get_lagging (BmsDevice *self);
/* Relay bits: discharge, pre-charge, charge, level 2, heater. */
guint bms_device_get_relays (BmsDevice *self);
gboolean bms_device_get_has_relays (BmsDevice *self);
gboolean bms_device_get_has_current (BmsDevice *self);
/* Cell protection limits and the balancer's start voltage, mV; 0 when the
 * board has not reported them. */
guint bms_device_get_cell_ovp_mv (BmsDevice *self);
guint bms_device_get_cell_ovp_recovery_mv (BmsDevice *self);
guint bms_device_get_cell_uvp_mv (BmsDevice *self);
guint bms_device_get_cell_uvp_recovery_mv (BmsDevice *self);
guint bms_device_get_balance_start_mv (BmsDevice *self);
/* °C of the balance module; NaN when none is fitted. */
double bms_device_get_balancer_temperature (BmsDevice *self);
const char *bms_device_get_manufacturer_id (BmsDevice *self);
/* Whether the warning bit of that catalogue name (e.g.
 * "cell_over_voltage") is set. */
gboolean bms_device_get_warning (BmsDevice *self, const char *bit_name);
/* The lease, when the board reports its end: the end (Unix time, 0 none),
 * the state (0 none, 1 active, 2 expired; derived from the end on a board
 * without the state field) and the code (NULL when not reported). */
gboolean bms_device_get_has_lease (BmsDevice *self);
gint64 bms_device_get_lease_end (BmsDevice *self);
guint bms_device_get_lease_state (BmsDevice *self);
const char *bms_device_get_lease_code (BmsDevice *self);

/* BmsCell items, cell order. */
GListModel *bms_device_get_cells (BmsDevice *self);
/* BmsModule items, module order. */
GListModel *bms_device_get_modules (BmsDevice *self);

/* Cells per module of a snapshot (into counts) and the number of modules:
 * the extension fields when present, else one module (or n_cells split
 * evenly over the modules that report sensors). */
guint bms_device_module_layout (const BmsSnapshot *snapshot, guint n_cells,
                                guint counts[BMS_MAX_MODULES]);

G_END_DECLS
