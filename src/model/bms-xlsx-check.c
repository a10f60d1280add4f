/* bms-xlsx-check.c — reads back a workbook, while and after it is written. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#ifndef _WIN32
#include <sys/mman.h>
#endif
#include <glib/gstdio.h>

#include "bms-xlsx-check.h"

/* ---------------------------------------------------------------- after */

static guint64
rd16 (const guint8 *p)
{
  return p[0] | p[1] << 8;
}
static guint64
rd32 (const guint8 *p)
{
  return rd16 (p) | rd16 (p + 2) << 16;
}
static guint64
rd64 (const guint8 *p)
{
  return rd32 (p) | rd32 (p + 4) << 32;
}

/* Drops the pages of [from, to) of the mapped file from this process once
 * they have been read: the page cache keeps them, but a 1-million-row
 * workbook read back through one mapping would otherwise add its whole size
 * (about 90 MB) to the export's resident memory. */
static void
release_pages (const guint8 *map, const guint8 *from, const guint8 *to)
{
#ifdef __linux__
  gsize page = sysconf (_SC_PAGESIZE);
  guintptr a = ((guintptr)from - (guintptr)map) / page * page;
  guintptr b = ((guintptr)to - (guintptr)map) / page * page;

  if (b > a)
    madvise ((void *)(map + a), b - a, MADV_DONTNEED); /* glibc's posix_madvise ignores DONTNEED */
#endif
}

#define INFLATE_WINDOW (1 << 20)
#define INFLATE_OUT (1 << 16)

/* Keeps the last tail_len - 1 bytes of an inflated stream in tail (NUL
 * terminated), given each newly inflated piece in turn. */
static void
keep_tail (char *tail, gsize tail_len, const guint8 *out, gsize written)
{
  if (written >= tail_len - 1)
    memcpy (tail, out + written - (tail_len - 1), tail_len - 1);
  else if (written)
    {
      memmove (tail, tail + written, tail_len - 1 - written);
      memcpy (tail + tail_len - 1 - written, out, written);
    }
}

static gboolean
is_worksheet (const char *name, gsize len)
{
  static const char prefix[] = "xl/worksheets/sheet";

  return len >= sizeof prefix - 1 && memcmp (name, prefix, sizeof prefix - 1) == 0;
}

static gboolean
inflate_tail (const guint8 *map, const guint8 *data, gsize len, guint method, char *tail,
              gsize tail_len, GCancellable *cancellable)
{
  g_autoptr (GConverter) z = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW));
  g_autofree guint8 *buf = g_malloc (INFLATE_OUT);
  gsize in_done = 0, released = 0, read, written;
  GConverterResult r;

  memset (tail, 0, tail_len);
  if (method == 0)
    {
      gsize n = MIN (len, tail_len - 1);
      memcpy (tail, data + len - n, n);
      return TRUE;
    }
  do
    {
      gsize chunk = MIN (len - in_done, INFLATE_WINDOW);
      GConverterFlags flags = in_done + chunk == len ? G_CONVERTER_INPUT_AT_END : 0;

      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      r = g_converter_convert (z, data + in_done, chunk, buf, INFLATE_OUT, flags, &read, &written,
                               NULL);
      if (r == G_CONVERTER_ERROR)
        return FALSE;
      in_done += read;
      if (in_done - released >= INFLATE_WINDOW)
        {
          release_pages (map, data + released, data + in_done);
          released = in_done;
        }
      keep_tail (tail, tail_len, buf, written);
    }
  while (r != G_CONVERTER_FINISHED);
  release_pages (map, data + released, data + len);
  return TRUE;
}

/* Locates the central directory (zip64 aware). */
static gboolean
zip_directory (const guint8 *d, gsize size, guint64 *offset, guint64 *entries)
{
  gssize i;

  for (i = (gssize)size - 22; i >= 0 && i >= (gssize)size - 22 - 65535; i--)
    if (rd32 (d + i) == 0x06054b50)
      break;
  if (i < 0 || i < (gssize)size - 22 - 65535)
    return FALSE;
  *entries = rd16 (d + i + 10);
  *offset = rd32 (d + i + 16);
  if ((*offset == 0xffffffff || *entries == 0xffff) && i >= 20 && rd32 (d + i - 20) == 0x07064b50)
    {
      guint64 z = rd64 (d + i - 20 + 8);
      if (z + 56 > size || rd32 (d + z) != 0x06064b50)
        return FALSE;
      *entries = rd64 (d + z + 32);
      *offset = rd64 (d + z + 48);
    }
  return *offset < size;
}

