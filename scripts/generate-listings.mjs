#!/usr/bin/env node
// Generates deterministic, realistically messy listings CSV: the shipped
// sample (data/listings.csv) and the large files the benchmark uses.
//
//   node scripts/generate-listings.mjs --rows 400 --seed 7 --out data/listings.csv
//
// The defect mix (per row, approximately): 3% a required field empty, 1% too
// many fields, 1.5% bad dates, 3% zero, negative or non-numeric prices, 5%
// duplicate (date, item_id) keys, 6% categories absent from the lookup, 10%
// values padded with whitespace, quoted commas and line breaks in titles,
// and an occasional blank line.
//
// `--shape long-ids` writes a differently shaped file for the benchmark, so
// its figures do not rest on one data shape: 20-character item ids drawn
// from a billion, 200,000 sellers, dates over five years, and 1% duplicate
// keys instead of 5%; the same defects otherwise.
import { createWriteStream } from 'node:fs'
import { parseArgs } from 'node:util'

const USAGE = `Usage: node scripts/generate-listings.mjs [--rows N] [--seed S] [--shape SHAPE] [--out FILE]

Writes deterministic, realistically messy listings CSV (the same seed and row
count always give the same bytes).
  --rows N     data rows to write (default 400)
  --seed S     PRNG seed (default 7)
  --shape S    sample (default: short ids, 5,000 sellers, 5% duplicates) or
               long-ids (20-character ids, 200,000 sellers, 1% duplicates)
  --out FILE   where to write (default: stdout)
  -h, --help   show this help`

/** Prints one line and the usage hint, then exits 2: a bad flag is not a crash. */
function usageError(message) {
  process.stderr.write(`generate-listings: ${message} (see --help)\n`)
  process.exit(2)
}

let values
try {
  ;({ values } = parseArgs({
    options: {
      rows: { type: 'string', default: '400' },
      seed: { type: 'string', default: '7' },
      shape: { type: 'string', default: 'sample' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }))
} catch (error) {
  usageError(error.message)
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const rowCount = Number(values.rows)
if (!/^\d+$/.test(values.rows) || !Number.isSafeInteger(rowCount)) usageError('--rows must be a whole number')
if (!/^\d+$/.test(values.seed)) usageError('--seed must be a whole number')
/** What differs between the shapes; `sample` is the shipped sample's and must not change. */
const SHAPES = {
  sample: {
    duplicateShare: 0.05,
    days: 366,
    sellers: 5000,
    item: () => String(Math.floor(random() * 10_000_000)).padStart(7, '0'),
  },
  'long-ids': {
    duplicateShare: 0.01,
    days: 1826,
    sellers: 200_000,
    item: () =>
      `LST-${Math.floor(random() * 1e9)
        .toString(36)
        .padStart(6, '0')}-${Math.floor(random() * 1e9)
        .toString(36)
        .padStart(6, '0')}-GB`,
  },
}
const shape = SHAPES[values.shape]
if (shape === undefined) usageError(`--shape must be one of ${Object.keys(SHAPES).join(', ')}`)

/** mulberry32: a small, fast, seedable PRNG, so every run writes the same file. */
function prng(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const random = prng(Number(values.seed))
const pick = (items) => items[Math.floor(random() * items.length)]
const chance = (p) => random() < p

const REGIONS = [
  'London',
  'South East',
  'South West',
  'East of England',
  'West Midlands',
  'East Midlands',
  'Yorkshire and the Humber',
  'North West',
  'North East',
  'Wales',
  'Scotland',
  'Northern Ireland',
]
// The lookup covers the first ten; the last three are unmatched on purpose.
const CATEGORIES = [
  'Electronics',
  'Home & Garden',
  'Fashion',
  'Toys & Games',
  'Sports & Outdoors',
  'Books, Music & Film',
  'Health & Beauty',
  'Motors',
  'Collectables',
  'Pet Supplies',
  'Crafts',
  'Baby',
  'Antiques',
]
const UNMATCHED_SHARE = 0.06
const TITLES = [
  'Vintage oak side table',
  'Wireless earbuds, boxed',
  'Kids bike 16"',
  'Leather boots size 9',
  'Board game bundle',
  'Camping stove',
  'Hardback novels x5',
  'Hair dryer',
  'Alloy wheel 17in',
  'Signed football shirt',
  'Dog bed, large',
  'Knitting yarn set',
]
const BAD_DATES = [
  '2023-02-29',
  '2024/01/05',
  '2024-1-5',
  '05/01/2024',
  '2024-13-01',
  '2024-01-05T00:00:00',
  '2024-04-31',
]
const BAD_PRICES = ['0', '0.00', '-5.00', '-12.5', 'abc', '£12.50', '1,200.00', 'N/A', 'free', '1e999']
const DAY_MS = 86_400_000
const START = Date.UTC(2024, 0, 1)

const csvField = (text) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text)
const pad = (text) => (chance(0.1) ? `${pick([' ', '  ', '\t'])}${text}${pick(['', ' ', '  '])}` : text)

function category() {
  if (chance(UNMATCHED_SHARE)) return pick(CATEGORIES.slice(10))
  return pick(CATEGORIES.slice(0, 10))
}

function listing(recent) {
  if (recent.length > 0 && chance(shape.duplicateShare)) {
    // A re-listed item: same date and item id, later in the file, new price.
    const again = [...pick(recent)]
    again[5] = (Number(again[5]) * (0.8 + random() * 0.4)).toFixed(2)
    return again
  }
  const date = new Date(START + Math.floor(random() * shape.days) * DAY_MS).toISOString().slice(0, 10)
  const seller = `S${String(Math.floor(random() * shape.sellers)).padStart(5, '0')}`
  const item = shape.item()
  const price = (1 + random() * 499).toFixed(2)
  return [date, seller, pick(REGIONS), category(), item, price, pick(TITLES)]
}

function damage(fields) {
  const roll = random()
  if (roll < 0.03) fields[Math.floor(random() * 6)] = pick(['', ' '])
  else if (roll < 0.04) fields.push('unexpected')
  else if (roll < 0.055) fields[0] = pick(BAD_DATES)
  else if (roll < 0.085) fields[5] = pick(BAD_PRICES)
  return fields
}

const out = values.out ? createWriteStream(values.out) : process.stdout
const recent = []
let chunk = 'date,seller_id,region,category,item_id,price_gbp,title\n'
for (let i = 0; i < rowCount; i++) {
  const fields = listing(recent)
  recent.push([...fields])
  if (recent.length > 200) recent.shift()
  const title = chance(0.01) ? `${fields[6]}\nCollection only` : fields[6]
  const row = damage([...fields.slice(0, 6), title])
  chunk += `${row.map((field) => csvField(pad(field))).join(',')}\n`
  if (chance(0.003)) chunk += '\n'
  if (chunk.length > 1 << 16) {
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve))
    chunk = ''
  }
}
out.write(chunk)
if (out !== process.stdout) out.end()
