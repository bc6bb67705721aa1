import { formatNumber } from '../../utils/utils';

export interface Bar {
  label: string;
  value: number;
  /** A Tailwind fill class (fill-indigo-500...). */
  fill: string;
}

/**
 * A small vertical bar chart in SVG (no chart library: the first page must stay small).
 * `max` fixes the scale (to compare several charts); else the largest bar fills the height.
 */
export default function BarChart({
  bars,
  title,
  max,
  width = 240,
  height = 120,
}: {
  bars: Bar[];
  title: string;
  max?: number;
  width?: number;
  height?: number;
}) {
  const top = 14; // room for the value labels
  const bottom = 16; // room for the bar labels
  const plotH = height - top - bottom;
  const scale = Math.max(1, max ?? Math.max(0, ...bars.map((b) => b.value)));
  const slot = width / Math.max(1, bars.length);
  const barW = Math.min(36, slot * 0.6);
  const desc = bars.map((b) => `${b.label} ${formatNumber(b.value)}`).join(', ');
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      width="100%"
      height={height}
      role="img"
      aria-label={`${title}: ${desc}`}
      className="overflow-visible"
      preserveAspectRatio="xMidYMid meet"
    >
      <line x1={0} x2={width} y1={top + plotH + 0.5} y2={top + plotH + 0.5} className="stroke-slate-300 dark:stroke-slate-600" />
      {bars.map((b, i) => {
        const h = b.value > 0 ? Math.max(1, (b.value / scale) * plotH) : 0;
        const x = i * slot + (slot - barW) / 2;
        const y = top + plotH - h;
        return (
          <g key={b.label}>
            <rect x={x} y={y} width={barW} height={h} rx={2} className={b.fill}>
              <title>{`${b.label}: ${formatNumber(b.value)}`}</title>
            </rect>
            <text
              x={x + barW / 2}
              y={y - 3}
              textAnchor="middle"
              className="fill-slate-700 text-[10px] tabular-nums dark:fill-slate-200"
            >
              {formatNumber(b.value)}
            </text>
            <text
              x={x + barW / 2}
              y={height - 3}
              textAnchor="middle"
              className="fill-slate-500 text-[10px] dark:fill-slate-400"
            >
              {b.label}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
