/* bms-flasher.h — firmware update that never bricks a board.
 *
 * The vendor's flow (docs/firmware-update.md), one numbered step each:
 *   1 check the file (not empty, fits the flash budget, readable; size, CRC)
 *     and the image (a Cortex-M vector table: bms_firmware_check_image)
 *   2 send "enter upgrade" (field 0xBD = 1) or "restart" (0xBB = 1)
 *   3 reopen the line at the bootloader's 9600 baud
 *   4 send 0x20 → the bootloader answers its segment number
 *   5 send 0x31 (menu key "1": download)
 *   6 wait for 'C'
 *   7 YMODEM-1K transfer (BmsYmodemSender)
 *   8 back at the board's baud, read the software version (0xB7) and
 *     compare it with the version marker found in the image
 * Steps 2–8 run on the session's worker through bms_session_run_exclusive,
 * so the session must be unlocked (password) first. A flasher made with
 * bms_flasher_new_for_transport starts at step 4 ("--bootloader": a board
 * already waiting in its bootloader, which answers no NW frames and so
 * cannot be unlocked).
 *
 * Every failure names its step; after any failure past step 3 the board is
 * still in its bootloader and a --bootloader run finishes the job.
 */
#pragma once

/* The widgets reach a board only through the connection controller: the ui
 * library is compiled with BMS_COMPILATION_UI (src/meson.build). */
#ifdef BMS_COMPILATION_UI
#error "src/ui may not use the session, transports or the flasher: go through BmsConnection (src/model/bms-connection.h)"
#endif

#include <gio/gio.h>
#include "bms-session.h"
#include "bms-transport.h"
#include "bms-firmware.h"
#include "bms-ymodem.h"
#include "bms-flasher-progress.h"

G_BEGIN_DECLS

#define BMS_TYPE_FLASHER (bms_flasher_get_type ())
G_DECLARE_FINAL_TYPE (BmsFlasher, bms_flasher, BMS, FLASHER, GObject)

/* Full flow, steps 1–8, over an (unlocked) session. */
BmsFlasher *bms_flasher_new               (BmsSession   *session);
/* Steps 1, 4–8 directly on an open transport (board already in its
 * bootloader; nobody else may use the transport meanwhile). */
BmsFlasher *bms_flasher_new_for_transport (BmsTransport *transport,
                                           guint         address);

void        bms_flasher_set_file          (BmsFlasher *self, const char *path);
void        bms_flasher_set_max_size      (BmsFlasher *self, guint64 max_size);
/* Flash an image that fails bms_firmware_check_image anyway (a deliberate
 * choice of the user; the file checks still apply). Default off. */
void        bms_flasher_set_force         (BmsFlasher *self, gboolean force);
/* Step 2 with restart (0xBB) instead of enter-upgrade (0xBD). */
void        bms_flasher_set_use_restart   (BmsFlasher *self, gboolean use_restart);
/* The board's own baud, used again for step 8 (default: the session's
 * baud, or 9600 for bms_flasher_new_for_transport). */
void        bms_flasher_set_board_baud    (BmsFlasher *self, guint baud);
/* Step 8 on/off (default on). */
void        bms_flasher_set_confirm       (BmsFlasher *self, gboolean confirm);
/* Tests: virtual clock for every wait (default: monotonic time). */
void        bms_flasher_set_clock         (BmsFlasher *self, BmsClockFunc clock,
                                           gpointer user_data);

/* Called on the thread that runs the update, after every change. */
typedef void (*BmsFlasherProgressFunc) (BmsFlasher               *self,
                                        const BmsFlasherProgress *progress,
                                        gpointer                  user_data);
void        bms_flasher_set_progress_func (BmsFlasher *self, BmsFlasherProgressFunc func,
                                           gpointer user_data, GDestroyNotify destroy);

/* Blocking (any thread but the GTK main thread). */
gboolean    bms_flasher_run               (BmsFlasher *self, GCancellable *cancellable,
                                           GError **error);
/* Runs in a thread; the "progress" signal (BmsFlasherProgress *) is emitted
 * in the calling thread's main context. */
void        bms_flasher_run_async         (BmsFlasher *self, GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
gboolean    bms_flasher_run_finish        (BmsFlasher *self, GAsyncResult *result,
                                           GError **error);

/* After a run. */
BmsFlasherStep bms_flasher_get_step       (BmsFlasher *self); /* failed or last step */
guint8      bms_flasher_get_segment       (BmsFlasher *self);
guint32     bms_flasher_get_file_crc32    (BmsFlasher *self);
guint64     bms_flasher_get_file_size     (BmsFlasher *self);
const char *bms_flasher_get_file_version  (BmsFlasher *self); /* from the image */
const char *bms_flasher_get_board_version (BmsFlasher *self); /* read in step 8 */
/* Why the image check failed when forced past it; NULL when it passed. */
const char *bms_flasher_get_image_problem (BmsFlasher *self);

/* Step 1 on its own: bms_firmware_check_file () (bms-firmware.h). */

G_END_DECLS
