/**
 * Runs `tandem broker ...` in its own process for tests that kill it (SIGKILL) and for the
 * benchmark: `node --import tsx test/support/broker-cli.ts broker --port 0 --data-dir DIR`.
 * Also reports the process's CPU time on stdout when asked with SIGUSR2 (used by bench/broker.ts).
 */
import { Command } from 'commander';
import { registerBrokerCommand } from '../../src/cli/broker.js';

process.on('SIGUSR2', () => {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ cpuSeconds: (user + system) / 1e6 })}\n`);
});

const program = new Command('tandem').option('--log-level <level>', 'log level', 'info');
registerBrokerCommand(program);
await program.parseAsync(process.argv);
