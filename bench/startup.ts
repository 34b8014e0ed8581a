/**
 * Start-up: whole-process time of goci commands that do almost nothing, against `node -e 0`
 * measured in the same run, runs alternating. Target: `goci --help` ≤ 1.3× `node -e 0`.
 *
 *   npm run bench:startup          (BENCH_RUNS=N, default 30; BENCH_BASELINE=DIR also measures another build)
 */
import { fileURLToPath } from 'node:url';
import { againstBaseline, gociBuilds, inTurn } from './baseline.js';
import { median, timeProcess } from './measure.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILDS = gociBuilds(ROOT);
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const TARGET = 1.3;

/** What is timed: the floor, then each command with every goci build measured. */
const COMMANDS: { name: string; args: string[] }[] = [
  { name: '--help', args: ['--help'] },
  { name: 'build --help', args: ['build', '--help'] },
  { name: 'push --help', args: ['push', '--help'] },
  { name: 'inspect --help', args: ['inspect', '--help'] },
];

type Subject = { label: string; args: string[] };

function subjects(): Subject[] {
  const floor: Subject = { label: 'node -e 0', args: ['-e', '0'] };
  const commands = COMMANDS.flatMap((command) =>
    BUILDS.map((build) => ({ label: `${build.name} ${command.name}`, args: [build.cli, ...command.args] })),
  );
  return [floor, ...commands];
}

const all = subjects();
const samples = new Map(all.map((subject) => [subject.label, [] as number[]]));
for (const subject of all) await timeProcess(process.execPath, subject.args, { cwd: ROOT });
for (let run = 0; run < RUNS; run++) {
  for (const subject of inTurn(all, run)) {
    samples.get(subject.label)!.push(await timeProcess(process.execPath, subject.args, { cwd: ROOT }));
  }
}
const medianOf = (label: string): number | undefined => {
  const values = samples.get(label);
  return values && values.length > 0 ? median(values) : undefined;
};
const floor = medianOf('node -e 0')!;
console.log(`start-up, ${RUNS} runs each, medians; node ${process.version}`);
console.log(`  node -e 0            ${floor.toFixed(3)}s`);
let met = true;
for (const command of COMMANDS) {
  const ours = medianOf(`goci ${command.name}`)!;
  const baseline = medianOf(`baseline ${command.name}`);
  const ratio = ours / floor;
  const baselineRatio = baseline === undefined ? '' : ` (baseline ${(baseline / floor).toFixed(2)}× node)`;
  console.log(
    `  goci ${command.name.padEnd(15)} ${ours.toFixed(3)}s = ${ratio.toFixed(2)}× node${baselineRatio}${againstBaseline(ours, baseline)}`,
  );
  if (command.name === '--help') met = ratio <= TARGET;
}
console.log(`target: goci --help ≤ ${TARGET}× node -e 0: ${met ? 'met' : 'NOT met'}`);
