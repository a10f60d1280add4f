/* bms-poller.c — poll the boards of one line on a worker thread.
 *
 * The worker owns nothing of the GObject: it shares a refcounted Shared
 * block with it and reaches the poller through a weak reference inside
 * messages posted to the poller's main context. So dropping the poller never
 * waits for the line, and a late message for a dead poller is dropped.
 */
#include "config.h"
#include "bms-context.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "bms-poller.h"

typedef struct
{
  gatomicrefcount ref;
  GMutex lock;
  GCond cond;
  guint generation; /* bumped by start and stop: old workers quit */
  double interval_s;
  BmsSession *session;
  BmsHistory *history;  /* under lock */
  guint history_serial; /* bumped when history changes */
  GArray *addresses;    /* guint; fixed once started */
  gboolean scan;
  guint scan_first;
  guint scan_last;
  GMainContext *context;
  GWeakRef poller;
  GCancellable *cancellable;
  GQueue jobs;     /* GTask of bms_poller_run_async; under lock */
  gboolean rescan; /* bms_poller_rescan asked for a scan; under lock */
  guint live_workers;  /* under lock */
  GQueue stop_waiters; /* GTask of bms_poller_stop_async; under lock */
  BmsSnapshot *first_reply; /* bms_poller_set_first_reply; under lock */
} Shared;

static Shared *
shared_ref (Shared *sh)
{
  g_atomic_ref_count_inc (&sh->ref);
  return sh;
}

static void
shared_unref (Shared *sh)
{
  if (!g_atomic_ref_count_dec (&sh->ref))
    return;
  g_clear_object (&sh->session);
  g_clear_object (&sh->history);
  g_clear_object (&sh->cancellable);
  g_clear_pointer (&sh->first_reply, bms_snapshot_free);
  g_queue_clear_full (&sh->jobs, g_object_unref);
  g_queue_clear_full (&sh->stop_waiters, g_object_unref);
  g_array_unref (sh->addresses);
  g_main_context_unref (sh->context);
  g_weak_ref_clear (&sh->poller);
  g_mutex_clear (&sh->lock);
  g_cond_clear (&sh->cond);
  g_free (sh);
}

struct _BmsPoller
{
  GObject parent_instance;
  Shared *shared;
  GThread *thread;
  GListStore *devices;
  GHashTable *monitors;    /* address -> BmsAlarmMonitor */
  GHashTable *history_ids; /* address -> history device id */
  gboolean running;
  gboolean connected;
  gboolean lagging;
  double cycle_time;
  guint64 cycles;
  guint64 implausible_replies;
  char *message;
};

G_DEFINE_FINAL_TYPE (BmsPoller, bms_poller, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_SESSION,
  PROP_INTERVAL,
  PROP_HISTORY,
  PROP_RUNNING,
  PROP_CONNECTED,
  PROP_LAGGING,
  PROP_CYCLE_TIME,
  PROP_CYCLES,
  PROP_IMPLAUSIBLE_REPLIES,
  PROP_MESSAGE,
  PROP_DEVICES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_HISTORY_REFUSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- messages from the worker ---- */

typedef enum
{
  MSG_SNAPSHOT,
  MSG_OFFLINE,
  MSG_STATUS,
  MSG_IMPLAUSIBLE,
  MSG_CLAIM_REFUSED,
} MsgKind;

typedef struct
{
  MsgKind kind;
  Shared *shared;
  guint address;
  BmsSnapshot *snapshot;
  BmsHistory *history;
  gint64 history_id;
  gboolean locked;
  guint unlock_remaining;
  gboolean connected;
  gboolean lagging;
  double cycle_time;
  guint64 cycles;
  guint64 implausible;
  char *message; /* MSG_IMPLAUSIBLE: the reason; MSG_CLAIM_REFUSED: who records */
} Msg;

static void
msg_free (gpointer data)
{
  Msg *msg = data;

  g_clear_pointer (&msg->snapshot, bms_snapshot_free);
  g_clear_object (&msg->history);
  g_free (msg->message);
  shared_unref (msg->shared);
  g_free (msg);
}

static gint
compare_address (gconstpointer a, gconstpointer b, gpointer data)
{
  guint aa = bms_device_get_address ((BmsDevice *)a);
  guint bb = bms_device_get_address ((BmsDevice *)b);

  return aa < bb ? -1 : aa > bb;
}

static BmsDevice *
ensure_device (BmsPoller *self, guint address)
{
  BmsDevice *device = bms_poller_lookup_device (self, address);
  g_autoptr (BmsDevice) created = NULL;
  g_autofree char *name = NULL;

  if (device != NULL)
    return device;
  created = bms_device_new (address);
  name = g_strdup_printf (_ ("Board %u"), address);
  bms_device_set_name (created, name);
  g_list_store_insert_sorted (self->devices, created, compare_address, NULL);
  g_hash_table_insert (self->monitors, GUINT_TO_POINTER (address), bms_alarm_monitor_new (created));
  return created;
}

static void
set_status (BmsPoller *self, const Msg *msg)
{
  GObject *object = G_OBJECT (self);

  g_object_freeze_notify (object);
  if (self->connected != msg->connected)
    {
      self->connected = msg->connected;
      g_object_notify_by_pspec (object, properties[PROP_CONNECTED]);
    }
  if (self->lagging != msg->lagging)
    {
      self->lagging = msg->lagging;
      g_object_notify_by_pspec (object, properties[PROP_LAGGING]);
    }
  if (self->cycle_time != msg->cycle_time)
    {
      self->cycle_time = msg->cycle_time;
      g_object_notify_by_pspec (object, properties[PROP_CYCLE_TIME]);
    }
  if (self->cycles != msg->cycles)
    {
      self->cycles = msg->cycles;
      g_object_notify_by_pspec (object, properties[PROP_CYCLES]);
    }
  if (self->implausible_replies != msg->implausible)
    {
      self->implausible_replies = msg->implausible;
      g_object_notify_by_pspec (object, properties[PROP_IMPLAUSIBLE_REPLIES]);
    }
  if (g_strcmp0 (self->message, msg->message) != 0)
    {
      g_free (self->message);
      self->message = g_strdup (msg->message);
      g_object_notify_by_pspec (object, properties[PROP_MESSAGE]);
    }
  g_object_thaw_notify (object);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->devices)); i++)
    {
      g_autoptr (BmsDevice) device = g_list_model_get_item (G_LIST_MODEL (self->devices), i);
      bms_device_set_lagging (device, self->lagging);
    }
}

