/* fuzz-ymodem.c — libFuzzer target for the YMODEM state machines: the
 * sender (src/link/bms-ymodem.c) and the simulated bootloader's receiver
 * (src/sim/bms-bootloader.c).
 *
 * The first byte picks one of three harnesses, the rest drives it:
 *
 * A. The sender against arbitrary receiver bytes, timeouts and a
 *    cancellation. Everything it sends must be a well-formed packet (right
 *    complement and CRC), EOT or CAN; block 0 names the file and its size or
 *    is the empty closing block; a data block carries exactly its slice of
 *    the image and is never past its end; no block is sent before the one
 *    ahead of it. Fed only timeouts once the input ends, it must finish
 *    within a bounded number of steps; DONE means every block went out and
 *    all bytes count as acknowledged; FAILED comes with an error and, unless
 *    the receiver cancelled, with CAN CAN. Nothing is sent after the end.
 *
 * B. The bootloader against arbitrary sender bytes mixed with well-formed
 *    packets (good or bad CRC or complement, any block number), EOT, CAN,
 *    menu bytes and clock ticks. A packet with a bad CRC or complement gets
 *    nothing at once and exactly one NAK once the line is quiet; a block is
 *    acknowledged only when it is the one expected; an accepted image has
 *    the size block 0 declared, at most the flash size, and is exactly the
 *    acknowledged blocks' data.
 *
 * C. Both wired together on a virtual clock through a line whose faults
 *    (one bit flipped, one byte dropped, a whole chunk lost — either
 *    direction) come from the input. The sender must finish within a
 *    bounded number of steps; an image the bootloader accepts is exactly
 *    the one sent; DONE (confirmed) means the bootloader accepted it; an
 *    image larger than the flash is never reported done.
 *
 * Built by tests/fuzz/run-fuzz.sh ymodem (clang, -fsanitize=fuzzer,
 * address,undefined) and, with fuzz-replay.c as main, by meson for the
 * corpus replay test. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "bms-ymodem.h"
#include "bms-bootloader.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* FUZZ_VERBOSE=1: one line per input saying how it ended (for seeds). */
static gboolean verbose;

/* CRC-16/XMODEM of our own, written apart from the code under test's and
 * checked against the standard's "123456789" → 0x31C3 at start-up. It only
 * reads packets whose bounds the caller has checked, so it is left out of
 * ASan's instrumentation (and of coverage, coverage-ignore.txt): it was
 * a third of the target's time. */
static guint16 crc_table[4][256];

static void
crc_table_init (void)
{
  for (guint i = 0; i < 256; i++)
    {
      guint16 crc = (guint16) (i << 8);

      for (int b = 0; b < 8; b++)
        crc = (crc & 0x8000) ? (guint16) ((crc << 1) ^ 0x1021) : (guint16) (crc << 1);
      crc_table[0][i] = crc;
    }
  /* crc_table[k][i]: the CRC of byte i followed by k zero bytes. */
  for (guint k = 1; k < 4; k++)
    for (guint i = 0; i < 256; i++)
      crc_table[k][i] = (guint16) (crc_table[k - 1][i] << 8)
                        ^ crc_table[0][crc_table[k - 1][i] >> 8];
}

/* Four bytes per step with independent table loads ("slicing by 4"). */
__attribute__ ((no_sanitize ("address"))) G_GNUC_NO_INLINE static guint16
crc16 (const guint8 *data, gsize len)
{
  guint16 crc = 0;
  gsize i = 0;

  for (; i + 4 <= len; i += 4)
    crc = crc_table[3][(crc >> 8) ^ data[i]] ^ crc_table[2][(crc & 0xFF) ^ data[i + 1]]
          ^ crc_table[1][data[i + 2]] ^ crc_table[0][data[i + 3]];
  for (; i < len; i++)
    crc = (guint16) (crc << 8) ^ crc_table[0][(crc >> 8) ^ data[i]];
  return crc;
}

typedef struct
{
  const uint8_t *p;
  size_t         left;
} Input;

static gboolean
input_empty (Input *in)
{
  return in->left == 0;
}

