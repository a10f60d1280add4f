/* bms-bootloader.c — the simulated bootloader: menu, YMODEM-1K receiver. */
#include "bms-bootloader.h"

#include <stdlib.h>
#include <string.h>

#include "bms-firmware.h"
#include "bms-ymodem.h"

#define BLOCK_TIMEOUT_S    1.0   /* a packet cut short is NAKed after this */
#define C_INTERVAL_S       1.0
#define TRANSFER_IDLE_S    30.0  /* an abandoned transfer falls back to the menu */
#define PURGE_QUIET_S      0.1   /* after a bad packet: wait for this much silence */
#define FAULT_BYTE_OFFSET  10    /* which byte of a packet a fault hits */

struct _BmsBootloader
{
  guint               flash_size;
  guint8              segment;
  BmsBootloaderFaults faults;
  BmsBootloaderState  state;

  GByteArray         *pending;    /* queued by tick (), delivered by receive () */
  GByteArray         *pkt;        /* packet being received */
  gsize               pkt_need;
  gboolean            pkt_corrupt;
  gboolean            pkt_drop;
  double              c_timer;
  double              pkt_idle;
  double              idle;
  gboolean            prev_can;
  gboolean            silent;
  gboolean            purging;    /* bad packet: drop bytes until the line is quiet */
  double              purge_idle;

  guint               expected;   /* next block: 0 header, 1.. data */
  guint64             declared;
  GByteArray         *image;
  guint               eot_count;

  GBytes             *accepted;
  char               *version;
};

void
bms_bootloader_faults_init (BmsBootloaderFaults *faults)
{
  faults->corrupt_block = -1;
  faults->drop_byte_block = -1;
  faults->lose_ack_block = -1;
  faults->lose_eot_answer = -1;
  faults->cancel_at_block = -1;
  faults->silent_at_block = -1;
  faults->no_c = FALSE;
  faults->no_segment = FALSE;
}

BmsBootloader *
bms_bootloader_new (guint flash_size)
{
  BmsBootloader *self = g_new0 (BmsBootloader, 1);

  self->flash_size = flash_size;
  self->segment = 0x01;
  bms_bootloader_faults_init (&self->faults);
  self->state = BMS_BOOTLOADER_MENU;
  self->pending = g_byte_array_new ();
  self->pkt = g_byte_array_new ();
  self->image = g_byte_array_new ();
  return self;
}

void
bms_bootloader_free (BmsBootloader *self)
{
  if (self == NULL)
    return;
  g_byte_array_unref (self->pending);
  g_byte_array_unref (self->pkt);
  g_byte_array_unref (self->image);
  g_clear_pointer (&self->accepted, g_bytes_unref);
  g_free (self->version);
  g_free (self);
}

void
bms_bootloader_set_faults (BmsBootloader *self, const BmsBootloaderFaults *faults)
{
  self->faults = *faults;
}

void
bms_bootloader_set_segment (BmsBootloader *self, guint8 segment)
{
  self->segment = segment;
}

BmsBootloaderState
bms_bootloader_get_state (BmsBootloader *self)
{
  return self->state;
}

static void
to_menu (BmsBootloader *self)
{
  self->state = BMS_BOOTLOADER_MENU;
  g_byte_array_set_size (self->pkt, 0);
  g_byte_array_set_size (self->image, 0);
  self->expected = 0;
  self->declared = 0;
  self->eot_count = 0;
  self->prev_can = FALSE;
  self->purging = FALSE;
}

void
bms_bootloader_reset (BmsBootloader *self)
{
  to_menu (self);
  self->silent = FALSE;
  g_byte_array_set_size (self->pending, 0);
}

gboolean
bms_bootloader_finished (BmsBootloader *self)
{
  return self->state == BMS_BOOTLOADER_FINISHED;
}

GBytes *
bms_bootloader_get_image (BmsBootloader *self)
{
  return self->accepted;
}

const char *
bms_bootloader_get_version (BmsBootloader *self)
{
  return self->version;
}

static void
emit (BmsBootloader *self, GByteArray *out, guint8 byte)
{
  if (!self->silent)
    g_byte_array_append (out, &byte, 1);
}

static void
emit_cancel (BmsBootloader *self, GByteArray *out)
{
  emit (self, out, BMS_YMODEM_CAN);
  emit (self, out, BMS_YMODEM_CAN);
  to_menu (self);
}

/* A fault fires once: the knob switches itself off. */
static gboolean
fires (gint *knob, guint block)
{
  if (*knob < 0 || (guint) *knob != block)
    return FALSE;
  *knob = -1;
  return TRUE;
}

/* ---- block 0 and data ------------------------------------------------- */

