/* test-session.c — BmsSession against a small fake board built on the codec.
 *
 * The board runs on its own thread at the far end of a pseudo-terminal (or a
 * TCP connection) and answers like a master BMS: read all, read one, password,
 * write. Faults are switched on per test: dropped replies, noise before a
 * reply, corrupted checksums, truncated replies, an echo of the request, a
 * value that does not stick, a line that never stops talking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "bms-frame.h"
#include "bms-loopback-transport.h"
#include "bms-session.h"
#include "bms-sim.h"
#include "bms-snapshot.h"
#include "bms-termios-transport.h"
#include "bms-transport.h"
#include "test-util.h"

/* The fake board */

typedef struct
{
  int fd;
  GThread *thread;
  gint stop;

  GMutex lock;
  BmsSnapshot *store;
  char password[BMS_PASSWORD_SIZE + 1];
  gboolean authenticated;
  /* Faults, each for the next n requests (activate frames do not count). */
  guint drop;
  guint noise;
  guint corrupt;
  guint truncate;
  gboolean echo;
  gboolean value_drifts;   /* a write stores value + 1 */
  gboolean babble;         /* "NW" every 20 ms, whatever is asked (a floating line) */
  /* What the board saw. */
  GArray *commands;        /* guint8 */
  GArray *times;           /* gint64, when each frame had arrived */
  GArray *terminals;       /* guint32, the address each frame was for */
  GQueue pending;          /* frames from the parser */
} Board;

static void
board_on_frame (BmsFrame *frame, gpointer user_data)
{
  Board *board = user_data;

  g_queue_push_tail (&board->pending, frame);
}

static void
board_on_error (const GError *error, gpointer user_data)
{
  g_test_message ("board: rejected a frame: %s", error->message);
}

static void
board_send (Board *board, const guint8 *data, gsize len)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = write (board->fd, data + done, len - done);

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        {
          g_usleep (1000);
          continue;
        }
      if (n <= 0)
        return;
      done += n;
    }
}

static void
board_reply (Board *board, const BmsFrame *request, const guint8 *info, gsize info_len)
{
  g_autoptr(BmsFrame) reply = bms_frame_new (request->command, BMS_SOURCE_BMS,
                                             BMS_TRANSPORT_REPLY, info, info_len);
  g_autoptr(GByteArray) bytes = g_byte_array_new ();

  bms_frame_encode (reply, bytes);
  if (board->noise > 0)
    {
      guint8 junk[40];

      board->noise--;
      for (gsize i = 0; i < sizeof junk; i++)
        junk[i] = (guint8) g_random_int_range (0, 0x4E); /* never a start byte */
      board_send (board, junk, sizeof junk);
    }
  if (board->corrupt > 0)
    {
      board->corrupt--;
      bytes->data[bytes->len - 1] ^= 0x5A;
    }
  if (board->truncate > 0)
    {
      board->truncate--;
      g_byte_array_set_size (bytes, bytes->len / 2);
    }
  board_send (board, bytes->data, bytes->len);
}

static void
board_handle (Board *board, const BmsFrame *frame)
{
  g_autoptr(GByteArray) info = g_byte_array_new ();
  gint64 now = g_get_monotonic_time ();

  g_array_append_val (board->commands, frame->command);
  g_array_append_val (board->times, now);
  g_array_append_val (board->terminals, frame->terminal);
  if (frame->source != BMS_SOURCE_PC || frame->transport != BMS_TRANSPORT_REQUEST
      || frame->command == BMS_CMD_ACTIVATE)
    return;
  if (board->echo)
    {
      g_autoptr(GByteArray) again = g_byte_array_new ();
      bms_frame_encode (frame, again);
      board_send (board, again->data, again->len);
    }
  if (board->drop > 0)
    {
      board->drop--;
      return;
    }

  switch (frame->command)
    {
    case BMS_CMD_READ_ALL:
      bms_snapshot_encode (board->store, info);
      break;
    case BMS_CMD_READ:
      if (frame->info_len >= 1 && frame->info[0] == BMS_ID_READ_ALL)
        bms_snapshot_encode (board->store, info);
      else if (frame->info_len >= 1)
        bms_snapshot_encode_field (board->store, frame->info[0], info);
      break;
    case BMS_CMD_PASSWORD:
      {
        guint8 given[BMS_PASSWORD_SIZE] = { 0 };
        guint8 expected[BMS_PASSWORD_SIZE] = { 0 };
        guint8 result;

        if (frame->info_len > 1)
          memcpy (given, frame->info + 1, MIN (frame->info_len - 1, BMS_PASSWORD_SIZE));
        memcpy (expected, board->password, strlen (board->password));
        board->authenticated = frame->info_len == 1 + BMS_PASSWORD_SIZE
                               && frame->info[0] == BMS_ID_PASSWORD
                               && memcmp (given, expected, BMS_PASSWORD_SIZE) == 0;
        result = board->authenticated ? BMS_RESULT_OK : BMS_RESULT_DENIED;
        g_byte_array_append (info, (guint8[]){ BMS_ID_PASSWORD, result }, 2);
      }
      break;
    case BMS_CMD_WRITE:
      {
        guint8 id = frame->info[0];
        guint8 result = BMS_RESULT_OK;

        if (!board->authenticated)
          result = BMS_RESULT_DENIED;
        else if (!bms_snapshot_parse (board->store, frame->info, frame->info_len, NULL))
          result = BMS_RESULT_UNKNOWN_FIELD;
        else if (board->value_drifts)
          bms_snapshot_set_raw (board->store, id, bms_snapshot_get_raw (board->store, id) + 1);
        /* Like the session expects of a real board: one password, one write. */
        board->authenticated = FALSE;
        g_byte_array_append (info, (guint8[]){ id, result }, 2);
      }
      break;
    default:
      return;
    }
  board_reply (board, frame, info->data, info->len);
}

static gpointer
board_main (gpointer data)
{
  Board *board = data;
  g_autoptr(BmsFrameParser) parser = bms_frame_parser_new (board_on_frame, board_on_error, board);

  while (!g_atomic_int_get (&board->stop))
    {
      struct pollfd pfd = { .fd = board->fd, .events = POLLIN };
      guint8 buf[512];
      BmsFrame *frame;
      ssize_t n;

      if (g_atomic_int_get (&board->babble))
        {
          /* Only while the line takes it: nobody may be reading any more. */
          struct pollfd out = { .fd = board->fd, .events = POLLOUT };

          if (poll (&out, 1, 0) > 0 && (out.revents & POLLOUT) && write (board->fd, "NW", 2) < 0)
            g_usleep (20 * 1000);
        }
      if (poll (&pfd, 1, 20) <= 0)
        continue;
      if (!(pfd.revents & POLLIN))
        {
          g_usleep (20 * 1000); /* the other end is closed; wait to be stopped */
          continue;
        }
      n = read (board->fd, buf, sizeof buf);
      if (n <= 0)
        {
          g_usleep (20 * 1000); /* peer gone */
          continue;
        }
      bms_frame_parser_push (parser, buf, n);
      g_mutex_lock (&board->lock);
      while ((frame = g_queue_pop_head (&board->pending)) != NULL)
        {
          board_handle (board, frame);
          bms_frame_free (frame);
        }
      g_mutex_unlock (&board->lock);
    }
  return NULL;
}

