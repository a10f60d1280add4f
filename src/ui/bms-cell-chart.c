/* bms-cell-chart.c — cell voltages as bars against the protection and
 * balance-start lines, what the vendor tool's dials showed at a glance: how
 * far the cells are from each limit and which ones balance.
 *
 * The scale always holds the lines, so a bar's height reads against them;
 * the cell grid beside it gives the millivolts. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "bms-cell-chart.h"
#include "bms-field.h"

#define MARGIN_TOP    6
#define MARGIN_BOTTOM 4

struct _BmsCellChart
{
  GtkWidget parent_instance;

  guint16   mv[BMS_MAX_CELLS];
  guint     n;
  guint     ovp, uvp, balance;
  guint     n_redraws;
};

G_DEFINE_FINAL_TYPE (BmsCellChart, bms_cell_chart, GTK_TYPE_WIDGET)

typedef struct
{
  GdkRGBA fg, bar, warning, error, accent;
} Palette;

static void
lookup (GtkWidget *widget, const char *name, GdkRGBA *out, const char *fallback)
{
  if (!gtk_style_context_lookup_color (gtk_widget_get_style_context (widget), name, out))
    gdk_rgba_parse (out, fallback);
}

static void
palette_init (BmsCellChart *self, Palette *p)
{
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &p->fg);
  lookup (GTK_WIDGET (self), "accent_color", &p->accent, "#1c71d8");
  lookup (GTK_WIDGET (self), "warning_color", &p->warning, "#9c6e03");
  lookup (GTK_WIDGET (self), "error_color", &p->error, "#c01c28");
  lookup (GTK_WIDGET (self), "success_color", &p->bar, "#26a269");
}

static void
source (cairo_t *cr, const GdkRGBA *c, double alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

/* The millivolts at the bottom and the top: the cells and every line, with
 * some room. */
static void
scale (BmsCellChart *self, double *lo, double *hi)
{
  guint values[3] = { self->ovp, self->uvp, self->balance };

  *lo = G_MAXDOUBLE;
  *hi = 0;
  for (guint i = 0; i < self->n; i++)
    {
      *lo = MIN (*lo, self->mv[i]);
      *hi = MAX (*hi, self->mv[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    if (values[i] > 0)
      {
        *lo = MIN (*lo, values[i]);
        *hi = MAX (*hi, values[i]);
      }
  if (*hi <= *lo)
    *hi = *lo + 100;
  *lo -= (*hi - *lo) * 0.1;
  *hi += (*hi - *lo) * 0.05;
}

/* The widest line label: the bars end where the labels begin. */
static int
label_width (PangoLayout *layout, char **texts, guint n)
{
  int widest = 0, w, h;

  for (guint i = 0; i < n; i++)
    if (texts[i] != NULL)
      {
        pango_layout_set_text (layout, texts[i], -1);
        pango_layout_get_pixel_size (layout, &w, &h);
        widest = MAX (widest, w);
      }
  return widest + 8;
}

static void
draw_line (cairo_t *cr, const GdkRGBA *c, PangoLayout *layout, const char *text, double y,
           double plot_w)
{
  int w, h;

  source (cr, c, 1);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, 0, y + 0.5);
  cairo_line_to (cr, plot_w, y + 0.5);
  cairo_stroke (cr);
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, plot_w + 6, y - h / 2.0);
  pango_cairo_show_layout (cr, layout);
}

void
bms_cell_chart_draw (BmsCellChart *self, cairo_t *cr, int width, int height)
{
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  double lo, hi, plot_w, plot_h = height - MARGIN_TOP - MARGIN_BOTTOM;
  double slot;
  Palette p;
  const guint mv[3] = { self->ovp, self->balance, self->uvp };
  const GdkRGBA *colours[3] = { &p.error, &p.accent, &p.error };
  char *texts[3];

  g_return_if_fail (BMS_IS_CELL_CHART (self));
  if (self->n == 0 || plot_h < 20)
    return;
  /* TRANSLATORS: the line of the over/under-voltage protection in the chart */
  texts[0] = self->ovp > 0 ? g_strdup_printf (_("Protection %u mV"), self->ovp) : NULL;
  /* TRANSLATORS: the line where balancing starts */
  texts[1] = self->balance > 0 ? g_strdup_printf (_("Balance start %u mV"), self->balance) : NULL;
  texts[2] = self->uvp > 0 ? g_strdup_printf (_("Protection %u mV"), self->uvp) : NULL;
  plot_w = width - label_width (layout, texts, 3);
  if (plot_w >= 20)
    {
      palette_init (self, &p);
      scale (self, &lo, &hi);
      slot = plot_w / self->n;
#define Y(v) (MARGIN_TOP + plot_h * (1 - ((v) - lo) / (hi - lo)))
      for (guint i = 0; i < self->n; i++)
        {
          const GdkRGBA *c = self->ovp > 0 && self->mv[i] >= self->ovp ? &p.error
                             : self->uvp > 0 && self->mv[i] <= self->uvp ? &p.error
                             : self->balance > 0 && self->mv[i] >= self->balance ? &p.warning
                             : &p.bar;
          double top = Y (self->mv[i]);
          double gap = slot > 6 ? MAX (1, slot * 0.15) : 0;

          source (cr, c, 0.8);
          cairo_rectangle (cr, i * slot + gap / 2, top, MAX (slot - gap, 1),
                           height - MARGIN_BOTTOM - top);
          cairo_fill (cr);
        }
      for (guint i = 0; i < 3; i++)
        if (texts[i] != NULL)
          draw_line (cr, colours[i], layout, texts[i], Y ((double) mv[i]), plot_w);
#undef Y
    }
  for (guint i = 0; i < 3; i++)
    g_free (texts[i]);
}

static void
bms_cell_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));

  bms_cell_chart_draw (BMS_CELL_CHART (widget), cr, w, h);
  cairo_destroy (cr);
}

static void
redraw (BmsCellChart *self)
{
  self->n_redraws++;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
bms_cell_chart_set_cells (BmsCellChart *self, const guint16 *mv, guint n)
{
  g_return_if_fail (BMS_IS_CELL_CHART (self));
  n = MIN (n, BMS_MAX_CELLS);
  if (n == self->n && memcmp (mv, self->mv, n * sizeof *mv) == 0)
    return;
  memcpy (self->mv, mv, n * sizeof *mv);
  self->n = n;
  redraw (self);
}

void
bms_cell_chart_set_lines (BmsCellChart *self, guint ovp_mv, guint uvp_mv, guint balance_start_mv)
{
  g_return_if_fail (BMS_IS_CELL_CHART (self));
  if (self->ovp == ovp_mv && self->uvp == uvp_mv && self->balance == balance_start_mv)
    return;
  self->ovp = ovp_mv;
  self->uvp = uvp_mv;
  self->balance = balance_start_mv;
  redraw (self);
}

guint
bms_cell_chart_get_n_redraws (BmsCellChart *self)
{
  g_return_val_if_fail (BMS_IS_CELL_CHART (self), 0);
  return self->n_redraws;
}

static void
bms_cell_chart_class_init (BmsCellChartClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  widget_class->snapshot = bms_cell_chart_snapshot;
  gtk_widget_class_set_css_name (widget_class, "cellchart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
bms_cell_chart_init (BmsCellChart *self)
{
  gtk_widget_set_size_request (GTK_WIDGET (self), 200, 150);
}

GtkWidget *
bms_cell_chart_new (void)
{
  return g_object_new (BMS_TYPE_CELL_CHART, NULL);
}
