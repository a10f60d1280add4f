/* bms-graph-view.c — stacked panes per unit, reduced curves, crosshair. */
#include "config.h"

#include "bms-graph-view.h"
#include "bms-graph-axis.h"

#include <cairo-svg.h>
#include <glib/gi18n.h>
#include <math.h>
#include <pango/pangocairo.h>

#define N_SLOTS        10
#define PAD            8.0
#define PANE_GAP       10.0
#define LEGEND_SWATCH  12.0
#define ZOOM_STEP      1.25
#define PAN_STEP       0.1
#define MAX_CROSSHAIR_LINES 12

typedef struct {
  GdkRGBA fg;
  GdkRGBA bg;
  GdkRGBA slots[N_SLOTS];
  gboolean dark;
} Palette;

typedef struct {
  double  y, h;            /* plot area of the pane (x and width are shared) */
  double  lo, hi;          /* data extremes in view; NAN when none */
  double  step;            /* value tick spacing */
  char   *unit;
  BmsGraphAxis *axis;
} Pane;

typedef struct {
  graphene_rect_t rect;
  guint           index;   /* position in the series list */
} LegendHit;

typedef struct {
  int     width, height;
  double  plot_x, plot_w;
  double  t0, t1;
  GArray *panes;    /* Pane */
  GArray *legend;   /* LegendHit */
} Geometry;

struct _BmsGraphView
{
  GtkWidget     parent_instance;

  GListStore   *series;
  GArray       *buckets;   /* BmsGraphBucket scratch, one per column */
  Palette       palette;
  Geometry      geo;       /* of the last draw, for hit tests and hover */

  double        t0, t1;
  gboolean      follow;
  gboolean      range_set;

  double        hover_x, hover_y;
  gboolean      hovering;
  double        cursor_t;    /* keyboard/programmatic crosshair; NAN = none */
  double        drag_t0, drag_t1;
};

G_DEFINE_FINAL_TYPE (BmsGraphView, bms_graph_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_FOLLOW,
  PROP_TIME_START,
  PROP_TIME_END,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* --- palette ------------------------------------------------------------ */

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
static void
palette_update (BmsGraphView *self)
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

static void
set_source (cairo_t       *cr,
            const GdkRGBA *c,
            double         alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

/* --- geometry ----------------------------------------------------------- */

static void
pane_clear (gpointer data)
{
  Pane *pane = data;

  g_clear_pointer (&pane->unit, g_free);
  g_clear_object (&pane->axis);
}

static void
geometry_init (Geometry *geo)
{
  geo->panes = g_array_new (FALSE, TRUE, sizeof (Pane));
  g_array_set_clear_func (geo->panes, pane_clear);
  geo->legend = g_array_new (FALSE, TRUE, sizeof (LegendHit));
}

static void
geometry_reset (Geometry *geo)
{
  g_array_set_size (geo->panes, 0);
  g_array_set_size (geo->legend, 0);
}

static void
geometry_free (Geometry *geo)
{
  g_clear_pointer (&geo->panes, g_array_unref);
  g_clear_pointer (&geo->legend, g_array_unref);
}

static guint
n_series (BmsGraphView *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->series));
}

/* Borrowed: the store holds the reference. */
static BmsGraphSeries *
series_at (BmsGraphView *self,
           guint         i)
{
  g_autoptr(BmsGraphSeries) s = g_list_model_get_item (G_LIST_MODEL (self->series), i);
  return s;
}

static Pane *
pane_for_unit (Geometry   *geo,
               const char *unit)
{
  for (guint i = 0; i < geo->panes->len; i++)
    {
      Pane *pane = &g_array_index (geo->panes, Pane, i);
      if (g_strcmp0 (pane->unit, unit) == 0)
        return pane;
    }
  return NULL;
}

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

static void
apply_range (BmsGraphView *self,
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
  apply_range (self, end - span, end);
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
  apply_range (self, t0, t1);
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
  apply_range (self, end - seconds, end);
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
  apply_range (self, anchor_t - anchor * new_span, anchor_t + (1 - anchor) * new_span);
}

void
bms_graph_view_pan (BmsGraphView *self,
                    double        fraction)
{
  double shift;

  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));

  shift = (self->t1 - self->t0) * fraction;
  bms_graph_view_set_follow (self, FALSE);
  apply_range (self, self->t0 + shift, self->t1 + shift);
}

void
bms_graph_view_zoom_to_fit (BmsGraphView *self)
{
  double a, b, margin;

  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));

  if (!bms_graph_view_get_data_range (self, &a, &b))
    return;
  margin = MAX (b - a, BMS_GRAPH_VIEW_MIN_SPAN) * 0.02;
  apply_range (self, a - margin, b + margin);
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

/* --- drawing: text ------------------------------------------------------ */

