/* bms-session.c — request/response with one board, on a worker thread.
 *
 * Every public call becomes a Job on the worker's queue; the worker is the
 * only thread that touches the transport, so requests never interleave on
 * the line. Line discipline per exchange:
 *
 *   wake (activate) if the line was silent > 30 s or the last try timed out
 *   → wait out the minimum gap → flush stale input → send the request
 *   → wait first-byte timeout for a frame to start, then inter-byte timeout
 *     (+ the wire time of one byte) between bytes of that frame
 *   → accept only a reply from the BMS (source 0, transport 1) with the
 *     request's command; other frames (e.g. an RS485 adapter's echo of our
 *     own request) are skipped, garbage between frames too
 *   → a timeout or a rejected frame is retried up to `retries` times.
 *
 * Every step has a time limit, whatever the line sends: the reply has to
 * begin within the first-byte timeout and end within its own wire time
 * (see receive_reply), draining after a bad frame and emptying the input
 * are capped, and a cancellation is seen within READ_SLICE_MS. One attempt
 * at 9600 baud with the default timing takes at most
 *   gap 0.1 s + first byte 1.5 s + the largest frame 1.25 × 4.3 s + drain 1 s,
 * so an exchange with its 3 retries ends within about 33 s even against a
 * line crafted to keep it busy; docs/robustness.md has what it takes
 * against each kind of hostile line.
 */
#include "bms-session.h"

#include <string.h>

#include "bms-frame.h"

#define DEFAULT_WAKE_AFTER_MS 30000
#define READ_SLICE_MS         100   /* how often a waiting read checks cancellation */
#define DRAIN_MAX_MS          1000
#define DEFAULT_LOCK_TIMEOUT  300
#define DEFAULT_BAUD          9600
#define DEFAULT_PROTOCOL      1

struct _BmsSession
{
  GObject parent_instance;

  BmsTransport *transport;
  guint address;
  GThread *worker;
  GAsyncQueue *queue;

  GMutex lock;                 /* guards everything down to the worker-only part */
  BmsSessionTiming timing;
  guint baud;
  gboolean baud_set;
  gboolean unlocked;
  gint64 unlock_deadline_us;   /* monotonic */
  guint lock_timeout_s;
  guint wake_after_ms;
  char *password;              /* kept while unlocked: the board is re-authenticated per write */
  BmsSessionStats stats;

  /* Worker thread only. */
  gboolean open;
  gint64 line_free_us;         /* last byte on the line (sent or received) */
  gint64 last_reply_us;        /* 0 = never */
  gboolean need_wake;
  gboolean in_exclusive;       /* inside a BmsSessionRawFunc: session calls are refused */
  GHashTable *wake_states;     /* other boards on the bus: address -> WakeState */
  guint8 protocol_version;
};

G_DEFINE_FINAL_TYPE (BmsSession, bms_session, G_TYPE_OBJECT)
// clang-format off
G_DEFINE_QUARK (bms-session-error-quark, bms_session_error)
// clang-format on

typedef enum {
  JOB_QUIT,
  JOB_OPEN,
  JOB_CLOSE,
  JOB_SET_BAUD,
  JOB_READ_ALL,
  JOB_READ_ONE,
  JOB_UNLOCK,
  JOB_WRITE,
  JOB_EXCLUSIVE,
  JOB_SET_ADDRESS,
  JOB_RUN,
} JobKind;

typedef struct
{
  JobKind kind;
  guint8 id;
  gint64 raw;
  char *text;
  guint baud;
  guint address;
  BmsSessionRawFunc func;
  BmsSessionJobFunc run_func;
  gpointer func_data;
  BmsSession *owner;           /* JOB_RUN: its task's source may be another object */
  GCancellable *cancellable;
  GTask *task;                 /* async jobs: completed through the task */

  /* Results (sync jobs). */
  gboolean ok;
  BmsSnapshot *snapshot;
  BmsSnapshot *readback;
  GError *error;
  gboolean done;
  GMutex done_lock;
  GCond done_cond;
} Job;

/* Whether a board was heard from lately, kept per address while the
 * session talks to another board on the same bus. */
typedef struct
{
  gint64 last_reply_us;
  gboolean need_wake;
} WakeState;

/* Helpers for the wire */

static gint64
wire_time_us (BmsSession *self, gsize n_bytes)
{
  /* 8N1: ten bit times per byte. */
  return (gint64) n_bytes * 10 * G_USEC_PER_SEC / MAX (self->baud, 1);
}

static BmsSessionTiming
get_timing (BmsSession *self)
{
  BmsSessionTiming t;

  g_mutex_lock (&self->lock);
  t = self->timing;
  g_mutex_unlock (&self->lock);
  return t;
}

static void
stats_add (BmsSession *self, guint64 *counter, guint64 n)
{
  g_mutex_lock (&self->lock);
  *counter += n;
  g_mutex_unlock (&self->lock);
}

static void
wait_for_gap (BmsSession *self, const BmsSessionTiming *t)
{
  gint64 until = self->line_free_us + (gint64) t->min_gap_ms * 1000;
  gint64 now = g_get_monotonic_time ();

  if (until > now)
    g_usleep (until - now);
}

static gboolean
send_frame (BmsSession *self, GByteArray *frame, GError **error)
{
  if (!bms_transport_write (self->transport, frame->data, frame->len, error))
    return FALSE;
  stats_add (self, &self->stats.bytes_out, frame->len);
  /* write() returns once the bytes are queued; they are on the wire a
   * little longer. */
  self->line_free_us = g_get_monotonic_time () + wire_time_us (self, frame->len);
  return TRUE;
}

static gboolean
fail_transport (BmsSession *self, GError **error, GError *cause)
{
  /* A broken line stays broken (unplugged adapter, closed gateway): close it
   * so the caller sees a clean "not open" next time and can reconnect. */
  if (cause->domain == BMS_TRANSPORT_ERROR
      && (cause->code == BMS_TRANSPORT_ERROR_IO || cause->code == BMS_TRANSPORT_ERROR_CLOSED))
    {
      bms_transport_close (self->transport);
      self->open = FALSE;
    }
  g_propagate_error (error, cause);
  return FALSE;
}

/* Reading one reply */

typedef gboolean (*ReplyFunc) (BmsSession *self, BmsFrame *reply, gpointer data, GError **error);

