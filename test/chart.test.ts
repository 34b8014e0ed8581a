import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import {
  type BarChart,
  FONT_FAMILY,
  escapeXml,
  estimateTextWidth,
  formatValue,
  renderBarChart,
} from '../bench/chart.js';

const SERIES = [
  { name: 'goci', color: '#0969da' },
  { name: 'Dockerfile (cross)', color: '#bf8700' },
  { name: 'Dockerfile (emulated)', color: '#cf222e' },
  { name: 'go build (floor)', color: '#8c959f' },
];

function linearChart(): BarChart {
  return {
    title: 'Image build time',
    subtitle: 'test machine, 2025-01-01',
    unit: 's',
    series: SERIES.slice(0, 3).map((s) => ({ ...s })),
    groups: [
      {
        label: 'cold',
        bars: [
          { series: 'goci', value: 10 },
          { series: 'Dockerfile (cross)', value: 20, note: '×2.0' },
          { series: 'Dockerfile (emulated)', value: 40, note: '×4.0' },
        ],
      },
    ],
  };
}

function logChart(): BarChart {
  return {
    title: 'Image build time (log scale)',
    unit: 's',
    logScale: true,
    series: SERIES.map((s) => ({ ...s })),
    groups: [
      {
        label: 'warm',
        bars: [
          { series: 'goci', value: 0.5 },
          { series: 'Dockerfile (cross)', value: 5 },
          { series: 'Dockerfile (emulated)', value: 50 },
          { series: 'go build (floor)', value: 200 },
        ],
      },
    ],
  };
}

interface Element {
  name: string;
  attributes: Record<string, string>;
}

/**
 * A minimal strict XML check: every tag is well-formed with quoted, unique attributes, tags nest and
 * balance, there is a single root, and text and attribute values hold no raw `<` nor stray `&`.
 * Returns the start tags in document order.
 */
function parseXml(xml: string): Element[] {
  const elements: Element[] = [];
  const stack: string[] = [];
  const entity = /^&(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/;
  const checkText = (text: string, where: number): void => {
    for (let i = text.indexOf('&'); i >= 0; i = text.indexOf('&', i + 1)) {
      assert.match(text.slice(i), entity, `stray & at ${where + i}`);
    }
  };
  let roots = 0;
  let position = 0;
  while (position < xml.length) {
    const open = xml.indexOf('<', position);
    const text = xml.slice(position, open < 0 ? xml.length : open);
    checkText(text, position);
    if (stack.length === 0) assert.match(text, /^\s*$/, `text outside the root at ${position}`);
    if (open < 0) break;
    const close = xml.indexOf('>', open);
    assert.ok(close > open, `unterminated tag at ${open}`);
    const tag = xml.slice(open + 1, close);
    assert.ok(!tag.includes('<'), `raw < inside tag at ${open}`);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      assert.equal(stack.pop(), name, `mismatched </${name}> at ${open}`);
    } else {
      const selfClosing = tag.endsWith('/');
      const inner = selfClosing ? tag.slice(0, -1) : tag;
      const nameMatch = /^([A-Za-z_][\w.-]*)/.exec(inner);
      assert.ok(nameMatch, `bad tag name at ${open}: <${tag}>`);
      const name = nameMatch[1]!;
      let rest = inner.slice(name.length);
      const attributes: Record<string, string> = {};
      while (rest.trim() !== '') {
        const attribute = /^\s+([A-Za-z_:][\w.:-]*)="([^"<]*)"/.exec(rest);
        assert.ok(attribute, `bad attribute in <${tag}> at ${open}`);
        assert.ok(!(attribute[1]! in attributes), `duplicate attribute ${attribute[1]} at ${open}`);
        checkText(attribute[2]!, open);
        attributes[attribute[1]!] = attribute[2]!;
        rest = rest.slice(attribute[0].length);
      }
      if (stack.length === 0) roots++;
      elements.push({ name, attributes });
      if (!selfClosing) stack.push(name);
    }
    position = close + 1;
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'exactly one root element');
  return elements;
}