static void
on_header (BmsBootloader *self, const guint8 *data, gsize len, GByteArray *out)
{
  const char *name = (const char *) data;
  gsize name_len = strnlen (name, len);
  guint64 size = 0;

  if (name_len == 0)
    {
      /* An empty batch: nothing to flash. */
      emit (self, out, BMS_YMODEM_ACK);
      to_menu (self);
      return;
    }
  if (name_len + 1 < len)
    size = g_ascii_strtoull ((const char *) data + name_len + 1, NULL, 10);
  if (size == 0 || size > self->flash_size)
    {
      /* Like ST's bootloader: refuse an image that does not fit (or none). */
      emit_cancel (self, out);
      return;
    }
  self->declared = size;
  self->expected = 1;
  self->eot_count = 0;
  g_byte_array_set_size (self->image, 0);
  self->state = BMS_BOOTLOADER_RECEIVING;
  if (!fires (&self->faults.lose_ack_block, 0))
    emit (self, out, BMS_YMODEM_ACK);
  emit (self, out, BMS_YMODEM_CRC);
}

static void
on_data (BmsBootloader *self, const guint8 *data, gsize len, GByteArray *out)
{
  guint64 room = (self->declared + BMS_YMODEM_BLOCK_SIZE - 1) / BMS_YMODEM_BLOCK_SIZE *
                 BMS_YMODEM_BLOCK_SIZE;

  if (self->image->len + len > room)
    {
      emit_cancel (self, out);
      return;
    }
  g_byte_array_append (self->image, data, len);
  if (!fires (&self->faults.lose_ack_block, self->expected))
    emit (self, out, BMS_YMODEM_ACK);
  self->expected++;
}

static void
finish (BmsBootloader *self, GByteArray *out)
{
  emit (self, out, BMS_YMODEM_ACK);
  g_clear_pointer (&self->accepted, g_bytes_unref);
  g_free (self->version);
  self->accepted = g_bytes_new (self->image->data, self->declared);
  self->version = bms_firmware_find_version (self->image->data, self->declared);
  self->state = BMS_BOOTLOADER_FINISHED;
}

static void
on_packet (BmsBootloader *self, GByteArray *out)
{
  const guint8 *p = self->pkt->data;
  gsize data_len = self->pkt->len - 5;
  guint8 seq = p[1];
  guint16 crc = (guint16) (p[self->pkt->len - 2] << 8 | p[self->pkt->len - 1]);

  if (fires (&self->faults.cancel_at_block, self->expected))
    {
      emit_cancel (self, out);
      return;
    }
  if ((guint8) (seq + p[2]) != 0xFF || bms_crc16_xmodem (p + 3, data_len) != crc)
    {
      /* We may be out of step with the sender (a lost or garbled header
       * byte): like lrzsz, drop whatever still comes until the line is
       * quiet, and only then NAK. tick () sends it. */
      self->purging = TRUE;
      self->purge_idle = 0;
      return;
    }
  if (self->state == BMS_BOOTLOADER_WAIT_CLOSE)
    {
      if (seq == 0 && p[3] == 0)
        finish (self, out);
      else
        emit (self, out, BMS_YMODEM_NAK);
      return;
    }
  /* Anything but the expected number — a duplicate too — is NAKed. */
  if (seq != (guint8) (self->expected & 0xFF))
    {
      emit (self, out, BMS_YMODEM_NAK);
      return;
    }
  if (self->expected == 0)
    on_header (self, p + 3, data_len, out);
  else
    on_data (self, p + 3, data_len, out);
}

static void
on_eot (BmsBootloader *self, GByteArray *out)
{
  if (self->state == BMS_BOOTLOADER_WAIT_CLOSE)
    {
      emit (self, out, BMS_YMODEM_ACK);
      emit (self, out, BMS_YMODEM_CRC);
      return;
    }
  if (self->state != BMS_BOOTLOADER_RECEIVING || self->image->len < self->declared)
    {
      /* Data is missing: the sender must resend it, not end. */
      emit (self, out, BMS_YMODEM_NAK);
      return;
    }
  self->eot_count++;
  if (self->eot_count == 1)
    {
      if (!fires (&self->faults.lose_eot_answer, 1))
        emit (self, out, BMS_YMODEM_NAK);
      return;
    }
  self->state = BMS_BOOTLOADER_WAIT_CLOSE;
  if (fires (&self->faults.lose_eot_answer, 2))
    return;
  emit (self, out, BMS_YMODEM_ACK);
  emit (self, out, BMS_YMODEM_CRC);
}

/* ---- bytes ------------------------------------------------------------ */

static void
menu_byte (BmsBootloader *self, guint8 c, GByteArray *out)
{
  if (c == 0x20)
    {
      if (!self->faults.no_segment)
        emit (self, out, self->segment);
    }
  else if (c == 0x31)
    {
      to_menu (self);
      self->state = BMS_BOOTLOADER_WAIT_FIRST;
      self->c_timer = 0;
      if (!self->faults.no_c)
        emit (self, out, BMS_YMODEM_CRC);
    }
}

