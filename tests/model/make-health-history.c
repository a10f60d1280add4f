/* make-health-history.c — writes a synthetic pack (health-synth.h) into a
 * history database for the `packwatch-cli health` tests.
 *
 * usage: make-health-history DB KEY DAYS CELLS SEED [WEAK_CELL RFACTOR] */
#include <stdlib.h>

#include "health-synth.h"

int
main (int argc, char **argv)
{
  g_autoptr (BmsHistory) history = NULL;
  g_autoptr (GError) error = NULL;
  SynthPack pack;
  SynthTruth truth;

  if (argc != 6 && argc != 8)
    {
      g_printerr ("usage: %s DB KEY DAYS CELLS SEED [WEAK_CELL RFACTOR]\n", argv[0]);
      return 2;
    }
  if (!(history = bms_history_new (argv[1], &error)))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  synth_defaults (&pack, atoi (argv[4]), g_ascii_strtod (argv[3], NULL), atoi (argv[5]));
  if (argc == 8)
    {
      pack.weak_cell = atoi (argv[6]);
      pack.weak_r = g_ascii_strtod (argv[7], NULL);
    }
  synth_write (history, argv[2], &pack, &truth);
  for (guint c = 0; c < pack.n_cells; c++)
    g_print ("%u %.4f\n", c + 1, truth.r0_mohm[c]);
  return 0;
}