static gboolean
deliver (gpointer data)
{
  Msg *msg = data;
  g_autoptr (BmsPoller) self = g_weak_ref_get (&msg->shared->poller);
  BmsDevice *device;

  if (self == NULL)
    return G_SOURCE_REMOVE;
  switch (msg->kind)
    {
    case MSG_SNAPSHOT:
      device = ensure_device (self, msg->address);
      if (msg->history != NULL)
        {
          bms_alarm_monitor_set_history (bms_poller_get_alarm_monitor (self, msg->address),
                                         msg->history, msg->history_id);
          g_hash_table_insert (self->history_ids, GUINT_TO_POINTER (msg->address),
                               GSIZE_TO_POINTER ((gsize)msg->history_id));
        }
      bms_device_update (device, msg->snapshot);
      bms_device_set_password_state (device, msg->locked, msg->unlock_remaining);
      break;
    case MSG_IMPLAUSIBLE:
      device = ensure_device (self, msg->address);
      bms_device_reject_reply (device, msg->message);
      break;
    case MSG_CLAIM_REFUSED:
      g_signal_emit (self, signals[SIGNAL_HISTORY_REFUSED], 0, msg->address, msg->message);
      break;
    case MSG_OFFLINE:
      device = bms_poller_lookup_device (self, msg->address);
      if (device != NULL)
        bms_device_set_online (device, FALSE);
      break;
    case MSG_STATUS:
      set_status (self, msg);
      break;
    }
  return G_SOURCE_REMOVE;
}

static void
post (Shared *sh, Msg *msg)
{
  msg->shared = shared_ref (sh);
  bms_context_post (sh->context, deliver, msg, msg_free);
}

/* ---- the worker ---- */

typedef struct
{
  guint address;
  guint missed;
  char *history_key;
  gint64 history_id;      /* 0: not recorded (another writer has it) */
  guint history_serial;
  gint64 history_retry;   /* monotonic: when to ask for the claim again */
  gboolean claim_refused; /* said once (MSG_CLAIM_REFUSED) until the claim is had */
} Board;

typedef struct
{
  Shared *sh;
  guint generation;
  GCancellable *cancellable;
  GArray *boards; /* Board */
  gboolean connected;
  gboolean multi; /* more than one address: point the session at each */
  gboolean need_scan;
  double backoff_s;
  guint64 cycles;
  guint64 implausible;    /* replies refused as implausible, all boards */
  char *implausible_note; /* the last reason in this cycle, for the message */
  char *line_error; /* why the line is down */
} Worker;

static void
board_clear (gpointer data)
{
  g_free (((Board *)data)->history_key);
}

static gboolean
should_stop (Worker *w)
{
  gboolean stop;

  g_mutex_lock (&w->sh->lock);
  stop = w->sh->generation != w->generation;
  g_mutex_unlock (&w->sh->lock);
  return stop;
}

static double
get_interval (Shared *sh)
{
  double s;

  g_mutex_lock (&sh->lock);
  s = sh->interval_s;
  g_mutex_unlock (&sh->lock);
  return s;
}

