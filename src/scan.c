/*-------------------------------------------------------------------------
 *
 * scan.c
 *		  The scan engine: the records of a stream, within the bounds the
 *		  query pushed down, shard after shard, parents first.
 *
 * A scan lists the stream's shards and plans where each is read from
 * (shard_plan.c, and for a consumer its positions, consumer.c).  Up to
 * max_concurrency shards are read at once, each by a shard reader
 * (shard_reader.c); records are handed out from the first of them (the
 * head) only, so they keep the order of the tasks.  While the rows of a page
 * are returned, the head's next page is already asked for (read ahead from
 * the raw body, before the page is parsed), and the other shards have their
 * first page asked for: the scan waits for the network only when the answer
 * it needs is not in yet.
 *
 * Memory: the scan's context lives for one pass (a rescan resets it, which
 * also frees the libcurl handles); each page lives in a context that is
 * reset for the next page.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <time.h>

#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "scan.h"
#include "shard_reader.h"
#include "streams_api.h"

struct DdbScan
{
	DdbStreamOptions opts;
	const char *relname;
	bool		consuming;		/* false: count a consumer's records without
								 * consuming them (consumer_lag.c) */
	Oid			userid;			/* the role the scan reads as */
	DdbCredentials creds;
	DdbConsumer *consumer;		/* option consumer: its positions, or NULL */
	DdbScanPushdown pushdown;
	DdbSeqBounds bounds;		/* computed at the start of each pass */
	DdbShardRules rules;
	long		returned;		/* records handed out in this pass */

	MemoryContext scan_cxt;		/* lives as long as one pass of the scan */
	MemoryContext page_cxt;		/* the head's current page, reset per page */

	bool		started;
	DdbClient  *client;
	char	   *stream_arn;
	List	   *shards;			/* DdbShard, as DescribeStream listed them */
	List	   *tasks;			/* DdbShardTask, in lineage order */
	int			next_task;		/* the next task to start reading */
	List	   *readers;		/* DdbShardReader: the shards being read */
	DdbShardReader *head;		/* the first of them: records come from it */
	DdbShardTask *task;			/* its task */
	cJSON	   *next_record;	/* next record of the head's page */
	cJSON	   *returned_record;	/* the last one handed out (in page_cxt) */

	DdbScanStats stats;			/* requests of the passes before this one */
};

static void start_scan(DdbScan *scan);
static List *list_shards(DdbScan *scan);
static void lookup_stream(DdbScan *scan);
static DdbClient *create_client(DdbScan *scan);
static void end_pass(DdbScan *scan);
static cJSON *next_wanted_record(DdbScan *scan);
static bool fetch_next_page(DdbScan *scan);
static bool read_head_page(DdbScan *scan, DdbShardReader *head, DdbPage *page);
static void read_ahead(DdbScan *scan, DdbShardReader *head);
static int	records_to_ask(DdbScan *scan, int ahead);
static void fill_window(DdbScan *scan);
static void progress_others(DdbScan *scan);
static void finish_head(DdbScan *scan);
static bool record_wanted(DdbScan *scan, cJSON *record);
static void end_shard(DdbScan *scan);
static void remember_position(DdbScan *scan);
static void advance_consumer(DdbScan *scan);

/*
 * Set up a scan of a foreign table, reading as userid: its options and
 * credentials, no network request yet.  A consuming scan of a consumer's
 * table must be allowed to write the consumer's positions; one that is not
 * consuming (consumer_lag) only reads them.  The scan's memory is a child
 * of "parent".
 */