typedef struct
{
  GQueue frames;
  GError *rejected;            /* the first rejected candidate's reason */
  guint n_rejected;
  guint n_other;               /* whole frames that were not the reply */
  guint8 other_command, other_source;
  guint32 other_terminal;
} ParseSink;

static void
sink_frame (BmsFrame *frame, gpointer user_data)
{
  ParseSink *sink = user_data;

  g_queue_push_tail (&sink->frames, frame);
}

static void
sink_error (const GError *error, gpointer user_data)
{
  ParseSink *sink = user_data;

  sink->n_rejected++;
  if (sink->rejected == NULL)
    sink->rejected = g_error_copy (error);
}

/* Replies carry terminal 0 on every board seen; one naming another address
 * answers someone else. */
static gboolean
is_reply_to (BmsSession *self, const BmsFrame *frame, guint8 command)
{
  return frame->source == BMS_SOURCE_BMS && frame->transport == BMS_TRANSPORT_REPLY
         && frame->command == command
         && (frame->terminal == 0 || self->address == 0 || frame->terminal == self->address);
}

/* Takes the first reply to command out of the sink; other frames (our own
 * echo, unsolicited uploads, replies to something else) are dropped. */
static BmsFrame *
take_reply (BmsSession *self, ParseSink *sink, guint8 command)
{
  BmsFrame *frame;
  BmsFrame *reply = NULL;

  while ((frame = g_queue_pop_head (&sink->frames)) != NULL)
    {
      if (reply == NULL && is_reply_to (self, frame, command))
        {
          reply = frame;
          continue;
        }
      /* Our own request echoed by an RS485 adapter is expected, not news. */
      if (frame->source != BMS_SOURCE_PC && sink->n_other++ == 0)
        {
          sink->other_command = frame->command;
          sink->other_source = frame->source;
          sink->other_terminal = frame->terminal;
        }
      bms_frame_free (frame);
    }
  return reply;
}

typedef enum {
  RX_FRAME,
  RX_TIMEOUT,
  RX_BAD,
  RX_FATAL,   /* transport error or cancelled: no retry */
} RxResult;

/* The longest a frame of total bytes may take on the line once it has
 * begun: its wire time with a quarter to spare (adapters and gateways pass
 * bytes on in bursts), plus one inter-byte timeout. */
static gint64
frame_budget_us (BmsSession *self, const BmsSessionTiming *t, gsize total)
{
  gint64 wire = wire_time_us (self, total);

  return wire + wire / 4 + (gint64) t->inter_byte_timeout_ms * 1000;
}

/* Where a candidate frame ("NW" and its length) stands in the byte stream. */
typedef struct
{
  gboolean active;             /* an "NW" seen, the frame not yet decoded or rejected */
  gint64 start_us;             /* when its "NW" arrived */
  guint header;                /* bytes of 4E 57 LL LL seen so far */
  guint8 length_hi;
} Candidate;

/* Counts the candidate's header bytes; once its length is known, a
 * candidate that began in time (before the reply had to start) may move the
 * end of the wait to its own end, never further than the largest frame. */
static void
candidate_track (BmsSession *self, const BmsSessionTiming *t, Candidate *c, guint8 prev,
                 guint8 byte, gint64 now, gint64 start_deadline, gint64 *end)
{
  gsize total;

  if (prev == BMS_FRAME_START0 && byte == BMS_FRAME_START1)
    {
      c->active = TRUE;
      c->start_us = now;
      c->header = 2;
      return;
    }
  if (!c->active || c->header >= 4)
    return;
  if (c->header++ == 2)
    {
      c->length_hi = byte;
      return;
    }
  total = (((gsize) c->length_hi << 8) | byte) + 2;
  if (c->start_us < start_deadline && total >= BMS_FRAME_OVERHEAD && total <= BMS_FRAME_MAX_SIZE)
    *end = MAX (*end, c->start_us + frame_budget_us (self, t, total));
}

/* Waits for the reply to one request. The reply has to begin within the
 * first-byte timeout; a frame that began in time may finish after it, within
 * its own wire time (frame_budget_us). Nothing else extends the wait: a line
 * that never stops talking (noise, a stream of false "NW" starts) ends the
 * attempt at the first-byte deadline. Inside a frame, and after a rejected
 * candidate, the line also has to keep going byte by byte (inter-byte
 * timeout): a quiet line after a bad frame retries at once. A rejected
 * candidate does not end the wait: the parser resumes one byte later, so a
 * good reply behind a false start in noise is still taken. The wait is cut
 * short (within READ_SLICE_MS) when cancellable is cancelled. */
