/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *		  What the files of ddbstream_fdw share to build against every
 *		  PostgreSQL from 15 to 19.
 *
 * A difference used in one file only stays there, under its own
 * PG_VERSION_NUM guard (create_foreignscan_path, ForeignScan.checkAsUser
 * and EXPLAIN's headers in ddbstream_fdw.c, pushJsonbValue in convert.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDB_PG_COMPAT_H
#define DDB_PG_COMPAT_H

#include "postgres.h"

/*
 * PostgreSQL 18 marks a function that does not return with pg_noreturn
 * before its declaration (C11's _Noreturn) and 19 no longer has the
 * attribute after it, pg_attribute_noreturn(); before 18, the attribute
 * does the same job in front.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * The "POSIX" collation, the "C" one under another name: 18 no longer
 * names its OID (951, fixed in the catalog's data since 10).
 */
#ifndef POSIX_COLLATION_OID
#define POSIX_COLLATION_OID 951
#endif

#endif							/* DDB_PG_COMPAT_H */
