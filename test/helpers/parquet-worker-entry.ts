import { runParquetWorker } from '../../shared/src/index.js'

// The bundle the worker-encoder test loads on its worker thread.
runParquetWorker()
