/**
 * Sums StrykerJS JSON reports into a score per folder and per file:
 *   npm run -s mutation:summary -- reports/mutation/*.json [--survivors]
 * A file measured in several reports counts once, from the newest report (so a rerun of one file
 * replaces its earlier figures). A run still going (or stopped) has no JSON report yet: with the
 * `event-recorder` reporter it leaves one file per tested mutant in reports/mutation/events, and
 * that folder can be given instead (`-- reports/mutation/events`): the figures so far. The score is Stryker's: (killed + timed out) over every mutant
 * that was tested or had no coverage; mutants that did not compile or were ignored do not count.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface ReportMutant {
  fileName?: string;
  status: string;
  mutatorName: string;
  replacement?: string;
  location: { start: { line: number; column: number } };
}
interface Report {
  files: Record<string, { mutants: ReportMutant[] }>;
}
interface Tally {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
}

const COUNTED: Record<string, keyof Tally> = {
  Killed: 'killed',
  Timeout: 'timeout',
  Survived: 'survived',
  NoCoverage: 'noCoverage',
};

function score(t: Tally): string {
  const all = t.killed + t.timeout + t.survived + t.noCoverage;
  return all === 0 ? 'n/a' : `${((100 * (t.killed + t.timeout)) / all).toFixed(1)} %`;
}

function row(name: string, t: Tally): string {
  return `| ${name} | ${score(t)} | ${t.killed} | ${t.timeout} | ${t.survived} | ${t.noCoverage} |`;
}

/** The mutants tested so far, from the event-recorder's one-file-per-event folder. */
function recordedEvents(dir: string): Report {
  const files: Report['files'] = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('-onMutantTested.json'))) {
    const mutant = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ReportMutant;
    const file = mutant.fileName ?? 'unknown';
    (files[file] ??= { mutants: [] }).mutants.push(mutant);
  }
  return { files };
}

function main(argv: string[]): void {
  const showSurvivors = argv.includes('--survivors');
  const paths = argv
    .filter((a) => !a.startsWith('--'))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  if (paths.length === 0) {
    process.stderr.write('usage: mutation-summary <report.json>... [--survivors]\n');
    process.exit(2);
  }
  // Newest report last, so it overwrites a file's earlier figures.
  const files = new Map<string, ReportMutant[]>();
  for (const path of paths) {
    const report = statSync(path).isDirectory()
      ? recordedEvents(path)
      : (JSON.parse(readFileSync(path, 'utf8')) as Report);
    for (const [file, { mutants }] of Object.entries(report.files)) {
      files.set(file.replace(/^.*?(?=src\/)/, ''), mutants);
    }
  }
  const byFolder = new Map<string, Tally>();
  const byFile: [string, Tally][] = [];
  for (const [file, mutants] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const tally: Tally = { killed: 0, timeout: 0, survived: 0, noCoverage: 0 };
    for (const mutant of mutants) {
      const key = COUNTED[mutant.status];
      if (key !== undefined) {
        tally[key]++;
      }
    }
    byFile.push([file, tally]);
    const folder = file.split('/').slice(0, 2).join('/');
    const sum = byFolder.get(folder) ?? { killed: 0, timeout: 0, survived: 0, noCoverage: 0 };
    for (const key of Object.keys(tally) as (keyof Tally)[]) {
      sum[key] += tally[key];
    }
    byFolder.set(folder, sum);
  }
  const header =
    '| Score | Killed | Timed out | Survived | No coverage |\n|---|---|---|---|---|---|';
  process.stdout.write(`| Folder ${header}\n`);
  for (const [folder, tally] of byFolder) {
    process.stdout.write(`${row(`\`${folder}\``, tally)}\n`);
  }
  process.stdout.write(`\n| File ${header}\n`);
  for (const [file, tally] of byFile) {
    process.stdout.write(`${row(`\`${file.slice(dirname(file).indexOf('/') + 1)}\``, tally)}\n`);
  }
  if (showSurvivors) {
    process.stdout.write('\nSurvived and no coverage:\n');
    for (const [file, mutants] of files) {
      for (const m of mutants) {
        if (m.status === 'Survived' || m.status === 'NoCoverage') {
          const at = `${file}:${m.location.start.line}:${m.location.start.column}`;
          const replacement = (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80);
          process.stdout.write(`${m.status}\t${at}\t${m.mutatorName}\t${replacement}\n`);
        }
      }
    }
  }
}

main(process.argv.slice(2));
