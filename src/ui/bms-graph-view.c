/* bms-graph-view.c — the graph widget: time range, series, input, the one
 * draw () entry and the PNG/SVG exports (layers: bms-graph-view-private.h). */
#include "config.h"

#include "bms-graph-view-private.h"

#include <cairo-svg.h>
#include <glib/gi18n.h>
#include <math.h>

G_DEFINE_FINAL_TYPE (BmsGraphView, bms_graph_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_FOLLOW,
  PROP_TIME_START,
  PROP_TIME_END,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* --- time range --------------------------------------------------------- */

gboolean
bms_graph_view_get_data_range (BmsGraphView *self,
                               double       *t0,
                               double       *t1)
{
  double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;

  g_return_val_if_fail (BMS_IS_GRAPH_VIEW (self), FALSE);

  for (guint i = 0; i < n_series (self); i++)
    {
      double a, b;
      if (!bms_graph_series_get_time_range (series_at (self, i), &a, &b))
        continue;
      lo = MIN (lo, a);
      hi = MAX (hi, b);
    }
  if (lo > hi)
    return FALSE;
  if (t0)
    *t0 = lo;
  if (t1)
    *t1 = hi;
  return TRUE;
}

void
bms_graph_view_apply_range (BmsGraphView *self,
                            double        t0,
                            double        t1)
{
  double span = CLAMP (t1 - t0, BMS_GRAPH_VIEW_MIN_SPAN, BMS_GRAPH_VIEW_MAX_SPAN);
  double centre = (t0 + t1) / 2;

  if (!isfinite (t0) || !isfinite (t1))
    return;
  if (t1 - t0 != span)
    {
      t0 = centre - span / 2;
      t1 = centre + span / 2;
    }
  self->range_set = TRUE;
  if (t0 == self->t0 && t1 == self->t1)
    return;
  self->t0 = t0;
  self->t1 = t1;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIME_START]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIME_END]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Following: the right edge sits just after the newest sample. */
static void
follow_latest (BmsGraphView *self)
{
  double span = self->t1 - self->t0;
  double end;

  if (!bms_graph_view_get_data_range (self, NULL, &end))
    end = g_get_real_time () / (double) G_USEC_PER_SEC;
  end += span * 0.02;
  bms_graph_view_apply_range (self, end - span, end);
}

void
bms_graph_view_get_time_range (BmsGraphView *self,
                               double       *t0,
                               double       *t1)
{
  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));

  if (t0)
    *t0 = self->t0;
  if (t1)
    *t1 = self->t1;
}

void
bms_graph_view_set_time_range (BmsGraphView *self,
                               double        t0,
                               double        t1)
{
  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));
  bms_graph_view_apply_range (self, t0, t1);
}

gboolean
bms_graph_view_get_follow (BmsGraphView *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_VIEW (self), FALSE);
  return self->follow;
}

void
bms_graph_view_set_follow (BmsGraphView *self,
                           gboolean      follow)
{
  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));

  follow = !!follow;
  if (self->follow == follow)
    return;
  self->follow = follow;
  if (follow)
    follow_latest (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOW]);
}

void
bms_graph_view_show_last (BmsGraphView *self,
                          double        seconds)
{
  double end;

  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));

  if (!bms_graph_view_get_data_range (self, NULL, &end))
    end = g_get_real_time () / (double) G_USEC_PER_SEC;
  bms_graph_view_apply_range (self, end - seconds, end);
  if (self->follow)
    follow_latest (self);
  else
    bms_graph_view_set_follow (self, TRUE);
}

void
bms_graph_view_zoom (BmsGraphView *self,
                     double        factor,
                     double        anchor)
{
  double span, anchor_t, new_span;

  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));
  g_return_if_fail (factor > 0);

  span = self->t1 - self->t0;
  /* While following, zoom about the live edge so it stays in view. */
  if (self->follow)
    anchor = 1.0;
  anchor = CLAMP (anchor, 0, 1);
  anchor_t = self->t0 + anchor * span;
  new_span = CLAMP (span * factor, BMS_GRAPH_VIEW_MIN_SPAN, BMS_GRAPH_VIEW_MAX_SPAN);
  bms_graph_view_apply_range (self, anchor_t - anchor * new_span, anchor_t + (1 - anchor) * new_span);
}

void
bms_graph_view_pan (BmsGraphView *self,
                    double        fraction)
{
  double shift;

  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));

  shift = (self->t1 - self->t0) * fraction;
  bms_graph_view_set_follow (self, FALSE);
  bms_graph_view_apply_range (self, self->t0 + shift, self->t1 + shift);
}

