/** Writes docker-compose's init script from the demo scenario, so the two never differ. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoInitScript } from '../src/dev/demo.js';

export const INITDB_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'docker-initdb/01-demo.sql');

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(INITDB_SCRIPT, demoInitScript());
  process.stdout.write(`wrote ${path.relative(process.cwd(), INITDB_SCRIPT)}\n`);
}
