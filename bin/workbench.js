#!/usr/bin/env node
// `npx workbench …`: the engine's TypeScript runs through tsx, as everywhere else in the project.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../engine/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
