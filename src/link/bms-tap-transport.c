/* bms-tap-transport.c — pass-through transport keeping the last reply
 * frame read (see bms-tap-transport.h). */

#include "config.h"

#include "bms-tap-transport.h"

#include "bms-frame.h"

struct _BmsTapTransport
{
  GObject parent_instance;

  BmsTransport *inner;
  BmsFrameParser *parser; /* the worker thread's only */
  GMutex lock;
  BmsFrame *last_reply; /* under lock */
};

static void bms_tap_transport_iface_init (BmsTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BmsTapTransport, bms_tap_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BMS_TYPE_TRANSPORT,
                                                      bms_tap_transport_iface_init))

static void
on_frame (BmsFrame *frame, gpointer user_data)
{
  BmsTapTransport *self = user_data;

  if (frame->transport != BMS_TRANSPORT_REPLY)
    {
      bms_frame_free (frame); /* an adapter's echo of our request */
      return;
    }
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->last_reply, bms_frame_free);
  self->last_reply = frame;
  g_mutex_unlock (&self->lock);
}

static gboolean
tap_open (BmsTransport *transport, GError **error)
{
  BmsTapTransport *self = BMS_TAP_TRANSPORT (transport);

  bms_frame_parser_reset (self->parser);
  return bms_transport_open (self->inner, error);
}

static void
tap_close (BmsTransport *transport)
{
  bms_transport_close (BMS_TAP_TRANSPORT (transport)->inner);
}

static gboolean
tap_set_baud (BmsTransport *transport, guint baud, GError **error)
{
  return bms_transport_set_baud (BMS_TAP_TRANSPORT (transport)->inner, baud, error);
}

/* A new request: whatever half frame is buffered belongs to the old one. */
static gboolean
tap_write (BmsTransport *transport, const guint8 *data, gsize len, GError **error)
{
  BmsTapTransport *self = BMS_TAP_TRANSPORT (transport);

  bms_frame_parser_reset (self->parser);
  return bms_transport_write (self->inner, data, len, error);
}

static gssize
tap_read (BmsTransport *transport, guint8 *buf, gsize len, guint timeout_ms, GError **error)
{
  BmsTapTransport *self = BMS_TAP_TRANSPORT (transport);
  gssize n = bms_transport_read (self->inner, buf, len, timeout_ms, error);

  if (n > 0)
    bms_frame_parser_push (self->parser, buf, (gsize)n);
  return n;
}

static void
tap_flush_input (BmsTransport *transport)
{
  BmsTapTransport *self = BMS_TAP_TRANSPORT (transport);

  bms_frame_parser_reset (self->parser);
  bms_transport_flush_input (self->inner);
}

static const char *
tap_get_name (BmsTransport *transport)
{
  return bms_transport_get_name (BMS_TAP_TRANSPORT (transport)->inner);
}

static guint
tap_get_baud (BmsTransport *transport)
{
  return bms_transport_get_baud (BMS_TAP_TRANSPORT (transport)->inner);
}

static void
bms_tap_transport_iface_init (BmsTransportInterface *iface)
{
  iface->open = tap_open;
  iface->close = tap_close;
  iface->set_baud = tap_set_baud;
  iface->write = tap_write;
  iface->read = tap_read;
  iface->flush_input = tap_flush_input;
  iface->get_name = tap_get_name;
  iface->get_baud = tap_get_baud;
}

static void
bms_tap_transport_finalize (GObject *object)
{
  BmsTapTransport *self = BMS_TAP_TRANSPORT (object);

  g_clear_object (&self->inner);
  g_clear_pointer (&self->parser, bms_frame_parser_free);
  g_clear_pointer (&self->last_reply, bms_frame_free);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (bms_tap_transport_parent_class)->finalize (object);
}

static void
bms_tap_transport_class_init (BmsTapTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bms_tap_transport_finalize;
}

static void
bms_tap_transport_init (BmsTapTransport *self)
{
  g_mutex_init (&self->lock);
  self->parser = bms_frame_parser_new (on_frame, NULL, self);
}

BmsTransport *
bms_tap_transport_new (BmsTransport *inner)
{
  BmsTapTransport *self;

  g_return_val_if_fail (BMS_IS_TRANSPORT (inner), NULL);

  self = g_object_new (BMS_TYPE_TAP_TRANSPORT, NULL);
  self->inner = g_object_ref (inner);
  return BMS_TRANSPORT (self);
}

GBytes *
bms_tap_transport_take_reply (BmsTapTransport *self, guint8 command)
{
  g_autoptr (BmsFrame) frame = NULL;
  GByteArray *bytes;

  g_return_val_if_fail (BMS_IS_TAP_TRANSPORT (self), NULL);

  g_mutex_lock (&self->lock);
  frame = g_steal_pointer (&self->last_reply);
  g_mutex_unlock (&self->lock);
  if (frame == NULL || frame->command != command)
    return NULL;
  bytes = g_byte_array_new ();
  bms_frame_encode (frame, bytes);
  return g_byte_array_free_to_bytes (bytes);
}
