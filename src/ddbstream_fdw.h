/*-------------------------------------------------------------------------
 *
 * ddbstream_fdw.h
 *		  Declarations shared by the files of ddbstream_fdw, grouped by the
 *		  file that defines them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDBSTREAM_FDW_H
#define DDBSTREAM_FDW_H

#include "postgres.h"

#include "foreign/foreign.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/relcache.h"

#include <cJSON.h>

#define DDBSTREAM_FDW_VERSION "0.2.0"

/*
 * The byte that stands for U+0000 in a parsed GetRecords page (nul_chars.c):
 * never part of UTF-8 text, and copied as is by cJSON.
 */
#define DDB_NUL_MARK	((char) 0xF8)

/* Smallest and largest sequence-number lengths GetShardIterator accepts. */
#define DDB_SEQ_MIN_DIGITS 21
#define DDB_SEQ_MAX_DIGITS 40

typedef enum DdbIteratorType
{
	DDB_ITER_TRIM_HORIZON,
	DDB_ITER_LATEST,
	DDB_ITER_AT_SEQUENCE_NUMBER,
	DDB_ITER_AFTER_SEQUENCE_NUMBER
} DdbIteratorType;

typedef enum DdbImageFormat
{
	DDB_IMAGE_PLAIN,
	DDB_IMAGE_TYPED
} DdbImageFormat;

/* Every option of a foreign table, resolved once from table and server. */
typedef struct DdbStreamOptions
{
	/* server */
	char	   *region;
	char	   *endpoint;		/* DynamoDB API URL, never NULL once resolved */
	char	   *streams_endpoint;	/* Streams API URL, never NULL once resolved */
	int			connect_timeout_ms;
	int			request_timeout_ms;
	int			max_retries;
	int			retry_base_ms;
	int			retry_max_ms;
	int			max_concurrency;	/* shards read at once */
	int			max_response_bytes; /* the largest response body accepted */
	char	   *ca_file;		/* CA certificates for https, or NULL */
	char	   *proxy;			/* proxy URL, or NULL: no proxy at all */

	/* foreign table */
	char	   *table_name;		/* exactly one of table_name and stream_arn */
	char	   *stream_arn;
	DdbIteratorType iterator_type;
	char	   *sequence_number;	/* digits, for AT/AFTER_SEQUENCE_NUMBER */
	int			page_size;
	DdbImageFormat image_format;
	int			empty_page_limit;
	bool		skip_trimmed;	/* on_trimmed 'skip' */
	char	   *consumer;		/* consumer name, or NULL for a plain read */
	char	   *nul_replacement;	/* stands for U+0000, or NULL: an error */
} DdbStreamOptions;

typedef struct DdbCredentials
{
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;	/* NULL when none */
} DdbCredentials;

/* The fields of a stream record a column can hold (convert.c). */
typedef enum DdbField
{
	DDB_FIELD_EVENT_ID,
	DDB_FIELD_EVENT_NAME,
	DDB_FIELD_SEQ,
	DDB_FIELD_SHARD_ID,
	DDB_FIELD_CREATED_AT,
	DDB_FIELD_KEYS,
	DDB_FIELD_NEW_IMAGE,
	DDB_FIELD_OLD_IMAGE,
	DDB_FIELD_SIZE_BYTES,
	DDB_FIELD_STREAM_VIEW_TYPE,
	DDB_FIELD_USER_IDENTITY,
	DDB_FIELD_RECORD,
	DDB_FIELD_EVENT_SOURCE,
	DDB_FIELD_EVENT_VERSION,
	DDB_FIELD_AWS_REGION,
	DDB_FIELD_COUNT,
	DDB_FIELD_ATTRIBUTE			/* column option "attribute": one item attribute */
} DdbField;

/*
 * One stream record being turned into a row (convert.c, attribute.c): what
 * an error names, and what U+0000 becomes (nul_chars.c).
 */
typedef struct DdbConversion
{
	cJSON	   *record;
	const char *shard_id;
	const char *nul_replacement;	/* UTF-8; NULL: U+0000 is an error */
	long		nul_replaced;	/* how many U+0000 were replaced */
} DdbConversion;

/* How a column of the foreign table maps to a stream field. */
typedef struct DdbColumnInfo
{
	const char *name;			/* the column's name */
	int			field;			/* DdbField, or -1 for a dropped column */
	Oid			typid;
	int32		typmod;
	const char *attribute;		/* for DDB_FIELD_ATTRIBUTE: the attribute */
	FmgrInfo	input;			/* for DDB_FIELD_ATTRIBUTE: typid's input */
	Oid			ioparam;
} DdbColumnInfo;

