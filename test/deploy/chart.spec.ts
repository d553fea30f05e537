import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parse,
  parseDocument,
  type Node as YamlNode,
} from 'yaml';
import { knownEnvVars, loadConfig } from '../../src/config/app-config';
import { EnvironmentVariables, SECRET_ENV_VARS } from '../../src/config/env.schema';

/**
 * Static checks of the deployment artefacts: the Helm chart, the Dockerfile and compose.yaml.
 * No helm, docker or kubeconform binary is needed; the chart README gives the commands that
 * render and validate the chart where helm exists.
 */

const ROOT = join(__dirname, '..', '..');
const CHART = join(ROOT, 'helm', 'opentact-bridge');
const TEMPLATES = join(CHART, 'templates');
const ROLES = ['ingest', 'worker', 'api'] as const;

type Json = Record<string, unknown>;

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Values files merge like Helm: maps deep-merge, anything else replaces. */
function merge(base: unknown, override: unknown): unknown {
  if (!isRecord(base) || !isRecord(override)) {
    return override;
  }
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = merge(base[key], value);
  }
  return out;
}

function hasPath(root: unknown, path: string[]): boolean {
  let node = root;
  for (const segment of path) {
    if (!isRecord(node) || !(segment in node)) {
      return false;
    }
    node = node[segment];
  }
  return true;
}

function withValue(values: Json, path: string, value: unknown): Json {
  const copy = structuredClone(values);
  const segments = path.split('.');
  let node: Json = copy;
  for (const segment of segments.slice(0, -1)) {
    node = node[segment] as Json;
  }
  node[segments[segments.length - 1]] = value;
  return copy;
}

const values = parse(read(join(CHART, 'values.yaml'))) as Json;
const schema = JSON.parse(read(join(CHART, 'values.schema.json'))) as Json;
const templateFiles = walk(TEMPLATES);
/** Template text with Go template comments removed (they may mention anything). */
const templates = new Map(
  templateFiles.map((file) => [
    relative(TEMPLATES, file),
    read(file).replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, ''),
  ]),
);
const template = (name: string): string => {
  const text = templates.get(name);
  if (text === undefined) {
    throw new Error(`templates/${name} is missing`);
  }
  return text;
};
const schemaDefaults = new EnvironmentVariables() as unknown as Record<string, unknown>;
const config = values.config as Record<string, unknown>;
const secrets = values.secrets as Record<string, unknown>;

/** Variables the chart sets from values outside `config`/`secrets`, and where from. */
const CHART_OWNED: Record<string, { file: string; valuesPath: string }> = {
  APP_ROLE: { file: '_deployment.tpl', valuesPath: '' },
  QUEUE_PREFIX: { file: 'configmap.yaml', valuesPath: 'redis.prefix' },
  REDIS_SENTINEL_NAME: { file: 'configmap.yaml', valuesPath: 'redis.sentinelName' },
  REDIS_SENTINELS: { file: 'configmap.yaml', valuesPath: 'redis.sentinels' },
  SUBSCRIPTIONS_FILE: { file: 'configmap.yaml', valuesPath: 'subscriptions' },
};

/**
 * The environment the chart gives a pod, modelled on configmap.yaml and secret.yaml: every
 * config key as a string, the Redis topology, and the non-empty secrets.
 */
function renderedEnv(vals: Json, role: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(vals.config as Json)) {
    env[key] = String(value);
  }
  const redis = vals.redis as { prefix: string; sentinelName: string; sentinels: string[] };
  env.QUEUE_PREFIX = redis.prefix;
  env.REDIS_SENTINEL_NAME = redis.sentinelName;
  if (redis.sentinels.length > 0) {
    env.REDIS_SENTINELS = redis.sentinels.join(',');
  }
  if ((vals.subscriptions as unknown[]).length > 0) {
    env.SUBSCRIPTIONS_FILE = '/etc/opentact-bridge/subscriptions.yaml';
  }
  for (const [key, value] of Object.entries(vals.secrets as Json)) {
    if (value !== '') {
      env[key] = String(value);
    }
  }
  env.APP_ROLE = role;
  return env;
}

const TEST_SECRETS = {
  OPENTACT_EMAIL: 'ops@example.com',
  OPENTACT_PASSWORD: 'not-a-real-password',
  ADMIN_API_KEY: 'k'.repeat(40),
  REDIS_URL: 'redis://:pw@redis-master:6379/0',
};

