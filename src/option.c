/*-------------------------------------------------------------------------
 *
 * option.c
 *		  Option table, validator and the typed options struct of ddbstream_fdw.
 *
 * Every option value is checked here, so a bad value fails at CREATE or
 * ALTER time rather than at the first scan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "catalog/pg_attribute.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "ddbstream_fdw.h"

#define DEFAULT_PAGE_SIZE			1000
#define DEFAULT_EMPTY_PAGE_LIMIT	3
#define DEFAULT_CONNECT_TIMEOUT_MS	10000
#define DEFAULT_REQUEST_TIMEOUT_MS	30000
#define DEFAULT_MAX_RETRIES			8
#define DEFAULT_RETRY_BASE_MS		100
#define DEFAULT_RETRY_MAX_MS		20000
/*
 * The largest response body a request accepts: far above any legitimate
 * answer (a GetRecords page holds at most 1 MB of records), far below what
 * would hurt the database server.
 */
#define DEFAULT_MAX_RESPONSE_BYTES	(16 * 1024 * 1024)
#define MIN_MAX_RESPONSE_BYTES		1024
#define MAX_MAX_RESPONSE_BYTES		(1024 * 1024 * 1024)
/* Shards read at once, each with at most one request in flight. */
#define DEFAULT_MAX_CONCURRENCY	4
#define MAX_CONCURRENCY			64

typedef struct DdbOption
{
	const char *name;
	Oid			catalog;		/* where the option may appear */
} DdbOption;

static const DdbOption valid_options[] = {
	/* server */
	{"region", ForeignServerRelationId},
	{"endpoint", ForeignServerRelationId},
	{"streams_endpoint", ForeignServerRelationId},
	{"connect_timeout", ForeignServerRelationId},
	{"request_timeout", ForeignServerRelationId},
	{"max_retries", ForeignServerRelationId},
	{"retry_base_ms", ForeignServerRelationId},
	{"retry_max_ms", ForeignServerRelationId},
	{"max_concurrency", ForeignServerRelationId},
	{"max_response_bytes", ForeignServerRelationId},
	{"ca_file", ForeignServerRelationId},
	{"use_ambient_credentials", ForeignServerRelationId},
	{"credential_source", ForeignServerRelationId},
	{"profile", ForeignServerRelationId},
	/* user mapping */
	{"access_key_id", UserMappingRelationId},
	{"secret_access_key", UserMappingRelationId},
	{"session_token", UserMappingRelationId},
	/* foreign table */
	{"table_name", ForeignTableRelationId},
	{"stream_arn", ForeignTableRelationId},
	{"iterator_type", ForeignTableRelationId},
	{"sequence_number", ForeignTableRelationId},
	{"page_size", ForeignTableRelationId},
	{"image_format", ForeignTableRelationId},
	{"empty_page_limit", ForeignTableRelationId},
	{"on_trimmed", ForeignTableRelationId},
	{"consumer", ForeignTableRelationId},
	{"max_concurrency", ForeignTableRelationId},
	/* column */
	{"field", AttributeRelationId},
	{"attribute", AttributeRelationId},
	{NULL, InvalidOid}
};

static const char *const iterator_type_names[] = {
	[DDB_ITER_TRIM_HORIZON] = "trim_horizon",
	[DDB_ITER_LATEST] = "latest",
	[DDB_ITER_AT_SEQUENCE_NUMBER] = "at_sequence_number",
	[DDB_ITER_AFTER_SEQUENCE_NUMBER] = "after_sequence_number",
};

PG_FUNCTION_INFO_V1(ddbstream_fdw_validator);

