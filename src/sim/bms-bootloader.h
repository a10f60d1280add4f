/* bms-bootloader.h — the simulated board's bootloader (firmware update).
 *
 * Behaves like the vendor's bootloader (see docs/firmware-update.md):
 *   0x20          → answers one byte, the segment number
 *   0x31 ('1')    → answers 'C' and repeats 'C' every second until the
 *                   first YMODEM block arrives
 *   YMODEM-1K/CRC → block 0 (name, size), data blocks with CRC-16/XMODEM,
 *                   NAK on a bad CRC or complement (sent once the line has
 *                   been quiet for 0.1 s, so a receiver out of step with
 *                   the sender resynchronises), on any block number
 *                   but the expected one (like ST's bootloader: a duplicate
 *                   is NAKed too), NAK on a block cut short (1 s silence),
 *                   EOT answered NAK then ACK, batch closed by an empty
 *                   block 0. An image larger than flash_size (or empty) is
 *                   refused with CAN CAN. CAN CAN from the sender aborts.
 * After the batch closes with a complete image the board "restarts":
 * bms_bootloader_finished () turns TRUE, the image and the version string
 * found in it (ASCII marker "PWFW-VERSION=" followed by up to 15 printable
 * characters; "unknown" without the marker) become available. Any abort
 * leaves it in its menu, waiting for 0x20/0x31 again.
 *
 * Not thread-safe; one owner drives it. Time only advances through
 * bms_bootloader_tick (), so tests can run it on a virtual clock.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BmsBootloader BmsBootloader;

typedef enum {
  BMS_BOOTLOADER_MENU,        /* waiting for 0x20 / 0x31 */
  BMS_BOOTLOADER_WAIT_FIRST,  /* sent 'C', waiting for block 0 */
  BMS_BOOTLOADER_RECEIVING,   /* inside the YMODEM transfer */
  BMS_BOOTLOADER_WAIT_CLOSE,  /* EOT acknowledged, waiting for the empty block 0 */
  BMS_BOOTLOADER_FINISHED,    /* image accepted, board restarted */
} BmsBootloaderState;

/* Fault injection. Block numbers count the blocks of one transfer without
 * wrapping: 0 is the header block, 1..n the data blocks. -1 (the default
 * from bms_bootloader_faults_init) switches a knob off. Each fault fires
 * once, on the first transmission of that block, unless said otherwise. */
typedef struct {
  gint     corrupt_block;    /* flip one bit in one byte of this block on arrival */
  gint     drop_byte_block;  /* lose one byte of this block on arrival */
  gint     lose_ack_block;   /* the ACK to this block never reaches the PC */
  gint     lose_eot_answer;  /* 1: the NAK to the first EOT is lost,
                                2: the ACK to the second EOT is lost */
  gint     cancel_at_block;  /* answer this block with CAN CAN (and abort) */
  gint     silent_at_block;  /* from this block on, answer nothing (forever) */
  gboolean no_c;             /* never send 'C' after 0x31 */
  gboolean no_segment;       /* never answer 0x20 (e.g. still booting) */
} BmsBootloaderFaults;

void           bms_bootloader_faults_init  (BmsBootloaderFaults *faults);

BmsBootloader *bms_bootloader_new          (guint          flash_size);
void           bms_bootloader_free         (BmsBootloader *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BmsBootloader, bms_bootloader_free)

/* Bytes from the line; the answer (if any) is appended to out. Bytes queued
 * by bms_bootloader_tick () (the repeated 'C', a NAK after a block was cut
 * short) come out here too: call with len 0 to collect them. */
void           bms_bootloader_receive      (BmsBootloader *self,
                                            const guint8  *data,
                                            gsize          len,
                                            GByteArray    *out);
/* Advance the bootloader's clock by dt_s seconds. */
void           bms_bootloader_tick         (BmsBootloader *self,
                                            double         dt_s);
/* TRUE once a complete, CRC-checked image was accepted and the batch
 * closed: the board now runs the new firmware. */
gboolean       bms_bootloader_finished     (BmsBootloader *self);
/* The accepted image (exactly the size given in block 0); NULL before. */
GBytes        *bms_bootloader_get_image    (BmsBootloader *self);
/* Version string of the accepted image ("unknown" without the marker);
 * NULL while no image has been accepted. */
const char    *bms_bootloader_get_version  (BmsBootloader *self);

/* Extras for the simulator and tests. */
void           bms_bootloader_set_faults   (BmsBootloader *self,
                                            const BmsBootloaderFaults *faults);
void           bms_bootloader_set_segment  (BmsBootloader *self,
                                            guint8         segment); /* default 0x01 */
BmsBootloaderState bms_bootloader_get_state (BmsBootloader *self);
/* Back to the menu, image kept (a board restarted into its bootloader). */
void           bms_bootloader_reset        (BmsBootloader *self);

/* The version marker itself is parsed by bms_firmware_find_version ()
 * (src/link/bms-firmware.h), shared with the flasher's confirmation step. */

G_END_DECLS
