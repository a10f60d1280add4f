/* main.c — packwatch-cli: dispatches to one subcommand (see cli-commands.h). */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli-common.h"

#define CLI_COMMAND(name, function, synopsis, summary) int function (int argc, char **argv);
#include "cli-commands.h"
#undef CLI_COMMAND

typedef struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *synopsis;
  const char *summary;
} CliCommand;

static const CliCommand commands[] = {
#define CLI_COMMAND(name, function, synopsis, summary) { #name, function, synopsis, summary },
#include "cli-commands.h"
#undef CLI_COMMAND
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: packwatch-cli COMMAND [OPTION…]\n\n"
                "Monitor and configure NW-protocol (JK-family / TOPBMS) battery boards.\n\n"
                "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n           %s %s\n", commands[i].name, commands[i].summary,
             commands[i].name, commands[i].synopsis);
  fprintf (out, "\n`packwatch-cli COMMAND --help` describes a command's options; "
                "docs/cli.md has the details and the JSON schema.\n");
}

static const CliCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

/* The command the unknown word was probably meant to be: a prefix of it
 * ("writ"), or at most two typos away ("raed"). */
static const char *
closest_command (const char *name)
{
  const char *best = NULL;
  guint best_distance = 3;

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      guint distance = cli_edit_distance (name, commands[i].name);

      if (strlen (name) >= 2 && g_str_has_prefix (commands[i].name, name))
        distance = 1;
      if (distance < best_distance)
        {
          best = commands[i].name;
          best_distance = distance;
        }
    }
  return best;
}

int
main (int argc, char **argv)
{
  const CliCommand *command;
  const char *hint;

  setlocale (LC_ALL, "");
  /* JSON and the generated docs need "3.65", never "3,65". */
  setlocale (LC_NUMERIC, "C");
  if (argc < 2)
    {
      print_usage (stderr);
      return CLI_EXIT_USAGE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      print_usage (stdout);
      return CLI_EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("packwatch-cli %s\n", PACKAGE_VERSION);
      return CLI_EXIT_OK;
    }

  command = find_command (argv[1]);
  if (command == NULL)
    {
      hint = closest_command (argv[1]);
      fprintf (stderr, "packwatch-cli: unknown command \"%s\"", argv[1]);
      if (hint != NULL)
        fprintf (stderr, " (did you mean \"%s\"?)", hint);
      fprintf (stderr, "\n\n");
      print_usage (stderr);
      return CLI_EXIT_USAGE;
    }
  return command->run (argc - 1, argv + 1);
}
