import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { LOCAL_CREDENTIALS } from './local-s3.js'
import { INCOMING_PREFIX, LOOKUP_KEY, PROCESSED_BUCKET, RAW_BUCKET, startLocalPipeline } from './pipeline.js'

/**
 * `npm run local:s3`: keeps a local S3-API server and the pipeline running so
 * a person can drop files with any S3 client and watch them being processed.
 * Ctrl-C stops it and removes its storage.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4569' },
    lookup: { type: 'string', default: 'data/category_lookup.csv' },
    'max-rejected-ratio': { type: 'string' },
    'max-unmatched-segment-ratio': { type: 'string' },
  },
})
const env: Record<string, string> = {}
if (values['max-rejected-ratio']) env.MAX_REJECTED_RATIO = values['max-rejected-ratio']
if (values['max-unmatched-segment-ratio'])
  env.MAX_UNMATCHED_SEGMENT_RATIO = values['max-unmatched-segment-ratio']

const pipeline = await startLocalPipeline(resolve(values.lookup), {
  port: Number(values.port),
  env,
  logLevel: 'INFO',
  onExecution(execution, event) {
    const line = {
      key: event.detail.object.key,
      status: execution.status,
      error: execution.error,
      cause: execution.cause,
      output: execution.output,
    }
    process.stdout.write(`${JSON.stringify(line)}\n`)
  },
})
const { endpoint } = pipeline.s3
process.stdout.write(`Local pipeline running.
  endpoint:    ${endpoint}   (path-style)
  credentials: AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey} AWS_REGION=us-east-1
  raw bucket:  ${RAW_BUCKET} (drop CSV files under ${INCOMING_PREFIX}; lookup at ${LOOKUP_KEY})
  processed:   ${PROCESSED_BUCKET}
Try:
  aws --endpoint-url ${endpoint} s3 cp data/listings.csv s3://${RAW_BUCKET}/${INCOMING_PREFIX}listings.csv
  aws --endpoint-url ${endpoint} s3 ls --recursive s3://${PROCESSED_BUCKET}/
Ctrl-C to stop.
`)
const stop = async () => {
  await pipeline.close()
  process.exit(0)
}
process.once('SIGINT', stop).once('SIGTERM', stop)
