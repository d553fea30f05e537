import { readdirSync, readFileSync, statSync } from 'node:fs';
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
import { nextDelayMs } from '../../src/delivery/retry-schedule';
import { parseSubscriptionsFile } from '../../src/subscriptions/subscriptions-file.loader';
import {
  CHART,
  find,
  FULL_VALUES,
  FULLNAME,
  helmVersion,
  type KubeObject,
  lint,
  NAMESPACE,
  ofKind,
  RELEASE,
  render,
  renderError,
  type Role,
  ROLES,
  ROOT,
} from './chart-render';

/**
 * The Helm chart, rendered by a real helm (scripts/helm.ts) with the default values and with
 * ci/full-values.yaml, and checked object by object. kubernetes-schema.spec.ts validates the same
 * objects against the Kubernetes schemas; monitoring.spec.ts checks the alerts and the dashboard.
 */

type Json = Record<string, unknown>;

interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: Json;
}
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  env?: EnvEntry[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number; protocol: string }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  securityContext?: Json;
  resources?: Json;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  emptyDir?: { sizeLimit?: string };
  configMap?: { name: string };
  secret?: Json;
}
interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
  labelSelector?: { matchLabels: Record<string, string> };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  securityContext?: Json;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  terminationGracePeriodSeconds?: number;
  priorityClassName?: string;
  topologySpreadConstraints?: TopologySpreadConstraint[];
}
interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
}
interface NetworkPolicyPort {
  port: number | string;
  protocol: string;
}
interface NetworkPolicyRule {
  ports?: NetworkPolicyPort[];
  from?: Json[];
  to?: Json[];
}
interface NetworkPolicySpec {
  podSelector: { matchLabels: Record<string, string> };
  policyTypes: string[];
  ingress: NetworkPolicyRule[];
  egress: NetworkPolicyRule[];
}

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

function withValue(vals: Json, path: string, value: unknown): Json {
  const copy = structuredClone(vals);
  const segments = path.split('.');
  let node: Json = copy;
  for (const segment of segments.slice(0, -1)) {
    node = node[segment] as Json;
  }
  node[segments[segments.length - 1]] = value;
  return copy;
}

const values = parse(read(join(CHART, 'values.yaml'))) as Json;
const fullValues = parse(read(FULL_VALUES)) as Json;
const schema = JSON.parse(read(join(CHART, 'values.schema.json'))) as Json;
const schemaDefaults = new EnvironmentVariables() as unknown as Record<string, unknown>;
const config = values.config as Record<string, unknown>;
const appVersion = (parse(read(join(CHART, 'Chart.yaml'))) as { appVersion: string }).appVersion;
const secrets = values.secrets as Record<string, unknown>;

/** Variables the chart sets from values outside `config` and `secrets`. */
const CHART_OWNED = [
  'APP_ROLE',
  'QUEUE_PREFIX',
  'REDIS_SENTINEL_NAME',
  'REDIS_SENTINELS',
  'SUBSCRIPTIONS_FILE',
  'TRUST_PROXY',
];

const TEST_SECRETS = {
  OPENTACT_EMAIL: 'ops@example.com',
  OPENTACT_PASSWORD: 'not-a-real-password',
  ADMIN_API_KEY: 'k'.repeat(40),
  REDIS_URL: 'redis://:pw@redis-master:6379/0',
};

const deployment = (objects: KubeObject[], role: Role): KubeObject =>
  find(objects, 'Deployment', `${FULLNAME}-${role}`);
const deploymentSpec = (object: KubeObject): DeploymentSpec => object.spec as DeploymentSpec;
const podSpec = (object: KubeObject): PodSpec =>
  (object.spec as { template: { spec: PodSpec } }).template.spec;
const container = (objects: KubeObject[], role: Role): Container =>
  podSpec(deployment(objects, role)).containers[0];
const roleSelector = (role: string): Record<string, string> => ({
  'app.kubernetes.io/name': 'opentact-bridge',
  'app.kubernetes.io/instance': RELEASE,
  'app.kubernetes.io/component': role,
});
const networkPolicy = (objects: KubeObject[], role: Role): NetworkPolicySpec =>
  find(objects, 'NetworkPolicy', `${FULLNAME}-${role}`).spec as NetworkPolicySpec;
const dataOf = (object: KubeObject): Record<string, string> =>
  (object.data ?? {}) as Record<string, string>;

/**
 * The environment a role's container starts with, read from the rendered objects: the ConfigMap
 * and Secret of its envFrom (in order), then its env entries, as the kubelet builds it.
 */
