/* bms-sim-endpoint.c — the simulator on a pseudo-terminal or a TCP port.
 *
 * One loop per line: poll the line (and the cancellable) at least every
 * 20 ms, advance the sim with real time × scale, hand incoming bytes to the
 * sim and let its reply out byte by byte at 10/baud s each (wire timing),
 * starting after the request's own wire time plus any injected delay.
 */
#define _GNU_SOURCE
#include "bms-sim-private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define TICK_MS 20

typedef struct
{
  BmsSim *sim;
  guint baud;
  gboolean wire_timing;
  GByteArray *tx;
  gint64 tx_due_us; /* when tx->data[0] may go out */
  gint64 clock_us;
} Line;

typedef enum
{
  LINE_HANGUP,  /* the peer went away (TCP) */
  LINE_DROPPED, /* the disconnect fault is on */
  LINE_CANCELLED,
  LINE_ERROR,
} LineEnd;

static double
byte_us (Line *line)
{
  return line->wire_timing ? 10.0 * G_USEC_PER_SEC / line->baud : 0;
}

static void
line_init (Line *line, BmsSim *sim, guint baud, gboolean wire_timing)
{
  line->sim = sim;
  line->baud = baud ? baud : 9600;
  line->wire_timing = wire_timing;
  line->tx = g_byte_array_new ();
  line->clock_us = g_get_monotonic_time ();
}

static void
line_clear (Line *line)
{
  g_clear_pointer (&line->tx, g_byte_array_unref);
}

static void
line_queue (Line *line, GByteArray *bytes, gint64 start_us)
{
  if (bytes->len == 0)
    return;
  if (line->tx->len == 0)
    line->tx_due_us = start_us + (gint64)byte_us (line);
  g_byte_array_append (line->tx, bytes->data, bytes->len);
}

static void
line_tick (Line *line, gint64 now)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();

  if (now > line->clock_us)
    {
      bms_sim_advance (line->sim,
                       (now - line->clock_us) / 1e6 * bms_sim_get_time_scale (line->sim));
      line->clock_us = now;
    }
  bms_sim_receive (line->sim, NULL, 0, out); /* the bootloader's own bytes */
  line_queue (line, out, now);
}

static gboolean
line_write_due (Line *line, int fd, gint64 now, GError **error)
{
  double per = byte_us (line);
  guint n;
  gssize w;

  if (line->tx->len == 0 || now < line->tx_due_us)
    return TRUE;
  n = per > 0 ? MIN (line->tx->len, (guint)((now - line->tx_due_us) / per) + 1) : line->tx->len;
  w = write (fd, line->tx->data, n);
  if (w < 0)
    {
      if (errno == EAGAIN || errno == EINTR)
        return TRUE;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Writing to the line failed: %s", g_strerror (errno));
      return FALSE;
    }
  g_byte_array_remove_range (line->tx, 0, w);
  line->tx_due_us += (gint64)(w * per);
  return TRUE;
}

static int
poll_timeout (Line *line, gint64 now)
{
  int ms = TICK_MS;

  if (line->tx->len > 0)
    ms = MIN (ms, (int)MAX (0, (line->tx_due_us - now + 999) / 1000));
  return ms;
}

/* Serves one connected line until it ends. */
static LineEnd
line_serve (Line *line, int fd, GCancellable *cancellable, GError **error)
{
  GPollFD cancel_fd = { -1, 0, 0 };
  gboolean have_cancel = cancellable && g_cancellable_make_pollfd (cancellable, &cancel_fd);
  LineEnd end = LINE_ERROR;
  guint8 buf[4096];

  for (;;)
    {
      struct pollfd pfd[2] = { { fd, POLLIN, 0 }, { cancel_fd.fd, POLLIN, 0 } };
      gint64 now = g_get_monotonic_time ();
      int r;

      line_tick (line, now);
      if (g_cancellable_is_cancelled (cancellable))
        {
          end = LINE_CANCELLED;
          break;
        }
      if (bms_sim_is_disconnected (line->sim))
        {
          end = LINE_DROPPED;
          break;
        }
      if (!line_write_due (line, fd, now, error))
        break;

      r = poll (pfd, have_cancel ? 2 : 1, poll_timeout (line, now));
      if (r < 0 && errno != EINTR)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                       "Waiting on the line failed: %s", g_strerror (errno));
          break;
        }
      if (r > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
        {
          gssize n = read (fd, buf, sizeof buf);
          g_autoptr (GByteArray) out = g_byte_array_new ();

          if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EIO)))
            {
              end = LINE_HANGUP;
              break;
            }
          if (n < 0 && errno != EAGAIN && errno != EINTR)
            {
              g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                           "Reading from the line failed: %s", g_strerror (errno));
              break;
            }
          if (n > 0)
            {
              now = g_get_monotonic_time ();
              bms_sim_receive (line->sim, buf, n, out);
              line_queue (line, out,
                          now + (gint64)(n * byte_us (line))
                              + (gint64)bms_sim_get_reply_delay_ms (line->sim) * 1000);
            }
        }
    }
  if (have_cancel)
    g_cancellable_release_fd (cancellable);
  return end;
}

/* Keeps the sim's clock running while the line is down; FALSE if cancelled. */
static gboolean
wait_reconnect (Line *line, GCancellable *cancellable)
{
  while (bms_sim_is_disconnected (line->sim))
    {
      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      g_usleep (TICK_MS * 1000);
      line_tick (line, g_get_monotonic_time ());
    }
  g_byte_array_set_size (line->tx, 0);
  return !g_cancellable_is_cancelled (cancellable);
}

