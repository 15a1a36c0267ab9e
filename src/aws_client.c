/*-------------------------------------------------------------------------
 *
 * aws_client.c
 *		  A client of AWS's JSON APIs: requests signed with SigV4, sent
 *		  several at once over one libcurl multi handle, retried with capped
 *		  exponential backoff, and their answers checked before they are
 *		  parsed.
 *
 * A request is started (ddb_request_start), may be waited for to look at
 * its raw body before it is parsed (ddb_request_wait: a scan finds the next
 * page's iterator there and asks for it at once), and is parsed
 * (ddb_request_parse), which also sends it again when an answer is worth
 * another attempt.  Nothing here calls back into its caller.
 *
 * Every AWS error is raised naming the API, the operation, the AWS error
 * type and the service's message.  Secrets never reach an error message.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>
#include <time.h>

#include "common/pg_prng.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "aws_client.h"
#include "ddbstream_fdw.h"
#include "http.h"
#include "sigv4.h"

#define NOT_AWS_QUOTE_CHARS		200 /* how much of a non-AWS answer to quote */

/*
 * The least room for the bodies of all requests in flight together: twice
 * the 1 MB GetRecords page of each of up to 64 shards read at once.
 */
#define MIN_BODIES_HELD		((size_t) 128 * 1024 * 1024)

/* The most of an AWS error's message and type kept for the error report. */
#define AWS_MESSAGE_CHARS	1000
#define AWS_TYPE_CHARS		200

/* Where an API is served: the URL to post to and the Host it is signed for. */
typedef struct DdbEndpoint
{
	char	   *url;
	char	   *host;
} DdbEndpoint;

struct DdbClient
{
	MemoryContext cxt;			/* requests in flight live here */
	DdbHttp    *http;
	DdbEndpoint endpoints[2];	/* indexed by DdbApi */
	DdbAwsConfig config;
	DdbCredentials creds;
	DdbClientStats stats;
};

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

/* A request in flight, with what it takes to send it again. */
struct DdbRequest
{
	DdbApi		api;
	const char *op;
	char	   *payload;		/* in client->cxt */
	size_t		payload_len;
	int			flags;
	DdbHttpCall *call;			/* the attempt in flight */
	bool		received;		/* its answer is in res */
	DdbHttpResult res;
	const char *not_json;		/* why res.body is not strict JSON, or NULL */
};

static void parse_endpoint(const char *url, DdbEndpoint *endpoint);
static void count_request(DdbClient *client, const char *op);
static void send_attempt(DdbClient *client, DdbRequest *req);
static void receive_attempt(DdbClient *client, DdbRequest *req);
static DdbAttempt judge_response(DdbClient *client, const DdbHttpResult *res,
								 const char *not_json, int flags, cJSON **json,
								 DdbFailure *failure, MemoryContext failure_cxt);
static bool is_retryable_aws_error(const DdbAwsError *err);
pg_noreturn static void raise_failure(DdbClient *client, DdbRequest *req,
									  DdbAttempt outcome, const DdbFailure *failure,
									  int attempt);
static void request_free(DdbRequest *req);
static char *unmark_nuls(char *payload);
static void parse_aws_error(long status, const char *body, size_t len,
							bool strict_json, DdbAwsError *err);
pg_noreturn static void raise_too_large(DdbApi api, const char *op, int limit,
										int64 declared_length);
static const char *without_signed_text(const char *message);
static const char *clipped(const char *text, int max);

/*
 * A client whose requests, buffers and libcurl handles live as long as
 * CurrentMemoryContext.
 */
DdbClient *
ddb_client_create(const DdbAwsConfig *config, const DdbCredentials *creds)
{
	DdbClient  *client = palloc0(sizeof(DdbClient));
	DdbHttpOptions http = {0};

	client->cxt = CurrentMemoryContext;
	http.connect_timeout_ms = config->connect_timeout_ms;
	http.request_timeout_ms = config->request_timeout_ms;
	http.ca_file = config->ca_file;
	http.proxy = config->proxy;
	http.max_body = (size_t) config->max_response_bytes;
	http.max_held = Max(MIN_BODIES_HELD, 2 * http.max_body);
	client->http = ddb_http_create(&http);
	parse_endpoint(config->endpoint, &client->endpoints[DDB_API_DYNAMODB]);
	parse_endpoint(config->streams_endpoint, &client->endpoints[DDB_API_STREAMS]);
	client->config = *config;
	client->creds = *creds;
	return client;
}

