import type { CallState, Generation, ScenarioName } from './frame-factory';
import type { EmitAtRateOptions, EmitAtRateResult } from './rate-generator';
import type { AuthMode, SubscriptionApiBehaviour } from './simulator-faults';
import type { SimulatorStats } from './simulator-stats';

/**
 * What the control server drives: frames to emit, faults to switch, history to record. The
 * simulator implements it; the control server knows only this, never the simulator itself.
 */
export interface SimulatorControls {
  readonly stats: SimulatorStats;
  readonly sentCount: number;
  emit(frame: Record<string, unknown> | string | Buffer, opts?: { binary?: boolean }): number;
  emitScenario(name: ScenarioName, generation?: Generation): Record<string, unknown>[];
  emitAtRate(opts: EmitAtRateOptions): Promise<EmitAtRateResult>;
  dropAll(): void;
  setPongs(enabled: boolean): void;
  setAuthMode(mode: AuthMode): void;
  setSubscriptionFiltering(enabled: boolean): void;
  setSubscriptionFault(status: number | undefined): void;
  expireSubscriptions(types?: readonly string[]): number;
  setSubscriptionApi(behaviour: SubscriptionApiBehaviour): Required<SubscriptionApiBehaviour>;
  recordInboundSms(): Record<string, unknown>;
  recordCallState(state: CallState, callId?: string): string;
  refuseConnections(ms: number): void;
  setSearchFault(status: number, count: number): void;
}
