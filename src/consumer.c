/*-------------------------------------------------------------------------
 *
 * consumer.c
 *		  Consumers: a foreign table with option "consumer" returns each
 *		  stream record once, across scans, sessions, plans and crashes.
 *
 * A consumer is a row of ddbstream_fdw.consumers, owned by the role that
 * first read through it; its positions are rows of ddbstream_fdw.checkpoints,
 * one per shard: the last record returned, and whether the shard is
 * finished.  Row-level security lets only members of the owning role see or
 * change them.  A scan of a consumer
 *   1. at executor start (never inside parallel mode, which the executor
 *      enters only to run the plan): checks the role may use the consumer,
 *      locks the consumer's row (INSERT ... ON CONFLICT DO UPDATE) so that a
 *      second transaction waits until the first ends, registers itself as
 *      the consumer's one reader in this transaction, and reads the
 *      positions, with a snapshot taken after the lock;
 *   2. while it runs (possibly in parallel mode), and again for each rescan:
 *      starts each shard after its saved position, and keeps the furthest
 *      point it reaches in backend memory only (a rescan returns the same
 *      records again, as a rescan of any table does);
 *   3. at executor end (again outside parallel mode): writes the positions
 *      it moved, in the current transaction, so that commit keeps the rows
 *      and the positions together and rollback keeps neither.
 * The statements run through SPI as the role the scan reads as, with every
 * name and operator schema-qualified.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/pquery.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "ddbstream_fdw.h"

/* PostgreSQL 16 checks every kind of object's privileges in one function. */
#if PG_VERSION_NUM >= 160000
#define namespace_aclcheck(nsp, role, mode) \
	object_aclcheck(NamespaceRelationId, (nsp), (role), (mode))
#else
#define namespace_aclcheck(nsp, role, mode) pg_namespace_aclcheck((nsp), (role), (mode))
#endif

#define CONSUMER_SCHEMA "ddbstream_fdw"

/*
 * A shard's position: where every pass of the scan starts (as read at
 * executor start), and the furthest point any pass reached, to be written.
 */
typedef struct Checkpoint
{
	char	   *shard_id;
	char	   *seq;			/* saved position, or NULL if none */
	bool		finished;
	char	   *reached_seq;	/* furthest record returned, or NULL */
	bool		reached_finished;
	bool		forgotten;		/* trimmed and skipped: to be deleted */
} Checkpoint;

struct DdbConsumer
{
	MemoryContext cxt;			/* everything below lives here */
	char	   *name;
	char	   *stream_arn;
	Oid			userid;			/* the role the scan reads as */
	bool		reader;			/* locked and registered: writes at close */
	Checkpoint *cps;			/* the first nsorted sorted by shard_id */
	int			ncps;
	int			nsorted;
	int			maxcps;
	List	   *listed;			/* shard ids DescribeStream listed last */
	bool		have_listing;
};

/* A consumer being read in this transaction (TopTransactionContext). */
typedef struct ActiveReader
{
	char	   *name;
	char	   *stream_arn;
	int			nest_level;		/* of the subtransaction that opened it */
	char	   *relname;
} ActiveReader;

static List *active_readers = NIL;

/* What a query's rows are copied into before SPI is left. */
typedef struct SpiCopy
{
	DdbConsumer *consumer;
	Oid			owner;			/* InvalidOid: no row, or no owner yet */
} SpiCopy;

static void forget_trimmed(DdbConsumer *c, List *shards, bool skip_trimmed);
static bool start_after_position(DdbConsumer *c, DdbShardTask *task);
static void check_not_auto_held(DdbConsumer *c);
static void check_privileges(DdbConsumer *c, bool reader, const char *relname);
static Oid	schema_table(const char *name);
static bool schema_has_owner(void);
static Oid	consumer_owner(DdbConsumer *c);
static void check_owner(DdbConsumer *c, const char *relname);
static void lock_consumer(DdbConsumer *c, bool with_owner);
static void read_positions(DdbConsumer *c);
static void write_positions(DdbConsumer *c);
static void register_reader(DdbConsumer *c, const char *relname);
static void unregister_reader(DdbConsumer *c);
static void free_reader(ActiveReader *r);
static void consumer_xact_callback(XactEvent event, void *arg);
static void consumer_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
									  SubTransactionId parentSubid, void *arg);
