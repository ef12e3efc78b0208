/**
 * Reverse sync (new → legacy) after cutover, behind an interface: the rollout state says whether it
 * should run (`gates.reverseSync`, set by cutover and cleared by rollback and contract); a
 * ReverseSync starts and stops the pipeline that does it. The supervisor brings the pipeline in line
 * with the state whenever the state changes and at every watch interval.
 */
import type { Logger } from '../observability/logger.js';
import type { RolloutState } from './state.js';

export interface ReverseSync {
  /** Starts the new → legacy pipeline (idempotent). Rejects when it cannot run; the caller undoes the change. */
  start(state: RolloutState): Promise<void>;
  /** Stops after legacy has every write made on new so far (a rollback). */
  stop(): Promise<void>;
  /** Stops without draining, when the process ends; the pipeline resumes from its slot next time. */
  close(): Promise<void>;
  readonly running: boolean;
}

export type ReverseSyncStatus = 'off' | 'running' | 'starting-failed' | 'no-pipeline';

export class ReverseSyncSupervisor {
  status: ReverseSyncStatus = 'off';
  lastError: string | null = null;

  constructor(
    private readonly sync: ReverseSync | null,
    private readonly logger: Logger,
  ) {}

  async close(): Promise<void> {
    await this.sync?.close();
  }

  /** Starts or stops the pipeline to match the state; never throws (the status and log say what happened). */
  async follow(state: RolloutState): Promise<ReverseSyncStatus> {
    if (!state.gates.reverseSync) {
      if (this.sync?.running) {
        await this.sync.stop();
        this.logger.info({ migration: state.migration, phase: state.phase }, `reverse sync of migration ${state.migration} stopped (phase ${state.phase})`);
      }
      this.status = 'off';
      this.lastError = null;
      return this.status;
    }
    if (!this.sync) {
      if (this.status !== 'no-pipeline') {
        this.logger.error(
          { migration: state.migration, phase: state.phase },
          `migration ${state.migration} is in ${state.phase}, which needs reverse sync (new → legacy), and this process has no reverse pipeline; legacy is not kept in step, so a rollback would lose the writes made on new`,
        );
      }
      this.status = 'no-pipeline';
      return this.status;
    }
    if (this.sync.running) return (this.status = 'running');
    try {
      await this.sync.start(state);
      this.logger.info({ migration: state.migration, phase: state.phase }, `reverse sync of migration ${state.migration} started (phase ${state.phase}): writes made on new are applied to legacy; the forward pipeline may keep running (neither side echoes the other's changes)`);
      this.status = 'running';
      this.lastError = null;
    } catch (error) {
      this.status = 'starting-failed';
      this.lastError = (error as Error).message;
      this.logger.error({ err: error, migration: state.migration }, `reverse sync of migration ${state.migration} did not start: ${(error as Error).message}`);
    }
    return this.status;
  }
}
