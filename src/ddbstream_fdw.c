/*-------------------------------------------------------------------------
 *
 * ddbstream_fdw.c
 *		  Foreign-data wrapper handler and scan callbacks: a DynamoDB Stream
 *		  as a PostgreSQL foreign table, one row per stream record.
 *
 * A scan lists the stream's shards, reads them parents first, page by page
 * with GetRecords, and ends when every shard is finished: a closed shard
 * when it has no next iterator (or its last record was returned), an open
 * shard when the scan has caught up with it (see shard_caught_up).  Up to
 * max_concurrency shards are read at once and the next page of a shard is
 * requested ahead (see fetch_next_page); rows come from one shard at a time,
 * in the order of the tasks.
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
#include "mb/pg_wchar.h"
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
#include "http.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Empty pages in a row after which a closed shard's answers are invalid. */
#define CLOSED_SHARD_EMPTY_PAGES	1000

/* Fresh iterators that may expire in a row before the scan gives up. */
#define MAX_EXPIRED_IN_A_ROW	3

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
} DdbRelInfo;

/*
 * A shard being read.  A scan reads up to max_concurrency shards at once,
 * each with at most one request in flight; rows are returned from the first
 * of them (the head) only, so they keep the order of the tasks.
 */
typedef struct DdbSlot
{
	DdbShardTask *task;
	DdbShardStart start;		/* where reading began: the task's start, or */
	const char *start_seq;		/* TRIM_HORIZON after a fallback */
	DdbPending *pending;		/* request in flight, or NULL */
	bool		pending_iterator;	/* it is a GetShardIterator */
	bool		has_iterator;	/* GetShardIterator has answered */
	char	   *iterator;		/* next iterator; NULL once nothing is left */
	int			empty_pages;	/* consecutive empty pages */
	long		shard_records;	/* records received from the shard */
	char	   *last_seq;		/* sequence number of the last of them */
	bool		exhausted;		/* the shard is closed and read to its end */
} DdbSlot;

/* A next page asked for before the current one was parsed. */
typedef struct DdbReadAhead
{
	DdbScanState *st;
	DdbSlot    *slot;
	DdbPending *pending;		/* the request, or NULL */
	char	   *iterator;		/* the iterator it was sent with */
} DdbReadAhead;

struct DdbScanState
{
	DdbStreamOptions opts;
	const char *relname;
	bool		peek;			/* consumer_lag: read without consuming */
	Oid			userid;			/* the role the scan reads as */
	DdbCredentials creds;
	DdbConsumer *consumer;		/* option consumer: its positions, or NULL */
	DdbColumnInfo *columns;		/* one per attribute of the tuple descriptor */
	bool	   *retrieved;		/* which of them the query uses */
	int			ncolumns;
	List	   *value_states;	/* ExprStates of the pushed conditions */
	List	   *push_kinds;		/* and their DdbPushKinds */
	ExprContext *econtext;
	DdbSeqBounds bounds;		/* computed at scan start */
	long		limit;			/* rows the query can use, or -1 */
	long		returned;		/* rows returned so far */

	MemoryContext scan_cxt;		/* lives as long as one pass of the scan */
	MemoryContext page_cxt;		/* the current GetRecords page, reset per page */
	MemoryContext row_cxt;		/* the current row's Datums, reset per row */

	bool		started;
	DdbClient  *client;
	char	   *stream_arn;
	List	   *shards;			/* DdbShard, as DescribeStream listed them */
	List	   *tasks;			/* DdbShardTask, in lineage order */
	int			next_task;		/* the next task to start reading */
	List	   *slots;			/* DdbSlot: the shards being read, in order */
	DdbSlot    *slot;			/* the first of them: rows come from it */
	DdbShardTask *task;			/* its task */
	cJSON	   *returned_record;	/* the last row returned (in page_cxt) */
	double		scan_start;		/* epoch seconds, rounded down */
	cJSON	   *next_record;	/* next record of the current page */
	DdbConversion conv;			/* the row being converted */

	DdbScanStats stats;
};

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
static DdbColumnInfo *build_column_map(Relation rel);
static bool *retrieved_columns(Relation rel, List *retrieved_attrs);
static long pushed_limit(PlannerInfo *root, RelOptInfo *baserel, bool all_pushed);
static void create_page_contexts(DdbScanState *st);
static void start_scan(DdbScanState *st);
static cJSON *next_wanted_record(DdbScanState *st);
static bool fetch_next_page(DdbScanState *st);
static void finish_task(DdbScanState *st);
static void open_consumer(DdbScanState *st);
static void remember_position(DdbScanState *st);
static void advance_consumer(DdbScanState *st);
static void fill_window(DdbScanState *st);
static void start_slot(DdbScanState *st, DdbShardTask *task);
static void finish_iterator(DdbScanState *st, DdbSlot *slot);
static void start_records(DdbScanState *st, DdbSlot *slot, int limit);
static void progress_others(DdbScanState *st);
static int	records_to_ask(DdbScanState *st, int ahead);
static bool record_wanted(DdbScanState *st, cJSON *record);
static void end_shard(DdbScanState *st);
static void reacquire_iterator(DdbScanState *st, DdbSlot *slot,
							   DdbShardStart start, const char *seq);
