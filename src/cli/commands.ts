// Every CLI command, gathered from the modules.
import type { CommandSpec } from './command.ts';
import { platformCommands } from './platform.cli.ts';
import { regionCommands } from '../modules/regions/regions.cli.ts';
import { accessCommands } from '../modules/access/index.ts';
import { groupCommands } from '../modules/groups/index.ts';
import { registryCommands } from '../modules/registry/index.ts';

export function allCommands(): CommandSpec[] {
  return [...platformCommands, ...regionCommands, ...accessCommands, ...groupCommands, ...registryCommands];
}

/** The command whose words start argv (longest match), and the remaining arguments. */
export function findCommand(argv: string[]): { command: CommandSpec; rest: string[] } | null {
  let best: CommandSpec | null = null;
  for (const command of allCommands()) {
    const matches = command.path.every((word, i) => argv[i] === word);
    if (matches && (!best || command.path.length > best.path.length)) best = command;
  }
  return best ? { command: best, rest: argv.slice(best.path.length) } : null;
}
