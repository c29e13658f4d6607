import { stringFlag, type CommandSpec } from '../../cli/command.ts';
import { isIsoDate, today } from '../../platform/dates.ts';
import { evaluateRegion } from './groups.evaluate.ts';

export const groupCommands: CommandSpec[] = [
  {
    path: ['groups', 'evaluate'],
    summary: 'Evaluate the care groups of a region (default: the whole registry) as of a date',
    usage: 'shouhu groups evaluate [--region CODE] [--as-of YYYY-MM-DD] [--no-worklist]',
    async run(args, ctx, io) {
      const region = stringFlag(args, 'region') ?? '';
      const asOf = stringFlag(args, 'as-of') ?? today();
      if (region !== '' && !/^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$/.test(region)) {
        io.error(`--region takes a region code of 2, 4, 6, 9 or 12 digits, got "${region}"`);
        return 2;
      }
      if (!isIsoDate(asOf)) {
        io.error(`--as-of takes a date YYYY-MM-DD, got "${asOf}"`);
        return 2;
      }
      // The periods describe days that have come (evaluationDate in groups.service.ts).
      if (asOf > today()) {
        io.error(`--as-of must not be after today (${today()}), got "${asOf}"`);
        return 2;
      }
      const started = Date.now();
      const counts = await evaluateRegion(ctx.db, {
        regionCode: region,
        asOf,
        worklist: args.flags['no-worklist'] !== true,
        progress: (done, total, message) => io.progress(done, total, message),
      });
      io.print(
        `groups as of ${asOf}${region ? ` in ${region}` : ''}: ${counts.persons} persons, ${counts.entered} entered, ` +
          `${counts.left} left, ${counts.updated} updated, ${counts.unchanged} unchanged ` +
          `in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return 0;
    },
  },
];
