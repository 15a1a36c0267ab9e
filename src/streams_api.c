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

#include <time.h>

#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "ddbstream_fdw.h"
#include "sigv4.h"

#define DESCRIBE_STREAM_PAGE	100 /* the most DescribeStream returns */

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
	DdbHttp    *http;
	DdbEndpoint endpoints[2];	/* indexed by DdbApi */
	const char *region;
	DdbCredentials creds;
	DdbScanStats *stats;
};

static void parse_endpoint(const char *url, DdbEndpoint *endpoint);
static cJSON *ddb_request(DdbClient *client, DdbApi api, const char *op,
						  cJSON *body, DdbAwsError *server_error);
static void parse_aws_error(long status, const char *body, size_t len,
							DdbAwsError *err);
static void raise_aws_error(DdbApi api, const char *op, long status,
							const char *body, size_t len);
static void raise_invalid_response(DdbApi api, const char *op,
								   const char *what);
static const char *json_string(cJSON *obj, const char *name);
static const char *api_name(DdbApi api);

DdbClient *
ddb_client_create(const DdbStreamOptions *opts, const DdbCredentials *creds,
				  DdbScanStats *stats)
{
	DdbClient  *client = palloc0(sizeof(DdbClient));

	client->http = ddb_http_create(opts->connect_timeout_ms,
								   opts->request_timeout_ms);
	parse_endpoint(opts->endpoint, &client->endpoints[DDB_API_DYNAMODB]);
	parse_endpoint(opts->streams_endpoint, &client->endpoints[DDB_API_STREAMS]);
	client->region = opts->region;
	client->creds = *creds;
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

/*
 * Sign and send one request; return the parsed response body, allocated in
 * CurrentMemoryContext.  Any failure is raised, except that when server_error
 * is given, an AWS error answered with HTTP 5xx is stored there and NULL is
 * returned, for callers that have a better plan than failing.
 */
static cJSON *
ddb_request(DdbClient *client, DdbApi api, const char *op, cJSON *body,
			DdbAwsError *server_error)
{
	DdbEndpoint *endpoint = &client->endpoints[api];
	char	   *payload = cJSON_PrintUnformatted(body);
	size_t		payload_len = strlen(payload);
	char		amz_date[17];
	char		authorization[1024];
	char	   *target;
	SigV4Header sign[5];
	int			nsign = 0;
	const char *lines[8];
	int			nlines = 0;
	DdbHttpResult res;
	SigV4Request req;
	cJSON	   *json;

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
	req.payload = (const unsigned char *) payload;
	req.payload_len = payload_len;
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
	lines[nlines++] = psprintf("Authorization: %s", authorization);
	if (client->creds.session_token)
		lines[nlines++] = psprintf("X-Amz-Security-Token: %s", client->creds.session_token);
	lines[nlines++] = "Expect:";

	ddb_http_post(client->http, endpoint->url, lines, nlines,
				  payload, payload_len, &res);

	/* The signed header lines hold key-derived material: drop them now. */
	explicit_bzero(authorization, sizeof(authorization));

	client->stats->network_ms += res.elapsed_ms;
	client->stats->bytes_received += res.body_len;
	if (res.error)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("%s %s request failed: %s", api_name(api), op, res.error),
				 res.error_detail ? errdetail_internal("%s", res.error_detail) : 0,
				 errhint("Check the endpoint options of the server and the network.")));

	if (res.status >= 500 && server_error != NULL)
	{
		parse_aws_error(res.status, res.body, res.body_len, server_error);
		return NULL;
	}
	if (res.status != 200)
		raise_aws_error(api, op, res.status, res.body, res.body_len);

	json = cJSON_ParseWithLength(res.body, res.body_len);
	if (json == NULL || !cJSON_IsObject(json))
		raise_invalid_response(api, op, "the body is not a JSON object");
	return json;
}

/*
 * Read an AWS error response: {"__type": "prefix#Name", "message": "..."}
 * (some services say "Message").  Anything else is named by its HTTP status.
 */
static void
parse_aws_error(long status, const char *body, size_t len, DdbAwsError *err)
{
	cJSON	   *json = cJSON_ParseWithLength(body, len);
	const char *type = json ? json_string(json, "__type") : NULL;
	const char *hash;

	err->status = status;
	err->message = NULL;
	if (json)
	{
		err->message = json_string(json, "message");
		if (err->message == NULL)
			err->message = json_string(json, "Message");
	}
	if (type == NULL)
		type = psprintf("HTTP %ld", status);
	else if ((hash = strrchr(type, '#')) != NULL)
		type = hash + 1;
	err->type = type;
}

