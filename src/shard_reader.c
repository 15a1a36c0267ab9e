/*-------------------------------------------------------------------------
 *
 * shard_reader.c
 *		  Reading one shard of a stream, page by page: its iterator, its
 *		  GetRecords requests, and when it counts as read.
 *
 * A closed shard is read when GetRecords gives no next iterator, or when a
 * page reaches the shard's EndingSequenceNumber (saving one request), or the
 * scan's upper bound.  An open shard never ends by itself, so a scan stops
 * reading it once it has caught up:
 *   - after a page that holds a record created after the scan started
 *     (rounded down to the second, as ApproximateCreationDateTime is);
 *   - at the first empty page after records of this shard: the scan has read
 *     up to the shard's tip;
 *   - after empty_page_limit consecutive empty pages before any record.
 * DynamoDB can return empty pages before records further in a shard.  A scan
 * that stops at such a gap has returned every record before it, and the next
 * scan (seq > max(seq)) starts at the gap, where up to empty_page_limit empty
 * pages are read through: nothing is skipped.
 *
 * Each page is checked: sequence numbers increase and stay before a closed
 * shard's end, so that an endpoint cannot make a scan return a record twice
 * or read for ever.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "shard_reader.h"
#include "streams_api.h"

/* Empty pages in a row after which a closed shard's answers are invalid. */
#define CLOSED_SHARD_EMPTY_PAGES	1000

/* Fresh iterators that may expire in a row before the scan gives up. */
#define MAX_EXPIRED_IN_A_ROW	3

struct DdbShardReader
{
	DdbClient  *client;
	const char *stream_arn;
	const DdbShardRules *rules;
	MemoryContext cxt;			/* the scan's: iterators and positions */
	DdbShardTask *task;
	DdbIteratorType start;		/* where reading began: the task's start, or */
	const char *start_seq;		/* TRIM_HORIZON after a fallback */

	DdbRequest *request;		/* in flight, or NULL */
	bool		request_is_iterator;	/* it is the GetShardIterator */
	int			asked;			/* records a GetRecords asked for */
	bool		has_iterator;	/* GetShardIterator has answered */
	char	   *iterator;		/* next iterator; NULL once nothing is left */

	DdbRequest *ahead;			/* the next page, asked for before this one
								 * was parsed, or NULL */
	char	   *ahead_iterator; /* the iterator it was sent with */
	int			ahead_asked;	/* and the records it asked for */

	int			empty_pages;	/* consecutive empty pages */
	int			expired;		/* iterators expired in a row */
	long		records;		/* records received from the shard */
	char	   *last_seq;		/* sequence number of the last of them */
	bool		exhausted;		/* the shard is closed and read to its end */
};

static void send_iterator_request(DdbShardReader *r, DdbIteratorType start,
								  const char *seq);
static void renew_iterator(DdbShardReader *r, DdbIteratorType start,
						   const char *seq);
static void page_failed(DdbShardReader *r, const DdbAwsError *err);
static void handle_trimmed(DdbShardReader *r, const char *op,
						   const DdbAwsError *err);
static bool at_bare_number(DdbShardReader *r);
static void take_next_iterator(DdbShardReader *r, cJSON *last, int nrecords,
							   const char *next_iterator);
static bool page_ends_shard(DdbShardReader *r, bool has_records,
							const char *last_seq, double last_created,
							bool has_next, int empty_pages, bool *exhausted);
static void check_page(DdbShardReader *r, cJSON *records);
static void cancel_ahead(DdbShardReader *r);

/*
 * Begin reading a shard: ask for an iterator where its task says.  The
 * reader lives in CurrentMemoryContext.
 */