function hasXmllint(): boolean {
  try {
    execFileSync('xmllint', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function bars(svg: string): Element[] {
  return parseXml(svg).filter((element) => element.name === 'rect');
}

/** Tick labels of the value axis: label → x. */
function ticks(svg: string): Map<string, number> {
  const group = /<g class="ticks"[^>]*>([\s\S]*?)<\/g>/.exec(svg);
  assert.ok(group, 'no tick group');
  return new Map([...group[1]!.matchAll(/<text x="([\d.]+)"[^>]*>([^<]*)<\/text>/g)].map((m) => [m[2]!, Number(m[1])]));
}

describe('SVG bar chart', () => {
  test('is well-formed XML with a title, size, viewBox and the system font stack', () => {
    for (const chart of [linearChart(), logChart()]) {
      const svg = renderBarChart(chart);
      const elements = parseXml(svg);
      const root = elements[0]!;
      assert.equal(root.name, 'svg');
      assert.equal(root.attributes.xmlns, 'http://www.w3.org/2000/svg');
      assert.match(root.attributes.width!, /^\d+$/);
      assert.match(root.attributes.height!, /^\d+$/);
      assert.equal(root.attributes.viewBox, `0 0 ${root.attributes.width} ${root.attributes.height}`);
      assert.equal(root.attributes['font-family'], FONT_FAMILY);
      assert.equal(elements[1]!.name, 'title');
      assert.ok(svg.includes(`<title id="chart-title">${chart.title}</title>`));
      // Self-contained: nothing fetched, nothing run.
      assert.doesNotMatch(svg, /href|<script|<style|url\(|@import|<image|<foreignObject/i);
      if (hasXmllint()) execFileSync('xmllint', ['--noout', '-'], { input: svg, stdio: ['pipe', 'ignore', 'pipe'] });
    }
  });

  test('the well-formedness check itself rejects broken XML', () => {
    assert.throws(() => parseXml('<svg><g></svg>'));
    assert.throws(() => parseXml('<svg><text>a & b</text></svg>'));
    assert.throws(() => parseXml('<svg x="1" x="2"/>'));
    assert.throws(() => parseXml('<svg/><svg/>'));
  });

  test('one rect per bar, widths proportional to the values on a linear scale', () => {
    const svg = renderBarChart(linearChart());
    const rects = bars(svg);
    assert.equal(rects.length, 3);
    // max 40 s → ticks every 10 s up to 40 s over the 480 px plot: 12 px per second.
    assert.deepEqual(
      rects.map((r) => r.attributes.width),
      ['120', '240', '480'],
    );
    assert.deepEqual(
      rects.map((r) => r.attributes.fill),
      ['#0969da', '#bf8700', '#cf222e'],
    );
    assert.equal(new Set(rects.map((r) => r.attributes.x)).size, 1, 'all bars start at the baseline');
    const x = Number(rects[0]!.attributes.x);
    assert.deepEqual(
      [...ticks(svg)],
      [
        ['0 s', x],
        ['10 s', x + 120],
        ['20 s', x + 240],
        ['30 s', x + 360],
        ['40 s', x + 480],
      ],
    );
    assert.ok(svg.includes('>10.0 s</text>'));
    assert.ok(svg.includes('>20.0 s<tspan dx="6" fill="#57606a">×2.0</tspan></text>'));
    assert.ok(svg.includes('>40.0 s<tspan dx="6" fill="#57606a">×4.0</tspan></text>'));
  });

  test('log scale places 0.1 s, 1 s, 10 s, 100 s, 1000 s ticks at equal distances', () => {
    const svg = renderBarChart(logChart());
    const positions = ticks(svg);
    assert.deepEqual([...positions.keys()], ['0.1 s', '1 s', '10 s', '100 s', '1000 s']);
    const xs = [...positions.values()];
    const steps = xs.slice(1).map((x, i) => Math.round((x - xs[i]!) * 10) / 10);
    assert.deepEqual(steps, [120, 120, 120, 120]);
    const rects = bars(svg);
    assert.equal(rects.length, 4);
    // (log10(v) + 1) / 4 decades × 480 px, rounded to 0.1 px.
    assert.deepEqual(
      rects.map((r) => r.attributes.width),
      ['83.9', '203.9', '323.9', '396.1'],
    );
    // A bar of exactly 10 s ends on the 10 s tick.
    const ten = logChart();
    ten.groups[0]!.bars[1]!.value = 10;
    const tenSvg = renderBarChart(ten);
    const tenBar = bars(tenSvg)[1]!;
    assert.equal(Number(tenBar.attributes.x) + Number(tenBar.attributes.width), ticks(tenSvg).get('10 s'));
  });

  test('log scale decades cover the data, including exact powers of ten', () => {
    const chart = logChart();
    chart.groups[0]!.bars = [
      { series: 'goci', value: 1 },
      { series: 'go build (floor)', value: 100 },
    ];
    const svg = renderBarChart(chart);
    assert.deepEqual([...ticks(svg).keys()], ['1 s', '10 s', '100 s']);
    assert.deepEqual(
      bars(svg).map((r) => r.attributes.width),
      ['0', '480'],
    );
  });

  test('text is escaped', () => {
    const chart = linearChart();
    chart.title = 'Tom & Jerry\'s "build"';
    chart.groups[0]!.label = '<goci & co>';
    chart.series[0]!.name = '<goci & co>';
    chart.groups[0]!.bars[0]!.series = '<goci & co>';
    chart.groups[0]!.bars[0]!.note = 'a<b';
    const svg = renderBarChart(chart);
    parseXml(svg);
    assert.ok(svg.includes('&lt;goci &amp; co&gt;'));
    assert.ok(!svg.includes('<goci'));
    assert.ok(svg.includes('<title id="chart-title">Tom &amp; Jerry&apos;s &quot;build&quot;</title>'));
    assert.ok(svg.includes('a&lt;b'));
    assert.equal(escapeXml('\u0001x\uD800'), '\uFFFDx\uFFFD', 'characters XML cannot carry are replaced');
  });

  test('same input → identical bytes, coordinates rounded to one decimal', () => {
    for (const make of [linearChart, logChart]) {
      const first = renderBarChart(make());
      assert.equal(renderBarChart(make()), first);
      assert.equal(renderBarChart(JSON.parse(JSON.stringify(make())) as BarChart), first);
      for (const element of parseXml(first)) {
        for (const name of ['x', 'y', 'width', 'height', 'dx']) {
          const value = element.attributes[name];
          if (value !== undefined) assert.match(value, /^-?\d+(\.\d)?$/, `${element.name} ${name}="${value}"`);
        }
      }
      for (const d of first.matchAll(/ d="([^"]*)"/g)) {
        for (const number of d[1]!.match(/-?[\d.]+/g)!) assert.match(number, /^-?\d+(\.\d)?$/, `path number ${number}`);
      }
    }
  });

  test('a contender that was not run gets a "not run" label and no rect', () => {
    const chart = logChart();
    chart.groups[0]!.bars[2]!.value = Number.NaN;
    chart.groups[0]!.bars[3]!.value = undefined;
    chart.groups.push({ label: 'cold', bars: [{ series: 'goci', value: null }] });
    const svg = renderBarChart(chart);
    parseXml(svg);
    assert.equal(bars(svg).length, 2);
    assert.equal(svg.match(/<text class="not-run"[^>]*>not run<\/text>/g)?.length, 3);
    assert.ok(!svg.includes('NaN'));
    assert.ok(!svg.includes('undefined'));
    // Nothing to draw at all still gives a valid chart with an axis.
    const empty = renderBarChart({
      title: 'nothing',
      unit: 's',
      series: SERIES,
      groups: [{ label: 'cold', bars: [{ series: 'goci', value: Number.NaN }] }],
    });
    parseXml(empty);
    assert.equal(bars(empty).length, 0);
    assert.ok(empty.includes('>not run</text>'));
  });

  test('bars follow the series order and every series is in the legend', () => {
    const chart = linearChart();
    chart.groups[0]!.bars.reverse();
    const svg = renderBarChart(chart);
    assert.deepEqual(
      bars(svg).map((r) => r.attributes.width),
      ['120', '240', '480'],
    );
    const legend = /<g class="legend"[^>]*>([\s\S]*?)<\/g>/.exec(svg)![1]!;
    for (const s of chart.series)
      assert.ok(legend.includes(`>${s.name}</text>`) && legend.includes(`fill="${s.color}"`));
  });

  test('sizes follow the data: long labels widen the chart instead of overlapping', () => {
    const short = renderBarChart(linearChart());
    const chart = linearChart();
    const long = 'Dockerfile (emulated with QEMU user-mode on an x86_64 runner)';
    chart.series[2]!.name = long;
    chart.groups[0]!.bars[2]!.series = long;
    const svg = renderBarChart(chart);
    const width = (s: string): number => Number(parseXml(s)[0]!.attributes.width);
    assert.ok(width(svg) > width(short));
    // The row label (right-aligned at the gutter) starts right of the left padding.
    const label = new RegExp(
      `<text x="([\\d.]+)"[^>]*text-anchor="end"[^>]*>${escapeXml(long).replace(/[()]/g, '\\$&')}</text>`,
    ).exec(svg);
    assert.ok(label);
    assert.ok(Number(label[1]) - estimateTextWidth(long, 12) >= 16 - 0.1);
    assert.ok(Number(label[1]) < Number(bars(svg)[0]!.attributes.x));
    // Value labels end inside the chart.
    let valueLabels = 0;
    for (const m of svg.matchAll(
      /<text x="([\d.]+)" y="[\d.]+" font-size="11">([^<]*)(?:<tspan dx="6"[^>]*>([^<]*)<\/tspan>)?<\/text>/g,
    )) {
      const end = Number(m[1]) + estimateTextWidth(m[2]!, 11) + (m[3] ? 6 + estimateTextWidth(m[3], 11) : 0);
      assert.ok(end <= width(svg) - 16 + 0.1, `${m[2]} ends at ${end}`);
      valueLabels++;
    }
    assert.equal(valueLabels, 3);
    // More rows → taller.
    const taller = linearChart();
    taller.groups.push({ label: 'warm', bars: [{ series: 'goci', value: 1 }] });
    assert.ok(
      Number(parseXml(renderBarChart(taller))[0]!.attributes.height) > Number(parseXml(short)[0]!.attributes.height),
    );
  });

  test('values are formatted with one decimal, small ones with two significant digits', () => {
    assert.equal(formatValue(12.345, 's'), '12.3 s');
    assert.equal(formatValue(0.2, 's'), '0.2 s');
    assert.equal(formatValue(0.0042, 's'), '0.0042 s');
    assert.equal(formatValue(0, 's'), '0 s');
    assert.equal(formatValue(3, ''), '3.0');
  });
});
