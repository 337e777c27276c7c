/*
 * auth/jwt_int.h - private to auth/: one token being verified, shared by jwt.c (parts,
 * issuer, key, signature) and jwt_claims.c (claims, principal).
 */
#ifndef PC_JWT_INT_H
#define PC_JWT_INT_H

#include "auth/auth_int.h"

struct pc_jwt_tok {
	struct pc_str			 b64_header, b64_payload;	/* borrow the token */
	uint8_t				*header, *payload, *sig;	/* decoded, in the arena */
	size_t				 header_len, payload_len, sig_len;
	json_t				*jh, *jp;	/* owned: json_decref */
	enum pc_jws_alg			 alg;
	const struct pc_jwt_issuer	*is;
	const struct pc_pkey		*key;
};

/* The claim rules of <t>->is, in the order of auth.h, once the signature verified. */
enum pc_reason	 pc_jwt__claims(const struct pc_jwt_tok *t, int64_t now, const char **d);
/* "aud" of <t>->jp holds one of <t>->is->audiences (absent: refused). */
enum pc_reason	 pc_jwt__aud(const struct pc_jwt_tok *t, const char **d);
/* The optional NumericDate member <name> of <o>: PC_R_NONE (*<present> false if absent). */
enum pc_reason	 pc_jwt__time(const json_t *o, const char *name, bool round_up, int64_t *out,
		    bool *present, const char **d);
/* Fills <p> from the verified payload, every string copied into <a>. */
enum pc_reason	 pc_jwt__principal(const struct pc_jwt_tok *t, struct pc_arena *a,
		    struct pc_principal *p, const char **d);

#endif
