/**
 * Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time by function and by
 * package or source file. Usage: ts-node bench/profile/aggregate-cpuprofile.ts <file|dir>... [--top N]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fmtNum, out, table } from '../lib/util';

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
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** node_modules/<pkg> (scoped too), the service's own file, node:internal, or a V8 pseudo-frame. */
export function ownerOf(url: string, functionName: string): string {
  if (url === '') {
    return `(${functionName || 'native'})`;
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm && !url.includes('node_modules/.cache/otb-bench/')) {
    return nm[1];
  }
  const own = /otb-bench\/(dist|baseline)\/(.+)$/.exec(url);
  if (own) {
    return `${own[1]}/${own[2]}`;
  }
  if (url.startsWith('node:')) {
    return url
      .replace(/^node:internal\//, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  }
  return url.replace(/^file:\/\//, '');
}

function files(args: string[]): string[] {
  return args.flatMap((arg) =>
    statSync(arg).isDirectory()
      ? readdirSync(arg)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => join(arg, f))
      : [arg],
  );
}

function main(): void {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
  const inputs = topIndex >= 0 ? args.filter((_, i) => i !== topIndex && i !== topIndex + 1) : args;
  if (inputs.length === 0) {
    out('usage: aggregate-cpuprofile <file.cpuprofile|dir>... [--top N]');
    process.exitCode = 2;
    return;
  }
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let total = 0;
  for (const file of files(inputs)) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      const frame = nodes.get(id)?.callFrame;
      if (!frame) {
        return;
      }
      const owner = ownerOf(frame.url, frame.functionName);
      const fn = `${frame.functionName || '(anonymous)'}  ${owner}:${frame.lineNumber + 1}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + delta);
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + delta);
      total += delta;
    });
  }
  const render = (map: Map<string, number>, title: string): void => {
    const sorted = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
    out(
      table([
        [title, 'self ms', 'self %'],
        ...sorted.map(([name, us]) => [name, fmtNum(us / 1000, 0), fmtNum((us / total) * 100)]),
      ]),
    );
  };
  out(`total sampled ${fmtNum(total / 1e6)} s`);
  render(byOwner, 'package / file');
  out();
  render(byFunction, 'function  location');
}

main();
