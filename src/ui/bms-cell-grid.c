/* bms-cell-grid.c — every cell of a pack as a tile, grouped by module */
#include "config.h"

#include <math.h>
#include <glib/gi18n.h>

#include "bms-cell-grid.h"

#define MAX_CELLS   256
#define MAX_MODULES 16
#define GAP         4
#define GROUP_GAP   4
#define MIN_TILE_W  46
#define MAX_TILE_W  150
#define SMALL_TILE_H 25
#define MAX_GROUPED_TILE_H 38
#define BIG_TILE_H  56
#define LABEL_W     92
#define HEADER_H    16

typedef struct {
  GdkRGBA fg, ok, warning, error, accent;
} Palette;

struct _BmsCellGrid
{
  GtkWidget      parent_instance;

  guint16        mv[MAX_CELLS];
  guint          n_cells;
  guint          module_sizes[MAX_MODULES];
  guint          n_modules;
  guint64        balancing[4];
  double         temps[MAX_MODULES][3];
  guint          n_temp_modules;
  BmsCellLimits  limits;
  gboolean       show_volts;
  int            selected;
  guint          min_index, max_index;

  /* What each tile was last drawn from, and the drawing: a poll that moves
   * a few cells re-renders those tiles only; the rest are appended again
   * as the same nodes, so the renderer's diff repaints only what changed. */
  guint64        tile_keys[MAX_CELLS];
  GskRenderNode *tile_nodes[MAX_CELLS];
  GskRenderNode *labels_node;
  int            cached_width;
  Palette        cached_palette;
  PangoFontDescription *cached_font;
  guint          n_tiles_drawn;
};