/* ---- pseudo-terminal ----------------------------------------------------- */

static gboolean
make_raw (int fd, GError **error)
{
  struct termios tio;

  if (tcgetattr (fd, &tio) < 0)
    goto fail;
  cfmakeraw (&tio);
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  if (tcsetattr (fd, TCSANOW, &tio) < 0)
    goto fail;
  return TRUE;
fail:
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
               "Cannot set the pseudo-terminal to raw mode: %s", g_strerror (errno));
  return FALSE;
}

/* A new pty; its slave end stays open here so the master never sees EIO
 * when a client closes, and is linked at link_path. */
static gboolean
open_pty (const char *link_path, int *master_out, int *slave_out, GError **error)
{
  struct stat st;
  const char *name;
  int master, slave = -1;

  master = posix_openpt (O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt (master) < 0 || unlockpt (master) < 0
      || (name = ptsname (master)) == NULL)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot create a pseudo-terminal: %s", g_strerror (errno));
      goto fail;
    }
  slave = open (name, O_RDWR | O_NOCTTY);
  if (slave < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "Cannot open %s: %s", name,
                   g_strerror (errno));
      goto fail;
    }
  if (!make_raw (slave, error))
    goto fail;
  fcntl (master, F_SETFL, fcntl (master, F_GETFL) | O_NONBLOCK);

  if (lstat (link_path, &st) == 0)
    {
      if (!S_ISLNK (st.st_mode))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                       "%s exists and is not a symbolic link: choose another --pty path",
                       link_path);
          goto fail;
        }
      unlink (link_path);
    }
  if (symlink (name, link_path) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot create the link %s -> %s: %s", link_path, name, g_strerror (errno));
      goto fail;
    }
  *master_out = master;
  *slave_out = slave;
  return TRUE;

fail:
  if (slave >= 0)
    close (slave);
  if (master >= 0)
    close (master);
  return FALSE;
}

gboolean
bms_sim_serve_pty (BmsSim *sim, const char *link_path, guint baud, gboolean wire_timing,
                   GCancellable *cancellable, GError **error)
{
  Line line;
  gboolean ok = TRUE, announced = FALSE;

  g_return_val_if_fail (sim != NULL && link_path != NULL, FALSE);
  line_init (&line, sim, baud, wire_timing);
  for (;;)
    {
      int master, slave;
      LineEnd end;

      if (!open_pty (link_path, &master, &slave, error))
        {
          ok = FALSE;
          break;
        }
      if (!announced)
        bms_sim_notify_ready (sim, link_path);
      announced = TRUE;
      end = line_serve (&line, master, cancellable, error);
      close (slave);
      close (master);
      unlink (link_path);
      if (end == LINE_ERROR)
        ok = FALSE;
      /* A pty has no hang-up of its own (we hold the slave); only the
       * disconnect fault takes it away, until the fault is cleared. */
      if (end != LINE_DROPPED || !wait_reconnect (&line, cancellable))
        break;
    }
  line_clear (&line);
  return ok;
}

/* ---- TCP ----------------------------------------------------------------- */

static GSocket *
listen_tcp (guint16 port, guint16 *bound_port, GError **error)
{
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, port);
  g_autoptr (GSocketAddress) local = NULL;

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return NULL;
  if (!g_socket_bind (sock, addr, TRUE, error) || !g_socket_listen (sock, error))
    {
      g_prefix_error (error, "Cannot listen on 127.0.0.1:%u: ", port);
      return NULL;
    }
  g_socket_set_blocking (sock, FALSE);
  local = g_socket_get_local_address (sock, error);
  if (local == NULL)
    return NULL;
  *bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  return g_steal_pointer (&sock);
}

gboolean
bms_sim_serve_tcp (BmsSim *sim, guint16 port, guint baud, gboolean wire_timing,
                   GCancellable *cancellable, GError **error)
{
  g_autoptr (GSocket) server = NULL;
  g_autofree char *where = NULL;
  guint16 bound = 0;
  Line line;

  g_return_val_if_fail (sim != NULL, FALSE);
  server = listen_tcp (port, &bound, error);
  if (server == NULL)
    return FALSE;
  where = g_strdup_printf ("tcp://127.0.0.1:%u", bound);
  bms_sim_notify_ready (sim, where);

  line_init (&line, sim, baud, wire_timing);
  while (!g_cancellable_is_cancelled (cancellable))
    {
      g_autoptr (GSocket) client = NULL;
      g_autoptr (GError) local = NULL;
      struct pollfd pfd = { g_socket_get_fd (server), POLLIN, 0 };
      LineEnd end;

      line_tick (&line, g_get_monotonic_time ());
      if (poll (&pfd, 1, TICK_MS) <= 0)
        continue;
      client = g_socket_accept (server, NULL, &local);
      if (client == NULL)
        continue;
      if (bms_sim_is_disconnected (sim))
        continue; /* the board is "unplugged": hang up at once */
      g_socket_set_blocking (client, FALSE);
      g_byte_array_set_size (line.tx, 0);
      end = line_serve (&line, g_socket_get_fd (client), cancellable, &local);
      /* One client's broken connection does not stop the board. */
      if (end == LINE_ERROR)
        g_printerr ("packwatch-sim: %s\n", local->message);
    }
  line_clear (&line);
  return TRUE;
}