DdbShardReader *
ddb_shard_reader_start(DdbClient *client, const char *stream_arn,
					   DdbShardTask *task, const DdbShardRules *rules)
{
	DdbShardReader *r = palloc0(sizeof(DdbShardReader));

	r->client = client;
	r->stream_arn = stream_arn;
	r->rules = rules;
	r->cxt = CurrentMemoryContext;
	r->task = task;
	r->start = task->start;
	r->start_seq = task->start_seq;
	send_iterator_request(r, task->start, task->start_seq);
	return r;
}

DdbShardTask *
ddb_shard_reader_task(DdbShardReader *r)
{
	return r->task;
}

/* Nothing left to ask: the shard is read, or reading it was stopped. */
bool
ddb_shard_reader_done(DdbShardReader *r)
{
	return r->request == NULL && r->has_iterator && r->iterator == NULL;
}

/* The shard is closed and was read to its end. */
bool
ddb_shard_reader_exhausted(DdbShardReader *r)
{
	return r->exhausted;
}

/* A request is in flight: an iterator or a page. */
bool
ddb_shard_reader_requested(DdbShardReader *r)
{
	return r->request != NULL;
}

static void
send_iterator_request(DdbShardReader *r, DdbIteratorType start,
					  const char *seq)
{
	MemoryContext old = MemoryContextSwitchTo(r->cxt);

	r->request = ddb_get_shard_iterator_start(r->client, r->stream_arn,
											  r->task->shard->shard_id,
											  start, seq);
	r->request_is_iterator = true;
	MemoryContextSwitchTo(old);
}

/*
 * Receive the shard's iterator, if it is the request in flight, and (when
 * "wait" is false) only if its answer is in.  True when one was taken.
 *
 * A position given by sequence number can be refused with HTTP 500:
 * DynamoDB Local answers InternalFailure for a number past its newest
 * record (beyond a 64-bit integer), and AWS may fail a request.  Instead of
 * failing the scan, read that shard from its start: the engine skips the
 * records below the bound, so the rows are exactly the same, at the cost of
 * reading more of the shard.
 */
bool
ddb_shard_reader_take_iterator(DdbShardReader *r, bool wait)
{
	MemoryContext old;
	DdbShardTask *task = r->task;
	DdbRequest *req = r->request;
	DdbAwsError err;

	if (req == NULL || !r->request_is_iterator ||
		(!wait && !ddb_request_ready(r->client, req)))
		return false;
	r->request = NULL;
	old = MemoryContextSwitchTo(r->cxt);
	r->iterator = ddb_get_shard_iterator_parse(r->client, req, &err);
	MemoryContextSwitchTo(old);
	r->has_iterator = true;
	if (r->iterator != NULL)
		return true;

	if (err.status >= 500 && (task->start == DDB_ITER_AT_SEQUENCE_NUMBER ||
							  task->start == DDB_ITER_AFTER_SEQUENCE_NUMBER))
	{
		ereport(DEBUG1,
				(errmsg_internal("GetShardIterator at sequence number %s failed with %s; reading shard %s from its start",
								 task->start_seq, err.type, task->shard->shard_id)));
		renew_iterator(r, DDB_ITER_TRIM_HORIZON, NULL);
	}
	else if (strcmp(err.type, "TrimmedDataAccessException") == 0)
		handle_trimmed(r, "GetShardIterator", &err);
	else
		ddb_raise_aws_error("DynamoDB Streams", "GetShardIterator", &err, err.attempts);
	return true;
}

/* Ask for the shard's next page, of at most "limit" records, if any is left. */
void
ddb_shard_reader_request(DdbShardReader *r, int limit)
{
	MemoryContext old;

	if (r->request || r->iterator == NULL)
		return;
	old = MemoryContextSwitchTo(r->cxt);
	r->request = ddb_get_records_start(r->client, r->iterator, limit);
	r->request_is_iterator = false;
	r->asked = limit;
	MemoryContextSwitchTo(old);
}

/*
 * Wait for the page in flight; its raw body when it came as an answer to
 * look at (see ddb_request_wait), else NULL.
 */
