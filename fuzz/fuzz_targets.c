/*-------------------------------------------------------------------------
 *
 * fuzz_targets.c
 *		  libFuzzer targets for what ddbstream_fdw reads from the network:
 *
 * Like the scan, both first refuse a body that is not strict JSON
 * (json_check.c), and only then peek at it or parse it.
 *
 *   get_records      a GetRecords answer: the raw-body peek (page_peek.c),
 *                    then every record converted to every field, in every
 *                    column type the field accepts, in both image formats,
 *                    and to attribute columns of each supported type;
 *   describe_stream  a DescribeStream answer: its shards parsed, then planned
 *                    in lineage order with and without bounds (shard_plan.c).
 *
 * The converter builds jsonb and numeric with PostgreSQL's own code, so the
 * targets run inside a backend: test/fuzz starts PostgreSQL in single-user
 * mode and calls ddbstream_fdw_fuzz(target, libFuzzer arguments), which
 * hands control to LLVMFuzzerRunDriver.  Each input runs in an internal
 * subtransaction: an ERROR (the expected answer to most bad input) is
 * caught and rolled back; a crash, an undefined-behaviour trap, a timeout
 * or unbounded memory is a finding, saved by libFuzzer as a reproducer.
 *
 * Built by "make fuzz" with clang -fsanitize=fuzzer-no-link,undefined (traps,
 * so no sanitizer runtime has to be loaded into the server).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "ddbstream_fdw.h"
#include "page_peek.h"
#include "streams_api.h"

extern int	LLVMFuzzerRunDriver(int *argc, char ***argv,
								int (*cb) (const uint8_t *data, size_t size));

PG_FUNCTION_INFO_V1(ddbstream_fdw_fuzz);

typedef void (*FuzzTarget) (const char *data, size_t size);

static FuzzTarget target;
static MemoryContext input_cxt;

/* The column types worth trying for a field: the checker says which fit. */
static const Oid candidate_types[] = {
	TEXTOID, NUMERICOID, INT4OID, INT8OID, TIMESTAMPTZOID, JSONBOID, JSONOID, BOOLOID
};
static bool field_type_ok[DDB_FIELD_COUNT][lengthof(candidate_types)];

/* Attribute columns of each supported type. */
static const Oid attribute_types[] = {
	NUMERICOID, INT2OID, INT4OID, INT8OID, FLOAT8OID, TEXTOID, BOOLOID,
	TIMESTAMPTZOID, JSONBOID
};
static const char *const attribute_names[] = {"id", "price", "n", "specs", "colors", "x"};

/*
 * The attribute column's value; one that does not convert is an ERROR,
 * forgotten.  (A function of its own: the caller's loop variables are not
 * live across the setjmp.)
 */
static void
try_attribute_datum(const DdbColumnInfo *col, DdbConversion *conv)
{
	bool		isnull;

	PG_TRY();
	{
		(void) ddb_attribute_datum(col, conv, &isnull);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(input_cxt);
		FlushErrorState();
	}
	PG_END_TRY();
}

static void
fuzz_get_records(const char *data, size_t size)
{
	DdbPagePeek peek;
	char	   *body;
	cJSON	   *json;
	cJSON	   *records;
	cJSON	   *record;
	const char *why;

	if (!ddb_json_check(data, size, &why))
		return;
	(void) ddb_page_peek(data, size, &peek);

	/*
	 * As streams_api.c does: \u0000 marked, a body with the mark refused.
	 * (A copy of all size bytes: the input may hold NUL bytes.)
	 */
	body = palloc(size + 1);
	memcpy(body, data, size);
	body[size] = '\0';
	if (ddb_mark_nuls(body, &size) < 0)
		return;
	json = cJSON_ParseWithLength(body, size);
	records = cJSON_IsObject(json) ? cJSON_GetObjectItemCaseSensitive(json, "Records") : NULL;
	if (!cJSON_IsArray(records))
		return;
	cJSON_ArrayForEach(record, records)
	{
		DdbConversion conv = {0};
		int			f;
		int			t;

		if (!cJSON_IsObject(record))
			continue;
		conv.record = record;
		conv.shard_id = "shardId-fuzz";
		for (f = 0; f < DDB_FIELD_COUNT; f++)
			for (t = 0; t < lengthof(candidate_types); t++)
			{
				bool		isnull;

				if (!field_type_ok[f][t])
					continue;
				/* U+0000 replaced (and, below, refused) */
				conv.nul_replacement = "\xef\xbf\xbd";
				(void) ddb_field_datum((DdbField) f, candidate_types[t], &conv,
									   DDB_IMAGE_PLAIN, &isnull);
				(void) ddb_field_datum((DdbField) f, candidate_types[t], &conv,
									   DDB_IMAGE_TYPED, &isnull);
			}
		for (t = 0; t < lengthof(attribute_types); t++)
		{
			int			a;

			for (a = 0; a < lengthof(attribute_names); a++)
			{
				DdbColumnInfo col;

				memset(&col, 0, sizeof(col));
				col.name = "fuzz";
				col.field = DDB_FIELD_ATTRIBUTE;
				col.typid = attribute_types[t];
				col.typmod = -1;
				col.attribute = attribute_names[a];
				ddb_check_attribute_column(&col);
				conv.nul_replacement = (a % 2) ? NULL : "";
				try_attribute_datum(&col, &conv);
			}
		}
	}
}

