/* bms-graph-painter.c — geometry, palette, text and the one draw () entry
 * (layers: bms-graph-painter-private.h). */
#include "config.h"

#include "bms-graph-painter-private.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* --- geometry ----------------------------------------------------------- */

static void
pane_clear (gpointer data)
{
  BmsGraphPane *pane = data;

  g_clear_pointer (&pane->unit, g_free);
  g_clear_object (&pane->axis);
}

void
bms_graph_geometry_init (BmsGraphGeometry *geo)
{
  geo->panes = g_array_new (FALSE, TRUE, sizeof (BmsGraphPane));
  g_array_set_clear_func (geo->panes, pane_clear);
  geo->legend = g_array_new (FALSE, TRUE, sizeof (BmsGraphLegendHit));
}

void
bms_graph_geometry_reset (BmsGraphGeometry *geo)
{
  g_array_set_size (geo->panes, 0);
  g_array_set_size (geo->legend, 0);
}

void
bms_graph_geometry_clear (BmsGraphGeometry *geo)
{
  g_clear_pointer (&geo->panes, g_array_unref);
  g_clear_pointer (&geo->legend, g_array_unref);
}

/* --- palette ------------------------------------------------------------ */

/* Adwaita palette names per slot: a darker shade on light backgrounds, a
 * lighter one in dark mode (contrast against the view background). */
static const struct {
  const char *light, *dark;
  const char *light_hex, *dark_hex;
} slot_colors[BMS_GRAPH_N_SLOTS] = {
  { "blue_4",   "blue_2",   "#1c71d8", "#62a0ea" },
  { "red_3",    "red_1",    "#e01b24", "#f66151" },
  { "green_5",  "green_3",  "#26a269", "#33d17a" },
  { "orange_4", "orange_2", "#e66100", "#ffa348" },
  { "purple_3", "purple_2", "#9141ac", "#c061cb" },
  { "yellow_5", "yellow_3", "#e5a50a", "#f6d32d" },
  { "brown_3",  "brown_1",  "#986a44", "#cdab8f" },
  /* Adwaita 1.2 has no teal: these names only resolve in themes that
   * define them, else the fallback keeps this slot apart from the blues. */
  { "teal_4",   "teal_2",   "#1c8a7b", "#4fd1c5" },
  { "red_1",    "red_4",    "#f66151", "#c01c28" },
  { "dark_2",   "light_4",  "#5e5c64", "#c0bfbc" },
};

static void
color_from_hex (BmsGraphColor *c,
                const char    *hex)
{
  guint v = (guint) g_ascii_strtoull (hex + 1, NULL, 16);

  c->red = ((v >> 16) & 0xff) / 255.f;
  c->green = ((v >> 8) & 0xff) / 255.f;
  c->blue = (v & 0xff) / 255.f;
  c->alpha = 1;
}

const char *
bms_graph_palette_slot_name (guint    slot,
                             gboolean dark)
{
  g_return_val_if_fail (slot < BMS_GRAPH_N_SLOTS, NULL);
  return dark ? slot_colors[slot].dark : slot_colors[slot].light;
}

void
bms_graph_palette_set_default (BmsGraphPalette *palette,
                               gboolean         dark)
{
  palette->dark = dark;
  /* Adwaita's window text (#000000cc) and view background. */
  color_from_hex (&palette->fg, dark ? "#ffffff" : "#000000");
  palette->fg.alpha = dark ? 1.f : 0.8f;
  color_from_hex (&palette->bg, dark ? "#1e1e1e" : "#ffffff");
  for (guint i = 0; i < BMS_GRAPH_N_SLOTS; i++)
    color_from_hex (&palette->slots[i], dark ? slot_colors[i].dark_hex : slot_colors[i].light_hex);
}

/* --- painter ------------------------------------------------------------ */

void
bms_graph_painter_init (BmsGraphPainter *self,
                        GListModel      *series)
{
  g_return_if_fail (G_IS_LIST_MODEL (series));

  memset (self, 0, sizeof *self);
  self->series = g_object_ref (series);
  self->buckets = g_array_new (FALSE, FALSE, sizeof (BmsGraphBucket));
  bms_graph_palette_set_default (&self->palette, FALSE);
}

void
bms_graph_painter_clear (BmsGraphPainter *self)
{
  g_clear_object (&self->series);
  g_clear_pointer (&self->buckets, g_array_unref);
  g_clear_pointer (&self->font, pango_font_description_free);
}

void
bms_graph_painter_set_font (BmsGraphPainter            *self,
                            const PangoFontDescription *font)
{
  g_clear_pointer (&self->font, pango_font_description_free);
  if (font)
    self->font = pango_font_description_copy (font);
}