const char *
ddb_shard_reader_wait(DdbShardReader *r, size_t *len)
{
	Assert(r->request && !r->request_is_iterator);
	return ddb_request_wait(r->client, r->request, len);
}

/*
 * Would a page that looks like this (page_peek.c) leave the shard read?  A
 * page that will not can have its next page asked for ahead.
 */
bool
ddb_shard_reader_ends_with(DdbShardReader *r, const DdbPagePeek *peek)
{
	bool		exhausted;

	return !peek->next_iterator ||
		page_ends_shard(r, peek->has_records, peek->last_seq,
						peek->last_created, true,
						peek->has_records ? 0 : r->empty_pages + 1,
						&exhausted);
}

/*
 * Ask for the page after the one in flight, with the next iterator read
 * from its raw body.  ddb_shard_reader_take_page checks the guess against
 * the parsed page: a wrong one is cancelled, and costs a request, never a
 * wrong row.
 */
void
ddb_shard_reader_request_ahead(DdbShardReader *r, const char *iterator,
							   int limit)
{
	MemoryContext old = MemoryContextSwitchTo(r->cxt);

	Assert(r->ahead == NULL);
	r->ahead_iterator = pstrdup(iterator);
	r->ahead = ddb_get_records_start(r->client, iterator, limit);
	r->ahead_asked = limit;
	MemoryContextSwitchTo(old);
}

/*
 * Parse the page in flight into *page, in CurrentMemoryContext.  False when
 * the answer was no page but an error the reader dealt with (an expired
 * iterator, trimmed records): a new iterator is then on its way.
 */
bool
ddb_shard_reader_take_page(DdbShardReader *r, DdbPage *page)
{
	DdbRequest *req = r->request;
	cJSON	   *records;
	cJSON	   *last;
	char	   *next_iterator;
	DdbAwsError err;

	Assert(req && !r->request_is_iterator);
	r->request = NULL;
	records = ddb_get_records_parse(r->client, req, r->asked, &next_iterator, &err);
	if (records == NULL)
	{
		cancel_ahead(r);
		page_failed(r, &err);
		return false;
	}
	r->expired = 0;
	page->records = records;
	page->nrecords = cJSON_GetArraySize(records);
	r->empty_pages = (page->nrecords == 0) ? r->empty_pages + 1 : 0;
	check_page(r, records);

	last = page->nrecords > 0 ? cJSON_GetArrayItem(records, page->nrecords - 1) : NULL;
	take_next_iterator(r, last, page->nrecords, next_iterator);

	/* the page asked for ahead is the next page: the guess was right */
	if (r->ahead && r->iterator && strcmp(r->ahead_iterator, r->iterator) == 0)
	{
		r->request = r->ahead;
		r->request_is_iterator = false;
		r->asked = r->ahead_asked;
		r->ahead = NULL;
	}
	cancel_ahead(r);
	return true;
}

/*
 * After a page: the next iterator, unless the shard is read, and where to
 * go on from if that iterator expires.
 */
static void
take_next_iterator(DdbShardReader *r, cJSON *last, int nrecords,
				   const char *next_iterator)
{
	pfree(r->iterator);
	r->iterator = NULL;
	if (!page_ends_shard(r, last != NULL,
						 last ? ddb_record_seq(last) : NULL,
						 last ? ddb_record_created(last) : -1,
						 next_iterator != NULL, r->empty_pages, &r->exhausted))
		r->iterator = MemoryContextStrdup(r->cxt, next_iterator);
	r->records += nrecords;
	if (last)
	{
		if (r->last_seq)
			pfree(r->last_seq);
		r->last_seq = MemoryContextStrdup(r->cxt, ddb_record_seq(last));
	}
}

