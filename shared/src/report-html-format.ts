/**
 * How the report page writes values: numbers as `<data>` elements carrying
 * the JSON's exact value and field name, sizes, hashes, file names and
 * places (links only for relative paths), and every string from the data
 * HTML-escaped with control characters made visible.
 */

/** A count as text (`12,345`), its exact value in the `<data>` element's `value`. */
export function count(value: number, field: string): string {
  return `<data value="${value}" data-field="${attribute(field)}">${groupDigits(value)}</data>`
}

/** A ratio as a percentage, its exact value in `value`. */
export function ratioData(value: number, field: string): string {
  return `<data value="${value}" data-field="${attribute(field)}">${percent(value)}</data>`
}

export function bytes(value: number, field: string): string {
  return `<data value="${value}" data-field="${attribute(field)}">${groupDigits(value)}</data> bytes${value >= 1024 ? ` (${binaryUnits(value)})` : ''}`
}

export function hash(value: string, field: string): string {
  return `<code class="hash" data-field="${attribute(field)}">${text(value)}</code>`
}

export function fileName(name: string): string {
  return `<code>${text(name)}</code>`
}

/**
 * A place the page points to: a link when it is a relative path (each
 * segment percent-encoded, so `#`, `?` and spaces stay part of the name),
 * else text to copy.
 */
export function place(target: string): string {
  if (isRelativePath(target)) {
    const href = target.split('/').map(encodeURIComponent).join('/')
    return `<a href="${attribute(href)}"><code>${text(target)}</code></a>`
  }
  return `<code class="uri">${text(target)}</code>`
}

/** No scheme (`s3:`, `file:`, `C:`), not absolute, not protocol-relative. */
function isRelativePath(target: string): boolean {
  return (
    target !== '' &&
    !target.startsWith('/') &&
    !target.startsWith('\\') &&
    !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(target)
  )
}

/** The singular words for 1, the plural ones otherwise. */
export function plural(n: number, one: string, other: string): string {
  return n === 1 ? one : other
}

/** `12345` → `12,345`; fractions and exponents as JavaScript writes them. */
export function groupDigits(value: number): string {
  if (!Number.isInteger(value) || Math.abs(value) >= 1e21) return String(value)
  const sign = value < 0 ? '-' : ''
  return sign + String(Math.abs(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/**
 * A ratio as a percentage with two decimals (`0.0975` → `9.75 %`); a ratio
 * above 0 that would round to `0.00 %` is written `< 0.01 %`, so a few bad
 * rows in millions never read as none.
 */
export function percent(ratio: number): string {
  if (ratio > 0 && ratio < 0.00005) return '&lt; 0.01 %'
  return `${(ratio * 100).toFixed(2)} %`
}

function binaryUnits(value: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let scaled = value / 1024
  let unit = 0
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024
    unit++
  }
  return `${scaled.toFixed(1)} ${units[unit]}`
}

/**
 * Text from the data, safe between tags: `&`, `<`, `>`, quotes escaped, and
 * control characters (which a CSV value may hold, and which HTML would drop
 * or mangle) shown as `U+001C`.
 */
export function text(value: string): string {
  return attribute(value).replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g,
    (c) => `<span class="control">U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}</span>`,
  )
}

/** Text from the data, safe inside a double-quoted attribute. */
function attribute(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}
