/*
 * cli/demo.c - `portcullis demo`: the gateway in front of the built-in rides API, with the
 * embedded demo configuration (examples/demo.yaml), and a short tour of curl commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "demo/demo.h"
#include "core/banned.h"

#define DEMO_UPSTREAM	"127.0.0.1:18080"

/* The admin token of this run: PC_DEMO_ADMIN_TOKEN if set, else 32 random hex digits. */
static int
demo_token(void)
{
	static const char	hex[] = "0123456789abcdef";
	uint8_t			rnd[16];
	char			tok[33];
	size_t			i;

	if (getenv("PC_DEMO_ADMIN_TOKEN") != NULL)
		return 0;
	if (pc_random_bytes(rnd, sizeof(rnd)) != 0)
		return -1;
	for (i = 0; i < sizeof(rnd); i++) {
		tok[2 * i] = hex[rnd[i] >> 4];
		tok[2 * i + 1] = hex[rnd[i] & 15];
	}
	tok[32] = '\0';
	return setenv("PC_DEMO_ADMIN_TOKEN", tok, 1);
}

int
pc_cli_demo(int argc, char **argv)
{
	struct pc_conf_diag	 diag;
	struct pc_conf		*conf;
	struct pc_addr		 up;
	int			 rc;

	(void)argc;
	(void)argv;
	if (demo_token() != 0) {
		(void)fprintf(stderr, "portcullis: cannot make the demo admin token\n");
		return 1;
	}
	if (pc_conf_load_mem("demo.yaml", pc_demo_yaml, strlen(pc_demo_yaml), &conf,
	    &diag) != 0) {
		(void)fprintf(stderr, "portcullis: embedded demo configuration: %s\n", diag.text);
		return 1;
	}
	if (pc_addr_parse(pc_str_c(DEMO_UPSTREAM), &up) != 0 ||
	    pc_demo_upstream_start(&up) != 0) {
		(void)fprintf(stderr, "portcullis: cannot start the demo rides API on %s "
		    "(is the port in use?)\n", DEMO_UPSTREAM);
		pc_conf_unref(conf);
		return 1;
	}
	/* The demo's own throwaway token is printed so the tour works; a real one never is. */
	pc_demo_print_tour(stdout, conf->listeners[0].addr.text,
	    conf->admin_enabled ? conf->admin_addr.text : NULL, conf->admin_token);
	(void)fflush(stdout);
	rc = pc_cli_serve(conf, NULL);
	pc_demo_upstream_stop();
	return rc;
}
