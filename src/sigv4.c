/*-------------------------------------------------------------------------
 *
 * sigv4.c
 *		  AWS Signature Version 4 request signing: pure functions, no
 *		  catalog access.
 *
 * Authorization = "AWS4-HMAC-SHA256 Credential=<key>/<scope>,
 * SignedHeaders=<names>, Signature=<hex HMAC of the string to sign>", where
 * the string to sign hashes the canonical request and the signing key is
 * derived from the secret by HMAC over date, region, service and
 * "aws4_request".  Derived keys are wiped from the stack before returning.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "sigv4.h"

#define SIGV4_MAX_HEADERS	32
#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"

/* A bounded string builder over a caller's buffer. */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	int			overflow;
} Buf;

static void
buf_init(Buf *b, char *data, size_t cap)
{
	b->data = data;
	b->len = 0;
	b->cap = cap;
	b->overflow = (cap == 0);
	if (cap > 0)
		data[0] = '\0';
}

static void
buf_putn(Buf *b, const char *s, size_t n)
{
	if (b->overflow || b->len + n + 1 > b->cap)
	{
		b->overflow = 1;
		return;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
buf_puts(Buf *b, const char *s)
{
	buf_putn(b, s, strlen(s));
}

static void
buf_putc(Buf *b, char c)
{
	buf_putn(b, &c, 1);
}

static void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t		i;

	for (i = 0; i < len; i++)
	{
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xF];
	}
	out[2 * len] = '\0';
}

void
sigv4_sha256_hex(const unsigned char *data, size_t len, char out[65])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];

	SHA256(data, len, digest);
	hex_encode(digest, sizeof(digest), out);
}

void
sigv4_format_amz_date(time_t t, char out[17])
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static void
hmac_sha256(const unsigned char *key, size_t keylen, const char *msg,
			unsigned char out[SHA256_DIGEST_LENGTH])
{
	unsigned int outlen = SHA256_DIGEST_LENGTH;

	HMAC(EVP_sha256(), key, (int) keylen, (const unsigned char *) msg,
		 strlen(msg), out, &outlen);
}

/* Header names are compared lower-cased; equal names keep their order. */
typedef struct SortedHeader
{
	const SigV4Header *h;
	int			pos;
} SortedHeader;

static int
header_name_cmp(const void *a, const void *b)
{
	const SortedHeader *x = a;
	const SortedHeader *y = b;
	int			c = strcasecmp(x->h->name, y->h->name);

	return c != 0 ? c : x->pos - y->pos;
}

static int
sort_headers(const SigV4Request *req, SortedHeader *sorted)
{
	int			i;

	if (req->nheaders < 0 || req->nheaders > SIGV4_MAX_HEADERS)
		return -1;
	for (i = 0; i < req->nheaders; i++)
	{
		if (req->headers[i].name == NULL || req->headers[i].value == NULL)
			return -1;
		sorted[i].h = &req->headers[i];
		sorted[i].pos = i;
	}
	qsort(sorted, req->nheaders, sizeof(SortedHeader), header_name_cmp);
	return 0;
}

static void
put_lower(Buf *b, const char *s)
{
	for (; *s; s++)
		buf_putc(b, (char) tolower((unsigned char) *s));
}

/* A header value with leading and trailing blanks removed and runs of blanks collapsed. */
static void
put_trimmed(Buf *b, const char *s)
{
	int			pending_space = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s; s++)
	{
		if (*s == ' ' || *s == '\t')
			pending_space = 1;
		else
		{
			if (pending_space)
				buf_putc(b, ' ');
			pending_space = 0;
			buf_putc(b, *s);
		}
	}
}

/* "host;x-amz-date;...": the lower-cased, sorted, distinct names. */
static void
put_signed_headers(Buf *b, const SortedHeader *sorted, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if (i > 0 && strcasecmp(sorted[i].h->name, sorted[i - 1].h->name) == 0)
			continue;
		if (i > 0)
			buf_putc(b, ';');
		put_lower(b, sorted[i].h->name);
	}
}

/* One query parameter, URI-encoded as SigV4 wants (unreserved kept, % kept). */
static void
put_query_part(Buf *b, const char *s, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '%')
			buf_putc(b, (char) c);
		else
		{
			buf_putc(b, '%');
			buf_putc(b, digits[c >> 4]);
			buf_putc(b, digits[c & 0xF]);
		}
	}
}

typedef struct QueryParam
{
	const char *key;
	size_t		keylen;
	const char *value;
	size_t		valuelen;
} QueryParam;

static int
query_param_cmp(const void *a, const void *b)
{
	const QueryParam *x = a;
	const QueryParam *y = b;
	size_t		n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int			c = memcmp(x->key, y->key, n);

	if (c == 0 && x->keylen != y->keylen)
		c = x->keylen < y->keylen ? -1 : 1;
	if (c == 0)
	{
		n = x->valuelen < y->valuelen ? x->valuelen : y->valuelen;
		c = memcmp(x->value, y->value, n);
		if (c == 0 && x->valuelen != y->valuelen)
			c = x->valuelen < y->valuelen ? -1 : 1;
	}
	return c;
}

/* Parameters sorted by name then value, each as name=value. */
static int
put_canonical_query(Buf *b, const char *query)
{
	QueryParam	params[64];
	int			n = 0;
	int			i;
	const char *p = query;

	while (p && *p)
	{
		const char *end = p + strcspn(p, "&");
		const char *eq = memchr(p, '=', end - p);

		if (end > p)
		{
			if (n == (int) (sizeof(params) / sizeof(params[0])))
				return -1;
			params[n].key = p;
			params[n].keylen = eq ? (size_t) (eq - p) : (size_t) (end - p);
			params[n].value = eq ? eq + 1 : end;
			params[n].valuelen = eq ? (size_t) (end - eq - 1) : 0;
			n++;
		}
		p = *end ? end + 1 : end;
	}
	qsort(params, n, sizeof(QueryParam), query_param_cmp);
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			buf_putc(b, '&');
		put_query_part(b, params[i].key, params[i].keylen);
		buf_putc(b, '=');
		put_query_part(b, params[i].value, params[i].valuelen);
	}
	return 0;
}

