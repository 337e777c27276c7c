/*
 * tests/unit/crypto/vectors.h - published JWS test vectors: RFC 7515 appendix A.1-A.4,
 * RFC 8037 appendix A.4, RFC 7520 sections 4.1-4.4. Public keys only (the private members
 * of those examples are not needed to verify). Each "jws" is the compact serialization:
 * the signing input is everything before the last '.', the signature everything after.
 */
#ifndef PC_TEST_CRYPTO_VECTORS_H
#define PC_TEST_CRYPTO_VECTORS_H

enum vec_kind { V_RSA, V_EC, V_OKP, V_OCT };

struct vec {
	const char	*name;
	enum pc_jws_alg	 alg;
	enum vec_kind	 kind;
	const char	*a, *b, *c;	/* RSA: n, e; EC: crv, x, y; OKP: crv, x; oct: k */
	const char	*jws;
};

/* RFC 7515 A.1-A.3 payload:
 * {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true} */
#define P7515 \
	"eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290" \
		"Ijp0cnVlfQ"
/* RFC 7520 4: "It's a dangerous business, Frodo, going out your door. ..." */
#define P7520 \
	"SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0" \
	"ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5v" \
		"IGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4"
/* RFC 7520 3.3 / 3.4: bilbo.baggins@hobbiton.example */
#define N7520 \
	"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZ" \
	"QHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oB" \
	"HqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVb" \
	"b9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHd" \
		"rNP5zw"
#define N7515 \
	"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEz" \
	"P1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf6" \
	"3kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5Zw" \
	"Kh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRW" \
		"yuXpoQ"
#define X7515A3	"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define Y7515A3	"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define X7520 \
	"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5c" \
		"j0Kt"
#define Y7520 \
	"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-Hq" \
		"HZR1"
#define X8037	"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define K7515 \
	"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
#define K7520	"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"

/* RFC 7520 protected headers: {"alg":"...","kid":"bilbo.baggins@hobbiton.example"} */
#define H7520_RS256	"eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9"
#define H7520_PS384	"eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9"
#define H7520_ES512	"eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9"
#define H7520_HS256 \
	"eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9"

static const struct vec vecs[] = {
	{ "RFC 7515 A.1 HS256", PC_ALG_HS256, V_OCT, K7515, NULL, NULL,
	  "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." P7515 "."
	  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" },
	{ "RFC 7515 A.2 RS256", PC_ALG_RS256, V_RSA, N7515, "AQAB", NULL,
	  "eyJhbGciOiJSUzI1NiJ9." P7515 "."
	  "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt"
	  "_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArL"
	  "IARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7no"
	  "OPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQ"
	  "Ge77Rw" },
	{ "RFC 7515 A.3 ES256", PC_ALG_ES256, V_EC, "P-256", X7515A3, Y7515A3,
	  "eyJhbGciOiJFUzI1NiJ9." P7515 "."
	  "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-"
	  "Kg6NU1Q" },
	{ "RFC 7515 A.4 ES512", PC_ALG_ES512, V_EC, "P-521",
	  "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrj"
	  "cBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk",
	  "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2T"
	  "h-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2",
	  "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA."
	  "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_"
	  "7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXo"
	  "lLzeO_Jn" },
	{ "RFC 8037 A.4 EdDSA", PC_ALG_EDDSA, V_OKP, "Ed25519", X8037, NULL,
	  "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
	  "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_"
	  "MuM0KAg" },
	{ "RFC 7520 4.1 RS256", PC_ALG_RS256, V_RSA, N7520, "AQAB", NULL,
	  H7520_RS256 "." P7520 "."
	  "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996i"
	  "vp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1u"
	  "SNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAh"
	  "b6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18"
	  "kDquDg" },
	{ "RFC 7520 4.2 PS384", PC_ALG_PS384, V_RSA, N7520, "AQAB", NULL,
	  H7520_PS384 "." P7520 "."
	  "cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqH"
	  "CdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn"
	  "442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0"
	  "n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-"
	  "X72Eaw" },
	{ "RFC 7520 4.3 ES512", PC_ALG_ES512, V_EC, "P-521", X7520, Y7520,
	  H7520_ES512 "." P7520 "."
	  "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cm"
	  "L1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRu"
	  "Bomu9xQ2" },
	{ "RFC 7520 4.4 HS256", PC_ALG_HS256, V_OCT, K7520, NULL, NULL,
	  H7520_HS256 "." P7520 ".s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0" },
};

enum { V7515_HS256, V7515_RS256, V7515_ES256, V7515_ES512, V8037_EDDSA, V7520_RS256,
	V7520_PS384, V7520_ES512, V7520_HS256 };

#endif
