/* bms-pack-trend.h — pack voltage and current over the last minutes */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BMS_TYPE_PACK_TREND (bms_pack_trend_get_type ())
G_DECLARE_FINAL_TYPE (BmsPackTrend, bms_pack_trend, BMS, PACK_TREND, GtkWidget)

/* Minutes shown. */
#define BMS_PACK_TREND_MINUTES 10

GtkWidget *bms_pack_trend_new          (void);
/* One poll's values. Redraws only when they differ from the last ones: an
 * idle pack costs no frame. */
void       bms_pack_trend_add          (BmsPackTrend *self,
                                        gint64        time_us,
                                        double        volts,
                                        double        amps);
void       bms_pack_trend_clear        (BmsPackTrend *self);
guint      bms_pack_trend_get_n_samples (BmsPackTrend *self);
guint      bms_pack_trend_get_n_redraws (BmsPackTrend *self);
void       bms_pack_trend_draw         (BmsPackTrend *self,
                                        cairo_t      *cr,
                                        int           width,
                                        int           height);

G_END_DECLS
