/* test-xlsx-check.c — BmsXlsxCheck: a workbook from libxlsxwriter passes,
 * checked while it is written and afterwards; a missing, cut-short or
 * truncated worksheet, a truncated zip and a missing file fail. */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <xlsxwriter.h>

#include "bms-xlsx-check.h"

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("test-xlsx-check-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->path = g_build_filename (f->dir, "book.xlsx", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

/* n_sheets worksheets of rows × 20 numbers; follow says whether the check
 * follows the writer (it is then created before workbook_close ()). */
static BmsXlsxCheck *
write_workbook (const char *path, guint n_sheets, guint rows, gboolean follow)
{
  lxw_workbook *wb = workbook_new (path);
  BmsXlsxCheck *check = NULL;

  g_assert_nonnull (wb);
  for (guint s = 0; s < n_sheets; s++)
    {
      lxw_worksheet *ws = workbook_add_worksheet (wb, NULL);
      for (guint r = 0; r < rows; r++)
        for (guint c = 0; c < 20; c++)
          worksheet_write_number (ws, r, c, r * 0.37 + c * s, NULL);
    }
  if (follow)
    check = bms_xlsx_check_new (path);
  g_assert_cmpint (workbook_close (wb), ==, LXW_NO_ERROR);
  return follow ? check : bms_xlsx_check_new (path);
}

static void
test_complete_live (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsXlsxCheck) check = write_workbook (f->path, 3, 5000, TRUE);
  g_autoptr (GError) error = NULL;

  g_assert_true (bms_xlsx_check_finish (check, 3, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (bms_xlsx_check_get_n_live (check), <=, 3);
}

static void
test_complete_after (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsXlsxCheck) check = write_workbook (f->path, 2, 500, FALSE);
  g_autoptr (GError) error = NULL;

  g_assert_true (bms_xlsx_check_finish (check, 2, NULL, &error));
  g_assert_no_error (error);
  /* Created after the close, the thread still reads the whole zip. */
  g_assert_cmpuint (bms_xlsx_check_get_n_live (check), ==, 2);
}

static void
test_sheet_count (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsXlsxCheck) check = write_workbook (f->path, 2, 50, FALSE);
  g_autoptr (GError) error = NULL;

  g_assert_false (bms_xlsx_check_finish (check, 3, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, f->path));
}

static void
test_truncated_zip (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsXlsxCheck) first = write_workbook (f->path, 1, 2000, FALSE);
  g_autoptr (BmsXlsxCheck) check = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *bytes = NULL;
  gsize len;

  g_assert_true (bms_xlsx_check_finish (first, 1, NULL, NULL));
  g_assert_true (g_file_get_contents (f->path, &bytes, &len, NULL));
  /* Without its central directory the zip cannot be read. */
  g_assert_true (g_file_set_contents (f->path, bytes, len - 200, NULL));
  check = bms_xlsx_check_new (f->path);
  g_assert_false (bms_xlsx_check_finish (check, 1, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
put16 (GByteArray *b, guint v)
{
  guint8 x[2] = { v & 0xff, v >> 8 };
  g_byte_array_append (b, x, 2);
}

static void
put32 (GByteArray *b, guint32 v)
{
  put16 (b, v & 0xffff);
  put16 (b, v >> 16);
}

/* A zip of one stored (uncompressed) worksheet holding text: what a
 * worksheet cut short by a full disk looks like when text lacks the
 * closing tag. */
static void
write_stored_sheet (const char *path, const char *text)
{
  static const char name[] = "xl/worksheets/sheet1.xml";
  g_autoptr (GByteArray) b = g_byte_array_new ();
  guint32 len = strlen (text), central;

  put32 (b, 0x04034b50), put16 (b, 20), put16 (b, 0), put16 (b, 0); /* stored */
  put16 (b, 0), put16 (b, 0), put32 (b, 0), put32 (b, len), put32 (b, len);
  put16 (b, strlen (name)), put16 (b, 0);
  g_byte_array_append (b, (const guint8 *)name, strlen (name));
  g_byte_array_append (b, (const guint8 *)text, len);
  central = b->len;
  put32 (b, 0x02014b50), put16 (b, 20), put16 (b, 20), put16 (b, 0), put16 (b, 0);
  put16 (b, 0), put16 (b, 0), put32 (b, 0), put32 (b, len), put32 (b, len);
  put16 (b, strlen (name)), put16 (b, 0), put16 (b, 0), put16 (b, 0), put16 (b, 0);
  put32 (b, 0), put32 (b, 0);
  g_byte_array_append (b, (const guint8 *)name, strlen (name));
  put32 (b, 0x06054b50), put16 (b, 0), put16 (b, 0), put16 (b, 1), put16 (b, 1);
  put32 (b, b->len - central - 12), put32 (b, central), put16 (b, 0);
  g_assert_true (g_file_set_contents (path, (const char *)b->data, b->len, NULL));
}

static void
test_stored_sheet (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsXlsxCheck) whole = NULL, cut = NULL;
  g_autoptr (GError) error = NULL;

  write_stored_sheet (f->path, "<worksheet><sheetData/></worksheet>");
  whole = bms_xlsx_check_new (f->path);
  g_assert_true (bms_xlsx_check_finish (whole, 1, NULL, &error));
  g_assert_no_error (error);

  write_stored_sheet (f->path, "<worksheet><sheetData><row r=\"1\">");
  cut = bms_xlsx_check_new (f->path);
  g_assert_false (bms_xlsx_check_finish (cut, 1, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
test_missing_file (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsXlsxCheck) check = bms_xlsx_check_new (f->path);
  g_autoptr (GError) error = NULL;

  g_assert_false (bms_xlsx_check_finish (check, 1, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
test_cancelled (Fixture *f, gconstpointer data)
{
  g_autoptr (BmsXlsxCheck) check = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;

  /* A cancelled export whose file is cut short is cancelled, not broken. */
  check = write_workbook (f->path, 1, 200, FALSE);
  g_cancellable_cancel (cancellable);
  g_assert_cmpint (truncate (f->path, 0), ==, 0);
  g_assert_false (bms_xlsx_check_finish (check, 1, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add (name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/xlsx-check/complete-live", test_complete_live);
  ADD ("/xlsx-check/complete-after", test_complete_after);
  ADD ("/xlsx-check/sheet-count", test_sheet_count);
  ADD ("/xlsx-check/truncated-zip", test_truncated_zip);
  ADD ("/xlsx-check/stored-sheet", test_stored_sheet);
  ADD ("/xlsx-check/missing-file", test_missing_file);
  ADD ("/xlsx-check/cancelled", test_cancelled);
  return g_test_run ();
}