/* The published 14-cell read-all reply (tests/data) is the board's
 * starting state. */
static BmsSnapshot *
vector_snapshot (void)
{
  g_autoptr(GByteArray) bytes = test_load_hex ("nw-readall-14s.hex");
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsFrame) frame = NULL;
  BmsSnapshot *snapshot = bms_snapshot_new ();

  frame = bms_frame_decode (bytes->data, bytes->len, &error);
  g_assert_no_error (error);
  g_assert_true (bms_snapshot_parse (snapshot, frame->info, frame->info_len, &error));
  g_assert_no_error (error);
  return snapshot;
}

static void
board_start (Board *board, int fd)
{
  memset (board, 0, sizeof *board);
  board->fd = fd;
  g_mutex_init (&board->lock);
  board->store = vector_snapshot ();
  g_strlcpy (board->password, BMS_DEFAULT_PASSWORD, sizeof board->password);
  board->commands = g_array_new (FALSE, FALSE, sizeof (guint8));
  board->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  board->terminals = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_queue_init (&board->pending);
  board->thread = g_thread_new ("fake-board", board_main, board);
}

/* Stops the board thread (idempotent); the state stays for inspection. */
static void
board_halt (Board *board)
{
  if (board->thread == NULL)
    return;
  g_atomic_int_set (&board->stop, 1);
  g_thread_join (board->thread);
  board->thread = NULL;
}

static void
board_stop (Board *board)
{
  board_halt (board);
  g_queue_clear_full (&board->pending, (GDestroyNotify) bms_frame_free);
  bms_snapshot_free (board->store);
  g_array_unref (board->commands);
  g_array_unref (board->times);
  g_array_unref (board->terminals);
  g_mutex_clear (&board->lock);
}

static guint
board_count (Board *board, guint8 command)
{
  guint n = 0;

  g_mutex_lock (&board->lock);
  for (guint i = 0; i < board->commands->len; i++)
    n += g_array_index (board->commands, guint8, i) == command;
  g_mutex_unlock (&board->lock);
  return n;
}

static char *
board_sequence (Board *board)
{
  GString *s = g_string_new (NULL);

  g_mutex_lock (&board->lock);
  for (guint i = 0; i < board->commands->len; i++)
    g_string_append_printf (s, "%s%02x", i ? " " : "", g_array_index (board->commands, guint8, i));
  g_mutex_unlock (&board->lock);
  return g_string_free (s, FALSE);
}

#define BOARD_SET(board, field, value) \
  G_STMT_START { \
    g_mutex_lock (&(board)->lock); \
    (board)->field = (value); \
    g_mutex_unlock (&(board)->lock); \
  } G_STMT_END

/* Fixture: a session on the slave side of a pty, the board on the master. */

typedef struct
{
  int master;
  char *slave_path;
  Board board;
  BmsSession *session;
} Fixture;

static const BmsSessionTiming fast_timing = {
  .first_byte_timeout_ms = 300,
  .inter_byte_timeout_ms = 50,
  .retries = 2,
  .min_gap_ms = 100,
};

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTermiosTransport) transport = NULL;

  fx->master = posix_openpt (O_RDWR | O_NOCTTY);
  g_assert_cmpint (fx->master, >=, 0);
  g_assert_cmpint (grantpt (fx->master), ==, 0);
  g_assert_cmpint (unlockpt (fx->master), ==, 0);
  fx->slave_path = g_strdup (ptsname (fx->master));
  board_start (&fx->board, fx->master);

  transport = bms_termios_transport_new (fx->slave_path, 9600);
  fx->session = bms_session_new (BMS_TRANSPORT (transport), 1);
  bms_session_set_timing (fx->session, &fast_timing);
  g_assert_true (bms_session_open (fx->session, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  g_clear_object (&fx->session);
  board_stop (&fx->board);
  if (fx->master >= 0)
    close (fx->master);
  g_free (fx->slave_path);
}

static void
assert_stats (BmsSession *session, guint64 requests, guint64 replies, guint64 timeouts,
              guint64 bad_frames, guint64 retries)
{
  BmsSessionStats st;

  bms_session_get_stats (session, &st);
  g_test_message ("stats: requests %" G_GUINT64_FORMAT " replies %" G_GUINT64_FORMAT
                  " timeouts %" G_GUINT64_FORMAT " bad %" G_GUINT64_FORMAT
                  " retries %" G_GUINT64_FORMAT " out %" G_GUINT64_FORMAT " in %" G_GUINT64_FORMAT,
                  st.requests, st.replies, st.timeouts, st.bad_frames, st.retries, st.bytes_out,
                  st.bytes_in);
  g_assert_cmpuint (st.requests, ==, requests);
  g_assert_cmpuint (st.replies, ==, replies);
  g_assert_cmpuint (st.timeouts, ==, timeouts);
  g_assert_cmpuint (st.bad_frames, ==, bad_frames);
  g_assert_cmpuint (st.retries, ==, retries);
}

static void
assert_vector_values (const BmsSnapshot *snap)
{
  g_assert_nonnull (snap);
  g_assert_cmpuint (snap->n_cells, ==, 14);
  g_assert_cmpuint (snap->cells_mv[8], ==, 3811);
  g_assert_cmpuint (snap->cells_mv[11], ==, 3835);
  g_assert_cmpint (bms_snapshot_get_raw (snap, BMS_ID_PACK_VOLTAGE), ==, 5359);
  g_assert_cmpint (bms_snapshot_get_raw (snap, BMS_ID_SOC), ==, 15);
  g_assert_cmpint (bms_snapshot_get_raw (snap, BMS_ID_CELL_OVP), ==, 4050);
  g_assert_cmpint (snap->timestamp_us, >, 0);
}

/* Tests */

static void
test_read_all (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;
  g_autoptr(BmsSnapshot) again = NULL;
  g_autofree char *seq = NULL;
  gint64 start = g_get_monotonic_time ();

  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  assert_vector_values (snap);
  g_test_message ("first read all (with wake-up): %.1f ms",
                  (g_get_monotonic_time () - start) / 1000.0);

  start = g_get_monotonic_time ();
  again = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  assert_vector_values (again);
  g_test_message ("second read all: %.1f ms", (g_get_monotonic_time () - start) / 1000.0);

  /* A silent line is woken first; a line that just answered is not. */
  seq = board_sequence (&fx->board);
  g_assert_cmpstr (seq, ==, "01 06 06");
  assert_stats (fx->session, 2, 2, 0, 0, 0);
}

static void
test_wake_after_silence (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *seq = NULL;

  bms_session_set_wake_after (fx->session, 800);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(BmsSnapshot) snap = NULL;

      /* Short pauses, then one longer than the board stays awake. */
      g_usleep (i < 2 ? 50 * 1000 : 1000 * 1000);
      snap = bms_session_read_one (fx->session, BMS_ID_SOC, NULL, &error);
      g_assert_no_error (error);
    }
  seq = board_sequence (&fx->board);
  g_assert_cmpstr (seq, ==, "01 03 03 01 03");
}