G_DEFINE_FINAL_TYPE (BmsCellGrid, bms_cell_grid, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SELECTED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct {
  guint  cols;
  int    label_w;
  int    header_h;
  double tile_w;
  int    tile_h;
} Layout;

static gboolean
is_grouped (BmsCellGrid *self)
{
  return self->n_modules > 1;
}

static guint
max_module_size (BmsCellGrid *self)
{
  guint m = 0;

  if (!is_grouped (self))
    return self->n_cells;
  for (guint i = 0; i < self->n_modules; i++)
    m = MAX (m, self->module_sizes[i]);
  return m;
}

static void
compute_layout (BmsCellGrid *self,
                int          width,
                Layout      *l)
{
  guint widest = MAX (1, max_module_size (self));
  double avail;

  l->label_w = is_grouped (self) ? LABEL_W : 0;
  l->header_h = is_grouped (self) ? HEADER_H : 0;
  l->tile_h = is_grouped (self) ? SMALL_TILE_H : BIG_TILE_H;
  avail = MAX (MIN_TILE_W, width - l->label_w);
  l->cols = widest;
  /* A single board reads better as two rows of big tiles. */
  if (!is_grouped (self) && widest > 8)
    l->cols = (widest + 1) / 2;
  while (l->cols > 1 && (avail + GAP) / l->cols - GAP < MIN_TILE_W)
    l->cols--;
  l->tile_w = MIN (MAX_TILE_W, (avail + GAP) / l->cols - GAP);
  /* Many modules on a wide screen: the tiles grow in height too, up to a
   * grid that still fits 1080 pixels. */
  if (is_grouped (self))
    l->tile_h = CLAMP (l->tile_w * 2 / 5, SMALL_TILE_H, MAX_GROUPED_TILE_H);
}

static guint
group_count (BmsCellGrid *self)
{
  return is_grouped (self) ? self->n_modules : (self->n_cells > 0 ? 1 : 0);
}

static guint
group_size (BmsCellGrid *self,
            guint        group)
{
  return is_grouped (self) ? self->module_sizes[group] : self->n_cells;
}

static int
group_height (BmsCellGrid  *self,
              const Layout *l,
              guint         group)
{
  guint rows = (group_size (self, group) + l->cols - 1) / l->cols;

  return MAX (1, rows) * (l->tile_h + GAP) - GAP;
}

static int
total_height (BmsCellGrid  *self,
              const Layout *l)
{
  int h = l->header_h;
  guint groups = group_count (self);

  for (guint g = 0; g < groups; g++)
    h += group_height (self, l, g) + (g + 1 < groups ? GROUP_GAP : 0);
  return h;
}

/* Rectangle of cell index (pack-wide, 0-based). */
static gboolean
cell_rect (BmsCellGrid     *self,
           const Layout    *l,
           guint            index,
           graphene_rect_t *rect)
{
  guint first = 0;
  int y = l->header_h;

  for (guint g = 0; g < group_count (self); g++)
    {
      guint n = group_size (self, g);

      if (index < first + n)
        {
          guint k = index - first;
          guint row = k / l->cols, col = k % l->cols;

          graphene_rect_init (rect, l->label_w + col * (l->tile_w + GAP),
                              y + row * (l->tile_h + GAP), l->tile_w, l->tile_h);
          return TRUE;
        }
      first += n;
      y += group_height (self, l, g) + GROUP_GAP;
    }
  return FALSE;
}

static int
cell_at (BmsCellGrid *self,
         double       x,
         double       y)
{
  Layout l;
  graphene_rect_t r;

  compute_layout (self, gtk_widget_get_width (GTK_WIDGET (self)), &l);
  for (guint i = 0; i < self->n_cells; i++)
    if (cell_rect (self, &l, i, &r) &&
        graphene_rect_contains_point (&r, &GRAPHENE_POINT_INIT (x, y)))
      return i;
  return -1;
}

static void
cell_position (BmsCellGrid *self,
               guint        index,
               guint       *module,
               guint       *in_module)
{
  guint first = 0;

  *module = 0;
  *in_module = index;
  if (!is_grouped (self))
    return;
  for (guint g = 0; g < self->n_modules; g++)
    {
      if (index < first + self->module_sizes[g])
        {
          *module = g;
          *in_module = index - first;
          return;
        }
      first += self->module_sizes[g];
    }
}

static gboolean
is_balancing (BmsCellGrid *self,
              guint        i)
{
  return (self->balancing[i / 64] >> (i % 64)) & 1;
}

typedef enum { CELL_OK, CELL_WARNING, CELL_ERROR } CellState;

static CellState
cell_state (BmsCellGrid *self,
            guint16      mv)
{
  const BmsCellLimits *l = &self->limits;

  if ((l->ovp_mv && mv >= l->ovp_mv) || (l->uvp_mv && mv <= l->uvp_mv))
    return CELL_ERROR;
  if ((l->ovp_recovery_mv && mv >= l->ovp_recovery_mv) ||
      (l->uvp_recovery_mv && mv <= l->uvp_recovery_mv))
    return CELL_WARNING;
  return CELL_OK;
}

static char *
format_mv (BmsCellGrid *self,
           guint16      mv)
{
  if (self->show_volts)
    return g_strdup_printf ("%.3f", mv / 1000.0);
  return g_strdup_printf ("%u", mv);
}

char *
bms_cell_grid_describe_cell (BmsCellGrid *self,
                             guint        index)
{
  g_autofree char *value = NULL;
  GString *s;
  guint module, in_module;
  CellState state;

  g_return_val_if_fail (BMS_IS_CELL_GRID (self), NULL);
  g_return_val_if_fail (index < self->n_cells, NULL);

  value = format_mv (self, self->mv[index]);
  cell_position (self, index, &module, &in_module);
  s = g_string_new (NULL);
  if (is_grouped (self))
    g_string_append_printf (s, _("Cell %u (module %u, cell %u): %s %s"),
                            index + 1, module + 1, in_module + 1, value,
                            self->show_volts ? "V" : "mV");
  else
    g_string_append_printf (s, _("Cell %u: %s %s"), index + 1, value,
                            self->show_volts ? "V" : "mV");
  if (index == self->max_index)
    g_string_append_printf (s, ", %s", _("highest"));
  if (index == self->min_index)
    g_string_append_printf (s, ", %s", _("lowest"));
  if (is_balancing (self, index))
    g_string_append_printf (s, ", %s", _("balancing"));
  state = cell_state (self, self->mv[index]);
  if (state == CELL_ERROR)
    g_string_append_printf (s, ", %s", _("at a protection limit"));
  else if (state == CELL_WARNING)
    g_string_append_printf (s, ", %s", _("near a protection limit"));
  return g_string_free (s, FALSE);
}

static void
lookup_color (GtkWidget  *widget,
              const char *name,
              GdkRGBA    *color,
              const char *fallback)
{
  GtkStyleContext *context = gtk_widget_get_style_context (widget);

  if (!gtk_style_context_lookup_color (context, name, color))
    gdk_rgba_parse (color, fallback);
}

static void
load_palette (GtkWidget *widget,
              Palette   *p)
{
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &p->fg);
  lookup_color (widget, "success_color", &p->ok, "#26a269");
  lookup_color (widget, "warning_color", &p->warning, "#cd9309");
  lookup_color (widget, "error_color", &p->error, "#c01c28");
  lookup_color (widget, "accent_color", &p->accent, "#1c71d8");
}

