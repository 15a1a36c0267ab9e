/*-------------------------------------------------------------------------
 *
 * shard_reader.h
 *		  The pages of one shard of a stream (shard_reader.c): the source of
 *		  pages of records that the scan engine (scan.c) reads.
 *
 * A reader asks for an iterator where its task says, then for pages, one
 * request in flight at a time (plus one page asked for ahead).  It deals
 * with what the Streams API makes of a shard: iterators that expire,
 * positions older than the stream's retention, a position refused with a
 * 5xx answer, and when an open shard counts as read (caught up).  The
 * engine decides which shards to read, how many records to ask for, and
 * what to do with the records.
 *
 * A second source of pages (a table's Scan segments, a Kinesis shard)
 * provides the same operations.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDB_SHARD_READER_H
#define DDB_SHARD_READER_H

#include "aws_client.h"
#include "ddbstream_fdw.h"
#include "page_peek.h"

/* The scan's rules that decide when a shard is read far enough. */
typedef struct DdbShardRules
{
	const char *upper;			/* no record past this seq is wanted, or NULL */
	double		scan_start;		/* epoch seconds the scan started, rounded
								 * down */
	int			empty_page_limit;	/* empty pages before an open shard with
									 * no record yet counts as read */
	bool		skip_trimmed;	/* on_trimmed 'skip' */
} DdbShardRules;

/* One page of a shard, parsed. */
typedef struct DdbPage
{
	cJSON	   *records;		/* a cJSON array */
	int			nrecords;
} DdbPage;

typedef struct DdbShardReader DdbShardReader;

extern DdbShardReader *ddb_shard_reader_start(DdbClient *client,
											  const char *stream_arn,
											  DdbShardTask *task,
											  const DdbShardRules *rules);
extern DdbShardTask *ddb_shard_reader_task(DdbShardReader *r);
extern bool ddb_shard_reader_done(DdbShardReader *r);
extern bool ddb_shard_reader_exhausted(DdbShardReader *r);
extern bool ddb_shard_reader_requested(DdbShardReader *r);
extern bool ddb_shard_reader_take_iterator(DdbShardReader *r, bool wait);
extern void ddb_shard_reader_request(DdbShardReader *r, int limit);
extern const char *ddb_shard_reader_wait(DdbShardReader *r, size_t *len);
extern bool ddb_shard_reader_ends_with(DdbShardReader *r,
									   const DdbPagePeek *peek);
extern void ddb_shard_reader_request_ahead(DdbShardReader *r,
										   const char *iterator, int limit);
extern bool ddb_shard_reader_take_page(DdbShardReader *r, DdbPage *page);
extern void ddb_shard_reader_stop(DdbShardReader *r);

#endif							/* DDB_SHARD_READER_H */
