/**
 * A dependency-free SVG renderer for horizontal grouped bar charts of benchmark results, made to be
 * committed next to the README (GitHub shows SVG images in Markdown through <img>, so the file is
 * self-contained: no scripts, external fonts, stylesheets or links).
 *
 * Layout, top to bottom: title, optional subtitle, legend (wrapped to the chart width), then one block
 * per group: the group label as a bold header and one row per bar, the series name at the left, the bar
 * and its value label (`12.3 s`, then the optional note such as `×4.2`) at the right, and the value axis
 * with labelled ticks at the bottom. Every size is computed from the data with a per-character text
 * width estimate, so long labels widen the chart instead of overlapping. Output is deterministic:
 * coordinates are rounded to one decimal and nothing depends on the clock or the locale.
 *
 * The only <rect> elements are the bars (the background and legend swatches are paths), so counting
 * `<rect` counts drawn bars. A bar without a finite value (NaN, undefined, null: a contender that was
 * not run) is drawn as a "not run" label instead of a bar.
 */

export interface Bar {
  /** Name of a series in `BarChart.series`; decides colour and order within the group. */
  series: string;
  /** Seconds (or whatever `unit` says); NaN, undefined or null means "not run". Negative values draw as 0. */
  value?: number | null;
  /** Shown after the value, e.g. `×4.2`. */
  note?: string;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface Series {
  name: string;
  /** Any SVG colour, e.g. `#0969da`. */
  color: string;
}

export interface BarChart {
  title: string;
  /** E.g. the machine and date. */
  subtitle?: string;
  /** Unit after every value and tick label, e.g. `s`. */
  unit: string;
  groups: BarGroup[];
  /** Fixed order (bars within a group are drawn in this order) and colours. */
  series: Series[];
  /** Logarithmic value axis with labelled decades, for values spanning orders of magnitude. */
  logScale?: boolean;
}

export const FONT_FAMILY = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';

const PAD = 16;
const PLOT_WIDTH = 480;
const TITLE_SIZE = 16;
const SUBTITLE_SIZE = 12;
const LEGEND_SIZE = 12;
const GROUP_SIZE = 13;
const LABEL_SIZE = 12;
const VALUE_SIZE = 11;
const TICK_SIZE = 11;
const ROW_HEIGHT = 20;
const BAR_HEIGHT = 14;
const GROUP_HEADER = 22;
const GROUP_GAP = 8;
const LEGEND_ROW = 18;
const LEGEND_SWATCH = 10;
const LEGEND_ITEM_GAP = 16;
const GUTTER_GAP = 8;
const VALUE_GAP = 5;
const NOTE_GAP = 6;
const TICK_LENGTH = 4;
const NOT_RUN = 'not run';

const TEXT = '#24292f';
const MUTED = '#57606a';
const GRID = '#d8dee4';
const AXIS = '#8c959f';
const BACKGROUND = '#ffffff';
const FALLBACK_COLORS = ['#6e7781', '#bf8700', '#8250df', '#1a7f37', '#cf222e', '#0969da'];

/** Escapes text for XML content and attribute values; characters XML cannot carry become U+FFFD. */
export function escapeXml(text: string): string {
  return text
    .replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters XML cannot carry are what this finds
      /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
      '\uFFFD',
    )
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * Estimated advance width of `text` at `fontSize` px: Helvetica/Arial-like metrics with a 10% margin,
 * enough for the wider fallbacks (DejaVu Sans on Linux, what librsvg uses when nothing else matches).
 */
export function estimateTextWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const char of text) em += charWidth(char);
  return em * fontSize * (bold ? 1.12 : 1) * 1.1;
}

function charWidth(char: string): number {
  const code = char.codePointAt(0)!;
  if (code >= 0x2e80 || char === '—') return 1; // CJK, emoji and other wide glyphs
  if (' \t\n\r'.includes(char)) return 0.28;
  if ("ijl|!.,:;'`".includes(char)) return 0.26;
  if ('ftrI()[]{}-/\\"'.includes(char)) return 0.36;
  if ('mwMW@%'.includes(char)) return 0.9;
  if (char >= '0' && char <= '9') return 0.56;
  if (char >= 'A' && char <= 'Z') return 0.68;
  if (char >= 'a' && char <= 'z') return 0.55;
  return 0.62;
}

