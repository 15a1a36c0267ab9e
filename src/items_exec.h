/*-------------------------------------------------------------------------
 *
 * items_exec.h
 *		  The executor and EXPLAIN side of an items table (items_exec.c),
 *		  called by the callbacks of ddbstream_fdw.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDB_ITEMS_EXEC_H
#define DDB_ITEMS_EXEC_H

#include "nodes/execnodes.h"

#include "items_plan.h"

struct ExplainState;

typedef struct DdbItemsNode DdbItemsNode;

extern List *ddb_items_fdw_private(List *retrieved_attrs,
								   const DdbItemsPlan *plan, long limit);
extern DdbItemsNode *ddb_items_node_begin(ForeignScanState *fss, Oid userid);
extern bool ddb_items_node_next(DdbItemsNode *node, Datum *values,
								bool *isnull);
extern void ddb_items_node_rescan(DdbItemsNode *node);
extern void ddb_items_node_end(DdbItemsNode *node);
extern void ddb_items_explain(ForeignScanState *fss, DdbItemsNode *node,
							  struct ExplainState *es);

#endif							/* DDB_ITEMS_EXEC_H */
