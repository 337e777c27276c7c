/*
 * cli/keys.c - `portcullis keys new|list|disable|rotate`: offline management of an API key
 * store (docs/decisions/0011-api-keys.md). The key is printed once, alone on the last line
 * of stdout; the store keeps only HMAC-SHA-256(pepper, key).
 * Owns: the command line, the pepper's location for the CLI (--pepper-file, then
 * PORTCULLIS_KEYS_PEPPER, then FILE.pepper, made 0600 by the first `keys new`), and
 * rewriting the store atomically (temporary file, fsync, rename; mode kept) under a lock.
 * Refuses: to rewrite a store that does not parse, or one made under another pepper.
 * Exit status: 0 done, 1 failure, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "core/banned.h"

#define STORE_FILE_MAX	((size_t)32 << 20)	/* as config/apikey_conf.c */
#define PEPPER_ENV	"PORTCULLIS_KEYS_PEPPER"
#define APPLY_HINT	"send SIGHUP to the gateway to apply"

struct keys_args {
	const char	*file;
	const char	*name;
	const char	*scopes;
	const char	*expires;
	const char	*grace;
	const char	*fingerprint;
	const char	*pepper_file;
	int64_t		 expires_at;	/* parsed --expires; 0: never */
	int64_t		 grace_s;	/* parsed --grace; default a day */
};

static int
usage(void)
{
	(void)fprintf(stderr,
	    "usage: portcullis keys new --file FILE --name NAME [--scopes a,b] "
	    "[--expires 30d|2027-01-01|UNIX]\n"
	    "       portcullis keys list --file FILE\n"
	    "       portcullis keys disable --file FILE (--name NAME | --fingerprint HEX)\n"
	    "       portcullis keys rotate --file FILE --name NAME [--grace 24h] "
	    "[--expires ...]\n"
	    "options of every command: --pepper-file PATH (else $" PEPPER_ENV
	    ", else FILE.pepper)\n");
	return 2;
}

static int die(const char *fmt, ...) PC_PRINTF(1, 2);

/* One failure message on stderr; returns the failure exit status. */
static int
die(const char *fmt, ...)
{
	va_list ap;

	(void)fprintf(stderr, "portcullis keys: ");
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fprintf(stderr, "\n");
	return 1;
}

/* "--opt VALUE" or "--opt=VALUE" pairs into <a>; 0 or 2 (usage, message printed). */
static int
parse_args(int argc, char **argv, struct keys_args *a)
{
	static const char *const names[] = { "--file", "--name", "--scopes", "--expires",
		"--grace", "--fingerprint", "--pepper-file" };
	const char	**slots[PC_NELEM(names)] = { &a->file, &a->name, &a->scopes,
		&a->expires, &a->grace, &a->fingerprint, &a->pepper_file };
	const char	*val, *eq;
	size_t		 i, n;
	int		 k;

	memset(a, 0, sizeof(*a));
	for (k = 2; k < argc; k++) {
		eq = strchr(argv[k], '=');
		n = eq != NULL ? (size_t)(eq - argv[k]) : strlen(argv[k]);
		for (i = 0; i < PC_NELEM(names); i++)
			if (strlen(names[i]) == n && strncmp(argv[k], names[i], n) == 0)
				break;
		if (i == PC_NELEM(names)) {
			(void)fprintf(stderr, "portcullis keys: unknown option '%s'\n", argv[k]);
			return usage();
		}
		if (eq != NULL) {
			val = eq + 1;
		} else if (k + 1 < argc) {
			val = argv[++k];
		} else {
			(void)fprintf(stderr, "portcullis keys: %s needs a value\n", names[i]);
			return usage();
		}
		if (*slots[i] != NULL) {
			(void)fprintf(stderr, "portcullis keys: %s given twice\n", names[i]);
			return usage();
		}
		*slots[i] = val;
	}
	if (a->file == NULL || a->file[0] == '\0') {
		(void)fprintf(stderr, "portcullis keys: --file FILE is required\n");
		return usage();
	}
	return 0;
}

