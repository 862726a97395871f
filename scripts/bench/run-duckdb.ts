import { writeFileSync } from 'node:fs'
import { DuckDBInstance } from '@duckdb/node-api'
import { contractSql, countsSql } from './duckdb-contract.js'

/**
 * The benchmark's DuckDB run: the contract in SQL on the same file, then the
 * counts and this process's peak RSS written where the parent asked.
 *
 * Usage: run-duckdb <listings> <lookup> <out.parquet> <threads>
 */
const [listings, lookup, out, threads] = process.argv.slice(2) as [string, string, string, string]
const connection = await (await DuckDBInstance.create(':memory:', { threads })).connect()
let parallelCsv = true
try {
  for (const statement of contractSql(listings, lookup, out)) await connection.run(statement)
} catch (error) {
  // DuckDB's parallel CSV reader refuses null padding with a quoted line break at a split point.
  if (!String(error).includes('parallel=false')) throw error
  parallelCsv = false
  await connection.run('DROP TABLE IF EXISTS raw')
  for (const statement of contractSql(listings, lookup, out, false)) await connection.run(statement)
}
const counts = (await connection.runAndReadAll(countsSql(out))).getRowObjectsJson()[0]
const resultPath = process.env.BENCH_RESULT
if (resultPath)
  writeFileSync(
    resultPath,
    JSON.stringify({ code: 0, maxRssKb: process.resourceUsage().maxRSS, counts, parallelCsv }),
  )