static bool is_valid_option(const char *name, Oid catalog);
static char *valid_option_list(Oid catalog);
static void check_region(const char *value);
static void check_url(const char *option, const char *value);
static int	check_int(DefElem *def, int min, int max);
static void check_access_key_id(const char *value);
static void check_table_name(const char *value);
static void check_stream_arn(const char *value);
static DdbIteratorType parse_iterator_type(const char *value);
static DdbImageFormat parse_image_format(const char *value);
static void check_sequence_number(const char *value);
static bool parse_on_trimmed(const char *value);
static void check_table_options(List *options);
static void check_user_mapping_options(List *options);
static char *default_endpoint(const char *service_prefix, const char *region);
static void resolve_options(ForeignServer *server, List *table_options,
							DdbStreamOptions *opts);

/*
 * Validate the options of a CREATE/ALTER of a server, user mapping, foreign
 * table or column.  PostgreSQL passes the complete resulting option list, so
 * rules that relate options to each other are checked here too.
 */
Datum
ddbstream_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	bool		have_region = false;
	bool		ambient = false;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *name = def->defname;

		if (!is_valid_option(name, catalog))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", name),
					 errhint("Valid options in this context are: %s.",
							 valid_option_list(catalog))));

		if (strcmp(name, "region") == 0)
		{
			check_region(defGetString(def));
			have_region = true;
		}
		else if (strcmp(name, "endpoint") == 0 ||
				 strcmp(name, "streams_endpoint") == 0)
			check_url(name, defGetString(def));
		else if (strcmp(name, "ca_file") == 0)
		{
			if (!superuser())
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("permission denied to set option \"ca_file\""),
						 errdetail("Only superusers may make the database server read a file.")));
			if (!is_absolute_path(defGetString(def)))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"ca_file\": \"%s\"", defGetString(def)),
						 errhint("Give the absolute path of a PEM file of CA certificates.")));
		}
		else if (strcmp(name, "use_ambient_credentials") == 0)
			ambient = defGetBoolean(def);
		else if (strcmp(name, "credential_source") == 0)
		{
			const char *v = defGetString(def);

			if (strcmp(v, "chain") != 0 && strcmp(v, "environment") != 0 &&
				strcmp(v, "shared_file") != 0 && strcmp(v, "instance_metadata") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"credential_source\": \"%s\"", v),
						 errhint("Valid values are \"chain\", \"environment\", \"shared_file\" and \"instance_metadata\".")));
		}
		else if (strcmp(name, "profile") == 0)
		{
			if (defGetString(def)[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
						 errmsg("option \"profile\" must not be empty")));
		}
		else if (strcmp(name, "connect_timeout") == 0 ||
				 strcmp(name, "request_timeout") == 0)
			(void) check_int(def, 1, 3600 * 1000);
		else if (strcmp(name, "max_retries") == 0)
			(void) check_int(def, 0, 100);
		else if (strcmp(name, "max_concurrency") == 0)
			(void) check_int(def, 1, MAX_CONCURRENCY);
		else if (strcmp(name, "max_response_bytes") == 0)
			(void) check_int(def, MIN_MAX_RESPONSE_BYTES, MAX_MAX_RESPONSE_BYTES);
		else if (strcmp(name, "retry_base_ms") == 0 ||
				 strcmp(name, "retry_max_ms") == 0)
			(void) check_int(def, 1, 600000);
		else if (strcmp(name, "on_trimmed") == 0)
			(void) parse_on_trimmed(defGetString(def));
		else if (strcmp(name, "access_key_id") == 0)
			check_access_key_id(defGetString(def));
		else if (strcmp(name, "secret_access_key") == 0 ||
				 strcmp(name, "session_token") == 0)
		{
			if (defGetString(def)[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
						 errmsg("option \"%s\" must not be empty", name)));
		}
		else if (strcmp(name, "table_name") == 0)
			check_table_name(defGetString(def));
		else if (strcmp(name, "stream_arn") == 0)
			check_stream_arn(defGetString(def));
		else if (strcmp(name, "iterator_type") == 0)
			(void) parse_iterator_type(defGetString(def));
		else if (strcmp(name, "sequence_number") == 0)
			check_sequence_number(defGetString(def));
		else if (strcmp(name, "page_size") == 0)
			(void) check_int(def, 1, 1000);
		else if (strcmp(name, "empty_page_limit") == 0)
			(void) check_int(def, 1, 1000);
		else if (strcmp(name, "image_format") == 0)
			(void) parse_image_format(defGetString(def));
		else if (strcmp(name, "consumer") == 0)
		{
			if (defGetString(def)[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
						 errmsg("option \"consumer\" must not be empty"),
						 errhint("Name the consumer, as in OPTIONS (consumer 'mirror').")));
		}
		else if (strcmp(name, "attribute") == 0)
		{
			if (defGetString(def)[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
						 errmsg("option \"attribute\" must not be empty")));
			if (list_length(options) > 1)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("options \"field\" and \"attribute\" cannot both be set"),
						 errhint("A column holds either a field of the stream record or an attribute of the item.")));
		}
		else if (strcmp(name, "field") == 0)
		{
			if (ddb_field_by_name(defGetString(def)) < 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("invalid value for option \"field\": \"%s\"",
								defGetString(def)),
						 errhint("Valid fields are: %s.", ddb_field_name_list())));
		}
	}

	/*
	 * A server that signs with the database server's own credentials is a
	 * superuser's decision, and so is every later change to it: whoever can
	 * change its endpoint could send those credentials' signatures anywhere.
	 */
	if (catalog == ForeignServerRelationId && ambient && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to set or keep option \"use_ambient_credentials\""),
				 errdetail("Only superusers may let a server sign with the database server's own AWS credentials, or change the options of such a server."),
				 errhint("Ask a superuser, or use a user mapping with access_key_id and secret_access_key.")));
	if (catalog == ForeignServerRelationId && !have_region)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("option \"region\" is required for a ddbstream_fdw server"),
				 errhint("Add the AWS region of the DynamoDB table, as in OPTIONS (region 'us-east-1').")));
	if (catalog == ForeignTableRelationId)
		check_table_options(options);
	if (catalog == UserMappingRelationId)
		check_user_mapping_options(options);

	PG_RETURN_VOID();
}

