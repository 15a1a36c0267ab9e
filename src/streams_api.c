/*-------------------------------------------------------------------------
 *
 * streams_api.c
 *		  DescribeTable, DescribeStream, GetShardIterator and GetRecords:
 *		  signed JSON requests in, C structs and cJSON trees out.
 *
 * Every AWS error is raised naming the operation, the AWS error type and
 * the service's message.  Secrets never reach an error message.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>
#include <time.h>

#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "ddbstream_fdw.h"
#include "http.h"
#include "sigv4.h"

#define DESCRIBE_STREAM_PAGE	100 /* the most DescribeStream returns */
#define NOT_AWS_QUOTE_CHARS		200 /* how much of a non-AWS answer to quote */

typedef enum DdbApi
{
	DDB_API_DYNAMODB,
	DDB_API_STREAMS
} DdbApi;

/* Where an API is served: the URL to post to and the Host it is signed for. */
typedef struct DdbEndpoint
{
	char	   *url;
	char	   *host;
} DdbEndpoint;

struct DdbClient
{
	MemoryContext cxt;			/* the scan's: requests in flight live here */
	DdbHttp    *http;
	DdbEndpoint endpoints[2];	/* indexed by DdbApi */
	const char *region;
	DdbCredentials creds;
	DdbScanStats *stats;
	int			max_retries;
	int			retry_base_ms;
	int			retry_max_ms;
	int			max_response_bytes;
};

static void parse_endpoint(const char *url, DdbEndpoint *endpoint);
#define DDB_REQUEST_5XX_AT_ONCE	0x01
#define DDB_REQUEST_MARK_NULS	0x02	/* U+0000 may be in the answer */

static cJSON *ddb_request(DdbClient *client, DdbApi api, const char *op,
						  cJSON *body, DdbAwsError *aws_error, int flags);
static DdbPending *request_start(DdbClient *client, DdbApi api, const char *op,
								 cJSON *body, int flags);
static cJSON *request_finish(DdbClient *client, DdbPending *p,
							 DdbAwsError *aws_error);
static void pending_free(DdbPending *p);

static void parse_aws_error(long status, const char *body, size_t len,
							bool strict_json, DdbAwsError *err);
static void raise_invalid_response(DdbApi api, const char *op,
								   const char *what);
static void raise_too_large(DdbApi api, const char *op, int limit,
							int64 declared_length) pg_attribute_noreturn();
static const char *json_string(cJSON *obj, const char *name);
static const char *api_name(DdbApi api);
static bool is_sequence_number(const char *s);
typedef struct TokenSet TokenSet;
static TokenSet *token_set_create(void);
static bool token_set_add(TokenSet *set, const char *token);
static void token_set_free(TokenSet *set);
static const char *without_signed_text(const char *message);
static const char *clipped(const char *text, int max);

/*
 * Listings are bounded, so that an endpoint whose pagination never ends
 * (with a new token every page) cannot grow the backend without bound: a
 * stream keeps 24 hours of shards (thousands on the largest tables), an
 * account at most thousands of tables, AWS's IDs and names are short.
 */
#define MAX_SHARDS			200000
#define MAX_SHARD_ID		1024
#define LIST_TABLES_PAGE	100
#define MAX_TABLES			100000
#define MAX_TABLE_NAME		255

/*
 * The least room for the bodies of all requests in flight together: twice
 * the 1 MB GetRecords page of each of up to 64 shards read at once.
 */
#define MIN_BODIES_HELD		((size_t) 128 * 1024 * 1024)

/* The most of an AWS error's message and type kept for the error report. */
#define AWS_MESSAGE_CHARS	1000
#define AWS_TYPE_CHARS		200

DdbClient *
ddb_client_create(const DdbStreamOptions *opts, const DdbCredentials *creds,
				  DdbScanStats *stats)
{
	DdbClient  *client = palloc0(sizeof(DdbClient));
	DdbHttpOptions http = {0};

	client->cxt = CurrentMemoryContext;
	http.connect_timeout_ms = opts->connect_timeout_ms;
	http.request_timeout_ms = opts->request_timeout_ms;
	http.ca_file = opts->ca_file;
	http.proxy = opts->proxy;
	http.max_body = (size_t) opts->max_response_bytes;
	http.max_held = Max(MIN_BODIES_HELD, 2 * http.max_body);
	client->http = ddb_http_create(&http);
	parse_endpoint(opts->endpoint, &client->endpoints[DDB_API_DYNAMODB]);
	parse_endpoint(opts->streams_endpoint, &client->endpoints[DDB_API_STREAMS]);
	client->region = opts->region;
	client->creds = *creds;
	client->max_retries = opts->max_retries;
	client->retry_base_ms = opts->retry_base_ms;
	client->retry_max_ms = opts->retry_max_ms;
	client->max_response_bytes = opts->max_response_bytes;
	client->stats = stats;
	return client;
}

/*
 * The validator has checked that the URL starts with http:// or https:// and
 * names a host.  The Host header we sign is the URL's authority as written,
 * and we send exactly that header, so libcurl and the signature agree.
 */