static void spi_run(DdbConsumer *c, Oid role, const char *sql, int nargs,
					Oid *types, Datum *values, int expected,
					void (*rows) (void *arg), void *arg);
static void copy_checkpoints(void *arg);
static void copy_owner(void *arg);
static Checkpoint *find_checkpoint(DdbConsumer *c, const char *shard_id);
static void sort_checkpoints(DdbConsumer *c);
static void set_checkpoint(DdbConsumer *c, const char *shard_id,
						   const char *seq, bool finished);
static void consumer_error_context(void *arg);
static void consumer_key(DdbConsumer *c, Datum *values);
static Datum text_array(List *strings);
static int	checkpoint_cmp(const void *a, const void *b);
static int	string_cmp(const void *a, const void *b);
static const char **sorted_shard_ids(List *shards, int *n);

/* Called once from _PG_init. */
void
ddb_consumer_init(void)
{
	RegisterXactCallback(consumer_xact_callback, NULL);
	RegisterSubXactCallback(consumer_subxact_callback, NULL);
}

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
 * Open consumer "name" of a stream for the role "userid".  A reader (a scan
 * that consumes) locks the consumer, becomes its one reader in this
 * transaction and writes its positions at ddb_consumer_close; otherwise
 * (consumer_lag) the positions are only read.  Either way the role must be a
 * member of the consumer's owner.
 */
DdbConsumer *
ddb_consumer_open(const char *name, const char *stream_arn, Oid userid,
				  const char *relname, bool reader)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "ddbstream_fdw consumer positions",
											  ALLOCSET_SMALL_SIZES);
	DdbConsumer *c = MemoryContextAllocZero(cxt, sizeof(DdbConsumer));
	bool		with_owner;

	c->cxt = cxt;
	c->name = MemoryContextStrdup(cxt, name);
	c->stream_arn = MemoryContextStrdup(cxt, stream_arn);
	c->userid = userid;

	if (reader && IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot start reading consumer \"%s\" during a parallel operation",
						name),
				 errhint("Read the consumer in a statement of its own, not from a function marked PARALLEL SAFE.")));

	check_privileges(c, reader, relname);
	with_owner = schema_has_owner();
	if (with_owner)
		check_owner(c, relname);
	if (reader)
	{
		register_reader(c, relname);
		/* wait for any other reader of this consumer, then go on after it */
		lock_consumer(c, with_owner);
		c->reader = true;
	}
	read_positions(c);
	return c;
}

/*
 * Start each planned shard after the consumer's position, and drop the
 * shards it has finished.  A shard with no position keeps its planned
 * start: the table's iterator_type, or its beginning for a child shard.
 *
 * A position in an unfinished shard that DescribeStream no longer lists
 * means the shard was trimmed away before the consumer read all of it: an
 * error, unless on_trimmed is 'skip' (then a WARNING, and the position is
 * forgotten).
 */
List *
ddb_consumer_apply(DdbConsumer *c, List *shards, List *tasks,
				   bool skip_trimmed, int *nskipped)
{
	List	   *kept = NIL;
	ListCell   *lc;

	forget_trimmed(c, shards, skip_trimmed);
	foreach(lc, tasks)
	{
		DdbShardTask *task = (DdbShardTask *) lfirst(lc);

		if (start_after_position(c, task))
			kept = lappend(kept, task);
		else
			(*nskipped)++;		/* nothing left to read in it */
	}
	return kept;
}

