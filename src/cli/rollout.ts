import type { Command } from 'commander';
import { Option } from 'commander';
import type { Connector } from '../config/index.js';
import { isDuration, parseDuration } from '../config/duration.js';
import { startObservabilityServer } from '../observability/server.js';
import { cliActor } from '../rollout/controller.js';
import { renderHistory, renderPlan, renderStatus, planTimeline } from '../rollout/report.js';
import { PipelineReverseSync } from '../rollout/reverse-pipeline.js';
import { ReverseSyncSupervisor } from '../rollout/reverse-sync.js';
import { openRollout, type RolloutRuntime } from '../rollout/runtime.js';
import { createGateClient } from '../rollout/sdk.js';
import { startRolloutServer } from '../rollout/server.js';
import { readHistory, ROLLOUT_CHANNEL } from '../rollout/store.js';
import { createRolloutMetrics, startWatch } from '../rollout/watch.js';
import { InvalidArgumentError } from 'commander';
import { parseCount, parsePort } from './arguments.js';
import { commandContext } from './context.js';

type Format = 'text' | 'json';

function parseDurationOption(value: string): number {
  const candidate = /^\d+$/.test(value) ? Number(value) : value;
  if (!isDuration(candidate)) throw new InvalidArgumentError('expected a duration such as 500ms, 15s, 5m');
  return parseDuration(candidate);
}

