// Bundles the CLI into dist/ so `npm run ingest` starts compiled JavaScript.
// Dependencies stay external: they are installed, and Node resolves them fast.
import { build } from 'esbuild'

await build({
  entryPoints: {
    ingest: 'local/src/ingest.ts',
    'local-e2e': 'local/src/s3/e2e.ts',
    'local-s3': 'local/src/s3/serve.ts',
    'infra-app': 'infra/bin/app.ts',
    deck: 'scripts/deck/main.ts',
    bench: 'scripts/bench/bench.ts',
    'bench-ours': 'scripts/bench/run-ours.ts',
    'bench-duckdb': 'scripts/bench/run-duckdb.ts',
  },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
})
