import { Command } from 'commander';

export function frontendCommand(): Command {
  return new Command('frontend')
    .description('run as a BuildKit gateway frontend (the entrypoint of the goci frontend image; BuildKit starts it)')
    .action(async () => (await import('../actions/frontend.js')).frontend());
}