static RxResult
receive_reply (BmsSession *self, const BmsSessionTiming *t, guint8 command,
               GCancellable *cancellable, BmsFrame **out, GError **error)
{
  g_autoptr(BmsFrameParser) parser = NULL;
  ParseSink sink = { G_QUEUE_INIT, NULL, 0, 0, 0 };
  gint64 start_deadline = self->line_free_us + (gint64) t->first_byte_timeout_ms * 1000;
  gint64 end = start_deadline;
  gint64 inter_us = (gint64) t->inter_byte_timeout_ms * 1000 + wire_time_us (self, 1);
  gint64 last_byte_us = 0;
  Candidate cand = { FALSE, 0, 0, 0 };
  guint8 prev = 0;
  gsize received = 0;
  RxResult result;

  parser = bms_frame_parser_new (sink_frame, sink_error, &sink);
  *out = NULL;

  for (;;)
    {
      guint8 buf[512];
      gint64 now = g_get_monotonic_time ();
      gint64 cap = end;
      gint64 until;
      GError *local_error = NULL;
      gssize n;

      /* A frame that began in time gets the moment it needs to show its length. */
      if (cand.active && cand.header < 4 && cand.start_us < start_deadline)
        cap = MAX (cap, cand.start_us + frame_budget_us (self, t, 4));
      until = (cand.active || sink.n_rejected > 0) ? MIN (last_byte_us + inter_us, cap) : cap;
      if (now >= until)
        break;
      n = bms_transport_read (self->transport, buf, sizeof buf,
                              MIN ((until - now + 999) / 1000, READ_SLICE_MS), &local_error);
      if (n < 0)
        {
          fail_transport (self, error, local_error);
          result = RX_FATAL;
          goto out;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          result = RX_FATAL;
          goto out;
        }
      if (n == 0)
        continue;

      last_byte_us = self->line_free_us = g_get_monotonic_time ();
      received += n;
      stats_add (self, &self->stats.bytes_in, n);
      /* Byte by byte, so we know whether a frame is under way. */
      for (gssize i = 0; i < n; i++)
        {
          guint rejected_before = sink.n_rejected;

          candidate_track (self, t, &cand, prev, buf[i], last_byte_us, start_deadline, &end);
          prev = buf[i];
          bms_frame_parser_push (parser, &buf[i], 1);
          if (sink.frames.length == 0 && sink.n_rejected == rejected_before)
            continue;
          cand.active = FALSE;
          prev = 0;
          if ((*out = take_reply (self, &sink, command)) != NULL)
            {
              result = RX_FRAME;
              goto out;
            }
        }
    }

  /* The line went quiet or the time is up: whatever is left in the parser
   * is reported now (a cut-off frame as truncated), and may still hold the
   * reply. */
  bms_frame_parser_finish (parser);
  if ((*out = take_reply (self, &sink, command)) != NULL)
    result = RX_FRAME;
  else if (sink.rejected != NULL)
    {
      g_set_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_BAD_REPLY,
                   "Bad reply from the BMS: %s", sink.rejected->message);
      result = RX_BAD;
    }
  else if (sink.n_other > 0)
    {
      g_set_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_TIMEOUT,
                   "No reply from the BMS at address %u within %u ms: %u frame%s that did "
                   "not answer the request ignored (the first: command 0x%02X, source %u, "
                   "terminal %u)",
                   self->address, t->first_byte_timeout_ms, sink.n_other,
                   sink.n_other == 1 ? "" : "s", sink.other_command, sink.other_source,
                   sink.other_terminal);
      result = RX_TIMEOUT;
    }
  else if (received > 0)
    {
      g_set_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_TIMEOUT,
                   "No reply from the BMS at address %u within %u ms (%" G_GSIZE_FORMAT
                   " stray bytes ignored)",
                   self->address, t->first_byte_timeout_ms, received);
      result = RX_TIMEOUT;
    }
  else
    {
      g_set_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_TIMEOUT,
                   "No reply from the BMS at address %u within %u ms: check the port, the "
                   "baud rate and the device address",
                   self->address, t->first_byte_timeout_ms);
      result = RX_TIMEOUT;
    }

out:
  if (sink.n_rejected > 0)
    stats_add (self, &self->stats.bad_frames, 1);
  g_queue_clear_full (&sink.frames, (GDestroyNotify) bms_frame_free);
  g_clear_error (&sink.rejected);
  return result;
}

/* After a bad frame the rest of it may still be arriving: let the line go
 * quiet before the retry. A line that never goes quiet is not waited out:
 * at most DRAIN_MAX_MS, and no longer than a reply may take to begin. */
static void
drain (BmsSession *self, const BmsSessionTiming *t, GCancellable *cancellable)
{
  gint64 stop = g_get_monotonic_time ()
                + (gint64) MIN (DRAIN_MAX_MS, MAX (t->first_byte_timeout_ms, 1)) * 1000;
  guint quiet_ms = t->inter_byte_timeout_ms + 1;

  while (g_get_monotonic_time () < stop && !g_cancellable_is_cancelled (cancellable))
    {
      guint8 buf[256];
      gssize n = bms_transport_read (self->transport, buf, sizeof buf, quiet_ms, NULL);

      if (n <= 0)
        break;
      stats_add (self, &self->stats.bytes_in, n);
      self->line_free_us = g_get_monotonic_time ();
    }
}

static gboolean
wake (BmsSession *self, const BmsSessionTiming *t, GError **error)
{
  g_autoptr(GByteArray) activate = bms_request_activate (self->address);

  wait_for_gap (self, t);
  if (!send_frame (self, activate, error))
    return FALSE;
  self->need_wake = FALSE;
  return TRUE;
}

static gboolean
needs_wake (BmsSession *self)
{
  gint64 silence_us;

  g_mutex_lock (&self->lock);
  silence_us = (gint64) self->wake_after_ms * 1000;
  g_mutex_unlock (&self->lock);
  return self->need_wake || self->last_reply_us == 0
         || g_get_monotonic_time () - self->last_reply_us > silence_us;
}

/* One request with retries. on_reply turns the frame into the caller's
 * result; if it fails with BAD_REPLY that counts as a bad frame and is
 * retried like one. */
static gboolean
exchange (BmsSession *self, GByteArray *request, guint8 command, ReplyFunc on_reply,
          gpointer data, GCancellable *cancellable, GError **error)
{
  BmsSessionTiming t = get_timing (self);
  g_autoptr(GError) last_error = NULL;

  if (!self->open)
    {
      g_set_error_literal (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED,
                           "The connection is not open: connect first");
      return FALSE;
    }
  stats_add (self, &self->stats.requests, 1);

  for (guint attempt = 0; attempt <= t.retries; attempt++)
    {
      g_autoptr(BmsFrame) reply = NULL;
      GError *local_error = NULL;
      RxResult rx;

      if (attempt > 0)
        stats_add (self, &self->stats.retries, 1);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (needs_wake (self) && !wake (self, &t, &local_error))
        return fail_transport (self, error, local_error);

      wait_for_gap (self, &t);
      bms_transport_flush_input (self->transport);
      if (!send_frame (self, request, &local_error))
        return fail_transport (self, error, local_error);

      rx = receive_reply (self, &t, command, cancellable, &reply, &local_error);
      if (rx == RX_FATAL)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      if (rx == RX_FRAME)
        {
          stats_add (self, &self->stats.replies, 1);
          self->last_reply_us = g_get_monotonic_time ();
          if (on_reply (self, reply, data, &local_error))
            return TRUE;
          if (!g_error_matches (local_error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_BAD_REPLY))
            {
              g_propagate_error (error, local_error);
              return FALSE;
            }
          stats_add (self, &self->stats.bad_frames, 1);
          rx = RX_BAD;
        }
      if (rx == RX_TIMEOUT)
        {
          stats_add (self, &self->stats.timeouts, 1);
          self->need_wake = TRUE;
        }
      else
        drain (self, &t, cancellable);
      g_clear_error (&last_error);
      last_error = local_error;
    }

  if (t.retries > 0)
    g_prefix_error (&last_error, "After %u attempts: ", t.retries + 1);
  g_propagate_error (error, g_steal_pointer (&last_error));
  return FALSE;
}

/* Reply handlers */

