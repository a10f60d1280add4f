/* bms-report-draw.c — the report's pages: A4, drawn with Pango and cairo.
 *
 * Pages are drawn into recording surfaces first and replayed into the PDF
 * surface at the end, once the number of pages is known for the footers;
 * a recording keeps everything as vectors and text. Units are PostScript
 * points (1/72 in), the PDF's own: the Pango context runs at 72 dpi so a
 * font size is a size in points.
 */
#include "config.h"

#include "bms-report-private.h"

#include <cairo-pdf.h>
#include <glib/gi18n.h>
#include <math.h>
#include <pango/pangocairo.h>

#include "bms-alarm.h"
#include "bms-device.h"
#include "bms-graph-painter.h"
#include "bms-param-set.h"

#define PAGE_W     595.276   /* A4 */
#define PAGE_H     841.890
#define MARGIN_X   42.0
#define TOP        48.0
#define BOTTOM     (PAGE_H - 58.0)
#define CONTENT_W  (PAGE_W - 2 * MARGIN_X)
#define GRAPH_H    190.0

#define FONT_BODY     "Sans 8.5"
#define FONT_SMALL    "Sans 7.5"
#define FONT_BOLD     "Sans Bold 8.5"
#define FONT_SMALL_B  "Sans Bold 7.5"
#define FONT_HEADING  "Sans Bold 13"
#define FONT_TITLE    "Sans Bold 20"

typedef struct { double r, g, b; } Rgb;
static const Rgb INK = { 0.12, 0.12, 0.13 };
static const Rgb MUTED = { 0.40, 0.40, 0.42 };
static const Rgb ACCENT = { 0.11, 0.44, 0.85 };   /* Adwaita blue 4 */
static const Rgb MARK = { 0.78, 0.33, 0.00 };     /* orange 5: a difference */
static const Rgb RULE = { 0.80, 0.80, 0.80 };
static const Rgb STRIPE = { 0.96, 0.96, 0.95 };
static const Rgb HEADER_BG = { 0.91, 0.93, 0.96 };

typedef struct {
  const ReportData   *data;
  const ReportPeople *people;
  PangoContext       *context;
  GPtrArray          *pages;     /* recording cairo_surface_t */
  cairo_t            *cr;        /* on the last page */
  double              y;
  guint               section;
} Doc;

/* --- pages and text ----------------------------------------------------- */

static void
set_rgb (cairo_t   *cr,
         const Rgb *c)
{
  cairo_set_source_rgb (cr, c->r, c->g, c->b);
}

static void
doc_new_page (Doc *doc)
{
  cairo_rectangle_t extents = { 0, 0, PAGE_W, PAGE_H };
  cairo_surface_t *page = cairo_recording_surface_create (CAIRO_CONTENT_COLOR_ALPHA, &extents);

  g_clear_pointer (&doc->cr, cairo_destroy);
  g_ptr_array_add (doc->pages, page);
  doc->cr = cairo_create (page);
  pango_cairo_update_context (doc->cr, doc->context);
  doc->y = TOP;
}

/* Starts a new page unless h more points fit on this one. */
static void
doc_need (Doc    *doc,
          double  h)
{
  if (doc->y + h > BOTTOM)
    doc_new_page (doc);
}

static PangoLayout *
doc_layout (Doc            *doc,
            const char     *font,
            double          width,
            PangoAlignment  align,
            const char     *text)
{
  PangoLayout *layout = pango_layout_new (doc->context);
  g_autoptr(PangoFontDescription) desc = pango_font_description_from_string (font);

  pango_layout_set_font_description (layout, desc);
  if (width > 0)
    {
      pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
    }
  pango_layout_set_alignment (layout, align);
  pango_layout_set_text (layout, text ? text : "", -1);
  return layout;
}

static double
layout_height (PangoLayout *layout)
{
  PangoRectangle logical;

  pango_layout_get_extents (layout, NULL, &logical);
  return logical.height / (double) PANGO_SCALE;
}

static double
text_height (Doc        *doc,
             const char *font,
             double      width,
             const char *text)
{
  g_autoptr(PangoLayout) layout = doc_layout (doc, font, width, PANGO_ALIGN_LEFT, text);

  return layout_height (layout);
}

/* Draws text in a box of the given width at x, y; returns its height. */
static double
doc_text (Doc            *doc,
          double          x,
          double          y,
          double          width,
          const char     *font,
          PangoAlignment  align,
          const Rgb      *color,
          const char     *text)
{
  g_autoptr(PangoLayout) layout = doc_layout (doc, font, width, align, text);

  set_rgb (doc->cr, color);
  cairo_move_to (doc->cr, x, y);
  pango_cairo_show_layout (doc->cr, layout);
  return layout_height (layout);
}

/* A paragraph across the page. */
static void
doc_paragraph (Doc        *doc,
               const char *font,
               const Rgb  *color,
               const char *text)
{
  double h = text_height (doc, font, CONTENT_W, text);

  doc_need (doc, h);
  doc->y += doc_text (doc, MARGIN_X, doc->y, CONTENT_W, font, PANGO_ALIGN_LEFT, color, text) + 4;
}

static void
doc_heading (Doc        *doc,
             const char *title)
{
  g_autofree char *numbered = g_strdup_printf ("%u  %s", ++doc->section, title);
  double h = text_height (doc, FONT_HEADING, CONTENT_W, numbered);

  /* A heading never ends a page: keep room for a few lines under it. */
  doc->y += doc->y > TOP ? 14 : 0;
  doc_need (doc, h + 60);
  doc_text (doc, MARGIN_X, doc->y, CONTENT_W, FONT_HEADING, PANGO_ALIGN_LEFT, &ACCENT, numbered);
  doc->y += h + 3;
  set_rgb (doc->cr, &ACCENT);
  cairo_rectangle (doc->cr, MARGIN_X, doc->y, CONTENT_W, 0.8);
  cairo_fill (doc->cr);
  doc->y += 7;
}

/* --- key/value grids ---------------------------------------------------- */

typedef struct {
  GPtrArray *labels;
  GPtrArray *values;
} Pairs;

static void
pairs_init (Pairs *p)
{
  p->labels = g_ptr_array_new_with_free_func (g_free);
  p->values = g_ptr_array_new_with_free_func (g_free);
}

static void
pairs_clear (Pairs *p)
{
  g_ptr_array_unref (p->labels);
  g_ptr_array_unref (p->values);
}