static PangoLayout *
create_layout (BmsGraphView *self,
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

static void
text_size (PangoLayout *layout,
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

static void
show_text (cairo_t     *cr,
           PangoLayout *layout,
           const char  *text,
           double       x,
           double       y)
{
  pango_layout_set_text (layout, text, -1);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

/* --- drawing: layout ---------------------------------------------------- */

char **
bms_graph_view_dup_legend (BmsGraphView *self)
{
  GStrvBuilder *builder;
  char **labels;

  g_return_val_if_fail (BMS_IS_GRAPH_VIEW (self), NULL);

  builder = g_strv_builder_new ();
  for (guint i = 0; i < self->geo.legend->len; i++)
    {
      const LegendHit *hit = &g_array_index (self->geo.legend, LegendHit, i);
      g_strv_builder_add (builder, bms_graph_series_get_label (series_at (self, hit->index)));
    }
  labels = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return labels;
}

static double
layout_legend (BmsGraphView *self,
               PangoLayout  *layout,
               double        width,
               Geometry     *geo)
{
  double x = PAD, y = PAD, line_h = 0;

  for (guint i = 0; i < n_series (self); i++)
    {
      BmsGraphSeries *s = series_at (self, i);
      LegendHit hit = { .index = i };
      double w, h, entry_w;
      float lo, hi;

      /* A series the board never reported (a missing sensor) is no
       * choice to offer. */
      if (!bms_graph_series_range_minmax (s, 0, bms_graph_series_get_n_points (s), &lo, &hi))
        continue;
      text_size (layout, bms_graph_series_get_label (s), &w, &h);
      entry_w = LEGEND_SWATCH + 4 + w;
      line_h = MAX (line_h, h);
      if (x > PAD && x + entry_w > width - PAD)
        {
          x = PAD;
          y += line_h + 4;
        }
      graphene_rect_init (&hit.rect, x, y, entry_w, h);
      g_array_append_val (geo->legend, hit);
      x += entry_w + 14;
    }
  return geo->legend->len ? y + line_h + PAD : PAD;
}

/* One pane per unit, in the order the units first appear among the visible
 * series; each pane's value range covers its visible data. */
static void
layout_panes (BmsGraphView *self,
              Geometry     *geo)
{
  for (guint i = 0; i < n_series (self); i++)
    {
      BmsGraphSeries *s = series_at (self, i);
      const char *unit = bms_graph_series_get_unit (s);
      Pane *pane;
      gsize i0, i1;
      float lo, hi;

      if (!bms_graph_series_get_visible (s))
        continue;
      pane = pane_for_unit (geo, unit);
      if (pane == NULL)
        {
          Pane fresh = { .unit = g_strdup (unit), .lo = NAN, .hi = NAN,
                         .axis = bms_graph_axis_new (BMS_GRAPH_AXIS_VALUE) };
          g_array_append_val (geo->panes, fresh);
          pane = &g_array_index (geo->panes, Pane, geo->panes->len - 1);
        }
      /* One sample beyond each edge: the line leaving the view counts. */
      i0 = bms_graph_series_lower_bound (s, geo->t0);
      i1 = bms_graph_series_lower_bound (s, geo->t1);
      i0 = i0 > 0 ? i0 - 1 : 0;
      i1 = MIN (i1 + 1, bms_graph_series_get_n_points (s));
      if (bms_graph_series_range_minmax (s, i0, i1, &lo, &hi))
        {
          pane->lo = isnan (pane->lo) ? lo : MIN (pane->lo, lo);
          pane->hi = isnan (pane->hi) ? hi : MAX (pane->hi, hi);
        }
    }
  if (geo->panes->len == 0)
    {
      Pane empty = { .unit = g_strdup (""), .lo = NAN, .hi = NAN, .axis = bms_graph_axis_new (BMS_GRAPH_AXIS_VALUE) };
      g_array_append_val (geo->panes, empty);
    }
}

/* --- drawing: curves ---------------------------------------------------- */

static double
value_y (const Pane *pane,
         double      v)
{
  return pane->y + pane->h * (1 - bms_graph_axis_to_unit (pane->axis, v));
}

static guint
value_tick_count (double pane_height)
{
  return CLAMP ((guint) (pane_height / 30), 2u, 12u);
}

static double
time_x (const Geometry *geo,
        double          t)
{
  return geo->plot_x + geo->plot_w * (t - geo->t0) / (geo->t1 - geo->t0);
}

/* Few samples in view: draw them where they are. */
static void
path_raw (cairo_t        *cr,
          BmsGraphSeries *s,
          const Geometry *geo,
          const Pane     *pane,
          gsize           i0,
          gsize           i1)
{
  const double *t = bms_graph_series_get_times (s);
  const float *v = bms_graph_series_get_values (s);
  double gap = bms_graph_series_get_max_gap (s);
  gboolean pen_down = FALSE;

  for (gsize i = i0; i < i1; i++)
    {
      double x, y;

      if (isnan (v[i]))
        {
          pen_down = FALSE;
          continue;
        }
      x = time_x (geo, t[i]);
      y = value_y (pane, v[i]);
      if (pen_down && gap > 0 && i > i0 && t[i] - t[i - 1] > gap)
        pen_down = FALSE;
      if (pen_down)
        cairo_line_to (cr, x, y);
      else if (i + 1 >= i1 || isnan (v[i + 1]) || (gap > 0 && t[i + 1] - t[i] > gap))
        {
          /* A lone sample (the first poll, or between gaps) gets a dot
           * big enough to see. */
          cairo_new_sub_path (cr);
          cairo_arc (cr, x, y, 2.0, 0, 2 * G_PI);
          continue;
        }
      else
        cairo_move_to (cr, x, y);
      pen_down = TRUE;
    }
}

/* Many samples: each pixel column becomes one bar from its lowest to its
 * highest value, stretched to meet the neighbouring columns halfway, one
 * line width thick at least. That is what an antialiased stroke through all
 * the samples would cover, but it reaches cairo as pixel-wide rectangles,
 * which it fills far faster than a zig-zag stroke of the same shape. Columns
 * with no sample are bridged by a line unless the gap exceeds max-gap. */
static void
draw_reduced (BmsGraphView   *self,
              cairo_t        *cr,
              BmsGraphSeries *s,
              const Geometry *geo,
              const Pane     *pane,
              guint           n_cols,
              double          line_width)
{
  BmsGraphBucket *b;
  double gap = bms_graph_series_get_max_gap (s);
  double half = line_width / 2;
  int prev = -1;   /* last column with a finite value */

  g_array_set_size (self->buckets, n_cols);
  b = (BmsGraphBucket *) (gpointer) self->buckets->data;
  bms_graph_series_reduce (s, geo->t0, geo->t1, n_cols, b);

  cairo_new_path (cr);
  for (guint c = 0; c < n_cols; c++)
    {
      double lo, hi, y_top, y_bottom;
      gboolean joined_left, joined_right;

      if (b[c].n == 0 || isnan (b[c].min))
        continue;
      lo = b[c].min;
      hi = b[c].max;
      joined_left = prev >= 0 && prev == (int) c - 1
                    && !(gap > 0 && b[c].t_first - b[prev].t_last > gap);
      joined_right = c + 1 < n_cols && b[c + 1].n > 0 && !isnan (b[c + 1].min)
                     && !(gap > 0 && b[c + 1].t_first - b[c].t_last > gap);
      if (joined_left)
        {
          double mid = (b[prev].last + b[c].first) / 2;
          lo = MIN (lo, mid);
          hi = MAX (hi, mid);
        }
      if (joined_right)
        {
          double mid = (b[c].last + b[c + 1].first) / 2;
          lo = MIN (lo, mid);
          hi = MAX (hi, mid);
        }
      y_top = value_y (pane, hi) - half;
      y_bottom = value_y (pane, lo) + half;
      /* Tall bars snap to whole pixels: their ends are extremes of many
       * samples, and cairo fills aligned boxes several times faster (10 M
       * samples: 17 ms -> 4 ms). Short bars keep their antialiased ends,
       * which is what makes a gentle slope look smooth. */
      if (y_bottom - y_top > 3)
        {
          y_top = floor (y_top);
          y_bottom = ceil (y_bottom);
        }
      cairo_rectangle (cr, geo->plot_x + c, y_top, 1, y_bottom - y_top);
      prev = (int) c;
    }
  cairo_fill (cr);

  /* Bridges over empty columns (sparse stretches inside dense data). */
  prev = -1;
  cairo_new_path (cr);
  for (guint c = 0; c < n_cols; c++)
    {
      if (b[c].n == 0 || isnan (b[c].min))
        continue;
      if (prev >= 0 && prev < (int) c - 1
          && !(gap > 0 && b[c].t_first - b[prev].t_last > gap))
        {
          cairo_move_to (cr, geo->plot_x + prev + 0.5, value_y (pane, b[prev].last));
          cairo_line_to (cr, geo->plot_x + c + 0.5, value_y (pane, b[c].first));
        }
      prev = (int) c;
    }
  cairo_set_line_width (cr, line_width);
  cairo_stroke (cr);
}

static void
draw_series (BmsGraphView   *self,
             cairo_t        *cr,
             BmsGraphSeries *s,
             const Geometry *geo,
             const Pane     *pane,
             guint           n_in_pane)
{
  guint n_cols = (guint) MAX (geo->plot_w, 1);
  gsize n = bms_graph_series_get_n_points (s);
  gsize i0 = bms_graph_series_lower_bound (s, geo->t0);
  gsize i1 = bms_graph_series_lower_bound (s, geo->t1);
  double line_width = n_in_pane > 16 ? 1.0 : 1.5;

  /* Include the neighbours just outside so lines run to the edges. */
  i0 = i0 > 0 ? i0 - 1 : 0;
  i1 = MIN (i1 + 1, n);
  if (i1 <= i0)
    return;

  set_source (cr, &self->palette.slots[bms_graph_series_get_color_index (s) % N_SLOTS], 1);
  cairo_set_line_width (cr, line_width);
  cairo_new_path (cr);
  /* Up to one sample per column: a real polyline. The fast antialiasing
   * grid keeps a jagged 2000-point stroke within a few milliseconds and is
   * hard to tell from the default at these line widths. */
  if (i1 - i0 <= (gsize) n_cols)
    {
      path_raw (cr, s, geo, pane, i0, i1);
      cairo_save (cr);
      cairo_set_antialias (cr, CAIRO_ANTIALIAS_FAST);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);   /* a lone sample shows as a dot */
      cairo_stroke (cr);
      cairo_restore (cr);
      return;
    }
  draw_reduced (self, cr, s, geo, pane, n_cols, line_width);
}

/* --- drawing: frame ----------------------------------------------------- */

static void
draw_legend (BmsGraphView   *self,
             cairo_t        *cr,
             PangoLayout    *layout,
             const Geometry *geo)
{
  for (guint i = 0; i < geo->legend->len; i++)
    {
      const LegendHit *hit = &g_array_index (geo->legend, LegendHit, i);
      BmsGraphSeries *s = series_at (self, hit->index);
      const GdkRGBA *c = &self->palette.slots[bms_graph_series_get_color_index (s) % N_SLOTS];
      gboolean visible = bms_graph_series_get_visible (s);
      double sy = hit->rect.origin.y + (hit->rect.size.height - LEGEND_SWATCH) / 2;

      cairo_rectangle (cr, hit->rect.origin.x + 0.5, sy + 0.5,
                       LEGEND_SWATCH - 1, LEGEND_SWATCH - 1);
      set_source (cr, c, 1);
      if (visible)
        cairo_fill_preserve (cr);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
      set_source (cr, &self->palette.fg, visible ? 0.9 : 0.4);
      show_text (cr, layout, bms_graph_series_get_label (s),
                 hit->rect.origin.x + LEGEND_SWATCH + 4, hit->rect.origin.y);
    }
}

static void
draw_time_axis (BmsGraphView   *self,
                cairo_t        *cr,
                PangoLayout    *layout,
                const Geometry *geo,
                double          top,
                double          bottom)
{
  g_autoptr(BmsGraphAxis) axis = bms_graph_axis_new (BMS_GRAPH_AXIS_TIME);
  g_autoptr(GArray) ticks = NULL;
  double step, last_right = -G_MAXDOUBLE;

  bms_graph_axis_set_range (axis, geo->t0, geo->t1);
  ticks = bms_graph_axis_ticks (axis, MAX ((guint) (geo->plot_w / 110), 2u), &step);
  for (guint i = 0; i < ticks->len; i++)
    {
      double t = g_array_index (ticks, double, i);
      double x = round (time_x (geo, t)) + 0.5;
      g_autofree char *label = bms_graph_axis_format_tick (axis, t, step);
      double w;

      set_source (cr, &self->palette.fg, 0.10);
      cairo_move_to (cr, x, top);
      cairo_line_to (cr, x, bottom);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);

      text_size (layout, label, &w, NULL);
      if (x - w / 2 < last_right + 6 || x + w / 2 > geo->width - 2 || x - w / 2 < 2)
        continue;
      set_source (cr, &self->palette.fg, 0.7);
      show_text (cr, layout, label, x - w / 2, bottom + 4);
      last_right = x + w / 2;
    }
}

static void
draw_pane_frame (BmsGraphView   *self,
                 cairo_t        *cr,
                 PangoLayout    *layout,
                 const Geometry *geo,
                 const Pane     *pane)
{
  g_autoptr(GArray) ticks = NULL;
  double step;

  ticks = bms_graph_axis_ticks_for_step (pane->axis, step = pane->step);
  for (guint i = 0; i < ticks->len; i++)
    {
      double v = g_array_index (ticks, double, i);
      double y = round (value_y (pane, v)) + 0.5;
      g_autofree char *label = bms_graph_axis_format_tick (pane->axis, v, step);
      double w, h, ly;

      set_source (cr, &self->palette.fg, 0.10);
      cairo_move_to (cr, geo->plot_x, y);
      cairo_line_to (cr, geo->plot_x + geo->plot_w, y);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);

      /* Edge labels stay inside their pane so stacked panes never collide. */
      text_size (layout, label, &w, &h);
      ly = CLAMP (y - h / 2, pane->y - 1, pane->y + pane->h - h + 1);
      set_source (cr, &self->palette.fg, 0.7);
      show_text (cr, layout, label, geo->plot_x - 6 - w, ly);
    }

  set_source (cr, &self->palette.fg, 0.25);
  cairo_rectangle (cr, geo->plot_x + 0.5, round (pane->y) + 0.5,
                   geo->plot_w - 1, round (pane->h) - 1);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);

  if (pane->unit && *pane->unit)
    {
      set_source (cr, &self->palette.fg, 0.55);
      show_text (cr, layout, pane->unit, geo->plot_x + 6, pane->y + 3);
    }
}