async function withRollout<T>(command: Command, work: (runtime: RolloutRuntime, connector: Connector) => Promise<T>): Promise<T> {
  const context = commandContext(command);
  const connector = await context.connector();
  const runtime = await openRollout(connector, context.logger);
  try {
    return await work(runtime, connector);
  } finally {
    await runtime.close();
  }
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export function registerRolloutCommand(program: Command): void {
  const rollout = program
    .command('rollout')
    .description('phased migration behind feature gates: status, promote, rollback, approve, plan, history, watch, serve')
    .addHelpText(
      'after',
      `
Phases move readers (a percentage, by stickiness key) and then writers from legacy to new. Each
phase has entry criteria (clean reconcile runs, lag, error rate, soak time, approvals); promote
refuses while one is unmet, and watch rolls back on its own when a trigger fires.

Examples:
  $ tandem rollout status
  $ tandem rollout approve --by alice
  $ tandem rollout promote
  $ tandem rollout promote --to ramp-50 --force --reason "load test done by hand"
  $ tandem rollout rollback --reason "p99 latency on new"
  $ tandem rollout watch --interval 15s
  $ tandem rollout serve --port 8470`,
    );

  rollout
    .command('status')
    .description('current phase, gates, every criterion of the next phase with its value, the rollback triggers')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (options: { format: Format }, command: Command) => {
      await withRollout(command, async ({ controller }) => {
        const status = await controller.status();
        process.stdout.write(options.format === 'json' ? json({ state: status.state, next: status.next?.name ?? null, verdict: status.verdict, triggers: status.triggers, evidence: status.evidence }) : renderStatus(status));
      });
    });

  rollout
    .command('promote')
    .description('enter the next phase (or --to a later one); refuses with the list of unmet criteria')
    .option('--to <phase>', 'the phase to enter (default: the next one)')
    .option('--force', 'promote despite unmet criteria (needs --reason; audited)')
    .option('--reason <text>', 'why (kept in the audit log)')
    .option('--by <name>', 'who promotes (default: the OS user)')
    .action(async (options: { to?: string; force?: boolean; reason?: string; by?: string }, command: Command) => {
      await withRollout(command, async ({ controller }) => {
        const result = await controller.promote({ to: options.to, force: options.force, reason: options.reason }, cliActor(options.by));
        process.stdout.write(`${result.record.action === 'cutover' ? 'cut over' : 'promoted'} ${controller.plan.migration}: ${result.record.from} → ${result.record.to}${result.record.forced ? ' (forced)' : ''} (audit #${result.auditId})\n`);
      });
    });

  rollout
    .command('rollback')
    .description('go back to the previous phase (or --to an earlier one)')
    .option('--to <phase>', 'the phase to go back to (default: the previous one)')
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .option('--by <name>', 'who rolls back (default: the OS user)')
    .action(async (options: { to?: string; reason: string; by?: string }, command: Command) => {
      await withRollout(command, async ({ controller }) => {
        const result = await controller.rollback({ to: options.to, reason: options.reason }, cliActor(options.by));
        process.stdout.write(`rolled ${controller.plan.migration} back: ${result.record.from} → ${result.record.to} (audit #${result.auditId})\n`);
      });
    });

  rollout
    .command('approve')
    .description('approve the next phase (or --phase a later one)')
    .requiredOption('--by <name>', 'who approves')
    .option('--phase <phase>', 'the phase approved (default: the next one)')
    .option('--reason <text>', 'a note for the audit log')
    .action(async (options: { by: string; phase?: string; reason?: string }, command: Command) => {
      await withRollout(command, async ({ controller }) => {
        const result = await controller.approve({ by: options.by, phase: options.phase, reason: options.reason }, cliActor(options.by));
        process.stdout.write(`${options.by} approved ${result.record.to} of ${controller.plan.migration} (audit #${result.auditId})\n`);
      });
    });

  rollout
    .command('plan')
    .description('the phases with their gates, criteria, soak times and earliest start dates')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (options: { format: Format }, command: Command) => {
      await withRollout(command, async ({ controller, plan }) => {
        const state = await controller.state();
        const now = new Date();
        process.stdout.write(options.format === 'json' ? json({ migration: plan.migration, phases: planTimeline(plan, state, now), rollback: plan.rollback }) : renderPlan(plan, state, now));
      });
    });

  rollout
    .command('history')
    .description('the audit log: who changed what, when, why, and the evidence evaluated')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('--limit <n>', 'newest entries to show').argParser(parseCount).default(100))
    .action(async (options: { format: Format; limit: number }, command: Command) => {
      await withRollout(command, async ({ target, plan }) => {
        const entries = await readHistory(target, plan.migration, options.limit);
        process.stdout.write(options.format === 'json' ? json(entries) : renderHistory(entries));
      });
    });

  rollout
    .command('watch')
    .description('daemon: evaluate the rollback triggers every interval and roll back on its own; optionally auto-promote')
    .addOption(new Option('--interval <duration>', 'evaluation interval (default: rollout.watch.interval)').argParser(parseDurationOption))
    .option('--auto-promote', 'promote when every criterion of the next phase holds and it needs no approval (default: rollout.watch.autoPromote)')
    .addOption(new Option('--metrics-port <port>', 'serve /metrics and /health on this port').argParser(parsePort))
    .action(async (options: { interval?: number; autoPromote?: boolean; metricsPort?: number }, command: Command) => {
      const context = commandContext(command);
      const connector = await context.connector();
      const { logger } = context;
      // Reverse sync runs here, in the daemon that follows the state: on at cutover, drained and off on rollback.
      const supervisor = new ReverseSyncSupervisor(Object.keys(connector.rollout.reverse).length > 0 ? new PipelineReverseSync(connector, logger) : null, logger);
      const runtime = await openRollout(connector, logger);
      const intervalMs = options.interval ?? runtime.plan.watch.intervalMs;
      const metrics = createRolloutMetrics();
      const watch = startWatch({ controller: runtime.controller, client: runtime.target, supervisor, logger, intervalMs, autoPromote: options.autoPromote ?? runtime.plan.watch.autoPromote, actor: { ...cliActor(), kind: 'watch', name: 'watch' }, metrics });
      // Changes made elsewhere (promote, console) are looked at at once, not at the next interval.
      runtime.target.on('notification', (message) => {
        if (message.channel === ROLLOUT_CHANNEL && message.payload?.includes(`"migration":${JSON.stringify(connector.name)}`)) watch.poke();
      });
      await runtime.target.query(`LISTEN ${ROLLOUT_CHANNEL}`);
      const observability = options.metricsPort === undefined ? null : await startObservabilityServer({ port: options.metricsPort, registry: metrics.registry, health: () => ({ healthy: watch.lastError === null && supervisor.status !== 'no-pipeline' && supervisor.status !== 'starting-failed', phase: watch.lastStatus?.state.phase, reverseSync: supervisor.status, lastError: watch.lastError }) });
      logger.info({ migration: connector.name, intervalMs }, `watching rollout of ${connector.name} every ${intervalMs} ms`);
      const stop = () => watch.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await watch.done;
      } finally {
        await supervisor.close();
        await observability?.close();
        await runtime.close();
      }
    });

  rollout
    .command('serve')
    .description('OFREP endpoint for services, operator API and the migration console at /')
    .addOption(new Option('--port <port>', 'port (default: rollout.serve.port)').argParser(parsePort))
    .option('--host <host>', 'interface to listen on', '0.0.0.0')
    .action(async (options: { port?: number; host: string }, command: Command) => {
      const context = commandContext(command);
      const connector = await context.connector();
      const { logger } = context;
      const runtime = await openRollout(connector, logger);
      await runtime.controller.state();
      const gates = await createGateClient({ connectionString: connector.target.url, migration: connector.name, logger, clientId: `rollout-serve:${process.pid}` });
      const stopRequested = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      let server: Awaited<ReturnType<typeof startRolloutServer>> | null = null;
      try {
        server = await startRolloutServer({ connector, controller: runtime.controller, client: runtime.target, gates, logger, port: options.port ?? connector.rollout.serve.port, host: options.host });
        logger.info({ port: server.port }, `rollout serve for ${connector.name} listening on port ${server.port} (OFREP at /ofrep/v1, console at /)`);
        process.stdout.write(`listening on port ${server.port}\n`);
        await stopRequested;
      } finally {
        await server?.close();
        await gates.close();
        await runtime.close();
      }
    });
}
