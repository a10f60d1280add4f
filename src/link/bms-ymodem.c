/* bms-ymodem.c — YMODEM-1K sender state machine and its blocking driver. */
#include "bms-ymodem.h"

#include <string.h>

#define HEADER_SIZE 128
#define CLOSE_TIMEOUTS_ACCEPTED 3

struct _BmsYmodemSender
{
  char          *file_name;
  GBytes        *data;
  const guint8  *buf;
  gsize          size;
  guint          n_blocks;

  guint          max_retries;
  guint          answer_timeout_ms;
  guint          start_timeout_ms;
  guint          baud;
  BmsClockFunc   clock;
  gpointer       clock_data;

  BmsYmodemState state;
  guint          pos;            /* 0 header, 1..n data, n+1 EOT */
  guint          base;           /* while probing: the block whose answer got lost */
  gboolean       probing;
  gboolean       uncertain;      /* an answer to pos got lost: it may be accepted */
  guint          block_retries;
  guint          eot_naks;
  guint          close_timeouts;
  gboolean       close_unconfirmed;
  gboolean       prev_can;
  gboolean       restart_timer;

  GByteArray    *out;
  gsize          last_out_len;
  guint64        acked;
  guint          retries_total;
  guint          timeouts;
  GError        *error;
};

// clang-format off
G_DEFINE_QUARK (bms-ymodem-error-quark, bms_ymodem_error)
// clang-format on

/* CRC-16/XMODEM (poly 0x1021, init 0), a byte at a time from a table built
 * on first use: a 1 KiB block costs 1 024 lookups instead of 8 192 shifts. */
static guint16 crc_table[256];

static gpointer
build_crc_table (gpointer unused)
{
  for (guint n = 0; n < 256; n++)
    {
      guint16 crc = (guint16) (n << 8);

      for (int b = 0; b < 8; b++)
        crc = (crc & 0x8000) ? (guint16) ((crc << 1) ^ 0x1021) : (guint16) (crc << 1);
      crc_table[n] = crc;
    }
  return NULL;
}

guint16
bms_crc16_xmodem_update (guint16 crc, const guint8 *data, gsize len)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, build_crc_table, NULL);
  for (gsize i = 0; i < len; i++)
    crc = (guint16) (crc << 8) ^ crc_table[(crc >> 8) ^ data[i]];
  return crc;
}

guint16
bms_crc16_xmodem (const guint8 *data, gsize len)
{
  return bms_crc16_xmodem_update (0, data, len);
}

const char *
bms_ymodem_state_to_string (BmsYmodemState state)
{
  switch (state)
    {
    case BMS_YMODEM_STATE_WAIT_START: return "waiting for 'C'";
    case BMS_YMODEM_STATE_HEADER:     return "sending block 0";
    case BMS_YMODEM_STATE_WAIT_DATA:  return "waiting for 'C' after block 0";
    case BMS_YMODEM_STATE_DATA:       return "sending data";
    case BMS_YMODEM_STATE_EOT:        return "sending EOT";
    case BMS_YMODEM_STATE_WAIT_CLOSE: return "waiting for 'C' after EOT";
    case BMS_YMODEM_STATE_CLOSE:      return "closing the batch";
    case BMS_YMODEM_STATE_DONE:       return "done";
    case BMS_YMODEM_STATE_FAILED:     return "failed";
    default:                          return "?";
    }
}

static gint64
default_clock (gpointer user_data)
{
  return g_get_monotonic_time ();
}

BmsYmodemSender *
bms_ymodem_sender_new (const char *file_name, GBytes *data)
{
  BmsYmodemSender *self;

  g_return_val_if_fail (file_name != NULL, NULL);
  g_return_val_if_fail (data != NULL, NULL);

  self = g_new0 (BmsYmodemSender, 1);
  self->file_name = g_path_get_basename (file_name);
  self->data = g_bytes_ref (data);
  self->buf = g_bytes_get_data (data, &self->size);
  self->n_blocks = (guint) ((self->size + BMS_YMODEM_BLOCK_SIZE - 1) / BMS_YMODEM_BLOCK_SIZE);
  self->max_retries = BMS_YMODEM_DEFAULT_RETRIES;
  self->answer_timeout_ms = 3000;
  self->start_timeout_ms = 10000;
  self->state = BMS_YMODEM_STATE_WAIT_START;
  self->out = g_byte_array_new ();
  self->clock = default_clock;
  return self;
}

void
bms_ymodem_sender_free (BmsYmodemSender *self)
{
  if (self == NULL)
    return;
  g_free (self->file_name);
  g_bytes_unref (self->data);
  g_byte_array_unref (self->out);
  g_clear_error (&self->error);
  g_free (self);
}

