/*
 * auth/apikey_store.c - an API key store: the text of a store file <-> records holding
 * HMAC-SHA-256(pepper, key) and metadata, and the lookup of a presented key.
 * Owns: the store's grammar (strict, with line numbers), the open-addressed table, the
 * key-to-principal rules (unknown, disabled, expired). Does not: read or write files
 * (config/ and cli/keys.c do), or know which header or route a key came from.
 *
 * File (docs/decisions/0011-api-keys.md):
 *   # comment lines and empty lines anywhere
 *   portcullis-keys v1 pepper-id=<16 hex>
 *   <64 hex> <name> created=<unix> expires=<unix|never> state=<active|disabled> scopes=<a,b|->
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "crypto/crypto.h"
#include "core/banned.h"

#define LINE_MAX_BYTES	2048
#define HEADER		"portcullis-keys v1 pepper-id="
#define TIME_MAX	((uint64_t)1 << 40)	/* year 36812: far enough, small enough */

int
pc_apikey_store_new(const char *name, const uint8_t pepper[PC_APIKEY_PEPPER_BYTES],
    struct pc_apikey_store **out)
{
	struct pc_apikey_store *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -PC_ENOMEM;
	s->name = name;
	memcpy(s->pepper, pepper, PC_APIKEY_PEPPER_BYTES);
	*out = s;
	return 0;
}

void
pc_apikey_store_free(struct pc_apikey_store *s)
{
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nrecs; i++) {
		free(s->recs[i].scope_text);
		free(s->recs[i].scopes);
	}
	free(s->recs);
	free(s->table);
	explicit_bzero(s->pepper, sizeof(s->pepper));
	free(s);
}

/* The table slot a hash starts probing at. The hash is an HMAC under a secret pepper:
 * its bits are unpredictable to a client, so where a probe starts and how long it runs
 * say nothing about any stored key. */
static size_t
slot_of(const uint8_t hash[32], size_t mask)
{
	uint64_t	v;

	memcpy(&v, hash, sizeof(v));
	return (size_t)v & mask;
}

/* The record whose hash is <hash>, or NULL. Every probed entry is compared in constant
 * time; the probe sequence depends only on the (unpredictable) hash. */
static const struct pc_apikey_rec *
find(const struct pc_apikey_store *s, const uint8_t hash[32])
{
	size_t		i;
	uint32_t	e;

	if (s->table == NULL)
		return NULL;
	for (i = slot_of(hash, s->mask); (e = s->table[i]) != 0; i = (i + 1) & s->mask)
		if (pc_ct_equal(s->recs[e - 1].hash, hash, 32))
			return &s->recs[e - 1];
	return NULL;
}

/* Rebuilds the table with room for twice the records (load at most one half). */
static int
table_grow(struct pc_apikey_store *s, unsigned nrecs)
{
	size_t		 cap = 16, i;
	uint32_t	*t;
	unsigned	 r;

	while (cap < (size_t)nrecs * 2)
		cap *= 2;
	if (s->table != NULL && cap <= s->mask + 1)
		return 0;
	t = calloc(cap, sizeof(*t));
	if (t == NULL)
		return -PC_ENOMEM;
	for (r = 0; r < s->nrecs; r++) {
		for (i = slot_of(s->recs[r].hash, cap - 1); t[i] != 0; i = (i + 1) & (cap - 1))
			;
		t[i] = r + 1;
	}
	free(s->table);
	s->table = t;
	s->mask = cap - 1;
	return 0;
}

/* Splits "a,b,c" into views; 0, or -PC_EINVAL for an empty or invalid scope or too many. */
static int
split_scopes(struct pc_apikey_rec *r)
{
	struct pc_str	 rest = pc_str_c(r->scope_text), tok;
	size_t		 i;

	r->nscopes = 0;
	if (rest.len == 0)
		return 0;
	r->scopes = calloc(PC_APIKEY_SCOPES_MAX, sizeof(*r->scopes));
	if (r->scopes == NULL)
		return -PC_ENOMEM;
	for (;;) {
		bool last = memchr(rest.ptr, ',', rest.len) == NULL;

		rest = pc_str_split(rest, ',', &tok);
		if (tok.len == 0 || r->nscopes == PC_APIKEY_SCOPES_MAX)
			return -PC_EINVAL;
		/* RFC 6749 3.3 scope-token: %x21 / %x23-5B / %x5D-7E; ',' separates. */
		for (i = 0; i < tok.len; i++) {
			unsigned char ch = (unsigned char)tok.ptr[i];

			if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' || ch == ',')
				return -PC_EINVAL;
		}
		r->scopes[r->nscopes++] = tok;
		if (last)
			return 0;
	}
}

