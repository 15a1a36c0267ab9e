/*-------------------------------------------------------------------------
 *
 * sigv4.h
 *		  AWS Signature Version 4 request signing (sigv4.c).
 *
 * Pure functions over caller-provided buffers, with OpenSSL as the only
 * dependency, so that unit tests and fuzzers link them without PostgreSQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SIGV4_H
#define SIGV4_H

#include <stddef.h>
#include <time.h>

typedef struct SigV4Header
{
	const char *name;			/* any case */
	const char *value;			/* trimmed and space-collapsed when signed */
} SigV4Header;

typedef struct SigV4Request
{
	const char *method;			/* "POST" */
	const char *path;			/* canonical URI, already URI-encoded: "/" */
	const char *query;			/* raw query string, or "" or NULL */
	const SigV4Header *headers; /* the headers to sign, in any order */
	int			nheaders;
	const unsigned char *payload;
	size_t		payload_len;
	const char *region;			/* "us-east-1" */
	const char *service;		/* "dynamodb" */
	const char *amz_date;		/* the X-Amz-Date value, "20150830T123600Z" */
	const char *access_key_id;
	const char *secret_access_key;
} SigV4Request;

/*
 * Each writes a NUL-terminated string into out and returns 0, or returns -1
 * when out is too small or the request is invalid.
 */
extern int	sigv4_canonical_request(const SigV4Request *req, char *out, size_t outlen);
extern int	sigv4_string_to_sign(const SigV4Request *req, char *out, size_t outlen);
extern int	sigv4_authorization(const SigV4Request *req, char *out, size_t outlen);

extern void sigv4_sha256_hex(const unsigned char *data, size_t len, char out[65]);
extern void sigv4_format_amz_date(time_t t, char out[17]);

#endif							/* SIGV4_H */
