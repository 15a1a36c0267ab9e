/*-------------------------------------------------------------------------
 *
 * items_plan.c
 *		  Which operation reads an items table for a query: the conditions on
 *		  key attributes pushed to Query, GetItem or BatchGetItem, and at
 *		  executor start the request they make (items.h).
 *
 * A condition is pushed only where DynamoDB compares as PostgreSQL does:
 * = and IN on any key; <, <=, >, >= and BETWEEN on a numeric key read into
 * an integer or numeric column, or on a string key under the "C"
 * collation (DynamoDB orders strings by their UTF-8 bytes); LIKE 'prefix%'
 * on a string key as begins_with.  Binary keys (text columns holding
 * base64) take = and IN only.  Every condition is still checked by
 * PostgreSQL on every row, so the request may return more than the query
 * wants, never less: a value DynamoDB cannot hold in a key (an empty
 * string, NaN, over 38 digits) matches no item, and a bound it cannot take
 * is dropped.
 *
 * The key schema comes from DescribeTable at plan time, and only when some
 * condition names an attribute column: a full Scan needs none.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"

#include "items_plan.h"

/* A condition on a key attribute, as classified at plan time. */
typedef struct KeyCondition
{
	DdbKeyRole	role;
	DdbKeyType	type;			/* the key attribute's */
	Expr	   *value;
	const char *colname;
	RestrictInfo *rinfo;
} KeyCondition;

static const char *const role_ops[] = {
	[DDB_KEY_PK_EQ] = "=",
	[DDB_KEY_PK_IN] = "IN",
	[DDB_KEY_SK_EQ] = "=",
	[DDB_KEY_SK_IN] = "IN",
	[DDB_KEY_SK_LT] = "<",
	[DDB_KEY_SK_LE] = "<=",
	[DDB_KEY_SK_GT] = ">",
	[DDB_KEY_SK_GE] = ">=",
	[DDB_KEY_SK_PREFIX] = "LIKE",
};


static const DdbColumnInfo *attribute_var(Node *node, Index relid,
										  const DdbColumnInfo *columns,
										  int ncolumns);
static bool names_attribute_column(Expr *clause, Index relid,
								   const DdbColumnInfo *columns, int ncolumns);
static bool classify(Expr *clause, Index relid, const DdbColumnInfo *columns,
					 int ncolumns, const DdbKeySchema *schema, KeyCondition *kc);
static bool column_fits_key(const DdbColumnInfo *col, DdbKeyType type,
							Oid opno, Oid collid, bool ordered);
static int	strategy_of(Oid opno, DdbKeyType type);
static KeyCondition *first_of(List *conds, DdbKeyRole role);
static void choose(DdbItemsPlan *plan, List *conds, const DdbKeySchema *schema,
				   bool on_index, int nclauses);
static void add_condition(DdbItemsPlan *plan, KeyCondition *kc, StringInfo explain);
static List *key_schema_list(const DdbTableKeys *keys);

/*
 * Classify the relation's conditions and choose the operation.  The key
 * schema is looked up (one DescribeTable, with userid's credentials) only
 * when a condition names an attribute column.
 */
void
ddb_items_plan(List *restrictinfos, Index relid, const DdbColumnInfo *columns,
			   int ncolumns, Relation rel, Oid userid, DdbItemsPlan *plan)
{
	DdbStreamOptions opts;
	DdbTableKeys *keys;
	const DdbKeySchema *schema;
	List	   *conds = NIL;
	ListCell   *lc;
	bool		any = false;

	memset(plan, 0, sizeof(*plan));
	plan->api = DDB_ITEMS_SCAN;
	plan->exact = (restrictinfos == NIL);

	foreach(lc, restrictinfos)
		if (names_attribute_column(lfirst_node(RestrictInfo, lc)->clause,
								   relid, columns, ncolumns))
			any = true;
	if (!any)
		return;

	ddb_get_table_options(RelationGetRelid(rel), &opts);
	keys = ddb_items_describe(rel, &opts, userid, NULL);
	plan->keys = key_schema_list(keys);
	schema = keys->index_name ? &keys->index : &keys->table;

	foreach(lc, restrictinfos)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		KeyCondition kc;

		/*
		 * With nul_replacement a string key is seen with the replacement for
		 * each U+0000, which DynamoDB would not match: strings stay local.
		 */
		if (classify(rinfo->clause, relid, columns, ncolumns, schema, &kc) &&
			!(kc.type == DDB_KEY_S && opts.nul_replacement))
		{
			kc.rinfo = rinfo;
			conds = lappend(conds, palloc_object(KeyCondition));
			*(KeyCondition *) llast(conds) = kc;
		}
	}
	choose(plan, conds, schema, keys->index_name != NULL,
		   list_length(restrictinfos));
}

