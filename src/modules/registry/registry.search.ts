// Finding persons the ways clerks look for them: the full ID number, the last six characters with
// the name, the Chinese name (exact or prefix), the full pinyin or the initials (zxm finds 张晓明),
// the phone, the household number, the region. Every search is scoped in SQL to the actor's
// region range; keyset pagination by id.
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { today } from '../../platform/dates.ts';
import { normalizeCell, normalizeName, normalizePhone } from '../../platform/normalize.ts';
import { normalizeIdNumber } from './registry.idnumber.ts';
import { selectPersonSummaries, type Db, type PersonSummaryRow, type Scope } from './registry.repository.ts';
import type { FactKind } from './registry.facts.ts';
import { nameSpellings } from './registry.rules.ts';

export interface PersonSearch {
  idNumber?: string;
  q?: string;
  region?: string;
  householdNo?: string;
  fact?: FactKind;
  /** A condition on `p.id` (membership of care groups, lent by the groups module). */
  inGroups?: Expression<SqlBool>;
  /**
   * A phone's first digits find the numbers that begin with them (1381 finds 13812345678): only for
   * a reader who may reveal phones. For anyone else the list shows 138****5678, and searches by
   * 1380 ... 1389, then by five digits and so on, would read the hidden digits back in 40 tries. So
   * for them a partial number is compared whole, and finds nobody (a stored phone is a whole number).
   */
  phonePrefix?: boolean;
  limit: number;
  afterId?: number;
}

type Criterion =
  | { by: 'idNumber'; value: string }
  | { by: 'idTail'; tail: string; name: string | null }
  | { by: 'name'; value: string; pinyin: string }
  | { by: 'pinyin'; value: string }
  | { by: 'phone'; value: string }
  | { by: 'nothing' };

const TAIL = /^[0-9]{5}[0-9Xx]$/;
const HAN = /\p{Script=Han}/u;
const LATIN_NAME_DOTS = /[·•・.]/g;
// The last six characters typed against the name, before or after it (张晓明31002X).
const TAIL_AFTER_NAME = /(?<=\p{Script=Han})(?=[0-9]{5}[0-9Xx](?:\s|$))/gu;
const TAIL_BEFORE_NAME = /(?<=(?:^|\s)[0-9]{5}[0-9Xx])(?=\p{Script=Han})/gu;

/**
 * What the words of a free-text query mean. The query is read as a name cell is (full-width made
 * half-width, spaces between characters dropped, the name dot unified: normalizeName), and ü is
 * typed v as in the stored pinyin. Pure; exported for tests.
 */
export function interpretQuery(q: string, asOf: string = today()): Criterion {
  const text = (normalizeName(q) ?? '')
    .replace(/[üÜ]/g, 'v')
    .replace(TAIL_AFTER_NAME, ' ')
    .replace(TAIL_BEFORE_NAME, ' ');
  const id = normalizeIdNumber(text.replace(/\s/g, ''), asOf);
  if (id.ok) return { by: 'idNumber', value: id.value };
  const words = text.split(' ');
  const tail = words.find((w) => TAIL.test(w));
  if (tail) {
    const rest = words.filter((w) => w !== tail).join('');
    return { by: 'idTail', tail: tail.toUpperCase(), name: rest || null };
  }
  const compact = text.replace(/\s/g, '');
  if (HAN.test(compact)) return { by: 'name', value: compact, pinyin: nameSpellings(compact).pinyin };
  // Pinyin of a transliterated name typed with its dot (ayiguli·maimaiti): the stored pinyin has none.
  const letters = compact.replace(LATIN_NAME_DOTS, '');
  if (/^[A-Za-z]+$/.test(letters)) return { by: 'pinyin', value: letters.toLowerCase() };
  const phone = normalizePhone(compact);
  if (phone.ok) return { by: 'phone', value: phone.value };
  if (/^[0-9-]{4,}$/.test(compact)) return { by: 'phone', value: compact };
  return { by: 'nothing' };
}

