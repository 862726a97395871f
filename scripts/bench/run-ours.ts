import { writeFileSync } from 'node:fs'
import { main } from '../../local/src/cli.js'
import { runParquetWorker } from '../../shared/src/index.js'

/**
 * The benchmark's wrapper around the CLI: runs it in this process, then
 * records the exit code and this process's peak RSS where the parent asked.
 */
if (!runParquetWorker()) {
  const code = await main(process.argv.slice(2))
  const resultPath = process.env.BENCH_RESULT
  if (resultPath)
    writeFileSync(resultPath, JSON.stringify({ code, maxRssKb: process.resourceUsage().maxRSS }))
  process.exitCode = code
}