static guint8
input_byte (Input *in)
{
  guint8 b;

  if (in->left == 0)
    return 0;
  b = *in->p;
  in->p++;
  in->left--;
  return b;
}

static guint
input_u16 (Input *in)
{
  guint hi = input_byte (in);

  return hi << 8 | input_byte (in);
}

/* An image of size bytes in a fixed pattern that never contains a byte the
 * protocol gives a meaning to (SOH, STX, EOT, CAN, the menu's 0x20/0x31), so
 * no packet can hide inside another. */
G_GNUC_NO_INLINE static GBytes *
make_image (gsize size, guint8 salt)
{
  guint8 *buf = g_malloc (MAX (size, 1));
  guint32 x = 0x9E3779B9u ^ salt;

  for (gsize i = 0; i < size; i++)
    {
      guint8 b;

      x = x * 1664525u + 1013904223u;
      b = (guint8) (x >> 24);
      if (b == BMS_YMODEM_SOH || b == BMS_YMODEM_STX || b == BMS_YMODEM_EOT
          || b == BMS_YMODEM_CAN || b == 0x20 || b == 0x31)
        b = 0x55;
      buf[i] = b;
    }
  return g_bytes_new_take (buf, size);
}

static gboolean
contains (const GByteArray *out, guint8 byte)
{
  return out->len > 0 && memchr (out->data, byte, out->len) != NULL;
}

/* ---- A: the sender against arbitrary receiver bytes --------------------- */

typedef struct
{
  const guint8 *image;
  gsize         size;
  guint         n_blocks;
  const char   *name;
  gboolean     *sent;        /* [0..n_blocks]: block k went out at least once */
  gboolean      sent_eot;
  gboolean      sent_can;
  gboolean      finished;    /* the sender had finished at the last take */
} SenderCheck;

/* Block 0 as the sender writes it: name NUL size NUL, zero padded. */
/* TRUE when all n bytes at p are v (a plain loop, out of coverage). */
G_GNUC_NO_INLINE static gboolean
all_bytes_are (const guint8 *p, gsize n, guint8 v)
{
  for (gsize i = 0; i < n; i++)
    if (p[i] != v)
      return FALSE;
  return TRUE;
}

/* A packet's data that says which packet it was (out of coverage too). */
G_GNUC_NO_INLINE static void
fill_pattern (guint8 *p, gsize n, guint packets)
{
  for (gsize i = 0; i < n; i++)
    p[i] = (guint8) (packets * 31 + i * 7 + 0x40);
}

static gboolean
is_header (SenderCheck *c, const guint8 *payload, gsize len)
{
  g_autofree char *expect = g_strdup_printf ("%s%c%" G_GSIZE_FORMAT, c->name, 0, c->size);
  gsize n = strlen (c->name) + 1 + strlen (expect + strlen (c->name) + 1);

  return len >= n && memcmp (payload, expect, n) == 0 && all_bytes_are (payload + n, len - n, 0);
}

