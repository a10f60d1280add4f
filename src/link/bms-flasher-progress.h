/* bms-flasher-progress.h — the steps and progress of a firmware update as
 * plain data: what the Update page shows while BmsConnection drives the
 * flasher (bms-flasher.h, which the ui may not include).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  BMS_FLASHER_STEP_IDLE = 0,
  BMS_FLASHER_STEP_CHECK_FILE = 1,
  BMS_FLASHER_STEP_ENTER_BOOTLOADER = 2,
  BMS_FLASHER_STEP_REOPEN = 3,
  BMS_FLASHER_STEP_SEGMENT = 4,
  BMS_FLASHER_STEP_MENU = 5,
  BMS_FLASHER_STEP_WAIT_C = 6,
  BMS_FLASHER_STEP_TRANSFER = 7,
  BMS_FLASHER_STEP_CONFIRM = 8,
  BMS_FLASHER_STEP_DONE = 9,
} BmsFlasherStep;

const char *bms_flasher_step_to_string (BmsFlasherStep step);

/* Error code = the BmsFlasherStep that failed; the message starts with
 * "step N (name): ". A cancellation is G_IO_ERROR_CANCELLED, also naming
 * the step. */
#define BMS_FLASHER_ERROR (bms_flasher_error_quark ())
GQuark bms_flasher_error_quark (void);

#define BMS_FLASHER_DEFAULT_MAX_SIZE (256 * 1024)
#define BMS_FLASHER_BOOTLOADER_BAUD  9600

typedef struct {
  BmsFlasherStep step;
  const char    *step_name;
  const char    *detail;        /* e.g. "segment 0x01", "block 12/40"; may be NULL */
  guint64        bytes_sent;    /* acknowledged file bytes */
  guint64        bytes_total;
  double         rate_bps;      /* bytes per second during the transfer */
  double         elapsed_s;     /* since the update started */
  double         remaining_s;   /* estimate; < 0 when unknown */
  guint          retries;
} BmsFlasherProgress;

G_END_DECLS
