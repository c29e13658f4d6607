// The child ledger import (留守儿童台账, EXCHANGE.md): one row per child, with the parents,
// grandparents and entrusted carer as columns. Each named person is matched by ID number, else by
// name + birth date within the county, else registered; the links between them, the parents'
// migration, the unable parent's state (无监护能力原因), the carer's entrusted-guardianship record and
// the ledger's own answers (a 'ledger_declaration' fact) are recorded. Same guarantees as the template
// import: a refused file writes nothing (a first pass reads the whole file before any write), a dry
// run is rolled back, a re-import changes nothing.
//
// Groups are derived, never typed in: every person whose facts or links changed is announced to the
// change listeners (the groups module re-evaluates them), and once the rows are written the ledger's
// answers are compared with the rules by the reviewer the composition root registers
// (reviewLedgerWith): the rows where they disagree come back as the import's review.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { today as currentDate, type IsoDate } from '../../platform/dates.ts';
import { normalizeName } from '../../platform/normalize.ts';
import { audit, recordRead } from '../access/index.ts';
import { writeErrorReport } from './registry.errors-report.ts';
import {
  LEDGER_QUESTION_LABELS,
  LEDGER_REVIEW_HEADERS,
  ledgerDeclaration,
  loadCountyPlaces,
  parseLedgerFile,
  passedOverNotes,
  requireHukouColumn,
  unknownLedgerHeaders,
  type LedgerDisagreement,
  type LedgerGrandparent,
  type LedgerParent,
  type LedgerPerson,
  type LedgerReview,
  type LedgerReviewRow,
  type LedgerRow,
  type LedgerSheetDates,
  type LedgerSheetPassedOver,
  type CountyPlaces,
  villageLabel,
} from './registry.ledger.ts';
import type { FactKind } from './registry.facts.ts';
import { FileRejected, type TableSource } from './registry.reader.ts';
import type { RowError } from './registry.template.ts';
import {
  nameSpellings,
  reconcileFacts,
  type FactChange,
  type StoredFact,
  type TemplateFact,
} from './registry.rules.ts';
import type { Importer, ImportOptions, ImportOutcome } from './registry.import.ts';
import { personChanged, type PersonChange } from './registry.service.ts';
import { openTableWriter } from './registry.writer.ts';
import * as repo from './registry.repository.ts';
import type { GuardianshipAssessment, ImportCounts } from './registry.tables.ts';

const NO_ID = '台账未填身份号码';
const SOURCE = 'ledger';

/**
 * The source of a migration dated by the ledger's 外出时间 given to the month only: the fact's start
 * is the month's first day, and the person's file says so where it names the source.
 */
export function migrationSource(which: 'father' | 'mother', month: string | null): string {
  if (month === null) return SOURCE;
  const column = which === 'father' ? '父亲外出时间' : '母亲外出时间';
  return `${SOURCE}: ${column}只写到月（${month}），按当月1日计 / month only (${month}), read as its 1st`;
}

class DryRunRollback extends Error {}

/**
 * A row refused while it is written, rolled back and reported on its row: one naming another biological
 * parent than the one on record, or one that would write on a person registered outside the importer's
 * region: a child of another
 * township matched by ID number (or name and birth date), a parent there whose migration, inability or
 * own parents the row states, or a parent, grandparent or carer there not linked yet (a new link shows
 * their name and facts here and changes their groups there; docs/DECISIONS.md "Imports link only within
 * the importer's region"). The row is rolled back and reported, as the template import reports a person
 * registered outside.
 */
class RowRefused extends Error {
  readonly rowError: RowError;
  constructor(rowError: RowError) {
    super(rowError.reason.en);
    this.rowError = rowError;
  }
}

const PARENT_LABELS = { father: { zh: '父亲', en: 'father' }, mother: { zh: '母亲', en: 'mother' } } as const;
const GRANDPARENT_LABELS = {
  paternal_grandfather: { zh: '祖父', en: 'paternal grandfather' },
  paternal_grandmother: { zh: '祖母', en: 'paternal grandmother' },
  maternal_grandfather: { zh: '外祖父', en: 'maternal grandfather' },
  maternal_grandmother: { zh: '外祖母', en: 'maternal grandmother' },
} as const;

/** The ledger column that names a parent: the ID number when the row gives one, else the name. */
const column = (which: 'father' | 'mother', idNumber: string | null | undefined) =>
  `${PARENT_LABELS[which].zh}${idNumber ? '公民身份号码' : '姓名'}`;

/** True when the person's hukou village lies outside the importer's region. */
async function registeredOutside(
  trx: Transaction<DB>,
  personId: number,
  importer: Importer,
): Promise<boolean> {
  const person = await trx
    .selectFrom('persons')
    .select('hukou_region_code')
    .where('id', '=', personId)
    .executeTakeFirstOrThrow();
  return !person.hukou_region_code.startsWith(importer.regionCode);
}

/**
 * Whether the importer may be told who holds an ID number the file gives: a user or token whose role
 * may reveal ID numbers (persons.reveal), or the server console. Another importer is told that the
 * number belongs to a registered person of another name, never the name: the message would map a
 * full ID number to a person, which only an audited reveal may (docs/DECISIONS.md "The ID mask").
 */
function mayReveal(importer: Importer): boolean {
  const actor = importer.auditActor;
  return 'permissions' in actor ? actor.permissions.has('persons.reveal') : actor.kind === 'system';
}

/**
 * The registered persons the file's ID numbers matched, for the audit trail (person.id_matched): a
 * match confirms a full ID number to the importer (by a message, or by a row counted as updated
 * rather than inserted), so each is audited, naming the person, once per import. Persons the import
 * itself registered are no match.
 */
class IdMatches {
  readonly #matched = new Map<number, { region: string; column: string; nameDiffers: boolean }>();
  readonly #created = new Set<number>();

  /** Notes what finding `found` for the ledger's `name` in `column` confirmed. */
  note(found: Found | null, name: string | null, column: string): void {
    if (!found) return;
    if (found.created) {
      this.#created.add(found.id);
      return;
    }
    if (!found.byId || !found.registered) return;
    const nameDiffers = name !== null && nameKey(found.registered.name) !== nameKey(name);
    const known = this.#matched.get(found.id);
    if (known) known.nameDiffers ||= nameDiffers;
    else this.#matched.set(found.id, { region: found.registered.hukou_region_code, column, nameDiffers });
  }