static void
check_sender_output (SenderCheck *c, const GByteArray *out)
{
  gsize i = 0;

  if (c->finished && out->len > 0)
    abort (); /* nothing after the end */
  while (i < out->len)
    {
      guint8 b = out->data[i];

      if (b == BMS_YMODEM_EOT)
        {
          c->sent_eot = TRUE;
          i++;
        }
      else if (b == BMS_YMODEM_CAN)
        {
          if (i + 1 >= out->len || out->data[i + 1] != BMS_YMODEM_CAN)
            abort (); /* a lone CAN */
          c->sent_can = TRUE;
          i += 2;
        }
      else if (b == BMS_YMODEM_SOH || b == BMS_YMODEM_STX)
        {
          gsize len = b == BMS_YMODEM_SOH ? 128 : BMS_YMODEM_BLOCK_SIZE;
          const guint8 *pkt = out->data + i;
          const guint8 *payload = pkt + 3;
          guint8 seq;
          guint16 crc;

          if (i + 3 + len + 2 > out->len)
            abort (); /* a packet cut in two */
          seq = pkt[1];
          crc = (guint16) (payload[len] << 8 | payload[len + 1]);
          if ((guint8) (seq + pkt[2]) != 0xFF || crc16 (payload, len) != crc)
            abort ();
          if (seq == 0)
            {
              gboolean empty = all_bytes_are (payload, len, 0);

              if (!empty && !is_header (c, payload, len))
                abort ();
              if (!empty)
                c->sent[0] = TRUE;
              else if (!c->sent_eot)
                abort (); /* the batch closed before the file ended */
            }
          else
            {
              gsize off = (gsize) (seq - 1) * BMS_YMODEM_BLOCK_SIZE;
              gsize n;

              /* Images stay below 255 blocks: seq is the block number. */
              if (seq > c->n_blocks || b != BMS_YMODEM_STX)
                abort (); /* past the image */
              if (!c->sent[seq - 1])
                abort (); /* a block skipped */
              n = MIN (len, c->size - off);
              if (memcmp (payload, c->image + off, n) != 0)
                abort ();
              if (!all_bytes_are (payload + n, len - n, BMS_YMODEM_PAD))
                abort ();
              c->sent[seq] = TRUE;
            }
          i += 3 + len + 2;
        }
      else
        abort (); /* a byte the sender has no reason to send */
    }
}

static void
sender_take (BmsYmodemSender *sender, SenderCheck *c)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  BmsYmodemProgress progress;

  bms_ymodem_sender_take_output (sender, out);
  check_sender_output (c, out);
  bms_ymodem_sender_get_progress (sender, &progress);
  if (progress.bytes_acked > progress.bytes_total || progress.block > progress.n_blocks
      || progress.bytes_total != c->size || progress.n_blocks != c->n_blocks)
    abort ();
  c->finished = bms_ymodem_sender_is_finished (sender);
}

static void
fuzz_sender (Input *in)
{
  static const guint8 answers[4] = { BMS_YMODEM_ACK, BMS_YMODEM_NAK, BMS_YMODEM_CRC,
                                     BMS_YMODEM_CAN };
  gsize size = input_u16 (in) % 3100;
  guint retries = input_byte (in) % 12;
  guint name_len = 1 + input_byte (in) % 160;
  g_autoptr (GBytes) image = make_image (size, (guint8) size);
  g_autofree char *name = g_strnfill (name_len, 'f');
  g_autoptr (BmsYmodemSender) sender = NULL;
  g_autoptr (GError) error = NULL;
  SenderCheck c = { 0 };
  guint steps = 0;

  sender = bms_ymodem_sender_new (name, image);
  bms_ymodem_sender_set_max_retries (sender, retries);
  c.image = g_bytes_get_data (image, &c.size);
  c.n_blocks = (guint) ((c.size + BMS_YMODEM_BLOCK_SIZE - 1) / BMS_YMODEM_BLOCK_SIZE);
  c.name = name;
  c.sent = g_new0 (gboolean, c.n_blocks + 2);

  while (!input_empty (in))
    {
      guint8 op = input_byte (in);

      switch (op & 3)
        {
        case 0: /* raw bytes from the input */
          {
            gsize n = MIN ((gsize) (op >> 2) + 1, in->left);

            bms_ymodem_sender_feed (sender, in->p, n);
            in->p += n;
            in->left -= n;
          }
          break;
        case 1:
          bms_ymodem_sender_timeout (sender);
          break;
        case 2: /* a run of one meaningful answer */
          for (guint k = 0; k < (guint) (op >> 4) + 1; k++)
            bms_ymodem_sender_feed (sender, &answers[(op >> 2) & 3], 1);
          break;
        default:
          if (op == 0xFF)
            bms_ymodem_sender_cancel (sender);
          else
            bms_ymodem_sender_feed (sender, &answers[(op >> 2) & 3], 1);
          break;
        }
      sender_take (sender, &c);
    }

  /* Silence from now on: it must give up or finish, and soon. */
  while (!bms_ymodem_sender_is_finished (sender))
    {
      if (++steps > 1000)
        abort (); /* loops on timeouts */
      bms_ymodem_sender_timeout (sender);
      sender_take (sender, &c);
    }
  if (bms_ymodem_sender_get_state (sender) == BMS_YMODEM_STATE_DONE)
    {
      BmsYmodemProgress progress;

      bms_ymodem_sender_get_progress (sender, &progress);
      if (!bms_ymodem_sender_get_result (sender, NULL) || progress.bytes_acked != c.size
          || !c.sent_eot || !c.sent[0])
        abort ();
      for (guint k = 1; k <= c.n_blocks; k++)
        if (!c.sent[k])
          abort ();
    }
  else
    {
      if (bms_ymodem_sender_get_result (sender, &error) || error == NULL
          || error->domain != BMS_YMODEM_ERROR || error->message[0] == '\0')
        abort ();
      if (error->code != BMS_YMODEM_ERROR_REMOTE_CANCEL && !c.sent_can)
        abort (); /* gave up without telling the receiver */
    }
  if (verbose)
    g_printerr ("sender: %" G_GSIZE_FORMAT " bytes, %s%s%s\n", c.size,
                bms_ymodem_state_to_string (bms_ymodem_sender_get_state (sender)),
                error ? ": " : "", error ? error->message : "");
  g_free (c.sent);
}

