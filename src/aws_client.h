/*-------------------------------------------------------------------------
 *
 * aws_client.h
 *		  A client of AWS's JSON APIs (aws_client.c): signed requests, sent
 *		  several at once, retried with backoff, answers checked and parsed.
 *
 * It takes plain structs (where to connect, how long to wait, how often to
 * retry, credentials) and knows nothing of foreign tables or scans.  A
 * request is started, may be waited for (to look at its raw body), and is
 * parsed; the caller decides what happens in between.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDB_AWS_CLIENT_H
#define DDB_AWS_CLIENT_H

#include "postgres.h"

#include <cJSON.h>

#include "pg_compat.h"

typedef enum DdbApi
{
	DDB_API_DYNAMODB,
	DDB_API_STREAMS
} DdbApi;

/* Where and how a client connects, and how hard it tries. */
typedef struct DdbAwsConfig
{
	const char *region;
	const char *endpoint;		/* DynamoDB API URL */
	const char *streams_endpoint;	/* DynamoDB Streams API URL */
	int			connect_timeout_ms;
	int			request_timeout_ms;
	int			max_retries;
	int			retry_base_ms;
	int			retry_max_ms;
	int			max_response_bytes; /* the largest response body accepted */
	const char *ca_file;		/* CA certificates for https, or NULL */
	const char *proxy;			/* proxy URL, or NULL: no proxy at all */
} DdbAwsConfig;

typedef struct DdbCredentials
{
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;	/* NULL when none */
} DdbCredentials;

/* Operations a client counts requests of, for EXPLAIN ANALYZE. */
#define DDB_MAX_COUNTED_OPS 8

/* The work a client did. */
typedef struct DdbClientStats
{
	const char *ops[DDB_MAX_COUNTED_OPS];	/* operation names */
	long		requests[DDB_MAX_COUNTED_OPS];	/* requests of each */
	long		retries;		/* requests sent again after a failure */
	long		bytes_received;
	double		network_ms;
} DdbClientStats;

/* An AWS error answer, for callers that handle some instead of failing. */
typedef struct DdbAwsError
{
	long		status;			/* HTTP status */
	const char *type;			/* AWS error type without its prefix */
	const char *message;		/* AWS's message, or NULL */
	const char *not_aws;		/* the start of a body that is not an AWS
								 * error (made printable), else NULL */
	int			attempts;		/* how many attempts were made */
} DdbAwsError;

/* Flags of ddb_request_start */
#define DDB_REQUEST_5XX_AT_ONCE	0x01	/* a 5xx answer is returned, no retry */
#define DDB_REQUEST_MARK_NULS	0x02	/* U+0000 may be in the answer, and be
										 * sent back marked */

typedef struct DdbClient DdbClient;
typedef struct DdbRequest DdbRequest;

extern DdbClient *ddb_client_create(const DdbAwsConfig *config,
									const DdbCredentials *creds);
extern const DdbClientStats *ddb_client_stats(DdbClient *client);
extern void ddb_client_count_retry(DdbClient *client);
extern void ddb_client_pump(DdbClient *client);
extern void ddb_client_backoff(DdbClient *client, int attempt);

extern DdbRequest *ddb_request_start(DdbClient *client, DdbApi api,
									 const char *op, cJSON *body, int flags);
extern bool ddb_request_ready(DdbClient *client, DdbRequest *req);
extern const char *ddb_request_wait(DdbClient *client, DdbRequest *req,
									size_t *len);
extern cJSON *ddb_request_parse(DdbClient *client, DdbRequest *req,
								DdbAwsError *aws_error);
extern void ddb_request_cancel(DdbClient *client, DdbRequest *req);
extern cJSON *ddb_request(DdbClient *client, DdbApi api, const char *op,
						  cJSON *body, int flags, DdbAwsError *aws_error);

extern void ddb_stats_add(DdbClientStats *into, const DdbClientStats *from);
extern long ddb_stats_requests(const DdbClientStats *stats, const char *op);

extern const char *ddb_api_name(DdbApi api);
extern const char *ddb_json_string(cJSON *obj, const char *name);
pg_noreturn extern void ddb_raise_invalid_response(DdbApi api, const char *op,
												   const char *what);
pg_noreturn extern void ddb_raise_aws_error(const char *api, const char *op,
											const DdbAwsError *err, int attempts);

#endif							/* DDB_AWS_CLIENT_H */
