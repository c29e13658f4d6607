// The groups module's public surface: other modules import from here only.

export * from './groups.config.ts';
export * from './groups.rules.ts';
