const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const MS_PER_DAY = 86_400_000

/**
 * Parses a calendar date written exactly `YYYY-MM-DD`.
 *
 * Months and days are checked against the proleptic Gregorian calendar, so
 * `2024-02-29` parses and `2023-02-29`, `2024-1-5` or `2024-01-05T00:00:00`
 * do not.
 *
 * @param text - the trimmed field value
 * @returns days since 1970-01-01 (the Parquet DATE encoding), or `undefined`
 */
export function parseIsoDate(text: string): number | undefined {
  const match = ISO_DATE.exec(text)
  if (match === null) return undefined
  const year = Number(match[1])
  const month = Number(match[2])
  const day = Number(match[3])
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  return Math.round(date.getTime() / MS_PER_DAY)
}

/**
 * Formats days since 1970-01-01 as `YYYY-MM-DD`; the inverse of {@link parseIsoDate}.
 *
 * @param days - days since the epoch
 */
export function formatIsoDate(days: number): string {
  const date = new Date(days * MS_PER_DAY)
  const year = String(date.getUTCFullYear()).padStart(4, '0')
  const month = String(date.getUTCMonth() + 1).padStart(2, '0')
  const day = String(date.getUTCDate()).padStart(2, '0')
  return `${year}-${month}-${day}`
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}
