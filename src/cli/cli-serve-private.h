/* cli-serve-private.h — what the files of `packwatch-cli serve` share:
 * cli-serve.c runs the pollers and the broker connection, cli-serve-
 * publish.c turns a board into topics and Home Assistant discovery. */
#pragma once

#include "bms-alarm-monitor.h"
#include "bms-history.h"
#include "bms-poller.h"
#include "cli-history.h"
#include "cli-mqtt.h"
#include "cli-serve-config.h"

G_BEGIN_DECLS

typedef struct _Server Server;

/* One port: one session, one poller for every board on it. */
typedef struct
{
  char *port;
  guint baud;
  BmsSession *session;
  BmsPoller *poller;
} ServeLine;

typedef struct
{
  Server *server;
  const CliServeBoard *conf;
  ServeLine *line;
  BmsDevice *device;
  BmsAlarmMonitor *monitor;
  char *id;             /* topic id: Id=, the board's device id, or the group name */
  char *base;           /* PREFIX/ID */
  GHashTable *sent;     /* topic -> payload last taken by the broker */
  char *implausible;    /* the last implausible reply's reason said */
  gboolean silent;      /* "does not answer" said; waiting for a reply */
  guint announced_cells; /* cells announced to Home Assistant */
  gboolean announced;
} ServeBoard;

struct _Server
{
  CliServeConfig *config;
  BmsHistory *history;
  CliMqtt *mqtt;
  GMainLoop *loop;
  GPtrArray *lines;  /* ServeLine */
  GPtrArray *boards; /* ServeBoard */
  char *bridge_topic;
  CliWriteState writes;
};

/* PREFIX/bridge/CLIENT-ID/status: "online" while serve is connected, its
 * last will "offline" otherwise. */
char *cli_serve_bridge_topic (const CliServeConfig *config);

/* Everything of the board that changed since it was last published (all
 * of it after cli_serve_board_forget); announces it to Home Assistant
 * first when discovery is on. Does nothing before the first sample. */
void cli_serve_board_publish (ServeBoard *board);
/* The broker forgot or never had what was sent (a reconnection). */
void cli_serve_board_forget (ServeBoard *board);
void cli_serve_board_publish_availability (ServeBoard *board, gboolean online);
/* An alarm raised or cleared: the event (QoS 1, not retained) and the
 * retained list of the active ones. */
void cli_serve_board_publish_alarm (ServeBoard *board, BmsAlarm *alarm, gboolean raised,
                                    gint64 time_us);

G_END_DECLS