int
sigv4_canonical_request(const SigV4Request *req, char *out, size_t outlen)
{
	SortedHeader sorted[SIGV4_MAX_HEADERS];
	char		payload_hash[65];
	Buf			b;
	int			i;

	if (req->method == NULL || req->path == NULL || sort_headers(req, sorted) != 0)
		return -1;
	buf_init(&b, out, outlen);
	buf_puts(&b, req->method);
	buf_putc(&b, '\n');
	buf_puts(&b, req->path[0] ? req->path : "/");
	buf_putc(&b, '\n');
	if (put_canonical_query(&b, req->query) != 0)
		return -1;
	buf_putc(&b, '\n');

	/* canonical headers: name:value, values of repeated names joined by commas */
	for (i = 0; i < req->nheaders; i++)
	{
		int			repeat = (i > 0 && strcasecmp(sorted[i].h->name, sorted[i - 1].h->name) == 0);

		if (repeat)
			buf_putc(&b, ',');
		else
		{
			if (i > 0)
				buf_putc(&b, '\n');
			put_lower(&b, sorted[i].h->name);
			buf_putc(&b, ':');
		}
		put_trimmed(&b, sorted[i].h->value);
	}
	buf_puts(&b, "\n\n");
	put_signed_headers(&b, sorted, req->nheaders);
	buf_putc(&b, '\n');
	sigv4_sha256_hex(req->payload ? req->payload : (const unsigned char *) "",
					 req->payload ? req->payload_len : 0, payload_hash);
	buf_puts(&b, payload_hash);
	return b.overflow ? -1 : 0;
}

/* "20150830/us-east-1/service/aws4_request" */
static int
credential_scope(const SigV4Request *req, char *out, size_t outlen)
{
	int			n;

	if (req->amz_date == NULL || strlen(req->amz_date) < 8 ||
		req->region == NULL || req->service == NULL)
		return -1;
	n = snprintf(out, outlen, "%.8s/%s/%s/aws4_request",
				 req->amz_date, req->region, req->service);
	return (n < 0 || (size_t) n >= outlen) ? -1 : 0;
}

int
sigv4_string_to_sign(const SigV4Request *req, char *out, size_t outlen)
{
	char		canonical[16384];
	char		scope[256];
	char		hash[65];
	int			n;

	if (sigv4_canonical_request(req, canonical, sizeof(canonical)) != 0 ||
		credential_scope(req, scope, sizeof(scope)) != 0)
		return -1;
	sigv4_sha256_hex((const unsigned char *) canonical, strlen(canonical), hash);
	/* the canonical request lists the signed headers, any session token too */
	OPENSSL_cleanse(canonical, sizeof(canonical));
	n = snprintf(out, outlen, SIGV4_ALGORITHM "\n%s\n%s\n%s", req->amz_date, scope, hash);
	return (n < 0 || (size_t) n >= outlen) ? -1 : 0;
}

int
sigv4_authorization(const SigV4Request *req, char *out, size_t outlen)
{
	SortedHeader sorted[SIGV4_MAX_HEADERS];
	char		to_sign[512];
	char		scope[256];
	char		date[9];
	char		signature[65];
	unsigned char key[SHA256_DIGEST_LENGTH];
	unsigned char mac[SHA256_DIGEST_LENGTH];
	unsigned char *secret;
	size_t		secretlen;
	Buf			b;

	if (req->access_key_id == NULL || req->secret_access_key == NULL ||
		sigv4_string_to_sign(req, to_sign, sizeof(to_sign)) != 0 ||
		credential_scope(req, scope, sizeof(scope)) != 0 ||
		sort_headers(req, sorted) != 0)
		return -1;

	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
	secretlen = strlen(req->secret_access_key) + 4;
	secret = malloc(secretlen + 1);
	if (secret == NULL)
		return -1;
	memcpy(secret, "AWS4", 4);
	memcpy(secret + 4, req->secret_access_key, secretlen - 4);
	memcpy(date, req->amz_date, 8);
	date[8] = '\0';
	hmac_sha256(secret, secretlen, date, key);
	OPENSSL_cleanse(secret, secretlen);
	free(secret);
	hmac_sha256(key, sizeof(key), req->region, mac);
	hmac_sha256(mac, sizeof(mac), req->service, key);
	hmac_sha256(key, sizeof(key), "aws4_request", mac);
	hmac_sha256(mac, sizeof(mac), to_sign, key);
	memcpy(mac, key, sizeof(mac));
	OPENSSL_cleanse(key, sizeof(key));
	hex_encode(mac, sizeof(mac), signature);
	OPENSSL_cleanse(mac, sizeof(mac));

	buf_init(&b, out, outlen);
	buf_puts(&b, SIGV4_ALGORITHM " Credential=");
	buf_puts(&b, req->access_key_id);
	buf_putc(&b, '/');
	buf_puts(&b, scope);
	buf_puts(&b, ", SignedHeaders=");
	put_signed_headers(&b, sorted, req->nheaders);
	buf_puts(&b, ", Signature=");
	buf_puts(&b, signature);
	OPENSSL_cleanse(signature, sizeof(signature));
	return b.overflow ? -1 : 0;
}
