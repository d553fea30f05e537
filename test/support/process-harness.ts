import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import * as ts from 'typescript';
import { freePort } from '../../scripts/redis-provider';
import { metricSum, parseMetrics, type Sample } from './metrics';
import { waitFor, WaitTimeoutError } from './wait';

/**
 * Runs the real service as a child process, as a container would: `node dist/main.js` with an
 * environment, JSON log lines on stdout, signals, an exit code.
 *
 * Why a transpiled copy rather than `node -r ts-node/register/transpile-only src/main.ts`: ts-node
 * transpiles every module again in every process (about 4.5 s to /health/live on 2 cores against
 * 2.3 s for plain JS), and the scale-out test starts five. `tsc -p tsconfig.build.json` would be
 * as fast to start but type-checks the whole tree (7 s) and fails on someone's half-finished
 * edit elsewhere. So: `ts.transpileModule` per file (what ts-node transpile-only does, ~1 s for
 * all of src/), once per content hash of src/, into a shared temporary directory that every test
 * file (and every jest worker) reuses until the sources change. Written to a private directory
 * and renamed into place, so two workers building at once cannot see a half-written tree.
 */

const ROOT = join(__dirname, '..', '..');
const SRC = join(ROOT, 'src');
const BUILD_PREFIX = 'otb-e2e-build-';
const STALE_BUILD_MS = 24 * 3600_000;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      out.push(...sourceFiles(path));
    } else if (
      entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.spec.ts') &&
      // Declarations have no output (and make transpileModule fail).
      !entry.name.endsWith('.d.ts')
    ) {
      out.push(path);
    }
  }
  return out.sort();
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT);
  return { ...parsed.options, sourceMap: false, declaration: false };
}

function removeStaleBuilds(keep: string): void {
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    if (!name.startsWith(BUILD_PREFIX) || path === keep) {
      continue;
    }
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS) {
        rmSync(path, { recursive: true, force: true });
      }
    } catch {
      // another worker removed it first
    }
  }
}

