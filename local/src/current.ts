#!/usr/bin/env node
import { currentMain } from './current-command.js'

// `listings-current`: merges published output sets into <out>/current.parquet (see CURRENT_HELP).
process.exitCode = await currentMain(process.argv.slice(2))
