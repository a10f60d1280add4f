/* bms-termios-transport.c — POSIX termios backend (see the header). */
#include "bms-termios-transport.h"

#ifdef G_OS_UNIX

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#define WRITE_TIMEOUT_MS 2000

struct _BmsTermiosTransport
{
  GObject parent_instance;

  char *path;
  guint baud;
  int fd;
};

static void bms_termios_transport_iface_init (BmsTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BmsTermiosTransport, bms_termios_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BMS_TYPE_TRANSPORT,
                                                      bms_termios_transport_iface_init))

static speed_t
baud_to_speed (guint baud)
{
  switch (baud)
    {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    default: return B0;
    }
}

static void
set_gone_error (BmsTermiosTransport *self, GError **error)
{
  g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO,
               "%s: port disappeared (adapter unplugged?)", self->path);
}

static gboolean
check_open (BmsTermiosTransport *self, GError **error)
{
  if (self->fd >= 0)
    return TRUE;
  g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_CLOSED,
               "%s is not open", self->path);
  return FALSE;
}

static gboolean
apply_termios (BmsTermiosTransport *self, guint baud, GError **error)
{
  struct termios tio;
  speed_t speed = baud_to_speed (baud);

  if (speed == B0)
    {
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID,
                   "Unsupported baud rate %u", baud);
      return FALSE;
    }
  if (tcgetattr (self->fd, &tio) != 0)
    goto fail;
  cfmakeraw (&tio);
  tio.c_cflag &= ~(CSIZE | PARENB | CSTOPB);
#ifdef CRTSCTS
  tio.c_cflag &= ~CRTSCTS;
#endif
  tio.c_cflag |= CS8 | CLOCAL | CREAD;
  tio.c_iflag &= ~(IXON | IXOFF | IXANY);
  tio.c_cc[VMIN] = 0;
  tio.c_cc[VTIME] = 0;
  if (cfsetspeed (&tio, speed) != 0 || tcsetattr (self->fd, TCSANOW, &tio) != 0)
    goto fail;
  self->baud = baud;
  return TRUE;

fail:
  {
    int errsv = errno;
    g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO,
                 "Cannot configure %s at %u baud: %s", self->path, baud, g_strerror (errsv));
    return FALSE;
  }
}

static gboolean
bms_termios_transport_open (BmsTransport *transport, GError **error)
{
  BmsTermiosTransport *self = BMS_TERMIOS_TRANSPORT (transport);
  int fd;

  if (self->fd >= 0)
    return TRUE;

  fd = open (self->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      bms_transport_set_open_error (error, self->path, errno);
      return FALSE;
    }
  if (!isatty (fd))
    {
      close (fd);
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID,
                   "%s is not a serial port or terminal", self->path);
      return FALSE;
    }
  self->fd = fd;
  if (!apply_termios (self, self->baud, error))
    {
      close (fd);
      self->fd = -1;
      return FALSE;
    }
  tcflush (fd, TCIOFLUSH);
  return TRUE;
}

static void
bms_termios_transport_close (BmsTransport *transport)
{
  BmsTermiosTransport *self = BMS_TERMIOS_TRANSPORT (transport);

  if (self->fd < 0)
    return;
  close (self->fd);
  self->fd = -1;
}

static gboolean
bms_termios_transport_set_baud (BmsTransport *transport, guint baud, GError **error)
{
  BmsTermiosTransport *self = BMS_TERMIOS_TRANSPORT (transport);

  if (self->fd < 0)
    {
      self->baud = baud; /* applied when opened */
      return TRUE;
    }
  return apply_termios (self, baud, error);
}

/* Waits for events on the fd; returns revents, 0 on timeout, -1 on error. */
static int
wait_fd (int fd, short events, int timeout_ms)
{
  struct pollfd pfd = { .fd = fd, .events = events };
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      int rc = poll (&pfd, 1, timeout_ms);

      if (rc >= 0)
        return rc == 0 ? 0 : pfd.revents;
      if (errno != EINTR)
        return -1;
      timeout_ms = MAX (0, (int) ((deadline - g_get_monotonic_time ()) / 1000));
    }
}

