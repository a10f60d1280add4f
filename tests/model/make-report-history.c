/* make-report-history.c — a history for the service report's tests and
 * pictures: the simulated board (sim:// or, with --modules 16,
 * sim://master, device id PWSIM001) cycling over the hours before now,
 * two alarm events, a parameter write and a firmware update.
 *
 *   make-report-history DB [--modules N] [--hours H] [--step S]
 *                          [--mark-cell N:MV] [--device-name NAME] [--device-id ID]
 *
 * --mark-cell holds one cell at a known voltage in every sample, so a test
 * can look for its value in the report. Prints nothing; exits 1 on error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "bms-device.h"
#include "bms-field.h"
#include "bms-history.h"
#include "bms-sim.h"

typedef struct {
  int     modules;
  double  hours;
  double  step;
  char   *mark;
  char   *name;
  char   *device_id;
  guint   mark_cell;
  guint   mark_mv;
} Options;

static gboolean
parse (int *argc, char ***argv, Options *o, GError **error)
{
  const GOptionEntry entries[] = {
    { "modules", 0, 0, G_OPTION_ARG_INT, &o->modules, "Modules of 16 cells (1–16)", "N" },
    { "hours", 0, 0, G_OPTION_ARG_DOUBLE, &o->hours, "Hours of history before now", "H" },
    { "step", 0, 0, G_OPTION_ARG_DOUBLE, &o->step, "Seconds between samples", "S" },
    { "mark-cell", 0, 0, G_OPTION_ARG_STRING, &o->mark, "Hold cell N at MV millivolts", "N:MV" },
    { "device-name", 0, 0, G_OPTION_ARG_STRING, &o->name, "The device's name", "NAME" },
    { "device-id", 0, 0, G_OPTION_ARG_STRING, &o->device_id,
      "Another device id than the simulator's PWSIM001", "ID" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("DB");

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc != 2 || o->modules < 1 || o->modules > 16 || !(o->hours > 0) || !(o->step > 0))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "usage: make-report-history DB [--modules 1-16] [--hours H>0] [--step S>0]");
      return FALSE;
    }
  if (o->mark && (sscanf (o->mark, "%u:%u", &o->mark_cell, &o->mark_mv) != 2
                  || o->mark_cell < 1 || o->mark_cell > 16u * (guint) o->modules))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--mark-cell N:MV, N a cell");
      return FALSE;
    }
  return TRUE;
}

static void
add_events (BmsHistory *history, gint64 device, gint64 t0_us, gint64 span_us)
{
  const BmsFieldInfo *ovp = bms_field_lookup (BMS_ID_CELL_OVP);

  bms_history_add_alarm_event (history, device, t0_us + span_us / 4, "cell_over_voltage", TRUE,
                               3652, 3650, "Cell 7 over-voltage");
  bms_history_add_alarm_event (history, device, t0_us + span_us / 4 + 90 * G_USEC_PER_SEC,
                               "cell_over_voltage", FALSE, 3580, 3600, "Cell 7 over-voltage");
  bms_history_add_audit (history, device, t0_us + span_us / 2, ovp->name, "3650", "3600", "ok");
  bms_history_add_audit (history, device, t0_us + span_us / 2 + 600 * G_USEC_PER_SEC, "firmware",
                         "PWSIM_S1.0.0", "PWSIM_S1.0.1 (pwsim-1.0.1.bin, 131072 bytes)", "ok");
}

static gboolean
fill (const Options *o, const char *path, GError **error)
{
  g_autoptr (BmsHistory) history = bms_history_new (path, error);
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_snapshot_free);
  BmsSimConfig config;
  BmsSim *sim;
  gint64 now = g_get_real_time (), span = (gint64) (o->hours * 3600 * G_USEC_PER_SEC);
  gint64 device = 0;
  guint n = (guint) (o->hours * 3600 / o->step);

  if (history == NULL)
    return FALSE;
  bms_sim_config_init (&config);
  config.modules = (guint) o->modules;
  config.cycle_profile = TRUE;
  if (!(sim = bms_sim_new (&config, error)))
    return FALSE;
  for (guint i = 0; i <= n; i++)
    {
      BmsSnapshot *s;

      bms_sim_advance (sim, o->step);
      s = bms_sim_snapshot (sim);
      s->timestamp_us = now - span + (gint64) (i * o->step * G_USEC_PER_SEC);
      if (o->device_id)
        bms_snapshot_set_string (s, 0xB4, o->device_id);
      if (o->mark_cell && o->mark_cell <= s->n_cells)
        s->cells_mv[o->mark_cell - 1] = (guint16) o->mark_mv;
      if (device == 0)
        {
          g_autofree char *key = bms_device_key_for_snapshot (s, 1);
          device = bms_history_ensure_device (history, key, o->name ? o->name : "PWSIM001", error);
          if (device <= 0)
            break;
        }
      g_ptr_array_add (batch, s);
      if (batch->len == 500 || i == n)
        {
          bms_history_append_batch (history, device, (const BmsSnapshot *const *) batch->pdata,
                                    batch->len);
          g_ptr_array_set_size (batch, 0);
        }
    }
  bms_sim_free (sim);
  if (device <= 0)
    return FALSE;
  add_events (history, device, now - span, span);
  return bms_history_flush (history, error);
}

int
main (int argc, char **argv)
{
  Options o = { .modules = 1, .hours = 24, .step = 60 };
  g_autoptr (GError) error = NULL;

  if (!parse (&argc, &argv, &o, &error) || !fill (&o, argv[1], &error))
    {
      fprintf (stderr, "make-report-history: %s\n", error->message);
      return 1;
    }
  return 0;
}
