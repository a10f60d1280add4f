/* bms-graph-view-input.c — mouse, keyboard and tooltips of the graph view. */
#include "config.h"

#include "bms-graph-view-private.h"
#include <glib/gi18n.h>
#include <math.h>

#define ZOOM_STEP      1.25
#define PAN_STEP       0.1

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
  int index = bms_graph_view_legend_hit (self, x, y);

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
  if (!bms_graph_view_in_plot (&self->geo, x, y))
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
  bms_graph_view_apply_range (self, self->drag_t0 + shift, self->drag_t1 + shift);
}

static gboolean
on_query_tooltip (GtkWidget    *widget,
                  int           x,
                  int           y,
                  gboolean      keyboard,
                  GtkTooltip   *tooltip,
                  BmsGraphView *self)
{
  int index = bms_graph_view_legend_hit (self, x, y);
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
add_key (GtkWidgetClass *widget_class,
         guint           keyval,
         GdkModifierType mods,
         const char     *action)
{
  gtk_widget_class_add_binding_action (widget_class, keyval, mods, action, NULL);
}

void
bms_graph_view_input_class_init (GtkWidgetClass *widget_class)
{
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
}

void
bms_graph_view_input_init (BmsGraphView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkEventController *controller;
  GtkGesture *gesture;

  gtk_widget_set_has_tooltip (widget, TRUE);
  g_signal_connect (widget, "query-tooltip", G_CALLBACK (on_query_tooltip), self);

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

int
bms_graph_view_legend_hit (BmsGraphView *self,
                           double        x,
                           double        y)
{
  for (guint i = 0; i < self->geo.legend->len; i++)
    {
      const BmsGraphLegendHit *hit = &g_array_index (self->geo.legend, BmsGraphLegendHit, i);
      if (x >= hit->x && x <= hit->x + hit->width && y >= hit->y && y <= hit->y + hit->height)
        return (int) hit->index;
    }
  return -1;
}
