/*-------------------------------------------------------------------------
 *
 * option.c
 *		  The option table of ddbstream_fdw, its validator, and the typed
 *		  options struct resolved from it.
 *
 * One table, valid_options, says for each option where it may appear, its
 * type (with the range of an integer and the names of an enumeration), who
 * may set it and where resolution puts it in DdbStreamOptions.  The
 * validator and the resolution both walk it, so a rule is written once.
 * Every value is checked by the validator, so a bad value fails at CREATE
 * or ALTER time rather than at the first scan; the rules that relate
 * options to each other follow the table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "catalog/pg_attribute.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"

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
/* DynamoDB's largest TotalSegments */
#define MAX_SCAN_SEGMENTS		1000000

typedef enum DdbOptionType
{
	OPT_TEXT,					/* any text, or what its check function takes */
	OPT_NONEMPTY,				/* any text but the empty string */
	OPT_URL,					/* an endpoint URL: see check_url */
	OPT_INT,					/* decimal digits only, within [min, max] */
	OPT_BOOL,					/* what defGetBoolean takes */
	OPT_ENUM					/* one of values[] */
} DdbOptionType;

typedef void (*DdbOptionCheck) (const char *value);

typedef struct DdbOption
{
	const char *name;
	Oid			catalog;		/* where the option may appear */
	DdbOptionType type;
	DdbOptionCheck check;		/* OPT_TEXT: the rule of its value, or NULL */
	int			min;			/* OPT_INT: the valid range */
	int			max;
	const char *const *values;	/* OPT_ENUM: the names, in the C enum's order */
	int			nvalues;
	bool		case_sensitive; /* OPT_ENUM: names match exactly */
	bool		quote_in_hint;	/* OPT_ENUM: the hint quotes the names */
	int			default_value;	/* OPT_INT, OPT_ENUM: the value when unset */
	const char *hint;			/* OPT_NONEMPTY: the hint when it is empty */
	bool		alone;			/* no other option of its catalog beside it */
	size_t		offset;			/* where resolution puts it in
								 * DdbStreamOptions... */
	size_t		size;			/* ...and its size; 0: read elsewhere */
	const char *superuser_why;	/* only superusers may set it, because... */
} DdbOption;

#define SERVER	ForeignServerRelationId
#define MAPPING	UserMappingRelationId
#define TABLE	ForeignTableRelationId
#define COLUMN	AttributeRelationId

/* The member of DdbStreamOptions that resolution fills. */
#define STORE(member) \
	.offset = offsetof(DdbStreamOptions, member), \
	.size = sizeof(((DdbStreamOptions *) NULL)->member)
#define NAMES(array)	.values = (array), .nvalues = lengthof(array)
#define MILLISECONDS	.min = 1, .max = 3600 * 1000
#define RETRY_DELAY_MS	.min = 1, .max = 600000
/* max_concurrency may be set on the server and overridden by a table. */
#define CONCURRENCY \
	.min = 1, .max = MAX_CONCURRENCY, .default_value = DEFAULT_MAX_CONCURRENCY, \
	STORE(max_concurrency)

/* Enumerations resolve to their index here: keep the C enum's order. */
static const char *const iterator_type_names[] = {
	[DDB_ITER_TRIM_HORIZON] = "trim_horizon",
	[DDB_ITER_LATEST] = "latest",
	[DDB_ITER_AT_SEQUENCE_NUMBER] = "at_sequence_number",
	[DDB_ITER_AFTER_SEQUENCE_NUMBER] = "after_sequence_number",
};
static const char *const image_format_names[] = {
	[DDB_IMAGE_PLAIN] = "plain",
	[DDB_IMAGE_TYPED] = "typed",
};
static const char *const source_names[] = {
	[DDB_SOURCE_STREAM] = "stream",
	[DDB_SOURCE_ITEMS] = "items",
};
/* skip_trimmed: 'error' is false, 'skip' true */
static const char *const on_trimmed_names[] = {"error", "skip"};
/* read by credentials.c, spelled as in the AWS SDKs */
static const char *const credential_source_names[] = {
	"chain", "environment", "shared_file", "instance_metadata"
};

