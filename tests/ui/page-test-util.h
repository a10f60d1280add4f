/* Helpers for ui-b's page tests: a connection to the built-in simulator, a
 * window holding one page, waiting without blocking the main loop, and a
 * PNG of what the user sees (build/tests/ui/pictures). */
#pragma once

#include <adwaita.h>
#include <glib/gstdio.h>

#include "bms-connection.h"
#include "bms-device.h"
#include "bms-session.h"
#include "bms-sim.h"
#include "packwatch-resources.h"

static inline void
page_test_init (int    *argc,
                char ***argv)
{
  gtk_test_init (argc, argv, NULL);
  adw_init ();
  /* Referencing the bundle links it (and its registration) into the test. */
  (void) packwatch_get_resource ();
  bms_sim_register_uri_scheme ();
}

/* The monotonic time seconds from now (twenty times as long under
 * `meson test --setup=valgrind`). */
static inline gint64
page_test_deadline (guint seconds)
{
  gint64 scale = g_getenv ("PACKWATCH_VALGRIND") ? 20 : 1;

  return g_get_monotonic_time () + seconds * scale * G_USEC_PER_SEC;
}

/* Spins the main loop until cond (data) holds or seconds pass. */
static inline gboolean
page_test_wait (gboolean (*cond) (gpointer),
                gpointer   data,
                guint      seconds)
{
  gint64 deadline = page_test_deadline (seconds);

  while (!cond (data) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  return cond (data);
}

static inline void
page_test_spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static inline gboolean
page_test_has_snapshot (gpointer data)
{
  BmsDevice *device = bms_connection_get_device (data);
  return device != NULL && bms_device_get_snapshot (device) != NULL;
}

/* Connected to "sim://" (16 cells, LFP) and polled at least once. */
static inline BmsConnection *
page_test_connect (void)
{
  BmsConnection *connection = bms_connection_new ();

  bms_connection_connect (connection, "sim://", 9600, 1);
  g_assert_true (page_test_wait (page_test_has_snapshot, connection, 20));
  return connection;
}

static inline gboolean
page_test_has_size (gpointer data)
{
  GtkWidget *widget = data;
  return gtk_widget_get_mapped (widget)
         && gtk_widget_get_width (widget) > 0 && gtk_widget_get_height (widget) > 0;
}

/* The page in a 1280 × 720 window, following the connection's device. */
static inline GtkWidget *
page_test_window (BmsConnection *connection,
                  GtkWidget     *page)
{
  GtkWidget *window = gtk_window_new ();

  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 720);
  gtk_window_set_child (GTK_WINDOW (window), page);
  g_object_bind_property (connection, "device", page, "device", G_BINDING_SYNC_CREATE);
  gtk_window_present (GTK_WINDOW (window));
  /* On a loaded machine the first allocation can take longer than any
   * fixed pause: wait for it (pictures of a 0 × 0 window are empty). */
  g_assert_true (page_test_wait (page_test_has_size, window, 20));
  page_test_spin (200);
  return window;
}

/* The session unlocked the way the Unlock button does it (tests only: this
 * waits for the line on the main thread). */
static inline void
page_test_unlock (BmsConnection *connection)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (bms_session_unlock (bms_connection_get_session (connection),
                                     BMS_DEFAULT_PASSWORD, NULL, &error));
  g_assert_no_error (error);
}

static inline char *
page_test_picture_path (const char *name)
{
  const char *root = g_getenv ("PACKWATCH_BUILD_ROOT");
  g_autofree char *dir = g_build_filename (root ? root : ".", "tests", "ui", "pictures", NULL);

  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, name, NULL);
}

/* The widget's current frame, or NULL while it has none to give (not yet
 * allocated, or a relayout pending: the paintable then draws nothing). */
static inline GskRenderNode *
page_test_snapshot (GtkWidget *widget,
                    int       *w,
                    int       *h)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();

  *w = gtk_widget_get_width (widget);
  *h = gtk_widget_get_height (widget);
  if (*w > 0 && *h > 0)
    gdk_paintable_snapshot (paintable, snapshot, *w, *h);
  return gtk_snapshot_free_to_node (snapshot);
}

static inline void
page_test_save_png (GtkWidget  *widget,
                    const char *name)
{
  g_autofree char *path = page_test_picture_path (name);
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  gint64 deadline = page_test_deadline (20);
  int w, h;

  /* A fixed pause is not enough on a loaded machine: retry until the
   * widget has a frame to give. */
  page_test_spin (300);
  while ((node = page_test_snapshot (widget, &w, &h)) == NULL
         && g_get_monotonic_time () < deadline)
    page_test_spin (100);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("picture: %s", path);
}

static inline void
page_test_close (GtkWidget     *window,
                 BmsConnection *connection)
{
  gtk_window_destroy (GTK_WINDOW (window));
  bms_connection_disconnect (connection);
  page_test_spin (200);
  g_object_unref (connection);
}