/*
 * The key schema of the table (and of its index_name), with a client of
 * its own that is gone on return; *requests counts the DescribeTable.
 */
DdbTableKeys *
ddb_items_describe(Relation rel, const DdbStreamOptions *opts, Oid userid,
				   long *requests)
{
	ForeignTable *table = GetForeignTable(RelationGetRelid(rel));
	MemoryContext lookup_cxt = AllocSetContextCreate(CurrentMemoryContext,
													 "ddbstream_fdw key schema lookup",
													 ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(lookup_cxt);
	DdbCredentials creds;
	DdbAwsConfig config;
	DdbClient  *client;
	DdbTableKeys *keys;
	List	   *copy;

	ddb_get_credentials(GetForeignServer(table->serverid), userid, &creds);
	ddb_aws_config(opts, &config);
	client = ddb_client_create(&config, &creds);
	keys = ddb_describe_table_keys(client, opts->table_name, opts->index_name);
	if (requests)
		*requests += ddb_stats_requests(ddb_client_stats(client), "DescribeTable");
	copy = key_schema_list(keys);
	MemoryContextSwitchTo(old);
	copy = (List *) copyObjectImpl(copy);	/* copyObject needs typeof_unqual in 19 */
	/* also frees the libcurl handle */
	MemoryContextDelete(lookup_cxt);
	return ddb_items_keys_from_list(copy);
}

/*
 * The key schemas as a list the plan can carry: the schema read (the
 * index's or the table's) and the table's, as String nodes "name", "type",
 * with "" for no sort key; then the index name, "" for none.
 */
static List *
key_schema_list(const DdbTableKeys *keys)
{
	const DdbKeySchema *read = keys->index_name ? &keys->index : &keys->table;
	List	   *l = NIL;
	int			i;

	for (i = 0; i < 2; i++)
	{
		const DdbKeySchema *s = i == 0 ? read : &keys->table;

		l = lappend(l, makeString(pstrdup(s->partition_key)));
		l = lappend(l, makeString(pstrdup(ddb_key_type_name(s->partition_type))));
		l = lappend(l, makeString(pstrdup(s->sort_key ? s->sort_key : "")));
		l = lappend(l, makeString(pstrdup(ddb_key_type_name(s->sort_type))));
	}
	l = lappend(l, makeString(pstrdup(keys->index_name ? keys->index_name : "")));
	return l;
}

static DdbKeyType
key_type_of(const char *name)
{
	return name[0] == 'N' ? DDB_KEY_N : name[0] == 'B' ? DDB_KEY_B : DDB_KEY_S;
}

/* The key schemas back from key_schema_list's form. */
DdbTableKeys *
ddb_items_keys_from_list(List *l)
{
	DdbTableKeys *keys = palloc0(sizeof(DdbTableKeys));
	int			i;

	Assert(list_length(l) == 9);
	for (i = 0; i < 2; i++)
	{
		DdbKeySchema *s = i == 0 ? &keys->index : &keys->table;
		int			at = i * 4;

		s->partition_key = strVal(list_nth(l, at));
		s->partition_type = key_type_of(strVal(list_nth(l, at + 1)));
		s->sort_key = strVal(list_nth(l, at + 2))[0] ? strVal(list_nth(l, at + 2)) : NULL;
		s->sort_type = key_type_of(strVal(list_nth(l, at + 3)));
	}
	if (strVal(list_nth(l, 8))[0])
		keys->index_name = strVal(list_nth(l, 8));
	else
		keys->index = keys->table;
	return keys;
}

/* The attribute column node names in this relation, or NULL. */
static const DdbColumnInfo *
attribute_var(Node *node, Index relid, const DdbColumnInfo *columns,
			  int ncolumns)
{
	Var		   *var;

	if (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return NULL;
	var = (Var *) node;
	if (var->varno != relid || var->varlevelsup != 0 ||
		var->varattno <= 0 || var->varattno > ncolumns ||
		columns[var->varattno - 1].field != DDB_FIELD_ATTRIBUTE)
		return NULL;
	return &columns[var->varattno - 1];
}

/* Whether a clause compares an attribute column with a pseudo-constant. */
static bool
names_attribute_column(Expr *clause, Index relid, const DdbColumnInfo *columns,
					   int ncolumns)
{
	List	   *args;

	if (IsA(clause, OpExpr))
		args = ((OpExpr *) clause)->args;
	else if (IsA(clause, ScalarArrayOpExpr))
		args = ((ScalarArrayOpExpr *) clause)->args;
	else
		return false;
	if (list_length(args) != 2)
		return false;
	return (attribute_var(linitial(args), relid, columns, ncolumns) &&
			ddb_is_pseudo_constant(lsecond(args))) ||
		(attribute_var(lsecond(args), relid, columns, ncolumns) &&
		 ddb_is_pseudo_constant(linitial(args)));
}

/*
 * The btree strategy of opno for a key of this type read into a column
 * (integer or numeric families for N, text's for S and B), or 0.
 */
static int
strategy_of(Oid opno, DdbKeyType type)
{
	if (type == DDB_KEY_N)
	{
		int			s = get_op_opfamily_strategy(opno, INTEGER_BTREE_FAM_OID);

		return s ? s : get_op_opfamily_strategy(opno, ddb_numeric_btree_family());
	}
	return get_op_opfamily_strategy(opno, TEXT_BTREE_FAM_OID);
}

/*
 * Whether the column reads this key's values so that PostgreSQL's operator
 * agrees with DynamoDB's comparison: numbers in integer or numeric columns;
 * strings and base64 in text or varchar, with a deterministic collation
 * (bytes equal), and for an order (ordered) the "C" one; no type modifier.
 */
static bool
column_fits_key(const DdbColumnInfo *col, DdbKeyType type, Oid opno,
				Oid collid, bool ordered)
{
	/* numeric(5,1) rounds 1.25 to 1.3, varchar(3) refuses longer values */
	if (col->typmod >= 0)
		return false;
	switch (type)
	{
		case DDB_KEY_N:
			return col->typid == INT2OID || col->typid == INT4OID ||
				col->typid == INT8OID || col->typid == NUMERICOID;
		case DDB_KEY_B:
			if (ordered)
				return false;	/* base64 text does not sort as bytes */
			/* FALLTHROUGH */
		case DDB_KEY_S:
			if (col->typid != TEXTOID && col->typid != VARCHAROID)
				return false;
			if (ordered)		/* UTF-8 bytes in the "C" order */
				return (collid == C_COLLATION_OID || collid == POSIX_COLLATION_OID) &&
					GetDatabaseEncoding() == PG_UTF8;
			return !OidIsValid(collid) || get_collation_isdeterministic(collid);
	}
	return false;
}

/*
 * Classify one condition on a key attribute of schema into *kc; false when
 * it stays local only.
 */
static bool
classify(Expr *clause, Index relid, const DdbColumnInfo *columns, int ncolumns,
		 const DdbKeySchema *schema, KeyCondition *kc)
{
	const DdbColumnInfo *col;
	Node	   *value;
	Oid			opno;
	Oid			collid;
	bool		commuted = false;
	bool		is_in = IsA(clause, ScalarArrayOpExpr);
	bool		partition;
	DdbKeyType	type;
	int			strategy;

	if (is_in)
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;

		if (!saop->useOr || list_length(saop->args) != 2)
			return false;
		col = attribute_var(linitial(saop->args), relid, columns, ncolumns);
		value = lsecond(saop->args);
		opno = saop->opno;
		collid = saop->inputcollid;
	}
	else if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) clause;

		col = attribute_var(linitial(op->args), relid, columns, ncolumns);
		value = lsecond(op->args);
		if (col == NULL)
		{
			col = attribute_var(lsecond(op->args), relid, columns, ncolumns);
			value = linitial(op->args);
			commuted = true;
		}
		opno = op->opno;
		collid = op->inputcollid;
	}
	else
		return false;
	if (col == NULL || !ddb_is_pseudo_constant(value))
		return false;

	if (strcmp(col->attribute, schema->partition_key) == 0)
		partition = true;
	else if (schema->sort_key && strcmp(col->attribute, schema->sort_key) == 0)
		partition = false;
	else
		return false;
	type = partition ? schema->partition_type : schema->sort_type;
	kc->type = type;
	kc->value = (Expr *) value;
	kc->colname = col->name;

	/* LIKE 'prefix%' on a string sort key: begins_with */
	if (opno == OID_TEXT_LIKE_OP && !commuted && !is_in && !partition &&
		type == DDB_KEY_S && column_fits_key(col, type, opno, collid, false))
	{
		kc->role = DDB_KEY_SK_PREFIX;
		return true;
	}

	strategy = strategy_of(opno, type);
	if (strategy == BTEqualStrategyNumber)
	{
		if (!column_fits_key(col, type, opno, collid, false))
			return false;
		kc->role = partition ? (is_in ? DDB_KEY_PK_IN : DDB_KEY_PK_EQ) :
			(is_in ? DDB_KEY_SK_IN : DDB_KEY_SK_EQ);
		return true;
	}
	if (partition || is_in || strategy == 0 ||
		!column_fits_key(col, type, opno, collid, true))
		return false;
	switch (ddb_strategy_column_first(strategy, commuted))
	{
		case BTLessStrategyNumber:
			kc->role = DDB_KEY_SK_LT;
			return true;
		case BTLessEqualStrategyNumber:
			kc->role = DDB_KEY_SK_LE;
			return true;
		case BTGreaterEqualStrategyNumber:
			kc->role = DDB_KEY_SK_GE;
			return true;
		case BTGreaterStrategyNumber:
			kc->role = DDB_KEY_SK_GT;
			return true;
	}
	return false;
}

