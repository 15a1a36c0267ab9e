/*-------------------------------------------------------------------------
 *
 * ddbstream_fdw.c
 *		  Foreign-data wrapper handler and callbacks: planning, the executor
 *		  and EXPLAIN, for a DynamoDB Stream as a foreign table, one row per
 *		  stream record.
 *
 * The callbacks are thin: conditions are classified for pushdown at plan
 * time (pushdown.c), the records come from the scan engine (scan.c), and
 * rows are built from them by row.c.  A table with source 'items' is
 * planned by items_plan.c and read by items_exec.c instead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "commands/explain.h"
#if PG_VERSION_NUM >= 180000
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ddbstream_fdw.h"
#include "http.h"
#include "items_exec.h"
#include "scan.h"

/* Since 18 the module names itself and its version (the control file's). */
#ifdef PG_MODULE_MAGIC_EXT
PG_MODULE_MAGIC_EXT(.name = "ddbstream_fdw", .version = DDBSTREAM_FDW_VERSION);
#else
PG_MODULE_MAGIC;
#endif

void		_PG_init(void);

/* Rows we guess a stream holds when nothing better is known. */
#define DEFAULT_ROW_ESTIMATE	1000

/*
 * The layout of ForeignScan.fdw_private.
 */
enum DdbStreamScanPrivateIndex
{
	/* Integer list of the attribute numbers the query uses, or (0) for all */
	DdbScanPrivateRetrievedAttrs,
	/* Integer list of DdbPushKind, parallel to fdw_exprs */
	DdbScanPrivatePushKinds,
	/* String: pushed seq conditions for EXPLAIN, "" when none */
	DdbScanPrivateSeqExplain,
	/* String: pushed shard_id conditions for EXPLAIN, "" when none */
	DdbScanPrivateShardExplain,
	/* Integer: the most rows the query can use (a pushed LIMIT), or -1 */
	DdbScanPrivateLimit
};

/* What the planner learns about the foreign table once (baserel->fdw_private). */
typedef struct DdbRelInfo
{
	DdbColumnInfo *columns;
	int			ncolumns;
	DdbSource	source;
} DdbRelInfo;

/* The executor state of a foreign scan (ForeignScanState.fdw_state). */
typedef struct DdbScanNode
{
	DdbItemsNode *items;		/* an items table's scan, else NULL */
	DdbScan    *scan;			/* the records */
	DdbRowBuilder *rows;		/* and the rows made of them */
	MemoryContext row_cxt;		/* the current row's Datums, reset per row */
} DdbScanNode;

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
static List *retrieved_attributes(RelOptInfo *baserel);
static ForeignScan *items_plan(PlannerInfo *root, RelOptInfo *baserel,
							   DdbRelInfo *info, List *tlist,
							   List *scan_clauses, Plan *outer_plan);
static long pushed_limit(PlannerInfo *root, RelOptInfo *baserel, bool all_pushed);
static void explain_work(DdbScanNode *fs, bool replaces_nuls, ExplainState *es);

PG_FUNCTION_INFO_V1(ddbstream_fdw_handler);

void
_PG_init(void)
{
	ddb_http_global_init();
	ddb_cjson_use_palloc();
	ddb_consumer_init();
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

	/* IMPORT FOREIGN SCHEMA */
	routine->ImportForeignSchema = ddb_import_foreign_schema;

	PG_RETURN_POINTER(routine);
}

static void
ddbGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	RangeTblEntry *rte = planner_rt_fetch(baserel->relid, root);
	Relation	rel = table_open(rte->relid, NoLock);
	DdbRelInfo *info = palloc(sizeof(DdbRelInfo));

	/* Check every column against the stream's fields now, at plan time. */
	info->columns = ddb_column_map(rel);
	info->ncolumns = RelationGetDescr(rel)->natts;
	info->source = ddb_table_source(rte->relid);
	baserel->fdw_private = info;
	table_close(rel, NoLock);

	/* A stream's size is unknown: guess, then apply the conditions. */
	baserel->tuples = DEFAULT_ROW_ESTIMATE;
	baserel->rows = clamp_row_est(DEFAULT_ROW_ESTIMATE *
								  clauselist_selectivity(root,
														 baserel->baserestrictinfo,
														 0, JOIN_INNER, NULL));
}

