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
	struct pc_conf	*conf;
	const char	*path;
	int		 rc;

	rc = pc_cli_load(argc, argv, "check", &conf, &path);
	if (rc != 0)
		return rc;
	(void)pc_conf_warnings(conf, print_warning, NULL);
	/* Remote keys are fetched as `run` would: unreachable keys are a warning, not an
	 * error (the gateway starts anyway and refuses those tokens until they come). */
	(void)pc_cli_prime_keys(conf, print_warning, NULL);
	pc_conf_unref(conf);
	(void)printf("configuration OK\n");
	return 0;
}