void
bms_ymodem_sender_set_max_retries (BmsYmodemSender *self, guint retries)
{
  self->max_retries = retries;
}

void
bms_ymodem_sender_set_answer_timeout (BmsYmodemSender *self, guint ms)
{
  self->answer_timeout_ms = ms;
}

void
bms_ymodem_sender_set_start_timeout (BmsYmodemSender *self, guint ms)
{
  self->start_timeout_ms = ms;
}

void
bms_ymodem_sender_set_baud (BmsYmodemSender *self, guint baud)
{
  self->baud = baud;
}

void
bms_ymodem_sender_set_clock (BmsYmodemSender *self, BmsClockFunc clock, gpointer user_data)
{
  self->clock = clock != NULL ? clock : default_clock;
  self->clock_data = user_data;
}

/* ---- packets ---------------------------------------------------------- */

/* Data blocks are padded with SUB, block 0 with zeros. */
static void
append_packet (BmsYmodemSender *self, guint8 seq, const guint8 *payload, gsize payload_len,
               gsize block_len, guint8 pad)
{
  guint8 head[3] = { block_len == HEADER_SIZE ? BMS_YMODEM_SOH : BMS_YMODEM_STX,
                     seq, (guint8) (0xFF - seq) };
  gsize start;
  guint16 crc;

  g_byte_array_append (self->out, head, 3);
  start = self->out->len;
  g_byte_array_set_size (self->out, start + block_len);
  if (payload_len > 0)
    memcpy (self->out->data + start, payload, payload_len);
  memset (self->out->data + start + payload_len, pad, block_len - payload_len);
  crc = bms_crc16_xmodem (self->out->data + start, block_len);
  g_byte_array_append (self->out, (guint8[]) { crc >> 8, crc & 0xFF }, 2);
}

static void
queue_header (BmsYmodemSender *self)
{
  g_autofree char *size = g_strdup_printf ("%" G_GSIZE_FORMAT, self->size);
  gsize name_len = strlen (self->file_name);
  gsize len = name_len + 1 + strlen (size) + 1;
  g_autofree guint8 *payload = g_malloc0 (len);

  memcpy (payload, self->file_name, name_len);
  memcpy (payload + name_len + 1, size, strlen (size));
  /* A long name needs the 1024-byte form of block 0. */
  len = MIN (len, BMS_YMODEM_BLOCK_SIZE);
  append_packet (self, 0, payload, len, len <= HEADER_SIZE ? HEADER_SIZE : BMS_YMODEM_BLOCK_SIZE, 0);
}

static void
queue_pos (BmsYmodemSender *self)
{
  if (self->pos == 0)
    {
      self->state = BMS_YMODEM_STATE_HEADER;
      queue_header (self);
    }
  else if (self->pos <= self->n_blocks)
    {
      gsize off = (gsize) (self->pos - 1) * BMS_YMODEM_BLOCK_SIZE;
      gsize len = MIN (BMS_YMODEM_BLOCK_SIZE, self->size - off);

      self->state = BMS_YMODEM_STATE_DATA;
      append_packet (self, (guint8) (self->pos & 0xFF), self->buf + off, len,
                     BMS_YMODEM_BLOCK_SIZE, BMS_YMODEM_PAD);
    }
  else
    {
      self->state = BMS_YMODEM_STATE_EOT;
      g_byte_array_append (self->out, (guint8[]) { BMS_YMODEM_EOT }, 1);
    }
  self->restart_timer = TRUE;
}

/* The empty block 0 that ends the batch. */
static void
queue_close (BmsYmodemSender *self)
{
  self->state = BMS_YMODEM_STATE_CLOSE;
  append_packet (self, 0, NULL, 0, HEADER_SIZE, 0);
  self->restart_timer = TRUE;
}

