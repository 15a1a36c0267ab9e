/*-------------------------------------------------------------------------
 *
 * ddbstream_fdw.c
 *		  Foreign-data wrapper handler and scan callbacks: a DynamoDB Stream
 *		  as a PostgreSQL foreign table, one row per stream record.
 *
 * A scan lists the stream's shards, reads them parents first, page by page
 * with GetRecords, and ends when every shard is finished: a closed shard
 * when it has no next iterator (or its last record was returned), an open
 * shard when the scan has caught up with it (see shard_caught_up).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <time.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ddbstream_fdw.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Rows we guess a stream holds when nothing better is known. */
#define DEFAULT_ROW_ESTIMATE	1000

/*
 * The layout of ForeignScan.fdw_private.
 */
enum DdbStreamScanPrivateIndex
{
	/* Integer list of the attribute numbers the query uses */
	DdbScanPrivateRetrievedAttrs
};

/* How one attribute of the foreign table is filled. */
typedef struct DdbColumn
{
	int			field;			/* DdbField, or -1 when not retrieved */
	Oid			typid;
} DdbColumn;

typedef struct DdbScanState
{
	DdbStreamOptions opts;
	DdbCredentials creds;
	DdbColumn  *columns;		/* one per attribute of the tuple descriptor */
	int			ncolumns;

	MemoryContext scan_cxt;		/* lives as long as one pass of the scan */
	MemoryContext page_cxt;		/* the current GetRecords page, reset per page */
	MemoryContext row_cxt;		/* the current row's Datums, reset per row */

	bool		started;
	DdbClient  *client;
	char	   *stream_arn;
	List	   *tasks;			/* DdbShardTask, in lineage order */
	int			next_task;
	DdbShardTask *task;			/* shard being read */
	char	   *iterator;		/* next iterator of that shard, NULL when done */
	int			empty_pages;	/* consecutive empty pages of that shard */
	double		scan_start;		/* epoch seconds, rounded down */
	const char *skip_through;	/* skip this shard's records up to this
								 * sequence number (see start_shard) */
	bool		skip_inclusive; /* ... and the record of that number too */
	cJSON	   *next_record;	/* next record of the current page */

	DdbScanStats stats;
} DdbScanState;

/*
 * FDW callback routines
 */
static void ddbGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
static void ddbGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
							   Oid foreigntableid);
static ForeignScan *ddbGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
									  Oid foreigntableid, ForeignPath *best_path,
									  List *tlist, List *scan_clauses,
									  Plan *outer_plan);
static void ddbBeginForeignScan(ForeignScanState *node, int eflags);
static TupleTableSlot *ddbIterateForeignScan(ForeignScanState *node);
static void ddbReScanForeignScan(ForeignScanState *node);
static void ddbEndForeignScan(ForeignScanState *node);
static void ddbExplainForeignScan(ForeignScanState *node, ExplainState *es);

/*
 * Helpers
 */
static DdbColumn *build_column_map(Relation rel, List *retrieved_attrs);
static void start_scan(DdbScanState *st);
static bool fetch_next_page(DdbScanState *st);
static void start_shard(DdbScanState *st, DdbShardTask *task);
static bool skip_record(DdbScanState *st, cJSON *record);
static bool shard_caught_up(DdbScanState *st, cJSON *records, int nrecords,
							const char *next_iterator);
static const char *record_seq(cJSON *record);
static void *cjson_palloc(size_t size);
static void cjson_pfree(void *ptr);

PG_FUNCTION_INFO_V1(ddbstream_fdw_handler);

void
_PG_init(void)
{
	ddb_http_global_init();
	ddb_cjson_use_palloc();
}

/*
 * cJSON allocates in CurrentMemoryContext, so a parsed page is freed by
 * resetting its context, on success and on error alike.
 */
void
ddb_cjson_use_palloc(void)
{
	cJSON_Hooks hooks = {cjson_palloc, cjson_pfree};

	cJSON_InitHooks(&hooks);
}

