import type { Command } from './types';

/** The registry: each command module registers itself once; everything else looks commands up by id. */
const registry = new Map<string, Command>();

export function register<C extends Command>(command: C): C {
  if (registry.has(command.id)) throw new Error(`command '${command.id}' is registered twice`);
  registry.set(command.id, command);
  return command;
}

export function getCommand(id: string): Command | undefined {
  return registry.get(id);
}

export function allCommands(): Command[] {
  return [...registry.values()];
}
