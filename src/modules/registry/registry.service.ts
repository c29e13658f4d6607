// The registry's use cases over HTTP and the CLI: read, create and change persons and households,
// record and retract facts, search, find and merge duplicates. Every read checks the permission,
// then reads scoped in SQL; a record out of scope is NOT_FOUND so ids cannot be probed.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql, type Expression, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { AppContext } from '../../platform/context.ts';
import type { DB } from '../../platform/db.schema.ts';
import {
  DEFAULT_MESSAGES,
  DomainError,
  conflict,
  forbidden,
  invalid,
  notFound,
  type ErrorDetail,
  type Lang,
  type Message,
} from '../../platform/errors.ts';
import { addDays, isIsoDate, today } from '../../platform/dates.ts';
import {
  maskPhone,
  normalizeCell,
  normalizeName,
  normalizePhone,
  privateUseInName,
} from '../../platform/normalize.ts';
import {
  audit,
  hasPermission,
  inScope,
  recordRead,
  requireAccess,
  scopeRange,
  signInGuard,
  userNames,
  type Actor,
} from '../access/index.ts';
import { checkIdAgainst, maskIdNumber, normalizeIdNumber } from './registry.idnumber.ts';
import {
  checkFactData,
  isFactKind,
  maskedFactFields,
  maskFactData,
  maskNumbersInText,
  maskTextsDeep,
  textsIn,
  unmaskText,
  unmaskTextsDeep,
  asOfAheadProblem,
  beforeBirthProblem,
  birthDateProblem,
  carerAgeProblem,
  datedAheadProblem,
  factEndAheadProblem,
  marriageAgeProblem,
  nameSpellings,
  parentBirthProblem,
  relationRole,
  unsafeNumberPath,
  type BornPerson,
  type RelationRole,
} from './registry.rules.ts';
import { FACT_LABELS, factsAsOf, type FactKind } from './registry.facts.ts';
import * as repo from './registry.repository.ts';
import { searchPersons } from './registry.search.ts';
import { exportGaps, registryRecords, type ExportGaps } from './registry.export.ts';
import { writeRegistryRecords } from './registry.writer.ts';
import { relationToHeadAsStored, type RegistryRecord } from './registry.template.ts';
import { importsDir, jobActorOf, registryImportJob } from './registry.jobs.ts';
import { fileKind } from './registry.reader.ts';
import { ID_TAKEN_LIMIT, ID_TAKEN_WINDOW_MS, countIdTaken, recentIdTaken } from './registry.id-budget.ts';
import type { ImportKind, RelationKind } from './registry.tables.ts';
import type { LedgerReview } from './registry.ledger.ts';
import type {
  FactCreate,
  FactView,
  HouseholdCreate,
  HouseholdDetail,
  HouseholdPatch,
  ImportList,
  ImportListItem,
  ImportListQuery,
  ImportView,
  PersonCreate,
  PersonDetail,
  PersonGroupView,
  GroupTag,
  PersonListItem,
  PersonListQuery,
  PersonPatch,
  PersonSummary,
  Relation,
  RelationCreate,
  RetractedRelation,
} from './registry.schemas.ts';

const PERSON_NOT_FOUND = { zh: '未找到该人员', en: 'Person not found' };
const HOUSEHOLD_NOT_FOUND = { zh: '未找到该户', en: 'Household not found' };

/**
 * Free text as the template import stores it (full-width made half-width, white space collapsed),
 * so that what the API wrote is what an export imports back: a round trip changes nothing.
 */
const asCell = (value: string | null | undefined): string | null => normalizeCell(value ?? null);

/**
 * A required text field as the import writes it; blank (spaces, full-width spaces, invisible
 * characters only) is refused naming the field, as the template refuses an empty 姓名 or 户编号.
 */
function requiredText(field: string, normalized: string | null, label: Message): string {
  if (normalized !== null) return normalized;
  throw invalid(field, { zh: `${label.zh}不能为空`, en: `${label.en} must not be blank` });
}
/**
 * A name given to the API as the import would store it. `given`: the request sends it (a PATCH that
 * leaves the name alone re-reads the stored one, which a Private Use Area character written before
 * session 22 must not lock against every other edit: it is refused once the name is sent).
 */
function personName(value: string, given = true): string {
  const name = requiredText('name', normalizeName(value), { zh: '姓名', en: 'the name' });
  // A Private Use Area character (a GBK/GB18030 file's lost character, an old IME's own glyph) has
  // no standard glyph: refused as the import refuses it (docs/DECISIONS.md "A name holding any
  // Private Use Area character is refused on its row"), in the same words.
  const privateUse = given ? privateUseInName(name) : null;
  if (privateUse) throw invalid('name', privateUse);
  // A ? in a name stands for a character lost on the way (a GBK save, a form that could not show it):
  // refused as the template refuses it (lostCharacterInName), so that a lost character is never stored.
  const lost = /[?？\uFFFD]/.exec(name)?.[0];
  if (lost !== undefined)
    throw invalid('name', {
      zh: `姓名中不能含有“${lost}”：生僻字请输入完整的字（可用输入法的生僻字或手写输入）`,
      en: `the name must not contain "${lost}": enter the rare character itself`,
    });
  return name;
}

/** 与户主关系 as the template requires it: a GB/T 4761 name (户主, 配偶, 子 ...). */
function relationToHeadOf(value: string | null | undefined, field = 'relationToHead'): string | null {
  const given = asCell(value);
  if (given === null) return null;
  const stored = relationToHeadAsStored(given);
  if (stored === null)
    throw invalid(field, {
      zh: `“${given}”不是 GB/T 4761 的家庭关系名称（如 户主、配偶、子、女、孙子、孙女、父亲、母亲、兄弟姐妹、其他）`,
      en: `"${given}" is not a GB/T 4761 family relation (户主, 配偶, 子, 女, 孙子, 孙女, 父亲, 母亲, 兄弟姐妹, 其他 ...)`,
    });
  return stored;
}

// ---------- mapping rows to responses ----------

export function toPersonSummary(row: repo.PersonSummaryRow): PersonSummary {
  return {
    id: row.id,
    name: row.name,
    idNumber: row.id_number === null ? null : maskIdNumber(row.id_number),
    sex: row.sex,
    birthDate: row.birth_date,
    phone: row.phone === null ? null : maskPhone(row.phone),
    hukouRegionCode: row.hukou_region_code,
    householdId: row.household_id,
    householdNo: row.household_no,
    relationToHead: row.relation_to_head,
  };
}

/** A fact as responses show it: numbers in its text (a contact phone, a certificate number) masked. */
function toFactView(row: repo.FactRow): FactView {
  return {
    id: row.id,
    kind: row.kind,
    from: row.valid_from,
    to: row.valid_to,
    data: maskFactData(row.data),
    // Free text a client may send (who says so: "村委 139…"), masked like the data.
    source: maskNumbersInText(row.source),
    recordedBy: row.recorded_by,
    recordedAt: new Date(row.recorded_at).toISOString(),
    retractedAt: row.retracted_at ? new Date(row.retracted_at).toISOString() : null,
    retractedBy: row.retracted_by,
    // Free text a clerk typed ("证号录错，应为 …"): it may hold the number the fact had wrong.
    retractionReason: row.retraction_reason === null ? null : maskNumbersInText(row.retraction_reason),
  };
}

/** A retracted link as the file shows it: the link, who retracted it, when and why (masked). */
function toRetractedRelation(row: repo.RetractedRelationWithName, viewedId: number): RetractedRelation {
  return {
    ...toRelation(row, viewedId),
    retractedAt: new Date(row.retracted_at).toISOString(),
    retractedBy: row.retracted_by,
    // Free text a clerk typed: it may hold an ID number of either person.
    retractionReason: maskNumbersInText(row.retraction_reason),
  };
}

function toRelation(row: repo.RelationWithName | repo.RetractedRelationWithName, viewedId: number): Relation {
  return {
    id: row.id,
    kind: row.kind,
    role: relationRole(row.kind, row.person_id === viewedId),
    personId: row.other_id,
    name: row.other_name,
    subtype: row.subtype,
    validFrom: row.valid_from,
    validTo: row.valid_to,
    entrustmentFormDate: row.entrustment_form_date,
    carerFitnessCheckedOn: row.carer_fitness_checked_on,
    carerFit: row.carer_fit,
    source: row.source,
    recordedBy: row.recorded_by,
    recordedAt: new Date(row.recorded_at).toISOString(),
  };
}

/**
 * A person's file. With `asOf`, the file as of that date: the facts in force on it (retracted ones
 * left out), the relations in force on it and the care group periods in force on it.
 */
async function personDetail(
  db: repo.Db,
  row: repo.PersonRow,
  lang: Lang,
  asOf?: string,
): Promise<PersonDetail> {
  const household =
    row.household_id === null
      ? undefined
      : await db
          .selectFrom('households')
          .select('household_no')
          .where('id', '=', row.household_id)
          .executeTakeFirst();
  const [relations, retractedRelations, facts, groups] = await Promise.all([
    repo.listRelations(db, row.id),
    asOf === undefined ? repo.listRetractedRelations(db, row.id) : [],
    repo.listFacts(db, row.id),
    personGroups(db, row.id, lang, asOf),
  ]);
  const factsShown =
    asOf === undefined
      ? facts
      : factsAsOf(
          facts
            .filter((f) => f.retracted_at === null)
            .map((f) => ({ ...f, from: f.valid_from, to: f.valid_to })),
          asOf,
        );
  const relationsShown =
    asOf === undefined
      ? relations
      : relations.filter(
          (r) =>
            (r.valid_from === null || r.valid_from <= asOf) && (r.valid_to === null || r.valid_to > asOf),
        );
  return {
    ...toPersonSummary({ ...row, household_no: household?.household_no ?? null }),
    idNumberMasked: row.id_number !== null,
    // A child without an ID number is known by the birth certificate number: masked like the ID
    // number, and the reason typed for the missing number like any free text.
    noIdReason: row.no_id_reason === null ? null : maskNumbersInText(row.no_id_reason),
    birthCertNo: row.birth_cert_no === null ? null : maskNumbersInText(row.birth_cert_no),
    namePinyin: row.name_pinyin,
    ethnicity: row.ethnicity,
    hukouType: row.hukou_type,
    residenceRegionCode: row.residence_region_code,
    mergedInto: row.merged_into,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    relations: relationsShown.map((r) => toRelation(r, row.id)),
    retractedRelations: retractedRelations.map((r) => toRetractedRelation(r, row.id)),
    facts: factsShown.map(toFactView),
    groups,
  };
}

// ---------- access ----------

function requireRead(actor: Actor): readonly [string, string] {
  requireAccess(actor, 'persons.read', { individual: true });
  return scopeRange(actor);
}

function requireWrite(actor: Actor, regionCode?: string): readonly [string, string] {
  requireAccess(actor, 'persons.write', { individual: true });
  if (regionCode !== undefined && !inScope(actor, regionCode)) {
    // A scope refusal, not a malformed request: 403, with the field named (the scope walk in
    // test/access.scope-walk.test.ts accepts only 403/404 for records outside the caller's region).
    const message = { zh: `${regionCode} 不在您的管辖范围内`, en: `${regionCode} is outside your region` };
    throw new DomainError('FORBIDDEN', message, [{ path: 'hukouRegionCode', message }]);
  }
  return scopeRange(actor);
}

async function loadPerson(db: repo.Db, actor: Actor, id: number): Promise<repo.PersonRow> {
  const row = await repo.findPerson(db, id, requireRead(actor));
  if (!row) throw notFound(PERSON_NOT_FOUND);
  return row;
}

/**
 * A merged record is history: its facts and links moved to the person kept, whom alone the care
 * groups, search, the household's members and the export see. A write on it would be lost to all of
 * them, so it is refused (409) naming the person kept; the merged record's file still opens and shows
 * the same id (mergedInto), so naming it discloses nothing more. `field`: the body field that named
 * the merged record (relatedPersonId, headPersonId).
 */
function requireNotMerged(row: repo.PersonRow, field?: string): void {
  const kept = row.merged_into;
  if (kept === null) return;
  if (field === undefined)
    throw conflict({
      zh: `该人员已合并至 #${kept}，合并后的记录只保留历史：请在保留的人员记录 #${kept} 上办理`,
      en: `this person was merged into #${kept}, and a merged record is kept as history only: make the change on the person kept, #${kept}`,
    });
  const message = {
    zh: `人员 #${row.id} 已合并至 #${kept}：请改为保留的人员 #${kept}`,
    en: `person #${row.id} was merged into #${kept}: name the person kept, #${kept}, instead`,
  };
  throw new DomainError('CONFLICT', message, [{ path: field, message }]);
}

/** A write refused because it would change a record of a region outside the caller's (403, the field named). */
function outsideRegion(field: string, message: Message): DomainError {
  return new DomainError('FORBIDDEN', message, [{ path: field, message }]);
}

/**
 * A person or household named in the request body (relatedPersonId, headPersonId, householdId,
 * intoId) that the caller cannot see: one outside their region answers like one that does not
 * exist, 400 naming the field. auditNamedNotFound audits it as a 404 on a route is audited.
 */
class NamedRecordNotFound extends DomainError {
  readonly field: string;
  readonly entityType: 'person' | 'household';
  readonly entityId: number;
  constructor(field: string, entityType: 'person' | 'household', entityId: number) {
    const message = entityType === 'person' ? PERSON_NOT_FOUND : HOUSEHOLD_NOT_FOUND;
    super('VALIDATION_FAILED', undefined, [{ path: field, message }]);
    this.field = field;
    this.entityType = entityType;
    this.entityId = entityId;
  }
}

/**
 * Audits a refusal for an id in the body the caller cannot see (`access.not_found`, result denied,
 * the field and the id), out of scope or non-existent alike, so an insider walking ids through
 * request bodies leaves a trace as one walking them through paths does (DECISIONS.md "A 404 on a
 * route is audited"). Called once the refused write's transaction has rolled back, on the database
 * handle: an entry written inside it would roll back with it. Nothing for any other error.
 */
async function auditNamedNotFound(
  db: Kysely<DB>,
  actor: Actor,
  error: unknown,
  refused: { action: string; personId?: number; householdId?: number },
): Promise<void> {
  if (!(error instanceof NamedRecordNotFound)) return;
  await recordRead(db, actor, {
    action: 'access.not_found',
    entityType: error.entityType,
    entityId: error.entityId,
    result: 'denied',
    details: { field: error.field, id: error.entityId, ...refused },
  });
}

// ---------- identity validation ----------

export interface IdentityFields {
  id_number: string | null;
  no_id_reason: string | null;
  sex: 1 | 2 | null;
  birth_date: string | null;
  phone: string | null;
}

/** Normalises the ID number and phone and makes sex and birth date agree with the number. */
export function checkIdentity(input: {
  idNumber: string | null;
  noIdReason: string | null;
  sex: 1 | 2 | null;
  birthDate: string | null;
  phone: string | null;
}): IdentityFields {
  // Every field is checked: one 400 names all that are wrong (in this order), each as it did alone.
  const problems: ErrorDetail[] = [];
  const problem = (path: string, message: Message) => problems.push({ path, message });
  let idNumber: string | null = null;
  let sex = input.sex;
  let birthDate = input.birthDate;
  const idGiven = input.idNumber !== null && input.idNumber.trim() !== '';
  if (input.idNumber !== null && idGiven) {
    const id = normalizeIdNumber(input.idNumber, today());
    if (!id.ok) problem('idNumber', id.message);
    else {
      const mismatch = checkIdAgainst(id, { sex, birthDate })[0];
      if (mismatch) problem(mismatch.field, mismatch.message);
      else {
        idNumber = id.value;
        sex ??= id.sex;
        birthDate ??= id.birthDate;
      }
    }
  } else if (input.noIdReason === null || input.noIdReason.trim() === '') {
    problem('idNumber', {
      zh: '请填写公民身份号码；没有号码的请填写无身份号码原因（如 未落户）',
      en: 'give the ID number, or the reason there is none (e.g. 未落户, not yet registered)',
    });
  }
  // Without a number (none given, not a wrong one) sex and birth date are required.
  if (!idGiven && sex === null)
    problem('sex', {
      zh: '没有公民身份号码时必须填写性别',
      en: 'sex is required when there is no ID number',
    });
  if (!idGiven && birthDate === null)
    problem('birthDate', {
      zh: '没有公民身份号码时必须填写出生日期',
      en: 'the birth date is required when there is no ID number',
    });
  // Not in the future, not before 1900: the template and the child ledger refuse the same dates, so
  // what the API writes is exported and imported back. (A date the ID number disagrees with is
  // already named.)
  const impossibleBirth = birthDate === null ? null : birthDateProblem(birthDate, today());
  if (impossibleBirth && !problems.some((p) => p.path === 'birthDate')) problem('birthDate', impossibleBirth);
  let phone: string | null = null;
  if (input.phone !== null && input.phone.trim() !== '') {
    const p = normalizePhone(input.phone);
    if (!p.ok) problem('phone', p.message);
    else phone = p.value;
  }
  if (problems.length)
    throw new DomainError('VALIDATION_FAILED', DEFAULT_MESSAGES.VALIDATION_FAILED, problems);
  return {
    id_number: idNumber,
    no_id_reason: idNumber ? null : normalizeCell(input.noIdReason),
    sex,
    birth_date: birthDate,
    phone,
  };
}

/** A household's head changed by a person's edit or merge: audited as `household.update` (auditHeadChanges). */
interface HeadChange {
  householdId: number;
  regionCode: string;
  from: number | null;
  to: number | null;
}

/**
 * A person registered as 户主 of a household is its head: the household takes them as its head when
 * it has none, and a second head is refused (change the head on the household first). So the
 * household's head and its members' relation to the head agree, as the template import makes them.
 * Resolves with the household's change of head, if any.
 */
