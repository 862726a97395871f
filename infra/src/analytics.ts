import { Aws, Stack } from 'aws-cdk-lib'
import * as athena from 'aws-cdk-lib/aws-athena'
import * as glue from 'aws-cdk-lib/aws-glue'
import { Construct } from 'constructs'
import { PROCESSED_PREFIXES } from '../../lambdas/ingest/src/output-keys.js'
import {
  ANALYST_QUERIES,
  CURRENT_TABLE_NAME,
  REPORTS_TABLE_NAME,
} from '../../shared/src/current-table-sql.js'
import type { PipelineConfig } from './config.js'
import { readCurrentTableConfig } from './current-table-config.js'
import type { Storage } from './storage.js'

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

/** The Glue table over the manifests, one row per source key: which version's Parquet is live. */
export const MANIFESTS_TABLE_NAME = 'listing_manifests'

/** `dt` partition projection over `<prefix>dt=YYYY-MM-DD/`: the upload date (the source's Last-Modified day, UTC). */
function dtProjection(location: string): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': '2020-01-01,NOW',
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    'storage.location.template': `${location}dt=\${dt}/`,
  }
}

/**
 * Makes the processed outputs queryable in Athena as soon as a file lands: a
 * Glue table over `listings/` (one row per file that mentioned a listing) and
 * one over the JSON reports, both with partition projection on `dt`, the
 * upload date (no crawler, no MSCK REPAIR); a table over the manifests (the
 * rebuild's source order); the analysts' saved queries; and a workgroup on
 * engine 3 (Iceberg MERGE) whose results are KMS-encrypted and whose queries
 * stop at a bytes-scanned cutoff. The current table itself is
 * `current-table.ts`.
 */
export class Analytics extends Construct {
  readonly databaseName: string
  readonly tableName = 'listings'
  readonly reportsTableName = REPORTS_TABLE_NAME
  readonly manifestsTableName = MANIFESTS_TABLE_NAME
  readonly workGroupName: string
  readonly workGroupArn: string
  readonly database: glue.CfnDatabase

  constructor(scope: Construct, id: string, props: { config: PipelineConfig; storage: Storage }) {
    super(scope, id)
    const { config, storage } = props
    this.databaseName = config.namePrefix.replaceAll('-', '_')
    this.workGroupName = `${config.namePrefix}-analysts`
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'Cleaned marketplace listings' },
    })
    this.database = database
    const location = `s3://${storage.processed.bucketName}/${PROCESSED_PREFIXES.listings}`
    const table = new glue.CfnTable(this, 'ListingsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: this.tableName,
        description: `One row per listing per processed file (dt = upload date, not listing date); ${CURRENT_TABLE_NAME} holds one row per listing`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          'parquet.compression': 'SNAPPY',
          ...dtProjection(location),
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

    const reportsLocation = `s3://${storage.processed.bucketName}/${PROCESSED_PREFIXES.reports}`
    const reports = new glue.CfnTable(this, 'ReportsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: REPORTS_TABLE_NAME,
        description: 'The data-quality report of every processed file (dt = upload date)',
        tableType: 'EXTERNAL_TABLE',
        parameters: { classification: 'json', ...dtProjection(reportsLocation) },
        partitionKeys: [{ name: 'dt', type: 'string' }],
        storageDescriptor: {
          location: reportsLocation,
          columns: REPORT_COLUMNS.map((column) => ({ ...column })),
          // The reports are pretty-printed JSON; the Ion SerDe reads a record across lines
          // (the Hive and OpenX JSON SerDes need one record per line).
          inputFormat: 'com.amazon.ionhiveserde.formats.IonInputFormat',
          outputFormat: 'com.amazon.ionhiveserde.formats.IonOutputFormat',
          serdeInfo: { serializationLibrary: 'com.amazon.ionhiveserde.IonHiveSerDe' },
        },
      },
    })
    reports.addResourceDependency(database)

    const manifestsLocation = `s3://${storage.processed.bucketName}/${PROCESSED_PREFIXES.manifests}`
    const manifests = new glue.CfnTable(this, 'ManifestsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: MANIFESTS_TABLE_NAME,
        description: 'Per source key: the version whose Parquet is live, and the last attempt',
        tableType: 'EXTERNAL_TABLE',
        parameters: { classification: 'json' },
        storageDescriptor: {
          location: manifestsLocation,
          columns: MANIFEST_COLUMNS.map((column) => ({ ...column })),
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
        },
      },
    })
    manifests.addResourceDependency(database)

    const { bytesScannedCutoffGiB } = readCurrentTableConfig(this.node)
    const workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Queries over the processed listings and the current table',
      recursiveDeleteOption: config.removalPolicy === 'destroy',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        // MERGE INTO, OPTIMIZE and VACUUM on Iceberg need engine 3.
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        bytesScannedCutoffPerQuery: bytesScannedCutoffGiB * 1024 ** 3,
        resultConfiguration: {
          outputLocation: `s3://${storage.processed.bucketName}/${PROCESSED_PREFIXES.athenaResults}`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: storage.key.keyArn },
        },
      },
    })
    this.workGroupArn = Stack.of(this).formatArn({
      service: 'athena',
      resource: 'workgroup',
      resourceName: this.workGroupName,
    })
    for (const [id, query] of Object.entries(ANALYST_QUERIES)) {
      const named = new athena.CfnNamedQuery(this, `Query${id[0]?.toUpperCase()}${id.slice(1)}`, {
        name: query.name,
        description: query.description,
        database: this.databaseName,
        workGroup: this.workGroupName,
        queryString: query.sql,
      })
      named.addResourceDependency(workGroup)
    }
  }
}

/** The report fields analysts query over time (the rest stay in the JSON). */
const REPORT_COLUMNS = [
  { name: 'schema_version', type: 'int' },
  { name: 'status', type: 'string' },
  { name: 'source_rows', type: 'bigint' },
  { name: 'valid_rows_after_clean', type: 'bigint' },
  { name: 'rows_after_dedup', type: 'bigint' },
  { name: 'dropped_missing_required', type: 'bigint' },
  { name: 'dropped_non_positive_price', type: 'bigint' },
  { name: 'duplicates_removed', type: 'bigint' },
  { name: 'rows_without_segment', type: 'bigint' },
  { name: 'rejected_rows', type: 'bigint' },
  { name: 'ratios', type: 'struct<rejected:double,without_segment:double>' },
  { name: 'unmatched_category_count', type: 'bigint' },
  { name: 'input', type: 'struct<listings:struct<name:string,bytes:bigint,sha256:string>>' },
  { name: 'output', type: 'struct<parquet:struct<published:boolean,rows:bigint,bytes:bigint>>' },
  { name: 'started_at', type: 'string' },
  { name: 'finished_at', type: 'string' },
] as const

/** The manifest fields the rebuild reads (see lambdas/ingest/src/live-version.ts). */
const MANIFEST_COLUMNS = [
  { name: 'manifest_version', type: 'int' },
  {
    name: 'live',
    type: 'struct<source:struct<bucket:string,key:string,etag:string,versionid:string,last_modified:string>,parquet:string,rows:bigint,published_at:string>',
  },
] as const