/* Takes value; a NULL value leaves the pair out. */
static void
pairs_add (Pairs      *p,
           const char *label,
           char       *value)
{
  if (value == NULL)
    return;
  g_ptr_array_add (p->labels, g_strdup (label));
  g_ptr_array_add (p->values, value);
}

/* Label and value side by side, two pairs per line; a value too long for
 * half the line gets a line of its own. */
static gboolean
pair_is_wide (Doc        *doc,
              const char *value,
              double      value_w)
{
  g_autoptr(PangoLayout) layout = doc_layout (doc, FONT_BOLD, -1, PANGO_ALIGN_LEFT, value);
  int w;

  pango_layout_get_pixel_size (layout, &w, NULL);
  return w > value_w;
}

static void
doc_pairs (Doc   *doc,
           Pairs *p)
{
  const double col_w = CONTENT_W / 2, label_w = 96, value_w = col_w - label_w - 10;

  for (guint i = 0; i < p->labels->len;)
    {
      gboolean wide = pair_is_wide (doc, p->values->pdata[i], value_w);
      guint n = !wide && i + 1 < p->labels->len
                && !pair_is_wide (doc, p->values->pdata[i + 1], value_w) ? 2 : 1;
      double w = wide ? CONTENT_W - label_w : value_w;
      double h = 0;

      for (guint k = i; k < i + n; k++)
        h = MAX (h, MAX (text_height (doc, FONT_BODY, label_w, p->labels->pdata[k]),
                         text_height (doc, FONT_BOLD, w, p->values->pdata[k])));
      doc_need (doc, h + 3);
      for (guint k = i; k < i + n; k++)
        {
          double x = MARGIN_X + (k - i) * col_w;
          doc_text (doc, x, doc->y, label_w, FONT_BODY, PANGO_ALIGN_LEFT, &MUTED, p->labels->pdata[k]);
          doc_text (doc, x + label_w, doc->y, w, FONT_BOLD, PANGO_ALIGN_LEFT, &INK, p->values->pdata[k]);
        }
      doc->y += h + 3;
      i += n;
    }
  doc->y += 2;
}

/* --- tables ------------------------------------------------------------- */

typedef struct {
  const char     *title;
  double          width;   /* fraction of the content width */
  PangoAlignment  align;
} Column;

typedef struct {
  const Column *columns;
  guint         n_columns;
  GPtrArray    *rows;      /* GStrv, one string per column */
  GArray       *marked;    /* gboolean per row: drawn in MARK, bold */
} Table;

static void
table_init (Table        *t,
            const Column *columns,
            guint         n_columns)
{
  t->columns = columns;
  t->n_columns = n_columns;
  t->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  t->marked = g_array_new (FALSE, TRUE, sizeof (gboolean));
}

static void
table_clear (Table *t)
{
  g_ptr_array_unref (t->rows);
  g_array_unref (t->marked);
}

/* Takes the n_columns strings (NULL-terminated array). */
static void
table_add (Table    *t,
           gboolean  marked,
           char    **cells)
{
  g_ptr_array_add (t->rows, cells);
  g_array_append_val (t->marked, marked);
}

static double
row_height (Doc          *doc,
            const Table  *t,
            char        **cells,
            const char   *font)
{
  double h = 0;

  for (guint c = 0; c < t->n_columns; c++)
    h = MAX (h, text_height (doc, font, t->columns[c].width * CONTENT_W - 6, cells[c]));
  return h + 4;
}

static void
draw_row (Doc         *doc,
          const Table *t,
          char       **cells,
          const char  *font,
          const Rgb   *color,
          const Rgb   *background,
          double       h)
{
  double x = MARGIN_X;

  if (background)
    {
      set_rgb (doc->cr, background);
      cairo_rectangle (doc->cr, MARGIN_X, doc->y, CONTENT_W, h);
      cairo_fill (doc->cr);
    }
  for (guint c = 0; c < t->n_columns; c++)
    {
      double w = t->columns[c].width * CONTENT_W;
      doc_text (doc, x + 3, doc->y + 2, w - 6, font, t->columns[c].align, color, cells[c]);
      x += w;
    }
  doc->y += h;
}

static void
draw_table_header (Doc         *doc,
                   const Table *t)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) titles = NULL;

  for (guint c = 0; c < t->n_columns; c++)
    g_strv_builder_add (builder, t->columns[c].title);
  titles = g_strv_builder_end (builder);
  draw_row (doc, t, titles, FONT_SMALL_B, &INK, &HEADER_BG, row_height (doc, t, titles, FONT_SMALL_B));
}

/* The header comes again at the top of every page the table runs onto. */
static void
doc_table (Doc   *doc,
           Table *t)
{
  doc_need (doc, 40);
  draw_table_header (doc, t);
  for (guint r = 0; r < t->rows->len; r++)
    {
      char **cells = t->rows->pdata[r];
      gboolean marked = g_array_index (t->marked, gboolean, r);
      const char *font = marked ? FONT_SMALL_B : FONT_SMALL;
      double h = row_height (doc, t, cells, font);

      if (doc->y + h > BOTTOM)
        {
          doc_new_page (doc);
          draw_table_header (doc, t);
        }
      draw_row (doc, t, cells, font, marked ? &MARK : &INK, r % 2 ? &STRIPE : NULL, h);
    }
  doc->y += 6;
}

/* --- formatting --------------------------------------------------------- */

static char *
format_time (gint64 time_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);

  return g_date_time_format (dt, "%Y-%m-%d %H:%M:%S");
}

static char *
format_range (const ReportData *data,
              BmsSeries         series,
              int               decimals,
              const char       *unit)
{
  if (isnan (data->min[series]))
    return NULL;
  /* TRANSLATORS: lowest … highest value over the report's range, then
   * the last one: "3.21 … 3.38 V (last 3.30 V)" */
  return g_strdup_printf (_("%.*f … %.*f %s (last %.*f %s)"), decimals, data->min[series],
                          decimals, data->max[series], unit, decimals, data->last[series], unit);
}

static char *
board_string (const ReportPeople *people,
              guint8              id)
{
  g_autofree char *text = people->board ? bms_snapshot_dup_string (people->board, id) : NULL;

  return text && *text ? bms_field_format_version (text) : NULL;
}

static char *
board_value (const ReportPeople *people,
             guint8              id)
{
  const BmsFieldInfo *field = bms_field_lookup (id);

  if (people->board == NULL || field == NULL || !bms_snapshot_has (people->board, id))
    return NULL;
  return bms_field_format (field, bms_snapshot_get_raw (people->board, id));
}

