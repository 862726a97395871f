import { execFileSync } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { DuckDBInstance } from '@duckdb/node-api'
import { PROCESSED_BUCKET, startLocalPipeline } from './pipeline.js'

/**
 * `npm run local:e2e`: the AWS path end to end against a real S3-API server
 * on 127.0.0.1. Uploads the sample to the raw bucket, lets the object-created
 * event start the ingest state machine that `cdk synth` produces (run by the
 * aws-local-stepfunctions interpreter, its Lambda task bound to the real
 * handler, its SNS tasks recorded), then checks the
 * processed bucket: the Parquet reads in DuckDB and every count and row equals
 * what the local CLI produces from the same file. Exits 0 only if all holds.
 */
const listings = resolve(process.argv[2] ?? 'data/listings.csv')
const lookup = resolve(process.argv[3] ?? 'data/category_lookup.csv')
const failures: string[] = []
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) failures.push(what)
}

const pipeline = await startLocalPipeline(lookup)
try {
  console.log(`local S3 server at ${pipeline.s3.endpoint}; buckets raw, processed`)
  console.log(
    `state machine ${pipeline.stateMachines.ingest.name}: the synthesized definition, in aws-local-stepfunctions`,
  )
  await pipeline.upload(listings, 'listings.csv')
  console.log('uploaded s3://raw/incoming/listings.csv; waiting for the execution')
  const [execution] = await pipeline.settle()
  check(
    execution?.status === 'SUCCEEDED',
    `execution ${execution?.executionId} ${execution?.status} (${execution?.path.join(' -> ')})`,
  )
  check(execution?.notifications.length === 0, 'no SNS notification for a file that wrote rows')
  // Locally the MERGE is recorded, not run (current-table-bindings.ts); test/current-table runs it in DuckDB.
  check(
    execution?.merges.length === 1 && execution.merges[0]?.startsWith('MERGE INTO ') === true,
    `one MERGE into the current table sent to (local, recording) Athena: ${execution?.merges.length ?? 0}`,
  )
  const summary = execution?.output
  console.log(JSON.stringify(summary, null, 2))

  const listed = await pipeline.s3.client.send(new ListObjectsV2Command({ Bucket: PROCESSED_BUCKET }))
  const keys = (listed.Contents ?? []).map((object) => object.Key ?? '')
  console.log(`processed bucket: ${keys.join(', ')}`)
  const outputs = summary?.outputs
  check(
    outputs !== undefined &&
      [outputs.parquet, outputs.rejected, outputs.report].every((key) => keys.includes(key)),
    'Parquet, rejects and report are in the processed bucket',
  )

  const cli = JSON.parse(
    execFileSync(
      process.execPath,
      [
        'dist/ingest.mjs',
        '--listings',
        listings,
        '--lookup',
        lookup,
        '--out',
        await mkdtemp(join(tmpdir(), 'e2e-cli-')),
        '--json',
        '--quiet',
      ],
      { encoding: 'utf8' },
    ),
  ) as Record<string, number> & { output: { parquet: { path: string } } }
  const counts = [
    'source_rows',
    'valid_rows_after_clean',
    'rows_after_dedup',
    'dropped_missing_required',
    'dropped_non_positive_price',
  ] as const
  for (const name of counts)
    check(
      summary?.counts?.[name] === cli[name],
      `${name}: lambda ${summary?.counts?.[name]}, CLI ${cli[name]}`,
    )

  if (outputs) {
    const object = await pipeline.s3.client.send(
      new GetObjectCommand({ Bucket: PROCESSED_BUCKET, Key: outputs.parquet }),
    )
    const local = join(await mkdtemp(join(tmpdir(), 'e2e-parquet-')), 'data.parquet')
    await writeFile(
      local,
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    )
    const duck = await (await DuckDBInstance.create(':memory:')).connect()
    const read = async (sql: string) => (await duck.runAndReadAll(sql)).getRowObjectsJson()
    const [{ n } = { n: -1 }] = await read(`SELECT count(*)::INTEGER AS n FROM '${local}'`)
    check(n === cli.rows_after_dedup, `DuckDB reads ${n} rows from the Lambda's Parquet`)
    const differing = await read(
      `SELECT count(*)::INTEGER AS n FROM ((SELECT * FROM '${local}' EXCEPT ALL SELECT * FROM '${cli.output.parquet.path}')
       UNION ALL (SELECT * FROM '${cli.output.parquet.path}' EXCEPT ALL SELECT * FROM '${local}'))`,
    )
    check(differing[0]?.n === 0, 'the Lambda and the CLI wrote the same rows')
    const codecs = await read(`SELECT DISTINCT compression FROM parquet_metadata('${local}')`)
    check(codecs.length === 1 && codecs[0]?.compression === 'SNAPPY', 'every column chunk is Snappy')
  }
  const emf = pipeline.metrics.published.at(-1)
  console.log(
    `DQ metrics (EMF): ${JSON.stringify(emf?._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name))}`,
  )
  check(emf !== undefined, 'DQ metrics were published')
} finally {
  await pipeline.close()
}
console.log(failures.length === 0 ? 'local e2e passed' : `local e2e FAILED: ${failures.length} check(s)`)
process.exitCode = failures.length === 0 ? 0 : 1
