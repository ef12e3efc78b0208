/**
 * Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time by function and by file, top
 * N. Usage: tsx bench/cpu-profile-summary.ts [--top 25] [--during OTHER.cpuprofile] FILE.cpuprofile...
 * --during counts only the samples taken while OTHER was recording (e.g. the main thread's samples
 * while capture's producer thread ran, which leaves out the workload's generation).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' }, during: { type: 'string' } }, allowPositionals: true });
const top = Number(values.top);
const window = values.during ? (JSON.parse(readFileSync(values.during, 'utf8')) as Profile) : undefined;

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  // a sample's time is the delta to the next sample
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.startTime || at > window.endTime)) continue;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + delta);
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/') || '(native)';
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const name = `${frame.functionName || '(anonymous)'} ${short(frame.url)}:${frame.lineNumber + 1}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
    const fileKey = short(frame.url).replace(/^node_modules\/((@[^/]+\/)?[^/]+).*/, 'node_modules/$1');
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const print = (title: string, map: Map<string, number>) => {
    process.stdout.write(`\n${title}\n`);
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((us / (total - idle)) * 100).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(2).padStart(6)} s  ${name}\n`);
    }
  };
  process.stdout.write(`\n# ${file}: ${(total / 1e6).toFixed(1)} s sampled, ${((total - idle) / 1e6).toFixed(1)} s busy (percentages of busy)\n`);
  print('self time by function', fns);
  print('self time by file or package', files);
}
