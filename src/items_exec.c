/*-------------------------------------------------------------------------
 *
 * items_exec.c
 *		  The executor and EXPLAIN side of an items table: the request made
 *		  from the plan and the pushed values, its items as rows, and what
 *		  EXPLAIN shows of it.
 *
 * The planner's choice (items_plan.c) travels in ForeignScan.fdw_private
 * in the layout below; the reading itself is items_scan.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "commands/explain.h"
#if PG_VERSION_NUM >= 180000
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "foreign/foreign.h"
#include "nodes/makefuncs.h"
#include "utils/rel.h"

#include "items_exec.h"
#include "items_plan.h"

/* The layout of ForeignScan.fdw_private for an items table. */
enum DdbItemsPrivateIndex
{
	/* Integer list of the attribute numbers the query uses, or (0) for all */
	ItemsPrivateRetrievedAttrs,
	/* Integer list of DdbKeyRole, parallel to fdw_exprs */
	ItemsPrivateRoles,
	/* String: the key condition for EXPLAIN, "" when none */
	ItemsPrivateKeyCondition,
	/* Integer: the DdbItemsApi */
	ItemsPrivateApi,
	/* Integer: the most rows the query can use (a pushed LIMIT), or -1 */
	ItemsPrivateLimit,
	/* List: the key schemas (items_plan.c), NIL when not looked up */
	ItemsPrivateKeys
};

/* The executor state of a scan of an items table. */
struct DdbItemsNode
{
	DdbStreamOptions opts;
	DdbCredentials creds;
	DdbItemsApi api;
	List	   *roles;
	List	   *value_states;
	ExprContext *econtext;
	long		limit;
	bool		exact;			/* the plan's conditions pushed whole */
	DdbTableKeys *keys;			/* NULL: not needed */
	const char *table_keys[3];	/* the table's key attributes, NULL-ended */
	DdbRowBuilder *rows;
	List	   *projection;
	MemoryContext scan_cxt;		/* the current pass of the scan */
	bool		started;		/* the pass's request is made */
	DdbItemsScan *scan;			/* NULL when no item can match */
	const char *operation;		/* "DynamoDB Scan"... */
	DdbItemsStats done;			/* the work of earlier passes */
	long		describe_requests;
};

static void start_pass(DdbItemsNode *node);
static void end_pass(DdbItemsNode *node);
static void add_pass_stats(DdbItemsStats *into, DdbItemsNode *node);
static List *attributes_fetched(ForeignScanState *fss, DdbItemsNode *node);
static List *names_shown(List *names);

/* fdw_private for an items table, from the planner's choice. */
List *
ddb_items_fdw_private(List *retrieved_attrs, const DdbItemsPlan *plan,
					  long limit)
{
	List	   *private = list_make5(retrieved_attrs, plan->roles,
									 makeString(plan->explain ? plan->explain : ""),
									 makeInteger(plan->api),
									 makeInteger((int) limit));

	return lappend(private, plan->keys);
}

/*
 * Start the scan of an items table: the options, credentials and, when the
 * query uses the keys column and the plan did not look them up, the key
 * schema (one DescribeTable).
 */
DdbItemsNode *
ddb_items_node_begin(ForeignScanState *fss, Oid userid)
{
	ForeignScan *plan = (ForeignScan *) fss->ss.ps.plan;
	Relation	rel = fss->ss.ss_currentRelation;
	List	   *private = plan->fdw_private;
	List	   *retrieved = (List *) list_nth(private, ItemsPrivateRetrievedAttrs);
	List	   *keys = (List *) list_nth(private, ItemsPrivateKeys);
	DdbItemsNode *node = palloc0(sizeof(DdbItemsNode));
	bool		need_keys = false;
	bool		any_used = false;
	int			i;

	ddb_get_table_options(RelationGetRelid(rel), &node->opts);
	ddb_get_credentials(GetForeignServer(GetForeignTable(RelationGetRelid(rel))->serverid),
						userid, &node->creds);
	node->api = (DdbItemsApi) intVal(list_nth(private, ItemsPrivateApi));
	node->roles = (List *) list_nth(private, ItemsPrivateRoles);
	node->value_states = ExecInitExprList(plan->fdw_exprs, (PlanState *) fss);
	node->econtext = fss->ss.ps.ps_ExprContext;
	node->limit = intVal(list_nth(private, ItemsPrivateLimit));
	node->rows = ddb_row_builder_create(rel, retrieved, &node->opts);
	node->operation = psprintf("DynamoDB %s", ddb_items_api_name(node->api));

	for (i = 0; i < node->rows->ncolumns; i++)
	{
		any_used |= (node->rows->used[i] && node->rows->columns[i].field >= 0);
		if (node->rows->used[i] && node->rows->columns[i].field == DDB_FIELD_KEYS)
			need_keys = true;
	}

	/*
	 * The keys column needs the key schema; so does a query that uses no
	 * column (count(*)), which then fetches the partition key alone.
	 */
	if (keys != NIL)
		node->keys = ddb_items_keys_from_list(keys);
	else if (need_keys || !any_used)
		node->keys = ddb_items_describe(rel, &node->opts, userid,
										&node->describe_requests);
	if (node->keys && need_keys)
	{
		node->table_keys[0] = node->keys->table.partition_key;
		node->table_keys[1] = node->keys->table.sort_key;
	}
	node->projection = ddb_items_projection(node->rows->columns, node->rows->used,
											node->rows->ncolumns, node->keys);
	node->scan_cxt = AllocSetContextCreate(CurrentMemoryContext,
										   "ddbstream_fdw items scan",
										   ALLOCSET_DEFAULT_SIZES);
	return node;
}