/* The requests, retries, bytes and network time of the client so far. */
const DdbClientStats *
ddb_client_stats(DdbClient *client)
{
	return &client->stats;
}

/*
 * Count a request the caller sends again after a failure it dealt with
 * itself (a new iterator for an expired one), among the client's retries.
 */
void
ddb_client_count_retry(DdbClient *client)
{
	client->stats.retries++;
}

/* Let the requests in flight go on receiving while the caller works. */
void
ddb_client_pump(DdbClient *client)
{
	ddb_http_pump(client->http);
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

const char *
ddb_api_name(DdbApi api)
{
	return api == DDB_API_STREAMS ? "DynamoDB Streams" : "DynamoDB";
}

/* Count a request of an operation, among the first DDB_MAX_COUNTED_OPS. */
static void
count_request(DdbClient *client, const char *op)
{
	DdbClientStats *s = &client->stats;
	int			i;

	for (i = 0; i < DDB_MAX_COUNTED_OPS && s->ops[i]; i++)
		if (strcmp(s->ops[i], op) == 0)
			break;
	if (i == DDB_MAX_COUNTED_OPS)
		return;
	s->ops[i] = op;
	s->requests[i]++;
}

/* Add the counts of one client to those of another, or to a total. */
void
ddb_stats_add(DdbClientStats *into, const DdbClientStats *from)
{
	int			i;

	for (i = 0; i < DDB_MAX_COUNTED_OPS && from->ops[i]; i++)
	{
		int			j;

		for (j = 0; j < DDB_MAX_COUNTED_OPS && into->ops[j]; j++)
			if (strcmp(into->ops[j], from->ops[i]) == 0)
				break;
		if (j == DDB_MAX_COUNTED_OPS)
			continue;
		into->ops[j] = from->ops[i];
		into->requests[j] += from->requests[i];
	}
	into->retries += from->retries;
	into->bytes_received += from->bytes_received;
	into->network_ms += from->network_ms;
}

/* How many requests of an operation were sent (first attempts). */
long
ddb_stats_requests(const DdbClientStats *stats, const char *op)
{
	int			i;

	for (i = 0; i < DDB_MAX_COUNTED_OPS && stats->ops[i]; i++)
		if (strcmp(stats->ops[i], op) == 0)
			return stats->requests[i];
	return 0;
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
 * Start the first attempt of a request.  The body is copied: the caller may
 * free it at once.
 */
DdbRequest *
ddb_request_start(DdbClient *client, DdbApi api, const char *op, cJSON *body,
				  int flags)
{
	MemoryContext old = MemoryContextSwitchTo(client->cxt);
	DdbRequest *req = palloc0(sizeof(DdbRequest));

	req->api = api;
	req->op = op;
	req->flags = flags;
	req->payload = cJSON_PrintUnformatted(body);
	if (flags & DDB_REQUEST_MARK_NULS)
		req->payload = unmark_nuls(req->payload);
	req->payload_len = strlen(req->payload);
	MemoryContextSwitchTo(old);
	count_request(client, op);
	send_attempt(client, req);
	return req;
}

/*
 * A request that may send back what an answer held (a LastEvaluatedKey as
 * ExclusiveStartKey) writes each U+0000 that was marked in the answer
 * (nul_chars.c) as JSON's \u0000 again.  The mark is never part of UTF-8,
 * so no other byte of the payload is touched.
 */
static char *
unmark_nuls(char *payload)
{
	StringInfoData buf;
	char	   *p;

	if (strchr(payload, DDB_NUL_MARK) == NULL)
		return payload;
	initStringInfo(&buf);
	for (p = payload; *p; p++)
	{
		if (*p == DDB_NUL_MARK)
			appendStringInfoString(&buf, "\\u0000");
		else
			appendStringInfoChar(&buf, *p);
	}
	pfree(payload);
	return buf.data;
}

/* Is the answer to the attempt in flight in, so that waiting would not wait? */
bool
ddb_request_ready(DdbClient *client, DdbRequest *req)
{
	return req->received || ddb_http_done(req->call);
}

/*
 * Wait for the answer to the attempt in flight.  When it is an HTTP 200
 * with a body of strict JSON, return that raw body (valid until the request
 * is parsed or cancelled); otherwise NULL.  ddb_request_parse judges it.
 */
const char *
ddb_request_wait(DdbClient *client, DdbRequest *req, size_t *len)
{
	receive_attempt(client, req);
	if (req->res.error || req->res.status != 200 || req->not_json)
		return NULL;
	*len = req->res.body_len;
	return req->res.body;
}

/*
 * The parsed answer, allocated in CurrentMemoryContext, after sending the
 * request again as often as max_retries allows when an answer is worth
 * another attempt.  The request is freed.
 *
 * A failure is raised, naming the operation, the AWS error type or
 * transport error, and how many attempts were made.  When aws_error is
 * given, an AWS error answer is stored there (in CurrentMemoryContext) and
 * NULL is returned instead, for callers that can do better than fail (an
 * expired iterator, trimmed data); with DDB_REQUEST_5XX_AT_ONCE a 5xx
 * answer is returned that way without a retry.
 *
 * What a failed attempt leaves (its error answer parsed, its messages) is
 * kept in a context of the request's own, reset for each attempt: the
 * caller's context may be the scan's (GetShardIterator, DescribeStream),
 * where up to max_retries failed attempts of every request would pile up.
 */
cJSON *
ddb_request_parse(DdbClient *client, DdbRequest *req, DdbAwsError *aws_error)
{
	MemoryContext failure_cxt = AllocSetContextCreate(CurrentMemoryContext,
													  "ddbstream_fdw failed attempt",
													  ALLOCSET_SMALL_SIZES);
	DdbFailure	failure;
	int			attempt;

	for (attempt = 1;; attempt++)
	{
		cJSON	   *json = NULL;
		DdbAttempt	outcome;
		MemoryContext old;

		MemoryContextReset(failure_cxt);
		if (attempt > 1)
			send_attempt(client, req);
		old = MemoryContextSwitchTo(failure_cxt);
		receive_attempt(client, req);
		MemoryContextSwitchTo(old);
		memset(&failure, 0, sizeof(failure));
		outcome = judge_response(client, &req->res, req->not_json, req->flags,
								 &json, &failure, failure_cxt);
		ddb_http_release(client->http, req->call);
		req->call = NULL;
		req->received = false;
		if (outcome == DDB_ATTEMPT_OK)
		{
			MemoryContextDelete(failure_cxt);
			request_free(req);
			return json;
		}

		failure.aws.attempts = attempt;
		if (outcome == DDB_ATTEMPT_AWS_ERROR && aws_error &&
			(req->flags & DDB_REQUEST_5XX_AT_ONCE) && failure.aws.status >= 500)
			break;
		if (failure.retryable && attempt <= client->config.max_retries)
		{
			client->stats.retries++;
			ddb_client_backoff(client, attempt);
			continue;
		}
		if (outcome == DDB_ATTEMPT_AWS_ERROR && aws_error)
			break;
		raise_failure(client, req, outcome, &failure, attempt);
	}
	*aws_error = failure.aws;
	aws_error->type = pstrdup(failure.aws.type);
	if (failure.aws.message)
		aws_error->message = pstrdup(failure.aws.message);
	if (failure.aws.not_aws)
		aws_error->not_aws = pstrdup(failure.aws.not_aws);
	MemoryContextDelete(failure_cxt);
	request_free(req);
	return NULL;
}

/*
 * Sign one attempt of a request and start sending it.
 */
static void
send_attempt(DdbClient *client, DdbRequest *req)
{
	DdbApi		api = req->api;
	const char *op = req->op;
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
	SigV4Request sig;
	MemoryContext lines_cxt = AllocSetContextCreate(CurrentMemoryContext,
													"ddbstream_fdw request headers",
													ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(lines_cxt);

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

	memset(&sig, 0, sizeof(sig));
	sig.method = "POST";
	sig.path = "/";
	sig.query = "";
	sig.headers = sign;
	sig.nheaders = nsign;
	sig.payload = (const unsigned char *) req->payload;
	sig.payload_len = req->payload_len;
	sig.region = client->config.region;
	sig.service = "dynamodb";	/* for both APIs, never "streams.dynamodb" */
	sig.amz_date = amz_date;
	sig.access_key_id = client->creds.access_key_id;
	sig.secret_access_key = client->creds.secret_access_key;
	if (sigv4_authorization(&sig, authorization, sizeof(authorization)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not sign the %s %s request", ddb_api_name(api), op)));

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

	req->call = ddb_http_start(client->http, "POST", endpoint->url, lines, nlines,
							 req->payload, req->payload_len);
	/* libcurl has its own copy, wiped when the call is released */
	explicit_bzero(authorization, sizeof(authorization));
	explicit_bzero(auth_line, strlen(auth_line));
	if (token_line)
		explicit_bzero(token_line, strlen(token_line));
	MemoryContextSwitchTo(old);
	MemoryContextDelete(lines_cxt);
}

/*
 * Wait for the answer to the attempt in flight, once: keep it in the request
 * until it is judged.
 */
static void
receive_attempt(DdbClient *client, DdbRequest *req)
{
	if (req->received)
		return;
	ddb_http_finish(client->http, req->call, &req->res);
	req->not_json = NULL;
	if (req->res.error == NULL)
		(void) ddb_json_check(req->res.body, req->res.body_len, &req->not_json);
	req->received = true;
}

static DdbAttempt
judge_response(DdbClient *client, const DdbHttpResult *res_in,
			   const char *not_json, int flags, cJSON **json,
			   DdbFailure *failure, MemoryContext failure_cxt)
{
	DdbHttpResult res = *res_in;
	int			nuls;

	client->stats.network_ms += res.elapsed_ms;
	client->stats.bytes_received += res.body_len;
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
		MemoryContext old = MemoryContextSwitchTo(failure_cxt);

		parse_aws_error(res.status, res.body, res.body_len, not_json == NULL,
						&failure->aws);
		MemoryContextSwitchTo(old);
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
		cJSON_Delete(*json);
		*json = NULL;
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
void
ddb_client_backoff(DdbClient *client, int attempt)
{
	double		cap = Min((double) client->config.retry_max_ms,
						  client->config.retry_base_ms * pow(2.0, Min(attempt - 1, 30)));
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

/* Raise the failure of a request's last attempt. */
static void
raise_failure(DdbClient *client, DdbRequest *req, DdbAttempt outcome,
			  const DdbFailure *failure, int attempt)
{
	const char *api = ddb_api_name(req->api);
	const char *op = req->op;

	if (outcome == DDB_ATTEMPT_AWS_ERROR)
		ddb_raise_aws_error(api, op, &failure->aws, attempt);
	if (outcome == DDB_ATTEMPT_TOO_LARGE)
		raise_too_large(req->api, op, client->config.max_response_bytes,
						failure->declared_length);
	if (outcome == DDB_ATTEMPT_TRANSPORT)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 attempt > 1 ?
				 errmsg("%s %s request failed after %d attempts: %s",
						api, op, attempt, failure->what) :
				 errmsg("%s %s request failed: %s", api, op, failure->what),
				 failure->detail ? errdetail_internal("%s", failure->detail) : 0,
				 failure->tls ?
				 errhint("The endpoint's TLS certificate could not be verified. For a private CA, a superuser can set the server option ca_file; the certificate must name the endpoint's host.") :
				 errhint("Check the endpoint options of the server and the network.")));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_REPLY_HANDLE),
			 attempt > 1 ?
			 errmsg("%s %s returned an invalid response %d times",
					api, op, attempt) :
			 errmsg("%s %s returned an invalid response", api, op),
			 errdetail_internal("%s", failure->what)));
}

/* Send a request, wait for it and parse the answer: start and parse at once. */
cJSON *
ddb_request(DdbClient *client, DdbApi api, const char *op, cJSON *body,
			int flags, DdbAwsError *aws_error)
{
	return ddb_request_parse(client,
							 ddb_request_start(client, api, op, body, flags),
							 aws_error);
}

/* Abandon a request in flight. */
void
ddb_request_cancel(DdbClient *client, DdbRequest *req)
{
	if (req->call)
		ddb_http_release(client->http, req->call);
	request_free(req);
}

static void
request_free(DdbRequest *req)
{
	pfree(req->payload);
	pfree(req);
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
	const char *type = json ? ddb_json_string(json, "__type") : NULL;
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
	err->message = ddb_json_string(json, "message");
	if (err->message == NULL)
		err->message = ddb_json_string(json, "Message");
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

/* An answer that does not make sense: name the operation and what is wrong. */
void
ddb_raise_invalid_response(DdbApi api, const char *op, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_REPLY_HANDLE),
			 errmsg("%s %s returned an invalid response", ddb_api_name(api), op),
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
					ddb_api_name(api), op, limit),
			 declared_length > limit ?
			 errdetail("The response declared a length of %lld bytes; it was not read.",
					   (long long) declared_length) :
			 errdetail("The transfer was stopped when the body passed the limit."),
			 errhint("Check the endpoint options of the server. The server option max_response_bytes sets the limit.")));
}

/* The string member name of obj, or NULL when absent, null or not a string. */
const char *
ddb_json_string(cJSON *obj, const char *name)
{
	cJSON	   *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}
