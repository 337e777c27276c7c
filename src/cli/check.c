/*
 * cli/check.c - `portcullis check -c FILE`: validate a configuration offline, print its
 * risk warnings, exit 0 ("configuration OK") or 1 (the first error, "file:line:col: ...").
 */
#include <stdio.h>

#include "cli/cli.h"
#include "core/banned.h"

static void
print_warning(void *arg, const char *msg)
{
	(void)arg;
	(void)fprintf(stderr, "%s\n", msg);
}

int
pc_cli_check(int argc, char **argv)
{
	const char		*path = pc_cli_config_arg(argc, argv);
	struct pc_conf_diag	 diag;
	struct pc_conf		*conf;

	if (path == NULL) {
		(void)fprintf(stderr, "usage: portcullis check -c FILE\n");
		return 2;
	}
	if (pc_conf_load(path, &conf, &diag) != 0) {
		(void)fprintf(stderr, "%s\n", diag.text);
		return 1;
	}
	(void)pc_conf_warnings(conf, print_warning, NULL);
	pc_conf_unref(conf);
	(void)printf("configuration OK\n");
	return 0;
}