static void
parse_endpoint(const char *url, DdbEndpoint *endpoint)
{
	const char *authority = strstr(url, "://");
	size_t		len;

	if (authority == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid endpoint URL \"%s\"", url)));
	authority += 3;
	len = strcspn(authority, "/");
	endpoint->host = pnstrdup(authority, len);
	endpoint->url = authority[len] ? pstrdup(url) : psprintf("%s/", url);
}

static const char *
api_name(DdbApi api)
{
	return api == DDB_API_STREAMS ? "DynamoDB Streams" : "DynamoDB";
}

/* AWS error types worth another attempt, besides any HTTP 5xx answer. */
static const char *const retryable_types[] = {
	"InternalServerError", "InternalFailure", "ServiceUnavailable",
	"ThrottlingException", "Throttling", "LimitExceededException",
	"ProvisionedThroughputExceededException", "RequestLimitExceeded",
	NULL
};

static bool
is_retryable_aws_error(const DdbAwsError *err)
{
	int			i;

	if (err->status >= 500)
		return true;
	for (i = 0; retryable_types[i]; i++)
		if (strcmp(err->type, retryable_types[i]) == 0)
			return true;
	return false;
}

/*
 * The outcome of one attempt.  On DDB_ATTEMPT_OK *json is the parsed body;
 * otherwise *failure says what went wrong and whether to try again.
 */
typedef enum DdbAttempt
{
	DDB_ATTEMPT_OK,
	DDB_ATTEMPT_TRANSPORT,		/* no (whole) response */
	DDB_ATTEMPT_AWS_ERROR,		/* an AWS error response */
	DDB_ATTEMPT_INVALID,		/* HTTP 200 with a body that is not JSON */
	DDB_ATTEMPT_TOO_LARGE		/* a body larger than max_response_bytes */
} DdbAttempt;

typedef struct DdbFailure
{
	bool		retryable;
	const char *what;			/* transport error or invalid-body reason */
	const char *detail;
	bool		tls;			/* the endpoint's certificate was refused */
	int64		declared_length;	/* of a body too large, or -1 */
	DdbAwsError aws;
} DdbFailure;

static DdbAttempt judge_response(DdbClient *client, const DdbHttpResult *res,
								 const char *not_json, int flags, cJSON **json,
								 DdbFailure *failure);

/* A request in flight, with what it takes to send it again. */
struct DdbPending
{
	DdbApi		api;
	const char *op;
	char	   *payload;		/* in client->cxt */
	size_t		payload_len;
	int			flags;
	DdbHttpCall *call;
	DdbBodyHook on_body;		/* sees a 200 answer's body before it is parsed */
	void	   *on_body_arg;
	int			limit;			/* GetRecords: the most records asked for */
};

/*
 * Sign one attempt of a request and start sending it.
 */
