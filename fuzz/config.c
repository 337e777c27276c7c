/*
 * fuzz/config.c - libFuzzer target for the configuration loader (pc_conf_load_mem).
 * Owns: properties of every accepted configuration, and the error format of every refused
 * one. ${file:} stays reachable on purpose: the loader must refuse FIFOs, devices and
 * large files by itself, quickly, whatever path the fuzzer invents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"
#include "core/banned.h"

static void
count_warning(void *arg, const char *msg)
{
	unsigned *n = arg;

	PC_ASSERT(strncmp(msg, "fuzz.yaml:", 10) == 0);
	PC_ASSERT(strstr(msg, ": warning: ") != NULL);
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_conf		*c = NULL;
	struct pc_conf_diag	 e;
	unsigned		 i, n = 0;

	if (pc_conf_load_mem("fuzz.yaml", (const char *)data, size, &c, &e) != 0) {
		/* Every refusal says where: "fuzz.yaml:LINE:COL: message". */
		PC_ASSERT(c == NULL);
		PC_ASSERT(strncmp(e.text, "fuzz.yaml:", 10) == 0);
		PC_ASSERT(strlen(e.text) > 14);
		return 0;
	}
	PC_ASSERT(c != NULL && c->refs == 1);
	PC_ASSERT(c->workers >= 1 && c->workers <= 256);
	PC_ASSERT(c->nlisteners >= 1 && c->nroutes >= 1);
	PC_ASSERT(c->access_log != NULL && c->event_log != NULL);
	PC_ASSERT(c->limits.header_max_count >= 1 && c->limits.header_max_count <= 100);
	for (i = 0; i < c->nupstreams; i++)
		PC_ASSERT(c->upstreams[i].ntargets >= 1 &&
		    c->upstreams[i].ntargets <= PC_CONF_TARGETS_MAX);
	for (i = 0; i < c->nroutes; i++) {
		PC_ASSERT(c->routes[i].upstream < c->nupstreams);
		PC_ASSERT(c->routes[i].public_);	/* deny by default */
		PC_ASSERT(c->routes[i].name != NULL && c->routes[i].path != NULL);
		PC_ASSERT(c->routes[i].order < c->nroutes);
		if (i + 1 < c->nroutes)
			PC_ASSERT(pc_conf__route_cmp(&c->routes[i], &c->routes[i + 1]) <= 0);
	}
	if (c->admin_token != NULL)
		PC_ASSERT(strlen(c->admin_token) >= 16);
	PC_ASSERT(pc_conf_warnings(c, count_warning, &n) == n);
	PC_ASSERT(pc_conf_ref(c) == c && c->refs == 2);
	pc_conf_unref(c);
	pc_conf_unref(c);
	return 0;
}
