/*-------------------------------------------------------------------------
 *
 * streams_api.h
 *		  The DynamoDB and DynamoDB Streams operations a stream is read with
 *		  (streams_api.c), over the AWS client.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DDB_STREAMS_API_H
#define DDB_STREAMS_API_H

#include "aws_client.h"
#include "ddbstream_fdw.h"

typedef struct DdbTokenSet DdbTokenSet;
extern DdbTokenSet *ddb_token_set_create(void);
extern bool ddb_token_set_add(DdbTokenSet *set, const char *token);
extern void ddb_token_set_free(DdbTokenSet *set);
extern cJSON *ddb_describe_table(DdbClient *client, const char *table_name,
								 cJSON **response);
extern char *ddb_describe_table_stream(DdbClient *client,
									   const char *table_name, bool missing_ok);
extern List *ddb_list_tables(DdbClient *client);
extern List *ddb_describe_stream(DdbClient *client, const char *stream_arn);
extern char *ddb_parse_describe_stream(cJSON *response, const char *start_after,
									   List **shards);
extern DdbRequest *ddb_get_shard_iterator_start(DdbClient *client,
												const char *stream_arn,
												const char *shard_id,
												DdbIteratorType type,
												const char *seq);
extern char *ddb_get_shard_iterator_parse(DdbClient *client, DdbRequest *req,
										  DdbAwsError *aws_error);
extern DdbRequest *ddb_get_records_start(DdbClient *client,
										 const char *iterator, int limit);
extern cJSON *ddb_get_records_parse(DdbClient *client, DdbRequest *req,
									int limit, char **next_iterator,
									DdbAwsError *aws_error);

#endif							/* DDB_STREAMS_API_H */
