/* cli-serve.c — `packwatch-cli serve`: poll boards on one or more ports,
 * record them as `log` does and publish them to an MQTT broker, with Home
 * Assistant discovery.
 *
 * The road is the log's: a BmsPoller per port (several addresses on one
 * bus share it) records into the history with its per-board claim and
 * alarm monitors; this file only hands what the devices and monitors say
 * to cli-serve-publish.c. Read-only: serve subscribes to nothing.
 *
 * Stopping (SIGINT, SIGTERM) takes effect within a second: the pollers
 * drop the read in flight, every board and the bridge are published
 * offline, the history is flushed and closed.
 */

#include "config.h"

#include <stdio.h>

#include "cli-common.h"
#include "cli-history.h"
#include "cli-serve-private.h"

/* How long the broker gets to take the "offline" at the stop. */
#define STOP_ACK_MS 300

char *
cli_serve_bridge_topic (const CliServeConfig *config)
{
  g_autofree char *client = cli_serve_topic_id (config->client_id);

  return g_strdup_printf ("%s/bridge/%s/status", config->prefix, client);
}

static void
line_free (ServeLine *line)
{
  g_clear_object (&line->poller);
  g_clear_object (&line->session);
  g_free (line->port);
  g_free (line);
}

static void
board_free (ServeBoard *b)
{
  if (b->device)
    g_signal_handlers_disconnect_by_data (b->device, b);
  if (b->monitor)
    g_signal_handlers_disconnect_by_data (b->monitor, b);
  g_clear_pointer (&b->sent, g_hash_table_unref);
  g_free (b->implausible);
  g_free (b->id);
  g_free (b->base);
  g_free (b);
}

static gboolean
id_taken (Server *server, const char *id)
{
  for (guint i = 0; i < server->boards->len; i++)
    {
      ServeBoard *other = server->boards->pdata[i];
      if (other->id && g_str_equal (other->id, id))
        return TRUE;
    }
  return FALSE;
}

/* At the first sample: Id=, else the device id the board reports, else
 * the group's name; two boards that report one device id are told apart
 * by the group's name. */
static void
choose_id (ServeBoard *b)
{
  const char *device_id = bms_device_get_device_id (b->device);
  g_autofree char *group = cli_serve_topic_id (b->conf->name);
  g_autofree char *id = NULL;
  g_autofree char *taken = NULL;

  if (b->conf->id)
    id = g_strdup (b->conf->id);
  else if (device_id && *device_id)
    id = cli_serve_topic_id (device_id);
  else
    id = g_strdup (group);
  if (id_taken (b->server, id))
    {
      cli_error ("serve", "[%s] reports the device id of another board (%s): published as %s-%s; "
                 "give each board its own Id= in the configuration", b->conf->group, id, id, group);
      taken = g_steal_pointer (&id);
      id = g_strdup_printf ("%s-%s", taken, group);
    }
  b->id = g_steal_pointer (&id);
  b->base = g_strdup_printf ("%s/%s", b->server->config->prefix, b->id);
  fprintf (stderr, "packwatch-cli serve: [%s] %s address %u publishes under %s/\n", b->conf->group,
           b->line->port, b->conf->address, b->base);
}

static void
on_sample (BmsDevice *device, GParamSpec *pspec, ServeBoard *b)
{
  if (bms_device_get_snapshot (device) == NULL)
    return;
  if (b->id == NULL)
    choose_id (b);
  cli_serve_board_publish (b);
}

static void
on_online (BmsDevice *device, GParamSpec *pspec, ServeBoard *b)
{
  gboolean online = bms_device_get_online (device);

  /* Said once per outage, and its end. */
  if (!online && b->id && !b->silent)
    cli_error ("serve", "[%s] does not answer (retrying)", b->conf->group);
  else if (online && b->silent)
    fprintf (stderr, "packwatch-cli serve: [%s] answers again\n", b->conf->group);
  b->silent = !online && b->id;
  cli_serve_board_publish_availability (b, online);
}

/* Not a sample: skipped and kept in the history as an event, as by log;
 * said when the reason is new. */
static void
on_implausible (BmsDevice *device, GParamSpec *pspec, ServeBoard *b)
{
  const char *reason = bms_device_get_implausible_reason (device);

  if (reason == NULL || g_strcmp0 (reason, b->implausible) == 0)
    return;
  cli_error ("serve", "[%s] implausible reply skipped: %s", b->conf->group, reason);
  g_free (b->implausible);
  b->implausible = g_strdup (reason);
}

static void
on_alarm (BmsAlarmMonitor *monitor, BmsAlarm *alarm, gboolean raised, gint64 time_us,
          ServeBoard *b)
{
  cli_serve_board_publish_alarm (b, alarm, raised, time_us);
}

/* Another process records this board into the database: it is still
 * polled and published, and recorded once the other lets go. */