static bool at_bare_number(DdbSlot *slot);
static void handle_trimmed(DdbScanState *st, DdbSlot *slot, const char *op,
						   const DdbAwsError *err);
static bool shard_caught_up(DdbScanState *st, DdbSlot *slot, cJSON *last,
							const char *next_iterator);
static bool page_ends_shard(DdbScanState *st, DdbSlot *slot, bool has_records,
							const char *last_seq, double last_created,
							bool has_next, int empty_pages, bool *exhausted);
static void read_ahead(void *arg, const char *body, size_t len);
static void check_page(DdbSlot *slot, cJSON *records);
static const char *record_seq(cJSON *record);
static void conversion_error_context(void *arg);
static void *cjson_palloc(size_t size);
static void cjson_pfree(void *ptr);

PG_FUNCTION_INFO_V1(ddbstream_fdw_handler);

void
_PG_init(void)
{
	ddb_http_global_init();
	ddb_cjson_use_palloc();
	ddb_consumer_init();
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
	info->columns = build_column_map(rel);
	info->ncolumns = RelationGetDescr(rel)->natts;
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
	DdbRelInfo *info = (DdbRelInfo *) baserel->fdw_private;
	Bitmapset  *attrs_used = NULL;
	List	   *retrieved_attrs = NIL;
	List	   *push_values;
	List	   *push_kinds;
	bool		all_pushed;
	char	   *seq_explain;
	char	   *shard_explain;
	ListCell   *lc;
	int			attno;

	/*
	 * Conditions on seq and shard_id also position the reading of the stream;
	 * every clause is still checked locally.
	 */
	ddb_classify_conditions(baserel->baserestrictinfo, baserel->relid,
							info->columns, info->ncolumns, &push_values,
							&push_kinds, &all_pushed, &seq_explain,
							&shard_explain);
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

	return make_foreignscan(tlist, scan_clauses, baserel->relid, push_values,
							list_make5(retrieved_attrs, push_kinds,
									   makeString(seq_explain ? seq_explain : ""),
									   makeString(shard_explain ? shard_explain : ""),
									   makeInteger((int) pushed_limit(root, baserel, all_pushed))),
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
 * Map each attribute to the stream field it holds: its option "field", or
 * else its name.  An unknown name or an unsuitable type is an error.
 */
static DdbColumnInfo *
build_column_map(Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	DdbColumnInfo *columns = palloc(sizeof(DdbColumnInfo) * Max(tupdesc->natts, 1));
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupdesc, i);
		const char *name = NameStr(attr->attname);
		List	   *options;
		ListCell   *lc;
		int			field;

		columns[i].name = pstrdup(NameStr(attr->attname));
		columns[i].field = -1;
		columns[i].typid = attr->atttypid;
		columns[i].typmod = attr->atttypmod;
		columns[i].attribute = NULL;
		if (attr->attisdropped)
			continue;

		options = GetForeignColumnOptions(RelationGetRelid(rel), attr->attnum);
		foreach(lc, options)
		{
			DefElem    *def = (DefElem *) lfirst(lc);

			if (strcmp(def->defname, "field") == 0)
				name = defGetString(def);
			else if (strcmp(def->defname, "attribute") == 0)
				columns[i].attribute = defGetString(def);
		}
		if (columns[i].attribute)
		{
			columns[i].field = DDB_FIELD_ATTRIBUTE;
			ddb_check_attribute_column(&columns[i]);
			continue;
		}
		field = ddb_field_by_name(name);
		if (field < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
					 errmsg("column \"%s\" of foreign table \"%s\" matches no stream field",
							NameStr(attr->attname), RelationGetRelationName(rel)),
					 errhint("Name the column after a field, map it with OPTIONS (field '...'), or give it an item attribute with OPTIONS (attribute '...'). Valid fields are: %s.",
							 ddb_field_name_list())));
		ddb_check_column_type(field, attr->atttypid, NameStr(attr->attname));
		columns[i].field = field;
	}
	return columns;
}

/* Which attributes to build: those in retrieved_attrs, or all for (0). */
static bool *
retrieved_columns(Relation rel, List *retrieved_attrs)
{
	int			natts = RelationGetDescr(rel)->natts;
	bool	   *retrieved = palloc0(sizeof(bool) * Max(natts, 1));
	bool		all = (retrieved_attrs != NIL && linitial_int(retrieved_attrs) == 0);
	int			i;

	for (i = 0; i < natts; i++)
		retrieved[i] = all || list_member_int(retrieved_attrs, i + 1);
	return retrieved;
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
	st->relname = pstrdup(RelationGetRelationName(rel));
	st->userid = userid;
	if (st->opts.consumer)
		ddb_consumer_check_writable(st->opts.consumer, st->relname);
	ddb_get_credentials(GetForeignServer(GetForeignTable(RelationGetRelid(rel))->serverid),
						userid, &st->creds);
	st->columns = build_column_map(rel);
	st->retrieved = retrieved_columns(rel, (List *) list_nth(plan->fdw_private,
															 DdbScanPrivateRetrievedAttrs));
	st->ncolumns = RelationGetDescr(rel)->natts;
	st->value_states = ExecInitExprList(plan->fdw_exprs, (PlanState *) node);
	st->push_kinds = (List *) list_nth(plan->fdw_private, DdbScanPrivatePushKinds);
	st->econtext = node->ss.ps.ps_ExprContext;
	st->limit = intVal(list_nth(plan->fdw_private, DdbScanPrivateLimit));
	if (st->opts.nul_replacement)
		st->conv.nul_replacement = pg_server_to_any(st->opts.nul_replacement,
													strlen(st->opts.nul_replacement),
													PG_UTF8);

	st->scan_cxt = AllocSetContextCreate(estate->es_query_cxt,
										 "ddbstream_fdw scan data",
										 ALLOCSET_DEFAULT_SIZES);
	create_page_contexts(st);

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
	if (st->opts.consumer && estate->es_epq_active == NULL)
		open_consumer(st);
}