function podEnv(objects: KubeObject[], role: Role): Record<string, string> {
  const main = container(objects, role);
  const env: Record<string, string> = {};
  for (const source of main.envFrom ?? []) {
    if (source.configMapRef) {
      Object.assign(env, dataOf(find(objects, 'ConfigMap', source.configMapRef.name)));
    }
    const secretName = source.secretRef?.name;
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === secretName);
    for (const [key, encoded] of Object.entries(secret ? dataOf(secret) : {})) {
      env[key] = Buffer.from(encoded, 'base64').toString('utf8');
    }
  }
  for (const entry of main.env ?? []) {
    if (entry.value !== undefined) {
      env[entry.name] = entry.value;
    }
  }
  return env;
}

const withSecrets = { secrets: TEST_SECRETS };

describe('Helm chart: lint and render with a real helm', () => {
  let defaults: KubeObject[];
  let full: KubeObject[];

  beforeAll(() => {
    defaults = render();
    full = render({ files: [FULL_VALUES] });
  });

  it('runs helm 3', () => {
    expect(helmVersion()).toMatch(/^v3\.\d+\.\d+/);
  });

  it.each([
    ['the default values', {}],
    ['ci/full-values.yaml', { files: [FULL_VALUES] }],
  ])('passes helm lint --strict with %s', (_label, options) => {
    const result = lint(options);
    expect(result.output).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.status).toBe(0);
  });

  it('every YAML file outside templates/ parses, and Chart.yaml describes the service', () => {
    const templates = join(CHART, 'templates');
    const yamlFiles = walk(CHART).filter(
      (file) => /\.ya?ml$/.test(file) && !file.startsWith(templates + '/'),
    );
    expect(yamlFiles.map((f) => relative(CHART, f))).toEqual(
      expect.arrayContaining(['Chart.yaml', 'values.yaml', 'ci/full-values.yaml']),
    );
    for (const file of yamlFiles) {
      const doc = parseDocument(read(file));
      expect({ file, errors: doc.errors.map((e) => e.message) }).toEqual({ file, errors: [] });
    }
    const chart = parse(read(join(CHART, 'Chart.yaml'))) as Json;
    const pkg = JSON.parse(read(join(ROOT, 'package.json'))) as { version: string };
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'opentact-bridge', type: 'application' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(chart.appVersion).toBe(pkg.version);
    expect(chart.kubeVersion).toEqual(expect.any(String));
    expect(chart.keywords).toEqual(expect.arrayContaining(['opentact', 'webhooks']));
  });

  it('renders the default objects, on stable API versions', () => {
    const kinds = defaults.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        `apps/v1 Deployment ${FULLNAME}-api`,
        `apps/v1 Deployment ${FULLNAME}-ingest`,
        `apps/v1 Deployment ${FULLNAME}-worker`,
        `autoscaling/v2 HorizontalPodAutoscaler ${FULLNAME}-worker`,
        `networking.k8s.io/v1 NetworkPolicy ${FULLNAME}-api`,
        `networking.k8s.io/v1 NetworkPolicy ${FULLNAME}-ingest`,
        `networking.k8s.io/v1 NetworkPolicy ${FULLNAME}-worker`,
        `policy/v1 PodDisruptionBudget ${FULLNAME}-api`,
        `policy/v1 PodDisruptionBudget ${FULLNAME}-worker`,
        `v1 ConfigMap ${FULLNAME}`,
        `v1 Pod ${FULLNAME}-test`,
        `v1 Secret ${FULLNAME}`,
        `v1 Service ${FULLNAME}-api`,
        `v1 ServiceAccount ${FULLNAME}`,
      ].sort(),
    );
  });

  it('renders every optional object with ci/full-values.yaml', () => {
    const kinds = new Set(full.map((o) => `${o.apiVersion} ${o.kind}`));
    for (const kind of [
      'networking.k8s.io/v1 Ingress',
      'monitoring.coreos.com/v1 ServiceMonitor',
      'monitoring.coreos.com/v1 PrometheusRule',
      'policy/v1 PodDisruptionBudget',
    ]) {
      expect(kinds).toContain(kind);
    }
    expect(ofKind(full, 'PodDisruptionBudget')).toHaveLength(3);
    expect(find(full, 'ConfigMap', `${FULLNAME}-dashboard`)).toBeDefined();
    expect(find(full, 'Service', `${FULLNAME}-metrics`).spec).toMatchObject({ clusterIP: 'None' });
    // existingSecret: the chart creates no Secret of its own.
    expect(ofKind(full, 'Secret')).toEqual([]);
  });

  it('labels every object with the release and the chart', () => {
    for (const object of [...defaults, ...full]) {
      expect({ object: object.metadata.name, labels: object.metadata.labels }).toMatchObject({
        labels: {
          'helm.sh/chart': expect.stringMatching(/^opentact-bridge-/) as unknown,
          'app.kubernetes.io/instance': RELEASE,
          'app.kubernetes.io/managed-by': 'Helm',
        },
      });
    }
  });
});