int
pc_apikey_store_add(struct pc_apikey_store *s, const uint8_t hash[32], struct pc_str name,
    int64_t created, int64_t expires, struct pc_str scopes)
{
	struct pc_apikey_rec	*r, *nr;
	unsigned		 ncap;
	size_t			 i;
	int			 rc;

	if (!pc_apikey_name_ok(name) || scopes.len > PC_APIKEY_SCOPES_BYTES ||
	    memchr(scopes.ptr == NULL ? "" : scopes.ptr, '\0', scopes.len) != NULL)
		return -PC_EINVAL;
	if (find(s, hash) != NULL)
		return -PC_EINVAL;
	if (s->nrecs == PC_APIKEY_RECORDS_MAX)
		return -PC_ETOOBIG;
	if (s->nrecs == s->cap) {
		ncap = s->cap ? s->cap * 2 : 16;
		nr = realloc(s->recs, ncap * sizeof(*nr));
		if (nr == NULL)
			return -PC_ENOMEM;
		s->recs = nr;
		s->cap = ncap;
	}
	if ((rc = table_grow(s, s->nrecs + 1)) != 0)
		return rc;
	r = &s->recs[s->nrecs];
	memset(r, 0, sizeof(*r));
	memcpy(r->hash, hash, 32);
	memcpy(r->name, name.ptr, name.len);
	r->created = created;
	r->expires = expires;
	r->scope_text = malloc(scopes.len + 1);
	if (r->scope_text == NULL)
		return -PC_ENOMEM;
	if (scopes.len > 0)
		memcpy(r->scope_text, scopes.ptr, scopes.len);
	r->scope_text[scopes.len] = '\0';
	if ((rc = split_scopes(r)) != 0) {
		free(r->scope_text);
		free(r->scopes);
		return rc;
	}
	s->nrecs++;
	for (i = slot_of(hash, s->mask); s->table[i] != 0; i = (i + 1) & s->mask)
		;
	s->table[i] = s->nrecs;
	return 0;
}

static bool
lower_hex(struct pc_str s, size_t n)
{
	size_t i;

	if (s.len != n)
		return false;
	for (i = 0; i < n; i++)
		if (!((s.ptr[i] >= '0' && s.ptr[i] <= '9') || (s.ptr[i] >= 'a' && s.ptr[i] <= 'f')))
			return false;
	return true;
}

/* <field> must be "<key>=<value>": the value, or a NULL view. */
static struct pc_str
keyed(struct pc_str field, const char *key)
{
	struct pc_str k = pc_str_c(key);

	if (!pc_str_has_prefix(field, k))
		return PC_STR_NULL;
	return pc_str_make(field.ptr + k.len, field.len - k.len);
}

struct parse {
	int	 line;
	char	*err;
	size_t	 errlen;
};

static int
perr(struct parse *ps, int line, const char *msg)
{
	ps->line = line;
	(void)snprintf(ps->err, ps->errlen, "%s", msg);
	return -PC_EINVAL;
}

