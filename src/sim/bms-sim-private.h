/* bms-sim-private.h — what the endpoints and tests of src/sim share with the
 * simulator core, beyond the public contract. */
#pragma once

#include "bms-sim.h"
#include "bms-sim-battery.h"

G_BEGIN_DECLS

BmsSimBattery *bms_sim_get_battery (BmsSim *sim);
/* Fault knobs the endpoints apply themselves (timing, line state). */
guint bms_sim_get_reply_delay_ms (BmsSim *sim);
gboolean bms_sim_is_disconnected (BmsSim *sim);
/* The simulated wall clock (Unix seconds): start time + simulated time. */
gint64 bms_sim_get_unix_time (BmsSim *sim);
gboolean bms_sim_is_asleep (BmsSim *sim);
/* In the bootloader or its window after a restart: the line runs at 9600. */
gboolean bms_sim_is_booting (BmsSim *sim);
gboolean bms_sim_is_authenticated (BmsSim *sim);
double bms_sim_get_time_scale (BmsSim *sim);
void bms_sim_notify_ready (BmsSim *sim, const char *where);

G_END_DECLS
