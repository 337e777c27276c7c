/*
 * config/config.c - the configuration loader: YAML text -> an immutable, reference-counted
 * struct pc_conf, with "file:line:col: message" errors and risk warnings.
 * Owns: the meaning, defaults and ranges of every key (docs/config.md), ${env:}/${file:}
 * substitution, secret wiping, and the process-wide current configuration (reload = swap).
 * Does not: open sockets, resolve names, start threads, or accept YAML features that make a
 * file mean more than it says (anchors, aliases, tags, several documents, YAML 1.1 booleans).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <yaml.h>

#include "config/config_int.h"
#include "http/http.h"
#include "core/banned.h"

#define CONF_FILE_MAX		(1024 * 1024)	/* a config is hand-written; more is a mistake */
#define SUBST_FILE_MAX		(64 * 1024)	/* ${file:}: a secret or a short value */
#define SCALAR_MAX		(256 * 1024)	/* one value after substitution */
#define TREE_MEM_MAX		((size_t)64 << 20)
#define NODES_MAX		200000
#define DEPTH_MAX		16		/* the schema needs 4 */
#define LISTENERS_MAX		64
#define PROXIES_MAX		1024
#define UPSTREAMS_MAX		1024
#define ROUTES_MAX		4096
#define ROUTE_PATH_MAX		2048
#define TOKEN_MIN_BYTES		16
#define TIMEOUT_MAX_MS		3600000u

/* ---- the document tree: libyaml events -> nodes in an arena, values substituted ---- */

enum node_kind { N_SCALAR, N_SEQ, N_MAP };

struct node {
	enum node_kind	 kind;
	int		 line, col;	/* 1-based, from libyaml's start mark */
	bool		 quoted;	/* '...' or "...": the text starts one column later */
	bool		 subst;		/* contains ${...} output: never echo it in a message */
	bool		 only_subst;	/* exactly one ${...} and nothing around it */
	char		*val;		/* scalars: NUL-terminated, no NUL inside */
	size_t		 len;
	struct node	*parent, *first, *last, *next;
	unsigned	 n;		/* children; a map holds key, value, key, value... */
};

struct loader {
	const char		*name;		/* for messages */
	char			 dir[PATH_MAX];	/* base of relative ${file:} paths */
	struct pc_arena		*arena;		/* the tree; wiped where it held ${} output */
	struct pc_conf_diag	*err;
	bool			 failed;
	unsigned		 nnodes;
};

/* Lines the public struct has no room for; the warnings need them. */
struct conf_impl {
	struct pc_conf	 pub;
	int		 report_only_line;
	int		 admin_line;
	int		 open_proxy_line;	/* a 0.0.0.0/0 or ::/0 trusted proxy */
	char		 open_proxy_text[12];
};

/* A printable, bounded copy of untrusted text for a message (keys, names, paths). */
struct shown {
	char	 s[72];
};

static struct shown
show(const char *p, size_t n)
{
	struct shown	out;
	size_t		i, o = 0;

	for (i = 0; i < n && o < 64; i++)
		out.s[o++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	if (i < n) {
		memcpy(out.s + o, "...", 3);
		o += 3;
	}
	out.s[o] = '\0';
	return out;
}

/* A value for a message: its text, unless it came from a substitution (maybe a secret). */
static struct shown
showv(const struct node *n)
{
	if (n->subst)
		return show("(substituted value)", 19);
	return show(n->val, n->len);
}

static int PC_PRINTF(4, 5)
fail_at(struct loader *ld, int line, int col, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	/* The first error wins: later ones are usually consequences of it. */
	if (ld->failed)
		return -PC_EINVAL;
	ld->failed = true;
	n = snprintf(ld->err->text, sizeof(ld->err->text), "%s:%d:%d: ", ld->name, line, col);
	if (n < 0 || (size_t)n >= sizeof(ld->err->text))
		return -PC_EINVAL;
	va_start(ap, fmt);
	(void)vsnprintf(ld->err->text + n, sizeof(ld->err->text) - (size_t)n, fmt, ap);
	va_end(ap);
	return -PC_EINVAL;
}

#define fail(ld, nd, ...)	fail_at((ld), (nd)->line, (nd)->col, __VA_ARGS__)

static int
oom(struct loader *ld, const struct node *n)
{
	(void)fail_at(ld, n ? n->line : 1, n ? n->col : 1, "out of memory");
	return -PC_ENOMEM;
}

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
subst_file(struct loader *ld, const struct node *n, struct pc_str path, struct sbuf *out)
{
	char		 full[PATH_MAX];
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd, rc, k;

	if (path.len == 0)
		return fail(ld, n, "${file:}: empty path");
	if (path.ptr[0] == '/')
		k = snprintf(full, sizeof(full), "%.*s", PC_STR_FMT(path));
	else
		k = snprintf(full, sizeof(full), "%s/%.*s", ld->dir, PC_STR_FMT(path));
	if (k < 0 || (size_t)k >= sizeof(full))
		return fail(ld, n, "${file:%s}: path too long", show(path.ptr, path.len).s);
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return fail(ld, n, "cannot read ${file:%s}: %s", show(path.ptr, path.len).s,
		    strerror(errno));
	if (fstat(fd, &st) == -1) {
		rc = fail(ld, n, "cannot read ${file:%s}: %s", show(path.ptr, path.len).s,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail(ld, n, "${file:%s}: not a regular file", show(path.ptr, path.len).s);
		goto fail;
	}
	if (st.st_size > SUBST_FILE_MAX) {
		rc = fail(ld, n, "${file:%s}: larger than 64 KiB", show(path.ptr, path.len).s);
		goto fail;
	}
	buf = malloc(SUBST_FILE_MAX + 1);
	if (buf == NULL) {
		rc = oom(ld, n);
		goto fail;
	}
	/* The size may change under us: read to EOF, but never more than the limit. */
	for (;;) {
		r = read(fd, buf + len, SUBST_FILE_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = fail(ld, n, "cannot read ${file:%s}: %s",
			    show(path.ptr, path.len).s, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > SUBST_FILE_MAX) {
			rc = fail(ld, n, "${file:%s}: larger than 64 KiB",
			    show(path.ptr, path.len).s);
			goto fail;
		}
	}
	if (len && memchr(buf, '\0', len) != NULL) {
		rc = fail(ld, n, "${file:%s}: contains a NUL byte", show(path.ptr, path.len).s);
		goto fail;
	}
	if (len && buf[len - 1] == '\n')
		len--;
	rc = sbuf_add(out, buf, len);
	if (rc == -PC_ENOMEM)
		rc = oom(ld, n);
	else if (rc != 0)
		rc = fail(ld, n, "value longer than %d bytes after substitution", SCALAR_MAX);
fail:
	if (buf != NULL)
		pc_secret_free(buf, SUBST_FILE_MAX + 1);
	(void)close(fd);
	return rc;
}

/* Replaces every ${env:NAME} and ${file:PATH} in the value <in>/<len> and stores the result
 * in <n> (arena). Plain text without "${" is copied as is. */
static int
set_value(struct loader *ld, struct node *n, const char *in, size_t len)
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
		return n->val == NULL ? oom(ld, n) : 0;
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
			rc = fail(ld, n, "unterminated '${' (expected ${env:NAME} or ${file:PATH})");
			goto out;
		}
		inner = pc_str_make(open + 2, (size_t)(close - open - 2));
		arg = pc_str_split(inner, ':', &kind);
		if (kind.len == inner.len) {
			rc = fail(ld, n, "'${%s}': expected ${env:NAME} or ${file:PATH}",
			    show(inner.ptr, inner.len).s);
			goto out;
		}
		nsubst++;
		if (pc_str_eq(kind, PC_STR("env"))) {
			char		 name[129];
			const char	*v;

			if (!env_name_ok(arg)) {
				rc = fail(ld, n, "invalid environment variable name '%s' "
				    "(expected [A-Za-z_][A-Za-z0-9_]*)", show(arg.ptr, arg.len).s);
				goto out;
			}
			memcpy(name, arg.ptr, arg.len);
			name[arg.len] = '\0';
			v = getenv(name);
			if (v == NULL) {
				rc = fail(ld, n, "environment variable %s is not set", name);
				goto out;
			}
			if ((rc = sbuf_add(&b, v, strlen(v))) != 0)
				goto add_failed;
		} else if (pc_str_eq(kind, PC_STR("file"))) {
			if ((rc = subst_file(ld, n, arg, &b)) != 0)
				goto out;
		} else {
			rc = fail(ld, n, "unknown substitution '${%s:...}' "
			    "(expected ${env:NAME} or ${file:PATH})", show(kind.ptr, kind.len).s);
			goto out;
		}
		p = close + 1;
	}
	n->only_subst = nsubst == 1 && !text;
	if (b.p == NULL && (rc = sbuf_add(&b, "", 0)) != 0)
		goto add_failed;
	if (memchr(b.p, '\0', b.len) != NULL) {
		rc = fail(ld, n, "NUL bytes are not allowed in values");
		goto out;
	}
	n->val = pc_arena_strdup(ld->arena, pc_str_make(b.p, b.len));
	n->len = b.len;
	w = pc_arena_alloc(ld->arena, sizeof(*w));
	if (n->val == NULL || w == NULL) {
		rc = oom(ld, n);
		goto out;
	}
	w->p = n->val;
	w->n = b.len;
	if (pc_arena_defer(ld->arena, wipe_cb, w) != 0) {
		explicit_bzero(n->val, b.len);
		rc = oom(ld, n);
	}
	goto out;
add_failed:
	if (rc == -PC_ENOMEM)
		rc = oom(ld, n);
	else
		rc = fail(ld, n, "value longer than %d bytes after substitution", SCALAR_MAX);
out:
	sbuf_wipe(&b);
	return rc;
}

