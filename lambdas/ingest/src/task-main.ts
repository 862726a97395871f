import { runParquetWorker } from '../../../shared/src/index.js'
import { main } from './task.js'

// The container's entry point. The same bundle runs the Parquet encoder thread; only the main thread runs the task.
if (!runParquetWorker()) process.exitCode = await main()