static const char *
chemistry_name (gint64 type)
{
  switch (type)
    {
    case BMS_BATTERY_TYPE_LFP:
      return _("Lithium iron phosphate (LFP)");
    case BMS_BATTERY_TYPE_NMC:
      return _("Ternary lithium (NMC)");
    case BMS_BATTERY_TYPE_LTO:
      return _("Lithium titanate (LTO)");
    default:
      return NULL;
    }
}

static const char *
device_id_text (const ReportData *data)
{
  return g_str_has_prefix (data->device->key, "id:") ? data->device->key + 3 : data->device->key;
}

/* --- sections ----------------------------------------------------------- */

static void
draw_title (Doc *doc)
{
  const ReportPeople *people = doc->people;
  g_autofree char *generated = format_time (people->generated_us);
  g_autofree char *device = NULL;
  Pairs p;

  doc->y += doc_text (doc, MARGIN_X, doc->y, CONTENT_W, FONT_TITLE, PANGO_ALIGN_LEFT, &INK,
                      _("Service report"));
  device = doc->data->device->name && g_strcmp0 (doc->data->device->name, device_id_text (doc->data))
           ? g_strdup_printf ("%s · %s", doc->data->device->name, device_id_text (doc->data))
           : g_strdup (device_id_text (doc->data));
  doc->y += doc_text (doc, MARGIN_X, doc->y + 2, CONTENT_W, FONT_HEADING, PANGO_ALIGN_LEFT, &MUTED,
                      device) + 10;
  pairs_init (&p);
  if (people->customer)
    pairs_add (&p, _("Customer"), g_strdup (people->customer));
  if (people->site)
    pairs_add (&p, _("Site"), g_strdup (people->site));
  if (people->technician)
    pairs_add (&p, _("Technician"), g_strdup (people->technician));
  pairs_add (&p, _("Generated"), g_steal_pointer (&generated));
  doc_pairs (doc, &p);
  pairs_clear (&p);
}

static char *
cells_and_modules (Doc *doc)
{
  const BmsSnapshot *board = doc->people->board;
  guint counts[BMS_MAX_MODULES];
  guint n_modules = board && doc->data->n_cells
                    ? bms_device_module_layout (board, doc->data->n_cells, counts) : 1;

  if (n_modules > 1)
    return g_strdup_printf (_("%u cells in %u modules"), doc->data->n_cells, n_modules);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u cell", "%u cells", doc->data->n_cells),
                          doc->data->n_cells);
}

static void
draw_identity (Doc *doc)
{
  const ReportPeople *people = doc->people;
  g_autofree char *maker = board_string (people, 0xBA);
  g_autofree char *date = board_string (people, 0xB5);
  Pairs p;

  doc_heading (doc, _("Identity"));
  pairs_init (&p);
  pairs_add (&p, _("Device ID"), g_strdup (device_id_text (doc->data)));
  pairs_add (&p, _("Firmware"), board_string (people, BMS_ID_SOFTWARE_VERSION));
  pairs_add (&p, _("Hardware"), board_string (people, 0xEC));
  pairs_add (&p, _("Manufacturer ID"), maker ? bms_report_decode_manufacturer_id (maker) : NULL);
  if (maker)
    pairs_add (&p, _("Manufacturer ID (raw)"), g_strdup (maker));
  pairs_add (&p, _("Manufactured"), date ? bms_field_format_manufacture_date (date) : NULL);
  pairs_add (&p, _("Address"), board_value (people, BMS_ID_BOARD_ADDRESS));
  pairs_add (&p, _("Cells"), cells_and_modules (doc));
  if (people->board && bms_snapshot_has (people->board, BMS_ID_BATTERY_TYPE))
    pairs_add (&p, _("Chemistry"),
               g_strdup (chemistry_name (bms_snapshot_get_raw (people->board, BMS_ID_BATTERY_TYPE))));
  pairs_add (&p, _("Capacity"), board_value (people, 0xAA));
  pairs_add (&p, _("History key"), g_strdup (doc->data->device->key));
  if (people->board_recorded_us)
    {
      g_autofree char *recorded = format_time (people->board_recorded_us);
      /* TRANSLATORS: where identity and parameters come from when no board
       * is connected; %s is a date and time */
      pairs_add (&p, _("Identity and parameters"),
                 g_strdup_printf (_("from the history, as recorded on %s"), recorded));
    }
  else if (people->board)
    pairs_add (&p, _("Identity and parameters"), g_strdup (_("read from the connected board")));
  doc_pairs (doc, &p);
  pairs_clear (&p);
  if (people->board == NULL)
    doc_paragraph (doc, FONT_SMALL, &MUTED,
                   _("The history holds no identity of this board up to the end of the range: "
                     "firmware, hardware, manufacturer, chemistry, capacity and the parameter "
                     "set are recorded while Packwatch polls the board, or read from it when "
                     "it is connected while the report is made."));
}

static void
draw_time_range (Doc *doc)
{
  const ReportData *data = doc->data;
  Pairs p;

  doc_heading (doc, _("Time range"));
  pairs_init (&p);
  pairs_add (&p, _("From"), format_time (data->from_us));
  pairs_add (&p, _("To"), format_time (data->to_us));
  pairs_add (&p, _("Duration"),
             bms_graph_axis_format_duration ((data->to_us - data->from_us) / (double) G_USEC_PER_SEC));
  pairs_add (&p, _("Samples"), g_strdup_printf ("%" G_GUINT64_FORMAT, data->n_samples));
  pairs_add (&p, _("First sample"), format_time (data->first_us));
  pairs_add (&p, _("Last sample"), format_time (data->last_us));
  doc_pairs (doc, &p);
  pairs_clear (&p);
}

static char *
equivalent_cycles (Doc *doc)
{
  const BmsSnapshot *board = doc->people->board;
  double capacity;

  if (board == NULL || !bms_snapshot_has (board, 0xAA))
    return NULL;
  capacity = bms_snapshot_get (board, 0xAA);
  if (!(capacity > 0))
    return NULL;
  return g_strdup_printf ("%.2f", doc->data->charge_out_ah / capacity);
}