static void *
cjson_palloc(size_t size)
{
	return palloc(size > 0 ? size : 1);
}

static void
cjson_pfree(void *ptr)
{
	if (ptr)
		pfree(ptr);
}

Datum
ddbstream_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	/* scanning */
	routine->GetForeignRelSize = ddbGetForeignRelSize;
	routine->GetForeignPaths = ddbGetForeignPaths;
	routine->GetForeignPlan = ddbGetForeignPlan;
	routine->BeginForeignScan = ddbBeginForeignScan;
	routine->IterateForeignScan = ddbIterateForeignScan;
	routine->ReScanForeignScan = ddbReScanForeignScan;
	routine->EndForeignScan = ddbEndForeignScan;

	/* EXPLAIN */
	routine->ExplainForeignScan = ddbExplainForeignScan;

	PG_RETURN_POINTER(routine);
}

static void
ddbGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	RangeTblEntry *rte = planner_rt_fetch(baserel->relid, root);
	Relation	rel = table_open(rte->relid, NoLock);

	/* Check every column against the stream's fields now, at plan time. */
	(void) build_column_map(rel, NIL);
	table_close(rel, NoLock);

	baserel->rows = DEFAULT_ROW_ESTIMATE;
	baserel->tuples = DEFAULT_ROW_ESTIMATE;
}

static void
ddbGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	Cost		startup_cost = 100.0;	/* listing shards: a round trip or two */
	Cost		total_cost = startup_cost + baserel->rows * 1.0;

	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup_cost, total_cost, NIL,
									 NULL, NULL, NIL));
}

static ForeignScan *
ddbGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				  ForeignPath *best_path, List *tlist, List *scan_clauses,
				  Plan *outer_plan)
{
	Bitmapset  *attrs_used = NULL;
	List	   *retrieved_attrs = NIL;
	ListCell   *lc;
	int			attno;

	/* Every clause is checked locally. */
	scan_clauses = extract_actual_clauses(scan_clauses, false);

	/* Only the columns the query uses are built. */
	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs_used);
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		pull_varattnos((Node *) rinfo->clause, baserel->relid, &attrs_used);
	}
	attno = -1;
	while ((attno = bms_next_member(attrs_used, attno)) >= 0)
	{
		AttrNumber	a = attno + FirstLowInvalidHeapAttributeNumber;

		if (a == InvalidAttrNumber)
		{
			/* a whole-row reference needs every column */
			retrieved_attrs = lappend_int(NIL, 0);
			break;
		}
		if (a > 0)
			retrieved_attrs = lappend_int(retrieved_attrs, a);
	}

	return make_foreignscan(tlist, scan_clauses, baserel->relid, NIL,
							list_make1(retrieved_attrs), NIL, NIL, outer_plan);
}

/*
 * Map each attribute to the stream field it holds: its option "field", or
 * else its name.  An unknown name or an unsuitable type is an error.
 * retrieved_attrs limits which are built; NIL or (0) means all.
 */
static DdbColumn *
build_column_map(Relation rel, List *retrieved_attrs)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	DdbColumn  *columns = palloc(sizeof(DdbColumn) * Max(tupdesc->natts, 1));
	bool		all = (retrieved_attrs == NIL || linitial_int(retrieved_attrs) == 0);
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupdesc, i);
		const char *name = NameStr(attr->attname);
		List	   *options;
		ListCell   *lc;
		int			field;

		columns[i].field = -1;
		columns[i].typid = attr->atttypid;
		if (attr->attisdropped)
			continue;

		options = GetForeignColumnOptions(RelationGetRelid(rel), attr->attnum);
		foreach(lc, options)
		{
			DefElem    *def = (DefElem *) lfirst(lc);

			if (strcmp(def->defname, "field") == 0)
				name = defGetString(def);
		}
		field = ddb_field_by_name(name);
		if (field < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
					 errmsg("column \"%s\" of foreign table \"%s\" matches no stream field",
							NameStr(attr->attname), RelationGetRelationName(rel)),
					 errhint("Name the column after a field, or map it with OPTIONS (field '...'). Valid fields are: %s.",
							 ddb_field_name_list())));
		ddb_check_column_type(field, attr->atttypid, NameStr(attr->attname));

		if (all || list_member_int(retrieved_attrs, attr->attnum))
			columns[i].field = field;
	}
	return columns;
}