/*
 * One pass: the request from the pushed values as they are now, at the
 * first row asked for (an initplan's value is not known before).
 */
static void
start_pass(DdbItemsNode *node)
{
	MemoryContext old = MemoryContextSwitchTo(node->scan_cxt);
	DdbTableKeys none = {{0}};
	bool		empty = false;
	bool		exact = true;
	DdbItemsRequest *req;

	req = ddb_items_request(node->api, node->roles, node->value_states,
							node->econtext, node->keys ? node->keys : &none,
							&empty, &exact);
	req->table_name = node->opts.table_name;
	if (node->api == DDB_ITEMS_SCAN || node->api == DDB_ITEMS_QUERY)
		req->index_name = node->opts.index_name;
	req->consistent_read = node->opts.consistent_read;
	req->projection = node->projection;
	req->limit = exact ? node->limit : -1;
	req->page_size = node->opts.page_size;
	req->segments = node->api == DDB_ITEMS_SCAN ? node->opts.scan_segments : 1;
	node->scan = (empty || req->limit == 0) ? NULL :
		ddb_items_begin(&node->opts, &node->creds, req, node->scan_cxt);
	node->started = true;
	MemoryContextSwitchTo(old);
}

static void
end_pass(DdbItemsNode *node)
{
	if (node->scan)
	{
		add_pass_stats(&node->done, node);
		ddb_items_end(node->scan);
		node->scan = NULL;
	}
	MemoryContextReset(node->scan_cxt);
	node->started = false;
}

/* Add the work of the scan's pass to *into; capacity must stay finite. */
static void
add_pass_stats(DdbItemsStats *into, DdbItemsNode *node)
{
	DdbItemsStats s;

	ddb_items_stats(node->scan, &s);
	ddb_stats_add(&into->requests, &s.requests);
	into->items += s.items;
	into->pages += s.pages;
	into->unprocessed_retries += s.unprocessed_retries;
	into->consumed_capacity += s.consumed_capacity;
	into->capacity_reported |= s.capacity_reported;
	if (!isfinite(into->consumed_capacity))
		ddb_raise_invalid_response(DDB_API_DYNAMODB, ddb_items_api_name(node->api),
								   "The capacity units reported add up to more than a double holds.");
}

/* The next item as a row in values/isnull; false at the end. */
bool
ddb_items_node_next(DdbItemsNode *node, Datum *values, bool *isnull)
{
	cJSON	   *item;

	if (!node->started)
		start_pass(node);
	item = node->scan ? ddb_items_next(node->scan) : NULL;
	if (item == NULL)
		return false;
	ddb_build_item_row(node->rows, item, node->operation,
					   node->table_keys[0] ? node->table_keys : NULL,
					   values, isnull);
	return true;
}

/* Read again, with the pushed values recomputed (new parameters). */
void
ddb_items_node_rescan(DdbItemsNode *node)
{
	end_pass(node);
}

void
ddb_items_node_end(DdbItemsNode *node)
{
	end_pass(node);
	MemoryContextDelete(node->scan_cxt);
}

/* Attribute names (UTF-8, as sent) in the database's encoding. */
static List *
names_shown(List *names)
{
	List	   *shown = NIL;
	ListCell   *lc;

	foreach(lc, names)
		shown = lappend(shown, pg_any_to_server((char *) lfirst(lc),
												strlen((char *) lfirst(lc)), PG_UTF8));
	return shown;
}

