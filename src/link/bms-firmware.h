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

/* The application image the vendor's bootloader (an ST-style IAP menu)
 * takes: a Cortex-M vector table at offset 0. Word 0 (little-endian) is the
 * initial stack pointer, in SRAM; word 1 the reset handler, a Thumb address
 * (odd) inside the image once it sits at the application base, just after
 * the bootloader. docs/firmware-update.md has the layout. */
#define BMS_FIRMWARE_APP_BASE   0x08004000u
#define BMS_FIRMWARE_SRAM_BASE  0x20000000u
#define BMS_FIRMWARE_SRAM_MAX   (512u * 1024u) /* larger than any STM32/GD32 of this class */

/* Judges an image before anything is sent: not empty, at most max_size
 * bytes (the application area), a vector table as above. The error
 * (G_IO_ERROR_INVALID_DATA, or G_IO_ERROR_NO_SPACE when too large) says
 * what is wrong, e.g. "not a firmware image: the first word 0x474E5089 is
 * not a stack pointer in SRAM (0x20000000…0x20080000)". */
gboolean bms_firmware_check_image  (const guint8 *image,
                                    gsize         len,
                                    guint64       max_size,
                                    GError      **error);

/* Writes a valid vector table into the first 8 bytes of image (len >= 8):
 * for the simulator's demo image and the tests' generated images. */
void     bms_firmware_stamp_vectors (guint8 *image, gsize len);

/* CRC-32 (IEEE 802.3, as zlib's crc32 and `rhash --crc32`). */
guint32  bms_crc32                 (const guint8 *data, gsize len);

/* The firmware's version: the ASCII marker "PWFW-VERSION=" followed by up
 * to 15 printable characters (0x20–0x7E; trailing spaces dropped).
 * "unknown" without the marker. New string. */
#define BMS_FIRMWARE_VERSION_MARKER "PWFW-VERSION="
char    *bms_firmware_find_version (const guint8 *image, gsize len);

G_END_DECLS