static int
parse_record(struct parse *ps, struct pc_apikey_store *s, struct pc_str l, int line)
{
	struct pc_str	 f[6], rest = l, v;
	uint8_t		 hash[32];
	uint64_t	 created, expires = 0;
	char		 msg[160];
	unsigned	 n = 0;
	size_t		 i;
	int		 rc;

	while (rest.len > 0 && n < PC_NELEM(f)) {
		rest = pc_str_split(rest, ' ', &f[n]);
		if (f[n].len == 0)
			return perr(ps, line, "empty field (fields are separated by one space)");
		n++;
	}
	if (n != PC_NELEM(f) || rest.len > 0 || l.ptr[l.len - 1] == ' ')
		return perr(ps, line, "expected 6 fields: <hash> <name> created=<unix> "
		    "expires=<unix|never> state=<active|disabled> scopes=<a,b|->");
	if (!lower_hex(f[0], 64))
		return perr(ps, line, "the hash is not 64 lowercase hex digits");
	for (i = 0; i < 32; i++) {
		unsigned hi = (unsigned)(f[0].ptr[2 * i] <= '9' ? f[0].ptr[2 * i] - '0' :
		    f[0].ptr[2 * i] - 'a' + 10);
		unsigned lo = (unsigned)(f[0].ptr[2 * i + 1] <= '9' ? f[0].ptr[2 * i + 1] - '0' :
		    f[0].ptr[2 * i + 1] - 'a' + 10);

		hash[i] = (uint8_t)(hi * 16 + lo);
	}
	if (!pc_apikey_name_ok(f[1]))
		return perr(ps, line, "invalid name (expected [A-Za-z0-9._-]{1,64})");
	v = keyed(f[2], "created=");
	if (v.ptr == NULL || v.len == 0 || pc_parse_u64(v, TIME_MAX, &created) != 0)
		return perr(ps, line, "expected created=<unix seconds>");
	v = keyed(f[3], "expires=");
	if (v.ptr == NULL || (!pc_str_eq(v, PC_STR("never")) && (v.len == 0 ||
	    pc_parse_u64(v, TIME_MAX, &expires) != 0 || expires == 0)))
		return perr(ps, line, "expected expires=<unix seconds> or expires=never");
	v = keyed(f[4], "state=");
	if (v.ptr == NULL || (!pc_str_eq(v, PC_STR("active")) &&
	    !pc_str_eq(v, PC_STR("disabled"))))
		return perr(ps, line, "expected state=active or state=disabled");
	v = keyed(f[5], "scopes=");
	if (v.ptr == NULL || v.len == 0)
		return perr(ps, line, "expected scopes=<a,b,...> or scopes=-");
	if (pc_str_eq(v, PC_STR("-")))
		v = PC_STR("");
	if (find(s, hash) != NULL) {
		for (i = 0; i < s->nrecs && memcmp(s->recs[i].hash, hash, 32) != 0; i++)
			;
		(void)snprintf(msg, sizeof(msg), "the same key hash as line %d",
		    i < s->nrecs ? s->recs[i].line : 0);
		return perr(ps, line, msg);
	}
	rc = pc_apikey_store_add(s, hash, f[1], (int64_t)created, (int64_t)expires, v);
	if (rc == -PC_EINVAL)
		return perr(ps, line, "invalid scopes (up to 32 scope tokens separated by ',', "
		    "or -)");
	if (rc == -PC_ETOOBIG)
		return perr(ps, line, "more than 100000 keys");
	if (rc != 0)
		return rc;
	s->recs[s->nrecs - 1].line = line;
	s->recs[s->nrecs - 1].disabled = pc_str_eq(keyed(f[4], "state="),
	    PC_STR("disabled"));
	return 0;
}

static int
parse_header(struct parse *ps, const struct pc_apikey_store *s, struct pc_str l, int line)
{
	char	id[17], msg[160];
	struct pc_str v;

	if (!pc_str_has_prefix(l, PC_STR("portcullis-keys ")))
		return perr(ps, line, "expected the header 'portcullis-keys v1 pepper-id=<16 "
		    "hex>' before any key");
	v = keyed(l, HEADER);
	if (v.ptr == NULL)
		return perr(ps, line, "unsupported store version (this gateway reads v1)");
	if (!lower_hex(v, 16))
		return perr(ps, line, "pepper-id: expected 16 lowercase hex digits");
	pc_apikey_pepper_id(s->pepper, id);
	if (memcmp(v.ptr, id, 16) != 0) {
		(void)snprintf(msg, sizeof(msg), "the store was made under pepper-id %.16s, the "
		    "pepper given has pepper-id %s (wrong pepper for this store)", v.ptr, id);
		return perr(ps, line, msg);
	}
	return 0;
}

int
pc_apikey_store_parse(const char *name, const char *text, size_t len,
    const uint8_t pepper[PC_APIKEY_PEPPER_BYTES], struct pc_apikey_store **out, int *line,
    char *err, size_t errlen)
{
	struct parse		 ps = { 0, err, errlen };
	struct pc_apikey_store	*s;
	struct pc_str		 rest = pc_str_make(text, len), l;
	bool			 header = false;
	int			 n = 0, rc;
	size_t			 i;

	*out = NULL;
	*line = 0;
	if (errlen > 0)
		err[0] = '\0';
	if ((rc = pc_apikey_store_new(name, pepper, &s)) != 0)
		return rc;
	while (rest.len > 0) {
		rest = pc_str_split(rest, '\n', &l);
		n++;
		if (l.len > LINE_MAX_BYTES) {
			rc = perr(&ps, n, "line longer than 2048 bytes");
			goto fail;
		}
		for (i = 0; i < l.len; i++) {
			unsigned char ch = (unsigned char)l.ptr[i];

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				rc = perr(&ps, n, ch == '\r' ? "carriage return (the file must "
				    "use LF line ends)" : "control character");
				goto fail;
			}
		}
		if (l.len == 0 || l.ptr[0] == '#')
			continue;
		if (!header) {
			if ((rc = parse_header(&ps, s, l, n)) != 0)
				goto fail;
			header = true;
			continue;
		}
		if ((rc = parse_record(&ps, s, l, n)) != 0)
			goto fail;
	}
	if (!header) {
		rc = perr(&ps, n > 0 ? n : 1, "no 'portcullis-keys v1 pepper-id=...' header: "
		    "not a key store");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (rc == -PC_ENOMEM && ps.line == 0) {
		ps.line = n;
		(void)snprintf(err, errlen, "out of memory");
	}
	*line = ps.line;
	pc_apikey_store_free(s);
	return rc;
}

