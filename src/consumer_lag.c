/*-------------------------------------------------------------------------
 *
 * consumer_lag.c
 *		  ddbstream_fdw.consumer_pending(regclass): how many records a
 *		  consumer has not read yet, per shard, and how old the oldest is.
 *
 * It reads the shards from the consumer's checkpoints to their tip, as the
 * consumer's next scan would, counting records instead of returning them:
 * no lock, no position saved.  The SQL function ddbstream_fdw.consumer_lag
 * joins the result with the checkpoints.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "ddbstream_fdw.h"
#include "scan.h"

#define PENDING_COLUMNS 7

typedef struct ShardPending
{
	DdbShardTask *task;
	int64		records;
	double		oldest;			/* ApproximateCreationDateTime, or -1 */
} ShardPending;

static void check_consumer_table(Relation rel);
static int	pending_cmp(const void *a, const void *b);
static ShardPending *count_pending(DdbScan *scan, int *ntasks);
static void put_shard_row(ReturnSetInfo *rsinfo, DdbScan *scan, DdbShard *shard,
						  ShardPending *p);

PG_FUNCTION_INFO_V1(ddbstream_fdw_consumer_pending);

Datum
ddbstream_fdw_consumer_pending(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	DdbScan    *scan;
	ShardPending *pending;
	int			ntasks;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	rel = relation_open(PG_GETARG_OID(0), AccessShareLock);
	check_consumer_table(rel);

	/* a scan that counts the records without consuming them */
	scan = ddb_scan_begin(rel, GetUserId(), false, NULL, CurrentMemoryContext);
	pending = count_pending(scan, &ntasks);

	/* by shard, to find each shard's counts without a quadratic search */
	qsort(pending, ntasks, sizeof(ShardPending), pending_cmp);
	foreach(lc, ddb_scan_shards(scan))
	{
		DdbShard   *shard = (DdbShard *) lfirst(lc);
		DdbShardTask key_task = {.shard = shard};
		ShardPending key = {.task = &key_task};

		put_shard_row(rsinfo, scan, shard,
					  bsearch(&key, pending, ntasks, sizeof(ShardPending), pending_cmp));
	}

	ddb_scan_end(scan);
	relation_close(rel, AccessShareLock);
	return (Datum) 0;
}

/* Read the scan to its end, counting the records of each of its tasks. */
static ShardPending *
count_pending(DdbScan *scan, int *ntasks)
{
	List	   *tasks = ddb_scan_tasks(scan);
	ShardPending *pending;
	DdbShardTask *task;
	cJSON	   *record;
	int			cur = -1;

	*ntasks = list_length(tasks);
	pending = palloc0(sizeof(ShardPending) * Max(*ntasks, 1));
	for (int i = 0; i < *ntasks; i++)
	{
		pending[i].task = (DdbShardTask *) list_nth(tasks, i);
		pending[i].oldest = -1;
	}

	/* records come shard after shard, in the order of the tasks */
	while ((record = ddb_scan_next(scan, &task)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		while (cur < *ntasks - 1 && (cur < 0 || pending[cur].task != task))
			cur++;
		pending[cur].records++;
		if (pending[cur].oldest < 0)
			pending[cur].oldest = ddb_record_created(record);
	}
	return pending;
}

/* One row of the result: a shard and what is pending in it (p may be NULL). */
static void
put_shard_row(ReturnSetInfo *rsinfo, DdbScan *scan, DdbShard *shard,
			  ShardPending *p)
{
	Datum		values[PENDING_COLUMNS];
	bool		nulls[PENDING_COLUMNS];

	memset(nulls, 0, sizeof(nulls));
	values[0] = CStringGetTextDatum(ddb_scan_options(scan)->consumer);
	values[1] = CStringGetTextDatum(ddb_scan_stream_arn(scan));
	values[2] = CStringGetTextDatum(shard->shard_id);
	if (shard->parent_shard_id)
		values[3] = CStringGetTextDatum(shard->parent_shard_id);
	else
		nulls[3] = true;
	values[4] = BoolGetDatum(shard->ending_seq == NULL);
	values[5] = Int64GetDatum(p ? p->records : 0);
	if (p && p->oldest >= 0)
		values[6] = DirectFunctionCall1(float8_timestamptz,
										Float8GetDatum(p->oldest));
	else
		nulls[6] = true;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* A foreign table of ddbstream_fdw with option consumer, readable by the user. */
static void
check_consumer_table(Relation rel)
{
	ForeignTable *table;
	ForeignDataWrapper *fdw;
	AclResult	aclresult;
	ListCell   *lc;
	bool		has_consumer = false;

	if (rel->rd_rel->relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a foreign table", RelationGetRelationName(rel))));
	table = GetForeignTable(RelationGetRelid(rel));
	fdw = GetForeignDataWrapper(GetForeignServer(table->serverid)->fdwid);
	if (!OidIsValid(fdw->fdwhandler) ||
		strcmp(get_func_name(fdw->fdwhandler), "ddbstream_fdw_handler") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("foreign table \"%s\" does not belong to ddbstream_fdw",
						RelationGetRelationName(rel))));

	aclresult = pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_TABLE, RelationGetRelationName(rel));

	foreach(lc, table->options)
		if (strcmp(((DefElem *) lfirst(lc))->defname, "consumer") == 0)
			has_consumer = true;
	if (!has_consumer)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("foreign table \"%s\" has no option \"consumer\"",
						RelationGetRelationName(rel)),
				 errhint("Lag is measured for consumers: ALTER FOREIGN TABLE %s OPTIONS (ADD consumer '...').",
						 quote_identifier(RelationGetRelationName(rel)))));
}

/* Order ShardPending by the address of its task's shard. */
static int
pending_cmp(const void *a, const void *b)
{
	uintptr_t	x = (uintptr_t) ((const ShardPending *) a)->task->shard;
	uintptr_t	y = (uintptr_t) ((const ShardPending *) b)->task->shard;

	return x < y ? -1 : x > y ? 1 : 0;
}