/*
 * Find the consumer's stream and open the consumer for reading; the stream
 * ARN found is kept for every pass of the scan.
 */
static void
open_consumer(DdbScanState *st)
{
	if (st->opts.stream_arn == NULL)
	{
		MemoryContext lookup_cxt = AllocSetContextCreate(st->scan_cxt,
														 "ddbstream_fdw table lookup",
														 ALLOCSET_SMALL_SIZES);
		MemoryContext old = MemoryContextSwitchTo(lookup_cxt);
		DdbClient  *client = ddb_client_create(&st->opts, &st->creds, &st->stats);
		char	   *arn = ddb_describe_table_stream(client, st->opts.table_name, false);

		MemoryContextSwitchTo(old);
		st->opts.stream_arn = pstrdup(arn);
		/* also frees the libcurl handle */
		MemoryContextDelete(lookup_cxt);
	}
	st->consumer = ddb_consumer_open(st->opts.consumer, st->opts.stream_arn,
									 st->userid, st->relname, true);
}

/* The per-page and per-row contexts, children of the scan's context. */
static void
create_page_contexts(DdbScanState *st)
{
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
	st->returned = 0;

	/* Parameters and initplans are evaluated now, once per (re)scan. */
	ddb_eval_bounds(&st->opts, st->value_states, st->push_kinds, st->econtext,
					&st->bounds);
	if (st->bounds.empty)
	{
		/* e.g. seq > NULL, or seq < 0: no record can match, ask nothing */
		st->tasks = NIL;
		st->next_task = 0;
		st->started = true;
		MemoryContextSwitchTo(old);
		return;
	}

	st->client = ddb_client_create(&st->opts, &st->creds, &st->stats);
	st->stream_arn = st->opts.stream_arn ? st->opts.stream_arn :
		ddb_describe_table_stream(st->client, st->opts.table_name, false);
	shards = ddb_describe_stream(st->client, st->stream_arn);
	st->tasks = ddb_plan_shards(shards, st->opts.iterator_type, &st->bounds,
								&nskipped);
	if (st->opts.consumer)
	{
		/* consumer_lag reads the positions without locking the consumer */
		if (st->consumer == NULL)
			st->consumer = ddb_consumer_open(st->opts.consumer, st->stream_arn,
											 st->userid, st->relname, false);
		st->tasks = ddb_consumer_apply(st->consumer, shards, st->tasks,
									   st->opts.skip_trimmed, &nskipped);
	}
	st->shards = shards;
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
	ErrorContextCallback errcallback;
	int			i;

	ExecClearTuple(slot);
	if (st->limit >= 0 && st->returned >= st->limit)
		return slot;
	record = next_wanted_record(st);
	if (record == NULL)
		return slot;
	st->returned++;
	st->returned_record = record;
	/* pages requested ahead come in while rows are converted */
	if ((st->returned & 63) == 0)
		ddb_client_pump(st->client);

	MemoryContextReset(st->row_cxt);
	old = MemoryContextSwitchTo(st->row_cxt);
	errcallback.callback = conversion_error_context;
	errcallback.arg = record;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	if (!cJSON_IsObject(record))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("DynamoDB Streams GetRecords returned an invalid response"),
				 errdetail_internal("A record is not a JSON object.")));
	st->conv.record = record;
	st->conv.shard_id = st->task->shard->shard_id;
	for (i = 0; i < st->ncolumns; i++)
	{
		slot->tts_isnull[i] = true;
		if (st->columns[i].field < 0 || !st->retrieved[i])
			continue;
		if (st->columns[i].field == DDB_FIELD_ATTRIBUTE)
			slot->tts_values[i] = ddb_attribute_datum(&st->columns[i], &st->conv,
													  &slot->tts_isnull[i]);
		else
			slot->tts_values[i] = ddb_field_datum((DdbField) st->columns[i].field,
												  st->columns[i].typid, &st->conv,
												  st->opts.image_format,
												  &slot->tts_isnull[i]);
	}
	error_context_stack = errcallback.previous;
	MemoryContextSwitchTo(old);
	ExecStoreVirtualTuple(slot);
	return slot;
}

