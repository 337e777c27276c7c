/*
 * cli/demo.c - `portcullis demo`: the gateway in front of the built-in rides API, with the
 * embedded demo configuration (examples/demo.yaml), and a short tour of curl commands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "demo/demo.h"
#include "core/banned.h"

#define DEMO_UPSTREAM	"127.0.0.1:18080"

int
pc_cli_demo(int argc, char **argv)
{
	struct pc_conf_diag	 diag;
	struct pc_conf		*conf;
	struct pc_addr		 up;
	int			 rc;

	(void)argc;
	(void)argv;
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
	pc_demo_print_tour(stdout, conf->listeners[0].addr.text,
	    conf->admin_enabled ? conf->admin_addr.text : NULL);
	(void)fflush(stdout);
	rc = pc_cli_serve(conf, NULL);
	pc_demo_upstream_stop();
	return rc;
}
