import { join } from 'node:path'
import { repositoryRoot } from '../../infra/src/paths.js'
import { buildDeck } from './deck.js'
import { collectFacts } from './facts.js'

/** `npm run slides`: regenerates architecture.pptx at the repository root. */
const path = join(repositoryRoot(), 'architecture.pptx')
await buildDeck(collectFacts()).writeFile({ fileName: path, compression: true })
process.stdout.write(`wrote ${path}\n`)
