/* bms-loopback-transport.c — the in-process line to a simulated board.
 *
 * A request written here goes straight into the sim; its reply is queued
 * with a due time per byte (10/baud s each when wire timing is on, after the
 * request's own wire time and any injected delay) and read() hands out only
 * bytes that are due. The sim's clock is brought up to date (real time ×
 * time scale) on every call. A line baud that differs from the board's
 * garbles the bytes, as a real UART would.
 */
#include "bms-loopback-transport.h"

#include <string.h>

#include "bms-sim-private.h"

#define POLL_US 20000 /* wake this often while waiting for a reply */
#define BOOTLOADER_BAUD 9600

struct _BmsLoopbackTransport
{
  GObject parent_instance;

  GMutex lock;
  GCond cond;
  BmsSim *sim;
  gboolean owns_sim;
  gboolean wire_timing;
  guint baud, board_baud;
  gboolean open;
  char *name;

  gint64 clock_us;  /* monotonic time the sim was last advanced to */
  GByteArray *rx;   /* reply bytes on their way to the reader */
  gint64 rx_due_us; /* due time of rx->data[0] */
};

static void bms_loopback_transport_iface_init (BmsTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BmsLoopbackTransport, bms_loopback_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BMS_TYPE_TRANSPORT,
                                                      bms_loopback_transport_iface_init))

static double
byte_us (BmsLoopbackTransport *self)
{
  return self->wire_timing ? 10.0 * G_USEC_PER_SEC / self->baud : 0;
}

static guint
board_baud (BmsLoopbackTransport *self)
{
  return bms_sim_is_booting (self->sim) ? BOOTLOADER_BAUD : self->board_baud;
}

/* Bytes from the sim, first one due no earlier than start_us, sent at the
 * speed the board ran at when it took the request (the reply to 0xBD still
 * comes from the application, the last ACK still from the bootloader). */
static void
queue_reply (BmsLoopbackTransport *self, GByteArray *bytes, gint64 start_us, guint sent_baud)
{
  if (bytes->len == 0)
    return;
  if (sent_baud != self->baud)
    for (guint i = 0; i < bytes->len; i++)
      bytes->data[i] = (bytes->data[i] >> 1) | 0x80; /* framing garbage */
  if (self->rx->len == 0)
    self->rx_due_us = start_us + (gint64)byte_us (self);
  g_byte_array_append (self->rx, bytes->data, bytes->len);
  g_cond_broadcast (&self->cond);
}

/* Advances the sim to now and collects what it says unasked (bootloader). */
static void
sync_clock (BmsLoopbackTransport *self, gint64 now)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();

  if (now > self->clock_us)
    {
      bms_sim_advance (self->sim,
                       (now - self->clock_us) / 1e6 * bms_sim_get_time_scale (self->sim));
      self->clock_us = now;
    }
  guint baud = board_baud (self);

  bms_sim_receive (self->sim, NULL, 0, out);
  queue_reply (self, out, now, baud);
}

static guint
bytes_due (BmsLoopbackTransport *self, gint64 now)
{
  double per = byte_us (self);

  if (self->rx->len == 0 || now < self->rx_due_us)
    return 0;
  if (per <= 0)
    return self->rx->len;
  return MIN (self->rx->len, (guint)((now - self->rx_due_us) / per) + 1);
}

static void
take (BmsLoopbackTransport *self, guint n)
{
  g_byte_array_remove_range (self->rx, 0, n);
  self->rx_due_us += (gint64)(n * byte_us (self));
}

