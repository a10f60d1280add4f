/* bms-session.h — request/response with one board over a transport.
 *
 * Owns a worker thread: every request is queued to it, so callers on any
 * thread (the GTK main thread via the _async calls, the CLI via _sync)
 * never touch the line concurrently. Enforces the wire rules: first-byte and
 * inter-byte timeouts, retries, at least 100 ms between frames, wake-up with
 * activate after silence.
 *
 * The password gate lives here: every write (and the firmware upload) is
 * refused with BMS_SESSION_ERROR_LOCKED until bms_session_unlock succeeded
 * with the board's parameter password; the session locks again after
 * lock-timeout seconds without a write.
 */
#pragma once

/* The widgets reach a board only through the connection controller: the ui
 * library is compiled with BMS_COMPILATION_UI (src/meson.build). */
#ifdef BMS_COMPILATION_UI
#error "src/ui may not use the session, transports or the flasher: go through BmsConnection (src/model/bms-connection.h)"
#endif

#include <gio/gio.h>
#include "bms-transport.h"
#include "bms-snapshot.h"

G_BEGIN_DECLS

#define BMS_TYPE_SESSION (bms_session_get_type ())
G_DECLARE_FINAL_TYPE (BmsSession, bms_session, BMS, SESSION, GObject)

#define BMS_SESSION_ERROR (bms_session_error_quark ())
GQuark bms_session_error_quark (void);
typedef enum {
  BMS_SESSION_ERROR_TIMEOUT,       /* no reply (after retries) */
  BMS_SESSION_ERROR_BAD_REPLY,     /* frame rejected: message has the reason */
  BMS_SESSION_ERROR_LOCKED,        /* write refused: session not unlocked */
  BMS_SESSION_ERROR_DENIED,        /* the board refused (wrong password) */
  BMS_SESSION_ERROR_REFUSED,       /* the board refused the value */
  BMS_SESSION_ERROR_VERIFY,        /* read-back differs from what was written */
  BMS_SESSION_ERROR_CLOSED,
} BmsSessionError;

typedef struct {
  guint first_byte_timeout_ms;  /* default 1500 */
  guint inter_byte_timeout_ms;  /* default 100 (+ wire time of a byte) */
  guint retries;                /* default 3: a noisy line (BER 1e-4) loses a third of long replies */
  guint min_gap_ms;             /* default 100 */
} BmsSessionTiming;

BmsSession   *bms_session_new            (BmsTransport *transport,
                                          guint         address);
BmsTransport *bms_session_get_transport  (BmsSession   *self);
guint         bms_session_get_address    (BmsSession   *self);
/* Address the following requests to another board on the same line (the
 * poller scanning a bus). */
void          bms_session_set_address    (BmsSession   *self,
                                          guint         address);
void          bms_session_set_timing     (BmsSession   *self,
                                          const BmsSessionTiming *timing);
void          bms_session_get_timing     (BmsSession   *self,
                                          BmsSessionTiming *timing);
/* The line's baud rate: the transport's own at first (9600 if it cannot
 * tell); set_baud applies a new one to the transport. Used for the wire time
 * of a byte in the inter-byte timeout. */
gboolean      bms_session_set_baud       (BmsSession   *self,
                                          guint         baud,
                                          GError      **error);
guint         bms_session_get_baud       (BmsSession   *self);
/* Silence after which the board is woken with an activate frame before the
 * next request (default 30000 ms). */
void          bms_session_set_wake_after (BmsSession   *self,
                                          guint         ms);
gboolean      bms_session_open           (BmsSession   *self, GError **error);
void          bms_session_close          (BmsSession   *self);

/* Blocking calls; safe from any thread except the GTK main thread. */
BmsSnapshot  *bms_session_read_all       (BmsSession   *self,
                                          GCancellable *cancellable,
                                          GError      **error);