describe('Helm chart: Deployments', () => {
  let defaults: KubeObject[];
  let full: KubeObject[];

  beforeAll(() => {
    defaults = render({ values: withSecrets });
    full = render({ files: [FULL_VALUES] });
  });

  it.each(ROLES)('the %s Deployment runs its role, probes, shutdown hook and volumes', (role) => {
    const object = deployment(defaults, role);
    const spec = deploymentSpec(object);
    const pod = podSpec(object);
    const main = container(defaults, role);
    expect(spec.selector.matchLabels).toEqual(roleSelector(role));
    expect(spec.template.metadata.labels).toMatchObject(roleSelector(role));
    expect(pod.containers).toHaveLength(1);
    expect(main.name).toBe(role);
    expect(main.image).toBe(`${(values.image as Json).repository as string}:${appVersion}`);
    expect(main.env?.[0]).toEqual({ name: 'APP_ROLE', value: role });
    expect(main.ports).toEqual([{ name: 'http', containerPort: config.PORT, protocol: 'TCP' }]);
    expect(main.startupProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(main.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(main.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(main.lifecycle?.preStop?.exec?.command).toEqual([
      'sleep',
      String(values.preStopSleepSeconds),
    ]);
    expect(pod.terminationGracePeriodSeconds).toBe(values.terminationGracePeriodSeconds);
    expect(main.envFrom).toEqual([
      { configMapRef: { name: FULLNAME } },
      { secretRef: { name: FULLNAME } },
    ]);
    expect(main.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: values.tmpSizeLimit } }]);
    expect(main.resources).toEqual((values[role] as Json).resources);
    expect(pod.serviceAccountName).toBe(FULLNAME);
    expect(pod.enableServiceLinks).toBe(false);
    expect(pod.priorityClassName).toBeUndefined();
    expect(pod.initContainers).toBeUndefined();
  });

  it('has secure defaults on every pod and container, the helm test pod included', () => {
    const pods: PodSpec[] = [
      ...ROLES.map((role) => podSpec(deployment(defaults, role))),
      find(defaults, 'Pod', `${FULLNAME}-test`).spec as PodSpec,
    ];
    for (const pod of pods) {
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        fsGroup: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const c of pod.containers) {
        expect(c.securityContext).toEqual({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.resources).toMatchObject({ requests: { memory: expect.any(String) as unknown } });
      }
    }
    expect(find(defaults, 'ServiceAccount', FULLNAME).automountServiceAccountToken).toBe(false);
  });

  it('has a helm test hook that checks /health/ready through the api Service', () => {
    const pod = find(defaults, 'Pod', `${FULLNAME}-test`);
    expect(pod.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'test' });
    // Not the selector labels: the metrics Service must not pick the test pod up.
    expect(pod.metadata.labels?.['app.kubernetes.io/name']).toBeUndefined();
    const env = (pod.spec as PodSpec).containers[0].env;
    expect(env).toEqual([{ name: 'TARGET_URL', value: `http://${FULLNAME}-api:80/health/ready` }]);
  });

  it('leaves the worker replicas to the HPA while autoscaling is on', () => {
    expect(deploymentSpec(deployment(defaults, 'worker')).replicas).toBeUndefined();
    expect(deploymentSpec(deployment(defaults, 'api')).replicas).toBe(2);
    expect(find(defaults, 'HorizontalPodAutoscaler', `${FULLNAME}-worker`).spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `${FULLNAME}-worker` },
      minReplicas: 2,
      maxReplicas: 10,
    });
    const manual = render({ values: { worker: { autoscaling: { enabled: false } } } });
    expect(deploymentSpec(deployment(manual, 'worker')).replicas).toBe(2);
    expect(ofKind(manual, 'HorizontalPodAutoscaler')).toEqual([]);
  });

  it('rolls the pods when the configuration or the credentials change, and only then', () => {
    const annotations = (objects: KubeObject[]): Record<string, string> =>
      deploymentSpec(deployment(objects, 'worker')).template.metadata.annotations;
    const base = annotations(defaults);
    expect(base['checksum/config']).toMatch(/^[a-f0-9]{64}$/);
    expect(base['checksum/secret']).toMatch(/^[a-f0-9]{64}$/);
    expect(annotations(render({ values: withSecrets }))).toEqual(base);

    const config = annotations(
      render({ values: { ...withSecrets, config: { LOG_LEVEL: 'debug' } } }),
    );
    expect(config['checksum/config']).not.toBe(base['checksum/config']);
    expect(config['checksum/secret']).toBe(base['checksum/secret']);

    const secret = annotations(
      render({ values: { secrets: { ...TEST_SECRETS, ADMIN_API_KEY: 'x'.repeat(40) } } }),
    );
    expect(secret['checksum/secret']).not.toBe(base['checksum/secret']);
    expect(secret['checksum/config']).toBe(base['checksum/config']);

    const redis = annotations(render({ values: { ...withSecrets, redis: { prefix: '{otb}' } } }));
    expect(redis['checksum/config']).not.toBe(base['checksum/config']);
  });

  it.each(ROLES)('spreads the %s pods over nodes and zones by default', (role) => {
    expect(podSpec(deployment(defaults, role)).topologySpreadConstraints).toEqual(
      ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: roleSelector(role) },
      })),
    );
  });

  it('keeps the labelSelector a topology spread constraint brings', () => {
    const own = { matchLabels: { team: 'telephony' } };
    const objects = render({
      values: {
        api: {
          topologySpreadConstraints: [
            {
              maxSkew: 2,
              topologyKey: 'zone',
              whenUnsatisfiable: 'DoNotSchedule',
              labelSelector: own,
            },
          ],
        },
      },
    });
    expect(podSpec(deployment(objects, 'api')).topologySpreadConstraints).toEqual([
      { maxSkew: 2, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: own },
    ]);
  });

  it('adds extraEnv, extraVolumes, extraVolumeMounts, initContainers and priorityClassName to every role', () => {
    for (const role of ROLES) {
      const pod = podSpec(deployment(full, role));
      const main = pod.containers[0];
      const names = (main.env ?? []).map((e) => e.name);
      // APP_ROLE first, then the chart-wide entries, then the role's own.
      expect(names.slice(0, 2)).toEqual(['APP_ROLE', 'NODE_EXTRA_CA_CERTS']);
      expect(names.slice(2)).toEqual(role === 'ingest' ? ['NODE_OPTIONS'] : []);
      expect(main.volumeMounts).toContainEqual({
        name: 'private-ca',
        mountPath: '/etc/private-ca',
        readOnly: true,
      });
      expect(pod.volumes?.map((v) => v.name)).toEqual(['tmp', 'subscriptions', 'private-ca']);
      expect(pod.initContainers?.map((c) => c.name)).toEqual(['wait-for-redis']);
      expect(pod.priorityClassName).toBe(
        role === 'ingest' ? 'opentact-bridge-ingest' : 'opentact-bridge',
      );
    }
  });

  it('mounts declared subscriptions as the file SUBSCRIPTIONS_FILE names, in a shape the service reads', () => {
    const env = podEnv(full, 'api');
    const path = env.SUBSCRIPTIONS_FILE;
    expect(path).toBe('/etc/opentact-bridge/subscriptions.yaml');
    const main = container(full, 'api');
    const mount = main.volumeMounts?.find((m) => m.name === 'subscriptions');
    expect(mount).toEqual({
      name: 'subscriptions',
      mountPath: '/etc/opentact-bridge',
      readOnly: true,
    });
    const volume = podSpec(deployment(full, 'api')).volumes?.find(
      (v) => v.name === 'subscriptions',
    );
    const configMap = find(full, 'ConfigMap', volume!.configMap!.name);
    const text = dataOf(configMap)['subscriptions.yaml'];
    const declared = parseSubscriptionsFile(text, path);
    const expected = (fullValues.subscriptions as { id: string }[]).map((s) => s.id);
    expect(declared.map((s) => s.id)).toEqual(expected);
  });
});