function transpileService(): string {
  const files = sourceFiles(SRC);
  const sources = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
  const hash = createHash('sha256');
  for (const name of ['package.json', 'tsconfig.json']) {
    hash.update(readFileSync(join(ROOT, name)));
  }
  for (const [file, text] of sources) {
    hash.update(relative(ROOT, file)).update('\0').update(text).update('\0');
  }
  const finalDir = join(tmpdir(), `${BUILD_PREFIX}${hash.digest('hex').slice(0, 16)}`);
  const main = join(finalDir, 'dist', 'main.js');
  if (existsSync(join(finalDir, 'complete'))) {
    return main;
  }
  const work = `${finalDir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  const options = compilerOptions();
  for (const [file, text] of sources) {
    const out = join(work, 'dist', relative(SRC, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      ts.transpileModule(text, { compilerOptions: options, fileName: file }).outputText,
    );
  }
  // dist/version.js reads ../package.json; modules resolve through the symlinked node_modules.
  copyFileSync(join(ROOT, 'package.json'), join(work, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
  writeFileSync(join(work, 'complete'), new Date().toISOString());
  try {
    renameSync(work, finalDir);
  } catch {
    // Another worker finished the same build first; use theirs.
    rmSync(work, { recursive: true, force: true });
  }
  removeStaleBuilds(finalDir);
  return main;
}

let built: string | undefined;

/** The path of `main.js` for the current sources (transpiled on first use). */
export function serviceEntry(): string {
  built ??= transpileService();
  return built;
}

// --- processes ---------------------------------------------------------------------------------

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from the last signal sent (or from the start) to the exit. */
  afterMs: number;
}

export interface LogLine {
  level?: string;
  msg?: string;
  [field: string]: unknown;
}

export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
}

export interface NodeChildOptions {
  /** Shown in failure messages. */
  name: string;
  /** The JavaScript file node runs. */
  script: string;
  /** Added to the few variables node needs from the parent (PATH, HOME, TMPDIR, LANG). */
  env: Record<string, string>;
  /** Options for node itself, before the script (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /**
   * Append stdout and stderr to this file instead of keeping them in memory: for long, busy runs
   * (the bench) whose output would otherwise grow without bound. `output` stays empty then.
   */
  logFile?: string;
  /** How long `stop()` waits after SIGTERM before SIGKILL (default 15 s). */
  stopTimeoutMs?: number;
}

/** Only what node needs from the parent; the child's own variables all come from `env`. */
function baseEnv(): Record<string, string> {
  const pass: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT']) {
    const value = process.env[key];
    if (value !== undefined) {
      pass[key] = value;
    }
  }
  return pass;
}

const running = new Set<NodeChild>();

/**
 * A node child process as tests, the bench and the fault suite run one: its output (in memory
 * or a log file), signals, an exit, and its resident memory and CPU time from /proc.
 */
export class NodeChild {
  /** Every line the process wrote, stdout and stderr interleaved in arrival order. */
  readonly output: string[] = [];
  readonly exited: Promise<ExitInfo>;
  readonly child: ChildProcess;
  /** Resident set size, sampled every 250 ms while the process runs. */
  readonly rss: RssSampler;
  readonly name: string;
  private lastSignalAt: number;
  protected exitInfo?: ExitInfo;
  private partial = { stdout: '', stderr: '' };

  constructor(readonly options: NodeChildOptions) {
    this.name = options.name;
    let fd: number | undefined;
    if (options.logFile) {
      mkdirSync(dirname(options.logFile), { recursive: true });
      fd = openSync(options.logFile, 'a');
    }
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script], {
      cwd: ROOT,
      env: { ...baseEnv(), ...options.env },
      stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    });
    if (fd !== undefined) {
      closeSync(fd);
    }
    this.lastSignalAt = Date.now();
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = this.child[stream];
      source?.setEncoding('utf8');
      source?.on('data', (chunk: string) => this.capture(stream, chunk));
    }
    this.rss = new RssSampler(this.child.pid ?? -1);
    running.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        for (const stream of ['stdout', 'stderr'] as const) {
          if (this.partial[stream] !== '') {
            this.output.push(this.partial[stream]);
            this.partial[stream] = '';
          }
        }
        this.rss.stop();
        this.exitInfo = { code, signal, afterMs: Date.now() - this.lastSignalAt };
        running.delete(this);
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  get running(): boolean {
    return !this.hasExited;
  }

  /** All output as one string (for secret scans and failure messages). */
  text(): string {
    return this.output.join('\n');
  }

  /** The JSON log lines; anything else the process printed is skipped. */
  logs(): LogLine[] {
    const lines: LogLine[] = [];
    for (const line of this.output) {
      if (!line.startsWith('{')) {
        continue;
      }
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // a line cut by the exit; not a log record
      }
    }
    return lines;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.hasExited) {
      this.lastSignalAt = Date.now();
      this.child.kill(signal);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. */
  async stop(timeoutMs = this.options.stopTimeoutMs ?? 15_000): Promise<ExitInfo> {
    if (this.exitInfo) {
      return this.exitInfo;
    }
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (!this.hasExited) {
      this.child.kill('SIGKILL');
    }
  }

  /**
   * CPU time the process has used so far (user + system, ms), from /proc; 0 once it has exited.
   * Linux clock ticks are 10 ms (USER_HZ 100) on every distribution this runs on.
   */
  cpuMs(): number {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may contain spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return 0;
    }
  }

  /** The last lines of output, for failure messages. */
  tail(lines = 15): string {
    if (this.options.logFile) {
      return `(output in ${this.options.logFile})`;
    }
    return this.output.slice(-lines).join('\n');
  }

  private capture(stream: 'stdout' | 'stderr', chunk: string): void {
    const text = this.partial[stream] + chunk;
    const lines = text.split('\n');
    this.partial[stream] = lines.pop() ?? '';
    this.output.push(...lines.filter((l) => l !== ''));
  }
}

/** The service's main.js (or a build of it) in a child process, with its HTTP port. */
export class ServiceProcess extends NodeChild {
  constructor(
    options: NodeChildOptions,
    readonly port: number,
  ) {
    super(options);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async get<T = unknown>(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer<T>> {
    return this.request<T>('GET', path, undefined, headers);
  }

  /** One HTTP request on a fresh connection (no keep-alive pool outliving the test). */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        `${this.url}${path}`,
        {
          method,
          agent: false,
          timeout: 5_000,
          headers:
            payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              const json = (res.headers['content-type'] ?? '').includes('json') && text !== '';
              resolve({ status: res.statusCode ?? 0, body: (json ? JSON.parse(text) : text) as T });
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 5 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** /health/ready, or `undefined` when nothing answers (the server is closed or gone). */
  async ready(): Promise<HttpAnswer<ReadinessBody> | undefined> {
    try {
      return await this.get<ReadinessBody>('/health/ready');
    } catch {
      return undefined;
    }
  }

  /** One scrape of /metrics, parsed. */
  async scrape(): Promise<{ samples: Sample[]; types: Map<string, string> }> {
    const answer = await this.get<string>('/metrics');
    if (answer.status !== 200) {
      throw new Error(`${this.name}: GET /metrics answered ${answer.status}`);
    }
    return parseMetrics(answer.body);
  }

  /**
   * A metric summed over the samples whose labels include `labels`; `undefined` when the scrape
   * failed or the metric has no sample yet.
   */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    try {
      const { samples } = await this.scrape();
      return samples.some((s) => s.name === name) ? metricSum(samples, name, labels) : undefined;
    } catch {
      return undefined;
    }
  }

  async waitForLive(timeoutMs = 30_000): Promise<void> {
    await this.waitUntil(
      async () => {
        try {
          return (await this.get('/health/live')).status === 200;
        } catch {
          return false;
        }
      },
      timeoutMs,
      '/health/live',
    );
  }

  async waitForReady(expected: 200 | 503 = 200, timeoutMs = 20_000): Promise<ReadinessBody> {
    let last: HttpAnswer<ReadinessBody> | undefined;
    await this.waitUntil(
      async () => {
        last = await this.ready();
        return last?.status === expected;
      },
      timeoutMs,
      `/health/ready ${expected} (last: ${JSON.stringify(last)})`,
    );
    return last!.body;
  }

  async waitForLog(match: (line: LogLine) => boolean, timeoutMs = 15_000, what = 'a log line') {
    await this.waitUntil(() => this.logs().some(match), timeoutMs, what);
  }

  /** The kit's `waitFor`, failing at once (with the output's tail) if the process exits. */
  private async waitUntil(
    check: () => boolean | Promise<boolean>,
    timeoutMs: number,
    what: string,
  ): Promise<void> {
    try {
      await waitFor(
        async () => {
          if (this.hasExited) {
            throw new Error(
              `${this.name} exited (${JSON.stringify(this.exitInfo)}) while waiting for ${what}:\n${this.tail()}`,
            );
          }
          return check();
        },
        timeoutMs,
        what,
        50,
      );
    } catch (error) {
      if (error instanceof WaitTimeoutError) {
        throw new Error(`${this.name}: ${error.message}:\n${this.tail()}`);
      }
      throw error;
    }
  }
}

export interface ReadinessBody {
  status: 'ok' | 'error' | 'shutting_down';
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
  details?: Record<string, Record<string, unknown>>;
}

/** Environment every test process gets unless it overrides it: loopback, quick, verbose. */
export function defaultServiceEnv(port: number): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'debug',
    DELIVERY_ALLOW_CIDRS: '127.0.0.1/32,::1/128',
    SHUTDOWN_TIMEOUT_MS: '5000',
    OPENTACT_RECONNECT_BASE_MS: '100',
    OPENTACT_RECONNECT_MAX_MS: '1000',
    OPENTACT_AUTH_FAILURE_BACKOFF_MS: '300',
  };
}

export interface StartOptions {
  /** Shown in failure messages. */
  name: string;
  env: Record<string, string>;
  /** Wait for /health/live (default true). */
  waitForLive?: boolean;
  liveTimeoutMs?: number;
  /** The service's main.js; default the tests' transpiled copy of src/ (`serviceEntry()`). */
  script?: string;
  /** Start from `defaultServiceEnv` (default true); the bench sets its own environment. */
  testDefaults?: boolean;
  nodeArgs?: string[];
  logFile?: string;
  stopTimeoutMs?: number;
}

/** Spawns `node main.js` with a free port, and (by default) waits until /health/live answers. */
export async function startService(options: StartOptions): Promise<ServiceProcess> {
  const port = await freePort();
  const defaults = options.testDefaults === false ? {} : defaultServiceEnv(port);
  const service = new ServiceProcess(
    {
      name: options.name,
      script: options.script ?? serviceEntry(),
      env: { ...defaults, ...options.env, PORT: String(port) },
      nodeArgs: options.nodeArgs,
      logFile: options.logFile,
      stopTimeoutMs: options.stopTimeoutMs,
    },
    port,
  );
  if (options.waitForLive ?? true) {
    try {
      await service.waitForLive(options.liveTimeoutMs ?? 30_000);
    } catch (error) {
      service.kill();
      throw error;
    }
  }
  return service;
}

/** Runs main.js to its exit (a start-up that must fail); killed after `timeoutMs`. */
export async function runServiceToExit(
  name: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<{ exit: ExitInfo; output: string }> {
  const service = await startService({ name, env, waitForLive: false });
  const timer = setTimeout(() => service.kill(), timeoutMs);
  try {
    const exit = await service.exited;
    return { exit, output: service.text() };
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs every child process still running (afterAll/afterEach, whatever happened). */
export async function killAllServices(): Promise<void> {
  const alive = [...running];
  for (const child of alive) {
    child.kill();
  }
  await Promise.all(alive.map((s) => s.exited));
}

// A jest worker (or a bench run) that dies must not leave children behind.
process.once('exit', () => {
  for (const child of running) {
    child.kill();
  }
});

// --- resident memory ---------------------------------------------------------------------------

/** Resident set size of a process in bytes, from /proc (Linux); undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS on an interval and keeps the maximum. */
export class RssSampler {
  max = 0;
  last = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  sample(): void {
    const rss = rssBytes(this.pid);
    if (rss !== undefined) {
      this.last = rss;
      this.max = Math.max(this.max, rss);
    }
  }

  reset(): void {
    this.max = this.last;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export { metricSum, parseMetrics, type Sample } from './metrics';