static int
syntax_error(struct loader *ld, const yaml_parser_t *p, const char *text, size_t len)
{
	const char	*problem = p->problem ? p->problem : "invalid YAML";
	int		 line = 1, col = 1;
	size_t		 i;

	if (p->error == YAML_MEMORY_ERROR)
		return oom(ld, NULL);
	if (p->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark. */
		for (i = 0; i < p->problem_offset && i < len; i++) {
			if (text[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		return fail_at(ld, line, col, "invalid input: %s", problem);
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (p->context != NULL)
		return fail_at(ld, line, col, "YAML syntax error: %s (%s)", problem, p->context);
	return fail_at(ld, line, col, "YAML syntax error: %s", problem);
}

/* Handles one node-starting event: a scalar, or the start of a list or a mapping. */
static int
add_node(struct loader *ld, const yaml_event_t *ev, struct node **cur, struct node **root,
    unsigned *depth)
{
	struct node	*n, *parent = *cur;
	const char	*anchor = NULL, *tag = NULL;
	bool		 is_key;

	n = pc_arena_zalloc(ld->arena, sizeof(*n));
	if (n == NULL || ++ld->nnodes > NODES_MAX) {
		if (n == NULL)
			return oom(ld, NULL);
		return fail_at(ld, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
		    "too many YAML nodes (more than %d)", NODES_MAX);
	}
	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->kind = N_SCALAR;
		anchor = (const char *)ev->data.scalar.anchor;
		tag = (const char *)ev->data.scalar.tag;
		n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		break;
	case YAML_SEQUENCE_START_EVENT:
		n->kind = N_SEQ;
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
		break;
	default:
		n->kind = N_MAP;
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
		break;
	}
	/* Anchors exist to be aliased, and aliases let a few bytes expand exponentially
	 * ("billion laughs"); tags change what a value means. Neither belongs in a config. */
	if (anchor != NULL)
		return fail(ld, n, "YAML anchors are not supported");
	if (tag != NULL)
		return fail(ld, n, "YAML tags are not supported");
	if (parent == NULL) {
		if (*root != NULL)
			return fail(ld, n, "multiple YAML documents are not supported");
		if (n->kind != N_MAP)
			return fail(ld, n, "the top level must be a mapping of keys to values");
		*root = n;
	} else {
		is_key = parent->kind == N_MAP && parent->n % 2 == 0;
		if (is_key && n->kind != N_SCALAR)
			return fail(ld, n, "mapping keys must be plain strings");
		n->parent = parent;
		if (parent->last == NULL)
			parent->first = n;
		else
			parent->last->next = n;
		parent->last = n;
		parent->n++;
		if (n->kind == N_SCALAR) {
			if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) != NULL)
				return fail(ld, n, "NUL bytes are not allowed");
			if (is_key) {
				n->val = pc_arena_strdup(ld->arena, pc_str_make(
				    (const char *)ev->data.scalar.value, ev->data.scalar.length));
				n->len = ev->data.scalar.length;
				return n->val == NULL ? oom(ld, n) : 0;
			}
			return set_value(ld, n, (const char *)ev->data.scalar.value,
			    ev->data.scalar.length);
		}
	}
	if (++*depth > DEPTH_MAX)
		return fail(ld, n, "nesting too deep (more than %d levels)", DEPTH_MAX);
	*cur = n;
	return 0;
}

static int
build_tree(struct loader *ld, const char *text, size_t len, struct node **root)
{
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	yaml_event_type_t type;
	struct node	*cur = NULL;
	unsigned	 depth = 0, ndocs = 0;
	int		 rc = 0;

	*root = NULL;
	if (!yaml_parser_initialize(&p))
		return oom(ld, NULL);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax_error(ld, &p, text, len);
			break;
		}
		type = ev.type;
		switch (type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1)
				rc = fail_at(ld, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1,
				    "multiple YAML documents are not supported");
			else if (ev.data.document_start.tag_directives.start !=
			    ev.data.document_start.tag_directives.end)
				rc = fail_at(ld, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1, "YAML tags are not supported");
			break;
		case YAML_ALIAS_EVENT:
			rc = fail_at(ld, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
			    "YAML aliases are not supported");
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			rc = add_node(ld, &ev, &cur, root, &depth);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			cur = cur->parent;
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			if (*root == NULL)
				rc = fail_at(ld, 1, 1, "the configuration is empty");
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (rc != 0 || type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

/* ---- typed access to the tree ---- */

static const char *
kind_name(const struct node *n)
{
	if (n->kind == N_SEQ)
		return "a list";
	if (n->kind == N_MAP)
		return "a mapping";
	return n->len == 0 && !n->quoted ? "an empty value" : "a string";
}

static int
want_kind(struct loader *ld, const struct node *n, enum node_kind k, const char *ctx,
    const char *key)
{
	static const char *const names[] = { "a string", "a list", "a mapping" };

	if (n->kind == k)
		return 0;
	return fail(ld, n, "%s%s: expected %s, found %s", ctx, key, names[k], kind_name(n));
}

static int
get_str(struct loader *ld, const struct node *n, const char *ctx, const char *key,
    struct pc_str *out)
{
	int rc = want_kind(ld, n, N_SCALAR, ctx, key);

	if (rc != 0)
		return rc;
	*out = pc_str_make(n->val, n->len);
	return 0;
}

static int
get_bool(struct loader *ld, const struct node *n, const char *ctx, const char *key, bool *out)
{
	static const char *const yaml11[] = { "yes", "no", "on", "off", "y", "n", "True",
		"False", "TRUE", "FALSE", "Yes", "No", "YES", "NO", "On", "Off", "ON", "OFF" };
	size_t	i;
	int	rc;

	if ((rc = want_kind(ld, n, N_SCALAR, ctx, key)) != 0)
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
			return fail(ld, n, "%s%s: expected true or false ('%s' is a YAML 1.1 "
			    "boolean, which is not accepted here)", ctx, key, n->val);
	return fail(ld, n, "%s%s: expected true or false, found '%s'", ctx, key, showv(n).s);
}

static int
get_u64(struct loader *ld, const struct node *n, const char *ctx, const char *key,
    uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t	v;
	int		rc;

	if ((rc = want_kind(ld, n, N_SCALAR, ctx, key)) != 0)
		return rc;
	rc = pc_parse_u64(pc_str_make(n->val, n->len), UINT64_MAX, &v);
	if (rc == -PC_EINVAL || (rc != 0 && rc != -PC_ERANGE) ||
	    (n->len > 0 && (n->val[0] < '0' || n->val[0] > '9')))
		return fail(ld, n, "%s%s: expected an integer from %llu to %llu, found '%s'",
		    ctx, key, (unsigned long long)min, (unsigned long long)max, showv(n).s);
	if (rc == -PC_ERANGE || v < min || v > max)
		return fail(ld, n, "%s%s: %s is out of range (%llu..%llu)", ctx, key,
		    showv(n).s, (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

static int
get_u32(struct loader *ld, const struct node *n, const char *ctx, const char *key,
    uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t	v;
	int		rc = get_u64(ld, n, ctx, key, min, max, &v);

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
static const char *
closest(const char *s, const char *const *names, size_t n)
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
static int
map_keys(struct loader *ld, const struct node *map, const char *const *keys, size_t nkeys,
    const char *where, const struct node **vals, const struct node **knodes)
{
	const struct node	*k, *v;
	const char		*hint;
	size_t			 i;

	for (i = 0; i < nkeys; i++)
		vals[i] = knodes[i] = NULL;
	for (k = map->first; k != NULL; k = v->next) {
		v = k->next;
		for (i = 0; i < nkeys; i++)
			if (strcmp(k->val, keys[i]) == 0)
				break;
		if (i == nkeys) {
			hint = closest(k->val, keys, nkeys);
			if (hint != NULL)
				return fail(ld, k, "unknown key '%s' %s (did you mean '%s'?)",
				    show(k->val, k->len).s, where, hint);
			return fail(ld, k, "unknown key '%s' %s", show(k->val, k->len).s, where);
		}
		if (knodes[i] != NULL)
			return fail(ld, k, "duplicate key '%s' %s (first at line %d)", keys[i],
			    where, knodes[i]->line);
		knodes[i] = k;
		vals[i] = v;
	}
	return 0;
}

static char *
dup_str(struct loader *ld, const struct node *n, struct pc_str s)
{
	char *p = malloc(s.len + 1);

	if (p == NULL) {
		(void)oom(ld, n);
		return NULL;
	}
	if (s.len)
		memcpy(p, s.ptr, s.len);
	p[s.len] = '\0';
	return p;
}

/* ---- sections ---- */

static int
get_addr(struct loader *ld, const struct node *n, const char *ctx, const char *key,
    struct pc_addr *out)
{
	struct pc_str	s;
	int		rc;

	if ((rc = get_str(ld, n, ctx, key, &s)) != 0)
		return rc;
	if (pc_addr_parse(s, out) != 0)
		return fail(ld, n, "%s%s: invalid address '%s' (expected numeric host:port such as "
		    "127.0.0.1:8080 or [::1]:8080; names are not resolved)", ctx, key,
		    showv(n).s);
	return 0;
}

static int
get_listen(struct loader *ld, struct pc_conf *c, const struct node *v)
{
	const struct node	*e;
	unsigned		 i;
	int			 rc;

	if ((rc = want_kind(ld, v, N_SEQ, "", "listen")) != 0)
		return rc;
	if (v->n == 0 || v->n > LISTENERS_MAX)
		return fail(ld, v, "listen: expected 1 to %d addresses, found %u", LISTENERS_MAX,
		    v->n);
	c->listeners = calloc(v->n, sizeof(*c->listeners));
	if (c->listeners == NULL)
		return oom(ld, v);
	for (e = v->first; e != NULL; e = e->next) {
		struct pc_conf_listener *l = &c->listeners[c->nlisteners];

		if ((rc = get_addr(ld, e, "", "listen", &l->addr)) != 0)
			return rc;
		l->line = e->line;
		for (i = 0; i < c->nlisteners; i++)
			if (strcmp(c->listeners[i].addr.text, l->addr.text) == 0)
				return fail(ld, e, "listen: %s is already listed at line %d",
				    l->addr.text, c->listeners[i].line);
		c->nlisteners++;
	}
	return 0;
}

static const struct {
	const char	*name;
	uint64_t	 min, max, def;
	size_t		 off;
	bool		 wide;	/* uint64_t field */
} limit_keys[] = {
#define LIM(n, lo, hi, d) { #n, lo, hi, d, offsetof(struct pc_conf_limits, n), false }
	LIM(request_line_max_bytes, 256, 65536, 8192),
	LIM(header_max_bytes, 1024, 1048576, 32768),
	LIM(header_max_count, 1, PC_HTTP_HDR_MAX, 100),
	{ "body_max_bytes", 0, (uint64_t)1 << 40, 1048576,
	    offsetof(struct pc_conf_limits, body_max_bytes), true },
	LIM(header_timeout_ms, 1, TIMEOUT_MAX_MS, 10000),
	LIM(body_timeout_ms, 1, TIMEOUT_MAX_MS, 30000),
	LIM(idle_timeout_ms, 1, TIMEOUT_MAX_MS, 60000),
	LIM(max_connections, 1, 1000000, 20000),
	LIM(max_requests_per_connection, 1, 1000000000, 10000),
#undef LIM
};

static void
limits_default(struct pc_conf_limits *l)
{
	size_t i;

	for (i = 0; i < PC_NELEM(limit_keys); i++) {
		char *f = (char *)l + limit_keys[i].off;

		if (limit_keys[i].wide)
			memcpy(f, &limit_keys[i].def, sizeof(uint64_t));
		else
			*(uint32_t *)(void *)f = (uint32_t)limit_keys[i].def;
	}
}

static int
get_limits(struct loader *ld, struct pc_conf_limits *l, const struct node *v)
{
	const char		*names[PC_NELEM(limit_keys)];
	const struct node	*vals[PC_NELEM(limit_keys)], *keys[PC_NELEM(limit_keys)];
	uint64_t		 x;
	size_t			 i;
	int			 rc;

	if ((rc = want_kind(ld, v, N_MAP, "", "limits")) != 0)
		return rc;
	for (i = 0; i < PC_NELEM(limit_keys); i++)
		names[i] = limit_keys[i].name;
	if ((rc = map_keys(ld, v, names, PC_NELEM(names), "in limits", vals, keys)) != 0)
		return rc;
	for (i = 0; i < PC_NELEM(limit_keys); i++) {
		char *f = (char *)l + limit_keys[i].off;

		if (vals[i] == NULL)
			continue;
		rc = get_u64(ld, vals[i], "limits.", names[i], limit_keys[i].min,
		    limit_keys[i].max, &x);
		if (rc != 0)
			return rc;
		if (limit_keys[i].wide)
			memcpy(f, &x, sizeof(x));
		else
			*(uint32_t *)(void *)f = (uint32_t)x;
	}
	return 0;
}

static int
parse_cidr(struct loader *ld, const struct node *n, struct pc_cidr *out)
{
	char		 host[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];
	struct pc_str	 s = pc_str_make(n->val, n->len), a, p;
	uint64_t	 prefix;
	unsigned	 i, max;
	bool		 hostbits = false;

	memset(out, 0, sizeof(*out));
	p = pc_str_split(s, '/', &a);
	if (a.len == 0 || a.len >= sizeof(host))
		goto bad;
	memcpy(host, a.ptr, a.len);
	host[a.len] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	if (a.len == s.len)
		prefix = max;	/* a bare address is a host route */
	else if (p.len == 0 || p.len > 3 || pc_parse_u64(p, max, &prefix) != 0)
		goto bad;
	out->prefix = (uint8_t)prefix;
	for (i = 0; i < max / 8; i++) {
		uint8_t keep = i * 8 >= prefix ? 0 :
		    i * 8 + 8 <= prefix ? 0xff : (uint8_t)(0xffu << (8 - (prefix - i * 8)));

		if (out->addr[i] & ~keep) {
			hostbits = true;
			out->addr[i] &= keep;
		}
	}
	if (hostbits) {
		if (inet_ntop(out->family, out->addr, net, sizeof(net)) == NULL)
			goto bad;
		return fail(ld, n, "trusted_proxies: '%s' has host bits set (did you mean "
		    "%s/%u?)", showv(n).s, n->subst ? "the network" : net, (unsigned)prefix);
	}
	return 0;
bad:
	return fail(ld, n, "trusted_proxies: invalid CIDR '%s' (expected an address with an "
	    "optional prefix length, such as 10.0.0.0/8 or ::1/128)", showv(n).s);
}

static int
get_proxies(struct loader *ld, struct conf_impl *ci, const struct node *v)
{
	struct pc_conf		*c = &ci->pub;
	const struct node	*e;
	int			 rc;

	if ((rc = want_kind(ld, v, N_SEQ, "", "trusted_proxies")) != 0)
		return rc;
	if (v->n > PROXIES_MAX)
		return fail(ld, v, "trusted_proxies: more than %d entries", PROXIES_MAX);
	if (v->n == 0)
		return 0;
	c->trusted_proxies = calloc(v->n, sizeof(*c->trusted_proxies));
	if (c->trusted_proxies == NULL)
		return oom(ld, v);
	for (e = v->first; e != NULL; e = e->next) {
		struct pc_cidr *p = &c->trusted_proxies[c->ntrusted_proxies];

		if ((rc = want_kind(ld, e, N_SCALAR, "", "trusted_proxies")) != 0)
			return rc;
		if ((rc = parse_cidr(ld, e, p)) != 0)
			return rc;
		c->ntrusted_proxies++;
		if (p->prefix == 0 && ci->open_proxy_line == 0) {
			ci->open_proxy_line = e->line;
			(void)snprintf(ci->open_proxy_text, sizeof(ci->open_proxy_text), "%s",
			    p->family == AF_INET ? "0.0.0.0/0" : "::/0");
		}
	}
	return 0;
}

static int
get_log(struct loader *ld, const struct node *v, const char *key, char **out)
{
	struct pc_str	s;
	int		rc;

	if ((rc = get_str(ld, v, "", key, &s)) != 0)
		return rc;
	if (s.len == 0)
		return fail(ld, v, "%s: expected \"stdout\", \"off\" or a file path", key);
	free(*out);
	*out = dup_str(ld, v, s);
	return *out == NULL ? -PC_ENOMEM : 0;
}

static int
get_response(struct loader *ld, struct pc_conf *c, const struct node *v)
{
	static const char *const keys[] = { "drop_server_header" };
	const struct node	*vals[1], *kn[1];
	int			 rc;

	if ((rc = want_kind(ld, v, N_MAP, "", "response")) != 0)
		return rc;
	if ((rc = map_keys(ld, v, keys, 1, "in response", vals, kn)) != 0)
		return rc;
	if (vals[0] != NULL)
		return get_bool(ld, vals[0], "response.", keys[0], &c->drop_server_header);
	return 0;
}

static bool
token_char_ok(const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i] <= 0x20 || t[i] >= 0x7f)
			return false;
	return true;
}

static int
get_admin(struct loader *ld, struct conf_impl *ci, const struct node *v)
{
	static const char *const keys[] = { "enabled", "listen", "token" };
	const struct node	*vals[3], *kn[3], *t;
	struct pc_conf		*c = &ci->pub;
	int			 rc;

	if ((rc = want_kind(ld, v, N_MAP, "", "admin")) != 0)
		return rc;
	if ((rc = map_keys(ld, v, keys, 3, "in admin", vals, kn)) != 0)
		return rc;
	if (vals[0] != NULL && (rc = get_bool(ld, vals[0], "admin.", "enabled",
	    &c->admin_enabled)) != 0)
		return rc;
	if (vals[1] != NULL) {
		if ((rc = get_addr(ld, vals[1], "admin.", "listen", &c->admin_addr)) != 0)
			return rc;
		ci->admin_line = vals[1]->line;
	}
	if ((t = vals[2]) == NULL)
		return 0;
	if ((rc = want_kind(ld, t, N_SCALAR, "admin.", "token")) != 0)
		return rc;
	/* A literal token ends up in version control, backups and ps output of editors; the
	 * file only names where the secret lives. Text around the reference would be inline
	 * secret material too. */
	if (!t->only_subst)
		return fail(ld, t, "admin.token: secrets must come from ${env:NAME} or "
		    "${file:PATH}, not inline");
	if (t->len < TOKEN_MIN_BYTES)
		return fail(ld, t, "admin.token: the token is shorter than %d bytes",
		    TOKEN_MIN_BYTES);
	if (!token_char_ok(t->val, t->len))
		return fail(ld, t, "admin.token: the token must be printable ASCII without "
		    "spaces");
	c->admin_token = dup_str(ld, t, pc_str_make(t->val, t->len));
	return c->admin_token == NULL ? -PC_ENOMEM : 0;
}

static bool
name_ok(struct pc_str s, size_t max, const char *extra)
{
	size_t i;

	if (s.len == 0 || s.len > max)
		return false;
	for (i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr(extra, c) != NULL)))
			return false;
	}
	return true;
}

static const char *const upstream_keys[] = { "targets", "connect_timeout_ms",
	"read_timeout_ms", "total_timeout_ms", "keepalive", "keepalive_timeout_ms", "max_fails",
	"fail_timeout_ms" };

static int
get_upstream(struct loader *ld, struct pc_conf_upstream *u, const struct node *k,
    const struct node *v)
{
	const struct node	*vals[PC_NELEM(upstream_keys)], *kn[PC_NELEM(upstream_keys)], *e;
	char			 ctx[96], where[96];
	int			 rc;

	(void)snprintf(ctx, sizeof(ctx), "upstream '%s': ", u->name);
	(void)snprintf(where, sizeof(where), "in upstream '%s'", u->name);
	if (v->kind != N_MAP)
		return fail(ld, v, "%sexpected a mapping, found %s", ctx, kind_name(v));
	rc = map_keys(ld, v, upstream_keys, PC_NELEM(upstream_keys), where, vals, kn);
	if (rc != 0)
		return rc;
	if (vals[0] == NULL)
		return fail(ld, k, "%smissing required key 'targets'", ctx);
	if ((rc = want_kind(ld, vals[0], N_SEQ, ctx, "targets")) != 0)
		return rc;
	if (vals[0]->n == 0 || vals[0]->n > PC_CONF_TARGETS_MAX)
		return fail(ld, vals[0], "%stargets: expected 1 to %d addresses, found %u", ctx,
		    PC_CONF_TARGETS_MAX, vals[0]->n);
	u->targets = calloc(vals[0]->n, sizeof(*u->targets));
	if (u->targets == NULL)
		return oom(ld, vals[0]);
	for (e = vals[0]->first; e != NULL; e = e->next)
		if ((rc = get_addr(ld, e, ctx, "targets", &u->targets[u->ntargets++])) != 0)
			return rc;
	if ((vals[1] && (rc = get_u32(ld, vals[1], ctx, upstream_keys[1], 1, TIMEOUT_MAX_MS,
	    &u->connect_timeout_ms)) != 0) ||
	    (vals[2] && (rc = get_u32(ld, vals[2], ctx, upstream_keys[2], 1, TIMEOUT_MAX_MS,
	    &u->read_timeout_ms)) != 0) ||
	    (vals[3] && (rc = get_u32(ld, vals[3], ctx, upstream_keys[3], 1, TIMEOUT_MAX_MS,
	    &u->total_timeout_ms)) != 0) ||
	    (vals[4] && (rc = get_u32(ld, vals[4], ctx, upstream_keys[4], 0, 1024,
	    &u->keepalive_max)) != 0) ||
	    (vals[5] && (rc = get_u32(ld, vals[5], ctx, upstream_keys[5], 1, TIMEOUT_MAX_MS,
	    &u->keepalive_timeout_ms)) != 0) ||
	    (vals[6] && (rc = get_u32(ld, vals[6], ctx, upstream_keys[6], 0, 1000,
	    &u->max_fails)) != 0) ||
	    (vals[7] && (rc = get_u32(ld, vals[7], ctx, upstream_keys[7], 1, TIMEOUT_MAX_MS,
	    &u->fail_timeout_ms)) != 0))
		return rc;
	return 0;
}

static int
get_upstreams(struct loader *ld, struct pc_conf *c, const struct node *v)
{
	const struct node	*k, *val;
	unsigned		 i;
	int			 rc;

	if ((rc = want_kind(ld, v, N_MAP, "", "upstreams")) != 0)
		return rc;
	if (v->n / 2 > UPSTREAMS_MAX)
		return fail(ld, v, "upstreams: more than %d upstreams", UPSTREAMS_MAX);
	if (v->n == 0)
		return 0;
	c->upstreams = calloc(v->n / 2, sizeof(*c->upstreams));
	if (c->upstreams == NULL)
		return oom(ld, v);
	for (k = v->first; k != NULL; k = val->next) {
		struct pc_conf_upstream *u = &c->upstreams[c->nupstreams];

		val = k->next;
		if (!name_ok(pc_str_make(k->val, k->len), 64, "_.-"))
			return fail(ld, k, "upstreams: invalid upstream name '%s' (expected "
			    "[A-Za-z0-9_.-]{1,64})", show(k->val, k->len).s);
		for (i = 0; i < c->nupstreams; i++)
			if (strcmp(c->upstreams[i].name, k->val) == 0)
				return fail(ld, k, "duplicate upstream '%s' (first at line %d)",
				    k->val, c->upstreams[i].line);
		u->name = dup_str(ld, k, pc_str_make(k->val, k->len));
		if (u->name == NULL)
			return -PC_ENOMEM;
		c->nupstreams++;
		u->line = k->line;
		u->connect_timeout_ms = 2000;
		u->read_timeout_ms = 30000;
		u->total_timeout_ms = 60000;
		u->keepalive_max = 32;
		u->keepalive_timeout_ms = 30000;
		u->max_fails = 3;
		u->fail_timeout_ms = 10000;
		if ((rc = get_upstream(ld, u, k, val)) != 0)
			return rc;
	}
	return 0;
}

static const struct {
	const char	*name;
	enum pc_method	 m;
} method_names[] = {
	{ "GET", PC_M_GET }, { "HEAD", PC_M_HEAD }, { "POST", PC_M_POST }, { "PUT", PC_M_PUT },
	{ "DELETE", PC_M_DELETE }, { "PATCH", PC_M_PATCH }, { "OPTIONS", PC_M_OPTIONS },
	{ "TRACE", PC_M_TRACE },
};

static int
get_methods(struct loader *ld, struct pc_conf_route *r, const struct node *v, const char *ctx)
{
	const struct node	*e;
	size_t			 i;
	uint32_t		 bit;
	int			 rc;

	if ((rc = want_kind(ld, v, N_SEQ, ctx, "methods")) != 0)
		return rc;
	/* An empty list would match nothing: a route nobody can reach is a typo. */
	if (v->n == 0)
		return fail(ld, v, "%smethods: empty list (omit the key to allow any method)", ctx);
	for (e = v->first; e != NULL; e = e->next) {
		if ((rc = want_kind(ld, e, N_SCALAR, ctx, "methods")) != 0)
			return rc;
		for (i = 0; i < PC_NELEM(method_names); i++)
			if (strcmp(e->val, method_names[i].name) == 0)
				break;
		if (i == PC_NELEM(method_names)) {
			for (i = 0; i < PC_NELEM(method_names); i++)
				if (strcasecmp(e->val, method_names[i].name) == 0)
					return fail(ld, e, "%smethods: '%s' must be upper case "
					    "('%s')", ctx, showv(e).s, method_names[i].name);
			return fail(ld, e, "%smethods: unknown method '%s' (expected GET, HEAD, "
			    "POST, PUT, DELETE, PATCH, OPTIONS or TRACE)", ctx, showv(e).s);
		}
		bit = 1u << method_names[i].m;
		if (r->methods & bit)
			return fail(ld, e, "%smethods: %s is listed twice", ctx,
			    method_names[i].name);
		r->methods |= bit;
	}
	return 0;
}

/* A reg-name of DNS labels, or an IPv4 literal, or a bracketed IPv6 literal; lowercased. */
static int
get_host(struct loader *ld, struct pc_conf_route *r, const struct node *v, const char *ctx)
{
	struct in6_addr	 a6;
	struct pc_str	 s;
	char		 buf[256];
	size_t		 i, label = 0;
	bool		 alldigits = true;
	int		 rc;

	if ((rc = get_str(ld, v, ctx, "host", &s)) != 0)
		return rc;
	if (s.len == 0 || s.len > 253)
		goto bad;
	for (i = 0; i < s.len; i++)
		buf[i] = (s.ptr[i] >= 'A' && s.ptr[i] <= 'Z') ? (char)(s.ptr[i] | 0x20) : s.ptr[i];
	buf[s.len] = '\0';
	if (buf[0] == '[') {
		if (buf[s.len - 1] != ']' || s.len < 3)
			goto bad;
		buf[s.len - 1] = '\0';
		if (inet_pton(AF_INET6, buf + 1, &a6) != 1)
			goto bad;
		buf[s.len - 1] = ']';
	} else {
		if (memchr(buf, ':', s.len) != NULL)
			return fail(ld, v, "%shost: '%s' must not include a port", ctx,
			    showv(v).s);
		for (i = 0; i <= s.len; i++) {
			char c = buf[i];

			if (c == '.' || c == '\0') {
				/* Labels: 1..63 characters, no hyphen at either end (RFC 1123). */
				if (label == 0 || label > 63 || buf[i - 1] == '-')
					goto bad;
				label = 0;
				continue;
			}
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
				goto bad;
			if (c == '-' && label == 0)
				goto bad;
			if (c < '0' || c > '9')
				alldigits = false;
			label++;
		}
		/* All-numeric dotted names are IPv4 literals, and must be valid ones: "1.2.3"
		 * or "010.0.0.1" mean other addresses to other parsers. */
		if (alldigits && inet_pton(AF_INET, buf, &a6) != 1)
			goto bad;
	}
	r->host = dup_str(ld, v, pc_str_make(buf, s.len));
	return r->host == NULL ? -PC_ENOMEM : 0;
bad:
	return fail(ld, v, "%shost: invalid host name '%s' (expected a DNS name or an IP "
	    "address, without port or wildcard)", ctx, showv(v).s);
}

static const char *const route_keys[] = { "name", "path", "methods", "host", "upstream",
	"public", "report_only", "body_max_bytes" };

static int
get_route(struct loader *ld, struct pc_conf *c, struct pc_conf_route *r, const struct node *m,
    unsigned idx)
{
	const struct node	*vals[PC_NELEM(route_keys)], *kn[PC_NELEM(route_keys)];
	const char		*names[UPSTREAMS_MAX + 1], *hint;
	char			 ctx[160], where[64], perr[160];
	struct pc_str		 path, name, up;
	unsigned		 i, col = 0;
	int			 rc;

	(void)snprintf(ctx, sizeof(ctx), "route #%u: ", idx + 1);
	(void)snprintf(where, sizeof(where), "in route #%u", idx + 1);
	r->line = m->line;
	r->order = idx;
	r->body_max_bytes = c->limits.body_max_bytes;
	if (m->kind != N_MAP)
		return fail(ld, m, "%sexpected a mapping, found %s", ctx, kind_name(m));
	rc = map_keys(ld, m, route_keys, PC_NELEM(route_keys), where, vals, kn);
	if (rc != 0)
		return rc;
	if (vals[1] == NULL)
		return fail(ld, m, "%smissing required key 'path'", ctx);
	if ((rc = get_str(ld, vals[1], ctx, "path", &path)) != 0)
		return rc;
	if (path.len == 0 || path.len > ROUTE_PATH_MAX)
		return fail(ld, vals[1], "%spath: expected a template of 1 to %d bytes", ctx,
		    ROUTE_PATH_MAX);
	if (vals[0] != NULL) {
		if ((rc = get_str(ld, vals[0], ctx, "name", &name)) != 0)
			return rc;
		if (!name_ok(name, 128, "_.:/{}*-"))
			return fail(ld, vals[0], "%sinvalid name '%s' (expected "
			    "[A-Za-z0-9_.:/{}*-]{1,128})", ctx, showv(vals[0]).s);
	} else {
		name = path;	/* the default name */
	}
	if ((r->name = dup_str(ld, m, name)) == NULL || (r->path = dup_str(ld, m, path)) == NULL)
		return -PC_ENOMEM;
	(void)snprintf(ctx, sizeof(ctx), "route '%s': ", show(name.ptr, name.len).s);
	for (i = 0; i < idx; i++)
		if (strcmp(c->routes[i].name, r->name) == 0)
			return fail(ld, vals[0] ? vals[0] : m, "%sthe name is already used by the "
			    "route at line %d (names must be unique: set name: on one of them)", ctx,
			    c->routes[i].line);

	perr[0] = '\0';
	if (pc_conf__route_parse_path(r, perr, sizeof(perr), &col) != 0) {
		/* Point at the offending character when the text is the file's own. */
		if (vals[1]->subst)
			return fail(ld, vals[1], "%spath: %s", ctx, perr);
		return fail_at(ld, vals[1]->line, vals[1]->col + (vals[1]->quoted ? 1 : 0) +
		    (int)col, "%spath: %s", ctx, perr);
	}
	if (vals[2] != NULL && (rc = get_methods(ld, r, vals[2], ctx)) != 0)
		return rc;
	if (vals[3] != NULL && (rc = get_host(ld, r, vals[3], ctx)) != 0)
		return rc;

	if (vals[4] == NULL)
		return fail(ld, m, "%smissing required key 'upstream'", ctx);
	if ((rc = get_str(ld, vals[4], ctx, "upstream", &up)) != 0)
		return rc;
	for (i = 0; i < c->nupstreams; i++) {
		if (pc_str_eq(up, pc_str_c(c->upstreams[i].name)))
			break;
		names[i] = c->upstreams[i].name;
	}
	if (i == c->nupstreams) {
		hint = memchr(up.ptr, '\0', up.len) ? NULL : closest(up.ptr, names, i);
		if (hint != NULL)
			return fail(ld, vals[4], "%sunknown upstream '%s' (did you mean '%s'?)",
			    ctx, showv(vals[4]).s, hint);
		return fail(ld, vals[4], "%sunknown upstream '%s'", ctx, showv(vals[4]).s);
	}
	r->upstream = i;

	if (vals[5] != NULL && (rc = get_bool(ld, vals[5], ctx, "public", &r->public_)) != 0)
		return rc;
	if (vals[6] != NULL && (rc = get_bool(ld, vals[6], ctx, "report_only",
	    &r->report_only)) != 0)
		return rc;
	if (vals[7] != NULL && (rc = get_u64(ld, vals[7], ctx, "body_max_bytes", 0,
	    (uint64_t)1 << 40, &r->body_max_bytes)) != 0)
		return rc;
	/* Deny by default: until authentication exists, the only way to serve a route is to
	 * say, in the file, that it needs none. */
	if (!r->public_)
		return fail(ld, vals[5] ? vals[5] : m, "route '%s': not public and no "
		    "authentication configured; deny by default (set public: true, or add "
		    "authentication once available)", show(name.ptr, name.len).s);
	return 0;
}

static bool
same_template(const struct pc_conf_route *a, const struct pc_conf_route *b)
{
	unsigned i;

	if (a->nsegs != b->nsegs)
		return false;
	for (i = 0; i < a->nsegs; i++) {
		if (a->segs[i].kind != b->segs[i].kind)
			return false;
		/* {id} and {user} match the same requests: only literals must be equal. */
		if (a->segs[i].kind == PC_SEG_LITERAL &&
		    !pc_str_eq(a->segs[i].text, b->segs[i].text))
			return false;
	}
	return true;
}

static int
get_routes(struct loader *ld, struct pc_conf *c, const struct node *v)
{
	const struct pc_conf_route	*a, *b;
	const struct node		*e;
	unsigned			 i, j;
	int				 rc;

	if ((rc = want_kind(ld, v, N_SEQ, "", "routes")) != 0)
		return rc;
	if (v->n == 0 || v->n > ROUTES_MAX)
		return fail(ld, v, "routes: expected 1 to %d routes, found %u", ROUTES_MAX, v->n);
	c->routes = calloc(v->n, sizeof(*c->routes));
	if (c->routes == NULL)
		return oom(ld, v);
	for (e = v->first; e != NULL; e = e->next) {
		/* Counted before parsing, so the free path sees a half-built route too. */
		c->nroutes++;
		if ((rc = get_route(ld, c, &c->routes[c->nroutes - 1], e, c->nroutes - 1)) != 0)
			return rc;
	}
	/* The precedence order breaks ties by file position, which hides mistakes: two
	 * routes that match exactly the same requests make the second one dead code. */
	for (j = 1, e = v->first->next; j < c->nroutes; j++, e = e->next) {
		b = &c->routes[j];
		for (i = 0; i < j; i++) {
			a = &c->routes[i];
			if (!same_template(a, b))
				continue;
			if ((a->host == NULL) != (b->host == NULL) ||
			    (a->host != NULL && strcmp(a->host, b->host) != 0))
				continue;
			if (a->methods != 0 && b->methods != 0 && (a->methods & b->methods) == 0)
				continue;
			return fail(ld, e, "routes '%s' (line %d) and '%s' (line %d) are "
			    "ambiguous: same path, host and overlapping methods",
			    show(a->name, strlen(a->name)).s, a->line,
			    show(b->name, strlen(b->name)).s, b->line);
		}
	}
	pc_conf__routes_sort(c->routes, c->nroutes);
	return 0;
}

static const char *const top_keys[] = { "workers", "listen", "limits", "trusted_proxies",
	"report_only", "response", "access_log", "event_log", "admin", "drain_timeout_ms",
	"upstreams", "routes" };
enum { K_WORKERS, K_LISTEN, K_LIMITS, K_PROXIES, K_REPORT_ONLY, K_RESPONSE, K_ACCESS_LOG,
	K_EVENT_LOG, K_ADMIN, K_DRAIN, K_UPSTREAMS, K_ROUTES };

static int
get_workers(struct loader *ld, struct pc_conf *c, const struct node *v)
{
	long n;

	if (v != NULL && !(v->kind == N_SCALAR && strcmp(v->val, "auto") == 0)) {
		if (v->kind == N_SCALAR && (v->len == 0 || v->val[0] < '0' || v->val[0] > '9'))
			return fail(ld, v, "workers: expected \"auto\" or an integer from 1 to 256, "
			    "found '%s'", showv(v).s);
		return get_u32(ld, v, "", "workers", 1, 256, &c->workers);
	}
	n = sysconf(_SC_NPROCESSORS_ONLN);
	c->workers = n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
	return 0;
}

static int
build_conf(struct loader *ld, struct conf_impl *ci, const struct node *root)
{
	const struct node	*vals[PC_NELEM(top_keys)], *kn[PC_NELEM(top_keys)];
	struct pc_conf		*c = &ci->pub;
	int			 rc;

	rc = map_keys(ld, root, top_keys, PC_NELEM(top_keys), "at the top level", vals, kn);
	if (rc != 0)
		return rc;
	if ((rc = get_workers(ld, c, vals[K_WORKERS])) != 0)
		return rc;
	if (vals[K_LISTEN] == NULL)
		return fail(ld, root, "missing required key 'listen'");
	if ((rc = get_listen(ld, c, vals[K_LISTEN])) != 0)
		return rc;
	if (vals[K_LIMITS] != NULL && (rc = get_limits(ld, &c->limits, vals[K_LIMITS])) != 0)
		return rc;
	if (vals[K_PROXIES] != NULL && (rc = get_proxies(ld, ci, vals[K_PROXIES])) != 0)
		return rc;
	if (vals[K_REPORT_ONLY] != NULL) {
		rc = get_bool(ld, vals[K_REPORT_ONLY], "", "report_only", &c->report_only);
		if (rc != 0)
			return rc;
		ci->report_only_line = vals[K_REPORT_ONLY]->line;
	}
	if (vals[K_RESPONSE] != NULL && (rc = get_response(ld, c, vals[K_RESPONSE])) != 0)
		return rc;
	if (vals[K_ACCESS_LOG] != NULL &&
	    (rc = get_log(ld, vals[K_ACCESS_LOG], "access_log", &c->access_log)) != 0)
		return rc;
	if (vals[K_EVENT_LOG] != NULL &&
	    (rc = get_log(ld, vals[K_EVENT_LOG], "event_log", &c->event_log)) != 0)
		return rc;
	if (vals[K_ADMIN] != NULL) {
		ci->admin_line = kn[K_ADMIN]->line;
		if ((rc = get_admin(ld, ci, vals[K_ADMIN])) != 0)
			return rc;
	}
	if (vals[K_DRAIN] != NULL && (rc = get_u32(ld, vals[K_DRAIN], "", "drain_timeout_ms",
	    0, TIMEOUT_MAX_MS, &c->drain_timeout_ms)) != 0)
		return rc;
	if (vals[K_UPSTREAMS] != NULL &&
	    (rc = get_upstreams(ld, c, vals[K_UPSTREAMS])) != 0)
		return rc;
	if (vals[K_ROUTES] == NULL)
		return fail(ld, root, "missing required key 'routes'");
	return get_routes(ld, c, vals[K_ROUTES]);
}

/* ---- lifetime ---- */

static void
conf_free(struct pc_conf *c)
{
	unsigned i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->listeners);
	free(c->trusted_proxies);
	free(c->access_log);
	free(c->event_log);
	if (c->admin_token != NULL)
		pc_secret_free(c->admin_token, strlen(c->admin_token));
	for (i = 0; i < c->nupstreams; i++) {
		free(c->upstreams[i].name);
		free(c->upstreams[i].targets);
	}
	free(c->upstreams);
	for (i = 0; i < c->nroutes; i++) {
		free(c->routes[i].name);
		free(c->routes[i].path);
		free(c->routes[i].host);
	}
	free(c->routes);
	free(c);	/* pub is the first member of struct conf_impl */
}

