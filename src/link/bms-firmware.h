/* bms-firmware.h — firmware image helpers shared by the flasher (link) and
 * the simulated bootloader (sim): the file check of update step 1, the
 * checksum shown to the user and the version marker.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Reads a firmware image after checking it: a readable regular file, not
 * empty, at most max_size bytes. Errors (G_IO_ERROR) say what was wrong and
 * what to do. crc32_out (optional) gets the file's CRC-32. */
GBytes  *bms_firmware_check_file   (const char *path,
                                    guint64     max_size,
                                    guint32    *crc32_out,
                                    GError    **error);

/* CRC-32 (IEEE 802.3, as zlib's crc32 and `rhash --crc32`). */
guint32  bms_crc32                 (const guint8 *data, gsize len);

/* The firmware's version: the ASCII marker "PWFW-VERSION=" followed by up
 * to 15 printable characters (0x20–0x7E; trailing spaces dropped).
 * "unknown" without the marker. New string. */
#define BMS_FIRMWARE_VERSION_MARKER "PWFW-VERSION="
char    *bms_firmware_find_version (const guint8 *image, gsize len);

G_END_DECLS
