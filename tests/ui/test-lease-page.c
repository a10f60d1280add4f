/* test-lease-page.c — the Lease page on the simulator: a new lease is
 * written, read back by the next poll and shown as a date; Remove only
 * with a lease; Write reachable at 1366 × 768; remaining-time texts. */
#include "page-test-util.h"
#include "bms-lease-page.h"

#define ID_LEASE_END  0xE3
#define ID_LEASE_CODE 0xE4

typedef struct {
  BmsConnection *connection;
  gint64         end_after;
} LeaseWait;

static gboolean
lease_reported (gpointer data)
{
  LeaseWait *w = data;
  BmsDevice *device = bms_connection_get_device (w->connection);
  const BmsSnapshot *s = device ? bms_device_get_snapshot (device) : NULL;

  g_autofree char *code = s ? bms_snapshot_dup_string (s, ID_LEASE_CODE) : NULL;

  /* Both fields: a poll may fall between the two writes. */
  return s != NULL && bms_snapshot_has (s, ID_LEASE_END)
         && bms_snapshot_get_raw (s, ID_LEASE_END) > w->end_after
         && g_strcmp0 (code, "RENT42") == 0;
}

static void
test_write_lease (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *page = bms_lease_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  LeaseWait wait = { connection, g_get_real_time () / G_USEC_PER_SEC + 29 * 86400 };
  const BmsSnapshot *s;
  g_autofree char *code = NULL;

  /* The simulator starts without a lease: nothing to remove. */
  g_assert_false (gtk_widget_is_visible (g_object_get_data (G_OBJECT (page), "remove-button")));
  g_assert_false (gtk_widget_get_sensitive (g_object_get_data (G_OBJECT (page), "remove-button")));

  /* Unlocked already, so the page writes without asking. */
  page_test_unlock (connection);
  gtk_editable_set_text (GTK_EDITABLE (g_object_get_data (G_OBJECT (page), "code-row")), "RENT42");
  g_assert_true (gtk_widget_activate_action (page, "lease.write", NULL));
  g_assert_true (page_test_wait (lease_reported, &wait, 20));

  s = bms_device_get_snapshot (bms_connection_get_device (connection));
  /* 30 days (the default length) to the end of that local day. */
  g_assert_cmpint (bms_snapshot_get_raw (s, ID_LEASE_END), <=,
                   g_get_real_time () / G_USEC_PER_SEC + 31 * 86400);
  code = bms_snapshot_dup_string (s, ID_LEASE_CODE);
  g_assert_cmpstr (code, ==, "RENT42");
  {
    g_autofree char *until = bms_field_format_lease_end (bms_snapshot_get_raw (s, ID_LEASE_END));

    page_test_spin (100);
    /* A date ending at local midnight, like the CLI and the audit trail. */
    g_assert_true (g_str_has_suffix (until, " 24:00"));
    g_assert_cmpstr (gtk_label_get_text (g_object_get_data (G_OBJECT (page), "end-label")), ==,
                     until);
  }
  g_assert_true (gtk_widget_is_visible (g_object_get_data (G_OBJECT (page), "remove-button")));
  g_assert_true (gtk_widget_get_sensitive (g_object_get_data (G_OBJECT (page), "remove-button")));
  page_test_save_png (window, "lease-page.png");
  page_test_close (window, g_steal_pointer (&connection));
}

/* At 1366 × 768 the page gets about 1366 × 560 below the header bar and the
 * summary: Write Lease must be there without scrolling. */
static void
test_write_reachable (void)
{
  g_autoptr(BmsConnection) connection = page_test_connect ();
  GtkWidget *page = bms_lease_page_new (connection);
  GtkWidget *window = page_test_window (connection, page);
  graphene_rect_t bounds;
  GtkWidget *button = g_object_get_data (G_OBJECT (page), "write-button");
  gtk_window_set_default_size (GTK_WINDOW (window), 1366, 560);
  page_test_spin (300);
  g_assert_cmpint (gtk_widget_get_height (page), <=, 560);
  g_assert_true (gtk_widget_compute_bounds (button, page, &bounds));
  g_assert_cmpfloat (bounds.origin.y, >=, 0);
  g_assert_cmpfloat (bounds.origin.y + bounds.size.height, <=, gtk_widget_get_height (page));
  page_test_close (window, g_steal_pointer (&connection));
}

static void
test_remaining_text (void)
{
  g_autofree char *none = bms_lease_page_format_remaining (0, 1000);
  g_autofree char *days = bms_lease_page_format_remaining (1000 + 23 * 86400, 1000);
  g_autofree char *hours = bms_lease_page_format_remaining (1000 + 3 * 3600 + 60, 1000);
  g_autofree char *expired = bms_lease_page_format_remaining (1000, 1000 + 3 * 86400 + 5);

  g_assert_cmpstr (none, ==, "No lease");
  g_assert_cmpstr (days, ==, "23 days left");
  g_assert_cmpstr (hours, ==, "Ends in 3 h 1 min");
  g_assert_cmpstr (expired, ==, "Expired 3 days ago");
}

int
main (int argc, char **argv)
{
  page_test_init (&argc, &argv);
  g_test_add_func ("/lease-page/remaining-text", test_remaining_text);
  g_test_add_func ("/lease-page/write-lease", test_write_lease);
  g_test_add_func ("/lease-page/write-reachable", test_write_reachable);
  return g_test_run ();
}