static GdkRGBA
with_alpha (const GdkRGBA *c,
            float          alpha)
{
  GdkRGBA r = *c;

  r.alpha = alpha;
  return r;
}

static void
draw_text (GtkSnapshot   *snapshot,
           PangoLayout   *layout,
           const char    *text,
           double         x,
           double         y,
           double         w,
           double         h,
           const GdkRGBA *color)
{
  int tw, th;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &tw, &th);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot,
                          &GRAPHENE_POINT_INIT (floor (x + (w - tw) / 2),
                                                floor (y + (h - th) / 2)));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

static void
draw_tile (BmsCellGrid           *self,
           GtkSnapshot           *snapshot,
           PangoLayout           *layout,
           PangoLayout           *small,
           const Palette         *p,
           const graphene_rect_t *r,
           guint                  i,
           guint16                lo,
           guint16                hi)
{
  GskRoundedRect rounded;
  CellState state = cell_state (self, self->mv[i]);
  const GdkRGBA *tint = state == CELL_ERROR ? &p->error
                      : state == CELL_WARNING ? &p->warning : &p->ok;
  GdkRGBA bg = with_alpha (tint, state == CELL_OK ? 0.16f : 0.40f);
  g_autofree char *value = format_mv (self, self->mv[i]);
  double frac = hi > lo ? (double) (self->mv[i] - lo) / (hi - lo) : 0.5;

  gsk_rounded_rect_init_from_rect (&rounded, r, 5);
  gtk_snapshot_push_rounded_clip (snapshot, &rounded);
  gtk_snapshot_append_color (snapshot, &bg, r);
  /* Where the cell sits between the pack's lowest and highest cell. */
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { p->fg.red, p->fg.green, p->fg.blue, 0.35f },
                             &GRAPHENE_RECT_INIT (r->origin.x, r->origin.y + r->size.height - 3,
                                                  MAX (2, r->size.width * frac), 3));
  if (is_balancing (self, i))
    gtk_snapshot_append_color (snapshot, &p->accent,
                               &GRAPHENE_RECT_INIT (r->origin.x, r->origin.y, 4,
                                                    r->size.height));
  gtk_snapshot_pop (snapshot);

  if ((int) i == self->selected && gtk_widget_has_focus (GTK_WIDGET (self)))
    {
      float w[4] = { 2, 2, 2, 2 };
      GdkRGBA c[4] = { p->accent, p->accent, p->accent, p->accent };
      gtk_snapshot_append_border (snapshot, &rounded, w, c);
    }

  draw_text (snapshot, layout, value, r->origin.x, r->origin.y,
             r->size.width, r->size.height - 2, &p->fg);
  if (!is_grouped (self))
    {
      g_autofree char *num = g_strdup_printf ("%u", i + 1);
      draw_text (snapshot, small, num, r->origin.x + 6, r->origin.y + 2, 18, 14,
                 &(GdkRGBA) { p->fg.red, p->fg.green, p->fg.blue, 0.6f });
    }
  if ((i == self->max_index || i == self->min_index) && is_grouped (self))
    {
      /* Small tiles: a frame, the ▲/▼ would cover the digits. */
      const GdkRGBA *c = i == self->max_index ? &p->error : &p->accent;
      float w[4] = { 2, 2, 2, 2 };
      GdkRGBA cs[4] = { *c, *c, *c, *c };
      gtk_snapshot_append_border (snapshot, &rounded, w, cs);
    }
  else if (i == self->max_index || i == self->min_index)
    draw_text (snapshot, small, i == self->max_index ? "▲" : "▼",
               r->origin.x + r->size.width - 14, r->origin.y + 1, 12, 12,
               i == self->max_index ? &p->error : &p->accent);
}

static char *
module_temps_text (BmsCellGrid *self,
                   guint        module)
{
  GString *s = g_string_new (NULL);

  if (module >= self->n_temp_modules)
    return g_string_free (s, FALSE);
  for (guint t = 0; t < 3; t++)
    if (!isnan (self->temps[module][t]))
      g_string_append_printf (s, "%s%.0f", s->len ? " " : "", self->temps[module][t]);
  if (s->len)
    g_string_append (s, " °C");
  return g_string_free (s, FALSE);
}

