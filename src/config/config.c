/*
 * config/config.c - the configuration loader: YAML text -> an immutable, reference-counted
 * struct pc_conf, with "file:line:col: message" errors and risk warnings.
 * Owns: the load entry points and their limits, the lifetime of a struct pc_conf, and the
 *     process-wide current configuration (reload = swap).
 * Does not: open sockets, resolve names, start threads. The steps live in yaml_tree.c (text ->
 *     tree), subst.c (${env:}/${file:}), typed.c, sections.c and routes.c (tree -> struct
 *     pc_conf) and warn.c (pc_conf_warnings).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_int.h"
#include "core/banned.h"

#define CONF_FILE_MAX		(1024 * 1024)	/* a config is hand-written; more is a mistake */
#define TREE_MEM_MAX		((size_t)64 << 20)

/* ---- lifetime ---- */

static void
conf_free(struct pc_conf *c)
{
	struct pc_conf_impl	*ci = (struct pc_conf_impl *)(void *)c;
	unsigned		 i, j;

	if (c == NULL)
		return;
	free(c->path);
	for (i = 0; i < c->nlisteners; i++) {
		pc_tls_server_unref(c->listeners[i].tls);
		free(c->listeners[i].hsts);
	}
	free(c->listeners);
	free(c->trusted_proxies);
	free(c->access_log);
	free(c->event_log);
	free(c->user);
	if (c->admin_token != NULL)
		pc_secret_free(c->admin_token, strlen(c->admin_token));
	pc_conf__mint_free(c);	/* reads the upstreams: first */
	for (i = 0; i < c->nupstreams; i++) {
		free(c->upstreams[i].name);
		free(c->upstreams[i].targets);
		pc_tls_client_free(c->upstreams[i].tls);
		free(c->upstreams[i].pool_key);
	}
	free(c->upstreams);
	for (i = 0; i < c->nroutes; i++) {
		free(c->routes[i].name);
		free(c->routes[i].path);
		free(c->routes[i].host);
		free(c->routes[i].client_cert_header);
		free(c->routes[i].auth);
		free(c->routes[i].apikeys);
		for (j = 0; j < c->routes[i].nscopes; j++)
			free(c->routes[i].scopes[j]);
		free(c->routes[i].scopes);
		free(c->routes[i].scope_text);
	}
	free(c->routes);
	pc_conf__issuers_free(c);
	pc_conf__apikeys_free(c);
	for (i = 0; i < c->nresponse_headers; i++) {
		free(c->response_headers[i].name);
		free(c->response_headers[i].value);
	}
	free(c->response_headers);
	for (i = 0; i < c->nstrip_headers; i++)
		free(c->strip_headers[i]);
	free(c->strip_headers);
	for (i = 0; i < ci->nload_warnings; i++)
		free(ci->load_warnings[i].msg);
	free(ci->load_warnings);
	free(c);	/* pub is the first member of struct pc_conf_impl */
}

/* Snapshots are told apart by this, not by address: a freed one's address comes back. */
static uint64_t serials;

static int
load(const char *name, const char *dir, bool from_mem, const char *text, size_t len,
    struct pc_conf **out, struct pc_conf_diag *err)
{
	struct pc_conf_loader	 ld;
	struct pc_conf_impl	*ci = NULL;
	struct pc_conf_node	*root;
	int			 rc;

	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	ld.err = err;
	ld.from_mem = from_mem;
	(void)snprintf(ld.dir, sizeof(ld.dir), "%s", dir);
	err->text[0] = '\0';
	*out = NULL;
	if (len > CONF_FILE_MAX)
		return pc_conf__fail_at(&ld, 1, 1, "the configuration is larger than %d bytes",
		    CONF_FILE_MAX);
	ld.arena = pc_arena_new(TREE_MEM_MAX);
	if (ld.arena == NULL)
		return pc_conf__oom(&ld, NULL);
	if ((rc = pc_conf__build_tree(&ld, text, len, &root)) != 0)
		goto fail;
	ci = calloc(1, sizeof(*ci));
	if (ci == NULL) {
		rc = pc_conf__oom(&ld, NULL);
		goto fail;
	}
	if ((rc = pc_conf__defaults(&ld, ci)) != 0 || (rc = pc_conf__build(&ld, ci, root)) != 0)
		goto fail;
	ci->pub.serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
	pc_arena_free(ld.arena);
	*out = &ci->pub;
	return 0;
fail:
	if (ci != NULL)
		conf_free(&ci->pub);
	pc_arena_free(ld.arena);
	if (!ld.failed)
		(void)pc_conf__fail_at(&ld, 1, 1, "%s", pc_strerror(rc));
	return rc;
}