DdbScan *
ddb_scan_begin(Relation rel, Oid userid, bool consuming,
			   const DdbScanPushdown *pushdown, MemoryContext parent)
{
	DdbScan    *scan = palloc0(sizeof(DdbScan));
	ForeignTable *table = GetForeignTable(RelationGetRelid(rel));

	ddb_get_table_options(RelationGetRelid(rel), &scan->opts);
	if (scan->opts.source != DDB_SOURCE_STREAM)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("foreign table \"%s\" reads a table's items, not its stream",
						RelationGetRelationName(rel)),
				 errhint("Name a foreign table with source 'stream'.")));
	scan->relname = pstrdup(RelationGetRelationName(rel));
	scan->consuming = consuming;
	scan->userid = userid;
	if (consuming && scan->opts.consumer)
		ddb_consumer_check_writable(scan->opts.consumer, scan->relname);
	ddb_get_credentials(GetForeignServer(table->serverid), userid, &scan->creds);
	if (pushdown)
		scan->pushdown = *pushdown;
	else
		scan->pushdown.limit = -1;

	scan->scan_cxt = AllocSetContextCreate(parent, "ddbstream_fdw scan data",
										   ALLOCSET_DEFAULT_SIZES);
	scan->page_cxt = AllocSetContextCreate(scan->scan_cxt, "ddbstream_fdw page data",
										   ALLOCSET_DEFAULT_SIZES);
	return scan;
}

/*
 * Lock the consumer and read its positions, finding the table's stream
 * first if need be: done at executor start, since the executor enters
 * parallel mode (where nothing may be written) only to run the plan.  The
 * stream ARN found is kept for every pass of the scan.
 */
void
ddb_scan_open_consumer(DdbScan *scan)
{
	Assert(scan->opts.consumer && scan->consuming);
	if (scan->opts.stream_arn == NULL)
		lookup_stream(scan);
	scan->consumer = ddb_consumer_open(scan->opts.consumer, scan->opts.stream_arn,
									   scan->userid, scan->relname, true);
}