void
bms_graph_view_zoom_to_fit (BmsGraphView *self)
{
  double a, b, margin;

  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));

  if (!bms_graph_view_get_data_range (self, &a, &b))
    return;
  margin = MAX (b - a, BMS_GRAPH_VIEW_MIN_SPAN) * 0.02;
  bms_graph_view_apply_range (self, a - margin, b + margin);
  bms_graph_view_set_follow (self, TRUE);
}

/* --- series list -------------------------------------------------------- */

static void
on_series_changed (BmsGraphView   *self,
                   BmsGraphSeries *series)
{
  if (self->follow)
    follow_latest (self);
  else if (!self->range_set)
    bms_graph_view_zoom_to_fit (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_series_visible (BmsGraphView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
bms_graph_view_add_series (BmsGraphView   *self,
                           BmsGraphSeries *series)
{
  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));
  g_return_if_fail (BMS_IS_GRAPH_SERIES (series));

  g_signal_connect_object (series, "changed", G_CALLBACK (on_series_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (series, "notify::visible", G_CALLBACK (on_series_visible),
                           self, G_CONNECT_SWAPPED);
  g_list_store_append (self->series, series);
  on_series_changed (self, series);
}

void
bms_graph_view_remove_series (BmsGraphView   *self,
                              BmsGraphSeries *series)
{
  guint pos;

  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));
  g_return_if_fail (BMS_IS_GRAPH_SERIES (series));

  if (!g_list_store_find (self->series, series, &pos))
    return;
  g_signal_handlers_disconnect_by_data (series, self);
  g_list_store_remove (self->series, pos);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
bms_graph_view_remove_all (BmsGraphView *self)
{
  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));

  for (guint i = 0; i < n_series (self); i++)
    g_signal_handlers_disconnect_by_data (series_at (self, i), self);
  g_list_store_remove_all (self->series);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GListModel *
bms_graph_view_get_series (BmsGraphView *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_VIEW (self), NULL);
  return G_LIST_MODEL (self->series);
}

BmsGraphSeries *
bms_graph_view_find_series (BmsGraphView *self,
                            const char   *name)
{
  g_return_val_if_fail (BMS_IS_GRAPH_VIEW (self), NULL);

  for (guint i = 0; i < n_series (self); i++)
    if (g_strcmp0 (bms_graph_series_get_name (series_at (self, i)), name) == 0)
      return series_at (self, i);
  return NULL;
}

/* --- drawing ------------------------------------------------------------ */

char **
bms_graph_view_dup_legend (BmsGraphView *self)
{
  g_autoptr(GStrvBuilder) builder = NULL;

  g_return_val_if_fail (BMS_IS_GRAPH_VIEW (self), NULL);

  builder = g_strv_builder_new ();
  for (guint i = 0; i < self->geo.legend->len; i++)
    {
      const BmsGraphLegendHit *hit = &g_array_index (self->geo.legend, BmsGraphLegendHit, i);
      g_strv_builder_add (builder, bms_graph_series_get_label (series_at (self, hit->index)));
    }
  return g_strv_builder_end (builder);
}

void
bms_graph_view_draw (BmsGraphView *self,
                     cairo_t      *cr,
                     int           width,
                     int           height)
{
  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));
  g_return_if_fail (cr != NULL);

  if (width <= 0 || height <= 0)
    return;
  bms_graph_view_palette_update (self);
  bms_graph_painter_draw (&self->painter, cr, width, height, self->t0, self->t1, &self->geo);
}

/* --- widget ------------------------------------------------------------- */