int
pc_apikey_store_format(const struct pc_apikey_store *s, struct pc_buf *out)
{
	char		id[17];
	unsigned	i;
	size_t		j;
	int		rc = 0;

	pc_apikey_pepper_id(s->pepper, id);
	rc |= pc_buf_add_str(out, PC_STR("# portcullis API key store: HMAC-SHA256 of each key "
	    "under a server-side pepper; edit with `portcullis keys`\n" HEADER));
	rc |= pc_buf_add(out, id, 16);
	rc |= pc_buf_addc(out, '\n');
	for (i = 0; i < s->nrecs; i++) {
		const struct pc_apikey_rec *r = &s->recs[i];

		for (j = 0; j < 32; j++) {
			rc |= pc_buf_addc(out, "0123456789abcdef"[r->hash[j] >> 4]);
			rc |= pc_buf_addc(out, "0123456789abcdef"[r->hash[j] & 15]);
		}
		rc |= pc_buf_addc(out, ' ');
		rc |= pc_buf_add_str(out, pc_str_c(r->name));
		rc |= pc_buf_add_str(out, PC_STR(" created="));
		rc |= pc_buf_add_u64(out, (uint64_t)r->created);
		rc |= pc_buf_add_str(out, PC_STR(" expires="));
		if (r->expires == 0)
			rc |= pc_buf_add_str(out, PC_STR("never"));
		else
			rc |= pc_buf_add_u64(out, (uint64_t)r->expires);
		rc |= pc_buf_add_str(out, r->disabled ? PC_STR(" state=disabled") :
		    PC_STR(" state=active"));
		rc |= pc_buf_add_str(out, PC_STR(" scopes="));
		rc |= pc_buf_add_str(out, r->nscopes == 0 ? PC_STR("-") : pc_str_c(r->scope_text));
		rc |= pc_buf_addc(out, '\n');
	}
	/* The pc_buf calls return 0 or a negative code; OR-ing keeps "any failure" sticky. */
	return rc == 0 ? 0 : -PC_ENOMEM;
}

void
pc_apikey_hash(const struct pc_apikey_store *s, struct pc_str key, uint8_t out[32])
{
	pc_hmac_sha256(s->pepper, sizeof(s->pepper), key.ptr, key.len, out);
}

int
pc_apikey_lookup(const struct pc_apikey_store *s, struct pc_str key, int64_t now,
    struct pc_arena *a, struct pc_principal *p, enum pc_reason *reason)
{
	const struct pc_apikey_rec	*r;
	uint8_t				 hash[32];
	unsigned			 i;

	*reason = PC_R_NONE;
	if (!pc_apikey_well_formed(key)) {
		*reason = PC_R_AUTH_APIKEY_MALFORMED;
		return -PC_EPROTO;
	}
	pc_apikey_hash(s, key, hash);
	r = find(s, hash);
	explicit_bzero(hash, sizeof(hash));
	if (r == NULL)
		*reason = PC_R_AUTH_APIKEY_UNKNOWN;
	else if (r->disabled)
		*reason = PC_R_AUTH_APIKEY_DISABLED;
	else if (r->expires != 0 && now >= r->expires)
		*reason = PC_R_AUTH_APIKEY_EXPIRED;
	if (*reason != PC_R_NONE)
		return -PC_EPROTO;
	memset(p, 0, sizeof(*p));
	p->type = PC_PRINCIPAL_APIKEY;
	p->id = pc_str_c(pc_arena_strdup(a, pc_str_c(r->name)));
	p->issuer = pc_str_c(pc_arena_strdup(a, pc_str_c(s->name)));
	p->issuer_name = s->name;
	p->exp = r->expires;
	if (p->id.len == 0 || (s->name != NULL && p->issuer.len == 0))
		return -PC_ENOMEM;
	if (r->nscopes > 0) {
		p->scopes = pc_arena_zalloc(a, r->nscopes * sizeof(*p->scopes));
		if (p->scopes == NULL)
			return -PC_ENOMEM;
		for (i = 0; i < r->nscopes; i++) {
			p->scopes[i] = pc_str_make(pc_arena_strdup(a, r->scopes[i]),
			    r->scopes[i].len);
			if (p->scopes[i].ptr == NULL)
				return -PC_ENOMEM;
		}
		p->nscopes = r->nscopes;
	}
	return 0;
}