static void
fuzz_describe_stream(const char *data, size_t size)
{
	cJSON	   *json;
	List	   *shards = NIL;
	DdbSeqBounds bounds;
	int			nskipped;
	const char *why;

	if (!ddb_json_check(data, size, &why))
		return;
	json = cJSON_ParseWithLength(data, size);
	if (!cJSON_IsObject(json))
		return;
	(void) ddb_parse_describe_stream(json, NULL, &shards);

	memset(&bounds, 0, sizeof(bounds));
	(void) ddb_plan_shards(shards, DDB_ITER_TRIM_HORIZON, &bounds, &nskipped);
	(void) ddb_plan_shards(shards, DDB_ITER_LATEST, &bounds, &nskipped);
	bounds.lower = "100000000000000000002";
	bounds.lower_after = true;
	bounds.upper = "100000000000000000031";
	(void) ddb_plan_shards(shards, DDB_ITER_AFTER_SEQUENCE_NUMBER, &bounds, &nskipped);
}

/*
 * Run fn(arg, size) in an internal subtransaction; an ERROR rolls it back
 * and is forgotten.  False when there was an ERROR.
 */
static bool
in_subtransaction(void (*fn) (const char *arg, size_t size), const char *arg,
				  size_t size)
{
	MemoryContext old = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;	/* set after the longjmp, read after it */

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(old);
	PG_TRY();
	{
		fn(arg, size);
		MemoryContextSwitchTo(old);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	CurrentResourceOwner = owner;
	return ok;
}

/* One input: an exact-size copy, so reading past it is reading past the end. */
static int
run_one(const uint8_t *data, size_t size)
{
	MemoryContext old = MemoryContextSwitchTo(input_cxt);
	char	   *copy = palloc(size + 1);

	memcpy(copy, data, size);
	copy[size] = '\0';
	(void) in_subtransaction(target, copy, size);
	MemoryContextSwitchTo(old);
	MemoryContextReset(input_cxt);
	return 0;
}

/* For the type check: f and t packed into the "size". */
static void
check_field_type(const char *unused, size_t packed)
{
	ddb_check_column_type((DdbField) (packed / 100), candidate_types[packed % 100], "fuzz");
}

Datum
ddbstream_fdw_fuzz(PG_FUNCTION_ARGS)
{
	const char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ArrayType  *args = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	int			nelems;
	int			argc;
	char	  **argv;
	int			f,
				t;

	if (strcmp(name, "get_records") == 0)
		target = fuzz_get_records;
	else if (strcmp(name, "describe_stream") == 0)
		target = fuzz_describe_stream;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown fuzz target \"%s\"", name),
				 errhint("The targets are get_records and describe_stream.")));

	/* which field and column type pairs the converter accepts */
	for (f = 0; f < DDB_FIELD_COUNT; f++)
		for (t = 0; t < lengthof(candidate_types); t++)
			field_type_ok[f][t] = in_subtransaction(check_field_type, NULL,
													(size_t) f * 100 + t);

	{
		int			pairs = 0;

		for (f = 0; f < DDB_FIELD_COUNT; f++)
			for (t = 0; t < lengthof(candidate_types); t++)
				pairs += field_type_ok[f][t];
		elog(LOG, "fuzz target %s: %d fields in %d field and column type pairs",
			 name, DDB_FIELD_COUNT, pairs);
	}

	deconstruct_array(args, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &nelems);
	argc = nelems + 1;
	argv = palloc(sizeof(char *) * (argc + 1));
	argv[0] = "ddbstream_fdw_fuzz";
	for (int i = 0; i < nelems; i++)
		argv[i + 1] = TextDatumGetCString(elems[i]);
	argv[argc] = NULL;

	input_cxt = AllocSetContextCreate(TopMemoryContext, "fuzz input",
									  ALLOCSET_DEFAULT_SIZES);
	PG_RETURN_INT32(LLVMFuzzerRunDriver(&argc, &argv, run_one));
}