static void
send_attempt(DdbClient *client, DdbPending *p)
{
	DdbApi		api = p->api;
	const char *op = p->op;
	DdbEndpoint *endpoint = &client->endpoints[api];
	char		amz_date[17];
	char		authorization[1024];
	char	   *target;
	SigV4Header sign[5];
	int			nsign = 0;
	const char *lines[8];
	int			nlines = 0;
	char	   *auth_line;
	char	   *token_line = NULL;
	SigV4Request req;

	target = psprintf("%s.%s",
					  api == DDB_API_STREAMS ? "DynamoDBStreams_20120810" : "DynamoDB_20120810",
					  op);
	sigv4_format_amz_date(time(NULL), amz_date);

	sign[nsign++] = (SigV4Header) {"host", endpoint->host};
	sign[nsign++] = (SigV4Header) {"content-type", "application/x-amz-json-1.0"};
	sign[nsign++] = (SigV4Header) {"x-amz-date", amz_date};
	sign[nsign++] = (SigV4Header) {"x-amz-target", target};
	if (client->creds.session_token)
		sign[nsign++] = (SigV4Header) {"x-amz-security-token", client->creds.session_token};

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/";
	req.query = "";
	req.headers = sign;
	req.nheaders = nsign;
	req.payload = (const unsigned char *) p->payload;
	req.payload_len = p->payload_len;
	req.region = client->region;
	req.service = "dynamodb";	/* for both APIs, never "streams.dynamodb" */
	req.amz_date = amz_date;
	req.access_key_id = client->creds.access_key_id;
	req.secret_access_key = client->creds.secret_access_key;
	if (sigv4_authorization(&req, authorization, sizeof(authorization)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not sign the %s %s request", api_name(api), op)));

	lines[nlines++] = psprintf("Host: %s", endpoint->host);
	lines[nlines++] = "Content-Type: application/x-amz-json-1.0";
	lines[nlines++] = psprintf("X-Amz-Date: %s", amz_date);
	lines[nlines++] = psprintf("X-Amz-Target: %s", target);
	auth_line = psprintf("Authorization: %s", authorization);
	lines[nlines++] = auth_line;
	if (client->creds.session_token)
		lines[nlines++] = token_line =
			psprintf("X-Amz-Security-Token: %s", client->creds.session_token);
	lines[nlines++] = "Expect:";

	p->call = ddb_http_start(client->http, "POST", endpoint->url, lines, nlines,
							 p->payload, p->payload_len);
	/* libcurl has its own copy, wiped when the call is released */
	explicit_bzero(authorization, sizeof(authorization));
	explicit_bzero(auth_line, strlen(auth_line));
	if (token_line)
		explicit_bzero(token_line, strlen(token_line));
}

/*
 * Wait for an attempt's answer and judge it.  The parsed body is allocated
 * in CurrentMemoryContext.
 */
static DdbAttempt
receive_attempt(DdbClient *client, DdbPending *p, cJSON **json,
				DdbFailure *failure)
{
	DdbHttpResult res;
	DdbAttempt	outcome;
	const char *not_json = NULL;	/* why the body is not strict JSON */

	memset(failure, 0, sizeof(*failure));
	ddb_http_finish(client->http, p->call, &res);
	if (res.error == NULL)
		(void) ddb_json_check(res.body, res.body_len, &not_json);
	if (p->on_body && res.error == NULL && res.status == 200 && not_json == NULL)
		p->on_body(p->on_body_arg, res.body, res.body_len);
	outcome = judge_response(client, &res, not_json, p->flags, json, failure);
	ddb_http_release(client->http, p->call);
	p->call = NULL;
	return outcome;
}

static DdbAttempt
judge_response(DdbClient *client, const DdbHttpResult *res_in,
			   const char *not_json, int flags, cJSON **json,
			   DdbFailure *failure)
{
	DdbHttpResult res = *res_in;
	int			nuls;

	client->stats->network_ms += res.elapsed_ms;
	client->stats->bytes_received += res.body_len;
	if (res.too_large)
	{
		/* not worth another attempt: the endpoint would send it again */
		failure->declared_length = res.declared_length;
		return DDB_ATTEMPT_TOO_LARGE;
	}
	if (res.error)
	{
		failure->retryable = res.retryable;
		failure->what = res.error;
		failure->detail = res.error_detail;
		failure->tls = res.tls_failure;
		return DDB_ATTEMPT_TRANSPORT;
	}
	if (res.status != 200)
	{
		/* a body that is not strict JSON is named by its status, and quoted */
		parse_aws_error(res.status, res.body, res.body_len, not_json == NULL,
						&failure->aws);
		failure->retryable = is_retryable_aws_error(&failure->aws);
		return DDB_ATTEMPT_AWS_ERROR;
	}

	/* raw NUL bytes and control characters, which cJSON would take */
	if (not_json)
	{
		failure->what = not_json;
		return DDB_ATTEMPT_INVALID;
	}

	/*
	 * cJSON turns \u0000 into a NUL that would silently cut a string short.
	 * Records may hold U+0000: it is marked, and dealt with per string when
	 * rows are made (nul_chars.c).  No other answer has a reason to.
	 */
	nuls = ddb_mark_nuls(res.body, &res.body_len);
	if (nuls < 0)
	{
		failure->what = "The body is not valid UTF-8.";
		return DDB_ATTEMPT_INVALID;
	}
	if (nuls > 0 && !(flags & DDB_REQUEST_MARK_NULS))
	{
		failure->what = "A string contains \\u0000, which PostgreSQL cannot store.";
		return DDB_ATTEMPT_INVALID;
	}

	*json = cJSON_ParseWithLength(res.body, res.body_len);
	if (*json == NULL || !cJSON_IsObject(*json))
	{
		/* most likely cut short on the way: worth another attempt */
		failure->retryable = true;
		failure->what = "The body is not a JSON object.";
		return DDB_ATTEMPT_INVALID;
	}
	if (!ddb_json_unique_names(*json, &failure->what))
		return DDB_ATTEMPT_INVALID;
	return DDB_ATTEMPT_OK;
}

/*
 * Wait before attempt number "attempt + 1": capped exponential backoff with
 * full jitter.  The wait ends at once on a cancel or a statement timeout.
 */
static void
backoff(DdbClient *client, int attempt)
{
	double		cap = Min((double) client->retry_max_ms,
						  client->retry_base_ms * pow(2.0, Min(attempt - 1, 30)));
	long		ms = (long) (pg_prng_double(&pg_global_prng_state) * cap);
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left;

		CHECK_FOR_INTERRUPTS();
		left = (long) ((end - GetCurrentTimestamp()) / 1000);
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * Send a request, retrying what is worth retrying up to max_retries times,
 * and return the parsed response body, allocated in CurrentMemoryContext.
 *
 * A failure is raised, naming the operation, the AWS error type or transport
 * error, and how many attempts were made.  When aws_error is given, an AWS
 * error response is stored there and NULL is returned instead, for callers
 * that can do better than fail (an expired iterator, trimmed data); with
 * DDB_REQUEST_5XX_AT_ONCE a 5xx answer is returned without a retry.
 */
static cJSON *
ddb_request(DdbClient *client, DdbApi api, const char *op, cJSON *body,
			DdbAwsError *aws_error, int flags)
{
	return request_finish(client, request_start(client, api, op, body, flags),
						  aws_error);
}

/* Start the first attempt of a request; request_finish waits for it. */
static DdbPending *
request_start(DdbClient *client, DdbApi api, const char *op, cJSON *body,
			  int flags)
{
	MemoryContext old = MemoryContextSwitchTo(client->cxt);
	DdbPending *p = palloc0(sizeof(DdbPending));

	p->api = api;
	p->op = op;
	p->flags = flags;
	p->payload = cJSON_PrintUnformatted(body);
	p->payload_len = strlen(p->payload);
	MemoryContextSwitchTo(old);
	send_attempt(client, p);
	return p;
}

/*
 * Wait for a started request, retrying as ddb_request says, and free it.
 */
static cJSON *
request_finish(DdbClient *client, DdbPending *p, DdbAwsError *aws_error)
{
	int			flags = p->flags;
	DdbApi		api = p->api;
	const char *op = p->op;
	int			attempt;

	for (attempt = 1;; attempt++)
	{
		cJSON	   *json = NULL;
		DdbFailure	failure;
		DdbAttempt	outcome;

		if (attempt > 1)
			send_attempt(client, p);
		outcome = receive_attempt(client, p, &json, &failure);
		if (outcome == DDB_ATTEMPT_OK)
		{
			pending_free(p);
			return json;
		}

		failure.aws.attempts = attempt;
		if (outcome == DDB_ATTEMPT_AWS_ERROR && aws_error &&
			(flags & DDB_REQUEST_5XX_AT_ONCE) && failure.aws.status >= 500)
		{
			*aws_error = failure.aws;
			pending_free(p);
			return NULL;
		}
		if (failure.retryable && attempt <= client->max_retries)
		{
			client->stats->retries++;
			backoff(client, attempt);
			continue;
		}

		if (outcome == DDB_ATTEMPT_AWS_ERROR && aws_error)
		{
			*aws_error = failure.aws;
			pending_free(p);
			return NULL;
		}
		if (outcome == DDB_ATTEMPT_AWS_ERROR)
			ddb_raise_aws_error(api_name(api), op, &failure.aws, attempt);
		if (outcome == DDB_ATTEMPT_TOO_LARGE)
			raise_too_large(api, op, client->max_response_bytes,
							failure.declared_length);
		if (outcome == DDB_ATTEMPT_TRANSPORT)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 attempt > 1 ?
					 errmsg("%s %s request failed after %d attempts: %s",
							api_name(api), op, attempt, failure.what) :
					 errmsg("%s %s request failed: %s", api_name(api), op, failure.what),
					 failure.detail ? errdetail_internal("%s", failure.detail) : 0,
					 failure.tls ?
					 errhint("The endpoint's TLS certificate could not be verified. For a private CA, a superuser can set the server option ca_file; the certificate must name the endpoint's host.") :
					 errhint("Check the endpoint options of the server and the network.")));
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 attempt > 1 ?
				 errmsg("%s %s returned an invalid response %d times",
						api_name(api), op, attempt) :
				 errmsg("%s %s returned an invalid response", api_name(api), op),
				 errdetail_internal("%s", failure.what)));
	}
}

