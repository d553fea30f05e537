/**
 * The bare pipeline the service is measured against: no framework, no normalising, no signing, no
 * delivery records. A `ws` client adds each frame to a BullMQ queue; a BullMQ worker POSTs it with
 * an undici Pool. Same libraries, same Redis, same receiver as the service.
 *
 * Run as a child of the bench (compiled to JavaScript first), configured by environment:
 * BARE_ROLE (ingest | worker | all), REDIS_URL, SIM_REST_URL, SIM_WSS_URL, SIM_EMAIL,
 * SIM_PASSWORD, TARGET_URL, CONCURRENCY, CONNECTIONS.
 */
import { Queue, Worker } from 'bullmq';
import { Pool } from 'undici';
import WebSocket from 'ws';

const QUEUE = 'bare-events';
const PREFIX = 'bare';
/** Adds in flight before the socket is paused (the service's INGEST_BUFFER_MAX default). */
const MAX_IN_FLIGHT = 1_000;

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is required`);
  }
  return value;
}

function redisConnection(): { host: string; port: number; maxRetriesPerRequest: null } {
  const url = new URL(env('REDIS_URL'));
  return { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
}

interface Frame {
  uuid?: string;
  type?: string;
}

async function startIngest(stops: (() => Promise<void>)[]): Promise<void> {
  const queue = new Queue(QUEUE, { connection: redisConnection(), prefix: PREFIX });
  const basic = Buffer.from(`${env('SIM_EMAIL')}:${env('SIM_PASSWORD')}`).toString('base64');
  const login = await fetch(`${env('SIM_REST_URL')}/auth`, {
    headers: { authorization: `Basic ${basic}` },
  });
  const { payload } = (await login.json()) as { payload: { token: string } };
  const ws = new WebSocket(env('SIM_WSS_URL'), { perMessageDeflate: false });
  let inFlight = 0;
  let paused = false;
  ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', payload: payload.token })));
  ws.on('error', (err) => process.stderr.write(`ws error: ${err.message}\n`));
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString('utf8')) as Frame;
    if (frame.type === 'auth' || typeof frame.uuid !== 'string') {
      return;
    }
    inFlight++;
    if (!paused && inFlight >= MAX_IN_FLIGHT) {
      paused = true;
      ws.pause();
    }
    queue
      .add('event', frame, { jobId: `e_${frame.uuid}`, removeOnComplete: true, removeOnFail: true })
      .catch((err: unknown) => process.stderr.write(`add failed: ${String(err)}\n`))
      .finally(() => {
        inFlight--;
        if (paused && inFlight <= MAX_IN_FLIGHT / 2) {
          paused = false;
          ws.resume();
        }
      });
  });
  stops.push(async () => {
    ws.close();
    await queue.close();
  });
}

function startWorker(stops: (() => Promise<void>)[]): void {
  const target = new URL(env('TARGET_URL'));
  const pool = new Pool(target.origin, {
    connections: Number(process.env.CONNECTIONS ?? 20),
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  const worker = new Worker<Frame>(
    QUEUE,
    async (job) => {
      const res = await pool.request({
        path: target.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': job.data.uuid ?? job.id ?? '',
        },
        body: JSON.stringify({ id: job.data.uuid, raw: job.data }),
      });
      await res.body.dump();
      if (res.statusCode >= 300) {
        throw new Error(`receiver answered ${res.statusCode}`);
      }
    },
    {
      connection: redisConnection(),
      prefix: PREFIX,
      concurrency: Number(process.env.CONCURRENCY ?? 50),
    },
  );
  worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));
  stops.push(async () => {
    await worker.close();
    await pool.close();
  });
}

async function main(): Promise<void> {
  const role = env('BARE_ROLE');
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = (): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    Promise.all(stops.map((s) => s()))
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (role === 'worker' || role === 'all') {
    startWorker(stops);
  }
  if (role === 'ingest' || role === 'all') {
    await startIngest(stops);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bare pipeline failed: ${String(err)}\n`);
  process.exit(1);
});