/* An enumeration resolves into an int-sized enum or a bool member. */
StaticAssertDecl(sizeof(DdbIteratorType) == sizeof(int),
				 "iterator_type is stored as an int");
StaticAssertDecl(sizeof(DdbImageFormat) == sizeof(int),
				 "image_format is stored as an int");
StaticAssertDecl(sizeof(DdbSource) == sizeof(int),
				 "source is stored as an int");

static void check_region(const char *value);
static void check_ca_file(const char *path);
static void check_proxy(const char *value);
static void check_access_key_id(const char *value);
static void check_table_name(const char *value);
static void check_stream_arn(const char *value);
static void check_sequence_number(const char *value);
static void check_field(const char *value);

/* Table options of one source only. */
static const char *const stream_only_options[] = {
	"iterator_type", "sequence_number", "empty_page_limit", "on_trimmed",
	"consumer", NULL
};
static const char *const items_only_options[] = {
	"index_name", "scan_segments", "consistent_read", NULL
};

static const DdbOption valid_options[] = {
	/* server */
	{"region", SERVER, OPT_TEXT, .check = check_region, STORE(region)},
	{"endpoint", SERVER, OPT_URL, STORE(endpoint)},
	{"streams_endpoint", SERVER, OPT_URL, STORE(streams_endpoint)},
	{"connect_timeout", SERVER, OPT_INT, MILLISECONDS,
		.default_value = DEFAULT_CONNECT_TIMEOUT_MS, STORE(connect_timeout_ms)},
	{"request_timeout", SERVER, OPT_INT, MILLISECONDS,
		.default_value = DEFAULT_REQUEST_TIMEOUT_MS, STORE(request_timeout_ms)},
	{"max_retries", SERVER, OPT_INT, .min = 0, .max = 100,
		.default_value = DEFAULT_MAX_RETRIES, STORE(max_retries)},
	{"retry_base_ms", SERVER, OPT_INT, RETRY_DELAY_MS,
		.default_value = DEFAULT_RETRY_BASE_MS, STORE(retry_base_ms)},
	{"retry_max_ms", SERVER, OPT_INT, RETRY_DELAY_MS,
		.default_value = DEFAULT_RETRY_MAX_MS, STORE(retry_max_ms)},
	{"max_concurrency", SERVER, OPT_INT, CONCURRENCY},
	{"max_response_bytes", SERVER, OPT_INT,
		.min = MIN_MAX_RESPONSE_BYTES, .max = MAX_MAX_RESPONSE_BYTES,
		.default_value = DEFAULT_MAX_RESPONSE_BYTES, STORE(max_response_bytes)},
	{"ca_file", SERVER, OPT_TEXT, .check = check_ca_file, STORE(ca_file),
		.superuser_why = "Only superusers may make the database server read a file."},
	{"proxy", SERVER, OPT_TEXT, .check = check_proxy, STORE(proxy),
		.superuser_why = "Only superusers may choose a proxy: it receives every request of the server, with its signature and any session token."},
	/* read by credentials.c; ambient credentials: see check_server_options */
	{"use_ambient_credentials", SERVER, OPT_BOOL},
	{"credential_source", SERVER, OPT_ENUM, NAMES(credential_source_names),
		.case_sensitive = true, .quote_in_hint = true},
	{"profile", SERVER, OPT_NONEMPTY},
	/* user mapping: read by credentials.c */
	{"access_key_id", MAPPING, OPT_TEXT, .check = check_access_key_id},
	{"secret_access_key", MAPPING, OPT_NONEMPTY},
	{"session_token", MAPPING, OPT_NONEMPTY},
	/* foreign table */
	{"table_name", TABLE, OPT_TEXT, .check = check_table_name, STORE(table_name)},
	{"stream_arn", TABLE, OPT_TEXT, .check = check_stream_arn, STORE(stream_arn)},
	{"iterator_type", TABLE, OPT_ENUM, NAMES(iterator_type_names),
		.default_value = DDB_ITER_TRIM_HORIZON, STORE(iterator_type)},
	{"sequence_number", TABLE, OPT_TEXT, .check = check_sequence_number,
		STORE(sequence_number)},
	{"page_size", TABLE, OPT_INT, .min = 1, .max = 1000,
		.default_value = DEFAULT_PAGE_SIZE, STORE(page_size)},
	{"image_format", TABLE, OPT_ENUM, NAMES(image_format_names),
		.default_value = DDB_IMAGE_PLAIN, STORE(image_format)},
	{"empty_page_limit", TABLE, OPT_INT, .min = 1, .max = 1000,
		.default_value = DEFAULT_EMPTY_PAGE_LIMIT, STORE(empty_page_limit)},
	{"on_trimmed", TABLE, OPT_ENUM, NAMES(on_trimmed_names), STORE(skip_trimmed)},
	{"consumer", TABLE, OPT_NONEMPTY, STORE(consumer),
		.hint = "Name the consumer, as in OPTIONS (consumer 'mirror')."},
	{"max_concurrency", TABLE, OPT_INT, CONCURRENCY},
	{"nul_replacement", TABLE, OPT_TEXT, STORE(nul_replacement)},
	{"source", TABLE, OPT_ENUM, NAMES(source_names),
		.default_value = DDB_SOURCE_STREAM, STORE(source)},
	{"index_name", TABLE, OPT_NONEMPTY, STORE(index_name),
		.hint = "Name a global or local secondary index of the table."},
	/* 0: as many segments as max_concurrency (see resolve_options) */
	{"scan_segments", TABLE, OPT_INT, .min = 1, .max = MAX_SCAN_SEGMENTS,
		STORE(scan_segments)},
	{"consistent_read", TABLE, OPT_BOOL, STORE(consistent_read)},
	/* column: read by ddbstream_fdw.c */
	{"field", COLUMN, OPT_TEXT, .check = check_field},
	/* a column holds a field of the record or an attribute of the item */
	{"attribute", COLUMN, OPT_NONEMPTY, .alone = true},
	{NULL, InvalidOid}
};

