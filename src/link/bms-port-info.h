/* bms-port-info.h — a serial port of this machine as the port list shows
 * it; plain data the connection bar gets from BmsConnection. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Serial ports on this machine. */
typedef struct {
  char   *name;         /* "/dev/ttyUSB0", "COM3" */
  char   *description;  /* "USB-SERIAL CH340 (ttyUSB0)" */
  guint16 vid, pid;     /* 0 when not USB */
  char   *vid_pid;      /* "1a86:7523" or NULL */
} BmsPortInfo;

void       bms_port_info_free (BmsPortInfo *info);
/* Builds an entry the way the port list shows it: "<description> (ttyUSB0)",
 * falling back to the adapter chip known from vid:pid (CH340, FTDI, CP210x)
 * when the OS gives no useful description. */
BmsPortInfo *bms_port_info_new (const char *name, const char *os_description,
                                guint16 vid, guint16 pid);

G_END_DECLS