/* Left margin: wide enough for the longest value label of any pane. */
static double
measure_value_labels (PangoLayout    *layout,
                      const Geometry *geo)
{
  double widest = 0;

  for (guint p = 0; p < geo->panes->len; p++)
    {
      const Pane *pane = &g_array_index (geo->panes, Pane, p);
      g_autoptr(GArray) ticks = NULL;
      double step;

      ticks = bms_graph_axis_ticks_for_step (pane->axis, step = pane->step);
      for (guint i = 0; i < ticks->len; i++)
        {
          g_autofree char *label =
            bms_graph_axis_format_tick (pane->axis, g_array_index (ticks, double, i), step);
          double w;
          text_size (layout, label, &w, NULL);
          widest = MAX (widest, w);
        }
    }
  return widest;
}

/* Units with a physical range: a state of charge is 0–100 %. */
static void
unit_limits (const char *unit,
             double     *lo,
             double     *hi)
{
  gboolean percent = g_strcmp0 (unit, "%") == 0;

  *lo = percent ? 0 : NAN;
  *hi = percent ? 100 : NAN;
}

static void
place_panes (Geometry *geo,
             double    top,
             double    bottom,
             double    label_h)
{
  guint n = geo->panes->len;
  double h = (bottom - top - PANE_GAP * (n - 1)) / n;

  for (guint p = 0; p < n; p++)
    {
      Pane *pane = &g_array_index (geo->panes, Pane, p);
      double min, max, limit_lo, limit_hi;

      pane->y = top + p * (h + PANE_GAP);
      pane->h = MAX (h, 10);
      unit_limits (pane->unit, &limit_lo, &limit_hi);
      pane->step = bms_graph_axis_fit_pane (pane->lo, pane->hi, limit_lo, limit_hi, pane->h,
                                            label_h, value_tick_count (pane->h), &min, &max);
      bms_graph_axis_set_range (pane->axis, min, max);
    }
}

