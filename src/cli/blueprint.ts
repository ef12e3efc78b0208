import type { Command } from 'commander';
import { renderBlueprint } from '../rollout/blueprint.js';
import { commandContext } from './context.js';

export function registerBlueprintCommand(program: Command): void {
  program
    .command('blueprint')
    .description('print the migration as a Mermaid diagram: tables → topics → tables, gates, phases')
    .addHelpText(
      'after',
      `
Paste the output into any Mermaid renderer (GitHub Markdown in a \`\`\`mermaid block, mermaid.live).

Examples:
  $ tandem blueprint --config connectors/demo.ts > docs/demo.mmd`,
    )
    .action(async (_options: unknown, command: Command) => {
      const context = commandContext(command);
      process.stdout.write(renderBlueprint(await context.connector()));
    });
}