/* The next record within the scan's bounds, or NULL when there is none. */
static cJSON *
next_wanted_record(DdbScanState *st)
{
	cJSON	   *record;

	do
	{
		while (st->next_record == NULL)
			if (!fetch_next_page(st))
				return NULL;
		record = st->next_record;
		st->next_record = record->next;
	} while (!record_wanted(st, record));
	return record;
}

/*
 * Get the next non-empty page of records into st->next_record, moving on to
 * the next shard when one is finished.  False when every shard is done.
 *
 * While the rows of a page are returned, the shard's next page is already
 * requested, and up to max_concurrency - 1 later shards have their first
 * page requested too (a child only once its parent is done): the scan waits
 * for the network only when the answer it needs is not in yet.
 */
static bool
fetch_next_page(DdbScanState *st)
{
	int			expired = 0;

	for (;;)
	{
		MemoryContext old;
		DdbSlot    *slot;
		DdbPending *pending;
		DdbReadAhead ra;
		cJSON	   *records;
		cJSON	   *last;
		char	   *next_iterator;
		int			nrecords;
		int			ask;
		DdbAwsError err;

		CHECK_FOR_INTERRUPTS();
		if (!st->started)
			start_scan(st);

		fill_window(st);
		slot = st->slot;
		if (slot == NULL)
			return false;

		if (slot->pending == NULL && slot->has_iterator && slot->iterator == NULL)
		{
			/* the head shard is done: on to the next one */
			finish_task(st);
			st->slots = list_delete_first(st->slots);
			pfree(slot);
			continue;
		}
		if (slot->pending == NULL)
			start_records(st, slot, Max(records_to_ask(st, 0), 1));
		if (slot->pending_iterator)
		{
			finish_iterator(st, slot);
			continue;
		}

		remember_position(st);
		MemoryContextReset(st->page_cxt);
		old = MemoryContextSwitchTo(st->page_cxt);
		pending = slot->pending;
		slot->pending = NULL;
		memset(&ra, 0, sizeof(ra));
		ra.st = st;
		ra.slot = slot;
		records = ddb_get_records_finish(st->client, pending, &next_iterator, &err,
										 read_ahead, &ra);
		MemoryContextSwitchTo(old);
		if (records == NULL)
		{
			if (ra.pending)
				ddb_pending_cancel(st->client, ra.pending);
			if (strcmp(err.type, "ExpiredIteratorException") == 0 &&
				++expired <= MAX_EXPIRED_IN_A_ROW)
			{
				/*
				 * Iterators live 15 minutes.  Go on right after the last
				 * record received from this shard, or from where the shard
				 * started if none: no duplicate, no gap.
				 */
				st->stats.retries++;
				if (slot->last_seq)
					reacquire_iterator(st, slot, DDB_START_AFTER_SEQUENCE_NUMBER,
									   ddb_seq_pad(slot->last_seq));
				else
					reacquire_iterator(st, slot, slot->start, slot->start_seq);
			}
			else if (strcmp(err.type, "TrimmedDataAccessException") == 0)
				handle_trimmed(st, slot, "GetRecords", &err);
			else
				ddb_raise_aws_error("DynamoDB Streams", "GetRecords", &err, err.attempts);
			continue;
		}
		expired = 0;

		nrecords = cJSON_GetArraySize(records);
		st->stats.records += nrecords;
		slot->empty_pages = (nrecords == 0) ? slot->empty_pages + 1 : 0;
		check_page(slot, records);

		pfree(slot->iterator);
		slot->iterator = NULL;
		last = nrecords > 0 ? cJSON_GetArrayItem(records, nrecords - 1) : NULL;
		if (!shard_caught_up(st, slot, last, next_iterator))
			slot->iterator = MemoryContextStrdup(st->scan_cxt, next_iterator);
		slot->shard_records += nrecords;
		if (last)
		{
			/* where to go on from if the next iterator expires */
			if (slot->last_seq)
				pfree(slot->last_seq);
			slot->last_seq = MemoryContextStrdup(st->scan_cxt, record_seq(last));
		}

		/* the shard's next page is on its way while this one is returned */
		if (ra.pending && slot->iterator && strcmp(ra.iterator, slot->iterator) == 0)
		{
			slot->pending = ra.pending; /* read ahead: the guess was right */
			slot->pending_iterator = false;
		}
		else
		{
			if (ra.pending)
				ddb_pending_cancel(st->client, ra.pending);
			ask = records_to_ask(st, nrecords);
			if (slot->iterator && ask > 0)
				start_records(st, slot, ask);
		}
		progress_others(st);

		if (nrecords > 0)
		{
			st->next_record = records->child;
			return true;
		}
	}
}

/*
 * How many records the next GetRecords of the head shard should ask for,
 * with "ahead" records received but not yet returned: a page, or no more
 * than a pushed LIMIT still needs (0 for none).
 */
static int
records_to_ask(DdbScanState *st, int ahead)
{
	long		left;

	if (st->limit < 0)
		return st->opts.page_size;
	left = st->limit - st->returned - ahead;
	return (int) Max(Min(left, st->opts.page_size), 0);
}

/*
 * Start reading the next tasks, up to max_concurrency shards at once (one
 * under a pushed LIMIT: later shards may not be needed).  A shard whose
 * parent is still being read waits: children only after their parent.
 */