static gboolean
check_line (BmsLoopbackTransport *self, GError **error)
{
  if (!self->open)
    {
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_CLOSED, "%s is not open",
                   self->name);
      return FALSE;
    }
  if (bms_sim_is_disconnected (self->sim))
    {
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_IO,
                   "%s: the simulated board was disconnected (adapter unplugged)", self->name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
lb_open (BmsTransport *transport, GError **error)
{
  BmsLoopbackTransport *self = BMS_LOOPBACK_TRANSPORT (transport);

  g_mutex_lock (&self->lock);
  self->open = TRUE;
  self->clock_us = MAX (self->clock_us, g_get_monotonic_time ());
  g_byte_array_set_size (self->rx, 0);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static void
lb_close (BmsTransport *transport)
{
  BmsLoopbackTransport *self = BMS_LOOPBACK_TRANSPORT (transport);

  g_mutex_lock (&self->lock);
  self->open = FALSE;
  g_byte_array_set_size (self->rx, 0);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static gboolean
lb_set_baud (BmsTransport *transport, guint baud, GError **error)
{
  BmsLoopbackTransport *self = BMS_LOOPBACK_TRANSPORT (transport);

  g_mutex_lock (&self->lock);
  self->baud = baud;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
lb_write (BmsTransport *transport, const guint8 *data, gsize len, GError **error)
{
  BmsLoopbackTransport *self = BMS_LOOPBACK_TRANSPORT (transport);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autofree guint8 *copy = g_memdup2 (data, len);
  gboolean ok;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);
  ok = check_line (self, error);
  if (ok)
    {
      guint baud;

      sync_clock (self, now);
      baud = board_baud (self);
      if (baud != self->baud)
        for (gsize i = 0; i < len; i++)
          copy[i] = (copy[i] << 1) | 1;
      bms_sim_receive (self->sim, copy, len, out);
      /* The reply starts once the request is on the board, plus any delay. */
      queue_reply (self, out,
                   now + (gint64)(len * byte_us (self))
                       + (gint64)bms_sim_get_reply_delay_ms (self->sim) * 1000,
                   baud);
    }
  g_mutex_unlock (&self->lock);
  return ok;
}

static gssize
lb_read (BmsTransport *transport, guint8 *buf, gsize len, guint timeout_ms, GError **error)
{
  BmsLoopbackTransport *self = BMS_LOOPBACK_TRANSPORT (transport);
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  gssize result = 0;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      gint64 now = g_get_monotonic_time (), wake;
      guint n;

      if (!check_line (self, error))
        {
          result = -1;
          break;
        }
      sync_clock (self, now);
      n = MIN (bytes_due (self, now), len);
      if (n > 0)
        {
          memcpy (buf, self->rx->data, n);
          take (self, n);
          result = n;
          break;
        }
      if (now >= deadline)
        break;
      wake = MIN (deadline, now + POLL_US);
      if (self->rx->len > 0)
        wake = MIN (wake, self->rx_due_us);
      g_cond_wait_until (&self->cond, &self->lock, wake);
    }
  g_mutex_unlock (&self->lock);
  return result;
}

static void
lb_flush_input (BmsTransport *transport)
{
  BmsLoopbackTransport *self = BMS_LOOPBACK_TRANSPORT (transport);
  gint64 now = g_get_monotonic_time ();

  /* Only what has arrived; bytes still on the wire keep coming. */
  g_mutex_lock (&self->lock);
  take (self, bytes_due (self, now));
  g_mutex_unlock (&self->lock);
}

static const char *
lb_get_name (BmsTransport *transport)
{
  return BMS_LOOPBACK_TRANSPORT (transport)->name;
}

static void
bms_loopback_transport_iface_init (BmsTransportInterface *iface)
{
  iface->open = lb_open;
  iface->close = lb_close;
  iface->set_baud = lb_set_baud;
  iface->write = lb_write;
  iface->read = lb_read;
  iface->flush_input = lb_flush_input;
  iface->get_name = lb_get_name;
}

static void
bms_loopback_transport_finalize (GObject *object)
{
  BmsLoopbackTransport *self = BMS_LOOPBACK_TRANSPORT (object);

  if (self->owns_sim)
    bms_sim_free (self->sim);
  g_byte_array_unref (self->rx);
  g_free (self->name);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (bms_loopback_transport_parent_class)->finalize (object);
}

static void
bms_loopback_transport_class_init (BmsLoopbackTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bms_loopback_transport_finalize;
}

static void
bms_loopback_transport_init (BmsLoopbackTransport *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->rx = g_byte_array_new ();
  self->baud = self->board_baud = 9600;
  self->clock_us = g_get_monotonic_time ();
}

BmsTransport *
bms_loopback_transport_new_owning (BmsSim *sim, gboolean wire_timing, double time_scale,
                                   guint board_baud, const char *name)
{
  BmsLoopbackTransport *self;

  g_return_val_if_fail (sim != NULL, NULL);
  self = g_object_new (BMS_TYPE_LOOPBACK_TRANSPORT, NULL);
  self->sim = sim;
  self->owns_sim = TRUE;
  self->wire_timing = wire_timing;
  bms_sim_set_time_scale (sim, time_scale > 0 ? time_scale : 1);
  self->baud = self->board_baud = board_baud ? board_baud : 9600;
  self->name = g_strdup (name ? name : "sim://");
  return BMS_TRANSPORT (self);
}

BmsTransport *
bms_loopback_transport_new (BmsSim *sim, gboolean wire_timing, double time_scale)
{
  BmsTransport *t = bms_loopback_transport_new_owning (sim, wire_timing, time_scale, 9600, NULL);

  BMS_LOOPBACK_TRANSPORT (t)->owns_sim = FALSE;
  return t;
}

void
bms_loopback_transport_with_sim (BmsLoopbackTransport *self,
                                 void (*fn) (BmsSim *sim, gpointer data), gpointer data)
{
  g_return_if_fail (BMS_IS_LOOPBACK_TRANSPORT (self));
  g_mutex_lock (&self->lock);
  fn (self->sim, data);
  g_mutex_unlock (&self->lock);
}

/* ---- "sim://" ------------------------------------------------------------ */

/* weak-cell=N[:RFACTOR[:CAPFACTOR[:LEAK_MA]]], as --weak-cell. */
static gboolean
parse_weak_cell (const char *spec, GArray *weak, GError **error)
{
  g_autoptr (GError) local = NULL;
  BmsSimWeakCell w;

  if (!bms_sim_weak_cell_parse (spec, &w, &local))
    {
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID,
                   "Bad simulator option 'weak-cell=%s': %s", spec, local->message);
      return FALSE;
    }
  g_array_append_val (weak, w);
  return TRUE;
}

static gboolean
parse_query (BmsSimConfig *config, const char *query, gboolean *wire, double *scale,
             double *ambient, BmsSimFaults *faults, GArray *weak, GError **error)
{
  g_auto (GStrv) pairs = g_strsplit (query, "&", -1);

  for (guint i = 0; pairs[i]; i++)
    {
      g_auto (GStrv) kv = g_strsplit (pairs[i], "=", 2);
      const char *k = kv[0], *v = kv[1] ? kv[1] : "1";
      char *end = NULL;

      if (*k == '\0')
        continue;
      if (g_str_equal (k, "weak-cell"))
        {
          if (!parse_weak_cell (v, weak, error))
            return FALSE;
        }
      else if (g_str_equal (k, "wire"))
        *wire = g_strcmp0 (v, "0") != 0;
      else if (g_str_equal (k, "cycle"))
        config->cycle_profile = g_strcmp0 (v, "0") != 0;
      else if (g_str_equal (k, "scale") && (*scale = g_ascii_strtod (v, &end)) > 0 && *end == '\0')
        ;
      else if (g_str_equal (k, "ambient") && (*ambient = g_ascii_strtod (v, &end), *end == '\0')
               && *ambient >= -40 && *ambient <= 80)
        ;
      else if (g_str_equal (k, "seed")
               && (config->seed = (guint32)g_ascii_strtoull (v, &end, 10), *end == '\0'))
        ;
      else if (g_str_equal (k, "chemistry") && g_str_equal (v, "lfp"))
        config->chemistry = BMS_CHEMISTRY_LFP;
      else if (g_str_equal (k, "chemistry") && g_str_equal (v, "nmc"))
        config->chemistry = BMS_CHEMISTRY_NMC;
      else if (g_str_equal (k, "chemistry") && g_str_equal (v, "lto"))
        config->chemistry = BMS_CHEMISTRY_LTO;
      else if (g_str_equal (k, "lie") && bms_sim_lie_from_string (v, &faults->lie))
        ;
      else if (g_str_equal (k, "dead-cell")
               && (faults->dead_cell = (guint)g_ascii_strtoull (v, &end, 10), *end == '\0')
               && faults->dead_cell <= BMS_MAX_CELLS)
        ;
      else
        {
          g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID,
                       "Bad simulator option '%s': use wire=0|1, cycle=0|1, scale=X, "
                       "ambient=C (-40 to 80), seed=N, chemistry=lfp|nmc|lto, "
                       "lie=soc|temperature|cell-mv|cell-count|missing-cell|duplicate-id "
                       "dead-cell=N or weak-cell=N[:RFACTOR[:CAPFACTOR[:LEAK_MA]]]",
                       pairs[i]);
          return FALSE;
        }
    }
  return TRUE;
}

