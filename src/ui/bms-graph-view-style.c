/* bms-graph-view-style.c — theme colours and text for the graph layers. */
#include "config.h"

#include "bms-graph-view-private.h"

/* Adwaita palette names per slot: a darker shade on light backgrounds, a
 * lighter one in dark mode (contrast against the view background). */
static const struct {
  const char *light, *dark;
  const char *light_hex, *dark_hex;
} slot_colors[N_SLOTS] = {
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

static double
luminance (const GdkRGBA *c)
{
  return 0.2126 * c->red + 0.7152 * c->green + 0.0722 * c->blue;
}

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
void
bms_graph_view_palette_update (BmsGraphView *self)
{
  GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (self));
  Palette *p = &self->palette;

  gtk_style_context_get_color (context, &p->fg);
  /* Light text means a dark theme; this follows AdwStyleManager and any
   * high-contrast or custom stylesheet alike. */
  p->dark = luminance (&p->fg) > 0.5;
  if (!gtk_style_context_lookup_color (context, "view_bg_color", &p->bg))
    gdk_rgba_parse (&p->bg, p->dark ? "#1e1e1e" : "#ffffff");
  for (guint i = 0; i < N_SLOTS; i++)
    {
      const char *name = p->dark ? slot_colors[i].dark : slot_colors[i].light;
      if (!gtk_style_context_lookup_color (context, name, &p->slots[i]))
        gdk_rgba_parse (&p->slots[i], p->dark ? slot_colors[i].dark_hex
                                              : slot_colors[i].light_hex);
    }
}
G_GNUC_END_IGNORE_DEPRECATIONS

/* --- text --------------------------------------------------------------- */

PangoLayout *
bms_graph_view_create_layout (BmsGraphView *self,
                              cairo_t      *cr)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  const PangoFontDescription *desc =
    pango_context_get_font_description (gtk_widget_get_pango_context (GTK_WIDGET (self)));
  g_autoptr(PangoFontDescription) small = desc ? pango_font_description_copy (desc)
                                               : pango_font_description_from_string ("Sans 10");

  /* Axis labels a little smaller than body text, as in GNOME's charts. */
  if (pango_font_description_get_size (small) > 0)
    pango_font_description_set_size (small, pango_font_description_get_size (small) * 9 / 10);
  pango_layout_set_font_description (layout, small);
  return layout;
}

void
bms_graph_view_text_size (PangoLayout *layout,
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
bms_graph_view_show_text (cairo_t     *cr,
                          PangoLayout *layout,
                          const char  *text,
                          double       x,
                          double       y)
{
  pango_layout_set_text (layout, text, -1);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}