PG_FUNCTION_INFO_V1(ddbstream_fdw_validator);

static void check_option(DefElem *def, Oid catalog, List *options);
static const DdbOption *find_option(const char *name, Oid catalog);
static char *valid_option_list(Oid catalog);
static void check_value(const DdbOption *opt, DefElem *def);
static void check_url(const char *option, const char *value);
static bool split_authority(const char *authority, size_t len, char **host,
							char **port);
static void check_port(const char *option, const char *value, const char *port);
static bool parse_strict_int(const char *value, int *result);
static int	parse_int_option(const DdbOption *opt, const char *value);
static int	parse_enum_option(const DdbOption *opt, const char *value);
static char *enum_name_list(const DdbOption *opt);
static DefElem *last_option(List *options, const char *name);
static void check_server_options(List *options);
static void check_table_options(List *options);
static void check_iterator_options(List *options);
static void check_items_options(List *options);
static void check_not_set(List *options, const char *const *names,
						  const char *context, const char *hint);
static void check_user_mapping_options(List *options);
static void resolve_options(ForeignServer *server, List *table_options,
							DdbStreamOptions *opts);
static void set_defaults(DdbStreamOptions *opts);
static void resolve_option(DefElem *def, DdbStreamOptions *opts);
static void store_number(const DdbOption *opt, DdbStreamOptions *opts, int value);
static char *default_endpoint(const char *service_prefix, const char *region);

/*
 * Validate the options of a CREATE/ALTER of a server, user mapping, foreign
 * table or column.  PostgreSQL passes the complete resulting option list, so
 * the rules that relate options to each other are checked here too.
 */
Datum
ddbstream_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *lc;

	foreach(lc, options)
		check_option((DefElem *) lfirst(lc), catalog, options);

	if (catalog == SERVER)
		check_server_options(options);
	else if (catalog == TABLE)
		check_table_options(options);
	else if (catalog == MAPPING)
		check_user_mapping_options(options);

	PG_RETURN_VOID();
}

