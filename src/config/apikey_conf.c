/*
 * config/apikey_conf.c - api_keys: named API key stores, each a file of keyed hashes
 * (auth/apikey_store.c) with the header (and optionally the query parameter) that carries
 * its keys, and the pepper the hashes were made under.
 * Owns: the meaning and defaults of those keys; reading the store and its pepper at load
 * and at every reload (so a disabled key stops working after SIGHUP). Does not: judge keys
 * (auth/) or read requests (pipeline/authn.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_int.h"
#include "core/banned.h"

#define STORES_MAX	64
#define STORE_FILE_MAX	((size_t)32 << 20)	/* 100000 records of ~200 bytes fit */
#define PEPPER_FILE_MAX	256
#define QUERY_NAME_MAX	64

static const char *const store_keys[] = { "file", "header", "query_param", "pepper" };
enum { SK_FILE, SK_HEADER, SK_QUERY, SK_PEPPER };

/*
 * The default pepper: "<store file>.pepper", which must be a regular file that neither
 * group nor others can read (as TLS private keys: tls/tls_policy.c). Reading it whole is
 * fine: it is 64 hex digits and a newline.
 */
static int
read_pepper_file(struct pc_conf_loader *ld, const struct pc_conf_node *at, const char *ctx,
    const char *path, uint8_t pepper[PC_APIKEY_PEPPER_BYTES])
{
	char		 buf[PEPPER_FILE_MAX + 1];
	struct stat	 st;
	size_t		 len = 0;
	int		 fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return pc_conf__fail(ld, at, "%spepper file %s: cannot open: %s (without "
		    "pepper: the pepper is read from <file>.pepper, made by `portcullis keys "
		    "new`)", ctx, path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return pc_conf__fail(ld, at, "%spepper file %s: not a regular file", ctx, path);
	}
	if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		(void)close(fd);
		return pc_conf__fail(ld, at, "%spepper file %s is readable by group or others "
		    "(mode %04o): chmod 600 it", ctx, path, (unsigned)(st.st_mode & 07777));
	}
	rc = pc_conf__read_fd(fd, buf, PEPPER_FILE_MAX, &len);
	(void)close(fd);
	if (rc != 0) {
		explicit_bzero(buf, sizeof(buf));
		return pc_conf__fail(ld, at, "%spepper file %s: %s", ctx, path, strerror(errno));
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	rc = len <= PEPPER_FILE_MAX ? pc_apikey_pepper_parse(pc_str_make(buf, len), pepper) :
	    -PC_EINVAL;
	explicit_bzero(buf, sizeof(buf));
	if (rc != 0)
		return pc_conf__fail(ld, at, "%spepper file %s: expected 64 hex digits (32 "
		    "random bytes)", ctx, path);
	return 0;
}

static int
get_pepper(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *ctx,
    uint8_t pepper[PC_APIKEY_PEPPER_BYTES])
{
	int rc;

	if ((rc = pc_conf__want_kind(ld, n, PC_NODE_SCALAR, ctx, "pepper")) != 0)
		return rc;
	/* A secret is never written in the file itself (as hmac_secret, admin.token). */
	if (!n->only_subst)
		return pc_conf__fail(ld, n, "%spepper: must come from ${env:NAME} or "
		    "${file:PATH}, not from the configuration file itself", ctx);
	if (pc_apikey_pepper_parse(pc_str_make(n->val, n->len), pepper) != 0)
		return pc_conf__fail(ld, n, "%spepper: expected 64 hex digits (32 random bytes)",
		    ctx);
	return 0;
}