/* One line, several boards: each address is woken on its own. */
static void
test_several_addresses (Fixture *fx, gconstpointer data)
{
  const guint addresses[] = { 1, 2, 1, 2 };
  g_autofree char *seq = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (addresses); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BmsSnapshot) snap = NULL;

      bms_session_set_address (fx->session, addresses[i]);
      g_assert_cmpuint (bms_session_get_address (fx->session), ==, addresses[i]);
      snap = bms_session_read_one (fx->session, BMS_ID_SOC, NULL, &error);
      g_assert_no_error (error);
    }
  seq = board_sequence (&fx->board);
  g_assert_cmpstr (seq, ==, "01 03 01 03 03 03");
  g_mutex_lock (&fx->board.lock);
  g_assert_cmpuint (fx->board.terminals->len, ==, 6);
  g_assert_cmpuint (g_array_index (fx->board.terminals, guint32, 0), ==, 1);
  g_assert_cmpuint (g_array_index (fx->board.terminals, guint32, 2), ==, 2);
  g_assert_cmpuint (g_array_index (fx->board.terminals, guint32, 3), ==, 2);
  g_assert_cmpuint (g_array_index (fx->board.terminals, guint32, 4), ==, 1);
  g_assert_cmpuint (g_array_index (fx->board.terminals, guint32, 5), ==, 2);
  g_mutex_unlock (&fx->board.lock);
}

static void
test_read_one (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = bms_session_read_one (fx->session, BMS_ID_CELL_UVP, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (bms_snapshot_has (snap, BMS_ID_CELL_UVP));
  g_assert_false (bms_snapshot_has (snap, BMS_ID_CELL_OVP));
  g_assert_cmpint (bms_snapshot_get_raw (snap, BMS_ID_CELL_UVP), ==, 3050);
  g_assert_cmpuint (board_count (&fx->board, BMS_CMD_READ), ==, 1);
}

static void
test_gap_between_frames (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(BmsSnapshot) snap = bms_session_read_one (fx->session, BMS_ID_SOC, NULL, &error);
      g_assert_no_error (error);
    }
  g_mutex_lock (&fx->board.lock);
  g_assert_cmpuint (fx->board.times->len, ==, 4); /* activate + 3 reads */
  for (guint i = 1; i < fx->board.times->len; i++)
    {
      gint64 gap = g_array_index (fx->board.times, gint64, i)
                   - g_array_index (fx->board.times, gint64, i - 1);
      g_test_message ("frame %u arrived %.1f ms after the previous one", i, gap / 1000.0);
      /* The reply in between is short; the session waits 100 ms after it. */
      g_assert_cmpint (gap, >=, 100 * 1000);
    }
  g_mutex_unlock (&fx->board.lock);
}

static void
test_timeout_then_retry (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;
  g_autofree char *seq = NULL;

  BOARD_SET (&fx->board, drop, 1);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  assert_vector_values (snap);
  /* The retry after a timeout wakes the board again. */
  seq = board_sequence (&fx->board);
  g_assert_cmpstr (seq, ==, "01 06 01 06");
  assert_stats (fx->session, 1, 1, 1, 0, 1);
}

static void
test_timeout_gives_up (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 took;

  BOARD_SET (&fx->board, drop, 100);
  snap = bms_session_read_all (fx->session, NULL, &error);
  took = g_get_monotonic_time () - start;
  g_assert_null (snap);
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "After 3 attempts"));
  g_assert_nonnull (strstr (error->message, "address 1"));
  g_test_message ("gave up after %.0f ms: %s", took / 1000.0, error->message);
  /* 3 × (300 ms wait + activate gap + request gap), with slack. */
  g_assert_cmpint (took, >=, 3 * 300 * 1000);
  g_assert_cmpint (took, <, 3 * 700 * 1000);
  assert_stats (fx->session, 1, 0, 3, 0, 2);
}

static void
test_noise_before_reply (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;

  BOARD_SET (&fx->board, noise, 2);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  assert_vector_values (snap);
  g_clear_pointer (&snap, bms_snapshot_free);
  snap = bms_session_read_one (fx->session, BMS_ID_CELL_OVP, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bms_snapshot_get_raw (snap, BMS_ID_CELL_OVP), ==, 4050);
  assert_stats (fx->session, 2, 2, 0, 0, 0);
}

static void
test_echo_is_skipped (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;

  /* Many RS485 adapters hear their own request: it must not pass as the
   * reply (wrong source and transport type). */
  BOARD_SET (&fx->board, echo, TRUE);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  assert_vector_values (snap);
  assert_stats (fx->session, 1, 1, 0, 0, 0);
}

static void
test_corrupted_reply_retried (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;

  BOARD_SET (&fx->board, corrupt, 1);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  assert_vector_values (snap);
  assert_stats (fx->session, 1, 1, 0, 1, 1);
}

static void
test_corrupted_reply_rejected (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;
  g_autofree char *lower = NULL;

  BOARD_SET (&fx->board, corrupt, 100);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_null (snap);
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_BAD_REPLY);
  g_test_message ("%s", error->message);
  /* The parser's reason reaches the user. */
  lower = g_ascii_strdown (error->message, -1);
  g_assert_nonnull (strstr (lower, "checksum"));
  assert_stats (fx->session, 1, 0, 0, 3, 2);
}

static void
test_truncated_reply (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;
  BmsSessionTiming t = fast_timing;

  t.retries = 0;
  bms_session_set_timing (fx->session, &t);
  BOARD_SET (&fx->board, truncate, 1);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_null (snap);
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_BAD_REPLY);
  g_test_message ("%s", error->message);
  assert_stats (fx->session, 1, 0, 0, 1, 0);

  /* The next request is clean again. */
  g_clear_error (&error);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  assert_vector_values (snap);
}

/* Cancels a cancellable after a while unless stopped first: a guard for
 * tests of code that used to hang, and a stand-in for Disconnect. */
typedef struct
{
  GCancellable *cancellable;
  gint64 at_us;
  gboolean done;
  GMutex lock;
  GCond cond;
  GThread *thread;
} Canceller;

static gpointer
canceller_main (gpointer data)
{
  Canceller *c = data;

  g_mutex_lock (&c->lock);
  while (!c->done && g_get_monotonic_time () < c->at_us)
    g_cond_wait_until (&c->cond, &c->lock, c->at_us);
  if (!c->done)
    g_cancellable_cancel (c->cancellable);
  g_mutex_unlock (&c->lock);
  return NULL;
}