static bool
is_valid_option(const char *name, Oid catalog)
{
	const DdbOption *opt;

	for (opt = valid_options; opt->name; opt++)
		if (opt->catalog == catalog && strcmp(opt->name, name) == 0)
			return true;
	return false;
}

static char *
valid_option_list(Oid catalog)
{
	StringInfoData buf;
	const DdbOption *opt;

	initStringInfo(&buf);
	for (opt = valid_options; opt->name; opt++)
	{
		if (opt->catalog != catalog)
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, opt->name);
	}
	return buf.len > 0 ? buf.data : pstrdup("<none>");
}

static void
check_region(const char *value)
{
	const char *p;

	for (p = value; *p; p++)
		if (!(islower((unsigned char) *p) || isdigit((unsigned char) *p) || *p == '-'))
			break;
	if (value[0] == '\0' || *p != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"region\": \"%s\"", value),
				 errhint("A region is lower-case letters, digits and hyphens, such as \"us-east-1\".")));
}

/*
 * An endpoint is an http or https URL with a host and nothing that could hide
 * a secret or change the request: no user information, query or fragment.
 */
static void
check_url(const char *option, const char *value)
{
	const char *rest;
	const char *host_end;

	if (strncmp(value, "https://", 8) == 0)
		rest = value + 8;
	else if (strncmp(value, "http://", 7) == 0)
		rest = value + 7;
	else
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", option, value),
				 errhint("The endpoint must be an http:// or https:// URL, such as \"https://dynamodb.us-east-1.amazonaws.com\".")));

	host_end = rest + strcspn(rest, "/");
	if (host_end == rest || strpbrk(value, "?#@ ") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", option, value),
				 errhint("The endpoint must name a host and may not contain user information, a query or a fragment.")));

	if (strncmp(value, "http://", 7) == 0)
	{
		char	   *host = pnstrdup(rest, host_end - rest);
		char	   *colon = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');

		if (host[0] == '[' && colon)
			*++colon = '\0';	/* [::1]:8000 -> [::1] */
		else if (colon)
			*colon = '\0';
		if (pg_strcasecmp(host, "localhost") != 0 &&
			strncmp(host, "127.", 4) != 0 && strcmp(host, "[::1]") != 0)
			ereport(WARNING,
					(errmsg("option \"%s\" sends requests to \"%s\" without TLS", option, host),
					 errdetail("Signed requests, the stream's records and any session token travel in clear text."),
					 errhint("Use an https:// URL, unless the host is a local emulator.")));
	}
}

