/* bms_context_post: work handed from a worker thread runs in the thread that
 * iterates the context, never in the worker, even when the owner is between
 * two iterations (the case in which g_main_context_invoke runs it in the
 * caller's thread). */
#include "bms-context.h"

typedef struct {
  GThread *ran_in;
  guint    runs;
  guint    notified;
} Record;

static gboolean
record_thread (gpointer data)
{
  Record *r = data;

  r->ran_in = g_thread_self ();
  r->runs++;
  return G_SOURCE_REMOVE;
}

static void
record_notify (gpointer data)
{
  ((Record *) data)->notified++;
}

static gpointer
worker_posts (gpointer data)
{
  bms_context_post (NULL, record_thread, data, record_notify);
  return NULL;
}

static void
test_post_runs_in_owner (void)
{
  Record r = { 0 };
  GThread *worker;

  /* The main thread does not iterate while the worker posts: the default
   * context is free for the worker to take. */
  worker = g_thread_new ("poster", worker_posts, &r);
  g_thread_join (worker);
  g_assert_cmpuint (r.runs, ==, 0);
  g_assert_null (r.ran_in);

  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (r.runs, ==, 1);
  g_assert_true (r.ran_in == g_thread_self ());
  g_assert_cmpuint (r.notified, ==, 1);
}

/* A context of its own, iterated by another thread: the work runs there. */
typedef struct {
  GMainContext *context;
  GMainLoop    *loop;
  GThread      *thread;
} Owner;

static gpointer
owner_main (gpointer data)
{
  Owner *o = data;

  g_main_context_push_thread_default (o->context);
  g_main_loop_run (o->loop);
  g_main_context_pop_thread_default (o->context);
  return NULL;
}

static gboolean
quit_owner (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
test_post_other_context (void)
{
  Owner o;
  Record r = { 0 };

  o.context = g_main_context_new ();
  o.loop = g_main_loop_new (o.context, FALSE);
  o.thread = g_thread_new ("owner", owner_main, &o);
  bms_context_post (o.context, record_thread, &r, record_notify);
  bms_context_post (o.context, quit_owner, o.loop, NULL);
  g_thread_join (o.thread);
  g_assert_cmpuint (r.runs, ==, 1);
  g_assert_true (r.ran_in == o.thread);
  g_assert_cmpuint (r.notified, ==, 1);
  g_main_loop_unref (o.loop);
  g_main_context_unref (o.context);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/context/post-runs-in-owner", test_post_runs_in_owner);
  g_test_add_func ("/context/post-other-context", test_post_other_context);
  return g_test_run ();
}
