/* test-snapshot.c — a reply with a good checksum can still be nonsense: the
 * physical bounds of the catalogue, a cell block that lacks cells, an id or
 * a cell number given twice; and a dead cell is a fault, not nonsense. */
#include "config.h"

#include "bms-frame.h"
#include "bms-snapshot.h"
#include "test-util.h"

/* The vendor's example reply (14 cells), decoded. */
static BmsSnapshot *
vendor_snapshot (void)
{
  g_autoptr (GByteArray) bytes = test_load_hex ("nw-readall-14s.hex");
  g_autoptr (BmsFrame) frame = bms_frame_decode (bytes->data, bytes->len, NULL);
  BmsSnapshot *s = bms_snapshot_new ();

  g_assert_nonnull (frame);
  g_assert_true (bms_snapshot_parse (s, frame->info, frame->info_len, NULL));
  return s;
}

/* What a board sending this snapshot puts on the wire, decoded again. */
static BmsSnapshot *
over_the_wire (const BmsSnapshot *s)
{
  g_autoptr (GByteArray) info = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  BmsSnapshot *out = bms_snapshot_new ();

  bms_snapshot_encode (s, info);
  g_assert_true (bms_snapshot_parse (out, info->data, info->len, &error));
  g_assert_no_error (error);
  return out;
}

/* The check refuses s with a reason that contains every word of expected. */
static void
assert_implausible (const BmsSnapshot *s, const char *const *expected)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (bms_snapshot_check_plausible (s, &error));
  g_assert_error (error, BMS_FIELD_ERROR, BMS_FIELD_ERROR_IMPLAUSIBLE);
  g_test_message ("implausible: %s", error->message);
  for (guint i = 0; expected[i] != NULL; i++)
    g_assert_nonnull (strstr (error->message, expected[i]));
}

static void
test_vendor_frame_plausible (void)
{
  g_autoptr (BmsSnapshot) s = vendor_snapshot ();
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (s->n_cells_missing, ==, 0);
  g_assert_true (bms_snapshot_check_plausible (s, &error));
  g_assert_no_error (error);
}

static void
test_soc_250 (void)
{
  g_autoptr (BmsSnapshot) s = vendor_snapshot ();
  g_autoptr (BmsSnapshot) wire = NULL;

  bms_snapshot_set_raw (s, BMS_ID_SOC, 250);
  wire = over_the_wire (s);
  g_assert_cmpint (bms_snapshot_get_raw (wire, BMS_ID_SOC), ==, 250);
  assert_implausible (wire, (const char *[]){ "soc_pct", "250 %", "0 to 100 %", NULL });
}

static void
test_minus_150_c (void)
{
  g_autoptr (BmsSnapshot) s = vendor_snapshot ();
  g_autoptr (BmsSnapshot) wire = NULL;

  /* On the wire 250: "above 100 is negative" makes that -150 °C. */
  bms_snapshot_set_raw (s, BMS_ID_TEMP1, -150);
  wire = over_the_wire (s);
  g_assert_cmpint (bms_snapshot_get_raw (wire, BMS_ID_TEMP1), ==, -150);
  assert_implausible (wire, (const char *[]){ "temp1_c", "-150 °C", "-50 to 150 °C", NULL });
}

static void
test_cell_65535_mv (void)
{
  g_autoptr (BmsSnapshot) s = vendor_snapshot ();
  g_autoptr (BmsSnapshot) wire = NULL;
  guint16 mv[14];

  memcpy (mv, s->cells_mv, sizeof mv);
  mv[6] = 65535;
  bms_snapshot_set_cells (s, mv, 14);
  wire = over_the_wire (s);
  assert_implausible (wire, (const char *[]){ "cell 7", "65535 mV", "5000 mV", NULL });

  /* 5.0 V itself is the bound, not beyond it. */
  mv[6] = 5000;
  bms_snapshot_set_cells (s, mv, 14);
  g_clear_pointer (&wire, bms_snapshot_free);
  wire = over_the_wire (s);
  g_assert_true (bms_snapshot_check_plausible (wire, NULL));
}

