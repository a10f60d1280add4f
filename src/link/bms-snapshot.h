/* bms-snapshot.h — the decoded contents of a frame's info field.
 *
 * A snapshot holds every identifier a reply carried, decoded through the field
 * catalogue: numbers as raw integers (sign and protocol version applied; the
 * engineering value is raw * scale), ASCII and byte fields as bytes, and the
 * cell and module blocks as arrays. It is plain data, safe to copy between
 * threads.
 */
#pragma once

#include <glib.h>
#include "bms-field.h"

G_BEGIN_DECLS

typedef struct {
  gint64   timestamp_us;                 /* g_get_real_time () when received */
  guint64  present[4];                   /* bit per id */
  gint64   raw[256];                     /* numeric fields */
  guint8  *bytes[256];                   /* ASCII/BYTES fields: size bytes, owned */
  guint16  cells_mv[BMS_MAX_CELLS];
  guint    n_cells;                      /* cells carried by 0x79 + 0xD0 */
  guint    n_cells_missing;              /* of cells 1..n_cells, how many the
                                          * decoded blocks left out (0 when
                                          * built by hand) */
  gint16   module_temps_c[BMS_MAX_MODULES][3];
  guint    n_module_temps;               /* modules carried by 0xD3 */
} BmsSnapshot;

BmsSnapshot *bms_snapshot_new          (void);
BmsSnapshot *bms_snapshot_copy         (const BmsSnapshot *snapshot);
void         bms_snapshot_free         (BmsSnapshot       *snapshot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BmsSnapshot, bms_snapshot_free)

/* Decode an info field ("id value id value …"). Unknown ids, short values,
 * an id carried twice and a cell number given twice fail with
 * BMS_FRAME_ERROR_BAD_INFO naming the id and offset. */
gboolean     bms_snapshot_parse        (BmsSnapshot  *snapshot,
                                        const guint8 *info,
                                        gsize         len,
                                        GError      **error);
/* Whether a decoded reply can be true of any pack, healthy or faulty: every
 * value within its field's physical bounds (bms-field.h), each cell of the
 * blocks at most 5.0 V, no cell missing from the blocks, and the cell count
 * (0x8A) equal to the cells the blocks carry. A cell at 0 mV passes: that is
 * a dead cell or a broken sense wire, a fault to show and alarm on. Fails
 * with BMS_FIELD_ERROR_IMPLAUSIBLE and the first reason found. */
gboolean     bms_snapshot_check_plausible (const BmsSnapshot *snapshot,
                                           GError           **error);
/* Encode every present field in ascending id order (a read-all reply body). */
void         bms_snapshot_encode       (const BmsSnapshot *snapshot,
                                        GByteArray        *out);
/* Encode one present field as id + value bytes. */
gboolean     bms_snapshot_encode_field (const BmsSnapshot *snapshot,
                                        guint8             id,
                                        GByteArray        *out);

gboolean     bms_snapshot_has          (const BmsSnapshot *snapshot, guint8 id);
gint64       bms_snapshot_get_raw      (const BmsSnapshot *snapshot, guint8 id);
double       bms_snapshot_get          (const BmsSnapshot *snapshot, guint8 id); /* engineering */
/* ASCII fields as a trimmed, NUL-terminated string (new); NULL if absent. */
char        *bms_snapshot_dup_string   (const BmsSnapshot *snapshot, guint8 id);
/* The key of the pack's real voltage in JSON, CSV and the CLI table: the
 * raw fields keep their own names (pack_voltage_16bit_v for 0x83,
 * pack_voltage_hv_v for 0xED). */
#define BMS_PACK_VOLTAGE_KEY "pack_voltage_v"
/* Pack voltage in V: the 4-byte extension 0xED when the board sends it
 * (0x83 saturates at 655.35 V), else 0x83; NAN when neither is present.
 * The one place that decides it (bms_snapshot_pack_voltage_id): the
 * device, the alarms, the history and the CLI all ask here. */
double       bms_snapshot_get_pack_voltage (const BmsSnapshot *snapshot);
/* The id whose value is in force for a setting: the 4-byte pack
 * protections 0xEE/0xEF when the board sends them and they are not 0, else
 * the id asked for (0x8E/0x8F, and every other id, unchanged). */
guint8       bms_snapshot_setting_id       (const BmsSnapshot *snapshot,
                                            guint8             id);
/* The id that carries the pack voltage (0xED or 0x83), 0 when none. */
guint8       bms_snapshot_pack_voltage_id  (const BmsSnapshot *snapshot);
/* The lowest and the highest of n cells: 0-based indices (the first of
 * equal cells), FALSE (and 0) without cells. The one place that picks
 * them: the device, the alarm monitor, the history and the CLI ask here. */
gboolean     bms_cells_get_range           (const guint16     *cells_mv,
                                            guint              n_cells,
                                            guint             *lowest,
                                            guint             *highest);
/* The same for the cells a snapshot carries. */
gboolean     bms_snapshot_get_cell_range   (const BmsSnapshot *snapshot,
                                            guint             *lowest,
                                            guint             *highest);
const guint8 *bms_snapshot_get_bytes   (const BmsSnapshot *snapshot, guint8 id);

void         bms_snapshot_set_raw      (BmsSnapshot *snapshot, guint8 id, gint64 raw);
void         bms_snapshot_set_bytes    (BmsSnapshot *snapshot, guint8 id,
                                        const guint8 *bytes, gsize len);
void         bms_snapshot_set_string   (BmsSnapshot *snapshot, guint8 id, const char *text);
void         bms_snapshot_set_cells    (BmsSnapshot *snapshot, const guint16 *mv, guint n);
void         bms_snapshot_set_module_temps (BmsSnapshot *snapshot,
                                            const gint16 (*temps)[3], guint n_modules);
void         bms_snapshot_remove       (BmsSnapshot *snapshot, guint8 id);

/* The whole snapshot as a JSON object (catalogue names as keys; cells_mv as
 * an array; battery_type as "lfp"/"nmc"/"lto"; see docs/cli.md). */
char        *bms_snapshot_to_json      (const BmsSnapshot *snapshot);

G_END_DECLS