/* One option of the list: known here, set by whom it may be, a valid value. */
static void
check_option(DefElem *def, Oid catalog, List *options)
{
	const DdbOption *opt = find_option(def->defname, catalog);

	if (opt == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\"", def->defname),
				 errhint("Valid options in this context are: %s.",
						 valid_option_list(catalog))));
	if (opt->superuser_why && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to set option \"%s\"", opt->name),
				 errdetail("%s", opt->superuser_why)));
	check_value(opt, def);
	/* attribute: the one other option a column can have is field */
	if (opt->alone && list_length(options) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("options \"field\" and \"attribute\" cannot both be set"),
				 errhint("A column holds either a field of the stream record or an attribute of the item.")));
}

/* The option of that name in catalog (any catalog: InvalidOid), or NULL. */
static const DdbOption *
find_option(const char *name, Oid catalog)
{
	const DdbOption *opt;

	for (opt = valid_options; opt->name; opt++)
		if ((opt->catalog == catalog || catalog == InvalidOid) &&
			strcmp(opt->name, name) == 0)
			return opt;
	return NULL;
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

/* Raise an error unless def's value is one of opt's type. */
static void
check_value(const DdbOption *opt, DefElem *def)
{
	switch (opt->type)
	{
		case OPT_TEXT:
			if (opt->check)
				opt->check(defGetString(def));
			break;
		case OPT_NONEMPTY:
			if (defGetString(def)[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
						 errmsg("option \"%s\" must not be empty", opt->name),
						 opt->hint ? errhint("%s", opt->hint) : 0));
			break;
		case OPT_URL:
			check_url(opt->name, defGetString(def));
			break;
		case OPT_INT:
			(void) parse_int_option(opt, defGetString(def));
			break;
		case OPT_BOOL:
			(void) defGetBoolean(def);
			break;
		case OPT_ENUM:
			(void) parse_enum_option(opt, defGetString(def));
			break;
	}
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
 * An endpoint is an http or https URL with a host, an optional port from 1
 * to 65535, and nothing that could hide a secret or change the request: no
 * user information, query or fragment.
 */
static void
check_url(const char *option, const char *value)
{
	const char *rest;
	const char *host_end;
	char	   *host;
	char	   *port;

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
	if (host_end == rest || strpbrk(value, "?#@ ") != NULL ||
		!split_authority(rest, host_end - rest, &host, &port))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", option, value),
				 errhint("The endpoint must name a host and may not contain user information, a query or a fragment.")));
	check_port(option, value, port);

	if (strncmp(value, "http://", 7) == 0 &&
		pg_strcasecmp(host, "localhost") != 0 &&
		strncmp(host, "127.", 4) != 0 && strcmp(host, "[::1]") != 0)
		ereport(WARNING,
				(errmsg("option \"%s\" sends requests to \"%s\" without TLS", option, host),
				 errdetail("Signed requests, the stream's records and any session token travel in clear text."),
				 errhint("Use an https:// URL, unless the host is a local emulator.")));
}

/*
 * A proxy is http://, https://, socks5:// or socks5h:// with a host and an
 * optional port, nothing else: no user information (server options are
 * readable by every user), path, query or fragment.
 */
static void
check_proxy(const char *value)
{
	static const char *const schemes[] = {"http://", "https://", "socks5://", "socks5h://"};
	const char *rest = NULL;
	size_t		len;
	char	   *host;
	char	   *port;
	int			i;

	for (i = 0; i < lengthof(schemes) && rest == NULL; i++)
		if (pg_strncasecmp(value, schemes[i], strlen(schemes[i])) == 0)
			rest = value + strlen(schemes[i]);
	len = rest ? strcspn(rest, "/") : 0;
	if (rest == NULL || len == 0 || strpbrk(value, "?#@ ") != NULL ||
		(rest[len] != '\0' && strcmp(rest + len, "/") != 0) ||
		!split_authority(rest, len, &host, &port))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"proxy\": \"%s\"", value),
				 errhint("The proxy must be an http://, https://, socks5:// or socks5h:// URL with a host and an optional port, such as \"http://proxy.example.com:3128\", without user information or path.")));
	check_port("proxy", value, port);
}