static void
draw_empty_note (BmsGraphView   *self,
                 cairo_t        *cr,
                 PangoLayout    *layout,
                 const Geometry *geo,
                 const char     *text)
{
  const Pane *pane = &g_array_index (geo->panes, Pane, 0);
  double w, h;

  text_size (layout, text, &w, &h);
  set_source (cr, &self->palette.fg, 0.55);
  show_text (cr, layout, text, geo->plot_x + (geo->plot_w - w) / 2, pane->y + (pane->h - h) / 2);
}

static void
draw_into (BmsGraphView *self,
           cairo_t      *cr,
           int           width,
           int           height,
           Geometry     *geo)
{
  g_autoptr(PangoLayout) layout = create_layout (self, cr);
  double legend_bottom, label_h, bottom;
  gboolean any_visible = FALSE;

  geometry_reset (geo);
  geo->width = width;
  geo->height = height;
  geo->t0 = self->t0;
  geo->t1 = self->t1;

  set_source (cr, &self->palette.bg, 1);
  cairo_paint (cr);

  text_size (layout, "0:00", NULL, &label_h);
  legend_bottom = layout_legend (self, layout, width, geo);
  layout_panes (self, geo);
  bottom = height - PAD - label_h - 4;
  place_panes (geo, legend_bottom, bottom, label_h);
  geo->plot_x = round (PAD + measure_value_labels (layout, geo) + 6);
  geo->plot_w = MAX (width - geo->plot_x - PAD - 4, 10);

  draw_legend (self, cr, layout, geo);
  draw_time_axis (self, cr, layout, geo, legend_bottom, bottom);
  for (guint p = 0; p < geo->panes->len; p++)
    {
      const Pane *pane = &g_array_index (geo->panes, Pane, p);
      guint n_in_pane = 0;

      draw_pane_frame (self, cr, layout, geo, pane);
      cairo_save (cr);
      cairo_rectangle (cr, geo->plot_x, pane->y, geo->plot_w, pane->h);
      cairo_clip (cr);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_BEVEL);
      for (guint i = 0; i < n_series (self); i++)
        {
          BmsGraphSeries *s = series_at (self, i);
          if (bms_graph_series_get_visible (s)
              && g_strcmp0 (bms_graph_series_get_unit (s), pane->unit) == 0)
            n_in_pane++;
        }
      for (guint i = 0; i < n_series (self); i++)
        {
          BmsGraphSeries *s = series_at (self, i);
          if (!bms_graph_series_get_visible (s)
              || g_strcmp0 (bms_graph_series_get_unit (s), pane->unit) != 0)
            continue;
          any_visible = TRUE;
          draw_series (self, cr, s, geo, pane, n_in_pane);
        }
      cairo_restore (cr);
    }

  if (n_series (self) == 0)
    draw_empty_note (self, cr, layout, geo, _("No series selected"));
  else if (!any_visible)
    draw_empty_note (self, cr, layout, geo, _("Every series is hidden: click one in the legend"));
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
  palette_update (self);
  draw_into (self, cr, width, height, &self->geo);
}