/* The positions in unfinished shards that are no longer listed: see above. */
static void
forget_trimmed(DdbConsumer *c, List *shards, bool skip_trimmed)
{
	int			nlisted;
	const char **listed = sorted_shard_ids(shards, &nlisted);
	int			i;

	for (i = 0; i < c->ncps; i++)
	{
		Checkpoint *cp = &c->cps[i];

		if (cp->seq == NULL || cp->finished || cp->forgotten ||
			bsearch(&cp->shard_id, listed, nlisted, sizeof(char *), string_cmp))
			continue;
		if (!skip_trimmed)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("consumer \"%s\" lost records: shard \"%s\" was trimmed from the stream before the consumer finished it",
							c->name, cp->shard_id),
					 errdetail("The consumer's position in the shard is sequence number %s; DescribeStream no longer lists the shard.",
							   cp->seq),
					 errhint("Records older than the stream's 24-hour retention are gone. To go on, delete the shard's row from ddbstream_fdw.checkpoints, or set the table option on_trimmed to 'skip'.")));
		ereport(WARNING,
				(errmsg("consumer \"%s\" lost records: shard \"%s\" was trimmed from the stream before the consumer finished it",
						c->name, cp->shard_id),
				 errdetail("The consumer's position in the shard was sequence number %s.",
						   cp->seq)));
		cp->forgotten = true;
	}
}

/*
 * Start the task's shard after the consumer's position in it, if any.
 * False when the consumer has read all of the shard.
 */
static bool
start_after_position(DdbConsumer *c, DdbShardTask *task)
{
	DdbShard   *shard = task->shard;
	Checkpoint *cp = find_checkpoint(c, shard->shard_id);

	if (cp == NULL || cp->seq == NULL || cp->forgotten)
		return true;
	if (cp->finished ||
		(shard->ending_seq && ddb_seq_cmp(cp->seq, shard->ending_seq) >= 0))
		return false;
	task->checkpoint = cp->seq;

	/*
	 * Go on right after the position, unless the plan already starts later
	 * (a pushed seq > N), or the position lies before the shard (set by
	 * hand): GetShardIterator refuses such a number, and reading from the
	 * start skips the consumed records all the same.
	 */
	if (ddb_seq_cmp(cp->seq, shard->starting_seq) >= 0 &&
		(task->start == DDB_ITER_TRIM_HORIZON ||
		 ddb_seq_cmp(cp->seq, task->start_seq) >= 0))
	{
		task->start = DDB_ITER_AFTER_SEQUENCE_NUMBER;
		task->start_seq = ddb_seq_pad(cp->seq);
	}
	return true;
}

/*
 * Remember, in memory, how far one pass of the scan got: the position of
 * every shard it returned records of or finished, where no earlier pass got
 * further, and which shards the stream listed.
 */
void
ddb_consumer_advance(DdbConsumer *c, List *tasks, List *shards)
{
	MemoryContext old = MemoryContextSwitchTo(c->cxt);
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
		set_checkpoint(c, task->shard->shard_id, seq, task->finished);
	}
	sort_checkpoints(c);
	if (shards != NIL)
	{
		list_free_deep(c->listed);
		c->listed = NIL;
		foreach(lc, shards)
			c->listed = lappend(c->listed,
								pstrdup(((DdbShard *) lfirst(lc))->shard_id));
		c->have_listing = true;
	}
	MemoryContextSwitchTo(old);
}

/*
 * The scan is over: a reader writes the positions it moved (unless the
 * transaction is being aborted: a cursor closed by ROLLBACK consumed
 * nothing) and stops being the consumer's reader.
 */
void
ddb_consumer_close(DdbConsumer *c)
{
	if (c->reader)
	{
		unregister_reader(c);
		if (IsTransactionState())
		{
			check_not_auto_held(c);
			if (IsInParallelMode())
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
						 errmsg("cannot save the positions of consumer \"%s\" during a parallel operation",
								c->name)));
			write_positions(c);
		}
	}
	MemoryContextDelete(c->cxt);
}

/*
 * COMMIT inside a procedure's loop over a query keeps the loop's query open
 * by running it to its end into a store, at that COMMIT: it would consume
 * every record of the consumer, processed by the loop or not.  A cursor
 * declared WITH HOLD does the same, but says so; a loop does not.
 */