static gboolean
reply_to_snapshot (BmsSession *self, BmsFrame *reply, gpointer data, GError **error)
{
  BmsSnapshot **out = data;
  g_autoptr(BmsSnapshot) snapshot = bms_snapshot_new ();
  g_autoptr(GError) local_error = NULL;

  if (!bms_snapshot_parse (snapshot, reply->info, reply->info_len, &local_error))
    {
      g_set_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_BAD_REPLY,
                   "Bad reply from the BMS: %s", local_error->message);
      return FALSE;
    }
  snapshot->timestamp_us = g_get_real_time ();
  if (bms_snapshot_has (snapshot, BMS_ID_PROTOCOL_VERSION))
    self->protocol_version = (guint8) bms_snapshot_get_raw (snapshot, BMS_ID_PROTOCOL_VERSION);
  *out = g_steal_pointer (&snapshot);
  return TRUE;
}

typedef struct
{
  guint8 id;
  guint8 result;
} ResultReply;

static gboolean
reply_to_result (BmsSession *self, BmsFrame *reply, gpointer data, GError **error)
{
  ResultReply *r = data;

  if (reply->info_len < 2 || reply->info[0] != r->id)
    {
      g_set_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_BAD_REPLY,
                   "Bad reply from the BMS: expected id 0x%02X and a result byte, "
                   "got %" G_GSIZE_FORMAT " info bytes%s",
                   r->id, reply->info_len, reply->info_len > 0 ? " for another id" : "");
      return FALSE;
    }
  r->result = reply->info[1];
  return TRUE;
}

static const char *
result_text (guint8 result)
{
  switch (result)
    {
    case BMS_RESULT_OK: return "accepted";
    case BMS_RESULT_DENIED: return "not authenticated";
    case BMS_RESULT_RANGE: return "value out of range";
    case BMS_RESULT_READ_ONLY: return "field is read-only";
    case BMS_RESULT_UNKNOWN_FIELD: return "unknown field";
    default: return "unknown result code";
    }
}

/* Password gate (callers hold self->lock) */

static void
relock_locked (BmsSession *self)
{
  self->unlocked = FALSE;
  self->unlock_deadline_us = 0;
  if (self->password != NULL)
    {
      memset (self->password, 0, strlen (self->password));
      g_clear_pointer (&self->password, g_free);
    }
}

static gboolean
check_unlocked_locked (BmsSession *self)
{
  if (self->unlocked && g_get_monotonic_time () >= self->unlock_deadline_us)
    relock_locked (self);
  return self->unlocked;
}

static gboolean
require_unlocked (BmsSession *self, const char *what, char **password_out, GError **error)
{
  gboolean ok;

  g_mutex_lock (&self->lock);
  ok = check_unlocked_locked (self);
  if (ok && password_out != NULL)
    *password_out = g_strdup (self->password);
  g_mutex_unlock (&self->lock);
  if (!ok)
    g_set_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_LOCKED,
                 "%s refused: parameters are locked, unlock with the parameter password first",
                 what);
  return ok;
}

gboolean
bms_session_check_password (const char *password, GError **error)
{
  gsize len = password != NULL ? strlen (password) : 0;

  if (len == 0 || len > BMS_PASSWORD_SIZE)
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE,
                   "The password must be 1 to %d characters long (got %" G_GSIZE_FORMAT ")",
                   BMS_PASSWORD_SIZE, len);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isprint (password[i]))
      {
        g_set_error_literal (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE,
                             "The password may only contain printable ASCII characters");
        return FALSE;
      }
  return TRUE;
}

/* Sends 0x05 with the password; TRUE if the board accepted it. */
static gboolean
authenticate (BmsSession *self, const char *password, GCancellable *cancellable,
              GError **error)
{
  g_autoptr(GByteArray) request = bms_request_password (self->address, password);
  ResultReply r = { BMS_ID_PASSWORD, 0 };

  if (!exchange (self, request, BMS_CMD_PASSWORD, reply_to_result, &r, cancellable, error))
    return FALSE;
  if (r.result == BMS_RESULT_OK)
    return TRUE;
  if (r.result == BMS_RESULT_DENIED)
    g_set_error_literal (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_DENIED,
                         "The BMS refused the password: check the parameter password "
                         "(factory default " BMS_DEFAULT_PASSWORD ")");
  else
    g_set_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_REFUSED,
                 "The BMS did not accept the password request: %s (code %u)",
                 result_text (r.result), r.result);
  return FALSE;
}

/* Job bodies (worker thread) */

static gboolean
run_open (BmsSession *self, Job *job, GError **error)
{
  if (self->open)
    return TRUE;
  if (!bms_transport_open (self->transport, error))
    return FALSE;
  if (self->baud_set && !bms_transport_set_baud (self->transport, self->baud, error))
    {
      bms_transport_close (self->transport);
      return FALSE;
    }
  self->open = TRUE;
  self->last_reply_us = 0;
  self->line_free_us = 0;
  g_hash_table_remove_all (self->wake_states);
  return TRUE;
}

static gboolean
run_close (BmsSession *self, Job *job, GError **error)
{
  if (self->open)
    bms_transport_close (self->transport);
  self->open = FALSE;
  return TRUE;
}

