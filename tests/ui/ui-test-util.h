/* Helpers for the widget tests: synthetic boards and running the app. */
#pragma once

#include <math.h>
#include <gtk/gtk.h>
#include <string.h>
#include <unistd.h>
#include "bms-application.h"
#include "bms-snapshot.h"

/* A test display has a session bus but no notification service: an alarm
 * raised while the window is not focused makes GLib warn that the desktop
 * notification could not be sent. That is the environment, not the app:
 * let it pass, and nothing else. */
static inline gboolean
ui_test_fatal_unless_notification (const char     *log_domain,
                                   GLogLevelFlags  log_level,
                                   const char     *message,
                                   gpointer        user_data)
{
  return !(g_strcmp0 (log_domain, "GLib-GIO") == 0 && message != NULL &&
           strstr (message, "unable to send notifications") != NULL);
}

static inline void
ui_test_allow_missing_notifications (void)
{
  g_test_log_set_fatal_handler (ui_test_fatal_unless_notification, NULL);
}

/* A plausible LFP pack: modules × cells_per_module cells around 3.30 V with a
 * spread, module temperatures, protections and identity. */
static inline BmsSnapshot *
ui_test_fake_snapshot (guint modules,
                       guint cells_per_module,
                       guint seed)
{
  BmsSnapshot *s = bms_snapshot_new ();
  guint n = modules * cells_per_module;
  guint16 mv[BMS_MAX_CELLS];
  gint16 temps[BMS_MAX_MODULES][3];
  guint8 sizes[16] = { 0 };
  GRand *rand = g_rand_new_with_seed (seed);
  guint sum = 0;

  for (guint i = 0; i < n; i++)
    {
      mv[i] = 3290 + g_rand_int_range (rand, 0, 25);
      sum += mv[i];
    }
  mv[n / 3] = 3348;          /* one high cell */
  mv[n - 2] = 3262;          /* one low cell */
  bms_snapshot_set_cells (s, mv, n);
  for (guint m = 0; m < modules; m++)
    {
      sizes[m] = cells_per_module;
      for (guint t = 0; t < 3; t++)
        temps[m][t] = 22 + g_rand_int_range (rand, 0, 5);
    }
  if (modules > 1)
    {
      bms_snapshot_set_raw (s, BMS_ID_MODULE_COUNT, modules);
      bms_snapshot_set_bytes (s, BMS_ID_MODULE_CELLS, sizes, 16);
      bms_snapshot_set_module_temps (s, (const gint16 (*)[3]) temps, modules);
      bms_snapshot_set_raw (s, BMS_ID_RELAYS, 0x05);
    }
  bms_snapshot_set_raw (s, BMS_ID_CELL_COUNT, n);
  bms_snapshot_set_raw (s, BMS_ID_PACK_VOLTAGE, sum / 10);
  bms_snapshot_set_raw (s, BMS_ID_CURRENT, -1250);
  bms_snapshot_set_raw (s, BMS_ID_SOC, 62);
  bms_snapshot_set_raw (s, BMS_ID_CYCLES, 17);
  bms_snapshot_set_raw (s, BMS_ID_MOSFET_TEMP, 31);
  bms_snapshot_set_raw (s, BMS_ID_TEMP1, 24);
  bms_snapshot_set_raw (s, BMS_ID_TEMP2, 25);
  bms_snapshot_set_raw (s, BMS_ID_STATUS, 0x0B);
  bms_snapshot_set_raw (s, BMS_ID_WARNINGS, 0);
  bms_snapshot_set_raw (s, BMS_ID_CELL_OVP, 3650);
  bms_snapshot_set_raw (s, BMS_ID_CELL_OVP_RECOVERY, 3550);
  bms_snapshot_set_raw (s, BMS_ID_CELL_UVP, 2500);
  bms_snapshot_set_raw (s, BMS_ID_CELL_UVP_RECOVERY, 2900);
  bms_snapshot_set_raw (s, 0x9B, 3400);
  bms_snapshot_set_raw (s, 0x9C, 20);
  bms_snapshot_set_raw (s, BMS_ID_BATTERY_TYPE, 0);
  bms_snapshot_set_raw (s, BMS_ID_PROTOCOL_VERSION, 1);
  bms_snapshot_set_string (s, 0xB4, "PW123456");
  bms_snapshot_set_string (s, 0xB5, "2604");
  bms_snapshot_set_string (s, BMS_ID_SOFTWARE_VERSION, "NW_1_0_0_240101");
  s->timestamp_us = g_get_real_time ();
  g_rand_free (rand);
  return s;
}

/* Folder for the pictures a test run saves (build/tests/ui/screenshots). */
static inline char *
ui_test_screenshot_path (const char *name)
{
  const char *build = g_getenv ("PACKWATCH_BUILD_ROOT");
  g_autofree char *dir = g_build_filename (build ? build : ".", "tests", "ui",
                                           "screenshots", NULL);

  g_mkdir_with_parents (dir, 0755);
  return g_strdup_printf ("%s/%s.png", dir, name);
}

/* A PNG that exists and has the window's size. */
static inline void
ui_test_assert_png (const char *path,
                    int         min_width,
                    int         min_height)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (path, &error);

  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (texture), >=, min_width);
  g_assert_cmpint (gdk_texture_get_height (texture), >=, min_height);
}

/* Keep the history database of a test run inside the build tree; run by
 * hand outside meson, in a fresh temporary folder (never the current
 * one, which may be the source tree: a tests/ui/data-PID folder was once
 * committed that way). */
static inline void
ui_test_isolate (void)
{
  const char *build = g_getenv ("PACKWATCH_BUILD_ROOT");
  g_autofree char *dir = build != NULL
    ? g_strdup_printf ("%s/tests/ui/data-%d", build, (int) getpid ())
    : g_dir_make_tmp ("packwatch-ui-test-XXXXXX", NULL);

  g_assert_nonnull (dir);

  g_autofree char *cache = g_build_filename (dir, "cache", NULL);

  g_setenv ("XDG_DATA_HOME", dir, TRUE);
  /* The demos' own databases. */
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  g_mkdir_with_parents (cache, 0700);
  g_setenv ("PACKWATCH_SCREENSHOT_WAIT", "1", TRUE);
}

/* Runs the whole app with these arguments; returns its exit status. */
static inline int
ui_test_run_app (const char * const *args,
                 GCallback           after_activate,
                 gpointer            user_data)
{
  g_autoptr(GApplication) app = G_APPLICATION (bms_application_new ());
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) "packwatch");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  if (after_activate != NULL)
    g_signal_connect_after (app, "activate", after_activate, user_data);
  return g_application_run (app, argv->len - 1, (char **) argv->pdata);
}