static void
pending_free(DdbPending *p)
{
	pfree(p->payload);
	pfree(p);
}

/*
 * Read an AWS error response: {"__type": "prefix#Name", "message": "..."}
 * (some services say "Message").  Anything else is named by its HTTP status,
 * and the start of its body kept to quote.
 */
static void
parse_aws_error(long status, const char *body, size_t len, bool strict_json,
				DdbAwsError *err)
{
	/* a body that is not strict JSON is no AWS error: only quoted */
	cJSON	   *json = strict_json ? cJSON_ParseWithLength(body, len) : NULL;
	const char *type = json ? json_string(json, "__type") : NULL;
	const char *hash;

	err->status = status;
	err->message = NULL;
	err->not_aws = NULL;
	if (type == NULL)
	{
		/* an HTML error page, a proxy's answer: quote its start */
		err->type = psprintf("HTTP %ld", status);
		err->not_aws = without_signed_text(ddb_printable(body, len, NOT_AWS_QUOTE_CHARS));
		return;
	}
	err->message = json_string(json, "message");
	if (err->message == NULL)
		err->message = json_string(json, "Message");
	if (err->message)
		err->message = clipped(without_signed_text(err->message), AWS_MESSAGE_CHARS);
	if ((hash = strrchr(type, '#')) != NULL)
		type = hash + 1;
	err->type = clipped(type, AWS_TYPE_CHARS);
}

/*
 * An endpoint's text cut to at most "max" bytes (on a character boundary),
 * so that a hostile message of megabytes does not fill errors and the log.
 */
static const char *
clipped(const char *text, int max)
{
	int			len = strlen(text);
	int			keep;

	if (len <= max)
		return text;
	keep = pg_mbcliplen(text, len, max);
	return psprintf("%.*s... (%d bytes in all)", keep, text, len);
}

/*
 * Some services explain a signature mismatch with the canonical request
 * and the string to sign, which list the signed headers with their values,
 * the session token among them: keep only what comes before those.
 */