static void
start_packet (BmsBootloader *self, guint8 c, GByteArray *out)
{
  self->pkt_need = c == BMS_YMODEM_SOH ? 133 : 1029;
  self->pkt_idle = 0;
  if (fires (&self->faults.silent_at_block, self->expected))
    self->silent = TRUE;
  self->pkt_corrupt = fires (&self->faults.corrupt_block, self->expected);
  self->pkt_drop = fires (&self->faults.drop_byte_block, self->expected);
  g_byte_array_append (self->pkt, &c, 1);
}

static void
packet_byte (BmsBootloader *self, guint8 c, GByteArray *out)
{
  if (self->pkt->len == FAULT_BYTE_OFFSET)
    {
      if (self->pkt_drop)
        {
          self->pkt_drop = FALSE;
          return;
        }
      if (self->pkt_corrupt)
        c ^= 0x04;
    }
  self->pkt_idle = 0;
  g_byte_array_append (self->pkt, &c, 1);
  if (self->pkt->len < self->pkt_need)
    return;
  on_packet (self, out);
  g_byte_array_set_size (self->pkt, 0);
}

/* The body of a packet: as many bytes as it still needs, stopping at the
 * byte a fault hits so packet_byte () sees it alone. Returns bytes used. */
static gsize
packet_run (BmsBootloader *self, const guint8 *data, gsize len, GByteArray *out)
{
  gsize n = MIN (len, self->pkt_need - self->pkt->len);

  if (self->pkt->len == FAULT_BYTE_OFFSET)
    {
      packet_byte (self, data[0], out);
      return 1;
    }
  if (self->pkt->len < FAULT_BYTE_OFFSET)
    n = MIN (n, FAULT_BYTE_OFFSET - self->pkt->len);
  self->pkt_idle = 0;
  g_byte_array_append (self->pkt, data, (guint) n);
  if (self->pkt->len == self->pkt_need)
    {
      on_packet (self, out);
      g_byte_array_set_size (self->pkt, 0);
    }
  return n;
}

static void
transfer_byte (BmsBootloader *self, guint8 c, GByteArray *out)
{
  if (self->purging)
    {
      self->purge_idle = 0;
      return;
    }
  if (self->pkt->len > 0)
    {
      packet_byte (self, c, out);
      return;
    }
  if (c == BMS_YMODEM_CAN)
    {
      if (self->prev_can)
        to_menu (self);
      else
        self->prev_can = TRUE;
      return;
    }
  self->prev_can = FALSE;
  if (c == BMS_YMODEM_SOH || c == BMS_YMODEM_STX)
    start_packet (self, c, out);
  else if (c == BMS_YMODEM_EOT)
    on_eot (self, out);
  else if (self->state == BMS_BOOTLOADER_WAIT_FIRST && (c == 0x20 || c == 0x31))
    {
      /* A sender starting over (--bootloader): back to the menu. */
      to_menu (self);
      menu_byte (self, c, out);
    }
}

void
bms_bootloader_receive (BmsBootloader *self, const guint8 *data, gsize len, GByteArray *out)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (out != NULL);

  g_byte_array_append (out, self->pending->data, self->pending->len);
  g_byte_array_set_size (self->pending, 0);
  for (gsize i = 0; i < len; i++)
    {
      self->idle = 0;
      if (self->state != BMS_BOOTLOADER_MENU && self->state != BMS_BOOTLOADER_FINISHED
          && !self->purging && self->pkt->len > 0)
        {
          i += packet_run (self, data + i, len - i, out) - 1;
          continue;
        }
      switch (self->state)
        {
        case BMS_BOOTLOADER_MENU:
          menu_byte (self, data[i], out);
          break;
        case BMS_BOOTLOADER_FINISHED:
          break;
        default:
          transfer_byte (self, data[i], out);
          break;
        }
    }
}

void
bms_bootloader_tick (BmsBootloader *self, double dt_s)
{
  g_return_if_fail (self != NULL);

  if (self->state == BMS_BOOTLOADER_MENU || self->state == BMS_BOOTLOADER_FINISHED)
    return;
  if (self->purging)
    {
      self->purge_idle += dt_s;
      if (self->purge_idle >= PURGE_QUIET_S)
        {
          self->purging = FALSE;
          emit (self, self->pending, BMS_YMODEM_NAK);
        }
      return;
    }
  if (self->state == BMS_BOOTLOADER_WAIT_FIRST && self->pkt->len == 0)
    {
      self->c_timer += dt_s;
      if (self->c_timer >= C_INTERVAL_S)
        {
          self->c_timer = 0;
          if (!self->faults.no_c)
            emit (self, self->pending, BMS_YMODEM_CRC);
        }
      return;
    }
  if (self->pkt->len > 0)
    {
      self->pkt_idle += dt_s;
      if (self->pkt_idle >= BLOCK_TIMEOUT_S)
        {
          g_byte_array_set_size (self->pkt, 0);
          emit (self, self->pending, BMS_YMODEM_NAK);
        }
      return;
    }
  self->idle += dt_s;
  if (self->idle >= TRANSFER_IDLE_S)
    to_menu (self);
}
