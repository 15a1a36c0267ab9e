/*-------------------------------------------------------------------------
 *
 * scan.h
 *		  The scan engine (scan.c): the records of a stream, shard after
 *		  shard, parents first, several shards read at once.
 *
 * Used by the executor callbacks (ddbstream_fdw.c) and by consumer_pending
 * (consumer_lag.c), which counts what a consumer has not read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDB_SCAN_H
#define DDB_SCAN_H

#include "ddbstream_fdw.h"

struct ExprContext;

typedef struct DdbScan DdbScan;

/* What the query pushed to the scan (pushdown.c). */
typedef struct DdbScanPushdown
{
	List	   *value_states;	/* ExprStates of the pushed conditions */
	List	   *kinds;			/* and their DdbPushKinds */
	struct ExprContext *econtext;
	long		limit;			/* rows the query can use, or -1 */
} DdbScanPushdown;

/* The work a scan did, shown by EXPLAIN ANALYZE. */
typedef struct DdbScanStats
{
	DdbClientStats requests;	/* requests, retries, bytes, network time */
	long		records;
	long		shards_listed;
	long		shards_read;
	long		shards_skipped;
} DdbScanStats;

extern DdbScan *ddb_scan_begin(Relation rel, Oid userid, bool consuming,
							   const DdbScanPushdown *pushdown,
							   MemoryContext parent);
extern void ddb_scan_open_consumer(DdbScan *scan);
extern cJSON *ddb_scan_next(DdbScan *scan, DdbShardTask **task);
extern void ddb_scan_rescan(DdbScan *scan);
extern void ddb_scan_end(DdbScan *scan);

extern const DdbStreamOptions *ddb_scan_options(DdbScan *scan);
extern List *ddb_scan_shards(DdbScan *scan);
extern List *ddb_scan_tasks(DdbScan *scan);
extern const char *ddb_scan_stream_arn(DdbScan *scan);
extern void ddb_scan_stats(DdbScan *scan, DdbScanStats *stats);

#endif							/* DDB_SCAN_H */