/* Sleeps up to seconds; wakes early on stop. */
static void
wait_for (Worker *w, double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64)(seconds * G_USEC_PER_SEC);

  g_mutex_lock (&w->sh->lock);
  while (w->sh->generation == w->generation && g_queue_is_empty (&w->sh->jobs)
         && g_cond_wait_until (&w->sh->cond, &w->sh->lock, end))
    ;
  g_mutex_unlock (&w->sh->lock);
}

/* ---- work run between cycles (bms_poller_run_async) ---- */

typedef struct
{
  guint address;
  BmsPollerFunc func;
  gpointer data;
  GDestroyNotify destroy;
} RunJob;

static void
run_job_free (gpointer data)
{
  RunJob *job = data;

  if (job->destroy != NULL)
    job->destroy (job->data);
  g_free (job);
}

static GTask *
pop_job (Shared *sh)
{
  GTask *task;

  g_mutex_lock (&sh->lock);
  task = g_queue_pop_head (&sh->jobs);
  g_mutex_unlock (&sh->lock);
  return task;
}

static void run_jobs (Worker *w);

static gboolean
is_line_error (const GError *error)
{
  if (error->domain == BMS_TRANSPORT_ERROR)
    return error->code != BMS_TRANSPORT_ERROR_INVALID;
  return g_error_matches (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED);
}

/* The history (NULL without one or when the board cannot be registered),
 * with the board's row in board->history_id. */
static BmsHistory *
board_history (Worker *w, Board *board, const BmsSnapshot *snapshot)
{
  g_autoptr (BmsHistory) history = NULL;
  g_autofree char *key = NULL;
  guint serial;

  g_mutex_lock (&w->sh->lock);
  history = w->sh->history ? g_object_ref (w->sh->history) : NULL;
  serial = w->sh->history_serial;
  g_mutex_unlock (&w->sh->lock);
  if (history == NULL)
    return NULL;

  key = bms_device_key_for_snapshot (snapshot, board->address);
  if (board->history_serial != serial || g_strcmp0 (key, board->history_key) != 0 ||
      (board->history_id == 0 && g_get_monotonic_time () >= board->history_retry))
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *name = bms_snapshot_dup_string (snapshot, 0xB4);
      g_autofree char *fallback = g_strdup_printf ("Board %u", board->address);
      /* One writer per board: while another process (a `packwatch-cli log`)
       * records it, this one polls without recording and asks again now
       * and then, so it takes over once the other has stopped. */
      gint64 id = bms_history_claim_device (history, key, name && *name ? name : fallback, &error);
      if (id <= 0 && !g_error_matches (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLAIMED) &&
          !g_error_matches (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_READ_ONLY))
        {
          g_warning ("History: cannot register board %u: %s", board->address,
                     error ? error->message : "unknown error");
          return NULL;
        }
      if (id <= 0 && error != NULL && !board->claim_refused)
        {
          Msg *msg = g_new0 (Msg, 1);

          msg->kind = MSG_CLAIM_REFUSED;
          msg->address = board->address;
          msg->message = g_strdup (error->message);
          post (w->sh, msg);
        }
      board->claim_refused = id <= 0;
      g_free (board->history_key);
      board->history_key = g_steal_pointer (&key);
      board->history_id = MAX (id, 0);
      board->history_serial = serial;
      board->history_retry = g_get_monotonic_time () +
                             BMS_HISTORY_CLAIM_HEARTBEAT_S * 3 * G_USEC_PER_SEC;
    }
  if (board->history_id == 0)
    return NULL;
  return g_steal_pointer (&history);
}

/* Appends to history (ensuring the device row first) and says under which
 * id; the history reference is returned for the alarm monitor. */
static BmsHistory *
record_history (Worker *w, Board *board, const BmsSnapshot *snapshot)
{
  BmsHistory *history = board_history (w, board, snapshot);

  if (history != NULL)
    {
      bms_history_append_snapshot (history, board->history_id, snapshot);
      /* A report written from the file alone needs the board's identity
       * and settings too: stored only when they changed. */
      bms_history_record_board (history, board->history_id, snapshot->timestamp_us, snapshot);
    }
  return history;
}

static void
post_snapshot (Worker *w, Board *board, BmsSnapshot *snapshot)
{
  Msg *msg = g_new0 (Msg, 1);

  msg->kind = MSG_SNAPSHOT;
  msg->address = board->address;
  msg->history = record_history (w, board, snapshot);
  msg->history_id = board->history_id;
  msg->snapshot = snapshot;
  msg->locked = !bms_session_is_unlocked (w->sh->session);
  msg->unlock_remaining = bms_session_get_unlock_remaining (w->sh->session);
  post (w->sh, msg);
}

/* A reply no pack can give is not a sample: it is counted, kept in the
 * history as an event with the reason, and the device says so. */
