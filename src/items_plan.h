/*-------------------------------------------------------------------------
 *
 * items_plan.h
 *		  The planner side of the items source: the operation a query needs
 *		  (items_plan.c) and the request its pushed values make at executor
 *		  start (items_request.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDB_ITEMS_PLAN_H
#define DDB_ITEMS_PLAN_H

#include "items.h"

struct ExprContext;

/* What a pushed condition says of a key attribute. */
typedef enum DdbKeyRole
{
	DDB_KEY_PK_EQ,
	DDB_KEY_PK_IN,
	DDB_KEY_SK_EQ,
	DDB_KEY_SK_IN,
	DDB_KEY_SK_LT,
	DDB_KEY_SK_LE,
	DDB_KEY_SK_GT,
	DDB_KEY_SK_GE,
	DDB_KEY_SK_PREFIX
} DdbKeyRole;

/* The operation chosen for a query, and the conditions it takes. */
typedef struct DdbItemsPlan
{
	DdbItemsApi api;
	List	   *exprs;			/* the pushed values (fdw_exprs) */
	List	   *roles;			/* and their DdbKeyRoles */
	char	   *explain;		/* the key condition for EXPLAIN, or NULL */
	bool		exact;			/* the request returns just the rows kept */
	List	   *keys;			/* the key schemas, or NIL: not looked up */
} DdbItemsPlan;

/* in items_plan.c */
extern void ddb_items_plan(List *restrictinfos, Index relid,
						   const DdbColumnInfo *columns, int ncolumns,
						   Relation rel, Oid userid, DdbItemsPlan *plan);
extern DdbTableKeys *ddb_items_describe(Relation rel,
										const DdbStreamOptions *opts,
										Oid userid, long *requests);
extern DdbTableKeys *ddb_items_keys_from_list(List *l);

/* in items_request.c */
extern DdbItemsRequest *ddb_items_request(DdbItemsApi api, List *roles,
										  List *value_states,
										  struct ExprContext *econtext,
										  const DdbTableKeys *keys,
										  bool *empty, bool *exact);
extern char *ddb_key_number_text(const char *s);
extern List *ddb_items_projection(const DdbColumnInfo *columns,
								  const bool *used, int ncolumns,
								  const DdbTableKeys *keys);

#endif							/* DDB_ITEMS_PLAN_H */
