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

#include "aws_client.h"

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

/* What the rows of a foreign table are (table option "source"). */
typedef enum DdbSource
{
	DDB_SOURCE_STREAM,			/* the records of the table's stream */
	DDB_SOURCE_ITEMS			/* the table's items (items.h) */
} DdbSource;

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
	int			page_size;		/* items: 0 for DynamoDB's 1 MB pages */
	DdbImageFormat image_format;
	int			empty_page_limit;
	bool		skip_trimmed;	/* on_trimmed 'skip' */
	char	   *consumer;		/* consumer name, or NULL for a plain read */
	char	   *nul_replacement;	/* stands for U+0000, or NULL: an error */

	/* foreign table, source 'items' */
	DdbSource	source;
	char	   *index_name;		/* a secondary index to read, or NULL */
	int			scan_segments;	/* TotalSegments of a full Scan */
	bool		consistent_read;
} DdbStreamOptions;

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
	const char *answer;			/* "DynamoDB Scan"...; NULL: GetRecords */
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
	const char *attribute;		/* for DDB_FIELD_ATTRIBUTE: the attribute, UTF-8 */
	const char *attribute_shown;	/* and as the option says it, for messages */
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

/* How to read one shard (shard_plan.c), and for a consumer how far it got. */
typedef struct DdbShardTask
{
	DdbShard   *shard;
	DdbIteratorType start;
	const char *start_seq;		/* padded to 21+ digits for AT/AFTER */

	/* for a consumer (consumer.c) */
	const char *checkpoint;		/* records up to this one are consumed */
	char	   *returned_seq;	/* the last record returned to the query */
	bool		cut;			/* reading stopped before the shard's end */
	bool		finished;		/* closed, and every record of it returned */
} DdbShardTask;

/* in option.c */
extern void ddb_get_table_options(Oid foreigntableid, DdbStreamOptions *opts);
extern void ddb_get_server_options(ForeignServer *server, DdbStreamOptions *opts);
extern DdbImageFormat ddb_parse_image_format(const char *value);
extern DdbSource ddb_table_source(Oid foreigntableid);
extern const char *ddb_iterator_type_name(DdbIteratorType type);

/* in option.c, for the AWS client */
extern void ddb_aws_config(const DdbStreamOptions *opts, DdbAwsConfig *config);

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
extern Numeric ddb_number_from_string(DdbConversion *cv, const char *s);
extern const char *ddb_answer_name(const DdbConversion *cv);

/* in row.c */
typedef struct DdbRowBuilder
{
	DdbColumnInfo *columns;		/* one per attribute of the tuple descriptor */
	bool	   *used;			/* which of them the query uses */
	int			ncolumns;
	DdbImageFormat image_format;
	DdbConversion conv;			/* the record being converted */
} DdbRowBuilder;
extern DdbColumnInfo *ddb_column_map(Relation rel);
extern bool *ddb_used_columns(Relation rel, List *retrieved_attrs);
extern DdbRowBuilder *ddb_row_builder_create(Relation rel, List *retrieved_attrs,
											 const DdbStreamOptions *opts);
extern void ddb_build_row(DdbRowBuilder *rb, cJSON *record, const char *shard_id,
						  Datum *values, bool *isnull);
extern void ddb_build_item_row(DdbRowBuilder *rb, cJSON *item,
							   const char *operation,
							   const char *const *table_keys,
							   Datum *values, bool *isnull);
extern const char *ddb_record_seq(cJSON *record);
extern double ddb_record_created(cJSON *record);

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

/* in shard_plan.c */
extern int	ddb_seq_cmp(const char *a, const char *b);
extern char *ddb_seq_pad(const char *seq);
extern List *ddb_plan_shards(List *shards, DdbIteratorType type,
							 const DdbSeqBounds *bounds, int *nskipped);

/* in pushdown.c */
struct ExprContext;
struct StringInfoData;
extern bool ddb_is_pseudo_constant(Node *node);
extern Oid	ddb_numeric_btree_family(void);
extern int	ddb_strategy_column_first(int strategy, bool commuted);
extern void ddb_deparse_value(struct StringInfoData *buf, Node *node);
extern void ddb_classify_conditions(List *restrictinfos, Index relid,
									const DdbColumnInfo *columns, int ncolumns,
									List **values, List **kinds,
									bool *all_pushed, char **seq_explain,
									char **shard_explain);
extern void ddb_eval_bounds(const DdbStreamOptions *opts, List *value_states,
							List *kinds, struct ExprContext *econtext,
							DdbSeqBounds *bounds);

/* in import_schema.c */
extern List *ddb_import_foreign_schema(ImportForeignSchemaStmt *stmt,
									   Oid serverOid);

/* in cjson_memory.c */
extern void ddb_cjson_use_palloc(void);

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
