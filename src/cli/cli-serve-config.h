/* cli-serve-config.h — the key file of `packwatch-cli serve`: the broker,
 * the history and the boards to poll.
 *
 *   [MQTT]            Host, Port, ClientId, Prefix, Discovery,
 *                     DiscoveryPrefix, KeepAlive, Username, Password,
 *                     PasswordFile, CaFile, CertFile, KeyFile
 *   [Serve]           Interval, Database, Fsync
 *   [Board NAME]…     Port, Baud, Address, Id, Name
 *
 * Every mistake is refused with FILE:LINE before anything starts
 * (docs/fleet.md lists the keys).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CLI_SERVE_DEFAULT_PREFIX "packwatch"
#define CLI_SERVE_DEFAULT_DISCOVERY_PREFIX "homeassistant"
/* Read when neither Password nor PasswordFile is given: a service manager
 * can pass the secret without it showing in the process list. */
#define CLI_SERVE_PASSWORD_ENV "PACKWATCH_MQTT_PASSWORD"

typedef struct
{
  char *group;     /* "Board NAME" as written */
  char *name;      /* Name=, else NAME */
  char *port;
  guint baud;
  guint address;
  char *id;        /* Id=: topic id instead of the board's device id; NULL */
} CliServeBoard;

typedef struct
{
  char *host;
  guint port;
  char *client_id;
  char *prefix;
  gboolean discovery;
  char *discovery_prefix;
  guint keepalive;
  char *username;
  char *password;  /* from Password, PasswordFile or the environment */
  char *cafile;
  char *certfile;
  char *keyfile;

  double interval;
  char *database;  /* NULL: the per-user history */
  gboolean fsync;

  GPtrArray *boards; /* CliServeBoard, in file order */
} CliServeConfig;

/* Reads and checks path; errors are CLI_ERROR_USAGE "PATH:LINE: what". */
CliServeConfig *cli_serve_config_load (const char *path, GError **error);
void cli_serve_config_free (CliServeConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliServeConfig, cli_serve_config_free)

/* text reduced to what a topic level and a Home Assistant id may hold
 * (letters, digits, '_' and '-'; anything else becomes '_'). */
char *cli_serve_topic_id (const char *text);

G_END_DECLS