describe('Helm chart: configuration', () => {
  let defaults: KubeObject[];
  let full: KubeObject[];

  beforeAll(() => {
    defaults = render({ values: withSecrets });
    full = render({ files: [FULL_VALUES] });
  });

  it('the ConfigMap holds every config key as the service reads it, plus the Redis topology', () => {
    const data = dataOf(find(defaults, 'ConfigMap', FULLNAME));
    const expected: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
      expected[key] = String(value);
    }
    // Helm reads numbers as float64: large integers must not come out as 1.048576e+06.
    expect(expected.OPENTACT_MAX_FRAME_BYTES).toBe('1048576');
    expect(data).toEqual({ ...expected, QUEUE_PREFIX: 'otb', REDIS_SENTINEL_NAME: 'mymaster' });

    const fullData = dataOf(find(full, 'ConfigMap', FULLNAME));
    expect(fullData).toMatchObject({
      QUEUE_PREFIX: '{otb}',
      REDIS_SENTINELS: (fullValues.redis as { sentinels: string[] }).sentinels.join(','),
      SUBSCRIPTIONS_FILE: '/etc/opentact-bridge/subscriptions.yaml',
      TRUST_PROXY: '10.0.0.0/8',
      SHUTDOWN_TIMEOUT_MS: '30000',
      DELIVERY_RETRY_JITTER: '0.2',
    });
  });

  it('the Secret holds the non-empty secrets; existingSecret replaces it', () => {
    const secret = find(defaults, 'Secret', FULLNAME);
    const decoded = Object.fromEntries(
      Object.entries(dataOf(secret)).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    expect(decoded).toEqual(TEST_SECRETS);
    expect(container(full, 'worker').envFrom).toContainEqual({
      secretRef: { name: fullValues.existingSecret },
    });
  });

  it('can set every variable the service reads, each in exactly one place', () => {
    const rendered = render({ files: [FULL_VALUES] });
    const configMapKeys = Object.keys(dataOf(find(rendered, 'ConfigMap', FULLNAME)));
    const chartOwned = [
      ...configMapKeys.filter((k) => !(k in config)),
      ...(container(rendered, 'ingest').env ?? [])
        .map((e) => e.name)
        .filter((n) => n === 'APP_ROLE'),
    ];
    expect(chartOwned.sort()).toEqual([...CHART_OWNED].sort());
    const all = [...Object.keys(config), ...Object.keys(secrets), ...CHART_OWNED];
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(knownEnvVars());
    expect(Object.keys(config).filter((k) => SECRET_ENV_VARS.has(k))).toEqual([]);
    expect(Object.keys(secrets).sort()).toEqual([...SECRET_ENV_VARS, 'OPENTACT_EMAIL'].sort());
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
    ['the default values', false],
    ['ci/full-values.yaml', true],
  ])('the environment rendered from %s starts every role', (_label, isFull) => {
    const objects = isFull ? full : defaults;
    for (const role of ROLES) {
      // Full values take the credentials from an existing Secret the chart does not render.
      const env: Record<string, string> = {
        ...podEnv(objects, role),
        ...(isFull ? TEST_SECRETS : {}),
      };
      expect(env.APP_ROLE).toBe(role);
      const cfg = loadConfig(env);
      expect(cfg.role).toBe(role);
      const vals = merge(values, isFull ? fullValues : {}) as Json;
      const redis = vals.redis as { sentinels: string[]; prefix: string };
      expect(cfg.redis.prefix).toBe(redis.prefix);
      expect(cfg.redis.sentinels?.length ?? 0).toBe(redis.sentinels.length);
      expect(cfg.shutdownTimeoutMs).toBe((vals.config as Json).SHUTDOWN_TIMEOUT_MS);
    }
  });

  it('gives in-flight deliveries time to finish before SIGKILL, and refuses values that do not', () => {
    for (const objects of [defaults, full]) {
      for (const role of ROLES) {
        const env = podEnv(objects, role);
        const main = container(objects, role);
        const preStop = Number(main.lifecycle?.preStop?.exec?.command[1]);
        const grace = podSpec(deployment(objects, role)).terminationGracePeriodSeconds!;
        expect(preStop).toBeGreaterThan(0);
        expect(grace).toBeGreaterThan(preStop + Number(env.SHUTDOWN_TIMEOUT_MS) / 1000);
      }
    }
    expect(config.SHUTDOWN_TIMEOUT_MS).toBe(schemaDefaults.SHUTDOWN_TIMEOUT_MS);
    expect(renderError({ values: { terminationGracePeriodSeconds: 25 } })).toContain(
      'terminationGracePeriodSeconds (25) must exceed preStopSleepSeconds + config.SHUTDOWN_TIMEOUT_MS/1000 (25)',
    );
    expect(() => render({ values: { terminationGracePeriodSeconds: 26 } })).not.toThrow();
  });

  it('refuses a release that runs no role', () => {
    const none = {
      ingest: { enabled: false },
      worker: { enabled: false },
      api: { enabled: false },
    };
    expect(renderError({ values: none })).toContain(
      'enable at least one of ingest, worker and api',
    );
  });
});