static void
fill_window(DdbScanState *st)
{
	int			width = st->limit >= 0 ? 1 : st->opts.max_concurrency;

	while (list_length(st->slots) < width &&
		   st->next_task < list_length(st->tasks))
	{
		DdbShardTask *task = (DdbShardTask *) list_nth(st->tasks, st->next_task);
		const char *parent = task->shard->parent_shard_id;
		bool		parent_active = false;
		ListCell   *lc;

		foreach(lc, st->slots)
			if (parent &&
				strcmp(((DdbSlot *) lfirst(lc))->task->shard->shard_id, parent) == 0)
				parent_active = true;
		if (parent_active)
			break;
		st->next_task++;
		start_slot(st, task);
	}
	st->slot = st->slots ? (DdbSlot *) linitial(st->slots) : NULL;
	st->task = st->slot ? st->slot->task : NULL;
}

/* Begin reading a shard: ask for an iterator where its task says. */
static void
start_slot(DdbScanState *st, DdbShardTask *task)
{
	MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);
	DdbSlot    *slot = palloc0(sizeof(DdbSlot));

	slot->task = task;
	slot->start = task->start;
	slot->start_seq = task->start_seq;
	slot->pending = ddb_get_shard_iterator_start(st->client, st->stream_arn, task);
	slot->pending_iterator = true;
	st->slots = lappend(st->slots, slot);
	st->stats.shards_read++;
	MemoryContextSwitchTo(old);
}

/* Ask for the shard's next page. */
static void
start_records(DdbScanState *st, DdbSlot *slot, int limit)
{
	MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);

	slot->pending = ddb_get_records_start(st->client, slot->iterator, limit);
	slot->pending_iterator = false;
	MemoryContextSwitchTo(old);
}

/*
 * The shards after the head: when an iterator has come in, ask for the
 * shard's first page right away.  Their pages are parsed only when the
 * shard becomes the head.
 */
static void
progress_others(DdbScanState *st)
{
	ListCell   *lc;

	ddb_client_pump(st->client);
	for_each_from(lc, st->slots, 1)
	{
		DdbSlot    *slot = (DdbSlot *) lfirst(lc);

		if (slot->pending && slot->pending_iterator &&
			ddb_pending_ready(st->client, slot->pending))
		{
			finish_iterator(st, slot);
			if (slot->iterator && slot->pending == NULL)
				start_records(st, slot, st->opts.page_size);
		}
	}
}

/*
 * Receive a shard's iterator.
 *
 * A position given by sequence number can be refused with HTTP 500:
 * DynamoDB Local answers InternalFailure for a number past its newest
 * record (beyond a 64-bit integer), and AWS may fail a request.  Instead of
 * failing the scan, read that shard from its start: record_wanted skips the
 * records below the bound, so the rows are exactly the same, at the cost of
 * reading more of the shard.
 */
static void
finish_iterator(DdbScanState *st, DdbSlot *slot)
{
	MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);
	DdbShardTask *task = slot->task;
	DdbPending *pending = slot->pending;
	DdbAwsError err;

	slot->pending = NULL;
	slot->iterator = ddb_get_shard_iterator_finish(st->client, pending, &err);
	slot->has_iterator = true;
	MemoryContextSwitchTo(old);
	if (slot->iterator != NULL)
		return;

	if (err.status >= 500 && (task->start == DDB_START_AT_SEQUENCE_NUMBER ||
							  task->start == DDB_START_AFTER_SEQUENCE_NUMBER))
	{
		ereport(DEBUG1,
				(errmsg_internal("GetShardIterator at sequence number %s failed with %s; reading shard %s from its start",
								 task->start_seq, err.type, task->shard->shard_id)));
		reacquire_iterator(st, slot, DDB_START_TRIM_HORIZON, NULL);
	}
	else if (strcmp(err.type, "TrimmedDataAccessException") == 0)
		handle_trimmed(st, slot, "GetShardIterator", &err);
	else
		ddb_raise_aws_error("DynamoDB Streams", "GetShardIterator", &err, err.attempts);
}

/*
 * Done with the current shard: every record of its last page was returned
 * (or dropped past the upper bound).  A closed shard read to its end with
 * nothing cut off is finished for a consumer.
 */
static void
finish_task(DdbScanState *st)
{
	if (st->task == NULL)
		return;
	remember_position(st);
	st->task->finished = st->slot->exhausted && !st->task->cut;
	st->task = NULL;
	st->slot = NULL;
}

/*
 * Copy the sequence number of the last row returned out of the page, into
 * its shard's task: done once per page, not per row.
 */
static void
remember_position(DdbScanState *st)
{
	if (st->returned_record == NULL)
		return;
	if (st->opts.consumer)
	{
		if (st->task->returned_seq)
			pfree(st->task->returned_seq);
		st->task->returned_seq = MemoryContextStrdup(st->scan_cxt,
													 record_seq(st->returned_record));
	}
	st->returned_record = NULL;
}

/*
 * A consumer's scan keeps how far a pass got, in memory: the next pass
 * starts there, and EndForeignScan writes it.
 */
