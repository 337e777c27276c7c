/*
 * auth/apikey.c - the API key format: "pck_" + 43 base62 characters from the kernel CSPRNG
 * + 6 base62 characters of a CRC-32 (docs/decisions/0011-api-keys.md), and the pepper.
 * Owns: making keys, telling a well-formed key from anything else, the pepper's text form
 * and id, fingerprints. Does not: store or look up keys (apikey_store.c), or read files.
 */
#include <pthread.h>
#include <string.h>

#include "auth/auth.h"
#include "crypto/crypto.h"
#include "core/banned.h"

#define BODY_LEN	43	/* 43 * log2(62) = 256.03 bits */
#define CRC_LEN		6	/* 62^6 > 2^32 */
#define PREFIX_LEN	(sizeof(PC_APIKEY_PREFIX) - 1)
#define CHECKED_LEN	(PREFIX_LEN + BODY_LEN)

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/*
 * CRC-32 (the zlib/IEEE 802.3 polynomial, reflected 0xEDB88320). Not a security check: a
 * checksum lets secret scanners and the gateway recognize a key without a lookup, so a
 * typo or a random string is refused as malformed before any hashing, and a scanner that
 * finds "pck_..." in a commit can tell a real key from a look-alike with no false alarms.
 */
static uint32_t		crc_table[256];
static pthread_once_t	crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	uint32_t	c;
	unsigned	i, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t
crc32(const char *p, size_t n)
{
	uint32_t	c = 0xFFFFFFFFu;
	size_t		i;

	(void)pthread_once(&crc_once, crc_init);
	for (i = 0; i < n; i++)
		c = crc_table[(c ^ (uint8_t)p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/* The value of a base62 digit, or -1. */
static int
b62_val(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 36;
	return -1;
}

/* <v> as exactly CRC_LEN base62 digits, most significant first. */
static void
crc_encode(uint32_t v, char out[CRC_LEN])
{
	uint64_t	x = v;
	int		i;

	for (i = CRC_LEN - 1; i >= 0; i--) {
		out[i] = b62[x % 62];
		x /= 62;
	}
}

int
pc_apikey_generate(char out[PC_APIKEY_LEN + 1])
{
	uint8_t	rnd[64];
	size_t	n = 0, i;
	int	rc;

	memcpy(out, PC_APIKEY_PREFIX, PREFIX_LEN);
	/* Rejection sampling: a byte under 248 (= 4 * 62) maps onto the 62 digits evenly;
	 * taking every byte modulo 62 would make the first eight digits likelier. */
	while (n < BODY_LEN) {
		if ((rc = pc_random_bytes(rnd, sizeof(rnd))) != 0) {
			explicit_bzero(rnd, sizeof(rnd));
			explicit_bzero(out, PC_APIKEY_LEN + 1);
			return rc;
		}
		for (i = 0; i < sizeof(rnd) && n < BODY_LEN; i++)
			if (rnd[i] < 248)
				out[PREFIX_LEN + n++] = b62[rnd[i] % 62];
	}
	explicit_bzero(rnd, sizeof(rnd));
	crc_encode(crc32(out, CHECKED_LEN), out + CHECKED_LEN);
	out[PC_APIKEY_LEN] = '\0';
	return 0;
}

bool
pc_apikey_well_formed(struct pc_str key)
{
	uint64_t	v = 0;
	size_t		i;
	int		d;

	if (key.len != PC_APIKEY_LEN || memcmp(key.ptr, PC_APIKEY_PREFIX, PREFIX_LEN) != 0)
		return false;
	for (i = PREFIX_LEN; i < CHECKED_LEN; i++)
		if (b62_val(key.ptr[i]) < 0)
			return false;
	for (i = CHECKED_LEN; i < PC_APIKEY_LEN; i++) {
		if ((d = b62_val(key.ptr[i])) < 0)
			return false;
		v = v * 62 + (uint64_t)d;
	}
	return v == crc32(key.ptr, CHECKED_LEN);
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

bool
pc_apikey_looks_like(struct pc_str v)
{
	size_t	i = 0, n = 0;
	int	hi, lo;
	char	ch;

	/* Decoded as it goes: "pck%5F..." is still a key in the query. */
	while (n < PREFIX_LEN && i < v.len) {
		ch = v.ptr[i++];
		if (ch == '%' && i + 1 < v.len && (hi = hexval(v.ptr[i])) >= 0 &&
		    (lo = hexval(v.ptr[i + 1])) >= 0) {
			ch = (char)(hi * 16 + lo);
			i += 2;
		}
		if (ch != PC_APIKEY_PREFIX[n++])
			return false;
	}
	return n == PREFIX_LEN;
}

bool
pc_apikey_name_ok(struct pc_str name)
{
	size_t i;

	if (name.len == 0 || name.len > PC_APIKEY_NAME_MAX)
		return false;
	for (i = 0; i < name.len; i++) {
		char ch = name.ptr[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

int
pc_apikey_pepper_parse(struct pc_str hex, uint8_t out[PC_APIKEY_PEPPER_BYTES])
{
	size_t	i;
	int	hi, lo;

	if (hex.len != 2 * PC_APIKEY_PEPPER_BYTES)
		return -PC_EINVAL;
	for (i = 0; i < PC_APIKEY_PEPPER_BYTES; i++) {
		hi = hexval(hex.ptr[2 * i]);
		lo = hexval(hex.ptr[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			explicit_bzero(out, PC_APIKEY_PEPPER_BYTES);
			return -PC_EINVAL;
		}
		out[i] = (uint8_t)(hi * 16 + lo);
	}
	return 0;
}

static void
to_hex(const uint8_t *p, size_t n, char *out)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
pc_apikey_pepper_new(uint8_t pepper[PC_APIKEY_PEPPER_BYTES], char text[PC_APIKEY_PEPPER_TEXT])
{
	int rc = pc_random_bytes(pepper, PC_APIKEY_PEPPER_BYTES);

	if (rc != 0)
		return rc;
	to_hex(pepper, PC_APIKEY_PEPPER_BYTES, text);
	text[2 * PC_APIKEY_PEPPER_BYTES] = '\n';
	text[2 * PC_APIKEY_PEPPER_BYTES + 1] = '\0';
	return 0;
}

void
pc_apikey_pepper_id(const uint8_t pepper[PC_APIKEY_PEPPER_BYTES], char out[17])
{
	static const char	label[] = "portcullis pepper id";
	uint8_t			mac[32];

	/* A one-way id: the store can say which pepper it was made under (a wrong pepper
	 * is then a load error, not every key "unknown") without revealing the pepper. */
	pc_hmac_sha256(pepper, PC_APIKEY_PEPPER_BYTES, label, sizeof(label) - 1, mac);
	to_hex(mac, 8, out);
}

void
pc_apikey_fingerprint(const uint8_t hash[32], char out[PC_APIKEY_FPR_LEN + 1])
{
	to_hex(hash, PC_APIKEY_FPR_LEN / 2, out);
}
