/* bms-transport.c — the transport interface, the URI scheme registry and
 * serial port listing.
 */
#include "bms-transport.h"

#include <errno.h>
#include <string.h>
#include <libserialport.h>

#include "bms-serial-transport.h"
#include "bms-tcp-transport.h"

G_DEFINE_INTERFACE (BmsTransport, bms_transport, G_TYPE_OBJECT)
// clang-format off
G_DEFINE_QUARK (bms-transport-error-quark, bms_transport_error)
// clang-format on

const guint bms_supported_bauds[] = { 9600, 19200, 38400, 57600, 115200, 0 };

static void
bms_transport_default_init (BmsTransportInterface *iface)
{
}

gboolean
bms_transport_open (BmsTransport *self, GError **error)
{
  g_return_val_if_fail (BMS_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return BMS_TRANSPORT_GET_IFACE (self)->open (self, error);
}

void
bms_transport_close (BmsTransport *self)
{
  g_return_if_fail (BMS_IS_TRANSPORT (self));

  BMS_TRANSPORT_GET_IFACE (self)->close (self);
}

gboolean
bms_transport_baud_is_supported (guint baud)
{
  for (guint i = 0; bms_supported_bauds[i] != 0; i++)
    if (bms_supported_bauds[i] == baud)
      return TRUE;
  return FALSE;
}

static gboolean
check_baud (guint baud, GError **error)
{
  if (bms_transport_baud_is_supported (baud))
    return TRUE;
  g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID,
               "Unsupported baud rate %u: use 9600, 19200, 38400, 57600 or 115200", baud);
  return FALSE;
}

gboolean
bms_transport_set_baud (BmsTransport *self, guint baud, GError **error)
{
  g_return_val_if_fail (BMS_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_baud (baud, error))
    return FALSE;
  return BMS_TRANSPORT_GET_IFACE (self)->set_baud (self, baud, error);
}

gboolean
bms_transport_write (BmsTransport *self, const guint8 *data, gsize len, GError **error)
{
  g_return_val_if_fail (BMS_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len == 0)
    return TRUE;
  return BMS_TRANSPORT_GET_IFACE (self)->write (self, data, len, error);
}

gssize
bms_transport_read (BmsTransport *self, guint8 *buf, gsize len, guint timeout_ms, GError **error)
{
  g_return_val_if_fail (BMS_IS_TRANSPORT (self), -1);
  g_return_val_if_fail (buf != NULL && len > 0, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  return BMS_TRANSPORT_GET_IFACE (self)->read (self, buf, len, timeout_ms, error);
}

void
bms_transport_flush_input (BmsTransport *self)
{
  g_return_if_fail (BMS_IS_TRANSPORT (self));

  BMS_TRANSPORT_GET_IFACE (self)->flush_input (self);
}

const char *
bms_transport_get_name (BmsTransport *self)
{
  g_return_val_if_fail (BMS_IS_TRANSPORT (self), NULL);

  return BMS_TRANSPORT_GET_IFACE (self)->get_name (self);
}

void
bms_transport_set_open_error (GError **error, const char *path, int errsv)
{
  switch (errsv)
    {
    case ENOENT:
    case ENODEV:
    case ENXIO:
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_NOT_FOUND,
                   "No serial port %s: is the adapter plugged in? "
                   "(packwatch-cli ports lists the ports)", path);
      break;
    case EACCES:
    case EPERM:
#ifdef G_OS_WIN32
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_BUSY,
                   "Cannot open %s: it is in use by another program, close that first", path);
#else
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_PERMISSION,
                   "Permission denied opening %s: add your user to the 'dialout' group "
                   "(Arch: 'uucp'), e.g. sudo usermod -aG dialout $USER, then log out and in",
                   path);
#endif
      break;
    case EBUSY:
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_BUSY,
                   "Serial port %s is in use by another program: close that first", path);
      break;
    default:
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO,
                   "Cannot open %s: %s", path, g_strerror (errsv));
      break;
    }
}

guint
bms_transport_get_baud (BmsTransport *self)
{
  BmsTransportInterface *iface;

  g_return_val_if_fail (BMS_IS_TRANSPORT (self), 0);

  iface = BMS_TRANSPORT_GET_IFACE (self);
  return iface->get_baud != NULL ? iface->get_baud (self) : 0;
}

/* Scheme registry */

static GMutex schemes_lock;
static GHashTable *schemes; /* scheme (lower case) -> BmsTransportFactory */

void
bms_transport_register_scheme (const char *scheme, BmsTransportFactory factory)
{
  g_return_if_fail (scheme != NULL && *scheme != '\0');
  g_return_if_fail (factory != NULL);

  g_mutex_lock (&schemes_lock);
  if (schemes == NULL)
    schemes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_replace (schemes, g_ascii_strdown (scheme, -1), factory);
  g_mutex_unlock (&schemes_lock);
}

static BmsTransportFactory
lookup_scheme (const char *scheme)
{
  g_autofree char *key = g_ascii_strdown (scheme, -1);
  BmsTransportFactory factory = NULL;

  g_mutex_lock (&schemes_lock);
  if (schemes != NULL)
    factory = g_hash_table_lookup (schemes, key);
  g_mutex_unlock (&schemes_lock);
  return factory;
}

