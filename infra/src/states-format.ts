/**
 * Run values in Athena statements: a statement written once
 * (shared/src/current-table-sql.ts) with `{}` slots becomes a Step Functions
 * `States.Format` intrinsic that fills them at run time, each value
 * base64-encoded so no quote in a key can leave its SQL literal.
 */
import { STATES_FORMAT_SLOT } from '../../shared/src/current-table-sql.js'

/**
 * A CDK token's marker in a string (`${Token[TOKEN.123]}`, as `Token.asString`
 * writes it), captured whole: the CDK replaces it with a reference at
 * synthesis, but only if it is left as it is.
 */
const TOKEN_MARKER = /(\$\{Token\[[^\]]+\]\})/

/**
 * The `States.Format` intrinsic that fills a statement's `{}` slots with the
 * base64 of each value (JSONPath or intrinsic expressions), in order. The
 * statement's own `'`, `{`, `}` and `\` are escaped, as intrinsic string
 * literals require, except in the CDK tokens it holds (the processed bucket's
 * name in the rebuild), which CloudFormation fills in: a name S3 allows has
 * none of those characters.
 *
 * @throws {Error} when the statement's slots and the values differ in number
 */
export function statesFormat(statement: string, values: readonly string[]): string {
  const slots = statement.split(STATES_FORMAT_SLOT).length - 1
  if (slots !== values.length) throw new Error(`the statement has ${slots} slots for ${values.length} values`)
  const literal = statement
    .split(STATES_FORMAT_SLOT)
    .map((part) =>
      part
        .split(TOKEN_MARKER)
        .map((text, i) => (i % 2 === 1 ? text : text.replace(/[\\'{}]/g, (c) => `\\${c}`)))
        .join(''),
    )
    .join(STATES_FORMAT_SLOT)
  return `States.Format('${literal}', ${values.map((v) => `States.Base64Encode(${v})`).join(', ')})`
}