static void
draw_labels (BmsCellGrid   *self,
             GtkSnapshot   *snapshot,
             PangoLayout   *small,
             const Layout  *l,
             const Palette *p)
{
  GdkRGBA dim = with_alpha (&p->fg, 0.65f);
  int y = l->header_h;

  for (guint c = 0; c < l->cols; c++)
    {
      g_autofree char *num = g_strdup_printf ("%u", c + 1);
      draw_text (snapshot, small, num, l->label_w + c * (l->tile_w + GAP), 0,
                 l->tile_w, HEADER_H - 2, &dim);
    }
  for (guint g = 0; g < self->n_modules; g++)
    {
      g_autofree char *name = g_strdup_printf (_("Module %u"), g + 1);
      g_autofree char *temps = module_temps_text (self, g);
      int gh = group_height (self, l, g);
      int tw, th;

      pango_layout_set_text (small, name, -1);
      pango_layout_get_pixel_size (small, &tw, &th);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (0, y + (gh - th) / 2 - (*temps ? th / 2 : 0)));
      gtk_snapshot_append_layout (snapshot, small, &p->fg);
      if (*temps)
        {
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (0, th));
          pango_layout_set_text (small, temps, -1);
          gtk_snapshot_append_layout (snapshot, small, &dim);
        }
      gtk_snapshot_restore (snapshot);
      y += gh + GROUP_GAP;
    }
}

static PangoLayout *
make_layout (GtkWidget *widget,
             double     scale,
             gboolean   bold)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, NULL);
  PangoAttrList *attrs = pango_attr_list_new ();

  pango_attr_list_insert (attrs, pango_attr_scale_new (scale));
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum"));
  if (bold)
    pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  return layout;
}

/* Everything a tile's picture depends on besides the layout and the theme
 * (which drop the whole cache): a tile whose key is unchanged looks the same. */
static guint64
tile_key (BmsCellGrid *self,
          guint        i,
          double       tile_w)
{
  guint16 lo = self->mv[self->min_index], hi = self->mv[self->max_index];
  double frac = hi > lo ? (double) (self->mv[i] - lo) / (hi - lo) : 0.5;
  guint64 bar = (guint64) lround (MAX (2, tile_w * frac) * 4);
  guint64 flags = (is_balancing (self, i) ? 1 : 0) |
                  (i == self->max_index ? 2 : 0) |
                  (i == self->min_index ? 4 : 0) |
                  ((int) i == self->selected && gtk_widget_has_focus (GTK_WIDGET (self)) ? 8 : 0);

  return (guint64) self->mv[i] | (guint64) cell_state (self, self->mv[i]) << 16 |
         flags << 18 | bar << 24 | (guint64) 1 << 63;
}

static void
drop_cache (BmsCellGrid *self)
{
  for (guint i = 0; i < MAX_CELLS; i++)
    {
      g_clear_pointer (&self->tile_nodes[i], gsk_render_node_unref);
      self->tile_keys[i] = 0;
    }
  g_clear_pointer (&self->labels_node, gsk_render_node_unref);
}

/* Colours and fonts come from the theme (dark mode, backdrop, a larger
 * font): when they change, every tile is drawn again. */
static void
check_theme (BmsCellGrid *self,
             Palette     *p)
{
  const PangoFontDescription *font =
    pango_context_get_font_description (gtk_widget_get_pango_context (GTK_WIDGET (self)));

  load_palette (GTK_WIDGET (self), p);
  if (memcmp (p, &self->cached_palette, sizeof *p) == 0 && self->cached_font != NULL &&
      font != NULL && pango_font_description_equal (font, self->cached_font))
    return;
  drop_cache (self);
  self->cached_palette = *p;
  g_clear_pointer (&self->cached_font, pango_font_description_free);
  self->cached_font = font ? pango_font_description_copy (font) : NULL;
}

static GskRenderNode *
render_labels (BmsCellGrid   *self,
               const Layout  *l,
               const Palette *p)
{
  g_autoptr(PangoLayout) tiny = make_layout (GTK_WIDGET (self), 0.72, FALSE);
  GtkSnapshot *snapshot = gtk_snapshot_new ();

  draw_labels (self, snapshot, tiny, l, p);
  return gtk_snapshot_free_to_node (snapshot);
}