static void
check_not_auto_held(DdbConsumer *c)
{
	Portal		portal = ActivePortal;

	/*
	 * A SELECT's portal gets a store only when it is held at COMMIT (other
	 * strategies, such as INSERT ... RETURNING or EXPLAIN ANALYZE, fill one
	 * while they run).
	 */
	if (portal == NULL || portal->strategy != PORTAL_ONE_SELECT ||
		portal->holdStore == NULL || (portal->cursorOptions & CURSOR_OPT_HOLD))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
			 errmsg("cannot commit inside a loop that reads consumer \"%s\"",
					c->name),
			 errdetail("To keep the loop's query open, COMMIT would read the consumer to its end and consume every record, processed by the loop or not."),
			 errhint("Read the consumer in batches: loop over statements that read it with a LIMIT, committing after each, or declare a cursor WITH HOLD to consume everything at COMMIT.")));
}

/*
 * A clear error, naming the grants, when the role lacks one that reading
 * the consumer needs (instead of "permission denied for schema").
 */
static void
check_privileges(DdbConsumer *c, bool reader, const char *relname)
{
	Oid			nsp = get_namespace_oid(CONSUMER_SCHEMA, true);
	AclMode		consumers_mode = reader ? ACL_SELECT | ACL_INSERT | ACL_UPDATE : ACL_SELECT;
	AclMode		checkpoints_mode = reader ?
		ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_DELETE : ACL_SELECT;
	const char *grants = reader ? "SELECT, INSERT, UPDATE, DELETE" : "SELECT";

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" of extension ddbstream_fdw does not exist",
						CONSUMER_SCHEMA),
				 errhint("Create the extension with CREATE EXTENSION ddbstream_fdw.")));
	if (namespace_aclcheck(nsp, c->userid, ACL_USAGE) != ACLCHECK_OK ||
		pg_class_aclmask(schema_table("consumers"), c->userid, consumers_mode,
						 ACLMASK_ALL) != consumers_mode ||
		pg_class_aclmask(schema_table("checkpoints"), c->userid, checkpoints_mode,
						 ACLMASK_ALL) != checkpoints_mode)
	{
		char	   *role = GetUserNameFromId(c->userid, false);

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s consumer \"%s\"",
						reader ? "read" : "look at", c->name),
				 errdetail("Foreign table \"%s\" keeps the consumer's positions in ddbstream_fdw.consumers and ddbstream_fdw.checkpoints.",
						   relname),
				 errhint("Grant the role what it needs: GRANT USAGE ON SCHEMA ddbstream_fdw TO %s; GRANT %s ON ddbstream_fdw.consumers, ddbstream_fdw.checkpoints TO %s;",
						 quote_identifier(role), grants, quote_identifier(role))));
	}
}

static Oid
schema_table(const char *name)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid(CONSUMER_SCHEMA, false));

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s.%s\" of extension ddbstream_fdw does not exist",
						CONSUMER_SCHEMA, name)));
	return relid;
}

/*
 * Whether the installed extension has consumers owned by roles (0.2.0 and
 * later).  A 0.1.0 schema, before ALTER EXTENSION ddbstream_fdw UPDATE, is
 * read and written as it was.
 */
static bool
schema_has_owner(void)
{
	return get_attnum(schema_table("consumers"), "owner") != InvalidAttrNumber;
}

/*
 * The consumer's owning role, or InvalidOid before its first use (or, for a
 * consumer from before 0.2.0, its first read since the update).  Read as the
 * table's owner, since row-level security hides other roles' consumers from
 * the reader: it learns only who owns the name.
 */
static Oid
consumer_owner(DdbConsumer *c)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	SpiCopy		copy = {c, InvalidOid};
	Oid			table_owner = InvalidOid;
	HeapTuple	tup;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(schema_table("consumers")));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for ddbstream_fdw.consumers");
	table_owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);

	consumer_key(c, values);
	spi_run(c, table_owner,
			"SELECT owner::pg_catalog.oid FROM ddbstream_fdw.consumers "
			"WHERE consumer OPERATOR(pg_catalog.=) $1 "
			"AND stream_arn OPERATOR(pg_catalog.=) $2",
			2, types, values, SPI_OK_SELECT, copy_owner, &copy);
	return copy.owner;
}