/* The directory part of <path> ("." if none), for relative ${file:} paths. */
static void
dir_of(const char *path, char *out, size_t outlen)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	if (slash == NULL)
		(void)snprintf(out, outlen, ".");
	else if (slash == path)
		(void)snprintf(out, outlen, "/");
	else
		(void)snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

int
pc_conf_load_mem(const char *name, const char *text, size_t len, struct pc_conf **out,
    struct pc_conf_diag *err)
{
	char dir[PATH_MAX];

	if (name == NULL)
		name = "<memory>";
	dir_of(name, dir, sizeof(dir));
	return load(name, dir, true, text, len, out, err);
}

int
pc_conf_load(const char *path, struct pc_conf **out, struct pc_conf_diag *err)
{
	char		 dir[PATH_MAX];
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	int		 fd, rc;

	*out = NULL;
	err->text[0] = '\0';
	/* O_NONBLOCK: opening a FIFO must not hang a reload; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		rc = pc_err_errno(errno);
		(void)snprintf(err->text, sizeof(err->text), "%s:1:1: cannot open: %s", path,
		    strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) == -1) {
		rc = pc_err_errno(errno);
		(void)snprintf(err->text, sizeof(err->text), "%s:1:1: cannot read: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -PC_EINVAL;
		(void)snprintf(err->text, sizeof(err->text), "%s:1:1: not a regular file", path);
		goto out;
	}
	buf = malloc(CONF_FILE_MAX + 1);
	if (buf == NULL) {
		rc = -PC_ENOMEM;
		(void)snprintf(err->text, sizeof(err->text), "%s:1:1: out of memory", path);
		goto out;
	}
	rc = pc_conf__read_fd(fd, buf, CONF_FILE_MAX, &len);	/* load() reports the size */
	if (rc != 0) {
		(void)snprintf(err->text, sizeof(err->text), "%s:1:1: cannot read: %s", path,
		    strerror(errno));
		goto out;
	}
	dir_of(path, dir, sizeof(dir));
	rc = load(path, dir, false, buf, len, out, err);
out:
	free(buf);
	(void)close(fd);
	return rc;
}

struct pc_conf *
pc_conf_ref(struct pc_conf *conf)
{
	if (conf != NULL)
		(void)__atomic_add_fetch(&conf->refs, 1, __ATOMIC_RELAXED);
	return conf;
}

void
pc_conf_unref(struct pc_conf *conf)
{
	if (conf == NULL)
		return;
	/* acq_rel: every thread's reads of the snapshot happen before the free. */
	if (__atomic_sub_fetch(&conf->refs, 1, __ATOMIC_ACQ_REL) == 0)
		conf_free(conf);
}

/* ---- the process-wide current configuration ---- */

static pthread_mutex_t	 current_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct pc_conf	*current;
static uint64_t		 generation;

void
pc_conf_publish(struct pc_conf *conf)
{
	struct pc_conf *old;

	(void)pthread_mutex_lock(&current_mtx);
	old = current;
	current = conf;
	(void)__atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
	(void)pthread_mutex_unlock(&current_mtx);
	/* Workers still holding the old snapshot keep it alive; the last unref frees it. */
	pc_conf_unref(old);
}

struct pc_conf *
pc_conf_acquire(void)
{
	struct pc_conf *c;

	(void)pthread_mutex_lock(&current_mtx);
	c = pc_conf_ref(current);
	(void)pthread_mutex_unlock(&current_mtx);
	return c;
}

uint64_t
pc_conf_generation(void)
{
	return __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
}

