// China's 56 peoples (民族) as the registry and the division's names write them: the ledger reads an
// autonomous area's name without its peoples (黔南布依族苗族自治州 → 黔南), and the generator gives an
// autonomous county the peoples it is named for.

/** The 55 ethnic minorities' names and 汉, as autonomous areas name them (布依族, 维吾尔, 蒙古族). */
export const ETHNIC_NAMES = [
  '汉', '蒙古', '回', '藏', '维吾尔', '苗', '彝', '壮', '布依', '朝鲜', '满', '侗', '瑶', '白', '土家', '哈尼',
  '哈萨克', '傣', '黎', '傈僳', '佤', '畲', '高山', '拉祜', '水', '东乡', '纳西', '景颇', '柯尔克孜', '土',
  '达斡尔', '仫佬', '羌', '布朗', '撒拉', '毛南', '仡佬', '锡伯', '阿昌', '普米', '塔吉克', '怒', '乌孜别克',
  '俄罗斯', '鄂温克', '德昂', '保安', '裕固', '京', '塔塔尔', '独龙', '鄂伦春', '赫哲', '门巴', '珞巴', '基诺',
]; // prettier-ignore

const AUTONOMOUS = /自治(?:区|州|县|旗)$/;
/** One people at the start of a text, longest name first (土家 before 土), with or without 族. */
const PEOPLE_AT_START = new RegExp(
  `^(${[...ETHNIC_NAMES].sort((a, b) => b.length - a.length).join('|')})族?`,
);

/**
 * The peoples an autonomous area is named for, as registry ethnicities (长阳土家族自治县 → [土家族];
 * 黔南布依族苗族自治州 → [布依族, 苗族]; 伊犁哈萨克自治州 → [哈萨克族]); [] for any other name.
 * The place name before the peoples is at least two characters (海西蒙古族藏族 starts with 海西).
 */
export function peoplesNamedIn(regionName: string): string[] {
  const suffix = AUTONOMOUS.exec(regionName);
  if (!suffix) return [];
  const head = regionName.slice(0, suffix.index);
  for (let start = 2; start < head.length; start += 1) {
    const peoples: string[] = [];
    let rest = head.slice(start);
    for (let match = PEOPLE_AT_START.exec(rest); match; match = PEOPLE_AT_START.exec(rest)) {
      peoples.push(`${match[1] ?? ''}族`);
      rest = rest.slice(match[0].length);
    }
    if (rest === '' && peoples.length > 0) return peoples;
  }
  return [];
}