static void
ddbGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	Cost		startup_cost = 100.0;	/* listing shards: a round trip or two */
	Cost		total_cost = startup_cost + baserel->rows * 1.0;

	/*
	 * No pathkeys, outer relations or outer plan; 17 adds the restriction
	 * clauses a join path enforces (none: a base relation's are in its
	 * baserestrictinfo), 18 the count of disabled nodes below (none).
	 */
	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
#if PG_VERSION_NUM >= 180000
									 0,
#endif
									 startup_cost, total_cost, NIL,
									 NULL, NULL,
#if PG_VERSION_NUM >= 170000
									 NIL,
#endif
									 NIL));
}

static ForeignScan *
ddbGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				  ForeignPath *best_path, List *tlist, List *scan_clauses,
				  Plan *outer_plan)
{
	DdbRelInfo *info = (DdbRelInfo *) baserel->fdw_private;
	List	   *push_values;
	List	   *push_kinds;
	bool		all_pushed;
	char	   *seq_explain;
	char	   *shard_explain;

	if (info->source == DDB_SOURCE_ITEMS)
		return items_plan(root, baserel, info, tlist, scan_clauses, outer_plan);

	/*
	 * Conditions on seq and shard_id also position the reading of the stream;
	 * every clause is still checked locally.
	 */
	ddb_classify_conditions(baserel->baserestrictinfo, baserel->relid,
							info->columns, info->ncolumns, &push_values,
							&push_kinds, &all_pushed, &seq_explain,
							&shard_explain);
	scan_clauses = extract_actual_clauses(scan_clauses, false);

	return make_foreignscan(tlist, scan_clauses, baserel->relid, push_values,
							list_make5(retrieved_attributes(baserel), push_kinds,
									   makeString(seq_explain ? seq_explain : ""),
									   makeString(shard_explain ? shard_explain : ""),
									   makeInteger((int) pushed_limit(root, baserel, all_pushed))),
							NIL, NIL, outer_plan);
}

/*
 * The plan of an items table: the operation and key conditions chosen by
 * items_plan.c, with the credentials of the user the query runs as (the
 * view owner's through a view) if it must look up the key schema.
 */
static ForeignScan *
items_plan(PlannerInfo *root, RelOptInfo *baserel, DdbRelInfo *info,
		   List *tlist, List *scan_clauses, Plan *outer_plan)
{
	RangeTblEntry *rte = planner_rt_fetch(baserel->relid, root);
	Relation	rel = table_open(rte->relid, NoLock);
	Oid			userid = OidIsValid(baserel->userid) ? baserel->userid : GetUserId();
	DdbItemsPlan plan;
	List	   *private;

	ddb_items_plan(baserel->baserestrictinfo, baserel->relid, info->columns,
				   info->ncolumns, rel, userid, &plan);
	table_close(rel, NoLock);
	private = ddb_items_fdw_private(retrieved_attributes(baserel), &plan,
									pushed_limit(root, baserel, plan.exact));
	return make_foreignscan(tlist, extract_actual_clauses(scan_clauses, false),
							baserel->relid, plan.exprs, private,
							NIL, NIL, outer_plan);
}

/*
 * The most rows the query can use from this scan, when a LIMIT says so and
 * nothing stands between the scan and the LIMIT: no ORDER BY, grouping or
 * aggregate (the planner's limit_tuples already excludes those), no join,
 * and no condition the scan does not apply exactly itself.  -1 otherwise.
 */
static long
pushed_limit(PlannerInfo *root, RelOptInfo *baserel, bool all_pushed)
{
	Query	   *parse = root->parse;

	if (root->limit_tuples <= 0 || root->limit_tuples > PG_INT32_MAX ||
		!all_pushed || parse->sortClause != NIL || parse->distinctClause != NIL ||
		parse->rowMarks != NIL ||
		bms_membership(root->all_baserels) != BMS_SINGLETON)
		return -1;
	return (long) root->limit_tuples;
}

/*
 * The attribute numbers of the columns the query uses, the only ones built:
 * (0) for all of them, when the query refers to the whole row.
 */