static void
canceller_start (Canceller *c, GCancellable *cancellable, guint after_ms)
{
  memset (c, 0, sizeof *c);
  c->cancellable = cancellable;
  c->at_us = g_get_monotonic_time () + (gint64) after_ms * 1000;
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->thread = g_thread_new ("canceller", canceller_main, c);
}

static void
canceller_stop (Canceller *c)
{
  g_mutex_lock (&c->lock);
  c->done = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  g_thread_join (c->thread);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
}

/* Issue 11: a rejected frame followed by a steady stream of bytes (a
 * floating RS485 line makes "NW" by chance) kept the session waiting byte by
 * byte for ever. The exchange now ends by its deadline. */
static void
test_line_never_stops (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;
  g_autoptr(GCancellable) guard = g_cancellable_new ();
  gint64 start = g_get_monotonic_time ();
  Canceller canceller;
  gint64 took;

  BOARD_SET (&fx->board, corrupt, 100);
  g_atomic_int_set (&fx->board.babble, TRUE);
  canceller_start (&canceller, guard, 10000);
  snap = bms_session_read_all (fx->session, guard, &error);
  took = g_get_monotonic_time () - start;
  canceller_stop (&canceller);
  g_test_message ("gave up after %.0f ms: %s", took / 1000.0, error ? error->message : "");
  g_assert_null (snap);
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_BAD_REPLY);
  /* 3 attempts × (gaps 0.2 s + first byte 0.3 s + drain 0.3 s) = 2.4 s, with
   * slack for a loaded machine; the guard cancels at 10 s. */
  g_assert_cmpint (took, <, 5000 * 1000);
}

/* Disconnect in the app cancels the request in flight: it has to end within
 * a read slice even while the line floods the session. */
static void
test_cancel_while_babbling (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  BmsSessionTiming t = fast_timing;
  Canceller canceller;
  gint64 start, took;

  /* Long enough that only the cancellation can end the read in time. */
  t.first_byte_timeout_ms = 3000;
  t.retries = 5;
  bms_session_set_timing (fx->session, &t);
  BOARD_SET (&fx->board, corrupt, 100);
  g_atomic_int_set (&fx->board.babble, TRUE);
  start = g_get_monotonic_time ();
  canceller_start (&canceller, cancellable, 500);
  snap = bms_session_read_all (fx->session, cancellable, &error);
  took = g_get_monotonic_time () - start;
  canceller_stop (&canceller);
  g_test_message ("cancelled after %.0f ms", took / 1000.0);
  g_assert_null (snap);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (took, <, (500 + 300) * 1000);

  /* Closing does not wait out anything either. */
  start = g_get_monotonic_time ();
  bms_session_close (fx->session);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 300 * 1000);
}

static gboolean
never_called (BmsTransport *transport, gpointer user_data, GCancellable *cancellable,
              GError **error)
{
  g_assert_not_reached ();
  return FALSE;
}

static void
test_write_refused_while_locked (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const BmsFieldInfo *ovp = bms_field_lookup (BMS_ID_CELL_OVP);

  g_assert_false (bms_session_is_unlocked (fx->session));
  g_assert_cmpuint (bms_session_get_unlock_remaining (fx->session), ==, 0);
  g_assert_false (bms_session_write (fx->session, BMS_ID_CELL_OVP, 3600, NULL, NULL, NULL, &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_LOCKED);
  g_assert_nonnull (strstr (error->message, ovp->name));
  g_clear_error (&error);

  g_assert_false (bms_session_run_exclusive (fx->session, never_called, NULL, NULL, &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_LOCKED);

  /* Refused before anything reached the line. */
  g_usleep (50 * 1000);
  g_assert_cmpuint (board_count (&fx->board, BMS_CMD_WRITE), ==, 0);
  g_assert_cmpuint (board_count (&fx->board, BMS_CMD_PASSWORD), ==, 0);
  g_assert_cmpint (bms_snapshot_get_raw (fx->board.store, BMS_ID_CELL_OVP), ==, 4050);
}

static void
unlock_async_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError **error = user_data;

  if (!bms_session_unlock_finish (BMS_SESSION (source), result, error) && *error == NULL)
    g_assert_not_reached ();
  if (*error == NULL)
    *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_EXISTS, "unlocked");
}

/* Unlocking as a job of the queue: the answer comes on the caller's main
 * context, no thread of the caller waits for the worker. */
static void
test_unlock_async (Fixture *fx, gconstpointer data)
{
  GError *error = NULL;
  GThread *caller = g_thread_self ();

  bms_session_unlock_async (fx->session, "654321", NULL, unlock_async_done, &error);
  g_assert_null (error);  /* not answered inside the call */
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (g_thread_self () == caller);
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_DENIED);
  g_assert_false (bms_session_is_unlocked (fx->session));
  g_clear_error (&error);

  bms_session_unlock_async (fx->session, "123456", NULL, unlock_async_done, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);  /* i.e. it succeeded */
  g_assert_true (bms_session_is_unlocked (fx->session));
  g_clear_error (&error);
}

/* ---- jobs of the queue (bms_session_run_task) ---- */

typedef struct
{
  guint steps;
  GThread *ran_on;
  gboolean done;
  gboolean ok;
  gboolean read_done;
  GError *error;
} RunData;

/* Unlock and one write a step: whatever was queued meanwhile goes between
 * the writes. */
static BmsSessionJobResult
two_writes (BmsSession *session, gpointer user_data, GCancellable *cancellable, GError **error)
{
  static const gint64 values[] = { 3600, 3610 };
  RunData *d = user_data;

  d->ran_on = g_thread_self ();
  if (d->steps == 0 && !bms_session_unlock (session, BMS_DEFAULT_PASSWORD, cancellable, error))
    return BMS_SESSION_JOB_FAILED;
  if (!bms_session_write (session, BMS_ID_CELL_OVP, values[d->steps], NULL, NULL, cancellable,
                          error))
    return BMS_SESSION_JOB_FAILED;
  return ++d->steps < G_N_ELEMENTS (values) ? BMS_SESSION_JOB_AGAIN : BMS_SESSION_JOB_DONE;
}

static void
run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RunData *d = user_data;

  /* In the caller's main context, not on the worker. */
  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  d->ok = g_task_propagate_boolean (G_TASK (result), &d->error);
  d->done = TRUE;
}

static void
read_between_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RunData *d = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = bms_session_read_all_finish (BMS_SESSION (source), result, &error);

  g_assert_no_error (error);
  g_assert_nonnull (snap);
  d->read_done = TRUE;
}

static guint
board_find (Board *board, guint8 command, guint nth)
{
  guint found = G_MAXUINT;

  g_mutex_lock (&board->lock);
  for (guint i = 0; i < board->commands->len && found == G_MAXUINT; i++)
    if (g_array_index (board->commands, guint8, i) == command && nth-- == 0)
      found = i;
  g_mutex_unlock (&board->lock);
  return found;
}

/* A job of several requests runs on the worker, with no thread of its own
 * waiting for it, and a read queued while it runs goes between its writes,
 * as a poll goes between the writes of a change set. */