static void
on_history_refused (BmsPoller *poller, guint address, const char *message, Server *server)
{
  cli_error ("serve", "%s: address %u is published but not recorded meanwhile", message, address);
}

/* Each finished cycle of a port: the disk's state, said when it changes. */
static void
on_cycle (BmsPoller *poller, GParamSpec *pspec, Server *server)
{
  cli_history_report_writes ("serve", server->history, &server->writes);
}

/* Surfaces a full disk while no cycle ends (every board offline). */
static gboolean
on_flush_timer (gpointer data)
{
  Server *server = data;
  g_autoptr (GError) error = NULL;

  if (!bms_history_flush (server->history, &error) && !server->writes.failing)
    cli_error ("serve", "%s", error->message);
  cli_history_report_writes ("serve", server->history, &server->writes);
  return G_SOURCE_CONTINUE;
}

/* The broker (re)connected: it may have lost everything retained. */
static void
on_connected (gpointer data)
{
  Server *server = data;

  for (guint i = 0; i < server->boards->len; i++)
    {
      cli_serve_board_forget (server->boards->pdata[i]);
      cli_serve_board_publish (server->boards->pdata[i]);
    }
}

static ServeLine *
find_line (Server *server, const char *port)
{
  for (guint i = 0; i < server->lines->len; i++)
    {
      ServeLine *line = server->lines->pdata[i];
      if (g_str_equal (line->port, port))
        return line;
    }
  return NULL;
}

/* The ports in the order of the file, each with the addresses of its
 * boards, opened: a port that cannot be opened stops the start. */
static gboolean
open_lines (Server *server, GError **error)
{
  for (guint i = 0; i < server->config->boards->len; i++)
    {
      const CliServeBoard *conf = server->config->boards->pdata[i];
      ServeLine *line = find_line (server, conf->port);
      CliConnection conn = { conf->port, (int) conf->baud, (int) conf->address };

      if (line != NULL)
        continue;
      line = g_new0 (ServeLine, 1);
      line->port = g_strdup (conf->port);
      line->baud = conf->baud;
      g_ptr_array_add (server->lines, line);
      if (!(line->session = cli_connection_open (&conn, error)))
        {
          g_prefix_error (error, "[%s] %s: ", conf->group, conf->port);
          return FALSE;
        }
    }
  return TRUE;
}

static void
start_line (Server *server, ServeLine *line)
{
  g_autoptr (GArray) addresses = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < server->config->boards->len; i++)
    {
      const CliServeBoard *conf = server->config->boards->pdata[i];
      if (g_str_equal (conf->port, line->port))
        g_array_append_val (addresses, conf->address);
    }
  line->poller = bms_poller_new (line->session);
  bms_poller_set_addresses (line->poller, (const guint *) addresses->data, addresses->len);
  if (!bms_poller_set_interval (line->poller, server->config->interval, NULL))
    g_return_if_reached (); /* checked with the configuration */
  bms_poller_set_history (line->poller, server->history);
  g_signal_connect (line->poller, "history-refused", G_CALLBACK (on_history_refused), server);
  g_signal_connect (line->poller, "notify::cycles", G_CALLBACK (on_cycle), server);
  bms_poller_start (line->poller);
}

static void
watch_board (Server *server, const CliServeBoard *conf)
{
  ServeBoard *b = g_new0 (ServeBoard, 1);

  b->server = server;
  b->conf = conf;
  b->line = find_line (server, conf->port);
  b->sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  b->device = bms_poller_lookup_device (b->line->poller, conf->address);
  b->monitor = bms_poller_get_alarm_monitor (b->line->poller, conf->address);
  g_ptr_array_add (server->boards, b);
  g_signal_connect (b->device, "notify::last-update", G_CALLBACK (on_sample), b);
  g_signal_connect (b->device, "notify::online", G_CALLBACK (on_online), b);
  g_signal_connect (b->device, "notify::implausible-reason", G_CALLBACK (on_implausible), b);
  g_signal_connect (b->monitor, "event", G_CALLBACK (on_alarm), b);
}

/* Two processes cannot share a line: the line's key is claimed as `log`
 * claims it, before the port is opened. */