static List *
retrieved_attributes(RelOptInfo *baserel)
{
	Bitmapset  *attrs_used = NULL;
	List	   *retrieved_attrs = NIL;
	ListCell   *lc;
	int			attno = -1;

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs_used);
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		pull_varattnos((Node *) rinfo->clause, baserel->relid, &attrs_used);
	}
	while ((attno = bms_next_member(attrs_used, attno)) >= 0)
	{
		AttrNumber	a = attno + FirstLowInvalidHeapAttributeNumber;

		if (a == InvalidAttrNumber)
			return list_make1_int(0);	/* a whole-row reference */
		if (a > 0)
			retrieved_attrs = lappend_int(retrieved_attrs, a);
	}
	return retrieved_attrs;
}

static void
ddbBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	Relation	rel = node->ss.ss_currentRelation;
	Oid			userid;
	DdbScanPushdown pushdown;
	DdbScanNode *fs;

	/* EXPLAIN without ANALYZE makes no network request. */
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	/*
	 * Whose credentials: the view owner's when the table is read through a
	 * view, else the current user's.  The planner copies that user to the
	 * ForeignScan since 16; before, the range table entry has it.
	 */
#if PG_VERSION_NUM >= 160000
	userid = OidIsValid(plan->checkAsUser) ? plan->checkAsUser : GetUserId();
#else
	{
		RangeTblEntry *rte = exec_rt_fetch(plan->scan.scanrelid, estate);

		userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
	}
#endif
	if (ddb_table_source(RelationGetRelid(rel)) == DDB_SOURCE_ITEMS)
	{
		fs = palloc0(sizeof(DdbScanNode));
		fs->items = ddb_items_node_begin(node, userid);
		fs->row_cxt = AllocSetContextCreate(estate->es_query_cxt,
											"ddbstream_fdw row data",
											ALLOCSET_SMALL_SIZES);
		node->fdw_state = fs;
		return;
	}
	pushdown.value_states = ExecInitExprList(plan->fdw_exprs, (PlanState *) node);
	pushdown.kinds = (List *) list_nth(plan->fdw_private, DdbScanPrivatePushKinds);
	pushdown.econtext = node->ss.ps.ps_ExprContext;
	pushdown.limit = intVal(list_nth(plan->fdw_private, DdbScanPrivateLimit));

	fs = palloc0(sizeof(DdbScanNode));
	fs->scan = ddb_scan_begin(rel, userid, true, &pushdown, estate->es_query_cxt);
	fs->rows = ddb_row_builder_create(rel,
									  (List *) list_nth(plan->fdw_private,
														DdbScanPrivateRetrievedAttrs),
									  ddb_scan_options(fs->scan));
	fs->row_cxt = AllocSetContextCreate(estate->es_query_cxt,
										"ddbstream_fdw row data",
										ALLOCSET_SMALL_SIZES);
	node->fdw_state = fs;

	/*
	 * A consumer is locked and its positions read now, at executor start:
	 * the executor enters parallel mode (where nothing may be written) only
	 * to run the plan, and leaves it before EndForeignScan.
	 *
	 * Not in the copy of the plan that EvalPlanQual starts to recheck a row
	 * another transaction updated (MERGE or UPDATE ... FROM a consumer, under
	 * READ COMMITTED): its foreign scans never read, they return the row the
	 * scan of the main plan saved, and opening the consumer there would make
	 * a second reader.
	 */
	if (ddb_scan_options(fs->scan)->consumer && estate->es_epq_active == NULL)
		ddb_scan_open_consumer(fs->scan);
}

