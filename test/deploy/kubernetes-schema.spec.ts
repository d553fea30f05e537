import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { FULL_VALUES, type KubeObject, render, type RenderOptions } from './chart-render';

/**
 * Every object the chart renders, validated against the Kubernetes OpenAPI schemas
 * (kubernetes-models) and the Prometheus Operator CRD schemas, as an API server would before
 * admitting it. Names and labels are checked too: the schemas leave them to the server.
 */

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: KubeObject) => Validatable;

/** The models of the API groups the chart renders into; a new kind needs its group here. */
const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'autoscaling/v2': autoscalingV2,
  'policy/v1': policyV1,
  'networking.k8s.io/v1': networkingV1,
  'monitoring.coreos.com/v1': monitoringV1,
};

function modelOf(object: KubeObject): ModelClass {
  const model = MODELS[object.apiVersion]?.[object.kind];
  if (typeof model !== 'function') {
    throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  }
  return model as ModelClass;
}

/** The schema's complaint about this object, or undefined when it is valid. */
function schemaErrors(object: KubeObject): string | undefined {
  try {
    new (modelOf(object))(object).validate();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** What the API server checks beyond the schema: name formats and lengths, label syntax. */
function nameProblems(object: KubeObject): string[] {
  const problems: string[] = [];
  const { name, labels = {} } = object.metadata;
  // Services and Pods become DNS labels; everything else here is a DNS subdomain.
  const dnsLabel = object.kind === 'Service';
  if (
    dnsLabel
      ? !(DNS_LABEL.test(name) && name.length <= 63)
      : !(DNS_SUBDOMAIN.test(name) && name.length <= 253)
  ) {
    problems.push(`${object.kind} name ${name}`);
  }
  for (const [key, value] of Object.entries(labels)) {
    if (!LABEL_KEY.test(key) || !LABEL_VALUE.test(value) || value.length > 63) {
      problems.push(`${object.kind} ${name} label ${key}=${value}`);
    }
  }
  // ConfigMaps and Secrets have no spec.
  const spec = (object.spec ?? {}) as { template?: { spec?: PodLike } } & PodLike;
  const pod = object.kind === 'Pod' ? spec : spec.template?.spec;
  for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
    if (!DNS_LABEL.test(c.name) || c.name.length > 63) {
      problems.push(`${object.kind} ${name} container ${c.name}`);
    }
    for (const port of c.ports ?? []) {
      if (port.name !== undefined && (port.name.length > 15 || !DNS_LABEL.test(port.name))) {
        problems.push(`${object.kind} ${name} port ${port.name}`);
      }
    }
  }
  return problems;
}

interface PodLike {
  containers?: { name: string; ports?: { name?: string }[] }[];
  initContainers?: { name: string; ports?: { name?: string }[] }[];
}

const VARIANTS: [string, RenderOptions][] = [
  ['the default values', {}],
  ['ci/full-values.yaml', { files: [FULL_VALUES] }],
  [
    'one api role with Ingress, no NetworkPolicy and no helm test',
    {
      values: {
        ingest: { enabled: false },
        worker: { enabled: false },
        ingress: { enabled: true },
        networkPolicy: { enabled: false },
        tests: { enabled: false },
        metrics: { prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true } },
      },
    },
  ],
  [
    'a long release name and a fixed worker count',
    { values: { fullnameOverride: 'x'.repeat(80), worker: { autoscaling: { enabled: false } } } },
  ],
];

describe('rendered objects against the Kubernetes schemas', () => {
  it.each(VARIANTS)('every object rendered from %s is valid', (_label, options) => {
    const objects = render(options);
    expect(objects.length).toBeGreaterThan(5);
    const invalid = objects
      .map((object) => ({
        object: `${object.kind} ${object.metadata.name}`,
        error: schemaErrors(object),
      }))
      .filter((r) => r.error !== undefined);
    expect(invalid).toEqual([]);
    expect(objects.flatMap(nameProblems)).toEqual([]);
  });

  it('the check refuses what an API server would refuse', () => {
    const [deployment] = render({ showOnly: ['templates/deployment-api.yaml'] });
    expect(schemaErrors(deployment)).toBeUndefined();

    const badPort = structuredClone(deployment);
    const pod = (
      badPort.spec as { template: { spec: { containers: { ports: Record<string, unknown>[] }[] } } }
    ).template.spec;
    pod.containers[0].ports[0].containerPort = '3000';
    expect(schemaErrors(badPort)).toMatch(/containerPort must be integer/);

    const noSelector = structuredClone(deployment);
    delete (noSelector.spec as Record<string, unknown>).selector;
    expect(schemaErrors(noSelector)).toMatch(/selector/);

    const [monitor] = render({
      values: { metrics: { serviceMonitor: { enabled: true } } },
      showOnly: ['templates/servicemonitor.yaml'],
    });
    expect(schemaErrors(monitor)).toBeUndefined();
    const badInterval = structuredClone(monitor);
    (badInterval.spec as { endpoints: Record<string, unknown>[] }).endpoints[0].interval =
      '30 seconds';
    expect(schemaErrors(badInterval)).toMatch(/interval must match pattern/);

    expect(() => modelOf({ ...deployment, apiVersion: 'extensions/v1beta1' })).toThrow(/no schema/);
    expect(nameProblems({ ...deployment, metadata: { name: 'Bad_Name' } })).toEqual([
      'Deployment name Bad_Name',
    ]);
  });
});