/* An error answer to GetRecords that a new iterator may get past. */
static void
page_failed(DdbShardReader *r, const DdbAwsError *err)
{
	if (strcmp(err->type, "ExpiredIteratorException") == 0 &&
		++r->expired <= MAX_EXPIRED_IN_A_ROW)
	{
		/*
		 * Iterators live 15 minutes.  Go on right after the last record
		 * received from this shard, or from where the shard started if none:
		 * no duplicate, no gap.
		 */
		ddb_client_count_retry(r->client);
		if (r->last_seq)
			renew_iterator(r, DDB_ITER_AFTER_SEQUENCE_NUMBER,
						   ddb_seq_pad(r->last_seq));
		else
			renew_iterator(r, r->start, r->start_seq);
	}
	else if (strcmp(err->type, "TrimmedDataAccessException") == 0)
		handle_trimmed(r, "GetRecords", err);
	else
		ddb_raise_aws_error("DynamoDB Streams", "GetRecords", err, err->attempts);
}

/* Stop reading the shard: drop its iterator and any page asked for. */
void
ddb_shard_reader_stop(DdbShardReader *r)
{
	if (r->request)
		ddb_request_cancel(r->client, r->request);
	r->request = NULL;
	cancel_ahead(r);
	if (r->iterator)
		pfree(r->iterator);
	r->iterator = NULL;
	r->has_iterator = true;
}

static void
cancel_ahead(DdbShardReader *r)
{
	if (r->ahead)
		ddb_request_cancel(r->client, r->ahead);
	r->ahead = NULL;
	if (r->ahead_iterator)
		pfree(r->ahead_iterator);
	r->ahead_iterator = NULL;
}

/*
 * A new iterator for the shard, received at once, raising any error.
 */
static void
renew_iterator(DdbShardReader *r, DdbIteratorType start, const char *seq)
{
	MemoryContext old = MemoryContextSwitchTo(r->cxt);
	DdbRequest *req;

	if (r->last_seq == NULL)
	{
		/* nothing read yet: this is where the shard's reading begins */
		r->start = start;
		r->start_seq = seq;
	}
	if (r->iterator)
		pfree(r->iterator);
	req = ddb_get_shard_iterator_start(r->client, r->stream_arn,
									   r->task->shard->shard_id, start, seq);
	r->iterator = ddb_get_shard_iterator_parse(r->client, req, NULL);
	MemoryContextSwitchTo(old);
}

/*
 * Is the shard still at a starting position given as a bare number (a
 * pushed seq condition or the sequence_number option), with no record
 * received yet?  Such a number need not be any record's.
 */
static bool
at_bare_number(DdbShardReader *r)
{
	if (r->last_seq != NULL ||
		(r->start != DDB_ITER_AT_SEQUENCE_NUMBER &&
		 r->start != DDB_ITER_AFTER_SEQUENCE_NUMBER))
		return false;
	/* a consumer's checkpoint is the number of a record it returned */
	return r->task->checkpoint == NULL ||
		ddb_seq_cmp(r->start_seq, r->task->checkpoint) != 0;
}

/*
 * The shard's position is older than the oldest record the shard holds.
 *
 * A position given as a bare number is a bound on the records wanted, not
 * a record: the shard is read from its oldest record, with the records up
 * to the number skipped by the engine, exactly the rows of the same scan
 * from TRIM_HORIZON with the condition checked locally, and no warning.
 * That is also what DynamoDB Local needs: it shares sequence numbers among
 * all its tables and refuses a number between a shard's start and its first
 * record as trimmed, though no record was ever there.  Whether records after
 * such a number were trimmed cannot be known, since the number may never
 * have been a record's.
 *
 * A position that was a record's (a consumer's checkpoint, the last record
 * received before an iterator expired, or the shard's reading under way)
 * shows that records really were trimmed.  By default that is an error;
 * with on_trimmed 'skip' the scan warns that records may have been lost and
 * goes on from the oldest record the shard still holds.
 */
