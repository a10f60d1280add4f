/* bms-serial-transport.c — libserialport backend (see the header). */
#include "bms-serial-transport.h"

#include <errno.h>
#include <string.h>
#include <libserialport.h>

#include "bms-termios-transport.h"

#ifdef G_OS_WIN32
#include <windows.h>
#endif

#define WRITE_TIMEOUT_MS 2000

struct _BmsSerialTransport
{
  GObject parent_instance;

  char *name;
  guint baud;
  struct sp_port *port;       /* open through libserialport */
  BmsTransport *fallback;     /* or open through termios */
};

static void bms_serial_transport_iface_init (BmsTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BmsSerialTransport, bms_serial_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BMS_TYPE_TRANSPORT,
                                                      bms_serial_transport_iface_init))

/* libserialport reports the OS error code: errno on POSIX, GetLastError ()
 * on Windows. Bring both to errno values. */
static int
last_errno (enum sp_return rc)
{
  int code;

  if (rc != SP_ERR_FAIL)
    return rc == SP_ERR_ARG ? ENOENT : EIO;
  code = sp_last_error_code ();
#ifdef G_OS_WIN32
  switch (code)
    {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: return ENOENT;
    case ERROR_ACCESS_DENIED: return EACCES;
    case ERROR_SHARING_VIOLATION: return EBUSY;
    default: return EIO;
    }
#endif
  return code;
}

static void
set_sp_error (BmsSerialTransport *self, GError **error, enum sp_return rc, const char *what)
{
  g_autofree char *msg = rc == SP_ERR_FAIL ? sp_last_error_message () : NULL;

  g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO, "%s %s failed: %s", what,
               self->name, msg != NULL ? g_strstrip (msg) : "unsupported by the driver");
}

static void
set_gone_error (BmsSerialTransport *self, GError **error)
{
  g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO,
               "%s: port disappeared (adapter unplugged?)", self->name);
}

static gboolean
port_vanished (BmsSerialTransport *self)
{
#ifdef G_OS_UNIX
  /* A USB adapter's device node goes away when it is unplugged. */
  return g_path_is_absolute (self->name) && !g_file_test (self->name, G_FILE_TEST_EXISTS);
#else
  return FALSE;
#endif
}

static gboolean
configure (BmsSerialTransport *self, guint baud, GError **error)
{
  enum sp_return rc;

  if ((rc = sp_set_baudrate (self->port, (int) baud)) != SP_OK
      || (rc = sp_set_bits (self->port, 8)) != SP_OK
      || (rc = sp_set_parity (self->port, SP_PARITY_NONE)) != SP_OK
      || (rc = sp_set_stopbits (self->port, 1)) != SP_OK
      || (rc = sp_set_flowcontrol (self->port, SP_FLOWCONTROL_NONE)) != SP_OK)
    {
      set_sp_error (self, error, rc, "Configuring");
      return FALSE;
    }
  self->baud = baud;
  return TRUE;
}

#ifdef G_OS_UNIX
/* libserialport 0.1.1 refuses pseudo-terminals (and some odd drivers):
 * open those through termios. */
static gboolean
open_fallback (BmsSerialTransport *self, GError **error)
{
  g_autoptr(BmsTermiosTransport) termios = bms_termios_transport_new (self->name, self->baud);

  if (!bms_transport_open (BMS_TRANSPORT (termios), error))
    return FALSE;
  self->fallback = BMS_TRANSPORT (g_steal_pointer (&termios));
  return TRUE;
}
#endif

static gboolean
bms_serial_transport_open (BmsTransport *transport, GError **error)
{
  BmsSerialTransport *self = BMS_SERIAL_TRANSPORT (transport);
  enum sp_return rc;
  int errsv;

  if (self->port != NULL || self->fallback != NULL)
    return TRUE;

  rc = sp_get_port_by_name (self->name, &self->port);
  if (rc == SP_OK)
    {
      rc = sp_open (self->port, SP_MODE_READ_WRITE);
      if (rc == SP_OK)
        {
          if (configure (self, self->baud, error))
            {
              sp_flush (self->port, SP_BUF_BOTH);
              return TRUE;
            }
          sp_close (self->port);
          sp_free_port (self->port);
          self->port = NULL;
#ifdef G_OS_UNIX
          g_clear_error (error);
          return open_fallback (self, error);
#else
          return FALSE;
#endif
        }
      errsv = last_errno (rc);
      sp_free_port (self->port);
      self->port = NULL;
    }
  else
    errsv = last_errno (rc);

#ifdef G_OS_UNIX
  /* libserialport 0.1.1 says only "invalid argument" for anything it does
   * not see as a serial port in sysfs (pseudo-terminals included); termios
   * opens those, and reports a missing path precisely. */
  if (errsv == EACCES || errsv == EPERM || errsv == EBUSY)
    {
      bms_transport_set_open_error (error, self->name, errsv);
      return FALSE;
    }
  return open_fallback (self, error);
#else
  bms_transport_set_open_error (error, self->name, errsv);
  return FALSE;
#endif
}

static void
bms_serial_transport_close (BmsTransport *transport)
{
  BmsSerialTransport *self = BMS_SERIAL_TRANSPORT (transport);

  if (self->fallback != NULL)
    {
      bms_transport_close (self->fallback);
      g_clear_object (&self->fallback);
    }
  if (self->port != NULL)
    {
      sp_close (self->port);
      sp_free_port (self->port);
      self->port = NULL;
    }
}