/*
 * Split an authority ("host", "host:port", "[::1]:port") into its host and
 * port (NULL when none).  False when it is malformed.
 */
static bool
split_authority(const char *authority, size_t len, char **host, char **port)
{
	char	   *a = pnstrdup(authority, len);
	char	   *colon;

	if (a[0] == '[')
	{
		char	   *close = strchr(a, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return false;
		colon = close[1] == ':' ? close + 1 : NULL;
	}
	else
		colon = strchr(a, ':');
	*port = NULL;
	if (colon)
	{
		*colon = '\0';
		*port = colon + 1;
	}
	*host = a;
	return a[0] != '\0';
}

static void
check_port(const char *option, const char *value, const char *port)
{
	int			n;

	if (port && (!parse_strict_int(port, &n) || n < 1 || n > 65535))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", option, value),
				 errhint("A port is a number from 1 to 65535.")));
}

/*
 * The CA certificates must be a regular file the database server can read,
 * now: a path that is wrong fails the ALTER, not every scan.  Only a
 * superuser gets here (see valid_options), so this tells no one else
 * whether a file exists.
 */
static void
check_ca_file(const char *path)
{
	struct stat st;
	int			fd;

	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"ca_file\": \"%s\"", path),
				 errhint("Give the absolute path of a PEM file of CA certificates.")));
	if (stat(path, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access file \"%s\" of option \"ca_file\": %m", path)));
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"ca_file\": \"%s\" is not a regular file", path),
				 errhint("Give the absolute path of a PEM file of CA certificates.")));
	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" of option \"ca_file\" for reading: %m", path),
				 errhint("The database server's operating system user must be able to read it.")));
	CloseTransientFile(fd);
}

/*
 * The one integer parser of the options: decimal digits only, so that
 * '1.5', ' 5', '5 ', '+5', '0x10' and '5ms' are refused rather than
 * rounded, trimmed or read as hex or units (as parse_int would).
 */
static bool
parse_strict_int(const char *value, int *result)
{
	int64		n = 0;
	const char *p;

	if (*value == '\0')
		return false;
	for (p = value; *p; p++)
	{
		if (!isdigit((unsigned char) *p))
			return false;
		n = n * 10 + (*p - '0');
		if (n > PG_INT32_MAX)
			return false;
	}
	*result = (int) n;
	return true;
}

/* An integer option's value, checked against its range. */
static int
parse_int_option(const DdbOption *opt, const char *value)
{
	int			result;

	Assert(opt->type == OPT_INT);
	if (!parse_strict_int(value, &result) || result < opt->min || result > opt->max)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", opt->name, value),
				 errhint("Valid values are integers from %d to %d.", opt->min, opt->max)));
	return result;
}

/* An enumeration's value: the index of its name in opt->values. */
static int
parse_enum_option(const DdbOption *opt, const char *value)
{
	int			i;

	Assert(opt->type == OPT_ENUM);
	for (i = 0; i < opt->nvalues; i++)
		if ((opt->case_sensitive ? strcmp(value, opt->values[i]) :
			 pg_strcasecmp(value, opt->values[i])) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("invalid value for option \"%s\": \"%s\"", opt->name, value),
			 errhint("Valid values are %s.", enum_name_list(opt))));
	return 0;					/* keep compiler quiet */
}

/* "a, b and c", or "\"a\", \"b\" and \"c\"". */
static char *
enum_name_list(const DdbOption *opt)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < opt->nvalues; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, i == opt->nvalues - 1 ? " and " : ", ");
		appendStringInfo(&buf, opt->quote_in_hint ? "\"%s\"" : "%s",
						 opt->values[i]);
	}
	return buf.data;
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

static void
check_field(const char *value)
{
	if (ddb_field_by_name(value) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid value for option \"field\": \"%s\"", value),
				 errhint("Valid fields are: %s.", ddb_field_name_list())));
}

const char *
ddb_iterator_type_name(DdbIteratorType type)
{
	return iterator_type_names[type];
}