static int
read_store(struct pc_conf_loader *ld, struct pc_conf_apikeys *ak, const struct pc_conf_node *n,
    const char *ctx, const uint8_t pepper[PC_APIKEY_PEPPER_BYTES])
{
	struct stat	 st;
	char		*buf, err[256];
	size_t		 len = 0;
	int		 fd, rc, line = 0;

	fd = open(ak->file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return pc_conf__fail(ld, n, "%sfile: %s: %s", ctx, ak->file, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return pc_conf__fail(ld, n, "%sfile: %s: not a regular file", ctx, ak->file);
	}
	if ((uint64_t)st.st_size > STORE_FILE_MAX) {
		(void)close(fd);
		return pc_conf__fail(ld, n, "%sfile: %s: larger than %zu bytes", ctx, ak->file,
		    STORE_FILE_MAX);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		(void)close(fd);
		return pc_conf__oom(ld, n);
	}
	rc = pc_conf__read_fd(fd, buf, (size_t)st.st_size, &len);
	(void)close(fd);
	if (rc != 0 || len > (size_t)st.st_size) {
		free(buf);
		return pc_conf__fail(ld, n, "%sfile: %s: %s", ctx, ak->file, rc != 0 ?
		    strerror(errno) : "the file grew while it was read (a `keys` command "
		    "writes by rename: retry)");
	}
	err[0] = '\0';
	rc = pc_apikey_store_parse(ak->name, buf, len, pepper, &ak->store, &line, err,
	    sizeof(err));
	free(buf);
	if (rc == -PC_ENOMEM)
		return pc_conf__oom(ld, n);
	if (rc != 0)
		return pc_conf__fail(ld, n, "%sfile: %s:%d: %s", ctx, ak->file, line, err);
	return 0;
}

static int
get_store(struct pc_conf_loader *ld, struct pc_conf *c, const struct pc_conf_node *k,
    const struct pc_conf_node *v, struct pc_conf_apikeys *ak)
{
	const struct pc_conf_node	*vals[PC_NELEM(store_keys)], *kn[PC_NELEM(store_keys)];
	uint8_t				 pepper[PC_APIKEY_PEPPER_BYTES];
	char				 ctx[96], where[96], hctx[128], *pfile;
	const char			*path;
	struct pc_str			 s;
	unsigned			 i;
	size_t				 j;
	int				 rc;

	ak->line = k->line;
	if (!pc_conf__name_ok(pc_str_make(k->val, k->len), 64, "_.-"))
		return pc_conf__fail(ld, k, "api_keys: invalid name '%s' (expected "
		    "[A-Za-z0-9_.-]{1,64})", pc_conf__showv(k).s);
	if ((ak->name = pc_conf__dup_str(ld, k, pc_str_make(k->val, k->len))) == NULL)
		return -PC_ENOMEM;
	/* A route's auth: names either kind: one name must mean one thing. */
	for (i = 0; i < c->nissuers; i++)
		if (strcmp(c->issuers[i].name, ak->name) == 0)
			return pc_conf__fail(ld, k, "api_keys.%s: the name is also issuers.%s "
			    "(line %d); auth: names issuers and api_keys stores, so names must "
			    "be unique across both", ak->name, ak->name, c->issuers[i].line);
	(void)snprintf(ctx, sizeof(ctx), "api_keys.%s.", ak->name);
	(void)snprintf(where, sizeof(where), "in api_keys.%s", ak->name);
	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_MAP, "api_keys.", ak->name)) != 0)
		return rc;
	rc = pc_conf__map_keys(ld, v, store_keys, PC_NELEM(store_keys), where, vals, kn);
	if (rc != 0)
		return rc;
	if (vals[SK_FILE] == NULL)
		return pc_conf__fail(ld, v, "%smissing required key 'file' (the store made by "
		    "`portcullis keys new`)", ctx);
	if ((rc = pc_conf__get_path(ld, vals[SK_FILE], ctx, "file", &path)) != 0)
		return rc;
	if ((ak->file = pc_conf__dup_str(ld, vals[SK_FILE], pc_str_c(path))) == NULL)
		return -PC_ENOMEM;

	s = PC_STR("X-API-Key");
	if (vals[SK_HEADER] != NULL) {
		if ((rc = pc_conf__want_kind(ld, vals[SK_HEADER], PC_NODE_SCALAR, ctx,
		    "header")) != 0)
			return rc;
		(void)snprintf(hctx, sizeof(hctx), "%sheader: ", ctx);
		if ((rc = pc_conf__header_name(ld, vals[SK_HEADER], hctx)) != 0)
			return rc;
		s = pc_str_make(vals[SK_HEADER]->val, vals[SK_HEADER]->len);
		/* Authorization carries bearer tokens; a key there would be read as both. */
		if (pc_str_caseeq(s, PC_STR("Authorization")) ||
		    (s.len >= 13 && pc_str_caseeq(pc_str_make(s.ptr, 13),
		    PC_STR("X-Portcullis-"))))
			return pc_conf__fail(ld, vals[SK_HEADER], "%sheader: '%s' is reserved "
			    "(Authorization carries bearer tokens; X-Portcullis-* are the "
			    "gateway's)", ctx, pc_conf__showv(vals[SK_HEADER]).s);
	}
	if ((ak->header = pc_conf__dup_str(ld, v, s)) == NULL)
		return -PC_ENOMEM;

	if (vals[SK_QUERY] != NULL) {
		if ((rc = pc_conf__get_str(ld, vals[SK_QUERY], ctx, "query_param", &s)) != 0)
			return rc;
		for (j = 0; j < s.len; j++) {
			char ch = s.ptr[j];

			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.' ||
			    ch == '~'))
				break;
		}
		if (s.len == 0 || s.len > QUERY_NAME_MAX || j < s.len)
			return pc_conf__fail(ld, vals[SK_QUERY], "%squery_param: invalid name "
			    "'%s' (expected [A-Za-z0-9_.~-]{1,64})", ctx,
			    pc_conf__showv(vals[SK_QUERY]).s);
		if ((ak->query_param = pc_conf__dup_str(ld, vals[SK_QUERY], s)) == NULL)
			return -PC_ENOMEM;
	}

	/* A missing store is the likelier mistake: say so before asking for its pepper. */
	if (access(ak->file, F_OK) == -1)
		return pc_conf__fail(ld, vals[SK_FILE], "%sfile: %s: %s", ctx, ak->file,
		    strerror(errno));
	if (vals[SK_PEPPER] != NULL) {
		rc = get_pepper(ld, vals[SK_PEPPER], ctx, pepper);
	} else {
		if (asprintf(&pfile, "%s.pepper", ak->file) == -1)
			return pc_conf__oom(ld, vals[SK_FILE]);
		rc = read_pepper_file(ld, vals[SK_FILE], ctx, pfile, pepper);
		free(pfile);
	}
	if (rc == 0)
		rc = read_store(ld, ak, vals[SK_FILE], ctx, pepper);
	explicit_bzero(pepper, sizeof(pepper));
	return rc;
}

