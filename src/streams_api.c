/*-------------------------------------------------------------------------
 *
 * streams_api.c
 *		  The operations a stream is read with: DescribeTable (for the
 *		  stream's ARN), ListTables, DescribeStream, GetShardIterator and
 *		  GetRecords.  C structs and strings in, C structs and cJSON trees
 *		  out; the requests go through the AWS client (aws_client.c).
 *
 * Answers are checked for what the scan relies on: listings are bounded
 * and must end, a page holds no more records than were asked for.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "streams_api.h"

#define DESCRIBE_STREAM_PAGE	100 /* the most DescribeStream returns */

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

static bool is_sequence_number(const char *s);
static char *parse_list_tables(cJSON *response, List **names);

/*
 * DescribeTable's "Table" object; *response is the answer it is part of,
 * for the caller to free.
 */
cJSON *
ddb_describe_table(DdbClient *client, const char *table_name, cJSON **response)
{
	cJSON	   *body = cJSON_CreateObject();
	cJSON	   *table;

	cJSON_AddStringToObject(body, "TableName", table_name);
	*response = ddb_request(client, DDB_API_DYNAMODB, "DescribeTable", body, 0, NULL);
	cJSON_Delete(body);
	table = cJSON_GetObjectItemCaseSensitive(*response, "Table");
	if (!cJSON_IsObject(table))
		ddb_raise_invalid_response(DDB_API_DYNAMODB, "DescribeTable",
								   "The response has no \"Table\" object.");
	return table;
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
	cJSON	   *response;
	cJSON	   *table = ddb_describe_table(client, table_name, &response);
	const char *arn;
	char	   *result;

	arn = ddb_json_string(table, "LatestStreamArn");
	if (arn == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
				 errmsg("DynamoDB table \"%s\" has no stream", table_name),
				 errdetail("Streams are not enabled on the table."),
				 errhint("Enable a stream with StreamSpecification (StreamEnabled=true) in UpdateTable.")));
	result = arn ? pstrdup(arn) : NULL;
	cJSON_Delete(response);
	return result;
}

/*
 * The names of every table, following ListTables' pagination.
 */
List *
ddb_list_tables(DdbClient *client)
{
	List	   *names = NIL;
	char	   *start_after = NULL;
	DdbTokenSet   *seen = ddb_token_set_create();

	do
	{
		cJSON	   *body = cJSON_CreateObject();
		cJSON	   *response;

		cJSON_AddNumberToObject(body, "Limit", LIST_TABLES_PAGE);
		if (start_after)
			cJSON_AddStringToObject(body, "ExclusiveStartTableName", start_after);
		response = ddb_request(client, DDB_API_DYNAMODB, "ListTables", body, 0, NULL);
		cJSON_Delete(body);
		start_after = parse_list_tables(response, &names);
		cJSON_Delete(response);
		if (start_after && !ddb_token_set_add(seen, start_after))
			ddb_raise_invalid_response(DDB_API_DYNAMODB, "ListTables",
									   "\"LastEvaluatedTableName\" repeats a name the listing has already continued from, so the listing would never end.");
		CHECK_FOR_INTERRUPTS();
	} while (start_after != NULL);
	ddb_token_set_free(seen);
	return names;
}

/*
 * One ListTables answer: append its names to *names and return its
 * LastEvaluatedTableName, or NULL on the last page.
 */
static char *
parse_list_tables(cJSON *response, List **names)
{
	cJSON	   *list = cJSON_GetObjectItemCaseSensitive(response, "TableNames");
	cJSON	   *item;
	const char *last;

	if (!cJSON_IsArray(list))
		ddb_raise_invalid_response(DDB_API_DYNAMODB, "ListTables",
								   "The response has no \"TableNames\" array.");
	if (cJSON_GetArraySize(list) > LIST_TABLES_PAGE)
		ddb_raise_invalid_response(DDB_API_DYNAMODB, "ListTables",
								   psprintf("A page lists more than the %d tables asked for.",
											LIST_TABLES_PAGE));
	cJSON_ArrayForEach(item, list)
	{
		if (!cJSON_IsString(item) || strlen(item->valuestring) > MAX_TABLE_NAME)
			ddb_raise_invalid_response(DDB_API_DYNAMODB, "ListTables",
									   psprintf("A table name is not a string of at most %d bytes.",
												MAX_TABLE_NAME));
		*names = lappend(*names, pstrdup(item->valuestring));
	}
	if (list_length(*names) > MAX_TABLES)
		ddb_raise_invalid_response(DDB_API_DYNAMODB, "ListTables",
								   psprintf("The listing goes on past %d tables, more than an account holds.",
											MAX_TABLES));
	last = ddb_json_string(response, "LastEvaluatedTableName");
	return last ? pstrdup(last) : NULL;
}