static gboolean
run_set_baud (BmsSession *self, Job *job, GError **error)
{
  if (self->open && !bms_transport_set_baud (self->transport, job->baud, error))
    return FALSE;
  g_mutex_lock (&self->lock);
  self->baud = job->baud;
  self->baud_set = TRUE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
run_read (BmsSession *self, Job *job, GError **error)
{
  g_autoptr(GByteArray) request = NULL;
  guint8 command;

  if (job->kind == JOB_READ_ALL)
    {
      request = bms_request_read_all (self->address);
      command = BMS_CMD_READ_ALL;
    }
  else
    {
      request = bms_request_read_one (self->address, job->id);
      command = BMS_CMD_READ;
    }
  return exchange (self, request, command, reply_to_snapshot, &job->snapshot, job->cancellable,
                   error);
}

static gboolean
run_unlock (BmsSession *self, Job *job, GError **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!bms_session_check_password (job->text, error))
    return FALSE;
  if (!authenticate (self, job->text, job->cancellable, &local_error))
    {
      if (g_error_matches (local_error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_DENIED))
        bms_session_lock (self);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  relock_locked (self);
  self->unlocked = TRUE;
  self->password = g_strdup (job->text);
  self->unlock_deadline_us = g_get_monotonic_time () + (gint64) self->lock_timeout_s * G_USEC_PER_SEC;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* The value as the user would read it, for error messages. */
static char *
describe_value (const BmsFieldInfo *field, gint64 raw, const char *text)
{
  if (field->id == BMS_ID_PASSWORD)
    return g_strdup ("(hidden)");
  if (bms_field_is_numeric (field))
    return bms_field_format (field, raw);
  return g_strdup_printf ("\"%s\"", text != NULL ? text : "");
}

/* Checks the value against the catalogue and produces its wire bytes.
 * Nothing has been sent when this fails. */
static gboolean
encode_value (BmsSession *self, const BmsFieldInfo *field, gint64 raw, const char *text,
              guint8 *out, GError **error)
{
  if (!bms_field_is_writable (field))
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_ACCESS,
                   "%s (0x%02X) is read-only and cannot be written", field->name, field->id);
      return FALSE;
    }
  if (field->size == 0)
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_ACCESS,
                   "%s (0x%02X) has a variable size and cannot be written one by one",
                   field->name, field->id);
      return FALSE;
    }
  if (bms_field_is_numeric (field))
    {
      if (!bms_field_check_range (field, raw, error))
        return FALSE;
      if (!bms_field_encode_raw (field, raw, out, self->protocol_version))
        {
          g_autofree char *shown = describe_value (field, raw, text);
          g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE,
                       "%s = %s cannot be encoded in %u bytes", field->name, shown, field->size);
          return FALSE;
        }
      return TRUE;
    }

  /* A password the board takes but nobody can type back would lock it for good. */
  if (field->id == BMS_ID_PASSWORD && !bms_session_check_password (text, error))
    return FALSE;
  {
    gsize len = text != NULL ? strlen (text) : 0;

    if (text == NULL || len > field->size)
      {
        g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE,
                     "%s takes text of at most %u characters (got %s%" G_GSIZE_FORMAT ")",
                     field->name, field->size, text == NULL ? "none, " : "", len);
        return FALSE;
      }
    for (gsize i = 0; field->type == BMS_FIELD_ASCII && i < len; i++)
      if (!g_ascii_isprint (text[i]))
        {
          g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE,
                       "%s takes printable ASCII only; character %" G_GSIZE_FORMAT
                       " is not",
                       field->name, i + 1);
          return FALSE;
        }
    memset (out, 0, field->size);
    memcpy (out, text, len);
  }
  return TRUE;
}

static gboolean
send_write (BmsSession *self, const BmsFieldInfo *field, const guint8 *value, const char *shown,
            GCancellable *cancellable, GError **error)
{
  g_autoptr(GByteArray) request = bms_request_write (self->address, field->id, value, field->size);
  ResultReply r = { field->id, 0 };

  if (!exchange (self, request, BMS_CMD_WRITE, reply_to_result, &r, cancellable, error))
    {
      g_prefix_error (error, "Writing %s = %s: ", field->name, shown);
      return FALSE;
    }
  if (r.result == BMS_RESULT_OK)
    return TRUE;
  g_set_error (error, BMS_SESSION_ERROR,
               r.result == BMS_RESULT_DENIED ? BMS_SESSION_ERROR_DENIED : BMS_SESSION_ERROR_REFUSED,
               "The BMS refused %s = %s: %s (code %u)", field->name, shown,
               result_text (r.result), r.result);
  return FALSE;
}

static gboolean
verify_readback (BmsSession *self, const BmsFieldInfo *field, const guint8 *value, gint64 raw,
                 const char *shown, BmsSnapshot *readback, GError **error)
{
  g_autofree char *got = NULL;

  if (!bms_snapshot_has (readback, field->id))
    {
      g_set_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_VERIFY,
                   "Wrote %s = %s, but the read-back did not include the field", field->name,
                   shown);
      return FALSE;
    }
  if (bms_field_is_numeric (field))
    {
      gint64 back = bms_snapshot_get_raw (readback, field->id);

      if (back == raw)
        return TRUE;
      got = describe_value (field, back, NULL);
    }
  else
    {
      const guint8 *back = bms_snapshot_get_bytes (readback, field->id);

      if (back != NULL && memcmp (back, value, field->size) == 0)
        return TRUE;
      got = field->id == BMS_ID_PASSWORD ? g_strdup ("a different value")
                                         : bms_snapshot_dup_string (readback, field->id);
      if (got != NULL && field->id != BMS_ID_PASSWORD)
        {
          char *quoted = g_strdup_printf ("\"%s\"", got);
          g_free (got);
          got = quoted;
        }
    }
  g_set_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_VERIFY,
               "Wrote %s = %s, but the BMS reads back %s: the value did not stick", field->name,
               shown, got != NULL ? got : "nothing");
  return FALSE;
}

static gboolean
run_write (BmsSession *self, Job *job, GError **error)
{
  const BmsFieldInfo *field = bms_field_lookup (job->id);
  g_autofree char *password = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *what = NULL;
  g_autoptr(GByteArray) read_request = NULL;
  g_autoptr(GError) local_error = NULL;
  guint8 value[256];

  if (field == NULL)
    {
      g_set_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_UNKNOWN,
                   "Unknown field id 0x%02X: nothing was written", job->id);
      return FALSE;
    }
  if (!encode_value (self, field, job->raw, job->text, value, error))
    return FALSE;
  shown = describe_value (field, job->raw, job->text);
  what = g_strdup_printf ("Writing %s = %s", field->name, shown);
  if (!require_unlocked (self, what, &password, error))
    return FALSE;

  /* The board keeps its own gate: authenticate right before each write. */
  if (!authenticate (self, password, job->cancellable, &local_error))
    {
      if (g_error_matches (local_error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_DENIED))
        bms_session_lock (self);
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", what);
      return FALSE;
    }
  if (!send_write (self, field, value, shown, job->cancellable, error))
    return FALSE;

  g_mutex_lock (&self->lock);
  if (self->unlocked)
    {
      self->unlock_deadline_us = g_get_monotonic_time () + (gint64) self->lock_timeout_s * G_USEC_PER_SEC;
      if (field->id == BMS_ID_PASSWORD)
        {
          relock_locked (self);
          self->unlocked = TRUE;
          self->unlock_deadline_us = g_get_monotonic_time () + (gint64) self->lock_timeout_s * G_USEC_PER_SEC;
          self->password = g_strndup (job->text, BMS_PASSWORD_SIZE);
        }
    }
  g_mutex_unlock (&self->lock);

  /* Commands (restart, factory reset, …) cannot be read back. */
  if (!(field->access & BMS_ACCESS_R))
    return TRUE;
  read_request = bms_request_read_one (self->address, field->id);
  if (!exchange (self, read_request, BMS_CMD_READ, reply_to_snapshot, &job->readback,
                 job->cancellable, error))
    {
      g_prefix_error (error, "%s was accepted, but reading it back failed: ", what);
      return FALSE;
    }
  return verify_readback (self, field, value, job->raw, shown, job->readback, error);
}