static void
draw_summary (Doc *doc)
{
  const ReportData *data = doc->data;
  Pairs p;

  doc_heading (doc, _("Summary"));
  pairs_init (&p);
  pairs_add (&p, _("State of charge"), format_range (data, BMS_SERIES_SOC, 0, "%"));
  pairs_add (&p, _("Pack voltage"), format_range (data, BMS_SERIES_PACK_VOLTAGE, 2, "V"));
  pairs_add (&p, _("Current"), format_range (data, BMS_SERIES_CURRENT, 2, "A"));
  pairs_add (&p, _("Lowest cell"), format_range (data, BMS_SERIES_CELL_MIN, 3, "V"));
  pairs_add (&p, _("Highest cell"), format_range (data, BMS_SERIES_CELL_MAX, 3, "V"));
  pairs_add (&p, _("Largest cell spread"), g_strdup_printf ("%u mV", data->spread_max_mv));
  pairs_add (&p, _("MOSFET temperature"), format_range (data, BMS_SERIES_TEMP_MOSFET, 0, "°C"));
  pairs_add (&p, _("Sensor 1"), format_range (data, BMS_SERIES_TEMP1, 0, "°C"));
  pairs_add (&p, _("Sensor 2"), format_range (data, BMS_SERIES_TEMP2, 0, "°C"));
  pairs_add (&p, _("Energy in"), g_strdup_printf ("%.2f kWh (%.1f Ah)", data->energy_in_wh / 1000,
                                                   data->charge_in_ah));
  pairs_add (&p, _("Energy out"), g_strdup_printf ("%.2f kWh (%.1f Ah)", data->energy_out_wh / 1000,
                                                    data->charge_out_ah));
  pairs_add (&p, _("Cycles (board count)"), board_value (doc->people, BMS_ID_CYCLES));
  pairs_add (&p, _("Full cycles in range"), equivalent_cycles (doc));
  doc_pairs (doc, &p);
  pairs_clear (&p);
}

/* --- the cell table ----------------------------------------------------- */

#define CELL_BLOCKS   3
#define CELL_BLOCK_GAP 12.0
#define CELL_ROW_H    10.0

static const double cell_cols[] = { 0.24, 0.19, 0.19, 0.19, 0.19 };

static void
cell_row (Doc        *doc,
          double      x,
          double      y,
          double      w,
          char      **texts,
          const char *font,
          const Rgb  *color)
{
  for (guint c = 0; c < G_N_ELEMENTS (cell_cols); c++)
    {
      double cw = cell_cols[c] * w;
      doc_text (doc, x + 2, y + 1, cw - 4, font, c ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT, color,
                texts[c]);
      x += cw;
    }
}

static void
cell_header (Doc    *doc,
             double  x,
             double  y,
             double  w)
{
  char *titles[] = { _("Cell"), _("Last"), _("Min"), _("Max"), _("Mean"), NULL };

  set_rgb (doc->cr, &HEADER_BG);
  cairo_rectangle (doc->cr, x, y, w, CELL_ROW_H + 1);
  cairo_fill (doc->cr);
  cell_row (doc, x, y, w, titles, FONT_SMALL_B, &INK);
}

typedef struct {
  Doc    *doc;
  double  top;     /* of the blocks on this page */
  double  bottom;  /* lowest row drawn on this page */
  guint   block;
  double  y;
} CellFlow;

static double
block_x (guint block)
{
  double w = (CONTENT_W - (CELL_BLOCKS - 1) * CELL_BLOCK_GAP) / CELL_BLOCKS;

  return MARGIN_X + block * (w + CELL_BLOCK_GAP);
}

/* The cells run down a block, then the next block, then onto a new page:
 * 3 × 65 rows a page, so 256 cells fill under two pages. */
static void
flow_advance (CellFlow *f,
              double    h)
{
  double w = (CONTENT_W - (CELL_BLOCKS - 1) * CELL_BLOCK_GAP) / CELL_BLOCKS;

  if (f->y + h <= BOTTOM)
    return;
  if (++f->block == CELL_BLOCKS)
    {
      doc_new_page (f->doc);
      f->top = f->doc->y;
      f->bottom = f->top;
      f->block = 0;
    }
  cell_header (f->doc, block_x (f->block), f->top, w);
  f->y = f->top + CELL_ROW_H + 2;
}

static void
flow_module (CellFlow *f,
             guint     module,
             guint     first,
             guint     last)
{
  g_autofree char *text = g_strdup_printf (_("Module %u · cells %u–%u"), module, first, last);
  double w = (CONTENT_W - (CELL_BLOCKS - 1) * CELL_BLOCK_GAP) / CELL_BLOCKS;

  /* A module title does not end a block. */
  flow_advance (f, 2 * CELL_ROW_H + 2);
  doc_text (f->doc, block_x (f->block) + 2, f->y + 2, w, FONT_SMALL_B, PANGO_ALIGN_LEFT, &ACCENT, text);
  f->y += CELL_ROW_H + 2;
  f->bottom = MAX (f->bottom, f->y);
}

static void
flow_cell (CellFlow *f,
           guint     index,
           gboolean  marked)
{
  const ReportCell *cell = &f->doc->data->cells[index];
  double w = (CONTENT_W - (CELL_BLOCKS - 1) * CELL_BLOCK_GAP) / CELL_BLOCKS;
  g_autofree char *no = g_strdup_printf ("%u", index + 1);
  g_autofree char *last = g_strdup_printf ("%.3f", cell->last / 1000.0);
  g_autofree char *min = g_strdup_printf ("%.3f", cell->min / 1000.0);
  g_autofree char *max = g_strdup_printf ("%.3f", cell->max / 1000.0);
  g_autofree char *mean = g_strdup_printf ("%.3f", cell->n ? cell->sum / cell->n / 1000.0 : 0);
  char *texts[] = { no, last, min, max, mean, NULL };
  char *none[] = { no, "—", "—", "—", "—", NULL };

  flow_advance (f, CELL_ROW_H);
  if (index % 2)
    {
      set_rgb (f->doc->cr, &STRIPE);
      cairo_rectangle (f->doc->cr, block_x (f->block), f->y, w, CELL_ROW_H);
      cairo_fill (f->doc->cr);
    }
  cell_row (f->doc, block_x (f->block), f->y, w, cell->n ? texts : none,
            marked ? FONT_SMALL_B : FONT_SMALL, marked ? &MARK : &INK);
  f->y += CELL_ROW_H;
  f->bottom = MAX (f->bottom, f->y);
}

/* The cells with the lowest minimum and the highest maximum. */
static void
extreme_cells (const ReportData *data,
               guint            *lowest,
               guint            *highest)
{
  *lowest = *highest = G_MAXUINT;
  for (guint c = 0; c < data->n_cells; c++)
    {
      if (data->cells[c].n == 0)
        continue;
      if (*lowest == G_MAXUINT || data->cells[c].min < data->cells[*lowest].min)
        *lowest = c;
      if (*highest == G_MAXUINT || data->cells[c].max > data->cells[*highest].max)
        *highest = c;
    }
}