function likePrefix(value: string): string {
  return value.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

type EB = ExpressionBuilder<DB & { p: DB['persons'] }, 'p'>;

function criterionWhere(eb: EB, c: Criterion, phonePrefix: boolean): Expression<SqlBool> {
  switch (c.by) {
    case 'idNumber':
      return eb('p.id_number', '=', c.value);
    case 'idTail':
      return c.name
        ? eb.and([
            eb('p.id_tail', '=', c.tail),
            eb.or([
              eb('p.name', '=', c.name),
              eb('p.name_pinyin', '=', c.name.toLowerCase()),
              // The initials, whole, as a query of initials alone matches them (02002X zxm).
              eb('p.name_initials', '=', c.name.toLowerCase()),
            ]),
          ])
        : eb('p.id_tail', '=', c.tail);
    case 'name':
      // A transliterated name typed without its dot (买买提艾力 for 买买提·艾力): the same pinyin
      // (indexed) and the same characters once the dot is left out.
      return eb.or([
        eb('p.name', '=', c.value),
        eb('p.name', 'like', likePrefix(c.value)),
        eb.and([
          eb('p.name_pinyin', '=', c.pinyin),
          eb(sql<string>`replace(p.name, '·', '')`, '=', c.value.replaceAll('·', '')),
        ]),
      ]);
    case 'pinyin':
      // Initials match whole ("zxm" is 张晓明, not every name starting z-x-m); full pinyin matches
      // as a prefix once it is long enough to be selective ("zhangx"), and whole below that ("wue" is
      // 吴娥, "yi" is 易). A prefix over initials would fetch thousands of rows on a county registry for
      // every short query.
      return c.value.length >= 4
        ? eb.or([eb('p.name_initials', '=', c.value), eb('p.name_pinyin', 'like', likePrefix(c.value))])
        : eb.or([eb('p.name_initials', '=', c.value), eb('p.name_pinyin', '=', c.value)]);
    case 'phone':
      return c.value.length >= 11 || c.value.includes('-') || !phonePrefix
        ? eb('p.phone', '=', c.value)
        : eb('p.phone', 'like', likePrefix(c.value));
    case 'nothing':
      return sql<SqlBool>`false`;
  }
}

/** One page of persons matching the search within the scope, ordered by id. */
export async function searchPersons(db: Db, scope: Scope, search: PersonSearch): Promise<PersonSummaryRow[]> {
  let query = selectPersonSummaries(db)
    .where('p.hukou_region_code', '>=', scope[0])
    .where('p.hukou_region_code', '<', scope[1])
    .where('p.merged_into', 'is', null);
  if (search.region) {
    query = query
      .where('p.hukou_region_code', '>=', search.region)
      .where('p.hukou_region_code', '<', search.region + '\uffff');
  }
  if (search.idNumber !== undefined) {
    const id = normalizeIdNumber(search.idNumber);
    query = query.where('p.id_number', '=', id.ok ? id.value : search.idNumber.trim().toUpperCase());
  }
  if (search.q !== undefined) {
    const criterion = interpretQuery(search.q);
    query = query.where((eb) => criterionWhere(eb, criterion, search.phonePrefix ?? false));
  }
  if (search.householdNo !== undefined) {
    // Read as the number is stored (a cell: full-width made half-width, invisible characters and
    // padding dropped), and without regard to case: clerks type hb-001 for HB-001.
    const householdNo = normalizeCell(search.householdNo) ?? '';
    query = query.where(sql<SqlBool>`upper(h.household_no) = upper(${householdNo})`);
  }
  if (search.fact !== undefined) {
    const kind = search.fact;
    const on = today();
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('person_facts as f')
          .select(sql`1`.as('one'))
          .whereRef('f.person_id', '=', 'p.id')
          .where('f.kind', '=', kind)
          .where('f.retracted_at', 'is', null)
          .where('f.valid_from', '<=', on)
          .where((eb) => eb.or([eb('f.valid_to', 'is', null), eb('f.valid_to', '>', on)])),
      ),
    );
  }
  if (search.inGroups !== undefined) query = query.where(search.inGroups);
  if (search.afterId !== undefined) query = query.where('p.id', '>', search.afterId);
  return query.orderBy('p.id').limit(search.limit).execute();
}
