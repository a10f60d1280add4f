/* Linked into every widget test: a warning or critical (fatal under the
 * tests' G_DEBUG=fatal-warnings) prints the stack that raised it before the
 * test aborts. A check that fails once in fifty runs on a loaded CI machine
 * then says where it came from, instead of only "assertion failed".
 *
 * The test executables export their symbols (export_dynamic in meson), so
 * the library's public functions are named; a static function shows as the
 * public one before it plus an offset, which `addr2line -f -e TEST` resolves
 * from the address printed alongside. */
#include <execinfo.h>
#include <glib.h>
#include <stdio.h>

#define MAX_FRAMES 48

static GLogWriterOutput
trace_writer (GLogLevelFlags   level,
              const GLogField *fields,
              gsize            n_fields,
              gpointer         user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      void *frames[MAX_FRAMES];
      int n = backtrace (frames, MAX_FRAMES);

      g_log_writer_default (level, fields, n_fields, user_data);
      fputs ("Stack at the message above (innermost first):\n", stderr);
      backtrace_symbols_fd (frames, n, fileno (stderr));
      fflush (stderr);
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

__attribute__ ((constructor)) static void
install_trace_writer (void)
{
  g_log_set_writer_func (trace_writer, NULL, NULL);
}