static int
conf_defaults(struct loader *ld, struct conf_impl *ci)
{
	struct pc_conf *c = &ci->pub;

	c->refs = 1;
	limits_default(&c->limits);
	c->drop_server_header = true;
	c->admin_enabled = true;
	c->drain_timeout_ms = 30000;
	if (pc_addr_parse(PC_STR("127.0.0.1:9901"), &c->admin_addr) != 0)
		return fail_at(ld, 1, 1, "internal error: default admin address");
	c->path = dup_str(ld, NULL, pc_str_c(ld->name));
	c->access_log = dup_str(ld, NULL, PC_STR("stdout"));
	c->event_log = dup_str(ld, NULL, PC_STR("off"));
	if (c->path == NULL || c->access_log == NULL || c->event_log == NULL)
		return -PC_ENOMEM;
	return 0;
}

static int
load(const char *name, const char *dir, const char *text, size_t len, struct pc_conf **out,
    struct pc_conf_diag *err)
{
	struct loader	 ld;
	struct conf_impl *ci = NULL;
	struct node	*root;
	int		 rc;

	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	ld.err = err;
	(void)snprintf(ld.dir, sizeof(ld.dir), "%s", dir);
	err->text[0] = '\0';
	*out = NULL;
	if (len > CONF_FILE_MAX)
		return fail_at(&ld, 1, 1, "the configuration is larger than %d bytes",
		    CONF_FILE_MAX);
	ld.arena = pc_arena_new(TREE_MEM_MAX);
	if (ld.arena == NULL)
		return oom(&ld, NULL);
	if ((rc = build_tree(&ld, text, len, &root)) != 0)
		goto fail;
	ci = calloc(1, sizeof(*ci));
	if (ci == NULL) {
		rc = oom(&ld, NULL);
		goto fail;
	}
	if ((rc = conf_defaults(&ld, ci)) != 0 || (rc = build_conf(&ld, ci, root)) != 0)
		goto fail;
	pc_arena_free(ld.arena);
	*out = &ci->pub;
	return 0;
fail:
	if (ci != NULL)
		conf_free(&ci->pub);
	pc_arena_free(ld.arena);
	if (!ld.failed)
		(void)fail_at(&ld, 1, 1, "%s", pc_strerror(rc));
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
	return load(name, dir, text, len, out, err);
}