/*
 * Every shard of a stream, following DescribeStream's pagination.
 */
List *
ddb_describe_stream(DdbClient *client, const char *stream_arn)
{
	List	   *shards = NIL;
	char	   *start_after = NULL;
	DdbTokenSet   *seen = ddb_token_set_create();

	do
	{
		cJSON	   *body = cJSON_CreateObject();
		cJSON	   *response;

		cJSON_AddStringToObject(body, "StreamArn", stream_arn);
		cJSON_AddNumberToObject(body, "Limit", DESCRIBE_STREAM_PAGE);
		if (start_after)
			cJSON_AddStringToObject(body, "ExclusiveStartShardId", start_after);
		response = ddb_request(client, DDB_API_STREAMS, "DescribeStream", body, 0, NULL);
		cJSON_Delete(body);
		start_after = ddb_parse_describe_stream(response, start_after, &shards);
		cJSON_Delete(response);
		if (list_length(shards) > MAX_SHARDS)
			ddb_raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
									   psprintf("The listing goes on past %d shards, more than a stream keeps in its 24 hours.",
												MAX_SHARDS));
		if (start_after && !ddb_token_set_add(seen, start_after))
			ddb_raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
									   "\"LastEvaluatedShardId\" repeats a shard the listing has already continued from, so the listing would never end.");
		CHECK_FOR_INTERRUPTS();
	} while (start_after != NULL);
	ddb_token_set_free(seen);
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
		ddb_raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
							   "The response has no \"StreamDescription\" object with a \"Shards\" array.");

	if (cJSON_GetArraySize(list) > DESCRIBE_STREAM_PAGE)
		ddb_raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
							   psprintf("A page lists more than the %d shards asked for.",
										DESCRIBE_STREAM_PAGE));
	cJSON_ArrayForEach(item, list)
	{
		cJSON	   *range = cJSON_GetObjectItemCaseSensitive(item, "SequenceNumberRange");
		const char *id = ddb_json_string(item, "ShardId");
		const char *parent = ddb_json_string(item, "ParentShardId");
		const char *first = range ? ddb_json_string(range, "StartingSequenceNumber") : NULL;
		const char *end = range ? ddb_json_string(range, "EndingSequenceNumber") : NULL;
		DdbShard   *shard;

		if (id == NULL || first == NULL)
			ddb_raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
								   "A shard lacks \"ShardId\" or \"StartingSequenceNumber\".");
		if (strlen(id) > MAX_SHARD_ID || (parent && strlen(parent) > MAX_SHARD_ID))
			ddb_raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
								   psprintf("A shard ID is longer than %d bytes.", MAX_SHARD_ID));
		if (!is_sequence_number(first) || (end && !is_sequence_number(end)))
			ddb_raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
								   "A shard's sequence number range is not made of 1 to 40 digits.");
		shard = palloc(sizeof(DdbShard));
		shard->shard_id = pstrdup(id);
		shard->parent_shard_id = parent ? pstrdup(parent) : NULL;
		shard->starting_seq = pstrdup(first);
		shard->ending_seq = end ? pstrdup(end) : NULL;
		*shards = lappend(*shards, shard);
	}

	last = ddb_json_string(desc, "LastEvaluatedShardId");
	if (last && start_after && strcmp(last, start_after) == 0)
		ddb_raise_invalid_response(DDB_API_STREAMS, "DescribeStream",
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
 * The pagination tokens a listing (or a Scan or Query, items_scan.c) has
 * continued from.  An endpoint that hands out a token it gave before (a,
 * b, a, b, ...) would keep the listing going, and growing, for ever: such a
 * token ends it with an error.
 */
struct DdbTokenSet
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

DdbTokenSet *
ddb_token_set_create(void)
{
	DdbTokenSet   *set = palloc(sizeof(DdbTokenSet));
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
bool
ddb_token_set_add(DdbTokenSet *set, const char *token)
{
	bool		found;

	(void) hash_search(set->htab, &token, HASH_FIND, &found);
	if (found)
		return false;
	token = MemoryContextStrdup(set->cxt, token);
	(void) hash_search(set->htab, &token, HASH_ENTER, &found);
	return true;
}

void
ddb_token_set_free(DdbTokenSet *set)
{
	MemoryContextDelete(set->cxt);
	pfree(set);
}

/*
 * Ask for an iterator of a shard, at the position the type (and for AT and
 * AFTER_SEQUENCE_NUMBER the sequence number) says.  A 5xx answer to a
 * position by sequence number is returned at once, without retries: the
 * caller reads the shard from its start instead.
 */
DdbRequest *
ddb_get_shard_iterator_start(DdbClient *client, const char *stream_arn,
							 const char *shard_id, DdbIteratorType type,
							 const char *seq)
{
	static const char *const type_names[] = {
		[DDB_ITER_TRIM_HORIZON] = "TRIM_HORIZON",
		[DDB_ITER_LATEST] = "LATEST",
		[DDB_ITER_AT_SEQUENCE_NUMBER] = "AT_SEQUENCE_NUMBER",
		[DDB_ITER_AFTER_SEQUENCE_NUMBER] = "AFTER_SEQUENCE_NUMBER",
	};
	bool		by_number = (type == DDB_ITER_AT_SEQUENCE_NUMBER ||
							 type == DDB_ITER_AFTER_SEQUENCE_NUMBER);
	cJSON	   *body = cJSON_CreateObject();
	DdbRequest *req;

	cJSON_AddStringToObject(body, "StreamArn", stream_arn);
	cJSON_AddStringToObject(body, "ShardId", shard_id);
	cJSON_AddStringToObject(body, "ShardIteratorType", type_names[type]);
	if (by_number)
		cJSON_AddStringToObject(body, "SequenceNumber", seq);
	req = ddb_request_start(client, DDB_API_STREAMS, "GetShardIterator", body,
							by_number ? DDB_REQUEST_5XX_AT_ONCE : 0);
	cJSON_Delete(body);
	return req;
}

/*
 * The shard iterator, in CurrentMemoryContext.  With aws_error, an AWS error
 * answer is returned there (with NULL) instead of raised.
 */
char *
ddb_get_shard_iterator_parse(DdbClient *client, DdbRequest *req,
							 DdbAwsError *aws_error)
{
	cJSON	   *response = ddb_request_parse(client, req, aws_error);
	const char *iterator;
	char	   *result;

	if (response == NULL)
		return NULL;
	iterator = ddb_json_string(response, "ShardIterator");
	if (iterator == NULL)
		ddb_raise_invalid_response(DDB_API_STREAMS, "GetShardIterator",
								   "The response has no \"ShardIterator\" string.");
	result = pstrdup(iterator);
	cJSON_Delete(response);
	return result;
}

/* Ask for the next page of a shard: at most "limit" records. */
DdbRequest *
ddb_get_records_start(DdbClient *client, const char *iterator, int limit)
{
	cJSON	   *body = cJSON_CreateObject();
	DdbRequest *req;

	cJSON_AddStringToObject(body, "ShardIterator", iterator);
	cJSON_AddNumberToObject(body, "Limit", limit);
	req = ddb_request_start(client, DDB_API_STREAMS, "GetRecords", body,
							DDB_REQUEST_MARK_NULS);
	cJSON_Delete(body);
	return req;
}

/*
 * One page of records, for a request that asked for at most "limit".  The
 * returned array and *next_iterator live in CurrentMemoryContext, which the
 * caller resets per page.  *next_iterator is NULL when the shard is closed
 * and this was its last page.  With aws_error, an AWS error answer is
 * returned there (with NULL) instead of raised.
 */
cJSON *
ddb_get_records_parse(DdbClient *client, DdbRequest *req, int limit,
					  char **next_iterator, DdbAwsError *aws_error)
{
	cJSON	   *response = ddb_request_parse(client, req, aws_error);
	cJSON	   *records;

	if (response == NULL)
		return NULL;
	records = cJSON_GetObjectItemCaseSensitive(response, "Records");
	if (!cJSON_IsArray(records))
		ddb_raise_invalid_response(DDB_API_STREAMS, "GetRecords",
								   "The response has no \"Records\" array.");
	if (cJSON_GetArraySize(records) > limit)
		ddb_raise_invalid_response(DDB_API_STREAMS, "GetRecords",
								   psprintf("The page holds %d records; the request asked for at most %d (Limit).",
											cJSON_GetArraySize(records), limit));
	*next_iterator = (char *) ddb_json_string(response, "NextShardIterator");
	return records;
}
