/* bms-pack-trend.c — pack voltage and current over the last minutes, the
 * live picture the vendor tool gave with two dials, with the history the
 * dials lacked. The samples come from the page's polls; nothing here runs
 * on a timer. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "bms-pack-trend.h"

#define MARGIN  4
#define TEXT_H  16

typedef struct
{
  gint64 time_us;
  double volts;
  double amps;
} Sample;

struct _BmsPackTrend
{
  GtkWidget parent_instance;

  GArray   *samples;   /* Sample, oldest first, within the window */
  guint     n_redraws;
};

G_DEFINE_FINAL_TYPE (BmsPackTrend, bms_pack_trend, GTK_TYPE_WIDGET)

#define WINDOW_US ((gint64) BMS_PACK_TREND_MINUTES * 60 * G_USEC_PER_SEC)

static void
lookup (GtkWidget *widget, const char *name, GdkRGBA *out, const char *fallback)
{
  if (!gtk_style_context_lookup_color (gtk_widget_get_style_context (widget), name, out))
    gdk_rgba_parse (out, fallback);
}

static void
source (cairo_t *cr, const GdkRGBA *c, double alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

static void
range_of (BmsPackTrend *self, gboolean amps, double *lo, double *hi)
{
  *lo = G_MAXDOUBLE;
  *hi = -G_MAXDOUBLE;
  for (guint i = 0; i < self->samples->len; i++)
    {
      const Sample *s = &g_array_index (self->samples, Sample, i);
      double v = amps ? s->amps : s->volts;

      *lo = MIN (*lo, v);
      *hi = MAX (*hi, v);
    }
  /* A flat line sits in the middle, with a sensible span. */
  if (*hi - *lo < (amps ? 1.0 : 0.1))
    {
      double mid = (*hi + *lo) / 2, half = amps ? 0.5 : 0.05;

      *lo = mid - half;
      *hi = mid + half;
    }
}

/* One series, at most one point per pixel column (the samples are fewer
 * than the pixels at one poll a second; a faster poll is thinned). */
static void
plot (BmsPackTrend *self, cairo_t *cr, gboolean amps, double x0, double y0, double w, double h,
      gint64 end_us)
{
  double lo, hi, last_x = -1;

  range_of (self, amps, &lo, &hi);
  for (guint i = 0; i < self->samples->len; i++)
    {
      const Sample *s = &g_array_index (self->samples, Sample, i);
      double x = x0 + w * (1 - (double) (end_us - s->time_us) / WINDOW_US);
      double y = y0 + h * (1 - ((amps ? s->amps : s->volts) - lo) / (hi - lo));

      if (i > 0 && x - last_x < 1 && i + 1 < self->samples->len)
        continue;
      if (last_x < 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
      last_x = x;
    }
  cairo_stroke (cr);
}

static void
label (cairo_t *cr, PangoLayout *layout, const GdkRGBA *c, double x, double y, const char *text,
       gboolean right)
{
  int tw, th;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &tw, &th);
  source (cr, c, 1);
  cairo_move_to (cr, right ? x - tw : x, y);
  pango_cairo_show_layout (cr, layout);
}

void
bms_pack_trend_draw (BmsPackTrend *self, cairo_t *cr, int width, int height)
{
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  GdkRGBA fg, volts_c, amps_c;
  double plot_h = height - 2 * MARGIN - TEXT_H;
  const Sample *last;
  g_autofree char *v_text = NULL, *a_text = NULL, *span = NULL;

  g_return_if_fail (BMS_IS_PACK_TREND (self));
  if (self->samples->len == 0 || plot_h < 20)
    return;
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &fg);
  lookup (GTK_WIDGET (self), "accent_color", &volts_c, "#1c71d8");
  lookup (GTK_WIDGET (self), "warning_color", &amps_c, "#9c6e03");
  last = &g_array_index (self->samples, Sample, self->samples->len - 1);

  /* Frame and the zero of the current when it is in range. */
  source (cr, &fg, 0.15);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, 0.5, MARGIN + TEXT_H + 0.5, width - 1, plot_h - 1);
  cairo_stroke (cr);

  cairo_set_line_width (cr, 1.5);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  source (cr, &volts_c, 1);
  plot (self, cr, FALSE, 0, MARGIN + TEXT_H, width, plot_h, last->time_us);
  source (cr, &amps_c, 1);
  plot (self, cr, TRUE, 0, MARGIN + TEXT_H, width, plot_h, last->time_us);

  v_text = g_strdup_printf (_("Pack voltage %.2f V"), last->volts);
  a_text = g_strdup_printf (_("Current %.1f A"), last->amps);
  span = g_strdup_printf (_("last %u min"), BMS_PACK_TREND_MINUTES);
  label (cr, layout, &volts_c, 0, 0, v_text, FALSE);
  label (cr, layout, &amps_c, width / 2.0, 0, a_text, FALSE);
  label (cr, layout, &fg, width, 0, span, TRUE);
}

static void
bms_pack_trend_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));

  bms_pack_trend_draw (BMS_PACK_TREND (widget), cr, w, h);
  cairo_destroy (cr);
}

void
bms_pack_trend_add (BmsPackTrend *self, gint64 time_us, double volts, double amps)
{
  Sample s = { time_us, volts, amps };
  gboolean changed = TRUE;
  guint old = 0;

  g_return_if_fail (BMS_IS_PACK_TREND (self));
  if (self->samples->len > 0)
    {
      const Sample *last = &g_array_index (self->samples, Sample, self->samples->len - 1);

      if (time_us <= last->time_us)
        return;
      changed = last->volts != volts || last->amps != amps;
    }
  g_array_append_val (self->samples, s);
  while (old < self->samples->len
         && g_array_index (self->samples, Sample, old).time_us < time_us - WINDOW_US)
    old++;
  if (old > 0)
    g_array_remove_range (self->samples, 0, old);
  /* Unchanged values: the picture would differ only by a flat line moving
   * left; skip the frame. */
  if (changed)
    {
      self->n_redraws++;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

void
bms_pack_trend_clear (BmsPackTrend *self)
{
  g_return_if_fail (BMS_IS_PACK_TREND (self));
  if (self->samples->len == 0)
    return;
  g_array_set_size (self->samples, 0);
  self->n_redraws++;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
bms_pack_trend_get_n_samples (BmsPackTrend *self)
{
  g_return_val_if_fail (BMS_IS_PACK_TREND (self), 0);
  return self->samples->len;
}

guint
bms_pack_trend_get_n_redraws (BmsPackTrend *self)
{
  g_return_val_if_fail (BMS_IS_PACK_TREND (self), 0);
  return self->n_redraws;
}

static void
bms_pack_trend_finalize (GObject *object)
{
  g_array_unref (BMS_PACK_TREND (object)->samples);
  G_OBJECT_CLASS (bms_pack_trend_parent_class)->finalize (object);
}

static void
bms_pack_trend_class_init (BmsPackTrendClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = bms_pack_trend_finalize;
  widget_class->snapshot = bms_pack_trend_snapshot;
  gtk_widget_class_set_css_name (widget_class, "packtrend");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
bms_pack_trend_init (BmsPackTrend *self)
{
  self->samples = g_array_new (FALSE, FALSE, sizeof (Sample));
  gtk_widget_set_size_request (GTK_WIDGET (self), 200, 120);
}

GtkWidget *
bms_pack_trend_new (void)
{
  return g_object_new (BMS_TYPE_PACK_TREND, NULL);
}
