/* bms-loopback-transport.h — a BmsTransport whose far end is an in-process
 * simulator (the demo, "sim://"). Thread-safe: the session's worker calls
 * it while the sim's clock follows real time × time scale.
 */
#pragma once

#include "bms-sim.h"
#include "bms-transport.h"

G_BEGIN_DECLS

#define BMS_TYPE_LOOPBACK_TRANSPORT (bms_loopback_transport_get_type ())
G_DECLARE_FINAL_TYPE (BmsLoopbackTransport, bms_loopback_transport, BMS, LOOPBACK_TRANSPORT,
                      GObject)

/* Like bms_loopback_transport_new, but the transport owns the sim (freed
 * with it) and the board listens at board_baud. */
BmsTransport *bms_loopback_transport_new_owning (BmsSim *sim, gboolean wire_timing,
                                                 double time_scale, guint board_baud,
                                                 const char *name);
/* Runs fn on the sim under the transport's lock (tests, fault changes). */
void bms_loopback_transport_with_sim (BmsLoopbackTransport *self,
                                      void (*fn) (BmsSim *sim, gpointer data), gpointer data);

G_END_DECLS
