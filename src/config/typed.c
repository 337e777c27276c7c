/*
 * config/typed.c - typed, checked reads of the document tree.
 * Owns: node kinds, strings, booleans (true/false only), integers in a range, addresses,
 *     mapping keys (unknown and duplicate keys, with a "did you mean" for typos).
 * Does not: know which key a section has or what a value means (sections.c, routes.c).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "core/banned.h"

const char *
pc_conf__kind_name(const struct pc_conf_node *n)
{
	if (n->kind == PC_NODE_SEQ)
		return "a list";
	if (n->kind == PC_NODE_MAP)
		return "a mapping";
	return n->len == 0 && !n->quoted ? "an empty value" : "a string";
}

int
pc_conf__want_kind(struct pc_conf_loader *ld, const struct pc_conf_node *n,
    enum pc_conf_node_kind k, const char *ctx, const char *key)
{
	static const char *const names[] = { "a string", "a list", "a mapping" };

	if (n->kind == k)
		return 0;
	return pc_conf__fail(ld, n, "%s%s: expected %s, found %s", ctx, key, names[k],
	    pc_conf__kind_name(n));
}

int
pc_conf__get_str(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *ctx,
    const char *key, struct pc_str *out)
{
	int rc = pc_conf__want_kind(ld, n, PC_NODE_SCALAR, ctx, key);

	if (rc != 0)
		return rc;
	*out = pc_str_make(n->val, n->len);
	return 0;
}

int
pc_conf__get_bool(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *ctx,
    const char *key, bool *out)
{
	static const char *const yaml11[] = { "yes", "no", "on", "off", "y", "n", "True",
		"False", "TRUE", "FALSE", "Yes", "No", "YES", "NO", "On", "Off", "ON", "OFF" };
	size_t	i;
	int	rc;

	if ((rc = pc_conf__want_kind(ld, n, PC_NODE_SCALAR, ctx, key)) != 0)
		return rc;
	if (strcmp(n->val, "true") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(n->val, "false") == 0) {
		*out = false;
		return 0;
	}
	/* YAML 1.1 read "no" as false: the Norway problem. Refuse instead of guessing. */
	for (i = 0; i < PC_NELEM(yaml11); i++)
		if (strcmp(n->val, yaml11[i]) == 0 && !n->subst)
			return pc_conf__fail(ld, n, "%s%s: expected true or false ('%s' is a "
			    "YAML 1.1 boolean, which is not accepted here)", ctx, key, n->val);
	return pc_conf__fail(ld, n, "%s%s: expected true or false, found '%s'", ctx, key,
	    pc_conf__showv(n).s);
}

int
pc_conf__get_u64(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *ctx,
    const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t	v;
	int		rc;

	if ((rc = pc_conf__want_kind(ld, n, PC_NODE_SCALAR, ctx, key)) != 0)
		return rc;
	rc = pc_parse_u64(pc_str_make(n->val, n->len), UINT64_MAX, &v);
	if (rc == -PC_EINVAL || (rc != 0 && rc != -PC_ERANGE) ||
	    (n->len > 0 && (n->val[0] < '0' || n->val[0] > '9')))
		return pc_conf__fail(ld, n, "%s%s: expected an integer from %llu to %llu, "
		    "found '%s'", ctx, key, (unsigned long long)min, (unsigned long long)max,
		    pc_conf__showv(n).s);
	if (rc == -PC_ERANGE || v < min || v > max)
		return pc_conf__fail(ld, n, "%s%s: %s is out of range (%llu..%llu)", ctx, key,
		    pc_conf__showv(n).s, (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

int
pc_conf__get_u32(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *ctx,
    const char *key, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t	v;
	int		rc = pc_conf__get_u64(ld, n, ctx, key, min, max, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

static unsigned
edit_distance(const char *a, const char *b)
{
	unsigned	row[65], i, j, prev, tmp, la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la > 64 || lb > 64)
		return UINT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The closest of <names> to <s> if it is close enough to be a typo, else NULL. */
const char *
pc_conf__closest(const char *s, const char *const *names, size_t n)
{
	const char	*best = NULL;
	unsigned	 d, bestd = UINT_MAX, limit;
	size_t		 i;

	for (i = 0; i < n; i++) {
		d = edit_distance(s, names[i]);
		if (d < bestd) {
			bestd = d;
			best = names[i];
		}
	}
	limit = strlen(s) <= 4 ? 1 : strlen(s) <= 8 ? 2 : 3;
	return bestd <= limit ? best : NULL;
}

/*
 * Checks the keys of mapping <map> against <keys>: an unknown key or a duplicate is an error.
 * Fills vals[i] / knodes[i] with the value and key node of keys[i], or NULL if absent.
 * <where> names the section in messages ("in limits").
 */
int
pc_conf__map_keys(struct pc_conf_loader *ld, const struct pc_conf_node *map,
    const char *const *keys, size_t nkeys, const char *where, const struct pc_conf_node **vals,
    const struct pc_conf_node **knodes)
{
	const struct pc_conf_node	*k, *v;
	const char			*hint;
	size_t				 i;

	for (i = 0; i < nkeys; i++)
		vals[i] = knodes[i] = NULL;
	for (k = map->first; k != NULL; k = v->next) {
		v = k->next;
		for (i = 0; i < nkeys; i++)
			if (strcmp(k->val, keys[i]) == 0)
				break;
		if (i == nkeys) {
			hint = pc_conf__closest(k->val, keys, nkeys);
			if (hint != NULL)
				return pc_conf__fail(ld, k, "unknown key '%s' %s (did you mean "
				    "'%s'?)", pc_conf__show(k->val, k->len).s, where, hint);
			return pc_conf__fail(ld, k, "unknown key '%s' %s",
			    pc_conf__show(k->val, k->len).s, where);
		}
		if (knodes[i] != NULL)
			return pc_conf__fail(ld, k, "duplicate key '%s' %s (first at line %d)",
			    keys[i], where, knodes[i]->line);
		knodes[i] = k;
		vals[i] = v;
	}
	return 0;
}

char *
pc_conf__dup_str(struct pc_conf_loader *ld, const struct pc_conf_node *n, struct pc_str s)
{
	char *p = malloc(s.len + 1);

	if (p == NULL) {
		(void)pc_conf__oom(ld, n);
		return NULL;
	}
	if (s.len)
		memcpy(p, s.ptr, s.len);
	p[s.len] = '\0';
	return p;
}

int
pc_conf__get_addr(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *ctx,
    const char *key, struct pc_addr *out)
{
	struct pc_str	s;
	int		rc;

	if ((rc = pc_conf__get_str(ld, n, ctx, key, &s)) != 0)
		return rc;
	if (pc_addr_parse(s, out) != 0)
		return pc_conf__fail(ld, n, "%s%s: invalid address '%s' (expected numeric "
		    "host:port such as 127.0.0.1:8080 or [::1]:8080; names are not resolved)",
		    ctx, key, pc_conf__showv(n).s);
	return 0;
}