/* Kinds of conditions pushed to the stream (pushdown.c). */
typedef enum DdbPushKind
{
	DDB_PUSH_SEQ_LT,
	DDB_PUSH_SEQ_LE,
	DDB_PUSH_SEQ_EQ,
	DDB_PUSH_SEQ_GE,
	DDB_PUSH_SEQ_GT,
	DDB_PUSH_SEQ_IN,
	DDB_PUSH_SHARD_EQ,
	DDB_PUSH_SHARD_IN
} DdbPushKind;

/* What a scan reads, from the iterator options and pushed conditions. */
typedef struct DdbSeqBounds
{
	bool		empty;			/* no record can match: read nothing */
	char	   *lower;			/* digits, or NULL for no lower bound */
	bool		lower_after;	/* seq > lower, else seq >= lower */
	char	   *upper;			/* digits: seq <= upper; NULL for none */
	bool		has_shard_filter;
	List	   *shard_ids;		/* String nodes: the only shards to read */
} DdbSeqBounds;

/* One shard as DescribeStream lists it (streams_api.c). */
typedef struct DdbShard
{
	char	   *shard_id;
	char	   *parent_shard_id;	/* NULL when none */
	char	   *starting_seq;
	char	   *ending_seq;		/* NULL while the shard is open */
} DdbShard;

/* Where the scan of one shard starts (shard_plan.c). */
typedef enum DdbShardStart
{
	DDB_START_TRIM_HORIZON,
	DDB_START_LATEST,
	DDB_START_AT_SEQUENCE_NUMBER,
	DDB_START_AFTER_SEQUENCE_NUMBER
} DdbShardStart;

typedef struct DdbShardTask
{
	DdbShard   *shard;
	DdbShardStart start;
	const char *start_seq;		/* padded to 21+ digits for AT/AFTER */

	/* for a consumer (consumer.c) */
	const char *checkpoint;		/* records up to this one are consumed */
	char	   *returned_seq;	/* the last record returned to the query */
	bool		cut;			/* reading stopped before the shard's end */
	bool		finished;		/* closed, and every record of it returned */
} DdbShardTask;

/* Counters of the work a scan did, shown by EXPLAIN ANALYZE. */
typedef struct DdbScanStats
{
	long		requests_describe_table;
	long		requests_describe_stream;
	long		requests_get_shard_iterator;
	long		requests_get_records;
	long		records;
	long		bytes_received;
	long		shards_listed;
	long		shards_read;
	long		shards_skipped;
	long		retries;		/* requests sent again after a failure */
	double		network_ms;
} DdbScanStats;

/* in http.c */
typedef struct DdbHttp DdbHttp;
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
typedef struct DdbHttpCall DdbHttpCall;
extern DdbHttpCall *ddb_http_start(DdbHttp *http, const char *method,
								   const char *url,
								   const char *const *headers, int nheaders,
								   const char *body, size_t body_len);
extern void ddb_http_pump(DdbHttp *http);
extern void ddb_http_finish(DdbHttp *http, DdbHttpCall *call,
							DdbHttpResult *res);
extern void ddb_http_release(DdbHttp *http, DdbHttpCall *call);
extern bool ddb_http_done(DdbHttpCall *call);

/* in option.c */
extern void ddb_get_table_options(Oid foreigntableid, DdbStreamOptions *opts);
extern void ddb_get_server_options(ForeignServer *server, DdbStreamOptions *opts);
extern DdbImageFormat ddb_parse_image_format(const char *value);
extern const char *ddb_iterator_type_name(DdbIteratorType type);

/* in credentials.c */
extern void ddb_get_credentials(ForeignServer *server, Oid userid,
								DdbCredentials *creds);

/* in convert.c */
extern int	ddb_field_by_name(const char *name);
extern char *ddb_field_name_list(void);
extern void ddb_check_column_type(DdbField field, Oid typid, const char *colname);
extern Datum ddb_field_datum(DdbField field, Oid typid, DdbConversion *cv,
							 DdbImageFormat format, bool *isnull);
extern Jsonb *ddb_attribute_jsonb(DdbConversion *cv, cJSON *av);
extern Datum ddb_jsonb_to_column(Jsonb *jb, Oid typid);
extern const char *ddb_text_of(DdbConversion *cv, const char *s);
extern bool ddb_is_number(const char *s);
extern Numeric ddb_number_from_string(const char *s);

/* in attribute.c */
extern void ddb_check_attribute_column(DdbColumnInfo *col);
extern Datum ddb_attribute_datum(const DdbColumnInfo *col, DdbConversion *cv,
								 bool *isnull);

/* in nul_chars.c */
extern int	ddb_mark_nuls(char *body, size_t *len);
extern const char *ddb_nul_replace(DdbConversion *cv, const char *s);

/* in printable.c */
extern char *ddb_printable(const char *s, size_t len, int max_chars);

/* in json_check.c */
extern bool ddb_json_check(const char *body, size_t len, const char **why);
extern bool ddb_json_unique_names(cJSON *root, const char **why);