static void
test_cell_count_999 (void)
{
  g_autoptr (BmsSnapshot) s = vendor_snapshot ();
  g_autoptr (BmsSnapshot) wire = NULL;

  bms_snapshot_set_raw (s, BMS_ID_CELL_COUNT, 999);
  wire = over_the_wire (s);
  assert_implausible (wire, (const char *[]){ "cell_count", "999", NULL });

  /* Within 0..256 but not the cells the block carries. */
  bms_snapshot_set_raw (s, BMS_ID_CELL_COUNT, 16);
  g_clear_pointer (&wire, bms_snapshot_free);
  wire = over_the_wire (s);
  assert_implausible (wire, (const char *[]){ "cell_count", "16", "carries 14 cells", NULL });
}

/* The vendor frame's info with the triple of one cell left out. */
static GByteArray *
info_without_cell (guint cell)
{
  g_autoptr (GByteArray) bytes = test_load_hex ("nw-readall-14s.hex");
  g_autoptr (BmsFrame) frame = bms_frame_decode (bytes->data, bytes->len, NULL);
  GByteArray *info = g_byte_array_new ();

  g_assert_cmpuint (frame->info[0], ==, BMS_ID_CELLS);
  g_assert_cmpuint (frame->info[1], ==, 42);
  g_byte_array_append (info, frame->info, frame->info_len);
  g_assert_cmpuint (info->data[2 + 3 * (cell - 1)], ==, cell);
  g_byte_array_remove_range (info, 2 + 3 * (cell - 1), 3);
  info->data[1] = 39;
  return info;
}

static void
test_block_missing_cells (void)
{
  g_autoptr (GByteArray) info = info_without_cell (5);
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
  g_autoptr (GError) error = NULL;

  /* It decodes (cell 14 is there, so the block reaches 14) … */
  g_assert_true (bms_snapshot_parse (s, info->data, info->len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (s->n_cells, ==, 14);
  g_assert_cmpuint (s->n_cells_missing, ==, 1);
  /* … but cell 5 reads 0 only because nobody sent it. */
  assert_implausible (s, (const char *[]){ "cell block", "lacks 1", NULL });
}

static void
test_ext_block_without_public_block (void)
{
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
  /* 0x79 carries 2 cells, 0xD0 cells 86 and 87: 3..85 were never sent. */
  const guint8 info[]
      = { 0x79, 6, 1, 0x0D, 0x05, 2, 0x0D, 0x06, 0xD0, 0, 4, 0x0D, 0x07, 0x0D, 0x08 };

  g_assert_true (bms_snapshot_parse (s, info, sizeof info, NULL));
  g_assert_cmpuint (s->n_cells, ==, 87);
  g_assert_cmpuint (s->n_cells_missing, ==, 83);
  assert_implausible (s, (const char *[]){ "lacks 83", NULL });
}

static void
test_duplicate_id_refused (void)
{
  g_autoptr (GByteArray) bytes = test_load_hex ("nw-readall-14s.hex");
  g_autoptr (BmsFrame) frame = bms_frame_decode (bytes->data, bytes->len, NULL);
  g_autoptr (GByteArray) info = g_byte_array_new ();
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
  g_autoptr (GError) error = NULL;
  const guint8 soc_again[] = { BMS_ID_SOC, 0x50 };

  g_byte_array_append (info, frame->info, frame->info_len);
  g_byte_array_append (info, soc_again, sizeof soc_again);
  g_assert_false (bms_snapshot_parse (s, info->data, info->len, &error));
  g_assert_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_INFO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "0x85"));
  g_assert_nonnull (strstr (error->message, "twice"));
}

static void
test_duplicate_cell_refused (void)
{
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
  g_autoptr (GError) error = NULL;
  const guint8 info[] = { 0x79, 9, 1, 0x0D, 0x05, 2, 0x0D, 0x06, 2, 0x0D, 0x07 };

  g_assert_false (bms_snapshot_parse (s, info, sizeof info, &error));
  g_assert_error (error, BMS_FRAME_ERROR, BMS_FRAME_ERROR_BAD_INFO);
  g_assert_nonnull (strstr (error->message, "cell 2 is given twice"));
}

