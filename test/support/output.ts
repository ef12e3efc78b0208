import { Writable } from 'node:stream';
import { afterAll, beforeEach, type RunnerTestFile as File, type RunnerTestSuite as Suite } from 'vitest';
import type { LevelWithSilent } from 'pino';
import { createLogger, type Logger } from '../../src/observability/logger.js';

/**
 * Test output stays quiet: what brokers, workers and child processes log is kept here, and only
 * when a test fails are the last lines of each source printed, under the failed test's name.
 * TEST_LOG_LEVEL (default error) sets the level of the in-process loggers that feed it (error, not
 * info: the capture worker hands its level to its Kafka producer thread, which logs to stderr).
 */

const TAIL_LINES = 50;

interface Source {
  name: string;
  lines: string[];
  /** The test during which the source last wrote, or ran (0 = before any test of the file). */
  lastTest: number;
  /** For a process: whether it still runs (a running process belongs to every test it spans). */
  alive?: () => boolean;
}

const sources = new Map<string, Source>();
let currentTest = 0;

/** Adds text (any number of lines) to the named source's tail. */
export function recordOutput(name: string, text: string): void {
  let source = sources.get(name);
  if (!source) {
    source = { name, lines: [], lastTest: currentTest };
    sources.set(name, source);
  }
  source.lastTest = currentTest;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    source.lines.push(line);
  }
  if (source.lines.length > TAIL_LINES * 4) source.lines.splice(0, source.lines.length - TAIL_LINES);
}

/** Registers a long-running source (a child process): its tail is printed for every failed test it ran in. */
export function trackOutput(name: string, alive: () => boolean): void {
  sources.set(name, { name, lines: sources.get(name)?.lines ?? [], lastTest: currentTest, alive });
}

/** An in-process pino logger whose lines go to the failure tail instead of the test output. */
export function testLogger(name = 'tandem'): Logger {
  const level = (process.env.TEST_LOG_LEVEL as LevelWithSilent | undefined) ?? 'error';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      recordOutput(`logger ${name}`, chunk.toString());
      callback();
    },
  });
  return createLogger({ level, pretty: false, name, destination });
}

/** The tails of the sources that were active in the current test (or before the first one). */
export function describeOutputTails(): string {
  const active = [...sources.values()].filter((source) => source.lines.length > 0 && (source.lastTest === currentTest || source.lastTest === 0));
  return active
    .map((source) => {
      const tail = source.lines.slice(-TAIL_LINES);
      return `── last ${tail.length} lines of ${source.name} ──\n${tail.join('\n')}`;
    })
    .join('\n');
}

let printed = false;

beforeEach((context) => {
  currentTest += 1;
  for (const source of sources.values()) if (source.alive?.()) source.lastTest = currentTest;
  context.onTestFailed(() => {
    const tails = describeOutputTails();
    if (tails) console.error(`output of "${context.task.name}" (it failed):\n${tails}`);
    printed = true;
  });
});

// A failed beforeAll/afterAll fails its suite without any test failing: print every tail then.
afterAll(({}, file) => {
  const failedSuite = (task: Readonly<Suite | File>): boolean => task.result?.state === 'fail' || task.tasks.some((child) => child.type === 'suite' && failedSuite(child));
  if (printed || !failedSuite(file)) return;
  const tails = [...sources.values()]
    .filter((source) => source.lines.length > 0)
    .map((source) => `── last ${Math.min(TAIL_LINES, source.lines.length)} lines of ${source.name} ──\n${source.lines.slice(-TAIL_LINES).join('\n')}`)
    .join('\n');
  if (tails) console.error(`output of ${file.name} (a suite hook failed):\n${tails}`);
});
