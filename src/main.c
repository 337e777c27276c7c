/*
 * main.c - startup only: pick the command, hand over. No logic of its own.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "sandbox/sandbox.h"
#include "tls/tls.h"
#include "core/banned.h"

static int
usage(FILE *f)
{
	(void)fprintf(f,
	    "usage: portcullis COMMAND [options]\n"
	    "\n"
	    "commands:\n"
	    "  run -c FILE     serve with the configuration FILE\n"
	    "  check -c FILE   validate FILE, print warnings, exit 0 if it is usable\n"
	    "  demo            serve the built-in rides API behind the gateway (see README)\n"
	    "  keys VERB --file FILE ...   API keys: new, list, disable, rotate (keys -h)\n"
	    "  version         print the version\n"
	    "\n"
	    "signals: TERM/INT drain and stop, HUP reload, USR1 reopen log files\n");
	return f == stderr ? 2 : 0;
}

int
main(int argc, char **argv)
{
	char err[256];

	/* Before any thread exists (the flag is per thread and inherited): nothing this
	 * process runs can ever gain privilege through exec. */
	if (pc_sandbox_prepare(err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "portcullis: %s\n", err);
		return 1;
	}
	if (argc < 2)
		return usage(stderr);
	if (pc_tls_init() != 0) {
		(void)fprintf(stderr, "portcullis: OpenSSL failed to initialize\n");
		return 1;
	}
	if (strcmp(argv[1], "run") == 0)
		return pc_cli_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return pc_cli_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "demo") == 0)
		return pc_cli_demo(argc - 1, argv + 1);
	if (strcmp(argv[1], "keys") == 0)
		return pc_cli_keys(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		(void)printf("portcullis %s\n", PC_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)
		return usage(stdout);
	(void)fprintf(stderr, "portcullis: unknown command '%s'\n\n", argv[1]);
	return usage(stderr);
}