static void
bms_cell_grid_snapshot (GtkWidget   *widget,
                        GtkSnapshot *snapshot)
{
  BmsCellGrid *self = BMS_CELL_GRID (widget);
  g_autoptr(PangoLayout) layout = NULL;
  g_autoptr(PangoLayout) small = NULL;
  Palette p;
  Layout l;
  graphene_rect_t r;

  if (self->n_cells == 0)
    return;
  if (self->cached_width != gtk_widget_get_width (widget))
    {
      drop_cache (self);
      self->cached_width = gtk_widget_get_width (widget);
    }
  check_theme (self, &p);
  compute_layout (self, self->cached_width, &l);
  if (is_grouped (self) && self->labels_node == NULL)
    self->labels_node = render_labels (self, &l, &p);
  if (self->labels_node != NULL)
    gtk_snapshot_append_node (snapshot, self->labels_node);
  for (guint i = 0; i < self->n_cells; i++)
    {
      guint64 key = tile_key (self, i, l.tile_w);

      if (key != self->tile_keys[i] || self->tile_nodes[i] == NULL)
        {
          GtkSnapshot *tile = gtk_snapshot_new ();

          if (layout == NULL)
            {
              layout = make_layout (widget, is_grouped (self) ? 0.95 : 1.3, !is_grouped (self));
              small = make_layout (widget, 0.8, FALSE);
            }
          if (cell_rect (self, &l, i, &r))
            draw_tile (self, tile, layout, small, &p, &r, i,
                       self->mv[self->min_index], self->mv[self->max_index]);
          g_clear_pointer (&self->tile_nodes[i], gsk_render_node_unref);
          self->tile_nodes[i] = gtk_snapshot_free_to_node (tile);
          self->tile_keys[i] = key;
          self->n_tiles_drawn++;
        }
      if (self->tile_nodes[i] != NULL)
        gtk_snapshot_append_node (snapshot, self->tile_nodes[i]);
    }
}

static void
bms_cell_grid_system_setting_changed (GtkWidget        *widget,
                                      GtkSystemSetting  setting)
{
  GTK_WIDGET_CLASS (bms_cell_grid_parent_class)->system_setting_changed (widget, setting);
  drop_cache (BMS_CELL_GRID (widget));
  gtk_widget_queue_draw (widget);
}

/* Focus shows on the selected tile only. */
static void
bms_cell_grid_state_flags_changed (GtkWidget     *widget,
                                   GtkStateFlags  previous)
{
  GTK_WIDGET_CLASS (bms_cell_grid_parent_class)->state_flags_changed (widget, previous);
  if ((previous ^ gtk_widget_get_state_flags (widget)) & (GTK_STATE_FLAG_FOCUSED | GTK_STATE_FLAG_FOCUS_WITHIN))
    gtk_widget_queue_draw (widget);
}

static void
bms_cell_grid_finalize (GObject *object)
{
  BmsCellGrid *self = BMS_CELL_GRID (object);

  drop_cache (self);
  g_clear_pointer (&self->cached_font, pango_font_description_free);
  G_OBJECT_CLASS (bms_cell_grid_parent_class)->finalize (object);
}

static GtkSizeRequestMode
bms_cell_grid_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
bms_cell_grid_measure (GtkWidget      *widget,
                       GtkOrientation  orientation,
                       int             for_size,
                       int            *minimum,
                       int            *natural,
                       int            *minimum_baseline,
                       int            *natural_baseline)
{
  BmsCellGrid *self = BMS_CELL_GRID (widget);
  Layout l;

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      compute_layout (self, 0, &l);
      *minimum = l.label_w + MIN_TILE_W * MIN (4u, MAX (1u, max_module_size (self)));
      *natural = l.label_w + (MIN_TILE_W + 20 + GAP) * MAX (1u, max_module_size (self));
      return;
    }
  compute_layout (self, for_size < 0 ? 800 : for_size, &l);
  *minimum = *natural = total_height (self, &l);
}