async function recordHead(
  trx: Transaction<DB>,
  actor: Actor,
  personId: number,
  householdId: number | null,
  relationToHead: string | null,
): Promise<HeadChange[]> {
  if (householdId === null || relationToHead !== '户主') return [];
  const household = await trx
    .selectFrom('households')
    .select(['id', 'head_person_id', 'hukou_region_code'])
    .where('id', '=', householdId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (household.head_person_id === personId) return [];
  const head =
    household.head_person_id === null
      ? undefined
      : await trx
          .selectFrom('persons')
          .select(['name', 'hukou_region_code', 'merged_into'])
          .where('id', '=', household.head_person_id)
          .executeTakeFirst();
  // A merged record heads nothing (the merge hands its households on): one left as head counts as none.
  if (household.head_person_id === null || (head && head.merged_into !== null)) {
    // Naming the head is a change to the household: a household registered outside the caller's region
    // is changed only by staff whose region holds it (PATCH /households answers 404 to this caller), even
    // when the person is the caller's (a household's members need not share its village).
    if (!inScope(actor, household.hukou_region_code))
      throw outsideRegion('relationToHead', {
        zh: '该人员所在的户，户籍地在您的管辖范围以外：设定户主须由管辖该户户籍地的工作人员在户信息中办理',
        en: "the person's household is registered outside your region: its head is set on the household by staff whose region holds it",
      });
    await trx
      .updateTable('households')
      .set({ head_person_id: personId, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
      .where('id', '=', householdId)
      .execute();
    return [
      {
        householdId,
        regionCode: household.hukou_region_code,
        from: household.head_person_id,
        to: personId,
      },
    ];
  }
  // A head registered outside the caller's region is not named (their file answers 404 to this caller).
  if (!head || !inScope(actor, head.hukou_region_code))
    throw conflict({
      zh: '本户已有户主（户籍在您的管辖范围以外）；一户只有一位户主，如需更换请先在户信息中更换户主',
      en: 'the household has a head already (registered outside your region); a household has one head: change the head on the household first',
    });
  throw conflict({
    zh: `本户已有户主“${head.name}”(#${household.head_person_id})；一户只有一位户主，如需更换请先在户信息中更换户主`,
    en: `the household has a head already (${head.name}, #${household.head_person_id}); a household has one head: change the head on the household first`,
  });
}

/**
 * A head who moves to another household no longer heads the one they left (the head is one of its
 * members, as the import keeps it): that household has no head until a clerk names one. Taking its
 * head away changes that household: refused (403) when it is registered outside the caller's region.
 * Resolves with the households left without their head.
 */
async function leaveHead(
  trx: Transaction<DB>,
  actor: Actor,
  personId: number,
  householdId: number | null,
): Promise<HeadChange[]> {
  let headed = trx
    .selectFrom('households')
    .select(['id', 'hukou_region_code'])
    .where('head_person_id', '=', personId);
  if (householdId !== null) headed = headed.where('id', '<>', householdId);
  const left = await headed.orderBy('id').forUpdate().execute();
  if (!left.length) return [];
  if (left.some((h) => !inScope(actor, h.hukou_region_code)))
    throw outsideRegion('householdId', {
      zh: '该人员是所在户的户主，而该户的户籍地在您的管辖范围以外：须先由管辖该户户籍地的工作人员在户信息中更换户主',
      en: 'the person heads a household registered outside your region: staff whose region holds the household change its head first',
    });
  await trx
    .updateTable('households')
    .set({ head_person_id: null, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
    .where(
      'id',
      'in',
      left.map((h) => h.id),
    )
    .execute();
  return left.map((h) => ({ householdId: h.id, regionCode: h.hukou_region_code, from: personId, to: null }));
}

/**
 * A household whose head a person's edit or merge changed: its own `household.update` entry (the
 * head from and to, and the change that made it), as a head changed on the household is audited, so
 * the household's trail tells every change of its head.
 */
async function auditHeadChanges(
  trx: Transaction<DB>,
  actor: Actor,
  changes: HeadChange[],
  by: { action: 'person.update' | 'person.merge'; personId: number },
): Promise<void> {
  for (const change of changes)
    await audit(trx, actor, {
      action: 'household.update',
      entityType: 'household',
      entityId: change.householdId,
      regionCode: change.regionCode,
      details: {
        fields: ['headPersonId'],
        headPersonId: { from: change.from, to: change.to },
        by: by.action,
        personId: by.personId,
      },
    });
}

async function requireVillage(db: repo.Db, field: string, code: string): Promise<void> {
  const row = await db
    .selectFrom('regions')
    .select('level')
    .where('code', '=', code)
    .where('valid_to', 'is', null)
    .executeTakeFirst();
  if (!row || row.level !== 5)
    throw invalid(field, {
      zh: `${code} 不是现行的村(居)代码`,
      en: `${code} is not a village code in force`,
    });
}

async function requireRegion(db: repo.Db, field: string, code: string): Promise<void> {
  const row = await db.selectFrom('regions').select('code').where('code', '=', code).executeTakeFirst();
  if (!row) throw invalid(field, { zh: `行政区划 ${code} 不存在`, en: `region ${code} does not exist` });
}

/**
 * The field checks of one request: each failure (a 400 naming its field) is kept and the next check
 * still runs, so that one answer names every wrong field; `done` throws them as one VALIDATION_FAILED,
 * in the order checked. Anything else (403, 404, 409) stops at once as before. A body id the caller
 * cannot see (NamedRecordNotFound) is audited on its own path and is not collected.
 */
class FieldChecks {
  private readonly details: ErrorDetail[] = [];

  private keep(error: unknown): void {
    if (
      error instanceof DomainError &&
      error.code === 'VALIDATION_FAILED' &&
      !(error instanceof NamedRecordNotFound) &&
      error.details.length
    )
      this.details.push(...error.details);
    else throw error;
  }

  /** The check's value, or undefined when it failed (the failure kept). */
  run<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      this.keep(error);
      return undefined;
    }
  }

  async runAsync<T>(check: () => Promise<T>): Promise<T | undefined> {
    try {
      return await check();
    } catch (error) {
      this.keep(error);
      return undefined;
    }
  }

  get failed(): boolean {
    return this.details.length > 0;
  }

  /**
   * Throws every failure kept as one 400. When all passed: the values the checks returned (none of
   * them undefined then, as only a failed check gives undefined).
   */
  done<T extends unknown[]>(...values: { [K in keyof T]: T[K] | undefined }): T {
    if (this.details.length)
      throw new DomainError('VALIDATION_FAILED', DEFAULT_MESSAGES.VALIDATION_FAILED, this.details);
    return values as T;
  }
}

function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string; message?: string };
  if (e?.code !== '23505') return false;
  return constraint === undefined || e.constraint === constraint || (e.message ?? '').includes(constraint);
}

const ID_TAKEN = {
  zh: '该公民身份号码已登记为另一人员',
  en: 'This ID number is already registered to another person',
};

// The budget of such refusals per caller and hour is shared with the import (registry.id-budget.ts).
export { ID_TAKEN_LIMIT } from './registry.id-budget.ts';

/**
 * Before an ID number is written: a caller refused ID_TAKEN_LIMIT times within the hour for numbers
 * registered to others writes no ID number until the oldest of them is an hour old (429, audited).
 * Checked before the write, whatever the number, so the 429 itself says nothing about the number.
 */
async function requireIdNumberChecksLeft(
  db: Kysely<DB>,
  actor: Actor,
  refused: { action: string; personId?: number },
): Promise<void> {
  const recent = recentIdTaken(db, actor);
  if (recent.length < ID_TAKEN_LIMIT) return;
  const minutes = Math.max(1, Math.ceil((Math.min(...recent) + ID_TAKEN_WINDOW_MS - Date.now()) / 60_000));
  await recordRead(db, actor, {
    action: 'person.id_number_taken.limited',
    entityType: 'person',
    entityId: refused.personId ?? null,
    regionCode: actor.regionCode || null,
    result: 'denied',
    details: {
      ...refused,
      field: 'idNumber',
      limit: ID_TAKEN_LIMIT,
      windowMinutes: ID_TAKEN_WINDOW_MS / 60_000,
    },
  });
  const message: Message = {
    zh: `一小时内已有 ${ID_TAKEN_LIMIT} 次因公民身份号码已登记为他人而被拒绝：约 ${minutes} 分钟内不能再录入公民身份号码。请核对号码，或请县级民政部门按完整号码查找`,
    en: `${ID_TAKEN_LIMIT} refusals within an hour for ID numbers registered to others: no ID number can be entered for about ${minutes} minutes. Check the numbers, or ask the county civil affairs office to look them up by the full number`,
  };
  throw new DomainError('RATE_LIMITED', message, [{ path: 'idNumber', message }]);
}

/**
 * The 409 for an ID number that another person holds, audited (`person.id_number_taken`, denied;
 * never the number): the entry names the holder when the caller's region covers them, otherwise says
 * that the holder is outside it, so an insider trying numbers leaves a trace per try. Written once the
 * refused write's transaction has rolled back, as auditNamedNotFound does, and counted towards
 * ID_TAKEN_LIMIT.
 * The message: the caller's search is bound to their region, so of a holder outside it only that is
 * said, in the template import's words (registry.import.ts), with where the matter goes instead of a
 * search that finds nobody. A holder within it is named by id only to a caller who may reveal ID
 * numbers: to anyone else the id would confirm the full number of a masked person (about 500
 * candidates are left by the mask), so they are sent to the audited search by the full number. A
 * merged record holds no number (releaseMergedIdNumber): the person kept stands for it.
 */
async function idTaken(
  db: Kysely<DB>,
  actor: Actor,
  idNumber: string | null,
  refused: { action: string; personId?: number },
): Promise<DomainError> {
  const found = idNumber === null ? undefined : await repo.findPersonByIdNumber(db, idNumber);
  const holder =
    found?.merged_into != null
      ? await db
          .selectFrom('persons')
          .select(['id', 'hukou_region_code'])
          .where('id', '=', found.merged_into)
          .executeTakeFirst()
      : found;
  const within = holder !== undefined && inScope(actor, holder.hukou_region_code);
  countIdTaken(db, actor);
  await recordRead(db, actor, {
    action: 'person.id_number_taken',
    entityType: 'person',
    entityId: within ? holder.id : null,
    regionCode: within ? holder.hukou_region_code : actor.regionCode || null,
    result: 'denied',
    details: {
      ...refused,
      field: 'idNumber',
      holder: within ? 'inScope' : holder ? 'outOfScope' : 'unknown',
    },
  });
  const message: Message = !holder
    ? ID_TAKEN
    : !within
      ? {
          zh: '该公民身份号码已在您管辖范围以外的地区登记：户籍迁入须先办理迁移，或请上级民政部门协调',
          en: 'This ID number is registered in a region outside yours: a hukou transfer must come first, or ask the civil affairs office above you to coordinate',
        }
      : hasPermission(actor, 'persons.reveal')
        ? {
            zh: `该公民身份号码已登记为另一人员(#${holder.id})，请先查找该人员`,
            en: `This ID number is already registered to another person (#${holder.id}); search for that person first`,
          }
        : {
            zh: '该公民身份号码已登记为另一人员：请按完整公民身份号码查找该人员（查找记入审计），或请县级民政部门核实',
            en: 'This ID number is already registered to another person: search for them by the full ID number (the search is audited), or ask the county civil affairs office to check it',
          };
  return new DomainError('CONFLICT', message, [{ path: 'idNumber', message }]);
}

/**
 * Before a number is written: a merged record that still holds it (written there before such writes
 * were refused) lets it go, as the merge does, audited in that record's region.
 */
async function releaseMergedNumber(
  trx: Transaction<DB>,
  actor: Actor,
  idNumber: string | null,
): Promise<void> {
  if (idNumber === null) return;
  for (const released of await repo.releaseMergedIdNumber(trx, idNumber))
    await audit(trx, actor, {
      action: 'person.update',
      entityType: 'person',
      entityId: released.id,
      regionCode: released.hukou_region_code,
      details: { fields: ['idNumber'], releasedFromMergedRecord: true },
    });
}

// ---------- persons ----------

export async function listPersons(
  db: Kysely<DB>,
  actor: Actor,
  query: PersonListQuery,
  lang: Lang = 'zh',
): Promise<{ items: PersonListItem[]; nextCursor: string | null }> {
  const scope = requireRead(actor);
  const limit = query.limit ?? 50;
  const afterId = query.cursor !== undefined ? Number(query.cursor) : undefined;
  const inGroups = groupFilter(query.group, today(), afterId);
  // Who searched, in which region and by which criteria (their names, never their values) is
  // audited alongside the search: the answer waits for both, so no list leaves without its audit
  // entry, and a failed entry fails the request. The entry records the request (criteria, page
  // size), not the number of results, so that its write need not wait for the search (DECISIONS.md
  // "Reads are audited without waiting for the disk").
  const [rows] = await Promise.all([
    searchPersons(db, scope, {
      ...(query.idNumber !== undefined ? { idNumber: query.idNumber } : {}),
      ...(query.q !== undefined ? { q: query.q } : {}),
      ...(query.region !== undefined ? { region: query.region } : {}),
      ...(query.householdNo !== undefined ? { householdNo: query.householdNo } : {}),
      ...(query.fact !== undefined ? { fact: query.fact } : {}),
      ...(inGroups !== undefined ? { inGroups } : {}),
      ...(afterId !== undefined ? { afterId } : {}),
      phonePrefix: hasPermission(actor, 'persons.reveal'),
      limit: limit + 1,
    }),
    recordRead(db, actor, {
      action: 'person.search',
      entityType: 'person',
      entityId: null,
      regionCode: query.region ?? (actor.regionCode || null),
      details: {
        by: (['idNumber', 'q', 'region', 'householdNo', 'fact', 'group'] as const).filter(
          (k) => query[k] !== undefined,
        ),
        limit,
      },
    }),
  ]);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const tags = await currentGroupsOf(
    db,
    page.map((r) => r.id),
    lang,
  );
  return {
    items: page.map((r) => ({ ...toPersonSummary(r), groups: tags.get(r.id) ?? [] })),
    nextCursor: rows.length > limit && last ? String(last.id) : null,
  };
}

/** A person's file: identity (masked), relations and the timeline of facts. The read is audited. */
export async function getPerson(
  db: Kysely<DB>,
  actor: Actor,
  id: number,
  lang: Lang = 'zh',
  asOf?: string,
): Promise<PersonDetail> {
  if (asOf !== undefined && !isIsoDate(asOf))
    throw invalid('asOf', { zh: '不是有效日期 YYYY-MM-DD', en: 'is not a valid date YYYY-MM-DD' });
  // The care group periods are evaluated up to today: a file as of a later day would show them as if
  // the future were known (latestAsOfDay, as the statistics have it).
  const ahead = asOfAheadProblem(asOf ?? today(), today());
  if (ahead) throw invalid('asOf', ahead);
  return db.transaction().execute(async (trx) => {
    const row = await loadPerson(trx, actor, id);
    await audit(trx, actor, {
      action: 'person.read',
      entityType: 'person',
      entityId: id,
      regionCode: row.hukou_region_code,
      ...(asOf !== undefined ? { details: { asOf } } : {}),
    });
    return personDetail(trx, row, lang, asOf);
  });
}

/**
 * The unmasked ID number and phone, and the fact fields the file shows masked (a migrant's contact,
 * a certificate number), for roles that may reveal them; always audited.
 */
export async function revealPerson(
  db: Kysely<DB>,
  actor: Actor,
  id: number,
): Promise<{
  id: number;
  idNumber: string | null;
  phone: string | null;
  birthCertNo: string | null;
  noIdReason: string | null;
  facts: { id: number; field: string; value: string }[];
}> {
  return db.transaction().execute(async (trx) => {
    const row = await loadPerson(trx, actor, id);
    requireAccess(actor, 'persons.reveal', { individual: true, regionCode: row.hukou_region_code });
    const facts = (await repo.listFacts(trx, id)).flatMap((f) => [
      ...maskedFactFields(f.data).map((m) => ({ id: f.id, ...m })),
      ...(maskNumbersInText(f.source) !== f.source ? [{ id: f.id, field: 'source', value: f.source }] : []),
      ...(f.retraction_reason !== null && maskNumbersInText(f.retraction_reason) !== f.retraction_reason
        ? [{ id: f.id, field: 'retractionReason', value: f.retraction_reason }]
        : []),
    ]);
    await audit(trx, actor, {
      action: 'person.reveal',
      entityType: 'person',
      entityId: id,
      regionCode: row.hukou_region_code,
      details: {
        fields: [
          'idNumber',
          'phone',
          ...(row.birth_cert_no !== null ? ['birthCertNo'] : []),
          ...(row.no_id_reason !== null ? ['noIdReason'] : []),
          ...(facts.length ? ['facts'] : []),
        ],
        ...(facts.length ? { factIds: [...new Set(facts.map((f) => f.id))] } : {}),
      },
    });
    return {
      id: row.id,
      idNumber: row.id_number,
      phone: row.phone,
      birthCertNo: row.birth_cert_no,
      noIdReason: row.no_id_reason,
      facts,
    };
  });
}

export async function createPerson(
  db: Kysely<DB>,
  actor: Actor,
  input: PersonCreate,
  lang: Lang = 'zh',
): Promise<PersonDetail> {
  requireWrite(actor, input.hukouRegionCode);
  // One 400 names every wrong field of the request (FieldChecks), each as it would alone.
  const checks = new FieldChecks();
  const identityChecked = checks.run(() =>
    checkIdentity({
      idNumber: input.idNumber ?? null,
      noIdReason: input.noIdReason ?? null,
      sex: input.sex ?? null,
      birthDate: input.birthDate ?? null,
      phone: input.phone ?? null,
    }),
  );
  await checks.runAsync(() => requireVillage(db, 'hukouRegionCode', input.hukouRegionCode));
  const residenceCode = input.residenceRegionCode;
  if (residenceCode) await checks.runAsync(() => requireRegion(db, 'residenceRegionCode', residenceCode));
  // Written as the import writes it (a padded 张\u3000伟 is 张伟), so both find the same person.
  const nameChecked = checks.run(() => personName(input.name));
  const relationChecked = checks.run(() => relationToHeadOf(input.relationToHead));
  const [identity, name, relationToHead] = checks.done(identityChecked, nameChecked, relationChecked);
  const spelled = nameSpellings(name);
  if (identity.id_number !== null) await requireIdNumberChecksLeft(db, actor, { action: 'person.create' });
  try {
    return await db.transaction().execute(async (trx) => {
      if (input.householdId != null) {
        const household = await repo.findHousehold(trx, input.householdId, scopeRange(actor));
        if (!household) throw new NamedRecordNotFound('householdId', 'household', input.householdId);
      }
      await releaseMergedNumber(trx, actor, identity.id_number);
      const row = await repo.insertPerson(trx, {
        ...identity,
        birth_cert_no: asCell(input.birthCertNo),
        name,
        name_pinyin: spelled.pinyin,
        name_initials: spelled.initials,
        ethnicity: asCell(input.ethnicity),
        hukou_region_code: input.hukouRegionCode,
        hukou_type: asCell(input.hukouType),
        // Equal to the hukou village is stored as NULL (the template's "empty = hukou").
        residence_region_code:
          input.residenceRegionCode === input.hukouRegionCode ? null : (input.residenceRegionCode ?? null),
        household_id: input.householdId ?? null,
        relation_to_head: relationToHead,
      });
      // A new member who is 户主 of a household without a head heads it: said in person.create's
      // entry (the household, the head before), not as a household.update entry of its own.
      const [head] = await recordHead(trx, actor, row.id, row.household_id, row.relation_to_head);
      await audit(trx, actor, {
        action: 'person.create',
        entityType: 'person',
        entityId: row.id,
        regionCode: row.hukou_region_code,
        ...(head
          ? {
              details: {
                headOf: { householdId: head.householdId, headPersonId: { from: head.from, to: head.to } },
              },
            }
          : {}),
      });
      // A new person may belong at once (an elder of 80, a child whose parents are on record).
      await personChanged(trx, row.id, { kind: 'created' });
      return personDetail(trx, row, lang);
    });
  } catch (error) {
    if (isUniqueViolation(error, 'persons_id_number_key'))
      throw await idTaken(db, actor, identity.id_number, { action: 'person.create' });
    await auditNamedNotFound(db, actor, error, { action: 'person.create' });
    throw error;
  }
}

export async function updatePerson(
  db: Kysely<DB>,
  actor: Actor,
  id: number,
  patch: PersonPatch,
  lang: Lang = 'zh',
): Promise<PersonDetail> {
  requireWrite(actor);
  if (patch.idNumber != null)
    await requireIdNumberChecksLeft(db, actor, { action: 'person.update', personId: id });
  // The number written, for the message when another person holds it.
  let idNumber: string | null = null;
  try {
    return await db.transaction().execute(async (trx) => {
      const current = await repo.findPersonForUpdate(trx, id, scopeRange(actor));
      if (!current) throw notFound(PERSON_NOT_FOUND);
      requireNotMerged(current);
      if (current.version !== patch.version) throw conflict();
      const pick = <T>(key: keyof PersonPatch, stored: T): T => (key in patch ? (patch[key] as T) : stored);
      // One 400 names every wrong field of the request (FieldChecks), each as it would alone.
      const checks = new FieldChecks();
      // The file shows these masked: a masked number sent back is the stored one, never the stars.
      const noIdReasonChecked = checks.run(() =>
        unmaskedField('noIdReason', pick('noIdReason', current.no_id_reason), [current.no_id_reason]),
      );
      const birthCertNoChecked = checks.run(() =>
        unmaskedField(
          'birthCertNo',
          'birthCertNo' in patch ? asCell(patch.birthCertNo) : current.birth_cert_no,
          [current.birth_cert_no],
        ),
      );
      const hukou = pick('hukouRegionCode', current.hukou_region_code);
      if (hukou !== current.hukou_region_code) {
        requireWrite(actor, hukou);
        await checks.runAsync(() => requireVillage(trx, 'hukouRegionCode', hukou));
      }
      const residence = pick('residenceRegionCode', current.residence_region_code) ?? null;
      if (residence && residence !== current.residence_region_code)
        await checks.runAsync(() => requireRegion(trx, 'residenceRegionCode', residence));
      const identityChecked = checks.run(() =>
        checkIdentity({
          idNumber: pick('idNumber', current.id_number) ?? null,
          // A masked reason that cannot be put back is named above; the identity is checked as if sent.
          noIdReason: noIdReasonChecked ?? pick('noIdReason', current.no_id_reason) ?? null,
          // A new ID number brings its own sex and birth date unless they are given too.
          sex: 'idNumber' in patch && !('sex' in patch) ? null : (pick('sex', current.sex) ?? null),
          birthDate:
            'idNumber' in patch && !('birthDate' in patch)
              ? null
              : (pick('birthDate', current.birth_date) ?? null),
          phone: pick('phone', current.phone) ?? null,
        }),
      );
      const relationChecked = checks.run(() =>
        'relationToHead' in patch ? relationToHeadOf(patch.relationToHead) : current.relation_to_head,
      );
      const nameChecked = checks.run(() =>
        personName(pick('name', current.name) ?? current.name, 'name' in patch),
      );
      const [birthCertNo, identity, relationToHead, name] = checks.done(
        birthCertNoChecked,
        identityChecked,
        relationChecked,
        nameChecked,
      );
      const householdId = pick('householdId', current.household_id) ?? null;
      if (householdId !== null && householdId !== current.household_id) {
        const household = await repo.findHousehold(trx, householdId, scopeRange(actor));
        if (!household) throw new NamedRecordNotFound('householdId', 'household', householdId);
        await requireAlive(trx, current, 'householdId');
      }
      if ('relationToHead' in patch && relationToHead === '户主' && current.relation_to_head !== '户主')
        await requireAlive(trx, current, 'relationToHead');
      const spelled = nameSpellings(name);
      // A corrected birth date or sex (or an ID number bringing new ones) must still fit the person's
      // facts and links, as the routes that record them require.
      if (identity.birth_date !== current.birth_date || identity.sex !== current.sex)
        await checkIdentityChange(
          trx,
          current,
          { name, sex: identity.sex, birthDate: identity.birth_date },
          patch,
        );
      idNumber = identity.id_number;
      if (identity.id_number !== current.id_number) await releaseMergedNumber(trx, actor, identity.id_number);
      const updated = await repo.updatePerson(trx, id, patch.version, {
        ...identity,
        birth_cert_no: birthCertNo,
        name,
        name_pinyin: spelled.pinyin,
        name_initials: spelled.initials,
        ethnicity: 'ethnicity' in patch ? asCell(patch.ethnicity) : current.ethnicity,
        hukou_region_code: hukou,
        hukou_type: 'hukouType' in patch ? asCell(patch.hukouType) : current.hukou_type,
        residence_region_code: residence === hukou ? null : residence,
        household_id: householdId,
        relation_to_head: relationToHead,
      });
      if (!updated) throw conflict();
      const heads: HeadChange[] = [];
      if (updated.household_id !== current.household_id)
        heads.push(...(await leaveHead(trx, actor, id, updated.household_id)));
      if ('relationToHead' in patch || 'householdId' in patch)
        heads.push(...(await recordHead(trx, actor, id, updated.household_id, updated.relation_to_head)));
      await audit(trx, actor, {
        action: 'person.update',
        entityType: 'person',
        entityId: id,
        regionCode: updated.hukou_region_code,
        details: {
          fields: Object.keys(patch).filter((k) => k !== 'version'),
          // What a move replaced (hukou, residence, household, relation to the head), from and to: the
          // person's row holds the present values only, so the audit entry keeps the previous ones with
          // who and when. Names, numbers and dates stay out: the audit trail is read without any
          // business permission.
          ...Object.fromEntries(
            (
              [
                ['hukouRegionCode', current.hukou_region_code, updated.hukou_region_code],
                ['residenceRegionCode', current.residence_region_code, updated.residence_region_code],
                ['householdId', current.household_id, updated.household_id],
                ['relationToHead', current.relation_to_head, updated.relation_to_head],
                ['hukouType', current.hukou_type, updated.hukou_type],
              ] as const
            )
              .filter(([, from, to]) => from !== to)
              .map(([field, from, to]) => [field, { from, to }]),
          ),
        },
      });
      await auditHeadChanges(trx, actor, heads, { action: 'person.update', personId: id });
      // A corrected birth date, a move of hukou or residence, a new household or name: the person's
      // groups and their relatives' (whose reasons name them) follow in this transaction.
      await personChanged(trx, id, { kind: 'updated' });
      return personDetail(trx, updated, lang);
    });
  } catch (error) {
    if (isUniqueViolation(error, 'persons_id_number_key'))
      throw await idTaken(db, actor, idNumber, { action: 'person.update', personId: id });
    await auditNamedNotFound(db, actor, error, { action: 'person.update', personId: id });
    throw error;
  }
}

// ---------- a changed birth date or sex against the person's facts and links ----------

/** What the history of a person is held against: their name, sex and birth date, stored or edited. */
interface IdentityAsOf {
  id: number;
  name: string;
  sex: 1 | 2 | null;
  birthDate: string | null;
}

/**
 * A fact or link of the person that their identity makes wrong. `key` says which fact or link and
 * which rule, so that the stored identity's problems can be told from the edited one's; `cause`: the
 * birth date, the sex, or either (the marriage age depends on both).
 */
interface IdentityProblem {
  key: string;
  cause: 'birth' | 'sex' | 'either';
  message: Message;
}

const LINK_WORDS: Readonly<Record<RelationKind, Message>> = {
  parent: { zh: '亲子关系', en: 'parent link' },
  spouse: { zh: '婚姻关系', en: 'spouse link' },
  guardian: { zh: '监护关系', en: 'guardian link' },
  carer: { zh: '委托照护关系', en: 'entrusted-carer link' },
};

/** The other end of a link as the person's file reads it ("the other person is my …"). */
const ROLE_WORDS: Readonly<Record<RelationRole, Message>> = {
  parent: { zh: '父母', en: 'parent' },
  child: { zh: '子女', en: 'child' },
  spouse: { zh: '配偶', en: 'spouse' },
  guardian: { zh: '监护人', en: 'guardian' },
  ward: { zh: '被监护人', en: 'ward' },
  carer: { zh: '委托照护人', en: 'entrusted carer' },
  cared_for: { zh: '被照护人', en: 'person cared for' },
};

/** A link named with the person at its other end: 与父母“韩父”(#20)的亲子关系 #31. */
function linkNamed(link: repo.LinkWithOther, personId: number): Message {
  const role = ROLE_WORDS[relationRole(link.kind, link.person_id === personId)];
  const words = LINK_WORDS[link.kind];
  return {
    zh: `与${role.zh}“${link.other_name}”(#${link.other_id})的${words.zh} #${link.id}`,
    en: `the ${words.en} #${link.id} with the ${role.en} ${link.other_name} (#${link.other_id})`,
  };
}

const BIOLOGICAL_PARENT_WORDS: Readonly<Record<1 | 2, Message>> = {
  1: { zh: '生父', en: 'father' },
  2: { zh: '生母', en: 'mother' },
};

/**
 * The person's facts and links that `person` (an identity) makes wrong, by the rules the routes
 * that record them apply: a fact beginning before the birth (a death included: checkFactPeriod); a
 * parent born on or after the child, or a biological parent under 12 at the birth, from either end
 * (parentBirthProblem; a parent link stays one when ended); a link, an entrustment form or a carer's
 * check dated before the birth (checkRelationDates, endRelation); a second biological parent of the
 * person's sex for a child of theirs (addRelation: one father, one mother); the marriage age of a
 * spouse link and the age of a carer or guardian, for links in force on `on` (addRelation).
 * `coParents`: the biological parents of the person's biological children. Pure.
 */
function identityProblems(
  person: IdentityAsOf,
  facts: readonly repo.FactRow[],
  links: readonly repo.LinkWithOther[],
  coParents: readonly repo.BiologicalParent[],
  on: string,
): IdentityProblem[] {
  const problems: IdentityProblem[] = [];
  const self = { who: { zh: '本人', en: 'this person' }, birthDate: person.birthDate };
  const me = { name: person.name, sex: person.sex, birthDate: person.birthDate };
  for (const f of facts) {
    const label = factLabel(f.kind);
    const unborn = beforeBirthProblem(f.valid_from, [self], {
      zh: `${label.zh}记录 #${f.id} 的开始日期`,
      en: `the start of the ${label.en} #${f.id}`,
    });
    if (unborn)
      problems.push({
        key: `fact:${f.id}`,
        cause: 'birth',
        message: {
          zh: `${unborn.zh}；请核对出生日期，或先撤回该记录`,
          en: `${unborn.en}; check the birth date, or retract that record first`,
        },
      });
  }
  for (const link of links) {
    const subject = link.person_id === person.id;
    const named = linkNamed(link, person.id);
    const add = (rule: string, cause: IdentityProblem['cause'], why: Message) =>
      problems.push({
        key: `${rule}:${link.id}`,
        cause,
        message: { zh: `${named.zh}：${why.zh}`, en: `${named.en}: ${why.en}` },
      });
    const other = { name: link.other_name, sex: link.other_sex, birthDate: link.other_birth_date };
    if (link.kind === 'parent') {
      const subtype = link.subtype ?? 'biological';
      const born = subject ? parentBirthProblem(me, other, subtype) : parentBirthProblem(other, me, subtype);
      if (born) add('parent-birth', 'birth', born);
    }
    const dates: [string, string | null, Message, boolean][] = [
      ['link-start', link.valid_from, { zh: '关系开始日期', en: 'the start of the link' }, false],
      // A link without a start holds from the births: its end is after them (endRelation).
      [
        'link-end',
        link.valid_from === null ? link.valid_to : null,
        { zh: '关系结束日期', en: 'the end of the link' },
        true,
      ],
      ['form', link.kind === 'carer' ? link.entrustment_form_date : null, CARER_RECORD_DATES[0][1], false],
      [
        'fitness-check',
        link.kind === 'carer' && !subject ? link.carer_fitness_checked_on : null,
        CARER_RECORD_DATES[1][1],
        false,
      ],
    ];
    for (const [rule, date, what, orOn] of dates) {
      const unborn = date === null ? null : beforeBirthProblem(date, [self], what, { orOn });
      if (unborn) add(rule, 'birth', unborn);
    }
    const inForce = link.valid_to === null || link.valid_to > on;
    if (link.kind === 'spouse' && inForce) {
      const underAge = marriageAgeProblem(me, link.valid_from ?? on);
      if (underAge) add('marriage-age', 'either', underAge);
    }
    if ((link.kind === 'carer' || link.kind === 'guardian') && !subject && inForce) {
      const tooYoung = carerAgeProblem(me, link.valid_from ?? on, link.kind);
      if (tooYoung) add('carer-age', 'birth', tooYoung);
    }
    if (link.kind === 'parent' && link.subtype === 'biological' && !subject && person.sex !== null) {
      const role = BIOLOGICAL_PARENT_WORDS[person.sex];
      const [zhSex, enSex] = person.sex === 1 ? ['男', 'a man'] : ['女', 'a woman'];
      for (const co of coParents)
        if (co.child_id === link.other_id && co.parent_id !== person.id && co.parent_sex === person.sex)
          problems.push({
            key: `biological-${person.sex}:${link.other_id}:${co.parent_id}`,
            cause: 'sex',
            message: {
              zh: `${named.zh}：“${link.other_name}”已登记${role.zh}“${co.parent_name}”(#${co.parent_id})，本人为${zhSex}性则是其第二位${role.zh}：一人只有一位生父和一位生母`,
              en: `${named.en}: ${link.other_name} has a biological ${role.en} on record, ${co.parent_name} (#${co.parent_id}), and as ${enSex} this person would be a second one: a person has one biological father and one biological mother`,
            },
          });
    }
  }
  return problems;
}

/**
 * Refuses a change of a person's birth date or sex (`patch` gave them, or an ID number bringing them)
 * that makes one of their facts or links wrong (identityProblems): 400 naming the field that brought
 * it (birthDate, sex or idNumber), one detail for each fact or link, each named with the person at its
 * other end. Only what the change makes wrong: a fact or link already wrong with the stored identity
 * (recorded before a rule was made; a biological link cannot be removed) does not block correcting
 * the birth date, and is not the edit's doing.
 */
async function checkIdentityChange(
  trx: Transaction<DB>,
  current: repo.PersonRow,
  edited: { name: string; sex: 1 | 2 | null; birthDate: string | null },
  patch: PersonPatch,
): Promise<void> {
  const facts = await repo.listActiveFacts(trx, [current.id]);
  const links = await repo.listLinksWithOthers(trx, [current.id]);
  const children = links
    .filter((l) => l.kind === 'parent' && l.subtype === 'biological' && l.related_person_id === current.id)
    .map((l) => l.person_id);
  const coParents = await repo.listBiologicalParents(trx, [...new Set(children)]);
  const on = today();
  const stored = { id: current.id, name: current.name, sex: current.sex, birthDate: current.birth_date };
  const before = new Set(identityProblems(stored, facts, links, coParents, on).map((p) => p.key));
  const made = identityProblems({ id: current.id, ...edited }, facts, links, coParents, on).filter(
    (p) => !before.has(p.key),
  );
  if (made.length === 0) return;
  const birthField = 'birthDate' in patch ? 'birthDate' : 'idNumber';
  const sexField = 'sex' in patch ? 'sex' : 'idNumber';
  const fieldOf = (cause: IdentityProblem['cause']) =>
    cause === 'birth' || (cause === 'either' && edited.birthDate !== current.birth_date)
      ? birthField
      : sexField;
  throw new DomainError(
    'VALIDATION_FAILED',
    undefined,
    made.map((p) => ({ path: fieldOf(p.cause), message: p.message })),
  );
}

// ---------- facts ----------

export async function addFact(
  db: Kysely<DB>,
  actor: Actor,
  personId: number,
  input: FactCreate,
): Promise<FactView> {
  requireWrite(actor);
  if (!isFactKind(input.kind)) throw invalid('kind', { zh: '未知的事实类型', en: 'unknown fact kind' });
  const checked = checkFactData(input.kind, input.data ?? {});
  if (!checked.ok) throw invalid(checked.path, checked.message);
  // Who says so: a fact keeps its source (DOMAIN.md section 1); blank is not one.
  const source = input.source ?? 'manual';
  if (asCell(source) === null)
    throw invalid('source', {
      zh: '来源不能为空；不填写时为 manual（手工录入）',
      en: 'the source must not be blank; leave it out for manual',
    });
  // The template refuses a 人身自由限制预计结束日期 before its start, so an export imports back.
  const expectedEnd = input.kind === 'liberty_restriction' ? checked.data.expectedEnd : undefined;
  if (typeof expectedEnd === 'string' && expectedEnd < input.from)
    throw invalid('data.expectedEnd', {
      zh: `预计结束日期 ${expectedEnd} 早于开始日期 ${input.from}`,
      en: `the expected end ${expectedEnd} is before the start ${input.from}`,
    });
  // A death, a court's declaration and a police report of lost contact have happened: not dated ahead.
  if (
    (input.kind === 'death' ||
      input.kind === 'declared_missing' ||
      input.kind === 'declared_dead' ||
      input.kind === 'lost_contact') &&
    input.from > today()
  )
    throw invalid('from', {
      zh: `日期 ${input.from} 晚于今天（${today()}）：死亡、宣告失踪或死亡、失联报案只能是已发生的事`,
      en: `the date ${input.from} is in the future (today is ${today()}): a death, a court's declaration or a report of lost contact has happened`,
    });
  // The police report is the start of the six months a lost contact counts from (groups.rules.ts): a
  // report still to come would start them ahead.
  const reported = input.kind === 'lost_contact' ? checked.data.policeReportDate : undefined;
  const reportAhead =
    typeof reported === 'string'
      ? datedAheadProblem(reported, today(), { zh: '报案日期', en: 'the police report date' })
      : null;
  if (reportAhead) throw invalid('data.policeReportDate', reportAhead);
  if (input.to != null && input.to <= input.from)
    throw invalid('to', { zh: '结束日期必须晚于开始日期', en: 'the end must be after the start' });
  const endAhead = input.to == null ? null : factEndAheadProblem(input.to, today());
  if (endAhead) throw invalid('to', endAhead);
  if (input.kind === 'death' && input.to != null)
    throw invalid('to', {
      zh: '死亡没有结束日期；如登记有误，请撤回',
      en: 'a death has no end; retract it if it was recorded in error',
    });
  return db.transaction().execute(async (trx) => {
    // The person's row lock serialises every fact change of this person, so the checks below see
    // the facts as they will be when this one is written.
    const person = await repo.findPersonForUpdate(trx, personId, scopeRange(actor));
    if (!person) throw notFound(PERSON_NOT_FOUND);
    requireNotMerged(person);
    const stored = await repo.listActiveFacts(trx, [personId]);
    const ended = checkFactPeriod(stored, input.kind, input.from, input.to ?? null, {
      birthDate: person.birth_date,
    });
    if (input.kind === 'death' || input.kind === 'declared_dead')
      await checkLinksBeforeDeath(trx, person, input.kind, input.from, input.to ?? null);
    const row = await repo.insertFact(trx, {
      person_id: personId,
      kind: input.kind,
      valid_from: input.from,
      valid_to: input.to ?? null,
      data: JSON.stringify(checked.data),
      source,
      recorded_by: actor.userId,
    });
    // Ended by the new fact, which is kept on them: retracting it reopens them (retractFact).
    for (const e of ended) {
      const closed = await repo.endFact(trx, e.factId, personId, e.to, row.id);
      if (!closed) throw conflict();
    }
    await audit(trx, actor, {
      action: 'person.fact.add',
      entityType: 'person',
      entityId: personId,
      regionCode: person.hukou_region_code,
      details: { factId: row.id, kind: row.kind, ...(ended.length ? { ended } : {}) },
    });
    await personChanged(trx, personId, { kind: 'fact' });
    return toFactView(row);
  });
}

/**
 * A death (or a declaration of death) dated before something a link of the person records after it:
 * the link's start, an entrustment form the person signed or a check of them as carer. 409 naming the
 * link, as a death before a fact's start is (checkFactPeriod); the posthumous child's link to the
 * father (checkRelationAfterDeath) excepted.
 */
async function checkLinksBeforeDeath(
  trx: Transaction<DB>,
  person: repo.PersonRow,
  kind: 'death' | 'declared_dead',
  from: string,
  to: string | null,
): Promise<void> {
  const links = await trx
    .selectFrom('person_relations as r')
    .innerJoin('persons as c', 'c.id', 'r.person_id')
    .select([
      'r.id',
      'r.kind',
      'r.subtype',
      'r.person_id',
      'r.related_person_id',
      'r.valid_from',
      'r.entrustment_form_date',
      'r.carer_fitness_checked_on',
      'c.birth_date as child_birth',
    ])
    .where((eb) => eb.or([eb('r.person_id', '=', person.id), eb('r.related_person_id', '=', person.id)]))
    .orderBy('r.id')
    .execute();
  const after = (date: string | null) => date !== null && date > from && (to === null || date < to);
  for (const l of links) {
    const dated: [string | null, Message][] = [
      [l.valid_from, { zh: '开始日期', en: 'start' }],
      [l.entrustment_form_date, CARER_RECORD_DATES[0][1]],
      [l.related_person_id === person.id ? l.carer_fitness_checked_on : null, CARER_RECORD_DATES[1][1]],
    ];
    for (const [date, what] of dated) {
      if (!after(date)) continue;
      const posthumous =
        date === l.valid_from &&
        kind === 'death' &&
        l.kind === 'parent' &&
        l.subtype === 'biological' &&
        l.related_person_id === person.id &&
        person.sex === 1 &&
        date === l.child_birth &&
        from >= addDays(date as string, -POSTHUMOUS_DAYS);
      if (posthumous) continue;
      throw conflict({
        zh: `${FACT_LABELS[kind].zh}日期 ${from} 早于已登记的家庭关系 #${l.id} 的${what.zh} ${date}：人去世后不能再建立关系；请先核对该关系`,
        en: `the ${FACT_LABELS[kind].en} on ${from} is before the ${what.en} ${date} of the recorded link #${l.id}: nothing about a link begins after a death; check that link first`,
      });
    }
  }
}

/** A fact kind's label; a kind the code does not know (none is stored) as written. */
function factLabel(kind: string): Message {
  return isFactKind(kind) ? FACT_LABELS[kind] : { zh: kind, en: kind };
}

/** How a refusal names a stored fact the new one meets: 已登记的外出务工记录 #12 (a merge says whose). */
type FactNamer = (f: repo.FactRow) => Message;
const recordedFact: FactNamer = (f) => ({
  zh: `已登记的${factLabel(f.kind).zh}记录 #${f.id}`,
  en: `the recorded ${factLabel(f.kind).en} #${f.id}`,
});

/**
 * The one-answer rule for a new fact [from, to) of `kind` among the person's stored (not retracted)
 * facts (docs/DECISIONS.md): an open fact of the same kind that began earlier ends the day the new
 * one begins (the answer changed: a new destination, the next school stage), as the import does;
 * any other overlap with a fact of the same kind would give two answers for some day and is refused
 * with 409 naming that fact (as `named` names it). Nothing about the person (`born`) begins before
 * the birth. A death is recorded once, and nothing about the person begins after it, whichever was
 * recorded first. Returns the open facts to end.
 */
function checkFactPeriod(
  stored: readonly repo.FactRow[],
  kind: FactKind,
  from: string,
  to: string | null,
  born: BornPerson,
  named: FactNamer = recordedFact,
): { factId: number; from: string; to: string }[] {
  // Before the birth, or before 1900 for a person whose birth date is not known (a grandparent
  // from the child ledger).
  const unborn = beforeBirthProblem(from, [born], { zh: '开始日期', en: 'the start' });
  if (unborn) throw invalid('from', unborn);
  const later = kind === 'death' ? stored.find((f) => f.valid_from > from) : undefined;
  if (later)
    throw conflict({
      zh: `死亡日期早于${named(later).zh} 的开始日期 ${later.valid_from}；请先核对或撤回该记录`,
      en: `the death is before the start ${later.valid_from} of ${named(later).en}; check or retract that record first`,
    });
  const death = stored.find((f) => f.kind === 'death');
  if (death && kind === 'death')
    throw conflict({
      zh: `死亡只登记一次：${named(death).zh}（${death.valid_from}）；如有误，请先撤回`,
      en: `a death is recorded once: ${named(death).en} (${death.valid_from}); retract it first if it is wrong`,
    });
  if (death && from > death.valid_from)
    throw invalid('from', {
      zh: `开始日期晚于${named(death).zh} 的死亡日期 ${death.valid_from}`,
      en: `the start is after the death on ${death.valid_from} (${named(death).en})`,
    });
  const ended: { factId: number; from: string; to: string }[] = [];
  for (const f of stored) {
    if (f.kind !== kind) continue;
    // Only an open new fact carries the answer on from its start. A spell with its own end says
    // nothing of what holds after that end, so ending the open one at its start would record a
    // return nobody recorded: that is an overlap, refused below with what to do instead.
    if (f.valid_to === null && f.valid_from < from && to === null) {
      ended.push({ factId: f.id, from: f.valid_from, to: from });
      continue;
    }
    if (f.valid_to === null && f.valid_from < from)
      throw conflict({
        zh: `${named(f).zh} 自 ${f.valid_from} 起未结束，期间另登记一段有结束日期的记录会有两种答案；请先结束该记录（如于 ${from}），或将本记录登记为未结束（不填结束日期）`,
        en: `${named(f).en} is open since ${f.valid_from}, and a spell with its own end inside it would give two answers; end that record first (e.g. on ${from}), or record this one with an open end (no end date)`,
      });
    const overlaps = (to === null || f.valid_from < to) && (f.valid_to === null || from < f.valid_to);
    if (overlaps) {
      const period = `[${f.valid_from}, ${f.valid_to ?? '…'})`;
      throw conflict({
        zh: `与${named(f).zh} ${period} 时间重叠；请先结束或撤回该记录`,
        en: `overlaps ${named(f).en} ${period}; end or retract that record first`,
      });
    }
  }
  return ended;
}

/**
 * Marks a fact as wrong. The row stays, with who retracted it and when: history is never overwritten.
 * What the mistake ended comes back: a fact this one ended when it was recorded (ended_by_fact_id)
 * is in force again, until the next fact of its kind that is not retracted or open, so the file is
 * as it was before the mistake. An end stated on its own (a clerk's, a file's) stays: on an earlier
 * fact, and on the retracted one too, whose stated end (the mother came back) ends what it reopens
 * when nothing begins before it (repo.reopenFactsEndedBy). The reopened facts are in the audit
 * entry, and the groups re-read them with the retraction.
 */
export async function retractFact(
  db: Kysely<DB>,
  actor: Actor,
  personId: number,
  factId: number,
  reason: string | null,
): Promise<FactView> {
  requireWrite(actor);
  return db.transaction().execute(async (trx) => {
    const person = await repo.findPersonForUpdate(trx, personId, scopeRange(actor));
    if (!person) throw notFound(PERSON_NOT_FOUND);
    requireNotMerged(person);
    const existing = await repo.findFact(trx, factId, personId);
    if (!existing) throw notFound({ zh: '未找到该事实记录', en: 'Fact not found' });
    if (existing.retracted_at) throw conflict({ zh: '该事实已被撤回', en: 'The fact was already retracted' });
    const row = await repo.retractFact(trx, factId, personId, actor.userId, reason);
    if (!row) throw conflict();
    const reopened = await repo.reopenFactsEndedBy(trx, row);
    await audit(trx, actor, {
      action: 'person.fact.retract',
      entityType: 'person',
      entityId: personId,
      regionCode: person.hukou_region_code,
      // The reason is free text a clerk types (a name, a certificate number, a phone): the audit
      // administrator reads the trail without seeing children's data (三员分立), so the entry names the
      // retracted fact, where the reason is kept for those who may read the person's file, and says
      // only how long the reason is (0: none given).
      details: {
        factId,
        kind: row.kind,
        reasonLength: reasonLength(reason),
        ...(reopened.length ? { reopened } : {}),
      },
    });
    await personChanged(trx, personId, { kind: 'fact' });
    return toFactView(row);
  });
}

/** A free-text reason as an audit entry carries it: its length in characters only (0 for none). */
function reasonLength(reason: string | null): number {
  return reason === null ? 0 : [...reason.trim()].length;
}

/**
 * Ends an open fact on `to` (the first day it no longer holds): the mother came back, the sentence
 * was served. The period [from, open) becomes [from, to) in place: its end was unknown, not wrong,
 * so nothing is retracted (docs/DECISIONS.md). Facts carry no version; the precondition is that
 * the fact is still open and not retracted, checked in the UPDATE itself, so a second end or an end
 * racing a retraction gets 409. The previous (open) end and the new one are in the audit entry.
 */
export async function endFact(
  db: Kysely<DB>,
  actor: Actor,
  personId: number,
  factId: number,
  to: string,
): Promise<FactView> {
  requireWrite(actor);
  if (!isIsoDate(to)) throw invalid('to', { zh: '不是有效日期', en: 'is not a valid date' });
  return db.transaction().execute(async (trx) => {
    const person = await repo.findPersonForUpdate(trx, personId, scopeRange(actor));
    if (!person) throw notFound(PERSON_NOT_FOUND);
    requireNotMerged(person);
    const existing = await repo.findFact(trx, factId, personId);
    if (!existing) throw notFound({ zh: '未找到该事实记录', en: 'Fact not found' });
    if (existing.retracted_at)
      throw conflict({ zh: '该事实已被撤回，不能结束', en: 'The fact was retracted; it cannot be ended' });
    if (existing.kind === 'death')
      throw invalid('to', {
        zh: '死亡没有结束日期；如登记有误，请撤回',
        en: 'a death has no end; retract it if it was recorded in error',
      });
    if (existing.valid_to !== null)
      throw conflict({
        zh: `该事实已于 ${existing.valid_to} 结束；如结束日期有误，请撤回后重新登记`,
        en: `The fact already ended on ${existing.valid_to}; to correct the end, retract it and record it again`,
      });
    if (to <= existing.valid_from)
      throw invalid('to', {
        zh: `结束日期必须晚于开始日期 ${existing.valid_from}`,
        en: `the end must be after the start ${existing.valid_from}`,
      });
    const endAhead = factEndAheadProblem(to, today());
    if (endAhead) throw invalid('to', endAhead);
    const row = await repo.endFact(trx, factId, personId, to);
    if (!row) throw conflict();
    await audit(trx, actor, {
      action: 'person.fact.end',
      entityType: 'person',
      entityId: personId,
      regionCode: person.hukou_region_code,
      details: { factId, kind: row.kind, from: row.valid_from, previousTo: null, to },
    });
    await personChanged(trx, personId, { kind: 'fact' });
    return toFactView(row);
  });
}

// ---------- change listeners ----------

/**
 * What changed about a person. `merged_away`: the person was merged into `mergedInto` (their facts
 * and links now belong to that person, who is announced as `merge_kept` right after).
 */
export type PersonChange =
  | { kind: 'created' | 'updated' | 'fact' | 'relation' | 'merge_kept' }
  | { kind: 'merged_away'; mergedInto: number };

/** Work that follows a change to a person, their facts or links, inside the same transaction. */
export type PersonChangeListener = (
  trx: Transaction<DB>,
  personId: number,
  change: PersonChange,
) => Promise<unknown>;
const personChangeListeners = new Set<PersonChangeListener>();

/**
 * Registers work to run after a person, their facts or links change (the care groups re-evaluate
 * the person and their relatives). Called by the composition root, so the registry needs no import
 * of the modules that listen; registering the same function twice has no effect. Every change that
 * can move a person into or out of a group is announced: a new person, any change to a person
 * (birth date, sex, hukou or residence region, household, name - relatives' reasons name them), a
 * fact recorded or retracted, a link added, and both sides of a merge.
 */
export function onPersonChanged(listener: PersonChangeListener): void {
  personChangeListeners.add(listener);
}

/** Announces a change to the listeners; also called by the child ledger import (registry.import-ledger.ts). */
export async function personChanged(
  trx: Transaction<DB>,
  personId: number,
  change: PersonChange,
): Promise<void> {
  for (const listener of personChangeListeners) await listener(trx, personId, change);
}

// ---------- care groups in the person file and lists ----------

/** One period in which a person belonged to a care group (DOMAIN.md section 2). */
export interface GroupPeriod {
  personId: number;
  code: string;
  /** distressed_child and special_difficulty_elderly: categories joined with ','; high_age_elderly: the band. */
  subCategory: string | null;
  since: string;
  /** NULL while the person still belongs (half-open: belonged on since <= d < until). */
  until: string | null;
  reasons: { zh: string[]; en: string[] };
}

/**
 * What the care groups module lends the registry so the person file shows groups and lists filter
 * by them, without the registry importing that module (it imports the registry). The composition
 * root calls setGroupProvider; without a provider the file shows no groups and a group filter is
 * refused.
 */
export interface GroupProvider {
  /** Every group, in the order lists show them, with its name. */
  readonly groups: readonly { code: string; name: { zh: string; en: string } }[];
  /** Every period of the persons, current and past, in group order then newest first. */
  /** With asOf (a person file as of a date): a period in force on it may show that date's sub-category. */
  periodsOf(db: repo.Db, personIds: readonly number[], asOf?: string): Promise<GroupPeriod[]>;
  /**
   * A condition on the row whose person id is `personIdColumn`: a member of one of `codes` on
   * `asOf`. A page after a keyset cursor passes the cursor (person ids above it only).
   */
  memberOfAny(
    codes: readonly string[],
    asOf: string,
    personIdColumn: string,
    afterPersonId?: number,
  ): Expression<SqlBool>;
}

let groupProvider: GroupProvider | null = null;

export function setGroupProvider(provider: GroupProvider): void {
  groupProvider = provider;
}

const inForce = (period: GroupPeriod, on: string) =>
  period.since <= on && (period.until === null || period.until > on);

function toGroupView(period: GroupPeriod, lang: Lang, on: string): PersonGroupView {
  const name = groupProvider?.groups.find((g) => g.code === period.code)?.name;
  return {
    code: period.code,
    name: name ? name[lang] : period.code,
    subCategory: period.subCategory,
    since: period.since,
    until: period.until,
    current: inForce(period, on),
    reasons: period.reasons[lang],
  };
}

/** The person file's groups: current periods first, then past ones, newest first. */
async function personGroups(
  db: repo.Db,
  personId: number,
  lang: Lang,
  asOf?: string,
): Promise<PersonGroupView[]> {
  if (!groupProvider) return [];
  const on = today();
  const periods = await groupProvider.periodsOf(db, [personId], asOf);
  const views = (asOf === undefined ? periods : periods.filter((p) => inForce(p, asOf))).map((p) =>
    toGroupView(p, lang, on),
  );
  return [...views.filter((v) => v.current), ...views.filter((v) => !v.current)];
}

/** Each listed person's groups in force today (the list's tags). */
async function currentGroupsOf(
  db: repo.Db,
  personIds: readonly number[],
  lang: Lang,
): Promise<Map<number, GroupTag[]>> {
  const tags = new Map<number, GroupTag[]>();
  if (!groupProvider || !personIds.length) return tags;
  const on = today();
  for (const period of await groupProvider.periodsOf(db, personIds)) {
    if (!inForce(period, on)) continue;
    const view = toGroupView(period, lang, on);
    const tag = { code: view.code, name: view.name, subCategory: view.subCategory };
    const list = tags.get(period.personId);
    if (list) list.push(tag);
    else tags.set(period.personId, [tag]);
  }
  return tags;
}

/** The list's `group` filter: each value may hold several codes separated by commas. */
function groupFilter(
  values: readonly string[] | undefined,
  asOf: string,
  afterPersonId: number | undefined,
): Expression<SqlBool> | undefined {
  if (values === undefined) return undefined;
  const codes = [...new Set(values.flatMap((v) => v.split(',')).map((v) => v.trim()))].filter(Boolean);
  if (!codes.length) return undefined;
  if (!groupProvider)
    throw invalid('group', {
      zh: '关爱对象分类不可用，不能按类别筛选',
      en: 'care groups are not available; the list cannot be filtered by group',
    });
  const known = groupProvider.groups.map((g) => g.code);
  const unknown = codes.find((c) => !known.includes(c));
  if (unknown !== undefined)
    throw invalid('group', {
      zh: `未知的关爱对象类别“${unknown}”，可选: ${known.join(', ')}`,
      en: `unknown care group "${unknown}"; one of ${known.join(', ')}`,
    });
  return groupProvider.memberOfAny(codes, asOf, 'p.id', afterPersonId);
}

// ---------- relations ----------

const relatedOf = (row: repo.PersonRow) => ({ name: row.name, sex: row.sex, birthDate: row.birth_date });

export async function addRelation(
  db: Kysely<DB>,
  actor: Actor,
  personId: number,
  input: RelationCreate,
  lang: Lang = 'zh',
): Promise<PersonDetail> {
  requireWrite(actor);
  if (input.relatedPersonId === personId)
    throw invalid('relatedPersonId', {
      zh: '不能与本人建立关系',
      en: 'a person cannot be related to themselves',
    });
  if (input.kind !== 'parent' && input.subtype != null)
    throw invalid('subtype', { zh: '只有父母关系有子类型', en: 'only parent links have a subtype' });
  if (input.kind !== 'carer')
    for (const field of ['entrustmentFormDate', 'carerFitnessCheckedOn', 'carerFit'] as const)
      if (input[field] != null)
        throw invalid(field, {
          zh: '只有委托照护人关系有此项',
          en: 'only an entrusted carer link has this field',
        });
  // A signed form and a check of the carer have happened: not dated ahead (a link may start later).
  for (const [field, what] of CARER_RECORD_DATES) {
    const date = input[field];
    const ahead = date == null ? null : datedAheadProblem(date, today(), what);
    if (ahead) throw invalid(field, ahead);
  }
  try {
    return await db.transaction().execute(async (trx) => {
      const person = await repo.findPersonForUpdate(trx, personId, scopeRange(actor));
      if (!person) throw notFound(PERSON_NOT_FOUND);
      requireNotMerged(person);
      // The related person must be in the actor's scope too, and one outside answers like one that
      // does not exist: ids are sequential, so a link to any id would show that person's name in the
      // answer and re-evaluate their groups in a region the actor may not write. A parent registered
      // in another county is linked by the template import, through the ID number the importer holds.
      const other = await repo.findPerson(trx, input.relatedPersonId, scopeRange(actor));
      if (!other) throw new NamedRecordNotFound('relatedPersonId', 'person', input.relatedPersonId);
      requireNotMerged(other, 'relatedPersonId');
      checkRelationDates(input, bornPerson(person), bornPerson(other));
      await checkRelationAfterDeath(trx, input, person, other);
      if (input.kind === 'parent') {
        const reverse = await trx
          .selectFrom('person_relations')
          .select('id')
          .where('kind', '=', 'parent')
          .where('person_id', '=', input.relatedPersonId)
          .where('related_person_id', '=', personId)
          .where('valid_to', 'is', null)
          .executeTakeFirst();
        if (reverse)
          throw conflict({
            zh: '对方已登记为本人的子女，不能同时是本人的父母',
            en: 'the related person is recorded as this person’s child and cannot also be a parent',
          });
        const born = parentBirthProblem(relatedOf(person), relatedOf(other), input.subtype ?? 'biological');
        if (born) throw invalid('relatedPersonId', born);
        // One biological father and one biological mother (adoptive and step parents may be added).
        if ((input.subtype ?? 'biological') === 'biological' && other.sex !== null) {
          const recorded = await trx
            .selectFrom('person_relations as r')
            .innerJoin('persons as p', 'p.id', 'r.related_person_id')
            .select(['p.id', 'p.name'])
            .where('r.person_id', '=', personId)
            .where('r.kind', '=', 'parent')
            .where('r.subtype', '=', 'biological')
            .where('r.valid_to', 'is', null)
            .where('p.sex', '=', other.sex)
            .where('p.id', '<>', other.id)
            .executeTakeFirst();
          if (recorded) {
            const [zh, en] = other.sex === 1 ? ['生父', 'father'] : ['生母', 'mother'];
            throw conflict({
              zh: `已登记${zh}“${recorded.name}”(#${recorded.id})；一人只有一位生父和一位生母，收养或继父母请选相应类型`,
              en: `a biological ${en} is recorded already (${recorded.name}, #${recorded.id}); a person has one biological father and one biological mother (choose adoptive or step for another)`,
            });
          }
        }
      }
      if (input.kind === 'spouse') {
        const on = input.validFrom ?? today();
        for (const spouse of [other, person]) {
          const underAge = marriageAgeProblem(relatedOf(spouse), on);
          if (underAge) throw invalid('relatedPersonId', underAge);
        }
        // One spouse at a time (Civil Code art. 1041-1042): a marriage in force to a third person who
        // is alive ends first (divorce: end that link). A widow's link to her late husband stays, as
        // the registry keeps it; she may remarry. The third person is not named: they may be registered
        // outside the actor's region.
        for (const [who, spouse] of [
          [{ zh: '本人', en: 'this person' }, person],
          [{ zh: '对方', en: 'the related person' }, other],
        ] as const) {
          const married = await livingSpouseOtherThan(
            trx,
            spouse.id,
            spouse.id === personId ? other.id : personId,
            on,
          );
          if (married?.valid_to === null)
            throw conflict({
              zh: `${who.zh}已登记有在世的配偶（婚姻关系未结束）：一人只能有一位配偶（民法典第一千零四十二条）；离婚的，请先在其家庭关系中结束该配偶关系`,
              en: `${who.en} has a living spouse on record whose marriage has not ended: a person has one spouse (Civil Code art. 1042); after a divorce, end that spouse link first`,
            });
          // An ended marriage still in force on the new one's first day: both would hold on its days.
          if (married)
            throw conflict({
              zh: `${who.zh}已登记的婚姻关系 [${married.valid_from ?? '…'}, ${married.valid_to}) 在新配偶关系开始日期 ${on} 时仍然有效：一人同一时间只能有一位配偶（民法典第一千零四十二条）；新关系最早从 ${married.valid_to} 开始`,
              en: `${who.en} has a marriage on record [${married.valid_from ?? '…'}, ${married.valid_to}) still in force on ${on}, the first day of the new one: a person has one spouse at a time (Civil Code art. 1042); the new link begins on ${married.valid_to} at the earliest`,
            });
        }
      }
      // The same link again (a remarriage of the two, a care entrusted again) begins once the earlier
      // one has ended: two periods of one link on the same day would show it twice as of that day. A
      // link without a date is taken from today, as the spouse check above takes it.
      const since = input.validFrom ?? today();
      const earlier = await trx
        .selectFrom('person_relations')
        .select(['id', 'valid_from', 'valid_to'])
        .where('kind', '=', input.kind)
        .where((eb) =>
          eb.or([
            eb.and([eb('person_id', '=', personId), eb('related_person_id', '=', other.id)]),
            ...(input.kind === 'spouse'
              ? [eb.and([eb('person_id', '=', other.id), eb('related_person_id', '=', personId)])]
              : []),
          ]),
        )
        .where('valid_to', '>', since)
        .orderBy('valid_to', 'desc')
        .executeTakeFirst();
      if (earlier)
        throw conflict({
          zh: `该关系已登记有 [${earlier.valid_from ?? '…'}, ${earlier.valid_to}) 的记录(#${earlier.id})，与新关系的开始日期 ${since} 重叠：同一关系同一天只能有一条记录；新关系最早从 ${earlier.valid_to} 开始`,
          en: `this link is on record for [${earlier.valid_from ?? '…'}, ${earlier.valid_to}) (#${earlier.id}), which the new one's start ${since} overlaps: one link holds once on a day; the new one begins on ${earlier.valid_to} at the earliest`,
        });
      if (input.kind === 'carer' || input.kind === 'guardian') {
        const tooYoung = carerAgeProblem(relatedOf(other), input.validFrom ?? today(), input.kind);
        if (tooYoung) throw invalid('relatedPersonId', tooYoung);
      }
      const added = await repo.ensureRelation(trx, {
        person_id: personId,
        related_person_id: input.relatedPersonId,
        kind: input.kind,
        subtype: input.kind === 'parent' ? (input.subtype ?? 'biological') : null,
        valid_from: input.validFrom ?? null,
        entrustment_form_date: input.entrustmentFormDate ?? null,
        carer_fitness_checked_on: input.carerFitnessCheckedOn ?? null,
        carer_fit: input.carerFit ?? null,
        source: 'manual',
        recorded_by: actor.userId,
      });
      if (!added) throw conflict({ zh: '该关系已存在', en: 'This relation exists already' });
      await audit(trx, actor, {
        action: 'person.relation.add',
        entityType: 'person',
        entityId: personId,
        regionCode: person.hukou_region_code,
        details: { kind: input.kind, relatedPersonId: input.relatedPersonId },
      });
      // The listener reaches the related person through the new link.
      await personChanged(trx, personId, { kind: 'relation' });
      return personDetail(trx, person, lang);
    });
  } catch (error) {
    await auditNamedNotFound(db, actor, error, { action: 'person.relation.add', personId });
    throw error;
  }
}

/** A person named in a date's message: both ends of a new link are in the caller's region. */
const bornPerson = (row: repo.PersonRow): BornPerson => ({
  who: { zh: `“${row.name}”`, en: row.name },
  birthDate: row.birth_date,
});

/** The carer's record dates, with what the messages call them. */
const CARER_RECORD_DATES = [
  ['entrustmentFormDate', { zh: '委托监护确认书日期', en: 'the date of the entrusted-guardianship form' }],
  ['carerFitnessCheckedOn', { zh: '照护能力评估日期', en: "the date of the carer's fitness check" }],
] as const;

/**
 * Nothing about a link comes before the births it needs (docs/DECISIONS.md "Nothing about a person
 * begins before the birth"): its start before either person's birth; an entrustment form, which the
 * child's parents sign with the carer, before the child's or the carer's birth; a check of the carer
 * before the carer's birth. Each is a 400 naming its field.
 */
function checkRelationDates(input: RelationCreate, subject: BornPerson, related: BornPerson): void {
  const checks = [
    ['validFrom', { zh: '关系开始日期', en: 'the start of the link' }, [subject, related]],
    [...CARER_RECORD_DATES[0], [subject, related]],
    [...CARER_RECORD_DATES[1], [related]],
  ] as const;
  for (const [field, what, persons] of checks) {
    const date = input[field];
    const unborn = date == null ? null : beforeBirthProblem(date, persons, what);
    if (unborn) throw invalid(field, unborn);
  }
}

/** A death or a declaration of death, as messages name it. */
function deathWords(
  person: repo.PersonRow,
  death: { kind: 'death' | 'declared_dead'; valid_from: string },
): Message {
  return death.kind === 'death'
    ? {
        zh: `“${person.name}”的死亡日期 ${death.valid_from}`,
        en: `${person.name}'s death on ${death.valid_from}`,
      }
    : {
        zh: `“${person.name}”被宣告死亡的日期 ${death.valid_from}`,
        en: `${person.name}'s declaration of death on ${death.valid_from}`,
      };
}

/**
 * A dead person's hukou is cancelled: they join no household and head none from today. 400 naming
 * the field and the date of death.
 */
async function requireAlive(trx: Transaction<DB>, person: repo.PersonRow, field: string): Promise<void> {
  const death = await repo.deathBefore(trx, person.id, today());
  if (!death) return;
  const dead = deathWords(person, death);
  throw invalid(field, {
    zh: `${dead.zh}在今天（${today()}）之前：去世的人户籍已注销，不能迁入家庭户或担任户主`,
    en: `${dead.en} is before today (${today()}): a dead person's hukou is cancelled; they cannot join a household or be its head`,
  });
}

/** Days a father's death may come before the birth of his child (a posthumous child). */
const POSTHUMOUS_DAYS = 300;

/**
 * Nothing about a link begins after either person's death (docs/DECISIONS.md "Nothing about the
 * person may start after the death date", as checkFactPeriod holds it for facts): its start, and a
 * carer's form and fitness check, each a 400 naming the field and the date of death. A carer or
 * guardian link without a start is taken from today (as the age check takes it); a parent or spouse
 * link without one is history of unknown date (a widow's late husband, an orphan's parents) and is
 * not checked. A biological parent link starting on the child's birth is the posthumous child's: the
 * father may have died up to POSTHUMOUS_DAYS before it.
 */
async function checkRelationAfterDeath(
  trx: Transaction<DB>,
  input: RelationCreate,
  person: repo.PersonRow,
  other: repo.PersonRow,
): Promise<void> {
  const start = input.validFrom ?? (input.kind === 'carer' || input.kind === 'guardian' ? today() : null);
  const untimed = input.validFrom == null;
  const checks: [string, string | null, Message, repo.PersonRow[]][] = [
    [
      untimed ? 'relatedPersonId' : 'validFrom',
      start,
      { zh: '关系开始日期', en: 'the start of the link' },
      [person, other],
    ],
    ['entrustmentFormDate', input.entrustmentFormDate ?? null, CARER_RECORD_DATES[0][1], [person, other]],
    ['carerFitnessCheckedOn', input.carerFitnessCheckedOn ?? null, CARER_RECORD_DATES[1][1], [other]],
  ];
  for (const [field, date, what, persons] of checks) {
    if (date === null) continue;
    for (const who of persons) {
      const death = await repo.deathBefore(trx, who.id, date);
      if (!death) continue;
      // The posthumous child: the father died before the birth the link starts on.
      if (
        field === 'validFrom' &&
        input.kind === 'parent' &&
        (input.subtype ?? 'biological') === 'biological' &&
        who.id === other.id &&
        other.sex === 1 &&
        death.kind === 'death' &&
        date === person.birth_date &&
        death.valid_from >= addDays(date, -POSTHUMOUS_DAYS)
      )
        continue;
      const dead = deathWords(who, death);
      const asToday = field === 'relatedPersonId';
      throw invalid(field, {
        zh: `${what.zh} ${date}${asToday ? '（未填开始日期，按今天计）' : ''}晚于${dead.zh}：人去世后不能再建立关系`,
        en: `${what.en} ${date}${asToday ? ' (no start given: taken as today)' : ''} is after ${dead.en}: nothing about a link begins after a death`,
      });
    }
  }
}

/**
 * The person's spouse link to someone other than `except` who is alive on `on` (no death and no
 * declaration of death, not retracted, from on or before that day) that is open or ends after `on`:
 * a marriage still in force from `on` on (an ended one the first). Undefined when there is none.
 */
async function livingSpouseOtherThan(
  trx: Transaction<DB>,
  personId: number,
  except: number,
  on: string,
): Promise<{ valid_from: string | null; valid_to: string | null } | undefined> {
  return trx
    .selectFrom('person_relations as r')
    .select(['r.valid_from', 'r.valid_to'])
    .where('r.kind', '=', 'spouse')
    .where((eb) => eb.or([eb('r.valid_to', 'is', null), eb('r.valid_to', '>', on)]))
    .where((eb) =>
      eb.or([
        eb.and([eb('r.person_id', '=', personId), eb('r.related_person_id', '<>', except)]),
        eb.and([eb('r.related_person_id', '=', personId), eb('r.person_id', '<>', except)]),
      ]),
    )
    .where(
      sql<boolean>`NOT ${repo.diedBy(sql`CASE WHEN r.person_id = ${personId} THEN r.related_person_id ELSE r.person_id END`, on)}`,
    )
    .orderBy(sql`r.valid_to IS NULL`, 'desc')
    .executeTakeFirst();
}

/** A link of the person's, from either end, locked for a change (undefined: none such). */
function lockLinkOf(trx: Transaction<DB>, personId: number, relationId: number) {
  return trx
    .selectFrom('person_relations')
    .select(['id', 'person_id', 'related_person_id', 'kind', 'subtype', 'valid_from', 'valid_to'])
    .where('id', '=', relationId)
    .where((eb) => eb.or([eb('person_id', '=', personId), eb('related_person_id', '=', personId)]))
    .forUpdate()
    .executeTakeFirst();
}

/**
 * Ends a current link on a date: a divorce, an entrusted care or a legal guardianship that ended. The
 * link is kept with its end (history is not rewritten), so "as of D" still answers from it, and both
 * persons' groups are re-evaluated. Read from either end: a spouse link is stored under the smaller
 * id. A biological parent link does not end: a child adopted by others gets an adoptive link.
 */
export async function endRelation(
  db: Kysely<DB>,
  actor: Actor,
  personId: number,
  relationId: number,
  to: string,
  lang: Lang = 'zh',
): Promise<PersonDetail> {
  requireWrite(actor);
  if (!isIsoDate(to)) throw invalid('to', { zh: '不是有效日期', en: 'is not a valid date' });
  return db.transaction().execute(async (trx) => {
    const person = await repo.findPersonForUpdate(trx, personId, scopeRange(actor));
    if (!person) throw notFound(PERSON_NOT_FOUND);
    requireNotMerged(person);
    const link = await lockLinkOf(trx, personId, relationId);
    if (!link) throw notFound({ zh: '未找到该关系', en: 'Relation not found' });
    if (link.kind === 'parent' && link.subtype === 'biological')
      throw invalid('to', {
        zh: '亲生父母关系不会结束；子女被他人收养时，请登记收养关系',
        en: 'a biological parent link does not end; when the child is adopted, record the adoptive parents',
      });
    if (link.valid_to !== null)
      throw conflict({
        zh: `该关系已于 ${link.valid_to} 结束`,
        en: `The link already ended on ${link.valid_to}`,
      });
    if (link.valid_from !== null && to <= link.valid_from)
      throw invalid('to', {
        zh: `结束日期必须晚于关系开始日期 ${link.valid_from}`,
        en: `the end must be after the start of the link ${link.valid_from}`,
      });
    // A link without a start holds from the births: it cannot end on or before them. The other end
    // may be registered outside the caller's region, so neither is named.
    if (link.valid_from === null) {
      const births = await trx
        .selectFrom('persons')
        .select(['id', 'birth_date'])
        .where('id', 'in', [link.person_id, link.related_person_id])
        .execute();
      const unborn = beforeBirthProblem(
        to,
        births.map((b) => ({
          who:
            b.id === personId ? { zh: '本人', en: 'this person' } : { zh: '对方', en: 'the related person' },
          birthDate: b.birth_date,
        })),
        { zh: '结束日期', en: 'the end' },
        { orOn: true },
      );
      if (unborn) throw invalid('to', unborn);
    }
    if (to > today())
      throw invalid('to', {
        zh: '结束日期不能晚于今天：关系结束后再登记',
        en: 'the end cannot be after today; record it once the link has ended',
      });
    await trx.updateTable('person_relations').set({ valid_to: to }).where('id', '=', link.id).execute();
    await audit(trx, actor, {
      action: 'person.relation.end',
      entityType: 'person',
      entityId: personId,
      regionCode: person.hukou_region_code,
      details: { relationId: link.id, kind: link.kind, subtype: link.subtype, to },
    });
    // Both ends: the link no longer leads from one to the other on the days after its end.
    await personChanged(trx, link.person_id, { kind: 'relation' });
    await personChanged(trx, link.related_person_id, { kind: 'relation' });
    return personDetail(trx, person, lang);
  });
}

/**
 * Retracts a link recorded by mistake (the commonest slip: the wrong one of two villagers of the same
 * name). Unlike an end, which keeps the link in force up to it, a retraction says it never held: the
 * link moves out of person_relations into person_relations_retracted with who, when and why (in one
 * transaction), so no read of links sees it on any day, and the file lists it under
 * retractedRelations. Any kind, a biological parent link too; the true parent can then be linked.
 * The same rules of access as ending a link: the person in the caller's region, the link read from
 * either end. Both persons' groups are re-evaluated.
 */
export async function retractRelation(
  db: Kysely<DB>,
  actor: Actor,
  personId: number,
  relationId: number,
  reason: string,
  lang: Lang = 'zh',
): Promise<PersonDetail> {
  requireWrite(actor);
  // Kept as typed (as a fact's reason is), but blank (spaces, invisible characters only) is no reason.
  const why = reason.trim();
  if (asCell(reason) === null)
    throw invalid('reason', {
      zh: '请填写撤回原因（例如：误登记为同名的另一人）',
      en: 'is required: say why the link is wrong (e.g. recorded against another person of the same name)',
    });
  return db.transaction().execute(async (trx) => {
    const person = await repo.findPersonForUpdate(trx, personId, scopeRange(actor));
    if (!person) throw notFound(PERSON_NOT_FOUND);
    requireNotMerged(person);
    const link = await lockLinkOf(trx, personId, relationId);
    if (!link) {
      const retracted = await trx
        .selectFrom('person_relations_retracted')
        .select('retracted_at')
        .where('id', '=', relationId)
        .where((eb) => eb.or([eb('person_id', '=', personId), eb('related_person_id', '=', personId)]))
        .executeTakeFirst();
      if (retracted) throw conflict({ zh: '该关系已被撤回', en: 'The link was already retracted' });
      throw notFound({ zh: '未找到该关系', en: 'Relation not found' });
    }
    const moved = await repo.moveRelationToRetracted(trx, link.id, actor.userId, why);
    if (!moved) throw conflict();
    await audit(trx, actor, {
      action: 'person.relation.retract',
      entityType: 'person',
      entityId: personId,
      regionCode: person.hukou_region_code,
      // The reason stays with the retracted link (retractedRelations in the file): the audit
      // administrator, who sees no children's data, reads its length only, as for a retracted fact.
      details: {
        relationId: link.id,
        kind: link.kind,
        subtype: link.subtype,
        personId: link.person_id,
        relatedPersonId: link.related_person_id,
        validFrom: link.valid_from,
        validTo: link.valid_to,
        reasonLength: reasonLength(why),
      },
    });
    // Both ends: the link no longer leads from one to the other on any day.
    await personChanged(trx, link.person_id, { kind: 'relation' });
    await personChanged(trx, link.related_person_id, { kind: 'relation' });
    return personDetail(trx, person, lang);
  });
}

// ---------- households ----------

function maskAccount(account: string): string {
  const s = account.replace(/\s/g, '');
  return s.length <= 4 ? '*'.repeat(s.length) : `${'*'.repeat(s.length - 4)}${s.slice(-4)}`;
}

async function householdDetail(
  db: repo.Db,
  row: repo.HouseholdRow,
  scope: repo.Scope,
): Promise<HouseholdDetail> {
  const members = await repo.listHouseholdMembers(db, row.id, scope);
  const ids = members.map((m) => m.id);
  const memberSet = new Set(ids);
  const relations = (await repo.listRelationsAmong(db, ids)).filter(
    (r) => memberSet.has(r.person_id) && memberSet.has(r.related_person_id),
  );
  return {
    id: row.id,
    countyCode: row.county_code,
    householdNo: row.household_no,
    hukouRegionCode: row.hukou_region_code,
    // Free text a clerk typed ("户主电话139…"): numbers in it masked like the members' own fields.
    address: row.address === null ? null : maskNumbersInText(row.address),
    headPersonId: row.head_person_id,
    annualIncomeFen: row.annual_income_fen,
    assets: maskTextsDeep(row.assets) as Record<string, unknown>,
    bankAccountMasked: row.bank_account_masked,
    version: row.version,
    members: members.map(toPersonSummary),
    relations: relations.map((r) => ({
      personId: r.person_id,
      relatedPersonId: r.related_person_id,
      kind: r.kind,
      subtype: r.subtype,
    })),
  };
}

const MASKED_TEXT = {
  zh: '含有被遮蔽的号码（****）：请填写完整号码或删去该号码。不能查看完整号码的，可保持原文中的遮蔽号码不动，保存时原号码不变',
  en: 'holds a masked number (****): type the whole number or take it out. Without the right to see it, leave the masked number as it was shown and the stored number is kept',
};

const UNSAFE_NUMBER = {
  zh: `数值无法原样保存：须为有限数，整数的绝对值不超过 ${Number.MAX_SAFE_INTEGER}；金额请以整数“分”填写，更长的号码请写成文本`,
  en: `is a number that cannot be stored as sent: it must be finite, and a whole number at most ${Number.MAX_SAFE_INTEGER} either way; give money in integer fen and longer numbers as text`,
};

/** A free-text field as written: a masked number in it put back from the stored texts (400 if none). */
function unmaskedField(
  field: string,
  given: string | null | undefined,
  stored: readonly (string | null)[],
): string | null {
  if (given === null || given === undefined) return null;
  const whole = unmaskText(
    given,
    stored.filter((text): text is string => text !== null),
  );
  if (whole === undefined) throw invalid(field, MASKED_TEXT);
  return whole;
}

/**
 * A household's address and assets as written: a masked number that the form or client read (every
 * answer masks them) is put back whole from the stored texts, so the stars are never saved over the
 * real number; a masked number they do not explain is refused (400 naming the field).
 */
function unmaskHouseholdTexts(
  input: { address?: string | null; assets?: Record<string, unknown> },
  stored: readonly string[],
): { address?: string | null; assets?: Record<string, unknown> } {
  const out: { address?: string | null; assets?: Record<string, unknown> } = {};
  if ('address' in input) out.address = unmaskedField('address', input.address, stored);
  if ('assets' in input) {
    // JSON numbers are stored as doubles: 1e400 would be stored as null and a whole number beyond
    // 2^53 with other digits than sent. Refused, naming the value's path, rather than changed.
    const unsafe = unsafeNumberPath(input.assets ?? {});
    if (unsafe) throw invalid(['assets', ...unsafe].join('.'), UNSAFE_NUMBER);
    const r = unmaskTextsDeep(input.assets ?? {}, stored);
    if (!r.ok) throw invalid(['assets', ...r.path].join('.'), MASKED_TEXT);
    out.assets = r.value as Record<string, unknown>;
  }
  return out;
}

/**
 * A household's address and assets whole (the file shows the numbers in them masked), for roles that
 * may reveal in the household's village; always audited, like the reveal of a person.
 */
export async function revealHousehold(
  db: Kysely<DB>,
  actor: Actor,
  id: number,
): Promise<{ id: number; address: string | null; assets: Record<string, unknown> }> {
  const scope = requireRead(actor);
  return db.transaction().execute(async (trx) => {
    const row = await repo.findHousehold(trx, id, scope);
    if (!row) throw notFound(HOUSEHOLD_NOT_FOUND);
    requireAccess(actor, 'persons.reveal', { individual: true, regionCode: row.hukou_region_code });
    await audit(trx, actor, {
      action: 'household.reveal',
      entityType: 'household',
      entityId: id,
      regionCode: row.hukou_region_code,
      details: { fields: ['address', 'assets'] },
    });
    return { id: row.id, address: row.address, assets: row.assets };
  });
}

export async function getHousehold(db: Kysely<DB>, actor: Actor, id: number): Promise<HouseholdDetail> {
  const scope = requireRead(actor);
  return db.transaction().execute(async (trx) => {
    const row = await repo.findHousehold(trx, id, scope);
    if (!row) throw notFound(HOUSEHOLD_NOT_FOUND);
    await audit(trx, actor, {
      action: 'household.read',
      entityType: 'household',
      entityId: id,
      regionCode: row.hukou_region_code,
    });
    return householdDetail(trx, row, scope);
  });
}

/**
 * The head (户主) is one of the household's members: a new household has none yet, so its head is
 * chosen once the members are in (as the household form does).
 */
async function requireHead(
  trx: Transaction<DB>,
  actor: Actor,
  headPersonId: number | null | undefined,
  householdId: number | null,
): Promise<void> {
  if (headPersonId == null) return;
  const head = await repo.findPerson(trx, headPersonId, scopeRange(actor));
  if (!head) throw new NamedRecordNotFound('headPersonId', 'person', headPersonId);
  requireNotMerged(head, 'headPersonId');
  if (householdId === null || head.household_id !== householdId)
    throw invalid('headPersonId', {
      zh: '户主须是本户成员：请先把该人员登记到本户，再设为户主',
      en: 'the head must be a member of the household: add the person to it first, then make them the head',
    });
}

export async function createHousehold(
  db: Kysely<DB>,
  actor: Actor,
  input: HouseholdCreate,
): Promise<HouseholdDetail> {
  requireWrite(actor, input.hukouRegionCode);
  await requireVillage(db, 'hukouRegionCode', input.hukouRegionCode);
  const householdNo = requiredText('householdNo', asCell(input.householdNo), {
    zh: '户编号',
    en: 'the household number',
  });
  // Nothing is stored yet: a masked number can only be a copy of one read elsewhere.
  const texts = unmaskHouseholdTexts({ address: input.address ?? null, assets: input.assets ?? {} }, []);
  try {
    return await db.transaction().execute(async (trx) => {
      await requireHead(trx, actor, input.headPersonId, null);
      const row = await repo.insertHousehold(trx, {
        county_code: input.hukouRegionCode.slice(0, 6),
        household_no: householdNo,
        hukou_region_code: input.hukouRegionCode,
        address: texts.address ?? null,
        head_person_id: input.headPersonId ?? null,
        annual_income_fen: input.annualIncomeFen ?? null,
        assets: JSON.stringify(texts.assets ?? {}),
        bank_account_masked: input.bankAccount ? maskAccount(input.bankAccount) : null,
      });
      await audit(trx, actor, {
        action: 'household.create',
        entityType: 'household',
        entityId: row.id,
        regionCode: row.hukou_region_code,
      });
      return householdDetail(trx, row, scopeRange(actor));
    });
  } catch (error) {
    await auditNamedNotFound(db, actor, error, { action: 'household.create' });
    if (isUniqueViolation(error, 'households_county_code_household_no_key'))
      throw new DomainError('CONFLICT', {
        zh: '本县已有该户编号',
        en: 'The county already has this household number',
      });
    throw error;
  }
}

interface RelationRewrite {
  personId: number;
  regionCode: string;
  from: string | null;
  to: string;
}

/** A member's 与户主关系 rewritten by a head change, when it differs; the change made, if any. */
async function setRelationToHead(
  trx: Transaction<DB>,
  personId: number,
  householdId: number,
  to: string,
): Promise<RelationRewrite[]> {
  const before = await trx
    .selectFrom('persons')
    .select(['relation_to_head', 'hukou_region_code'])
    .where('id', '=', personId)
    .where('household_id', '=', householdId)
    .forUpdate()
    .executeTakeFirst();
  if (!before || before.relation_to_head === to) return [];
  await trx
    .updateTable('persons')
    .set({ relation_to_head: to, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
    .where('id', '=', personId)
    .execute();
  return [{ personId, regionCode: before.hukou_region_code, from: before.relation_to_head, to }];
}

/**
 * A head change's former head: the household's head who is still its member (a head who moved away
 * left already), locked; undefined when the head does not change or there was none.
 */
async function formerHeadOf(
  trx: Transaction<DB>,
  household: repo.HouseholdRow,
  patch: HouseholdPatch,
): Promise<repo.PersonRow | undefined> {
  if (!('headPersonId' in patch)) return undefined;
  const previous = household.head_person_id;
  if (previous === null || previous === (patch.headPersonId ?? null)) return undefined;
  const former = await trx
    .selectFrom('persons')
    .selectAll()
    .where('id', '=', previous)
    .forUpdate()
    .executeTakeFirst();
  // A merged record left as head (written before merged records were closed) is no member any more.
  return former?.household_id === household.id && former.merged_into === null ? former : undefined;
}

/**
 * The former head's new 与户主关系 (formerHeadRelationToHead): a GB/T 4761 name other than 户主 (or 本人,
 * the head's own word), required with a head change, so the household never shows two 户主 and the
 * clerk, not the system, says what the former head now is.
 */
function formerHeadRelationOf(patch: HouseholdPatch, former: repo.PersonRow | undefined): string | null {
  const field = 'formerHeadRelationToHead';
  const given = patch.formerHeadRelationToHead;
  if (!former) {
    if (given != null)
      throw invalid(field, {
        zh: '本次没有更换户主（或本户原来没有户主），不需要填写原户主的新与户主关系',
        en: 'the head does not change (or the household had none): no new relation for a former head is needed',
      });
    return null;
  }
  const relation = relationToHeadOf(given, field);
  if (relation === null)
    throw invalid(field, {
      zh: `更换户主时须填写原户主“${former.name}”新的与户主关系（如 父亲、母亲、配偶、子、女）：一户只有一位户主`,
      en: `a change of head needs the former head's (${former.name}) new relation to the head (e.g. 父亲, 母亲, 配偶, 子, 女): a household has one head`,
    });
  // 本人 is stored as 户主 (relationToHeadAsStored): the message names the word the clerk wrote.
  const written = asCell(given)?.replace(/\s/g, '') ?? relation;
  if (relation === '户主')
    throw invalid(field, {
      zh: `原户主“${former.name}”的新关系不能是“${written}”：一户只有一位户主，请填写其与新户主的关系`,
      en: `the former head's (${former.name}) new relation cannot be ${written}: a household has one head; give their relation to the new head`,
    });
  return relation;
}

export async function updateHousehold(
  db: Kysely<DB>,
  actor: Actor,
  id: number,
  patch: HouseholdPatch,
): Promise<HouseholdDetail> {
  requireWrite(actor);
  try {
    return await db.transaction().execute(async (trx) => {
      const current = await repo.findHousehold(trx, id, scopeRange(actor));
      if (!current) throw notFound(HOUSEHOLD_NOT_FOUND);
      if (current.version !== patch.version) throw conflict();
      if ('headPersonId' in patch) await requireHead(trx, actor, patch.headPersonId, id);
      if (patch.headPersonId != null && patch.headPersonId !== current.head_person_id) {
        const head = await repo.findPerson(trx, patch.headPersonId, scopeRange(actor));
        if (head) await requireAlive(trx, head, 'headPersonId');
      }
      // The former and the new head are locked first, in id order, as a person's update takes the
      // person before the household (recordHead): so the two never wait on each other.
      const heads = [current.head_person_id, patch.headPersonId ?? null].filter(
        (p): p is number => p !== null,
      );
      if ('headPersonId' in patch && heads.length)
        await trx
          .selectFrom('persons')
          .select('id')
          .where('id', 'in', heads)
          .orderBy('id')
          .forUpdate()
          .execute();
      const former = await formerHeadOf(trx, current, patch);
      // The former head's relation is rewritten by the change: a write on their record, which only a
      // caller whose region holds them may make (nor is their name shown to another).
      if (former && !inScope(actor, former.hukou_region_code))
        throw invalid('headPersonId', {
          zh: '本户原户主的户籍在您的管辖范围以外：更换户主须由管辖其户籍地的工作人员办理',
          en: "the household's present head is registered outside your region: the head is changed by staff whose region holds them",
        });
      const formerRelation = formerHeadRelationOf(patch, former);
      // The version matches: the stored texts are the ones the caller read masked.
      const texts = unmaskHouseholdTexts(
        {
          ...('address' in patch ? { address: patch.address ?? null } : {}),
          ...('assets' in patch ? { assets: patch.assets ?? {} } : {}),
        },
        [...(current.address === null ? [] : [current.address]), ...textsIn(current.assets)],
      );
      const updated = await repo.updateHousehold(trx, id, patch.version, {
        ...('address' in texts ? { address: texts.address ?? null } : {}),
        ...('headPersonId' in patch ? { head_person_id: patch.headPersonId ?? null } : {}),
        ...('annualIncomeFen' in patch ? { annual_income_fen: patch.annualIncomeFen ?? null } : {}),
        ...('assets' in texts ? { assets: JSON.stringify(texts.assets ?? {}) } : {}),
        ...('bankAccount' in patch
          ? { bank_account_masked: patch.bankAccount ? maskAccount(patch.bankAccount) : null }
          : {}),
      });
      if (!updated) throw conflict();
      // A new head: the former head takes the relation the clerk gave and the new head becomes 户主, in
      // this transaction, each person's version moving on (an edit of either from an older read is 409).
      const newHead = 'headPersonId' in patch ? (patch.headPersonId ?? null) : current.head_person_id;
      const relations: RelationRewrite[] = [];
      if (former && formerRelation !== null)
        relations.push(...(await setRelationToHead(trx, former.id, id, formerRelation)));
      if (newHead !== null && newHead !== current.head_person_id) {
        relations.push(...(await setRelationToHead(trx, newHead, id, '户主')));
        // Another member still written 户主 (left by an earlier head change) would make two.
        const other = await trx
          .selectFrom('persons')
          .select(['id', 'name', 'hukou_region_code'])
          .where('household_id', '=', id)
          .where('relation_to_head', '=', '户主')
          .where('id', '<>', newHead)
          .where('merged_into', 'is', null)
          .executeTakeFirst();
        if (other && !inScope(actor, other.hukou_region_code))
          throw conflict({
            zh: '本户另有一位成员的与户主关系也是“户主”（户籍在您的管辖范围以外）：一户只有一位户主，须先由管辖其户籍地的工作人员修改其与户主关系',
            en: 'another member, registered outside your region, is also written 户主: a household has one head; staff whose region holds them must change their relation to the head first',
          });
        if (other)
          throw conflict({
            zh: `本户成员“${other.name}”(#${other.id})的与户主关系也是“户主”：一户只有一位户主，请先修改其与户主关系，再更换户主`,
            en: `a member, ${other.name} (#${other.id}), is also written 户主: a household has one head; change their relation to the head first, then change the head`,
          });
      }
      await audit(trx, actor, {
        action: 'household.update',
        entityType: 'household',
        entityId: id,
        regionCode: updated.hukou_region_code,
        details: {
          fields: Object.keys(patch).filter((k) => k !== 'version'),
          ...(newHead !== current.head_person_id
            ? {
                headPersonId: { from: current.head_person_id, to: newHead },
                relationToHead: relations.map(({ personId, from, to }) => ({ personId, from, to })),
              }
            : {}),
        },
      });
      for (const r of relations)
        await audit(trx, actor, {
          action: 'person.update',
          entityType: 'person',
          entityId: r.personId,
          regionCode: r.regionCode,
          details: {
            fields: ['relationToHead'],
            householdId: id,
            relationToHead: { from: r.from, to: r.to },
          },
        });
      return householdDetail(trx, updated, scopeRange(actor));
    });
  } catch (error) {
    await auditNamedNotFound(db, actor, error, { action: 'household.update', householdId: id });
    throw error;
  }
}

// ---------- duplicates and merge ----------

export interface DuplicateGroupView {
  reason: 'same_name_birth_township' | 'same_pinyin_birth';
  birthDate: string;
  persons: PersonSummary[];
}

/**
 * Possible duplicates among persons without an ID number (the ID number is unique, so persons
 * with one cannot be duplicated): the same name and birth date within a township, or the same
 * pinyin and birth date (同音字 typed differently) within a township too: a looser match than the
 * name's over a wider area would list every common name of a county. Scoped in SQL.
 */
export async function listDuplicates(
  db: Kysely<DB>,
  actor: Actor,
  options: { region?: string; limit?: number; cursor?: string },
): Promise<{ items: DuplicateGroupView[]; nextCursor: string | null }> {
  const scope = requireRead(actor);
  const region = options.region ?? '';
  const limit = options.limit ?? 100;
  // Groups come in the order of their first person's id, the name's group before the pinyin's; the
  // cursor is the last group's place in that order ("1234:2"), so paging shows every group once.
  const [afterFirst, afterReason] = (options.cursor ?? '0:0').split(':').map(Number) as [number, number];
  const rows = await sql<{
    reason: DuplicateGroupView['reason'];
    reason_order: number;
    birth_date: string;
    ids: number[];
  }>`
    WITH candidates AS (
      SELECT p.id, p.name, p.name_pinyin, p.birth_date, left(p.hukou_region_code, 9) AS township, p.id_number
      FROM persons p
      WHERE p.hukou_region_code >= ${scope[0]} AND p.hukou_region_code < ${scope[1]}
        AND p.hukou_region_code >= ${region} AND p.hukou_region_code < ${region + '\uffff'}
        AND p.merged_into IS NULL AND p.birth_date IS NOT NULL
    ),
    groups AS (
      SELECT 'same_name_birth_township' AS reason, 1 AS reason_order, birth_date,
        array_agg(id ORDER BY id) AS ids
      FROM candidates GROUP BY name, birth_date, township
      HAVING count(*) > 1 AND count(*) FILTER (WHERE id_number IS NULL) > 0
      UNION ALL
      SELECT 'same_pinyin_birth', 2, birth_date, array_agg(id ORDER BY id)
      FROM candidates WHERE name_pinyin <> ''
      GROUP BY name_pinyin, birth_date, township
      HAVING count(*) > 1 AND count(*) FILTER (WHERE id_number IS NULL) > 0 AND count(DISTINCT name) > 1
    )
    SELECT reason, reason_order, birth_date, ids FROM groups
    WHERE (ids[1], reason_order) > (${afterFirst}::bigint, ${afterReason}::int)
    ORDER BY ids[1], reason_order LIMIT ${limit + 1}`.execute(db);
  const page = rows.rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = rows.rows.length > limit && last ? `${Number(last.ids[0])}:${last.reason_order}` : null;
  const ids = [...new Set(page.flatMap((r) => r.ids.map(Number)))];
  // The list names persons (children among them): a read, audited like a search.
  await recordRead(db, actor, {
    action: 'person.duplicates.read',
    entityType: 'person',
    entityId: null,
    regionCode: options.region ?? (actor.regionCode || null),
    details: { groups: page.length, persons: ids.length },
  });
  const people = ids.length ? await searchPersonsByIds(db, ids) : new Map<number, PersonSummary>();
  return {
    nextCursor,
    items: page.map((r) => ({
      reason: r.reason,
      birthDate: r.birth_date,
      persons: r.ids.map((id) => people.get(Number(id))).filter((p): p is PersonSummary => p !== undefined),
    })),
  };
}

async function searchPersonsByIds(db: Kysely<DB>, ids: number[]): Promise<Map<number, PersonSummary>> {
  const rows = await repo.selectPersonSummaries(db).where('p.id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, toPersonSummary(r)]));
}

/**
 * Merges a duplicate into the person kept. Both histories stay: the facts and relations move to
 * the kept person (the facts keep their recorded_by and recorded_at), and the duplicate's row is
 * kept with merged_into set, so its id still resolves. Facts and links that would give the person
 * kept what no route records (two answers for a day, two spouses, two biological fathers) refuse the
 * merge with 409 naming them (mergeFacts, checkMergedLinks).
 */
export async function mergePerson(
  db: Kysely<DB>,
  actor: Actor,
  id: number,
  intoId: number,
  version: number,
  lang: Lang = 'zh',
): Promise<PersonDetail> {
  requireAccess(actor, 'persons.merge', { individual: true });
  if (id === intoId)
    throw invalid('intoId', { zh: '不能与自身合并', en: 'a person cannot be merged into themselves' });
  try {
    return await db.transaction().execute(async (trx) => {
      const scope = scopeRange(actor);
      // Both rows locked in id order: two clerks merging a pair each into the other wait for each
      // other instead of deadlocking; the second then finds the pair merged (409).
      const lower = await repo.findPersonForUpdate(trx, Math.min(id, intoId), scope);
      const higher = await repo.findPersonForUpdate(trx, Math.max(id, intoId), scope);
      const [duplicate, kept] = id < intoId ? [lower, higher] : [higher, lower];
      if (!duplicate) throw notFound(PERSON_NOT_FOUND);
      if (!kept) throw new NamedRecordNotFound('intoId', 'person', intoId);
      if (duplicate.version !== version) throw conflict();
      if (duplicate.merged_into !== null || kept.merged_into !== null)
        throw conflict({ zh: '该人员已被合并', en: 'One of the persons was merged already' });
      if (duplicate.id_number !== null && kept.id_number !== null && duplicate.id_number !== kept.id_number)
        throw invalid('intoId', {
          zh: '两人的公民身份号码不同，不是同一人',
          en: 'the two persons have different ID numbers; they are not the same person',
        });
      const movedId = duplicate.id_number;
      // The number the person kept receives must agree with their birth date and sex (DOMAIN.md 1).
      const moved = movedId && kept.id_number === null ? normalizeIdNumber(movedId) : null;
      const mismatch = moved?.ok
        ? checkIdAgainst(moved, { sex: kept.sex, birthDate: kept.birth_date })[0]
        : undefined;
      if (mismatch)
        throw invalid('intoId', {
          zh: `被合并人员的公民身份号码与保留人员不符：${mismatch.message.zh}`,
          en: `the merged person's ID number does not fit the person kept: ${mismatch.message.en}`,
        });
      // The households the duplicate heads get the person kept or no head (below): a change to each, which
      // a household registered outside the caller's region does not take from this caller (as leaveHead).
      const headed = await trx
        .selectFrom('households')
        .select(['id', 'hukou_region_code'])
        .where('head_person_id', '=', id)
        .orderBy('id')
        .forUpdate()
        .execute();
      if (headed.some((h) => !inScope(actor, h.hukou_region_code)))
        throw outsideRegion('intoId', {
          zh: '被合并的人员是一户的户主，而该户的户籍地在您的管辖范围以外：须先由管辖该户户籍地的工作人员在户信息中更换户主，再合并',
          en: 'the person merged away heads a household registered outside your region: staff whose region holds the household change its head first, then merge',
        });
      const facts = await mergeFacts(trx, duplicate, kept);
      await checkMergedLinks(trx, duplicate, kept);
      await checkMergedLinksAgainstDeath(trx, duplicate, kept);
      // The ID number is unique, so it moves: cleared on the duplicate first.
      await trx
        .updateTable('persons')
        .set({
          merged_into: intoId,
          id_number: null,
          no_id_reason: movedId ? `merged:${movedId.slice(-6)}` : (duplicate.no_id_reason ?? 'merged'),
          version: sql<number>`version + 1`,
          updated_at: sql<Date>`now()`,
        })
        .where('id', '=', id)
        .execute();
      const keptPatch: Record<string, unknown> = {};
      if (kept.id_number === null && movedId)
        Object.assign(keptPatch, { id_number: movedId, no_id_reason: null });
      if (kept.phone === null && duplicate.phone) keptPatch.phone = duplicate.phone;
      if (kept.household_id === null && duplicate.household_id) {
        keptPatch.household_id = duplicate.household_id;
        if (kept.relation_to_head === null && duplicate.relation_to_head !== null)
          keptPatch.relation_to_head = duplicate.relation_to_head;
      }
      const keptHousehold = (keptPatch.household_id as number | undefined) ?? kept.household_id;
      await trx
        .updateTable('persons')
        .set({ ...keptPatch, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
        .where('id', '=', intoId)
        .execute();
      const factsMoved = await trx
        .updateTable('person_facts')
        .set({ person_id: intoId })
        .where('person_id', '=', id)
        .returning('id')
        .execute();
      for (const e of facts.ended) await repo.endFact(trx, e.factId, intoId, e.to, e.by);
      for (const r of facts.retracted) {
        await repo.retractFact(trx, r.factId, intoId, actor.userId, `合并：与 #${r.sameAs} 相同`);
        // What the duplicate's copy ended, the copy kept ended: retracting that one reopens it.
        await repo.moveEndedBy(trx, intoId, r.factId, r.sameAs);
      }
      // Relations: re-pointed unless the kept person has the same one already (then the duplicate's
      // is closed and kept for the record).
      const relations = await trx
        .selectFrom('person_relations')
        .selectAll()
        .where((eb) => eb.or([eb('person_id', '=', id), eb('related_person_id', '=', id)]))
        .orderBy('id')
        .execute();
      const relationsMoved: number[] = [];
      const relationsClosed: { relationId: number; validTo: { from: string | null; to: string } }[] = [];
      for (const r of relations) {
        const personId = r.person_id === id ? intoId : r.person_id;
        const relatedId = r.related_person_id === id ? intoId : r.related_person_id;
        const self = personId === relatedId;
        const clash =
          self ||
          (r.valid_to === null &&
            (await trx
              .selectFrom('person_relations')
              .select('id')
              .where('kind', '=', r.kind)
              .where('valid_to', 'is', null)
              .where((eb) =>
                eb.or([
                  eb.and([eb('person_id', '=', personId), eb('related_person_id', '=', relatedId)]),
                  eb.and([
                    eb('person_id', '=', relatedId),
                    eb('related_person_id', '=', personId),
                    eb('kind', '=', 'spouse'),
                  ]),
                ]),
              )
              .executeTakeFirst()) !== undefined);
        if (clash) {
          const closed = await trx
            .updateTable('person_relations')
            .set({ valid_to: sql<string>`greatest(coalesce(valid_from, current_date) + 1, current_date)` })
            .where('id', '=', r.id)
            .returning('valid_to')
            .executeTakeFirstOrThrow();
          relationsClosed.push({
            relationId: r.id,
            validTo: { from: r.valid_to, to: closed.valid_to as string },
          });
        } else {
          await trx
            .updateTable('person_relations')
            .set({ person_id: personId, related_person_id: relatedId })
            .where('id', '=', r.id)
            .execute();
          relationsMoved.push(r.id);
        }
      }
      // The duplicate's retracted links follow it, as its retracted facts do, so that the file of the
      // person kept shows them (retractedRelations). A retracted link between the two records stays as
      // it is: the person kept is one of its ends already, and a link to oneself is no link.
      const retractedMoved = [
        ...(await trx
          .updateTable('person_relations_retracted')
          .set({ person_id: intoId })
          .where('person_id', '=', id)
          .where('related_person_id', '<>', intoId)
          .returning('id')
          .execute()),
        ...(await trx
          .updateTable('person_relations_retracted')
          .set({ related_person_id: intoId })
          .where('related_person_id', '=', id)
          .where('person_id', '<>', intoId)
          .returning('id')
          .execute()),
      ]
        .map((r) => r.id)
        .sort((a, b) => a - b);
      // A household the duplicate headed: the person kept heads it if they are its member; otherwise
      // it has no head until a clerk names one (the head is one of the members).
      const headsHandedOn = await trx
        .updateTable('households')
        .set({
          head_person_id:
            keptHousehold === null
              ? null
              : sql<number | null>`CASE WHEN id = ${keptHousehold} THEN ${intoId}::bigint END`,
          version: sql<number>`version + 1`,
          updated_at: sql<Date>`now()`,
        })
        .where('head_person_id', '=', id)
        .returning(['id', 'hukou_region_code', 'head_person_id'])
        .execute();
      await audit(trx, actor, {
        action: 'person.merge',
        entityType: 'person',
        entityId: id,
        regionCode: duplicate.hukou_region_code,
        // What moved, by id, so that a clerk can see it and the merge could be undone: the facts
        // (retracted ones too), the links re-pointed, the links closed as copies of one the person
        // kept has (with their previous end), the retracted links, the household place and the
        // households whose head the duplicate was. Field names only for what moved from the row
        // (the ID number, the phone): never their values (access/audit.ts).
        details: {
          intoId,
          ...(factsMoved.length ? { factsMoved: factsMoved.map((f) => f.id).sort((a, b) => a - b) } : {}),
          ...(facts.ended.length
            ? { ended: facts.ended.map(({ factId, from, to }) => ({ factId, from, to })) }
            : {}),
          ...(facts.retracted.length ? { retracted: facts.retracted } : {}),
          ...(relationsMoved.length ? { relationsMoved } : {}),
          ...(relationsClosed.length ? { relationsClosed } : {}),
          ...(retractedMoved.length ? { retractedRelationsMoved: retractedMoved } : {}),
          ...(Object.keys(keptPatch).length
            ? {
                fields: [
                  ...('id_number' in keptPatch ? ['idNumber'] : []),
                  ...('phone' in keptPatch ? ['phone'] : []),
                  ...('household_id' in keptPatch ? ['householdId'] : []),
                  ...('relation_to_head' in keptPatch ? ['relationToHead'] : []),
                ],
              }
            : {}),
          ...('household_id' in keptPatch
            ? {
                householdId: { from: kept.household_id, to: keptPatch.household_id },
                ...('relation_to_head' in keptPatch
                  ? { relationToHead: { from: kept.relation_to_head, to: keptPatch.relation_to_head } }
                  : {}),
              }
            : {}),
          ...(headsHandedOn.length
            ? {
                headOf: headsHandedOn
                  .map((h) => ({ householdId: h.id, headPersonId: { from: id, to: h.head_person_id } }))
                  .sort((a, b) => a.householdId - b.householdId),
              }
            : {}),
        },
      });
      await auditHeadChanges(
        trx,
        actor,
        headsHandedOn
          .sort((a, b) => a.id - b.id)
          .map((h) => ({
            householdId: h.id,
            regionCode: h.hukou_region_code,
            from: id,
            to: h.head_person_id,
          })),
        { action: 'person.merge', personId: id },
      );
      // The duplicate first (its periods end: the person kept now stands for it), then the person
      // kept, whose facts and links now include the duplicate's, with the relatives on those links.
      await personChanged(trx, id, { kind: 'merged_away', mergedInto: intoId });
      await personChanged(trx, intoId, { kind: 'merge_kept' });
      const after = await repo.findPerson(trx, intoId, scope);
      if (!after) throw notFound(PERSON_NOT_FOUND);
      return personDetail(trx, after, lang);
    });
  } catch (error) {
    await auditNamedNotFound(db, actor, error, { action: 'person.merge', personId: id });
    throw error;
  }
}

/** One of the two records of a merge, as its refusals name it. */
function mergeParty(row: repo.PersonRow, keptId: number): Message {
  return row.id === keptId
    ? { zh: `保留人员“${row.name}”(#${row.id})`, en: `the person kept, ${row.name} (#${row.id})` }
    : { zh: `被合并人员“${row.name}”(#${row.id})`, en: `the person merged away, ${row.name} (#${row.id})` };
}

/** A merge refused for what the two records hold: 409, with intoId named as the merge's other refusals name it. */
function mergeRefused(message: Message): DomainError {
  return new DomainError('CONFLICT', message, [{ path: 'intoId', message }]);
}

/** Whether the person had died (or was declared dead) by the day, by their facts (repo.diedBy). */
async function diedBy(trx: Transaction<DB>, personId: number, on: string): Promise<boolean> {
  const r = await sql<{ died: boolean }>`SELECT ${repo.diedBy(sql`${personId}::bigint`, on)} AS died`.execute(
    trx,
  );
  return r.rows[0]?.died === true;
}

/**
 * The links the merge puts side by side on the person kept, against the rules a link recorded on
 * them meets (addRelation), refused with 409 naming both links so that a clerk settles them first:
 * - two open marriages to different living persons: one spouse at a time (Civil Code art. 1042). A
 *   marriage whose spouse had died by the other one's start is a widow's old link, as addRelation
 *   lets it stay (a link without a start taken from today, as addRelation takes it). An open link can
 *   be ended (…/relations/{id}/end), so the refusal does not block the merge for good. Ended
 *   marriages are not checked against each other's periods (docs/DECISIONS.md session 12: no route
 *   corrects a link's dates, so such a refusal would block the merge for good);
 * - two different biological parents of one sex: one father and one mother. Ended links count too,
 *   as a biological link does not end (the only ended ones are a merge's closed copies of a link
 *   kept, whose parent is the same person). The same parent on both records is no conflict: the
 *   duplicate's copy is closed below;
 * - the duplicate's biological children, whose parent the person kept becomes with the kept
 *   person's sex: a second parent of that sex for a child;
 * - the duplicate's parent links read with the kept person's birth date (parentBirthProblem), where
 *   the duplicate's birth date fits them and the kept person's does not.
 */
async function checkMergedLinks(
  trx: Transaction<DB>,
  duplicate: repo.PersonRow,
  kept: repo.PersonRow,
): Promise<void> {
  const K = mergeParty(kept, kept.id);
  const D = mergeParty(duplicate, kept.id);
  const two = [kept.id, duplicate.id];
  const keptLinks = (await repo.listLinksWithOthers(trx, [kept.id])).filter((l) => !two.includes(l.other_id));
  const dupLinks = (await repo.listLinksWithOthers(trx, [duplicate.id])).filter(
    (l) => !two.includes(l.other_id),
  );
  const since = (l: repo.LinkWithOther): Message =>
    l.valid_from === null
      ? { zh: '未填开始日期', en: 'no start date' }
      : { zh: `自 ${l.valid_from}`, en: `since ${l.valid_from}` };

  const openMarriages = (links: repo.LinkWithOther[]) =>
    links.filter((l) => l.kind === 'spouse' && l.valid_to === null);
  for (const a of openMarriages(keptLinks))
    for (const b of openMarriages(dupLinks)) {
      if (a.other_id === b.other_id) continue;
      if (
        (await diedBy(trx, a.other_id, b.valid_from ?? today())) ||
        (await diedBy(trx, b.other_id, a.valid_from ?? today()))
      )
        continue;
      throw mergeRefused({
        zh: `无法合并：${K.zh}与配偶“${a.other_name}”(#${a.other_id})的婚姻关系 #${a.id}（${since(a).zh}）未结束，${D.zh}与配偶“${b.other_name}”(#${b.other_id})的婚姻关系 #${b.id}（${since(b).zh}）也未结束：合并后一人会同时有两位配偶（民法典第一千零四十二条）；请先在家庭关系中结束已解除或有误的那一个配偶关系，再合并`,
        en: `cannot merge: ${K.en} has a marriage on record that has not ended, the spouse link #${a.id} with ${a.other_name} (#${a.other_id}, ${since(a).en}), and so has ${D.en}, #${b.id} with ${b.other_name} (#${b.other_id}, ${since(b).en}): merged, the person would have two spouses at once (Civil Code art. 1042); end the spouse link that was dissolved or is wrong first, then merge`,
      });
    }

  const biologicalParents = (links: repo.LinkWithOther[], childId: number) =>
    links.filter(
      (l) =>
        l.kind === 'parent' && l.subtype === 'biological' && l.person_id === childId && l.other_sex !== null,
    );
  for (const a of biologicalParents(keptLinks, kept.id))
    for (const b of biologicalParents(dupLinks, duplicate.id)) {
      if (a.other_id === b.other_id || a.other_sex !== b.other_sex || a.other_sex === null) continue;
      const role = BIOLOGICAL_PARENT_WORDS[a.other_sex];
      throw mergeRefused({
        zh: `无法合并：${K.zh}登记的${role.zh}是“${a.other_name}”(#${a.other_id}，亲子关系 #${a.id})，${D.zh}登记的${role.zh}是“${b.other_name}”(#${b.other_id}，亲子关系 #${b.id})：一人只有一位生父和一位生母；如这两人是同一人，请先合并他们的记录，否则请先核实哪一位是${role.zh}`,
        en: `cannot merge: ${K.en} has ${a.other_name} (#${a.other_id}, parent link #${a.id}) as biological ${role.en}, and ${D.en} has ${b.other_name} (#${b.other_id}, parent link #${b.id}): a person has one biological father and one biological mother; if the two are one person, merge their records first, otherwise find out which one is the ${role.en}`,
      });
    }

  const dupChildren = dupLinks.filter(
    (l) => l.kind === 'parent' && l.subtype === 'biological' && l.related_person_id === duplicate.id,
  );
  if (kept.sex !== null && kept.sex !== duplicate.sex && dupChildren.length > 0) {
    const role = BIOLOGICAL_PARENT_WORDS[kept.sex];
    const coParents = await repo.listBiologicalParents(
      trx,
      dupChildren.map((l) => l.person_id),
    );
    for (const link of dupChildren) {
      const co = coParents.find(
        (p) => p.child_id === link.person_id && !two.includes(p.parent_id) && p.parent_sex === kept.sex,
      );
      if (co)
        throw mergeRefused({
          zh: `无法合并：${D.zh}是“${link.other_name}”(#${link.other_id})的亲生父母（亲子关系 #${link.id}），合并后按保留人员的性别（${kept.sex === 1 ? '男' : '女'}）是其${role.zh}，而“${link.other_name}”已登记${role.zh}“${co.parent_name}”(#${co.parent_id})：一人只有一位生父和一位生母；请先核对两条记录的性别`,
          en: `cannot merge: ${D.en} is a biological parent of ${link.other_name} (#${link.other_id}, parent link #${link.id}), with the sex of the person kept the ${role.en}, and ${link.other_name} has a biological ${role.en} on record already, ${co.parent_name} (#${co.parent_id}): a person has one biological father and one biological mother; check the sex on the two records first`,
        });
    }
  }

  for (const link of dupLinks) {
    if (link.kind !== 'parent') continue;
    // The same parent or child on the kept record: the duplicate's copy is closed, not moved.
    const sameOnKept = keptLinks.some(
      (l) =>
        l.kind === 'parent' &&
        l.other_id === link.other_id &&
        (l.person_id === kept.id) === (link.person_id === duplicate.id),
    );
    if (sameOnKept) continue;
    const subtype = link.subtype ?? 'biological';
    const other = { name: link.other_name, sex: link.other_sex, birthDate: link.other_birth_date };
    const asBorn = (row: repo.PersonRow) => ({ name: row.name, sex: row.sex, birthDate: row.birth_date });
    const problem = (row: repo.PersonRow) =>
      link.person_id === duplicate.id
        ? parentBirthProblem(asBorn(row), other, subtype)
        : parentBirthProblem(other, asBorn(row), subtype);
    const wrong = problem(kept);
    if (wrong && !problem(duplicate)) {
      const named = linkNamed(link, duplicate.id);
      throw mergeRefused({
        zh: `无法合并：按保留人员的出生日期 ${kept.birth_date}，${D.zh}${named.zh} 不成立（被合并人员出生于 ${duplicate.birth_date}）：${wrong.zh}`,
        en: `cannot merge: with the birth date of the person kept, ${kept.birth_date}, ${named.en} of ${D.en} (born ${duplicate.birth_date}) does not hold: ${wrong.en}`,
      });
    }
  }
}

/**
 * Nothing about a link begins after a death (docs/DECISIONS.md session 21, F2), held for the links a
 * merge brings to a death: the duplicate's links against a death (or declaration of death) recorded
 * on the person kept, and the kept person's links against one recorded on the duplicate, which the
 * person kept takes on. Checked as a death meets the links already recorded (checkLinksBeforeDeath):
 * the link's start, an entrustment form and, where the dead person is the carer, the carer's fitness
 * check, each dated after the death (and before a revoked declaration's end), refuse the merge with
 * 409 naming the link, the date and the death; the posthumous child's link to a father who died at
 * most POSTHUMOUS_DAYS before the birth is taken. A link without a start is history of unknown date
 * and is not checked, as a death recorded after it does not check it. Links of the two records to
 * each other are closed by the merge and not checked.
 */
async function checkMergedLinksAgainstDeath(
  trx: Transaction<DB>,
  duplicate: repo.PersonRow,
  kept: repo.PersonRow,
): Promise<void> {
  const deaths = await trx
    .selectFrom('person_facts')
    .select(['id', 'person_id', 'kind', 'valid_from', 'valid_to'])
    .where('person_id', 'in', [kept.id, duplicate.id])
    .where('kind', 'in', ['death', 'declared_dead'])
    .where('retracted_at', 'is', null)
    .orderBy('valid_from')
    .orderBy('id')
    .execute();
  if (!deaths.length) return;
  const two = [kept.id, duplicate.id];
  const links = (await repo.listLinksWithOthers(trx, two)).filter(
    (l) => !(two.includes(l.person_id) && two.includes(l.related_person_id)),
  );
  for (const death of deaths) {
    const dead = death.person_id === kept.id ? kept : duplicate;
    const brought = dead === kept ? duplicate : kept;
    const kind = death.kind as 'death' | 'declared_dead';
    const after = (date: string | null): date is string =>
      date !== null && date > death.valid_from && (death.valid_to === null || date < death.valid_to);
    for (const l of links) {
      if (l.person_id !== brought.id && l.related_person_id !== brought.id) continue;
      const asRelated = l.related_person_id === brought.id;
      const dated: [string | null, Message][] = [
        [l.valid_from, { zh: '开始日期', en: 'start' }],
        [l.entrustment_form_date, CARER_RECORD_DATES[0][1]],
        [asRelated ? l.carer_fitness_checked_on : null, CARER_RECORD_DATES[1][1]],
      ];
      for (const [date, what] of dated) {
        if (!after(date)) continue;
        // The posthumous child: the merged person, a man, is the father of a child born after his death.
        const posthumous =
          date === l.valid_from &&
          kind === 'death' &&
          l.kind === 'parent' &&
          (l.subtype ?? 'biological') === 'biological' &&
          asRelated &&
          kept.sex === 1 &&
          date === l.other_birth_date &&
          death.valid_from >= addDays(date, -POSTHUMOUS_DAYS);
        if (posthumous) continue;
        const D = mergeParty(dead, kept.id);
        const B = mergeParty(brought, kept.id);
        const link = LINK_WORDS[l.kind];
        const died =
          kind === 'death'
            ? { zh: '死亡', en: `died on ${death.valid_from}` }
            : { zh: '被宣告死亡', en: `was declared dead on ${death.valid_from}` };
        throw mergeRefused({
          zh: `无法合并：${D.zh}${died.zh}的日期为 ${death.valid_from}（记录 #${death.id}），而${B.zh}与“${l.other_name}”(#${l.other_id})的${link.zh} #${l.id} 的${what.zh}为 ${date}，晚于该日期：合并后这将是去世后才建立的关系（人去世后不能再建立关系）；请先核对该关系或该死亡记录（结束或撤回有误的一方），再合并`,
          en: `cannot merge: ${D.en} ${died.en} (record #${death.id}), and the ${what.en} of the ${link.en} #${l.id} of ${B.en} with ${l.other_name} (#${l.other_id}) is ${date}, after it: merged, the link would begin after the death (nothing about a link begins after a death); check that link or that death first (retract the one that is wrong), then merge`,
        });
      }
    }
  }
}

/** The same period and data: the one fact recorded on both records of the person. */
function sameFact(a: repo.FactRow, b: repo.FactRow): boolean {
  const data = (f: repo.FactRow) =>
    JSON.stringify(Object.entries(f.data as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)));
  return (
    a.kind === b.kind && a.valid_from === b.valid_from && a.valid_to === b.valid_to && data(a) === data(b)
  );
}

/**
 * The duplicate's facts joined to the kept person's under the one-answer rule of a new fact
 * (checkFactPeriod), taken in the order they began: a fact recorded on both records is kept once
 * (the duplicate's copy retracted, so it stays in the history); an open fact ends the day a later
 * one of the same kind from the other record begins; any other overlap, a second death or a fact
 * after the death refuses the merge with 409 naming the fact, so that a clerk ends or retracts one
 * first. Nothing is written here; the caller ends and retracts once the facts have moved.
 */
async function mergeFacts(
  trx: Transaction<DB>,
  duplicate: repo.PersonRow,
  kept: repo.PersonRow,
): Promise<{
  /** `by`: the fact whose start ends it. */
  ended: { factId: number; from: string; to: string; by: number }[];
  retracted: { factId: number; sameAs: number }[];
}> {
  const stored = await repo.listActiveFacts(trx, [kept.id, duplicate.id]);
  const ownedFact: FactNamer = (f) => {
    const owner = mergeParty(f.person_id === kept.id ? kept : duplicate, kept.id);
    return {
      zh: `${owner.zh}的${factLabel(f.kind).zh}记录 #${f.id}`,
      en: `the ${factLabel(f.kind).en} #${f.id} of ${owner.en}`,
    };
  };
  const order = (f: repo.FactRow) => `${f.valid_from} ${f.person_id === kept.id ? 0 : 1}`;
  stored.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : a.id - b.id));
  const accepted: repo.FactRow[] = [];
  const ended: { factId: number; from: string; to: string; by: number }[] = [];
  const retracted: { factId: number; sameAs: number }[] = [];
  for (const f of stored) {
    const others = accepted.filter((a) => a.person_id !== f.person_id);
    // The kept person's fact comes first of two that begin the same day.
    const twin = f.person_id === duplicate.id ? others.find((a) => sameFact(a, f)) : undefined;
    if (twin) {
      retracted.push({ factId: f.id, sameAs: twin.id });
      continue;
    }
    if (!isFactKind(f.kind)) continue;
    let ends: { factId: number; from: string; to: string }[];
    try {
      ends = checkFactPeriod(
        others,
        f.kind,
        f.valid_from,
        f.valid_to,
        {
          who: { zh: `保留人员“${kept.name}”`, en: `the person kept, ${kept.name}` },
          birthDate: kept.birth_date,
        },
        (other) => ownedFact(other),
      );
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // Each fact named with whose record it is on: the two are walked together, so the fact being
      // joined may be the kept person's and the one it meets the duplicate's.
      const why = error.details[0]?.message ?? error.userMessage;
      const period = `[${f.valid_from}, ${f.valid_to ?? '…'})`;
      const fact = ownedFact(f);
      throw mergeRefused({
        zh: `无法合并：${fact.zh} ${period} ${why.zh}`,
        en: `cannot merge: ${fact.en} ${period}: ${why.en}`,
      });
    }
    for (const e of ends) {
      ended.push({ ...e, by: f.id });
      const closed = accepted.find((a) => a.id === e.factId);
      if (closed) closed.valid_to = e.to;
    }
    accepted.push({ ...f });
  }
  return { ended, retracted };
}

// ---------- imports and exports ----------

export interface SubmitImport {
  fileName: string;
  /** The upload, streamed to the data folder while its SHA-256 is computed. */
  stream: NodeJS.ReadableStream;
  dryRun: boolean;
  kind: ImportKind;
}

const IMPORT_NOT_FOUND = { zh: '未找到该导入', en: 'Import not found' };

/**
 * Stores an upload and queues its import. The same file from the same user for the same region with
 * the same dry-run flag is the same import: submitting it again returns the first one.
 */
export async function submitImport(ctx: AppContext, actor: Actor, input: SubmitImport): Promise<ImportView> {
  requireAccess(actor, 'imports.run', { individual: true });
  if (actor.regionCode.length < 6)
    throw new DomainError('FORBIDDEN', {
      zh: '导入须由县级及以下用户执行',
      en: 'Imports are run by users of a county or below',
    });
  // The reader's own refusal (an old .xls is told to be saved as .xlsx), before the upload is kept.
  const ext = `.${fileKind(input.fileName)}`;
  const dir = importsDir(ctx);
  await fs.promises.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `upload-${randomUUID()}${ext}`);
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(input.stream, tap, fs.createWriteStream(temp));
  } catch (error) {
    // An upload cut short (or refused as too large) leaves nothing behind: repeated, the partial
    // files would fill the disk.
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
  const sha256 = hash.digest('hex');
  const stored = path.join(dir, `${sha256}${ext}`);
  await fs.promises.rename(temp, stored);
  // The type the file is read as is part of the key: a CSV named .xlsx by mistake is refused, and the
  // same bytes sent again as .csv are another import. So is the region it is imported for: a user
  // moved to another township who sends the file again makes a new import there, not the old one
  // she can no longer open.
  const key = `${sha256}:${uploaderOf(actor)}:${input.dryRun ? 'dry' : 'run'}:${input.kind}:${ext.slice(1)}:${actor.regionCode}`;
  // The same file is the same import while that import is queued or running (a double click, an upload
  // retried). Once it has finished, sending the file again is a new import: the clerk who registered
  // the father a row error named, and sends the file again, gets the row imported, not the old answer
  // (a re-import writes only what differs, so an unchanged file changes nothing). The finished import
  // keeps its key with its id appended.
  await ctx.db
    .updateTable('imports')
    .set({ idempotency_key: sql<string>`idempotency_key || ':#' || id::text` })
    .where('idempotency_key', '=', key)
    .where('status', 'not in', ['queued', 'running'])
    .execute();
  const created = await ctx.db
    .insertInto('imports')
    .values({
      idempotency_key: key,
      file_name: path.basename(input.fileName).slice(0, 255),
      stored_path: stored,
      sha256,
      kind: input.kind,
      dry_run: input.dryRun,
      created_by: actor.userId,
      region_code: actor.regionCode,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (created) {
    const jobId = await ctx.jobs.enqueue(
      registryImportJob(ctx),
      { importId: created.id, actor: jobActorOf(actor) },
      {
        idempotencyKey: `registry.import:${created.id}`,
        createdBy: actor.userId,
        regionCode: actor.regionCode,
      },
    );
    await ctx.db.updateTable('imports').set({ job_id: jobId }).where('id', '=', created.id).execute();
    await audit(ctx.db, actor, {
      action: 'registry.import.submit',
      entityType: 'import',
      entityId: created.id,
      regionCode: actor.regionCode,
      details: { sha256, dryRun: input.dryRun, kind: input.kind },
    });
  }
  const row = await ctx.db
    .selectFrom('imports')
    .select('id')
    .where('idempotency_key', '=', key)
    .executeTakeFirstOrThrow();
  return importView(ctx, actor, row.id, 'zh');
}

/**
 * The past imports in the actor's scope, newest first, a page at a time (keyset on the id). The
 * scope is the one that opens a single import (GET /imports/{id}): imports made for a region within
 * the actor's range, which includes every import she made from her current region. The list holds
 * file names, counts and who imported, no row of any file, so it is not a read of personal data
 * and is not audited (opening an import's error report is what shows rows).
 */
export async function listImports(
  ctx: AppContext,
  actor: Actor,
  query: ImportListQuery,
): Promise<ImportList> {
  requireAccess(actor, 'imports.run', { individual: true });
  const [from, to] = scopeRange(actor);
  const limit = query.limit ?? 50;
  let q = ctx.db
    .selectFrom('imports')
    .select([
      'id',
      'file_name',
      'kind',
      'dry_run',
      'status',
      'counts',
      'region_code',
      'created_by',
      'created_at',
      'finished_at',
    ])
    .where('region_code', '>=', from)
    .where('region_code', '<', to);
  if (query.cursor) q = q.where('id', '<', Number(query.cursor));
  const rows = await q
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const names = await userNames(
    ctx.db,
    page.flatMap((r) => (r.created_by === null ? [] : [Number(r.created_by)])),
  );
  const items = page.map((r): ImportListItem => {
    const who = r.created_by === null ? undefined : names.get(Number(r.created_by));
    return {
      id: Number(r.id),
      fileName: r.file_name,
      kind: r.kind,
      dryRun: r.dry_run,
      status: r.status,
      counts: r.counts,
      regionCode: r.region_code,
      createdBy: who && r.created_by !== null ? { id: Number(r.created_by), ...who } : null,
      createdAt: r.created_at.toISOString(),
      finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
    };
  });
  return { items, nextCursor: rows.length > limit ? String(page[page.length - 1]?.id) : null };
}

async function loadImport(ctx: AppContext, actor: Actor, id: number) {
  requireAccess(actor, 'imports.run', { individual: true });
  const [from, to] = scopeRange(actor);
  const row = await ctx.db
    .selectFrom('imports')
    .selectAll()
    .where('id', '=', id)
    .where('region_code', '>=', from)
    .where('region_code', '<', to)
    .executeTakeFirst();
  if (!row) throw notFound(IMPORT_NOT_FOUND);
  return row;
}

/**
 * An import as its page shows it. A child ledger import's review names the children whose ledger
 * answers the rules do not share, with their parents' circumstances: opening such an import is a read
 * of children's data and is audited (`import.review.read`, once per opening; the page polls only while
 * the import runs, before there is a review). Counts and messages alone name nobody.
 */
export async function getImport(ctx: AppContext, actor: Actor, id: number, lang: Lang): Promise<ImportView> {
  const view = await importView(ctx, actor, id, lang);
  if (view.review?.count)
    await recordRead(ctx.db, actor, {
      action: 'import.review.read',
      entityType: 'import',
      entityId: view.id,
      regionCode: view.regionCode,
      details: { disagreements: view.review.count },
    });
  return view;
}

async function importView(ctx: AppContext, actor: Actor, id: number, lang: Lang): Promise<ImportView> {
  const row = await loadImport(ctx, actor, id);
  const job = row.job_id ? await ctx.jobs.get(row.job_id) : null;
  const message = importMessage(row.message, row.id, lang);
  return {
    id: row.id,
    fileName: row.file_name,
    sha256: row.sha256,
    kind: row.kind,
    dryRun: row.dry_run,
    status: row.status,
    message,
    counts: row.counts,
    progress: job
      ? { done: job.progress.done, total: job.progress.total, message: job.progress.message }
      : null,
    errorReport: row.error_report_path
      ? { xlsx: `/api/v1/imports/${row.id}/errors.xlsx`, csv: `/api/v1/imports/${row.id}/errors.csv` }
      : null,
    review: reviewView(row.id, row.review as LedgerReview | null, row.review_report_path !== null, lang),
    jobId: row.job_id,
    regionCode: row.region_code,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
  };
}

/**
 * An import's message in the caller's language. The import writes its own messages as {zh, en}; any
 * other text is an unexpected failure's error message (a database error naming tables and
 * constraints, a file error naming the server's paths), which stays in the imports and jobs tables
 * for the operator and never goes out to a user.
 */
function importMessage(stored: string | null, id: number, lang: Lang): string | null {
  if (!stored) return null;
  try {
    const parsed = JSON.parse(stored) as unknown;
    const text =
      typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[lang] : null;
    if (typeof text === 'string') return text;
  } catch {
    // not one of the import's own messages
  }
  return lang === 'zh'
    ? `导入因系统内部错误未能完成 (导入编号 ${id})，请稍后重新上传；如仍失败，请联系系统管理员`
    : `The import stopped on an internal error (import ${id}); upload the file again later, and if it fails again, contact the system administrator`;
}

/** A child ledger import's review in the caller's language (registry.import-ledger.ts). */
function reviewView(
  id: number,
  review: LedgerReview | null,
  hasReport: boolean,
  lang: Lang,
): ImportView['review'] {
  if (!review) return null;
  return {
    asOf: review.asOf,
    rowsChecked: review.rowsChecked,
    count: review.disagreements.length,
    disagreements: review.disagreements.map((d) => ({
      rowNumber: d.rowNumber,
      sheet: d.sheet ?? null,
      personId: d.personId,
      name: d.name,
      question: d.question,
      declared: d.declared,
      derived: d.derived,
      reasons: d.reasons[lang],
      text: d.text[lang],
      groups: d.groups[lang],
    })),
    report: hasReport
      ? { xlsx: `/api/v1/imports/${id}/review.xlsx`, csv: `/api/v1/imports/${id}/review.csv` }
      : null,
  };
}

/** The review file of a child ledger import (the rows whose answers disagree with the rules). */
export async function importReviewReport(
  ctx: AppContext,
  actor: Actor,
  id: number,
  format: 'xlsx' | 'csv',
): Promise<string> {
  const row = await loadImport(ctx, actor, id);
  if (!row.review_report_path)
    throw notFound({
      zh: '该导入没有台账与规则不一致的报告',
      en: 'This import has no report of ledger answers that disagree with the rules',
    });
  await releaseImportReport(ctx, actor, row, 'review', format);
  const file = `${row.review_report_path}.${format}`;
  if (!fs.existsSync(file)) throw notFound({ zh: '报告文件不存在', en: 'The report file is missing' });
  return file;
}

/** Who uploaded a file, as an import's idempotency key records it: u<user id> or t<token id>. */
function uploaderOf(actor: Actor): string {
  return actor.userId !== null ? `u${actor.userId}` : `t${actor.tokenId ?? 0}`;
}

/**
 * An import's error report and ledger review carry the file's own cells, ID numbers and phones in
 * full, for fixing and uploading again: they go to the one who uploaded the file (who had it
 * anyway) and to roles that may reveal; anyone else in scope sees the import's counts and messages
 * only. Every download is audited like a reveal.
 */
async function releaseImportReport(
  ctx: AppContext,
  actor: Actor,
  row: { id: number; idempotency_key: string; region_code: string },
  report: 'errors' | 'review',
  format: 'xlsx' | 'csv',
): Promise<void> {
  const uploader = row.idempotency_key.split(':')[1];
  if (uploader !== uploaderOf(actor) && !hasPermission(actor, 'persons.reveal'))
    throw forbidden({
      zh: '该报告含完整的身份证号码和电话，只提供给上传文件的人和有权查看完整号码的人员',
      en: 'The report holds full ID numbers and phones: it is for the one who uploaded the file and for roles that may reveal them',
    });
  await audit(ctx.db, actor, {
    action: `import.${report}.download`,
    entityType: 'import',
    entityId: row.id,
    regionCode: row.region_code,
    details: { format },
  });
}

/** The error report file of an import (the rejected rows with 错误原因). */
export async function importErrorReport(
  ctx: AppContext,
  actor: Actor,
  id: number,
  format: 'xlsx' | 'csv',
): Promise<string> {
  const row = await loadImport(ctx, actor, id);
  if (!row.error_report_path)
    throw notFound({ zh: '该导入没有错误报告', en: 'This import has no error report' });
  await releaseImportReport(ctx, actor, row, 'errors', format);
  const file = `${row.error_report_path}.${format}`;
  if (!fs.existsSync(file))
    throw notFound({ zh: '错误报告文件不存在', en: 'The error report file is missing' });
  return file;
}

/**
 * Checks and audits an export of a region's registry; call before the first byte goes out. The
 * file carries ID numbers and phones, so it is a reveal in bulk: full only for a role that may
 * reveal (persons.reveal), masked like every other answer for the rest (whose export is then for
 * reading, not for importing back). Resolves with whether to mask.
 */
export async function authorizeExport(
  ctx: AppContext,
  actor: Actor,
  regionCode: string,
  format: 'xlsx' | 'csv',
): Promise<{ masked: boolean }> {
  requireAccess(actor, 'exports.run', { individual: true });
  // Regions are public reference data: a region outside the scope is a refusal (403, audited as
  // every refusal is), not a record whose existence must be hidden.
  if (!inScope(actor, regionCode))
    throw forbidden({
      zh: `行政区划 ${regionCode} 不在您的管辖范围内`,
      en: `Region ${regionCode} is not in your scope`,
    });
  const masked = !hasPermission(actor, 'persons.reveal');
  await audit(ctx.db, actor, {
    action: 'registry.export',
    entityType: 'region',
    entityId: regionCode,
    regionCode,
    details: { format, masked },
  });
  return { masked };
}

/**
 * What the registry export of a region leaves out, and why (exportGaps): said beside the download so
 * that a file which is not the whole registry of the region is never taken for it. The same permission
 * and scope as the export; audited, since it names persons.
 */
export async function registryExportGaps(
  ctx: AppContext,
  actor: Actor,
  regionCode: string,
): Promise<ExportGaps> {
  requireAccess(actor, 'exports.run', { individual: true });
  if (!inScope(actor, regionCode))
    throw forbidden({
      zh: `行政区划 ${regionCode} 不在您的管辖范围内`,
      en: `Region ${regionCode} is not in your scope`,
    });
  const gaps = await exportGaps(ctx.db, regionCode);
  await audit(ctx.db, actor, {
    action: 'registry.export.gaps',
    entityType: 'region',
    entityId: regionCode,
    regionCode,
    details: { persons: gaps.persons.length, linksWithoutIdNumber: gaps.linksWithoutIdNumber },
  });
  return gaps;
}

async function* maskedRecords(records: AsyncIterable<RegistryRecord>): AsyncGenerator<RegistryRecord> {
  const id = (value: string | null) => (value === null ? null : maskIdNumber(value));
  // Every free-text column, as the person file shows the same texts (maskFactData for a fact's data):
  // a ledger writes a migrant's contact number into 外出务工地, a clerk a school's phone into 学校名称.
  // The name and 户编号 stay: the person file shows them whole, and 户编号 is how a file is matched.
  const text = (value: string | null) => (value === null ? null : maskNumbersInText(value));
  for await (const r of records)
    yield {
      ...r,
      idNumber: id(r.idNumber),
      noIdReason: text(r.noIdReason),
      ethnicity: text(r.ethnicity),
      relationToHead: maskNumbersInText(r.relationToHead),
      migrationDestination: text(r.migrationDestination),
      school: text(r.school),
      phone: r.phone === null ? null : maskPhone(r.phone),
      fatherIdNumber: id(r.fatherIdNumber),
      motherIdNumber: id(r.motherIdNumber),
      spouseIdNumber: id(r.spouseIdNumber),
      carerIdNumber: id(r.carerIdNumber),
    };
}

/**
 * Streams the registry of a region in the template (after authorizeExport, masked as it said). The
 * download stops when the actor's sign-in no longer stands (signInGuard): a slow reader cannot keep a
 * county's export flowing after the account was disabled, narrowed or signed out.
 */
export function streamRegistry(
  ctx: AppContext,
  actor: Actor,
  regionCode: string,
  format: 'xlsx' | 'csv',
  target: Writable,
  options: { masked: boolean },
): Promise<number> {
  const records = signInGuard(ctx, actor, registryRecords(ctx.db, regionCode), {
    action: 'registry.export',
    entityType: 'region',
    entityId: regionCode,
    regionCode,
  });
  return writeRegistryRecords(target, options.masked ? maskedRecords(records) : records, { format });
}