BmsSnapshot  *bms_session_read_one       (BmsSession   *self,
                                          guint8        id,
                                          GCancellable *cancellable,
                                          GError      **error);
gboolean      bms_session_unlock         (BmsSession   *self,
                                          const char   *password,
                                          GCancellable *cancellable,
                                          GError      **error);
void          bms_session_lock           (BmsSession   *self);
/* What unlock accepts: 1 to BMS_PASSWORD_SIZE printable ASCII characters.
 * Lets a caller refuse a password before anything is sent. */
gboolean      bms_session_check_password (const char   *password,
                                          GError      **error);
gboolean      bms_session_is_unlocked    (BmsSession   *self);
/* Seconds until the gate closes again (0 when locked). */
guint         bms_session_get_unlock_remaining (BmsSession *self);
void          bms_session_set_lock_timeout     (BmsSession *self, guint seconds);
/* Write one field (raw value for numeric fields, text for ASCII fields),
 * then read it back and compare. readback_out (optional) gets the value
 * the board reports. */
gboolean      bms_session_write          (BmsSession   *self,
                                          guint8        id,
                                          gint64        raw,
                                          const char   *text,
                                          BmsSnapshot **readback_out,
                                          GCancellable *cancellable,
                                          GError      **error);
/* For the flasher: run func on the worker with exclusive use of the
 * transport; refused while locked. */
typedef gboolean (*BmsSessionRawFunc) (BmsTransport *transport,
                                       gpointer      user_data,
                                       GCancellable *cancellable,
                                       GError      **error);
gboolean      bms_session_run_exclusive  (BmsSession       *self,
                                          BmsSessionRawFunc func,
                                          gpointer          user_data,
                                          GCancellable     *cancellable,
                                          GError          **error);

/* Work of several requests as a job of the session's own queue, so no
 * thread waits for the worker: func runs on the worker, and the session's
 * blocking calls made from inside it (bms_session_write, _unlock, _open,
 * _run_exclusive ...) run there at once, in order. One call of func should
 * be one short piece (a write and its read-back): AGAIN puts the job back at
 * the end of the queue, so requests queued meanwhile (the poller's reads)
 * go in between, as they would between blocking calls from another thread. */
typedef enum {
  BMS_SESSION_JOB_DONE,
  BMS_SESSION_JOB_FAILED,       /* error is set */
  BMS_SESSION_JOB_AGAIN,        /* call func again after the jobs queued meanwhile */
} BmsSessionJobResult;
typedef BmsSessionJobResult (*BmsSessionJobFunc) (BmsSession   *session,
                                                  gpointer      user_data,
                                                  GCancellable *cancellable,
                                                  GError      **error);
/* Completes task (g_task_return_boolean or _error) from the worker; GTask
 * runs its callback in the task's own main context. The cancellable is the
 * task's; func checks it through the session calls it makes. user_data must
 * live as long as the task (make it the task's data). */
void          bms_session_run_task      (BmsSession        *self,
                                         GTask             *task,
                                         BmsSessionJobFunc  func,
                                         gpointer           user_data);

/* Async wrappers for the UI. */
/* bms_session_unlock as a job of the session's queue; cb runs in the
 * caller's main context. */
void          bms_session_unlock_async  (BmsSession *self, const char *password,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback cb, gpointer user_data);
gboolean      bms_session_unlock_finish (BmsSession *self, GAsyncResult *res, GError **error);
void          bms_session_read_all_async (BmsSession *self, GCancellable *cancellable,
                                          GAsyncReadyCallback cb, gpointer user_data);
BmsSnapshot  *bms_session_read_all_finish (BmsSession *self, GAsyncResult *res,
                                           GError **error);

/* Counters for status displays and benchmarks. */
typedef struct {
  guint64 requests, replies, timeouts, bad_frames, retries;
  guint64 bytes_out, bytes_in;
} BmsSessionStats;
void          bms_session_get_stats      (BmsSession *self, BmsSessionStats *out);

G_END_DECLS