static gboolean
claim_lines (Server *server, GError **error)
{
  for (guint i = 0; i < server->config->boards->len; i++)
    {
      const CliServeBoard *conf = server->config->boards->pdata[i];
      g_autofree char *where = g_strdup_printf ("%s:%u", conf->port, conf->address);

      if (!bms_history_claim_device (server->history, where, NULL, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
on_stop (GCancellable *cancellable, gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static int
run (Server *server)
{
  g_autoptr (GSource) stop = g_cancellable_source_new (cli_stop_get_cancellable ());
  g_autoptr (GError) error = NULL;
  guint64 implausible = 0;
  guint flush_timer;
  gboolean saved;

  for (guint i = 0; i < server->lines->len; i++)
    start_line (server, server->lines->pdata[i]);
  for (guint i = 0; i < server->config->boards->len; i++)
    watch_board (server, server->config->boards->pdata[i]);
  g_source_set_callback (stop, G_SOURCE_FUNC (on_stop), server->loop, NULL);
  g_source_attach (stop, NULL);
  flush_timer = g_timeout_add_seconds (60, on_flush_timer, server);
  if (!cli_mqtt_start (server->mqtt, &error))
    cli_error ("serve", "%s", error->message);
  else if (!cli_stop_requested ())
    g_main_loop_run (server->loop);

  /* What the pollers read before the stop is delivered (and published)
   * first; then everything says offline. */
  for (guint i = 0; i < server->lines->len; i++)
    bms_poller_stop (((ServeLine *) server->lines->pdata[i])->poller);
  for (guint i = 0; i < server->lines->len; i++)
    bms_poller_stop_sync (((ServeLine *) server->lines->pdata[i])->poller);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_source_destroy (stop);
  g_source_remove (flush_timer);
  for (guint i = 0; i < server->boards->len; i++)
    cli_serve_board_publish_availability (server->boards->pdata[i], FALSE);
  cli_mqtt_stop (server->mqtt, STOP_ACK_MS);
  for (guint i = 0; i < server->lines->len; i++)
    {
      ServeLine *line = server->lines->pdata[i];
      g_signal_handlers_disconnect_by_data (line->poller, server);
      implausible += bms_poller_get_implausible_replies (line->poller);
    }
  saved = cli_history_finish_writes ("serve", server->history, &server->writes);
  cli_history_print_summary ("serve", server->history, implausible, cli_stop_get_signal ());
  if (error)
    return CLI_EXIT_FAILED;
  return saved ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

static int
serve (CliServeConfig *config)
{
  Server server = { .config = config };
  g_autoptr (GError) error = NULL;
  int status;

  server.loop = g_main_loop_new (NULL, FALSE);
  server.lines = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);
  server.boards = g_ptr_array_new_with_free_func ((GDestroyNotify) board_free);
  server.bridge_topic = cli_serve_bridge_topic (config);

  if (!(server.mqtt = cli_mqtt_new (config, server.bridge_topic, on_connected, &server, &error)))
    status = CLI_EXIT_USAGE;
  else if (!(server.history = cli_history_open (config->database, FALSE, &error)))
    status = CLI_EXIT_FAILED;
  else if (!claim_lines (&server, &error))
    status = g_error_matches (error, BMS_HISTORY_ERROR, BMS_HISTORY_ERROR_CLAIMED)
             ? CLI_EXIT_BUSY : CLI_EXIT_FAILED;
  else if (!open_lines (&server, &error))
    status = CLI_EXIT_UNREACHABLE;
  else
    {
      if (config->fsync)
        bms_history_set_sync_every_commit (server.history, TRUE);
      fprintf (stderr, "packwatch-cli serve: %u board(s) on %u port(s) every %g s into %s, "
               "published under %s/ (Ctrl+C stops)\n", config->boards->len, server.lines->len,
               config->interval, bms_history_get_path (server.history), config->prefix);
      status = run (&server);
    }
  if (error && status != CLI_EXIT_OK)
    cli_error ("serve", "%s", error->message);

  g_ptr_array_unref (server.boards);
  g_ptr_array_unref (server.lines);
  if (server.history)
    bms_history_close (server.history);
  g_clear_object (&server.history);
  g_clear_pointer (&server.mqtt, cli_mqtt_free);
  g_main_loop_unref (server.loop);
  g_free (server.bridge_topic);
  return status;
}

int
cli_serve (int argc, char **argv)
{
  g_autofree char *path = NULL;
  g_autoptr (CliServeConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &path,
      "The key file naming the broker and the boards (docs/fleet.md)", "FILE" },
    { NULL }
  };

  if (!cli_parse_options (&argc, &argv, "",
                          "Polls the boards of the configuration, records every sample in the\n"
                          "history database as `log` does and publishes them to an MQTT broker,\n"
                          "with Home Assistant discovery, until Ctrl+C or SIGTERM. Read-only:\n"
                          "nothing can be written to a board over MQTT. The broker's password\n"
                          "comes from the file (Password or PasswordFile) or the environment\n"
                          "(" CLI_SERVE_PASSWORD_ENV "), never from the command line.",
                          entries, NULL))
    return CLI_EXIT_USAGE;
  if (argc > 1)
    error = g_error_new (CLI_ERROR, CLI_ERROR_USAGE, "takes no arguments");
  else if (path == NULL)
    error = g_error_new (CLI_ERROR, CLI_ERROR_USAGE,
                         "--config FILE is required (docs/fleet.md describes the file)");
  else
    config = cli_serve_config_load (path, &error);
  if (config == NULL)
    {
      cli_error ("serve", "%s", error->message);
      return CLI_EXIT_USAGE;
    }
  /* Before the history's, the pollers' and the broker's threads: they
   * inherit the mask. */
  cli_stop_start ();
  return serve (config);
}
