/**
 * Template assertions for the current table: the Iceberg table, the lock, the
 * maintenance schedule and machines, the workgroup, the analysts' tables and
 * queries. Built in the test stack (current-table-stack.ts) that wires the
 * table as the ingest stack is to.
 */
import { App, Stack } from 'aws-cdk-lib'
import { Match } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { readCurrentTableConfig } from '../../infra/src/current-table-config.js'
import {
  ANALYST_QUERIES,
  CURRENT_TABLE_COLUMNS,
  MAINTENANCE_STATEMENTS,
  MERGE_KEY,
  REPORTS_TABLE_NAME,
} from '../../shared/src/current-table-sql.js'
import { currentTableStack } from './current-table-stack.js'
import { resource, stateMachineDefinition } from './synth.js'

const { template } = currentTableStack()

function glueTable(name: string): Record<string, unknown> {
  const tables = Object.values(template.findResources('AWS::Glue::Table')).filter(
    (t) => (t.Properties.TableInput as { Name: string }).Name === name,
  )
  if (tables.length !== 1) throw new Error(`expected one Glue table ${name}`)
  return (tables[0] as { Properties: Record<string, unknown> }).Properties
}

describe('the Iceberg table listings_current', () => {
  const table = glueTable('listings_current')
  const iceberg = (table.OpenTableFormatInput as { IcebergInput: Record<string, unknown> }).IcebergInput
  const input = iceberg.IcebergTableInput as {
    Location: unknown
    Schema: {
      Fields: { Id: number; Name: string; Type: string; Required: boolean }[]
      IdentifierFieldIds: number[]
    }
    PartitionSpec: { Fields: { Name: string; SourceId: number; Transform: string }[] }
    Properties: Record<string, string>
  }

  it('is created as Iceberg v2 in the Glue catalog, in the processed bucket under current/listings_current/', () => {
    expect(iceberg).toMatchObject({ MetadataOperation: 'CREATE', Version: '2' })
    expect(JSON.stringify(input.Location)).toMatch(/StorageProcessed.*current\/listings_current\//)
    expect(table.DatabaseName).toBe('listings_ingest')
  })

  it("has the contract's seven columns and the lineage columns, with (date, item_id) as its identifier", () => {
    expect(input.Schema.Fields.map((f) => [f.Name, f.Type, f.Required])).toEqual(
      CURRENT_TABLE_COLUMNS.map((c) => [c.name, c.type, c.required]),
    )
    const ids = MERGE_KEY.map((name) => input.Schema.Fields.find((f) => f.Name === name)?.Id)
    expect(input.Schema.IdentifierFieldIds).toEqual(ids)
  })

  it('is partitioned by listing month: month(date)', () => {
    const date = input.Schema.Fields.find((f) => f.Name === 'date')
    expect(input.PartitionSpec.Fields).toEqual([
      expect.objectContaining({ Name: 'date_month', SourceId: date?.Id, Transform: 'month' }),
    ])
  })

  it('writes Snappy Parquet, merge-on-read', () => {
    expect(input.Properties).toMatchObject({
      'write.format.default': 'parquet',
      'write.parquet.compression-codec': 'snappy',
      'write.merge.mode': 'merge-on-read',
    })
  })

  it('is encrypted by the bucket: the processed bucket defaults to the stack key (SSE-KMS)', () => {
    const processed = resource(template, 'AWS::S3::Bucket', 'StorageProcessed')
    expect(processed.props.BucketEncryption).toMatchObject({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^StorageDataKey/), 'Arn'] },
          },
        },
      ],
    })
  })
})

describe('the Athena workgroup', () => {
  it('runs engine 3 (Iceberg MERGE) with a bytes-scanned cutoff of 10 GiB by default, from context otherwise', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EnforceWorkGroupConfiguration: true,
      }),
    })
    currentTableStack({ athenaBytesScannedCutoffGiB: 2 }).template.hasResourceProperties(
      'AWS::Athena::WorkGroup',
      {
        WorkGroupConfiguration: Match.objectLike({ BytesScannedCutoffPerQuery: 2 * 1024 ** 3 }),
      },
    )
  })

  it('refuses a malformed cutoff or schedule with the context key named', () => {
    const node = (context: Record<string, unknown>) => new Stack(new App({ context }), 'S').node
    for (const cutoff of ['0.5', '0x10', '1e1', '0', '1025']) {
      expect(() => readCurrentTableConfig(node({ athenaBytesScannedCutoffGiB: cutoff }))).toThrow(
        `context athenaBytesScannedCutoffGiB must be a whole number from 1 to 1024, got ${JSON.stringify(cutoff)}`,
      )
    }
    // Blank context is no value, as for every other key: the default.
    expect(readCurrentTableConfig(node({ athenaBytesScannedCutoffGiB: ' ' })).bytesScannedCutoffGiB).toBe(10)
    expect(readCurrentTableConfig(node({ athenaBytesScannedCutoffGiB: 16 })).bytesScannedCutoffGiB).toBe(16)
    expect(() => readCurrentTableConfig(node({ maintenanceSchedule: 'every sunday' }))).toThrow(
      /maintenanceSchedule must be cron\(...\) or rate\(...\)/,
    )
  })
})