/** A value as shown on a bar: one decimal (`12.3`), two significant digits below 0.1 (`0.042`). */
export function formatValue(value: number, unit: string): string {
  const abs = Math.abs(value);
  const number = abs === 0 ? '0' : abs >= 0.1 ? value.toFixed(1) : String(Number(value.toPrecision(2)));
  return withUnit(number, unit);
}

function withUnit(number: string, unit: string): string {
  return unit ? `${number} ${unit}` : number;
}

/** A coordinate rounded to one decimal, without `-0`. */
function n(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

function present(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

interface Tick {
  /** Distance from the plot's left edge. */
  x: number;
  label: string;
}

interface Scale {
  /** Bar length for a value. */
  length(value: number): number;
  ticks: Tick[];
}

/** Exponent e with 10^e ≤ value < 10^(e+1), immune to Math.log10 rounding at exact powers. */
function decadeFloor(value: number): number {
  let e = Math.floor(Math.log10(value));
  while (10 ** e > value) e--;
  while (10 ** (e + 1) <= value) e++;
  return e;
}

function decadeLabel(exponent: number): string {
  return exponent >= 0 ? String(10 ** exponent) : (10 ** exponent).toFixed(-exponent);
}

function logScale(values: number[], unit: string): Scale {
  const positive = values.filter((v) => v > 0);
  let low = positive.length > 0 ? decadeFloor(Math.min(...positive)) : 0;
  let high = positive.length > 0 ? decadeFloor(Math.max(...positive)) : 1;
  if (positive.length > 0 && 10 ** high < Math.max(...positive)) high++;
  if (high <= low) high = low + 1;
  if (high - low > 12) low = high - 12; // keep decades legible; smaller values draw as empty bars
  const span = high - low;
  const position = (exponent: number): number => ((exponent - low) / span) * PLOT_WIDTH;
  const ticks: Tick[] = [];
  for (let e = low; e <= high; e++) ticks.push({ x: position(e), label: withUnit(decadeLabel(e), unit) });
  return {
    length: (value) => (value <= 0 ? 0 : Math.min(PLOT_WIDTH, Math.max(0, position(Math.log10(value))))),
    ticks,
  };
}

function linearScale(values: number[], unit: string): Scale {
  const max = Math.max(0, ...values);
  let step = 1;
  let top = 1;
  if (max > 0) {
    const raw = max / 5;
    const magnitude = 10 ** Math.floor(Math.log10(raw));
    const normalized = raw / magnitude;
    step = (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
    top = Math.ceil(max / step - 1e-9) * step;
  }
  const count = Math.round(top / step);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks: Tick[] = [];
  for (let k = 0; k <= count; k++)
    ticks.push({ x: (k / count) * PLOT_WIDTH, label: withUnit((k * step).toFixed(decimals), unit) });
  return { length: (value) => (value <= 0 ? 0 : Math.min(PLOT_WIDTH, (value / top) * PLOT_WIDTH)), ticks };
}

interface Row {
  group: string;
  series: string;
  color: string;
  value?: number;
  note?: string;
  /** Main label text: the formatted value or "not run". */
  label: string;
  length: number;
}

/** Renders the chart as a standalone SVG document (UTF-8 text, ending in a newline). */
export function renderBarChart(chart: BarChart): string {
  // Series: the given order and colours, then any series only named by bars, in order of appearance.
  const series: Series[] = [];
  const colorOf = new Map<string, string>();
  const orderOf = new Map<string, number>();
  const addSeries = (name: string, color: string): void => {
    if (orderOf.has(name)) return;
    orderOf.set(name, series.length);
    colorOf.set(name, color);
    series.push({ name, color });
  };
  for (const s of chart.series) addSeries(s.name, s.color);
  let fallback = 0;
  for (const group of chart.groups) {
    for (const bar of group.bars)
      if (!orderOf.has(bar.series)) addSeries(bar.series, FALLBACK_COLORS[fallback++ % FALLBACK_COLORS.length]!);
  }

  const values = chart.groups.flatMap((g) => g.bars.map((b) => b.value)).filter(present);
  const scale = chart.logScale ? logScale(values, chart.unit) : linearScale(values, chart.unit);

  const groups = chart.groups.map((group) => ({
    label: group.label,
    rows: group.bars
      .map((bar, index) => ({ bar, index }))
      .sort((a, b) => orderOf.get(a.bar.series)! - orderOf.get(b.bar.series)! || a.index - b.index)
      .map(({ bar }): Row => {
        const row: Row = {
          group: group.label,
          series: bar.series,
          color: colorOf.get(bar.series)!,
          label: NOT_RUN,
          length: 0,
        };
        if (present(bar.value)) {
          row.value = bar.value;
          row.label = formatValue(bar.value, chart.unit);
          row.length = scale.length(bar.value);
        }
        if (bar.note) row.note = bar.note;
        return row;
      }),
  }));
  const rows = groups.flatMap((g) => g.rows);

  // Horizontal extents.
  const labelWidth = (row: Row): number =>
    estimateTextWidth(row.label, VALUE_SIZE) + (row.note ? NOTE_GAP + estimateTextWidth(row.note, VALUE_SIZE) : 0);
  const firstTick = scale.ticks[0]!;
  const lastTick = scale.ticks[scale.ticks.length - 1]!;
  const gutter = Math.max(
    0,
    ...rows.map((row) => estimateTextWidth(row.series, LABEL_SIZE)),
    estimateTextWidth(firstTick.label, TICK_SIZE) / 2 - GUTTER_GAP,
  );
  const plotLeft = PAD + gutter + GUTTER_GAP;
  const plotExtent = Math.max(
    PLOT_WIDTH,
    lastTick.x + estimateTextWidth(lastTick.label, TICK_SIZE) / 2,
    ...rows.map((row) => row.length + VALUE_GAP + labelWidth(row)),
  );
  const legendItems = series.map((s) => ({ ...s, width: LEGEND_SWATCH + 5 + estimateTextWidth(s.name, LEGEND_SIZE) }));
  const width = Math.ceil(
    Math.max(
      plotLeft + plotExtent + PAD,
      2 * PAD + estimateTextWidth(chart.title, TITLE_SIZE, true),
      chart.subtitle ? 2 * PAD + estimateTextWidth(chart.subtitle, SUBTITLE_SIZE) : 0,
      ...groups.map((g) => 2 * PAD + estimateTextWidth(g.label, GROUP_SIZE, true)),
      ...legendItems.map((item) => 2 * PAD + item.width),
    ),
  );

  const out: string[] = [];
  const body: string[] = [];
  let y = PAD;

  body.push(
    `<text x="${n(PAD)}" y="${n(y + TITLE_SIZE - 3)}" font-size="${TITLE_SIZE}" font-weight="600">${escapeXml(chart.title)}</text>`,
  );
  y += TITLE_SIZE + 6;
  if (chart.subtitle) {
    body.push(
      `<text x="${n(PAD)}" y="${n(y + SUBTITLE_SIZE - 2)}" font-size="${SUBTITLE_SIZE}" fill="${MUTED}">${escapeXml(chart.subtitle)}</text>`,
    );
    y += SUBTITLE_SIZE + 6;
  }

  // Legend, wrapped to the chart width.
  if (legendItems.length > 0) {
    y += 4;
    let x = PAD;
    const swatches: string[] = [];
    const names: string[] = [];
    for (const item of legendItems) {
      if (x > PAD && x + item.width > width - PAD) {
        x = PAD;
        y += LEGEND_ROW;
      }
      const top = y + (LEGEND_ROW - LEGEND_SWATCH) / 2;
      swatches.push(
        `<path d="M${n(x)} ${n(top)}h${LEGEND_SWATCH}v${LEGEND_SWATCH}h-${LEGEND_SWATCH}z" fill="${escapeXml(item.color)}"/>`,
      );
      names.push(
        `<text x="${n(x + LEGEND_SWATCH + 5)}" y="${n(y + LEGEND_ROW / 2 + 4)}">${escapeXml(item.name)}</text>`,
      );
      x += item.width + LEGEND_ITEM_GAP;
    }
    body.push(`<g class="legend" font-size="${LEGEND_SIZE}">`, ...swatches, ...names, '</g>');
    y += LEGEND_ROW;
  }
  y += 8;

  // Groups: header, then one row per bar. Grid lines are drawn only alongside the rows.
  const grid: string[] = [];
  const baseline: string[] = [];
  const bars: string[] = [];
  const labels: string[] = [];
  const headers: string[] = [];
  groups.forEach((group, index) => {
    if (index > 0) y += GROUP_GAP;
    headers.push(`<text x="${n(PAD)}" y="${n(y + GROUP_HEADER - 7)}">${escapeXml(group.label)}</text>`);
    y += GROUP_HEADER;
    const rowsTop = y;
    for (const row of group.rows) {
      const middle = y + ROW_HEIGHT / 2;
      labels.push(
        `<text x="${n(plotLeft - GUTTER_GAP)}" y="${n(middle + 4)}" text-anchor="end" font-size="${LABEL_SIZE}">${escapeXml(row.series)}</text>`,
      );
      const note = row.note ? `<tspan dx="${NOTE_GAP}" fill="${MUTED}">${escapeXml(row.note)}</tspan>` : '';
      if (row.value === undefined) {
        labels.push(
          `<text class="not-run" x="${n(plotLeft + VALUE_GAP)}" y="${n(middle + 4)}" font-size="${VALUE_SIZE}" font-style="italic" fill="${MUTED}">${NOT_RUN}${note}</text>`,
        );
      } else {
        bars.push(
          `<rect class="bar" x="${n(plotLeft)}" y="${n(middle - BAR_HEIGHT / 2)}" width="${n(row.length)}" height="${BAR_HEIGHT}" fill="${escapeXml(row.color)}"/>`,
        );
        labels.push(
          `<text x="${n(plotLeft + row.length + VALUE_GAP)}" y="${n(middle + 4)}" font-size="${VALUE_SIZE}">${escapeXml(row.label)}${note}</text>`,
        );
      }
      y += ROW_HEIGHT;
    }
    // Grid lines and the baseline run alongside the rows only, so long group labels cross no line.
    if (group.rows.length > 0) {
      for (const tick of scale.ticks) if (tick.x > 0) grid.push(`M${n(plotLeft + tick.x)} ${n(rowsTop)}V${n(y)}`);
      baseline.push(`M${n(plotLeft)} ${n(rowsTop)}V${n(y + (index === groups.length - 1 ? 2 : 0))}`);
    }
  });
  const plotBottom = y + 2;

  if (grid.length > 0) body.push(`<path class="grid" d="${grid.join('')}" stroke="${GRID}" fill="none"/>`);
  body.push(`<g class="groups" font-size="${GROUP_SIZE}" font-weight="600">`, ...headers, '</g>');
  body.push('<g class="bars">', ...bars, '</g>');
  body.push('<g class="labels">', ...labels, '</g>');

  // Value axis: baseline, axis line, tick marks and labels.
  const axis = [...baseline, `M${n(plotLeft)} ${n(plotBottom)}H${n(plotLeft + PLOT_WIDTH)}`];
  for (const tick of scale.ticks) axis.push(`M${n(plotLeft + tick.x)} ${n(plotBottom)}v${TICK_LENGTH}`);
  body.push(`<path class="axis" d="${axis.join('')}" stroke="${AXIS}" fill="none"/>`);
  const tickLabels = scale.ticks.map(
    (tick) =>
      `<text x="${n(plotLeft + tick.x)}" y="${n(plotBottom + TICK_LENGTH + TICK_SIZE + 2)}" text-anchor="middle">${escapeXml(tick.label)}</text>`,
  );
  body.push(`<g class="ticks" font-size="${TICK_SIZE}" fill="${MUTED}">`, ...tickLabels, '</g>');
  const height = Math.ceil(plotBottom + TICK_LENGTH + TICK_SIZE + 6 + PAD);

  const description = [
    chart.subtitle ?? '',
    ...groups.map(
      (g) => `${g.label}: ${g.rows.map((r) => `${r.series} ${r.label}${r.note ? ` (${r.note})` : ''}`).join(', ')}.`,
    ),
  ]
    .filter(Boolean)
    .join(' ');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title chart-desc" font-family="${FONT_FAMILY}" fill="${TEXT}">`,
    `<title id="chart-title">${escapeXml(chart.title)}</title>`,
    `<desc id="chart-desc">${escapeXml(description)}</desc>`,
    `<path d="M0 0H${width}V${height}H0z" fill="${BACKGROUND}"/>`,
    ...body,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