DdbImageFormat
ddb_parse_image_format(const char *value)
{
	return (DdbImageFormat) parse_enum_option(find_option("image_format", TABLE),
											  value);
}

/* The last option of that name in the list, or NULL. */
static DefElem *
last_option(List *options, const char *name)
{
	DefElem    *found = NULL;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			found = def;
	}
	return found;
}

/* Rules that relate the options of a server to each other and to its user. */
static void
check_server_options(List *options)
{
	DefElem    *ambient = last_option(options, "use_ambient_credentials");

	/*
	 * A server that signs with the database server's own credentials is a
	 * superuser's decision, and so is every later change to it: whoever can
	 * change its endpoint could send those credentials' signatures anywhere.
	 */
	if (ambient && defGetBoolean(ambient) && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to set or keep option \"use_ambient_credentials\""),
				 errdetail("Only superusers may let a server sign with the database server's own AWS credentials, or change the options of such a server."),
				 errhint("Ask a superuser, or use a user mapping with access_key_id and secret_access_key.")));
	if (last_option(options, "region") == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("option \"region\" is required for a ddbstream_fdw server"),
				 errhint("Add the AWS region of the DynamoDB table, as in OPTIONS (region 'us-east-1').")));
}

/* Rules that relate the options of a foreign table to each other. */
static void
check_table_options(List *options)
{
	DefElem    *table_name = last_option(options, "table_name");
	DefElem    *stream_arn = last_option(options, "stream_arn");

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
	if (last_option(options, "source") != NULL &&
		parse_enum_option(find_option("source", TABLE),
						  defGetString(last_option(options, "source"))) == DDB_SOURCE_ITEMS)
		check_items_options(options);
	else
	{
		check_not_set(options, items_only_options, "source 'stream'",
					  "These options read a table's items: add OPTIONS (source 'items').");
		check_iterator_options(options);
	}
}

/*
 * An items table names its DynamoDB table, and takes none of the options
 * that place a reading of the stream.
 */
static void
check_items_options(List *options)
{
	if (last_option(options, "stream_arn") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"stream_arn\" is not allowed with source 'items'"),
				 errhint("Name the DynamoDB table with table_name.")));
	check_not_set(options, stream_only_options, "source 'items'",
				  "These options place a reading of the stream; an items table reads the table's items.");
}

/* Raise an error if one of names[] is in options. */
static void
check_not_set(List *options, const char *const *names, const char *context,
			  const char *hint)
{
	for (; *names; names++)
		if (last_option(options, *names) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("option \"%s\" is not allowed with %s", *names, context),
					 errhint("%s", hint)));
}

/* Where a table starts reading: iterator_type, sequence_number, consumer. */
static void
check_iterator_options(List *options)
{
	DefElem    *iterator_type = last_option(options, "iterator_type");
	bool		sequence_number = last_option(options, "sequence_number") != NULL;
	DdbIteratorType type = DDB_ITER_TRIM_HORIZON;

	if (iterator_type)
		type = parse_enum_option(find_option("iterator_type", TABLE),
								 defGetString(iterator_type));
	if ((type == DDB_ITER_AT_SEQUENCE_NUMBER ||
		 type == DDB_ITER_AFTER_SEQUENCE_NUMBER) && !sequence_number)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("iterator_type \"%s\" requires option \"sequence_number\"",
						ddb_iterator_type_name(type)),
				 errhint("Add the sequence number to start from, as in OPTIONS (sequence_number '4900000000000000000000001').")));
	if ((type == DDB_ITER_TRIM_HORIZON || type == DDB_ITER_LATEST) &&
		sequence_number)
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
	if (last_option(options, "consumer") != NULL && type == DDB_ITER_LATEST)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"consumer\" is not allowed with iterator_type \"latest\""),
				 errhint("A consumer starts at trim_horizon or at a sequence number. To skip what the stream holds now, scan the consumer once and discard the rows.")));
}