static void
advance_consumer(DdbScanState *st)
{
	if (st->consumer == NULL || st->peek || st->client == NULL)
		return;
	remember_position(st);
	ddb_consumer_advance(st->consumer, st->tasks, st->shards);
}

/* A new iterator for the current shard, raising any error. */
static void
reacquire_iterator(DdbScanState *st, DdbSlot *slot, DdbShardStart start,
				   const char *seq)
{
	MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);
	DdbShardTask task = *slot->task;

	task.start = start;
	task.start_seq = seq;
	if (slot->last_seq == NULL)
	{
		/* nothing read yet: this is where the shard's reading begins */
		slot->start = start;
		slot->start_seq = seq;
	}
	if (slot->iterator)
		pfree(slot->iterator);
	slot->iterator = ddb_get_shard_iterator(st->client, st->stream_arn, &task, NULL);
	MemoryContextSwitchTo(old);
}

/*
 * Is the shard still at a starting position given as a bare number (a
 * pushed seq condition or the sequence_number option), with no record
 * received yet?  Such a number need not be any record's.
 */
static bool
at_bare_number(DdbSlot *slot)
{
	if (slot->last_seq != NULL ||
		(slot->start != DDB_START_AT_SEQUENCE_NUMBER &&
		 slot->start != DDB_START_AFTER_SEQUENCE_NUMBER))
		return false;
	/* a consumer's checkpoint is the number of a record it returned */
	return slot->task->checkpoint == NULL ||
		ddb_seq_cmp(slot->start_seq, slot->task->checkpoint) != 0;
}

/*
 * The shard's position is older than the oldest record the shard holds.
 *
 * A position given as a bare number is a bound on the records wanted, not
 * a record: the shard is read from its oldest record, with the records up
 * to the number skipped (record_wanted), exactly the rows of the same scan
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
handle_trimmed(DdbScanState *st, DdbSlot *slot, const char *op,
			   const DdbAwsError *err)
{
	if (at_bare_number(slot))
	{
		ereport(DEBUG1,
				(errmsg_internal("%s at sequence number %s of shard %s answered TrimmedDataAccessException; reading the shard from its oldest record",
								 op, slot->start_seq, slot->task->shard->shard_id)));
		reacquire_iterator(st, slot, DDB_START_TRIM_HORIZON, NULL);
		return;
	}
	if (!st->opts.skip_trimmed)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("DynamoDB Streams %s failed: TrimmedDataAccessException", op),
				 errdetail_internal("Shard \"%s\": %s", slot->task->shard->shard_id,
									err->message ? err->message : "no message"),
				 errhint("The records at this position are older than the stream's 24-hour retention. Read from a later position, or set the table option on_trimmed to 'skip' to go on from the oldest record left.")));
	ereport(WARNING,
			(errmsg("stream records may have been lost: the scan's position is older than the stream's retention"),
			 errdetail_internal("Shard \"%s\": %s", slot->task->shard->shard_id,
								err->message ? err->message : "no message"),
			 errhint("Reading goes on from the oldest record left in the shard (on_trimmed 'skip').")));
	reacquire_iterator(st, slot, DDB_START_TRIM_HORIZON, NULL);
}

/*
 * Is the record within the scan's sequence bounds?  A record past the upper
 * bound also ends its shard: records are in order within a shard.
 */
static bool
record_wanted(DdbScanState *st, cJSON *record)
{
	const char *seq;

	if (st->bounds.lower == NULL && st->bounds.upper == NULL &&
		st->task->checkpoint == NULL)
		return true;
	seq = record_seq(record);
	/* consumed already: possible when a shard had to be read from its start */
	if (st->task->checkpoint && ddb_seq_cmp(seq, st->task->checkpoint) <= 0)
		return false;
	if (st->bounds.upper && ddb_seq_cmp(seq, st->bounds.upper) > 0)
	{
		end_shard(st);
		return false;
	}
	if (st->bounds.lower)
	{
		int			c = ddb_seq_cmp(seq, st->bounds.lower);

		if (c < 0 || (c == 0 && st->bounds.lower_after))
			return false;
	}
	return true;
}

/* Stop reading the current shard: drop the rest of its page and its iterator. */
static void
end_shard(DdbScanState *st)
{
	DdbSlot    *slot = st->slot;

	st->task->cut = true;
	st->next_record = NULL;
	if (slot->pending)
		ddb_pending_cancel(st->client, slot->pending);	/* a page ahead */
	slot->pending = NULL;
	if (slot->iterator)
		pfree(slot->iterator);
	slot->iterator = NULL;
}

/*
 * Is the current shard finished once this page's records are returned?
 *
 * A closed shard is finished when GetRecords gives no next iterator, or when
 * the page reached the shard's EndingSequenceNumber (saving one request), or
 * the scan's upper bound.  An open shard never ends by itself, so a scan
 * stops reading it once it has caught up:
 *   - after a page that holds a record created after the scan started
 *     (rounded down to the second, as ApproximateCreationDateTime is);
 *   - at the first empty page after records of this shard: the scan has read
 *     up to the shard's tip;
 *   - after empty_page_limit consecutive empty pages before any record.
 * DynamoDB can return empty pages before records further in a shard.  A scan
 * that stops at such a gap has returned every record before it, and the next
 * scan (seq > max(seq)) starts at the gap, where up to empty_page_limit empty
 * pages are read through: nothing is skipped.
 */
