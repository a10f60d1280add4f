/* bms-monitor-page.c — the Monitor page: cell grid, extremes, temperatures, states */
#include "config.h"

#include <math.h>
#include <glib/gi18n.h>

#include "bms-application.h"
#include "bms-cell-chart.h"
#include "bms-cell-grid.h"
#include "bms-pack-trend.h"
#include "bms-format.h"
#include "bms-monitor-page.h"

struct _BmsMonitorPage
{
  BmsPage        parent_instance;

  GSettings     *settings;

  GtkStack      *stack;
  BmsCellGrid   *cell_grid;
  BmsCellChart  *cell_chart;
  BmsPackTrend  *pack_trend;
  GtkWidget     *charts_box;
  GtkLabel      *cell_count_label;
  GtkLabel      *selected_label;
  GtkLabel      *balance_temp_label;
  GtkFlowBox    *flags_box;
  GtkWidget     *flags[16];
  guint          n_flags;
};

G_DEFINE_FINAL_TYPE (BmsMonitorPage, bms_monitor_page, BMS_TYPE_PAGE)

typedef enum { FLAG_OFF, FLAG_OK, FLAG_INFO, FLAG_WARNING, FLAG_ERROR } FlagLevel;

/* Closures for the template's bindings. */

static char *
format_cell (BmsMonitorPage *self,
             double          volts,
             guint           index)
{
  g_autofree char *v = bms_format_cell_voltage (self->settings, volts);

  if (index == 0)
    return g_strdup ("—");
  /* TRANSLATORS: a cell voltage and the cell's number, "3.345 V · #12" */
  return g_strdup_printf (_("%s · #%u"), v, index);
}

static char *
format_difference (BmsMonitorPage *self,
                   double          volts)
{
  return g_strdup_printf ("%.0f mV", volts * 1000.0);
}

static char *
format_volts (BmsMonitorPage *self,
              double          volts)
{
  return bms_format_cell_voltage (self->settings, volts);
}

static char *
format_uint (BmsMonitorPage *self,
             guint           value)
{
  return g_strdup_printf ("%u", value);
}

static char *
format_temperature (BmsMonitorPage *self,
                    double          celsius)
{
  return bms_format_temperature (self->settings, celsius);
}

static char *
format_temperature_range (BmsMonitorPage *self,
                          double          lo,
                          double          hi)
{
  g_autofree char *a = bms_format_temperature (self->settings, lo);
  g_autofree char *b = bms_format_temperature (self->settings, hi);

  return g_strdup_printf ("%s / %s", a, b);
}

static GtkWidget *
flag_new (void)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *value = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_xalign (GTK_LABEL (value), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (title, "caption");
  gtk_widget_add_css_class (value, "caption-heading");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), value);
  gtk_widget_add_css_class (box, "status-flag");
  return box;
}

static void
flag_set (GtkWidget  *flag,
          const char *title,
          const char *value,
          FlagLevel   level)
{
  static const char * const classes[] = { "flag-off", "flag-ok", "flag-info",
                                          "flag-warning", "flag-error" };
  GtkWidget *title_label = gtk_widget_get_first_child (flag);
  GtkWidget *value_label = gtk_widget_get_next_sibling (title_label);
  g_autofree char *accessible = g_strdup_printf ("%s: %s", title, value);

  gtk_label_set_label (GTK_LABEL (title_label), title);
  gtk_label_set_label (GTK_LABEL (value_label), value);
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    {
      if (i == level)
        gtk_widget_add_css_class (flag, classes[i]);
      else
        gtk_widget_remove_css_class (flag, classes[i]);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (flag),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);
}

static GtkWidget *
next_flag (BmsMonitorPage *self)
{
  if (self->n_flags == G_N_ELEMENTS (self->flags))
    return NULL;
  if (self->flags[self->n_flags] == NULL)
    {
      self->flags[self->n_flags] = flag_new ();
      gtk_flow_box_append (self->flags_box, self->flags[self->n_flags]);
    }
  gtk_widget_set_visible (gtk_widget_get_parent (self->flags[self->n_flags]), TRUE);
  return self->flags[self->n_flags++];
}

static void
add_flag (BmsMonitorPage *self,
          const char     *title,
          const char     *value,
          FlagLevel       level)
{
  GtkWidget *flag = next_flag (self);

  if (flag != NULL)
    flag_set (flag, title, value, level);
}

static void
add_protection_flag (BmsMonitorPage *self,
                     const char     *title,
                     const char * const *bits)
{
  gboolean active = FALSE;

  for (guint i = 0; bits[i] != NULL; i++)
    active |= bms_device_get_warning (BMS_PAGE_DEVICE (self), bits[i]);
  add_flag (self, title, active ? _("Active") : C_("protection state", "Normal"),
            active ? FLAG_ERROR : FLAG_OK);
}

