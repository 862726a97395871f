import JSZip from 'jszip'

/**
 * The instant written into the deck's metadata and zip entries. A fixed
 * value makes `npm run slides` byte-for-byte reproducible: the same stack
 * gives the same file, so regenerating an unchanged deck leaves git clean.
 */
export const DECK_TIMESTAMP = new Date('2026-01-01T00:00:00Z')

/**
 * Rewrites a .pptx so that nothing in it depends on when it was written:
 * `docProps/core.xml`'s created/modified times and every zip entry's date
 * become {@link DECK_TIMESTAMP}, entries are stored in name order, and the
 * archive is deflated with fixed settings.
 *
 * @param pptx - the deck as pptxgenjs wrote it
 * @returns the same deck, reproducible
 */
export async function stablePptx(pptx: Uint8Array): Promise<Uint8Array> {
  const source = await JSZip.loadAsync(pptx)
  const stable = new JSZip()
  const stamp = DECK_TIMESTAMP.toISOString().replace(/\.\d{3}Z$/, 'Z')
  for (const name of Object.keys(source.files).sort()) {
    const entry = source.files[name]
    if (entry === undefined || entry.dir) continue
    let content: Uint8Array | string = await entry.async('uint8array')
    if (name === 'docProps/core.xml') {
      content = new TextDecoder()
        .decode(content)
        .replace(/(<dcterms:(?:created|modified)[^>]*>)[^<]*(<\/dcterms:)/g, `$1${stamp}$2`)
    }
    stable.file(name, content, { date: DECK_TIMESTAMP, createFolders: false })
  }
  return stable.generateAsync({
    type: 'uint8array',
    compression: 'DEFLATE',
    compressionOptions: { level: 9 },
    platform: 'UNIX',
  })
}
