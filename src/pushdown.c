/*-------------------------------------------------------------------------
 *
 * pushdown.c
 *		  Which WHERE conditions the stream can serve, and the sequence
 *		  bounds and shard list they amount to when the scan starts.
 *
 * Pushed: comparisons of a numeric seq column (<, <=, =, >=, >, IN) and
 * shard_id = / IN with a constant, a parameter ($1, a PL/pgSQL variable) or
 * any stable expression without columns (an initplan such as
 * (SELECT max(seq) FROM t)).  The values are computed when the scan starts.
 * The scan applies the bounds exactly, and PostgreSQL still checks every
 * condition on every row, so results never depend on the shard layout.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/value.h"
#include "optimizer/restrictinfo.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "ddbstream_fdw.h"

/* The most values of an array EXPLAIN shows */
#define DEPARSE_MAX_ELEMENTS 10

static void deparse_array(StringInfo buf, Const *c);
static bool numeric_is_integral(Numeric n);
static char *numeric_digits(Numeric n);
static void set_lower(DdbSeqBounds *b, Numeric value, bool after);
static void set_upper(DdbSeqBounds *b, Numeric value);

static const char *const kind_ops[] = {
	[DDB_PUSH_SEQ_LT] = "<",
	[DDB_PUSH_SEQ_LE] = "<=",
	[DDB_PUSH_SEQ_EQ] = "=",
	[DDB_PUSH_SEQ_GE] = ">=",
	[DDB_PUSH_SEQ_GT] = ">",
	[DDB_PUSH_SEQ_IN] = "IN",
	[DDB_PUSH_SHARD_EQ] = "=",
	[DDB_PUSH_SHARD_IN] = "IN",
};

/*
 * The column a condition's Var names, if it is this relation's seq (numeric)
 * or shard_id column; -1 otherwise.
 */