static int
check_int(DefElem *def, int min, int max)
{
	int			result;
	const char *value = defGetString(def);

	if (!parse_int(value, &result, 0, NULL) || result < min || result > max)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", def->defname, value),
				 errhint("Valid values are integers from %d to %d.", min, max)));
	return result;
}

static void
check_access_key_id(const char *value)
{
	const char *p;

	for (p = value; *p; p++)
		if (!isalnum((unsigned char) *p))
			break;
	if (value[0] == '\0' || *p != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("invalid value for option \"access_key_id\""),
				 errhint("An AWS access key ID consists of letters and digits only.")));
}

/* DynamoDB table names: 3 to 255 of [a-zA-Z0-9_.-]. */
static void
check_table_name(const char *value)
{
	size_t		len = strlen(value);
	const char *p;

	for (p = value; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '.' || *p == '-'))
			break;
	if (len < 3 || len > 255 || *p != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"table_name\": \"%s\"", value),
				 errhint("DynamoDB table names are 3 to 255 letters, digits, underscores, dots and hyphens.")));
}

static void
check_stream_arn(const char *value)
{
	if (strncmp(value, "arn:", 4) != 0 ||
		strstr(value, ":table/") == NULL ||
		strstr(value, "/stream/") == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"stream_arn\": \"%s\"", value),
				 errhint("A stream ARN looks like \"arn:aws:dynamodb:us-east-1:123456789012:table/Phones/stream/2024-01-01T00:00:00.000\".")));
}

static DdbIteratorType
parse_iterator_type(const char *value)
{
	int			i;

	for (i = 0; i < lengthof(iterator_type_names); i++)
		if (pg_strcasecmp(value, iterator_type_names[i]) == 0)
			return (DdbIteratorType) i;
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("invalid value for option \"iterator_type\": \"%s\"", value),
			 errhint("Valid values are trim_horizon, latest, at_sequence_number and after_sequence_number.")));
	return DDB_ITER_TRIM_HORIZON;	/* keep compiler quiet */
}

const char *
ddb_iterator_type_name(DdbIteratorType type)
{
	return iterator_type_names[type];
}

DdbImageFormat
ddb_parse_image_format(const char *value)
{
	return parse_image_format(value);
}

static DdbImageFormat
parse_image_format(const char *value)
{
	if (pg_strcasecmp(value, "plain") == 0)
		return DDB_IMAGE_PLAIN;
	if (pg_strcasecmp(value, "typed") == 0)
		return DDB_IMAGE_TYPED;
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("invalid value for option \"image_format\": \"%s\"", value),
			 errhint("Valid values are plain and typed.")));
	return DDB_IMAGE_PLAIN;		/* keep compiler quiet */
}

/* on_trimmed: 'error' (false) or 'skip' (true). */
static bool
parse_on_trimmed(const char *value)
{
	if (pg_strcasecmp(value, "error") == 0)
		return false;
	if (pg_strcasecmp(value, "skip") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("invalid value for option \"on_trimmed\": \"%s\"", value),
			 errhint("Valid values are error and skip.")));
	return false;				/* keep compiler quiet */
}

