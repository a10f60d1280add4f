/* mqtt-broker-util.h — a real MQTT broker for a test: mosquitto started on
 * 127.0.0.1 at a free port, with a password and, when asked, a TLS
 * listener whose certificate for "localhost" is signed by a CA made here
 * (openssl); and the frames `packwatch-cli serve` publishes. Shared by the
 * model and widget tests of watching a board through a broker. */
#pragma once

#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <unistd.h>

#include "bms-frame.h"
#include "bms-hex.h"
#include "bms-snapshot.h"

#define BROKER_USER "packwatch"
#define BROKER_PASSWORD "s3cret-Pw-17"

typedef struct
{
  char *dir;
  char *conf;
  guint port;
  guint tls_port;  /* 0 without broker_add_tls */
  char *cafile;    /* the CA that signed the TLS listener's certificate */
  GPid pid;
} Broker;

static char *mosquitto, *mosquitto_pub, *mosquitto_passwd;

/* Whether mosquitto and its clients are here (./dev.sh test installs them). */
G_GNUC_UNUSED static gboolean
broker_find_programs (void)
{
  mosquitto = g_find_program_in_path ("mosquitto");
  if (!mosquitto && g_file_test ("/usr/sbin/mosquitto", G_FILE_TEST_IS_EXECUTABLE))
    mosquitto = g_strdup ("/usr/sbin/mosquitto");
  mosquitto_pub = g_find_program_in_path ("mosquitto_pub");
  mosquitto_passwd = g_find_program_in_path ("mosquitto_passwd");
  if (!mosquitto_pub || !mosquitto_passwd)
    g_clear_pointer (&mosquitto, g_free);
  return mosquitto != NULL;
}

G_GNUC_UNUSED static guint
free_port (void)
{
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, any, TRUE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

G_GNUC_UNUSED static gboolean
run_ok (const char *const *argv)
{
  int status = -1;

  return g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL
                       | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL)
         && g_spawn_check_wait_status (status, NULL);
}

G_GNUC_UNUSED static void
run_sync (const char *const *argv)
{
  g_assert_true (run_ok (argv));
}

G_GNUC_UNUSED static gboolean
wait_until (gboolean (*done) (gpointer), gpointer data, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!done (data) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (10000), TRUE);
  return done (data);
}

G_GNUC_UNUSED static gboolean
accepts (gpointer data)
{
  Broker *b = data;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) c = g_socket_client_connect_to_host (client, "127.0.0.1", b->port,
                                                                     NULL, NULL);
  return c != NULL;
}

G_GNUC_UNUSED static void
broker_start (Broker *b)
{
  const char *argv[] = { mosquitto, "-c", b->conf, NULL };
  g_autoptr (GError) error = NULL;

  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                                | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &b->pid, &error));
  g_assert_no_error (error);
  g_assert_true (wait_until (accepts, b, 10));
}

G_GNUC_UNUSED static void
broker_kill (Broker *b)
{
  kill (b->pid, SIGKILL);
  waitpid (b->pid, NULL, 0);
  g_spawn_close_pid (b->pid);
  b->pid = 0;
}

G_GNUC_UNUSED static char *
broker_file (Broker *b, const char *name)
{
  return g_build_filename (b->dir, name, NULL);
}

/* The broker's configuration, not started yet: a password, no anonymous
 * clients, no persistence. */
G_GNUC_UNUSED static void
broker_configure (Broker *b)
{
  g_autofree char *passwords = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  b->dir = g_dir_make_tmp ("packwatch-mqtt-XXXXXX", &error);
  g_assert_no_error (error);
  passwords = broker_file (b, "passwd");
  {
    const char *argv[] = { mosquitto_passwd, "-b", "-c", passwords, BROKER_USER, BROKER_PASSWORD,
                           NULL };
    run_sync (argv);
  }
  b->port = free_port ();
  b->conf = broker_file (b, "broker.conf");
  /* Started as root, mosquitto would become the user "mosquitto", who
   * cannot read this private folder. per_listener_settings false: the
   * password applies to the TLS listener too. */
  text = g_strdup_printf ("listener %u 127.0.0.1\nallow_anonymous false\npassword_file %s\n"
                          "persistence false\nuser %s\n", b->port, passwords,
                          getpwuid (getuid ())->pw_name);
  g_assert_true (g_file_set_contents (b->conf, text, -1, NULL));
}

