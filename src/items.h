/*-------------------------------------------------------------------------
 *
 * items.h
 *		  The items source (table option source 'items'): a DynamoDB table's
 *		  items as rows, read with Scan, Query, GetItem or BatchGetItem.
 *
 * The planner side (items_plan.c) decides which operation a query needs
 * from its conditions on key attributes and, at executor start, turns the
 * pushed values into a DdbItemsRequest.  The operations themselves
 * (items_api.c) and the reading of their pages, several at once
 * (items_scan.c), know nothing of the planner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDB_ITEMS_H
#define DDB_ITEMS_H

#include "ddbstream_fdw.h"

/* The type of a key attribute (AttributeDefinitions). */
typedef enum DdbKeyType
{
	DDB_KEY_S,
	DDB_KEY_N,
	DDB_KEY_B
} DdbKeyType;

/* A key schema: a partition key and, optionally, a sort key. */
typedef struct DdbKeySchema
{
	char	   *partition_key;
	DdbKeyType	partition_type;
	char	   *sort_key;		/* NULL when the key has no sort key */
	DdbKeyType	sort_type;
} DdbKeySchema;

/* What DescribeTable says of a table's keys (items_api.c). */
typedef struct DdbTableKeys
{
	DdbKeySchema table;			/* the table's primary key */
	char	   *index_name;		/* the index asked for, or NULL */
	DdbKeySchema index;			/* its key schema, when index_name is set */
	bool		index_is_global;
	char	   *stream_arn;		/* LatestStreamArn, or NULL: no stream */
} DdbTableKeys;

/* The operation an items scan uses. */
typedef enum DdbItemsApi
{
	DDB_ITEMS_SCAN,
	DDB_ITEMS_QUERY,
	DDB_ITEMS_GET_ITEM,
	DDB_ITEMS_BATCH_GET_ITEM
} DdbItemsApi;

/* A condition on the sort key in a Query's key condition. */
typedef enum DdbSortOp
{
	DDB_SORT_NONE,
	DDB_SORT_EQ,
	DDB_SORT_LT,
	DDB_SORT_LE,
	DDB_SORT_GT,
	DDB_SORT_GE,
	DDB_SORT_BETWEEN,
	DDB_SORT_BEGINS_WITH
} DdbSortOp;

/*
 * A key value as DynamoDB's JSON writes it: for S the UTF-8 string, for N
 * the number as text, for B the base64 of the bytes.
 */
typedef struct DdbKeyValue
{
	DdbKeyType	type;
	char	   *value;
} DdbKeyValue;

/* One key of GetItem or BatchGetItem. */
typedef struct DdbItemKey
{
	DdbKeyValue partition;
	DdbKeyValue sort;			/* value NULL when the table has no sort key */
} DdbItemKey;

/*
 * What an items scan asks DynamoDB for, with every value already checked
 * and converted (items_plan.c).
 */
typedef struct DdbItemsRequest
{
	DdbItemsApi api;
	const char *table_name;
	const char *index_name;		/* Scan and Query only; NULL for the table */
	bool		consistent_read;
	List	   *projection;		/* attribute names (char *); NIL: whole items */
	long		limit;			/* the most items the query can use, or -1 */
	int			page_size;		/* Limit of each Scan and Query, or 0 */

	/* DDB_ITEMS_SCAN */
	int			segments;		/* TotalSegments; 1: no parallel Scan */

	/* DDB_ITEMS_QUERY: one Query per partition key value */
	const char *partition_key;
	List	   *partition_values;	/* DdbKeyValue *, distinct */
	const char *sort_key;		/* NULL when no condition on it */
	DdbSortOp	sort_op;
	DdbKeyValue sort_value;		/* the operand, or BETWEEN's lower bound */
	DdbKeyValue sort_value2;	/* BETWEEN's upper bound */

	/* DDB_ITEMS_GET_ITEM and DDB_ITEMS_BATCH_GET_ITEM */
	const char *sort_key_name;	/* the table's sort key, or NULL */
	List	   *keys;			/* DdbItemKey *, distinct */
} DdbItemsRequest;

/* The work an items scan did, for EXPLAIN ANALYZE. */
typedef struct DdbItemsStats
{
	DdbClientStats requests;	/* per operation, retries, bytes, time */
	long		items;			/* items received */
	long		pages;			/* answers that carried items (or none) */
	long		unprocessed_retries;	/* BatchGetItem UnprocessedKeys resent */
	double		consumed_capacity;	/* capacity units the service reported */
	bool		capacity_reported;	/* whether it reported any */
} DdbItemsStats;

/* in items_api.c */
extern DdbTableKeys *ddb_describe_table_keys(DdbClient *client,
											 const char *table_name,
											 const char *index_name);
extern const char *ddb_key_type_name(DdbKeyType type);
extern const char *ddb_items_api_name(DdbItemsApi api);

/* in items_scan.c */
typedef struct DdbItemsScan DdbItemsScan;
extern DdbItemsScan *ddb_items_begin(const DdbStreamOptions *opts,
									 const DdbCredentials *creds,
									 const DdbItemsRequest *request,
									 MemoryContext parent);
extern cJSON *ddb_items_next(DdbItemsScan *scan);
extern void ddb_items_end(DdbItemsScan *scan);
extern void ddb_items_stats(DdbItemsScan *scan, DdbItemsStats *stats);

#endif							/* DDB_ITEMS_H */
