/* bms-mqtt-dialog.h — "MQTT broker…": where to watch a board that
 * packwatch-cli serve publishes (broker, port, topic prefix, device id,
 * login, TLS and CA file), remembered in the settings but the password. */
#pragma once

#include <adwaita.h>
#include "bms-connection.h"

G_BEGIN_DECLS

#define BMS_TYPE_MQTT_DIALOG (bms_mqtt_dialog_get_type ())
G_DECLARE_FINAL_TYPE (BmsMqttDialog, bms_mqtt_dialog, BMS, MQTT_DIALOG, AdwWindow)

/* Filled from settings (may be NULL); Watch makes the source, saves the
 * settings and has connection watch it. */
BmsMqttDialog *bms_mqtt_dialog_new          (GtkWindow     *parent,
                                             BmsConnection *connection,
                                             GSettings     *settings);
/* The source of what the dialog shows, or NULL with an error that names
 * the field to fix. */
BmsMqttSource *bms_mqtt_dialog_make_source  (BmsMqttDialog *self,
                                             GError       **error);
/* What Watch does; FALSE (the problem shown) when a field is wrong. */
gboolean       bms_mqtt_dialog_watch        (BmsMqttDialog *self);
/* The CA file (NULL: the system's), as the chooser sets it. */
void           bms_mqtt_dialog_set_cafile   (BmsMqttDialog *self,
                                             const char    *path);

G_END_DECLS
