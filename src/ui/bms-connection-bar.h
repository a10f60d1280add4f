/* bms-connection-bar.h — port, baud, address, Connect/Disconnect and status */
#pragma once

#include <gtk/gtk.h>
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_CONNECTION_BAR (bms_connection_bar_get_type ())
G_DECLARE_FINAL_TYPE (BmsConnectionBar, bms_connection_bar, BMS, CONNECTION_BAR, GtkBox)

/* The settings remember port, baud and address. */
void bms_connection_bar_setup   (BmsConnectionBar *self,
                                 BmsConnection    *connection,
                                 GSettings        *settings);
/* Connect with what the bar shows, or disconnect when connected. */
void bms_connection_bar_toggle  (BmsConnectionBar *self);
/* Select a port by URI ("sim://", "tcp://…", "/dev/ttyUSB0") and connect. */
void bms_connection_bar_connect_to (BmsConnectionBar *self,
                                    const char       *uri);

/* "MQTT broker…": a new dialog (not shown) to watch a board through a
 * broker, filled from the settings. */
GtkWidget *bms_connection_bar_ask_mqtt (BmsConnectionBar *self);

/* What the board does instead of being polled (a firmware update), shown
 * in place of the polling status; NULL clears it. */
void bms_connection_bar_set_activity (BmsConnectionBar *self,
                                      const char       *text,
                                      const char       *details);
/* --baud and --address given on the command line (baud 0: keep). */
void bms_connection_bar_set_line  (BmsConnectionBar *self,
                                   guint             baud,
                                   guint             address);

/* A port as typed: a device path, COM3, tcp://host:port, sim://, sim://master
 * or replay:FILE; returns the URI to connect to, or NULL with a GError that
 * says which forms are accepted. */
char *bms_port_from_text (const char  *text,
                          GError     **error);

G_END_DECLS
