/* main-sim.c — packwatch-sim: a simulated master BMS on a pty or TCP port. */
#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bms-field.h"
#include "bms-sim.h"

typedef struct
{
  int modules, cells_per_module, address, baud, tcp_port, fault_delay_ms;
  int fault_noise_bytes, fault_dead_cell;
  char *chemistry, *state, *pty, *replay, *fault_lie, *fault_refuse_write, *truth;
  double capacity, current, time_scale, initial_soc, ambient;
  double fault_noise, fault_drop, fault_corrupt;
  gboolean cycle, no_wire_timing, fault_silent, in_bootloader;
  char **boot_faults;
  char **weak_cells;
  GArray *weak; /* BmsSimWeakCell, parsed from weak_cells */
  int flash_size;
  gint64 seed;
} Options;

/* The option strings are freed on every way out of main, errors included. */
static void
options_clear (Options *o)
{
  g_clear_pointer (&o->chemistry, g_free);
  g_clear_pointer (&o->state, g_free);
  g_clear_pointer (&o->fault_refuse_write, g_free);
  g_clear_pointer (&o->pty, g_free);
  g_clear_pointer (&o->replay, g_free);
  g_clear_pointer (&o->fault_lie, g_free);
  g_clear_pointer (&o->boot_faults, g_strfreev);
  g_clear_pointer (&o->weak_cells, g_strfreev);
  g_clear_pointer (&o->truth, g_free);
  g_clear_pointer (&o->weak, g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

typedef struct
{
  BmsSim *sim;
  Options *opt;
  GCancellable *cancellable;
  GMainLoop *loop;
  GError *error;
  gboolean ok;
} Run;

static gboolean fail (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError **error, const char *fmt, ...)
{
  va_list ap;

  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, msg);
  return FALSE;
}

static gboolean
baud_ok (int baud)
{
  for (guint i = 0; bms_supported_bauds[i]; i++)
    if ((int)bms_supported_bauds[i] == baud)
      return TRUE;
  return FALSE;
}

/* "corrupt-block=3,no-c": the bootloader's fault knobs (bms-bootloader.h). */
static gboolean
parse_boot_fault (const char *item, BmsBootloaderFaults *f, GError **error)
{
  static const struct
  {
    const char *name;
    gsize offset;
  } knobs[] = {
    { "corrupt-block", G_STRUCT_OFFSET (BmsBootloaderFaults, corrupt_block) },
    { "drop-byte-block", G_STRUCT_OFFSET (BmsBootloaderFaults, drop_byte_block) },
    { "lose-ack-block", G_STRUCT_OFFSET (BmsBootloaderFaults, lose_ack_block) },
    { "lose-eot-answer", G_STRUCT_OFFSET (BmsBootloaderFaults, lose_eot_answer) },
    { "cancel-at-block", G_STRUCT_OFFSET (BmsBootloaderFaults, cancel_at_block) },
    { "silent-at-block", G_STRUCT_OFFSET (BmsBootloaderFaults, silent_at_block) },
  };
  g_auto (GStrv) kv = g_strsplit (item, "=", 2);
  char *end = NULL;
  gint64 n;

  if (g_str_equal (kv[0], "no-c") && kv[1] == NULL)
    return (f->no_c = TRUE), TRUE;
  if (g_str_equal (kv[0], "no-segment") && kv[1] == NULL)
    return (f->no_segment = TRUE), TRUE;
  for (gsize k = 0; k < G_N_ELEMENTS (knobs); k++)
    if (g_str_equal (kv[0], knobs[k].name) && kv[1] != NULL)
      {
        n = g_ascii_strtoll (kv[1], &end, 10);
        if (end == kv[1] || *end != '\0' || n < 0 || n > 100000)
          return fail (error, "--boot-fault %s needs a block number 0 to 100000 (got \"%s\")",
                       kv[0], kv[1]);
        G_STRUCT_MEMBER (gint, f, knobs[k].offset) = (gint)n;
        return TRUE;
      }
  return fail (error,
               "--boot-fault: unknown fault \"%s\": use corrupt-block=N, drop-byte-block=N, "
               "lose-ack-block=N, lose-eot-answer=1|2, cancel-at-block=N, silent-at-block=N, "
               "no-c or no-segment",
               item);
}

static gboolean
parse_boot_faults (char **specs, BmsBootloaderFaults *f, GError **error)
{
  bms_bootloader_faults_init (f);
  for (guint i = 0; specs && specs[i]; i++)
    {
      g_auto (GStrv) items = g_strsplit (specs[i], ",", -1);
      for (guint k = 0; items[k]; k++)
        if (*g_strstrip (items[k]) && !parse_boot_fault (items[k], f, error))
          return FALSE;
    }
  return TRUE;
}

/* --weak-cell N[:RFACTOR[:CAPFACTOR[:LEAK_MA]]], repeatable. */
static gboolean
parse_weak_cells (Options *o, GError **error)
{
  int n_cells = o->modules * o->cells_per_module;

  o->weak = g_array_new (FALSE, TRUE, sizeof (BmsSimWeakCell));
  for (guint i = 0; o->weak_cells && o->weak_cells[i]; i++)
    {
      g_autoptr (GError) local = NULL;
      BmsSimWeakCell w;

      if (!bms_sim_weak_cell_parse (o->weak_cells[i], &w, &local))
        return fail (error, "--weak-cell: %s", local->message);
      if ((int)w.cell > n_cells)
        return fail (error, "--weak-cell: cell %u is not in the pack: it has cells 1 to %d", w.cell,
                     n_cells);
      for (guint k = 0; k < o->weak->len; k++)
        if (g_array_index (o->weak, BmsSimWeakCell, k).cell == w.cell)
          return fail (error, "--weak-cell: cell %u is given twice", w.cell);
      g_array_append_val (o->weak, w);
    }
  return TRUE;
}

static gboolean
check_options (Options *o, BmsSimConfig *config, BmsSimFaults *faults, GError **error)
{
  if (o->modules < 1 || o->modules > 16)
    return fail (error, "--modules must be 1 to 16 (got %d)", o->modules);
  if (o->cells_per_module < 5 || o->cells_per_module > 16)
    return fail (error, "--cells-per-module must be 5 to 16 (got %d)", o->cells_per_module);
  if (g_strcmp0 (o->chemistry, "lfp") == 0)
    config->chemistry = BMS_CHEMISTRY_LFP;
  else if (g_strcmp0 (o->chemistry, "nmc") == 0)
    config->chemistry = BMS_CHEMISTRY_NMC;
  else if (g_strcmp0 (o->chemistry, "lto") == 0)
    config->chemistry = BMS_CHEMISTRY_LTO;
  else
    return fail (error, "--chemistry must be lfp, nmc or lto (got \"%s\")", o->chemistry);
  if (!(o->capacity >= 1 && o->capacity <= 2000))
    return fail (error, "--capacity must be 1 to 2000 Ah (got %g)", o->capacity);
  if (!(o->current >= -1000 && o->current <= 1000))
    return fail (error, "--current must be -1000 to 1000 A (got %g)", o->current);
  if (!(o->ambient >= -40 && o->ambient <= 80))
    return fail (error, "--ambient must be -40 to 80 °C (got %g)", o->ambient);
  if (!(o->initial_soc >= 0 && o->initial_soc <= 100))
    return fail (error, "--soc must be 0 to 100 %% (got %g)", o->initial_soc);
  if (o->address < 1 || o->address > 255)
    return fail (error, "--address must be 1 to 255 (got %d)", o->address);
  if (!baud_ok (o->baud))
    return fail (error, "--baud must be 9600, 19200, 38400, 57600 or 115200 (got %d)", o->baud);
  if (!(o->time_scale > 0 && o->time_scale <= 100000))
    return fail (error, "--time-scale must be above 0 and at most 100000 (got %g)", o->time_scale);
  if ((o->pty != NULL) == (o->tcp_port >= 0))
    return fail (error, "give exactly one endpoint: --pty PATH or --tcp PORT");
  if (o->tcp_port > 65535)
    return fail (error, "--tcp must be a port 0 to 65535 (got %d; 0 picks a free one)",
                 o->tcp_port);
  if (!(o->fault_noise >= 0 && o->fault_noise <= 1))
    return fail (error, "--fault-noise is a bit error rate 0 to 1 (got %g)", o->fault_noise);
  if (!(o->fault_drop >= 0 && o->fault_drop <= 1))
    return fail (error, "--fault-drop is a probability 0 to 1 (got %g)", o->fault_drop);
  if (!(o->fault_corrupt >= 0 && o->fault_corrupt <= 1))
    return fail (error, "--fault-corrupt is a probability 0 to 1 (got %g)", o->fault_corrupt);
  if (o->fault_delay_ms < 0 || o->fault_delay_ms > 60000)
    return fail (error, "--fault-delay must be 0 to 60000 ms (got %d)", o->fault_delay_ms);
  if (o->fault_noise_bytes < 0 || o->fault_noise_bytes > 1000)
    return fail (error, "--fault-noise-bytes must be 0 to 1000 (got %d)", o->fault_noise_bytes);
  if (o->fault_lie != NULL && !bms_sim_lie_from_string (o->fault_lie, &faults->lie))
    return fail (error,
                 "--fault-lie must be soc, temperature, cell-mv, cell-count, "
                 "missing-cell or duplicate-id (got \"%s\")",
                 o->fault_lie);
  if (o->fault_dead_cell < 0 || o->fault_dead_cell > o->modules * o->cells_per_module)
    return fail (error, "--fault-dead-cell must be a cell 1 to %d, or 0 (got %d)",
                 o->modules * o->cells_per_module, o->fault_dead_cell);
  if (o->flash_size < 1024 || o->flash_size > 16 * 1024 * 1024)
    return fail (error, "--flash-size must be 1024 to 16777216 bytes (got %d)", o->flash_size);
  if (o->seed < 0 || o->seed > G_MAXUINT32)
    return fail (error, "--seed must be 0 to %u", G_MAXUINT32);
  if (o->fault_refuse_write != NULL)
    {
      const BmsFieldInfo *f = bms_field_lookup_name (o->fault_refuse_write);

      if (f == NULL || !bms_field_is_writable (f))
        return fail (error, "--fault-refuse-write takes the name of a writable field "
                     "(packwatch-cli fields; got \"%s\")", o->fault_refuse_write);
      faults->refuse_write_id = f->id;
    }
  if (!parse_weak_cells (o, error))
    return FALSE;

  config->modules = o->modules;
  config->cells_per_module = o->cells_per_module;
  config->capacity_ah = o->capacity;
  config->current_a = o->current;
  config->initial_soc = o->initial_soc / 100;
  config->cycle_profile = o->cycle;
  config->address = o->address;
  config->seed = (guint32)o->seed;
  config->state_file = o->state;
  config->flash_size = (guint)o->flash_size;
  config->weak_cells = (const BmsSimWeakCell *)o->weak->data;
  config->n_weak_cells = o->weak->len;

  faults->noise_ber = o->fault_noise;
  faults->drop_reply_p = o->fault_drop;
  faults->corrupt_checksum_p = o->fault_corrupt;
  faults->delay_reply_ms = o->fault_delay_ms;
  faults->noise_bytes = o->fault_noise_bytes;
  faults->silent = o->fault_silent;
  faults->dead_cell = (guint)o->fault_dead_cell;
  return TRUE;
}

static void
on_ready (const char *where, gpointer user_data)
{
  printf ("%s\n", where);
  fflush (stdout);
}

static gboolean
quit_idle (gpointer data)
{
  g_main_loop_quit (((Run *)data)->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
serve_thread (gpointer data)
{
  Run *run = data;
  Options *o = run->opt;

  if (o->pty)
    run->ok = bms_sim_serve_pty (run->sim, o->pty, o->baud, !o->no_wire_timing, run->cancellable,
                                 &run->error);
  else
    run->ok = bms_sim_serve_tcp (run->sim, (guint16)o->tcp_port, o->baud, !o->no_wire_timing,
                                 run->cancellable, &run->error);
  g_idle_add (quit_idle, run);
  return NULL;
}

static gboolean
on_signal (gpointer data)
{
  g_cancellable_cancel (((Run *)data)->cancellable);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_usr1 (gpointer data)
{
  bms_sim_toggle_disconnected (((Run *)data)->sim);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_usr2 (gpointer data)
{
  bms_sim_toggle_silent (((Run *)data)->sim);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_auto (Options) o = { .modules = 1,
                .cells_per_module = 16,
                .address = 1,
                .baud = 9600,
                .tcp_port = -1,
                .capacity = 100,
                .time_scale = 1,
                .initial_soc = 60,
                .ambient = 25,
                .flash_size = 256 * 1024,
                .seed = 1 };
  GOptionEntry entries[] = {
    { "modules", 0, 0, G_OPTION_ARG_INT, &o.modules, "Slave modules (1-16, default 1)", "N" },
    { "cells-per-module", 0, 0, G_OPTION_ARG_INT, &o.cells_per_module,
      "Cells per module (5-16, default 16)", "N" },
    { "chemistry", 0, 0, G_OPTION_ARG_STRING, &o.chemistry, "lfp (default), nmc or lto", "TYPE" },
    { "capacity", 0, 0, G_OPTION_ARG_DOUBLE, &o.capacity, "Cell capacity in Ah (default 100)",
      "AH" },
    { "ambient", 0, 0, G_OPTION_ARG_DOUBLE, &o.ambient,
      "Air temperature around the pack in °C; the pack starts at it (default 25)", "C" },
    { "soc", 0, 0, G_OPTION_ARG_DOUBLE, &o.initial_soc, "Initial state of charge in % (default 60)",
      "PCT" },
    { "current", 0, 0, G_OPTION_ARG_DOUBLE, &o.current,
      "Constant current, + charge, - discharge (default 0)", "A" },
    { "cycle", 0, 0, G_OPTION_ARG_NONE, &o.cycle,
      "Run the demo cycle: charge, rest, discharge, rest", NULL },
    { "address", 0, 0, G_OPTION_ARG_INT, &o.address, "Board address (1-255, default 1)", "N" },
    { "baud", 0, 0, G_OPTION_ARG_INT, &o.baud, "Line speed for wire timing (default 9600)", "B" },
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &o.state, "Keep the parameters in this file", "FILE" },
    { "pty", 0, 0, G_OPTION_ARG_FILENAME, &o.pty, "Serve on a pseudo-terminal linked at PATH",
      "PATH" },
    { "tcp", 0, 0, G_OPTION_ARG_INT, &o.tcp_port, "Serve on 127.0.0.1:PORT (0 picks a free port)",
      "PORT" },
    { "no-wire-timing", 0, 0, G_OPTION_ARG_NONE, &o.no_wire_timing,
      "Send replies at once instead of 10/baud s per byte", NULL },
    { "time-scale", 0, 0, G_OPTION_ARG_DOUBLE, &o.time_scale,
      "Battery time runs X times real time (default 1)", "X" },
    { "fault-noise", 0, 0, G_OPTION_ARG_DOUBLE, &o.fault_noise, "Bit error rate on replies",
      "BER" },
    { "fault-noise-bytes", 0, 0, G_OPTION_ARG_INT, &o.fault_noise_bytes,
      "Garbage bytes before each reply", "N" },
    { "fault-drop", 0, 0, G_OPTION_ARG_DOUBLE, &o.fault_drop, "Probability a reply is not sent",
      "P" },
    { "fault-delay", 0, 0, G_OPTION_ARG_INT, &o.fault_delay_ms, "Extra delay before each reply",
      "MS" },
    { "fault-corrupt", 0, 0, G_OPTION_ARG_DOUBLE, &o.fault_corrupt,
      "Probability a reply's checksum is wrong", "P" },
    { "fault-silent", 0, 0, G_OPTION_ARG_NONE, &o.fault_silent, "Answer nothing at all", NULL },
    { "fault-lie", 0, 0, G_OPTION_ARG_STRING, &o.fault_lie,
      "Read-all replies say what no pack can: soc, temperature, cell-mv, cell-count, "
      "missing-cell or duplicate-id",
      "KIND" },
    { "fault-dead-cell", 0, 0, G_OPTION_ARG_INT, &o.fault_dead_cell,
      "This cell reads 0 mV, as with a broken sense wire (with the board's warning)", "N" },
    { "fault-refuse-write", 0, 0, G_OPTION_ARG_STRING, &o.fault_refuse_write,
      "Answer 'out of range' to every write of this field", "NAME" },
    { "flash-size", 0, 0, G_OPTION_ARG_INT, &o.flash_size,
      "Largest firmware image the bootloader takes (default 262144)", "BYTES" },
    { "in-bootloader", 0, 0, G_OPTION_ARG_NONE, &o.in_bootloader,
      "Start in the bootloader, as a board left there by an interrupted update", NULL },
    { "boot-fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.boot_faults,
      "Bootloader fault: corrupt-block=N, drop-byte-block=N, lose-ack-block=N, "
      "lose-eot-answer=1|2, cancel-at-block=N, silent-at-block=N, no-c, no-segment "
      "(comma-separated or repeated)",
      "FAULT" },
    { "replay", 0, 0, G_OPTION_ARG_FILENAME, &o.replay,
      "Answer read-all requests with the replies recorded in FILE (hex frames one per line, "
      "as packwatch-cli capture writes them; looping); refuse writes as a locked board",
      "FILE" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &o.seed,
      "Seed for cell spread, the demo load and faults (default 1)", "N" },
    { "weak-cell", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.weak_cells,
      "Plant a weak cell (N from 1 over the pack): RFACTOR x the median resistance (default 2), "
      "CAPFACTOR x the median capacity (default 1), LEAK_MA more self-discharge (default 0); "
      "repeatable",
      "N[:RFACTOR[:CAPFACTOR[:LEAK_MA]]]" },
    { "truth", 0, 0, G_OPTION_ARG_FILENAME, &o.truth,
      "Write each cell's true resistance, capacity and self-discharge to FILE as JSON", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BmsSim) sim = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  BmsSimConfig config;
  BmsSimFaults faults = { 0 };
  BmsBootloaderFaults boot_faults;
  GThread *thread;
  Run run = { 0 };

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("— a simulated master BMS speaking the NW protocol");
  g_option_context_set_summary (
      ctx, "Examples:\n"
           "  packwatch-sim --pty /tmp/ttyBMS\n"
           "  packwatch-sim --tcp 5020 --modules 16 --cells-per-module 16 --cycle --time-scale 60\n"
           "  packwatch-sim --pty /tmp/ttyBMS --replay capture.hex\n"
           "\n"
           "Prints where it listens (the pty path or tcp://127.0.0.1:PORT) once ready.\n"
           "Signals: SIGUSR1 unplugs/replugs the line, SIGUSR2 silences/unsilences the board,\n"
           "SIGINT/SIGTERM stop it (parameters are saved to --state).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("packwatch-sim: %s (see --help)\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("packwatch-sim: unexpected argument \"%s\" (see --help)\n", argv[1]);
      return 2;
    }
  if (o.chemistry == NULL)
    o.chemistry = g_strdup ("lfp");

  bms_sim_config_init (&config);
  if (!check_options (&o, &config, &faults, &error)
      || !parse_boot_faults (o.boot_faults, &boot_faults, &error))
    {
      g_printerr ("packwatch-sim: %s\n", error->message);
      return 2;
    }
  sim = bms_sim_new (&config, &error);
  if (sim == NULL)
    {
      g_printerr ("packwatch-sim: %s\n", error->message);
      return 1;
    }
  if (o.truth != NULL && !bms_sim_write_truth (sim, o.truth, &error))
    {
      g_printerr ("packwatch-sim: --truth: %s\n", error->message);
      return 2;
    }
  if (o.replay != NULL && !bms_sim_set_replay (sim, o.replay, &error))
    {
      g_printerr ("packwatch-sim: --replay: %s\n", error->message);
      return 2;
    }
  bms_sim_set_faults (sim, &faults);
  bms_sim_set_bootloader_faults (sim, &boot_faults);
  if (o.in_bootloader)
    bms_sim_enter_bootloader (sim);
  bms_sim_set_ambient (sim, o.ambient, TRUE);
  bms_sim_set_time_scale (sim, o.time_scale);
  bms_sim_set_ready_func (sim, on_ready, NULL);

  /* A client hanging up mid-reply must not kill the board. */
  signal (SIGPIPE, SIG_IGN);
  cancellable = g_cancellable_new ();
  loop = g_main_loop_new (NULL, FALSE);
  run = (Run){ sim, &o, cancellable, loop, NULL, TRUE };
  g_unix_signal_add (SIGINT, on_signal, &run);
  g_unix_signal_add (SIGTERM, on_signal, &run);
  g_unix_signal_add (SIGUSR1, on_usr1, &run);
  g_unix_signal_add (SIGUSR2, on_usr2, &run);
  thread = g_thread_new ("sim-line", serve_thread, &run);
  g_main_loop_run (loop);
  g_thread_join (thread);

  if (!run.ok)
    {
      g_printerr ("packwatch-sim: %s\n", run.error ? run.error->message : "the line failed");
      g_clear_error (&run.error);
      return 1;
    }
  return 0;
}
