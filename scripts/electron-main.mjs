// Electron's main entry: the shell is TypeScript, run through tsx like every other process of the project.
import { register } from 'tsx/esm/api';

register();
await import('../electron/main.ts');