static void
add_onoff_flag (BmsMonitorPage *self,
                const char     *title,
                gboolean        on)
{
  add_flag (self, title, on ? _("On") : _("Off"), on ? FLAG_OK : FLAG_OFF);
}

static void
update_flags (BmsMonitorPage *self)
{
  BmsDevice *d = BMS_PAGE_DEVICE (self);
  static const char * const charge[] = { "cell_over_voltage", "pack_over_voltage",
                                         "charge_over_current", NULL };
  static const char * const discharge[] = { "cell_under_voltage", "pack_under_voltage",
                                            "discharge_over_current", NULL };
  static const char * const hot[] = { "mosfet_over_temp", "battery_over_temp",
                                      "box_over_temp", NULL };
  static const char * const cold[] = { "battery_low_temp", NULL };
  static const char * const diff[] = { "cell_voltage_difference", NULL };
  const char *state_names[] = { _("Standby"), _("Charging"), _("Discharging") };
  BmsDeviceState state = bms_device_get_state (d);

  self->n_flags = 0;
  add_flag (self, _("State"), state_names[state],
            state == BMS_DEVICE_STATE_STANDBY ? FLAG_OFF : FLAG_INFO);
  add_onoff_flag (self, _("Charge MOS"), bms_device_get_status (d) & BMS_STATUS_CHARGE_MOS);
  add_onoff_flag (self, _("Discharge MOS"), bms_device_get_status (d) & BMS_STATUS_DISCHARGE_MOS);
  add_onoff_flag (self, _("Balancing"), bms_device_get_status (d) & BMS_STATUS_BALANCER);
  /* The relays next: what a technician checks first, and at 1366 × 768
   * the end of this list is below the fold. */
  if (bms_device_get_has_relays (d))
    {
      const char *relays[] = { _("Discharge relay"), _("Pre-charge relay"),
                               _("Charge relay"), _("Level-2 relay"), _("Heater relay") };
      guint bits = bms_device_get_relays (d);

      for (guint i = 0; i < G_N_ELEMENTS (relays); i++)
        add_onoff_flag (self, relays[i], (bits >> i) & 1);
    }
  /* Healthy real boards send status bit 3 clear: nothing to show then. A
   * set bit is what the field reads as "battery dropped"; the document
   * says otherwise, so it is stated, not painted as a fault. */
  if (bms_device_get_status (d) & BMS_STATUS_BATTERY_DROPPED)
    add_flag (self, _("Status bit 3"), _("Battery dropped"), FLAG_INFO);
  add_protection_flag (self, _("Charge protection"), charge);
  add_protection_flag (self, _("Discharge protection"), discharge);
  add_protection_flag (self, _("Over-temperature"), hot);
  add_protection_flag (self, _("Low temperature"), cold);
  add_protection_flag (self, _("Voltage difference"), diff);
  for (guint i = self->n_flags; i < G_N_ELEMENTS (self->flags); i++)
    if (self->flags[i] != NULL)
      gtk_widget_set_visible (gtk_widget_get_parent (self->flags[i]), FALSE);
}

static void
update_grid (BmsMonitorPage *self)
{
  GListModel *cells = bms_device_get_cells (BMS_PAGE_DEVICE (self));
  GListModel *modules = bms_device_get_modules (BMS_PAGE_DEVICE (self));
  BmsDevice *d = BMS_PAGE_DEVICE (self);
  guint n = MIN (g_list_model_get_n_items (cells), BMS_MAX_CELLS);
  guint n_modules = MIN (g_list_model_get_n_items (modules), BMS_MAX_MODULES);
  guint16 mv[BMS_MAX_CELLS];
  guint sizes[BMS_MAX_MODULES];
  double temps[BMS_MAX_MODULES][3];
  guint64 balancing[4] = { 0 };
  BmsCellLimits limits = {
    bms_device_get_cell_ovp_mv (d), bms_device_get_cell_ovp_recovery_mv (d),
    bms_device_get_cell_uvp_mv (d), bms_device_get_cell_uvp_recovery_mv (d),
  };

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(BmsCell) cell = g_list_model_get_item (cells, i);

      mv[i] = bms_cell_get_millivolts (cell);
      if (bms_cell_get_balancing (cell))
        balancing[i / 64] |= G_GUINT64_CONSTANT (1) << (i % 64);
    }
  for (guint m = 0; m < n_modules; m++)
    {
      g_autoptr(BmsModule) module = g_list_model_get_item (modules, m);
      gboolean has = bms_module_get_has_temperatures (module);

      sizes[m] = bms_module_get_cell_count (module);
      for (guint t = 0; t < 3; t++)
        temps[m][t] = has ? bms_module_get_temperature (module, t) : NAN;
    }
  bms_cell_grid_set_limits (self->cell_grid, &limits);
  bms_cell_grid_set_cells (self->cell_grid, mv, n, sizes, n_modules, balancing);
  bms_cell_chart_set_lines (self->cell_chart, limits.ovp_mv, limits.uvp_mv,
                            bms_device_get_balance_start_mv (d));
  bms_cell_chart_set_cells (self->cell_chart, mv, n);
  bms_cell_grid_set_module_temps (self->cell_grid, (const double (*)[3]) temps, n_modules);
}

