/*
 * fuzz/apikey_store.c - libFuzzer target for pc_apikey_store_parse (auth/apikey_store.c).
 *
 * Input: the text of a key store. The pepper is fixed, so a header line with its id
 * ("portcullis-keys v1 pepper-id=8fbe56ac9dd9a229" is in the corpus) reaches the records.
 * Properties:
 * - the result is 0 with a store, or an error with no store, a line number within the
 *   input's line count and a printable one-line message;
 * - a parsed store formats to text that parses again to the same records (names, times,
 *   states, scopes, hashes): the format is canonical;
 * - no leak (ASan's leak check) whatever the path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t pepper[PC_APIKEY_PEPPER_BYTES] = { 0 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_apikey_store	*s = (struct pc_apikey_store *)1, *t = NULL;
	struct pc_buf		 b;
	char			*text, err[256];
	const char		*e;
	unsigned		 i, j;
	size_t			 lines = 1;
	int			 rc, line = -1;

	text = malloc(size > 0 ? size : 1);
	if (text == NULL)
		abort();
	if (size > 0)
		memcpy(text, data, size);
	for (i = 0; i < size; i++)
		lines += text[i] == '\n';
	err[0] = '\0';
	rc = pc_apikey_store_parse("f", text, size, pepper, &s, &line, err, sizeof(err));
	if (rc != 0) {
		PC_ASSERT(s == NULL && (rc == -PC_EINVAL || rc == -PC_ENOMEM));
		PC_ASSERT(line >= 0 && (size_t)line <= lines);
		for (e = err; *e != '\0'; e++)
			PC_ASSERT((unsigned char)*e >= 0x20 && (unsigned char)*e < 0x7f);
	} else {
		pc_buf_init(&b, (size_t)64 << 20);
		PC_ASSERT(pc_apikey_store_format(s, &b) == 0);
		PC_ASSERT(pc_apikey_store_parse("f", (const char *)b.data, b.len, pepper, &t,
		    &line, err, sizeof(err)) == 0);
		PC_ASSERT(t->nrecs == s->nrecs);
		for (i = 0; i < s->nrecs; i++) {
			const struct pc_apikey_rec *x = &s->recs[i], *y = &t->recs[i];

			PC_ASSERT(memcmp(x->hash, y->hash, 32) == 0);
			PC_ASSERT(strcmp(x->name, y->name) == 0);
			PC_ASSERT(x->created == y->created && x->expires == y->expires);
			PC_ASSERT(x->disabled == y->disabled && x->nscopes == y->nscopes);
			for (j = 0; j < x->nscopes; j++)
				PC_ASSERT(pc_str_eq(x->scopes[j], y->scopes[j]));
		}
		pc_buf_fini(&b);
		pc_apikey_store_free(t);
		pc_apikey_store_free(s);
	}
	free(text);
	return 0;
}