/* ---- B: the bootloader against arbitrary sender bytes ------------------- */

typedef struct
{
  gboolean    valid;     /* FALSE once an ACK came that the model cannot place */
  guint       expected;  /* next block: 0 header */
  guint64     declared;
  GByteArray *image;
  GBytes     *accepted;  /* the last accepted image seen */
} ReceiverModel;

static void
model_reset (ReceiverModel *m)
{
  m->valid = TRUE;
  m->expected = 0;
  m->declared = 0;
  g_byte_array_set_size (m->image, 0);
}

/* Lets a cut-off packet time out, and collects what that queued. */
static void
flush (BmsBootloader *bl)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();

  bms_bootloader_tick (bl, 1.0);
  bms_bootloader_receive (bl, NULL, 0, out);
}

static void
fuzz_bootloader (Input *in)
{
  guint flash_size = 1 + input_u16 (in) % 3100;
  g_autoptr (BmsBootloader) bl = bms_bootloader_new (flash_size);
  ReceiverModel m = { .image = g_byte_array_new () };
  guint packets = 0;

  model_reset (&m);
  while (!input_empty (in))
    {
      g_autoptr (GByteArray) out = g_byte_array_new ();
      guint8 op = input_byte (in);
      BmsBootloaderState before;
      BmsBootloaderState after;

      switch (op & 7)
        {
        case 0: /* raw bytes */
        case 7:
          {
            gsize n = MIN ((gsize) (op >> 3) + 1, in->left);

            bms_bootloader_receive (bl, in->p, n, out);
            in->p += n;
            in->left -= n;
            if (contains (out, BMS_YMODEM_ACK))
              m.valid = FALSE;
          }
          break;
        case 1:
          bms_bootloader_tick (bl, ((op >> 3) + 1) * 0.25);
          bms_bootloader_receive (bl, NULL, 0, out);
          if (contains (out, BMS_YMODEM_ACK))
            abort (); /* the clock alone accepts nothing */
          break;
        case 2: /* a well-formed packet */
        case 6:
          {
            guint8 kind = input_byte (in);
            gboolean soh = kind & 1;
            gboolean bad_crc = kind & 2;
            gboolean bad_cpl = kind & 4;
            gsize len = soh ? 128 : BMS_YMODEM_BLOCK_SIZE;
            g_autofree guint8 *pkt = g_malloc0 (len + 5);
            guint8 *payload = pkt + 3;
            guint8 seq;
            guint16 crc;
            gboolean is_header;

            switch ((kind >> 3) & 3)
              {
              case 0: seq = (guint8) m.expected; break;
              case 1: seq = (guint8) (m.expected - 1); break;
              case 2: seq = 0; break;
              default: seq = input_byte (in); break;
              }
            if (seq == 0 && (kind & 0x20))
              {
                /* Block 0: a name and a size near the flash size, or empty. */
                if (!(kind & 0x40))
                  {
                    gint delta = (gint8) input_byte (in);
                    gint64 declared = (gint64) flash_size + delta * ((kind & 0x80) ? 37 : 1);
                    g_autofree char *text = g_strdup_printf ("fw.bin%c%" G_GINT64_FORMAT " 0",
                                                             0, MAX (declared, 0));
                    memcpy (payload, text, MIN (len, 7 + strlen (text + 7)));
                  }
              }
            else
              {
                /* Data that says which packet it was. */
                fill_pattern (payload, len, packets);
                payload[0] = 0xA5;
                payload[1] = (guint8) packets;
              }
            is_header = seq == 0;
            packets++;
            pkt[0] = soh ? BMS_YMODEM_SOH : BMS_YMODEM_STX;
            pkt[1] = seq;
            pkt[2] = (guint8) (0xFF - seq) ^ (bad_cpl ? 0x10 : 0);
            crc = crc16 (payload, len) ^ (bad_crc ? 0x0100 : 0);
            payload[len] = crc >> 8;
            payload[len + 1] = crc & 0xFF;

            flush (bl);
            before = bms_bootloader_get_state (bl);
            if (before == BMS_BOOTLOADER_MENU || before == BMS_BOOTLOADER_WAIT_FIRST)
              model_reset (&m);
            bms_bootloader_receive (bl, pkt, len + 5, out);
            if (before == BMS_BOOTLOADER_MENU || before == BMS_BOOTLOADER_FINISHED)
              {
                if (contains (out, BMS_YMODEM_ACK))
                  m.valid = FALSE; /* bytes taken as menu input */
                break;
              }
            if (bad_crc || bad_cpl)
              {
                /* Refused: nothing at once (it waits for a quiet line), then
                 * exactly one NAK once the line has been quiet. */
                if (out->len != 0)
                  abort ();
                bms_bootloader_tick (bl, 1.0);
                bms_bootloader_receive (bl, NULL, 0, out);
                if (out->len != 1 || out->data[0] != BMS_YMODEM_NAK)
                  abort ();
                break;
              }
            if (!contains (out, BMS_YMODEM_ACK) || !m.valid)
              break;
            /* Acknowledged: it must be the block the receiver waits for. */
            if (before == BMS_BOOTLOADER_WAIT_CLOSE)
              {
                if (!is_header || payload[0] != 0)
                  abort ();
                break;
              }
            if (seq != (guint8) m.expected)
              abort (); /* accepted a duplicate or a block out of order */
            if (m.expected == 0)
              {
                if (payload[0] == 0)
                  break; /* an empty batch: back to the menu */
                /* YMODEM block 0: name NUL size (decimal) … */
                gsize name_len = strnlen ((const char *) payload, len);

                m.declared = name_len + 1 < len
                             ? g_ascii_strtoull ((const char *) payload + name_len + 1, NULL, 10)
                             : 0;
                if (m.declared == 0 || m.declared > flash_size)
                  abort (); /* accepted an image that cannot fit */
                g_byte_array_set_size (m.image, 0);
              }
            else
              g_byte_array_append (m.image, payload, len);
            m.expected++;
          }
          break;
        case 3:
          flush (bl);
          before = bms_bootloader_get_state (bl);
          bms_bootloader_receive (bl, (guint8[]) { BMS_YMODEM_EOT }, 1, out);
          if (before == BMS_BOOTLOADER_RECEIVING && contains (out, BMS_YMODEM_ACK)
              && m.valid && m.image->len < m.declared)
            abort (); /* ended a transfer with data missing */
          break;
        case 4:
          bms_bootloader_receive (bl, (guint8[]) { BMS_YMODEM_CAN }, 1, out);
          break;
        default: /* 5 */
          if ((op >> 3) == 0x1F)
            bms_bootloader_reset (bl);
          else
            bms_bootloader_receive (bl, (guint8[]) { (op & 8) ? 0x31 : 0x20 }, 1, out);
          break;
        }

      after = bms_bootloader_get_state (bl);
      if (after == BMS_BOOTLOADER_MENU || after == BMS_BOOTLOADER_WAIT_FIRST)
        model_reset (&m);
      if (after == BMS_BOOTLOADER_FINISHED && bms_bootloader_get_image (bl) != m.accepted)
        {
          GBytes *image = bms_bootloader_get_image (bl);
          gsize n = 0;
          const guint8 *bytes = image ? g_bytes_get_data (image, &n) : NULL;

          if (image == NULL || n == 0 || n > flash_size || bms_bootloader_get_version (bl) == NULL)
            abort ();
          if (m.valid && (n != m.declared || m.image->len < n || memcmp (bytes, m.image->data, n) != 0))
            abort (); /* not the data of the acknowledged blocks */
          m.accepted = image;
        }
    }
  if (verbose)
    g_printerr ("bootloader: flash %u, state %d, image %" G_GSIZE_FORMAT " bytes, model %s\n",
                flash_size, bms_bootloader_get_state (bl),
                m.accepted ? g_bytes_get_size (m.accepted) : 0, m.valid ? "valid" : "lost");
  g_byte_array_unref (m.image);
}