static void
update_labels (BmsMonitorPage *self)
{
  double balancer_temp = bms_device_get_balancer_temperature (BMS_PAGE_DEVICE (self));
  guint n_modules = g_list_model_get_n_items (bms_device_get_modules (BMS_PAGE_DEVICE (self)));
  guint n_cells = g_list_model_get_n_items (bms_device_get_cells (BMS_PAGE_DEVICE (self)));
  g_autofree char *cells = NULL;
  g_autofree char *count = NULL;
  g_autofree char *unit = g_settings_get_string (self->settings, "voltage-unit");
  g_autofree char *in_modules = NULL;

  in_modules = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u cell", "%u cells", n_cells),
                                n_cells);
  /* The tiles are bare numbers to fit 16 in a row: their unit is said once, here. */
  /* TRANSLATORS: "16 cells · in V": the unit of the cell tiles */
  cells = g_strdup_printf (_("%s · in %s"), in_modules, g_str_equal (unit, "millivolt") ? "mV" : "V");
  if (n_modules > 1)
    {
      g_autofree char *with = g_strdup_printf (_("%s in %u modules"), in_modules, n_modules);

      count = g_strdup_printf (_("%s · in %s"), with, g_str_equal (unit, "millivolt") ? "mV" : "V");
    }
  if (!bms_device_get_online (BMS_PAGE_DEVICE (self)))
    {
      /* Keep the last values on screen, but say they are old. */
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (bms_device_get_last_update (BMS_PAGE_DEVICE (self)) / G_USEC_PER_SEC);
      g_autofree char *at = when ? g_date_time_format (when, "%H:%M:%S") : g_strdup ("—");
      g_autofree char *offline = g_strdup_printf (_("%s · offline, last reply at %s"),
                                                  count ? count : cells, at);
      gtk_label_set_label (self->cell_count_label, offline);
      gtk_widget_add_css_class (GTK_WIDGET (self->cell_count_label), "warning");
      return;
    }
  gtk_widget_remove_css_class (GTK_WIDGET (self->cell_count_label), "warning");
  gtk_label_set_label (self->cell_count_label, count ? count : cells);

  if (!isnan (balancer_temp))
    {
      g_autofree char *t = bms_format_temperature (self->settings, balancer_temp);
      gtk_label_set_label (self->balance_temp_label, t);
    }
  else
    gtk_label_set_label (self->balance_temp_label, _("not fitted"));
}

static void selected_changed (BmsMonitorPage *self);

/* The charts fill the room a small pack leaves; a grid of many modules
 * needs it itself. */
#define CHART_MAX_CELLS 48

static void
update_trend (BmsMonitorPage *self)
{
  guint n_cells = g_list_model_get_n_items (bms_device_get_cells (BMS_PAGE_DEVICE (self)));

  gtk_widget_set_visible (self->charts_box, n_cells > 0 && n_cells <= CHART_MAX_CELLS);
  if (!bms_device_get_has_current (BMS_PAGE_DEVICE (self)))
    return;
  bms_pack_trend_add (self->pack_trend, bms_device_get_last_update (BMS_PAGE_DEVICE (self)),
                      bms_device_get_pack_voltage (BMS_PAGE_DEVICE (self)),
                      bms_device_get_current (BMS_PAGE_DEVICE (self)));
}

static void
device_updated (BmsMonitorPage *self)
{
  gboolean has_data = bms_device_get_snapshot (BMS_PAGE_DEVICE (self)) != NULL;

  gtk_stack_set_visible_child_name (self->stack, has_data ? "data" : "empty");
  if (!has_data)
    return;
  update_grid (self);
  update_trend (self);
  /* The details of the chosen cell follow the tile, this poll. */
  selected_changed (self);
  update_labels (self);
  update_flags (self);
}