static const char *
without_signed_text(const char *message)
{
	static const char *const markers[] = {
		"The Canonical String", "The String-to-Sign", "x-amz-security-token",
		"Authorization:", "AWS4-HMAC-SHA256"
	};
	const char *cut = NULL;
	int			i;

	for (i = 0; i < lengthof(markers); i++)
	{
		const char *p = strcasestr(message, markers[i]);

		if (p && (cut == NULL || p < cut))
			cut = p;
	}
	if (cut == NULL)
		return message;
	while (cut > message && isspace((unsigned char) cut[-1]))
		cut--;
	return psprintf("%.*s (the rest of the message is left out: it quotes the signed request)",
					(int) (cut - message), message);
}

/*
 * Raise an AWS error: the API and operation, AWS's error type, its message,
 * and how many attempts were made when there was more than one.
 */
void
ddb_raise_aws_error(const char *api, const char *op, const DdbAwsError *err,
					int attempts)
{
	const char *type = err->type;
	int			sqlstate = ERRCODE_FDW_ERROR;
	const char *hint = NULL;

	if (strcmp(type, "ResourceNotFoundException") == 0)
	{
		sqlstate = ERRCODE_FDW_TABLE_NOT_FOUND;
		hint = "Check the table name or stream ARN, and the region and endpoint of the server.";
	}
	else if (strcmp(type, "AccessDeniedException") == 0 ||
			 strcmp(type, "UnrecognizedClientException") == 0 ||
			 strcmp(type, "InvalidSignatureException") == 0 ||
			 strcmp(type, "MissingAuthenticationToken") == 0 ||
			 strcmp(type, "MissingAuthenticationTokenException") == 0 ||
			 strcmp(type, "ExpiredTokenException") == 0)
	{
		sqlstate = ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
		hint = "Check the AWS credentials of the user mapping and their IAM permissions.";
	}
	else if (strcmp(type, "TrimmedDataAccessException") == 0)
		hint = "The records at this position are older than the stream's 24-hour retention.";
	else if (strcmp(type, "ExpiredIteratorException") == 0)
		hint = "Shard iterators expire 15 minutes after they are issued.";
	else if (err->not_aws)
		hint = strcmp(api, "DynamoDB") == 0 ?
			"Check the server option \"endpoint\": it must be the URL of the DynamoDB API, such as \"https://dynamodb.us-east-1.amazonaws.com\"." :
			"Check the server options \"streams_endpoint\" and \"endpoint\": the DynamoDB Streams API is served at streams_endpoint, which defaults to endpoint.";
	else if (attempts > 1)
		hint = "Raise the server's max_retries or retry_max_ms to wait longer.";

	ereport(ERROR,
			(errcode(sqlstate),
			 attempts > 1 ?
			 errmsg("%s %s failed after %d attempts: %s", api, op, attempts, type) :
			 errmsg("%s %s failed: %s", api, op, type),
			 err->message ? errdetail_internal("%s", err->message) : 0,
			 err->not_aws ?
			 (err->not_aws[0] ?
			  errdetail("The answer is not an AWS error. It begins: %s", err->not_aws) :
			  errdetail("The answer is not an AWS error, and has no body.")) : 0,
			 hint ? errhint("%s", hint) : 0));
}

static void
raise_invalid_response(DdbApi api, const char *op, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_REPLY_HANDLE),
			 errmsg("%s %s returned an invalid response", api_name(api), op),
			 errdetail_internal("%s", what)));
}

/*
 * A response body passed max_response_bytes: the transfer was stopped before
 * the body was kept, either at its Content-Length or as it arrived.
 */
static void
raise_too_large(DdbApi api, const char *op, int limit, int64 declared_length)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("%s %s returned a response larger than %d bytes",
					api_name(api), op, limit),
			 declared_length > limit ?
			 errdetail("The response declared a length of %lld bytes; it was not read.",
					   (long long) declared_length) :
			 errdetail("The transfer was stopped when the body passed the limit."),
			 errhint("Check the endpoint options of the server. The server option max_response_bytes sets the limit.")));
}

/* The string member name of obj, or NULL when absent, null or not a string. */
static const char *
json_string(cJSON *obj, const char *name)
{
	cJSON	   *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/*
 * The ARN of a table's latest stream.  A table that never had a stream has
 * none: an error, or NULL when missing_ok.  A table whose stream was
 * disabled keeps its last stream readable for 24 hours, so that one is
 * returned.
 */
char *
ddb_describe_table_stream(DdbClient *client, const char *table_name,
						  bool missing_ok)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "ddbstream_fdw request",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	cJSON	   *body = cJSON_CreateObject();
	cJSON	   *response;
	cJSON	   *table;
	const char *arn;
	char	   *result;

	cJSON_AddStringToObject(body, "TableName", table_name);
	client->stats->requests_describe_table++;
	response = ddb_request(client, DDB_API_DYNAMODB, "DescribeTable", body, NULL, 0);
	table = cJSON_GetObjectItemCaseSensitive(response, "Table");
	if (!cJSON_IsObject(table))
		raise_invalid_response(DDB_API_DYNAMODB, "DescribeTable", "The response has no \"Table\" object.");
	arn = json_string(table, "LatestStreamArn");
	if (arn == NULL && missing_ok)
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		return NULL;
	}
	if (arn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
				 errmsg("DynamoDB table \"%s\" has no stream", table_name),
				 errdetail("Streams are not enabled on the table."),
				 errhint("Enable a stream with StreamSpecification (StreamEnabled=true) in UpdateTable.")));

	MemoryContextSwitchTo(old);
	result = pstrdup(arn);
	MemoryContextDelete(cxt);
	return result;
}

