/* bms-graph-view-style.c — the painter's colours and font from the theme. */
#include "config.h"

#include "bms-graph-view-private.h"

static double
luminance (const GdkRGBA *c)
{
  return 0.2126 * c->red + 0.7152 * c->green + 0.0722 * c->blue;
}

static void
copy_color (BmsGraphColor *to,
            const GdkRGBA *from)
{
  to->red = from->red;
  to->green = from->green;
  to->blue = from->blue;
  to->alpha = from->alpha;
}

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
void
bms_graph_view_palette_update (BmsGraphView *self)
{
  GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (self));
  BmsGraphPalette *p = &self->painter.palette;
  GdkRGBA fg, c;

  gtk_style_context_get_color (context, &fg);
  /* Light text means a dark theme; this follows AdwStyleManager and any
   * high-contrast or custom stylesheet alike. The names the theme lacks
   * keep Adwaita's colours. */
  bms_graph_palette_set_default (p, luminance (&fg) > 0.5);
  copy_color (&p->fg, &fg);
  if (gtk_style_context_lookup_color (context, "view_bg_color", &c))
    copy_color (&p->bg, &c);
  for (guint i = 0; i < BMS_GRAPH_N_SLOTS; i++)
    if (gtk_style_context_lookup_color (context, bms_graph_palette_slot_name (i, p->dark), &c))
      copy_color (&p->slots[i], &c);
  bms_graph_painter_set_font (&self->painter,
                              pango_context_get_font_description (gtk_widget_get_pango_context (GTK_WIDGET (self))));
}
G_GNUC_END_IGNORE_DEPRECATIONS
