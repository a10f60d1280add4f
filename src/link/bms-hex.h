/* bms-hex.h — hex dumps of NW frames, one frame per line: what
 * `packwatch-cli decode` reads, `packwatch-cli capture` writes and
 * `packwatch-sim --replay` serves.
 */
#pragma once

#include <glib.h>
#include "bms-frame.h"

G_BEGIN_DECLS

#define BMS_HEX_ERROR (bms_hex_error_quark ())
GQuark bms_hex_error_quark (void);
typedef enum {
  BMS_HEX_ERROR_SYNTAX,   /* not hex (the message names the column) */
  BMS_HEX_ERROR_FRAME,    /* hex, but not a valid frame */
  BMS_HEX_ERROR_NO_FRAME, /* a file without any frame */
  BMS_HEX_ERROR_IO,       /* the file cannot be read */
} BmsHexError;

/* One line of a hex dump: bytes as two hex digits, separated by spaces,
 * colons, commas, semicolons or nothing, each optionally prefixed with 0x.
 * A leading "<<<" or ">>>" direction marker and anything after '#' are
 * ignored. Appends the bytes to out (none for a blank or comment line);
 * returns FALSE with BMS_HEX_ERROR_SYNTAX naming the column on bad input. */
gboolean   bms_hex_parse_line  (const char *line, GByteArray *out, GError **error);

/* A frame of a hex file and the line (1-based) it was on. */
typedef struct {
  BmsFrame *frame;
  guint     line;
} BmsHexFrame;

/* Every frame of a hex file, in order (an array of BmsHexFrame; free with
 * g_array_unref). A line that is not a valid frame, an unreadable file or
 * one without any frame is an error whose message starts with "PATH:LINE:"
 * or "PATH:". */
GArray    *bms_hex_read_frames (const char *path, GError **error);

/* The frame as one line of hex: "4E 57 01 1B …" (no newline). */
char      *bms_hex_format      (const guint8 *data, gsize len);

G_END_DECLS