static gboolean
bms_cell_grid_query_tooltip (GtkWidget  *widget,
                             int         x,
                             int         y,
                             gboolean    keyboard,
                             GtkTooltip *tooltip)
{
  BmsCellGrid *self = BMS_CELL_GRID (widget);
  int i = keyboard ? self->selected : cell_at (self, x, y);
  g_autofree char *text = NULL;

  if (i < 0 || (guint) i >= self->n_cells)
    return FALSE;
  text = bms_cell_grid_describe_cell (self, i);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
update_accessible (BmsCellGrid *self)
{
  g_autofree char *summary = NULL;
  g_autofree char *selected = NULL;

  if (self->n_cells == 0)
    summary = g_strdup (_("No cell voltages yet"));
  else
    {
      g_autofree char *hi = format_mv (self, self->mv[self->max_index]);
      g_autofree char *lo = format_mv (self, self->mv[self->min_index]);
      summary = g_strdup_printf (_("%u cells, highest %s (cell %u), lowest %s (cell %u)"),
                                 self->n_cells, hi, self->max_index + 1,
                                 lo, self->min_index + 1);
    }
  if (self->selected >= 0 && (guint) self->selected < self->n_cells)
    selected = bms_cell_grid_describe_cell (self, self->selected);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  selected ? selected : summary, -1);
}

static gboolean
move_selection (GtkWidget *widget,
                GVariant  *args,
                gpointer   user_data)
{
  BmsCellGrid *self = BMS_CELL_GRID (widget);
  int dx, dy;
  Layout l;
  int i;

  if (self->n_cells == 0)
    return FALSE;
  g_variant_get (args, "(ii)", &dx, &dy);
  compute_layout (self, gtk_widget_get_width (widget), &l);
  i = self->selected < 0 ? 0 : self->selected + dx + dy * (int) l.cols;
  bms_cell_grid_set_selected (self, CLAMP (i, 0, (int) self->n_cells - 1));
  return TRUE;
}

static void
pressed (GtkGestureClick *gesture,
         int              n_press,
         double           x,
         double           y,
         BmsCellGrid     *self)
{
  int i = cell_at (self, x, y);

  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (i >= 0)
    bms_cell_grid_set_selected (self, i);
}

