import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { repositoryRoot } from '../../infra/src/paths.js'
import { buildDeck } from './deck.js'
import { collectFacts } from './facts.js'
import { stablePptx } from './stable-zip.js'

const USAGE = `Usage: npm run slides

Synthesizes the CDK stack, reads its facts (memory, alarms, lifecycle, retries,
measured performance) and rewrites architecture.pptx at the repository root.
The output is reproducible: an unchanged stack gives the same bytes.`

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`)
} else {
  const path = join(repositoryRoot(), 'architecture.pptx')
  const written = (await buildDeck(collectFacts()).write({ outputType: 'uint8array' })) as Uint8Array
  await writeFile(path, await stablePptx(written))
  process.stdout.write(`wrote ${path}\n`)
}
