// The care groups' words as the pages show them: group names, the sub-categories a member list
// carries (the grounds of a distressed child or a special-difficulty elderly, a high-age band) and
// counts. The server sends codes ("poverty,disability", "80-89"); a page never shows one raw. Kept
// free of React and the DOM so that a server test can hold it to the rules (groups.stats-review.test.ts).
import type { Lang, Localized } from '../i18n.ts';
import type { GroupCode } from './groups.ts';

/** The care groups' names (the server's GROUP_LABELS), usable before any answer has arrived. */
export const GROUP_NAMES: Readonly<Record<GroupCode, Localized>> = {
  left_behind_child: { zh: '农村留守儿童', en: 'rural left-behind child' },
  de_facto_unsupported_child: { zh: '事实无人抚养儿童', en: 'de facto unsupported child' },
  orphan: { zh: '孤儿', en: 'orphan' },
  distressed_child: { zh: '困境儿童', en: 'child in distress' },
  left_behind_elderly: { zh: '农村留守老年人', en: 'rural left-behind elderly' },
  left_behind_woman: { zh: '农村留守妇女', en: 'rural left-behind woman' },
  high_age_elderly: { zh: '高龄老年人', en: 'high-age elderly' },
  disabled_elderly: { zh: '失能老年人', en: 'disabled elderly' },
  special_difficulty_elderly: { zh: '特殊困难老年人', en: 'elderly with special difficulties' },
};

/** The grounds a member's sub-category lists (groups.rules.ts: distressed child, special difficulty). */
export const SUB_CATEGORY_NAMES: Readonly<Record<string, Localized>> = {
  poverty: { zh: '家庭经济困难', en: 'family poverty' },
  disability: { zh: '自身残疾', en: 'own disability' },
  guardianship_failure: { zh: '监护缺失或监护不当', en: 'guardianship failure' },
  alone: { zh: '独居', en: 'living alone' },
  empty_nest: { zh: '空巢', en: 'empty nest' },
  left_behind: { zh: '留守', en: 'left behind' },
  disabled: { zh: '失能', en: 'disabled' },
  family_planning_special: { zh: '计划生育特殊家庭', en: 'family-planning special family' },
};

/** A group's name; an unknown code (a group added on the server first) is shown as it came. */
export function groupName(code: string, lang: Lang): string {
  return (GROUP_NAMES as Readonly<Record<string, Localized>>)[code]?.[lang] ?? code;
}

const AGE_BAND = /^(\d{1,3})(?:-(\d{1,3})|\+)$/;

/** A member's sub-category in words: each listed ground, or a high-age band ("80-89" -> 80-89岁). */
export function subCategoryName(subCategory: string, lang: Lang): string {
  const band = AGE_BAND.exec(subCategory);
  if (band)
    return band[2] === undefined
      ? lang === 'zh'
        ? `${band[1]}岁及以上`
        : `aged ${band[1]} and over`
      : lang === 'zh'
        ? `${band[1]}-${band[2]}岁`
        : `aged ${band[1]}-${band[2]}`;
  return subCategory
    .split(',')
    .filter(Boolean)
    .map((code) => SUB_CATEGORY_NAMES[code]?.[lang] ?? code)
    .join(lang === 'zh' ? '、' : ', ');
}

const NUMBER_FORMATS: Record<Lang, Intl.NumberFormat> = {
  zh: new Intl.NumberFormat('zh-CN'),
  en: new Intl.NumberFormat('en-US'),
};

/** A count as a table cell shows it: grouped digits, or the server's "<5" / "*" for a suppressed one. */
export function countText(
  cell: { value: number | null; suppressed: boolean; display: string } | undefined,
  lang: Lang,
): string {
  if (!cell) return NUMBER_FORMATS[lang].format(0);
  if (cell.suppressed || cell.value === null) return cell.display;
  return NUMBER_FORMATS[lang].format(cell.value);
}
