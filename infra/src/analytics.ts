import { Aws } from 'aws-cdk-lib'
import * as athena from 'aws-cdk-lib/aws-athena'
import * as glue from 'aws-cdk-lib/aws-glue'
import { Construct } from 'constructs'
import type { PipelineConfig } from './config.js'
import { PROCESSED_PREFIXES, type Storage } from './storage.js'

/** The Glue table's columns: the contract's Parquet schema, in order. */
export const LISTINGS_TABLE_COLUMNS = [
  { name: 'date', type: 'date' },
  { name: 'seller_id', type: 'string' },
  { name: 'region', type: 'string' },
  { name: 'category', type: 'string' },
  { name: 'item_id', type: 'string' },
  { name: 'price_gbp', type: 'double' },
  { name: 'segment', type: 'string' },
] as const

/**
 * Makes the processed Parquet queryable in Athena as soon as a file lands: a
 * Glue table over `listings/` with partition projection on `dt` (no crawler,
 * no MSCK REPAIR), and a workgroup whose results are KMS-encrypted.
 */
export class Analytics extends Construct {
  readonly databaseName: string
  readonly tableName = 'listings'
  readonly workGroupName: string

  constructor(scope: Construct, id: string, props: { config: PipelineConfig; storage: Storage }) {
    super(scope, id)
    const { config, storage } = props
    this.databaseName = config.namePrefix.replaceAll('-', '_')
    this.workGroupName = `${config.namePrefix}-analysts`
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'Cleaned marketplace listings' },
    })
    const location = `s3://${storage.processed.bucketName}/${PROCESSED_PREFIXES.listings}`
    const table = new glue.CfnTable(this, 'ListingsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: this.tableName,
        description: 'One row per listing kept after cleaning and deduplication, enriched with segment',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          'parquet.compression': 'SNAPPY',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': '2020-01-01,NOW',
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'storage.location.template': `${location}dt=\${dt}/`,
        },
        partitionKeys: [{ name: 'dt', type: 'string' }],
        storageDescriptor: {
          location,
          columns: LISTINGS_TABLE_COLUMNS.map((column) => ({ ...column })),
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        },
      },
    })
    table.addResourceDependency(database)
    new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Queries over the processed listings',
      recursiveDeleteOption: config.removalPolicy === 'destroy',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        resultConfiguration: {
          outputLocation: `s3://${storage.processed.bucketName}/${PROCESSED_PREFIXES.athenaResults}`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: storage.key.keyArn },
        },
      },
    })
  }
}
