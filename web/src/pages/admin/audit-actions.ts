// The actions the server writes to the audit trail (`action: '…'` in src/modules/**), with their
// words in both languages, for the audit page's table and its 操作 filter. Kept apart from the page
// so that test/browser/web-session21.browser.test.ts can hold it to the server's source: an action
// added on the server without a name here fails that test. Entries ending in "." are the prefixes
// the filter offers (the server matches a prefix); an unknown code shows as itself.
import type { Lang, Localized } from '../../i18n.ts';

export const AUDIT_ACTIONS: Readonly<Record<string, Localized>> = {
  'auth.': { zh: '登录与账户安全（全部）', en: 'Sign-in and account security (all)' },
  'auth.login': { zh: '登录', en: 'Sign in' },
  'auth.logout': { zh: '退出登录', en: 'Sign out' },
  'auth.logout_all': { zh: '退出所有设备', en: 'Sign out everywhere' },
  'auth.password.change': { zh: '修改密码', en: 'Change password' },
  'auth.2fa.enroll': { zh: '开始绑定双因素验证', en: 'Start two-factor enrolment' },
  'auth.2fa.confirm': { zh: '绑定双因素验证', en: 'Confirm two-factor enrolment' },
  'auth.2fa.secrets_sealed': { zh: '加密存量双因素密钥', en: 'Encrypt stored two-factor secrets' },
  'auth.session.refused': {
    zh: '拒绝已停用账户的登录会话',
    en: 'Refused the session of a disabled account',
  },
  'auth.token.refused': {
    zh: '拒绝已吊销或过期的 API 令牌',
    en: 'Refused a revoked or expired API token',
  },
  'access.': { zh: '访问控制（全部）', en: 'Access control (all)' },
  'access.denied': { zh: '拒绝访问', en: 'Access denied' },
  'access.not_found': { zh: '访问不存在的接口', en: 'Request to an unknown route' },
  'user.': { zh: '用户管理（全部）', en: 'User administration (all)' },
  'user.create': { zh: '创建用户', en: 'Create user' },
  'user.disable': { zh: '停用用户', en: 'Disable user' },
  'user.enable': { zh: '启用用户', en: 'Enable user' },
  'user.password.reset': { zh: '重置密码', en: 'Reset password' },
  'user.role.assign': { zh: '分配角色', en: 'Assign role' },
  'user.2fa.reset': { zh: '重置双因素验证', en: 'Reset two-factor authentication' },
  'token.': { zh: 'API 令牌（全部）', en: 'API tokens (all)' },
  'token.create': { zh: '创建 API 令牌', en: 'Create API token' },
  'token.revoke': { zh: '吊销 API 令牌', en: 'Revoke API token' },
  'audit.': { zh: '审计日志（全部）', en: 'Audit log (all)' },
  'audit.search': { zh: '查询审计日志', en: 'Search audit log' },
  'audit.export': { zh: '导出审计日志', en: 'Export audit log' },
  'audit.verify': { zh: '校验审计日志', en: 'Verify audit log' },
  'person.': { zh: '人员信息（全部）', en: 'Person records (all)' },
  'person.read': { zh: '查看人员信息', en: 'Read a person' },
  'person.reveal': { zh: '查看完整证件号/电话', en: 'Reveal ID number or phone' },
  'person.create': { zh: '新增人员', en: 'Create a person' },
  'person.update': { zh: '修改人员', en: 'Update a person' },
  'person.merge': { zh: '合并人员', en: 'Merge persons' },
  'person.search': { zh: '查询人员', en: 'Search persons' },
  'person.id_number_taken': {
    zh: '拒绝已登记的身份证号码',
    en: 'Refused an ID number already registered',
  },
  'person.id_number_taken.limited': {
    zh: '身份证号码被拒次数过多，暂停写入',
    en: 'Too many refused ID numbers: writing paused',
  },
  'person.id_matched': { zh: '按身份证号码匹配到人员', en: 'Person matched by ID number' },
  'person.duplicates.read': { zh: '查看疑似重复人员', en: 'Read possible duplicates' },
  'person.fact.add': { zh: '登记事实', en: 'Record a fact' },
  'person.fact.end': { zh: '结束事实', en: 'End a fact' },
  'person.fact.retract': { zh: '撤回事实', en: 'Retract a fact' },
  'person.relation.add': { zh: '添加亲属关系', en: 'Add a relation' },
  'person.relation.end': { zh: '结束亲属关系', en: 'End a relation' },
  'person.relation.retract': { zh: '撤回亲属关系', en: 'Retract a relation' },
  'household.': { zh: '家庭信息（全部）', en: 'Households (all)' },
  'household.create': { zh: '新增家庭', en: 'Create a household' },
  'household.read': { zh: '查看家庭', en: 'Read a household' },
  'household.reveal': {
    zh: '查看家庭住址/财产中的完整号码',
    en: 'Reveal numbers in a household address or assets',
  },
  'household.update': { zh: '修改家庭', en: 'Update a household' },
  'registry.': { zh: '名册导入导出（全部）', en: 'Register import and export (all)' },
  'registry.import': { zh: '导入名册', en: 'Import a register' },
  'registry.import.submit': { zh: '提交导入文件', en: 'Submit a file for import' },
  'registry.import.dry_run': { zh: '试导入（不写入）', en: 'Dry-run import' },
  'registry.export': { zh: '导出名册', en: 'Export a register' },
  'registry.export.stopped': {
    zh: '导出名册（登录失效，中途停止）',
    en: 'Export a register (stopped: signed out)',
  },
  'registry.export.gaps': { zh: '导出名册缺项清单', en: 'Export the register’s missing fields' },
  'import.': { zh: '导入报告（全部）', en: 'Import reports (all)' },
  'import.errors.download': { zh: '下载导入错误报告', en: 'Download an import error report' },
  'import.review.download': { zh: '下载台账核对报告', en: 'Download a ledger review' },
  'import.review.read': { zh: '查看台账核对结果', en: 'Read a ledger review' },
  'groups.': { zh: '关爱群体（全部）', en: 'Care groups (all)' },
  'groups.config.change': { zh: '修改群体参数', en: 'Change group settings' },
  'groups.members.read': { zh: '查看群体名单', en: 'Read a group list' },
  'groups.members.export': { zh: '导出群体名单', en: 'Export a group list' },
  'groups.members.export.stopped': {
    zh: '导出群体名单（登录失效，中途停止）',
    en: 'Export a group list (stopped: signed out)',
  },
  'groups.stats.read': { zh: '查看关爱对象统计', en: 'Read group statistics' },
  'groups.stats.monthly.read': { zh: '查看逐月统计', en: 'Read monthly group statistics' },
  'groups.stats.export': { zh: '导出群体统计', en: 'Export group statistics' },
  'worklist.': { zh: '待办事项（全部）', en: 'Worklist (all)' },
  'worklist.read': { zh: '查看待办事项', en: 'Read the worklist' },
  'worklist.acknowledge': { zh: '确认待办事项', en: 'Acknowledge a worklist item' },
};

const STOPPED: Localized = { zh: '（登录失效，中途停止）', en: ' (stopped: signed out)' };

/**
 * An action in words, or null for a code this table does not know (the page shows the code). A
 * download stopped because the sign-in ended (`<action>.stopped`, written by signInGuard) is named
 * from the action it stopped.
 */
export function auditActionLabel(action: string, lang: Lang): string | null {
  const known = AUDIT_ACTIONS[action]?.[lang];
  if (known) return known;
  if (action.endsWith('.stopped')) {
    const base = AUDIT_ACTIONS[action.slice(0, -'.stopped'.length)]?.[lang];
    if (base) return `${base}${STOPPED[lang]}`;
  }
  return null;
}