static void
test_run_task_between_reads (Fixture *fx, gconstpointer data)
{
  RunData d = { 0 };
  g_autoptr(GTask) task = g_task_new (NULL, NULL, run_done, &d);
  g_autofree char *seq = NULL;
  guint threads = test_count_threads ();
  guint most;

  bms_session_run_task (fx->session, task, two_writes, &d);
  bms_session_read_all_async (fx->session, NULL, read_between_done, &d);
  most = test_run_counting_threads (&d.done);
  while (!d.read_done)
    g_main_context_iteration (NULL, TRUE);

  g_assert_no_error (d.error);
  g_assert_true (d.ok);
  g_assert_cmpuint (d.steps, ==, 2);
  g_assert_true (d.ran_on != g_thread_self ());
  g_assert_cmpuint (most, ==, threads);
  g_assert_cmpint (bms_snapshot_get_raw (fx->board.store, BMS_ID_CELL_OVP), ==, 3610);
  seq = board_sequence (&fx->board);
  g_test_message ("on the line: %s", seq);
  g_assert_cmpuint (board_find (&fx->board, BMS_CMD_WRITE, 0), <,
                    board_find (&fx->board, BMS_CMD_READ_ALL, 0));
  g_assert_cmpuint (board_find (&fx->board, BMS_CMD_READ_ALL, 0), <,
                    board_find (&fx->board, BMS_CMD_WRITE, 1));
}

static gboolean
exclusive_calls_session (BmsTransport *transport, gpointer user_data, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr(BmsSnapshot) snap = bms_session_read_all (user_data, cancellable, error);

  return snap != NULL;
}

static BmsSessionJobResult
job_runs_exclusive (BmsSession *session, gpointer user_data, GCancellable *cancellable,
                    GError **error)
{
  RunData *d = user_data;

  d->steps++;
  if (!bms_session_run_exclusive (session, exclusive_calls_session, session, cancellable, error))
    return BMS_SESSION_JOB_FAILED;
  return BMS_SESSION_JOB_DONE;
}

/* Inside a job, session calls run at once; inside run_exclusive's function
 * they are still refused, since that function has the raw line. */