/*
 * The names of every table, following ListTables' pagination.
 */
List *
ddb_list_tables(DdbClient *client)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "ddbstream_fdw request",
											  ALLOCSET_DEFAULT_SIZES);
	List	   *names = NIL;
	char	   *start_after = NULL;
	TokenSet   *seen = token_set_create();

	for (;;)
	{
		cJSON	   *body;
		cJSON	   *response;
		cJSON	   *list;
		cJSON	   *item;
		const char *last;

		MemoryContextSwitchTo(cxt);
		body = cJSON_CreateObject();
		cJSON_AddNumberToObject(body, "Limit", LIST_TABLES_PAGE);
		if (start_after)
			cJSON_AddStringToObject(body, "ExclusiveStartTableName", start_after);
		response = ddb_request(client, DDB_API_DYNAMODB, "ListTables", body, NULL, 0);
		list = cJSON_GetObjectItemCaseSensitive(response, "TableNames");
		if (!cJSON_IsArray(list))
			raise_invalid_response(DDB_API_DYNAMODB, "ListTables",
								   "The response has no \"TableNames\" array.");
		MemoryContextSwitchTo(outer);
		if (cJSON_GetArraySize(list) > LIST_TABLES_PAGE)
			raise_invalid_response(DDB_API_DYNAMODB, "ListTables",
								   psprintf("A page lists more than the %d tables asked for.",
											LIST_TABLES_PAGE));
		cJSON_ArrayForEach(item, list)
			if (cJSON_IsString(item) && strlen(item->valuestring) <= MAX_TABLE_NAME)
				names = lappend(names, pstrdup(item->valuestring));
			else
				raise_invalid_response(DDB_API_DYNAMODB, "ListTables",
									   psprintf("A table name is not a string of at most %d bytes.",
												MAX_TABLE_NAME));
		if (list_length(names) > MAX_TABLES)
			raise_invalid_response(DDB_API_DYNAMODB, "ListTables",
								   psprintf("The listing goes on past %d tables, more than an account holds.",
											MAX_TABLES));
		last = json_string(response, "LastEvaluatedTableName");
		if (last && !token_set_add(seen, last))
			raise_invalid_response(DDB_API_DYNAMODB, "ListTables",
								   "\"LastEvaluatedTableName\" repeats a name the listing has already continued from, so the listing would never end.");
		start_after = last ? pstrdup(last) : NULL;
		MemoryContextReset(cxt);
		if (start_after == NULL)
			break;
	}
	MemoryContextDelete(cxt);
	token_set_free(seen);
	return names;
}

/*
 * Every shard of a stream, following DescribeStream's pagination.
 */
List *
ddb_describe_stream(DdbClient *client, const char *stream_arn)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "ddbstream_fdw request",
											  ALLOCSET_DEFAULT_SIZES);
	List	   *shards = NIL;
	char	   *start_after = NULL;
	TokenSet   *seen = token_set_create();

	for (;;)
	{
		cJSON	   *body;
		cJSON	   *response;

		MemoryContextSwitchTo(cxt);
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "StreamArn", stream_arn);
		cJSON_AddNumberToObject(body, "Limit", DESCRIBE_STREAM_PAGE);
		if (start_after)
			cJSON_AddStringToObject(body, "ExclusiveStartShardId", start_after);
		client->stats->requests_describe_stream++;
		response = ddb_request(client, DDB_API_STREAMS, "DescribeStream", body, NULL, 0);

		MemoryContextSwitchTo(outer);
		start_after = ddb_parse_describe_stream(response, start_after, &shards);
		MemoryContextReset(cxt);
		if (list_length(shards) > MAX_SHARDS)
			raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
								   psprintf("The listing goes on past %d shards, more than a stream keeps in its 24 hours.",
											MAX_SHARDS));
		if (start_after == NULL)
			break;
		if (!token_set_add(seen, start_after))
			raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
								   "\"LastEvaluatedShardId\" repeats a shard the listing has already continued from, so the listing would never end.");
		CHECK_FOR_INTERRUPTS();
	}
	MemoryContextDelete(cxt);
	token_set_free(seen);
	client->stats->shards_listed += list_length(shards);
	return shards;
}

/*
 * One DescribeStream answer: append its shards to *shards (allocated in
 * CurrentMemoryContext) and return its LastEvaluatedShardId, or NULL on the
 * last page.  An answer that does not make sense is an error.
 */