static gboolean
run_exclusive (BmsSession *self, Job *job, GError **error)
{
  BmsSessionTiming t = get_timing (self);
  gboolean ok;

  if (!require_unlocked (self, "Exclusive use of the line", NULL, error))
    return FALSE;
  if (!self->open)
    {
      g_set_error_literal (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED,
                           "The connection is not open: connect first");
      return FALSE;
    }
  wait_for_gap (self, &t);
  bms_transport_flush_input (self->transport);
  self->in_exclusive = TRUE;
  ok = job->func (self->transport, job->func_data, job->cancellable, error);
  self->in_exclusive = FALSE;
  /* Whatever happened, the board may have restarted: wake it next time. */
  self->line_free_us = g_get_monotonic_time ();
  self->need_wake = TRUE;
  return ok;
}

static gboolean
run_set_address (BmsSession *self, Job *job, GError **error)
{
  WakeState *state;

  if (job->address == self->address)
    return TRUE;
  state = g_new (WakeState, 1);
  state->last_reply_us = self->last_reply_us;
  state->need_wake = self->need_wake;
  g_hash_table_replace (self->wake_states, GUINT_TO_POINTER (self->address), state);

  /* A board not heard from yet (or long ago) is woken first. */
  state = g_hash_table_lookup (self->wake_states, GUINT_TO_POINTER (job->address));
  self->last_reply_us = state != NULL ? state->last_reply_us : 0;
  self->need_wake = state != NULL ? state->need_wake : TRUE;

  g_mutex_lock (&self->lock);
  self->address = job->address;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
run_job (BmsSession *self, Job *job, GError **error)
{
  if (job->kind != JOB_CLOSE && g_cancellable_set_error_if_cancelled (job->cancellable, error))
    return FALSE;

  switch (job->kind)
    {
    case JOB_OPEN: return run_open (self, job, error);
    case JOB_CLOSE: return run_close (self, job, error);
    case JOB_SET_BAUD: return run_set_baud (self, job, error);
    case JOB_READ_ALL:
    case JOB_READ_ONE: return run_read (self, job, error);
    case JOB_UNLOCK: return run_unlock (self, job, error);
    case JOB_WRITE: return run_write (self, job, error);
    case JOB_EXCLUSIVE: return run_exclusive (self, job, error);
    case JOB_SET_ADDRESS: return run_set_address (self, job, error);
    case JOB_QUIT:
    case JOB_RUN:
    default: g_assert_not_reached ();
    }
}

/* The worker and the job plumbing */

static void
job_clear (Job *job)
{
  g_free (job->text);
  g_clear_object (&job->cancellable);
  g_clear_pointer (&job->snapshot, bms_snapshot_free);
  g_clear_pointer (&job->readback, bms_snapshot_free);
  g_clear_error (&job->error);
  g_mutex_clear (&job->done_lock);
  g_cond_clear (&job->done_cond);
}

static void
job_free (Job *job)
{
  if (job->kind == JOB_UNLOCK && job->text != NULL)
    memset (job->text, 0, strlen (job->text));
  g_clear_object (&job->task);
  g_clear_object (&job->owner);
  job_clear (job);
  g_free (job);
}

/* One call of a bms_session_run_task function; FALSE when it asked to go
 * again after the jobs queued meanwhile. */
static gboolean
run_step (BmsSession *self, Job *job)
{
  BmsSessionJobResult result;

  result = job->run_func (self, job->func_data, job->cancellable, &job->error);
  if (result == BMS_SESSION_JOB_AGAIN)
    {
      g_clear_error (&job->error);
      return FALSE;
    }
  job->ok = result == BMS_SESSION_JOB_DONE;
  if (!job->ok && job->error == NULL)
    job->error = g_error_new_literal (BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED,
                                      "A session job failed without saying why");
  return TRUE;
}

/* The task of an async job gets its result here, on the worker; GTask
 * calls back in the main context the task was made in. */
static void
job_return (Job *job, GTask *task)
{
  if (!job->ok)
    g_task_return_error (task, g_steal_pointer (&job->error));
  else if (job->kind == JOB_RUN)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_pointer (task, g_steal_pointer (&job->snapshot),
                           (GDestroyNotify) bms_snapshot_free);
}

/* The worker owns a reference to the queue, not to the session: an async
 * job's GTask (or a run job's owner reference) may hold the last reference
 * to the session, and that may be dropped right here on the worker (see
 * dispose). */
static gpointer
worker_main (gpointer data)
{
  BmsSession *self = data;
  GAsyncQueue *queue = g_async_queue_ref (self->queue);

  for (;;)
    {
      Job *job = g_async_queue_pop (queue);
      GTask *task;
      BmsSession *owner;

      if (job->kind == JOB_QUIT)
        {
          g_free (job);
          break;
        }
      if (job->kind != JOB_RUN)
        job->ok = run_job (self, job, &job->error);
      else if (!run_step (self, job))
        {
          g_async_queue_push (queue, job);
          continue;
        }
      if (job->task == NULL)
        {
          g_mutex_lock (&job->done_lock);
          job->done = TRUE;
          g_cond_signal (&job->done_cond);
          g_mutex_unlock (&job->done_lock);
          continue;
        }
      task = g_steal_pointer (&job->task);
      owner = g_steal_pointer (&job->owner);
      job_return (job, task);
      job_free (job);
      g_object_unref (task);
      /* Either may finalize the session: self is not touched after this. */
      g_clear_object (&owner);
    }

  g_async_queue_unref (queue);
  return NULL;
}

static void
job_init (Job *job, JobKind kind, GCancellable *cancellable)
{
  memset (job, 0, sizeof *job);
  job->kind = kind;
  job->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  g_mutex_init (&job->done_lock);
  g_cond_init (&job->done_cond);
}

/* Queues the job and waits for the worker to finish it (the blocking
 * calls, for threads other than the worker). */
static gboolean
job_run_sync (BmsSession *self, Job *job, GError **error)
{
  if (g_thread_self () == self->worker && self->in_exclusive)
    {
      g_set_error_literal (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED,
                           "A session call was made from inside bms_session_run_exclusive: "
                           "use the transport given to the function instead");
      return FALSE;
    }
  if (g_thread_self () == self->worker)
    {
      /* Inside a job of bms_session_run_task: the line is ours already,
       * and queueing would wait for ourselves. */
      job->ok = run_job (self, job, &job->error);
    }
  else
    {
      g_async_queue_push (self->queue, job);
      g_mutex_lock (&job->done_lock);
      while (!job->done)
        g_cond_wait (&job->done_cond, &job->done_lock);
      g_mutex_unlock (&job->done_lock);
    }
  if (!job->ok)
    g_propagate_error (error, g_steal_pointer (&job->error));
  return job->ok;
}

/* GObject */

static void
bms_session_dispose (GObject *object)
{
  BmsSession *self = BMS_SESSION (object);

  if (self->worker != NULL)
    {
      Job *quit = g_new0 (Job, 1);

      quit->kind = JOB_QUIT;
      /* Only the worker touches the transport; here we either are the
       * worker or it is idle (every queued job holds a reference). */
      if (self->open)
        bms_transport_close (self->transport);
      self->open = FALSE;
      g_async_queue_push (self->queue, quit);
      if (g_thread_self () == self->worker)
        g_thread_unref (self->worker);
      else
        g_thread_join (self->worker);
      self->worker = NULL;
    }
  g_clear_object (&self->transport);
  G_OBJECT_CLASS (bms_session_parent_class)->dispose (object);
}

static void
bms_session_finalize (GObject *object)
{
  BmsSession *self = BMS_SESSION (object);

  relock_locked (self);
  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_clear_pointer (&self->wake_states, g_hash_table_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (bms_session_parent_class)->finalize (object);
}

static void
bms_session_class_init (BmsSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = bms_session_dispose;
  object_class->finalize = bms_session_finalize;
}

static void
bms_session_init (BmsSession *self)
{
  g_mutex_init (&self->lock);
  self->timing.first_byte_timeout_ms = 1500;
  self->timing.inter_byte_timeout_ms = 100;
  self->timing.retries = 3;
  self->timing.min_gap_ms = 100;
  self->baud = DEFAULT_BAUD;
  self->lock_timeout_s = DEFAULT_LOCK_TIMEOUT;
  self->wake_after_ms = DEFAULT_WAKE_AFTER_MS;
  self->protocol_version = DEFAULT_PROTOCOL;
  self->queue = g_async_queue_new ();
  self->wake_states = g_hash_table_new_full (NULL, NULL, NULL, g_free);
}

/* Public API */

BmsSession *
bms_session_new (BmsTransport *transport, guint address)
{
  BmsSession *self;

  g_return_val_if_fail (BMS_IS_TRANSPORT (transport), NULL);

  self = g_object_new (BMS_TYPE_SESSION, NULL);
  self->transport = g_object_ref (transport);
  self->address = address;
  /* Start from the line's own rate, so the timing is right without a call
   * to bms_session_set_baud. */
  if (bms_transport_baud_is_supported (bms_transport_get_baud (transport)))
    self->baud = bms_transport_get_baud (transport);
  self->worker = g_thread_new ("bms-session", worker_main, self);
  return self;
}

BmsTransport *
bms_session_get_transport (BmsSession *self)
{
  g_return_val_if_fail (BMS_IS_SESSION (self), NULL);

  return self->transport;
}

guint
bms_session_get_address (BmsSession *self)
{
  guint address;

  g_return_val_if_fail (BMS_IS_SESSION (self), 0);

  g_mutex_lock (&self->lock);
  address = self->address;
  g_mutex_unlock (&self->lock);
  return address;
}

/* Several boards on one bus share one line: the poller points the session at
 * each address in turn. Runs as a job, so it never lands inside a request. */
void
bms_session_set_address (BmsSession *self, guint address)
{
  Job job;

  g_return_if_fail (BMS_IS_SESSION (self));

  job_init (&job, JOB_SET_ADDRESS, NULL);
  job.address = address;
  job_run_sync (self, &job, NULL);
  job_clear (&job);
}

void
bms_session_set_timing (BmsSession *self, const BmsSessionTiming *timing)
{
  g_return_if_fail (BMS_IS_SESSION (self));
  g_return_if_fail (timing != NULL);

  g_mutex_lock (&self->lock);
  self->timing = *timing;
  g_mutex_unlock (&self->lock);
}

void
bms_session_get_timing (BmsSession *self, BmsSessionTiming *timing)
{
  g_return_if_fail (BMS_IS_SESSION (self));
  g_return_if_fail (timing != NULL);

  *timing = get_timing (self);
}

gboolean
bms_session_set_baud (BmsSession *self, guint baud, GError **error)
{
  Job job;
  gboolean ok;

  g_return_val_if_fail (BMS_IS_SESSION (self), FALSE);

  if (!bms_transport_baud_is_supported (baud))
    {
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID,
                   "Unsupported baud rate %u: use 9600, 19200, 38400, 57600 or 115200", baud);
      return FALSE;
    }
  job_init (&job, JOB_SET_BAUD, NULL);
  job.baud = baud;
  ok = job_run_sync (self, &job, error);
  job_clear (&job);
  return ok;
}

guint
bms_session_get_baud (BmsSession *self)
{
  guint baud;

  g_return_val_if_fail (BMS_IS_SESSION (self), 0);

  g_mutex_lock (&self->lock);
  baud = self->baud;
  g_mutex_unlock (&self->lock);
  return baud;
}

void
bms_session_set_wake_after (BmsSession *self, guint ms)
{
  g_return_if_fail (BMS_IS_SESSION (self));

  g_mutex_lock (&self->lock);
  self->wake_after_ms = ms;
  g_mutex_unlock (&self->lock);
}

gboolean
bms_session_open (BmsSession *self, GError **error)
{
  Job job;
  gboolean ok;

  g_return_val_if_fail (BMS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  job_init (&job, JOB_OPEN, NULL);
  ok = job_run_sync (self, &job, error);
  job_clear (&job);
  return ok;
}

void
bms_session_close (BmsSession *self)
{
  Job job;

  g_return_if_fail (BMS_IS_SESSION (self));

  job_init (&job, JOB_CLOSE, NULL);
  job_run_sync (self, &job, NULL);
  job_clear (&job);
  bms_session_lock (self);
}

static BmsSnapshot *
read_sync (BmsSession *self, JobKind kind, guint8 id, GCancellable *cancellable, GError **error)
{
  Job job;
  BmsSnapshot *snapshot = NULL;

  job_init (&job, kind, cancellable);
  job.id = id;
  if (job_run_sync (self, &job, error))
    snapshot = g_steal_pointer (&job.snapshot);
  job_clear (&job);
  return snapshot;
}

BmsSnapshot *
bms_session_read_all (BmsSession *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (BMS_IS_SESSION (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return read_sync (self, JOB_READ_ALL, 0, cancellable, error);
}

BmsSnapshot *
bms_session_read_one (BmsSession *self, guint8 id, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (BMS_IS_SESSION (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return read_sync (self, JOB_READ_ONE, id, cancellable, error);
}

gboolean
bms_session_unlock (BmsSession *self, const char *password, GCancellable *cancellable,
                    GError **error)
{
  Job job;
  gboolean ok;

  g_return_val_if_fail (BMS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  job_init (&job, JOB_UNLOCK, cancellable);
  job.text = g_strdup (password);
  ok = job_run_sync (self, &job, error);
  if (job.text != NULL)
    memset (job.text, 0, strlen (job.text));
  job_clear (&job);
  return ok;
}

/* The same as a job of the queue: no thread waits for the worker. */
void
bms_session_unlock_async (BmsSession *self, const char *password, GCancellable *cancellable,
                          GAsyncReadyCallback cb, gpointer user_data)
{
  Job *job;

  g_return_if_fail (BMS_IS_SESSION (self));
  g_return_if_fail (password != NULL);

  job = g_new (Job, 1);
  job_init (job, JOB_UNLOCK, cancellable);
  job->text = g_strdup (password);
  job->task = g_task_new (self, cancellable, cb, user_data);
  g_task_set_source_tag (job->task, bms_session_unlock_async);
  g_async_queue_push (self->queue, job);
}

gboolean
bms_session_unlock_finish (BmsSession *self, GAsyncResult *res, GError **error)
{
  GError *local = NULL;

  g_return_val_if_fail (BMS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (res, self), FALSE);

  /* The worker returns a (NULL) snapshot pointer for every async job. */
  g_task_propagate_pointer (G_TASK (res), &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

void
bms_session_lock (BmsSession *self)
{
  g_return_if_fail (BMS_IS_SESSION (self));

  g_mutex_lock (&self->lock);
  relock_locked (self);
  g_mutex_unlock (&self->lock);
}

gboolean
bms_session_is_unlocked (BmsSession *self)
{
  gboolean unlocked;

  g_return_val_if_fail (BMS_IS_SESSION (self), FALSE);

  g_mutex_lock (&self->lock);
  unlocked = check_unlocked_locked (self);
  g_mutex_unlock (&self->lock);
  return unlocked;
}

guint
bms_session_get_unlock_remaining (BmsSession *self)
{
  gint64 left = 0;

  g_return_val_if_fail (BMS_IS_SESSION (self), 0);

  g_mutex_lock (&self->lock);
  if (check_unlocked_locked (self))
    left = self->unlock_deadline_us - g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);
  return (guint) ((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

void
bms_session_set_lock_timeout (BmsSession *self, guint seconds)
{
  g_return_if_fail (BMS_IS_SESSION (self));
  g_return_if_fail (seconds > 0);

  g_mutex_lock (&self->lock);
  self->lock_timeout_s = seconds;
  if (self->unlocked)
    self->unlock_deadline_us = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  g_mutex_unlock (&self->lock);
}

gboolean
bms_session_write (BmsSession *self, guint8 id, gint64 raw, const char *text,
                   BmsSnapshot **readback_out, GCancellable *cancellable, GError **error)
{
  Job job;
  gboolean ok;

  g_return_val_if_fail (BMS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  job_init (&job, JOB_WRITE, cancellable);
  job.id = id;
  job.raw = raw;
  job.text = g_strdup (text);
  ok = job_run_sync (self, &job, error);
  if (ok && readback_out != NULL)
    *readback_out = g_steal_pointer (&job.readback);
  job_clear (&job);
  return ok;
}

gboolean
bms_session_run_exclusive (BmsSession *self, BmsSessionRawFunc func, gpointer user_data,
                           GCancellable *cancellable, GError **error)
{
  Job job;
  gboolean ok;

  g_return_val_if_fail (BMS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  job_init (&job, JOB_EXCLUSIVE, cancellable);
  job.func = func;
  job.func_data = user_data;
  ok = job_run_sync (self, &job, error);
  job_clear (&job);
  return ok;
}

void
bms_session_run_task (BmsSession *self, GTask *task, BmsSessionJobFunc func, gpointer user_data)
{
  Job *job;

  g_return_if_fail (BMS_IS_SESSION (self));
  g_return_if_fail (G_IS_TASK (task));
  g_return_if_fail (func != NULL);

  job = g_new (Job, 1);
  job_init (job, JOB_RUN, g_task_get_cancellable (task));
  job->run_func = func;
  job->func_data = user_data;
  job->task = g_object_ref (task);
  job->owner = g_object_ref (self);
  g_async_queue_push (self->queue, job);
}

void
bms_session_read_all_async (BmsSession *self, GCancellable *cancellable,
                            GAsyncReadyCallback cb, gpointer user_data)
{
  Job *job;

  g_return_if_fail (BMS_IS_SESSION (self));

  job = g_new (Job, 1);
  job_init (job, JOB_READ_ALL, cancellable);
  job->task = g_task_new (self, cancellable, cb, user_data);
  g_task_set_source_tag (job->task, bms_session_read_all_async);
  g_async_queue_push (self->queue, job);
}

BmsSnapshot *
bms_session_read_all_finish (BmsSession *self, GAsyncResult *res, GError **error)
{
  g_return_val_if_fail (BMS_IS_SESSION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (res, self), NULL);

  return g_task_propagate_pointer (G_TASK (res), error);
}

void
bms_session_get_stats (BmsSession *self, BmsSessionStats *out)
{
  g_return_if_fail (BMS_IS_SESSION (self));
  g_return_if_fail (out != NULL);

  g_mutex_lock (&self->lock);
  *out = self->stats;
  g_mutex_unlock (&self->lock);
}