static void
ddbBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	Relation	rel = node->ss.ss_currentRelation;
	RangeTblEntry *rte;
	Oid			userid;
	DdbScanState *st;

	/* EXPLAIN without ANALYZE makes no network request. */
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	st = palloc0(sizeof(DdbScanState));
	node->fdw_state = st;

	rte = exec_rt_fetch(plan->scan.scanrelid, estate);
	userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();

	ddb_get_table_options(RelationGetRelid(rel), &st->opts);
	ddb_get_credentials(GetForeignServer(GetForeignTable(RelationGetRelid(rel))->serverid),
						userid, &st->creds);
	st->columns = build_column_map(rel, (List *) list_nth(plan->fdw_private,
														  DdbScanPrivateRetrievedAttrs));
	st->ncolumns = RelationGetDescr(rel)->natts;

	st->scan_cxt = AllocSetContextCreate(estate->es_query_cxt,
										 "ddbstream_fdw scan data",
										 ALLOCSET_DEFAULT_SIZES);
	st->page_cxt = AllocSetContextCreate(st->scan_cxt,
										 "ddbstream_fdw page data",
										 ALLOCSET_DEFAULT_SIZES);
	st->row_cxt = AllocSetContextCreate(st->scan_cxt,
										"ddbstream_fdw row data",
										ALLOCSET_SMALL_SIZES);
}

/*
 * List the shards and plan the scan: the first network work of a scan, done
 * at the first row so that a scan that is never run costs nothing.
 */
static void
start_scan(DdbScanState *st)
{
	MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);
	List	   *shards;
	int			nskipped;

	st->scan_start = floor((double) time(NULL));
	st->client = ddb_client_create(&st->opts, &st->creds, &st->stats);
	st->stream_arn = st->opts.stream_arn ? st->opts.stream_arn :
		ddb_describe_table_stream(st->client, st->opts.table_name);
	shards = ddb_describe_stream(st->client, st->stream_arn);
	st->tasks = ddb_plan_shards(shards, st->opts.iterator_type,
								st->opts.sequence_number, &nskipped);
	st->stats.shards_skipped += nskipped;
	st->next_task = 0;
	st->started = true;
	MemoryContextSwitchTo(old);
}

static TupleTableSlot *
ddbIterateForeignScan(ForeignScanState *node)
{
	DdbScanState *st = (DdbScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	MemoryContext old;
	cJSON	   *record;
	int			i;

	ExecClearTuple(slot);
	do
	{
		while (st->next_record == NULL)
			if (!fetch_next_page(st))
				return slot;
		record = st->next_record;
		st->next_record = record->next;
	} while (st->skip_through && skip_record(st, record));

	MemoryContextReset(st->row_cxt);
	old = MemoryContextSwitchTo(st->row_cxt);
	if (!cJSON_IsObject(record))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("DynamoDB Streams GetRecords returned an invalid response"),
				 errdetail_internal("A record is not a JSON object.")));
	for (i = 0; i < st->ncolumns; i++)
	{
		slot->tts_isnull[i] = true;
		if (st->columns[i].field < 0)
			continue;
		slot->tts_values[i] = ddb_field_datum((DdbField) st->columns[i].field,
											  st->columns[i].typid, record,
											  st->task->shard->shard_id,
											  st->opts.image_format,
											  &slot->tts_isnull[i]);
	}
	MemoryContextSwitchTo(old);
	ExecStoreVirtualTuple(slot);
	return slot;
}

/*
 * Get the next non-empty page of records into st->next_record, moving on to
 * the next shard when one is finished.  False when every shard is done.
 */
