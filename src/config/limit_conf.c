/*
 * config/limit_conf.c - failed_auth: (how failed logins are counted, slowed down and locked
 * out, docs/decisions/0013) and a route's login: key.
 * Owns: the meaning, defaults and ranges of those keys, and the rule that makes failed_auth
 *     on by default when some route authenticates.
 * Does not: make the table (cli/serve.c, once per process) or count anything (limit/).
 */
#include <stdio.h>
#include <string.h>

#include "config/config_int.h"
#include "core/banned.h"

static const char *const fa_keys[] = { "window_s", "delay_after", "delay_ms", "max_delay_ms",
	"lockout_after", "lockout_s", "entries" };
enum { FK_WINDOW, FK_DELAY_AFTER, FK_DELAY, FK_MAX_DELAY, FK_LOCKOUT_AFTER, FK_LOCKOUT,
	FK_ENTRIES, FK_COUNT };

/*
 * Ranges. Delays stay under a minute: a delayed answer is a parked request (it holds its
 * connection and arena, not the worker), and past a minute clients time out anyway. Entries
 * up to 4 Mi: 128 MiB at 32 bytes each, made once at start.
 */
static const struct {
	uint32_t	 min, max, def;
	size_t		 off;
} fa_nums[FK_COUNT] = {
#define NUM(f, lo, hi, d)	{ lo, hi, d, offsetof(struct pc_failures_conf, f) }
	[FK_WINDOW] = NUM(window_s, 1, 86400, 60),
	[FK_DELAY_AFTER] = NUM(delay_after, 0, 1000000, 5),
	[FK_DELAY] = NUM(delay_ms, 0, 60000, 250),
	[FK_MAX_DELAY] = NUM(max_delay_ms, 0, 60000, 4000),
	[FK_LOCKOUT_AFTER] = NUM(lockout_after, 1, 1000000, 30),
	[FK_LOCKOUT] = NUM(lockout_s, 1, 86400, 300),
	[FK_ENTRIES] = NUM(entries, 1024, 4194304, 65536),
#undef NUM
};

static uint32_t *
fa_num(struct pc_failures_conf *fa, size_t i)
{
	return (uint32_t *)(void *)((char *)fa + fa_nums[i].off);
}

static bool
any_route_authenticates(const struct pc_conf *c)
{
	unsigned i;

	for (i = 0; i < c->nroutes; i++)
		if (pc_route_has_auth(&c->routes[i]) || c->routes[i].login)
			return true;
	return false;
}

static int
get_section(struct pc_conf_loader *ld, struct pc_failures_conf *fa,
    const struct pc_conf_node *v)
{
	const struct pc_conf_node	*vals[FK_COUNT], *kn[FK_COUNT];
	size_t				 i;
	int				 rc;

	if ((rc = pc_conf__map_keys(ld, v, fa_keys, FK_COUNT, "in failed_auth", vals, kn)) != 0)
		return rc;
	for (i = 0; i < FK_COUNT; i++) {
		if (vals[i] == NULL)
			continue;
		rc = pc_conf__get_u32(ld, vals[i], "failed_auth.", fa_keys[i], fa_nums[i].min,
		    fa_nums[i].max, fa_num(fa, i));
		if (rc != 0)
			return rc;
	}
	/* Slowing down must come before refusing, or the delays never happen. */
	if (fa->delay_after >= fa->lockout_after)
		return pc_conf__fail(ld, vals[FK_DELAY_AFTER] ? vals[FK_DELAY_AFTER] :
		    vals[FK_LOCKOUT_AFTER], "failed_auth.delay_after: %u must be below "
		    "lockout_after (%u)", fa->delay_after, fa->lockout_after);
	if (fa->max_delay_ms < fa->delay_ms)
		return pc_conf__fail(ld, vals[FK_MAX_DELAY] ? vals[FK_MAX_DELAY] :
		    vals[FK_DELAY], "failed_auth.max_delay_ms: %u is below delay_ms (%u)",
		    fa->max_delay_ms, fa->delay_ms);
	return 0;
}

int
pc_conf__get_failed_auth(struct pc_conf_loader *ld, struct pc_conf *c,
    const struct pc_conf_node *v)
{
	struct pc_failures_conf	*fa = &c->failed_auth;
	bool			 on;
	unsigned		 i;
	int			 rc;

	memset(fa, 0, sizeof(*fa));
	for (i = 0; i < FK_COUNT; i++)
		*fa_num(fa, i) = fa_nums[i].def;
	/* Absent: on wherever a credential can fail (a route with auth: or login:); a file
	 * with only public routes has no logins to slow down. */
	fa->enabled = any_route_authenticates(c);
	if (v == NULL)
		return 0;
	if (v->kind == PC_NODE_SCALAR) {
		if ((rc = pc_conf__get_bool(ld, v, "", "failed_auth", &on)) != 0)
			return rc;
		fa->enabled = on;
	} else if (v->kind == PC_NODE_MAP) {
		if ((rc = get_section(ld, fa, v)) != 0)
			return rc;
		fa->enabled = true;
	} else {
		return pc_conf__fail(ld, v, "failed_auth: expected false, true or a mapping, "
		    "found %s", pc_conf__kind_name(v));
	}
	if (fa->enabled)
		return 0;
	/* A login route counts its failures through this table: without it the key would
	 * silently do nothing. */
	for (i = 0; i < c->nroutes; i++)
		if (c->routes[i].login)
			return pc_conf__fail(ld, v, "failed_auth: false, but route '%s' (line %d) "
			    "has login: true, which counts failed logins here",
			    pc_conf__show(c->routes[i].name, strlen(c->routes[i].name)).s,
			    c->routes[i].line);
	return 0;
}

int
pc_conf__get_route_login(struct pc_conf_loader *ld, struct pc_conf_route *r, const char *ctx,
    const struct pc_conf_node *v)
{
	int rc;

	if (v == NULL)
		return 0;
	if ((rc = pc_conf__get_bool(ld, v, ctx, "login", &r->login)) != 0)
		return rc;
	/* An authenticated route counts the gateway's own credential failures already; login:
	 * is for the application's login endpoint, which has to be reachable unauthenticated. */
	if (r->login && !r->public_)
		return pc_conf__fail(ld, v, "%slogin: true only on a public route (public: true):"
		    " an authenticated route counts its failures already", ctx);
	return 0;
}
