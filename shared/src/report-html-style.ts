/**
 * The report page's look: its one inline stylesheet, its sections, and the
 * SVG bars drawn beside counts and ratios (decoration: `aria-hidden`, the
 * numbers are text).
 */
import { count, text } from './report-html-format.js'

interface Bar {
  field: string
  /** HTML, already escaped. */
  label: string
  value: number
}

/** A table of labelled counts, each with a proportional SVG bar beside its number. */
export function barTable(bars: Bar[], whole: number, unit: string): string {
  const longest = Math.max(whole, ...bars.map((b) => b.value))
  return `<table class="bars">
<thead><tr><th scope="col"><span class="visually-hidden">What</span></th><th scope="col" class="num">${unit}</th><th scope="col"><span class="visually-hidden">Chart</span></th></tr></thead>
<tbody>
${bars
  .map(
    (bar) =>
      `<tr><th scope="row">${bar.label}</th><td class="num">${count(bar.value, bar.field)}</td><td class="chart">${countBar(bar.value, longest)}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>`
}

const BAR_WIDTH = 240
const BAR_HEIGHT = 14

function countBar(value: number, longest: number): string {
  const width = longest === 0 ? 0 : (value / longest) * BAR_WIDTH
  return `<svg class="bar" width="${BAR_WIDTH}" height="${BAR_HEIGHT}" viewBox="0 0 ${BAR_WIDTH} ${BAR_HEIGHT}" aria-hidden="true" focusable="false"><rect class="track" x="0" y="0" width="${BAR_WIDTH}" height="${BAR_HEIGHT}" rx="2"/><rect class="fill" x="0" y="0" width="${width.toFixed(2)}" height="${BAR_HEIGHT}" rx="2"/></svg>`
}

export function ratioBar(actual: number, limit: number | null, top: number, breached: boolean): string {
  const x = (value: number) => (Math.min(value, top) / top) * BAR_WIDTH
  const marker =
    limit === null
      ? ''
      : `<line class="limit" x1="${x(limit).toFixed(2)}" x2="${x(limit).toFixed(2)}" y1="0" y2="${BAR_HEIGHT}"/>`
  return `<svg class="bar" width="${BAR_WIDTH}" height="${BAR_HEIGHT}" viewBox="0 0 ${BAR_WIDTH} ${BAR_HEIGHT}" aria-hidden="true" focusable="false"><rect class="track" x="0" y="0" width="${BAR_WIDTH}" height="${BAR_HEIGHT}" rx="2"/><rect class="${breached ? 'fill over' : 'fill'}" x="0" y="0" width="${x(actual).toFixed(2)}" height="${BAR_HEIGHT}" rx="2"/>${marker}</svg>`
}

export function section(id: string, heading: string, body: string): string {
  return `<section id="${id}" aria-labelledby="${id}-heading">
<h2 id="${id}-heading">${text(heading)}</h2>
${body}
</section>`
}

export const STYLE = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --track: #eaeef2; --fill: #0969da; --over: #cf222e; --ok-bg: #dafbe1; --ok-ink: #116329; --bad-bg: #ffebe9; --bad-ink: #82071e; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.5rem; margin: 0 0 .75rem; }
h1 .file { display: block; font: 500 1rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: var(--muted); overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1.25rem 0 .25rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; overflow-wrap: anywhere; }
.status { padding: .75rem 1rem; border-radius: 6px; margin: 0 0 .5rem; }
.status.ok { background: var(--ok-bg); color: var(--ok-ink); }
.status.breach { background: var(--bad-bg); color: var(--bad-ink); }
.when, .note { color: var(--muted); font-size: .9rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem .3rem 0; vertical-align: middle; border-bottom: 1px solid var(--track); }
th[scope="row"] { font-weight: 500; overflow-wrap: anywhere; }
thead th { font-size: .8rem; color: var(--muted); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.chart { width: ${BAR_WIDTH + 8}px; }
svg.bar { display: block; }
svg .track { fill: var(--track); }
svg .fill { fill: var(--fill); }
svg .fill.over { fill: var(--over); }
svg .limit { stroke: var(--ink); stroke-width: 2; }
tr.breached th, tr.breached td { color: var(--bad-ink); font-weight: 600; }
.bucket { display: block; font-size: .75rem; color: var(--muted); }
.facts th[scope="row"] { width: 9rem; color: var(--muted); }
.hash { font-size: .8rem; }
.control { font-size: .75em; border: 1px solid var(--line); border-radius: 3px; padding: 0 .15em; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
details { margin-top: .75rem; }
@media (max-width: 40rem) { td.chart { display: none; } }
`