static void
check_user_mapping_options(List *options)
{
	bool		have_key = last_option(options, "access_key_id") != NULL;
	bool		have_secret = last_option(options, "secret_access_key") != NULL;
	bool		have_token = last_option(options, "session_token") != NULL;

	if (have_key != have_secret || (have_token && !have_key))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("options \"access_key_id\" and \"secret_access_key\" must be given together"),
				 errhint("A session_token is used only with both of them.")));
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

/* A table's source, without resolving its other options. */
DdbSource
ddb_table_source(Oid foreigntableid)
{
	DefElem    *source = last_option(GetForeignTable(foreigntableid)->options,
									 "source");

	if (source == NULL)
		return DDB_SOURCE_STREAM;
	return (DdbSource) parse_enum_option(find_option("source", TABLE),
										 defGetString(source));
}

/* The server's options, then the table's: a table's max_concurrency wins. */
static void
resolve_options(ForeignServer *server, List *table_options,
				DdbStreamOptions *opts)
{
	ListCell   *lc;

	set_defaults(opts);
	foreach(lc, server->options)
		resolve_option((DefElem *) lfirst(lc), opts);
	foreach(lc, table_options)
		resolve_option((DefElem *) lfirst(lc), opts);

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
	if (opts->scan_segments == 0)
		opts->scan_segments = opts->max_concurrency;
	/* an items table reads DynamoDB's 1 MB pages unless page_size says */
	if (opts->source == DDB_SOURCE_ITEMS && last_option(table_options, "page_size") == NULL)
		opts->page_size = 0;
}

/* Every member the table resolves, at its default: NULL, or default_value. */
static void
set_defaults(DdbStreamOptions *opts)
{
	const DdbOption *opt;

	memset(opts, 0, sizeof(*opts));
	for (opt = valid_options; opt->name; opt++)
		if (opt->size > 0 && (opt->type == OPT_INT || opt->type == OPT_ENUM))
			store_number(opt, opts, opt->default_value);
}

/*
 * Put one option's value where the table says.  An option is looked up
 * whatever catalog it is in, as resolution always did, so that the options
 * of an object made before the validator checked them keep working.
 */
static void
resolve_option(DefElem *def, DdbStreamOptions *opts)
{
	const DdbOption *opt = find_option(def->defname, InvalidOid);

	if (opt == NULL || opt->size == 0)
		return;					/* not ours, or read elsewhere */
	switch (opt->type)
	{
		case OPT_INT:
			store_number(opt, opts, parse_int_option(opt, defGetString(def)));
			break;
		case OPT_ENUM:
			store_number(opt, opts, parse_enum_option(opt, defGetString(def)));
			break;
		case OPT_BOOL:
			store_number(opt, opts, defGetBoolean(def));
			break;
		case OPT_TEXT:
		case OPT_NONEMPTY:
		case OPT_URL:
			*(char **) ((char *) opts + opt->offset) = defGetString(def);
			break;
	}
}

/* An integer, an enumeration (int-sized) or a bool member. */
static void
store_number(const DdbOption *opt, DdbStreamOptions *opts, int value)
{
	char	   *member = (char *) opts + opt->offset;

	if (opt->size == sizeof(bool))
		*(bool *) member = (value != 0);
	else
	{
		Assert(opt->size == sizeof(int));
		*(int *) member = value;
	}
}

static char *
default_endpoint(const char *service_prefix, const char *region)
{
	return psprintf("https://%s.%s.amazonaws.com%s", service_prefix, region,
					strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
}

/*
 * The AWS client's settings, from the resolved options of a server.
 */
void
ddb_aws_config(const DdbStreamOptions *opts, DdbAwsConfig *config)
{
	config->region = opts->region;
	config->endpoint = opts->endpoint;
	config->streams_endpoint = opts->streams_endpoint;
	config->connect_timeout_ms = opts->connect_timeout_ms;
	config->request_timeout_ms = opts->request_timeout_ms;
	config->max_retries = opts->max_retries;
	config->retry_base_ms = opts->retry_base_ms;
	config->retry_max_ms = opts->retry_max_ms;
	config->max_response_bytes = opts->max_response_bytes;
	config->ca_file = opts->ca_file;
	config->proxy = opts->proxy;
}
