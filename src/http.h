/*-------------------------------------------------------------------------
 *
 * http.h
 *		  HTTP requests over libcurl (http.c): several in flight at once on
 *		  one multi handle, tied to a memory context and to interrupts.
 *
 * Nothing here knows about AWS: the client above it (aws_client.c) signs
 * and judges requests.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDB_HTTP_H
#define DDB_HTTP_H

#include "postgres.h"

typedef struct DdbHttp DdbHttp;
typedef struct DdbHttpCall DdbHttpCall;

typedef struct DdbHttpResult
{
	long		status;			/* HTTP status, 0 when no response */
	char	   *body;			/* owned by the DdbHttp, valid until released */
	size_t		body_len;
	const char *error;			/* transport failure, NULL on a response */
	const char *error_detail;	/* libcurl's detail of it, or NULL */
	bool		retryable;		/* a failure another attempt may not meet */
	bool		tls_failure;	/* the peer's certificate was not accepted */
	bool		too_large;		/* the body was longer than max_body */
	int64		declared_length;	/* its Content-Length, or -1 if none */
	double		elapsed_ms;
} DdbHttpResult;

/* How a client connects; the same rules for every request it sends. */
typedef struct DdbHttpOptions
{
	int			connect_timeout_ms;
	int			request_timeout_ms;
	const char *ca_file;		/* CA certificates to verify with, or NULL */
	const char *proxy;			/* proxy URL, or NULL: none, whatever the
								 * environment says */
	size_t		max_body;		/* longest response body kept, 0: no limit */
	size_t		max_held;		/* all bodies of requests in flight together,
								 * 0: no limit */
	bool		sensitive;		/* bodies hold secrets: wipe them */
} DdbHttpOptions;

extern void ddb_http_global_init(void);
extern DdbHttp *ddb_http_create(const DdbHttpOptions *options);
extern DdbHttpCall *ddb_http_start(DdbHttp *http, const char *method,
								   const char *url,
								   const char *const *headers, int nheaders,
								   const char *body, size_t body_len);
extern void ddb_http_pump(DdbHttp *http);
extern void ddb_http_finish(DdbHttp *http, DdbHttpCall *call,
							DdbHttpResult *res);
extern void ddb_http_release(DdbHttp *http, DdbHttpCall *call);
extern bool ddb_http_done(DdbHttpCall *call);

#endif							/* DDB_HTTP_H */