describe('maintenance', () => {
  it('a schedule starts the maintenance machine weekly by default, with a role that may only start it', () => {
    const schedule = resource(template, 'AWS::Scheduler::Schedule', 'CurrentTableMaintenanceSchedule')
    expect(schedule.props).toMatchObject({
      ScheduleExpression: 'cron(0 3 ? * SUN *)',
      ScheduleExpressionTimezone: 'UTC',
      Target: { Arn: { Ref: expect.stringMatching(/^CurrentTableMaintenanceStateMachine/) } },
    })
    expect(
      currentTableStack({ maintenanceSchedule: 'rate(1 day)' }).template.findResources(
        'AWS::Scheduler::Schedule',
      ),
    ).toMatchObject({ [schedule.id]: { Properties: { ScheduleExpression: 'rate(1 day)' } } })
  })

  it('the machine runs OPTIMIZE ... BIN_PACK then VACUUM under the writer lock', () => {
    const definition = stateMachineDefinition(template, 'CurrentTableMaintenanceStateMachine') as {
      States: Record<string, { Resource?: string; Parameters?: { QueryString?: string }; Next?: string }>
    }
    const queries = Object.values(definition.States)
      .map((s) => s.Parameters?.QueryString)
      .filter((q) => q !== undefined)
    expect(queries).toEqual([MAINTENANCE_STATEMENTS.optimize, MAINTENANCE_STATEMENTS.vacuum])
    expect(MAINTENANCE_STATEMENTS.optimize).toBe('OPTIMIZE listings_current REWRITE DATA USING BIN_PACK')
    expect(definition.States.MaintenanceTakeLock?.Next).toBe('MaintenanceOptimizeStart')
    expect(definition.States.MaintenanceVacuum?.Next).toBe('MaintenanceReleaseLock')
  })

  it('the rebuild clears and refills the table from the manifests, in source order', () => {
    const definition = stateMachineDefinition(template, 'CurrentTableRebuildStateMachine') as {
      States: Record<string, { Parameters?: { QueryString?: string; 'QueryString.$'?: string } }>
    }
    const clear = definition.States.RebuildClear?.Parameters?.QueryString
    const insert = definition.States.RebuildInsert?.Parameters?.['QueryString.$']
    expect(clear).toBe('DELETE FROM listings_current')
    expect(insert).toMatch(
      /row_number\(\) OVER \(PARTITION BY r\.date, r\.item_id ORDER BY src\.source_modified_at DESC/,
    )
    expect(insert).toMatch(/FROM listing_manifests AS m WHERE m\.live IS NOT NULL/)
    expect(insert).toMatch(
      /^States\.Format\('INSERT INTO .*', States\.Base64Encode\(\$\$\.Execution\.StartTime\)\)$/s,
    )
  })

  it("the rebuild joins the manifests' Parquet keys to the processed bucket's deployed name, not a CDK token", () => {
    const { props } = resource(
      template,
      'AWS::StepFunctions::StateMachine',
      'CurrentTableRebuildStateMachine',
    )
    const processed = resource(template, 'AWS::S3::Bucket', 'StorageProcessed')
    // The definition is text around references: the bucket's name must be one of them (CloudFormation
    // fills it in), right after the s3:// the statement prefixes the manifests' keys with.
    const parts = (props.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
    const bucket = parts.findIndex((part) => JSON.stringify(part) === JSON.stringify({ Ref: processed.id }))
    expect(String(parts[bucket - 1])).toMatch(/concat\(\\\\'s3:\/\/$/)
    expect(JSON.stringify(template.toJSON())).not.toContain('Token[')
  })
})

describe('the writer lock', () => {
  it('is one DynamoDB table keyed by lock name, on demand, encrypted', () => {
    const lock = resource(template, 'AWS::DynamoDB::Table', 'CurrentTableWriterLock')
    expect(lock.props).toMatchObject({
      KeySchema: [{ AttributeName: 'lock', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
    })
  })
})

describe('for analysts', () => {
  it('named queries: current listings, rows by listing date, DQ history, in the workgroup', () => {
    const named = Object.values(template.findResources('AWS::Athena::NamedQuery')).map((q) => q.Properties)
    expect(named.map((q) => q.Name).sort()).toEqual(
      Object.values(ANALYST_QUERIES)
        .map((q) => q.name)
        .sort(),
    )
    for (const q of named)
      expect(q).toMatchObject({ Database: 'listings_ingest', WorkGroup: 'listings-ingest-analysts' })
  })

  it('a table over the JSON reports, dt-projected, read with the Ion SerDe (the reports are pretty-printed)', () => {
    const reports = glueTable(REPORTS_TABLE_NAME).TableInput as {
      Parameters: Record<string, unknown>
      PartitionKeys: unknown[]
      StorageDescriptor: {
        Location: unknown
        SerdeInfo: { SerializationLibrary: string }
        Columns: { Name: string }[]
      }
    }
    expect(reports.Parameters).toMatchObject({ 'projection.enabled': 'true', 'projection.dt.type': 'date' })
    expect(reports.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string' }])
    expect(reports.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
      'com.amazon.ionhiveserde.IonHiveSerDe',
    )
    expect(JSON.stringify(reports.StorageDescriptor.Location)).toContain('/reports/')
    expect(reports.StorageDescriptor.Columns.map((c) => c.Name)).toEqual(
      expect.arrayContaining(['status', 'source_rows', 'rows_after_dedup', 'ratios', 'input', 'output']),
    )
  })

  it('the per-file table says that dt is the upload date', () => {
    expect((glueTable('listings').TableInput as { Description: string }).Description).toMatch(
      /dt = upload date, not listing date/,
    )
  })
})