static void
check_owner(DdbConsumer *c, const char *relname)
{
	Oid			owner = consumer_owner(c);

	if (!OidIsValid(owner) || is_member_of_role(c->userid, owner))
		return;
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(owner)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("consumer \"%s\" belongs to a role that was dropped",
						c->name),
				 errdetail("The owner's OID was %u.", owner),
				 errhint("A superuser can hand it to another role: UPDATE ddbstream_fdw.consumers SET owner = '...' WHERE consumer = '%s';",
						 c->name)));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("consumer \"%s\" belongs to role \"%s\"", c->name,
					GetUserNameFromId(owner, false)),
			 errdetail("Foreign table \"%s\" reads as role \"%s\", which is not a member of role \"%s\".",
					   relname, GetUserNameFromId(c->userid, false),
					   GetUserNameFromId(owner, false)),
			 errhint("Give the foreign table a consumer name of its own, or read it as a member of role \"%s\".",
					 GetUserNameFromId(owner, false))));
}

/*
 * Lock the consumer's row, creating it (owned by the reading role) on first
 * use, or making the reading role the owner of a consumer that has none.  A
 * concurrent reader of the same consumer waits here; under REPEATABLE READ
 * or SERIALIZABLE it then fails with a serialization error instead of
 * reading stale positions.
 */
static void
lock_consumer(DdbConsumer *c, bool with_owner)
{
	Oid			types[3] = {TEXTOID, TEXTOID, REGROLEOID};
	Datum		values[3];

	consumer_key(c, values);
	values[2] = ObjectIdGetDatum(c->userid);
	if (with_owner)
		spi_run(c, c->userid,
				"INSERT INTO ddbstream_fdw.consumers AS c "
				"(consumer, stream_arn, owner, last_read_at) "
				"VALUES ($1, $2, $3, pg_catalog.now()) "
				"ON CONFLICT (consumer, stream_arn) "
				"DO UPDATE SET last_read_at = pg_catalog.now(), "
				"owner = COALESCE(c.owner, excluded.owner)",
				3, types, values, SPI_OK_INSERT, NULL, NULL);
	else
		spi_run(c, c->userid,
				"INSERT INTO ddbstream_fdw.consumers AS c "
				"(consumer, stream_arn, last_read_at) "
				"VALUES ($1, $2, pg_catalog.now()) "
				"ON CONFLICT (consumer, stream_arn) "
				"DO UPDATE SET last_read_at = pg_catalog.now()",
				2, types, values, SPI_OK_INSERT, NULL, NULL);
}

/* $1 and $2 of every statement: the consumer's name and its stream. */
static void
consumer_key(DdbConsumer *c, Datum *values)
{
	values[0] = CStringGetTextDatum(c->name);
	values[1] = CStringGetTextDatum(c->stream_arn);
}

/* Read the consumer's positions into memory, sorted by shard. */
static void
read_positions(DdbConsumer *c)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	SpiCopy		copy = {c, InvalidOid};

	consumer_key(c, values);
	spi_run(c, c->userid,
			"SELECT shard_id, sequence_number::pg_catalog.text, shard_finished "
			"FROM ddbstream_fdw.checkpoints "
			"WHERE consumer OPERATOR(pg_catalog.=) $1 "
			"AND stream_arn OPERATOR(pg_catalog.=) $2",
			2, types, values, SPI_OK_SELECT, copy_checkpoints, &copy);
	sort_checkpoints(c);
}

/*
 * Write the positions the scan moved, and forget the shards DescribeStream
 * no longer lists (or that were skipped as trimmed).
 */
