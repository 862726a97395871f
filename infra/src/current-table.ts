/**
 * The current table as one construct: the Iceberg table (iceberg-table.ts),
 * its writer lock, the maintenance and rebuild state machines with their log
 * groups, the maintenance schedule, and what the ingest state machine needs
 * to write it (the merge step, merge-step.ts; the grants,
 * current-table-grants.ts). The statements run under the lock
 * (locked-statements.ts); their facts are in current-table-states.ts.
 */
import { Aws, Duration } from 'aws-cdk-lib'
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import type * as glue from 'aws-cdk-lib/aws-glue'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as scheduler from 'aws-cdk-lib/aws-scheduler'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import { Construct } from 'constructs'
import {
  athenaDialect,
  CURRENT_TABLE_NAME,
  MAINTENANCE_STATEMENTS,
  rebuildStatements,
  type SqlDialect,
} from '../../shared/src/current-table-sql.js'
import type { Analytics } from './analytics.js'
import type { PipelineConfig } from './config.js'
import { readCurrentTableConfig } from './current-table-config.js'
import { type CurrentTableWriter, grantCurrentTableWrite } from './current-table-grants.js'
import { icebergTable } from './iceberg-table.js'
import { type LockedStatement, lockedStatements, type StatementTarget } from './locked-statements.js'
import { mergeStep } from './merge-step.js'
import { acknowledge } from './nag.js'
import { removalProps } from './removal.js'
import type { Storage } from './storage.js'

/** Props of {@link CurrentTable}. */
export interface CurrentTableProps {
  /** The stack's settings: names, log retention, the removal policy. */
  readonly config: PipelineConfig
  /** The processed bucket (the table's data) and the key (its logs). */
  readonly storage: Storage
  /** The Glue database, the per-file and manifests tables, and the workgroup the statements run in. */
  readonly analytics: Analytics
}

/**
 * One current table across all files: the Iceberg table `listings_current`
 * in the Glue catalog (data in the processed bucket under the stack's key, by
 * the bucket's default encryption), kept by Athena MERGE after every ingest,
 * compacted and vacuumed on a schedule, and rebuilt on demand.
 *
 * Writers are serialized by a lock (one DynamoDB item naming the execution
 * that holds it): the ingest's merge step, maintenance and the rebuild each
 * take it before writing and release it after, failed or not. A holder that
 * is no longer running (stopped, timed out) is taken over, so a lost release
 * never blocks the table. Iceberg commit conflicts with any other writer
 * (an analyst's statement) are retried with full jitter.
 *
 * To wire: build the ingest state machine's definition with
 * {@link CurrentTable.mergeStep} after a successful ingest, and call
 * `grantWrite(machine, 'merge')` on it.
 */
export class CurrentTable extends Construct {
  readonly tableName = CURRENT_TABLE_NAME
  readonly lock: dynamodb.Table
  readonly maintenance: sfn.StateMachine
  readonly rebuild: sfn.StateMachine
  readonly table: glue.CfnTable
  private readonly props: CurrentTableProps

  constructor(scope: Construct, id: string, props: CurrentTableProps) {
    super(scope, id)
    this.props = props
    const { config, storage } = props
    const removal = removalProps(config.removalPolicy)
    this.table = icebergTable(this, props)

    this.lock = new dynamodb.Table(this, 'WriterLock', {
      partitionKey: { name: 'lock', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      ...removal.lockTable,
    })
    acknowledge(
      this.lock,
      'DDB3',
      'The table holds one lock item that is rewritten on every merge; there is nothing to restore to a point in time.',
    )

    // A machine that runs statements under the lock, named `<name>StateMachine`, logging to `<name>Logs`.
    const statementsMachine = (name: 'Maintenance' | 'Rebuild', steps: LockedStatement[]) =>
      new sfn.StateMachine(this, `${name}StateMachine`, {
        stateMachineName: `${config.namePrefix}-current-table-${name.toLowerCase()}`,
        definitionBody: sfn.DefinitionBody.fromChainable(
          lockedStatements(this, name, steps, this.statementTarget()).next(
            new sfn.Succeed(this, `${name}Done`),
          ),
        ),
        tracingEnabled: true,
        logs: {
          destination: new logs.LogGroup(this, `${name}Logs`, {
            encryptionKey: storage.key,
            retention: config.logRetentionDays,
            ...removal.logGroup,
          }),
          level: sfn.LogLevel.ALL,
          includeExecutionData: true,
        },
        timeout: Duration.hours(6),
      })
    this.maintenance = statementsMachine('Maintenance', [
      { name: 'Optimize', query: MAINTENANCE_STATEMENTS.optimize },
      { name: 'Vacuum', query: MAINTENANCE_STATEMENTS.vacuum },
    ])
    const [clear, insert] = rebuildStatements(this.athenaDialect())
    this.rebuild = statementsMachine('Rebuild', [
      { name: 'Clear', query: clear },
      { name: 'Insert', query: insert, values: ['$$.Execution.StartTime'] },
    ])
    this.grantWrite(this.maintenance, 'maintenance')
    this.grantWrite(this.rebuild, 'rebuild')

    const schedulerRole = new iam.Role(this, 'MaintenanceSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    })
    this.maintenance.grantStartExecution(schedulerRole)
    new scheduler.CfnSchedule(this, 'MaintenanceSchedule', {
      name: `${config.namePrefix}-current-table-maintenance`,
      description: `Compacts (OPTIMIZE ... BIN_PACK) and vacuums ${CURRENT_TABLE_NAME}`,
      scheduleExpression: readCurrentTableConfig(this.node).maintenanceSchedule,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: 60 },
      target: {
        arn: this.maintenance.stateMachineArn,
        roleArn: schedulerRole.roleArn,
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    })
  }

  /**
   * The merge step the ingest state machine runs after an ingest that
   * published Parquet; see merge-step.ts.
   *
   * @param scope - where its states are created (their names are `CurrentTable...` and must be unique in the machine)
   * @param id - the fragment's id
   */
  mergeStep(scope: Construct, id = 'MergeIntoCurrentTable'): sfn.StateMachineFragment {
    return mergeStep(scope, id, this.statementTarget(), this.athenaDialect())
  }

  /**
   * Lets a state machine (its role) run the table's statements; see
   * current-table-grants.ts.
   *
   * @param writer - what the machine runs: the merge step, maintenance or the rebuild
   */
  grantWrite(machine: sfn.StateMachine, writer: CurrentTableWriter): void {
    const { storage, analytics, config } = this.props
    grantCurrentTableWrite(machine, writer, {
      storage,
      analytics,
      lock: this.lock,
      namePrefix: config.namePrefix,
    })
  }

  /** Athena's rendering of the shared template for this stack's tables. */
  private athenaDialect(): SqlDialect {
    const { analytics, storage } = this.props
    return athenaDialect(analytics.manifestsTableName, `s3://${storage.processed.bucketName}/`)
  }

  /** Where the table's statements run and which lock they hold. */
  private statementTarget(): StatementTarget {
    const { analytics } = this.props
    return { lock: this.lock, databaseName: analytics.databaseName, workGroupName: analytics.workGroupName }
  }
}