static TupleTableSlot *
ddbIterateForeignScan(ForeignScanState *node)
{
	DdbScanNode *fs = (DdbScanNode *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	DdbShardTask *task;
	cJSON	   *record;
	MemoryContext old;

	ExecClearTuple(slot);
	if (fs->items)
	{
		bool		found;

		MemoryContextReset(fs->row_cxt);
		old = MemoryContextSwitchTo(fs->row_cxt);
		found = ddb_items_node_next(fs->items, slot->tts_values, slot->tts_isnull);
		MemoryContextSwitchTo(old);
		if (found)
			ExecStoreVirtualTuple(slot);
		return slot;
	}
	record = ddb_scan_next(fs->scan, &task);
	if (record == NULL)
		return slot;

	MemoryContextReset(fs->row_cxt);
	old = MemoryContextSwitchTo(fs->row_cxt);
	ddb_build_row(fs->rows, record, task->shard->shard_id,
				  slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(old);
	ExecStoreVirtualTuple(slot);
	return slot;
}

static void
ddbReScanForeignScan(ForeignScanState *node)
{
	DdbScanNode *fs = (DdbScanNode *) node->fdw_state;

	if (fs->items)
		ddb_items_node_rescan(fs->items);
	else
		ddb_scan_rescan(fs->scan);
}

static void
ddbEndForeignScan(ForeignScanState *node)
{
	DdbScanNode *fs = (DdbScanNode *) node->fdw_state;

	if (fs == NULL)
		return;
	if (fs->items)
		ddb_items_node_end(fs->items);
	else
		ddb_scan_end(fs->scan);
	MemoryContextDelete(fs->row_cxt);
}

static void
ddbExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	DdbStreamOptions opts;
	DdbScanNode *fs = (DdbScanNode *) node->fdw_state;
	const char *seq_explain;
	const char *shard_explain;
	int			limit;

	if (ddb_table_source(RelationGetRelid(node->ss.ss_currentRelation)) == DDB_SOURCE_ITEMS)
	{
		ddb_items_explain(node, fs ? fs->items : NULL, es);
		return;
	}
	seq_explain = strVal(list_nth(plan->fdw_private, DdbScanPrivateSeqExplain));
	shard_explain = strVal(list_nth(plan->fdw_private, DdbScanPrivateShardExplain));
	limit = intVal(list_nth(plan->fdw_private, DdbScanPrivateLimit));
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
	if (seq_explain[0])
		ExplainPropertyText("Stream Position", seq_explain, es);
	if (shard_explain[0])
		ExplainPropertyText("Shard Filter", shard_explain, es);
	if (limit >= 0)
		ExplainPropertyInteger("Record Limit", NULL, limit, es);
	if (opts.consumer)
		ExplainPropertyText("Consumer", opts.consumer, es);

	if (es->verbose)
	{
		Relation	rel = node->ss.ss_currentRelation;
		List	   *retrieved = (List *) list_nth(plan->fdw_private, DdbScanPrivateRetrievedAttrs);
		bool	   *used = ddb_used_columns(rel, retrieved);
		DdbColumnInfo *columns = ddb_column_map(rel);
		List	   *names = NIL;
		int			i;

		for (i = 0; i < RelationGetDescr(rel)->natts; i++)
			if (used[i] && columns[i].field >= 0)
				names = lappend(names, (char *) columns[i].name);
		if (names == NIL)
			names = list_make1("none");
		ExplainPropertyList("Stream Fields Built", names, es);
	}

	if (es->analyze && fs != NULL)
		explain_work(fs, opts.nul_replacement != NULL, es);
}

/* EXPLAIN ANALYZE: the work the scan did. */
static void
explain_work(DdbScanNode *fs, bool replaces_nuls, ExplainState *es)
{
	DdbScanStats s;
	const DdbClientStats *r = &s.requests;

	ddb_scan_stats(fs->scan, &s);
	ExplainPropertyInteger("Shards Listed", NULL, s.shards_listed, es);
	ExplainPropertyInteger("Shards Read", NULL, s.shards_read, es);
	ExplainPropertyInteger("Shards Skipped", NULL, s.shards_skipped, es);
	ExplainPropertyInteger("DescribeTable Requests", NULL,
						   ddb_stats_requests(r, "DescribeTable"), es);
	ExplainPropertyInteger("DescribeStream Requests", NULL,
						   ddb_stats_requests(r, "DescribeStream"), es);
	ExplainPropertyInteger("GetShardIterator Requests", NULL,
						   ddb_stats_requests(r, "GetShardIterator"), es);
	ExplainPropertyInteger("GetRecords Requests", NULL,
						   ddb_stats_requests(r, "GetRecords"), es);
	ExplainPropertyInteger("Records Received", NULL, s.records, es);
	ExplainPropertyInteger("Bytes Received", NULL, r->bytes_received, es);
	ExplainPropertyInteger("Retries", NULL, r->retries, es);
	if (replaces_nuls)
		ExplainPropertyInteger("NUL Characters Replaced", NULL,
							   fs->rows->conv.nul_replaced, es);
	if (es->timing)
		ExplainPropertyFloat("Network Time", "ms", r->network_ms, 3, es);
}