/*
 * The attributes a scan fetches, for EXPLAIN VERBOSE: as the scan started,
 * or without ANALYZE as the plan says, the key attributes named as such
 * when the plan did not look them up.
 */
static List *
attributes_fetched(ForeignScanState *fss, DdbItemsNode *node)
{
	ForeignScan *plan = (ForeignScan *) fss->ss.ps.plan;
	Relation	rel = fss->ss.ss_currentRelation;
	List	   *keys = (List *) list_nth(plan->fdw_private, ItemsPrivateKeys);
	List	   *retrieved = (List *) list_nth(plan->fdw_private, ItemsPrivateRetrievedAttrs);
	DdbColumnInfo *columns;
	bool	   *used;
	List	   *names;
	int			natts = RelationGetDescr(rel)->natts;
	int			i;

	if (node)
		return node->projection ? names_shown(node->projection) : list_make1("all");
	columns = ddb_column_map(rel);
	used = ddb_used_columns(rel, retrieved);
	names = ddb_items_projection(columns, used, natts,
								 keys ? ddb_items_keys_from_list(keys) : NULL);
	for (i = 0; i < natts; i++)
		if (used[i] && columns[i].field == DDB_FIELD_NEW_IMAGE)
			return list_make1("all");
	names = names_shown(names);
	for (i = 0; i < natts && keys == NIL; i++)
		if (used[i] && columns[i].field == DDB_FIELD_KEYS)
			return lappend(names, "the key attributes");
	if (names == NIL && keys == NIL)
		return list_make1("the partition key");	/* count(*): see begin */
	return names;
}

/*
 * EXPLAIN: the table and index, the operation and its key condition, and
 * under ANALYZE (node not NULL) the work done.
 */
void
ddb_items_explain(ForeignScanState *fss, DdbItemsNode *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) fss->ss.ps.plan;
	List	   *private = plan->fdw_private;
	DdbItemsApi api = (DdbItemsApi) intVal(list_nth(private, ItemsPrivateApi));
	const char *condition = strVal(list_nth(private, ItemsPrivateKeyCondition));
	int			limit = intVal(list_nth(private, ItemsPrivateLimit));
	DdbStreamOptions opts;

	ddb_get_table_options(RelationGetRelid(fss->ss.ss_currentRelation), &opts);
	ExplainPropertyText("DynamoDB Table", opts.table_name, es);
	if (opts.index_name && (api == DDB_ITEMS_SCAN || api == DDB_ITEMS_QUERY))
		ExplainPropertyText("Index", opts.index_name, es);
	if (api == DDB_ITEMS_SCAN && opts.scan_segments > 1)
		ExplainPropertyText("DynamoDB API",
							psprintf("Scan (%d segments)", opts.scan_segments), es);
	else
		ExplainPropertyText("DynamoDB API", ddb_items_api_name(api), es);
	if (condition[0])
		ExplainPropertyText("Key Condition", condition, es);
	if (opts.consistent_read)
		ExplainPropertyBool("Consistent Read", true, es);
	if (limit >= 0)
		ExplainPropertyInteger("Item Limit", NULL, limit, es);
	if (es->verbose)
		ExplainPropertyList("Attributes Fetched", attributes_fetched(fss, node), es);
	if (es->analyze && node)
	{
		DdbItemsStats s = node->done;
		const DdbClientStats *r = &s.requests;

		if (node->scan)
			add_pass_stats(&s, node);
		ExplainPropertyInteger("DescribeTable Requests", NULL,
							   node->describe_requests, es);
		ExplainPropertyInteger(psprintf("%s Requests", ddb_items_api_name(api)),
							   NULL, ddb_stats_requests(r, ddb_items_api_name(api)), es);
		ExplainPropertyInteger("Items Received", NULL, s.items, es);
		ExplainPropertyInteger("Pages", NULL, s.pages, es);
		if (api == DDB_ITEMS_BATCH_GET_ITEM)
			ExplainPropertyInteger("Unprocessed Key Retries", NULL,
								   s.unprocessed_retries, es);
		ExplainPropertyInteger("Bytes Received", NULL, r->bytes_received, es);
		ExplainPropertyInteger("Retries", NULL, r->retries, es);
		if (s.capacity_reported)
			ExplainPropertyFloat("Consumed Capacity", NULL, s.consumed_capacity, 1, es);
		if (opts.nul_replacement)
			ExplainPropertyInteger("NUL Characters Replaced", NULL,
								   node->rows->conv.nul_replaced, es);
		if (es->timing)
			ExplainPropertyFloat("Network Time", "ms", r->network_ms, 3, es);
	}
}
