import { Command, CommanderError, Option } from 'commander';
import { describeError, TandemError } from '../errors.js';
import { redactSecrets } from '../observability/redact.js';
import { registerBrokerCommand } from './broker.js';
import { registerCaptureCommand } from './capture.js';
import { registerDemoCommand } from './demo.js';
import { registerDevCommand } from './dev.js';
import { registerDoctorCommand } from './doctor.js';
import { registerReconcileCommand } from './reconcile.js';
import { registerRegistryCommand } from './registry.js';
import { registerRolloutCommand } from './rollout.js';
import { registerBlueprintCommand } from './blueprint.js';
import { registerSchemasCommand } from './schemas.js';
import { registerTranslateCommand } from './translate.js';
import { registerDlqCommand } from './dlq.js';

export function buildProgram(): Command {
  const program = new Command('tandem')
    .description('Zero-downtime PostgreSQL schema migration: capture, stream, translate, reconcile, roll out')
    .version(process.env.npm_package_version ?? '0.1.0')
    .option('-c, --config <file>', 'connector file (default: tandem.config.ts, or the only file in connectors/)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'))
    .configureHelp({ sortSubcommands: false })
    .exitOverride();

  registerDemoCommand(program);
  registerDevCommand(program);
  registerDoctorCommand(program);
  registerCaptureCommand(program);
  registerReconcileCommand(program);
  registerTranslateCommand(program);
  registerDlqCommand(program);
  registerSchemasCommand(program);
  registerRegistryCommand(program);
  registerBrokerCommand(program);
  registerRolloutCommand(program);
  registerBlueprintCommand(program);

  for (const command of [program, ...program.commands]) {
    // One line of error, then the usage line (not the whole help).
    const name = command === program ? 'tandem' : `tandem ${command.name()}`;
    command.exitOverride().showHelpAfterError(`Usage: ${name} ${command.usage()}\n(run "${name} --help" for details)`);
  }
  return program;
}

/** Runs the CLI; exit codes: 0 ok, 1 error, 2 a check found a problem. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its one-line error and the usage (or the help text / version).
      return error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 1;
    }
    process.stderr.write(`error: ${redactSecrets(describeError(error))}\n`);
    if (!(error instanceof TandemError) && process.env.TANDEM_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return error instanceof TandemError ? error.exitCode : 1;
  }
}
