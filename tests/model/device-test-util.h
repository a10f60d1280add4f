/* Helpers shared by the device/alarm/parameter tests. */
#pragma once

#include <glib.h>
#include "bms-frame.h"
#include "bms-snapshot.h"

/* The published 14-cell read-all reply (tests/data/nw-readall-14s.hex),
 * decoded. */
static inline BmsSnapshot *
device_test_load_14s (void)
{
  const char *root = g_getenv ("PACKWATCH_SOURCE_ROOT");
  g_autofree char *path
      = g_build_filename (root ? root : ".", "tests", "data", "nw-readall-14s.hex", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) tokens = NULL;
  g_autoptr (BmsFrame) frame = NULL;
  BmsSnapshot *snapshot = bms_snapshot_new ();

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  tokens = g_strsplit_set (g_strstrip (text), " \n", -1);
  for (guint i = 0; tokens[i]; i++)
    if (*tokens[i])
      {
        guint8 b = (guint8)g_ascii_strtoull (tokens[i], NULL, 16);
        g_byte_array_append (bytes, &b, 1);
      }
  frame = bms_frame_decode (bytes->data, bytes->len, &error);
  g_assert_no_error (error);
  g_assert_true (bms_snapshot_parse (snapshot, frame->info, frame->info_len, &error));
  g_assert_no_error (error);
  snapshot->timestamp_us = G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC;
  return snapshot;
}