describe('Helm chart: files', () => {
  it('every YAML file outside templates/ parses', () => {
    const yamlFiles = walk(CHART).filter(
      (file) => /\.ya?ml$/.test(file) && !file.startsWith(TEMPLATES + '/'),
    );
    expect(yamlFiles.map((f) => relative(CHART, f))).toEqual(
      expect.arrayContaining(['Chart.yaml', 'values.yaml', 'ci/full-values.yaml']),
    );
    for (const file of yamlFiles) {
      const doc = parseDocument(read(file));
      expect({ file, errors: doc.errors.map((e) => e.message) }).toEqual({ file, errors: [] });
    }
  });

  it('Chart.yaml is an apiVersion v2 application whose appVersion is the service version', () => {
    const chart = parse(read(join(CHART, 'Chart.yaml'))) as Json;
    const pkg = JSON.parse(read(join(ROOT, 'package.json'))) as { version: string };
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'opentact-bridge', type: 'application' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(typeof chart.appVersion).toBe('string');
    expect(chart.appVersion).toBe(pkg.version);
    expect(chart.kubeVersion).toEqual(expect.any(String));
    expect(chart.description).toEqual(expect.any(String));
    expect(chart.keywords).toEqual(expect.arrayContaining(['opentact', 'webhooks']));
  });

  it('has every template the chart promises', () => {
    expect([...templates.keys()].sort()).toEqual(
      expect.arrayContaining([
        'NOTES.txt',
        '_helpers.tpl',
        'configmap.yaml',
        'deployment-api.yaml',
        'deployment-ingest.yaml',
        'deployment-worker.yaml',
        'hpa.yaml',
        'pdb.yaml',
        'secret.yaml',
        'service.yaml',
        'serviceaccount.yaml',
        'servicemonitor.yaml',
        'tests/test-connection.yaml',
      ]),
    );
  });
});

