/*-------------------------------------------------------------------------
 *
 * consumer.c
 *		  Consumers: a foreign table with option "consumer" returns each
 *		  stream record once, across scans, sessions and crashes.
 *
 * A consumer's positions are rows of ddbstream_fdw.checkpoints, one per
 * shard: the last record returned, and whether the shard is finished.  A
 * scan
 *   1. locks the consumer's row of ddbstream_fdw.consumers (INSERT ... ON
 *      CONFLICT DO UPDATE), so a second transaction reading the same consumer
 *      waits until the first commits or rolls back;
 *   2. reads the checkpoints, with a snapshot taken after the lock, and
 *      starts each shard after its checkpoint (a finished shard is not read);
 *   3. at its end, writes the position of every shard it returned records
 *      of, in the current transaction: commit keeps the rows and positions
 *      together, rollback keeps neither.
 * The statements run through SPI as the current user, with every name and
 * operator schema-qualified.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "ddbstream_fdw.h"

typedef struct Checkpoint
{
	char	   *shard_id;
	char	   *seq;
	bool		finished;
} Checkpoint;

/* The checkpoints read by a query, copied out of SPI's memory. */
typedef struct CheckpointList
{
	Checkpoint *items;
	int			n;
	MemoryContext cxt;			/* where to copy them */
} CheckpointList;

static void consumer_error_context(void *arg);
static void spi_run(const char *sql, int nargs, Oid *types, Datum *values,
					int expected, void (*rows) (void *arg), void *arg);
static void copy_checkpoints(void *arg);
static Datum text_array(List *strings);
static int	checkpoint_cmp(const void *a, const void *b);
static char **sorted_shard_ids(List *shards);
static int	cstring_cmp(const void *a, const void *b);

/*
 * A consumer's scan must save positions: in a read-only transaction (or on
 * a standby) it fails before reading anything, rather than return records
 * it cannot mark as consumed.
 */
void
ddb_consumer_check_writable(const char *consumer, const char *relname)
{
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot read consumer \"%s\" in a read-only transaction",
						consumer),
				 errdetail("Reading foreign table \"%s\" saves the consumer's positions in ddbstream_fdw.checkpoints.",
						   relname),
				 errhint("Read it in a read-write transaction, or through a foreign table without option \"consumer\" to look at the stream without consuming it.")));
}

/*
 * Lock the consumer's row, creating it on first use.  A concurrent reader of
 * the same consumer waits here; under REPEATABLE READ or SERIALIZABLE it then
 * fails with a serialization error instead of reading stale positions.
 */
void
ddb_consumer_lock(const char *consumer, const char *stream_arn)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];

	values[0] = CStringGetTextDatum(consumer);
	values[1] = CStringGetTextDatum(stream_arn);
	spi_run("INSERT INTO ddbstream_fdw.consumers AS c "
			"(consumer, stream_arn, last_read_at) "
			"VALUES ($1, $2, pg_catalog.now()) "
			"ON CONFLICT (consumer, stream_arn) "
			"DO UPDATE SET last_read_at = pg_catalog.now()",
			2, types, values, SPI_OK_INSERT, NULL, NULL);
}

/*
 * Start each planned shard after the consumer's checkpoint, and drop the
 * shards it has finished.  A shard with no checkpoint keeps its planned
 * start: the table's iterator_type, or its beginning for a child shard.
 *
 * A checkpoint of an unfinished shard that DescribeStream no longer lists
 * means the shard was trimmed away before the consumer read all of it: an
 * error, unless on_trimmed is 'skip' (then a WARNING).
 */
