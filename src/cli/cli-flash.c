/* cli-flash.c — `packwatch-cli flash`: firmware update (docs/firmware-update.md).
 *
 * The file is checked before the port is even opened. Progress goes to
 * stderr (one line per step, a live line during the transfer on a
 * terminal); the result goes to stdout. Ctrl-C cancels cleanly: CAN CAN is
 * sent and the board stays in its bootloader for a --bootloader retry.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bms-firmware.h"
#include "bms-flasher.h"
#include "bms-sim.h"
#include "cli-audit.h"
#include "cli-common.h"

typedef struct {
  GMainLoop    *loop;
  GCancellable *cancellable;
  gboolean      ok;
  GError       *error;
  gboolean      tty;
  BmsFlasherStep last_step;
  char         *last_detail;
  int           last_decile;
  gboolean      live_line;
} FlashRun;

static void
format_duration (char *buf, gsize len, double s)
{
  guint t = s < 0 ? 0 : (guint) (s + 0.5);

  g_snprintf (buf, len, "%u:%02u", t / 60, t % 60);
}

static void
print_transfer (FlashRun *run, const BmsFlasherProgress *p)
{
  char elapsed[16], left[16];
  int percent = p->bytes_total > 0 ? (int) (p->bytes_sent * 100 / p->bytes_total) : 0;

  format_duration (elapsed, sizeof elapsed, p->elapsed_s);
  if (p->remaining_s >= 0)
    format_duration (left, sizeof left, p->remaining_s);
  else
    g_strlcpy (left, "?", sizeof left);
  if (!run->tty && percent / 10 == run->last_decile)
    return;
  run->last_decile = percent / 10;
  fprintf (stderr, "%s  %3d %%  %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " bytes  %.0f B/s  "
           "%s elapsed  %s left  %u retries%s",
           run->tty ? "\r" : "", percent, p->bytes_sent, p->bytes_total, p->rate_bps,
           elapsed, left, p->retries, run->tty ? "\033[K" : "\n");
  run->live_line = run->tty;
}

/* Called on the flasher's thread. */
static void
on_progress (BmsFlasher *flasher, const BmsFlasherProgress *p, gpointer user_data)
{
  FlashRun *run = user_data;

  if (p->step == BMS_FLASHER_STEP_TRANSFER && p->bytes_total > 0 && p->detail != NULL)
    {
      print_transfer (run, p);
      return;
    }
  if (p->step == run->last_step && g_strcmp0 (p->detail, run->last_detail) == 0)
    return;
  if (run->live_line)
    fputc ('\n', stderr);
  run->live_line = FALSE;
  run->last_step = p->step;
  g_free (run->last_detail);
  run->last_detail = g_strdup (p->detail);
  if (p->step == BMS_FLASHER_STEP_DONE)
    fprintf (stderr, "flash: done in %.1f s\n", p->elapsed_s);
  else
    fprintf (stderr, "flash: step %d/8 %s%s%s\n", p->step, p->step_name,
             p->detail != NULL ? ": " : "", p->detail != NULL ? p->detail : "");
}

/* The shared stop (cli_stop_*) cancelled the flasher: say so at once, the
 * flasher's own message follows (the board stays in its bootloader). */
static gboolean
on_stop (GCancellable *cancellable, gpointer user_data)
{
  fprintf (stderr, "\nflash: %s, cancelling…\n", cli_stop_describe ());
  return G_SOURCE_REMOVE;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FlashRun *run = user_data;

  run->ok = bms_flasher_run_finish (BMS_FLASHER (source), result, &run->error);
  g_main_loop_quit (run->loop);
}

static int
exit_status_for (BmsFlasher *flasher, const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return CLI_EXIT_FAILED;
  switch (bms_flasher_get_step (flasher))
    {
    case BMS_FLASHER_STEP_CHECK_FILE: return CLI_EXIT_USAGE;
    case BMS_FLASHER_STEP_SEGMENT:    return CLI_EXIT_UNREACHABLE;
    default:                          return CLI_EXIT_FAILED;
    }
}

