/* bms-summary-bar.c — SOC, pack voltage, current, power, identity, password state */
#include "config.h"

#include <math.h>
#include <glib/gi18n.h>

#include "bms-field.h"
#include "bms-format.h"
#include "bms-summary-bar.h"

struct _BmsSummaryBar
{
  GtkBox         parent_instance;

  BmsConnection *connection;
  BmsDevice     *device;
  guint          clock_id;

  GtkLabel      *host_version_label;
  GtkLabel      *time_connected_label;
  GtkImage      *lock_icon;
  GtkLabel      *lock_label;
  GtkButton     *lock_button;
  GtkStack      *figures_stack;
  GtkLabel      *implausible_label;
  /* Bound for the tests, which read what they show. */
  GtkLabel      *voltage_caption;
  GtkLabel      *date_label;
  GtkLabel      *software_label;
};

G_DEFINE_FINAL_TYPE (BmsSummaryBar, bms_summary_bar, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_DEVICE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
format_soc (BmsSummaryBar *self,
            guint          soc)
{
  return g_strdup_printf ("%u %%", soc);
}

static double
soc_to_double (BmsSummaryBar *self,
               guint          soc)
{
  return soc;
}

/* volts is the pack's voltage as the board sends it (the device takes
 * 0xED when there is one). Only a board without 0xED and a pack above
 * 655.35 V leaves it stuck at 0x83's ceiling: then the sum of the cells is
 * shown instead, and the caption and tooltip say so. */
static char *
format_pack_voltage (BmsSummaryBar *self,
                     double         volts,
                     double         cell_average,
                     guint          cell_count)
{
  return bms_format_pack_voltage (volts, cell_average, cell_count, NULL);
}

static char *
pack_voltage_caption (BmsSummaryBar *self,
                      double         volts,
                      double         cell_average,
                      guint          cell_count)
{
  gboolean summed;
  g_autofree char *text = bms_format_pack_voltage (volts, cell_average, cell_count, &summed);

  return g_strdup (summed ? _("Sum of cells") : _("Pack voltage"));
}

static char *
pack_voltage_tooltip (BmsSummaryBar *self,
                      double         volts,
                      double         cell_average,
                      guint          cell_count)
{
  gboolean summed;
  g_autofree char *text = bms_format_pack_voltage (volts, cell_average, cell_count, &summed);

  if (!summed)
    return NULL;
  return g_strdup (_("Sum of the cell voltages: the board's pack voltage field stops at 655.35 V"));
}

static char *
format_current (BmsSummaryBar *self,
                double         amps)
{
  return bms_format_current (amps);
}

static char *
format_power (BmsSummaryBar *self,
              double         watts)
{
  return bms_format_power (watts);
}

/* A reply no pack can give: its numbers are not drawn, the reason is. */
static char *
figures_page (BmsSummaryBar *self,
              const char    *implausible_reason)
{
  return g_strdup (implausible_reason != NULL ? "implausible" : "figures");
}

static char *
format_implausible (BmsSummaryBar *self,
                    const char    *implausible_reason)
{
  if (implausible_reason == NULL)
    return g_strdup ("");
  /* TRANSLATORS: %s is why the board's reply was refused, e.g. "State of
   * charge (soc_pct) = 250 % is beyond what any pack can report (0 to 100 %)" */
  return g_strdup_printf (_("Implausible reply: %s"), implausible_reason);
}

static char *
format_text (BmsSummaryBar *self,
             const char    *text)
{
  return g_strdup (text != NULL && *text != '\0' ? text : "—");
}

static char *
format_date (BmsSummaryBar *self,
             const char    *yymm)
{
  if (yymm == NULL || *yymm == '\0')
    return g_strdup ("—");
  return bms_field_format_manufacture_date (yymm);
}

static char *
format_version (BmsSummaryBar *self,
                const char    *version)
{
  g_autofree char *trimmed = version != NULL ? bms_field_format_version (version) : NULL;

  return format_text (self, trimmed);
}

static gboolean clock_tick (gpointer user_data);

/* The label counts minutes: one timer, due when it next changes, and none
 * while the bar is not shown or nothing is connected. */
static void
update_clock (BmsSummaryBar *self)
{
  gint64 since = self->connection ? bms_connection_get_connected_since (self->connection) : 0;
  gint64 elapsed_ms;
  g_autofree char *text = NULL;

  g_clear_handle_id (&self->clock_id, g_source_remove);
  if (since == 0)
    {
      gtk_label_set_label (self->time_connected_label, "—");
      return;
    }
  elapsed_ms = MAX (g_get_real_time () - since, 0) / 1000;
  text = bms_format_duration (elapsed_ms / 1000);
  gtk_label_set_label (self->time_connected_label, text);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->clock_id = g_timeout_add (60000 - elapsed_ms % 60000 + 20, clock_tick, self);
}

static void
update_lock (BmsSummaryBar *self)
{
  gboolean locked = bms_connection_get_locked (self->connection);
  guint remaining = bms_connection_get_unlock_remaining (self->connection);
  const char *reason;
  g_autofree char *text = NULL;

  if (locked)
    text = g_strdup (_("Locked"));
  else
    /* TRANSLATORS: parameters unlocked, minutes:seconds until they lock again */
    text = g_strdup_printf (_("Unlocked · %u:%02u"), remaining / 60, remaining % 60);
  gtk_label_set_label (self->lock_label, text);
  gtk_image_set_from_icon_name (self->lock_icon, locked ? "system-lock-screen-symbolic"
                                                        : "changes-allow-symbolic");
  gtk_button_set_label (self->lock_button, locked ? _("_Unlock…") : _("_Lock"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->lock_button),
                                  locked ? "win.unlock" : "win.lock");
  if (locked)
    gtk_widget_remove_css_class (GTK_WIDGET (self->lock_label), "warning");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->lock_label), "warning");
  /* Watched through a broker nothing can be unlocked: say so where the
   * button was, rather than offer it and refuse. */
  reason = bms_connection_get_read_only_reason (self->connection);
  if (reason != NULL)
    {
      gtk_label_set_label (self->lock_label, _("Read-only"));
      gtk_image_set_from_icon_name (self->lock_icon, "changes-prevent-symbolic");
    }
  gtk_widget_set_sensitive (GTK_WIDGET (self->lock_button), reason == NULL);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->lock_label), reason);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->lock_button), reason);
}

