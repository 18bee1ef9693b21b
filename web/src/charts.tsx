// Small accessible SVG charts for the requester dashboard: throughput per hour
// (grouped bars) and a histogram. Colours come from the theme's CSS variables.
import "./pages/requester.css";

export interface ThroughputPoint {
  start: string;
  submitted: number;
  accepted: number;
}

const W = 640;
const H = 180;
const PAD = { l: 34, r: 8, t: 10, b: 26 };

/** A rounded-up axis maximum (1, 2, 5, 10, 20, ...) at or above `v`. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function hourLabel(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${String(d.getHours()).padStart(2, "0")}:00`;
}

function YAxis({ max }: { max: number }) {
  const ticks = Number.isInteger(max / 2) ? [0, max / 2, max] : [0, max];
  const y = (v: number) => PAD.t + (H - PAD.t - PAD.b) * (1 - v / max);
  return (
    <g aria-hidden="true">
      {ticks.map((t) => (
        <g key={t}>
          <line x1={PAD.l} x2={W - PAD.r} y1={y(t)} y2={y(t)} class="grid" />
          <text x={PAD.l - 4} y={y(t) + 3} text-anchor="end">
            {Number.isInteger(t) ? t : t.toFixed(1)}
          </text>
        </g>
      ))}
    </g>
  );
}

/** Submitted and accepted work per hour, oldest first (stats.throughput). */
export function ThroughputChart({ data }: { data: ThroughputPoint[] | undefined }) {
  if (!data || data.length === 0) return <p class="muted chart-empty">No throughput data yet.</p>;
  const submitted = data.reduce((s, d) => s + d.submitted, 0);
  const accepted = data.reduce((s, d) => s + d.accepted, 0);
  const peak = data.reduce((m, d) => (d.submitted > m.submitted ? d : m), data[0]);
  const summary =
    `Throughput over the last ${data.length} hours: ${submitted} submitted, ${accepted} accepted` +
    (submitted > 0 ? `; busiest hour ${hourLabel(peak.start)} with ${peak.submitted} submitted.` : ".");
  const max = niceMax(Math.max(...data.map((d) => Math.max(d.submitted, d.accepted))));
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const slot = plotW / data.length;
  const bw = Math.max(1, slot / 2 - 1);
  const y = (v: number) => PAD.t + plotH * (1 - v / max);
  const every = Math.max(1, Math.ceil(data.length / 8));
  return (
    <figure class="chart-figure">
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
        <title>{summary}</title>
        <YAxis max={max} />
        {data.map((d, i) => {
          const x = PAD.l + i * slot;
          return (
            <g key={d.start}>
              <title>{`${hourLabel(d.start)}: ${d.submitted} submitted, ${d.accepted} accepted`}</title>
              <rect class="bar" x={x + 0.5} y={y(d.submitted)} width={bw} height={Math.max(0, y(0) - y(d.submitted))} />
              <rect class="bar2" x={x + 0.5 + bw} y={y(d.accepted)} width={bw} height={Math.max(0, y(0) - y(d.accepted))} />
              {i % every === 0 && (
                <text x={x + slot / 2} y={H - 8} text-anchor="middle" aria-hidden="true">
                  {hourLabel(d.start)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        <span class="swatch bar" aria-hidden="true" /> submitted <span class="swatch bar2" aria-hidden="true" /> accepted (per hour)
      </figcaption>
      <table class="visually-hidden">
        <caption>Throughput per hour</caption>
        <thead>
          <tr>
            <th>Hour</th>
            <th>Submitted</th>
            <th>Accepted</th>
          </tr>
        </thead>
        <tbody>
          {data
            .filter((d) => d.submitted || d.accepted)
            .map((d) => (
              <tr key={d.start}>
                <td>{new Date(d.start).toLocaleString()}</td>
                <td>{d.submitted}</td>
                <td>{d.accepted}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </figure>
  );
}

export interface Bin {
  lo: number;
  hi: number;
  count: number;
}

/** Equal-width bins over [min, max] of `values` (at most `n`; one bin when all are equal). */
export function histogramBins(values: number[], n = 8): Bin[] {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return [];
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  if (lo === hi) return [{ lo, hi, count: v.length }];
  const k = Math.max(1, Math.min(n, Math.ceil(Math.sqrt(v.length)) + 1));
  const width = (hi - lo) / k;
  const bins: Bin[] = Array.from({ length: k }, (_, i) => ({ lo: lo + i * width, hi: lo + (i + 1) * width, count: 0 }));
  for (const x of v) bins[Math.min(k - 1, Math.floor((x - lo) / width))].count++;
  return bins;
}

/** A histogram of `values` (e.g. hourly earnings per annotator), with `unit` in labels. */
export function Histogram({ values, unit, what }: { values: number[] | undefined; unit: string; what: string }) {
  if (!values || values.length === 0) return <p class="muted chart-empty">No data yet.</p>;
  const bins = histogramBins(values);
  const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const summary = `${what}: ${values.length} annotator${values.length === 1 ? "" : "s"}, from ${fmt(sorted[0])} to ${fmt(sorted[sorted.length - 1])} ${unit}, median ${fmt(median)} ${unit}.`;
  const max = niceMax(Math.max(...bins.map((b) => b.count)));
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const slot = plotW / bins.length;
  const barW = Math.max(1, Math.min(slot - 4, 140));
  const y = (v: number) => PAD.t + plotH * (1 - v / max);
  const label = (b: Bin) => (b.lo === b.hi ? `${fmt(b.lo)}` : `${fmt(b.lo)}–${fmt(b.hi)}`);
  return (
    <figure class="chart-figure">
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
        <title>{summary}</title>
        <YAxis max={max} />
        {bins.map((b, i) => (
          <g key={i}>
            <title>{`${label(b)} ${unit}: ${b.count}`}</title>
            <rect
              class="bar"
              x={PAD.l + i * slot + (slot - barW) / 2}
              y={y(b.count)}
              width={barW}
              height={Math.max(0, y(0) - y(b.count))}
            />
            <text x={PAD.l + i * slot + slot / 2} y={H - 8} text-anchor="middle" aria-hidden="true">
              {label(b)}
            </text>
          </g>
        ))}
      </svg>
      <figcaption class="legend">
        annotators per range of {unit}
      </figcaption>
      <table class="visually-hidden">
        <caption>{what}</caption>
        <thead>
          <tr>
            <th>Range ({unit})</th>
            <th>Annotators</th>
          </tr>
        </thead>
        <tbody>
          {bins.map((b, i) => (
            <tr key={i}>
              <td>{label(b)}</td>
              <td>{b.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