int
pc_conf__get_apikeys(struct pc_conf_loader *ld, struct pc_conf *c, const struct pc_conf_node *v)
{
	const struct pc_conf_node	*k;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_MAP, "", "api_keys")) != 0)
		return rc;
	if (v->n / 2 > STORES_MAX)
		return pc_conf__fail(ld, v, "api_keys: expected at most %d stores, found %u",
		    STORES_MAX, v->n / 2);
	if (v->n == 0)
		return 0;
	c->apikeys = calloc(v->n / 2, sizeof(*c->apikeys));
	if (c->apikeys == NULL)
		return pc_conf__oom(ld, v);
	for (k = v->first; k != NULL; k = k->next->next) {
		rc = get_store(ld, c, k, k->next, &c->apikeys[c->napikeys]);
		c->napikeys++;	/* freed whole on error */
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
pc_conf__apikeys_free(struct pc_conf *c)
{
	unsigned i;

	for (i = 0; i < c->napikeys; i++) {
		free(c->apikeys[i].name);
		free(c->apikeys[i].file);
		free(c->apikeys[i].header);
		free(c->apikeys[i].query_param);
		pc_apikey_store_free(c->apikeys[i].store);
	}
	free(c->apikeys);
	c->apikeys = NULL;
	c->napikeys = 0;
}