static void
online_changed (BmsMonitorPage *self)
{
  if (bms_device_get_snapshot (BMS_PAGE_DEVICE (self)) != NULL)
    update_labels (self);
}

static void
selected_changed (BmsMonitorPage *self)
{
  int i = bms_cell_grid_get_selected (self->cell_grid);
  g_autofree char *text = NULL;

  if (i >= 0)
    text = bms_cell_grid_describe_cell (self->cell_grid, i);
  gtk_label_set_label (self->selected_label,
                       text ? text : _("Click a cell or use the arrow keys for details"));
}

static void
units_changed (BmsMonitorPage *self)
{
  g_autofree char *unit = g_settings_get_string (self->settings, "voltage-unit");

  bms_cell_grid_set_show_volts (self->cell_grid, g_str_equal (unit, "volt"));
  /* Re-evaluate the template bindings that format with the settings. */
  bms_page_notify_device (BMS_PAGE (self));
  selected_changed (self);
  if (BMS_PAGE_DEVICE (self) != NULL && bms_device_get_snapshot (BMS_PAGE_DEVICE (self)) != NULL)
    update_labels (self);
}

static void
bms_monitor_page_device_changed (BmsPage *page)
{
  BmsMonitorPage *self = BMS_MONITOR_PAGE (page);
  BmsDevice *device = bms_page_get_device (page);

  /* Another board (or none): its trend starts afresh. */
  bms_pack_trend_clear (self->pack_trend);
  if (device == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  g_signal_connect_object (device, "updated", G_CALLBACK (device_updated), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (device, "notify::online", G_CALLBACK (online_changed), self,
                           G_CONNECT_SWAPPED);
  device_updated (self);
}

static void
bms_monitor_page_dispose (GObject *object)
{
  BmsMonitorPage *self = BMS_MONITOR_PAGE (object);

  bms_page_set_device (BMS_PAGE (self), NULL);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (bms_monitor_page_parent_class)->dispose (object);
}

static void
bms_monitor_page_class_init (BmsMonitorPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  BmsPageClass *page_class = BMS_PAGE_CLASS (klass);

  object_class->dispose = bms_monitor_page_dispose;
  page_class->device_changed = bms_monitor_page_device_changed;

  g_type_ensure (BMS_TYPE_CELL_GRID);
  g_type_ensure (BMS_TYPE_CELL_CHART);
  g_type_ensure (BMS_TYPE_PACK_TREND);
  g_type_ensure (BMS_TYPE_DEVICE);
  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-monitor-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsMonitorPage, stack);
  gtk_widget_class_bind_template_child (widget_class, BmsMonitorPage, cell_grid);
  gtk_widget_class_bind_template_child (widget_class, BmsMonitorPage, cell_count_label);
  gtk_widget_class_bind_template_child (widget_class, BmsMonitorPage, selected_label);
  gtk_widget_class_bind_template_child (widget_class, BmsMonitorPage, cell_chart);
  gtk_widget_class_bind_template_child (widget_class, BmsMonitorPage, pack_trend);
  gtk_widget_class_bind_template_child (widget_class, BmsMonitorPage, charts_box);
  gtk_widget_class_bind_template_child (widget_class, BmsMonitorPage, balance_temp_label);
  gtk_widget_class_bind_template_child (widget_class, BmsMonitorPage, flags_box);
  gtk_widget_class_bind_template_callback (widget_class, format_cell);
  gtk_widget_class_bind_template_callback (widget_class, format_difference);
  gtk_widget_class_bind_template_callback (widget_class, format_volts);
  gtk_widget_class_bind_template_callback (widget_class, format_uint);
  gtk_widget_class_bind_template_callback (widget_class, format_temperature);
  gtk_widget_class_bind_template_callback (widget_class, format_temperature_range);
}

static void
bms_monitor_page_init (BmsMonitorPage *self)
{
  self->settings = bms_settings_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Tests read the details as a user would. */
  g_object_set_data (G_OBJECT (self), "selected-label", self->selected_label);
  g_object_set_data (G_OBJECT (self), "cell-count-label", self->cell_count_label);
  g_signal_connect_object (self->cell_grid, "notify::selected",
                           G_CALLBACK (selected_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::voltage-unit",
                           G_CALLBACK (units_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::temperature-unit",
                           G_CALLBACK (units_changed), self, G_CONNECT_SWAPPED);
  units_changed (self);
}

GtkWidget *
bms_monitor_page_new (BmsConnection *connection)
{
  return g_object_new (BMS_TYPE_MONITOR_PAGE, "connection", connection, NULL);
}