describe('Helm chart: Ingress', () => {
  it('is off by default', () => {
    expect(ofKind(render(), 'Ingress')).toEqual([]);
  });

  it('routes the admin API, the docs and the console to the api Service, nothing else', () => {
    const objects = render({ files: [FULL_VALUES] });
    const ingress = find(objects, 'Ingress', FULLNAME);
    const spec = ingress.spec as {
      ingressClassName: string;
      tls: Json[];
      rules: {
        host?: string;
        http: {
          paths: {
            path: string;
            pathType: string;
            backend: { service: { name: string; port: { name: string } } };
          }[];
        };
      }[];
    };
    expect(spec.ingressClassName).toBe('nginx');
    expect(spec.tls).toEqual((fullValues.ingress as Json).tls);
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
    });
    expect(spec.rules.map((r) => r.host)).toEqual(['opentact-bridge.example.com']);
    const paths = spec.rules[0].http.paths;
    expect(paths.map((p) => p.path)).toEqual(['/v1', '/docs', '/docs-json', '/console']);
    for (const path of paths) {
      expect(path.pathType).toBe('Prefix');
      expect(path.backend).toEqual({
        service: { name: `${FULLNAME}-api`, port: { name: 'http' } },
      });
    }
    const service = find(objects, 'Service', `${FULLNAME}-api`).spec as {
      ports: { name: string }[];
    };
    expect(service.ports.map((p) => p.name)).toEqual(['http']);
  });

  it('serves every host when none is named, and needs the api role', () => {
    const objects = render({ values: { ingress: { enabled: true } } });
    const rules = (find(objects, 'Ingress', FULLNAME).spec as { rules: Json[] }).rules;
    expect(rules).toHaveLength(1);
    expect(rules[0].host).toBeUndefined();
    expect(
      renderError({ values: { ingress: { enabled: true }, api: { enabled: false } } }),
    ).toContain('ingress.enabled routes to the api Service: enable api too');
  });
});