  /** The matches of persons registered before the import. */
  entries(): [number, { region: string; column: string; nameDiffers: boolean }][] {
    return [...this.#matched].filter(([id]) => !this.#created.has(id));
  }
}

/**
 * Audits the ID matches of an import (IdMatches), after its rows are written or, in a dry run, rolled
 * back: a dry run confirms numbers as a real run does. A user's or token's entries, whether or not
 * they may reveal (a ledger is a township's children, a file of hundreds: session 21), are
 * group-committed as reads are (recordRead). The server console is audited for the import as a whole.
 */
async function auditIdMatches(
  db: Kysely<DB>,
  importer: Importer,
  matches: IdMatches,
  options: LedgerImportOptions,
): Promise<void> {
  // Not the server console (shouhu import), which holds the database itself: its import's own entry
  // stands, as for the template import (docs/DECISIONS.md, session 22).
  const actor = importer.auditActor;
  if (!('permissions' in actor)) return;
  await Promise.all(
    matches.entries().map(([personId, m]) =>
      recordRead(db, actor, {
        action: 'person.id_matched',
        entityType: 'person',
        entityId: personId,
        regionCode: m.region,
        details: {
          via: 'import',
          importId: options.importId ?? null,
          kind: 'ledger',
          dryRun: options.dryRun === true,
          column: m.column,
          nameDiffers: m.nameDiffers,
        },
      }),
    ),
  );
}

/** Whether a migration of the person without an end started before `on`. */
async function migrationInForce(trx: Transaction<DB>, personId: number, on: IsoDate): Promise<boolean> {
  const open = await trx
    .selectFrom('person_facts')
    .select('id')
    .where('person_id', '=', personId)
    .where('kind', '=', 'migration')
    .where('retracted_at', 'is', null)
    .where('valid_from', '<', on)
    .where('valid_to', 'is', null)
    .executeTakeFirst();
  return open !== undefined;
}

/**
 * A parent as rows of one file name them: by ID number, else by name. A parent stated away on one
 * row (a sibling's) and at home on another is not taken as at home: the file contradicts itself, and
 * ending the migration on one row to record it again on the next would change it at every import.
 */
const parentKey = (p: LedgerParent) => (p.idNumber ? `id:${p.idNumber}` : `name:${p.name ?? ''}`);

/** What writeRow needs of the whole import. */
interface ImportContext {
  /** The ID numbers matched to registered persons, for the audit trail. */
  matches: IdMatches;
  /** The parents (parentKey) some row of the file states away for work. */
  awayInFile: ReadonlySet<string>;
  /** The links a clerk retracted as wrong and not linked again, with when (retractedLinks). */
  retracted: ReadonlyMap<string, Date>;
}

/** A link's key in ImportContext.retracted. */
const linkKey = (personId: number, relatedId: number, kind: string) => `${personId}:${relatedId}:${kind}`;

/**
 * The links a clerk retracted as wrong (person_relations_retracted) that are not in force again (a
 * clerk who linked the two again stands), read once per import: a ledger that made the wrong link
 * must not make it again. Retractions are a clerk's acts, one link at a time: a few, not a file's worth.
 */
async function retractedLinks(db: Kysely<DB>): Promise<Map<string, Date>> {
  const r = await sql<{ person_id: number; related_person_id: number; kind: string; at: Date | string }>`
    SELECT rr.person_id, rr.related_person_id, rr.kind, max(rr.retracted_at) AS at
    FROM person_relations_retracted rr
    WHERE NOT EXISTS (
      SELECT 1 FROM person_relations l
      WHERE l.person_id = rr.person_id AND l.related_person_id = rr.related_person_id AND l.kind = rr.kind
        AND l.valid_to IS NULL)
    GROUP BY rr.person_id, rr.related_person_id, rr.kind`.execute(db);
  return new Map(
    r.rows.map((l) => [linkKey(Number(l.person_id), Number(l.related_person_id), l.kind), new Date(l.at)]),
  );
}

/**
 * The note on a row whose link to `label` is not made because a clerk retracted it as wrong on `at`.
 * `skipped`: what of the row was left out with it (a parent's own columns), else only the link.
 */
function retractedLinkNote(
  column: string,
  value: string,
  label: { zh: string; en: string },
  at: Date,
  skipped: { zh: string; en: string } | null,
): RowError {
  const day = currentDate(at);
  return {
    column,
    value,
    reason: {
      zh: `与该${label.zh}的关系已于 ${day} 作为误登记撤回，导入不再建立此关系（${skipped ? `本行${skipped.zh}未导入，` : '本行'}其他内容已照常导入）；如确为此人，请在人员档案中重新登记该关系`,
      en: `the link to this ${label.en} was retracted as wrong on ${day}; the import does not make it again (${skipped ? `${skipped.en} on this row was not imported; ` : ''}the rest of the row was imported as usual); if it is right after all, record it again in the person's file`,
    },
  };
}

// ---------- a ledger's date ----------

/** A stored fact as the ledger reconciles it: with the later fact of its kind that ended it, if any. */
export interface LedgerStoredFact extends StoredFact {
  ended_by_fact_id: number | null;
}

/** What to write for a ledger's row: the template's changes, an insert with the end it may need. */
export type LedgerFactChange =
  | Exclude<FactChange, { op: 'insert' }>
  | (Extract<FactChange, { op: 'insert' }> & { to: IsoDate | null; endedBy: number | null });

/**
 * What to change so the stored facts say what a ledger dated `stated` says, as of `asOf`. A ledger is
 * dated by its 填报日期: what the registry holds from a later date (a fact of the kind starting after
 * the ledger's date, an end recorded after it, or a later ledger of the person's children that
 * confirmed a fact in force then: `laterLedgers`) is newer than this file and is never rewritten,
 * retracted or overlapped. The ledger may still add history before it: its period ends where the
 * later record starts (ended by that fact, so retracting it reopens this one), and a period of an
 * earlier ledger in force on its date is ended there, as a later ledger would end it. A fact in
 * force on its date that a later ledger confirmed stays as it is. Nothing later: the template's
 * reconciliation (reconcileFacts), unchanged.
 *
 * `ended`: the kinds the ledger states are over on its date (a parent at home: 在家, 本县). A fact of
 * the kind that started before that date and has no end is ended on it, as the template's 外出务工=否
 * ends one. A fact starting on the ledger's date or later, one already ended, or one a later ledger
 * found in force is as new as this ledger or newer and stays: two records of one date that disagree
 * are for a person to resolve, not for each import to undo the other's.
 * Pure; exported for tests.
 */
export function ledgerFactChanges(
  stored: readonly LedgerStoredFact[],
  wanted: readonly TemplateFact[],
  asOf: IsoDate,
  stated: IsoDate,
  laterLedgers: readonly IsoDate[],
  ended: readonly FactKind[] = [],
): LedgerFactChange[] {
  const out: LedgerFactChange[] = [];
  const confirmedAfter = laterLedgers.filter((d) => d > stated);
  for (const kind of ended) {
    const same = stored.filter((f) => f.kind === kind);
    if (same.some((f) => f.valid_from > stated)) continue;
    for (const f of same) {
      if (f.valid_from >= stated || f.valid_to !== null) continue;
      if (confirmedAfter.some((d) => f.valid_from <= d)) continue;
      out.push({ op: 'close', id: f.id, to: stated });
    }
  }
  for (const want of wanted) {
    const from = want.from ?? asOf;
    // A start the ledger gives after its own date: the ledger speaks of that day.
    const boundary = from > stated ? from : stated;
    const same = stored.filter((f) => f.kind === want.kind);
    const later = same
      .filter((f) => f.valid_from > boundary)
      .sort((a, b) => (a.valid_from < b.valid_from ? -1 : a.valid_from > b.valid_from ? 1 : a.id - b.id));
    const earlier = same.filter((f) => f.valid_from <= boundary);
    // An event (a death) recorded after the ledger's date stands: one per person.
    if (want.mode === 'event' && later.length) continue;
    const changes = reconcileFacts(earlier, { facts: [want], ended: [] }, asOf);
    if (!changes.length) continue;
    const touched = changes.flatMap((c) => (c.op === 'insert' ? [] : earlier.filter((f) => f.id === c.id)));
    const confirmed = laterLedgers.filter((d) => d > boundary);
    const heldLater = (f: LedgerStoredFact) =>
      confirmed.some((d) => f.valid_from <= d && (f.valid_to === null || f.valid_to > d));
    if (touched.some(heldLater)) continue;
    const ends = [
      ...later.map((f) => f.valid_from),
      ...touched.flatMap((f) => (f.valid_to === null ? [] : [f.valid_to])),
    ].sort();
    const cap = ends[0] ?? null;
    const insert = changes.find((c) => c.op === 'insert');
    if (insert && cap !== null && insert.from >= cap) continue;
    for (const c of changes) {
      if (c.op !== 'insert') {
        out.push(c);
        continue;
      }
      const endedBy =
        cap === null
          ? null
          : (later.find((f) => f.valid_from === cap)?.id ??
            touched.find((f) => f.valid_to === cap)?.ended_by_fact_id ??
            null);
      out.push({ ...c, to: cap, endedBy });
    }
  }
  return out;
}

/**
 * The dates of the ledgers imported for the person, or for a child of the person, after `after`
 * (their declarations' starts): a later ledger that confirmed what was in force then left no fact of
 * its own, only its declaration.
 */
async function ledgerDatesAfter(trx: Transaction<DB>, personId: number, after: IsoDate): Promise<IsoDate[]> {
  const children = trx
    .selectFrom('person_relations')
    .select('person_id')
    .where('related_person_id', '=', personId)
    .where('kind', '=', 'parent');
  const rows = await trx
    .selectFrom('person_facts')
    .select('valid_from')
    .distinct()
    .where('kind', '=', 'ledger_declaration')
    .where('retracted_at', 'is', null)
    .where('valid_from', '>', after)
    .where((eb) => eb.or([eb('person_id', '=', personId), eb('person_id', 'in', children)]))
    .orderBy('valid_from')
    .execute();
  return rows.map((r) => r.valid_from);
}

// ---------- the reviewer hook ----------

/**
 * Compares the ledger's answers of written rows with the rules as of `asOf`, inside the import's
 * transaction; resolves with the rows' disagreements. The groups module provides it: the registry
 * does not import the groups module, the composition root connects the two.
 */
export type LedgerReviewer = (
  trx: Transaction<DB>,
  rows: readonly LedgerReviewRow[],
  asOf: IsoDate,
) => Promise<LedgerDisagreement[]>;

let reviewer: LedgerReviewer | null = null;

/** Registers the reviewer of child ledger imports (src/app.ts); a later call replaces it. */
export function reviewLedgerWith(review: LedgerReviewer): void {
  reviewer = review;
}

export interface LedgerImportOptions extends ImportOptions {
  /** Where to write the review: `${reviewReportBase}.xlsx` and `.csv`. None when omitted. */
  reviewReportBase?: string;
}

export interface LedgerImportOutcome extends ImportOutcome {
  /** The rows whose own answers disagree with the rules; null when no reviewer is registered. */
  review: LedgerReview | null;
  reviewReport: { xlsx: string; csv: string } | null;
}

// ---------- one row ----------

interface Found {
  id: number;
  created: boolean;
  /** Found by the ID number the ledger gives: the registry's name is compared with the ledger's. */
  byId?: boolean;
  /** The person found, as registered (absent for one just registered). */
  registered?: { name: string; hukou_region_code: string };
}

/** A name as compared with another: full-width forms, spaces and the middle dot make no difference. */
const nameKey = (name: string) => (normalizeName(name) ?? '').replace(/[\s·]/g, '').toUpperCase();

/**
 * A person named in the ledger: by ID number, else name + birth date in the county, else new (unless
 * `register` is false: then null).
 */
async function findOrRegister(
  trx: Transaction<DB>,
  p: LedgerPerson & { sex?: 1 | 2 | null; phone?: string | null; ethnicity?: string | null },
  county: string,
  hukou: string,
  householdId: number | null,
  linkedTo?: { personId: number; kind: 'parent' | 'carer' },
  register = true,
): Promise<Found | null> {
  if (!p.name) return null;
  if (linkedTo && !p.idNumber) {
    // A parent or carer named without ID number is the one already linked by that name to this
    // child, else to a sibling (a child who shares a parent with this one): a ledger gives a mother's
    // ID number on the first sibling's row and only her name on the next.
    const child = linkedTo.personId;
    const siblings = trx
      .selectFrom('person_relations as mine')
      .innerJoin('person_relations as theirs', 'theirs.related_person_id', 'mine.related_person_id')
      .select('theirs.person_id')
      .where('mine.person_id', '=', child)
      .where('mine.kind', '=', 'parent')
      .where('mine.valid_to', 'is', null)
      .where('theirs.kind', '=', 'parent')
      .where('theirs.valid_to', 'is', null);
    const linked = await trx
      .selectFrom('person_relations as r')
      .innerJoin('persons as o', 'o.id', 'r.related_person_id')
      .select(['o.id', 'o.name', 'o.hukou_region_code'])
      .where((eb) => eb.or([eb('r.person_id', '=', child), eb('r.person_id', 'in', siblings)]))
      .where('r.kind', '=', linkedTo.kind)
      .where('r.valid_to', 'is', null)
      .where('o.name', '=', p.name)
      .where('o.merged_into', 'is', null)
      .orderBy(sql`r.person_id = ${child}`, 'desc')
      .orderBy('o.id')
      .executeTakeFirst();
    if (linked) return { id: linked.id, created: false, registered: linked };
  }
  if (p.idNumber) {
    const byId = await repo.findPersonByIdNumber(trx, p.idNumber);
    if (byId) {
      const kept =
        byId.merged_into === null
          ? byId
          : await trx
              .selectFrom('persons')
              .select(['name', 'hukou_region_code'])
              .where('id', '=', byId.merged_into)
              .executeTakeFirstOrThrow();
      return { id: byId.merged_into ?? byId.id, created: false, byId: true, registered: kept };
    }
  } else if (p.birthDate) {
    const byName = await trx
      .selectFrom('persons')
      .select(['id', 'name', 'hukou_region_code'])
      .where('name', '=', p.name)
      .where('birth_date', '=', p.birthDate)
      .where('merged_into', 'is', null)
      .where('hukou_region_code', '>=', county)
      .where('hukou_region_code', '<', county + '\uffff')
      .orderBy('id')
      .executeTakeFirst();
    if (byName) return { id: byName.id, created: false, registered: byName };
  } else if (!linkedTo) {
    return null;
  }
  if (!register) return null;
  const spelled = nameSpellings(p.name);
  const row = await repo.insertPerson(trx, {
    id_number: p.idNumber,
    no_id_reason: p.idNumber ? null : NO_ID,
    name: p.name,
    name_pinyin: spelled.pinyin,
    name_initials: spelled.initials,
    sex: p.sex ?? (p.idNumber ? ((Number(p.idNumber.charAt(16)) % 2 === 1 ? 1 : 2) as 1 | 2) : null),
    birth_date: p.birthDate,
    ethnicity: p.ethnicity ?? null,
    phone: p.phone ?? null,
    hukou_region_code: hukou,
    household_id: householdId,
  });
  return { id: row.id, created: true };
}

/** The carer link's record of the survey form: what the ledger says, for comparison and writing. */
interface CarerRecord {
  entrustment_form_signed: boolean | null;
  entrustment_form_date: string | null;
  guardianship_assessment: GuardianshipAssessment | null;
  carer_fitness_checked_on: string | null;
  carer_fit: boolean | null;
  carer_relation: string | null;
}

const CARER_FIELDS: (keyof CarerRecord)[] = [
  'entrustment_form_signed',
  'entrustment_form_date',
  'guardianship_assessment',
  'carer_fitness_checked_on',
  'carer_fit',
  'carer_relation',
];

/**
 * The ledger's 监护类型 is the survey's assessment of how the child is looked after (监护情况评估).
 * With a carer, 较好 and 一般 say the carer performs the duties (fit), 受委托监护人监护能力不足 says
 * not; the other two assess the parents, not the carer. The assessment is dated by the ledger.
 */
function carerRecord(row: LedgerRow, on: IsoDate): CarerRecord {
  const carer = row.carer!;
  const assessment = row.declared.guardianshipType;
  const fit =
    assessment === 'good' || assessment === 'fair'
      ? true
      : assessment === 'carer_insufficient'
        ? false
        : null;
  return {
    entrustment_form_signed: carer.formSigned,
    entrustment_form_date: carer.formDate,
    guardianship_assessment: assessment,
    carer_fitness_checked_on: fit === null ? null : (row.ledgerDate ?? on),
    carer_fit: fit,
    carer_relation: carer.relationToChild,
  };
}

interface RowResult {
  status: 'inserted' | 'updated' | 'unchanged';
  childId: number | null;
  /** Persons whose facts or links changed, with what changed, to announce to the listeners. */
  changed: Map<number, PersonChange>;
  /**
   * The parent whose death the row states (无监护能力原因) without a name, and who is not on record
   * as the child's biological parent: the death has no person to be recorded on.
   */
  deathNotRecorded?: 'father' | 'mother';
  /** What of the row was not written, though the row was: reported on the row in the error report. */
  notes: RowError[];
}

/** The household number of a household the ledger made for a child with an ID number. */
export function ledgerHouseholdNo(householdId: number): string {
  return `台账-H${householdId}`;
}

async function writeRow(
  trx: Transaction<DB>,
  row: LedgerRow,
  county: string,
  importer: Importer,
  on: IsoDate,
  places: CountyPlaces,
  context: ImportContext,
): Promise<RowResult> {
  const seen = context.matches;
  const hukou = row.addresses.hukouRegionCode!;
  const changedPersons = new Map<number, PersonChange>();
  const touch = (personId: number, change: PersonChange) => {
    if (!changedPersons.has(personId) || change.kind === 'created') changedPersons.set(personId, change);
  };
  let changed = false;
  const notes: RowError[] = [];
  /** The day a clerk retracted this link as wrong, when it is not in force again (ImportContext). */
  const retractedOn = (personId: number, relatedId: number, kind: 'parent' | 'carer') =>
    context.retracted.get(linkKey(personId, relatedId, kind));
  // The ledger's date dates what it states without a date of its own (EXCHANGE.md).
  const stated = row.ledgerDate ?? on;
  const child = row.child;
  const existingChild = child.idNumber ? await repo.findPersonByIdNumber(trx, child.idNumber) : undefined;
  let householdId = existingChild?.household_id ?? null;
  if (householdId === null) {
    // The ledger has no household number: a household is made for the child. A child without an ID
    // number is found again by the household's name (its name and birth date, which the household's
    // member list shows anyway). A child with one is found by the ID number, and the household is
    // numbered by its own id: an ID number in a household number showed unmasked wherever household
    // numbers do (lists, files, masked exports) — session 19.
    const byName = child.idNumber ? null : `台账-${child.name}-${child.birthDate}`;
    const household = byName ? await repo.findHouseholdByNo(trx, county, byName) : undefined;
    if (household) householdId = household.id;
    else {
      const next = await sql<{
        id: string;
      }>`SELECT nextval(pg_get_serial_sequence('households', 'id')) AS id`.execute(trx);
      const id = Number(next.rows[0]!.id);
      householdId = (
        await repo.insertHousehold(trx, {
          id,
          county_code: county,
          household_no: byName ?? ledgerHouseholdNo(id),
          hukou_region_code: hukou,
          assets: '{}',
        })
      ).id;
      if (existingChild) {
        // A child registered without a household (through the API) is given this one, so that the
        // next ledger finds it by the child and makes no other.
        await trx
          .updateTable('persons')
          .set({
            household_id: householdId,
            relation_to_head: '户主',
            version: sql<number>`version + 1`,
            updated_at: sql<Date>`now()`,
          })
          .where('id', '=', existingChild.id)
          .execute();
        await trx
          .updateTable('households')
          .set({ head_person_id: existingChild.id })
          .where('id', '=', householdId)
          .execute();
        touch(existingChild.id, { kind: 'updated' });
        changed = true;
      }
    }
  }
  const childFound = await findOrRegister(
    trx,
    { ...child, sex: child.sex, ethnicity: child.ethnicity },
    county,
    hukou,
    householdId,
  );
  if (!childFound) return { status: 'unchanged', childId: null, changed: changedPersons, notes };
  seen.note(childFound, child.name, '公民身份号码');
  if (!childFound.created && (await registeredOutside(trx, childFound.id, importer))) {
    const column = child.idNumber ? '公民身份号码' : '姓名';
    throw new RowRefused({
      column,
      value: row.raw[column] ?? '',
      reason: {
        zh: '此儿童已在您管辖范围以外的地区登记（户籍迁入须先办理迁移）',
        en: 'this child is registered in a region outside yours (a hukou transfer must come first)',
      },
    });
  }
  /**
   * Refuses the row when `found` was matched by the ID number in `column` and the registry's person has
   * another name than the ledger's: a mistyped number (a sibling's, a neighbour's) would otherwise link
   * the child to the wrong person without a word. The registered name is shown within the importer's
   * region, to an importer who may reveal ID numbers only (mayReveal): to another, the name would
   * confirm whose the full number is. Outside the region it is never shown, and the message says no
   * more of the registration than the template's 此人已在您管辖范围以外的地区登记.
   */
  const refuseOtherName = (found: Found | null, name: string | null, column: string) => {
    const person = found?.byId ? found.registered : undefined;
    if (!person || !name || nameKey(person.name) === nameKey(name)) return;
    const inRegion = person.hukou_region_code.startsWith(importer.regionCode);
    throw new RowRefused({
      column,
      value: row.raw[column] ?? '',
      reason: !inRegion
        ? {
            zh: `${column}对应的登记人员（户籍在您的管辖范围以外）姓名与台账“${name}”不一致，请核对身份号码或姓名`,
            en: `the person registered under this ID number (${column}, outside your region) has another name than "${name}" in the ledger; check the number or the name`,
          }
        : mayReveal(importer)
          ? {
              zh: `${column}对应的登记人员姓名为${person.name}，与台账“${name}”不一致，请核对身份号码或姓名（已更名的，请先在人员档案中更正姓名）`,
              en: `the person registered under this ID number (${column}) is named ${person.name}, not "${name}" as in the ledger; check the number or the name (a changed name is corrected in the person's file first)`,
            }
          : {
              zh: `${column}对应的登记人员姓名与台账“${name}”不一致，请核对身份号码或姓名（已更名的，请先在人员档案中更正姓名）`,
              en: `the person registered under this ID number (${column}) has another name than "${name}" in the ledger; check the number or the name (a changed name is corrected in the person's file first)`,
            },
    });
  };
  if (!childFound.created) {
    refuseOtherName(childFound, child.name, '公民身份号码');
    // The child's hukou village is the registry's: a ledger naming another village is reported, never
    // taken as a move (the registry template moves a hukou, with its 户籍地代码).
    const registered = childFound.registered;
    if (registered && registered.hukou_region_code !== hukou) {
      const column = row.raw['户籍所在地'] || !row.raw['村（居）'] ? '户籍所在地' : '村（居）';
      const [theirs, ours] = [
        villageLabel(registered.hukou_region_code, places.villages),
        villageLabel(hukou, places.villages),
      ];
      throw new RowRefused({
        column,
        value: row.raw[column] ?? '',
        reason: {
          zh: `此儿童登记的户籍地为${theirs}（${registered.hukou_region_code}），与台账${column}“${row.raw[column] ?? ''}”（${ours}）不是同一个村：请核对台账；户籍确已迁移的，请先通过登记模板（户籍地代码）办理`,
          en: `this child is registered in ${theirs} (${registered.hukou_region_code}), not in the village the ledger gives ("${row.raw[column] ?? ''}", ${ours}): check the ledger; a hukou that has moved is changed through the registry template (户籍地代码) first`,
        },
      });
    }
  }
  // The dates of ledgers imported for this child after this one: what they hold is not rewritten.
  const childLater = childFound.created ? [] : await ledgerDatesAfter(trx, childFound.id, stated);
  if (childFound.created) {
    touch(childFound.id, { kind: 'created' });
    await trx
      .updateTable('persons')
      .set({ relation_to_head: '户主' })
      .where('id', '=', childFound.id)
      .execute();
    await trx
      .updateTable('households')
      .set({ head_person_id: childFound.id })
      .where('id', '=', householdId)
      .where('head_person_id', 'is', null)
      .execute();
  }
  // Where the child lives, when the row says (现居住地): the rules ask whether the child lives in the
  // hukou village (a child living with the parents in 深圳 is no left-behind child).
  // A later ledger's residence stands.
  if (
    row.addresses.residence !== null &&
    childLater.length === 0 &&
    (await writeResidence(trx, childFound.id, row.addresses.residenceRegionCode))
  ) {
    changed = true;
    touch(childFound.id, { kind: 'updated' });
  }
  /**
   * Refuses the row when `found` (a parent, grandparent or carer the row names, found in the registry)
   * is registered outside the importer's region and not linked to `personId` yet; an existing link
   * stays, as a file imported again changes nothing.
   */
  const refuseNewLinkOutside = async (
    found: Found,
    personId: number,
    kind: 'parent' | 'carer',
    column: string,
    label: { zh: string; en: string },
  ) => {
    if (found.created || !(await registeredOutside(trx, found.id, importer))) return;
    const linked = await trx
      .selectFrom('person_relations')
      .select('id')
      .where('person_id', '=', personId)
      .where('related_person_id', '=', found.id)
      .where('kind', '=', kind)
      .where('valid_to', 'is', null)
      .executeTakeFirst();
    if (linked) return;
    throw new RowRefused({
      column,
      value: row.raw[column] ?? '',
      reason: {
        zh: `${label.zh}已在您管辖范围以外的地区登记，本次导入不能与其建立关系（须由管辖双方户籍地的工作人员办理）`,
        en: `the ${label.en} is registered in a region outside yours: an import here cannot link to them (staff whose region holds both can)`,
      },
    });
  };
  /**
   * One biological father and one biological mother, as the API and the template have it (docs/DECISIONS.md,
   * sessions 17 and 18): a row naming another father (mother) than the one on record is refused on the
   * parent's column, naming the one on record where the importer's region holds them; nothing is linked.
   */
  const refuseSecondBiologicalParent = async (parentId: number, which: 'father' | 'mother', at: string) => {
    const recorded = await trx
      .selectFrom('person_relations as r')
      .innerJoin('persons as p', 'p.id', 'r.related_person_id')
      .select(['p.id', 'p.name', 'p.hukou_region_code'])
      .where('r.person_id', '=', childFound.id)
      .where('r.kind', '=', 'parent')
      .where('r.subtype', '=', 'biological')
      .where('r.valid_to', 'is', null)
      .where('p.sex', '=', which === 'father' ? 1 : 2)
      .where('p.id', '!=', parentId)
      .executeTakeFirst();
    if (!recorded) return;
    const [zh, en] = which === 'father' ? ['生父', 'father'] : ['生母', 'mother'];
    // Not named to an importer who may not reveal ID numbers when the child was found by the ledger's
    // ID number: the name would say whose child the number is (refuseOtherName).
    const inRegion = recorded.hukou_region_code.startsWith(importer.regionCode);
    const shown = inRegion && (mayReveal(importer) || !childFound.byId);
    const zhWho = !inRegion
      ? '（户籍在您的管辖范围以外）'
      : shown
        ? `“${recorded.name}”(#${recorded.id})`
        : '';
    const enWho = !inRegion
      ? ' (registered outside your region)'
      : shown
        ? ` (${recorded.name}, #${recorded.id})`
        : '';
    throw new RowRefused({
      column: at,
      value: row.raw[at] ?? '',
      reason: {
        zh: `此儿童已登记${zh}${zhWho}，与本行所填不是同一人：一人只有一位生父和一位生母，继父母或养父母请在人员档案中按相应类型登记`,
        en: `a biological ${en} is recorded for this child already${enWho}, not the one in this row; a person has one biological father and one biological mother (record a step or adoptive parent with that type in the person's file)`,
      },
    });
  };
  const link = async (personId: number, relatedId: number, kind: 'parent' | 'carer') => {
    if (personId === relatedId) return;
    const added = await repo.ensureRelation(trx, {
      person_id: personId,
      related_person_id: relatedId,
      kind,
      subtype: kind === 'parent' ? 'biological' : null,
      source: SOURCE,
      recorded_by: importer.userId,
    });
    if (added) {
      changed = true;
      touch(personId, { kind: 'relation' });
    }
  };
  /**
   * Reconciles one person's facts with what the row states, as of `asOf`, never rewriting what a later
   * ledger or record holds (ledgerFactChanges); facts inserted are recorded with `source` (the ledger,
   * and how it dated them). `ended`: the kinds the row states are over on the ledger's date.
   */
  const facts = async (
    personId: number,
    wanted: TemplateFact[],
    asOf: IsoDate,
    source = SOURCE,
    ended: FactKind[] = [],
  ) => {
    const stored = await repo.listActiveFacts(trx, [personId]);
    const byId = new Map(stored.map((f) => [f.id, f]));
    // A fact closed for a wanted one is closed once that one is written, ended by it (retracting
    // it reopens them); the ledger states no end of its own (ended: []). One that already had an
    // end of its own keeps none.
    let closes: { id: number; to: string }[] = [];
    const close = async (endedBy: { id: number; kind: string; valid_from: string } | null) => {
      for (const c of closes) {
        const f = byId.get(c.id);
        const by =
          endedBy !== null &&
          f !== undefined &&
          f.kind === endedBy.kind &&
          endedBy.valid_from === c.to &&
          (f.valid_to === null || f.ended_by_fact_id !== null)
            ? endedBy.id
            : null;
        await trx
          .updateTable('person_facts')
          .set({ valid_to: c.to, ended_by_fact_id: by })
          .where('id', '=', c.id)
          .execute();
      }
      closes = [];
    };
    // Later ledgers matter only where a fact of a kind the row states is on record already.
    const kinds = new Set<string>([...wanted.map((w) => w.kind), ...ended]);
    const laterLedgers = stored.some((f) => kinds.has(f.kind))
      ? await ledgerDatesAfter(trx, personId, stated)
      : [];
    for (const change of ledgerFactChanges(stored, wanted, asOf, stated, laterLedgers, ended)) {
      changed = true;
      touch(personId, { kind: 'fact' });
      if (change.op === 'insert')
        await close(
          await repo.insertFact(trx, {
            person_id: personId,
            kind: change.kind,
            valid_from: change.from,
            valid_to: change.to,
            ended_by_fact_id: change.endedBy,
            data: JSON.stringify(change.data),
            source,
            recorded_by: importer.userId,
          }),
        );
      else if (change.op === 'close') closes.push({ id: change.id, to: change.to });
      else await repo.retractFact(trx, change.id, personId, importer.userId, 'superseded by ledger import');
    }
    await close(null);
  };
  const parents: Record<'father' | 'mother', number | null> = { father: null, mother: null };
  // The parents whose link to the child a clerk retracted as wrong: what the row says of them is
  // about a person the registry says is not the child's parent, and is not written (nor their parents).
  const retractedParents = new Set<'father' | 'mother'>();
  // A parent given by ID number first: the other, given by name only, is then looked for among the
  // parents of that parent's other children too (findOrRegister).
  const byIdFirst = (['father', 'mother'] as const)
    .slice()
    .sort((a, b) => Number(!row[a]?.idNumber) - Number(!row[b]?.idNumber));
  for (const which of byIdFirst) {
    const p = row[which];
    if (!p) continue;
    const found = await findOrRegister(
      trx,
      { ...p, sex: which === 'father' ? 1 : 2 },
      county,
      hukou,
      householdId,
      { personId: childFound.id, kind: 'parent' },
    );
    if (!found) continue;
    seen.note(found, p.name, column(which, p.idNumber));
    refuseOtherName(found, p.name, column(which, p.idNumber));
    const retracted = found.created ? undefined : retractedOn(childFound.id, found.id, 'parent');
    if (retracted) {
      const at = column(which, p.idNumber);
      const label = PARENT_LABELS[which];
      notes.push(
        retractedLinkNote(at, row.raw[at] ?? '', label, retracted, {
          zh: `关于${label.zh}的内容（外出务工、无监护能力、其父母）`,
          en: `what it says of the ${label.en} (migration, inability, their parents)`,
        }),
      );
      retractedParents.add(which);
      continue;
    }
    // The row says the parent is at home (在家, 本县 ...) and a migration is in force on the ledger's
    // date: it ends there (an empty 务工地点 says nothing and ends nothing).
    const endsMigration =
      p.atHome === true &&
      !found.created &&
      !context.awayInFile.has(parentKey(p)) &&
      (await migrationInForce(trx, found.id, stated));
    // What the row records about the parent: the migration, the inability, the parent's own parents.
    const states =
      p.workplace !== null ||
      p.migrationSince !== undefined ||
      endsMigration ||
      row.inability?.parent === which ||
      row.grandparents.some((g) => g.role.startsWith(which === 'father' ? 'paternal' : 'maternal'));
    if (!found.created && states && (await registeredOutside(trx, found.id, importer))) {
      const label = PARENT_LABELS[which];
      throw new RowRefused({
        column: column(which, p.idNumber),
        value: row.raw[column(which, p.idNumber)] ?? '',
        reason: {
          zh: `${label.zh}已在您管辖范围以外的地区登记，其外出务工、无监护能力或其父母的情况须由该地区登记`,
          en: `the ${label.en} is registered in a region outside yours: their migration, inability or parents are recorded there`,
        },
      });
    }
    await refuseNewLinkOutside(
      found,
      childFound.id,
      'parent',
      column(which, p.idNumber),
      PARENT_LABELS[which],
    );
    await refuseSecondBiologicalParent(found.id, which, column(which, p.idNumber));
    if (found.created) {
      changed = true;
      touch(found.id, { kind: 'created' });
    }
    parents[which] = found.id;
    await link(childFound.id, found.id, 'parent');
    // The ledger gives a work place and when the parent went away (外出时间): a migration from that
    // day, reconciled as the template reconciles its 外出开始日期 (a re-import changes nothing, an
    // earlier start corrects the record). A work place but no start: a migration already in force on
    // the ledger's date with that destination stands (its own start is kept); otherwise one is
    // recorded from that date.
    // A start without a work place comes only from a ledger that has no work place column.
    if (p.migrationSince)
      await facts(
        found.id,
        [
          {
            kind: 'migration',
            mode: 'period',
            from: p.migrationSince,
            data: p.workplace ? { destination: p.workplace } : {},
          },
        ],
        stated,
        migrationSource(which, p.migrationSinceMonth ?? null),
      );
    else if (p.workplace)
      await facts(
        found.id,
        [{ kind: 'migration', mode: 'state', from: null, data: { destination: p.workplace } }],
        stated,
      );
    // At home on the ledger's date: the migration in force then ends on it, unless a later ledger
    // or record holds it (ledgerFactChanges), as the template's 外出务工=否 ends one.
    else if (endsMigration) await facts(found.id, [], stated, SOURCE, ['migration']);
  }
  // A parent stated at home without name or ID number (row.unnamedAtHome) is the child's one father
  // (mother) linked in the registry, as a death stated without a name is: the migration in force on the
  // ledger's date ends there as for a named parent. None or several linked: the row says it was not applied.
  for (const which of row.unnamedAtHome ?? []) {
    const label = PARENT_LABELS[which];
    const at = `${label.zh}务工地点`;
    const linked = await trx
      .selectFrom('person_relations as r')
      .innerJoin('persons as p', 'p.id', 'r.related_person_id')
      .select(['p.id', 'p.name', 'p.id_number', 'p.hukou_region_code'])
      .where('r.person_id', '=', childFound.id)
      .where('r.kind', '=', 'parent')
      .where('r.valid_to', 'is', null)
      .where('p.merged_into', 'is', null)
      .where('p.sex', '=', which === 'father' ? 1 : 2)
      .execute();
    const parent = linked.length === 1 ? linked[0] : undefined;
    const refused = (zh: string, en: string) =>
      notes.push({
        column: at,
        value: row.raw[at] ?? '',
        reason: {
          zh: `台账写明${label.zh}在家，但未填写${label.zh}姓名和公民身份号码，${zh}：未据此结束其外出务工记录（本行其他内容已照常导入）；请填写${label.zh}姓名或公民身份号码后重新导入`,
          en: `the ledger states the ${label.en} is at home but gives neither name nor ID number, and ${en}: no migration was ended by it (the rest of the row was imported as usual); give the ${label.en}'s name or ID number and import again`,
        },
      });
    if (!parent) {
      if (linked.length === 0)
        refused(
          `此儿童在登记中没有已关联的${label.zh}`,
          `the child has no ${label.en} linked in the registry`,
        );
      else
        refused(
          `此儿童在登记中关联了${linked.length}位${label.zh}，无法确定是哪一位`,
          `the child has ${linked.length} ${label.en}s linked in the registry, so which one is meant is not known`,
        );
      continue;
    }
    if (!parent.hukou_region_code.startsWith(importer.regionCode)) {
      refused(
        `此儿童关联的${label.zh}已在您管辖范围以外的地区登记，其外出务工情况须由该地区登记`,
        `the child's linked ${label.en} is registered outside your region, where their migration is recorded`,
      );
      continue;
    }
    // A row of the file that states this parent away (by ID number or name) keeps the migration.
    const away =
      (parent.id_number !== null && context.awayInFile.has(`id:${parent.id_number}`)) ||
      context.awayInFile.has(`name:${parent.name}`);
    if (!away && (await migrationInForce(trx, parent.id, stated)))
      await facts(parent.id, [], stated, SOURCE, ['migration']);
  }
  // The parent at home who cannot act as guardian, and why (无监护能力原因), as the fact it stands for.
  const inability = row.inability;
  let unableId = inability ? parents[inability.parent] : null;
  let deathNotRecorded: RowResult['deathNotRecorded'];
  if (inability && unableId === null && row[inability.parent] === null) {
    // A death without the parent's name (父亲姓名 已故, or a dash, as the form's note 4 asks for a
    // relative who died; rowErrors lets only a death through): the parent is the child's biological
    // father (mother) on record in the importer's region, if there is one. Otherwise a person needs a
    // name and the death is recorded nowhere but in the ledger's declaration; the import says so.
    const recorded = await trx
      .selectFrom('person_relations as r')
      .innerJoin('persons as p', 'p.id', 'r.related_person_id')
      .select(['p.id', 'p.hukou_region_code'])
      .where('r.person_id', '=', childFound.id)
      .where('r.kind', '=', 'parent')
      .where('r.subtype', '=', 'biological')
      .where('r.valid_to', 'is', null)
      .where('p.merged_into', 'is', null)
      .where('p.sex', '=', inability.parent === 'father' ? 1 : 2)
      .execute();
    const parent = recorded.length === 1 ? recorded[0] : undefined;
    if (parent && parent.hukou_region_code.startsWith(importer.regionCode)) unableId = parent.id;
    else deathNotRecorded = inability.parent;
  }
  if (inability && unableId !== null) {
    const from = inability.since ?? stated;
    // Without any date (neither the row's nor the ledger's) the import day stands in: a fact of the
    // kind already in force then stands, as a state or flag does, so that the same file imported again
    // on a later day changes nothing.
    const undated = inability.since === null && row.ledgerDate === null;
    const mode: TemplateFact['mode'] =
      inability.kind === 'death' ||
      inability.kind === 'declared_dead' ||
      inability.kind === 'declared_missing'
        ? undated
          ? 'flag'
          : 'event'
        : inability.kind === 'liberty_restriction' || inability.kind === 'lost_contact'
          ? undated
            ? 'state'
            : 'period'
          : inability.kind === 'disability'
            ? 'state'
            : 'flag';
    // A state or flag without its own date is in force from the date given, else the ledger's date.
    await facts(unableId, [{ kind: inability.kind, mode, from, data: inability.data }], from);
  }
  const grandparentIds = new Map<LedgerGrandparent['role'], number>();
  for (const g of row.grandparents) {
    const side = g.role.startsWith('paternal') ? 'father' : 'mother';
    if (retractedParents.has(side)) continue;
    const parentId = parents[side];
    const found = await findOrRegister(
      trx,
      { ...g, sex: g.role.endsWith('father') ? 1 : 2 },
      county,
      hukou,
      null,
      parentId !== null ? { personId: parentId, kind: 'parent' } : undefined,
    );
    if (!found) continue;
    // A grandparent with an ID number is the carer the row names (registry.ledger.ts).
    seen.note(found, g.name, '委托监护人公民身份号码');
    refuseOtherName(found, g.name, '委托监护人公民身份号码');
    const label = GRANDPARENT_LABELS[g.role];
    const retracted =
      parentId !== null && !found.created ? retractedOn(parentId, found.id, 'parent') : undefined;
    if (retracted) {
      notes.push(
        retractedLinkNote(`${label.zh}姓名`, row.raw[`${label.zh}姓名`] ?? '', label, retracted, null),
      );
      grandparentIds.set(g.role, found.id);
      continue;
    }
    if (parentId !== null) await refuseNewLinkOutside(found, parentId, 'parent', `${label.zh}姓名`, label);
    if (found.created) {
      changed = true;
      touch(found.id, { kind: 'created' });
    }
    if (parentId !== null) await link(parentId, found.id, 'parent');
    grandparentIds.set(g.role, found.id);
  }
  if (row.carer) {
    // The carer who is a grandparent named on the row (registry.ledger.ts) is that person.
    const grandparentId = row.carer.grandparent ? grandparentIds.get(row.carer.grandparent) : undefined;
    // A ledger older than one imported for the child already adds to the record of a carer linked
    // then, but links no carer (and registers none) that the later ledger does not have.
    const older = childLater.length > 0;
    const found: Found | null =
      grandparentId !== undefined
        ? { id: grandparentId, created: false }
        : await findOrRegister(
            trx,
            row.carer,
            county,
            hukou,
            null,
            { personId: childFound.id, kind: 'carer' },
            !older,
          );
    const column = row.carer.idNumber ? '委托监护人公民身份号码' : '委托监护人姓名';
    if (found) {
      seen.note(found, row.carer.name, '委托监护人公民身份号码');
      refuseOtherName(found, row.carer.name, '委托监护人公民身份号码');
    }
    // A carer link a clerk retracted as wrong is not made again, nor the entrustment recorded on it.
    const retracted = found && !found.created ? retractedOn(childFound.id, found.id, 'carer') : undefined;
    if (retracted) {
      notes.push(
        retractedLinkNote(
          column,
          row.raw[column] ?? '',
          { zh: '委托监护人', en: 'entrusted carer' },
          retracted,
          {
            zh: '委托监护的情况（确认书、监护评估）',
            en: 'the entrustment (form, assessment)',
          },
        ),
      );
    } else if (found) {
      await refuseNewLinkOutside(found, childFound.id, 'carer', column, {
        zh: '委托监护人',
        en: 'entrusted carer',
      });
      if (found.created) {
        changed = true;
        touch(found.id, { kind: 'created' });
      }
      if (!older) await link(childFound.id, found.id, 'carer');
      const record = carerRecord(row, on);
      if (
        await writeCarerRecord(
          trx,
          childFound.id,
          found.id,
          record,
          stated,
          importer,
          row.ledgerDate === null,
          childLater,
        )
      ) {
        changed = true;
        touch(childFound.id, { kind: 'relation' });
      }
    }
  }
  if (!row.carer && row.declared.hasEntrustedCarer === false && childLater.length === 0) {
    // The ledger says the child has no entrusted carer (有无委托监护人: 否): a carer link still in
    // force from before the ledger's date ends on it. A link recorded on or after that date is newer
    // news than this ledger and stays, and so does one a later ledger of the child found in force.
    const ended = await trx
      .updateTable('person_relations')
      .set({ valid_to: stated })
      .where('person_id', '=', childFound.id)
      .where('kind', '=', 'carer')
      .where('valid_to', 'is', null)
      .where((eb) => eb.or([eb('valid_from', 'is', null), eb('valid_from', '<', stated)]))
      .executeTakeFirst();
    if (Number(ended.numUpdatedRows) > 0) {
      changed = true;
      touch(childFound.id, { kind: 'relation' });
    }
  }
  const childFacts: TemplateFact[] = [];
  if (child.disability)
    childFacts.push({
      kind: 'disability',
      mode: 'state',
      from: null,
      data: { category: child.disability.category, grade: child.disability.grade },
    });
  if (child.schoolStage)
    childFacts.push({ kind: 'schooling', mode: 'state', from: null, data: { stage: child.schoolStage } });
  if (child.health === 'ill')
    childFacts.push({ kind: 'serious_illness', mode: 'flag', from: null, data: {} });
  // The ledger's own answers: declared, dated by the ledger; a changed answer is a new declaration.
  childFacts.push({
    kind: 'ledger_declaration',
    mode: row.ledgerDate ? 'period' : 'state',
    from: row.ledgerDate,
    data: { ...ledgerDeclaration(row) },
  });
  await facts(childFound.id, childFacts, stated);
  return {
    status: childFound.created ? 'inserted' : changed ? 'updated' : 'unchanged',
    childId: childFound.id,
    changed: changedPersons,
    ...(deathNotRecorded ? { deathNotRecorded } : {}),
    notes,
  };
}

/**
 * The child's residence as the ledger states it (现居住地, resolveResidence in registry.ledger.ts): null,
 * or the hukou village's own code, is the hukou village; any other code of any level is where the child
 * lives (a village, a township, the county, 广东省深圳市宝安区). A residence on record within the region
 * the ledger names is more precise and stays (a village of 兰阳街道 for 县城, 440306 for 深圳市). True when
 * written.
 */
async function writeResidence(
  trx: Transaction<DB>,
  personId: number,
  stated: string | null,
): Promise<boolean> {
  const person = await trx
    .selectFrom('persons')
    .select(['hukou_region_code', 'residence_region_code', 'version'])
    .where('id', '=', personId)
    .executeTakeFirstOrThrow();
  const hukou = person.hukou_region_code;
  const current = person.residence_region_code === hukou ? null : person.residence_region_code;
  const wanted = stated === hukou ? null : stated;
  if (wanted === current) return false;
  if (wanted !== null && current !== null && current.length > wanted.length && current.startsWith(wanted))
    return false;
  await repo.updatePerson(trx, personId, person.version, { residence_region_code: wanted });
  return true;
}

/**
 * The carer link's survey record, as of the ledger's date: the link of this carer in force that day.
 * Unchanged: nothing. Changed: that link is ended on the ledger's date and a new one starts with the
 * ledger's record, until the link's own end (the earlier assessment stays readable); when the link
 * started that very day, or records nothing yet, it is corrected in place. A link a later ledger of
 * the child confirmed (`laterLedgers`: one dated within it) is that ledger's record and stays. No
 * link in force that day, but one starting later: the ledger's record is the period before it. True
 * when something was written.
 *
 * A ledger without its date (`undated`) does not say when the carer was assessed: the import day
 * stands in, but an assessment stored with the same result keeps its own date, so the same file
 * imported again on a later day changes nothing.
 */
async function writeCarerRecord(
  trx: Transaction<DB>,
  childId: number,
  carerId: number,
  given: CarerRecord,
  stated: IsoDate,
  importer: Importer,
  undated: boolean,
  laterLedgers: readonly IsoDate[],
): Promise<boolean> {
  const links = (
    await trx
      .selectFrom('person_relations')
      .selectAll()
      .where('person_id', '=', childId)
      .where('related_person_id', '=', carerId)
      .where('kind', '=', 'carer')
      .execute()
  ).sort((a, b) => (a.valid_from ?? '').localeCompare(b.valid_from ?? '') || a.id - b.id);
  const insert = (validTo: string | null, record: CarerRecord) =>
    trx
      .insertInto('person_relations')
      .values({
        person_id: childId,
        related_person_id: carerId,
        kind: 'carer',
        subtype: null,
        valid_from: stated,
        valid_to: validTo,
        ...record,
        source: SOURCE,
        recorded_by: importer.userId,
      })
      .execute();
  const current = links
    .filter(
      (l) =>
        (l.valid_from === null || l.valid_from <= stated) && (l.valid_to === null || l.valid_to > stated),
    )
    .at(-1);
  if (!current) {
    const next = links.find((l) => l.valid_from !== null && l.valid_from > stated);
    if (!next?.valid_from) return false;
    await insert(next.valid_from, given);
    return true;
  }
  const record: CarerRecord =
    undated && current.carer_fit !== null && current.carer_fit === given.carer_fit
      ? { ...given, carer_fitness_checked_on: current.carer_fitness_checked_on }
      : given;
  if (CARER_FIELDS.every((k) => (current[k] ?? null) === (record[k] ?? null))) return false;
  if (CARER_FIELDS.every((k) => current[k] === null)) {
    // Just linked (nothing recorded yet): fill in.
    await trx.updateTable('person_relations').set(record).where('id', '=', current.id).execute();
    return true;
  }
  const confirmedLater = laterLedgers.some(
    (d) =>
      d > stated && (current.valid_from ?? '') <= d && (current.valid_to === null || current.valid_to > d),
  );
  if (confirmedLater) return false;
  if (current.valid_from === stated) {
    // Recorded on this same date: corrected.
    await trx.updateTable('person_relations').set(record).where('id', '=', current.id).execute();
    return true;
  }
  await trx.updateTable('person_relations').set({ valid_to: stated }).where('id', '=', current.id).execute();
  await insert(current.valid_to, record);
  return true;
}

// ---------- the review report ----------

async function writeReviewReport(
  target: string,
  review: LedgerReview,
  idNumbers: ReadonlyMap<number, string>,
): Promise<void> {
  const writer = openTableWriter(target, LEDGER_REVIEW_HEADERS, {
    sheetName: '台账与规则不一致',
    widths: { 规则依据: 80, 规则判定的群体: 30, 公民身份号码: 22, 台账项目: 24 },
  });
  for (const d of review.disagreements) {
    await writer.writeRow([
      d.sheet === undefined ? String(d.rowNumber) : `${d.sheet}!${d.rowNumber}`,
      d.name,
      idNumbers.get(d.personId) ?? '',
      LEDGER_QUESTION_LABELS[d.question].zh,
      d.declared,
      d.derived,
      d.reasons.zh.join('; '),
      d.groups.zh.join('、'),
    ]);
  }
  await writer.close();
}

// ---------- the use case ----------

const ROWS_NAMED = 20;

/**
 * The import's message when rows were written without the death of a parent they state unnamed: the
 * rows, what was not recorded and what to do. The columns the import ignored are said too, as the
 * job says them when there is no message.
 */
export function deathsNotRecordedMessage(
  rows: readonly { zh: string; en: string }[],
  unknownHeaders: readonly string[],
): { zh: string; en: string } | null {
  if (!rows.length) return null;
  const named = rows.slice(0, ROWS_NAMED);
  const more = rows.length > named.length;
  const zhRows = named.map((r) => r.zh).join('、') + (more ? `等共${rows.length}行` : '');
  const enRows = named.map((r) => r.en).join(', ') + (more ? ` and ${rows.length - named.length} more` : '');
  const zhUnknown = unknownHeaders.length ? `；已忽略未知列：${unknownHeaders.join('、')}` : '';
  const enUnknown = unknownHeaders.length ? `; unknown columns ignored: ${unknownHeaders.join(', ')}` : '';
  return {
    zh:
      `${zhRows}的父亲或母亲已故，台账未填写其姓名，且未登记为儿童的生父或生母：儿童和本行其他内容已导入，` +
      `死亡未能登记（人员须有姓名），规则不会把其计为已故。请在儿童的人员档案中登记该父亲或母亲及其死亡，` +
      `或在台账中填写其姓名后重新导入这些行${zhUnknown}`,
    en:
      `rows ${enRows}: the father or mother died, is not named in the ledger and is not on record as the ` +
      `child's parent: the child and the rest of the row are imported, the death is not (a person needs a ` +
      `name), so the rules do not count that parent as dead. Register the parent and the death in the ` +
      `child's file, or give the name in the ledger and import those rows again${enUnknown}`,
  };
}

/**
 * What the import says of the ledger's 填报日期 (EXCHANGE.md: a ledger's facts are dated by it): a sheet
 * whose title rows and signature block give different dates is dated by the title's (named with the
 * others, so that a wrong title is corrected and the file imported again); one that gives none
 * anywhere is dated by the import day. `sheets` names the sheets (a workbook with several sheets of
 * rows); `undated` are those with rows that had no date.
 */
export function ledgerDatesNotes(
  dates: readonly LedgerSheetDates[],
  undated: ReadonlySet<string | null>,
  sheets: boolean,
  on: IsoDate,
): { zh: string; en: string }[] {
  const notes: { zh: string; en: string }[] = [];
  const where = (sheet: string | null) =>
    sheets && sheet !== null ? { zh: `工作表“${sheet}”`, en: `worksheet "${sheet}": ` } : { zh: '', en: '' };
  for (const d of dates) {
    const w = where(d.sheet);
    if (d.title !== null) {
      const others = d.signature.filter((s) => s !== d.title);
      if (!others.length) continue;
      notes.push({
        zh: `${w.zh}标题行的填报日期为${d.title}，表尾为${others.join('、')}：按标题行的${d.title}记录，如标题行有误，请改正后重新导入`,
        en: `${w.en}the ledger gives 填报日期 ${d.title} in the title rows and ${others.join(', ')} below the data: it is dated ${d.title}, as the title rows say; if they are wrong, correct them and import again`,
      });
    } else if (d.signature.length > 1) {
      const [first] = d.signature;
      notes.push({
        zh: `${w.zh}表尾的填报日期有${d.signature.join('、')}：按第一个${first}记录，如有误，请改正后重新导入`,
        en: `${w.en}the signature block gives the dates ${d.signature.join(', ')}: the ledger is dated ${first}, the first; if that is wrong, correct it and import again`,
      });
    }
  }
  if (undated.size) {
    const named = [...undated].filter((s) => s !== null);
    const partly = sheets && named.length > 0 && named.length < dates.length;
    notes.push(
      partly
        ? {
            zh: `工作表${named.map((n) => `“${n}”`).join('、')}未写填报日期，按导入日期（${on}）记录`,
            en: `the worksheet${named.length > 1 ? 's' : ''} ${named.map((n) => `"${n}"`).join(', ')} give${named.length > 1 ? '' : 's'} no 填报日期: their facts are dated by the import day (${on})`,
          }
        : {
            zh: `台账未写填报日期，按导入日期（${on}）记录（填报日期可写在标题行或表尾，如“填报日期：2026年11月20日”）`,
            en: `the ledger gives no 填报日期: its facts are dated by the import day (${on}) (write it in the title rows or below the data, e.g. "填报日期：2026年11月20日")`,
          },
    );
  }
  return notes;
}

/**
 * The import's message for a file imported: the rows whose parent's death was not recorded
 * (deathsNotRecordedMessage), what the ledger's dates came to (ledgerDatesNotes), then the columns
 * ignored. Null when there is nothing but ignored columns to say: the job says those.
 */
export function ledgerImportMessage(parts: {
  deathRows: readonly { zh: string; en: string }[];
  dates: readonly { zh: string; en: string }[];
  unknownHeaders: readonly string[];
}): { zh: string; en: string } | null {
  const deaths = deathsNotRecordedMessage(parts.deathRows, []);
  const notes = [...(deaths ? [deaths] : []), ...parts.dates];
  if (!notes.length) return null;
  const unknown = parts.unknownHeaders;
  return {
    zh: notes.map((n) => n.zh).join('；') + (unknown.length ? `；已忽略未知列：${unknown.join('、')}` : ''),
    en:
      notes.map((n) => n.en).join('; ') +
      (unknown.length ? `; unknown columns ignored: ${unknown.join(', ')}` : ''),
  };
}

const REVIEW_BATCH = 500;

/** Imports a child ledger for an importer of a county or below. */
export async function importLedgerFile(
  db: Kysely<DB>,
  source: TableSource,
  importer: Importer,
  options: LedgerImportOptions = {},
): Promise<LedgerImportOutcome> {
  const on = options.today ?? currentDate();
  const report = options.progress ?? (() => {});
  const county = importer.regionCode.slice(0, 6);
  const places = await loadCountyPlaces(county);
  // Columns that are not the form's are ignored and reported, as the template import reports them.
  // A workbook with one sheet per village has a column row on each: every one needs 户籍所在地.
  let unknownHeaders: string[] = [];
  const onHeaders = (found: string[]) => {
    requireHukouColumn(found);
    unknownHeaders = [...new Set([...unknownHeaders, ...unknownLedgerHeaders(found)])];
  };
  // The first read records each sheet's 填报日期, the title's and the signature block's; the second,
  // which writes, dates the rows of a sheet dated only below its data by it (parseLedgerFile).
  const sheetDates = new Map<number, LedgerSheetDates>();
  // The worksheets passed over (no column row, hidden) are named in the message.
  const passedOver = new Map<string, LedgerSheetPassedOver>();
  const parse = () => parseLedgerFile(source, { today: on, places, onHeaders, sheetDates, passedOver });
  const counts: ImportCounts = { rows: 0, inserted: 0, updated: 0, unchanged: 0, errors: 0 };
  // Each refused row with its sheet's 填报日期: the report carries it, so that a row fixed there is
  // dated as the ledger's own rows.
  const errorRows: {
    rowNumber: number;
    raw: Record<string, string>;
    errors: RowError[];
    ledgerDate: IsoDate | null;
  }[] = [];
  let headers: string[] = [];
  const sheets = new Set<string | null>();
  const awayInFile = new Set<string>();
  let retracted: Map<string, Date>;
  try {
    for await (const row of parse()) {
      counts.rows += 1;
      sheets.add(row.sheet);
      if (!headers.length) headers = Object.keys(row.raw);
      for (const p of [row.father, row.mother])
        if (p && (p.workplace !== null || p.migrationSince !== undefined)) awayInFile.add(parentKey(p));
    }
    unknownHeaders = [];
    retracted = await retractedLinks(db);
  } catch (error) {
    if (error instanceof FileRejected)
      return {
        status: 'rejected',
        counts,
        message: error.userMessage,
        unknownHeaders: [],
        errorReport: null,
        review: null,
        reviewReport: null,
      };
    throw error;
  }
  /**
   * Rows of a workbook with data on several sheets (one per village) are named with their sheet in the
   * error report, whose row numbers repeat from sheet to sheet: 工作表“司寨村”：….
   */
  const onSheet = (row: LedgerRow, errors: RowError[]): RowError[] =>
    sheets.size > 1 && row.sheet !== null
      ? errors.map((e) => ({
          ...e,
          reason: {
            zh: `工作表“${row.sheet}”：${e.reason.zh}`,
            en: `worksheet "${row.sheet}": ${e.reason.en}`,
          },
        }))
      : errors;
  const rowErrors = (row: LedgerRow): RowError[] => onSheet(row, rowErrorsOf(row));
  const rowErrorsOf = (row: LedgerRow): RowError[] => {
    const errors = [...row.errors];
    const hukou = row.addresses.hukouRegionCode;
    // The column the village came from: 户籍所在地, or 村（居） where the address is in separate columns.
    const hukouColumn = row.raw['户籍所在地'] || !row.raw['村（居）'] ? '户籍所在地' : '村（居）';
    if (!errors.length && !hukou)
      errors.push({
        column: hukouColumn,
        value: row.raw[hukouColumn] ?? '',
        reason: { zh: '户籍所在地为空或无法识别', en: 'the hukou address is empty or not recognised' },
      });
    else if (hukou && !hukou.startsWith(importer.regionCode))
      errors.push({
        column: hukouColumn,
        value: row.raw[hukouColumn] ?? '',
        reason: {
          zh: `户籍地不在您的管辖范围（${importer.regionCode}）内`,
          en: `the hukou village is outside your region (${importer.regionCode})`,
        },
      });
    if (!errors.length && !row.child.idNumber && !row.child.birthDate)
      errors.push({
        column: '公民身份号码',
        value: '',
        reason: {
          zh: '没有公民身份号码时必须填写出生日期',
          en: 'the birth date is required when there is no ID number',
        },
      });
    // A death may be stated without the parent's name (writeRow); any other inability is a living
    // person's, who is to be named.
    const death = row.inability?.kind === 'death' || row.inability?.kind === 'declared_dead';
    if (!errors.length && row.inability && row[row.inability.parent] === null && !death)
      errors.push({
        column: '无监护能力方',
        value: row.raw['无监护能力方'] ?? '',
        reason: {
          zh: `无监护能力方为${PARENT_LABELS[row.inability.parent].zh}，但台账未填写其姓名：请在“${PARENT_LABELS[row.inability.parent].zh}姓名”填写其姓名，无监护能力的情况记在其本人名下`,
          en: `the unable parent is the ${row.inability.parent}, who is not named in the ledger: give the name in ${PARENT_LABELS[row.inability.parent].zh}姓名; the inability is recorded on that person`,
        },
      });
    return errors;
  };
  const reviewRows: LedgerReviewRow[] = [];
  // The ID numbers matched to registered persons, audited once the rows are written or rolled back.
  const matches = new IdMatches();
  // The sheets with rows dated by the import day (no 填报日期 anywhere), for the message.
  const undated = new Set<string | null>();
  // The rows written without the death they state (writeRow's deathNotRecorded), for the message.
  const deathsNotRecorded: { zh: string; en: string }[] = [];
  // By the child's person id: row numbers repeat on a workbook's several sheets.
  const idNumbers = new Map<number, string>();
  const sheetOf = new Map<number, string>();
  let review: LedgerReview | null = null;
  const work = async (inTx: <T>(fn: (trx: Transaction<DB>) => Promise<T>) => Promise<T>) => {
    let done = 0;
    for await (const row of parse()) {
      done += 1;
      if (row.ledgerDate === null) undated.add(row.sheet);
      const errors = rowErrors(row);
      if (errors.length) {
        errorRows.push({ rowNumber: row.rowNumber, raw: row.raw, errors, ledgerDate: row.ledgerDate });
        continue;
      }
      let result: RowResult;
      try {
        result = await inTx(async (trx) => {
          const written = await writeRow(trx, row, county, importer, on, places, {
            matches,
            awayInFile,
            retracted,
          });
          // The groups of everyone whose facts or links changed are re-evaluated in the same transaction.
          for (const [personId, change] of written.changed) await personChanged(trx, personId, change);
          return written;
        });
      } catch (error) {
        if (!(error instanceof RowRefused)) throw error;
        errorRows.push({
          rowNumber: row.rowNumber,
          raw: row.raw,
          errors: onSheet(row, [error.rowError]),
          ledgerDate: row.ledgerDate,
        });
        continue;
      }
      counts[result.status] += 1;
      // A row written without something it states (a link a clerk retracted as wrong) is reported too.
      if (result.notes.length)
        errorRows.push({
          rowNumber: row.rowNumber,
          raw: row.raw,
          errors: onSheet(row, result.notes),
          ledgerDate: row.ledgerDate,
        });
      if (result.deathNotRecorded)
        deathsNotRecorded.push(
          sheets.size > 1 && row.sheet !== null
            ? { zh: `工作表“${row.sheet}”第${row.rowNumber}行`, en: `${row.sheet}!${row.rowNumber}` }
            : { zh: `第${row.rowNumber}行`, en: String(row.rowNumber) },
        );
      if (result.childId !== null) {
        reviewRows.push({
          rowNumber: row.rowNumber,
          personId: result.childId,
          name: row.child.name ?? '',
          declaration: ledgerDeclaration(row),
        });
        if (row.child.idNumber) idNumbers.set(result.childId, row.child.idNumber);
        if (sheets.size > 1 && row.sheet !== null) sheetOf.set(result.childId, row.sheet);
      }
      if (!options.dryRun && done % 200 === 0) await report(done, counts.rows, 'writing');
    }
    counts.errors = errorRows.length;
    // The ledger's answers against the rules, once every row is in (siblings share parents).
    const review_ = reviewer;
    if (review_) {
      const disagreements: LedgerDisagreement[] = [];
      for (let i = 0; i < reviewRows.length; i += REVIEW_BATCH) {
        const batch = reviewRows.slice(i, i + REVIEW_BATCH);
        disagreements.push(...(await inTx((trx) => review_(trx, batch, on))));
      }
      for (const d of disagreements) {
        const sheet = sheetOf.get(d.personId);
        if (sheet !== undefined) d.sheet = sheet;
      }
      review = { asOf: on, rowsChecked: reviewRows.length, disagreements };
    }
  };
  const dryRun = async () => {
    try {
      await db.transaction().execute(async (outer) => {
        // Each row in a savepoint, so that a row refused halfway leaves nothing in the dry run's counts.
        await work(async (fn) => {
          await sql`SAVEPOINT ledger_row`.execute(outer);
          try {
            const result = await fn(outer);
            await sql`RELEASE SAVEPOINT ledger_row`.execute(outer);
            return result;
          } catch (error) {
            await sql`ROLLBACK TO SAVEPOINT ledger_row`.execute(outer);
            throw error;
          }
        });
        throw new DryRunRollback();
      });
    } catch (error) {
      if (!(error instanceof DryRunRollback)) throw error;
    }
  };
  try {
    if (options.dryRun) await dryRun();
    else await work((fn) => db.transaction().execute(fn));
  } finally {
    // The numbers matched are audited, a dry run's after its rollback, and so are those of a run cut
    // short by an error.
    await auditIdMatches(db, importer, matches, options);
  }
  const reviewed = review as LedgerReview | null;
  await audit(db, importer.auditActor, {
    action: options.dryRun ? 'registry.import.dry_run' : 'registry.import',
    entityType: 'import',
    entityId: options.importId ?? null,
    regionCode: importer.regionCode,
    details: { ...counts, kind: 'ledger', disagreements: reviewed?.disagreements.length ?? null },
  });
  let errorReport: LedgerImportOutcome['errorReport'] = null;
  if (options.errorReportBase && errorRows.length) {
    errorReport = { xlsx: `${options.errorReportBase}.xlsx`, csv: `${options.errorReportBase}.csv` };
    await writeErrorReport(errorReport.xlsx, errorRows, { headers });
    await writeErrorReport(errorReport.csv, errorRows, { headers });
  }
  let reviewReport: LedgerImportOutcome['reviewReport'] = null;
  if (options.reviewReportBase && reviewed && reviewed.disagreements.length) {
    reviewReport = { xlsx: `${options.reviewReportBase}.xlsx`, csv: `${options.reviewReportBase}.csv` };
    await writeReviewReport(reviewReport.xlsx, reviewed, idNumbers);
    await writeReviewReport(reviewReport.csv, reviewed, idNumbers);
  }
  await report(counts.rows, counts.rows, 'done');
  return {
    status: 'succeeded',
    counts,
    message: ledgerImportMessage({
      deathRows: deathsNotRecorded,
      dates: [
        ...passedOverNotes(passedOver.values()),
        ...ledgerDatesNotes([...sheetDates.values()], undated, sheets.size > 1, on),
      ],
      unknownHeaders,
    }),
    unknownHeaders,
    errorReport,
    review: reviewed,
    reviewReport,
  };
}