static void
fail (BmsYmodemSender *self, BmsYmodemError code, gboolean send_can, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

static void
fail (BmsYmodemSender *self, BmsYmodemError code, gboolean send_can, const char *format, ...)
{
  va_list args;

  if (self->state == BMS_YMODEM_STATE_DONE || self->state == BMS_YMODEM_STATE_FAILED)
    return;
  va_start (args, format);
  self->error = g_error_new_valist (BMS_YMODEM_ERROR, code, format, args);
  va_end (args);
  self->state = BMS_YMODEM_STATE_FAILED;
  if (send_can)
    g_byte_array_append (self->out, (guint8[]) { BMS_YMODEM_CAN, BMS_YMODEM_CAN }, 2);
  self->restart_timer = TRUE;
}

/* Counts one more transmission of the current block; FALSE when exhausted. */
static gboolean
retry (BmsYmodemSender *self)
{
  guint block = self->probing ? self->base : self->pos;

  self->block_retries++;
  self->retries_total++;
  if (self->block_retries <= self->max_retries)
    return TRUE;
  if (block > self->n_blocks)
    fail (self, BMS_YMODEM_ERROR_RETRIES, TRUE,
          "EOT was not acknowledged after %u retries", self->max_retries);
  else
    fail (self, BMS_YMODEM_ERROR_RETRIES, TRUE,
          "block %u of %u was not acknowledged after %u retries",
          block, self->n_blocks, self->max_retries);
  return FALSE;
}

static void
advance (BmsYmodemSender *self)
{
  self->acked = MIN ((guint64) self->pos * BMS_YMODEM_BLOCK_SIZE, self->size);
  self->pos++;
  self->probing = FALSE;
  self->uncertain = FALSE;
  self->block_retries = 0;
  self->eot_naks = 0;
}

/* ---- events ----------------------------------------------------------- */

static void
on_ack (BmsYmodemSender *self)
{
  switch (self->state)
    {
    case BMS_YMODEM_STATE_HEADER:
      advance (self);
      self->state = BMS_YMODEM_STATE_WAIT_DATA;
      self->restart_timer = TRUE;
      break;
    case BMS_YMODEM_STATE_DATA:
      advance (self);
      queue_pos (self);
      break;
    case BMS_YMODEM_STATE_EOT:
      self->acked = self->size;
      self->block_retries = 0;
      self->state = BMS_YMODEM_STATE_WAIT_CLOSE;
      self->restart_timer = TRUE;
      break;
    case BMS_YMODEM_STATE_CLOSE:
      self->state = BMS_YMODEM_STATE_DONE;
      self->restart_timer = TRUE;
      break;
    default:
      break;
    }
}

static void
on_nak (BmsYmodemSender *self)
{
  switch (self->state)
    {
    case BMS_YMODEM_STATE_HEADER:
    case BMS_YMODEM_STATE_DATA:
      if (!retry (self))
        return;
      if (self->probing)
        {
          /* The receiver wants the block we thought it might have. */
          self->pos = self->base;
          self->probing = FALSE;
        }
      else if (self->uncertain)
        {
          /* Our block may have been accepted with its ACK lost: a receiver
           * that NAKs duplicates (ST) now wants the next one. Try it. */
          self->base = self->pos;
          self->probing = TRUE;
          self->pos++;
          self->eot_naks = 0;
        }
      queue_pos (self);
      break;
    case BMS_YMODEM_STATE_EOT:
      self->eot_naks++;
      /* The first NAK to EOT is the protocol's own confirmation request. */
      if (self->eot_naks > 1 && !retry (self))
        return;
      if (self->probing && self->eot_naks > 1)
        {
          /* Two NAKs to EOT: the receiver still misses the last block. */
          self->pos = self->base;
          self->probing = FALSE;
        }
      queue_pos (self);
      break;
    case BMS_YMODEM_STATE_WAIT_CLOSE:
      queue_close (self);
      break;
    case BMS_YMODEM_STATE_CLOSE:
      if (retry (self))
        queue_close (self);
      break;
    default:
      break;
    }
}

static void
on_c (BmsYmodemSender *self)
{
  switch (self->state)
    {
    case BMS_YMODEM_STATE_WAIT_START:
      self->pos = 0;
      queue_pos (self);
      break;
    case BMS_YMODEM_STATE_WAIT_DATA:
      queue_pos (self);
      break;
    case BMS_YMODEM_STATE_EOT:
      /* The ACK to EOT got lost, the receiver already asks for the next
       * file: the transfer is complete. */
      self->acked = self->size;
      G_GNUC_FALLTHROUGH;
    case BMS_YMODEM_STATE_WAIT_CLOSE:
      self->block_retries = 0;
      queue_close (self);
      break;
    default:
      break;
    }
}

static void
on_can (BmsYmodemSender *self)
{
  if (!self->prev_can)
    {
      self->prev_can = TRUE;
      return;
    }
  if (self->pos == 0 || self->state == BMS_YMODEM_STATE_WAIT_START)
    fail (self, BMS_YMODEM_ERROR_REMOTE_CANCEL, FALSE,
          "the receiver cancelled (CAN CAN) at block 0 — it refused the file "
          "(image too large for its flash, or empty)");
  else if (self->pos > self->n_blocks)
    fail (self, BMS_YMODEM_ERROR_REMOTE_CANCEL, FALSE,
          "the receiver cancelled (CAN CAN) after the last block");
  else
    fail (self, BMS_YMODEM_ERROR_REMOTE_CANCEL, FALSE,
          "the receiver cancelled (CAN CAN) at block %u of %u", self->pos, self->n_blocks);
}

void
bms_ymodem_sender_feed (BmsYmodemSender *self, const guint8 *data, gsize len)
{
  g_return_if_fail (self != NULL);

  for (gsize i = 0; i < len && !bms_ymodem_sender_is_finished (self); i++)
    {
      guint8 c = data[i];

      if (c == BMS_YMODEM_CAN)
        {
          on_can (self);
          continue;
        }
      self->prev_can = FALSE;
      if (c == BMS_YMODEM_ACK)
        on_ack (self);
      else if (c == BMS_YMODEM_NAK)
        on_nak (self);
      else if (c == BMS_YMODEM_CRC)
        on_c (self);
      /* Anything else is line noise: ignored. */
    }
}

void
bms_ymodem_sender_timeout (BmsYmodemSender *self)
{
  g_return_if_fail (self != NULL);

  self->timeouts++;
  self->prev_can = FALSE;
  switch (self->state)
    {
    case BMS_YMODEM_STATE_WAIT_START:
      fail (self, BMS_YMODEM_ERROR_NO_START, TRUE,
            "the receiver never asked for the file (no 'C' within %u ms)",
            self->start_timeout_ms);
      break;
    case BMS_YMODEM_STATE_WAIT_DATA:
      /* Its 'C' got lost; it waits for block 1 anyway. */
      if (retry (self))
        queue_pos (self);
      break;
    case BMS_YMODEM_STATE_HEADER:
    case BMS_YMODEM_STATE_DATA:
    case BMS_YMODEM_STATE_EOT:
      if (!retry (self))
        return;
      if (self->probing)
        {
          self->pos = self->base;
          self->probing = FALSE;
        }
      self->uncertain = TRUE;
      queue_pos (self);
      break;
    case BMS_YMODEM_STATE_WAIT_CLOSE:
      if (retry (self))
        queue_close (self);
      break;
    case BMS_YMODEM_STATE_CLOSE:
      /* The file was acknowledged; only the batch end is unconfirmed.
       * Some receivers restart at once without answering it. */
      if (++self->close_timeouts >= CLOSE_TIMEOUTS_ACCEPTED)
        {
          self->close_unconfirmed = TRUE;
          self->state = BMS_YMODEM_STATE_DONE;
          self->restart_timer = TRUE;
        }
      else if (retry (self))
        queue_close (self);
      break;
    default:
      break;
    }
}

void
bms_ymodem_sender_cancel (BmsYmodemSender *self)
{
  g_return_if_fail (self != NULL);
  fail (self, BMS_YMODEM_ERROR_CANCELLED, TRUE, "cancelled (CAN CAN sent)");
}

/* ---- outputs ---------------------------------------------------------- */

gboolean
bms_ymodem_sender_take_output (BmsYmodemSender *self, GByteArray *out)
{
  gboolean restart = self->restart_timer;

  if (self->out->len > 0)
    {
      self->last_out_len = self->out->len;
      g_byte_array_append (out, self->out->data, self->out->len);
      g_byte_array_set_size (self->out, 0);
      restart = TRUE;
    }
  else if (restart)
    self->last_out_len = 0;
  self->restart_timer = FALSE;
  return restart;
}

guint
bms_ymodem_sender_get_timeout_ms (BmsYmodemSender *self)
{
  guint wire = 0;

  if (self->state == BMS_YMODEM_STATE_WAIT_START)
    return self->start_timeout_ms;
  if (self->baud > 0)
    wire = (guint) (self->last_out_len * 10 * 1000 / self->baud);
  return self->answer_timeout_ms + wire;
}

BmsYmodemState
bms_ymodem_sender_get_state (BmsYmodemSender *self)
{
  return self->state;
}

gboolean
bms_ymodem_sender_is_finished (BmsYmodemSender *self)
{
  return self->state == BMS_YMODEM_STATE_DONE || self->state == BMS_YMODEM_STATE_FAILED;
}

void
bms_ymodem_sender_get_progress (BmsYmodemSender *self, BmsYmodemProgress *out)
{
  out->state = self->state;
  out->bytes_total = self->size;
  out->bytes_acked = self->acked;
  out->block = MIN (self->pos, self->n_blocks);
  out->n_blocks = self->n_blocks;
  out->retries = self->retries_total;
  out->timeouts = self->timeouts;
}

gboolean
bms_ymodem_sender_get_result (BmsYmodemSender *self, GError **error)
{
  if (self->state == BMS_YMODEM_STATE_DONE)
    return TRUE;
  if (self->error != NULL)
    g_propagate_error (error, g_error_copy (self->error));
  else
    g_set_error (error, BMS_YMODEM_ERROR, BMS_YMODEM_ERROR_IO,
                 "transfer not finished (%s)", bms_ymodem_state_to_string (self->state));
  return FALSE;
}

gboolean
bms_ymodem_sender_close_unconfirmed (BmsYmodemSender *self)
{
  return self->close_unconfirmed;
}

/* ---- blocking driver -------------------------------------------------- */

/* echo: what an RS485 adapter that hears itself will hand back first. */
static gboolean
flush_output (BmsYmodemSender *self, BmsTransport *transport, GByteArray *echo,
              gint64 *deadline, GError **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  if (!bms_ymodem_sender_take_output (self, out))
    return TRUE;
  if (out->len > 0 && !bms_transport_write (transport, out->data, out->len, error))
    return FALSE;
  if (out->len > 0)
    {
      g_byte_array_set_size (echo, 0);
      g_byte_array_append (echo, out->data, out->len);
    }
  *deadline = self->clock (self->clock_data) +
              (gint64) bms_ymodem_sender_get_timeout_ms (self) * 1000;
  return TRUE;
}

static void
report (BmsYmodemSender *self, BmsYmodemProgressFunc progress, gpointer user_data,
        BmsYmodemProgress *last)
{
  BmsYmodemProgress now;

  if (progress == NULL)
    return;
  bms_ymodem_sender_get_progress (self, &now);
  if (now.state == last->state && now.bytes_acked == last->bytes_acked &&
      now.block == last->block && now.retries == last->retries &&
      now.timeouts == last->timeouts)
    return;
  *last = now;
  progress (&now, user_data);
}

/* Drops the echo of our own output from the start of buf. Safe on lines
 * without echo: our packets start with SOH, STX or EOT, answers are ACK,
 * NAK, 'C' or CAN, so the first answer byte never matches and ends the
 * echo check. Returns how many bytes of buf were echo. */
static gsize
strip_echo (GByteArray *echo, const guint8 *buf, gsize n)
{
  gsize i = 0;

  while (i < n && i < echo->len && buf[i] == echo->data[i])
    i++;
  if (i < n)
    g_byte_array_set_size (echo, 0);
  else
    g_byte_array_remove_range (echo, 0, (guint) i);
  return i;
}

static gboolean
io_failed (BmsYmodemSender *self, GError *local, GError **error)
{
  g_set_error (error, BMS_YMODEM_ERROR, BMS_YMODEM_ERROR_IO,
               "line failed at block %u: %s", self->pos, local->message);
  g_error_free (local);
  self->state = BMS_YMODEM_STATE_FAILED;
  return FALSE;
}

gboolean
bms_ymodem_sender_run (BmsYmodemSender       *self,
                       BmsTransport          *transport,
                       BmsYmodemProgressFunc  progress,
                       gpointer               user_data,
                       GCancellable          *cancellable,
                       GError               **error)
{
  BmsYmodemProgress last = { .state = (BmsYmodemState) -1 };
  g_autoptr(GByteArray) echo = g_byte_array_new ();
  gint64 deadline = self->clock (self->clock_data) +
                    (gint64) bms_ymodem_sender_get_timeout_ms (self) * 1000;
  GError *local = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (BMS_IS_TRANSPORT (transport), FALSE);

  if (!flush_output (self, transport, echo, &deadline, &local))
    return io_failed (self, local, error);
  while (!bms_ymodem_sender_is_finished (self))
    {
      guint8 buf[256];
      gint64 now = self->clock (self->clock_data);
      gssize n;

      report (self, progress, user_data, &last);
      if (g_cancellable_is_cancelled (cancellable))
        bms_ymodem_sender_cancel (self);
      else if (now >= deadline)
        bms_ymodem_sender_timeout (self);
      else
        {
          /* Short reads so a cancellation is seen within 100 ms. */
          guint wait = (guint) MIN ((deadline - now + 999) / 1000, 100);

          gsize skip;

          n = bms_transport_read (transport, buf, sizeof buf, wait, &local);
          if (n < 0)
            return io_failed (self, local, error);
          skip = strip_echo (echo, buf, (gsize) n);
          bms_ymodem_sender_feed (self, buf + skip, (gsize) n - skip);
        }
      if (!flush_output (self, transport, echo, &deadline, &local))
        return io_failed (self, local, error);
    }
  report (self, progress, user_data, &last);
  return bms_ymodem_sender_get_result (self, error);
}
