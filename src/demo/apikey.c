/*
 * demo/apikey.c - the demo's API key store: a pepper and a store with one key (name
 * demo-partner, scope drivers:read) made at start in the demo's private directory, so the
 * tour can show a key being accepted. Nothing here is used by `run`: real stores are made
 * with `portcullis keys new`.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "demo/demo.h"
#include "core/banned.h"

/* Writes <len> bytes to <path>, created exclusively, mode 0600. 0 or -PC_EIO. */
static int
write_new(const char *path, const void *p, size_t len)
{
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return -PC_EIO;
	if (write(fd, p, len) != (ssize_t)len)
		rc = -PC_EIO;
	if (close(fd) != 0)
		rc = -PC_EIO;
	return rc;
}

int
pc_demo_apikey_make(const char *store_path, const char *pepper_path, struct pc_demo_tokens *t)
{
	struct pc_apikey_store	*s = NULL;
	struct pc_buf		 b;
	uint8_t			 pepper[PC_APIKEY_PEPPER_BYTES], h[32];
	char			 hex[PC_APIKEY_PEPPER_TEXT];
	int			 rc;

	if ((rc = pc_apikey_pepper_new(pepper, hex)) != 0)
		return rc;
	rc = write_new(pepper_path, hex, sizeof(hex) - 1);
	explicit_bzero(hex, sizeof(hex));
	if (rc == 0)
		rc = pc_apikey_store_new("partners", pepper, &s);
	explicit_bzero(pepper, sizeof(pepper));
	if (rc == 0)
		rc = pc_apikey_generate(t->apikey);
	if (rc != 0) {
		pc_apikey_store_free(s);
		return rc;
	}
	pc_apikey_hash(s, pc_str_make(t->apikey, PC_APIKEY_LEN), h);
	pc_buf_init(&b, 4096);
	rc = pc_apikey_store_add(s, h, PC_STR("demo-partner"), (int64_t)time(NULL), 0,
	    PC_STR("drivers:read"));
	if (rc == 0)
		rc = pc_apikey_store_format(s, &b);
	if (rc == 0)
		rc = write_new(store_path, b.data, b.len);
	pc_buf_fini(&b);
	pc_apikey_store_free(s);
	return rc;
}