static void
handle_trimmed(DdbShardReader *r, const char *op, const DdbAwsError *err)
{
	const char *shard_id = r->task->shard->shard_id;

	if (at_bare_number(r))
	{
		ereport(DEBUG1,
				(errmsg_internal("%s at sequence number %s of shard %s answered TrimmedDataAccessException; reading the shard from its oldest record",
								 op, r->start_seq, shard_id)));
		renew_iterator(r, DDB_ITER_TRIM_HORIZON, NULL);
		return;
	}
	if (!r->rules->skip_trimmed)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("DynamoDB Streams %s failed: TrimmedDataAccessException", op),
				 errdetail_internal("Shard \"%s\": %s", shard_id,
									err->message ? err->message : "no message"),
				 errhint("The records at this position are older than the stream's 24-hour retention. Read from a later position, or set the table option on_trimmed to 'skip' to go on from the oldest record left.")));
	ereport(WARNING,
			(errmsg("stream records may have been lost: the scan's position is older than the stream's retention"),
			 errdetail_internal("Shard \"%s\": %s", shard_id,
								err->message ? err->message : "no message"),
			 errhint("Reading goes on from the oldest record left in the shard (on_trimmed 'skip').")));
	renew_iterator(r, DDB_ITER_TRIM_HORIZON, NULL);
}

/*
 * Is the shard read once this page's records are returned (see the rules at
 * the top of the file)?  From the facts of a page: whether it has records,
 * its last record's sequence number and creation time (-1 if none), whether
 * it has a next iterator, and the count of consecutive empty pages it makes.
 * *exhausted says whether the shard is closed and read to its end.
 */
static bool
page_ends_shard(DdbShardReader *r, bool has_records, const char *last_seq,
				double last_created, bool has_next, int empty_pages,
				bool *exhausted)
{
	DdbShard   *shard = r->task->shard;
	const DdbShardRules *rules = r->rules;

	*exhausted = false;
	if (!has_next)
	{
		*exhausted = true;		/* the shard is closed and read */
		return true;
	}
	if (rules->upper && has_records && ddb_seq_cmp(last_seq, rules->upper) >= 0)
		return true;			/* the rest of the shard is past the bound */

	if (shard->ending_seq)
	{
		*exhausted = has_records && ddb_seq_cmp(last_seq, shard->ending_seq) >= 0;
		return *exhausted;
	}

	if (!has_records)
		return r->records > 0 || empty_pages >= rules->empty_page_limit;
	return last_created >= 0 && last_created > rules->scan_start;
}

/*
 * A page must make progress: within a shard, sequence numbers increase from
 * record to record and from page to page, and never pass a closed shard's
 * end; and a closed shard cannot answer empty pages forever.  An endpoint
 * that breaks this would have a scan return a record twice (a consumer
 * too), or never end.
 */
static void
check_page(DdbShardReader *r, cJSON *records)
{
	DdbShard   *shard = r->task->shard;
	const char *prev = r->last_seq;
	cJSON	   *record;

	if (shard->ending_seq && r->empty_pages > CLOSED_SHARD_EMPTY_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("DynamoDB Streams GetRecords returned an invalid response"),
				 errdetail("Closed shard \"%s\" answered %d empty pages in a row.",
						   ddb_printable(shard->shard_id, strlen(shard->shard_id), 200),
						   r->empty_pages)));
	cJSON_ArrayForEach(record, records)
	{
		const char *seq = ddb_record_seq(record);

		if ((prev && ddb_seq_cmp(seq, prev) <= 0) ||
			(shard->ending_seq && ddb_seq_cmp(seq, shard->ending_seq) > 0))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_REPLY_HANDLE),
					 errmsg("DynamoDB Streams GetRecords returned an invalid response"),
					 errdetail("Sequence number %s in shard \"%s\" does not follow %s before the shard's end.",
							   seq,
							   ddb_printable(shard->shard_id, strlen(shard->shard_id), 200),
							   prev ? prev : "the shard's start")));
		prev = seq;
	}
}