static void
check_sequence_number(const char *value)
{
	size_t		len = strlen(value);

	if (len == 0 || len > DDB_SEQ_MAX_DIGITS || strspn(value, "0123456789") != len)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"sequence_number\": \"%s\"", value),
				 errhint("A sequence number is 1 to %d decimal digits.", DDB_SEQ_MAX_DIGITS)));
}

/* Rules that relate the options of a foreign table to each other. */
static void
check_table_options(List *options)
{
	DefElem    *table_name = NULL;
	DefElem    *stream_arn = NULL;
	DefElem    *sequence_number = NULL;
	DefElem    *consumer = NULL;
	DdbIteratorType type = DDB_ITER_TRIM_HORIZON;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "table_name") == 0)
			table_name = def;
		else if (strcmp(def->defname, "stream_arn") == 0)
			stream_arn = def;
		else if (strcmp(def->defname, "sequence_number") == 0)
			sequence_number = def;
		else if (strcmp(def->defname, "iterator_type") == 0)
			type = parse_iterator_type(defGetString(def));
		else if (strcmp(def->defname, "consumer") == 0)
			consumer = def;
	}

	if (table_name == NULL && stream_arn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("either option \"table_name\" or option \"stream_arn\" is required"),
				 errhint("Name the DynamoDB table, as in OPTIONS (table_name 'Phones'), to follow its latest stream.")));
	if (table_name != NULL && stream_arn != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("options \"table_name\" and \"stream_arn\" cannot both be set"),
				 errhint("Use table_name to follow the table's latest stream, or stream_arn to read one stream.")));

	if ((type == DDB_ITER_AT_SEQUENCE_NUMBER ||
		 type == DDB_ITER_AFTER_SEQUENCE_NUMBER) && sequence_number == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("iterator_type \"%s\" requires option \"sequence_number\"",
						ddb_iterator_type_name(type)),
				 errhint("Add the sequence number to start from, as in OPTIONS (sequence_number '4900000000000000000000001').")));
	if ((type == DDB_ITER_TRIM_HORIZON || type == DDB_ITER_LATEST) &&
		sequence_number != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"sequence_number\" is not allowed with iterator_type \"%s\"",
						ddb_iterator_type_name(type)),
				 errhint("Set iterator_type to at_sequence_number or after_sequence_number.")));

	/*
	 * A consumer's first scan would start at LATEST, and a shard that gave no
	 * record has no position to save: the next scan could not tell where the
	 * first one began, and would lose or repeat records.
	 */
	if (consumer != NULL && type == DDB_ITER_LATEST)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"consumer\" is not allowed with iterator_type \"latest\""),
				 errhint("A consumer starts at trim_horizon or at a sequence number. To skip what the stream holds now, scan the consumer once and discard the rows.")));
}

static void
check_user_mapping_options(List *options)
{
	bool		have_key = false;
	bool		have_secret = false;
	bool		have_token = false;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "access_key_id") == 0)
			have_key = true;
		else if (strcmp(def->defname, "secret_access_key") == 0)
			have_secret = true;
		else if (strcmp(def->defname, "session_token") == 0)
			have_token = true;
	}
	if (have_key != have_secret || (have_token && !have_key))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("options \"access_key_id\" and \"secret_access_key\" must be given together"),
				 errhint("A session_token is used only with both of them.")));
}