static int
run_flasher (BmsFlasher *flasher, const char *file)
{
  FlashRun run = { 0 };
  g_autoptr (GSource) stop = g_cancellable_source_new (cli_stop_get_cancellable ());
  int status = CLI_EXIT_OK;

  run.loop = g_main_loop_new (NULL, FALSE);
  run.cancellable = g_object_ref (cli_stop_get_cancellable ());
  run.tty = isatty (STDERR_FILENO);
  run.last_decile = -1;
  bms_flasher_set_progress_func (flasher, on_progress, &run, NULL);
  g_source_set_callback (stop, G_SOURCE_FUNC (on_stop), NULL, NULL);
  g_source_attach (stop, NULL);
  bms_flasher_run_async (flasher, run.cancellable, on_done, &run);
  g_main_loop_run (run.loop);
  g_source_destroy (stop);
  if (run.live_line)
    fputc ('\n', stderr);

  if (run.ok)
    printf ("flashed %s (%" G_GUINT64_FORMAT " bytes, CRC-32 %08X); the board reports "
            "version %s\n", file, bms_flasher_get_file_size (flasher),
            bms_flasher_get_file_crc32 (flasher),
            bms_flasher_get_board_version (flasher) != NULL
              ? bms_flasher_get_board_version (flasher) : "(not checked)");
  else
    {
      cli_error ("flash", "%s", run.error->message);
      status = exit_status_for (flasher, run.error);
    }
  g_clear_error (&run.error);
  g_free (run.last_detail);
  g_object_unref (run.cancellable);
  g_main_loop_unref (run.loop);
  return status;
}

static BmsFlasher *
open_normal (const CliConnection *conn, const char *password, BmsSession **session_out,
             int *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSession) session = cli_connection_open (conn, &error);

  if (session == NULL)
    {
      cli_error ("flash", "step 2 (enter bootloader): %s: %s", conn->port, error->message);
      *status = CLI_EXIT_UNREACHABLE;
      return NULL;
    }
  if (!bms_session_unlock (session, password, cli_stop_get_cancellable (), &error))
    {
      gboolean silent = g_error_matches (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_TIMEOUT);

      cli_error ("flash", "step 2 (enter bootloader): unlocking failed, nothing was changed: %s%s",
                 error->message,
                 silent ? " — a board left in its bootloader by an interrupted update does "
                          "not answer: finish it with --bootloader" : "");
      bms_session_close (session);
      *status = g_error_matches (error, BMS_SESSION_ERROR, BMS_SESSION_ERROR_DENIED)
                  ? CLI_EXIT_FAILED : CLI_EXIT_UNREACHABLE;
      return NULL;
    }
  *session_out = g_steal_pointer (&session);
  return bms_flasher_new (*session_out);
}

static BmsFlasher *
open_bootloader (const CliConnection *conn, BmsTransport **transport_out, int *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsTransport) transport = NULL;

  bms_sim_register_uri_scheme ();
  transport = bms_transport_new_for_uri (conn->port, BMS_FLASHER_BOOTLOADER_BAUD, &error);
  if (transport == NULL || !bms_transport_open (transport, &error))
    {
      cli_error ("flash", "step 4 (send 0x20): %s: %s", conn->port, error->message);
      *status = CLI_EXIT_UNREACHABLE;
      return NULL;
    }
  *transport_out = g_steal_pointer (&transport);
  return bms_flasher_new_for_transport (*transport_out, (guint) conn->address);
}

/* Step 1 before the port is opened: the file, then the image. With --force
 * an image that fails the check is flashed anyway, and *problem says why it
 * failed (for the audit trail). */
static gboolean
check_file_first (const char *file, guint64 max_size, gboolean force, char **problem)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) image = NULL;
  g_autofree char *version = NULL;
  guint32 crc = 0;

  image = bms_firmware_check_file (file, max_size, &crc, &error);
  if (image == NULL)
    {
      cli_error ("flash", "step 1 (check file): %s; nothing was sent to the board",
                 error->message);
      return FALSE;
    }
  if (!bms_firmware_check_image (g_bytes_get_data (image, NULL), g_bytes_get_size (image),
                                 max_size, &error))
    {
      if (!force)
        {
          cli_error ("flash", "step 1 (check file): %s: %s; nothing was sent to the board "
                     "(--force flashes it anyway, if you are sure)", file, error->message);
          return FALSE;
        }
      fprintf (stderr, "flash: --force: %s: %s; flashing it anyway\n", file, error->message);
      *problem = g_strdup (error->message);
    }
  version = bms_firmware_find_version (g_bytes_get_data (image, NULL), g_bytes_get_size (image));
  fprintf (stderr, "flash: %s: %" G_GSIZE_FORMAT " bytes, CRC-32 %08X, version %s\n", file,
           g_bytes_get_size (image), crc, version);
  return TRUE;
}

/* The board's version before the update and the audit trail's device row;
 * FALSE (nothing sent) when the database cannot be opened. */
static gboolean
open_flash_audit (const CliConnection *conn, BmsSession *session, const char *db,
                  BmsHistory **history, gint64 *device_id, char **old_version)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSnapshot) snapshot = NULL;

  if (session != NULL)
    {
      snapshot = bms_session_read_all (session, NULL, &error);
      if (snapshot == NULL)
        {
          cli_error ("flash", "reading the board's version before the update failed, nothing "
                     "was sent: %s", error->message);
          return FALSE;
        }
      *old_version = bms_snapshot_dup_string (snapshot, BMS_ID_SOFTWARE_VERSION);
    }
  *history = cli_audit_open (db, snapshot, (guint) conn->address, device_id, &error);
  if (*history == NULL)
    {
      cli_error ("flash", "%s: %s; nothing was sent", db, error->message);
      return FALSE;
    }
  return TRUE;
}

