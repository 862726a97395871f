/**
 * The current table's definition in the Glue catalog: `listings_current` as
 * an Iceberg v2 table in the processed bucket (under the stack's key, by the
 * bucket's default encryption), its schema the shared column list
 * (shared/src/current-table-sql.ts) with `(date, item_id)` as identifier,
 * partitioned by listing month, written as Snappy Parquet, merge-on-read.
 */
import { Aws, Duration } from 'aws-cdk-lib'
import * as glue from 'aws-cdk-lib/aws-glue'
import type { Construct } from 'constructs'
import { PROCESSED_PREFIXES } from '../../lambdas/ingest/src/output-keys.js'
import {
  CURRENT_TABLE_COLUMNS,
  CURRENT_TABLE_NAME,
  MERGE_KEY,
  PARTITION,
} from '../../shared/src/current-table-sql.js'
import type { Analytics } from './analytics.js'
import type { Storage } from './storage.js'

/**
 * Creates the Iceberg table (`IcebergTable` in `scope`) in the analytics
 * database, after the database.
 */
export function icebergTable(
  scope: Construct,
  { storage, analytics }: { readonly storage: Storage; readonly analytics: Analytics },
): glue.CfnTable {
  const location = `s3://${storage.processed.bucketName}/${PROCESSED_PREFIXES.currentTable}`
  const fieldId = (name: string) => CURRENT_TABLE_COLUMNS.findIndex((c) => c.name === name) + 1
  const table = new glue.CfnTable(scope, 'IcebergTable', {
    catalogId: Aws.ACCOUNT_ID,
    databaseName: analytics.databaseName,
    tableInput: {
      name: CURRENT_TABLE_NAME,
      description:
        'One row per (date, item_id) across all files, at its newest source (Iceberg, kept by MERGE)',
      tableType: 'EXTERNAL_TABLE',
    },
    openTableFormatInput: {
      icebergInput: {
        metadataOperation: 'CREATE',
        version: '2',
        icebergTableInput: {
          location,
          schema: {
            schemaId: 0,
            type: 'struct',
            fields: CURRENT_TABLE_COLUMNS.map((c, index) => ({
              id: index + 1,
              name: c.name,
              type: c.type,
              required: c.required,
              doc: c.doc,
            })),
            identifierFieldIds: MERGE_KEY.map(fieldId),
          },
          partitionSpec: {
            specId: 0,
            fields: [
              {
                fieldId: 1000,
                name: PARTITION.name,
                sourceId: fieldId(PARTITION.sourceColumn),
                transform: PARTITION.transform,
              },
            ],
          },
          writeOrder: {
            orderId: 1,
            fields: MERGE_KEY.map((name) => ({
              sourceId: fieldId(name),
              transform: 'identity',
              direction: 'asc',
              nullOrder: 'nulls-last',
            })),
          },
          properties: {
            'write.format.default': 'parquet',
            'write.parquet.compression-codec': 'snappy',
            // MERGE rewrites only the data files it touches (merge-on-read delete files);
            // OPTIMIZE folds them back in.
            'write.merge.mode': 'merge-on-read',
            'write.update.mode': 'merge-on-read',
            'write.delete.mode': 'merge-on-read',
            'history.expire.max-snapshot-age-ms': String(Duration.days(7).toMilliseconds()),
            'write.target-file-size-bytes': String(128 * 1024 ** 2),
          },
        },
      },
    },
  })
  table.addResourceDependency(analytics.database)
  return table
}