static void
test_run_task_exclusive (Fixture *fx, gconstpointer data)
{
  RunData d = { 0 };
  g_autoptr(GTask) task = g_task_new (NULL, NULL, run_done, &d);
  g_autoptr(GError) error = NULL;

  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  g_assert_no_error (error);
  bms_session_run_task (fx->session, task, job_runs_exclusive, &d);
  while (!d.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (d.ok);
  g_assert_cmpuint (d.steps, ==, 1);
  g_assert_error (d.error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED);
  g_assert_nonnull (strstr (d.error->message, "inside bms_session_run_exclusive"));
  g_clear_error (&d.error);
}

static BmsSessionJobResult
cancel_after_first (BmsSession *session, gpointer user_data, GCancellable *cancellable,
                    GError **error)
{
  RunData *d = user_data;
  BmsSessionJobResult result = two_writes (session, user_data, cancellable, error);

  /* As if Cancel were pressed while the first write was on the line. */
  if (d->steps == 1)
    g_cancellable_cancel (cancellable);
  return result;
}

/* Cancelled between steps: the next request is refused before it reaches
 * the line and the task fails with the cancellation. */
static void
test_run_task_cancelled (Fixture *fx, gconstpointer data)
{
  RunData d = { 0 };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, run_done, &d);

  bms_session_run_task (fx->session, task, cancel_after_first, &d);
  while (!d.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (d.ok);
  g_assert_error (d.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&d.error);
  g_assert_cmpuint (d.steps, ==, 1);
  g_assert_cmpuint (board_count (&fx->board, BMS_CMD_WRITE), ==, 1);
  g_assert_cmpint (bms_snapshot_get_raw (fx->board.store, BMS_ID_CELL_OVP), ==, 3600);
}

static void
test_wrong_password (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (bms_session_unlock (fx->session, "654321", NULL, &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_DENIED);
  g_test_message ("%s", error->message);
  g_assert_false (bms_session_is_unlocked (fx->session));
  g_assert_cmpuint (board_count (&fx->board, BMS_CMD_PASSWORD), ==, 1);
  g_clear_error (&error);

  /* Nonsense never reaches the board. */
  g_assert_false (bms_session_unlock (fx->session, "12345678901", NULL, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_false (bms_session_unlock (fx->session, "", NULL, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_PARSE);
  g_assert_cmpuint (board_count (&fx->board, BMS_CMD_PASSWORD), ==, 1);

  g_assert_false (bms_session_write (fx->session, BMS_ID_CELL_OVP, 3600, NULL, NULL, NULL, NULL));
  g_assert_cmpuint (board_count (&fx->board, BMS_CMD_WRITE), ==, 0);
}

static void
test_write_and_read_back (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) back = NULL;
  g_autoptr(BmsSnapshot) id_back = NULL;
  g_autofree char *device_id = NULL;
  g_autofree char *seq = NULL;

  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bms_session_is_unlocked (fx->session));
  g_assert_cmpuint (bms_session_get_unlock_remaining (fx->session), ==, 300);

  g_assert_true (bms_session_write (fx->session, BMS_ID_CELL_OVP, 3600, NULL, &back, NULL,
                                    &error));
  g_assert_no_error (error);
  g_assert_cmpint (bms_snapshot_get_raw (back, BMS_ID_CELL_OVP), ==, 3600);
  g_assert_cmpint (bms_snapshot_get_raw (fx->board.store, BMS_ID_CELL_OVP), ==, 3600);

  /* A text field, zero padded on the wire. */
  g_assert_true (bms_session_write (fx->session, 0xB4, 0, "PW-0001", &id_back, NULL, &error));
  g_assert_no_error (error);
  device_id = bms_snapshot_dup_string (id_back, 0xB4);
  g_assert_cmpstr (device_id, ==, "PW-0001");

  /* Unlock, then per write: password, write, read back. */
  seq = board_sequence (&fx->board);
  g_assert_cmpstr (seq, ==, "01 05 05 02 03 05 02 03");
  g_assert_true (bms_session_is_unlocked (fx->session));
}

static void
test_write_validated_first (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const BmsFieldInfo *ovp = bms_field_lookup (BMS_ID_CELL_OVP);
  guint before;

  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  g_assert_no_error (error);
  before = fx->board.commands->len;

  g_assert_false (bms_session_write (fx->session, BMS_ID_CELL_OVP, ovp->max + 1, NULL, NULL, NULL,
                                     &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, ovp->name));
  g_clear_error (&error);

  g_assert_false (bms_session_write (fx->session, BMS_ID_PACK_VOLTAGE, 5000, NULL, NULL, NULL,
                                     &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_ACCESS);
  g_clear_error (&error);

  g_assert_false (bms_session_write (fx->session, 0xB4, 0, "much too long for eight", NULL, NULL,
                                     &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_RANGE);
  g_clear_error (&error);

  g_usleep (50 * 1000);
  g_assert_cmpuint (fx->board.commands->len, ==, before);
}

static void
test_readback_mismatch (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const BmsFieldInfo *ovp = bms_field_lookup (BMS_ID_CELL_OVP);

  BOARD_SET (&fx->board, value_drifts, TRUE);
  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (bms_session_write (fx->session, BMS_ID_CELL_OVP, 3600, NULL, NULL, NULL,
                                     &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_VERIFY);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, ovp->name));
  g_assert_nonnull (strstr (error->message, "3600"));
  g_assert_nonnull (strstr (error->message, "3601"));
}

static void
test_relock_after_idle (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  bms_session_set_lock_timeout (fx->session, 1);
  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bms_session_is_unlocked (fx->session));
  g_assert_cmpuint (bms_session_get_unlock_remaining (fx->session), ==, 1);

  g_usleep (1100 * 1000);
  g_assert_false (bms_session_is_unlocked (fx->session));
  g_assert_cmpuint (bms_session_get_unlock_remaining (fx->session), ==, 0);
  g_assert_false (bms_session_write (fx->session, BMS_ID_CELL_OVP, 3600, NULL, NULL, NULL,
                                     &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_LOCKED);
  g_assert_cmpuint (board_count (&fx->board, BMS_CMD_WRITE), ==, 0);
  g_clear_error (&error);

  /* bms_session_lock closes the gate at once. */
  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  bms_session_lock (fx->session);
  g_assert_false (bms_session_is_unlocked (fx->session));
}

typedef struct
{
  guint calls;
  gboolean got_reply;
} ExclusiveData;

static gboolean
exclusive_raw_bytes (BmsTransport *transport, gpointer user_data, GCancellable *cancellable,
                     GError **error)
{
  ExclusiveData *d = user_data;
  g_autoptr(GByteArray) request = bms_request_read_one (1, BMS_ID_SOC);
  guint8 buf[64];

  d->calls++;
  if (!bms_transport_write (transport, request->data, request->len, error))
    return FALSE;
  d->got_reply = bms_transport_read (transport, buf, sizeof buf, 500, error) > 0;
  return TRUE;
}

static void
test_run_exclusive (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ExclusiveData d = { 0 };

  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  g_assert_true (bms_session_run_exclusive (fx->session, exclusive_raw_bytes, &d, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (d.calls, ==, 1);
  g_assert_true (d.got_reply);
}

static void
test_cancelled (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  g_cancellable_cancel (cancellable);
  g_assert_null (bms_session_read_all (fx->session, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_port_disappears (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;

  /* Halt the board first so it never polls a recycled descriptor. */
  board_halt (&fx->board);
  close (fx->master);
  fx->master = -1;
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_null (snap);
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "port disappeared"));
  g_clear_error (&error);

  /* The session closed the dead line; the caller reconnects. */
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED);
}

static void
test_close_and_reopen (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;

  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  bms_session_close (fx->session);
  /* Closing drops the gate too. */
  g_assert_false (bms_session_is_unlocked (fx->session));
  g_assert_null (bms_session_read_all (fx->session, NULL, &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED);
  g_clear_error (&error);

  g_assert_true (bms_session_open (fx->session, &error));
  g_assert_no_error (error);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  assert_vector_values (snap);
}

static void
test_baud (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;

  g_assert_cmpuint (bms_session_get_baud (fx->session), ==, 9600);
  g_assert_false (bms_session_set_baud (fx->session, 4800, &error));
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (bms_session_set_baud (fx->session, 115200, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (bms_session_get_baud (fx->session), ==, 115200);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  assert_vector_values (snap);
}

/* The session over TCP, read asynchronously from a main loop. */

typedef struct
{
  GMainLoop *loop;
  Board board;
  gboolean have_board;
  GSocketConnection *connection;
  BmsSnapshot *snapshot;
  GError *error;
} TcpFixture;

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source,
             gpointer user_data)
{
  TcpFixture *fx = user_data;
  GSocket *socket = g_socket_connection_get_socket (connection);

  g_assert_false (fx->have_board);
  fx->connection = g_object_ref (connection);
  g_socket_set_blocking (socket, FALSE);
  board_start (&fx->board, g_socket_get_fd (socket));
  fx->have_board = TRUE;
  return TRUE;
}

static void
on_read_all (GObject *source, GAsyncResult *res, gpointer user_data)
{
  TcpFixture *fx = user_data;

  fx->snapshot = bms_session_read_all_finish (BMS_SESSION (source), res, &fx->error);
  g_main_loop_quit (fx->loop);
}

static gpointer
open_session (gpointer data)
{
  BmsSession *session = data;
  g_autoptr(GError) error = NULL;

  /* Blocking, hence on a thread of its own: the service needs the loop. */
  g_assert_true (bms_session_open (session, &error));
  g_assert_no_error (error);
  return NULL;
}

static void
test_async_over_tcp (void)
{
  TcpFixture fx = { 0 };
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTransport) transport = NULL;
  g_autoptr(BmsSession) session = NULL;
  g_autofree char *uri = NULL;
  GThread *opener;

  g_assert_true (g_socket_listener_add_address (G_SOCKET_LISTENER (service), addr,
                                                G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                                NULL, &effective, &error));
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), &fx);
  g_socket_service_start (service);
  fx.loop = g_main_loop_new (NULL, FALSE);

  uri = g_strdup_printf ("tcp://127.0.0.1:%u",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  transport = bms_transport_new_for_uri (uri, 9600, &error);
  g_assert_no_error (error);
  session = bms_session_new (transport, 1);
  bms_session_set_timing (session, &fast_timing);

  opener = g_thread_new ("open", open_session, session);
  while (!fx.have_board)
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (opener);

  bms_session_read_all_async (session, NULL, on_read_all, &fx);
  g_main_loop_run (fx.loop);
  g_assert_no_error (fx.error);
  assert_vector_values (fx.snapshot);
  assert_stats (session, 1, 1, 0, 0, 0);

  g_clear_object (&session);
  board_stop (&fx.board);
  g_io_stream_close (G_IO_STREAM (fx.connection), NULL, NULL);
  g_object_unref (fx.connection);
  bms_snapshot_free (fx.snapshot);
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  g_main_loop_unref (fx.loop);
}

/* The session takes the line's rate from the transport. */
static void
test_baud_from_transport (void)
{
  g_autoptr(BmsTermiosTransport) transport = bms_termios_transport_new ("/dev/null-none", 57600);
  g_autoptr(BmsSession) session = bms_session_new (BMS_TRANSPORT (transport), 1);

  g_assert_cmpuint (bms_session_get_baud (session), ==, 57600);
}

static void
test_not_open (void)
{
  g_autoptr(BmsTermiosTransport) transport = bms_termios_transport_new ("/dev/null-none", 9600);
  g_autoptr(BmsSession) session = bms_session_new (BMS_TRANSPORT (transport), 1);
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (bms_session_get_address (session), ==, 1);
  g_assert_true (bms_session_get_transport (session) == BMS_TRANSPORT (transport));
  g_assert_null (bms_session_read_all (session, NULL, &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (bms_session_open (session, &error));
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_NOT_FOUND);
}

/* Against the simulator (src/sim) through the in-process loopback. */

typedef struct
{
  BmsSim *sim;                 /* owned by the transport */
  BmsTransport *transport;
  BmsSession *session;
} SimFixture;

static void
sim_fixture_open (SimFixture *fx, guint modules, gboolean wire_timing, guint baud)
{
  BmsSimConfig config;
  g_autoptr(GError) error = NULL;

  bms_sim_config_init (&config);
  config.modules = modules;
  fx->sim = bms_sim_new (&config, &error);
  g_assert_no_error (error);
  /* The board listens at the line's baud (at any other it hears garbage). */
  fx->transport = bms_loopback_transport_new_owning (fx->sim, wire_timing, 1.0, baud, NULL);
  fx->session = bms_session_new (fx->transport, config.address);
  bms_session_set_timing (fx->session, &fast_timing);
  g_assert_true (bms_session_set_baud (fx->session, baud, &error));
  g_assert_no_error (error);
  g_assert_true (bms_session_open (fx->session, &error));
  g_assert_no_error (error);
}

static void
sim_fixture_set_up (SimFixture *fx, gconstpointer data)
{
  sim_fixture_open (fx, 1, FALSE, 9600);
}

static void
sim_fixture_tear_down (SimFixture *fx, gconstpointer data)
{
  g_clear_object (&fx->session);
  g_clear_object (&fx->transport); /* frees the sim */
  fx->sim = NULL;
}

static void
apply_faults (BmsSim *sim, gpointer data)
{
  bms_sim_set_faults (sim, data);
}

static void
sim_set_faults (SimFixture *fx, const BmsSimFaults *faults)
{
  /* The session's worker drives the sim: change it under the line's lock. */
  bms_loopback_transport_with_sim (BMS_LOOPBACK_TRANSPORT (fx->transport), apply_faults,
                                   (gpointer) faults);
}

static void
test_sim_read_all (SimFixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = bms_session_read_all (fx->session, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (snap->n_cells, ==, 16);
  g_assert_cmpint (bms_snapshot_get_raw (snap, BMS_ID_CELL_COUNT), ==, 16);
  for (guint i = 0; i < snap->n_cells; i++)
    {
      g_assert_cmpuint (snap->cells_mv[i], >, 2500);
      g_assert_cmpuint (snap->cells_mv[i], <, 3700);
    }
}

static void
test_sim_256_cells (void)
{
  SimFixture fx = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;

  sim_fixture_open (&fx, 16, FALSE, 9600);
  snap = bms_session_read_all (fx.session, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (snap->n_cells, ==, 256);
  g_assert_cmpuint (snap->cells_mv[255], >, 2500);
  sim_fixture_tear_down (&fx, NULL);
}

static void
test_sim_write (SimFixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) back = NULL;
  g_autoptr(BmsSnapshot) now = NULL;

  g_assert_false (bms_session_write (fx->session, BMS_ID_CELL_UVP, 2700, NULL, NULL, NULL, &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_LOCKED);
  g_clear_error (&error);

  g_assert_false (bms_session_unlock (fx->session, "000000", NULL, &error));
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_DENIED);
  g_clear_error (&error);

  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bms_session_write (fx->session, BMS_ID_CELL_UVP, 2700, NULL, &back, NULL,
                                    &error));
  g_assert_no_error (error);
  g_assert_cmpint (bms_snapshot_get_raw (back, BMS_ID_CELL_UVP), ==, 2700);
  now = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bms_snapshot_get_raw (now, BMS_ID_CELL_UVP), ==, 2700);
}

static void
test_sim_faults (SimFixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;
  g_autofree char *lower = NULL;
  BmsSimFaults faults = { 0 };

  faults.noise_bytes = 30;
  sim_set_faults (fx, &faults);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (snap->n_cells, ==, 16);
  g_clear_pointer (&snap, bms_snapshot_free);

  memset (&faults, 0, sizeof faults);
  faults.corrupt_checksum_p = 1.0;
  sim_set_faults (fx, &faults);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_null (snap);
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_BAD_REPLY);
  lower = g_ascii_strdown (error->message, -1);
  g_assert_nonnull (strstr (lower, "checksum"));
  g_clear_error (&error);

  memset (&faults, 0, sizeof faults);
  faults.silent = TRUE;
  sim_set_faults (fx, &faults);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_TIMEOUT);
  g_clear_error (&error);

  memset (&faults, 0, sizeof faults);
  faults.disconnected = TRUE;
  sim_set_faults (fx, &faults);
  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO);
}

/* A board at another baud hears garbage and says nothing: the error says
 * what to check. */
static void
test_sim_baud_mismatch (void)
{
  SimFixture fx = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;

  sim_fixture_open (&fx, 1, FALSE, 9600);
  g_assert_true (bms_session_set_baud (fx.session, 115200, &error));
  snap = bms_session_read_all (fx.session, NULL, &error);
  g_assert_null (snap);
  g_assert_error (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "baud rate"));
  sim_fixture_tear_down (&fx, NULL);
}

/* With wire timing, a read all takes the time its bytes need on the line. */
static void
test_sim_wire_timing (void)
{
  const guint bauds[] = { 9600, 115200 };

  for (guint b = 0; b < G_N_ELEMENTS (bauds); b++)
    {
      SimFixture fx = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(BmsSnapshot) first = NULL;
      g_autoptr(BmsSnapshot) snap = NULL;
      g_autoptr(GByteArray) info = g_byte_array_new ();
      BmsSessionStats before, after;
      double wire_ms, took_ms;
      gint64 t0;

      sim_fixture_open (&fx, 1, TRUE, bauds[b]);
      first = bms_session_read_all (fx.session, NULL, &error); /* wakes the board */
      g_assert_no_error (error);
      g_usleep (150 * 1000); /* the gap is not what we measure */
      bms_session_get_stats (fx.session, &before);
      t0 = g_get_monotonic_time ();
      snap = bms_session_read_all (fx.session, NULL, &error);
      took_ms = (g_get_monotonic_time () - t0) / 1000.0;
      g_assert_no_error (error);
      bms_session_get_stats (fx.session, &after);
      wire_ms = (after.bytes_out - before.bytes_out + after.bytes_in - before.bytes_in) * 10.0
                * 1000.0 / bauds[b];
      g_test_message ("read all at %u baud: %.1f ms, wire time %.1f ms (%" G_GUINT64_FORMAT
                      " bytes in)", bauds[b], took_ms, wire_ms, after.bytes_in - before.bytes_in);
      g_assert_cmpfloat (took_ms, >=, wire_ms * 0.95);
      /* Slack for a loaded machine, well under one 100 ms gap. */
      g_assert_cmpfloat (took_ms, <=, wire_ms * 1.10 + 40);
      sim_fixture_tear_down (&fx, NULL);
    }
}

/* A board put to sleep ignores requests until an activate: the timeout
 * makes the session wake it, and the retry gets the answer. */
static void
test_sim_wakes_sleeping_board (SimFixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;
  BmsSessionStats st;

  g_assert_true (bms_session_unlock (fx->session, BMS_DEFAULT_PASSWORD, NULL, &error));
  g_assert_true (bms_session_write (fx->session, BMS_ID_SLEEP_NOW, 1, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  snap = bms_session_read_all (fx->session, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (snap->n_cells, ==, 16);
  bms_session_get_stats (fx->session, &st);
  g_assert_cmpuint (st.timeouts, ==, 1);
  g_assert_cmpuint (st.retries, ==, 1);
}

/* End to end: the serial transport (falling back to termios) on the pty
 * the simulator serves, with wire timing at 9600 baud, as packwatch-cli
 * sees `packwatch-sim --pty`. */

typedef struct
{
  BmsSim *sim;
  char *path;
  GCancellable *cancellable;
  GMutex lock;
  GCond cond;
  gboolean ready;
  gboolean ok;
} PtyServer;

static void
pty_server_ready (const char *where, gpointer data)
{
  PtyServer *server = data;

  g_mutex_lock (&server->lock);
  server->ready = TRUE;
  g_cond_signal (&server->cond);
  g_mutex_unlock (&server->lock);
}

static gpointer
pty_server_main (gpointer data)
{
  PtyServer *server = data;
  g_autoptr(GError) error = NULL;

  server->ok = bms_sim_serve_pty (server->sim, server->path, 9600, TRUE, server->cancellable,
                                  &error);
  g_assert_no_error (error);
  return NULL;
}

static void
test_sim_pty_endpoint (void)
{
  g_autofree char *dir = g_dir_make_tmp ("packwatch-session-XXXXXX", NULL);
  PtyServer server = { 0 };
  BmsSimConfig config;
  GThread *thread;
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTransport) transport = NULL;
  g_autoptr(BmsSession) session = NULL;
  g_autoptr(BmsSnapshot) snap = NULL;
  g_autoptr(BmsSnapshot) back = NULL;
  gint64 t0;

  bms_sim_config_init (&config);
  server.sim = bms_sim_new (&config, &error);
  g_assert_no_error (error);
  server.path = g_build_filename (dir, "ttyBMS", NULL);
  server.cancellable = g_cancellable_new ();
  g_mutex_init (&server.lock);
  g_cond_init (&server.cond);
  bms_sim_set_ready_func (server.sim, pty_server_ready, &server);
  thread = g_thread_new ("sim-pty", pty_server_main, &server);
  g_mutex_lock (&server.lock);
  while (!server.ready)
    g_cond_wait (&server.cond, &server.lock);
  g_mutex_unlock (&server.lock);

  transport = bms_transport_new_for_uri (server.path, 9600, &error);
  g_assert_no_error (error);
  session = bms_session_new (transport, 1);
  g_assert_true (bms_session_open (session, &error));
  g_assert_no_error (error);

  t0 = g_get_monotonic_time ();
  snap = bms_session_read_all (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (snap->n_cells, ==, 16);
  g_test_message ("read all over the sim's pty at 9600 baud, with wake-up: %.1f ms",
                  (g_get_monotonic_time () - t0) / 1000.0);

  g_assert_true (bms_session_unlock (session, BMS_DEFAULT_PASSWORD, NULL, &error));
  g_assert_no_error (error);
  t0 = g_get_monotonic_time ();
  g_assert_true (bms_session_write (session, BMS_ID_CELL_OVP, 3600, NULL, &back, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bms_snapshot_get_raw (back, BMS_ID_CELL_OVP), ==, 3600);
  g_test_message ("verified write (password, write, read back): %.1f ms",
                  (g_get_monotonic_time () - t0) / 1000.0);

  bms_session_close (session);
  g_cancellable_cancel (server.cancellable);
  g_thread_join (thread);
  g_assert_true (server.ok);
  bms_sim_free (server.sim);
  g_object_unref (server.cancellable);
  g_mutex_clear (&server.lock);
  g_cond_clear (&server.cond);
  g_free (server.path);
  g_rmdir (dir);
}

#define ADD(path, func) \
  g_test_add ("/session/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  ADD ("read-all", test_read_all);
  ADD ("read-one", test_read_one);
  ADD ("wake-after-silence", test_wake_after_silence);
  ADD ("several-addresses", test_several_addresses);
  ADD ("gap-between-frames", test_gap_between_frames);
  ADD ("timeout-then-retry", test_timeout_then_retry);
  ADD ("timeout-gives-up", test_timeout_gives_up);
  ADD ("noise-before-reply", test_noise_before_reply);
  ADD ("echo-is-skipped", test_echo_is_skipped);
  ADD ("corrupted-reply-retried", test_corrupted_reply_retried);
  ADD ("corrupted-reply-rejected", test_corrupted_reply_rejected);
  ADD ("truncated-reply", test_truncated_reply);
  ADD ("write-refused-while-locked", test_write_refused_while_locked);
  ADD ("wrong-password", test_wrong_password);
  ADD ("unlock-async", test_unlock_async);
  ADD ("run-task-between-reads", test_run_task_between_reads);
  ADD ("run-task-exclusive", test_run_task_exclusive);
  ADD ("run-task-cancelled", test_run_task_cancelled);
  ADD ("write-and-read-back", test_write_and_read_back);
  ADD ("write-validated-first", test_write_validated_first);
  ADD ("readback-mismatch", test_readback_mismatch);
  ADD ("relock-after-idle", test_relock_after_idle);
  ADD ("run-exclusive", test_run_exclusive);
  ADD ("cancelled", test_cancelled);
  ADD ("line-never-stops", test_line_never_stops);
  ADD ("cancel-while-babbling", test_cancel_while_babbling);
  ADD ("port-disappears", test_port_disappears);
  ADD ("close-and-reopen", test_close_and_reopen);
  ADD ("baud", test_baud);
  g_test_add_func ("/session/async-over-tcp", test_async_over_tcp);
  g_test_add_func ("/session/not-open", test_not_open);
  g_test_add_func ("/session/baud-from-transport", test_baud_from_transport);

#define ADD_SIM(path, func) \
  g_test_add ("/session/sim/" path, SimFixture, NULL, sim_fixture_set_up, func, \
              sim_fixture_tear_down)
  ADD_SIM ("read-all", test_sim_read_all);
  ADD_SIM ("write", test_sim_write);
  ADD_SIM ("faults", test_sim_faults);
  ADD_SIM ("wakes-sleeping-board", test_sim_wakes_sleeping_board);
  g_test_add_func ("/session/sim/256-cells", test_sim_256_cells);
  g_test_add_func ("/session/sim/baud-mismatch", test_sim_baud_mismatch);
  g_test_add_func ("/session/sim/wire-timing", test_sim_wire_timing);
  g_test_add_func ("/session/sim/pty-endpoint", test_sim_pty_endpoint);

  return g_test_run ();
}