char *
ddb_parse_describe_stream(cJSON *response, const char *start_after,
						  List **shards)
{
	cJSON	   *desc;
	cJSON	   *list;
	cJSON	   *item;
	const char *last;

	desc = cJSON_GetObjectItemCaseSensitive(response, "StreamDescription");
	list = desc ? cJSON_GetObjectItemCaseSensitive(desc, "Shards") : NULL;
	if (!cJSON_IsObject(desc) || (list && !cJSON_IsArray(list)))
		raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
							   "The response has no \"StreamDescription\" object with a \"Shards\" array.");

	if (cJSON_GetArraySize(list) > DESCRIBE_STREAM_PAGE)
		raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
							   psprintf("A page lists more than the %d shards asked for.",
										DESCRIBE_STREAM_PAGE));
	cJSON_ArrayForEach(item, list)
	{
		cJSON	   *range = cJSON_GetObjectItemCaseSensitive(item, "SequenceNumberRange");
		const char *id = json_string(item, "ShardId");
		const char *parent = json_string(item, "ParentShardId");
		const char *first = range ? json_string(range, "StartingSequenceNumber") : NULL;
		const char *end = range ? json_string(range, "EndingSequenceNumber") : NULL;
		DdbShard   *shard;

		if (id == NULL || first == NULL)
			raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
								   "A shard lacks \"ShardId\" or \"StartingSequenceNumber\".");
		if (strlen(id) > MAX_SHARD_ID || (parent && strlen(parent) > MAX_SHARD_ID))
			raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
								   psprintf("A shard ID is longer than %d bytes.", MAX_SHARD_ID));
		if (!is_sequence_number(first) || (end && !is_sequence_number(end)))
			raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
								   "A shard's sequence number range is not made of 1 to 40 digits.");
		shard = palloc(sizeof(DdbShard));
		shard->shard_id = pstrdup(id);
		shard->parent_shard_id = parent ? pstrdup(parent) : NULL;
		shard->starting_seq = pstrdup(first);
		shard->ending_seq = end ? pstrdup(end) : NULL;
		*shards = lappend(*shards, shard);
	}

	last = json_string(desc, "LastEvaluatedShardId");
	if (last && start_after && strcmp(last, start_after) == 0)
		raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
							   "\"LastEvaluatedShardId\" did not advance.");
	return last ? pstrdup(last) : NULL;
}

/* 1 to 40 digits, as sequence numbers are. */
static bool
is_sequence_number(const char *s)
{
	size_t		n = strspn(s, "0123456789");

	return n > 0 && n <= DDB_SEQ_MAX_DIGITS && s[n] == '\0';
}

/*
 * The pagination tokens a listing has continued from.  An endpoint that
 * hands out a token it gave before (a, b, a, b, ...) would keep the listing
 * going, and growing, for ever: such a token ends it with an error.
 */
struct TokenSet
{
	MemoryContext cxt;			/* the table and the copies of the tokens */
	HTAB	   *htab;			/* keys: pointers to the copies */
};

static uint32
token_hash(const void *key, Size keysize)
{
	const char *token = *(const char *const *) key;

	return hash_bytes((const unsigned char *) token, (int) strlen(token));
}

static int
token_match(const void *a, const void *b, Size keysize)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static TokenSet *
token_set_create(void)
{
	TokenSet   *set = palloc(sizeof(TokenSet));
	HASHCTL		ctl;

	set->cxt = AllocSetContextCreate(CurrentMemoryContext,
									 "ddbstream_fdw pagination tokens",
									 ALLOCSET_SMALL_SIZES);
	ctl.keysize = sizeof(char *);
	ctl.entrysize = sizeof(char *);
	ctl.hash = token_hash;
	ctl.match = token_match;
	ctl.hcxt = set->cxt;
	set->htab = hash_create("ddbstream_fdw pagination tokens", 64, &ctl,
							HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	return set;
}

/* Add a token; false when the set already held it. */
static bool
token_set_add(TokenSet *set, const char *token)
{
	bool		found;

	(void) hash_search(set->htab, &token, HASH_FIND, &found);
	if (found)
		return false;
	token = MemoryContextStrdup(set->cxt, token);
	(void) hash_search(set->htab, &token, HASH_ENTER, &found);
	return true;
}

static void
token_set_free(TokenSet *set)
{
	MemoryContextDelete(set->cxt);
	pfree(set);
}

/*
 * An iterator where the task says.  With aws_error, an AWS error response
 * is returned there (with NULL) instead of raised; a 5xx answer to a
 * position by sequence number is returned at once, without retries (see
 * start_shard).
 */
char *
ddb_get_shard_iterator(DdbClient *client, const char *stream_arn,
					   const DdbShardTask *task, DdbAwsError *aws_error)
{
	return ddb_get_shard_iterator_finish(client,
										 ddb_get_shard_iterator_start(client, stream_arn, task),
										 aws_error);
}

/* Start a GetShardIterator request; finish it with the function below. */
DdbPending *
ddb_get_shard_iterator_start(DdbClient *client, const char *stream_arn,
							 const DdbShardTask *task)
{
	static const char *const type_names[] = {
		[DDB_START_TRIM_HORIZON] = "TRIM_HORIZON",
		[DDB_START_LATEST] = "LATEST",
		[DDB_START_AT_SEQUENCE_NUMBER] = "AT_SEQUENCE_NUMBER",
		[DDB_START_AFTER_SEQUENCE_NUMBER] = "AFTER_SEQUENCE_NUMBER",
	};
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "ddbstream_fdw request",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	bool		by_number = (task->start == DDB_START_AT_SEQUENCE_NUMBER ||
							 task->start == DDB_START_AFTER_SEQUENCE_NUMBER);
	cJSON	   *body = cJSON_CreateObject();
	DdbPending *p;

	cJSON_AddStringToObject(body, "StreamArn", stream_arn);
	cJSON_AddStringToObject(body, "ShardId", task->shard->shard_id);
	cJSON_AddStringToObject(body, "ShardIteratorType", type_names[task->start]);
	if (by_number)
		cJSON_AddStringToObject(body, "SequenceNumber", task->start_seq);
	client->stats->requests_get_shard_iterator++;
	p = request_start(client, DDB_API_STREAMS, "GetShardIterator", body,
					  by_number ? DDB_REQUEST_5XX_AT_ONCE : 0);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return p;
}

/*
 * The shard iterator, in CurrentMemoryContext.  With aws_error, an AWS error
 * response is returned there (with NULL) instead of raised.
 */
char *
ddb_get_shard_iterator_finish(DdbClient *client, DdbPending *p,
							  DdbAwsError *aws_error)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "ddbstream_fdw request",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	cJSON	   *response;
	const char *iterator;
	char	   *result;

	response = request_finish(client, p, aws_error);
	if (response == NULL)
	{
		MemoryContextSwitchTo(old);
		aws_error->type = pstrdup(aws_error->type);
		aws_error->message = aws_error->message ? pstrdup(aws_error->message) : NULL;
		aws_error->not_aws = aws_error->not_aws ? pstrdup(aws_error->not_aws) : NULL;
		MemoryContextDelete(cxt);
		return NULL;
	}
	iterator = json_string(response, "ShardIterator");
	if (iterator == NULL)
		raise_invalid_response(DDB_API_STREAMS, "GetShardIterator",
							   "The response has no \"ShardIterator\" string.");
	MemoryContextSwitchTo(old);
	result = pstrdup(iterator);
	MemoryContextDelete(cxt);
	return result;
}

