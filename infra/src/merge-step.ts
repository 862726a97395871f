/**
 * The merge step: the states the ingest state machine runs after an ingest
 * that published Parquet, merging that file's rows into the current table
 * under the writer lock (locked-statements.ts). It reads the Lambda's summary
 * ({@link MERGE_INPUT}) and the S3 event's sequencer from the execution input.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import type { Construct } from 'constructs'
import { mergeStatement, type SqlDialect } from '../../shared/src/current-table-sql.js'
import { CURRENT_TABLE_INPUT_ERROR, MERGE_INPUT } from './current-table-states.js'
import { lockedStatements, type StatementTarget } from './locked-statements.js'

/**
 * The merge step the ingest state machine runs after an ingest that
 * published Parquet (`status` `processed` or `already_processed`: the MERGE
 * is idempotent, so a redelivered event repairs a merge that failed before).
 * Its input is the Lambda's summary ({@link MERGE_INPUT}); it adds
 * `$.currentTable` and otherwise passes its input through. It fails the
 * execution with {@link CURRENT_TABLE_ERROR} when the MERGE cannot commit.
 *
 * @param scope - where its states are created (their names are `CurrentTable...` and must be unique in the machine)
 * @param id - the fragment's id
 * @param target - the lock and the database and workgroup the MERGE runs in
 * @param dialect - Athena's rendering of the statements for this stack's tables
 */
export function mergeStep(
  scope: Construct,
  id: string,
  target: StatementTarget,
  dialect: SqlDialect,
): sfn.StateMachineFragment {
  const fragment = new MergeFragment(scope, id)
  const hasSequencer = new sfn.Choice(fragment, 'CurrentTableHasSequencer')
  const captureInput = new sfn.Pass(fragment, 'CurrentTableReadEvent', {
    parameters: { 'input.$': '$$.Execution.Input' },
    resultPath: '$.currentTable.execution',
  })
  const eventSequencer = MERGE_INPUT.sequencer.replace('$', '$.currentTable.execution.input')
  const withSequencer = new sfn.Pass(fragment, 'CurrentTableRunWithSequencer', {
    parameters: { 'value.$': eventSequencer },
    resultPath: '$.currentTable.sequencer',
  })
  const withoutSequencer = new sfn.Pass(fragment, 'CurrentTableRunWithoutSequencer', {
    result: sfn.Result.fromObject({ value: '' }),
    resultPath: '$.currentTable.sequencer',
  })
  const parquetPath = `States.Format('s3://{}/{}', ${MERGE_INPUT.parquetBucket}, ${MERGE_INPUT.parquetKey})`
  // In MERGE_PARAMETERS order.
  const values = [
    MERGE_INPUT.sourceKey,
    MERGE_INPUT.sourceEtag,
    MERGE_INPUT.sourceLastModified,
    '$.currentTable.sequencer.value',
    '$$.Execution.StartTime',
    parquetPath,
    parquetPath,
  ]
  const locked = lockedStatements(
    fragment,
    'CurrentTable',
    [{ name: 'Merge', query: mergeStatement(dialect), values }],
    target,
  )
  captureInput.next(
    hasSequencer.when(sfn.Condition.isPresent(eventSequencer), withSequencer).otherwise(withoutSequencer),
  )
  withSequencer.next(locked)
  withoutSequencer.next(locked)
  // Without the source's Last-Modified the row's place in the source order is unknown: fail, say why.
  const complete = new sfn.Choice(fragment, 'CurrentTableHasSourceOrder')
    .when(
      sfn.Condition.and(
        sfn.Condition.isPresent(MERGE_INPUT.sourceLastModified),
        sfn.Condition.isPresent(MERGE_INPUT.sourceKey),
        sfn.Condition.isPresent(MERGE_INPUT.sourceEtag),
        sfn.Condition.isPresent(MERGE_INPUT.parquetKey),
      ),
      captureInput,
    )
    .otherwise(
      new sfn.Fail(fragment, 'CurrentTableInputIncomplete', {
        error: CURRENT_TABLE_INPUT_ERROR,
        cause: `The ingest result lacks ${MERGE_INPUT.sourceLastModified}, ${MERGE_INPUT.sourceKey}, ${MERGE_INPUT.sourceEtag} or ${MERGE_INPUT.parquetKey}`,
      }),
    )
  fragment.startState = complete
  fragment.endStates = locked.endStates
  return fragment
}

/** A fragment whose states are set after construction. */
class MergeFragment extends sfn.StateMachineFragment {
  startState!: sfn.State
  endStates: sfn.INextable[] = []
}
