#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so a fresh clone works after `npm ci` with no build
// step, and connector files written in TypeScript load the same way.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
// Long-lived handles (pg clients, kafkajs sockets) must not keep a finished command alive.
process.exit(await main(process.argv));
