/* cli-ports.c — `packwatch-cli ports`: the serial ports of this machine. */

#include "config.h"

#include <stdio.h>

#include "bms-transport.h"
#include "cli-common.h"

static void
print_json (GPtrArray *ports)
{
  g_autoptr (GString) out = g_string_new ("[");

  for (guint i = 0; i < ports->len; i++)
    {
      BmsPortInfo *port = g_ptr_array_index (ports, i);

      g_string_append (out, i > 0 ? ",\n  {\"name\": " : "\n  {\"name\": ");
      cli_json_append_string (out, port->name);
      g_string_append (out, ", \"description\": ");
      cli_json_append_string (out, port->description);
      g_string_append (out, ", \"vid_pid\": ");
      if (port->vid_pid != NULL)
        cli_json_append_string (out, port->vid_pid);
      else
        g_string_append (out, "null");
      g_string_append (out, "}");
    }
  g_string_append (out, ports->len > 0 ? "\n]\n" : "]\n");
  fputs (out->str, stdout);
}

static void
print_table (GPtrArray *ports)
{
  if (ports->len == 0)
    {
      printf ("No serial ports found. Plug in the RS485 adapter (CH340, FTDI, CP210x …);\n"
              "for a gateway use --port tcp://HOST:PORT, for the simulator sim://.\n");
      return;
    }
  printf ("%-20s %-10s %s\n", "PORT", "VID:PID", "DESCRIPTION");
  for (guint i = 0; i < ports->len; i++)
    {
      BmsPortInfo *port = g_ptr_array_index (ports, i);

      printf ("%-20s %-10s %s\n", port->name, port->vid_pid != NULL ? port->vid_pid : "-",
              port->description != NULL ? port->description : "");
    }
}

int
cli_ports (int argc, char **argv)
{
  gboolean json = FALSE;
  g_autoptr (GPtrArray) ports = NULL;
  g_autoptr (GError) error = NULL;
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print a JSON array", NULL },
    { NULL },
  };

  if (!cli_parse_options (&argc, &argv, "",
                          "Lists the serial ports of this machine with their description and\n"
                          "USB vendor:product id (1a86:7523 is a CH340 adapter).",
                          entries, NULL))
    return CLI_EXIT_USAGE;
  if (argc > 1)
    {
      cli_error ("ports", "takes no arguments");
      return CLI_EXIT_USAGE;
    }
  ports = bms_transport_list_ports (&error);
  if (ports == NULL)
    {
      cli_error ("ports", "cannot list serial ports: %s", error->message);
      return CLI_EXIT_FAILED;
    }
  if (json)
    print_json (ports);
  else
    print_table (ports);
  return CLI_EXIT_OK;
}