static void
test_dead_cell_is_a_fault (void)
{
  g_autoptr (BmsSnapshot) s = vendor_snapshot ();
  g_autoptr (BmsSnapshot) wire = NULL;
  g_autoptr (GError) error = NULL;
  guint16 mv[14];

  /* A broken sense wire: 0 mV next to a cell far below any floor. */
  memcpy (mv, s->cells_mv, sizeof mv);
  mv[2] = 0;
  mv[3] = 412;
  bms_snapshot_set_cells (s, mv, 14);
  wire = over_the_wire (s);
  g_assert_true (bms_snapshot_check_plausible (wire, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (wire->cells_mv[2], ==, 0);
  g_assert_cmpuint (wire->cells_mv[3], ==, 412);
}

static void
test_bounds_in_catalogue (void)
{
  const BmsFieldInfo *soc = bms_field_lookup (BMS_ID_SOC);
  const BmsFieldInfo *hv = bms_field_lookup (BMS_ID_PACK_VOLTAGE_HV);
  const BmsFieldInfo *ovp = bms_field_lookup (BMS_ID_CELL_OVP);
  g_autofree char *text = bms_field_format_physical (bms_field_lookup (BMS_ID_TEMP2));

  g_assert_true (soc->bounded);
  g_assert_cmpint (soc->phys_max, ==, 100);
  g_assert_cmpstr (text, ==, "-50 … 150 °C");
  /* A 256-cell pack at 5.0 V a cell still fits. */
  g_assert_cmpfloat (bms_field_to_engineering (hv, hv->phys_max), >=, 256 * 5.0);
  /* A setting has a settable range, no physical bound. */
  g_assert_false (ovp->bounded);
  g_assert_null (bms_field_format_physical (ovp));
}

/* The one lowest/highest pick: the first of equal cells, the ends of the
 * array included, nothing without cells. */
static void
test_cell_range (void)
{
  const guint16 cells[] = { 3300, 3290, 3310, 3290, 3310, 3280 };
  g_autoptr (BmsSnapshot) s = bms_snapshot_new ();
  guint lo = 99, hi = 99;

  g_assert_true (bms_cells_get_range (cells, G_N_ELEMENTS (cells), &lo, &hi));
  g_assert_cmpuint (lo, ==, 5);
  g_assert_cmpuint (hi, ==, 2);
  g_assert_true (bms_cells_get_range (cells, 4, &lo, &hi));
  g_assert_cmpuint (lo, ==, 1); /* 3290 twice: the first */
  g_assert_cmpuint (hi, ==, 2);
  g_assert_true (bms_cells_get_range (cells, 1, &lo, &hi));
  g_assert_cmpuint (lo, ==, 0);
  g_assert_cmpuint (hi, ==, 0);
  g_assert_false (bms_cells_get_range (NULL, 0, &lo, &hi));

  g_assert_false (bms_snapshot_get_cell_range (s, &lo, &hi));
  bms_snapshot_set_cells (s, cells, 3);
  g_assert_true (bms_snapshot_get_cell_range (s, &lo, NULL));
  g_assert_cmpuint (lo, ==, 1);
  g_assert_true (bms_snapshot_get_cell_range (s, NULL, &hi));
  g_assert_cmpuint (hi, ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cells/range", test_cell_range);
  g_test_add_func ("/plausible/vendor-frame", test_vendor_frame_plausible);
  g_test_add_func ("/plausible/soc-250", test_soc_250);
  g_test_add_func ("/plausible/minus-150-c", test_minus_150_c);
  g_test_add_func ("/plausible/cell-65535-mv", test_cell_65535_mv);
  g_test_add_func ("/plausible/cell-count-999", test_cell_count_999);
  g_test_add_func ("/plausible/block-missing-cells", test_block_missing_cells);
  g_test_add_func ("/plausible/ext-block-gap", test_ext_block_without_public_block);
  g_test_add_func ("/plausible/duplicate-id", test_duplicate_id_refused);
  g_test_add_func ("/plausible/duplicate-cell", test_duplicate_cell_refused);
  g_test_add_func ("/plausible/dead-cell-is-a-fault", test_dead_cell_is_a_fault);
  g_test_add_func ("/plausible/catalogue-bounds", test_bounds_in_catalogue);
  return g_test_run ();
}