static void
write_positions(DdbConsumer *c)
{
	List	   *ids = NIL;
	List	   *seqs = NIL;
	List	   *finished = NIL;
	int			i;

	for (i = 0; i < c->ncps; i++)
	{
		Checkpoint *cp = &c->cps[i];

		if (cp->forgotten || cp->reached_seq == NULL)
			continue;
		ids = lappend(ids, cp->shard_id);
		seqs = lappend(seqs, cp->reached_seq);
		finished = lappend(finished, cp->reached_finished ? "true" : "false");
	}

	if (ids != NIL)
	{
		Oid			types[5] = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
		Datum		values[5];

		consumer_key(c, values);
		values[2] = text_array(ids);
		values[3] = text_array(seqs);
		values[4] = text_array(finished);
		spi_run(c, c->userid,
				"INSERT INTO ddbstream_fdw.checkpoints AS c "
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

	if (c->have_listing)
	{
		Oid			types[3] = {TEXTOID, TEXTOID, TEXTARRAYOID};
		Datum		values[3];

		consumer_key(c, values);
		values[2] = text_array(c->listed);
		spi_run(c, c->userid,
				"DELETE FROM ddbstream_fdw.checkpoints "
				"WHERE consumer OPERATOR(pg_catalog.=) $1 "
				"AND stream_arn OPERATOR(pg_catalog.=) $2 "
				"AND shard_id OPERATOR(pg_catalog.<>) ALL ($3)",
				3, types, values, SPI_OK_DELETE, NULL, NULL);
	}
}

/*
 * One reader per consumer and transaction: a second scan of the consumer
 * while the first is still open (both sides of a UNION ALL or a self-join,
 * a CTE referenced twice, a cursor still open) would return the same
 * records again, since neither has saved its positions yet.
 */
static void
register_reader(DdbConsumer *c, const char *relname)
{
	MemoryContext old;
	ListCell   *lc;
	ActiveReader *r;

	foreach(lc, active_readers)
	{
		r = (ActiveReader *) lfirst(lc);
		if (strcmp(r->name, c->name) == 0 && strcmp(r->stream_arn, c->stream_arn) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("consumer \"%s\" is already being read in this transaction",
							c->name),
					 errdetail("Foreign table \"%s\" reads the consumer while another scan of it (foreign table \"%s\") is still open: both would return the same records.",
							   relname, r->relname),
					 errhint("Read a consumer once per statement, for example in WITH feed AS MATERIALIZED (SELECT ...), and close cursors over it before reading it again.")));
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	r = palloc(sizeof(ActiveReader));
	r->name = pstrdup(c->name);
	r->stream_arn = pstrdup(c->stream_arn);
	r->relname = pstrdup(relname);
	r->nest_level = GetCurrentTransactionNestLevel();
	active_readers = lappend(active_readers, r);
	MemoryContextSwitchTo(old);
}

static void
unregister_reader(DdbConsumer *c)
{
	ListCell   *lc;

	foreach(lc, active_readers)
	{
		ActiveReader *r = (ActiveReader *) lfirst(lc);

		if (strcmp(r->name, c->name) == 0 && strcmp(r->stream_arn, c->stream_arn) == 0)
		{
			active_readers = foreach_delete_current(active_readers, lc);
			free_reader(r);
			return;
		}
	}
}

static void
free_reader(ActiveReader *r)
{
	pfree(r->name);
	pfree(r->stream_arn);
	pfree(r->relname);
	pfree(r);
}

/* The registry of readers lives as long as the transaction. */
static void
consumer_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			active_readers = NIL;	/* freed with TopTransactionContext */
			break;
		default:
			break;
	}
}

/*
 * A subtransaction that aborts ends the scans it opened (their
 * EndForeignScan never runs); one that commits hands them to its parent.
 */
static void
consumer_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	ListCell   *lc;

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	foreach(lc, active_readers)
	{
		ActiveReader *r = (ActiveReader *) lfirst(lc);

		if (r->nest_level < level)
			continue;
		if (event == SUBXACT_EVENT_ABORT_SUB)
		{
			active_readers = foreach_delete_current(active_readers, lc);
			free_reader(r);
		}
		else
			r->nest_level = level - 1;
	}
}

