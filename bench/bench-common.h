/* Shared helpers for the benchmarks: one JSON object per line on stdout. */
#pragma once
#include <glib.h>
#include <stdio.h>

static inline void
bench_emit (const char *name, double value, const char *unit, double reference,
            double ratio, const char *target, gboolean ok, const char *extra_json)
{
  char v[G_ASCII_DTOSTR_BUF_SIZE], r[G_ASCII_DTOSTR_BUF_SIZE], q[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (v, sizeof v, "%.4f", value);
  g_ascii_formatd (r, sizeof r, "%.4f", reference);
  g_ascii_formatd (q, sizeof q, "%.4f", ratio);
  printf ("{\"name\": \"%s\", \"value\": %s, \"unit\": \"%s\", \"reference\": %s, "
          "\"ratio\": %s, \"target\": \"%s\", \"ok\": %s%s%s}\n",
          name, v, unit, r, q, target, ok ? "true" : "false",
          extra_json ? ", " : "", extra_json ? extra_json : "");
  fflush (stdout);
}

static inline double
bench_now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}