/* Before broker_start: a second listener with TLS, its certificate for
 * "localhost" signed by a CA made here. FALSE without openssl. */
G_GNUC_UNUSED static gboolean
broker_add_tls (Broker *b)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *ca_key = broker_file (b, "ca.key");
  g_autofree char *key = broker_file (b, "server.key");
  g_autofree char *csr = broker_file (b, "server.csr");
  g_autofree char *cert = broker_file (b, "server.pem");
  g_autofree char *ext = broker_file (b, "server.ext");
  g_autofree char *conf = NULL;
  g_autofree char *more = NULL;

  if (openssl == NULL)
    return FALSE;
  b->cafile = broker_file (b, "ca.pem");
  g_assert_true (g_file_set_contents (ext, "subjectAltName=DNS:localhost\n", -1, NULL));
  {
    const char *ca[] = { openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                         ca_key, "-out", b->cafile, "-days", "2", "-subj", "/CN=Packwatch test CA",
                         NULL };
    const char *req[] = { openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                          csr, "-subj", "/CN=localhost", NULL };
    const char *sign[] = { openssl, "x509", "-req", "-in", csr, "-CA", b->cafile, "-CAkey", ca_key,
                           "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext, NULL };
    if (!run_ok (ca) || !run_ok (req) || !run_ok (sign))
      return FALSE;
  }
  b->tls_port = free_port ();
  g_assert_true (g_file_get_contents (b->conf, &conf, NULL, NULL));
  more = g_strdup_printf ("%slistener %u 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n", conf,
                          b->tls_port, b->cafile, cert, key);
  g_assert_true (g_file_set_contents (b->conf, more, -1, NULL));
  return TRUE;
}

G_GNUC_UNUSED static void
broker_init (Broker *b)
{
  broker_configure (b);
  broker_start (b);
}

G_GNUC_UNUSED static void
broker_clear (Broker *b)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (b->pid)
    broker_kill (b);
  dir = g_dir_open (b->dir, 0, NULL);
  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = broker_file (b, name);
      g_unlink (path);
    }
  g_rmdir (b->dir);
  g_free (b->conf);
  g_free (b->cafile);
  g_free (b->dir);
}

/* Retained, QoS 1, as serve publishes. */
G_GNUC_UNUSED static void
broker_publish (Broker *b, const char *topic, const char *payload)
{
  g_autofree char *port = g_strdup_printf ("%u", b->port);
  const char *argv[] = { mosquitto_pub, "-h", "127.0.0.1", "-p", port, "-u", BROKER_USER, "-P",
                         BROKER_PASSWORD, "-q", "1", "-r", "-t", topic, "-m", payload, NULL };
  run_sync (argv);
}

/* The vendor's 14-cell reply (tests/data/nw-readall-14s.hex), maybe with
 * warning bits, as serve publishes it in PREFIX/ID/frame. */
G_GNUC_UNUSED static char *
frame_hex (BmsSnapshot **out, gint64 warnings)
{
  const char *root = g_getenv ("PACKWATCH_SOURCE_ROOT");
  g_autofree char *path = g_build_filename (root ? root : ".", "tests", "data",
                                            "nw-readall-14s.hex", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GByteArray) info = g_byte_array_new ();
  g_autoptr (GByteArray) encoded = g_byte_array_new ();
  g_autoptr (BmsFrame) frame = NULL;
  g_autoptr (BmsFrame) reply = NULL;
  BmsSnapshot *snapshot = bms_snapshot_new ();

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (bms_hex_parse_line (g_strstrip (text), bytes, NULL));
  frame = bms_frame_decode (bytes->data, bytes->len, NULL);
  g_assert_nonnull (frame);
  g_assert_true (bms_snapshot_parse (snapshot, frame->info, frame->info_len, NULL));
  bms_snapshot_set_raw (snapshot, BMS_ID_WARNINGS, warnings);
  bms_snapshot_encode (snapshot, info);
  reply = bms_frame_new (BMS_CMD_READ_ALL, BMS_SOURCE_BMS, BMS_TRANSPORT_REPLY, info->data,
                         info->len);
  bms_frame_encode (reply, encoded);
  *out = snapshot;
  return bms_hex_format (encoded->data, encoded->len);
}
