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
import { MANIFEST_COLUMNS, parquetTableColumns, REPORT_COLUMNS } from './glue-columns.js'
import { removalProps } from './removal.js'
import type { Storage } from './storage.js'

/** Props of {@link Analytics}. */
export interface AnalyticsProps {
  /** The stack's settings: names, the removal policy. */
  readonly config: PipelineConfig
  /** The processed bucket the tables read and the key the query results are encrypted with. */
  readonly storage: Storage
}

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

/** How Glue reads each kind of file the stack writes: input and output formats and the SerDe. */
const FILE_FORMATS = {
  parquet: {
    inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
  },
  // The reports are pretty-printed JSON; the Ion SerDe reads a record across lines
  // (the Hive and OpenX JSON SerDes need one record per line).
  prettyJson: {
    inputFormat: 'com.amazon.ionhiveserde.formats.IonInputFormat',
    outputFormat: 'com.amazon.ionhiveserde.formats.IonOutputFormat',
    serdeInfo: { serializationLibrary: 'com.amazon.ionhiveserde.IonHiveSerDe' },
  },
  jsonLines: {
    inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
    serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
  },
} as const

/** One external Glue table over a prefix of the processed bucket. */
interface ExternalTable {
  readonly name: string
  readonly description: string
  readonly location: string
  readonly columns: readonly glue.CfnTable.ColumnProperty[]
  readonly format: keyof typeof FILE_FORMATS
  readonly parameters: Record<string, string>
  /** Partitioned on `dt` (the upload date, projected). @default false */
  readonly partitionedByDt?: boolean
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

  constructor(scope: Construct, id: string, props: AnalyticsProps) {
    super(scope, id)
    const { config, storage } = props
    this.databaseName = config.namePrefix.replaceAll('-', '_')
    this.workGroupName = `${config.namePrefix}-analysts`
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'Cleaned marketplace listings' },
    })
    const bucket = `s3://${storage.processed.bucketName}/`
    const location = `${bucket}${PROCESSED_PREFIXES.listings}`
    this.externalTable('ListingsTable', {
      name: this.tableName,
      description: `One row per listing per processed file (dt = upload date, not listing date); ${CURRENT_TABLE_NAME} holds one row per listing`,
      location,
      columns: parquetTableColumns(),
      format: 'parquet',
      parameters: { classification: 'parquet', 'parquet.compression': 'SNAPPY', ...dtProjection(location) },
      partitionedByDt: true,
    })
    const reportsLocation = `${bucket}${PROCESSED_PREFIXES.reports}`
    this.externalTable('ReportsTable', {
      name: REPORTS_TABLE_NAME,
      description: 'The data-quality report of every processed file (dt = upload date)',
      location: reportsLocation,
      columns: REPORT_COLUMNS,
      format: 'prettyJson',
      parameters: { classification: 'json', ...dtProjection(reportsLocation) },
      partitionedByDt: true,
    })
    this.externalTable('ManifestsTable', {
      name: MANIFESTS_TABLE_NAME,
      description: 'Per source key: the version whose Parquet is live, and the last attempt',
      location: `${bucket}${PROCESSED_PREFIXES.manifests}`,
      columns: MANIFEST_COLUMNS,
      format: 'jsonLines',
      parameters: { classification: 'json' },
    })

    const { bytesScannedCutoffGiB } = readCurrentTableConfig(this.node)
    const workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Queries over the processed listings and the current table',
      ...removalProps(config.removalPolicy).workGroup,
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

  /** A Glue table in the database, created after it. */
  private externalTable(id: string, table: ExternalTable): glue.CfnTable {
    const created = new glue.CfnTable(this, id, {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: table.name,
        description: table.description,
        tableType: 'EXTERNAL_TABLE',
        parameters: table.parameters,
        ...(table.partitionedByDt ? { partitionKeys: [{ name: 'dt', type: 'string' }] } : {}),
        storageDescriptor: {
          location: table.location,
          columns: table.columns.map((column) => ({ ...column })),
          ...FILE_FORMATS[table.format],
        },
      },
    })
    created.addResourceDependency(this.database)
    return created
  }
}
