/** One sample of the Prometheus text exposition format. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  let position = 0;
  while (position < text.length) {
    LABEL.lastIndex = position;
    const match = LABEL.exec(text);
    if (!match) {
      return text.slice(position).trim() === '' ? labels : undefined;
    }
    labels[match[1]] = unescape(match[2]);
    position = LABEL.lastIndex;
  }
  return labels;
}

function parseValue(text: string): number {
  switch (text) {
    case '+Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    default:
      return Number(text);
  }
}

/** Every sample of a scrape; comments, blank and unreadable lines are skipped. */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const match = SAMPLE.exec(line);
    const labels = match ? parseLabels(match[2] ?? '') : undefined;
    if (!match || !labels) {
      continue;
    }
    samples.push({ name: match[1], labels, value: parseValue(match[3]) });
  }
  return samples;
}

/** The sum of a series' samples whose labels include `where`; undefined when there is none. */
export function sumOf(
  samples: MetricSample[],
  name: string,
  where: Record<string, string> = {},
): number | undefined {
  const matching = samples.filter(
    (s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v),
  );
  return matching.length === 0 ? undefined : matching.reduce((total, s) => total + s.value, 0);
}

/** Sums of a series grouped by one label, in first-seen order. */
export function sumBy(samples: MetricSample[], name: string, label: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const s of samples) {
    if (s.name === name && s.labels[label] !== undefined) {
      sums.set(s.labels[label], (sums.get(s.labels[label]) ?? 0) + s.value);
    }
  }
  return sums;
}
