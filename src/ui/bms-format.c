/* bms-format.c — numbers as the user asked to see them (Preferences units) */
#include "config.h"

#include <math.h>
#include <glib/gi18n.h>

#include "bms-format.h"

static gboolean
setting_is (GSettings  *settings,
            const char *key,
            const char *nick)
{
  g_autofree char *value = NULL;

  if (settings == NULL)
    return FALSE;
  value = g_settings_get_string (settings, key);
  return g_str_equal (value, nick);
}

char *
bms_format_cell_voltage (GSettings *settings,
                         double     volts)
{
  if (setting_is (settings, "voltage-unit", "millivolt"))
    return g_strdup_printf ("%.0f mV", volts * 1000.0);
  return g_strdup_printf ("%.3f V", volts);
}

char *
bms_format_temperature (GSettings *settings,
                        double     celsius)
{
  if (isnan (celsius))
    return g_strdup ("—");
  if (setting_is (settings, "temperature-unit", "fahrenheit"))
    return g_strdup_printf ("%.0f °F", celsius * 9.0 / 5.0 + 32.0);
  return g_strdup_printf ("%.0f °C", celsius);
}

char *
bms_format_duration (gint64 seconds)
{
  gint64 days = seconds / 86400;
  int hours = (int) (seconds % 86400 / 3600);
  int minutes = (int) (seconds % 3600 / 60);

  if (days > 0)
    /* TRANSLATORS: time connected: days, hours, minutes */
    return g_strdup_printf (_("%d d %d h %02d min"), (int) days, hours, minutes);
  if (hours > 0)
    /* TRANSLATORS: time connected: hours, minutes */
    return g_strdup_printf (_("%d h %02d min"), hours, minutes);
  /* TRANSLATORS: time connected: minutes */
  return g_strdup_printf (_("%d min"), minutes);
}

/* 0x83 counts 0.01 V in 16 bits. */
#define PACK_VOLTAGE_CEILING 655.35

char *
bms_format_pack_voltage (double    volts,
                         double    cell_average,
                         guint     cell_count,
                         gboolean *summed)
{
  double sum = cell_average * cell_count;
  gboolean use_sum = fabs (volts - PACK_VOLTAGE_CEILING) < 0.005 && sum > volts;

  if (summed != NULL)
    *summed = use_sum;
  return g_strdup_printf ("%.2f V", use_sum ? sum : volts);
}

/* A real minus sign, read from across the room; none when the figure
 * rounds to zero. */
static const char *
sign (double value,
      double unit)
{
  return round (value / unit) < 0 ? "−" : "";
}

char *
bms_format_current (double amps)
{
  return g_strdup_printf ("%s%.2f A", sign (amps, 0.01), fabs (amps));
}

char *
bms_format_power (double watts)
{
  if (fabs (watts) >= 999.5)
    return g_strdup_printf ("%s%.2f kW", sign (watts, 10), fabs (watts) / 1000);
  return g_strdup_printf ("%s%.0f W", sign (watts, 1), fabs (watts));
}
