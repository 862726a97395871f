/**
 * Whitespace as the ingest contract defines it: the Unicode `White_Space`
 * property, exactly. That is tab, LF, VT, FF, CR, space, U+0085 (NEL), U+00A0,
 * U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.
 *
 * `String.prototype.trim` is close but not the same: it keeps U+0085 and
 * strips U+FEFF (a byte-order mark, which inside a value is data). U+001C–U+001F
 * (the information separators) are not whitespace either. Every trim in the
 * transform (values, header names, the lookup, blank lines) goes through here.
 */

/** Whether a UTF-16 code unit is a `White_Space` code point (all of them are in the BMP). */
export function isWhiteSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d)
  if (code < 0x85) return false
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  )
}

/**
 * Whether a byte is whitespace on its own: the ASCII members of `White_Space`.
 * Bytes of 0x80 and above begin or continue a multi-byte character, which only
 * decoding can classify.
 */
export function isAsciiWhiteSpaceByte(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d)
}

/**
 * Removes `White_Space` from both ends of a string.
 *
 * Runs on every value of every row, so the common case (nothing to trim)
 * costs two character-code reads and returns the same string.
 */
export function trimWhiteSpace(text: string): string {
  let end = text.length
  if (end === 0) return text
  const first = text.charCodeAt(0)
  const last = text.charCodeAt(end - 1)
  // Printable ASCII at both ends: nothing to trim.
  if (first > 0x20 && first < 0x7f && last > 0x20 && last < 0x7f) return text
  let start = 0
  while (start < end && isWhiteSpace(text.charCodeAt(start))) start++
  while (end > start && isWhiteSpace(text.charCodeAt(end - 1))) end--
  return start === 0 && end === text.length ? text : text.slice(start, end)
}