List *
ddb_consumer_apply_checkpoints(const char *consumer, const char *stream_arn,
							   List *shards, List *tasks, bool skip_trimmed,
							   int *nskipped)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	CheckpointList read = {NULL, 0, CurrentMemoryContext};
	Checkpoint *cps;
	int			ncps;
	char	  **listed = sorted_shard_ids(shards);
	int			nlisted = list_length(shards);
	List	   *kept = NIL;
	ListCell   *lc;
	int			i;

	values[0] = CStringGetTextDatum(consumer);
	values[1] = CStringGetTextDatum(stream_arn);
	spi_run("SELECT shard_id, sequence_number::pg_catalog.text, shard_finished "
			"FROM ddbstream_fdw.checkpoints "
			"WHERE consumer OPERATOR(pg_catalog.=) $1 "
			"AND stream_arn OPERATOR(pg_catalog.=) $2",
			2, types, values, SPI_OK_SELECT, copy_checkpoints, &read);
	cps = read.items;
	ncps = read.n;

	for (i = 0; i < ncps; i++)
	{
		if (cps[i].finished ||
			bsearch(&cps[i].shard_id, listed, nlisted, sizeof(char *), cstring_cmp))
			continue;
		if (!skip_trimmed)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("consumer \"%s\" lost records: shard \"%s\" was trimmed from the stream before the consumer finished it",
							consumer, cps[i].shard_id),
					 errdetail("The consumer's position in the shard is sequence number %s; DescribeStream no longer lists the shard.",
							   cps[i].seq),
					 errhint("Records older than the stream's 24-hour retention are gone. To go on, delete the shard's row from ddbstream_fdw.checkpoints, or set the table option on_trimmed to 'skip'.")));
		ereport(WARNING,
				(errmsg("consumer \"%s\" lost records: shard \"%s\" was trimmed from the stream before the consumer finished it",
						consumer, cps[i].shard_id),
				 errdetail("The consumer's position in the shard was sequence number %s.",
						   cps[i].seq)));
	}

	qsort(cps, ncps, sizeof(Checkpoint), checkpoint_cmp);
	foreach(lc, tasks)
	{
		DdbShardTask *task = (DdbShardTask *) lfirst(lc);
		DdbShard   *shard = task->shard;
		Checkpoint	key;
		Checkpoint *cp;

		key.shard_id = shard->shard_id;
		cp = ncps > 0 ? bsearch(&key, cps, ncps, sizeof(Checkpoint), checkpoint_cmp) : NULL;
		if (cp == NULL)
		{
			kept = lappend(kept, task);
			continue;
		}
		if (cp->finished ||
			(shard->ending_seq && ddb_seq_cmp(cp->seq, shard->ending_seq) >= 0))
		{
			(*nskipped)++;		/* nothing left to read in it */
			continue;
		}
		task->checkpoint = cp->seq;

		/*
		 * Go on right after the checkpoint, unless the plan already starts
		 * later (a pushed seq > N), or the checkpoint lies before the shard
		 * (set by hand): GetShardIterator refuses such a number, and reading
		 * from the start skips the consumed records all the same.
		 */
		if (ddb_seq_cmp(cp->seq, shard->starting_seq) >= 0 &&
			(task->start == DDB_START_TRIM_HORIZON ||
			 ddb_seq_cmp(cp->seq, task->start_seq) >= 0))
		{
			task->start = DDB_START_AFTER_SEQUENCE_NUMBER;
			task->start_seq = ddb_seq_pad(cp->seq);
		}
		kept = lappend(kept, task);
	}
	return kept;
}

/*
 * Write the position of every shard the scan returned records of or
 * finished, and forget the shards DescribeStream no longer lists.
 */