static void
reject_reply (Worker *w, Board *board, BmsSnapshot *snapshot, const char *reason)
{
  g_autoptr (BmsHistory) history = board_history (w, board, snapshot);
  Msg *msg = g_new0 (Msg, 1);

  w->implausible++;
  g_free (w->implausible_note);
  w->implausible_note
      = g_strdup_printf (_ ("Implausible reply from board %u: %s"), board->address, reason);
  if (history != NULL)
    bms_history_add_alarm_event (history, board->history_id, snapshot->timestamp_us,
                                 BMS_ALARM_CODE_IMPLAUSIBLE, TRUE, NAN, NAN, reason);
  msg->kind = MSG_IMPLAUSIBLE;
  msg->address = board->address;
  msg->message = g_strdup (reason);
  post (w->sh, msg);
  bms_snapshot_free (snapshot);
}

/* Hands a reply on: to the device and history when plausible, else to
 * reject_reply. Takes snapshot. Returns whether it was plausible. */
static gboolean
take_reply (Worker *w, Board *board, BmsSnapshot *snapshot)
{
  g_autoptr (GError) error = NULL;

  if (snapshot->timestamp_us == 0)
    snapshot->timestamp_us = g_get_real_time ();
  board->missed = 0;
  if (!bms_snapshot_check_plausible (snapshot, &error))
    {
      reject_reply (w, board, snapshot, error->message);
      return FALSE;
    }
  post_snapshot (w, board, snapshot);
  return TRUE;
}

static void
post_status (Worker *w, gboolean lagging, double cycle_time, char *message)
{
  Msg *msg = g_new0 (Msg, 1);

  msg->kind = MSG_STATUS;
  msg->connected = w->connected;
  msg->lagging = lagging;
  msg->cycle_time = cycle_time;
  msg->cycles = w->cycles;
  msg->implausible = w->implausible;
  msg->message = message;
  post (w->sh, msg);
}

static void
missed (Worker *w, Board *board)
{
  Msg *msg;

  if (++board->missed != BMS_POLLER_MISSED_OFFLINE)
    return;
  msg = g_new0 (Msg, 1);
  msg->kind = MSG_OFFLINE;
  msg->address = board->address;
  post (w->sh, msg);
}

typedef enum
{
  POLL_OK,
  POLL_IMPLAUSIBLE,
  POLL_MISSED,
  POLL_LINE_DOWN,
  POLL_STOPPED
} PollResult;