/* --- crosshair ---------------------------------------------------------- */

static const Pane *
pane_at (const Geometry *geo,
         double          y)
{
  for (guint p = 0; p < geo->panes->len; p++)
    {
      const Pane *pane = &g_array_index (geo->panes, Pane, p);
      if (y >= pane->y && y < pane->y + pane->h)
        return pane;
    }
  return NULL;
}

static gboolean
in_plot (const Geometry *geo,
         double          x,
         double          y)
{
  return x >= geo->plot_x && x < geo->plot_x + geo->plot_w && pane_at (geo, y) != NULL;
}

static char *
format_value (double      v,
              const char *unit)
{
  double a = fabs (v);
  int decimals = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;

  if (g_strcmp0 (unit, "mV") == 0 || g_strcmp0 (unit, "%") == 0)
    decimals = 0;
  return g_strdup_printf ("%.*f %s", decimals, v, unit ? unit : "");
}

static GPtrArray *
crosshair_lines (BmsGraphView *self,
                 cairo_t      *cr,
                 double        t)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local ((gint64) floor (t));
  guint shown = 0, hidden = 0;

  g_ptr_array_add (lines, g_date_time_format (when, "%Y-%m-%d %H:%M:%S"));
  for (guint i = 0; i < n_series (self); i++)
    {
      BmsGraphSeries *s = series_at (self, i);
      const Pane *pane = pane_for_unit (&self->geo, bms_graph_series_get_unit (s));
      g_autofree char *value = NULL;
      gsize idx;
      double v, px, py;

      if (!bms_graph_series_get_visible (s) || pane == NULL
          || !bms_graph_series_value_at (s, t, &idx))
        continue;
      v = bms_graph_series_get_values (s)[idx];
      px = time_x (&self->geo, bms_graph_series_get_times (s)[idx]);
      py = value_y (pane, v);
      if (px >= self->geo.plot_x && px <= self->geo.plot_x + self->geo.plot_w)
        {
          set_source (cr, &self->palette.slots[bms_graph_series_get_color_index (s) % N_SLOTS], 1);
          cairo_arc (cr, px, py, 3, 0, 2 * G_PI);
          cairo_fill (cr);
        }
      if (shown >= MAX_CROSSHAIR_LINES)
        {
          hidden++;
          continue;
        }
      value = format_value (v, bms_graph_series_get_unit (s));
      g_ptr_array_add (lines, g_strdup_printf ("%s: %s", bms_graph_series_get_label (s), value));
      shown++;
    }
  if (hidden > 0)
    g_ptr_array_add (lines, g_strdup_printf (ngettext ("and %u more", "and %u more", hidden), hidden));
  /* The time alone would suggest values; say there are none. */
  if (shown == 0)
    g_ptr_array_add (lines, g_strdup (_("No data at this time")));
  return lines;
}