BmsTransport *
bms_transport_new_for_uri (const char *uri, guint baud, GError **error)
{
  const char *sep;

  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (*uri == '\0')
    {
      g_set_error_literal (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID,
                           "No port given: use a serial port (e.g. /dev/ttyUSB0 or COM3), "
                           "tcp://host:port or sim://");
      return NULL;
    }
  if (!check_baud (baud, error))
    return NULL;

  sep = strstr (uri, "://");
  if (sep != NULL)
    {
      g_autofree char *scheme = g_strndup (uri, sep - uri);
      BmsTransportFactory factory;

      if (g_ascii_strcasecmp (scheme, "tcp") == 0)
        {
          BmsTransport *tcp = bms_tcp_transport_new_for_uri (uri, error);

          if (tcp != NULL)
            bms_transport_set_baud (tcp, baud, NULL);
          return tcp;
        }
      factory = lookup_scheme (scheme);
      if (factory != NULL)
        return factory (uri, baud, error);
      if (g_ascii_strcasecmp (scheme, "sim") == 0)
        {
          g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID,
                       "The simulator is not available in this program ('%s'): "
                       "use packwatch-sim --pty PATH or --tcp PORT and connect to that",
                       uri);
          return NULL;
        }
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID,
                   "Unknown scheme '%s' in '%s': use a serial port, tcp://host:port or sim://",
                   scheme, uri);
      return NULL;
    }

  return BMS_TRANSPORT (bms_serial_transport_new (uri, baud));
}

/* Port listing */

void
bms_port_info_free (BmsPortInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->description);
  g_free (info->vid_pid);
  g_free (info);
}

static const struct
{
  guint16 vid, pid;
  const char *chip;
} known_adapters[] = {
  { 0x1a86, 0x7523, "USB-SERIAL CH340" },
  { 0x1a86, 0x5523, "USB-SERIAL CH341" },
  { 0x1a86, 0x55d4, "USB-SERIAL CH9102" },
  { 0x0403, 0x6001, "FTDI FT232R USB UART" },
  { 0x0403, 0x6010, "FTDI FT2232 USB UART" },
  { 0x0403, 0x6015, "FTDI FT-X USB UART" },
  { 0x10c4, 0xea60, "CP210x USB to UART Bridge" },
  { 0x067b, 0x2303, "Prolific PL2303 USB-Serial" },
};

static const char *
known_adapter_name (guint16 vid, guint16 pid)
{
  for (gsize i = 0; i < G_N_ELEMENTS (known_adapters); i++)
    if (known_adapters[i].vid == vid && known_adapters[i].pid == pid)
      return known_adapters[i].chip;
  return NULL;
}

/* Product strings some adapters give that say nothing about the chip (the
 * CH340 says "USB Serial"); compared lower case, letters and digits only. */
static gboolean
is_generic_description (const char *text)
{
  static const char *const generic[] = { "usbserial", "usb20serial", "usbserialcontroller",
                                         "usbserialport", "usbuart", "usb2serial", NULL };
  g_autoptr(GString) key = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (g_ascii_isalnum (*p))
      g_string_append_c (key, g_ascii_tolower (*p));
  return g_strv_contains (generic, key->str);
}

BmsPortInfo *
bms_port_info_new (const char *name, const char *os_description, guint16 vid, guint16 pid)
{
  BmsPortInfo *info;
  g_autofree char *base = NULL;
  g_autofree char *suffix = NULL;
  const char *label = NULL;
  const char *chip = known_adapter_name (vid, pid);
  gboolean useful;

  g_return_val_if_fail (name != NULL, NULL);

  info = g_new0 (BmsPortInfo, 1);
  info->name = g_strdup (name);
  info->vid = vid;
  info->pid = pid;
  if (vid != 0 || pid != 0)
    info->vid_pid = g_strdup_printf ("%04x:%04x", vid, pid);

  base = g_path_get_basename (name);
  suffix = g_strdup_printf ("(%s)", base);
  /* Empty, only the device name again, or generic: the chip says more. */
  useful = os_description != NULL && *os_description != '\0'
           && g_strcmp0 (os_description, base) != 0 && g_strcmp0 (os_description, name) != 0
           && !(chip != NULL && is_generic_description (os_description));
  if (useful)
    label = os_description;
  else if (chip != NULL)
    label = chip;
  else if (info->vid_pid != NULL)
    label = "USB serial adapter";
  else
    label = "Serial port";

  /* Windows descriptions already end in "(COM3)". */
  if (g_str_has_suffix (label, suffix))
    info->description = g_strdup (label);
  else
    info->description = g_strdup_printf ("%s %s", label, suffix);
  return info;
}

GPtrArray *
bms_transport_list_ports (GError **error)
{
  struct sp_port **list = NULL;
  enum sp_return rc;
  GPtrArray *ports;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  rc = sp_list_ports (&list);
  if (rc != SP_OK)
    {
      g_autofree char *msg = rc == SP_ERR_FAIL ? sp_last_error_message () : NULL;

      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO,
                   "Could not list serial ports: %s",
                   msg != NULL ? msg : "the operating system gave no reason");
      return NULL;
    }

  ports = g_ptr_array_new_with_free_func ((GDestroyNotify) bms_port_info_free);
  for (gsize i = 0; list[i] != NULL; i++)
    {
      int vid = 0, pid = 0;

      if (sp_get_port_transport (list[i]) != SP_TRANSPORT_USB
          || sp_get_port_usb_vid_pid (list[i], &vid, &pid) != SP_OK)
        vid = pid = 0;
      g_ptr_array_add (ports, bms_port_info_new (sp_get_port_name (list[i]),
                                                 sp_get_port_description (list[i]),
                                                 (guint16) vid, (guint16) pid));
    }
  sp_free_port_list (list);
  return ports;
}