static PollResult
poll_board (Worker *w, Board *board)
{
  g_autoptr (GError) error = NULL;
  BmsSnapshot *snapshot;

  if (w->multi)
    bms_session_set_address (w->sh->session, board->address);
  g_mutex_lock (&w->sh->lock);
  snapshot = g_steal_pointer (&w->sh->first_reply);
  g_mutex_unlock (&w->sh->lock);
  if (snapshot == NULL)
    snapshot = bms_session_read_all (w->sh->session, w->cancellable, &error);
  if (snapshot != NULL)
    return take_reply (w, board, snapshot) ? POLL_OK : POLL_IMPLAUSIBLE;
  /* Stopped mid-request: not the board's fault. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || should_stop (w))
    return POLL_STOPPED;
  missed (w, board);
  if (is_line_error (error))
    {
      g_free (w->line_error);
      w->line_error = g_strdup (error->message);
      return POLL_LINE_DOWN;
    }
  return POLL_MISSED;
}

static Board *
add_board (Worker *w, guint address)
{
  Board board = { address, 0, NULL, 0, 0, 0, FALSE };

  for (guint i = 0; i < w->boards->len; i++)
    if (g_array_index (w->boards, Board, i).address == address)
      return &g_array_index (w->boards, Board, i);
  g_array_append_val (w->boards, board);
  return &g_array_index (w->boards, Board, w->boards->len - 1);
}

/* Probes every address of the range once, with a short timeout and no
 * retries, so a range of 16 with one board costs about 4 s, not a minute. */
static void
scan (Worker *w)
{
  BmsSession *session = w->sh->session;
  BmsSessionTiming saved, quick;
  guint found = 0;

  bms_session_get_timing (session, &saved);
  quick = saved;
  quick.first_byte_timeout_ms = MIN (saved.first_byte_timeout_ms, 250);
  quick.retries = 0;
  bms_session_set_timing (session, &quick);

  for (guint a = w->sh->scan_first; a <= w->sh->scan_last && !should_stop (w); a++)
    {
      g_autoptr (GError) error = NULL;
      BmsSnapshot *snapshot;
      Board *board;

      bms_session_set_address (session, a);
      snapshot = bms_session_read_all (session, w->cancellable, &error);
      if (snapshot == NULL)
        {
          if (is_line_error (error))
            break;
          continue;
        }
      board = add_board (w, a);
      found++;
      take_reply (w, board, snapshot);
    }
  bms_session_set_timing (session, &saved);
  w->need_scan = found == 0;
}

static gboolean
reconnect (Worker *w)
{
  g_autoptr (GError) error = NULL;
  double interval = get_interval (w->sh);

  if (bms_session_open (w->sh->session, &error))
    {
      w->connected = TRUE;
      w->backoff_s = 0;
      w->need_scan = w->sh->scan;
      return TRUE;
    }
  for (guint i = 0; i < w->boards->len; i++)
    missed (w, &g_array_index (w->boards, Board, i));
  w->backoff_s = w->backoff_s == 0 ? interval : MIN (w->backoff_s * 2, BMS_POLLER_RECONNECT_MAX_S);
  post_status (w, FALSE, 0,
               g_strdup_printf (_ ("Cannot open the line (%s); trying again in %.1f s"),
                                error->message, w->backoff_s));
  wait_for (w, w->backoff_s);
  return FALSE;
}

static char *
cycle_message (Worker *w, gboolean lagging, double elapsed, double interval, guint answered)
{
  if (!w->connected)
    return g_strdup_printf (_ ("The line is down (%s); reconnecting"),
                            w->line_error ? w->line_error : "?");
  if (w->sh->scan && w->boards->len == 0)
    return g_strdup_printf (_ ("No board answered at addresses %u to %u; scanning again"),
                            w->sh->scan_first, w->sh->scan_last);
  if (w->implausible_note != NULL)
    return g_strdup (w->implausible_note);
  if (lagging)
    return g_strdup_printf (_ ("Lagging: a cycle takes %.2f s, longer than the %.1f s interval; "
                               "polling back to back"),
                            elapsed, interval);
  if (answered < w->boards->len)
    return g_strdup_printf (_ ("%u of %u boards answered; polling every %.1f s"), answered,
                            w->boards->len, interval);
  return g_strdup_printf (
      ngettext ("Polling %u board every %.1f s", "Polling %u boards every %.1f s", w->boards->len),
      w->boards->len, interval);
}

static void
run_cycle (Worker *w)
{
  gint64 start = g_get_monotonic_time ();
  double interval, elapsed;
  guint answered = 0;
  gboolean lagging;

  g_mutex_lock (&w->sh->lock);
  if (w->sh->rescan && w->sh->scan)
    w->need_scan = TRUE;
  w->sh->rescan = FALSE;
  g_mutex_unlock (&w->sh->lock);
  g_clear_pointer (&w->implausible_note, g_free);
  if (w->need_scan)
    scan (w);
  for (guint i = 0; i < w->boards->len && !should_stop (w); i++)
    {
      PollResult r = poll_board (w, &g_array_index (w->boards, Board, i));

      if (r == POLL_STOPPED)
        return;
      if (r == POLL_OK)
        answered++;
      if (r == POLL_LINE_DOWN)
        {
          w->connected = FALSE;
          bms_session_close (w->sh->session);
          for (guint j = i + 1; j < w->boards->len; j++)
            missed (w, &g_array_index (w->boards, Board, j));
          break;
        }
    }
  w->cycles++;
  interval = get_interval (w->sh);
  elapsed = (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
  /* Lagging is about the line being too slow for the interval; boards that
   * do not answer are reported as such instead. */
  lagging = w->connected && answered == w->boards->len && answered > 0 && elapsed > interval;
  post_status (w, lagging, elapsed, cycle_message (w, lagging, elapsed, interval, answered));
  /* Behind: start the next cycle at once, never more than one in flight. */
  if (!lagging)
    wait_for (w, interval - elapsed);
}

static void
run_jobs (Worker *w)
{
  GTask *task;

  while ((task = pop_job (w->sh)) != NULL)
    {
      RunJob *job = g_task_get_task_data (task);
      GError *error = NULL;
      guint address = bms_session_get_address (w->sh->session);

      if (!w->connected)
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "%s",
                                 _ ("The line is down: nothing was sent"));
      else
        {
          /* The line is ours until func returns: no poll can re-aim it. */
          bms_session_set_address (w->sh->session, job->address);
          if (job->func (w->sh->session, job->address, job->data, g_task_get_cancellable (task),
                         &error))
            g_task_return_boolean (task, TRUE);
          else
            g_task_return_error (task, error);
          bms_session_set_address (w->sh->session, address);
        }
      g_object_unref (task);
    }
}

static void
fail_jobs (Shared *sh)
{
  GTask *task;

  while ((task = pop_job (sh)) != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                               _ ("Polling stopped: nothing was sent"));
      g_object_unref (task);
    }
}

/* The last worker to end tells those waiting in bms_poller_stop_async
 * that the session is no longer touched (GTask calls back in their own
 * main context). */
static void
workers_done (Shared *sh)
{
  GQueue waiters = G_QUEUE_INIT;
  GTask *task;

  g_mutex_lock (&sh->lock);
  if (--sh->live_workers == 0)
    {
      waiters = sh->stop_waiters;
      g_queue_init (&sh->stop_waiters);
    }
  g_mutex_unlock (&sh->lock);
  while ((task = g_queue_pop_head (&waiters)) != NULL)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
}