static void
bms_cell_grid_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  BmsCellGrid *self = BMS_CELL_GRID (object);

  switch (prop_id)
    {
    case PROP_SELECTED:
      g_value_set_int (value, self->selected);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_cell_grid_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  BmsCellGrid *self = BMS_CELL_GRID (object);

  switch (prop_id)
    {
    case PROP_SELECTED:
      bms_cell_grid_set_selected (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
add_move_binding (GtkWidgetClass *widget_class,
                  guint           key,
                  int             dx,
                  int             dy)
{
  gtk_widget_class_add_binding (widget_class, key, 0, move_selection,
                                "(ii)", dx, dy);
}

static void
bms_cell_grid_class_init (BmsCellGridClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = bms_cell_grid_get_property;
  object_class->set_property = bms_cell_grid_set_property;
  object_class->finalize = bms_cell_grid_finalize;
  widget_class->snapshot = bms_cell_grid_snapshot;
  widget_class->system_setting_changed = bms_cell_grid_system_setting_changed;
  widget_class->state_flags_changed = bms_cell_grid_state_flags_changed;
  widget_class->measure = bms_cell_grid_measure;
  widget_class->get_request_mode = bms_cell_grid_get_request_mode;
  widget_class->query_tooltip = bms_cell_grid_query_tooltip;

  properties[PROP_SELECTED] =
    g_param_spec_int ("selected", NULL, NULL, -1, MAX_CELLS - 1, -1,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                      G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  add_move_binding (widget_class, GDK_KEY_Left, -1, 0);
  add_move_binding (widget_class, GDK_KEY_Right, 1, 0);
  add_move_binding (widget_class, GDK_KEY_Up, 0, -1);
  add_move_binding (widget_class, GDK_KEY_Down, 0, 1);

  gtk_widget_class_set_css_name (widget_class, "cellgrid");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
bms_cell_grid_init (BmsCellGrid *self)
{
  GtkGesture *click = gtk_gesture_click_new ();

  self->selected = -1;
  self->show_volts = TRUE;
  for (guint m = 0; m < MAX_MODULES; m++)
    self->temps[m][0] = self->temps[m][1] = self->temps[m][2] = NAN;
  g_signal_connect (click, "pressed", G_CALLBACK (pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Cell voltages"),
                                  -1);
  update_accessible (self);
}

GtkWidget *
bms_cell_grid_new (void)
{
  return g_object_new (BMS_TYPE_CELL_GRID, NULL);
}

static gboolean
same_layout (BmsCellGrid *self,
             guint        n_cells,
             const guint *module_sizes,
             guint        n_modules)
{
  if (n_cells != self->n_cells || n_modules != self->n_modules)
    return FALSE;
  for (guint m = 0; m < n_modules; m++)
    if (module_sizes[m] != self->module_sizes[m])
      return FALSE;
  return TRUE;
}

void
bms_cell_grid_set_cells (BmsCellGrid   *self,
                         const guint16 *mv,
                         guint          n_cells,
                         const guint   *module_sizes,
                         guint          n_modules,
                         const guint64 *balancing)
{
  guint sum = 0;
  gboolean relayout;

  g_return_if_fail (BMS_IS_CELL_GRID (self));
  g_return_if_fail (n_cells <= MAX_CELLS && n_modules <= MAX_MODULES);

  for (guint m = 0; module_sizes != NULL && m < n_modules; m++)
    sum += module_sizes[m];
  if (module_sizes == NULL || sum != n_cells)
    n_modules = 0;   /* no usable grouping: one block */
  relayout = !same_layout (self, n_cells, module_sizes, n_modules);
  if (!relayout && memcmp (self->mv, mv, n_cells * sizeof (guint16)) == 0 &&
      (balancing != NULL ? memcmp (self->balancing, balancing, sizeof self->balancing) == 0
                         : (self->balancing[0] | self->balancing[1] |
                            self->balancing[2] | self->balancing[3]) == 0))
    return;   /* the same picture: no frame */

  memcpy (self->mv, mv, n_cells * sizeof (guint16));
  self->n_cells = n_cells;
  self->n_modules = n_modules;
  if (n_modules > 0)
    memcpy (self->module_sizes, module_sizes, n_modules * sizeof (guint));
  if (balancing != NULL)
    memcpy (self->balancing, balancing, sizeof self->balancing);
  else
    memset (self->balancing, 0, sizeof self->balancing);

  self->min_index = self->max_index = 0;
  for (guint i = 1; i < n_cells; i++)
    {
      if (mv[i] < mv[self->min_index])
        self->min_index = i;
      if (mv[i] > mv[self->max_index])
        self->max_index = i;
    }
  if (self->selected >= (int) n_cells)
    bms_cell_grid_set_selected (self, -1);
  update_accessible (self);
  if (relayout)
    {
      drop_cache (self);
      gtk_widget_queue_resize (GTK_WIDGET (self));
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
bms_cell_grid_set_module_temps (BmsCellGrid  *self,
                                const double (*temps)[3],
                                guint         n_modules)
{
  g_return_if_fail (BMS_IS_CELL_GRID (self));

  n_modules = MIN (n_modules, MAX_MODULES);
  if (n_modules == self->n_temp_modules &&
      memcmp (self->temps, temps, n_modules * sizeof temps[0]) == 0)
    return;
  self->n_temp_modules = n_modules;
  for (guint m = 0; m < self->n_temp_modules; m++)
    for (guint t = 0; t < 3; t++)
      self->temps[m][t] = temps[m][t];
  g_clear_pointer (&self->labels_node, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
bms_cell_grid_set_limits (BmsCellGrid         *self,
                          const BmsCellLimits *limits)
{
  g_return_if_fail (BMS_IS_CELL_GRID (self));
  g_return_if_fail (limits != NULL);

  if (memcmp (&self->limits, limits, sizeof *limits) == 0)
    return;
  self->limits = *limits;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
bms_cell_grid_set_show_volts (BmsCellGrid *self,
                              gboolean     volts)
{
  g_return_if_fail (BMS_IS_CELL_GRID (self));

  if (self->show_volts == !!volts)
    return;
  self->show_volts = !!volts;
  drop_cache (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
bms_cell_grid_get_n_cells (BmsCellGrid *self)
{
  g_return_val_if_fail (BMS_IS_CELL_GRID (self), 0);
  return self->n_cells;
}

int
bms_cell_grid_get_selected (BmsCellGrid *self)
{
  g_return_val_if_fail (BMS_IS_CELL_GRID (self), -1);
  return self->selected;
}

void
bms_cell_grid_set_selected (BmsCellGrid *self,
                            int          index)
{
  g_return_if_fail (BMS_IS_CELL_GRID (self));

  if (index >= (int) self->n_cells)
    index = -1;
  if (index == self->selected)
    return;
  self->selected = index;
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED]);
}

guint
bms_cell_grid_get_n_tiles_drawn (BmsCellGrid *self)
{
  g_return_val_if_fail (BMS_IS_CELL_GRID (self), 0);
  return self->n_tiles_drawn;
}