static bool
shard_caught_up(DdbScanState *st, DdbSlot *slot, cJSON *last,
				const char *next_iterator)
{
	return page_ends_shard(st, slot, last != NULL,
						   last ? record_seq(last) : NULL,
						   last ? ddb_record_created(last) : -1,
						   next_iterator != NULL, slot->empty_pages,
						   &slot->exhausted);
}

/*
 * shard_caught_up's rules, from the facts of a page: whether it has records,
 * its last record's sequence number and creation time (-1 if none), whether
 * it has a next iterator, and the count of consecutive empty pages it makes.
 * *exhausted says whether the shard is closed and read to its end.
 */
static bool
page_ends_shard(DdbScanState *st, DdbSlot *slot, bool has_records,
				const char *last_seq, double last_created, bool has_next,
				int empty_pages, bool *exhausted)
{
	DdbShard   *shard = slot->task->shard;

	*exhausted = false;
	if (!has_next)
	{
		*exhausted = true;		/* the shard is closed and read */
		return true;
	}
	if (st->bounds.upper && has_records &&
		ddb_seq_cmp(last_seq, st->bounds.upper) >= 0)
		return true;			/* the rest of the shard is past the bound */

	if (shard->ending_seq)
	{
		*exhausted = has_records && ddb_seq_cmp(last_seq, shard->ending_seq) >= 0;
		return *exhausted;
	}

	if (!has_records)
		return slot->shard_records > 0 ||
			empty_pages >= st->opts.empty_page_limit;
	return last_created >= 0 && last_created > st->scan_start;
}

/*
 * Called with the raw body of the head shard's page before it is parsed:
 * when the page will not end the shard, ask for the next page now, so the
 * parsing of this one overlaps the network.  fetch_next_page checks the
 * guess against the parsed page.  Not under a pushed LIMIT, where the page
 * size of the next request depends on this page's record count.
 */
static void
read_ahead(void *arg, const char *body, size_t len)
{
	DdbReadAhead *ra = (DdbReadAhead *) arg;
	DdbScanState *st = ra->st;
	DdbPagePeek peek;
	bool		exhausted;

	if (ra->pending || st->limit >= 0)
		return;					/* the body of a retry, or a LIMIT */
	if (ddb_page_peek(body, len, &peek) && peek.next_iterator &&
		!page_ends_shard(st, ra->slot, peek.has_records, peek.last_seq,
						 peek.last_created, true,
						 peek.has_records ? 0 : ra->slot->empty_pages + 1,
						 &exhausted))
	{
		ra->iterator = peek.next_iterator;
		ra->pending = ddb_get_records_start(st->client, peek.next_iterator,
											st->opts.page_size);
	}
}

/*
 * A page must make progress: within a shard, sequence numbers increase from
 * record to record and from page to page, and never pass a closed shard's
 * end; and a closed shard cannot answer empty pages forever.  An endpoint
 * that breaks this would have a scan return a record twice (a consumer
 * too), or never end.
 */
static void
check_page(DdbSlot *slot, cJSON *records)
{
	DdbShard   *shard = slot->task->shard;
	const char *prev = slot->last_seq;
	cJSON	   *record;

	if (shard->ending_seq && slot->empty_pages > CLOSED_SHARD_EMPTY_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("DynamoDB Streams GetRecords returned an invalid response"),
				 errdetail("Closed shard \"%s\" answered %d empty pages in a row.",
						   ddb_printable(shard->shard_id, strlen(shard->shard_id), 200),
						   slot->empty_pages)));
	cJSON_ArrayForEach(record, records)
	{
		const char *seq = record_seq(record);

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

/* Name the record being converted in any error it causes. */
static void
conversion_error_context(void *arg)
{
	cJSON	   *record = (cJSON *) arg;
	cJSON	   *id = cJSON_IsObject(record) ?
		cJSON_GetObjectItemCaseSensitive(record, "eventID") : NULL;

	if (cJSON_IsString(id))
		errcontext("converting the DynamoDB Streams record with eventID \"%s\"",
				   ddb_printable(id->valuestring, strlen(id->valuestring), 200));
	else
		errcontext("converting a DynamoDB Streams record");
}

/* A record's sequence number: 1 to 40 digits, or the answer is invalid. */
static const char *
record_seq(cJSON *record)
{
	cJSON	   *ddb = cJSON_GetObjectItemCaseSensitive(record, "dynamodb");
	cJSON	   *seq = ddb ? cJSON_GetObjectItemCaseSensitive(ddb, "SequenceNumber") : NULL;
	size_t		n;

	if (!cJSON_IsString(seq))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("DynamoDB Streams GetRecords returned an invalid response"),
				 errdetail_internal("A record has no \"dynamodb.SequenceNumber\" string.")));
	n = strspn(seq->valuestring, "0123456789");
	if (n == 0 || n > DDB_SEQ_MAX_DIGITS || seq->valuestring[n] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("DynamoDB Streams GetRecords returned an invalid response"),
				 errdetail_internal("A record's \"dynamodb.SequenceNumber\" is not 1 to %d digits.",
									DDB_SEQ_MAX_DIGITS)));
	return seq->valuestring;
}