static gboolean
verify_zip (const char *path, guint expected_sheets, GHashTable *checked, GCancellable *cancellable,
            GError **error)
{
  g_autoptr (GMappedFile) map = g_mapped_file_new (path, FALSE, NULL);
  const guint8 *d = map ? (const guint8 *)g_mapped_file_get_contents (map) : NULL;
  gsize size = map ? g_mapped_file_get_length (map) : 0;
  guint64 p, entries, sheets = 0;

  if (!d || !zip_directory (d, size, &p, &entries))
    goto bad;
  for (guint64 e = 0; e < entries; e++)
    {
      guint64 csize, usize, local, n, x, c, data;
      const char *name;
      char tail[16];

      if (p + 46 > size || rd32 (d + p) != 0x02014b50)
        goto bad;
      csize = rd32 (d + p + 20), usize = rd32 (d + p + 24), local = rd32 (d + p + 42);
      n = rd16 (d + p + 28), x = rd16 (d + p + 30), c = rd16 (d + p + 32);
      name = (const char *)d + p + 46;
      for (guint64 q = p + 46 + n; q + 4 <= p + 46 + n + x && q + 4 <= size;
           q += 4 + rd16 (d + q + 2))
        if (rd16 (d + q) == 1)
          {
            const guint8 *v = d + q + 4;
            if (usize == 0xffffffff)
              usize = rd64 (v), v += 8;
            if (csize == 0xffffffff)
              csize = rd64 (v), v += 8;
            if (local == 0xffffffff)
              local = rd64 (v);
          }
      p += 46 + n + x + c;
      if (!is_worksheet (name, n))
        continue;
      if (checked != NULL && g_hash_table_contains (checked, &local))
        {
          sheets++; /* inflated to its closing tag while the zip was written */
          continue;
        }
      if (local + 30 > size)
        goto bad;
      data = local + 30 + rd16 (d + local + 26) + rd16 (d + local + 28);
      if (data + csize > size
          || !inflate_tail (d, d + data, csize, rd16 (d + local + 8), tail, sizeof tail,
                            cancellable))
        goto bad;
      if (!g_str_has_suffix (tail, "</worksheet>"))
        goto bad;
      sheets++;
    }
  if (sheets == expected_sheets)
    return TRUE;

bad:
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "“%s” is not a complete workbook: a worksheet is missing or cut short", path);
  return FALSE;
}

/* ----------------------------------------------------------------- live */

/* The same check, run while workbook_close () writes the zip: a thread
 * follows the growing file entry by entry (local header, then a deflate
 * stream that ends itself) and inflates each one as its bytes arrive, so on
 * a machine with two cores the read-back costs no extra time (it was 5 to 7 %
 * of a 1-million-row export). It only records the worksheets it saw end with
 * their closing tag, by local header offset; verify_zip () then reads the
 * central directory and inflates only what is not recorded. Anything
 * unexpected (a stored entry, a data descriptor, a read error) just stops
 * the thread, and verify_zip () does the rest the slow way. */

#ifdef G_OS_UNIX
typedef struct
{
  gint writer_done;    /* atomic */
  GHashTable *checked; /* guint64 local header offsets */
  int fd;
  guint8 *in, *out; /* LIVE_IN and INFLATE_OUT bytes */
} LiveCheck;

#define LIVE_IN (1 << 20)

/* Waits until the file holds at least `end` bytes; FALSE once the writer
 * has finished and it never will. */
static gboolean
live_wait (LiveCheck *lc, guint64 end, guint64 *size)
{
  for (;;)
    {
      gboolean done = g_atomic_int_get (&lc->writer_done);
      GStatBuf st;

      if (fstat (lc->fd, &st) != 0)
        return FALSE;
      *size = st.st_size;
      if (*size >= end)
        return TRUE;
      if (done)
        return FALSE;
      g_usleep (2000);
    }
}

/* Inflates one entry's stream from `pos`; sets *end to the byte after it. */
static gboolean
live_inflate (LiveCheck *lc, GConverter *z, guint64 pos, guint64 *end, char *tail, gsize tail_len)
{
  g_converter_reset (z);
  memset (tail, 0, tail_len);
  for (;;)
    {
      guint64 size;
      gssize n;
      gsize off = 0;

      if (!live_wait (lc, pos + 1, &size))
        return FALSE;
      n = pread (lc->fd, lc->in, MIN (size - pos, LIVE_IN), pos);
      if (n <= 0)
        return FALSE;
      while (off < (gsize)n)
        {
          g_autoptr (GError) error = NULL;
          gsize read = 0, written = 0;
          GConverterResult r = g_converter_convert (z, lc->in + off, n - off, lc->out, INFLATE_OUT,
                                                    G_CONVERTER_NO_FLAGS, &read, &written, &error);

          if (r == G_CONVERTER_ERROR)
            {
              if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT))
                return FALSE;
              break; /* needs bytes not written yet */
            }
          off += read;
          keep_tail (tail, tail_len, lc->out, written);
          if (r == G_CONVERTER_FINISHED)
            {
              *end = pos + off;
              return TRUE;
            }
        }
      pos += off;
    }
}

