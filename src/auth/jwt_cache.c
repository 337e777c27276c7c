/*
 * auth/jwt_cache.c - tokens verified once are found again by their hash: a repeated token
 * then costs a SHA-256 and a table lookup, not a signature check.
 * Owns: the per-worker table (open addressing on the token hash) and its LRU list, and the
 * frozen copies of principals. Does not: decide validity: an entry only remembers a verdict
 * auth/jwt.c reached, bounded by the token's own exp and the configured TTL.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/banned.h"

/* A principal frozen into one allocation: every string is an (offset, length) into data. */
struct frozen_str {
	uint32_t	 off, len;
};

struct entry {
	uint8_t		 key[32];
	uint64_t	 serial;
	const struct pc_jwt_issuer *issuer;
	uint64_t	 keygen;	/* the issuer's remote key set generation, or 0 */
	int64_t		 until;
	struct entry	*lru_prev, *lru_next;
	bool		 used;
	/* the principal */
	enum pc_principal_type type;
	int64_t		 auth_time, exp;
	unsigned	 nscopes, nroles;
	struct frozen_str id, iss, acr, amr, cnf, claims;
	struct frozen_str *lists;	/* scopes then roles, in data */
	char		*data;
	size_t		 datalen;
};

struct pc_jwt_cache {
	struct entry	*slots;
	unsigned	 nslots;	/* power of two, at least twice the capacity */
	unsigned	 cap, n;
	struct entry	*lru_head, *lru_tail;	/* head: most recently used */
};

struct pc_jwt_cache *
pc_jwt_cache_new(unsigned entries)
{
	struct pc_jwt_cache	*c;
	unsigned		 n = 16;

	if (entries == 0)
		return NULL;
	while (n < 2 * entries && n < (1u << 30))
		n <<= 1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->slots = calloc(n, sizeof(*c->slots));
	if (c->slots == NULL) {
		free(c);
		return NULL;
	}
	c->nslots = n;
	c->cap = entries;
	return c;
}

static void
entry_clear(struct entry *e)
{
	free(e->data);
	free(e->lists);
	memset(e, 0, sizeof(*e));
}

void
pc_jwt_cache_free(struct pc_jwt_cache *c)
{
	unsigned i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nslots; i++)
		if (c->slots[i].used)
			entry_clear(&c->slots[i]);
	free(c->slots);
	free(c);
}

static unsigned
slot_of(const struct pc_jwt_cache *c, const uint8_t key[32])
{
	uint32_t h;

	/* The key is a SHA-256: its bytes are already uniform. */
	memcpy(&h, key, sizeof(h));
	return h & (c->nslots - 1);
}

