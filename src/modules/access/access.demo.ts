// The demo accounts of 兰考县: one per kind of user, with one known password, so a visitor can see
// the system through each role's eyes. Created only by `serve --demo`; they are marked demo and
// cannot sign in when the server runs without --demo.
import { sql } from 'kysely';
import type { AppContext } from '../../platform/context.ts';
import type { CommandIO } from '../../cli/command.ts';
import { ROLE_LABELS, type Role } from './access.policy.ts';
import { ensureDemoUser } from './access.service.ts';

export const DEMO_PASSWORD = 'Shouhu-Demo-2026';

interface DemoAccount {
  username: string;
  displayName: string;
  role: Role;
  regionCode: string | null;
  individualAccess?: boolean;
}

export async function prepareDemoUsers(ctx: AppContext, io: CommandIO, county: string): Promise<void> {
  // The first township that has villagers' committees, and its first one (a real village).
  const place = (
    await sql<{ township: string; township_name: string; village: string; village_name: string }>`
      SELECT t.code AS township, t.name AS township_name, v.code AS village, v.name AS village_name
      FROM regions t JOIN regions v ON v.parent_code = t.code AND v.rural AND v.valid_to IS NULL
      WHERE t.parent_code = ${county} AND t.valid_to IS NULL
      ORDER BY t.code, v.code
      LIMIT 1`.execute(ctx.db)
  ).rows[0];
  if (!place) {
    io.error(`no village found under ${county}; demo accounts not created`);
    return;
  }
  const accounts: DemoAccount[] = [
    {
      username: 'director',
      displayName: `${place.village_name}儿童主任`,
      role: 'village_child_director',
      regionCode: place.village,
    },
    {
      username: 'supervisor',
      displayName: `${place.township_name}儿童督导员`,
      role: 'township_supervisor',
      regionCode: place.township,
    },
    {
      username: 'township',
      displayName: `${place.township_name}民政办`,
      role: 'township_staff',
      regionCode: place.township,
    },
    { username: 'county', displayName: '兰考县民政局', role: 'county_staff', regionCode: county },
    { username: 'approver', displayName: '兰考县民政局审批', role: 'county_approver', regionCode: county },
    {
      username: 'province',
      displayName: '河南省民政厅',
      role: 'province_viewer',
      regionCode: county.slice(0, 2),
    },
    { username: 'reporter', displayName: '兰考县某小学', role: 'mandatory_reporter', regionCode: null },
    { username: 'sysadmin', displayName: '系统管理员', role: 'system_admin', regionCode: null },
    { username: 'secadmin', displayName: '安全管理员', role: 'security_admin', regionCode: null },
    { username: 'auditor', displayName: '安全审计员', role: 'audit_admin', regionCode: null },
  ];
  let created = 0;
  for (const account of accounts) {
    const result = await ensureDemoUser(ctx, { ...account, password: DEMO_PASSWORD });
    if (result.created) created += 1;
  }
  io.print(`demo accounts (${created} new), password for all: ${DEMO_PASSWORD}`);
  io.print(`  ${'username'.padEnd(12)}${'password'.padEnd(18)}${'role'.padEnd(24)}${'region'.padEnd(14)}`);
  for (const a of accounts) {
    io.print(
      `  ${a.username.padEnd(12)}${DEMO_PASSWORD.padEnd(18)}${a.role.padEnd(24)}${(a.regionCode ?? '-').padEnd(14)}${ROLE_LABELS[a.role].zh} · ${a.displayName}`,
    );
  }
}
