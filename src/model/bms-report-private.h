/* bms-report-private.h — what the files of BmsReport share.
 *
 *   bms-report.c        the object, the temporary file and its rename, async
 *   bms-report-data.c   collecting the history of the range
 *   bms-report-draw.c   the pages: sections, tables, graphs, footer
 */
#pragma once

#include "bms-report.h"
#include "bms-field.h"
#include "bms-health.h"

G_BEGIN_DECLS

/* The graphs of the report, each one pane of the Graph page's painter. */
typedef enum {
  REPORT_GRAPH_VOLTAGE,
  REPORT_GRAPH_CURRENT,
  REPORT_GRAPH_SOC,
  REPORT_GRAPH_TEMPERATURE,
  REPORT_GRAPH_SPREAD,
  REPORT_N_GRAPHS
} ReportGraph;

typedef struct {
  guint16 last;     /* mV; 0 when the cell never reported */
  guint16 min, max;
  double  sum;
  guint64 n;
} ReportCell;

typedef struct {
  BmsHistoryDevice *device;
  gint64     from_us, to_us;    /* the range asked for, after defaults */
  gint64     first_us, last_us; /* first and last sample in it */
  guint64    n_samples;

  double     min[BMS_SERIES_COUNT], max[BMS_SERIES_COUNT]; /* NAN: never */
  double     last[BMS_SERIES_COUNT];
  double     energy_in_wh, energy_out_wh;
  double     charge_in_ah, charge_out_ah;
  guint      spread_max_mv;

  guint      n_cells;           /* the most cells a sample carried */
  ReportCell cells[BMS_MAX_CELLS];

  GPtrArray *alarms;            /* BmsHistoryAlarmEvent */
  GPtrArray *audit;             /* BmsHistoryAudit */
  BmsHealthReport *health;      /* cell health of the range; NULL: health_error */
  char      *health_error;
  GListStore *graphs[REPORT_N_GRAPHS]; /* of BmsGraphSeries */
} ReportData;

typedef struct {
  char        *technician, *customer, *site;
  BmsSnapshot *board;
  gint64       board_recorded_us; /* the board's set from the history; 0: live or none */
  gint64       generated_us;
} ReportPeople;

typedef struct {
  BmsReportProgressFunc func;
  gpointer              data;
  double                from, to;  /* the part of 0..1 this step covers */
} ReportProgress;

static inline void
report_progress (const ReportProgress *p,
                 double                fraction)
{
  if (p->func)
    p->func (p->from + (p->to - p->from) * CLAMP (fraction, 0, 1), p->data);
}

/* Samples within this of each other are one run: energy is integrated and
 * graph lines drawn across it, not across a longer pause. */
#define REPORT_MAX_GAP_S 300.0

/* bms-report-data.c */
ReportData *report_data_collect (BmsHistory           *history,
                                 gint64                device_id,
                                 const BmsSnapshot    *board,
                                 gint64                from_us,
                                 gint64                to_us,
                                 const ReportProgress *progress,
                                 GCancellable         *cancellable,
                                 GError              **error);
void        report_data_free    (ReportData *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReportData, report_data_free)

/* bms-report-draw.c: the PDF into stream. */
gboolean    report_draw_pdf     (const ReportData     *data,
                                 const ReportPeople   *people,
                                 GOutputStream        *stream,
                                 const ReportProgress *progress,
                                 GCancellable         *cancellable,
                                 GError              **error);

G_END_DECLS
