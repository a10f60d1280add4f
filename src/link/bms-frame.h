/* bms-frame.h — the NW frame codec.
 *
 * 4E 57 | length u16 | terminal u32 | command | source | transport | info … |
 * record u32 | 68 | 00 00 | sum u16   (see docs/protocol.md)
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BMS_FRAME_START0       0x4E
#define BMS_FRAME_START1       0x57
#define BMS_FRAME_END          0x68
#define BMS_FRAME_OVERHEAD     20     /* a frame with an empty info field */
#define BMS_FRAME_MAX_SIZE     4096   /* bigger frames are rejected as bad length */

typedef enum {
  BMS_CMD_ACTIVATE  = 0x01,
  BMS_CMD_WRITE     = 0x02,
  BMS_CMD_READ      = 0x03,
  BMS_CMD_PASSWORD  = 0x05,
  BMS_CMD_READ_ALL  = 0x06,
} BmsCommand;

typedef enum {
  BMS_SOURCE_BMS       = 0,
  BMS_SOURCE_BLUETOOTH = 1,
  BMS_SOURCE_GPS       = 2,
  BMS_SOURCE_PC        = 3,
} BmsSource;

typedef enum {
  BMS_TRANSPORT_REQUEST = 0,
  BMS_TRANSPORT_REPLY   = 1,
  BMS_TRANSPORT_UPLOAD  = 2,
} BmsTransportType;

/* Result byte of a write or password reply (Packwatch convention, see
 * docs/protocol.md): info = id, result. */
typedef enum {
  BMS_RESULT_OK            = 0,
  BMS_RESULT_DENIED        = 1,  /* not authenticated / wrong password */
  BMS_RESULT_RANGE         = 2,
  BMS_RESULT_READ_ONLY     = 3,
  BMS_RESULT_UNKNOWN_FIELD = 4,
} BmsResult;

typedef struct {
  guint32  terminal;
  guint8   command;
  guint8   source;
  guint8   transport;
  guint8  *info;        /* owned */
  gsize    info_len;
  guint32  record;
} BmsFrame;

#define BMS_FRAME_ERROR (bms_frame_error_quark ())
GQuark bms_frame_error_quark (void);
typedef enum {
  BMS_FRAME_ERROR_BAD_START,     /* does not begin with 4E 57 */
  BMS_FRAME_ERROR_BAD_LENGTH,    /* length field too small or too large */
  BMS_FRAME_ERROR_TRUNCATED,     /* fewer bytes than the length field says */
  BMS_FRAME_ERROR_NO_END_MARKER, /* 0x68 missing before the checksum */
  BMS_FRAME_ERROR_CHECKSUM,      /* checksum mismatch */
  BMS_FRAME_ERROR_BAD_INFO,      /* info field does not parse (unknown id, short value) */
} BmsFrameError;

BmsFrame *bms_frame_new       (guint8        command,
                               guint8        source,
                               guint8        transport,
                               const guint8 *info,
                               gsize         info_len);
void      bms_frame_free      (BmsFrame     *frame);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BmsFrame, bms_frame_free)

/* Appends the encoded frame to out. */
void      bms_frame_encode    (const BmsFrame *frame,
                               GByteArray     *out);
/* Decodes exactly one frame occupying all of data[0..len). */
BmsFrame *bms_frame_decode    (const guint8 *data,
                               gsize         len,
                               GError      **error);
guint16   bms_frame_checksum  (const guint8 *data,
                               gsize         len);

/* Ready-made requests from the PC (source 3, transport 0). */
GByteArray *bms_request_read_all (guint32 terminal);
GByteArray *bms_request_read_one (guint32 terminal, guint8 id);
GByteArray *bms_request_activate (guint32 terminal);
GByteArray *bms_request_password (guint32 terminal, const char *password);
/* value: the field's wire bytes (bms_field_encode_raw or ASCII). */
GByteArray *bms_request_write    (guint32 terminal, guint8 id,
                                  const guint8 *value, gsize value_len);

/* Streaming parser: feed bytes in any chunking; complete frames and
 * rejected candidates come out through the callbacks, in stream order.
 * Garbage between frames is skipped (and counted). */
typedef struct _BmsFrameParser BmsFrameParser;
typedef void (*BmsFrameFunc)  (BmsFrame *frame, gpointer user_data); /* takes ownership */
typedef void (*BmsFrameErrorFunc) (const GError *error, gpointer user_data);

BmsFrameParser *bms_frame_parser_new     (BmsFrameFunc      on_frame,
                                          BmsFrameErrorFunc on_error,
                                          gpointer          user_data);
void            bms_frame_parser_free    (BmsFrameParser   *parser);
void            bms_frame_parser_push    (BmsFrameParser   *parser,
                                          const guint8     *data,
                                          gsize             len);
/* End of input: a partial frame in the buffer is reported as truncated. */
void            bms_frame_parser_finish  (BmsFrameParser   *parser);
void            bms_frame_parser_reset   (BmsFrameParser   *parser);
gsize           bms_frame_parser_skipped (BmsFrameParser   *parser);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BmsFrameParser, bms_frame_parser_free)

G_END_DECLS