/* ---- C: both ends over a faulty line ------------------------------------ */

typedef struct
{
  Input   *in;
  guint    faults;
} Line;

/* One chunk over the line: the next input byte says what happens to it. */
static void
line_carry (Line *line, GByteArray *chunk)
{
  guint8 f;

  if (chunk->len == 0 || input_empty (line->in))
    return;
  f = input_byte (line->in);
  switch (f >> 6)
    {
    case 1: /* one bit flipped */
      chunk->data[input_u16 (line->in) % chunk->len] ^= (guint8) (1u << (f & 7));
      line->faults++;
      break;
    case 2: /* one byte lost */
      g_byte_array_remove_index (chunk, input_u16 (line->in) % chunk->len);
      line->faults++;
      break;
    case 3: /* everything lost */
      if (f & 0x20)
        {
          g_byte_array_set_size (chunk, 0);
          line->faults++;
        }
      break;
    default:
      break;
    }
}

/* Bootloader output over the line to the sender. */
static void
to_sender (Line *line, BmsYmodemSender *sender, GByteArray *bytes)
{
  line_carry (line, bytes);
  bms_ymodem_sender_feed (sender, bytes->data, bytes->len);
  g_byte_array_set_size (bytes, 0);
}

static void
fuzz_wired (Input *in)
{
  gsize size = 1 + input_u16 (in) % 3100;
  guint8 shape = input_byte (in);
  guint flash_size = (shape & 0x80) ? (guint) size - MIN (size - 1, (gsize) (shape & 0x7F))
                                    : (guint) size + (shape & 0x7F) * 97;
  g_autoptr (GBytes) image = make_image (size, shape);
  g_autoptr (BmsYmodemSender) sender = bms_ymodem_sender_new ("firmware.bin", image);
  g_autoptr (BmsBootloader) bl = bms_bootloader_new (flash_size);
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  Line line = { in };
  guint rounds = 0;
  GBytes *accepted;

  bms_ymodem_sender_set_max_retries (sender, 3 + input_byte (in) % 8);
  bms_ymodem_sender_set_answer_timeout (sender, 3000);
  bms_ymodem_sender_set_start_timeout (sender, 10000);

  /* The flasher's start: '1' to the bootloader, its 'C' to the sender. */
  bms_bootloader_receive (bl, (guint8[]) { 0x31 }, 1, bytes);
  to_sender (&line, sender, bytes);

  while (!bms_ymodem_sender_is_finished (sender))
    {
      if (++rounds > 20000)
        abort (); /* never ends */
      if (bms_ymodem_sender_take_output (sender, bytes))
        {
          /* Sent: the answer, if any, comes at once. */
          line_carry (&line, bytes);
          {
            g_autoptr (GByteArray) answer = g_byte_array_new ();

            bms_bootloader_receive (bl, bytes->data, bytes->len, answer);
            g_byte_array_set_size (bytes, 0);
            to_sender (&line, sender, answer);
          }
          continue;
        }
      /* Nothing to send: wait up to the answer timeout, a second at a time,
       * passing on whatever the bootloader says (its 'C', a NAK for a cut
       * packet); output from the sender ends the wait. */
      {
        guint waited = 0;
        guint timeout = bms_ymodem_sender_get_timeout_ms (sender);
        gboolean answered = FALSE;

        while (waited < timeout && !answered)
          {
            bms_bootloader_tick (bl, 1.0);
            waited += 1000;
            bms_bootloader_receive (bl, NULL, 0, bytes);
            if (bytes->len == 0)
              continue;
            to_sender (&line, sender, bytes);
            /* Like the driver: only output (or a state change that
             * restarts the timer) ends the wait; noise does not. */
            answered = bms_ymodem_sender_take_output (sender, bytes)
                       || bms_ymodem_sender_is_finished (sender);
            if (answered && bytes->len > 0)
              {
                g_autoptr (GByteArray) answer = g_byte_array_new ();

                line_carry (&line, bytes);
                bms_bootloader_receive (bl, bytes->data, bytes->len, answer);
                g_byte_array_set_size (bytes, 0);
                to_sender (&line, sender, answer);
              }
          }
        if (!answered)
          bms_ymodem_sender_timeout (sender);
      }
    }
  /* The last words (CAN CAN after a failure) reach the bootloader too. */
  if (bms_ymodem_sender_take_output (sender, bytes) && bytes->len > 0)
    {
      g_autoptr (GByteArray) answer = g_byte_array_new ();

      line_carry (&line, bytes);
      bms_bootloader_receive (bl, bytes->data, bytes->len, answer);
    }

  accepted = bms_bootloader_get_image (bl);
  if (bms_bootloader_finished (bl) && (accepted == NULL || !g_bytes_equal (accepted, image)))
    abort (); /* accepted something that is not the image */
  if (!bms_bootloader_finished (bl) && accepted != NULL)
    abort ();
  if (bms_ymodem_sender_get_state (sender) == BMS_YMODEM_STATE_DONE)
    {
      BmsBootloaderState state = bms_bootloader_get_state (bl);

      if (size > flash_size)
        abort (); /* the bootloader refused it: not done */
      if (!bms_ymodem_sender_close_unconfirmed (sender) && state != BMS_BOOTLOADER_FINISHED)
        abort (); /* done, but the board has no image */
      if (state != BMS_BOOTLOADER_FINISHED && state != BMS_BOOTLOADER_WAIT_CLOSE)
        abort (); /* done unconfirmed, but the file itself did not arrive */
    }
  else if (bms_ymodem_sender_get_result (sender, &error) || error == NULL || error->message[0] == '\0')
    abort ();
  if (verbose)
    g_printerr ("wired: %" G_GSIZE_FORMAT " bytes, flash %u, %u faults, %u rounds: sender %s%s%s, "
                "bootloader state %d\n", size, flash_size, line.faults, rounds,
                bms_ymodem_state_to_string (bms_ymodem_sender_get_state (sender)),
                error ? ": " : "", error ? error->message : "", bms_bootloader_get_state (bl));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Input in = { data, size };

  verbose = g_getenv ("FUZZ_VERBOSE") != NULL;
  if (crc_table[0][1] == 0)
    {
      guint8 probe[64];

      crc_table_init ();
      /* The check value of CRC-16/XMODEM, for both implementations, and the
       * two agreeing on every length 0..64 (all tails of the 4-byte steps). */
      if (crc16 ((const guint8 *) "123456789", 9) != 0x31C3
          || bms_crc16_xmodem ((const guint8 *) "123456789", 9) != 0x31C3)
        abort ();
      for (guint i = 0; i < sizeof probe; i++)
        probe[i] = (guint8) (i * 37 + 11);
      for (gsize n = 0; n <= sizeof probe; n++)
        if (crc16 (probe, n) != bms_crc16_xmodem (probe, n))
          abort ();
    }
  if (size == 0)
    return 0;
  switch (input_byte (&in) % 3)
    {
    case 0: fuzz_sender (&in); break;
    case 1: fuzz_bootloader (&in); break;
    default: fuzz_wired (&in); break;
    }
  return 0;
}
