#!/usr/bin/env node
import { runParquetWorker } from '../../shared/src/index.js'
import { main } from './cli.js'

// The same bundle runs the Parquet encoder thread; only the main thread runs the CLI.
if (!runParquetWorker()) process.exitCode = await main(process.argv.slice(2))