static gpointer
live_thread (gpointer data)
{
  LiveCheck *lc = data;
  g_autoptr (GConverter) z = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW));
  guint64 pos = 0, size;
  guint8 h[30];
  char name[20], tail[16];

  lc->in = g_malloc (LIVE_IN);
  lc->out = g_malloc (INFLATE_OUT);
  while (live_wait (lc, pos + 30, &size) && pread (lc->fd, h, 30, pos) == 30
         && rd32 (h) == 0x04034b50 /* a local header; the central directory ends the walk */
         && !(rd16 (h + 6) & 0x0008) && rd16 (h + 8) == 8)
    {
      guint64 data_at = pos + 30 + rd16 (h + 26) + rd16 (h + 28), end;
      gsize name_len = MIN (rd16 (h + 26), sizeof name);
      gboolean sheet;

      if (!live_wait (lc, data_at, &size)
          || pread (lc->fd, name, name_len, pos + 30) != (gssize)name_len)
        break;
      sheet = is_worksheet (name, name_len);
      if (!live_inflate (lc, z, data_at, &end, tail, sizeof tail))
        break;
      if (sheet && g_str_has_suffix (tail, "</worksheet>"))
        g_hash_table_add (lc->checked, g_memdup2 (&pos, sizeof pos));
      pos = end;
    }
  g_clear_pointer (&lc->in, g_free);
  g_clear_pointer (&lc->out, g_free);
  return NULL;
}

/* Starts following tmp; NULL when it cannot (the check then runs after). */
static LiveCheck *
live_check_start (const char *tmp, GThread **thread)
{
  LiveCheck *lc;
  int fd = open (tmp, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return NULL;
  lc = g_new0 (LiveCheck, 1);
  lc->fd = fd;
  lc->checked = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  *thread = g_thread_new ("export-check", live_thread, lc);
  return lc;
}

/* The writer is done: lets the thread finish; returns the sheets it saw. */
static GHashTable *
live_check_finish (LiveCheck *lc, GThread *thread)
{
  GHashTable *checked;

  if (lc == NULL)
    return NULL;
  g_atomic_int_set (&lc->writer_done, 1);
  g_thread_join (thread);
  close (lc->fd);
  checked = lc->checked;
  g_free (lc);
  return checked;
}
#endif

/* ------------------------------------------------------------------ api */

struct _BmsXlsxCheck
{
  char *path;
#ifdef G_OS_UNIX
  LiveCheck *live;
  GThread *thread;
#endif
  GHashTable *checked; /* guint64 local header offsets of complete sheets */
  gboolean finished;
};

BmsXlsxCheck *
bms_xlsx_check_new (const char *path)
{
  BmsXlsxCheck *self;

  g_return_val_if_fail (path != NULL, NULL);
  self = g_new0 (BmsXlsxCheck, 1);
  self->path = g_strdup (path);
#ifdef G_OS_UNIX
  self->live = live_check_start (path, &self->thread);
#endif
  return self;
}

static void
stop_live (BmsXlsxCheck *self)
{
#ifdef G_OS_UNIX
  if (self->live)
    self->checked = live_check_finish (g_steal_pointer (&self->live), self->thread);
#endif
}

gboolean
bms_xlsx_check_finish (BmsXlsxCheck *self, guint n_worksheets, GCancellable *cancellable,
                       GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (!self->finished, FALSE);
  self->finished = TRUE;
  stop_live (self);
  g_debug ("xlsx check: %u of %u worksheets checked while the zip was written",
           bms_xlsx_check_get_n_live (self), n_worksheets);
  return verify_zip (self->path, n_worksheets, self->checked, cancellable, error);
}

guint
bms_xlsx_check_get_n_live (BmsXlsxCheck *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->checked ? g_hash_table_size (self->checked) : 0;
}

void
bms_xlsx_check_free (BmsXlsxCheck *self)
{
  if (self == NULL)
    return;
  stop_live (self);
  g_clear_pointer (&self->checked, g_hash_table_unref);
  g_free (self->path);
  g_free (self);
}
