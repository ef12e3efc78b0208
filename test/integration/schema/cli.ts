import { spawn } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildProgram } from '../../../src/cli/main.js';
import { runTandem, type CliResult } from '../../support/cli.js';

// The tsx loader by absolute URL, so children started outside the repository still find it.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const standIn = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tandem-process.ts');

/** `tandem <args>` as a child process: bin/tandem.js once main.ts registers `schemas`, else the stand-in. */
export function runSchemasCli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  if (buildProgram().commands.some((command) => command.name() === 'schemas')) return runTandem(args, options);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, standIn, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
