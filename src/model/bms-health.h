/* bms-health.h — cell health from the recorded history: each cell's DC
 * internal resistance, capacity deviation and self-discharge, the cells to
 * suspect with their evidence in words, and the same figures per week.
 *
 * Everything is estimated from what the history holds (cell voltages in
 * 1 mV, pack current in 10 mA, SOC, temperatures, the balancer bit), in two
 * streaming passes over the samples: memory does not grow with the length
 * of the range (a reservoir of steps per cell, sums per cell and week).
 * A figure without enough evidence is NAN, never a guess. docs/health.md
 * explains the method, its limits and how good it is.
 */
#pragma once

#include <gio/gio.h>
#include "bms-history.h"

G_BEGIN_DECLS

/* A current step: |ΔI| of the pack between two adjacent samples at least
 * this much, the samples at most BMS_HEALTH_MAX_GAP_S apart. */
#define BMS_HEALTH_MIN_STEP_A     2.0
#define BMS_HEALTH_MAX_GAP_S      10.0
/* Fewer steps than this for a cell: its resistance is NAN. */
#define BMS_HEALTH_MIN_STEPS      8
/* A cell is blamed for its resistance only over at least this many steps. */
#define BMS_HEALTH_SUSPECT_STEPS  20
/* A leak is reported only when its standard error is below this. */
#define BMS_HEALTH_LEAK_SE_MA     2.0
/* A cell is blamed for its capacity this far below the median cell. */
#define BMS_HEALTH_SUSPECT_CAPACITY_PCT 8.0
/* … for its self-discharge this far above the median cell: the leak
 * figure is noisy (a few mA, docs/health.md), so only a gross leak. */
#define BMS_HEALTH_SUSPECT_LEAK_MA 8.0

typedef struct {
  guint   cell;                    /* 1-based */
  double  resistance_mohm;         /* median of ΔV/ΔI over the steps; NAN */
  double  resistance_confidence;   /* 0…1 from step count and spread; NAN */
  guint   steps;                   /* steps that counted for this cell */
  double  capacity_deviation_pct;  /* vs the pack's median cell; NAN */
  double  leak_ma;                 /* self-discharge beyond the median cell; NAN */
  double  bottom_knee_mv;          /* mean distance to the median cell near empty; NAN */
  double  top_knee_mv;             /* the same near full; NAN */
} BmsHealthCell;

typedef struct {
  guint   cell;                    /* 1-based */
  double  score;                   /* how far out, in robust standard deviations */
  char  **reasons;                 /* translated sentences, NULL-terminated */
} BmsHealthSuspect;

typedef struct {
  gint64         start_us;         /* the Monday 00:00 UTC the week starts */
  guint64        n_samples;
  guint          steps_used;
  guint          n_cells;
  BmsHealthCell *cells;            /* n_cells */
} BmsHealthWeek;

typedef struct {
  gint64         from_us, to_us;   /* the range asked for */
  guint64        n_samples;        /* samples read */
  guint          steps_used;       /* pack current steps that passed the checks */
  guint          n_cells;
  BmsHealthCell *cells;            /* n_cells, cell i + 1 at index i */
  double         median_resistance_mohm;  /* NAN */
  double         pack_capacity_ah;        /* from coulomb counting; NAN */
  GPtrArray     *suspects;         /* BmsHealthSuspect*, worst first */
  GPtrArray     *weeks;            /* BmsHealthWeek*, oldest first */
} BmsHealthReport;

#define BMS_TYPE_HEALTH_REPORT (bms_health_report_get_type ())
GType            bms_health_report_get_type (void) G_GNUC_CONST;
BmsHealthReport *bms_health_report_ref      (BmsHealthReport *report);
void             bms_health_report_unref    (BmsHealthReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BmsHealthReport, bms_health_report_unref)

/* The cell's suspect entry, or NULL when the cell is not suspected. */
const BmsHealthSuspect *bms_health_report_find_suspect (const BmsHealthReport *report,
                                                        guint                  cell);

/* Analyses the samples of device_key (NULL: the history's only device)
 * between from_us and to_us (inclusive; 0 and G_MAXINT64 for open ends).
 * Reads the range twice (seconds for a week of 16 cells, more for 256
 * cells and months): from the UI use the async variant. Fails with BMS_HISTORY_ERROR_INVALID for an unknown device, or
 * no device given while the history holds several; cancelling fails with
 * G_IO_ERROR_CANCELLED. A range without samples gives a report whose
 * figures are all NAN. */
BmsHealthReport *bms_health_analyze        (BmsHistory    *history,
                                            const char    *device_key,
                                            gint64         from_us,
                                            gint64         to_us,
                                            GCancellable  *cancellable,
                                            GError       **error);
/* The same on a worker thread. */
void             bms_health_analyze_async  (BmsHistory          *history,
                                            const char          *device_key,
                                            gint64               from_us,
                                            gint64               to_us,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
BmsHealthReport *bms_health_analyze_finish (GAsyncResult  *result,
                                            GError       **error);

/* The report as the JSON of `packwatch-cli health --json`:
 * {"cells":[{"cell":1,"resistance_mohm":…,"resistance_confidence":…,
 * "capacity_deviation_pct":…,"leak_ma":…},…],"suspects":[{"cell":7,
 * "reasons":["…"]}],"steps_used":N}, null for NAN. */
char            *bms_health_report_to_json (const BmsHealthReport *report);

G_END_DECLS