static char *
default_endpoint(const char *service_prefix, const char *region)
{
	return psprintf("https://%s.%s.amazonaws.com%s", service_prefix, region,
					strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
}

/*
 * Resolve every option of a foreign table and its server into opts, with
 * defaults filled in.  The values were checked by the validator.
 */
void
ddb_get_table_options(Oid foreigntableid, DdbStreamOptions *opts)
{
	ForeignTable *table = GetForeignTable(foreigntableid);

	resolve_options(GetForeignServer(table->serverid), table->options, opts);
}

/* The options of a server alone (IMPORT FOREIGN SCHEMA). */
void
ddb_get_server_options(ForeignServer *server, DdbStreamOptions *opts)
{
	resolve_options(server, NIL, opts);
}

static void
resolve_options(ForeignServer *server, List *table_options,
				DdbStreamOptions *opts)
{
	List	   *options = list_concat(list_copy(server->options), table_options);
	ListCell   *lc;

	memset(opts, 0, sizeof(*opts));
	opts->iterator_type = DDB_ITER_TRIM_HORIZON;
	opts->page_size = DEFAULT_PAGE_SIZE;
	opts->image_format = DDB_IMAGE_PLAIN;
	opts->empty_page_limit = DEFAULT_EMPTY_PAGE_LIMIT;
	opts->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	opts->request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS;
	opts->max_retries = DEFAULT_MAX_RETRIES;
	opts->retry_base_ms = DEFAULT_RETRY_BASE_MS;
	opts->retry_max_ms = DEFAULT_RETRY_MAX_MS;
	opts->max_concurrency = DEFAULT_MAX_CONCURRENCY;
	opts->max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *name = def->defname;

		if (strcmp(name, "region") == 0)
			opts->region = defGetString(def);
		else if (strcmp(name, "endpoint") == 0)
			opts->endpoint = defGetString(def);
		else if (strcmp(name, "streams_endpoint") == 0)
			opts->streams_endpoint = defGetString(def);
		else if (strcmp(name, "connect_timeout") == 0)
			opts->connect_timeout_ms = check_int(def, 1, 3600 * 1000);
		else if (strcmp(name, "request_timeout") == 0)
			opts->request_timeout_ms = check_int(def, 1, 3600 * 1000);
		else if (strcmp(name, "max_retries") == 0)
			opts->max_retries = check_int(def, 0, 100);
		else if (strcmp(name, "max_concurrency") == 0)
			opts->max_concurrency = check_int(def, 1, MAX_CONCURRENCY);
		else if (strcmp(name, "max_response_bytes") == 0)
			opts->max_response_bytes = check_int(def, MIN_MAX_RESPONSE_BYTES,
												 MAX_MAX_RESPONSE_BYTES);
		else if (strcmp(name, "ca_file") == 0)
			opts->ca_file = defGetString(def);
		else if (strcmp(name, "retry_base_ms") == 0)
			opts->retry_base_ms = check_int(def, 1, 600000);
		else if (strcmp(name, "retry_max_ms") == 0)
			opts->retry_max_ms = check_int(def, 1, 600000);
		else if (strcmp(name, "on_trimmed") == 0)
			opts->skip_trimmed = parse_on_trimmed(defGetString(def));
		else if (strcmp(name, "table_name") == 0)
			opts->table_name = defGetString(def);
		else if (strcmp(name, "stream_arn") == 0)
			opts->stream_arn = defGetString(def);
		else if (strcmp(name, "iterator_type") == 0)
			opts->iterator_type = parse_iterator_type(defGetString(def));
		else if (strcmp(name, "sequence_number") == 0)
			opts->sequence_number = defGetString(def);
		else if (strcmp(name, "page_size") == 0)
			opts->page_size = check_int(def, 1, 1000);
		else if (strcmp(name, "empty_page_limit") == 0)
			opts->empty_page_limit = check_int(def, 1, 1000);
		else if (strcmp(name, "image_format") == 0)
			opts->image_format = parse_image_format(defGetString(def));
		else if (strcmp(name, "consumer") == 0)
			opts->consumer = defGetString(def);
	}

	/* A server created before the validator existed could lack a region. */
	if (opts->region == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("server \"%s\" has no option \"region\"", server->servername)));

	if (opts->streams_endpoint == NULL)
		opts->streams_endpoint = opts->endpoint ? opts->endpoint :
			default_endpoint("streams.dynamodb", opts->region);
	if (opts->endpoint == NULL)
		opts->endpoint = default_endpoint("dynamodb", opts->region);
}

