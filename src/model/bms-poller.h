/* bms-poller.h — polls the boards behind one session on a worker thread.
 *
 * Every cycle reads all fields of each board and hands the snapshot to the
 * board's BmsDevice on the thread that created the poller (through
 * bms_context_post on its thread-default context), to its
 * BmsAlarmMonitor, and to the history (if set). The interval is 1 s by
 * default (0.2–60 s). A cycle that takes longer than the interval starts the
 * next one right away, never piling up, and sets "lagging". A board that
 * misses three cycles in a row goes offline. When the line breaks (adapter
 * unplugged) the poller reopens it with a growing delay (the interval, then
 * doubled up to 10 s) and carries on by itself.
 *
 * Several boards on one bus: give the addresses, or a range to scan; the
 * scan probes each address once with a short timeout and keeps one device
 * per board that answers.
 */
#pragma once

#include <gio/gio.h>
#include "bms-alarm-monitor.h"
#include "bms-device.h"
#include "bms-history.h"
#include "bms-session.h"

G_BEGIN_DECLS

#define BMS_POLLER_INTERVAL_MIN 0.2
#define BMS_POLLER_INTERVAL_MAX 60.0
#define BMS_POLLER_INTERVAL_DEFAULT 1.0
#define BMS_POLLER_MISSED_OFFLINE 3
#define BMS_POLLER_RECONNECT_MAX_S 10.0

#define BMS_TYPE_POLLER (bms_poller_get_type ())
G_DECLARE_FINAL_TYPE (BmsPoller, bms_poller, BMS, POLLER, GObject)

/* Polls the session's address until told otherwise. */
BmsPoller *bms_poller_new (BmsSession *session);
BmsSession *bms_poller_get_session (BmsPoller *self);

/* Before start: poll these addresses (a device each, offline until they
 * answer) … */
void bms_poller_set_addresses (BmsPoller *self, const guint *addresses, guint n_addresses);
/* … or scan first..last at start (and after each reconnect) and poll the
 * boards that answer. */
void bms_poller_set_scan_range (BmsPoller *self, guint first, guint last);
/* Seconds; outside 0.2–60 is refused (G_IO_ERROR_INVALID_ARGUMENT). */
gboolean bms_poller_set_interval (BmsPoller *self, double seconds, GError **error);
double bms_poller_get_interval (BmsPoller *self);
/* Samples go to history (may be NULL); alarm events of the devices too.
 * A board that another process records into the same history is polled
 * without recording, and "history-refused" (guint address, const char
 * *message) says so once, naming the other writer. */
void bms_poller_set_history (BmsPoller *self, BmsHistory *history);

void bms_poller_start (BmsPoller *self);
/* A reply read while the line was being opened (takes it): the first cycle
 * hands it on instead of asking again, so the first numbers do not wait
 * for a second read-all. One board only; call before bms_poller_start. */
void bms_poller_set_first_reply (BmsPoller *self, BmsSnapshot *snapshot);
/* In scan mode: probe the whole range again at the next cycle (boards added
 * to the bus while polling; a scan also follows every reconnect). */
void bms_poller_rescan (BmsPoller *self);
/* Asks the worker to stop and returns at once. */
void bms_poller_stop (BmsPoller *self);
/* Asks the worker to stop; callback runs (in the caller's main context)
 * once no worker touches the session any more, e.g. to close the line
 * after the last request. No thread waits for it. */
void bms_poller_stop_async (BmsPoller *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean bms_poller_stop_finish (BmsPoller *self, GAsyncResult *result, GError **error);
/* Stops and waits for the worker (at most one request's timeout); for the
 * CLI and tests, not the GTK main thread. */
void bms_poller_stop_sync (BmsPoller *self);

gboolean bms_poller_get_running (BmsPoller *self);
gboolean bms_poller_get_connected (BmsPoller *self);
gboolean bms_poller_get_lagging (BmsPoller *self);
/* Duration of the last cycle, seconds. */
double bms_poller_get_cycle_time (BmsPoller *self);
guint64 bms_poller_get_cycles (BmsPoller *self);
/* Replies refused because no pack can give them (bms_snapshot_check_
 * plausible), all boards: not stored as samples, each an
 * "implausible_reply" event in the history and the device's
 * implausible-reason. */
guint64 bms_poller_get_implausible_replies (BmsPoller *self);
/* What the poller is doing, in words ("Polling 1 board every 1.0 s",
 * "Lagging: …", "Reconnecting in 4 s: …"). */
const char *bms_poller_get_message (BmsPoller *self);

/* BmsDevice items, ascending address. */
GListModel *bms_poller_get_devices (BmsPoller *self);
BmsDevice *bms_poller_lookup_device (BmsPoller *self, guint address);
BmsAlarmMonitor *bms_poller_get_alarm_monitor (BmsPoller *self, guint address);

/* The history's row for a board (for audit rows), 0 before its first
 * sample was recorded or without history. */
gint64 bms_poller_get_history_device_id (BmsPoller *self, guint address);

/* Runs func on the poller's worker between two cycles, with the session
 * aimed at address and the line to itself: how the app writes parameters
 * while polling (on a bus, a write must not go to whichever board the poller
 * is reading). func blocks; results come back to the calling thread's
 * context. Fails with G_IO_ERROR_NOT_CONNECTED when polling is not running
 * or the line is down, without calling func. */
typedef gboolean (*BmsPollerFunc) (BmsSession *session, guint address, gpointer data,
                                   GCancellable *cancellable, GError **error);
void bms_poller_run_async (BmsPoller *self, guint address, BmsPollerFunc func, gpointer data,
                           GDestroyNotify destroy, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
gboolean bms_poller_run_finish (BmsPoller *self, GAsyncResult *result, GError **error);

G_END_DECLS