static void
draw_cells (Doc *doc)
{
  const ReportData *data = doc->data;
  guint counts[BMS_MAX_MODULES], n_modules = 1, lowest, highest;
  g_autofree char *intro = NULL;
  g_autofree char *count = cells_and_modules (doc);
  CellFlow f = { .doc = doc };

  doc_heading (doc, _("Cells"));
  extreme_cells (data, &lowest, &highest);
  if (lowest == G_MAXUINT)
    {
      doc_paragraph (doc, FONT_BODY, &INK, _("No cell voltages were recorded in this range."));
      return;
    }
  /* TRANSLATORS: the first %s is "16 cells" or "256 cells in 16 modules" */
  intro = g_strdup_printf (_("%s; voltages in V over the range. Lowest: cell %u at %.3f V; "
                             "highest: cell %u at %.3f V (both in colour)."),
                           count, lowest + 1, data->cells[lowest].min / 1000.0,
                           highest + 1, data->cells[highest].max / 1000.0);
  doc_paragraph (doc, FONT_BODY, &INK, intro);
  if (doc->people->board)
    n_modules = bms_device_module_layout (doc->people->board, data->n_cells, counts);

  doc_need (doc, 4 * CELL_ROW_H);
  f.top = f.bottom = doc->y;
  f.y = f.top + CELL_ROW_H + 2;
  cell_header (doc, block_x (0), f.top, block_x (1) - block_x (0) - CELL_BLOCK_GAP);
  for (guint m = 0, c = 0; m < n_modules; m++)
    {
      guint n = n_modules > 1 ? counts[m] : data->n_cells;
      if (n_modules > 1)
        flow_module (&f, m + 1, c + 1, c + n);
      for (guint k = 0; k < n && c < data->n_cells; k++, c++)
        flow_cell (&f, c, c == lowest || c == highest);
    }
  doc->y = f.bottom + 8;
}

/* Up to this many cells the health table lists every cell; above it only
 * the suspects and the HEALTH_EXTREMES highest and lowest resistances. */
#define HEALTH_ALL_CELLS 48
#define HEALTH_EXTREMES  5

static char *
health_figure (double      v,
               const char *format)
{
  return isnan (v) ? g_strdup ("—") : g_strdup_printf (format, v);
}

static int
by_resistance (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  const BmsHealthReport *h = user_data;
  double x = h->cells[*(const guint *) a].resistance_mohm;
  double y = h->cells[*(const guint *) b].resistance_mohm;

  return (x < y) ? -1 : (x > y) ? 1 : 0;
}

/* Which cells the table lists (0-based, ascending): all of a small pack;
 * of a large one the suspects and the extremes of resistance. */
static GArray *
health_rows (const BmsHealthReport *h)
{
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) ranked = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree gboolean *take = g_new0 (gboolean, h->n_cells);

  for (guint c = 0; c < h->n_cells; c++)
    {
      take[c] = h->n_cells <= HEALTH_ALL_CELLS ||
                bms_health_report_find_suspect (h, c + 1) != NULL;
      if (!isnan (h->cells[c].resistance_mohm))
        g_array_append_val (ranked, c);
    }
  g_array_sort_with_data (ranked, by_resistance, (gpointer) h);
  for (guint i = 0; i < ranked->len && i < HEALTH_EXTREMES; i++)
    {
      take[g_array_index (ranked, guint, i)] = TRUE;
      take[g_array_index (ranked, guint, ranked->len - 1 - i)] = TRUE;
    }
  for (guint c = 0; c < h->n_cells; c++)
    if (take[c])
      g_array_append_val (rows, c);
  return rows;
}

static void
draw_health_suspects (Doc                   *doc,
                      const BmsHealthReport *h)
{
  static const Column columns[] = {
    { N_("Cell"), 0.12, PANGO_ALIGN_LEFT },
    { N_("Why it is suspected"), 0.88, PANGO_ALIGN_LEFT },
  };
  Column translated[G_N_ELEMENTS (columns)];
  Table t;

  if (h->suspects->len == 0)
    {
      doc_paragraph (doc, FONT_BODY, &INK, _("No cell is suspected."));
      return;
    }
  for (guint c = 0; c < G_N_ELEMENTS (columns); c++)
    translated[c] = (Column) { _(columns[c].title), columns[c].width, columns[c].align };
  table_init (&t, translated, G_N_ELEMENTS (columns));
  for (guint i = 0; i < h->suspects->len; i++)
    {
      const BmsHealthSuspect *s = g_ptr_array_index (h->suspects, i);
      char **cells = g_new0 (char *, 3);

      cells[0] = g_strdup_printf ("%u", s->cell);
      cells[1] = s->reasons ? g_strjoinv ("; ", s->reasons) : g_strdup ("");
      table_add (&t, TRUE, cells);
    }
  doc_table (doc, &t);
  table_clear (&t);
}

/* The estimate of src/model/bms-health.h over the report's range: the
 * suspects with their reasons, then each cell's figures (on a large pack
 * only the suspects and the extremes). */
