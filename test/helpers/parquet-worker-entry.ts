import { runParquetWorker } from '../../shared/src/parquet-worker.js'

// The bundle the worker-encoder test loads on its worker thread.
runParquetWorker()
