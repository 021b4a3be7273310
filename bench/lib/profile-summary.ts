/**
 * Self time of V8 CPU profiles (.cpuprofile) per module and per function, cut to the saturation
 * window that bench/deployment.ts --profile-dir writes next to them (window.json), in µs per record.
 *
 *   npx tsx bench/lib/profile-summary.ts <dir>/<mode>-r<round> [--top 25]
 *
 * A module is a package under node_modules, a file of this project (src/…), or V8's own entries
 * ((garbage collector), (program), (idle)); the idle time is left out of the totals.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Window {
  fromUs: number;
  toUs: number;
  records: number;
}

/** Where a call frame's code lives. */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules >= 0) {
    const rest = path.slice(inModules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (path.startsWith('node:')) return path;
  return relative(process.cwd(), path);
}

/** Self µs per module and per function within the window. */
export function selfTimes(profile: CpuProfile, window: Window | undefined): { modules: Map<string, number>; functions: Map<string, number>; totalUs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const modules = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i]!;
    // a sample stands for the time until the next one
    const span = i + 1 < profile.timeDeltas.length ? profile.timeDeltas[i + 1]! : 0;
    if (window !== undefined && (at < window.fromUs || at > window.toUs)) continue;
    const frame = byId.get(profile.samples[i]!)!;
    if (frame.functionName === '(idle)') continue;
    const module = moduleOf(frame);
    const fn = `${frame.functionName || '(anonymous)'} ${module}:${frame.lineNumber + 1}`;
    modules.set(module, (modules.get(module) ?? 0) + span);
    functions.set(fn, (functions.get(fn) ?? 0) + span);
    totalUs += span;
  }
  return { modules, functions, totalUs };
}

function profilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...profilesUnder(path));
    else if (entry.endsWith('.cpuprofile')) out.push(path);
  }
  return out;
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  const dir = positionals[0];
  if (dir === undefined) throw new Error('usage: profile-summary.ts <dir>/<mode>-r<round> [--top 25]');
  const top = Number(values.top);
  let window: Window | undefined;
  try {
    window = JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8')) as Window;
  } catch {
    window = undefined;
  }
  const records = window?.records ?? 1;
  const perRecord = (us: number): string => (us / records).toFixed(2).padStart(8);
  for (const file of profilesUnder(dir)) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const { modules, functions, totalUs } = selfTimes(profile, window);
    if (totalUs === 0) continue;
    console.log(`\n${relative(dir, file)}: ${perRecord(totalUs)} µs/record busy (${(totalUs / 1000).toFixed(0)} ms in the window)`);
    console.log('  by module:');
    for (const [name, us] of [...modules].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${perRecord(us)}  ${name}`);
    console.log('  by function:');
    for (const [name, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${perRecord(us)}  ${name}`);
  }
}

main();
