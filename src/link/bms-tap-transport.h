/* bms-tap-transport.h — a BmsTransport that passes everything through to
 * another one and keeps the raw bytes of the last reply frame it read:
 * `packwatch-cli capture` records what the board really sent, not a
 * re-encoding of the decoded snapshot.
 */
#pragma once

#include "bms-transport.h"

G_BEGIN_DECLS

#define BMS_TYPE_TAP_TRANSPORT (bms_tap_transport_get_type ())
G_DECLARE_FINAL_TYPE (BmsTapTransport, bms_tap_transport, BMS, TAP_TRANSPORT, GObject)

BmsTransport *bms_tap_transport_new (BmsTransport *inner);
/* The encoded bytes of the last reply frame with this command word read
 * since the last call (taken: a second call gives NULL until another one
 * arrives). Safe from any thread. */
GBytes *bms_tap_transport_take_reply (BmsTapTransport *self, guint8 command);

G_END_DECLS