static void
draw_health (Doc *doc)
{
  static const Column columns[] = {
    { N_("Cell"), 0.12, PANGO_ALIGN_LEFT },
    { N_("Resistance"), 0.20, PANGO_ALIGN_RIGHT },
    { N_("Steps"), 0.14, PANGO_ALIGN_RIGHT },
    { N_("Capacity vs median"), 0.22, PANGO_ALIGN_RIGHT },
    { N_("Self-discharge"), 0.20, PANGO_ALIGN_RIGHT },
    { "", 0.12, PANGO_ALIGN_CENTER },
  };
  const BmsHealthReport *h = doc->data->health;
  Column translated[G_N_ELEMENTS (columns)];
  g_autoptr(GArray) rows = NULL;
  g_autofree char *intro = NULL;
  Table t;

  doc_heading (doc, _("Cell health"));
  if (h == NULL || h->n_cells == 0)
    {
      g_autofree char *why = doc->data->health_error
        /* TRANSLATORS: %s is why the estimate failed */
        ? g_strdup_printf (_("Cell health could not be estimated: %s"), doc->data->health_error)
        : g_strdup (_("Cell health could not be estimated: no cell voltages in this range."));
      doc_paragraph (doc, FONT_BODY, &MUTED, why);
      return;
    }
  if (h->steps_used == 0)
    {
      /* A table of dashes says nothing: say why instead. */
      doc_paragraph (doc, FONT_BODY, &MUTED,
                     _("No current steps in this range: cell health needs samples at most "
                       "10 s apart while the current changes (one a minute is too coarse)."));
      return;
    }
  /* TRANSLATORS: %u is a number of current steps; the method is in docs/health.md */
  intro = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                        "Estimated from the history of this range (%u current "
                                        "step). Resistance is the median ΔV/ΔI of each cell; "
                                        "capacity and self-discharge are relative to the median "
                                        "cell; — means not enough evidence.",
                                        "Estimated from the history of this range (%u current "
                                        "steps). Resistance is the median ΔV/ΔI of each cell; "
                                        "capacity and self-discharge are relative to the median "
                                        "cell; — means not enough evidence.",
                                        h->steps_used),
                           h->steps_used);
  doc_paragraph (doc, FONT_BODY, &INK, intro);
  draw_health_suspects (doc, h);

  rows = health_rows (h);
  if (rows->len < h->n_cells)
    {
      g_autofree char *some = g_strdup_printf (
        _("%u cells: listed are the suspects and the %u cells of highest and of lowest "
          "resistance."), h->n_cells, HEALTH_EXTREMES);
      doc_paragraph (doc, FONT_SMALL, &MUTED, some);
    }
  for (guint c = 0; c < G_N_ELEMENTS (columns); c++)
    translated[c] = (Column) { columns[c].title[0] ? _(columns[c].title) : "",
                               columns[c].width, columns[c].align };
  table_init (&t, translated, G_N_ELEMENTS (columns));
  for (guint i = 0; i < rows->len; i++)
    {
      guint c = g_array_index (rows, guint, i);
      const BmsHealthCell *cell = &h->cells[c];
      gboolean suspect = bms_health_report_find_suspect (h, c + 1) != NULL;
      char **cells = g_new0 (char *, 7);

      cells[0] = g_strdup_printf ("%u", c + 1);
      cells[1] = health_figure (cell->resistance_mohm, "%.2f mΩ");
      cells[2] = g_strdup_printf ("%u", cell->steps);
      cells[3] = health_figure (cell->capacity_deviation_pct, "%+.1f %%");
      cells[4] = health_figure (cell->leak_ma, "%.1f mA");
      cells[5] = g_strdup (suspect ? "!" : "");
      table_add (&t, suspect, cells);
    }
  doc_table (doc, &t);
  table_clear (&t);
}

/* --- alarms, parameters, audit ------------------------------------------ */

static char *
format_measure (double      v,
                const char *unit)
{
  if (isnan (v))
    return g_strdup ("—");
  return g_strdup_printf ("%g %s", v, unit);
}

static void
draw_alarms (Doc *doc)
{
  static const Column columns[] = {
    { N_("Time"), 0.22, PANGO_ALIGN_LEFT },
    { N_("Alarm"), 0.40, PANGO_ALIGN_LEFT },
    { N_("State"), 0.14, PANGO_ALIGN_LEFT },
    { N_("Value"), 0.12, PANGO_ALIGN_RIGHT },
    { N_("Limit"), 0.12, PANGO_ALIGN_RIGHT },
  };
  Column translated[G_N_ELEMENTS (columns)];
  GPtrArray *alarms = doc->data->alarms;
  Table t;

  doc_heading (doc, _("Alarms"));
  if (alarms->len == 0)
    {
      doc_paragraph (doc, FONT_BODY, &INK, _("No alarm was raised or cleared in this range."));
      return;
    }
  for (guint c = 0; c < G_N_ELEMENTS (columns); c++)
    translated[c] = (Column) { _(columns[c].title), columns[c].width, columns[c].align };
  table_init (&t, translated, G_N_ELEMENTS (columns));
  for (guint i = 0; i < alarms->len; i++)
    {
      BmsHistoryAlarmEvent *e = g_ptr_array_index (alarms, i);
      const BmsAlarmInfo *info = bms_alarm_info_lookup (e->code);
      const char *unit = bms_alarm_info_get_unit (info);
      const char *name = info ? _(info->name) : (e->text && *e->text ? e->text : e->code);
      char **cells = g_new0 (char *, 6);

      cells[0] = format_time (e->time_us);
      /* The recorded text says where ("Cell 7 over-voltage"). */
      cells[1] = info && e->text && *e->text && g_strcmp0 (e->text, info->name) != 0
                 ? g_strdup_printf ("%s (%s)", name, e->text) : g_strdup (name);
      cells[2] = g_strdup (e->raised ? _("raised") : _("cleared"));
      cells[3] = format_measure (e->value, unit);
      cells[4] = format_measure (e->threshold, unit);
      table_add (&t, e->raised, cells);
    }
  doc_table (doc, &t);
  table_clear (&t);
}

static gboolean
param_differs (BmsParamSet *set,
               BmsParamSet *preset,
               guint8       id)
{
  const char *a, *b;

  if (!bms_param_set_has (preset, id))
    return FALSE;
  a = bms_param_set_get_string (set, id);
  b = bms_param_set_get_string (preset, id);
  if (a || b)
    return g_strcmp0 (a, b) != 0;
  return bms_param_set_get_raw (set, id) != bms_param_set_get_raw (preset, id);
}

/* The chemistry in words, as in section 1; the rest as the app shows it. */
static char *
param_text (BmsParamSet *set,
            guint8       id)
{
  const char *chemistry = id == BMS_ID_BATTERY_TYPE
                          ? chemistry_name (bms_param_set_get_raw (set, id)) : NULL;

  return chemistry ? g_strdup (chemistry) : bms_param_set_format (set, id);
}

/* The settings: not the identity (section 1), not the password (the key
 * to every write stays off paper), not an extension that stands unused
 * (0) beside its public field. */
static gboolean
report_parameter (const BmsSnapshot  *board,
                  const BmsFieldInfo *field)
{
  if (field == NULL || field->id == BMS_ID_PASSWORD || field->group == BMS_GROUP_IDENTITY)
    return FALSE;
  return !(field->replaces != 0 && bms_snapshot_get_raw (board, field->id) == 0);
}

