/* bms-format.h — numbers as the user asked to see them (Preferences units) */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* "3.301 V" or "3301 mV" by the voltage-unit setting (settings may be NULL). */
char *bms_format_cell_voltage (GSettings *settings, double volts);
/* "25 °C" or "77 °F" by the temperature-unit setting. */
char *bms_format_temperature  (GSettings *settings, double celsius);
/* "5 min", "1 h 02 min" or "2 d 1 h 02 min": to the minute, so a label
 * showing it changes once a minute, not every second. */
char *bms_format_duration     (gint64 seconds);

/* The summary's figures, two decimals as the board sends them. */
/* The pack voltage: the board's, or the sum of the cells when the board's
 * 16-bit field is stuck at its 655.35 V ceiling (no 0xED) and the cells add
 * up to more; *summed (may be NULL) says which. "846.34 V". */
char *bms_format_pack_voltage (double volts, double cell_average, guint cell_count,
                               gboolean *summed);
/* "12.34 A", "−5.00 A" with a real minus sign; never "−0.00 A". */
char *bms_format_current      (double amps);
/* "523 W" below a kilowatt, then "12.35 kW". */
char *bms_format_power        (double watts);

G_END_DECLS