static gpointer
worker_main (gpointer data)
{
  Worker *start = data;
  Shared *sh = start->sh;
  Worker w = *start;

  g_free (start);
  w.boards = g_array_new (FALSE, TRUE, sizeof (Board));

  g_array_set_clear_func (w.boards, board_clear);
  if (!sh->scan)
    for (guint i = 0; i < sh->addresses->len; i++)
      add_board (&w, g_array_index (sh->addresses, guint, i));
  w.multi = sh->scan || sh->addresses->len > 1;

  while (!should_stop (&w))
    {
      if (!w.connected && !reconnect (&w))
        {
          run_jobs (&w);
          continue;
        }
      run_jobs (&w);
      run_cycle (&w);
    }
  fail_jobs (sh);
  workers_done (sh);

  g_array_unref (w.boards);
  g_free (w.line_error);
  g_free (w.implausible_note);
  g_object_unref (w.cancellable);
  shared_unref (sh);
  return NULL;
}

/* ---- the object ---- */

static void
bms_poller_dispose (GObject *object)
{
  BmsPoller *self = BMS_POLLER (object);

  bms_poller_stop (self);
  g_clear_pointer (&self->thread, g_thread_unref);
  g_clear_pointer (&self->monitors, g_hash_table_unref);
  g_clear_pointer (&self->history_ids, g_hash_table_unref);
  g_clear_object (&self->devices);
  G_OBJECT_CLASS (bms_poller_parent_class)->dispose (object);
}

static void
bms_poller_finalize (GObject *object)
{
  BmsPoller *self = BMS_POLLER (object);

  shared_unref (self->shared);
  g_free (self->message);
  G_OBJECT_CLASS (bms_poller_parent_class)->finalize (object);
}

static void
bms_poller_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BmsPoller *self = BMS_POLLER (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->shared->session);
      break;
    case PROP_INTERVAL:
      g_value_set_double (value, bms_poller_get_interval (self));
      break;
    case PROP_HISTORY:
      g_mutex_lock (&self->shared->lock);
      g_value_set_object (value, self->shared->history);
      g_mutex_unlock (&self->shared->lock);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_CONNECTED:
      g_value_set_boolean (value, self->connected);
      break;
    case PROP_LAGGING:
      g_value_set_boolean (value, self->lagging);
      break;
    case PROP_CYCLE_TIME:
      g_value_set_double (value, self->cycle_time);
      break;
    case PROP_IMPLAUSIBLE_REPLIES:
      g_value_set_uint64 (value, self->implausible_replies);
      break;
    case PROP_CYCLES:
      g_value_set_uint64 (value, self->cycles);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    case PROP_DEVICES:
      g_value_set_object (value, self->devices);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_poller_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BmsPoller *self = BMS_POLLER (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      self->shared->session = g_value_dup_object (value);
      break;
    case PROP_INTERVAL:
      bms_poller_set_interval (self, g_value_get_double (value), NULL);
      break;
    case PROP_HISTORY:
      bms_poller_set_history (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_poller_class_init (BmsPollerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = bms_poller_dispose;
  object_class->finalize = bms_poller_finalize;
  object_class->get_property = bms_poller_get_property;
  object_class->set_property = bms_poller_set_property;

  properties[PROP_SESSION]
      = g_param_spec_object ("session", NULL, NULL, BMS_TYPE_SESSION,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_INTERVAL]
      = g_param_spec_double ("interval", NULL, "seconds", BMS_POLLER_INTERVAL_MIN,
                             BMS_POLLER_INTERVAL_MAX, BMS_POLLER_INTERVAL_DEFAULT,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HISTORY]
      = g_param_spec_object ("history", NULL, NULL, BMS_TYPE_HISTORY,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE, ro);
  properties[PROP_CONNECTED] = g_param_spec_boolean ("connected", NULL, NULL, FALSE, ro);
  properties[PROP_LAGGING]
      = g_param_spec_boolean ("lagging", NULL, "a cycle takes longer than the interval", FALSE, ro);
  properties[PROP_CYCLE_TIME]
      = g_param_spec_double ("cycle-time", NULL, "seconds", 0, G_MAXDOUBLE, 0, ro);
  properties[PROP_CYCLES] = g_param_spec_uint64 ("cycles", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_IMPLAUSIBLE_REPLIES] = g_param_spec_uint64 (
      "implausible-replies", NULL, "replies refused as implausible", 0, G_MAXUINT64, 0, ro);
  properties[PROP_MESSAGE] = g_param_spec_string ("message", NULL, NULL, NULL, ro);
  properties[PROP_DEVICES] = g_param_spec_object ("devices", NULL, NULL, G_TYPE_LIST_MODEL,
                                                  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The history has another writer for this board (BMS_HISTORY_ERROR_
   * CLAIMED, or a read-only database): polled, not recorded, the claim asked
   * for again now and then. Emitted once until a claim succeeds. */
  signals[SIGNAL_HISTORY_REFUSED]
      = g_signal_new ("history-refused", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING);
}

static void
bms_poller_init (BmsPoller *self)
{
  Shared *sh = g_new0 (Shared, 1);

  g_atomic_ref_count_init (&sh->ref);
  g_mutex_init (&sh->lock);
  g_cond_init (&sh->cond);
  sh->interval_s = BMS_POLLER_INTERVAL_DEFAULT;
  sh->addresses = g_array_new (FALSE, FALSE, sizeof (guint));
  sh->context = g_main_context_ref_thread_default ();
  sh->cancellable = g_cancellable_new ();
  g_weak_ref_init (&sh->poller, self);
  self->shared = sh;
  self->devices = g_list_store_new (BMS_TYPE_DEVICE);
  self->monitors = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->history_ids = g_hash_table_new (NULL, NULL);
}

BmsPoller *
bms_poller_new (BmsSession *session)
{
  g_return_val_if_fail (BMS_IS_SESSION (session), NULL);
  return g_object_new (BMS_TYPE_POLLER, "session", session, NULL);
}

BmsSession *
bms_poller_get_session (BmsPoller *self)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), NULL);
  return self->shared->session;
}

