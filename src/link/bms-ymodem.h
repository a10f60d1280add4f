/* bms-ymodem.h — YMODEM-1K sender (CRC-16), as a state machine without I/O.
 *
 * The state machine only reacts to events — bytes received from the line,
 * an answer timeout, a cancellation — and produces bytes to send and the
 * time to wait for the next answer. bms_ymodem_sender_run () is the thin
 * blocking driver over a BmsTransport; tests drive the machine directly,
 * on a virtual clock.
 *
 * Protocol (docs/firmware-update.md): the receiver's 'C' starts block 0
 * (file name NUL size in decimal), data goes in 1024-byte STX blocks with
 * CRC-16/XMODEM, the last one padded with 0x1A; EOT is answered NAK then
 * ACK (a plain ACK is accepted too); an empty block 0 closes the batch.
 * Every block is retried up to max-retries times. Receivers that NAK a
 * duplicate block (ST's bootloader does, after a lost ACK) are handled by
 * probing the next block once an answer got lost. CAN CAN from the
 * receiver aborts; a failure or cancellation sends CAN CAN so the receiver
 * returns to its menu.
 */
#pragma once

#include <gio/gio.h>
#include "bms-transport.h"

G_BEGIN_DECLS

#define BMS_YMODEM_SOH 0x01
#define BMS_YMODEM_STX 0x02
#define BMS_YMODEM_EOT 0x04
#define BMS_YMODEM_ACK 0x06
#define BMS_YMODEM_NAK 0x15
#define BMS_YMODEM_CAN 0x18
#define BMS_YMODEM_CRC 0x43  /* 'C' */
#define BMS_YMODEM_PAD 0x1A

#define BMS_YMODEM_BLOCK_SIZE    1024
#define BMS_YMODEM_DEFAULT_RETRIES 10

/* CRC-16/XMODEM (poly 0x1021, init 0, no reflection): "123456789" → 0x31C3. */
guint16 bms_crc16_xmodem        (const guint8 *data, gsize len);
guint16 bms_crc16_xmodem_update (guint16 crc, const guint8 *data, gsize len);

#define BMS_YMODEM_ERROR (bms_ymodem_error_quark ())
GQuark bms_ymodem_error_quark (void);
typedef enum {
  BMS_YMODEM_ERROR_NO_START,       /* the receiver never asked with 'C' */
  BMS_YMODEM_ERROR_RETRIES,        /* a block failed max-retries times */
  BMS_YMODEM_ERROR_REMOTE_CANCEL,  /* the receiver sent CAN CAN */
  BMS_YMODEM_ERROR_CANCELLED,      /* cancelled here (CAN CAN was sent) */
  BMS_YMODEM_ERROR_IO,             /* the transport failed */
} BmsYmodemError;

typedef enum {
  BMS_YMODEM_STATE_WAIT_START,  /* waiting for the receiver's first 'C' */
  BMS_YMODEM_STATE_HEADER,      /* block 0 sent, waiting for ACK */
  BMS_YMODEM_STATE_WAIT_DATA,   /* block 0 acknowledged, waiting for 'C' */
  BMS_YMODEM_STATE_DATA,        /* a data block sent, waiting for ACK */
  BMS_YMODEM_STATE_EOT,         /* EOT sent */
  BMS_YMODEM_STATE_WAIT_CLOSE,  /* EOT acknowledged, waiting for 'C' */
  BMS_YMODEM_STATE_CLOSE,       /* empty block 0 sent */
  BMS_YMODEM_STATE_DONE,
  BMS_YMODEM_STATE_FAILED,
} BmsYmodemState;

typedef struct {
  BmsYmodemState state;
  guint64 bytes_total;      /* file size */
  guint64 bytes_acked;      /* file bytes the receiver acknowledged */
  guint   block;            /* block in flight: 0 header, 1..n_blocks data */
  guint   n_blocks;
  guint   retries;          /* retransmissions so far, all blocks */
  guint   timeouts;         /* answers that never came */
} BmsYmodemProgress;

typedef struct _BmsYmodemSender BmsYmodemSender;

BmsYmodemSender *bms_ymodem_sender_new   (const char *file_name, GBytes *data);
void             bms_ymodem_sender_free  (BmsYmodemSender *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BmsYmodemSender, bms_ymodem_sender_free)

/* Settings (before the first event). */
void  bms_ymodem_sender_set_max_retries    (BmsYmodemSender *self, guint retries);
/* How long to wait for an answer once the last byte is on the wire
 * (default 3000 ms; must exceed the receiver's own block timeout). */
void  bms_ymodem_sender_set_answer_timeout (BmsYmodemSender *self, guint ms);
/* How long to wait for the first 'C' (default 10000 ms). */
void  bms_ymodem_sender_set_start_timeout  (BmsYmodemSender *self, guint ms);
/* Line speed, to add each packet's wire time to the answer timeout
 * (0: no wire time, e.g. in-process). */
void  bms_ymodem_sender_set_baud           (BmsYmodemSender *self, guint baud);

/* Events. */
void  bms_ymodem_sender_feed     (BmsYmodemSender *self, const guint8 *data, gsize len);
/* get_timeout_ms () passed since the last output without an answer. */
void  bms_ymodem_sender_timeout  (BmsYmodemSender *self);
/* Cancel from this side: queues CAN CAN, ends in FAILED/CANCELLED. */
void  bms_ymodem_sender_cancel   (BmsYmodemSender *self);

/* Outputs. Appends the bytes to send now to out; TRUE if there were any.
 * The answer timeout restarts whenever output is taken. */
gboolean       bms_ymodem_sender_take_output    (BmsYmodemSender *self, GByteArray *out);
guint          bms_ymodem_sender_get_timeout_ms (BmsYmodemSender *self);
BmsYmodemState bms_ymodem_sender_get_state      (BmsYmodemSender *self);
gboolean       bms_ymodem_sender_is_finished    (BmsYmodemSender *self);
void           bms_ymodem_sender_get_progress   (BmsYmodemSender *self,
                                                 BmsYmodemProgress *out);
/* TRUE when done; otherwise FALSE and the reason (once finished). */
gboolean       bms_ymodem_sender_get_result     (BmsYmodemSender *self, GError **error);
/* TRUE if the closing block 0 was never acknowledged (the file itself
 * was): the caller confirms another way (the firmware version). */
gboolean       bms_ymodem_sender_close_unconfirmed (BmsYmodemSender *self);

const char    *bms_ymodem_state_to_string       (BmsYmodemState state);

/* The driver's clock in µs (default g_get_monotonic_time); tests plug in a
 * virtual clock that their transport advances on every read. */
typedef gint64 (*BmsClockFunc) (gpointer user_data);
void  bms_ymodem_sender_set_clock          (BmsYmodemSender *self,
                                            BmsClockFunc     clock,
                                            gpointer         user_data);

/* Blocking driver: runs the machine over transport until done, failed or
 * cancelled. progress is called (on this thread) after every change. */
typedef void (*BmsYmodemProgressFunc) (const BmsYmodemProgress *progress,
                                       gpointer                 user_data);
gboolean bms_ymodem_sender_run (BmsYmodemSender       *self,
                                BmsTransport          *transport,
                                BmsYmodemProgressFunc  progress,
                                gpointer               user_data,
                                GCancellable          *cancellable,
                                GError               **error);

G_END_DECLS