int
pc_conf_load(const char *path, struct pc_conf **out, struct pc_conf_diag *err)
{
	char		 dir[PATH_MAX];
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 r;
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
	for (;;) {
		r = read(fd, buf + len, CONF_FILE_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = pc_err_errno(errno);
			(void)snprintf(err->text, sizeof(err->text), "%s:1:1: cannot read: %s",
			    path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONF_FILE_MAX)
			break;	/* load() reports the size */
	}
	dir_of(path, dir, sizeof(dir));
	rc = load(path, dir, buf, len, out, err);
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

/* ---- warnings ---- */

static bool
is_loopback(const struct pc_addr *a)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)(const void *)&a->ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)(const void *)&a->ss;

	if (a->ss.ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && sin6->sin6_addr.s6_addr[12] == 127);
	return false;
}

static unsigned PC_PRINTF(5, 6)
warn(const struct pc_conf *c, int line, void (*cb)(void *, const char *), void *arg,
    const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;
	int	n;

	n = snprintf(msg, sizeof(msg), "%s:%d: warning: ", c->path, line);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	(void)vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (cb != NULL)
		cb(arg, msg);
	return 1;
}

unsigned
pc_conf_warnings(const struct pc_conf *conf, void (*cb)(void *arg, const char *msg), void *arg)
{
	const struct conf_impl		*ci = (const struct conf_impl *)(const void *)conf;
	const struct pc_conf_route	*r;
	unsigned			 i, j, n = 0;

	for (i = 0; i < conf->nlisteners; i++)
		if (!is_loopback(&conf->listeners[i].addr))
			n += warn(conf, conf->listeners[i].line, cb, arg, "listener %s is not on "
			    "loopback and TLS is not available yet: its traffic is plaintext",
			    conf->listeners[i].addr.text);
	if (conf->admin_enabled && !is_loopback(&conf->admin_addr))
		n += warn(conf, ci->admin_line ? ci->admin_line : 1, cb, arg, "admin listener %s "
		    "is not on loopback", conf->admin_addr.text);
	if (conf->admin_enabled && conf->admin_token == NULL)
		n += warn(conf, ci->admin_line ? ci->admin_line : 1, cb, arg, "admin API enabled "
		    "without admin.token: it is read-only");
	if (ci->open_proxy_line != 0)
		n += warn(conf, ci->open_proxy_line, cb, arg, "trusted_proxies contains %s: "
		    "every client can choose the address it is logged and limited as",
		    ci->open_proxy_text);
	if (conf->report_only)
		n += warn(conf, ci->report_only_line, cb, arg, "report_only is true: requests "
		    "that should be denied are logged and let through");
	/* Routes in file order, which is how their author reads them. */
	for (j = 0; j < conf->nroutes; j++) {
		for (i = 0, r = NULL; i < conf->nroutes; i++)
			if (conf->routes[i].order == j)
				r = &conf->routes[i];
		if (r == NULL)
			continue;
		if (r->report_only)
			n += warn(conf, r->line, cb, arg, "route '%s' has report_only: true: "
			    "requests that should be denied are logged and let through", r->name);
		if (r->public_)
			n += warn(conf, r->line, cb, arg, "route '%s' is public and has no rate "
			    "limit (rate limits are not available yet)", r->name);
	}
	return n;
}