static int
var_field(Node *node, Index relid, const DdbColumnInfo *columns, int ncolumns,
		  const char **colname)
{
	Var		   *var;

	if (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return -1;
	var = (Var *) node;
	if (var->varno != relid || var->varlevelsup != 0 ||
		var->varattno <= 0 || var->varattno > ncolumns)
		return -1;
	*colname = columns[var->varattno - 1].name;
	if (columns[var->varattno - 1].field == DDB_FIELD_SEQ &&
		columns[var->varattno - 1].typid == NUMERICOID)
		return DDB_FIELD_SEQ;
	if (columns[var->varattno - 1].field == DDB_FIELD_SHARD_ID)
		return DDB_FIELD_SHARD_ID;
	return -1;
}

/* The btree operator family of numeric, whose strategies name <, <=, =, >=, >. */
Oid
ddb_numeric_btree_family(void)
{
	static Oid	family = InvalidOid;

	if (!OidIsValid(family))
		family = get_opclass_family(GetDefaultOpClass(NUMERICOID, BTREE_AM_OID));
	return family;
}

/* No columns, nothing volatile, no correlated subplan: computable at scan start. */
bool
ddb_is_pseudo_constant(Node *node)
{
	return !contain_var_clause(node) &&
		!contain_volatile_functions(node) &&
		!contain_subplans(node);
}

/*
 * A btree strategy as it reads with the column on the left: value < column
 * is column > value.  (Equality, and any other number, stay.)
 */
int
ddb_strategy_column_first(int strategy, bool commuted)
{
	if (!commuted)
		return strategy;
	switch (strategy)
	{
		case BTLessStrategyNumber:
			return BTGreaterStrategyNumber;
		case BTLessEqualStrategyNumber:
			return BTGreaterEqualStrategyNumber;
		case BTGreaterEqualStrategyNumber:
			return BTLessEqualStrategyNumber;
		case BTGreaterStrategyNumber:
			return BTLessStrategyNumber;
	}
	return strategy;
}

/*
 * The kind of seq comparison a btree strategy of numeric stands for, with
 * the column on the right (commuted: 5 < seq is seq > 5); -1 for none.
 */
static int
seq_kind(int strategy, bool commuted)
{
	switch (ddb_strategy_column_first(strategy, commuted))
	{
		case BTLessStrategyNumber:
			return DDB_PUSH_SEQ_LT;
		case BTLessEqualStrategyNumber:
			return DDB_PUSH_SEQ_LE;
		case BTEqualStrategyNumber:
			return DDB_PUSH_SEQ_EQ;
		case BTGreaterEqualStrategyNumber:
			return DDB_PUSH_SEQ_GE;
		case BTGreaterStrategyNumber:
			return DDB_PUSH_SEQ_GT;
	}
	return -1;
}

/* column op value, or value op column: see classify. */
static int
classify_op(OpExpr *op, Index relid, const DdbColumnInfo *columns,
			int ncolumns, Expr **value, const char **colname)
{
	Node	   *left;
	Node	   *right;
	int			field;
	bool		commuted = false;

	if (list_length(op->args) != 2)
		return -1;
	left = linitial(op->args);
	right = lsecond(op->args);
	field = var_field(left, relid, columns, ncolumns, colname);
	if (field < 0)
	{
		field = var_field(right, relid, columns, ncolumns, colname);
		commuted = true;
		right = left;
	}
	if (field < 0 || !ddb_is_pseudo_constant(right))
		return -1;
	*value = (Expr *) right;

	if (field == DDB_FIELD_SHARD_ID)
		return op->opno == TextEqualOperator ? DDB_PUSH_SHARD_EQ : -1;
	return seq_kind(get_op_opfamily_strategy(op->opno, ddb_numeric_btree_family()),
					commuted);
}

/* column = ANY (array value): see classify. */
static int
classify_in(ScalarArrayOpExpr *saop, Index relid, const DdbColumnInfo *columns,
			int ncolumns, Expr **value, const char **colname)
{
	int			field;

	if (!saop->useOr || list_length(saop->args) != 2)
		return -1;
	field = var_field(linitial(saop->args), relid, columns, ncolumns, colname);
	if (field < 0 || !ddb_is_pseudo_constant(lsecond(saop->args)))
		return -1;
	*value = (Expr *) lsecond(saop->args);
	if (field == DDB_FIELD_SHARD_ID)
		return saop->opno == TextEqualOperator ? DDB_PUSH_SHARD_IN : -1;
	return get_op_opfamily_strategy(saop->opno, ddb_numeric_btree_family()) ==
		BTEqualStrategyNumber ? DDB_PUSH_SEQ_IN : -1;
}

/*
 * Classify one condition.  Returns the pushdown kind and sets *value to the
 * expression to evaluate and *colname to the column's name, or returns -1
 * when the condition stays local.
 */
static int
classify(Expr *clause, Index relid, const DdbColumnInfo *columns, int ncolumns,
		 Expr **value, const char **colname)
{
	if (IsA(clause, OpExpr))
		return classify_op((OpExpr *) clause, relid, columns, ncolumns,
						   value, colname);
	if (IsA(clause, ScalarArrayOpExpr))
		return classify_in((ScalarArrayOpExpr *) clause, relid, columns,
						   ncolumns, value, colname);
	return -1;
}

/*
 * Split the relation's conditions into those pushed to the stream (their
 * value expressions and kinds) and those that only PostgreSQL checks.  Sets
 * *all_pushed when every condition was pushed and is applied exactly by the
 * scan (then a LIMIT can be too), and *seq_explain and *shard_explain to
 * the text EXPLAIN shows for the seq and the shard_id conditions ("seq > $1
 * AND seq <= 100", "shard_id = 'x'"), or NULL when there are none.
 */
void
ddb_classify_conditions(List *restrictinfos, Index relid,
						const DdbColumnInfo *columns, int ncolumns,
						List **values, List **kinds, bool *all_pushed,
						char **seq_explain, char **shard_explain)
{
	StringInfoData seqbuf;
	StringInfoData shardbuf;
	ListCell   *lc;

	*values = NIL;
	*kinds = NIL;
	*all_pushed = true;
	initStringInfo(&seqbuf);
	initStringInfo(&shardbuf);

	foreach(lc, restrictinfos)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		Expr	   *value = NULL;
		const char *colname = NULL;
		int			kind = classify(rinfo->clause, relid, columns, ncolumns,
									&value, &colname);
		StringInfo	buf;

		if (kind < 0)
		{
			*all_pushed = false;
			continue;
		}
		*values = lappend(*values, value);
		*kinds = lappend_int(*kinds, kind);

		/*
		 * seq IN (...) only positions the scan (from the least to the greatest
		 * value): records between the values are returned and filtered by
		 * PostgreSQL, so a LIMIT must not be applied by the scan.
		 */
		if (kind == DDB_PUSH_SEQ_IN)
			*all_pushed = false;

		buf = (kind == DDB_PUSH_SHARD_EQ || kind == DDB_PUSH_SHARD_IN) ? &shardbuf : &seqbuf;
		if (buf->len > 0)
			appendStringInfoString(buf, " AND ");
		appendStringInfo(buf, "%s %s ", quote_identifier(colname), kind_ops[kind]);
		ddb_deparse_value(buf, (Node *) value);
	}
	*seq_explain = seqbuf.len ? seqbuf.data : NULL;
	*shard_explain = shardbuf.len ? shardbuf.data : NULL;
}