/* "30d", "24h", "15m", "90s" or plain seconds: 0 and *<out>, or -1. */
static int
parse_duration(const char *s, int64_t *out)
{
	uint64_t	v, mul = 1;
	size_t		n = strlen(s);

	if (n == 0)
		return -1;
	switch (s[n - 1]) {
	case 'd': mul = 86400; n--; break;
	case 'h': mul = 3600; n--; break;
	case 'm': mul = 60; n--; break;
	case 's': n--; break;
	default: break;
	}
	if (n == 0 || pc_parse_u64(pc_str_make(s, n), (uint64_t)100 * 365 * 86400 / mul, &v) != 0)
		return -1;
	*out = (int64_t)(v * mul);
	return 0;
}

/* --expires: a duration from now, a date (UTC midnight) or Unix seconds, in the future. */
static int
parse_expires(const char *s, int64_t now, int64_t *out)
{
	struct tm	tm;
	const char	*end;
	uint64_t	v;
	int64_t		d;

	if (strcmp(s, "never") == 0) {
		*out = 0;
		return 0;
	}
	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (end == NULL || *end != '\0')
			return -1;
		*out = (int64_t)timegm(&tm);
	} else if (s[0] >= '0' && s[0] <= '9' && s[strlen(s) - 1] >= '0' &&
	    s[strlen(s) - 1] <= '9' && strlen(s) >= 9) {
		if (pc_parse_u64(pc_str_c(s), (uint64_t)1 << 40, &v) != 0)
			return -1;
		*out = (int64_t)v;
	} else {
		if (parse_duration(s, &d) != 0 || d == 0)
			return -1;
		*out = now + d;
	}
	return *out > now ? 0 : -1;
}

static void
fmt_time(int64_t t, char out[32])
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(out, 32, "%s", t == 0 ? "never" : "?");
}

/* Reads a whole small file; -errno style codes via errno. NULL on error. */
static char *
read_file(int fd, size_t max, size_t *len)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 r;
	size_t		 n = 0;

	if (fstat(fd, &st) == -1)
		return NULL;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		errno = !S_ISREG(st.st_mode) ? EINVAL : EFBIG;
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return NULL;
	while (n < (size_t)st.st_size) {
		r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			free(buf);
			return NULL;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Writes <p>/<n> fully; 0 or -1 with errno. */
static int
write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The directory of <path>, for the lock and for mkstemp. */
static void
dir_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		(void)snprintf(out, cap, ".");
	else if (slash == path)
		(void)snprintf(out, cap, "/");
	else
		(void)snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/*
 * The pepper, from --pepper-file, else $PORTCULLIS_KEYS_PEPPER (the hex itself), else
 * FILE.pepper. A pepper file must be a regular file neither group nor others can read.
 * With <create> (first `keys new`, no store yet) a missing FILE.pepper is made: 32 bytes
 * from the kernel CSPRNG, hex, mode 0600, created exclusively.
 */
static int
get_pepper(const struct keys_args *a, bool create, uint8_t pepper[PC_APIKEY_PEPPER_BYTES])
{
	char		 path[PATH_MAX], hex[PC_APIKEY_PEPPER_TEXT], *buf;
	const char	*env = getenv(PEPPER_ENV);
	struct stat	 st;
	size_t		 len = 0;
	int		 fd, rc;

	if (a->pepper_file == NULL && env != NULL) {
		if (pc_apikey_pepper_parse(pc_str_c(env), pepper) != 0)
			return die("$%s: expected 64 hex digits (32 random bytes)", PEPPER_ENV);
		return 0;
	}
	if (a->pepper_file != NULL)
		rc = snprintf(path, sizeof(path), "%s", a->pepper_file);
	else
		rc = snprintf(path, sizeof(path), "%s.pepper", a->file);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return die("%s: path too long", a->file);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 && errno == ENOENT && create && a->pepper_file == NULL) {
		if (pc_apikey_pepper_new(pepper, hex) != 0)
			return die("%s: the kernel CSPRNG failed", path);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		rc = fd == -1 ? -1 : write_all(fd, hex, 2 * PC_APIKEY_PEPPER_BYTES + 1);
		if (rc == 0)
			rc = fsync(fd);
		explicit_bzero(hex, sizeof(hex));
		if (fd != -1)
			(void)close(fd);
		if (rc != 0) {
			explicit_bzero(pepper, PC_APIKEY_PEPPER_BYTES);
			return die("%s: cannot create the pepper: %s", path, strerror(errno));
		}
		(void)fprintf(stderr, "portcullis keys: made a new pepper in %s (mode 0600; back "
		    "it up: without it no key of the store can be verified)\n", path);
		return 0;
	}
	if (fd == -1)
		return die("%s: cannot open the pepper: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		(void)close(fd);
		(void)fprintf(stderr, "portcullis keys: %s is readable by group or others (mode "
		    "%04o): chmod 600 it\n", path, (unsigned)(st.st_mode & 07777));
		return 1;
	}
	buf = read_file(fd, 256, &len);
	(void)close(fd);
	if (buf == NULL)
		return die("%s: cannot read the pepper: %s", path, strerror(errno));
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	rc = pc_apikey_pepper_parse(pc_str_make(buf, len), pepper);
	pc_secret_free(buf, len + 1);
	if (rc != 0)
		return die("%s: expected 64 hex digits (32 random bytes)", path);
	return 0;
}