/* --- text --------------------------------------------------------------- */

PangoLayout *
bms_graph_painter_create_layout (BmsGraphPainter *self,
                                 cairo_t         *cr)
{
  PangoLayout *layout;
  g_autoptr(PangoFontDescription) small = self->font ? pango_font_description_copy (self->font)
                                                     : pango_font_description_from_string ("Sans 10");

  if (self->context)
    {
      pango_cairo_update_context (cr, self->context);
      layout = pango_layout_new (self->context);
    }
  else
    layout = pango_cairo_create_layout (cr);
  /* Axis labels a little smaller than body text, as in GNOME's charts. An
   * absolute size (the report's, in its own units) stays absolute. */
  if (pango_font_description_get_size (small) > 0
      && pango_font_description_get_size_is_absolute (small))
    pango_font_description_set_absolute_size (small, pango_font_description_get_size (small) * 9 / 10);
  else if (pango_font_description_get_size (small) > 0)
    pango_font_description_set_size (small, pango_font_description_get_size (small) * 9 / 10);
  pango_layout_set_font_description (layout, small);
  return layout;
}

void
bms_graph_text_size (PangoLayout *layout,
                     const char  *text,
                     double      *w,
                     double      *h)
{
  int pw, ph;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &pw, &ph);
  if (w)
    *w = pw;
  if (h)
    *h = ph;
}

void
bms_graph_show_text (cairo_t     *cr,
                     PangoLayout *layout,
                     const char  *text,
                     double       x,
                     double       y)
{
  pango_layout_set_text (layout, text, -1);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

/* --- drawing ------------------------------------------------------------ */

static void
draw_empty_note (BmsGraphPainter        *self,
                 cairo_t                *cr,
                 PangoLayout            *layout,
                 const BmsGraphGeometry *geo,
                 const char             *text)
{
  const BmsGraphPane *pane = &g_array_index (geo->panes, BmsGraphPane, 0);
  double w, h;

  bms_graph_text_size (layout, text, &w, &h);
  bms_graph_set_source (cr, &self->palette.fg, 0.55);
  bms_graph_show_text (cr, layout, text, geo->plot_x + (geo->plot_w - w) / 2,
                       pane->y + (pane->h - h) / 2);
}

void
bms_graph_painter_draw (BmsGraphPainter  *self,
                        cairo_t          *cr,
                        int               width,
                        int               height,
                        double            t0,
                        double            t1,
                        BmsGraphGeometry *geo)
{
  g_autoptr(PangoLayout) layout = NULL;
  double legend_bottom, label_h, bottom;
  gboolean any_visible = FALSE;

  g_return_if_fail (self != NULL && self->series != NULL);
  g_return_if_fail (cr != NULL && geo != NULL);

  if (width <= 0 || height <= 0)
    return;
  layout = bms_graph_painter_create_layout (self, cr);
  bms_graph_geometry_reset (geo);
  geo->width = width;
  geo->height = height;
  geo->t0 = t0;
  geo->t1 = t1;

  bms_graph_set_source (cr, &self->palette.bg, 1);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);

  bms_graph_text_size (layout, "0:00", NULL, &label_h);
  legend_bottom = bms_graph_painter_layout_legend (self, layout, width, geo);
  bms_graph_painter_layout_panes (self, geo);
  bottom = height - BMS_GRAPH_PAD - label_h - 4;
  bms_graph_painter_place_panes (geo, legend_bottom, bottom, label_h);
  geo->plot_x = round (BMS_GRAPH_PAD + bms_graph_painter_measure_value_labels (layout, geo) + 6);
  geo->plot_w = MAX (width - geo->plot_x - BMS_GRAPH_PAD - 4, 10);

  bms_graph_painter_draw_legend (self, cr, layout, geo);
  bms_graph_painter_draw_time_axis (self, cr, layout, geo, legend_bottom, bottom);
  for (guint p = 0; p < geo->panes->len; p++)
    {
      const BmsGraphPane *pane = &g_array_index (geo->panes, BmsGraphPane, p);

      bms_graph_painter_draw_pane_frame (self, cr, layout, geo, pane);
      any_visible |= bms_graph_painter_draw_pane_curves (self, cr, geo, pane);
    }

  if (bms_graph_painter_n_series (self) == 0)
    draw_empty_note (self, cr, layout, geo, _("No series selected"));
  else if (!any_visible)
    draw_empty_note (self, cr, layout, geo, _("Every series is hidden: click one in the legend"));
}