static BmsTransport *
sim_factory (const char *uri, guint baud, GError **error)
{
  const char *rest = strstr (uri, "://") + 3;
  const char *q = strchr (rest, '?');
  g_autofree char *kind = g_strndup (rest, q ? (gsize)(q - rest) : strlen (rest));
  BmsSimConfig config;
  gboolean wire = TRUE;
  double scale = 1, ambient = 25;
  BmsSimFaults faults = { 0 };
  g_autoptr (GArray) weak = g_array_new (FALSE, TRUE, sizeof (BmsSimWeakCell));
  BmsSim *sim;

  bms_sim_config_init (&config);
  config.cycle_profile = TRUE;
  if (g_str_has_suffix (kind, "/"))
    kind[strlen (kind) - 1] = '\0';
  if (g_str_equal (kind, "master"))
    config.modules = 16;
  else if (*kind != '\0')
    {
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_NOT_FOUND,
                   "Unknown simulator '%s': use sim:// (16 cells) or sim://master (256 cells)",
                   uri);
      return NULL;
    }
  if (q && !parse_query (&config, q + 1, &wire, &scale, &ambient, &faults, weak, error))
    return NULL;
  config.weak_cells = (const BmsSimWeakCell *)weak->data;
  config.n_weak_cells = weak->len;
  sim = bms_sim_new (&config, error);
  if (sim == NULL)
    return NULL;
  bms_sim_set_faults (sim, &faults);
  bms_sim_set_ambient (sim, ambient, TRUE);
  return bms_loopback_transport_new_owning (sim, wire, scale, baud, uri);
}

/* "replay://PATH": a board serving the read-all replies recorded in PATH
 * (bms_sim_set_replay), e.g. a customer's `packwatch-cli capture`. */
static BmsTransport *
replay_factory (const char *uri, guint baud, GError **error)
{
  const char *path = strstr (uri, "://") + 3;
  BmsSimConfig config;
  g_autoptr (BmsSim) sim = NULL;

  if (*path == '\0')
    {
      g_set_error (error, BMS_TRANSPORT_ERROR, BMS_TRANSPORT_ERROR_INVALID,
                   "No recording given in '%s': use replay://FILE", uri);
      return NULL;
    }
  bms_sim_config_init (&config);
  sim = bms_sim_new (&config, error);
  if (sim == NULL || !bms_sim_set_replay (sim, path, error))
    return NULL;
  return bms_loopback_transport_new_owning (g_steal_pointer (&sim), TRUE, 1, baud, uri);
}

void
bms_sim_register_uri_scheme (void)
{
  bms_transport_register_scheme ("sim", sim_factory);
  bms_transport_register_scheme ("replay", replay_factory);
}