/*
 * Loads the store: *<out> NULL (and 0) if it does not exist and <may_be_missing>. A store
 * that does not parse is an error: it is never rewritten.
 */
static int
load_store(const char *file, const uint8_t pepper[PC_APIKEY_PEPPER_BYTES],
    bool may_be_missing, struct pc_apikey_store **out, mode_t *mode)
{
	struct stat	 st;
	char		*buf, err[256];
	size_t		 len = 0;
	int		 fd, rc, line = 0;

	*out = NULL;
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 && errno == ENOENT && may_be_missing)
		return 0;
	if (fd == -1)
		return die("%s: %s", file, strerror(errno));
	if (fstat(fd, &st) == 0)
		*mode = st.st_mode & 07777;
	buf = read_file(fd, STORE_FILE_MAX, &len);
	(void)close(fd);
	if (buf == NULL)
		return die("%s: %s", file, errno == EINVAL ? "not a regular file" :
		    strerror(errno));
	rc = pc_apikey_store_parse(NULL, buf, len, pepper, out, &line, err, sizeof(err));
	free(buf);
	if (rc != 0) {
		(void)fprintf(stderr, "portcullis keys: %s:%d: %s (the store was not changed)\n",
		    file, line, err);
		return 1;
	}
	return 0;
}

/* Replaces <file> with the store's text: a temporary file beside it, fsync, rename, fsync
 * of the directory. Readers (a reload) see the old or the new store, never half of one. */
static int
save_store(const char *file, const struct pc_apikey_store *s, mode_t mode)
{
	char		dir[PATH_MAX], tmp[PATH_MAX];
	struct pc_buf	b;
	int		fd, dfd, rc;

	pc_buf_init(&b, STORE_FILE_MAX);
	if (pc_apikey_store_format(s, &b) != 0) {
		pc_buf_fini(&b);
		return die("%s: out of memory", file);
	}
	rc = snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", file);
	if (rc < 0 || (size_t)rc >= sizeof(tmp)) {
		pc_buf_fini(&b);
		return die("%s: path too long", file);
	}
	fd = mkstemp(tmp);
	if (fd == -1) {
		pc_buf_fini(&b);
		return die("%s: cannot create a temporary file: %s", file, strerror(errno));
	}
	rc = fchmod(fd, mode);
	if (rc == 0)
		rc = write_all(fd, b.data, b.len);
	if (rc == 0)
		rc = fsync(fd);
	pc_buf_fini(&b);
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0)
		rc = rename(tmp, file);
	if (rc != 0) {
		int e = errno;

		(void)unlink(tmp);
		return die("%s: cannot write: %s", file, strerror(e));
	}
	dir_of(file, dir, sizeof(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd != -1) {
		(void)fsync(dfd);
		(void)close(dfd);
	}
	return 0;
}

/* Two `keys` commands at once would each rewrite the store from what they read, and one
 * change would be lost: an exclusive lock on the store's directory orders them. */