void
bms_poller_set_addresses (BmsPoller *self, const guint *addresses, guint n_addresses)
{
  g_return_if_fail (BMS_IS_POLLER (self));
  g_return_if_fail (!self->running);
  g_array_set_size (self->shared->addresses, 0);
  g_array_append_vals (self->shared->addresses, addresses, n_addresses);
  self->shared->scan = FALSE;
}

void
bms_poller_set_scan_range (BmsPoller *self, guint first, guint last)
{
  g_return_if_fail (BMS_IS_POLLER (self));
  g_return_if_fail (!self->running);
  g_return_if_fail (first >= 1 && first <= last && last <= 255);
  self->shared->scan = TRUE;
  self->shared->scan_first = first;
  self->shared->scan_last = last;
}

gboolean
bms_poller_set_interval (BmsPoller *self, double seconds, GError **error)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), FALSE);
  if (!(seconds >= BMS_POLLER_INTERVAL_MIN && seconds <= BMS_POLLER_INTERVAL_MAX))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("A poll interval of %.3f s is not possible: use %.1f to %.0f s"), seconds,
                   BMS_POLLER_INTERVAL_MIN, BMS_POLLER_INTERVAL_MAX);
      return FALSE;
    }
  g_mutex_lock (&self->shared->lock);
  if (self->shared->interval_s == seconds)
    {
      g_mutex_unlock (&self->shared->lock);
      return TRUE;
    }
  self->shared->interval_s = seconds;
  g_cond_broadcast (&self->shared->cond);
  g_mutex_unlock (&self->shared->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INTERVAL]);
  return TRUE;
}

double
bms_poller_get_interval (BmsPoller *self)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), 0);
  return get_interval (self->shared);
}

void
bms_poller_set_history (BmsPoller *self, BmsHistory *history)
{
  gboolean changed;

  g_return_if_fail (BMS_IS_POLLER (self));
  g_return_if_fail (history == NULL || BMS_IS_HISTORY (history));
  g_mutex_lock (&self->shared->lock);
  changed = g_set_object (&self->shared->history, history);
  if (changed)
    self->shared->history_serial++;
  g_mutex_unlock (&self->shared->lock);
  if (!changed)
    return;
  if (history == NULL)
    {
      GHashTableIter iter;
      gpointer monitor;

      g_hash_table_iter_init (&iter, self->monitors);
      while (g_hash_table_iter_next (&iter, NULL, &monitor))
        bms_alarm_monitor_set_history (monitor, NULL, 0);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTORY]);
}