/* in page_peek.c */
typedef struct DdbPagePeek
{
	bool		has_records;
	char	   *next_iterator;	/* NULL when absent or not plain */
	char	   *last_seq;		/* of the last record, or NULL */
	double		last_created;	/* its ApproximateCreationDateTime, or -1 */
} DdbPagePeek;
extern bool ddb_page_peek(const char *body, size_t len, DdbPagePeek *peek);

/* in shard_plan.c */
extern int	ddb_seq_cmp(const char *a, const char *b);
extern char *ddb_seq_pad(const char *seq);
extern List *ddb_plan_shards(List *shards, DdbIteratorType type,
							 const DdbSeqBounds *bounds, int *nskipped);

/* in pushdown.c */
struct ExprContext;
extern void ddb_classify_conditions(List *restrictinfos, Index relid,
									const DdbColumnInfo *columns, int ncolumns,
									List **values, List **kinds,
									bool *all_pushed, char **seq_explain,
									char **shard_explain);
extern void ddb_eval_bounds(const DdbStreamOptions *opts, List *value_states,
							List *kinds, struct ExprContext *econtext,
							DdbSeqBounds *bounds);

/* in streams_api.c */
typedef struct DdbClient DdbClient;
typedef struct DdbAwsError
{
	long		status;			/* HTTP status */
	const char *type;			/* AWS error type without its prefix */
	const char *message;		/* AWS's message, or NULL */
	const char *not_aws;		/* the start of a body that is not an AWS
								 * error (made printable), else NULL */
	int			attempts;		/* how many attempts were made */
} DdbAwsError;
extern DdbClient *ddb_client_create(const DdbStreamOptions *opts,
									const DdbCredentials *creds,
									DdbScanStats *stats);
extern char *ddb_describe_table_stream(DdbClient *client,
									   const char *table_name, bool missing_ok);
extern List *ddb_list_tables(DdbClient *client);

/* in import_schema.c */
extern List *ddb_import_foreign_schema(ImportForeignSchemaStmt *stmt,
									   Oid serverOid);
extern List *ddb_describe_stream(DdbClient *client, const char *stream_arn);
extern char *ddb_parse_describe_stream(cJSON *response, const char *start_after,
									   List **shards);
extern char *ddb_get_shard_iterator(DdbClient *client, const char *stream_arn,
									const DdbShardTask *task,
									DdbAwsError *aws_error);
extern cJSON *ddb_get_records(DdbClient *client, const char *iterator,
							  int limit, char **next_iterator,
							  DdbAwsError *aws_error);
typedef struct DdbPending DdbPending;
extern DdbPending *ddb_get_shard_iterator_start(DdbClient *client,
												const char *stream_arn,
												const DdbShardTask *task);
extern char *ddb_get_shard_iterator_finish(DdbClient *client, DdbPending *p,
										   DdbAwsError *aws_error);
extern DdbPending *ddb_get_records_start(DdbClient *client,
										 const char *iterator, int limit);
typedef void (*DdbBodyHook) (void *arg, const char *body, size_t len);
extern cJSON *ddb_get_records_finish(DdbClient *client, DdbPending *p,
									 char **next_iterator,
									 DdbAwsError *aws_error,
									 DdbBodyHook on_body, void *on_body_arg);
extern bool ddb_pending_ready(DdbClient *client, DdbPending *p);
extern void ddb_pending_cancel(DdbClient *client, DdbPending *p);
extern void ddb_client_pump(DdbClient *client);
extern void ddb_raise_aws_error(const char *api, const char *op,
								const DdbAwsError *err, int attempts)
			pg_attribute_noreturn();

/* in ddbstream_fdw.c */
extern void ddb_cjson_use_palloc(void);
extern double ddb_record_created(cJSON *record);
typedef struct DdbScanState DdbScanState;
extern DdbScanState *ddb_peek_scan_begin(Relation rel);
extern cJSON *ddb_peek_scan_next(DdbScanState *st, DdbShardTask **task);
extern List *ddb_peek_scan_shards(DdbScanState *st);
extern List *ddb_peek_scan_tasks(DdbScanState *st);
extern const char *ddb_peek_scan_consumer(DdbScanState *st,
										  const char **stream_arn);
extern void ddb_peek_scan_end(DdbScanState *st);

/* in consumer.c */
typedef struct DdbConsumer DdbConsumer;
extern void ddb_consumer_init(void);
extern void ddb_consumer_check_writable(const char *consumer,
										const char *relname);
extern DdbConsumer *ddb_consumer_open(const char *name, const char *stream_arn,
									  Oid userid, const char *relname,
									  bool reader);
extern List *ddb_consumer_apply(DdbConsumer *c, List *shards, List *tasks,
								bool skip_trimmed, int *nskipped);
extern void ddb_consumer_advance(DdbConsumer *c, List *tasks, List *shards);
extern void ddb_consumer_close(DdbConsumer *c);

#endif							/* DDBSTREAM_FDW_H */