static int
lock_dir(const char *file)
{
	char	dir[PATH_MAX];
	int	fd;

	dir_of(file, dir, sizeof(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		(void)die("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX) == -1) {
		(void)die("%s: cannot lock: %s", dir, strerror(errno));
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Makes a key, adds its record, and prints it. */
static int
add_key(struct pc_apikey_store *s, const char *name, const char *scopes, int64_t now,
    int64_t expires)
{
	char	key[PC_APIKEY_LEN + 1], fpr[PC_APIKEY_FPR_LEN + 1];
	uint8_t	hash[32];
	int	rc;

	if (pc_apikey_generate(key) != 0)
		return die("the kernel CSPRNG failed");
	pc_apikey_hash(s, pc_str_make(key, PC_APIKEY_LEN), hash);
	rc = pc_apikey_store_add(s, hash, pc_str_c(name), now, expires, pc_str_c(scopes));
	if (rc != 0) {
		explicit_bzero(key, sizeof(key));
		if (rc == -PC_EINVAL)
			return die("--scopes '%s': expected up to 32 scope tokens separated by ','",
			    scopes);
		return die("cannot add the key: %s", pc_strerror(rc));
	}
	pc_apikey_fingerprint(hash, fpr);
	(void)printf("new key '%s', fingerprint %s (shown once: store it now)\n", name, fpr);
	(void)printf("%s\n", key);
	(void)fflush(stdout);
	explicit_bzero(key, sizeof(key));
	return 0;
}

static int
cmd_new(const struct keys_args *a, struct pc_apikey_store *s, int64_t now)
{
	return add_key(s, a->name, a->scopes != NULL ? a->scopes : "", now, a->expires_at);
}

static int
cmd_list(const struct pc_apikey_store *s, int64_t now)
{
	char		fpr[PC_APIKEY_FPR_LEN + 1], c[32], e[32];
	unsigned	i;

	(void)printf("%-24s %-12s %-20s %-20s %-8s %s\n", "NAME", "FINGERPRINT", "CREATED",
	    "EXPIRES", "STATE", "SCOPES");
	for (i = 0; i < s->nrecs; i++) {
		const struct pc_apikey_rec *r = &s->recs[i];

		pc_apikey_fingerprint(r->hash, fpr);
		fmt_time(r->created, c);
		fmt_time(r->expires, e);
		(void)printf("%-24s %-12s %-20s %-20s %-8s %s\n", r->name, fpr, c, e,
		    r->disabled ? "disabled" : r->expires != 0 && now >= r->expires ?
		    "expired" : "active", r->nscopes > 0 ? r->scope_text : "-");
	}
	return 0;
}

static int
cmd_disable(const struct keys_args *a, struct pc_apikey_store *s)
{
	char		fpr[65];
	unsigned	i, n = 0, match = 0;
	size_t		flen, j;

	if ((a->name == NULL) == (a->fingerprint == NULL))
		return die("keys disable: give exactly one of --name NAME and --fingerprint HEX");
	flen = a->fingerprint != NULL ? strlen(a->fingerprint) : 0;
	if (a->fingerprint != NULL && (flen < 8 || flen > 64 ||
	    strspn(a->fingerprint, "0123456789abcdef") != flen))
		return die("--fingerprint '%s': expected 8 to 64 lowercase hex digits (see "
		    "`keys list`)", a->fingerprint);
	for (i = 0; i < s->nrecs; i++) {
		struct pc_apikey_rec *r = &s->recs[i];

		if (a->name != NULL && strcmp(r->name, a->name) != 0)
			continue;
		if (a->fingerprint != NULL) {
			for (j = 0; j < 32; j++) {
				fpr[2 * j] = "0123456789abcdef"[r->hash[j] >> 4];
				fpr[2 * j + 1] = "0123456789abcdef"[r->hash[j] & 15];
			}
			if (memcmp(fpr, a->fingerprint, flen) != 0)
				continue;
		}
		match++;
		if (!r->disabled) {
			r->disabled = true;
			n++;
		}
	}
	if (a->fingerprint != NULL && match > 1)
		return die("--fingerprint '%s' matches %s keys: give more digits",
		    a->fingerprint, "several");
	if (match == 0)
		return die("no key %s '%s'", a->name != NULL ? "named" : "with fingerprint",
		    a->name != NULL ? a->name : a->fingerprint);
	(void)printf("disabled %u key%s\n", n, n == 1 ? "" : "s");
	return 0;
}

static int
cmd_rotate(const struct keys_args *a, struct pc_apikey_store *s, int64_t now)
{
	const struct pc_apikey_rec	*last = NULL;
	char				*scopes;
	int64_t				 until;
	unsigned			 i, nrecs = s->nrecs;
	int				 rc;

	for (i = 0; i < nrecs; i++)
		if (strcmp(s->recs[i].name, a->name) == 0 && !s->recs[i].disabled &&
		    (s->recs[i].expires == 0 || s->recs[i].expires > now))
			last = &s->recs[i];
	if (last == NULL)
		return die("no active key named '%s' to rotate (use `keys new`)", a->name);
	/* The newest active key's scopes; copied, as adding may move the records. */
	if ((scopes = strdup(last->scope_text)) == NULL)
		return die("out of memory");
	until = now + a->grace_s;
	for (i = 0; i < nrecs; i++) {
		struct pc_apikey_rec *r = &s->recs[i];

		if (strcmp(r->name, a->name) != 0 || r->disabled)
			continue;
		/* The old keys keep working until the grace ends, never longer than they
		 * would have anyway. */
		if (r->expires == 0 || r->expires > until)
			r->expires = until;
	}
	rc = add_key(s, a->name, scopes, now, a->expires_at);
	free(scopes);
	return rc;
}

int
pc_cli_keys(int argc, char **argv)
{
	struct keys_args	 a;
	struct pc_apikey_store	*s = NULL;
	uint8_t			 pepper[PC_APIKEY_PEPPER_BYTES];
	const char		*verb;
	mode_t			 mode = 0600;
	int64_t			 now = (int64_t)time(NULL);
	bool			 is_new, changes, missing;
	int			 rc, lock;

	if (argc < 2)
		return usage();
	verb = argv[1];
	is_new = strcmp(verb, "new") == 0;
	if (!is_new && strcmp(verb, "list") != 0 && strcmp(verb, "disable") != 0 &&
	    strcmp(verb, "rotate") != 0) {
		(void)fprintf(stderr, "portcullis keys: unknown command '%s'\n", verb);
		return usage();
	}
	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc;
	/* Every argument is checked before anything is made, locked or read. */
	if ((is_new || strcmp(verb, "rotate") == 0) && a.name == NULL) {
		(void)fprintf(stderr, "portcullis keys: %s: --name NAME is required\n", verb);
		return usage();
	}
	if (a.name != NULL && !pc_apikey_name_ok(pc_str_c(a.name)))
		return die("--name '%s': expected [A-Za-z0-9._-]{1,64}", a.name);
	if (a.expires != NULL && parse_expires(a.expires, now, &a.expires_at) != 0)
		return die("--expires '%s': expected a duration (30d, 12h), a date "
		    "(2027-01-01), Unix seconds, or never; in the future", a.expires);
	a.grace_s = 86400;
	if (a.grace != NULL && parse_duration(a.grace, &a.grace_s) != 0)
		return die("--grace '%s': expected a duration (24h, 30m, 2s) or seconds",
		    a.grace);
	changes = strcmp(verb, "list") != 0;
	lock = changes ? lock_dir(a.file) : -1;
	if (changes && lock == -1)
		return 1;
	missing = is_new && access(a.file, F_OK) == -1 && errno == ENOENT;
	rc = get_pepper(&a, missing, pepper);
	if (rc == 0)
		rc = load_store(a.file, pepper, is_new, &s, &mode);
	if (rc == 0 && s == NULL && pc_apikey_store_new(NULL, pepper, &s) != 0)
		rc = die("out of memory");
	explicit_bzero(pepper, sizeof(pepper));
	if (rc == 0) {
		if (is_new)
			rc = cmd_new(&a, s, now);
		else if (strcmp(verb, "list") == 0)
			rc = cmd_list(s, now);
		else if (strcmp(verb, "disable") == 0)
			rc = cmd_disable(&a, s);
		else
			rc = cmd_rotate(&a, s, now);
	}
	if (rc == 0 && changes && (rc = save_store(a.file, s, mode)) == 0)
		(void)fprintf(stderr, "portcullis keys: %s updated; " APPLY_HINT "\n", a.file);
	pc_apikey_store_free(s);
	if (lock != -1)
		(void)close(lock);
	return rc;
}
