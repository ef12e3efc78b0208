// `tandem registry` as its own process, for the crash test: the registry command on a bare program.
import { Command } from 'commander';
import { registerRegistryCommand } from '../../../src/cli/registry.js';

const program = new Command('tandem').option('--log-level <level>', 'log level', 'info');
registerRegistryCommand(program);
await program.parseAsync(process.argv);