void
ddb_consumer_save(const char *consumer, const char *stream_arn, List *tasks,
				  List *shards)
{
	List	   *ids = NIL;
	List	   *seqs = NIL;
	List	   *finished = NIL;
	List	   *listed = NIL;
	ListCell   *lc;

	foreach(lc, tasks)
	{
		DdbShardTask *task = (DdbShardTask *) lfirst(lc);
		const char *seq = task->returned_seq;

		if (!task->finished && seq == NULL)
			continue;
		if (task->finished && task->shard->ending_seq)
			seq = task->shard->ending_seq;
		else if (seq == NULL)
			seq = task->checkpoint ? task->checkpoint : task->shard->starting_seq;
		ids = lappend(ids, task->shard->shard_id);
		seqs = lappend(seqs, (char *) seq);
		finished = lappend(finished, task->finished ? "true" : "false");
	}
	foreach(lc, shards)
		listed = lappend(listed, ((DdbShard *) lfirst(lc))->shard_id);

	if (ids != NIL)
	{
		Oid			types[5] = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
		Datum		values[5];

		values[0] = CStringGetTextDatum(consumer);
		values[1] = CStringGetTextDatum(stream_arn);
		values[2] = text_array(ids);
		values[3] = text_array(seqs);
		values[4] = text_array(finished);
		spi_run("INSERT INTO ddbstream_fdw.checkpoints AS c "
				"(consumer, stream_arn, shard_id, sequence_number, shard_finished, updated_at) "
				"SELECT $1, $2, s.shard_id, s.seq::pg_catalog.numeric, "
				"s.finished::pg_catalog.bool, pg_catalog.now() "
				"FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4), "
				"pg_catalog.unnest($5)) AS s(shard_id, seq, finished) "
				"ON CONFLICT (consumer, stream_arn, shard_id) DO UPDATE "
				"SET sequence_number = excluded.sequence_number, "
				"shard_finished = excluded.shard_finished, "
				"updated_at = excluded.updated_at",
				5, types, values, SPI_OK_INSERT, NULL, NULL);
	}

	if (listed != NIL)
	{
		Oid			types[3] = {TEXTOID, TEXTOID, TEXTARRAYOID};
		Datum		values[3];

		values[0] = CStringGetTextDatum(consumer);
		values[1] = CStringGetTextDatum(stream_arn);
		values[2] = text_array(listed);
		spi_run("DELETE FROM ddbstream_fdw.checkpoints "
				"WHERE consumer OPERATOR(pg_catalog.=) $1 "
				"AND stream_arn OPERATOR(pg_catalog.=) $2 "
				"AND shard_id OPERATOR(pg_catalog.<>) ALL ($3)",
				3, types, values, SPI_OK_DELETE, NULL, NULL);
	}
}

/*
 * Run one statement through SPI, naming the consumer in any error; rows(arg)
 * copies what a query returned out of SPI_tuptable before SPI is left.
 */
static void
spi_run(const char *sql, int nargs, Oid *types, Datum *values, int expected,
		void (*rows) (void *arg), void *arg)
{
	ErrorContextCallback errcallback;
	const char *consumer = TextDatumGetCString(values[0]);

	bool		pushed = false;

	errcallback.callback = consumer_error_context;
	errcallback.arg = (void *) consumer;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	/*
	 * The end of a SELECT's scan runs after its snapshot was popped (when
	 * its portal is dropped, or at COMMIT for a cursor): take one to write.
	 */
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0) != expected)
		elog(ERROR, "could not keep the positions of consumer \"%s\"", consumer);
	if (rows)
		rows(arg);
	SPI_finish();
	if (pushed)
		PopActiveSnapshot();

	error_context_stack = errcallback.previous;
}

static void
copy_checkpoints(void *arg)
{
	CheckpointList *list = (CheckpointList *) arg;
	TupleDesc	desc = SPI_tuptable->tupdesc;
	uint64		i;

	list->n = (int) SPI_processed;
	list->items = MemoryContextAlloc(list->cxt, sizeof(Checkpoint) * Max(list->n, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];

		list->items[i].shard_id = MemoryContextStrdup(list->cxt, SPI_getvalue(tup, desc, 1));
		list->items[i].seq = MemoryContextStrdup(list->cxt, SPI_getvalue(tup, desc, 2));
		list->items[i].finished = SPI_getvalue(tup, desc, 3)[0] == 't';
	}
}

static void
consumer_error_context(void *arg)
{
	errcontext("keeping the positions of consumer \"%s\"", (const char *) arg);
}

/* A text[] Datum of C strings. */
static Datum
text_array(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(strings), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, strings)
		elems[n++] = CStringGetTextDatum((const char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

static int
checkpoint_cmp(const void *a, const void *b)
{
	return strcmp(((const Checkpoint *) a)->shard_id,
				  ((const Checkpoint *) b)->shard_id);
}

/*
 * The IDs of the listed shards, sorted for bsearch: a stream can list
 * hundreds of thousands of shards, and a consumer hold as many checkpoints.
 */
static char **
sorted_shard_ids(List *shards)
{
	char	  **ids = palloc(sizeof(char *) * Max(list_length(shards), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, shards)
		ids[n++] = ((DdbShard *) lfirst(lc))->shard_id;
	qsort(ids, n, sizeof(char *), cstring_cmp);
	return ids;
}

static int
cstring_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}