static void
raise_aws_error(DdbApi api, const char *op, long status, const char *body,
				size_t len)
{
	DdbAwsError err;
	const char *type;
	int			sqlstate = ERRCODE_FDW_ERROR;
	const char *hint = NULL;

	parse_aws_error(status, body, len, &err);
	type = err.type;
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

	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("%s %s failed: %s", api_name(api), op, type),
			 err.message ? errdetail_internal("%s", err.message) : 0,
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

/* The string member name of obj, or NULL when absent, null or not a string. */
static const char *
json_string(cJSON *obj, const char *name)
{
	cJSON	   *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/*
 * The ARN of a table's latest stream.  A table that never had a stream has
 * none; a table whose stream was disabled keeps its last stream readable for
 * 24 hours, so that one is returned.
 */
char *
ddb_describe_table_stream(DdbClient *client, const char *table_name)
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
	response = ddb_request(client, DDB_API_DYNAMODB, "DescribeTable", body, NULL);
	table = cJSON_GetObjectItemCaseSensitive(response, "Table");
	if (!cJSON_IsObject(table))
		raise_invalid_response(DDB_API_DYNAMODB, "DescribeTable", "no \"Table\" object");
	arn = json_string(table, "LatestStreamArn");
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

	for (;;)
	{
		cJSON	   *body;
		cJSON	   *response;
		cJSON	   *desc;
		cJSON	   *list;
		cJSON	   *item;
		const char *last;

		MemoryContextSwitchTo(cxt);
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "StreamArn", stream_arn);
		cJSON_AddNumberToObject(body, "Limit", DESCRIBE_STREAM_PAGE);
		if (start_after)
			cJSON_AddStringToObject(body, "ExclusiveStartShardId", start_after);
		client->stats->requests_describe_stream++;
		response = ddb_request(client, DDB_API_STREAMS, "DescribeStream", body, NULL);

		desc = cJSON_GetObjectItemCaseSensitive(response, "StreamDescription");
		list = desc ? cJSON_GetObjectItemCaseSensitive(desc, "Shards") : NULL;
		if (!cJSON_IsObject(desc) || (list && !cJSON_IsArray(list)))
			raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
								   "no \"StreamDescription\" object with a \"Shards\" array");

		MemoryContextSwitchTo(outer);
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
									   "a shard lacks \"ShardId\" or \"StartingSequenceNumber\"");
			shard = palloc(sizeof(DdbShard));
			shard->shard_id = pstrdup(id);
			shard->parent_shard_id = parent ? pstrdup(parent) : NULL;
			shard->starting_seq = pstrdup(first);
			shard->ending_seq = end ? pstrdup(end) : NULL;
			shards = lappend(shards, shard);
		}

		last = json_string(desc, "LastEvaluatedShardId");
		if (last && start_after && strcmp(last, start_after) == 0)
			raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
								   "\"LastEvaluatedShardId\" did not advance");
		start_after = last ? pstrdup(last) : NULL;
		MemoryContextReset(cxt);
		if (start_after == NULL)
			break;
	}
	MemoryContextDelete(cxt);
	client->stats->shards_listed += list_length(shards);
	return shards;
}

/*
 * An iterator where the task says.  With server_error, an HTTP 5xx answer
 * returns NULL and the error instead of raising it.
 */
char *
ddb_get_shard_iterator(DdbClient *client, const char *stream_arn,
					   const DdbShardTask *task, DdbAwsError *server_error)
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
	cJSON	   *body = cJSON_CreateObject();
	cJSON	   *response;
	const char *iterator;
	char	   *result;

	cJSON_AddStringToObject(body, "StreamArn", stream_arn);
	cJSON_AddStringToObject(body, "ShardId", task->shard->shard_id);
	cJSON_AddStringToObject(body, "ShardIteratorType", type_names[task->start]);
	if (task->start == DDB_START_AT_SEQUENCE_NUMBER ||
		task->start == DDB_START_AFTER_SEQUENCE_NUMBER)
		cJSON_AddStringToObject(body, "SequenceNumber", task->start_seq);
	client->stats->requests_get_shard_iterator++;
	response = ddb_request(client, DDB_API_STREAMS, "GetShardIterator", body,
						   server_error);
	if (response == NULL)
	{
		MemoryContextSwitchTo(old);
		server_error->type = pstrdup(server_error->type);
		server_error->message = server_error->message ? pstrdup(server_error->message) : NULL;
		MemoryContextDelete(cxt);
		return NULL;
	}
	iterator = json_string(response, "ShardIterator");
	if (iterator == NULL)
		raise_invalid_response(DDB_API_STREAMS, "GetShardIterator",
							   "no \"ShardIterator\" string");
	MemoryContextSwitchTo(old);
	result = pstrdup(iterator);
	MemoryContextDelete(cxt);
	return result;
}

/*
 * One page of records.  The returned array and *next_iterator live in
 * CurrentMemoryContext, which the caller resets per page.  *next_iterator is
 * NULL when the shard is closed and this was its last page.
 */
cJSON *
ddb_get_records(DdbClient *client, const char *iterator, int limit,
				char **next_iterator)
{
	cJSON	   *body = cJSON_CreateObject();
	cJSON	   *response;
	cJSON	   *records;
	const char *next;

	cJSON_AddStringToObject(body, "ShardIterator", iterator);
	cJSON_AddNumberToObject(body, "Limit", limit);
	client->stats->requests_get_records++;
	response = ddb_request(client, DDB_API_STREAMS, "GetRecords", body, NULL);
	records = cJSON_GetObjectItemCaseSensitive(response, "Records");
	if (!cJSON_IsArray(records))
		raise_invalid_response(DDB_API_STREAMS, "GetRecords", "no \"Records\" array");
	next = json_string(response, "NextShardIterator");
	*next_iterator = next ? (char *) next : NULL;
	return records;
}