/* A value as EXPLAIN shows it: a constant, $n for a parameter, or (expression). */
void
ddb_deparse_value(StringInfo buf, Node *node)
{
	if (IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (IsA(node, Const))
	{
		Const	   *c = (Const *) node;
		Oid			typout;
		bool		isvarlena;
		char	   *text;

		if (c->constisnull)
		{
			appendStringInfoString(buf, "NULL");
			return;
		}
		if (OidIsValid(get_element_type(c->consttype)))
		{
			deparse_array(buf, c);
			return;
		}
		getTypeOutputInfo(c->consttype, &typout, &isvarlena);
		text = OidOutputFunctionCall(typout, c->constvalue);
		if (c->consttype == NUMERICOID || c->consttype == INT2OID ||
			c->consttype == INT4OID ||
			c->consttype == INT8OID)
			appendStringInfoString(buf, text);
		else
			appendStringInfoString(buf, quote_literal_cstr(text));
	}
	else if (IsA(node, Param))
		appendStringInfo(buf, "$%d", ((Param *) node)->paramid);
	else
		appendStringInfoString(buf, "(expression)");
}

/*
 * An array constant as EXPLAIN shows it: (1, 2) or ('a', 'b'), or its first
 * values and how many there are.
 */
static void
deparse_array(StringInfo buf, Const *c)
{
	Oid			elemtype = get_element_type(c->consttype);
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	get_typlenbyvalalign(elemtype, &elmlen, &elmbyval, &elmalign);
	deconstruct_array(DatumGetArrayTypeP(c->constvalue), elemtype, elmlen,
					  elmbyval, elmalign, &elems, &nulls, &n);
	appendStringInfoChar(buf, '(');
	for (i = 0; i < Min(n, DEPARSE_MAX_ELEMENTS); i++)
	{
		Const	   *elem = makeConst(elemtype, -1, c->constcollid, elmlen,
									 elems[i], nulls[i], elmbyval);

		if (i > 0)
			appendStringInfoString(buf, ", ");
		ddb_deparse_value(buf, (Node *) elem);
	}
	if (n > DEPARSE_MAX_ELEMENTS)
		appendStringInfo(buf, ", ... %d values", n);
	appendStringInfoChar(buf, ')');
}

static bool
numeric_is_integral(Numeric n)
{
	Datum		floor = DirectFunctionCall1(numeric_floor, NumericGetDatum(n));

	return DatumGetBool(DirectFunctionCall2(numeric_eq, floor, NumericGetDatum(n)));
}

/* An integral, non-negative numeric as digits; NULL when over 40 digits. */
static char *
numeric_digits(Numeric n)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
	char	   *dot = strchr(s, '.');

	if (dot)
		*dot = '\0';
	return strlen(s) > DDB_SEQ_MAX_DIGITS ? NULL : s;
}

static Numeric
numeric_op(PGFunction fn, Numeric n)
{
	return DatumGetNumeric(DirectFunctionCall1(fn, NumericGetDatum(n)));
}

/* A numeric's order against another: <0, 0 or >0. */
static int
numeric_compare(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a),
											 NumericGetDatum(b)));
}

static int
numeric_sign_of(Numeric n)
{
	return numeric_compare(n, int64_to_numeric(0));
}

/*
 * Raise the lower bound to seq > value (after) or seq >= value.  A value
 * with a fraction becomes seq > floor(value): exact for integer sequence
 * numbers.
 */
static void
set_lower(DdbSeqBounds *b, Numeric value, bool after)
{
	char	   *digits;
	int			c;

	if (numeric_sign_of(value) < 0)
		return;					/* every sequence number is above */
	if (!numeric_is_integral(value))
	{
		value = numeric_op(numeric_floor, value);
		after = true;
	}
	digits = numeric_digits(value);
	if (digits == NULL)
	{
		b->empty = true;		/* no sequence number has over 40 digits */
		return;
	}
	c = b->lower ? ddb_seq_cmp(digits, b->lower) : 1;
	if (c > 0 || (c == 0 && after))
	{
		b->lower = digits;
		b->lower_after = after;
	}
}

/* Lower the upper bound to seq <= value (callers pass integral values). */
static void
set_upper(DdbSeqBounds *b, Numeric value)
{
	char	   *digits;

	if (numeric_sign_of(value) < 0)
	{
		b->empty = true;
		return;
	}
	digits = numeric_digits(value);
	if (digits == NULL)
		return;					/* above every sequence number */
	if (b->upper == NULL || ddb_seq_cmp(digits, b->upper) < 0)
		b->upper = digits;
}

/* The elements of a one-dimensional numeric[] or text[] value. */
static int
array_elements(Datum value, Datum **elems, bool **nulls)
{
	ArrayType  *arr = DatumGetArrayTypeP(value);
	int			nelems;

	deconstruct_array(arr, ARR_ELEMTYPE(arr), -1, false, TYPALIGN_INT,
					  elems, nulls, &nelems);
	return nelems;
}

