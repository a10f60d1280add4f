/* bms-format.h — numbers as the user asked to see them (Preferences units) */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* "3.301 V" or "3301 mV" by the voltage-unit setting (settings may be NULL). */
char *bms_format_cell_voltage (GSettings *settings, double volts);
/* "25 °C" or "77 °F" by the temperature-unit setting. */
char *bms_format_temperature  (GSettings *settings, double celsius);
/* "01:02:03", or "2 d 01:02:03" past a day. */
char *bms_format_duration     (gint64 seconds);

G_END_DECLS