static void
lru_unlink(struct pc_jwt_cache *c, struct entry *e)
{
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void
lru_push(struct pc_jwt_cache *c, struct entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->lru_prev = e;
	c->lru_head = e;
	if (c->lru_tail == NULL)
		c->lru_tail = e;
}

static struct entry *
find(struct pc_jwt_cache *c, const uint8_t key[32])
{
	unsigned i = slot_of(c, key), k;

	for (k = 0; k < c->nslots; k++, i = (i + 1) & (c->nslots - 1)) {
		struct entry *e = &c->slots[i];

		if (!e->used)
			return NULL;
		if (memcmp(e->key, key, 32) == 0)
			return e;
	}
	return NULL;
}

/*
 * Removes <e> and re-inserts the entries after it in its probe run, so lookups never stop
 * early at the hole (backward-shift deletion keeps the table free of tombstones).
 */
static void
remove_entry(struct pc_jwt_cache *c, struct entry *e)
{
	unsigned hole = (unsigned)(e - c->slots), i;

	lru_unlink(c, e);
	entry_clear(e);
	c->n--;
	for (i = (hole + 1) & (c->nslots - 1); c->slots[i].used; i = (i + 1) & (c->nslots - 1)) {
		struct entry	 moved = c->slots[i];
		unsigned	 want = slot_of(c, moved.key);

		/* Leave it if its home lies cyclically within (hole, i]. */
		if (hole <= i ? (want > hole && want <= i) : (want > hole || want <= i))
			continue;
		/* Moved with its place in the LRU order: its neighbours point at the new slot. */
		c->slots[hole] = moved;
		memset(&c->slots[i], 0, sizeof(c->slots[i]));
		if (moved.lru_prev != NULL)
			moved.lru_prev->lru_next = &c->slots[hole];
		else
			c->lru_head = &c->slots[hole];
		if (moved.lru_next != NULL)
			moved.lru_next->lru_prev = &c->slots[hole];
		else
			c->lru_tail = &c->slots[hole];
		hole = i;
	}
}

/* A string of the entry, pointing into <copy> (the request's copy of the entry's data). */
static struct pc_str
thaw_str(const char *copy, struct frozen_str f)
{
	return f.len == 0 ? PC_STR_NULL : pc_str_make(copy + f.off, f.len);
}

bool
pc_jwt_cache_get(struct pc_jwt_cache *c, const uint8_t key[32], uint64_t serial,
    const struct pc_jwt_issuer *const *issuers, unsigned n, int64_t now, struct pc_arena *a,
    struct pc_principal *p)
{
	struct entry	*e;
	unsigned	 i;
	char		*copy;

	if (c == NULL || (e = find(c, key)) == NULL)
		return false;
	if (e->serial != serial || now >= e->until || (e->issuer->ring != NULL &&
	    pc_keyring_generation(e->issuer->ring) != e->keygen)) {
		/* Another configuration, expired, or the issuer's key set changed since (the
		 * key may have been withdrawn): verify afresh. */
		remove_entry(c, e);
		return false;
	}
	for (i = 0; i < n; i++)
		if (issuers[i] == e->issuer)
			break;
	if (i == n)
		return false;	/* valid, but not for this route: verify (and refuse) afresh */
	/* One copy of all the strings into the request's arena: the entry may be evicted
	 * while the request still runs (another verification in this worker). */
	copy = pc_arena_alloc(a, e->datalen + 1);
	if (copy == NULL)
		return false;
	memcpy(copy, e->data, e->datalen);
	copy[e->datalen] = '\0';
	memset(p, 0, sizeof(*p));
	p->type = e->type;
	p->via = e->issuer;
	p->keygen = e->keygen;
	p->issuer_name = e->issuer->name;
	p->auth_time = e->auth_time;
	p->exp = e->exp;
	p->id = thaw_str(copy, e->id);
	p->issuer = thaw_str(copy, e->iss);
	p->acr = thaw_str(copy, e->acr);
	p->amr = thaw_str(copy, e->amr);
	p->cnf_x5t = thaw_str(copy, e->cnf);
	p->claims = thaw_str(copy, e->claims);
	/* Counts are bounded (PC_PRINCIPAL_LIST_MAX): no overflow in the products. */
	if (e->nscopes > 0)
		p->scopes = pc_arena_zalloc(a, (size_t)e->nscopes * sizeof(*p->scopes));
	if (e->nroles > 0)
		p->roles = pc_arena_zalloc(a, (size_t)e->nroles * sizeof(*p->roles));
	if ((e->nscopes > 0 && p->scopes == NULL) || (e->nroles > 0 && p->roles == NULL))
		return false;
	for (i = 0; i < e->nscopes; i++)
		p->scopes[i] = thaw_str(copy, e->lists[i]);
	for (i = 0; i < e->nroles; i++)
		p->roles[i] = thaw_str(copy, e->lists[e->nscopes + i]);
	p->nscopes = e->nscopes;
	p->nroles = e->nroles;
	lru_unlink(c, e);
	lru_push(c, e);
	return true;
}

/* Appends <s> and a NUL to the entry's data (so each thawed string is a C string too);
 * records where. */
static void
freeze_str(struct entry *e, struct pc_str s, struct frozen_str *f)
{
	f->off = (uint32_t)e->datalen;
	f->len = (uint32_t)s.len;
	if (s.len > 0)
		memcpy(e->data + e->datalen, s.ptr, s.len);
	e->datalen += s.len;
	e->data[e->datalen++] = '\0';
}

void
pc_jwt_cache_put(struct pc_jwt_cache *c, const uint8_t key[32], uint64_t serial,
    const struct pc_jwt_issuer *issuer, int64_t until, const struct pc_principal *p)
{
	struct entry	*e, tmp;
	size_t		 need;
	unsigned	 i, nl;

	if (c == NULL || issuer == NULL)
		return;
	need = p->id.len + p->issuer.len + p->acr.len + p->amr.len + p->cnf_x5t.len +
	    p->claims.len + 6;
	for (i = 0; i < p->nscopes; i++)
		need += p->scopes[i].len + 1;
	for (i = 0; i < p->nroles; i++)
		need += p->roles[i].len + 1;
	if (need > UINT32_MAX / 2)
		return;
	memset(&tmp, 0, sizeof(tmp));
	nl = p->nscopes + p->nroles;
	tmp.data = malloc(need + 1);
	tmp.lists = nl > 0 ? calloc(nl, sizeof(*tmp.lists)) : NULL;
	if (tmp.data == NULL || (nl > 0 && tmp.lists == NULL)) {
		free(tmp.data);
		free(tmp.lists);
		return;
	}
	memcpy(tmp.key, key, 32);
	tmp.serial = serial;
	tmp.issuer = issuer;
	tmp.keygen = p->keygen;
	tmp.until = until;
	tmp.used = true;
	tmp.type = p->type;
	tmp.auth_time = p->auth_time;
	tmp.exp = p->exp;
	tmp.nscopes = p->nscopes;
	tmp.nroles = p->nroles;
	freeze_str(&tmp, p->id, &tmp.id);
	freeze_str(&tmp, p->issuer, &tmp.iss);
	freeze_str(&tmp, p->acr, &tmp.acr);
	freeze_str(&tmp, p->amr, &tmp.amr);
	freeze_str(&tmp, p->cnf_x5t, &tmp.cnf);
	freeze_str(&tmp, p->claims, &tmp.claims);
	for (i = 0; i < p->nscopes; i++)
		freeze_str(&tmp, p->scopes[i], &tmp.lists[i]);
	for (i = 0; i < p->nroles; i++)
		freeze_str(&tmp, p->roles[i], &tmp.lists[p->nscopes + i]);

	if ((e = find(c, key)) != NULL)
		remove_entry(c, e);
	if (c->n >= c->cap && c->lru_tail != NULL)
		remove_entry(c, c->lru_tail);	/* the least recently used goes */
	for (i = slot_of(c, key); c->slots[i].used; i = (i + 1) & (c->nslots - 1))
		;
	c->slots[i] = tmp;
	lru_push(c, &c->slots[i]);
	c->n++;
}