void
bms_poller_start (BmsPoller *self)
{
  Worker *worker;
  Shared *sh;

  g_return_if_fail (BMS_IS_POLLER (self));
  if (self->running)
    return;
  sh = self->shared;
  /* A fresh cancellable for each run: the previous worker may still be
   * finishing its last request with the cancelled one. */
  g_clear_object (&sh->cancellable);
  sh->cancellable = g_cancellable_new ();
  if (!sh->scan && sh->addresses->len == 0)
    {
      guint address = bms_session_get_address (sh->session);
      g_array_append_val (sh->addresses, address);
    }
  if (!sh->scan)
    for (guint i = 0; i < sh->addresses->len; i++)
      ensure_device (self, g_array_index (sh->addresses, guint, i));

  worker = g_new0 (Worker, 1);
  worker->sh = shared_ref (sh);
  worker->cancellable = g_object_ref (sh->cancellable);
  g_mutex_lock (&sh->lock);
  worker->generation = ++sh->generation;
  sh->live_workers++;
  g_mutex_unlock (&sh->lock);
  g_clear_pointer (&self->thread, g_thread_unref);
  self->thread = g_thread_new ("bms-poller", worker_main, worker);
  self->running = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

void
bms_poller_set_first_reply (BmsPoller   *self,
                            BmsSnapshot *snapshot)
{
  g_return_if_fail (BMS_IS_POLLER (self));

  g_mutex_lock (&self->shared->lock);
  g_clear_pointer (&self->shared->first_reply, bms_snapshot_free);
  if (!self->shared->scan && self->shared->addresses->len <= 1)
    self->shared->first_reply = g_steal_pointer (&snapshot);
  g_mutex_unlock (&self->shared->lock);
  g_clear_pointer (&snapshot, bms_snapshot_free);
}

void
bms_poller_rescan (BmsPoller *self)
{
  g_return_if_fail (BMS_IS_POLLER (self));
  g_mutex_lock (&self->shared->lock);
  self->shared->rescan = TRUE;
  g_mutex_unlock (&self->shared->lock);
}

void
bms_poller_stop (BmsPoller *self)
{
  g_return_if_fail (BMS_IS_POLLER (self));
  if (!self->running)
    return;
  g_mutex_lock (&self->shared->lock);
  self->shared->generation++;
  g_cond_broadcast (&self->shared->cond);
  g_mutex_unlock (&self->shared->lock);
  g_cancellable_cancel (self->shared->cancellable);
  self->running = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

void
bms_poller_stop_async (BmsPoller *self, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  gboolean idle;

  g_return_if_fail (BMS_IS_POLLER (self));
  bms_poller_stop (self);
  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, bms_poller_stop_async);
  g_mutex_lock (&self->shared->lock);
  idle = self->shared->live_workers == 0;
  if (!idle)
    g_queue_push_tail (&self->shared->stop_waiters, g_object_ref (task));
  g_mutex_unlock (&self->shared->lock);
  if (idle)
    g_task_return_boolean (task, TRUE);
}

gboolean
bms_poller_stop_finish (BmsPoller *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
bms_poller_stop_sync (BmsPoller *self)
{
  g_return_if_fail (BMS_IS_POLLER (self));
  bms_poller_stop (self);
  if (self->thread != NULL)
    g_thread_join (g_steal_pointer (&self->thread));
}

gboolean
bms_poller_get_running (BmsPoller *self)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), FALSE);
  return self->running;
}

gboolean
bms_poller_get_connected (BmsPoller *self)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), FALSE);
  return self->connected;
}

gboolean
bms_poller_get_lagging (BmsPoller *self)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), FALSE);
  return self->lagging;
}

double
bms_poller_get_cycle_time (BmsPoller *self)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), 0);
  return self->cycle_time;
}

guint64
bms_poller_get_implausible_replies (BmsPoller *self)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), 0);
  return self->implausible_replies;
}

guint64
bms_poller_get_cycles (BmsPoller *self)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), 0);
  return self->cycles;
}

const char *
bms_poller_get_message (BmsPoller *self)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), NULL);
  return self->message;
}

void
bms_poller_run_async (BmsPoller *self, guint address, BmsPollerFunc func, gpointer data,
                      GDestroyNotify destroy, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  RunJob *job;

  g_return_if_fail (BMS_IS_POLLER (self));
  g_return_if_fail (func != NULL);

  job = g_new0 (RunJob, 1);
  job->address = address;
  job->func = func;
  job->data = data;
  job->destroy = destroy;
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bms_poller_run_async);
  g_task_set_task_data (task, job, run_job_free);
  if (!self->running)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "%s",
                               _ ("Polling is not running: nothing was sent"));
      return;
    }
  g_mutex_lock (&self->shared->lock);
  g_queue_push_tail (&self->shared->jobs, g_steal_pointer (&task));
  g_cond_broadcast (&self->shared->cond);
  g_mutex_unlock (&self->shared->lock);
}

gboolean
bms_poller_run_finish (BmsPoller *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gint64
bms_poller_get_history_device_id (BmsPoller *self, guint address)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), 0);
  return GPOINTER_TO_SIZE (g_hash_table_lookup (self->history_ids, GUINT_TO_POINTER (address)));
}

GListModel *
bms_poller_get_devices (BmsPoller *self)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), NULL);
  return G_LIST_MODEL (self->devices);
}

BmsDevice *
bms_poller_lookup_device (BmsPoller *self, guint address)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), NULL);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->devices)); i++)
    {
      g_autoptr (BmsDevice) device = g_list_model_get_item (G_LIST_MODEL (self->devices), i);
      if (bms_device_get_address (device) == address)
        return device; /* the store keeps it alive */
    }
  return NULL;
}

BmsAlarmMonitor *
bms_poller_get_alarm_monitor (BmsPoller *self, guint address)
{
  g_return_val_if_fail (BMS_IS_POLLER (self), NULL);
  return g_hash_table_lookup (self->monitors, GUINT_TO_POINTER (address));
}