static gboolean
check_open (BmsSerialTransport *self, GError **error)
{
  if (self->port != NULL)
    return TRUE;
  g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_CLOSED, "%s is not open",
               self->name);
  return FALSE;
}

static gboolean
bms_serial_transport_set_baud (BmsTransport *transport, guint baud, GError **error)
{
  BmsSerialTransport *self = BMS_SERIAL_TRANSPORT (transport);

  if (self->fallback != NULL)
    {
      if (!bms_transport_set_baud (self->fallback, baud, error))
        return FALSE;
      self->baud = baud;
      return TRUE;
    }
  if (self->port == NULL)
    {
      self->baud = baud; /* applied when opened */
      return TRUE;
    }
  return configure (self, baud, error);
}

static gboolean
bms_serial_transport_write (BmsTransport *transport, const guint8 *data, gsize len,
                            GError **error)
{
  BmsSerialTransport *self = BMS_SERIAL_TRANSPORT (transport);
  enum sp_return rc;

  if (self->fallback != NULL)
    return bms_transport_write (self->fallback, data, len, error);
  if (!check_open (self, error))
    return FALSE;

  rc = sp_blocking_write (self->port, data, len, WRITE_TIMEOUT_MS);
  if (rc < 0)
    {
      if (port_vanished (self) || last_errno (rc) == EIO)
        set_gone_error (self, error);
      else
        set_sp_error (self, error, rc, "Writing to");
      return FALSE;
    }
  if ((gsize) rc < len)
    {
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO,
                   "Write to %s timed out after %d of %" G_GSIZE_FORMAT " bytes", self->name,
                   (int) rc, len);
      return FALSE;
    }
  return TRUE;
}

static gssize
bms_serial_transport_read (BmsTransport *transport, guint8 *buf, gsize len, guint timeout_ms,
                           GError **error)
{
  BmsSerialTransport *self = BMS_SERIAL_TRANSPORT (transport);
  enum sp_return rc;

  if (self->fallback != NULL)
    return bms_transport_read (self->fallback, buf, len, timeout_ms, error);
  if (!check_open (self, error))
    return -1;

  /* A timeout of 0 means "forever" to libserialport. */
  if (timeout_ms == 0)
    rc = sp_nonblocking_read (self->port, buf, len);
  else
    rc = sp_blocking_read_next (self->port, buf, len, timeout_ms);
  if (rc < 0)
    {
      if (port_vanished (self) || last_errno (rc) == EIO)
        set_gone_error (self, error);
      else
        set_sp_error (self, error, rc, "Reading from");
      return -1;
    }
  if (rc == 0 && port_vanished (self))
    {
      set_gone_error (self, error);
      return -1;
    }
  return rc;
}

static void
bms_serial_transport_flush_input (BmsTransport *transport)
{
  BmsSerialTransport *self = BMS_SERIAL_TRANSPORT (transport);

  if (self->fallback != NULL)
    bms_transport_flush_input (self->fallback);
  else if (self->port != NULL)
    sp_flush (self->port, SP_BUF_INPUT);
}

static const char *
bms_serial_transport_get_name (BmsTransport *transport)
{
  return BMS_SERIAL_TRANSPORT (transport)->name;
}

static guint
bms_serial_transport_get_baud (BmsTransport *transport)
{
  return BMS_SERIAL_TRANSPORT (transport)->baud;
}

static void
bms_serial_transport_iface_init (BmsTransportInterface *iface)
{
  iface->open = bms_serial_transport_open;
  iface->close = bms_serial_transport_close;
  iface->set_baud = bms_serial_transport_set_baud;
  iface->write = bms_serial_transport_write;
  iface->read = bms_serial_transport_read;
  iface->flush_input = bms_serial_transport_flush_input;
  iface->get_name = bms_serial_transport_get_name;
  iface->get_baud = bms_serial_transport_get_baud;
}

static void
bms_serial_transport_finalize (GObject *object)
{
  BmsSerialTransport *self = BMS_SERIAL_TRANSPORT (object);

  bms_serial_transport_close (BMS_TRANSPORT (self));
  g_free (self->name);
  G_OBJECT_CLASS (bms_serial_transport_parent_class)->finalize (object);
}

static void
bms_serial_transport_class_init (BmsSerialTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bms_serial_transport_finalize;
}

static void
bms_serial_transport_init (BmsSerialTransport *self)
{
  self->baud = 9600;
}

BmsSerialTransport *
bms_serial_transport_new (const char *port_name, guint baud)
{
  BmsSerialTransport *self;

  g_return_val_if_fail (port_name != NULL, NULL);

  self = g_object_new (BMS_TYPE_SERIAL_TRANSPORT, NULL);
#ifdef G_OS_UNIX
  /* "ttyUSB0" means the device node, not a file in the current folder. */
  if (strchr (port_name, '/') == NULL)
    self->name = g_build_filename ("/dev", port_name, NULL);
  else
#endif
    self->name = g_strdup (port_name);
  if (baud != 0)
    self->baud = baud;
  return self;
}

gboolean
bms_serial_transport_get_uses_termios (BmsSerialTransport *self)
{
  g_return_val_if_fail (BMS_IS_SERIAL_TRANSPORT (self), FALSE);

  return self->fallback != NULL;
}
