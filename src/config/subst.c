/*
 * config/subst.c - ${env:NAME} and ${file:PATH} substitution in scalar values.
 * Owns: the substitution syntax, the file reading rules (regular files, 64 KiB, no NUL), and
 *     wiping every copy of substituted text, since it may be a secret.
 * Does not: echo substituted text in a message, or follow anything but the two forms.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_int.h"
#include "core/banned.h"

#define SUBST_FILE_MAX		(64 * 1024)	/* ${file:}: a secret or a short value */
#define SCALAR_MAX		(256 * 1024)	/* one value after substitution */

/* Growable buffer for substituted values: every old copy is wiped, since it may be a secret
 * (realloc(3) would leave it behind in freed memory). */
struct sbuf {
	char	*p;
	size_t	 len, cap;
};

static void
sbuf_wipe(struct sbuf *b)
{
	if (b->p != NULL)
		pc_secret_free(b->p, b->cap);
	b->p = NULL;
	b->len = b->cap = 0;
}

static int
sbuf_add(struct sbuf *b, const char *p, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (n > SCALAR_MAX || b->len + n > SCALAR_MAX)
		return -PC_ETOOBIG;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 64;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		np = malloc(ncap);
		if (np == NULL)
			return -PC_ENOMEM;
		if (b->len)
			memcpy(np, b->p, b->len);
		if (b->p != NULL)
			pc_secret_free(b->p, b->cap);
		b->p = np;
		b->cap = ncap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

struct wipe {
	void	*p;
	size_t	 n;
};

static void
wipe_cb(void *arg)
{
	struct wipe *w = arg;

	explicit_bzero(w->p, w->n);
}

static bool
env_name_ok(struct pc_str s)
{
	size_t i;

	if (s.len == 0 || s.len > 128 || (s.ptr[0] >= '0' && s.ptr[0] <= '9'))
		return false;
	for (i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_'))
			return false;
	}
	return true;
}

/*
 * Appends the content of the file <path> (relative to the config's directory) to <out>,
 * one trailing newline removed. Refuses anything but a regular file: a FIFO would block the
 * loader forever and /dev/zero never ends. O_NONBLOCK makes even the open(2) of a FIFO
 * return at once.
 */
static int
subst_file(struct pc_conf_loader *ld, const struct pc_conf_node *n, struct pc_str path,
    struct sbuf *out)
{
	struct pc_conf_shown	 shown = pc_conf__show(path.ptr, path.len);
	char			 full[PATH_MAX];
	struct stat		 st;
	char			*buf = NULL;
	size_t			 len = 0;
	int			 fd, rc, k;

	if (path.len == 0)
		return pc_conf__fail(ld, n, "${file:}: empty path");
	if (path.ptr[0] == '/')
		k = snprintf(full, sizeof(full), "%.*s", PC_STR_FMT(path));
	else
		k = snprintf(full, sizeof(full), "%s/%.*s", ld->dir, PC_STR_FMT(path));
	if (k < 0 || (size_t)k >= sizeof(full))
		return pc_conf__fail(ld, n, "${file:%s}: path too long", shown.s);
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return pc_conf__fail(ld, n, "cannot read ${file:%s}: %s", shown.s, strerror(errno));
	if (fstat(fd, &st) == -1) {
		rc = pc_conf__fail(ld, n, "cannot read ${file:%s}: %s", shown.s, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = pc_conf__fail(ld, n, "${file:%s}: not a regular file", shown.s);
		goto fail;
	}
	if (st.st_size > SUBST_FILE_MAX) {
		rc = pc_conf__fail(ld, n, "${file:%s}: larger than 64 KiB", shown.s);
		goto fail;
	}
	buf = malloc(SUBST_FILE_MAX + 1);
	if (buf == NULL) {
		rc = pc_conf__oom(ld, n);
		goto fail;
	}
	/* The size may change under us: read to EOF, but never more than the limit. */
	if (pc_conf__read_fd(fd, buf, SUBST_FILE_MAX, &len) != 0) {
		rc = pc_conf__fail(ld, n, "cannot read ${file:%s}: %s", shown.s, strerror(errno));
		goto fail;
	}
	if (len > SUBST_FILE_MAX) {
		rc = pc_conf__fail(ld, n, "${file:%s}: larger than 64 KiB", shown.s);
		goto fail;
	}
	if (len && memchr(buf, '\0', len) != NULL) {
		rc = pc_conf__fail(ld, n, "${file:%s}: contains a NUL byte", shown.s);
		goto fail;
	}
	if (len && buf[len - 1] == '\n')
		len--;
	rc = sbuf_add(out, buf, len);
	if (rc == -PC_ENOMEM)
		rc = pc_conf__oom(ld, n);
	else if (rc != 0)
		rc = pc_conf__fail(ld, n, "value longer than %d bytes after substitution",
		    SCALAR_MAX);
fail:
	if (buf != NULL)
		pc_secret_free(buf, SUBST_FILE_MAX + 1);
	(void)close(fd);
	return rc;
}

int
pc_conf__read_fd(int fd, char *buf, size_t max, size_t *len)
{
	ssize_t r;

	*len = 0;
	for (;;) {
		r = read(fd, buf + *len, max + 1 - *len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return pc_err_errno(errno);
		if (r == 0)
			return 0;
		*len += (size_t)r;
		if (*len > max)
			return 0;
	}
}

/* Replaces every ${env:NAME} and ${file:PATH} in the value <in>/<len> and stores the result
 * in <n> (arena). Plain text without "${" is copied as is. */
int
pc_conf__set_value(struct pc_conf_loader *ld, struct pc_conf_node *n, const char *in, size_t len)
{
	struct sbuf	 b = { NULL, 0, 0 };
	struct wipe	*w;
	const char	*p = in, *end = in + len, *open, *close;
	struct pc_str	 inner, kind, arg;
	unsigned	 nsubst = 0;
	bool		 text = false;
	int		 rc = 0;

	if (memmem(in, len, "${", 2) == NULL) {
		n->val = pc_arena_strdup(ld->arena, pc_str_make(in, len));
		n->len = len;
		return n->val == NULL ? pc_conf__oom(ld, n) : 0;
	}
	n->subst = true;
	while (p < end) {
		open = memmem(p, (size_t)(end - p), "${", 2);
		if (open == NULL)
			open = end;
		if (open > p) {
			text = true;
			if ((rc = sbuf_add(&b, p, (size_t)(open - p))) != 0)
				goto add_failed;
		}
		if (open == end)
			break;
		close = memchr(open + 2, '}', (size_t)(end - open - 2));
		if (close == NULL) {
			rc = pc_conf__fail(ld, n,
			    "unterminated '${' (expected ${env:NAME} or ${file:PATH})");
			goto out;
		}
		inner = pc_str_make(open + 2, (size_t)(close - open - 2));
		arg = pc_str_split(inner, ':', &kind);
		if (kind.len == inner.len) {
			rc = pc_conf__fail(ld, n, "'${%s}': expected ${env:NAME} or ${file:PATH}",
			    pc_conf__show(inner.ptr, inner.len).s);
			goto out;
		}
		nsubst++;
		if (pc_str_eq(kind, PC_STR("env"))) {
			char		 name[129];
			const char	*v;

			if (!env_name_ok(arg)) {
				rc = pc_conf__fail(ld, n, "invalid environment variable name "
				    "'%s' (expected [A-Za-z_][A-Za-z0-9_]*)",
				    pc_conf__show(arg.ptr, arg.len).s);
				goto out;
			}
			memcpy(name, arg.ptr, arg.len);
			name[arg.len] = '\0';
			v = getenv(name);
			if (v == NULL) {
				rc = pc_conf__fail(ld, n, "environment variable %s is not set",
				    name);
				goto out;
			}
			if ((rc = sbuf_add(&b, v, strlen(v))) != 0)
				goto add_failed;
		} else if (pc_str_eq(kind, PC_STR("file"))) {
			if ((rc = subst_file(ld, n, arg, &b)) != 0)
				goto out;
		} else {
			rc = pc_conf__fail(ld, n, "unknown substitution '${%s:...}' "
			    "(expected ${env:NAME} or ${file:PATH})",
			    pc_conf__show(kind.ptr, kind.len).s);
			goto out;
		}
		p = close + 1;
	}
	n->only_subst = nsubst == 1 && !text;
	if (b.p == NULL && (rc = sbuf_add(&b, "", 0)) != 0)
		goto add_failed;
	if (memchr(b.p, '\0', b.len) != NULL) {
		rc = pc_conf__fail(ld, n, "NUL bytes are not allowed in values");
		goto out;
	}
	n->val = pc_arena_strdup(ld->arena, pc_str_make(b.p, b.len));
	n->len = b.len;
	w = pc_arena_alloc(ld->arena, sizeof(*w));
	if (n->val == NULL || w == NULL) {
		rc = pc_conf__oom(ld, n);
		goto out;
	}
	w->p = n->val;
	w->n = b.len;
	if (pc_arena_defer(ld->arena, wipe_cb, w) != 0) {
		explicit_bzero(n->val, b.len);
		rc = pc_conf__oom(ld, n);
	}
	goto out;
add_failed:
	if (rc == -PC_ENOMEM)
		rc = pc_conf__oom(ld, n);
	else
		rc = pc_conf__fail(ld, n, "value longer than %d bytes after substitution",
		    SCALAR_MAX);
out:
	sbuf_wipe(&b);
	return rc;
}
