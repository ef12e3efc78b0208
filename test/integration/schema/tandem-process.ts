// Stand-in for bin/tandem.js while src/cli/main.ts does not register the schemas command yet:
// the real program from buildProgram(), plus that command, with main()'s error handling.
import { CommanderError } from 'commander';
import { buildProgram } from '../../../src/cli/main.js';
import { registerSchemasCommand } from '../../../src/cli/schemas.js';
import { describeError, TandemError } from '../../../src/errors.js';

const program = buildProgram();
if (!program.commands.some((command) => command.name() === 'schemas')) registerSchemasCommand(program);
let code = 0;
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) code = error.exitCode;
  else {
    process.stderr.write(`error: ${describeError(error)}\n`);
    code = error instanceof TandemError ? error.exitCode : 1;
  }
}
process.exit(code);
