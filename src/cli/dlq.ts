import type { Command } from 'commander';
import { Option } from 'commander';
import { ProblemFound } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { connectClient } from '../pg/connect.js';
import { readDeadLetters, replayDeadLetters, selectTopics } from '../translate/dlq.js';
import { prepareTranslator } from '../translate/setup.js';
import { commandContext } from './context.js';
import { renderTable } from './format.js';

export function registerDlqCommand(program: Command): void {
  const dlq = program.command('dlq').description("list and replay translate's dead letters (<topic>.dlq)");
  dlq
    .command('list')
    .description('show the dead letters: source topic, partition and offset, when, why, and whether a replay applied them')
    .option('--topic <topic>', 'one source topic (or its .dlq topic); default: every topic of the connector')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (flags: { topic?: string; format: 'text' | 'json' }, command: Command) => {
      const context = commandContext(command);
      const connector = await context.connector();
      const kafka = createKafka(connector.kafka, context.logger);
      const client = await connectClient(connector.target.url, 'target');
      try {
        const records = await readDeadLetters(kafka, client, selectTopics(connector, flags.topic)).catch(async (error: Error & { code?: string }) => {
          if (error.code === '42P01') return []; // translate never ran: no bookkeeping, no dead letters
          throw error;
        });
        if (flags.format === 'json') {
          process.stdout.write(`${JSON.stringify(records.map(({ message: _message, ...record }) => record), null, 2)}\n`);
          return;
        }
        const rows = records.map((record) => [`${record.sourceTopic}[${record.sourcePartition}]@${record.sourceOffset}`, record.state, record.time, record.error]);
        process.stdout.write(`${rows.length === 0 ? 'no dead letters' : renderTable(['SOURCE', 'STATE', 'TIME', 'ERROR'], rows)}\n`);
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  dlq
    .command('replay')
    .description('apply the pending dead letters again (after fixing their cause), each at most once')
    .option('--topic <topic>', 'one source topic (or its .dlq topic); default: every topic of the connector')
    .addHelpText(
      'after',
      `
A dead letter is applied in the transaction that marks it replayed, so running replay twice (or
after a crash) applies nothing twice. A dead letter whose row changed since (a later change of the
same key was applied) is skipped as superseded. Exit code 2 when some still fail.

Examples:
  $ tandem dlq list --topic tandem.legacy.orders
  $ tandem dlq replay --topic tandem.legacy.orders`,
    )
    .action(async (flags: { topic?: string }, command: Command) => {
      const context = commandContext(command);
      const connector = await context.connector();
      const kafka = createKafka(connector.kafka, context.logger);
      const prepared = await prepareTranslator(connector, kafka, { logger: context.logger, poolSize: 1 });
      try {
        const client = await prepared.pool.connect();
        let records;
        try {
          records = await readDeadLetters(kafka, client, selectTopics(connector, flags.topic));
        } finally {
          client.release();
        }
        const results = await replayDeadLetters(prepared.translator, prepared.pool, records);
        const rows = results.map((result) => [`${result.record.sourceTopic}[${result.record.sourcePartition}]@${result.record.sourceOffset}`, result.status, result.detail ?? '']);
        process.stdout.write(`${rows.length === 0 ? 'no dead letters' : renderTable(['SOURCE', 'RESULT', 'DETAIL'], rows)}\n`);
        const failed = results.filter((result) => result.status === 'failed').length;
        if (failed > 0) throw new ProblemFound(`dlq replay: ${failed} of ${results.length} dead letters still fail`, { fix: 'read DETAIL above, fix the cause (mapping, target table, or the missing parent row), then replay again' });
      } finally {
        await prepared.close();
      }
    });
}