static bool
fetch_next_page(DdbScanState *st)
{
	for (;;)
	{
		MemoryContext old;
		cJSON	   *records;
		char	   *next_iterator;
		int			nrecords;

		CHECK_FOR_INTERRUPTS();
		if (!st->started)
			start_scan(st);

		if (st->iterator == NULL)
		{
			if (st->next_task >= list_length(st->tasks))
				return false;
			start_shard(st, (DdbShardTask *) list_nth(st->tasks, st->next_task++));
		}

		MemoryContextReset(st->page_cxt);
		old = MemoryContextSwitchTo(st->page_cxt);
		records = ddb_get_records(st->client, st->iterator,
								  st->opts.page_size, &next_iterator);
		MemoryContextSwitchTo(old);

		nrecords = cJSON_GetArraySize(records);
		st->stats.records += nrecords;
		st->empty_pages = (nrecords == 0) ? st->empty_pages + 1 : 0;

		pfree(st->iterator);
		st->iterator = NULL;
		if (!shard_caught_up(st, records, nrecords, next_iterator))
			st->iterator = MemoryContextStrdup(st->scan_cxt, next_iterator);

		if (nrecords > 0)
		{
			st->next_record = records->child;
			return true;
		}
	}
}

/*
 * Get an iterator for the shard where its task says.
 *
 * A position given by sequence number can be refused with HTTP 500:
 * DynamoDB Local answers InternalFailure for a number past its newest
 * record (beyond a 64-bit integer), and AWS may fail a request.  Instead of
 * failing the scan, read that shard from its start and skip the records up
 * to the position: the rows are exactly the same, at the cost of reading
 * more of the shard.
 */
static void
start_shard(DdbScanState *st, DdbShardTask *task)
{
	MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);
	bool		by_number = (task->start == DDB_START_AT_SEQUENCE_NUMBER ||
							 task->start == DDB_START_AFTER_SEQUENCE_NUMBER);
	DdbAwsError err;

	st->task = task;
	st->empty_pages = 0;
	st->skip_through = NULL;
	st->iterator = ddb_get_shard_iterator(st->client, st->stream_arn, task,
										  by_number ? &err : NULL);
	if (st->iterator == NULL)
	{
		DdbShardTask from_start = *task;

		ereport(DEBUG1,
				(errmsg_internal("GetShardIterator at sequence number %s failed with %s; reading shard %s from its start",
								 task->start_seq, err.type, task->shard->shard_id)));
		st->skip_through = task->start_seq;
		st->skip_inclusive = (task->start == DDB_START_AFTER_SEQUENCE_NUMBER);
		from_start.start = DDB_START_TRIM_HORIZON;
		st->iterator = ddb_get_shard_iterator(st->client, st->stream_arn,
											  &from_start, NULL);
	}
	MemoryContextSwitchTo(old);
	st->stats.shards_read++;
}

/* Is this record before the position the shard was meant to start at? */
static bool
skip_record(DdbScanState *st, cJSON *record)
{
	int			c = ddb_seq_cmp(record_seq(record), st->skip_through);

	if (c < 0 || (c == 0 && st->skip_inclusive))
		return true;
	st->skip_through = NULL;	/* records are in order: no more to skip */
	return false;
}

/*
 * Is the current shard finished once this page's records are returned?
 *
 * A closed shard is finished when GetRecords gives no next iterator, or when
 * the page reached the shard's EndingSequenceNumber (saving one request).
 * An open shard never ends by itself, so a scan stops reading it once it
 * has caught up: after a page that holds a record created after the scan
 * started (rounded down to the second, as ApproximateCreationDateTime is),
 * or after empty_page_limit consecutive empty pages.  DynamoDB can return
 * empty pages before the end of a shard; a scan that stops at such a gap
 * returns the records before it, and a later scan continues after them.
 */
