/* test-lease-page.c — the Lease page on the simulator: a new lease is
 * written, read back by the next poll and shown; remaining-time texts. */
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
  page_test_save_png (window, "lease-page.png");
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
  return g_test_run ();
}