static KeyCondition *
first_of(List *conds, DdbKeyRole role)
{
	ListCell   *lc;

	foreach(lc, conds)
		if (((KeyCondition *) lfirst(lc))->role == role)
			return lfirst(lc);
	return NULL;
}

/*
 * Choose the operation from the classified conditions: GetItem or
 * BatchGetItem when the table's whole key is fixed, Query when its
 * partition key is, else Scan.  A Query takes one condition on the sort
 * key: =, else both bounds (BETWEEN), else one bound, else a prefix.
 * plan->exact says whether the request returns exactly the rows the
 * conditions keep (nclauses of them), so that a LIMIT can be pushed.
 */
static void
choose(DdbItemsPlan *plan, List *conds, const DdbKeySchema *schema,
	   bool on_index, int nclauses)
{
	KeyCondition *pk = first_of(conds, DDB_KEY_PK_EQ);
	KeyCondition *sk_eq = first_of(conds, DDB_KEY_SK_EQ);
	KeyCondition *sk_in = first_of(conds, DDB_KEY_SK_IN);
	KeyCondition *lower = first_of(conds, DDB_KEY_SK_GE);
	KeyCondition *upper = first_of(conds, DDB_KEY_SK_LE);
	KeyCondition *prefix = first_of(conds, DDB_KEY_SK_PREFIX);
	StringInfoData explain;
	int			used = 0;

	if (pk == NULL)
		pk = first_of(conds, DDB_KEY_PK_IN);
	if (pk == NULL)
		return;					/* a Scan */
	if (lower == NULL)
		lower = first_of(conds, DDB_KEY_SK_GT);
	if (upper == NULL)
		upper = first_of(conds, DDB_KEY_SK_LT);
	if (sk_eq == NULL && on_index)
		sk_in = NULL;			/* an index has no GetItem */

	initStringInfo(&explain);
	add_condition(plan, pk, &explain);
	used++;
	if (!on_index && (schema->sort_key == NULL || sk_eq || sk_in))
	{
		KeyCondition *sk = sk_eq ? sk_eq : sk_in;

		if (sk)
		{
			add_condition(plan, sk, &explain);
			used++;
		}
		plan->api = (pk->role == DDB_KEY_PK_EQ && (sk == NULL || sk == sk_eq)) ?
			DDB_ITEMS_GET_ITEM : DDB_ITEMS_BATCH_GET_ITEM;
	}
	else
	{
		plan->api = DDB_ITEMS_QUERY;
		if (sk_eq)
		{
			add_condition(plan, sk_eq, &explain);
			used++;
		}
		else if (lower && upper)
		{
			/* sent as BETWEEN, and shown so */
			add_condition(plan, lower, NULL);
			add_condition(plan, upper, NULL);
			appendStringInfo(&explain, " AND %s BETWEEN ", quote_identifier(lower->colname));
			ddb_deparse_value(&explain, (Node *) lower->value);
			appendStringInfoString(&explain, " AND ");
			ddb_deparse_value(&explain, (Node *) upper->value);
			/* BETWEEN includes both bounds: strict ones stay inexact */
			used += (lower->role == DDB_KEY_SK_GE && upper->role == DDB_KEY_SK_LE) * 2;
		}
		else if (lower || upper)
		{
			add_condition(plan, lower ? lower : upper, &explain);
			used++;
		}
		else if (prefix)
			add_condition(plan, prefix, &explain);	/* inexact: see request */
	}
	plan->explain = explain.data;
	plan->exact = (used == nclauses);
}

/*
 * Append a chosen condition to the plan's values and, unless explain is
 * NULL, to EXPLAIN's text.
 */
static void
add_condition(DdbItemsPlan *plan, KeyCondition *kc, StringInfo explain)
{
	plan->exprs = lappend(plan->exprs, kc->value);
	plan->roles = lappend_int(plan->roles, kc->role);
	if (explain == NULL)
		return;
	if (explain->len > 0)
		appendStringInfoString(explain, " AND ");
	appendStringInfo(explain, "%s %s ", quote_identifier(kc->colname),
					 role_ops[kc->role]);
	ddb_deparse_value(explain, (Node *) kc->value);
}