/*
 * Run one statement through SPI as "role", naming the consumer in any
 * error; rows(arg) copies what a query returned out of SPI_tuptable before
 * SPI is left.
 */
static void
spi_run(DdbConsumer *c, Oid role, const char *sql, int nargs, Oid *types,
		Datum *values, int expected, void (*rows) (void *arg), void *arg)
{
	ErrorContextCallback errcallback;
	Oid			save_userid;
	int			save_sec_context;
	bool		pushed = false;

	errcallback.callback = consumer_error_context;
	errcallback.arg = (void *) c->name;
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
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	if (role != save_userid)
		SetUserIdAndSecContext(role, save_sec_context |
							   SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0) != expected)
		elog(ERROR, "could not keep the positions of consumer \"%s\"", c->name);
	if (rows)
		rows(arg);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	if (pushed)
		PopActiveSnapshot();

	error_context_stack = errcallback.previous;
}

static void
copy_checkpoints(void *arg)
{
	DdbConsumer *c = ((SpiCopy *) arg)->consumer;
	TupleDesc	desc = SPI_tuptable->tupdesc;
	uint64		i;

	c->maxcps = Max((int) SPI_processed, 8);
	c->cps = MemoryContextAllocZero(c->cxt, sizeof(Checkpoint) * c->maxcps);
	c->ncps = (int) SPI_processed;
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];

		c->cps[i].shard_id = MemoryContextStrdup(c->cxt, SPI_getvalue(tup, desc, 1));
		c->cps[i].seq = MemoryContextStrdup(c->cxt, SPI_getvalue(tup, desc, 2));
		c->cps[i].finished = SPI_getvalue(tup, desc, 3)[0] == 't';
	}
}

static void
copy_owner(void *arg)
{
	SpiCopy    *copy = (SpiCopy *) arg;
	bool		isnull;
	Datum		d;

	if (SPI_processed == 0)
		return;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		copy->owner = DatumGetObjectId(d);
}

static Checkpoint *
find_checkpoint(DdbConsumer *c, const char *shard_id)
{
	Checkpoint	key;

	if (c->ncps == 0)
		return NULL;
	key.shard_id = (char *) shard_id;
	return bsearch(&key, c->cps, c->nsorted, sizeof(Checkpoint), checkpoint_cmp);
}

static void
sort_checkpoints(DdbConsumer *c)
{
	if (c->ncps > 1)
		qsort(c->cps, c->ncps, sizeof(Checkpoint), checkpoint_cmp);
	c->nsorted = c->ncps;
}

/* Move a shard's reached position forward (adding the shard if new). */
static void
set_checkpoint(DdbConsumer *c, const char *shard_id, const char *seq,
			   bool finished)
{
	Checkpoint *cp = find_checkpoint(c, shard_id);

	if (cp == NULL)
	{
		if (c->ncps == c->maxcps)
		{
			c->maxcps = Max(c->maxcps * 2, 8);
			c->cps = c->cps ?
				repalloc(c->cps, sizeof(Checkpoint) * c->maxcps) :
				palloc(sizeof(Checkpoint) * c->maxcps);
		}
		/* appended unsorted: the caller sorts once it has added them all */
		cp = &c->cps[c->ncps++];
		memset(cp, 0, sizeof(Checkpoint));
		cp->shard_id = pstrdup(shard_id);
	}
	if (cp->reached_seq == NULL || ddb_seq_cmp(seq, cp->reached_seq) > 0)
		cp->reached_seq = pstrdup(seq);
	cp->reached_finished = cp->reached_finished || finished;
	cp->forgotten = false;
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

static int
string_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The shard ids of a DescribeStream listing, sorted for bsearch. */
static const char **
sorted_shard_ids(List *shards, int *n)
{
	const char **ids = palloc(sizeof(char *) * Max(list_length(shards), 1));
	ListCell   *lc;

	*n = 0;
	foreach(lc, shards)
		ids[(*n)++] = ((DdbShard *) lfirst(lc))->shard_id;
	qsort(ids, *n, sizeof(char *), string_cmp);
	return ids;
}