static void
bms_graph_view_snapshot (GtkWidget   *widget,
                         GtkSnapshot *snapshot)
{
  BmsGraphView *self = BMS_GRAPH_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  cairo_t *cr;

  if (width <= 0 || height <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  bms_graph_view_draw (self, cr, width, height);
  bms_graph_view_draw_crosshair (self, cr);
  cairo_destroy (cr);
}

static void
bms_graph_view_measure (GtkWidget      *widget,
                        GtkOrientation  orientation,
                        int             for_size,
                        int            *minimum,
                        int            *natural,
                        int            *minimum_baseline,
                        int            *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 180;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 800 : 480;
}

static void
bms_graph_view_dispose (GObject *object)
{
  BmsGraphView *self = BMS_GRAPH_VIEW (object);

  if (self->series)
    bms_graph_view_remove_all (self);
  g_clear_object (&self->series);
  G_OBJECT_CLASS (bms_graph_view_parent_class)->dispose (object);
}

static void
bms_graph_view_finalize (GObject *object)
{
  BmsGraphView *self = BMS_GRAPH_VIEW (object);

  bms_graph_painter_clear (&self->painter);
  bms_graph_geometry_clear (&self->geo);
  G_OBJECT_CLASS (bms_graph_view_parent_class)->finalize (object);
}

static void
bms_graph_view_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  BmsGraphView *self = BMS_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_FOLLOW:
      g_value_set_boolean (value, self->follow);
      break;
    case PROP_TIME_START:
      g_value_set_double (value, self->t0);
      break;
    case PROP_TIME_END:
      g_value_set_double (value, self->t1);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_graph_view_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  BmsGraphView *self = BMS_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_FOLLOW:
      bms_graph_view_set_follow (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_graph_view_class_init (BmsGraphViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_graph_view_dispose;
  object_class->finalize = bms_graph_view_finalize;
  object_class->get_property = bms_graph_view_get_property;
  object_class->set_property = bms_graph_view_set_property;
  widget_class->snapshot = bms_graph_view_snapshot;
  widget_class->measure = bms_graph_view_measure;

  properties[PROP_FOLLOW] =
    g_param_spec_boolean ("follow", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIME_START] =
    g_param_spec_double ("time-start", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIME_END] =
    g_param_spec_double ("time-end", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  bms_graph_view_input_class_init (widget_class);

  gtk_widget_class_set_css_name (widget_class, "bmsgraphview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
bms_graph_view_init (BmsGraphView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  double now = g_get_real_time () / (double) G_USEC_PER_SEC;

  self->series = g_list_store_new (BMS_TYPE_GRAPH_SERIES);
  bms_graph_painter_init (&self->painter, G_LIST_MODEL (self->series));
  bms_graph_geometry_init (&self->geo);
  self->follow = TRUE;
  self->cursor_t = NAN;
  self->t0 = now - 3600;
  self->t1 = now;

  gtk_widget_set_focusable (widget, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("History graph"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Scroll or press plus and minus to zoom, drag or use the "
                                    "arrow keys to pan, Shift and the arrow keys move a "
                                    "crosshair that reads the values, Home shows everything, "
                                    "End follows new data, 1 to 9 toggle series"),
                                  -1);

  bms_graph_view_input_init (self);
}

GtkWidget *
bms_graph_view_new (void)
{
  return g_object_new (BMS_TYPE_GRAPH_VIEW, NULL);
}

/* --- export ------------------------------------------------------------- */

static cairo_status_t
append_to_bytes (void                *closure,
                 const unsigned char *data,
                 unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* Draw into a surface without disturbing the on-screen hit geometry. */
static void
draw_offscreen (BmsGraphView    *self,
                cairo_surface_t *surface,
                int              width,
                int              height)
{
  Geometry geo = { 0 };
  cairo_t *cr = cairo_create (surface);

  bms_graph_geometry_init (&geo);
  bms_graph_view_palette_update (self);
  bms_graph_painter_draw (&self->painter, cr, width, height, self->t0, self->t1, &geo);
  cairo_destroy (cr);
  bms_graph_geometry_clear (&geo);
}

/* PNG and SVG exports take the same sizes: what cairo can draw. */
static gboolean
check_picture_size (int      width,
                    int      height,
                    GError **error)
{
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Picture size %d × %d is not possible; use 1 to 16384 pixels per side"),
                   width, height);
      return FALSE;
    }
  return TRUE;
}

GBytes *
bms_graph_view_render_png (BmsGraphView *self,
                           int           width,
                           int           height,
                           GError      **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_status_t status;

  g_return_val_if_fail (BMS_IS_GRAPH_VIEW (self), NULL);

  if (!check_picture_size (width, height, error))
    return NULL;
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  draw_offscreen (self, surface, width, height);
  status = cairo_surface_write_to_png_stream (surface, append_to_bytes, bytes);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Could not encode the PNG picture: %s"), cairo_status_to_string (status));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

GBytes *
bms_graph_view_render_svg (BmsGraphView *self,
                           int           width,
                           int           height,
                           GError      **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_status_t status;

  g_return_val_if_fail (BMS_IS_GRAPH_VIEW (self), NULL);

  if (!check_picture_size (width, height, error))
    return NULL;
  surface = cairo_svg_surface_create_for_stream (append_to_bytes, bytes, width, height);
  draw_offscreen (self, surface, width, height);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Could not write the SVG picture: %s"), cairo_status_to_string (status));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}
