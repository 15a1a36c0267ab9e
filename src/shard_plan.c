/*-------------------------------------------------------------------------
 *
 * shard_plan.c
 *		  Which shards a scan reads, in which order, and where each starts.
 *
 * Shards are read parents first: each shard's depth in its lineage is
 * counted (a parent that DescribeStream no longer lists was trimmed away and
 * counts as finished), and shards are ordered by depth, then by starting
 * sequence number.  Sequence numbers are compared as numbers, by digit
 * strings, never as text or as a 64-bit integer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/value.h"

#include "ddbstream_fdw.h"

typedef struct ShardNode
{
	DdbShard   *shard;
	int			depth;			/* -1 until computed, -2 while computing */
} ShardNode;

/*
 * Compare two sequence numbers numerically: leading zeros are ignored, a
 * longer number is larger, numbers of one length compare digit by digit.
 */
int
ddb_seq_cmp(const char *a, const char *b)
{
	size_t		la,
				lb;

	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/* GetShardIterator wants 21 to 40 characters: pad with leading zeros. */
char *
ddb_seq_pad(const char *seq)
{
	size_t		len = strlen(seq);

	if (len >= DDB_SEQ_MIN_DIGITS)
		return pstrdup(seq);
	return psprintf("%0*d%s", (int) (DDB_SEQ_MIN_DIGITS - len), 0, seq);
}

static int
node_cmp_id(const void *a, const void *b)
{
	return strcmp(((const ShardNode *) a)->shard->shard_id,
				  ((const ShardNode *) b)->shard->shard_id);
}

static int
node_cmp_lineage(const void *a, const void *b)
{
	const ShardNode *x = a;
	const ShardNode *y = b;
	int			c;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	c = ddb_seq_cmp(x->shard->starting_seq, y->shard->starting_seq);
	return c != 0 ? c : strcmp(x->shard->shard_id, y->shard->shard_id);
}

static ShardNode *
find_node(ShardNode *nodes, int n, const char *shard_id)
{
	DdbShard	key_shard;
	ShardNode	key;

	key_shard.shard_id = (char *) shard_id;
	key.shard = &key_shard;
	return bsearch(&key, nodes, n, sizeof(ShardNode), node_cmp_id);
}

/*
 * Count the depth of every node in its lineage.  A lineage comes from the
 * endpoint and may be a chain hundreds of thousands long, or a cycle, so it
 * is walked with a stack of our own, not by recursion: from each node whose
 * depth is unknown, up through its ancestors to one whose depth is known (or
 * that has no listed parent), then back down.  Each node is visited once.
 */
static void
compute_depths(ShardNode *nodes, int n)
{
	ShardNode **path = palloc(sizeof(ShardNode *) * n);
	int			i;

	for (i = 0; i < n; i++)
	{
		ShardNode  *node = &nodes[i];
		int			len = 0;
		int			depth;

		/* up: mark the unknown ancestors as being walked (-2) */
		while (node != NULL && node->depth == -1)
		{
			node->depth = -2;
			path[len++] = node;
			node = node->shard->parent_shard_id ?
				find_node(nodes, n, node->shard->parent_shard_id) : NULL;
		}
		if (node != NULL && node->depth == -2)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_REPLY_HANDLE),
					 errmsg("DynamoDB Streams DescribeStream returned a shard lineage with a cycle"),
					 errdetail_internal("Shard \"%s\" is its own ancestor.",
										ddb_printable(node->shard->shard_id,
													  strlen(node->shard->shard_id), 200))));
		/* down: a parent that is not listed was trimmed away (depth 0) */
		depth = node != NULL ? node->depth + 1 : 0;
		while (len > 0)
			path[--len]->depth = depth++;
		CHECK_FOR_INTERRUPTS();
	}
	pfree(path);
}

/* A shard listed twice would be read twice: refuse the listing. */
static void
check_unique_ids(ShardNode *nodes, int n)
{
	int			i;

	for (i = 1; i < n; i++)
		if (strcmp(nodes[i - 1].shard->shard_id, nodes[i].shard->shard_id) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_REPLY_HANDLE),
					 errmsg("DynamoDB Streams DescribeStream returned an invalid response"),
					 errdetail_internal("Shard \"%s\" is listed more than once.",
										ddb_printable(nodes[i].shard->shard_id,
													  strlen(nodes[i].shard->shard_id), 200))));
}

/*
 * Where to start reading a shard, or false when the shard holds nothing the
 * scan wants (then it gets no request at all).
 *
 * latest: only shards open now are read, from their tip.  Their children
 * appear later and would be read from their start by a later scan.
 * A lower bound N (iterator options at/after_sequence_number, or a pushed
 * seq > / >= / = / IN): a shard that ends before N is skipped, the shard
 * whose range holds N starts at (after) N, a shard that starts after N is
 * read from its start (TRIM_HORIZON: GetShardIterator rejects a number below
 * a shard's start).  An upper bound skips shards that start above it; a
 * shard list skips the shards not in it.
 */
static bool
shard_start(DdbShard *shard, DdbIteratorType type, const DdbSeqBounds *b,
			DdbShardTask *task)
{
	task->shard = shard;
	task->start_seq = NULL;
	task->start = DDB_ITER_TRIM_HORIZON;

	if (b->empty)
		return false;
	if (b->has_shard_filter)
	{
		ListCell   *lc;
		bool		found = false;

		foreach(lc, b->shard_ids)
			if (strcmp(strVal(lfirst(lc)), shard->shard_id) == 0)
				found = true;
		if (!found)
			return false;
	}
	if (b->upper && ddb_seq_cmp(shard->starting_seq, b->upper) > 0)
		return false;

	if (type == DDB_ITER_LATEST)
	{
		task->start = DDB_ITER_LATEST;
		return shard->ending_seq == NULL;
	}
	if (b->lower)
	{
		if (shard->ending_seq)
		{
			int			c = ddb_seq_cmp(shard->ending_seq, b->lower);

			if (c < 0 || (c == 0 && b->lower_after))
				return false;
		}
		if (ddb_seq_cmp(b->lower, shard->starting_seq) >= 0)
		{
			task->start = b->lower_after ? DDB_ITER_AFTER_SEQUENCE_NUMBER :
				DDB_ITER_AT_SEQUENCE_NUMBER;
			task->start_seq = ddb_seq_pad(b->lower);
		}
	}
	return true;
}

/*
 * The shards to read, in lineage order, as a List of DdbShardTask.
 * *nskipped counts the shards that need no request at all.
 */
List *
ddb_plan_shards(List *shards, DdbIteratorType type, const DdbSeqBounds *bounds,
				int *nskipped)
{
	int			n = list_length(shards);
	ShardNode  *nodes;
	List	   *tasks = NIL;
	ListCell   *lc;
	int			i = 0;

	*nskipped = 0;
	if (n == 0)
		return NIL;

	nodes = palloc(sizeof(ShardNode) * n);
	foreach(lc, shards)
	{
		nodes[i].shard = (DdbShard *) lfirst(lc);
		nodes[i].depth = -1;
		i++;
	}
	qsort(nodes, n, sizeof(ShardNode), node_cmp_id);
	check_unique_ids(nodes, n);
	compute_depths(nodes, n);
	qsort(nodes, n, sizeof(ShardNode), node_cmp_lineage);

	for (i = 0; i < n; i++)
	{
		DdbShardTask *task = palloc0(sizeof(DdbShardTask));

		if (shard_start(nodes[i].shard, type, bounds, task))
			tasks = lappend(tasks, task);
		else
		{
			pfree(task);
			(*nskipped)++;
		}
	}
	pfree(nodes);
	return tasks;
}