static void
draw_crosshair (BmsGraphView *self,
                cairo_t      *cr)
{
  const Geometry *geo = &self->geo;
  g_autoptr(PangoLayout) layout = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *text = NULL;
  const Pane *first, *last;
  double t, x, w, h, bx, by;

  double px, py;

  if (geo->panes->len == 0)
    return;
  first = &g_array_index (geo->panes, Pane, 0);
  last = &g_array_index (geo->panes, Pane, geo->panes->len - 1);
  if (self->hovering && in_plot (geo, self->hover_x, self->hover_y))
    {
      px = self->hover_x;
      py = self->hover_y;
    }
  else if (!isnan (self->cursor_t) && self->cursor_t >= geo->t0 && self->cursor_t <= geo->t1)
    {
      px = time_x (geo, self->cursor_t);
      py = first->y + 40;
    }
  else
    return;
  x = round (px) + 0.5;
  t = geo->t0 + (px - geo->plot_x) / geo->plot_w * (geo->t1 - geo->t0);

  set_source (cr, &self->palette.fg, 0.5);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, x, first->y);
  cairo_line_to (cr, x, last->y + last->h);
  cairo_stroke (cr);

  lines = crosshair_lines (self, cr, t);
  g_ptr_array_add (lines, NULL);
  text = g_strjoinv ("\n", (char **) lines->pdata);
  layout = create_layout (self, cr);
  text_size (layout, text, &w, &h);
  bx = px + 14;
  if (bx + w + 12 > geo->plot_x + geo->plot_w)
    bx = px - 14 - w - 12;
  by = CLAMP (py - h / 2, 2, MAX (geo->height - h - 14, 2));

  set_source (cr, &self->palette.bg, 0.92);
  cairo_rectangle (cr, bx, by, w + 12, h + 10);
  cairo_fill_preserve (cr);
  set_source (cr, &self->palette.fg, 0.3);
  cairo_stroke (cr);
  set_source (cr, &self->palette.fg, 0.9);
  show_text (cr, layout, text, bx + 6, by + 5);
}