/* The stream of the table_name option, with a client of its own. */
static void
lookup_stream(DdbScan *scan)
{
	MemoryContext lookup_cxt = AllocSetContextCreate(scan->scan_cxt,
													 "ddbstream_fdw table lookup",
													 ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(lookup_cxt);
	DdbClient  *client = create_client(scan);
	char	   *arn = ddb_describe_table_stream(client, scan->opts.table_name, false);

	MemoryContextSwitchTo(old);
	scan->opts.stream_arn = MemoryContextStrdup(GetMemoryChunkContext(scan),
												arn);
	ddb_stats_add(&scan->stats.requests, ddb_client_stats(client));
	/* also frees the libcurl handle */
	MemoryContextDelete(lookup_cxt);
}

static DdbClient *
create_client(DdbScan *scan)
{
	DdbAwsConfig config;

	ddb_aws_config(&scan->opts, &config);
	return ddb_client_create(&config, &scan->creds);
}

/*
 * The next record, and its shard's task; NULL when the scan is done, or
 * when a pushed LIMIT has all the records it can use.
 */
cJSON *
ddb_scan_next(DdbScan *scan, DdbShardTask **task)
{
	cJSON	   *record;

	*task = NULL;
	if (scan->pushdown.limit >= 0 && scan->returned >= scan->pushdown.limit)
		return NULL;
	record = next_wanted_record(scan);
	if (record == NULL)
		return NULL;
	scan->returned++;
	scan->returned_record = record;
	*task = scan->task;
	/* pages asked for ahead come in while rows are converted */
	if ((scan->returned & 63) == 0)
		ddb_client_pump(scan->client);
	return record;
}

/*
 * Start again from the beginning: list the shards anew, since the stream
 * may have moved on.  A consumer's scan goes on from where the passes
 * before got: it returns each record once, even to a scan run again.
 */
void
ddb_scan_rescan(DdbScan *scan)
{
	advance_consumer(scan);
	end_pass(scan);
}

/* Done: keep a consumer's positions for EndForeignScan's write, free all. */
void
ddb_scan_end(DdbScan *scan)
{
	advance_consumer(scan);
	if (scan->consumer)
		ddb_consumer_close(scan->consumer);
	scan->consumer = NULL;
	/* frees the libcurl handles too, through their reset callback */
	MemoryContextDelete(scan->scan_cxt);
	scan->scan_cxt = NULL;
}

/* Forget one pass: its client (after counting its work), shards, readers. */
static void
end_pass(DdbScan *scan)
{
	if (scan->client)
		ddb_stats_add(&scan->stats.requests, ddb_client_stats(scan->client));
	/* also deletes the page context, and frees the libcurl handles */
	MemoryContextReset(scan->scan_cxt);
	scan->page_cxt = AllocSetContextCreate(scan->scan_cxt, "ddbstream_fdw page data",
										   ALLOCSET_DEFAULT_SIZES);
	scan->started = false;
	scan->client = NULL;
	scan->shards = NIL;
	scan->tasks = NIL;
	scan->readers = NIL;
	scan->head = NULL;
	scan->task = NULL;
	scan->next_record = NULL;
	scan->returned_record = NULL;
}

const DdbStreamOptions *
ddb_scan_options(DdbScan *scan)
{
	return &scan->opts;
}

/* The shards DescribeStream lists, listing them if not yet done. */
List *
ddb_scan_shards(DdbScan *scan)
{
	if (!scan->started)
		start_scan(scan);
	return scan->shards;
}

/* The shards the scan reads, with where each starts. */
List *
ddb_scan_tasks(DdbScan *scan)
{
	if (!scan->started)
		start_scan(scan);
	return scan->tasks;
}

/* The stream's ARN, once the scan has started; "" before. */
const char *
ddb_scan_stream_arn(DdbScan *scan)
{
	return scan->stream_arn ? scan->stream_arn : "";
}

/* The work of every pass so far. */
void
ddb_scan_stats(DdbScan *scan, DdbScanStats *stats)
{
	*stats = scan->stats;
	if (scan->client)
		ddb_stats_add(&stats->requests, ddb_client_stats(scan->client));
}

/*
 * List the shards and plan the pass: the first network work of a pass, done
 * at its first record so that a scan that is never run costs nothing.
 * Parameters and initplans are evaluated now, once per pass.
 */
static void
start_scan(DdbScan *scan)
{
	MemoryContext old = MemoryContextSwitchTo(scan->scan_cxt);

	scan->returned = 0;
	scan->next_task = 0;
	scan->started = true;
	ddb_eval_bounds(&scan->opts, scan->pushdown.value_states,
					scan->pushdown.kinds, scan->pushdown.econtext,
					&scan->bounds);
	/* e.g. seq > NULL, or seq < 0: no record can match, ask nothing */
	if (!scan->bounds.empty)
		scan->tasks = list_shards(scan);

	scan->rules.upper = scan->bounds.upper;
	scan->rules.scan_start = floor((double) time(NULL));
	scan->rules.empty_page_limit = scan->opts.empty_page_limit;
	scan->rules.skip_trimmed = scan->opts.skip_trimmed;
	MemoryContextSwitchTo(old);
}

/*
 * The pass's client, shards and tasks: where each shard is read from, after
 * the bounds and the consumer's positions.
 */
static List *
list_shards(DdbScan *scan)
{
	List	   *tasks;
	int			nskipped;

	scan->client = create_client(scan);
	scan->stream_arn = scan->opts.stream_arn ? scan->opts.stream_arn :
		ddb_describe_table_stream(scan->client, scan->opts.table_name, false);
	scan->shards = ddb_describe_stream(scan->client, scan->stream_arn);
	scan->stats.shards_listed += list_length(scan->shards);
	tasks = ddb_plan_shards(scan->shards, scan->opts.iterator_type,
							&scan->bounds, &nskipped);
	scan->stats.shards_skipped += nskipped;
	if (scan->opts.consumer)
	{
		/* consumer_lag reads the positions without locking the consumer */
		if (scan->consumer == NULL)
			scan->consumer = ddb_consumer_open(scan->opts.consumer, scan->stream_arn,
											   scan->userid, scan->relname, false);
		/* ddb_consumer_apply adds to the count: the planned skips are in */
		nskipped = 0;
		tasks = ddb_consumer_apply(scan->consumer, scan->shards, tasks,
								   scan->opts.skip_trimmed, &nskipped);
		scan->stats.shards_skipped += nskipped;
	}
	return tasks;
}

/* The next record within the scan's bounds, or NULL when there is none. */
static cJSON *
next_wanted_record(DdbScan *scan)
{
	cJSON	   *record;

	do
	{
		while (scan->next_record == NULL)
			if (!fetch_next_page(scan))
				return NULL;
		record = scan->next_record;
		scan->next_record = record->next;
	} while (!record_wanted(scan, record));
	return record;
}

/*
 * Get the next non-empty page of records into scan->next_record, moving on
 * to the next shard when one is read.  False when every shard is done.
 */
static bool
fetch_next_page(DdbScan *scan)
{
	for (;;)
	{
		DdbShardReader *head;
		DdbPage		page;

		CHECK_FOR_INTERRUPTS();
		if (!scan->started)
			start_scan(scan);
		fill_window(scan);
		head = scan->head;
		if (head == NULL)
			return false;
		if (ddb_shard_reader_done(head))
		{
			finish_head(scan);
			continue;
		}
		if (!read_head_page(scan, head, &page))
			continue;
		progress_others(scan);
		if (page.nrecords > 0)
		{
			scan->next_record = page.records->child;
			return true;
		}
	}
}

/*
 * The head shard's next page, in page_cxt, with the page after it asked for
 * when it is known to be needed.  False when no page came: the answer was
 * the shard's iterator, or an error the reader got past.
 */
static bool
read_head_page(DdbScan *scan, DdbShardReader *head, DdbPage *page)
{
	MemoryContext old;
	bool		got;

	if (!ddb_shard_reader_requested(head))
		ddb_shard_reader_request(head, Max(records_to_ask(scan, 0), 1));
	if (ddb_shard_reader_take_iterator(head, true))
		return false;

	/* the last record handed out is in the page about to be freed */
	remember_position(scan);
	MemoryContextReset(scan->page_cxt);
	old = MemoryContextSwitchTo(scan->page_cxt);
	read_ahead(scan, head);
	got = ddb_shard_reader_take_page(head, page);
	MemoryContextSwitchTo(old);
	if (!got)
		return false;

	scan->stats.records += page->nrecords;
	if (!ddb_shard_reader_requested(head))
	{
		int			ask = records_to_ask(scan, page->nrecords);

		if (ask > 0)
			ddb_shard_reader_request(head, ask);
	}
	return true;
}

/*
 * Ask for the head's next page before this one is parsed, when its raw body
 * shows that this page does not end the shard: the parsing overlaps the
 * network.  Not under a pushed LIMIT, where the size of the next request
 * depends on this page's record count.
 */
static void
read_ahead(DdbScan *scan, DdbShardReader *head)
{
	const char *body;
	size_t		len;
	DdbPagePeek peek;

	if (scan->pushdown.limit >= 0)
		return;
	body = ddb_shard_reader_wait(head, &len);
	if (body && ddb_page_peek(body, len, &peek) &&
		!ddb_shard_reader_ends_with(head, &peek))
		ddb_shard_reader_request_ahead(head, peek.next_iterator,
									   scan->opts.page_size);
}

/*
 * How many records the next GetRecords of the head shard should ask for,
 * with "ahead" records received but not yet returned: a page, or no more
 * than a pushed LIMIT still needs (0 for none).
 */
static int
records_to_ask(DdbScan *scan, int ahead)
{
	long		left;

	if (scan->pushdown.limit < 0)
		return scan->opts.page_size;
	left = scan->pushdown.limit - scan->returned - ahead;
	return (int) Max(Min(left, scan->opts.page_size), 0);
}

/*
 * Start reading the next tasks, up to max_concurrency shards at once (one
 * under a pushed LIMIT: later shards may not be needed).  A shard whose
 * parent is still being read waits: children only after their parent.
 */
static void
fill_window(DdbScan *scan)
{
	int			width = scan->pushdown.limit >= 0 ? 1 : scan->opts.max_concurrency;

	while (list_length(scan->readers) < width &&
		   scan->next_task < list_length(scan->tasks))
	{
		DdbShardTask *task = (DdbShardTask *) list_nth(scan->tasks, scan->next_task);
		const char *parent = task->shard->parent_shard_id;
		MemoryContext old;
		ListCell   *lc;

		foreach(lc, scan->readers)
			if (parent &&
				strcmp(ddb_shard_reader_task(lfirst(lc))->shard->shard_id, parent) == 0)
				break;
		if (lc != NULL)
			break;				/* the parent is still being read */
		scan->next_task++;
		old = MemoryContextSwitchTo(scan->scan_cxt);
		scan->readers = lappend(scan->readers,
								ddb_shard_reader_start(scan->client, scan->stream_arn,
													   task, &scan->rules));
		MemoryContextSwitchTo(old);
		scan->stats.shards_read++;
	}
	scan->head = scan->readers ? (DdbShardReader *) linitial(scan->readers) : NULL;
	scan->task = scan->head ? ddb_shard_reader_task(scan->head) : NULL;
}

/*
 * The shards after the head: once an iterator has come in, ask for the
 * shard's first page right away.  Their pages are parsed only when the
 * shard becomes the head.
 */
static void
progress_others(DdbScan *scan)
{
	ListCell   *lc;

	ddb_client_pump(scan->client);
	for_each_from(lc, scan->readers, 1)
	{
		DdbShardReader *r = (DdbShardReader *) lfirst(lc);

		if (ddb_shard_reader_take_iterator(r, false))
			ddb_shard_reader_request(r, scan->opts.page_size);
	}
}

/*
 * Done with the head shard: every record of its last page was returned (or
 * dropped past the upper bound).  A closed shard read to its end with
 * nothing cut off is finished for a consumer.
 */
static void
finish_head(DdbScan *scan)
{
	remember_position(scan);
	scan->task->finished = ddb_shard_reader_exhausted(scan->head) && !scan->task->cut;
	scan->readers = list_delete_first(scan->readers);
	pfree(scan->head);
	scan->head = NULL;
	scan->task = NULL;
}

/*
 * Is the record within the scan's sequence bounds?  A record past the upper
 * bound also ends its shard: records are in order within a shard.
 */
static bool
record_wanted(DdbScan *scan, cJSON *record)
{
	const char *seq;

	if (scan->bounds.lower == NULL && scan->bounds.upper == NULL &&
		scan->task->checkpoint == NULL)
		return true;
	seq = ddb_record_seq(record);
	/* consumed already: possible when a shard had to be read from its start */
	if (scan->task->checkpoint && ddb_seq_cmp(seq, scan->task->checkpoint) <= 0)
		return false;
	if (scan->bounds.upper && ddb_seq_cmp(seq, scan->bounds.upper) > 0)
	{
		end_shard(scan);
		return false;
	}
	if (scan->bounds.lower)
	{
		int			c = ddb_seq_cmp(seq, scan->bounds.lower);

		if (c < 0 || (c == 0 && scan->bounds.lower_after))
			return false;
	}
	return true;
}

/* Stop reading the head shard: drop the rest of its page and its reading. */
static void
end_shard(DdbScan *scan)
{
	scan->task->cut = true;
	scan->next_record = NULL;
	ddb_shard_reader_stop(scan->head);
}

/*
 * Copy the sequence number of the last record handed out of its page, into
 * its shard's task: done once per page, not per record.
 */
static void
remember_position(DdbScan *scan)
{
	if (scan->returned_record == NULL)
		return;
	if (scan->opts.consumer)
	{
		if (scan->task->returned_seq)
			pfree(scan->task->returned_seq);
		scan->task->returned_seq = MemoryContextStrdup(scan->scan_cxt,
													   ddb_record_seq(scan->returned_record));
	}
	scan->returned_record = NULL;
}

/*
 * A consumer's scan keeps how far a pass got, in memory: the next pass
 * starts there, and EndForeignScan writes it.
 */
static void
advance_consumer(DdbScan *scan)
{
	if (scan->consumer == NULL || !scan->consuming || scan->client == NULL)
		return;
	remember_position(scan);
	ddb_consumer_advance(scan->consumer, scan->tasks, scan->shards);
}