static void
draw_parameters (Doc *doc)
{
  static const Column columns[] = {
    { N_("Parameter"), 0.50, PANGO_ALIGN_LEFT },
    { N_("Value"), 0.20, PANGO_ALIGN_RIGHT },
    { N_("Preset"), 0.20, PANGO_ALIGN_RIGHT },
    { "", 0.10, PANGO_ALIGN_CENTER },
  };
  Column translated[G_N_ELEMENTS (columns)];
  const BmsSnapshot *board = doc->people->board;
  g_autoptr(BmsParamSet) set = NULL;
  g_autoptr(BmsParamSet) preset = NULL;
  g_autofree guint8 *ids = NULL;
  g_autofree char *intro = NULL;
  guint n_ids = 0, n_diff = 0;
  gint64 type;
  Table t;

  doc_heading (doc, _("Parameters"));
  if (board == NULL)
    {
      doc_paragraph (doc, FONT_BODY, &MUTED,
                     _("Not in the history up to the end of the range: the parameter set is "
                       "recorded while Packwatch polls the board, or read from it when it is "
                       "connected while the report is made."));
      return;
    }
  type = bms_snapshot_has (board, BMS_ID_BATTERY_TYPE)
         ? bms_snapshot_get_raw (board, BMS_ID_BATTERY_TYPE) : BMS_BATTERY_TYPE_LFP;
  set = bms_param_set_new_from_snapshot (board);
  preset = bms_param_set_new_preset ((guint) type, NULL);
  if (preset == NULL)
    preset = bms_param_set_new ();
  ids = bms_param_set_get_ids (set, &n_ids);
  for (guint c = 0; c < G_N_ELEMENTS (columns); c++)
    translated[c] = (Column) { columns[c].title[0] ? _(columns[c].title) : "", columns[c].width,
                               columns[c].align };
  table_init (&t, translated, G_N_ELEMENTS (columns));
  for (guint i = 0; i < n_ids; i++)
    {
      const BmsFieldInfo *field = bms_field_lookup (ids[i]);
      gboolean differs = param_differs (set, preset, ids[i]);
      char **cells = g_new0 (char *, 5);

      if (!report_parameter (board, field))
        {
          g_free (cells);
          continue;
        }
      cells[0] = g_strdup (_(field->label));
      cells[1] = param_text (set, ids[i]);
      cells[2] = bms_param_set_has (preset, ids[i]) ? param_text (preset, ids[i]) : g_strdup ("—");
      cells[3] = g_strdup (differs ? "≠" : "");
      n_diff += differs;
      table_add (&t, differs, cells);
    }
  /* TRANSLATORS: %s is a chemistry ("Lithium iron phosphate (LFP)") */
  intro = g_strdup_printf (_("%u of %u parameters differ from the preset for %s; they are marked ≠ "
                             "and in colour."), n_diff, t.rows->len,
                           chemistry_name (type) ? chemistry_name (type) : "?");
  doc_paragraph (doc, FONT_BODY, &INK, intro);
  doc_table (doc, &t);
  table_clear (&t);
}

static char *
audit_label (const BmsHistoryAudit *a)
{
  const BmsFieldInfo *field = bms_field_lookup_name (a->field);

  if (g_strcmp0 (a->field, "firmware") == 0)
    return g_strdup (_("Firmware update"));
  return g_strdup (field ? _(field->label) : a->field);
}

static void
draw_audit (Doc *doc)
{
  static const Column columns[] = {
    { N_("Time"), 0.20, PANGO_ALIGN_LEFT },
    { N_("What"), 0.26, PANGO_ALIGN_LEFT },
    { N_("Change"), 0.36, PANGO_ALIGN_LEFT },
    { N_("Result"), 0.18, PANGO_ALIGN_LEFT },
  };
  Column translated[G_N_ELEMENTS (columns)];
  GPtrArray *audit = doc->data->audit;
  Table t;

  doc_heading (doc, _("Audit"));
  if (audit->len == 0)
    {
      doc_paragraph (doc, FONT_BODY, &INK,
                     _("No parameter was written and no firmware updated in this range."));
      return;
    }
  for (guint c = 0; c < G_N_ELEMENTS (columns); c++)
    translated[c] = (Column) { _(columns[c].title), columns[c].width, columns[c].align };
  table_init (&t, translated, G_N_ELEMENTS (columns));
  for (guint i = 0; i < audit->len; i++)
    {
      BmsHistoryAudit *a = g_ptr_array_index (audit, i);
      char **cells = g_new0 (char *, 5);

      cells[0] = format_time (a->time_us);
      cells[1] = audit_label (a);
      cells[2] = g_strdup_printf ("%s → %s", a->old_value ? a->old_value : "—",
                                  a->new_value ? a->new_value : "—");
      cells[3] = g_strdup (a->result);
      table_add (&t, g_strcmp0 (a->result, "ok") != 0, cells);
    }
  doc_table (doc, &t);
  table_clear (&t);
}

/* --- graphs ------------------------------------------------------------- */

/* Drawn at twice the size and scaled down: the painter's one-unit lines
 * and pixel columns become half a point, fine enough for paper. */
static void
draw_graph (Doc        *doc,
            const char *title,
            GListStore *series)
{
  BmsGraphPainter painter;
  BmsGraphGeometry geo = { 0 };
  g_autoptr(PangoFontDescription) font = pango_font_description_from_string ("Sans");
  double h = text_height (doc, FONT_BOLD, CONTENT_W, title);

  doc_need (doc, h + GRAPH_H + 10);
  doc->y += doc_text (doc, MARGIN_X, doc->y, CONTENT_W, FONT_BOLD, PANGO_ALIGN_LEFT, &INK, title) + 2;
  bms_graph_painter_init (&painter, G_LIST_MODEL (series));
  painter.context = doc->context;
  pango_font_description_set_absolute_size (font, 2 * 8.0 * PANGO_SCALE);
  bms_graph_painter_set_font (&painter, font);
  bms_graph_geometry_init (&geo);
  cairo_save (doc->cr);
  cairo_translate (doc->cr, MARGIN_X, doc->y);
  cairo_scale (doc->cr, 0.5, 0.5);
  bms_graph_painter_draw (&painter, doc->cr, (int) (2 * CONTENT_W), (int) (2 * GRAPH_H),
                          doc->data->from_us / (double) G_USEC_PER_SEC,
                          doc->data->to_us / (double) G_USEC_PER_SEC, &geo);
  cairo_restore (doc->cr);
  pango_cairo_update_context (doc->cr, doc->context);   /* the painter scaled it */
  bms_graph_geometry_clear (&geo);
  bms_graph_painter_clear (&painter);
  set_rgb (doc->cr, &RULE);
  cairo_set_line_width (doc->cr, 0.5);
  cairo_rectangle (doc->cr, MARGIN_X, doc->y, CONTENT_W, GRAPH_H);
  cairo_stroke (doc->cr);
  doc->y += GRAPH_H + 10;
}