void
bms_graph_view_set_cursor_time (BmsGraphView *self,
                                double        t)
{
  g_return_if_fail (BMS_IS_GRAPH_VIEW (self));

  self->cursor_t = t;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
bms_graph_view_get_cursor_time (BmsGraphView *self)
{
  g_return_val_if_fail (BMS_IS_GRAPH_VIEW (self), NAN);
  return self->cursor_t;
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
  draw_crosshair (self, cr);
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

static int
legend_hit (BmsGraphView *self,
            double        x,
            double        y)
{
  for (guint i = 0; i < self->geo.legend->len; i++)
    {
      const LegendHit *hit = &g_array_index (self->geo.legend, LegendHit, i);
      if (graphene_rect_contains_point (&hit->rect, &GRAPHENE_POINT_INIT (x, y)))
        return (int) hit->index;
    }
  return -1;
}

static void
toggle_series (BmsGraphView *self,
               guint         index)
{
  BmsGraphSeries *s;

  if (index >= n_series (self))
    return;
  s = series_at (self, index);
  bms_graph_series_set_visible (s, !bms_graph_series_get_visible (s));
}

static void
on_click_pressed (GtkGestureClick *gesture,
                  int              n_press,
                  double           x,
                  double           y,
                  BmsGraphView    *self)
{
  int index = legend_hit (self, x, y);

  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (index < 0)
    return;
  toggle_series (self, (guint) index);
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
on_motion (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           BmsGraphView             *self)
{
  self->hover_x = x;
  self->hover_y = y;
  self->hovering = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_leave (GtkEventControllerMotion *motion,
          BmsGraphView             *self)
{
  self->hovering = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
on_scroll (GtkEventControllerScroll *scroll,
           double                    dx,
           double                    dy,
           BmsGraphView             *self)
{
  GdkModifierType state =
    gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));
  double anchor = 0.5;

  if ((state & GDK_SHIFT_MASK) || fabs (dx) > fabs (dy))
    {
      bms_graph_view_pan (self, 0.1 * ((state & GDK_SHIFT_MASK) ? dy : dx));
      return TRUE;
    }
  if (self->geo.plot_w > 0 && self->hovering)
    anchor = (self->hover_x - self->geo.plot_x) / self->geo.plot_w;
  bms_graph_view_zoom (self, pow (ZOOM_STEP, dy), anchor);
  return TRUE;
}

static void
on_drag_begin (GtkGestureDrag *drag,
               double          x,
               double          y,
               BmsGraphView   *self)
{
  if (!in_plot (&self->geo, x, y))
    {
      gtk_gesture_set_state (GTK_GESTURE (drag), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  self->drag_t0 = self->t0;
  self->drag_t1 = self->t1;
}

static void
on_drag_update (GtkGestureDrag *drag,
                double          dx,
                double          dy,
                BmsGraphView   *self)
{
  double shift;

  if (self->geo.plot_w <= 0 || fabs (dx) < 1)
    return;
  shift = -dx / self->geo.plot_w * (self->drag_t1 - self->drag_t0);
  bms_graph_view_set_follow (self, FALSE);
  apply_range (self, self->drag_t0 + shift, self->drag_t1 + shift);
}

static gboolean
on_query_tooltip (GtkWidget    *widget,
                  int           x,
                  int           y,
                  gboolean      keyboard,
                  GtkTooltip   *tooltip,
                  BmsGraphView *self)
{
  int index = legend_hit (self, x, y);
  g_autofree char *text = NULL;
  BmsGraphSeries *s;

  if (index < 0)
    return FALSE;
  s = series_at (self, (guint) index);
  text = g_strdup_printf (bms_graph_series_get_visible (s) ? _("Click to hide %s")
                                                           : _("Click to show %s"),
                          bms_graph_series_get_label (s));
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
action_zoom (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  BmsGraphView *self = BMS_GRAPH_VIEW (widget);
  bms_graph_view_zoom (self, g_str_equal (name, "graph.zoom-in") ? 1 / ZOOM_STEP : ZOOM_STEP, 0.5);
}

static void
action_pan (GtkWidget  *widget,
            const char *name,
            GVariant   *param)
{
  bms_graph_view_pan (BMS_GRAPH_VIEW (widget),
                      g_str_equal (name, "graph.pan-left") ? -PAN_STEP : PAN_STEP);
}

static void
action_fit (GtkWidget  *widget,
            const char *name,
            GVariant   *param)
{
  bms_graph_view_zoom_to_fit (BMS_GRAPH_VIEW (widget));
}

static void
action_cursor_hide (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  bms_graph_view_set_cursor_time (BMS_GRAPH_VIEW (widget), NAN);
}

/* Shift+arrows walk a crosshair through the data (keyboard users). */
static void
action_cursor (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  BmsGraphView *self = BMS_GRAPH_VIEW (widget);
  double span = self->t1 - self->t0;
  double t = isnan (self->cursor_t) || self->cursor_t < self->t0 || self->cursor_t > self->t1
             ? (self->t0 + self->t1) / 2 : self->cursor_t;

  t += (g_str_equal (name, "graph.cursor-left") ? -0.01 : 0.01) * span;
  bms_graph_view_set_cursor_time (self, CLAMP (t, self->t0, self->t1));
}

static void
action_follow_latest (GtkWidget  *widget,
                      const char *name,
                      GVariant   *param)
{
  bms_graph_view_set_follow (BMS_GRAPH_VIEW (widget), TRUE);
}

static void
action_toggle_series (GtkWidget  *widget,
                      const char *name,
                      GVariant   *param)
{
  toggle_series (BMS_GRAPH_VIEW (widget), g_variant_get_uint32 (param));
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

  g_clear_pointer (&self->buckets, g_array_unref);
  geometry_free (&self->geo);
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
add_key (GtkWidgetClass *widget_class,
         guint           keyval,
         GdkModifierType mods,
         const char     *action)
{
  gtk_widget_class_add_binding_action (widget_class, keyval, mods, action, NULL);
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

  gtk_widget_class_install_action (widget_class, "graph.zoom-in", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "graph.zoom-out", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "graph.pan-left", NULL, action_pan);
  gtk_widget_class_install_action (widget_class, "graph.pan-right", NULL, action_pan);
  gtk_widget_class_install_action (widget_class, "graph.zoom-fit", NULL, action_fit);
  gtk_widget_class_install_action (widget_class, "graph.toggle-series", "u", action_toggle_series);
  gtk_widget_class_install_action (widget_class, "graph.follow-latest", NULL, action_follow_latest);
  gtk_widget_class_install_action (widget_class, "graph.cursor-left", NULL, action_cursor);
  gtk_widget_class_install_action (widget_class, "graph.cursor-right", NULL, action_cursor);
  gtk_widget_class_install_action (widget_class, "graph.cursor-hide", NULL, action_cursor_hide);
  gtk_widget_class_install_property_action (widget_class, "graph.follow", "follow");

  add_key (widget_class, GDK_KEY_plus, 0, "graph.zoom-in");
  add_key (widget_class, GDK_KEY_plus, GDK_SHIFT_MASK, "graph.zoom-in");
  add_key (widget_class, GDK_KEY_equal, 0, "graph.zoom-in");
  add_key (widget_class, GDK_KEY_KP_Add, 0, "graph.zoom-in");
  add_key (widget_class, GDK_KEY_minus, 0, "graph.zoom-out");
  add_key (widget_class, GDK_KEY_KP_Subtract, 0, "graph.zoom-out");
  add_key (widget_class, GDK_KEY_Left, 0, "graph.pan-left");
  add_key (widget_class, GDK_KEY_Right, 0, "graph.pan-right");
  add_key (widget_class, GDK_KEY_Left, GDK_SHIFT_MASK, "graph.cursor-left");
  add_key (widget_class, GDK_KEY_Right, GDK_SHIFT_MASK, "graph.cursor-right");
  add_key (widget_class, GDK_KEY_Escape, 0, "graph.cursor-hide");
  add_key (widget_class, GDK_KEY_Home, 0, "graph.zoom-fit");
  add_key (widget_class, GDK_KEY_End, 0, "graph.follow-latest");
  for (guint i = 0; i < 9; i++)
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1 + i, 0,
                                         "graph.toggle-series", "u", i);

  gtk_widget_class_set_css_name (widget_class, "bmsgraphview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
bms_graph_view_init (BmsGraphView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkEventController *controller;
  GtkGesture *gesture;
  double now = g_get_real_time () / (double) G_USEC_PER_SEC;

  self->series = g_list_store_new (BMS_TYPE_GRAPH_SERIES);
  self->buckets = g_array_new (FALSE, FALSE, sizeof (BmsGraphBucket));
  geometry_init (&self->geo);
  self->follow = TRUE;
  self->cursor_t = NAN;
  self->t0 = now - 3600;
  self->t1 = now;

  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_has_tooltip (widget, TRUE);
  g_signal_connect (widget, "query-tooltip", G_CALLBACK (on_query_tooltip), self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("History graph"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Scroll or press plus and minus to zoom, drag or use the "
                                    "arrow keys to pan, Shift and the arrow keys move a "
                                    "crosshair that reads the values, Home shows everything, "
                                    "End follows new data, 1 to 9 toggle series"),
                                  -1);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (controller, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (widget, controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (controller, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (widget, controller);

  gesture = gtk_gesture_click_new ();
  g_signal_connect (gesture, "pressed", G_CALLBACK (on_click_pressed), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_drag_new ();
  g_signal_connect (gesture, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (gesture, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (gesture));
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

  geometry_init (&geo);
  palette_update (self);
  draw_into (self, cr, width, height, &geo);
  cairo_destroy (cr);
  geometry_free (&geo);
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