/* A record's ApproximateCreationDateTime in epoch seconds, or -1 if none. */
double
ddb_record_created(cJSON *record)
{
	cJSON	   *ddb = cJSON_GetObjectItemCaseSensitive(record, "dynamodb");
	cJSON	   *created = ddb ? cJSON_GetObjectItemCaseSensitive(ddb, "ApproximateCreationDateTime") : NULL;

	return cJSON_IsNumber(created) ? created->valuedouble : -1;
}

/*
 * Start again from the beginning: list the shards anew, since the stream may
 * have moved on.
 */
static void
ddbReScanForeignScan(ForeignScanState *node)
{
	DdbScanState *st = (DdbScanState *) node->fdw_state;

	/* a consumer returns each record once, even to a scan run again */
	advance_consumer(st);

	/* also deletes the page and row contexts, and frees the libcurl handle */
	MemoryContextReset(st->scan_cxt);
	create_page_contexts(st);
	st->started = false;
	st->client = NULL;
	st->tasks = NIL;
	st->task = NULL;
	st->slots = NIL;
	st->slot = NULL;
	st->returned_record = NULL;
	st->shards = NIL;
	st->next_record = NULL;
}

static void
ddbEndForeignScan(ForeignScanState *node)
{
	DdbScanState *st = (DdbScanState *) node->fdw_state;

	if (st == NULL)
		return;
	advance_consumer(st);
	if (st->consumer)
		ddb_consumer_close(st->consumer);
	st->consumer = NULL;
	/* Frees the libcurl handle too, through its reset callback. */
	MemoryContextDelete(st->scan_cxt);
	st->scan_cxt = NULL;
}

static void
ddbExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	DdbStreamOptions opts;
	DdbScanState *st = (DdbScanState *) node->fdw_state;
	const char *seq_explain = strVal(list_nth(plan->fdw_private, DdbScanPrivateSeqExplain));
	const char *shard_explain = strVal(list_nth(plan->fdw_private, DdbScanPrivateShardExplain));
	int			limit = intVal(list_nth(plan->fdw_private, DdbScanPrivateLimit));

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
		bool	   *used = retrieved_columns(rel, retrieved);
		DdbColumnInfo *columns = build_column_map(rel);
		List	   *names = NIL;
		int			i;

		for (i = 0; i < RelationGetDescr(rel)->natts; i++)
			if (used[i] && columns[i].field >= 0)
				names = lappend(names, (char *) columns[i].name);
		if (names == NIL)
			names = list_make1("none");
		ExplainPropertyList("Stream Fields Built", names, es);
	}

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
		ExplainPropertyInteger("Retries", NULL, s->retries, es);
		if (opts.nul_replacement)
			ExplainPropertyInteger("NUL Characters Replaced", NULL,
								   st->conv.nul_replaced, es);
		if (es->timing)
			ExplainPropertyFloat("Network Time", "ms", s->network_ms, 3, es);
	}
}

/*
 * A scan of a consumer's foreign table that returns no rows and consumes
 * nothing (consumer_lag): it takes no lock and saves no position.
 */
DdbScanState *
ddb_peek_scan_begin(Relation rel)
{
	DdbScanState *st = palloc0(sizeof(DdbScanState));

	st->peek = true;
	ddb_get_table_options(RelationGetRelid(rel), &st->opts);
	st->relname = pstrdup(RelationGetRelationName(rel));
	st->userid = GetUserId();
	ddb_get_credentials(GetForeignServer(GetForeignTable(RelationGetRelid(rel))->serverid),
						st->userid, &st->creds);
	st->limit = -1;
	st->scan_cxt = AllocSetContextCreate(CurrentMemoryContext,
										 "ddbstream_fdw peek scan data",
										 ALLOCSET_DEFAULT_SIZES);
	create_page_contexts(st);
	return st;
}

/* The next unconsumed record and its shard's task, or NULL at the end. */
cJSON *
ddb_peek_scan_next(DdbScanState *st, DdbShardTask **task)
{
	cJSON	   *record = next_wanted_record(st);

	*task = st->task;
	return record;
}

/* The shards DescribeStream lists, listing them if not yet done. */
List *
ddb_peek_scan_shards(DdbScanState *st)
{
	if (!st->started)
		start_scan(st);
	return st->shards;
}

/* The shards the scan reads, with where each starts. */
List *
ddb_peek_scan_tasks(DdbScanState *st)
{
	if (!st->started)
		start_scan(st);
	return st->tasks;
}

/* The scan's consumer and stream, once the scan has started. */
const char *
ddb_peek_scan_consumer(DdbScanState *st, const char **stream_arn)
{
	*stream_arn = st->stream_arn ? st->stream_arn : "";
	return st->opts.consumer;
}

void
ddb_peek_scan_end(DdbScanState *st)
{
	MemoryContextDelete(st->scan_cxt);
	pfree(st);
}