static void
draw_graphs (Doc *doc)
{
  const char *titles[REPORT_N_GRAPHS] = {
    _("Pack voltage"), _("Current (+ charging)"), _("State of charge"), _("Temperatures"),
    _("Cell spread (highest − lowest cell)"),
  };

  doc_heading (doc, _("Graphs"));
  for (guint g = 0; g < REPORT_N_GRAPHS; g++)
    draw_graph (doc, titles[g], doc->data->graphs[g]);
}

/* --- the PDF ------------------------------------------------------------ */

static void
draw_footer (Doc     *doc,
             cairo_t *cr,
             guint    page,
             guint    n_pages)
{
  g_autofree char *generated = format_time (doc->people->generated_us);
  g_autofree char *left = g_strdup_printf (_("Service report · %s"), device_id_text (doc->data));
  g_autofree char *middle = g_strdup_printf (_("Page %u of %u"), page, n_pages);
  g_autofree char *right = g_strdup_printf (_("Generated %s · Packwatch %s"), generated,
                                            PACKAGE_VERSION);
  const char *texts[] = { left, middle, right };
  const PangoAlignment aligns[] = { PANGO_ALIGN_LEFT, PANGO_ALIGN_CENTER, PANGO_ALIGN_RIGHT };
  double y = PAGE_H - 36;

  pango_cairo_update_context (cr, doc->context);
  set_rgb (cr, &RULE);
  cairo_rectangle (cr, MARGIN_X, y - 5, CONTENT_W, 0.5);
  cairo_fill (cr);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(PangoLayout) layout = doc_layout (doc, FONT_SMALL, CONTENT_W, aligns[i], texts[i]);
      set_rgb (cr, &MUTED);
      cairo_move_to (cr, MARGIN_X, y);
      pango_cairo_show_layout (cr, layout);
    }
}

static cairo_status_t
write_to_stream (void                *closure,
                 const unsigned char *bytes,
                 unsigned int         length)
{
  GOutputStream *stream = closure;

  return g_output_stream_write_all (stream, bytes, length, NULL, NULL, NULL)
         ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static gboolean
write_pdf (Doc                  *doc,
           GOutputStream        *stream,
           const ReportProgress *progress,
           GCancellable         *cancellable,
           GError              **error)
{
  cairo_surface_t *pdf = cairo_pdf_surface_create_for_stream (write_to_stream, stream, PAGE_W, PAGE_H);
  g_autofree char *title = g_strdup_printf ("%s %s", _("Service report"), device_id_text (doc->data));
  g_autofree char *creator = g_strdup_printf ("Packwatch %s", PACKAGE_VERSION);
  cairo_t *cr = cairo_create (pdf);
  cairo_status_t status;

  cairo_pdf_surface_set_metadata (pdf, CAIRO_PDF_METADATA_TITLE, title);
  cairo_pdf_surface_set_metadata (pdf, CAIRO_PDF_METADATA_CREATOR, creator);
  for (guint i = 0; i < doc->pages->len && !g_cancellable_is_cancelled (cancellable); i++)
    {
      cairo_set_source_surface (cr, doc->pages->pdata[i], 0, 0);
      cairo_paint (cr);
      draw_footer (doc, cr, i + 1, doc->pages->len);
      cairo_show_page (cr);
      report_progress (progress, (i + 1.0) / doc->pages->len);
    }
  cairo_destroy (cr);
  cairo_surface_finish (pdf);
  status = cairo_surface_status (pdf);
  cairo_surface_destroy (pdf);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, BMS_REPORT_ERROR, BMS_REPORT_ERROR_WRITE,
                   _("Could not write the PDF: %s"), cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

/* One font map for every report, made once and kept, as GTK keeps its
 * own: Pango leaks the fontconfig patterns of a font map that is freed,
 * once per report. A font map is not thread-safe, so one report draws at
 * a time. */
static GMutex report_font_lock;

static PangoFontMap *
report_font_map (void)
{
  static PangoFontMap *fontmap = NULL;

  if (fontmap == NULL)
    {
      fontmap = pango_cairo_font_map_new ();
      pango_cairo_font_map_set_resolution (PANGO_CAIRO_FONT_MAP (fontmap), 72);
    }
  return fontmap;
}

static void
doc_init (Doc                *doc,
          const ReportData   *data,
          const ReportPeople *people)
{
  cairo_font_options_t *options = cairo_font_options_create ();

  g_mutex_lock (&report_font_lock);
  doc->data = data;
  doc->people = people;
  doc->pages = g_ptr_array_new_with_free_func ((GDestroyNotify) cairo_surface_destroy);
  doc->context = pango_font_map_create_context (report_font_map ());
  /* Paper has no pixel grid: unhinted outlines and metrics. */
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  pango_cairo_context_set_font_options (doc->context, options);
  cairo_font_options_destroy (options);
}

static void
doc_clear (Doc *doc)
{
  g_clear_pointer (&doc->cr, cairo_destroy);
  g_clear_pointer (&doc->pages, g_ptr_array_unref);
  g_clear_object (&doc->context);
  g_mutex_unlock (&report_font_lock);
}

gboolean
report_draw_pdf (const ReportData     *data,
                 const ReportPeople   *people,
                 GOutputStream        *stream,
                 const ReportProgress *progress,
                 GCancellable         *cancellable,
                 GError              **error)
{
  void (*sections[]) (Doc *) = {
    draw_title, draw_identity, draw_time_range, draw_summary, draw_cells, draw_health,
    draw_alarms, draw_parameters, draw_audit, draw_graphs,
  };
  ReportProgress drawing = *progress, writing = *progress;
  Doc doc = { 0 };
  gboolean ok;

  drawing.to = progress->from + (progress->to - progress->from) * 0.6;
  writing.from = drawing.to;
  doc_init (&doc, data, people);
  doc_new_page (&doc);
  for (guint i = 0; i < G_N_ELEMENTS (sections); i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          doc_clear (&doc);
          return FALSE;
        }
      sections[i] (&doc);
      report_progress (&drawing, (i + 1.0) / G_N_ELEMENTS (sections));
    }
  g_clear_pointer (&doc.cr, cairo_destroy);
  ok = write_pdf (&doc, stream, &writing, cancellable, error);
  doc_clear (&doc);
  return ok;
}