/*
 * One page of records.  The returned array and *next_iterator live in
 * CurrentMemoryContext, which the caller resets per page.  *next_iterator is
 * NULL when the shard is closed and this was its last page.  With aws_error,
 * an AWS error response is returned there (with NULL) instead of raised.
 */
cJSON *
ddb_get_records(DdbClient *client, const char *iterator, int limit,
				char **next_iterator, DdbAwsError *aws_error)
{
	return ddb_get_records_finish(client,
								  ddb_get_records_start(client, iterator, limit),
								  next_iterator, aws_error, NULL, NULL);
}

/* Start a GetRecords request; finish it with the function below. */
DdbPending *
ddb_get_records_start(DdbClient *client, const char *iterator, int limit)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "ddbstream_fdw request",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	cJSON	   *body = cJSON_CreateObject();
	DdbPending *p;

	cJSON_AddStringToObject(body, "ShardIterator", iterator);
	cJSON_AddNumberToObject(body, "Limit", limit);
	client->stats->requests_get_records++;
	p = request_start(client, DDB_API_STREAMS, "GetRecords", body,
					  DDB_REQUEST_MARK_NULS);
	p->limit = limit;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return p;
}

/*
 * As ddb_get_records, for a request started by ddb_get_records_start.  With
 * on_body, the raw body of an answer is shown to it before it is parsed
 * (for reading ahead).
 */
cJSON *
ddb_get_records_finish(DdbClient *client, DdbPending *p, char **next_iterator,
					   DdbAwsError *aws_error, DdbBodyHook on_body,
					   void *on_body_arg)
{
	cJSON	   *response;
	cJSON	   *records;
	const char *next;
	int			limit = p->limit;

	p->on_body = on_body;
	p->on_body_arg = on_body_arg;
	response = request_finish(client, p, aws_error);
	if (response == NULL)
		return NULL;
	records = cJSON_GetObjectItemCaseSensitive(response, "Records");
	if (!cJSON_IsArray(records))
		raise_invalid_response(DDB_API_STREAMS, "GetRecords", "The response has no \"Records\" array.");
	if (cJSON_GetArraySize(records) > limit)
		raise_invalid_response(DDB_API_STREAMS, "GetRecords",
							   psprintf("The page holds %d records; the request asked for at most %d (Limit).",
										cJSON_GetArraySize(records), limit));
	next = json_string(response, "NextShardIterator");
	*next_iterator = next ? (char *) next : NULL;
	return records;
}

/* Is the request's answer in, so that finishing it would not wait? */
bool
ddb_pending_ready(DdbClient *client, DdbPending *p)
{
	return ddb_http_done(p->call);
}

/* Abandon a request in flight. */
void
ddb_pending_cancel(DdbClient *client, DdbPending *p)
{
	if (p->call)
		ddb_http_release(client->http, p->call);
	pending_free(p);
}

/* Let the requests in flight go on receiving while rows are converted. */
void
ddb_client_pump(DdbClient *client)
{
	ddb_http_pump(client->http);
}