/* Read only the shards in ids, and only those in every earlier list. */
static void
restrict_shards(DdbSeqBounds *b, List *ids)
{
	b->shard_ids = b->has_shard_filter ? list_intersection(b->shard_ids, ids) : ids;
	b->has_shard_filter = true;
}

/* shard_id IN (...): the non-NULL elements. */
static void
apply_shard_in(DdbSeqBounds *b, Datum value)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems = array_elements(value, &elems, &nulls);
	List	   *ids = NIL;
	int			i;

	for (i = 0; i < nelems; i++)
		if (!nulls[i])
			ids = lappend(ids, makeString(TextDatumGetCString(elems[i])));
	restrict_shards(b, ids);
}

/*
 * seq IN (...): from the least to the greatest integral element (a value
 * with a fraction matches no sequence number); nothing when there is none.
 */
static void
apply_seq_in(DdbSeqBounds *b, Datum value)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems = array_elements(value, &elems, &nulls);
	Numeric		lo = NULL;
	Numeric		hi = NULL;
	int			i;

	for (i = 0; i < nelems; i++)
	{
		Numeric		n;

		if (nulls[i])
			continue;
		n = DatumGetNumeric(elems[i]);
		if (!numeric_is_integral(n))
			continue;
		if (lo == NULL || numeric_compare(n, lo) < 0)
			lo = n;
		if (hi == NULL || numeric_compare(n, hi) > 0)
			hi = n;
	}
	if (lo == NULL)
	{
		b->empty = true;
		return;
	}
	set_lower(b, lo, false);
	set_upper(b, hi);
}

/* seq = value: a value with a fraction matches no sequence number. */
static void
apply_seq_eq(DdbSeqBounds *b, Numeric n)
{
	if (!numeric_is_integral(n))
	{
		b->empty = true;
		return;
	}
	set_lower(b, n, false);
	set_upper(b, n);
}

/* Narrow the bounds by one pushed condition, its value not NULL. */
static void
apply_condition(DdbSeqBounds *b, DdbPushKind kind, Datum value)
{
	Numeric		n;

	switch (kind)
	{
		case DDB_PUSH_SEQ_GT:
			set_lower(b, DatumGetNumeric(value), true);
			break;
		case DDB_PUSH_SEQ_GE:
			set_lower(b, DatumGetNumeric(value), false);
			break;
		case DDB_PUSH_SEQ_LT:
			/* seq < v  <=>  seq <= ceil(v) - 1 */
			n = numeric_op(numeric_ceil, DatumGetNumeric(value));
			n = DatumGetNumeric(DirectFunctionCall2(numeric_sub, NumericGetDatum(n),
													NumericGetDatum(int64_to_numeric(1))));
			set_upper(b, n);
			break;
		case DDB_PUSH_SEQ_LE:
			set_upper(b, numeric_op(numeric_floor, DatumGetNumeric(value)));
			break;
		case DDB_PUSH_SEQ_EQ:
			apply_seq_eq(b, DatumGetNumeric(value));
			break;
		case DDB_PUSH_SEQ_IN:
			apply_seq_in(b, value);
			break;
		case DDB_PUSH_SHARD_EQ:
			restrict_shards(b, list_make1(makeString(TextDatumGetCString(value))));
			break;
		case DDB_PUSH_SHARD_IN:
			apply_shard_in(b, value);
			break;
	}
}

/*
 * Compute the bounds for a scan from the table's iterator options and the
 * pushed conditions, evaluating their values now (at scan start).
 */
void
ddb_eval_bounds(const DdbStreamOptions *opts, List *value_states, List *kinds,
				ExprContext *econtext, DdbSeqBounds *b)
{
	ListCell   *lv,
			   *lk;

	memset(b, 0, sizeof(*b));
	if (opts->sequence_number)
		set_lower(b, DatumGetNumeric(DirectFunctionCall3(numeric_in,
														 CStringGetDatum(opts->sequence_number),
														 ObjectIdGetDatum(InvalidOid),
														 Int32GetDatum(-1))),
				  opts->iterator_type == DDB_ITER_AFTER_SEQUENCE_NUMBER);

	forboth(lv, value_states, lk, kinds)
	{
		bool		isnull;
		Datum		value = ExecEvalExpr((ExprState *) lfirst(lv), econtext,
										 &isnull);

		if (isnull)
			b->empty = true;	/* a comparison with NULL is never true */
		else
			apply_condition(b, (DdbPushKind) lfirst_int(lk), value);
	}
	if (b->lower && b->upper)
	{
		int			c = ddb_seq_cmp(b->lower, b->upper);

		if (c > 0 || (c == 0 && b->lower_after))
			b->empty = true;
	}
}