int
bms_cli_flash (int argc, char **argv)
{
  CliConnection conn;
  g_autofree char *password = NULL;
  gboolean bootloader = FALSE;
  gboolean restart = FALSE;
  gboolean force = FALSE;
  g_autofree char *db = NULL;
  g_autofree char *problem = NULL;
  g_autofree char *old_version = NULL;
  g_autoptr(BmsHistory) history = NULL;
  gint64 device_id = 0;
  gint64 max_size = BMS_FLASHER_DEFAULT_MAX_SIZE;
  g_autoptr(GError) error = NULL;
  g_autoptr(BmsSession) session = NULL;
  g_autoptr(BmsTransport) transport = NULL;
  g_autoptr(BmsFlasher) flasher = NULL;
  int status = CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "password", 'P', 0, G_OPTION_ARG_STRING, &password,
      "The board's parameter password (the update is password-gated)", "PW" },
    { "bootloader", 0, 0, G_OPTION_ARG_NONE, &bootloader,
      "The board already waits in its bootloader: start at step 4 (no password)", NULL },
    { "max-size", 0, 0, G_OPTION_ARG_INT64, &max_size,
      "Flash budget: refuse larger files (default 262144)", "BYTES" },
    { "restart", 0, 0, G_OPTION_ARG_NONE, &restart,
      "Enter the bootloader with restart (0xBB) instead of upgrade (0xBD)", NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      "Flash a file that is not a firmware image for this bootloader anyway (the audit says so)",
      NULL },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
      "Record the update (file, size, CRC-32, versions, forced, result) in this history "
      "database's audit trail", "FILE" },
    { NULL }
  };

  cli_connection_init (&conn);
  if (!cli_parse_options (&argc, &argv, "FILE",
                          "Updates a board's firmware: checks FILE, sends 0xBD (or 0xBB), reopens\n"
                          "at 9600 baud, 0x20 → segment, 0x31 → 'C', YMODEM, then reads the\n"
                          "version back (docs/firmware-update.md).",
                          entries, cli_connection_option_group (&conn)))
    status = CLI_EXIT_USAGE;
  else if (argc != 2)
    {
      cli_error ("flash", "give exactly one firmware FILE (got %d)", argc - 1);
      status = CLI_EXIT_USAGE;
    }
  else if (!cli_connection_validate (&conn, &error))
    {
      cli_error ("flash", "%s", error->message);
      status = CLI_EXIT_USAGE;
    }
  else if (max_size <= 0)
    {
      cli_error ("flash", "--max-size must be a positive number of bytes");
      status = CLI_EXIT_USAGE;
    }
  else if (!bootloader && password == NULL)
    {
      cli_error ("flash", "the update needs the parameter password (--password PW) to unlock "
                 "the board; for a board already waiting in its bootloader use --bootloader");
      status = CLI_EXIT_USAGE;
    }
  else if (!bootloader && !cli_password_validate (password, &error))
    {
      cli_error ("flash", "%s", error->message);
      status = CLI_EXIT_USAGE;
    }
  else if (!check_file_first (argv[1], (guint64) max_size, force, &problem))
    status = CLI_EXIT_USAGE;
  else
    {
      /* Before the session's and the flasher's threads: they inherit the
       * blocked mask, the shared watcher takes SIGINT/SIGTERM. */
      cli_stop_start ();
      flasher = bootloader ? open_bootloader (&conn, &transport, &status)
                           : open_normal (&conn, password, &session, &status);
      if (flasher != NULL && db != NULL
          && !open_flash_audit (&conn, session, db, &history, &device_id, &old_version))
        {
          g_clear_object (&flasher);
          status = CLI_EXIT_FAILED;
        }
      if (flasher != NULL)
        {
          bms_flasher_set_force (flasher, force);
          bms_flasher_set_file (flasher, argv[1]);
          bms_flasher_set_max_size (flasher, (guint64) max_size);
          bms_flasher_set_use_restart (flasher, restart);
          bms_flasher_set_board_baud (flasher, (guint) conn.baud);
          status = run_flasher (flasher, argv[1]);
          if (history != NULL)
            bms_history_add_firmware_audit (history, device_id, flasher, argv[1], old_version,
                                            status == CLI_EXIT_OK ? NULL : "");
        }
    }

  g_clear_object (&flasher);
  if (session != NULL)
    bms_session_close (session);
  if (transport != NULL)
    bms_transport_close (transport);
  cli_audit_close (history, "flash", db);
  cli_connection_clear (&conn);
  return status;
}