describe('Helm chart: NetworkPolicy', () => {
  let defaults: KubeObject[];
  let full: KubeObject[];
  const publicInternet = (values.networkPolicy as { egress: { publicInternet: Json[] } }).egress
    .publicInternet;
  const internetPeers = publicInternet.map((ipBlock) => ({ ipBlock }));
  const dnsPorts = [
    { port: 53, protocol: 'UDP' },
    { port: 53, protocol: 'TCP' },
  ];
  const redisPorts = [
    { port: 6379, protocol: 'TCP' },
    { port: 26379, protocol: 'TCP' },
  ];

  beforeAll(() => {
    defaults = render();
    full = render({ files: [FULL_VALUES] });
  });

  it.each(ROLES)(
    'selects the %s pods and admits only the http port, from the namespace',
    (role) => {
      const spec = networkPolicy(defaults, role);
      expect(spec.podSelector.matchLabels).toEqual(roleSelector(role));
      expect(deploymentSpec(deployment(defaults, role)).template.metadata.labels).toMatchObject(
        spec.podSelector.matchLabels,
      );
      expect(spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(spec.ingress).toEqual([
        { ports: [{ port: 'http', protocol: 'TCP' }], from: [{ podSelector: {} }] },
      ]);
    },
  );

  it('lets each role reach only what it uses', () => {
    expect(networkPolicy(defaults, 'api').egress).toEqual([
      { ports: dnsPorts },
      { ports: redisPorts },
    ]);
    expect(networkPolicy(defaults, 'ingest').egress).toEqual([
      { ports: dnsPorts },
      { ports: redisPorts },
      { ports: [{ port: 443, protocol: 'TCP' }], to: internetPeers },
    ]);
    expect(networkPolicy(defaults, 'worker').egress).toEqual([
      { ports: dnsPorts },
      { ports: redisPorts },
      { to: internetPeers },
    ]);
  });

  it('keeps cluster, loopback and cloud metadata addresses out of the public internet', () => {
    const v4 = publicInternet.find((b) => b.cidr === '0.0.0.0/0') as { except: string[] };
    expect(v4.except).toEqual(
      expect.arrayContaining([
        '10.0.0.0/8',
        '172.16.0.0/12',
        '192.168.0.0/16',
        '169.254.0.0/16',
        '127.0.0.0/8',
      ]),
    );
    const v6 = publicInternet.find((b) => b.cidr === '::/0') as { except: string[] };
    expect(v6.except).toEqual(expect.arrayContaining(['fc00::/7', 'fe80::/10', '::1/128']));
  });

  it('opens the Opentact ports the configured URLs name, and the CIDRs webhooks may reach', () => {
    const objects = render({
      values: {
        config: {
          OPENTACT_REST_URL: 'http://simulator.sim:8787/rest',
          OPENTACT_WSS_URL: 'ws://simulator.sim:8788',
          DELIVERY_ALLOW_CIDRS: '10.1.0.0/16, 192.168.5.0/24',
        },
      },
    });
    expect(networkPolicy(objects, 'ingest').egress[2].ports).toEqual([
      { port: 8787, protocol: 'TCP' },
      { port: 8788, protocol: 'TCP' },
    ]);
    expect(networkPolicy(objects, 'worker').egress[2].to).toEqual([
      ...internetPeers,
      { ipBlock: { cidr: '10.1.0.0/16' } },
      { ipBlock: { cidr: '192.168.5.0/24' } },
    ]);
    const plain = render({
      values: { config: { OPENTACT_REST_URL: 'http://sim/rest', OPENTACT_WSS_URL: 'ws://sim' } },
    });
    expect(networkPolicy(plain, 'ingest').egress[2].ports).toEqual([{ port: 80, protocol: 'TCP' }]);
  });

  it('takes the configured peers, ports and extra rules', () => {
    const np = fullValues.networkPolicy as {
      ingressFrom: Json[];
      egress: { dns: { to: Json[] }; redis: { to: Json[] }; extra: Json[] };
    };
    for (const role of ROLES) {
      const spec = networkPolicy(full, role);
      const testPod = {
        podSelector: {
          matchLabels: {
            'app.kubernetes.io/instance': RELEASE,
            'app.kubernetes.io/component': 'test',
          },
        },
      };
      expect(spec.ingress[0].from).toEqual(
        role === 'api' ? [...np.ingressFrom, testPod] : np.ingressFrom,
      );
      expect(spec.egress[0]).toEqual({ ports: dnsPorts, to: np.egress.dns.to });
      expect(spec.egress[1]).toEqual({ ports: redisPorts, to: np.egress.redis.to });
      expect(spec.egress.slice(-1)).toEqual(np.egress.extra);
    }
    expect(networkPolicy(full, 'worker').egress[2]).toEqual({
      to: [...internetPeers, { ipBlock: { cidr: '10.0.0.0/8' } }],
      ports: [
        { port: 443, protocol: 'TCP' },
        { port: 8443, protocol: 'TCP' },
      ],
    });
  });

  it('renders none when disabled', () => {
    expect(
      ofKind(render({ values: { networkPolicy: { enabled: false } } }), 'NetworkPolicy'),
    ).toEqual([]);
  });
});

describe('Helm chart: values schema', () => {
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
    ['a third ingest replica (it only adds an Opentact connection)', 'ingest.replicaCount', 3],
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
    ['APP_ROLE in the chart-wide extraEnv', 'extraEnv', [{ name: 'APP_ROLE', value: 'all' }]],
    ['a SHUTDOWN_TIMEOUT_MS below 1000', 'config.SHUTDOWN_TIMEOUT_MS', 999],
    ['a retry jitter of 1 (every retry would throw)', 'config.DELIVERY_RETRY_JITTER', 1],
    ['a retry jitter above 1', 'config.DELIVERY_RETRY_JITTER', 1.5],
    ['a malformed retry schedule', 'config.DELIVERY_RETRY_SCHEDULE', '5 seconds'],
    ['an HPA minimum of 0', 'worker.autoscaling.minReplicas', 0],
    ['an extra volume named like the chart’s own', 'extraVolumes', [{ name: 'tmp', emptyDir: {} }]],
    ['an extra mount over /tmp', 'extraVolumeMounts', [{ name: 'x', mountPath: '/tmp' }]],
    [
      'an extra mount inside the subscriptions mount',
      'extraVolumeMounts',
      [{ name: 'x', mountPath: '/etc/opentact-bridge/ca' }],
    ],
    ['an init container without an image', 'initContainers', [{ name: 'wait' }]],
    ['a priorityClassName that is not a name', 'priorityClassName', 'High Priority'],
    ['an Ingress path without its slash', 'ingress.paths', ['v1']],
    ['a NetworkPolicy peer of an unknown kind', 'networkPolicy.ingressFrom', [{ pods: {} }]],
    ['a Redis port out of range', 'networkPolicy.egress.redis.ports', [70000]],
    ['a PromQL selector that is not label matchers', 'metrics.prometheusRule.selector', 'job=x'],
    ['a backlog duration without a unit', 'metrics.prometheusRule.backlogFor', '10'],
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

  it('is enforced by helm itself', () => {
    const schemaError = "values don't meet the specifications of the schema";
    const replicas = renderError({ values: { ingest: { replicaCount: 3 } } });
    expect(replicas).toContain(schemaError);
    expect(replicas).toContain('- ingest.replicaCount: Must be less than or equal to 2');
    const jitter = renderError({ values: { config: { DELIVERY_RETRY_JITTER: 1 } } });
    expect(jitter).toContain(schemaError);
    expect(jitter).toContain('- config.DELIVERY_RETRY_JITTER: Must be less than 1');
    expect(() => render({ values: { ingest: { replicaCount: 2 } } })).not.toThrow();
  });

  it('has a comment on every key (a # line directly above, or a trailing comment)', () => {
    const text = read(join(CHART, 'values.yaml'));
    const lines = text.split('\n');
    const counter = new LineCounter();
    const doc = parseDocument(text, { lineCounter: counter });
    const uncommented: string[] = [];
    let checked = 0;
    const visit = (node: unknown, prefix: string): void => {
      // Keys of maps inside lists (HPA policies, CIDR blocks) are data, not settings.
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
    expect(checked).toBeGreaterThan(150);
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

  describe('agrees with the service', () => {
    let env: Record<string, string>;

    beforeAll(() => {
      // The environment a pod gets from the default values, as rendered.
      env = podEnv(render({ values: withSecrets }), 'worker');
      env.APP_ROLE = 'all';
    });

    const serviceAccepts = (overrides: Record<string, string>): boolean => {
      try {
        loadConfig({ ...env, ...overrides });
        return true;
      } catch {
        return false;
      }
    };

    it('on which config values are valid, at every bound', () => {
      const props = (schema.properties as Record<string, { properties: Json }>).config
        .properties as Record<
        string,
        { type?: string; minimum?: number; maximum?: number; exclusiveMaximum?: number }
      >;
      const samples: Record<string, unknown[]> = {
        LOG_LEVEL: ['info', 'trace', 'silent', 'verbose', 'INFO'],
        OPENTACT_SUBSCRIBE: ['call_state,sms', 'call_state, sms', 'sms', 'Call_State', 'a;b'],
        DELIVERY_RETRY_SCHEDULE: ['5s,5m,30m', '10', '5s, 1h', '500ms,1d', '5x', '5s,,5m', 'soon'],
        DELIVERY_RETRY_JITTER: [0, 0.5, 0.999, 1, 1.01, -0.1],
        OPENTACT_REST_URL: [
          'http://sim:8787/rest',
          'https://api.opentact.org/rest',
          'ftp://x/rest',
        ],
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
          const overrides: Record<string, string> = { [key]: String(sample) };
          if (key === 'OPENTACT_RECONNECT_MAX_MS') {
            overrides.OPENTACT_RECONNECT_BASE_MS = '1';
          }
          // Checked against the timeout too (which has to be shorter); the bound alone is tested.
          if (key === 'WORKER_LOCK_MS') {
            overrides.DELIVERY_TIMEOUT_MS = '100';
          }
          const serviceOk = serviceAccepts(overrides);
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

    it('on QUEUE_PREFIX and OPENTACT_TOKEN', () => {
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
        expect({ name, sample, chartOk }).toEqual({
          name,
          sample,
          chartOk: serviceAccepts({ [name]: sample }),
        });
      }
    });

    it('on DELIVERY_RETRY_JITTER: every accepted value works in the retry schedule, 1 is refused with a reason', () => {
      for (const jitter of [0, 0.2, 0.5, 0.999, 1, 1.5, -0.1]) {
        let retryJitter: number | undefined;
        try {
          retryJitter = loadConfig({ ...env, DELIVERY_RETRY_JITTER: String(jitter) }).delivery
            .retryJitter;
        } catch {
          retryJitter = undefined;
        }
        expect({
          jitter,
          chart: accepts(withValue(values, 'config.DELIVERY_RETRY_JITTER', jitter)),
        }).toEqual({
          jitter,
          chart: retryJitter !== undefined,
        });
        if (retryJitter !== undefined) {
          for (const random of [0, 0.5, 0.999_999]) {
            expect(nextDelayMs(1, [60_000], retryJitter, () => random)).toBeGreaterThan(0);
          }
        }
      }
      expect(() => loadConfig({ ...env, DELIVERY_RETRY_JITTER: '1' })).toThrow(
        /DELIVERY_RETRY_JITTER: DELIVERY_RETRY_JITTER must be below 1/,
      );
    });
  });
});

describe('Helm chart: release and namespace', () => {
  it('names every object after the release, in the release namespace', () => {
    const objects = render({ files: [FULL_VALUES] });
    for (const object of objects) {
      expect(object.metadata.name.startsWith(FULLNAME)).toBe(true);
    }
    const rule = find(objects, 'PrometheusRule', FULLNAME);
    const groups = (rule.spec as { groups: { rules: { expr: string }[] }[] }).groups;
    expect(groups[0].rules[0].expr).toContain(`namespace="${NAMESPACE}"`);
  });
});