describe('Helm chart: templates', () => {
  it.each([...templates.keys()])('%s has balanced {{ }} and block/end pairs', (name) => {
    const text = template(name);
    let depth = 0;
    for (const match of text.matchAll(/\{\{|\}\}/g)) {
      depth += match[0] === '{{' ? 1 : -1;
      expect(depth === 0 || depth === 1).toBe(true);
    }
    expect(depth).toBe(0);
    const actions = [...text.matchAll(/\{\{-?\s*(\w+)/g)].map((m) => m[1]);
    const opened = actions.filter((a) => ['if', 'range', 'with', 'define', 'block'].includes(a));
    const closed = actions.filter((a) => a === 'end');
    expect(closed.length).toBe(opened.length);
  });

  it('every include/template name is defined exactly once in a templates/_*.tpl file', () => {
    const defined = [...templates.entries()]
      .filter(([name]) => /^_.*\.tpl$/.test(name))
      .flatMap(([, text]) => [...text.matchAll(/\{\{-?\s*define\s+"([^"]+)"/g)].map((m) => m[1]));
    expect(new Set(defined).size).toBe(defined.length);
    const used = new Set(
      [...templates.values()].flatMap((text) =>
        [...text.matchAll(/\b(?:include|template)\s+"([^"]+)"/g)].map((m) => m[1]),
      ),
    );
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((name) => !defined.includes(name))).toEqual([]);
  });

  it('every file included by path (checksums) exists', () => {
    const paths = [...templates.values()].flatMap((text) =>
      [...text.matchAll(/Template\.BasePath\s+"\/([^"]+)"/g)].map((m) => m[1]),
    );
    expect(paths.sort()).toEqual(['configmap.yaml', 'secret.yaml']);
    for (const path of paths) {
      expect(existsSync(join(TEMPLATES, path))).toBe(true);
    }
  });

  it('every .Values path used in a template exists in values.yaml', () => {
    const missing: string[] = [];
    let count = 0;
    for (const [name, text] of templates) {
      for (const match of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        count++;
        const path = match[1].slice(1).split('.');
        if (!hasPath(values, path)) {
          missing.push(`${name}: .Values.${path.join('.')}`);
        }
      }
    }
    expect(count).toBeGreaterThan(30);
    expect(missing).toEqual([]);
  });

  it('every per-role key ($cfg.x) used by a template exists in each role block', () => {
    const missing: string[] = [];
    for (const [name, text] of templates) {
      for (const match of text.matchAll(/\$cfg((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        for (const role of ROLES) {
          if (!hasPath(values[role], match[1].slice(1).split('.'))) {
            missing.push(`${name}: ${role}${match[1]}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it.each(ROLES)('deployment-%s.yaml renders the shared Deployment for its role', (role) => {
    const text = template(`deployment-${role}.yaml`);
    expect(text).toContain(`if .Values.${role}.enabled`);
    expect(text).toMatch(
      new RegExp(`include "opentact-bridge\\.deployment" \\(dict "root" \\$ "role" "${role}"\\)`),
    );
  });

  it('the shared Deployment wires role, probes, shutdown, checksums, env and volumes', () => {
    const text = template('_deployment.tpl');
    expect(text).toMatch(/- name: APP_ROLE\s+value: \{\{ \$role \| quote \}\}/);
    expect(text).toMatch(/startupProbe:\s+httpGet:\s+path: \/health\/live/);
    expect(text).toMatch(/livenessProbe:\s+httpGet:\s+path: \/health\/live/);
    expect(text).toMatch(/readinessProbe:\s+httpGet:\s+path: \/health\/ready/);
    expect(text).toMatch(/preStop:\s+exec:\s+command: \["sleep"/);
    expect(text).toContain(
      'terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}',
    );
    expect(text).toMatch(
      /checksum\/config: \{\{ include \(print \$root\.Template\.BasePath "\/configmap\.yaml"\) \$root \| sha256sum \}\}/,
    );
    expect(text).toMatch(
      /checksum\/secret: \{\{ include \(print \$root\.Template\.BasePath "\/secret\.yaml"\) \$root \| sha256sum \}\}/,
    );
    expect(text).toMatch(
      /configMapRef:\s+name: \{\{ include "opentact-bridge\.fullname" \$root \}\}/,
    );
    expect(text).toMatch(
      /secretRef:\s+name: \{\{ include "opentact-bridge\.secretName" \$root \}\}/,
    );
    expect(text).toMatch(/- name: tmp\s+mountPath: \/tmp/);
    expect(text).toMatch(/- name: tmp\s+emptyDir:/);
    expect(text).toMatch(/- name: subscriptions\s+configMap:/);
    expect(text).toContain(
      'automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}',
    );
    expect(text).toContain('toYaml $root.Values.securityContext');
    expect(text).toContain('toYaml $root.Values.podSecurityContext');
    expect(text).toContain('toYaml $cfg.resources');
    // The HPA owns the worker's replica count; a Deployment `replicas` would fight it.
    expect(text).toMatch(/if not \(dig "autoscaling" "enabled" false \$cfg\) \}\}\s+replicas:/);
  });

  it('the ConfigMap renders every config key and the chart-owned variables', () => {
    const text = template('configmap.yaml');
    expect(text).toMatch(
      /range \$key, \$value := \.Values\.config \}\}\s+\{\{ \$key \}\}: \{\{ include "opentact-bridge\.envValue" \$value \| quote \}\}/,
    );
    for (const [name, { file, valuesPath }] of Object.entries(CHART_OWNED)) {
      const owner = template(file);
      if (name === 'APP_ROLE') {
        expect(owner).toContain(`name: ${name}`);
        continue;
      }
      expect({ name, rendered: new RegExp(`^\\s*${name}: \\{\\{`, 'm').test(owner) }).toEqual({
        name,
        rendered: true,
      });
      expect(owner).toContain(`.Values.${valuesPath}`);
      expect(hasPath(values, valuesPath.split('.'))).toBe(true);
    }
  });

  it('the Secret renders every non-empty secrets key, unless existingSecret is set', () => {
    const text = template('secret.yaml');
    expect(text).toMatch(/if not \.Values\.existingSecret \}\}/);
    expect(text).toMatch(
      /range \$key, \$value := \.Values\.secrets \}\}\s+\{\{- if \$value \}\}\s+\{\{ \$key \}\}: \{\{ toString \$value \| b64enc \| quote \}\}/,
    );
    expect(template('_helpers.tpl')).toMatch(
      /default \(include "opentact-bridge\.fullname" \.\) \.Values\.existingSecret/,
    );
  });

  it('uses the stable API versions and a helm test hook that checks /health/ready', () => {
    expect(template('hpa.yaml')).toContain('apiVersion: autoscaling/v2');
    expect(template('pdb.yaml')).toContain('apiVersion: policy/v1');
    expect(template('servicemonitor.yaml')).toContain('apiVersion: monitoring.coreos.com/v1');
    expect(template('servicemonitor.yaml')).toMatch(/path: \/metrics/);
    const testPod = template('tests/test-connection.yaml');
    expect(testPod).toContain('helm.sh/hook: test');
    expect(testPod).toContain('/health/ready');
    expect(testPod).toContain('toYaml .Values.securityContext');
    for (const file of templates.keys()) {
      expect({
        file,
        deprecated: /apiVersion: (extensions\/v1beta1|policy\/v1beta1|autoscaling\/v2beta\d)/.test(
          template(file),
        ),
      }).toEqual({ file, deprecated: false });
    }
  });
});

describe('Helm chart: values and schema', () => {
  let validate: ValidateFunction;
  const accepts = (vals: unknown): boolean => validate(vals);

  beforeAll(() => {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    validate = ajv.compile(schema);
  });

  it('is a draft-07 schema that accepts the default values', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect({ valid: accepts(values), errors: validate.errors }).toEqual({
      valid: true,
      errors: null,
    });
  });

  it.each(readdirSync(join(CHART, 'ci')).filter((f) => f.endsWith('.yaml')))(
    'accepts ci/%s merged over the defaults',
    (file) => {
      const merged = merge(values, parse(read(join(CHART, 'ci', file))));
      expect({ valid: accepts(merged), errors: validate.errors }).toEqual({
        valid: true,
        errors: null,
      });
    },
  );

  it('accepts Helm adding a `global` key', () => {
    expect(accepts({ ...values, global: {} })).toBe(true);
  });

  it.each([
    ['a negative replica count', 'worker.replicaCount', -1],
    ['a fractional replica count', 'api.replicaCount', 1.5],
    ['an unknown LOG_LEVEL', 'config.LOG_LEVEL', 'verbose'],
    ['APP_ROLE in config (each Deployment sets its own)', 'config.APP_ROLE', 'worker'],
    ['a misspelt config key', 'config.LOG_LEVL', 'info'],
    ['a secret in config', 'config.ADMIN_API_KEY', 'k'.repeat(40)],
    ['an unknown pullPolicy', 'image.pullPolicy', 'Sometimes'],
    ['a QUEUE_PREFIX that is not a hash tag or plain name', 'redis.prefix', 'otb:events'],
    ['a half hash tag', 'redis.prefix', '{otb'],
    ['a short ADMIN_API_KEY', 'secrets.ADMIN_API_KEY', 'short'],
    ['a REDIS_URL of another scheme', 'secrets.REDIS_URL', 'http://redis:6379'],
    ['a sentinel without a port', 'redis.sentinels', ['redis-0']],
    ['APP_ROLE in extraEnv', 'ingest.extraEnv', [{ name: 'APP_ROLE', value: 'all' }]],
    ['a SHUTDOWN_TIMEOUT_MS below 1000', 'config.SHUTDOWN_TIMEOUT_MS', 999],
    ['a retry jitter above 1', 'config.DELIVERY_RETRY_JITTER', 1.5],
    ['a malformed retry schedule', 'config.DELIVERY_RETRY_SCHEDULE', '5 seconds'],
    ['an HPA minimum of 0', 'worker.autoscaling.minReplicas', 0],
    [
      'a subscription with a signing secret (the file is a ConfigMap)',
      'subscriptions',
      [{ id: 'a', url: 'https://a.example.com', eventTypes: ['*'], secret: 'whsec_x' }],
    ],
    [
      'a subscription without eventTypes',
      'subscriptions',
      [{ id: 'a', url: 'https://a.example.com' }],
    ],
    ['an unknown top-level key', 'replicaCount', 3],
  ])('rejects %s', (_label, path, value) => {
    expect(accepts(withValue(values, path, value))).toBe(false);
  });

  it('has a comment on every key (a # line directly above, or a trailing comment)', () => {
    const text = read(join(CHART, 'values.yaml'));
    const lines = text.split('\n');
    const counter = new LineCounter();
    const doc = parseDocument(text, { lineCounter: counter });
    const uncommented: string[] = [];
    let checked = 0;
    const visit = (node: unknown, prefix: string): void => {
      // Keys of maps inside lists (HPA policies) are data, not settings.
      if (!isMap(node)) {
        return;
      }
      for (const pair of node.items) {
        const key = pair.key as YamlNode;
        if (!isScalar(key) || !key.range) {
          continue;
        }
        const path = `${prefix}${String(key.value)}`;
        const line = counter.linePos(key.range[0]).line - 1;
        const above = lines[line - 1]?.trim() ?? '';
        const trailing = /\s#\s/.test(lines[line].replace(/'[^']*'|"[^"]*"/g, ''));
        checked++;
        if (!above.startsWith('#') && !trailing) {
          uncommented.push(path);
        }
        if (!isSeq(pair.value)) {
          visit(pair.value, `${path}.`);
        }
      }
    };
    visit(doc.contents, '');
    expect(checked).toBeGreaterThan(100);
    expect(uncommented).toEqual([]);
  });

  it('matches the service schema: same config and secret keys as values.yaml', () => {
    const props = schema.properties as Record<string, { properties: Json; required?: string[] }>;
    expect(Object.keys(props.config.properties).sort()).toEqual(Object.keys(config).sort());
    expect(props.config.required?.sort()).toEqual(Object.keys(config).sort());
    expect(Object.keys(props.secrets.properties).sort()).toEqual(Object.keys(secrets).sort());
    const topLevel = Object.keys(props).filter((k) => k !== 'global');
    expect(topLevel.sort()).toEqual(Object.keys(values).sort());
  });

  it('can set every variable the service reads, each in exactly one place', () => {
    const configKeys = Object.keys(config);
    const secretKeys = Object.keys(secrets);
    const owned = Object.keys(CHART_OWNED);
    const all = [...configKeys, ...secretKeys, ...owned];
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(knownEnvVars());
    expect(configKeys.filter((k) => SECRET_ENV_VARS.has(k))).toEqual([]);
    expect(secretKeys.sort()).toEqual([...SECRET_ENV_VARS, 'OPENTACT_EMAIL'].sort());
  });

  it('config defaults are the service defaults', () => {
    for (const [key, value] of Object.entries(config)) {
      expect({ key, value }).toEqual({ key, value: schemaDefaults[key] });
    }
    const redis = values.redis as Json;
    expect(redis.prefix).toBe(schemaDefaults.QUEUE_PREFIX);
    expect(redis.sentinelName).toBe(schemaDefaults.REDIS_SENTINEL_NAME);
    for (const value of Object.values(secrets)) {
      expect(value).toBe('');
    }
  });

  it.each([
    ['defaults', {}],
    ['ci/full-values.yaml', parse(read(join(CHART, 'ci', 'full-values.yaml'))) as Json],
  ])('the environment rendered from %s starts every role', (_label, override) => {
    const vals = merge(values, override) as Json;
    for (const role of ROLES) {
      const env = { ...renderedEnv(vals, role), ...TEST_SECRETS };
      expect(() => loadConfig(env)).not.toThrow();
    }
    const cfg = loadConfig({ ...renderedEnv(vals, 'worker'), ...TEST_SECRETS });
    const redis = vals.redis as { sentinels: string[]; prefix: string };
    expect(cfg.redis.prefix).toBe(redis.prefix);
    expect(cfg.redis.sentinels?.length ?? 0).toBe(redis.sentinels.length);
    expect(cfg.shutdownTimeoutMs).toBe((vals.config as Json).SHUTDOWN_TIMEOUT_MS);
  });

  it('agrees with the service on which config values are valid, at every bound', () => {
    const props = (schema.properties as Record<string, { properties: Json }>).config
      .properties as Record<
      string,
      { type?: string; minimum?: number; maximum?: number; enum?: string[]; pattern?: string }
    >;
    const samples: Record<string, unknown[]> = {
      LOG_LEVEL: ['info', 'trace', 'silent', 'verbose', 'INFO'],
      OPENTACT_SUBSCRIBE: ['call_state,sms', 'call_state, sms', 'sms', 'Call_State', 'a;b'],
      DELIVERY_RETRY_SCHEDULE: ['5s,5m,30m', '10', '5s, 1h', '500ms,1d', '5x', '5s,,5m', 'soon'],
      DELIVERY_RETRY_JITTER: [0, 0.5, 1, 1.01, -0.1],
      OPENTACT_REST_URL: ['http://sim:8787/rest', 'https://api.opentact.org/rest', 'ftp://x/rest'],
      OPENTACT_WSS_URL: ['ws://sim:8787', 'wss://api.opentact.org', 'http://api.opentact.org'],
    };
    for (const [key, prop] of Object.entries(props)) {
      // The chart requires a real port; the service also accepts 0 (any free port).
      if (prop.type === 'integer' && key !== 'PORT') {
        const bounds = [prop.minimum, prop.maximum].filter((b): b is number => b !== undefined);
        samples[key] = bounds.flatMap((b) => [b - 1, b, b + 1]);
      }
    }
    const disagreements: string[] = [];
    for (const [key, list] of Object.entries(samples)) {
      for (const sample of list) {
        const chartOk = accepts(withValue(values, `config.${key}`, sample));
        const env: Record<string, string> = {
          ...renderedEnv(values, 'all'),
          ...TEST_SECRETS,
          [key]: String(sample),
        };
        if (key === 'OPENTACT_RECONNECT_MAX_MS') {
          env.OPENTACT_RECONNECT_BASE_MS = '1';
        }
        // Checked against the timeout too (which has to be shorter); the bound alone is tested.
        if (key === 'WORKER_LOCK_MS') {
          env.DELIVERY_TIMEOUT_MS = '100';
        }
        let serviceOk = true;
        try {
          loadConfig(env);
        } catch {
          serviceOk = false;
        }
        if (chartOk !== serviceOk) {
          disagreements.push(
            `${key}=${JSON.stringify(sample)}: chart ${chartOk}, service ${serviceOk}`,
          );
        }
      }
    }
    expect(Object.keys(samples).length).toBeGreaterThan(25);
    expect(disagreements).toEqual([]);
  });

  it('agrees with the service on QUEUE_PREFIX and OPENTACT_TOKEN', () => {
    const cases: [string, string, string][] = [
      ['redis.prefix', 'QUEUE_PREFIX', 'otb'],
      ['redis.prefix', 'QUEUE_PREFIX', '{otb}'],
      ['redis.prefix', 'QUEUE_PREFIX', 'a.b-c_1'],
      ['redis.prefix', 'QUEUE_PREFIX', 'o:tb'],
      ['redis.prefix', 'QUEUE_PREFIX', '{otb'],
      ['redis.prefix', 'QUEUE_PREFIX', '{o}tb'],
      ['secrets.OPENTACT_TOKEN', 'OPENTACT_TOKEN', 'aaa.bbb.ccc'],
      ['secrets.OPENTACT_TOKEN', 'OPENTACT_TOKEN', 'aaa.bbb.'],
      ['secrets.OPENTACT_TOKEN', 'OPENTACT_TOKEN', 'not-a-jwt'],
    ];
    for (const [path, name, sample] of cases) {
      const chartOk = accepts(withValue(values, path, sample));
      let serviceOk = true;
      try {
        loadConfig({ ...renderedEnv(values, 'all'), ...TEST_SECRETS, [name]: sample });
      } catch {
        serviceOk = false;
      }
      expect({ name, sample, chartOk }).toEqual({ name, sample, chartOk: serviceOk });
    }
  });

  it('renders declared subscriptions in the file shape the service reads', () => {
    const ci = parse(read(join(CHART, 'ci', 'full-values.yaml'))) as { subscriptions: Json[] };
    expect(ci.subscriptions.length).toBeGreaterThan(0);
    // The loader accepts `subscriptions: [...]` at the top level; ids must be unique.
    expect(template('configmap.yaml')).toContain(
      'toYaml (dict "subscriptions" .Values.subscriptions)',
    );
    const ids = ci.subscriptions.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    const mountPath = /subscriptionsPath" -\}\}\s+(\S+)/.exec(template('_helpers.tpl'))?.[1];
    expect(mountPath).toBe('/etc/opentact-bridge/subscriptions.yaml');
  });

  it('gives in-flight deliveries time to finish before SIGKILL', () => {
    const shutdownSeconds = (config.SHUTDOWN_TIMEOUT_MS as number) / 1000;
    expect(config.SHUTDOWN_TIMEOUT_MS).toBe(schemaDefaults.SHUTDOWN_TIMEOUT_MS);
    expect(values.preStopSleepSeconds).toBeGreaterThan(0);
    expect(values.terminationGracePeriodSeconds).toBeGreaterThan(
      shutdownSeconds + (values.preStopSleepSeconds as number),
    );
    expect(template('_helpers.tpl')).toMatch(
      /le \(int64 \.Values\.terminationGracePeriodSeconds\) \$drainSeconds/,
    );
  });

  it('has secure, schedulable defaults for every role', () => {
    expect(values.podSecurityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(values.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(values.serviceAccount).toMatchObject({ automountServiceAccountToken: false });
    const anyString: unknown = expect.any(String);
    for (const role of ROLES) {
      const block = values[role] as Json;
      expect(block).toMatchObject({
        enabled: true,
        resources: {
          requests: { cpu: anyString, memory: anyString },
          limits: { memory: anyString },
        },
      });
    }
    expect((values.ingest as Json).replicaCount).toBe(1);
    expect((values.worker as Json).autoscaling).toMatchObject({ enabled: true });
    expect((values.metrics as { serviceMonitor: Json }).serviceMonitor.enabled).toBe(false);
    expect((values.tests as Json).enabled).toBe(true);
  });
});

/** Dockerfile instructions with line continuations joined and comments dropped. */
function dockerInstructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** .dockerignore semantics: last matching pattern wins; `!` re-includes. */
function dockerIgnored(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = negate ? raw.slice(1) : raw;
    const regex = new RegExp(
      '^' +
        pattern
          .replace(/[.+^${}()|[\]]/g, '\\$&')
          .replace(/\*\*\/?/g, '%GLOBSTAR%')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')
          .replace(/%GLOBSTAR%/g, '(.*/)?') +
        '(/.*)?$',
    );
    if (regex.test(path)) {
      ignored = !negate;
    }
  }
  return ignored;
}

describe('Dockerfile', () => {
  const text = read(join(ROOT, 'Dockerfile'));
  const steps = dockerInstructions(text);
  const args = new Map(
    steps.filter((s) => s.op === 'ARG').map((s) => s.args.split('=') as [string, string]),
  );
  const ignore = read(join(ROOT, '.dockerignore'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('is multi-stage, every base pinned by tag or digest, never latest', () => {
    const froms = steps.filter((s) => s.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(3);
    for (const from of froms) {
      const ref = from.args
        .split(/\s+/)[0]
        .replace(/^\$\{(\w+)\}$/, (_m, name: string) => args.get(name) ?? '');
      const stages = froms.map((f) => f.args.split(/\s+AS\s+/i)[1]);
      if (stages.includes(ref)) {
        continue;
      }
      expect(ref).toMatch(/^[\w./-]+(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/);
      expect(ref).toMatch(/:[\w.-]+|@sha256:/);
      expect(ref).not.toMatch(/:latest\b/);
    }
    expect(text).not.toMatch(/:latest\b/);
    expect(args.get('NODE_IMAGE')).toMatch(/^node:20\.\d+-(bookworm-slim|alpine\d*(\.\d+)?)$/);
  });

  it('runs as the non-root uid the chart expects', () => {
    const users = steps.filter((s) => s.op === 'USER');
    const last = users[users.length - 1]?.args ?? 'root';
    expect(last).not.toMatch(/^(root|0)(:|$)/);
    expect(last.split(':')[0]).toBe(String((values.podSecurityContext as Json).runAsUser));
  });

  it('has tini as PID 1, a JSON CMD, NODE_ENV=production and the service port', () => {
    const last = (op: string): string => steps.filter((s) => s.op === op).pop()?.args ?? '';
    expect(JSON.parse(last('ENTRYPOINT'))).toEqual(['/usr/bin/tini', '--']);
    expect(JSON.parse(last('CMD'))).toEqual(['node', 'dist/main.js']);
    expect(text).toMatch(/NODE_ENV=production/);
    expect(last('EXPOSE')).toBe(String(schemaDefaults.PORT));
  });

  it('has a HEALTHCHECK on /health/live in JSON form', () => {
    const health = steps.find((s) => s.op === 'HEALTHCHECK');
    expect(health).toBeDefined();
    const cmd = health!.args.slice(health!.args.indexOf('CMD ') + 4);
    const argv = JSON.parse(cmd) as string[];
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toContain('/health/live');
  });

  it('carries the OCI labels, with the package licence', () => {
    const pkg = JSON.parse(read(join(ROOT, 'package.json'))) as { license: string };
    const labels = steps
      .filter((s) => s.op === 'LABEL')
      .map((s) => s.args)
      .join(' ');
    for (const key of [
      'title',
      'description',
      'source',
      'licenses',
      'version',
      'revision',
      'created',
    ]) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
    expect(labels).toContain(`org.opencontainers.image.licenses="${pkg.license}"`);
    expect(labels).toContain('org.opencontainers.image.version="${VERSION}"');
  });

  it('pins apt packages and cleans the lists in the same layer', () => {
    const runs = steps.filter((s) => s.op === 'RUN' && s.args.includes('apt-get install'));
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) {
      expect(run.args).toContain('--no-install-recommends');
      expect(run.args).toContain('rm -rf /var/lib/apt/lists/*');
      const packages = run.args
        .split('apt-get install')[1]
        .split('&&')[0]
        .split(/\s+/)
        .filter((p) => p !== '' && !p.startsWith('-'));
      expect(packages.every((p) => /=/.test(p))).toBe(true);
    }
  });

  it('installs from the lockfile and ships only production dependencies', () => {
    const installs = steps.filter(
      (s) => s.op === 'RUN' && /\bnpm (ci|install|prune)\b/.test(s.args),
    );
    expect(installs.some((s) => /npm ci\b.*--omit=dev|npm prune\b.*--omit=dev/.test(s.args))).toBe(
      true,
    );
    expect(installs.every((s) => !/\bnpm install\b/.test(s.args))).toBe(true);
  });

  it('ships dist, production node_modules and package.json (read by dist/version.js)', () => {
    const runtime = steps.slice(steps.map((s) => s.op).lastIndexOf('FROM'));
    const copies = runtime.filter((s) => s.op === 'COPY').map((s) => s.args);
    expect(copies).toEqual(
      expect.arrayContaining([
        'package.json ./',
        '--from=prod-deps /app/node_modules ./node_modules',
        '--from=build /app/dist ./dist',
      ]),
    );
  });

  it('.dockerignore keeps dependencies, VCS, tests and secrets out, but not the build inputs', () => {
    for (const path of [
      'node_modules',
      '.git',
      'dist',
      'test',
      'bench',
      'coverage',
      'helm',
      '.env',
      'CHANGES.md',
      'src/config/app-config.spec.ts',
    ]) {
      expect({ path, ignored: dockerIgnored(ignore, path) }).toEqual({ path, ignored: true });
    }
    const copied = steps
      .filter((s) => s.op === 'COPY' && !s.args.includes('--from='))
      .flatMap((s) => s.args.split(/\s+/).slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
    for (const path of [...copied, 'README.md', 'src/main.ts']) {
      expect({ path, ignored: dockerIgnored(ignore, path) }).toEqual({ path, ignored: false });
    }
  });
});

describe('compose.yaml', () => {
  const compose = parse(read(join(ROOT, 'compose.yaml')), { merge: true }) as {
    services: Record<string, Json & { environment?: Record<string, string>; command?: string[] }>;
    volumes: Json;
    networks: Json;
  };
  const services = compose.services;
  /** The default of a `${NAME:-default}` interpolation, or the value itself. */
  const interpolated = (value: string): string => value.replace(/\$\{\w+:-([^}]*)\}/g, '$1');

  it('runs Redis with AOF fsync every second, noeviction, a volume and a healthcheck', () => {
    const redis = services.redis;
    expect(String(redis.image)).toMatch(/^redis:7(\.\d+)?(-[\w.]+)?$/);
    const command = (redis.command as string[]).join(' ');
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--appendfsync everysec\b/);
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(redis.volumes).toEqual([expect.stringMatching(/^[\w-]+:\/data$/)]);
    expect(Object.keys(compose.volumes)).toContain((redis.volumes as string[])[0].split(':')[0]);
    const pings: unknown = expect.arrayContaining(['redis-cli', 'ping']);
    expect(redis.healthcheck).toMatchObject({ test: pings });
  });

  it('builds the simulator, receiver and bridge from one image', () => {
    const images = ['simulator', 'receiver', 'bridge'].map((name) => services[name].image);
    expect(new Set(images).size).toBe(1);
    for (const name of ['simulator', 'receiver', 'bridge']) {
      expect(services[name].build).toMatchObject({ context: '.' });
      expect(services[name].read_only).toBe(true);
    }
  });

  it('starts the simulator and receiver from entry points that exist, listening beyond loopback', () => {
    const entry = (name: string): string => services[name].command![1];
    expect(services.simulator.command).toEqual(['node', 'dist/simulator/simulator.main.js']);
    expect(services.receiver.command).toEqual(['node', 'dist/demo/demo-receiver.main.js']);
    for (const name of ['simulator', 'receiver']) {
      const source = entry(name)
        .replace(/^dist\//, 'src/')
        .replace(/\.js$/, '.ts');
      expect(existsSync(join(ROOT, source))).toBe(true);
      expect(services[name].healthcheck).toBeDefined();
    }
    expect(services.simulator.environment).toMatchObject({
      SIMULATOR_HOST: '0.0.0.0',
      SIMULATOR_PORT: '8787',
      SIMULATOR_CONTROL_PORT: '8788',
    });
    expect(services.receiver.environment).toMatchObject({
      RECEIVER_HOST: '0.0.0.0',
      RECEIVER_PORT: '9000',
    });
  });

  it('configures the bridge with known variables only, and a configuration the service accepts', () => {
    const bridge = services.bridge;
    const env = Object.fromEntries(
      Object.entries(bridge.environment!).map(([k, v]) => [k, interpolated(String(v))]),
    );
    expect(Object.keys(env).filter((k) => !knownEnvVars().includes(k))).toEqual([]);
    expect(env).toMatchObject({ APP_ROLE: 'all', REDIS_URL: 'redis://redis:6379' });
    expect(bridge.environment!.ADMIN_API_KEY).toMatch(/^\$\{ADMIN_API_KEY:-demo-only-[^}]+\}$/);
    const cfg = loadConfig(env);
    expect(cfg.adminApiKey!.length).toBeGreaterThanOrEqual(32);
    // The receiver is on the compose network, so exactly that subnet is allowed.
    const networks = compose.networks as { demo: { ipam: { config: { subnet: string }[] } } };
    expect(cfg.delivery.allowCidrs).toEqual([interpolated(networks.demo.ipam.config[0].subnet)]);
    const stopGrace = Number(/^(\d+)s$/.exec(String(bridge.stop_grace_period))?.[1]);
    expect(stopGrace).toBeGreaterThan(cfg.shutdownTimeoutMs / 1000);
  });

  it('starts the bridge only once Redis, the simulator and the receiver are healthy', () => {
    expect(services.bridge.depends_on).toEqual({
      redis: { condition: 'service_healthy' },
      simulator: { condition: 'service_healthy' },
      receiver: { condition: 'service_healthy' },
    });
  });
});