static bool
shard_caught_up(DdbScanState *st, cJSON *records, int nrecords,
				const char *next_iterator)
{
	DdbShard   *shard = st->task->shard;
	cJSON	   *last = nrecords > 0 ? cJSON_GetArrayItem(records, nrecords - 1) : NULL;

	if (next_iterator == NULL)
		return true;

	if (shard->ending_seq)
		return last != NULL && ddb_seq_cmp(record_seq(last), shard->ending_seq) >= 0;

	if (last == NULL)
		return st->empty_pages >= st->opts.empty_page_limit;
	else
	{
		cJSON	   *ddb = cJSON_GetObjectItemCaseSensitive(last, "dynamodb");
		cJSON	   *created = ddb ? cJSON_GetObjectItemCaseSensitive(ddb, "ApproximateCreationDateTime") : NULL;

		return cJSON_IsNumber(created) && created->valuedouble > st->scan_start;
	}
}

static const char *
record_seq(cJSON *record)
{
	cJSON	   *ddb = cJSON_GetObjectItemCaseSensitive(record, "dynamodb");
	cJSON	   *seq = ddb ? cJSON_GetObjectItemCaseSensitive(ddb, "SequenceNumber") : NULL;

	if (!cJSON_IsString(seq))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("DynamoDB Streams GetRecords returned an invalid response"),
				 errdetail_internal("A record has no \"dynamodb.SequenceNumber\" string.")));
	return seq->valuestring;
}

/*
 * Start again from the beginning: list the shards anew, since the stream may
 * have moved on.
 */
static void
ddbReScanForeignScan(ForeignScanState *node)
{
	DdbScanState *st = (DdbScanState *) node->fdw_state;

	MemoryContextReset(st->scan_cxt);
	st->page_cxt = AllocSetContextCreate(st->scan_cxt,
										 "ddbstream_fdw page data",
										 ALLOCSET_DEFAULT_SIZES);
	st->row_cxt = AllocSetContextCreate(st->scan_cxt,
										"ddbstream_fdw row data",
										ALLOCSET_SMALL_SIZES);
	st->started = false;
	st->client = NULL;
	st->tasks = NIL;
	st->task = NULL;
	st->iterator = NULL;
	st->next_record = NULL;
}

static void
ddbEndForeignScan(ForeignScanState *node)
{
	DdbScanState *st = (DdbScanState *) node->fdw_state;

	if (st == NULL)
		return;
	/* Frees the libcurl handle too, through its reset callback. */
	MemoryContextDelete(st->scan_cxt);
	st->scan_cxt = NULL;
}

static void
ddbExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	DdbStreamOptions opts;
	DdbScanState *st = (DdbScanState *) node->fdw_state;

	ddb_get_table_options(RelationGetRelid(node->ss.ss_currentRelation), &opts);
	if (opts.table_name)
		ExplainPropertyText("DynamoDB Table", opts.table_name, es);
	else
		ExplainPropertyText("Stream ARN", opts.stream_arn, es);
	if (opts.sequence_number)
		ExplainPropertyText("Iterator Type",
							psprintf("%s %s", ddb_iterator_type_name(opts.iterator_type),
									 opts.sequence_number), es);
	else
		ExplainPropertyText("Iterator Type",
							ddb_iterator_type_name(opts.iterator_type), es);

	if (es->analyze && st != NULL)
	{
		DdbScanStats *s = &st->stats;

		ExplainPropertyInteger("Shards Listed", NULL, s->shards_listed, es);
		ExplainPropertyInteger("Shards Read", NULL, s->shards_read, es);
		ExplainPropertyInteger("Shards Skipped", NULL, s->shards_skipped, es);
		ExplainPropertyInteger("DescribeTable Requests", NULL, s->requests_describe_table, es);
		ExplainPropertyInteger("DescribeStream Requests", NULL, s->requests_describe_stream, es);
		ExplainPropertyInteger("GetShardIterator Requests", NULL, s->requests_get_shard_iterator, es);
		ExplainPropertyInteger("GetRecords Requests", NULL, s->requests_get_records, es);
		ExplainPropertyInteger("Records Received", NULL, s->records, es);
		ExplainPropertyInteger("Bytes Received", NULL, s->bytes_received, es);
		if (es->timing)
			ExplainPropertyFloat("Network Time", "ms", s->network_ms, 3, es);
	}
}
