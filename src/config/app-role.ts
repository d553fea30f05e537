/** Which parts of the service one process runs. `all` suits one machine; Kubernetes runs each role as its own Deployment. */
export enum AppRole {
  All = 'all',
  Ingest = 'ingest',
  Worker = 'worker',
  Api = 'api',
}

export function runsIngest(role: AppRole): boolean {
  return role === AppRole.All || role === AppRole.Ingest;
}

export function runsWorker(role: AppRole): boolean {
  return role === AppRole.All || role === AppRole.Worker;
}

export function runsApi(role: AppRole): boolean {
  return role === AppRole.All || role === AppRole.Api;
}