static gboolean
bms_termios_transport_write (BmsTransport *transport, const guint8 *data, gsize len,
                             GError **error)
{
  BmsTermiosTransport *self = BMS_TERMIOS_TRANSPORT (transport);
  gsize done = 0;

  if (!check_open (self, error))
    return FALSE;

  while (done < len)
    {
      ssize_t n = write (self->fd, data + done, len - done);
      int revents;

      if (n > 0)
        {
          done += n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        {
          if (errno == EIO || errno == ENXIO || errno == ENODEV)
            set_gone_error (self, error);
          else
            g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO,
                         "Write to %s failed: %s", self->path, g_strerror (errno));
          return FALSE;
        }
      revents = wait_fd (self->fd, POLLOUT, WRITE_TIMEOUT_MS);
      if (revents == 0)
        {
          g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO,
                       "Write to %s timed out: the line does not take data", self->path);
          return FALSE;
        }
      if (revents < 0 || (revents & (POLLHUP | POLLERR | POLLNVAL)))
        {
          set_gone_error (self, error);
          return FALSE;
        }
    }
  return TRUE;
}

static gssize
bms_termios_transport_read (BmsTransport *transport, guint8 *buf, gsize len, guint timeout_ms,
                            GError **error)
{
  BmsTermiosTransport *self = BMS_TERMIOS_TRANSPORT (transport);
  int revents;
  ssize_t n;

  if (!check_open (self, error))
    return -1;

  revents = wait_fd (self->fd, POLLIN, (int) MIN (timeout_ms, G_MAXINT));
  if (revents == 0)
    return 0;
  /* Data still buffered is delivered before the hang-up is reported. */
  if (revents < 0 || ((revents & (POLLHUP | POLLERR | POLLNVAL)) && !(revents & POLLIN)))
    {
      set_gone_error (self, error);
      return -1;
    }

  do
    n = read (self->fd, buf, len);
  while (n < 0 && errno == EINTR);

  if (n > 0)
    return n;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 0;
  if (n == 0 || errno == EIO || errno == ENXIO || errno == ENODEV)
    set_gone_error (self, error);
  else
    g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO,
                 "Read from %s failed: %s", self->path, g_strerror (errno));
  return -1;
}

static void
bms_termios_transport_flush_input (BmsTransport *transport)
{
  BmsTermiosTransport *self = BMS_TERMIOS_TRANSPORT (transport);

  if (self->fd >= 0)
    tcflush (self->fd, TCIFLUSH);
}

static const char *
bms_termios_transport_get_name (BmsTransport *transport)
{
  return BMS_TERMIOS_TRANSPORT (transport)->path;
}

static guint
bms_termios_transport_get_baud (BmsTransport *transport)
{
  return BMS_TERMIOS_TRANSPORT (transport)->baud;
}

static void
bms_termios_transport_iface_init (BmsTransportInterface *iface)
{
  iface->open = bms_termios_transport_open;
  iface->close = bms_termios_transport_close;
  iface->set_baud = bms_termios_transport_set_baud;
  iface->write = bms_termios_transport_write;
  iface->read = bms_termios_transport_read;
  iface->flush_input = bms_termios_transport_flush_input;
  iface->get_name = bms_termios_transport_get_name;
  iface->get_baud = bms_termios_transport_get_baud;
}

static void
bms_termios_transport_finalize (GObject *object)
{
  BmsTermiosTransport *self = BMS_TERMIOS_TRANSPORT (object);

  bms_termios_transport_close (BMS_TRANSPORT (self));
  g_free (self->path);
  G_OBJECT_CLASS (bms_termios_transport_parent_class)->finalize (object);
}

static void
bms_termios_transport_class_init (BmsTermiosTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bms_termios_transport_finalize;
}

static void
bms_termios_transport_init (BmsTermiosTransport *self)
{
  self->fd = -1;
  self->baud = 9600;
}

BmsTermiosTransport *
bms_termios_transport_new (const char *path, guint baud)
{
  BmsTermiosTransport *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (BMS_TYPE_TERMIOS_TRANSPORT, NULL);
  self->path = g_strdup (path);
  if (baud != 0)
    self->baud = baud;
  return self;
}

#endif /* G_OS_UNIX */
