import {
  defineCommands,
  stringFlag,
  UsageError,
  type CommandSpec,
  type ParsedArgs,
} from '../../cli/command.ts';
import { regionCodeFlag, requireLoadedRegion } from '../../cli/options.ts';
import { isIsoDate, today } from '../../platform/dates.ts';
import { evaluateRegion } from './groups.evaluate.ts';

function evaluateOptions(args: ParsedArgs) {
  const region = regionCodeFlag(args, 'region') ?? '';
  const asOf = stringFlag(args, 'as-of') ?? today();
  if (!isIsoDate(asOf)) throw new UsageError(`--as-of takes a date YYYY-MM-DD, got "${asOf}"`);
  // The periods describe days that have come (evaluationDate in groups.service.ts).
  if (asOf > today()) throw new UsageError(`--as-of must not be after today (${today()}), got "${asOf}"`);
  return { region, asOf, worklist: args.flags['no-worklist'] !== true };
}

export const groupCommands: CommandSpec[] = defineCommands([
  {
    path: ['groups', 'evaluate'],
    summary: 'Evaluate the care groups of a region (default: the whole registry) as of a date',
    usage: 'shouhu groups evaluate [--region CODE] [--as-of YYYY-MM-DD] [--no-worklist]',
    check: (args) => void evaluateOptions(args),
    async run(args, ctx, io) {
      const { region, asOf, worklist } = evaluateOptions(args);
      if (region) await requireLoadedRegion(ctx.db, 'region', region);
      const started = Date.now();
      const counts = await evaluateRegion(ctx.db, {
        regionCode: region,
        asOf,
        worklist,
        // A past date's grounds must not stay on today's open periods (as the API's job does).
        keepTodaysGrounds: true,
        progress: (done, total, message) => io.progress(done, total, message),
      });
      const again = counts.today
        ? `; as of today again: ${counts.today.entered} entered, ${counts.today.left} left, ` +
          `${counts.today.updated} updated`
        : '';
      io.print(
        `groups as of ${asOf}${region ? ` in ${region}` : ''}: ${counts.persons} persons, ${counts.entered} entered, ` +
          `${counts.left} left, ${counts.updated} updated, ${counts.unchanged} unchanged${again} ` +
          `in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return 0;
    },
  },
]);
