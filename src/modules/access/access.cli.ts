import {
  defineCommands,
  describeError as describe,
  numberFlag,
  stringFlag,
  UsageError,
  type CommandSpec,
  type ParsedArgs,
} from '../../cli/command.ts';
import { regionCodeFlag } from '../../cli/options.ts';
import { ADMIN_ROLES, ROLE_REGION_LENGTH, ROLES, type Role } from './access.policy.ts';
import {
  createAdminAccount,
  createToken,
  resetPasswordOnConsole,
  resetTwoFactorOnConsole,
} from './access.service.ts';
import { temporaryPassword, USERNAME_PATTERN } from './access.rules.ts';
import { AUDIT_HASH_ALG, verifyAuditChain } from './audit.ts';

const USERNAME = new RegExp(USERNAME_PATTERN);

/** The rule the API holds a new account's username to (CreateUserBody), said in words. */
function checkUsername(label: string, username: string): void {
  if (!USERNAME.test(username))
    throw new UsageError(
      `${label} takes 3 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit; got "${username}"`,
    );
}

/** A name of 1 to 100 characters, as the tables hold them. */
function checkLength(label: string, value: string): void {
  if (value.trim() === '' || [...value].length > 100)
    throw new UsageError(`${label} takes 1 to 100 characters, got "${value}"`);
}

function tokenOptions(args: ParsedArgs) {
  const role = stringFlag(args, 'role');
  if (!role || !(ROLES as readonly string[]).includes(role) || ADMIN_ROLES.includes(role as Role))
    throw new UsageError(`--role takes one of: ${ROLES.filter((r) => !ADMIN_ROLES.includes(r)).join(', ')}`);
  const region = regionCodeFlag(args, 'region') ?? null;
  const length = ROLE_REGION_LENGTH[role as Role];
  if (length !== null && region === null)
    throw new UsageError(`--region is required for the role ${role}: a ${length}-digit region code`);
  const days = numberFlag(args, 'expires', { min: 1, max: 366, fallback: 90 });
  const name = stringFlag(args, 'name');
  if (name !== undefined) checkLength('--name', name);
  return { role: role as Role, region, days, name };
}

function adminOptions(args: ParsedArgs) {
  const role = (stringFlag(args, 'role') ?? 'system_admin') as Role;
  if (!ADMIN_ROLES.includes(role)) throw new UsageError(`--role takes one of: ${ADMIN_ROLES.join(', ')}`);
  const username = stringFlag(args, 'username');
  if (username !== undefined) checkUsername('--username', username);
  const displayName = stringFlag(args, 'display-name');
  if (displayName !== undefined) checkLength('--display-name', displayName);
  return { role, username, displayName };
}

export const accessCommands: CommandSpec[] = defineCommands([
  {
    path: ['token', 'create'],
    summary: 'Create an API token with a role and region; prints it once',
    usage: 'shouhu token create --role ROLE --region CODE [--expires DAYS] [--name NAME]',
    check: (args) => void tokenOptions(args),
    async run(args, ctx, io) {
      const { role, region, days, name } = tokenOptions(args);
      try {
        const created = await createToken(ctx, null, {
          name: name ?? `cli ${role} ${region ?? ''}`.trim(),
          role,
          regionCode: region,
          expiresInDays: days,
        });
        io.print(
          `token ${created.item.id} (${created.item.role}, region ${created.item.regionCode ?? '-'}, expires ${created.item.expiresAt})`,
        );
        io.print('Copy it now; it is not shown again:');
        io.print(created.token);
        return 0;
      } catch (error) {
        io.error(describe(error));
        return 1;
      }
    },
  },
  {
    path: ['users', 'create-admin'],
    summary:
      'Create an administrator account (first system administrator; or --role security_admin|audit_admin)',
    usage: 'shouhu users create-admin [--role system_admin] [--username NAME] [--display-name TEXT]',
    check: (args) => void adminOptions(args),
    async run(args, ctx, io) {
      const options = adminOptions(args);
      const role = options.role;
      let username = options.username ?? process.env.SHOUHU_ADMIN_USERNAME;
      if (options.username === undefined && username) checkUsername('SHOUHU_ADMIN_USERNAME', username);
      let password = process.env.SHOUHU_ADMIN_PASSWORD;
      if (!username && io.prompt) {
        username = (await io.prompt('username: ')).trim();
        if (username) checkUsername('the username', username);
      }
      if (!username) throw new UsageError('give --username or set SHOUHU_ADMIN_USERNAME');
      let generated = false;
      if (!password && io.prompt) {
        password = await io.prompt('password (at least 10 characters, three of upper/lower/digit/symbol): ', {
          hidden: true,
        });
        const again = await io.prompt('password again: ', { hidden: true });
        if (again !== password) {
          io.error('the passwords differ');
          return 1;
        }
      }
      if (!password) {
        password = temporaryPassword();
        generated = true;
      }
      try {
        const user = await createAdminAccount(ctx, {
          username,
          displayName: options.displayName ?? username,
          role,
          password,
          mustChange: generated,
        });
        io.print(`created ${user.role} account "${user.username}" (id ${user.id})`);
        if (generated) {
          io.print('temporary password (shown once; it must be changed at first sign-in):');
          io.print(password);
        }
        io.print(
          'At first sign-in the administrator enrols a TOTP authenticator app (required for administrators).',
        );
        return 0;
      } catch (error) {
        io.error(describe(error));
        return 1;
      }
    },
  },
  {
    path: ['users', 'reset-password'],
    summary: "Reset an account's password on the console (the way for administrator accounts)",
    usage: 'shouhu users reset-password USERNAME',
    async run(args, ctx, io) {
      const username = args.positionals[0];
      if (!username) throw new UsageError('usage: shouhu users reset-password USERNAME');
      try {
        const password = await resetPasswordOnConsole(ctx, username);
        io.print(`temporary password for "${username}" (shown once; it must be changed at next sign-in):`);
        io.print(password);
        return 0;
      } catch (error) {
        io.error(describe(error));
        return 1;
      }
    },
  },
  {
    path: ['users', 'reset-2fa'],
    summary:
      "End an account's two-factor enrolment on the console (the way for administrator accounts); it enrols again at next sign-in",
    usage: 'shouhu users reset-2fa USERNAME',
    async run(args, ctx, io) {
      const username = args.positionals[0];
      if (!username) throw new UsageError('usage: shouhu users reset-2fa USERNAME');
      try {
        const user = await resetTwoFactorOnConsole(ctx, username);
        io.print(
          `two-factor enrolment of "${user.username}" reset: its sessions ended; it enrols a new authenticator at the next sign-in`,
        );
        return 0;
      } catch (error) {
        io.error(describe(error));
        return 1;
      }
    },
  },
  {
    path: ['audit', 'verify'],
    summary: 'Verify the hash chain of the audit trail',
    usage: 'shouhu audit verify',
    async run(_args, ctx, io) {
      const report = await verifyAuditChain(ctx.db);
      if (report.ok) {
        io.print(
          `OK: ${report.count} audit entries, chain intact (${AUDIT_HASH_ALG}); head ${report.lastHash}`,
        );
        return 0;
      }
      io.error(`BROKEN after ${report.count} good entries: ${report.problem?.message ?? 'unknown problem'}`);
      return 1;
    },
  },
]);