static gboolean
clock_tick (gpointer user_data)
{
  BmsSummaryBar *self = user_data;

  self->clock_id = 0;
  update_clock (self);
  return G_SOURCE_REMOVE;
}

static void
bms_summary_bar_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (bms_summary_bar_parent_class)->map (widget);
  update_clock (BMS_SUMMARY_BAR (widget));
}

static void
bms_summary_bar_unmap (GtkWidget *widget)
{
  g_clear_handle_id (&BMS_SUMMARY_BAR (widget)->clock_id, g_source_remove);
  GTK_WIDGET_CLASS (bms_summary_bar_parent_class)->unmap (widget);
}

static void
bms_summary_bar_dispose (GObject *object)
{
  BmsSummaryBar *self = BMS_SUMMARY_BAR (object);

  g_clear_handle_id (&self->clock_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), BMS_TYPE_SUMMARY_BAR);
  g_clear_object (&self->device);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (bms_summary_bar_parent_class)->dispose (object);
}

static void
bms_summary_bar_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  BmsSummaryBar *self = BMS_SUMMARY_BAR (object);

  switch (prop_id)
    {
    case PROP_DEVICE:
      g_value_set_object (value, self->device);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_summary_bar_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  BmsSummaryBar *self = BMS_SUMMARY_BAR (object);

  switch (prop_id)
    {
    case PROP_DEVICE:
      if (g_set_object (&self->device, g_value_get_object (value)))
        g_object_notify_by_pspec (object, pspec);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bms_summary_bar_class_init (BmsSummaryBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bms_summary_bar_dispose;
  object_class->get_property = bms_summary_bar_get_property;
  object_class->set_property = bms_summary_bar_set_property;
  widget_class->map = bms_summary_bar_map;
  widget_class->unmap = bms_summary_bar_unmap;

  properties[PROP_DEVICE] =
    g_param_spec_object ("device", NULL, NULL, BMS_TYPE_DEVICE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (BMS_TYPE_DEVICE);
  gtk_widget_class_set_template_from_resource (widget_class,
      "/io/github/packwatch/Packwatch/ui/bms-summary-bar.ui");
  gtk_widget_class_bind_template_child (widget_class, BmsSummaryBar, host_version_label);
  gtk_widget_class_bind_template_child (widget_class, BmsSummaryBar, time_connected_label);
  gtk_widget_class_bind_template_child (widget_class, BmsSummaryBar, lock_icon);
  gtk_widget_class_bind_template_child (widget_class, BmsSummaryBar, lock_label);
  gtk_widget_class_bind_template_child (widget_class, BmsSummaryBar, lock_button);
  gtk_widget_class_bind_template_child (widget_class, BmsSummaryBar, figures_stack);
  gtk_widget_class_bind_template_child (widget_class, BmsSummaryBar, implausible_label);
  gtk_widget_class_bind_template_child (widget_class, BmsSummaryBar, voltage_caption);
  gtk_widget_class_bind_template_child (widget_class, BmsSummaryBar, date_label);
  gtk_widget_class_bind_template_child (widget_class, BmsSummaryBar, software_label);
  gtk_widget_class_bind_template_callback (widget_class, format_soc);
  gtk_widget_class_bind_template_callback (widget_class, soc_to_double);
  gtk_widget_class_bind_template_callback (widget_class, format_pack_voltage);
  gtk_widget_class_bind_template_callback (widget_class, pack_voltage_caption);
  gtk_widget_class_bind_template_callback (widget_class, pack_voltage_tooltip);
  gtk_widget_class_bind_template_callback (widget_class, format_current);
  gtk_widget_class_bind_template_callback (widget_class, format_power);
  gtk_widget_class_bind_template_callback (widget_class, format_text);
  gtk_widget_class_bind_template_callback (widget_class, format_date);
  gtk_widget_class_bind_template_callback (widget_class, format_version);
  gtk_widget_class_bind_template_callback (widget_class, figures_page);
  gtk_widget_class_bind_template_callback (widget_class, format_implausible);
}

static void
bms_summary_bar_init (BmsSummaryBar *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_label_set_label (self->host_version_label, PACKAGE_VERSION);
}

void
bms_summary_bar_set_connection (BmsSummaryBar *self,
                                BmsConnection *connection)
{
  g_return_if_fail (BMS_IS_SUMMARY_BAR (self));
  g_return_if_fail (BMS_IS_CONNECTION (connection));

  g_set_object (&self->connection, connection);
  g_object_bind_property (connection, "device", self, "device", G_BINDING_SYNC_CREATE);
  g_signal_connect_object (connection, "notify::locked",
                           G_CALLBACK (update_lock), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::unlock-remaining",
                           G_CALLBACK (update_lock), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::read-only-reason",
                           G_CALLBACK (update_lock), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::connected-since",
                           G_CALLBACK (update_clock), self, G_CONNECT_SWAPPED);
  update_lock (self);
  update_clock (self);
}

/* During a firmware update the board is in its bootloader and answers no
 * read: the figures are from before it. Dimmed, with the reason; NULL
 * shows them normally again. */
void
bms_summary_bar_set_frozen (BmsSummaryBar *self,
                            const char    *why)
{
  g_return_if_fail (BMS_IS_SUMMARY_BAR (self));

  gtk_widget_set_opacity (GTK_WIDGET (self), why != NULL ? 0.45 : 1.0);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), why);
}
