import { stringFlag, UsageError, type CommandSpec } from '../../cli/command.ts';
import { DomainError } from '../../platform/errors.ts';
import { ADMIN_ROLES, ROLES, type Role } from './access.policy.ts';
import {
  createAdminAccount,
  createToken,
  resetPasswordOnConsole,
  resetTwoFactorOnConsole,
} from './access.service.ts';
import { temporaryPassword } from './access.rules.ts';
import { AUDIT_HASH_ALG, verifyAuditChain } from './audit.ts';

function describe(error: unknown): string {
  if (error instanceof DomainError) {
    const details = error.details.map((d) => `  ${d.path}: ${d.message.en} / ${d.message.zh}`);
    return [`${error.code}: ${error.userMessage.en} / ${error.userMessage.zh}`, ...details].join('\n');
  }
  return error instanceof Error ? error.message : String(error);
}

export const accessCommands: CommandSpec[] = [
  {
    path: ['token', 'create'],
    summary: 'Create an API token with a role and region; prints it once',
    usage: 'shouhu token create --role ROLE --region CODE [--expires DAYS] [--name NAME]',
    async run(args, ctx, io) {
      const role = stringFlag(args, 'role');
      const region = stringFlag(args, 'region') ?? null;
      const expires = stringFlag(args, 'expires');
      if (!role || !(ROLES as readonly string[]).includes(role))
        throw new UsageError(
          `--role takes one of: ${ROLES.filter((r) => !ADMIN_ROLES.includes(r)).join(', ')}`,
        );
      const days = expires === undefined ? 90 : Number(expires);
      if (!Number.isInteger(days) || days < 1 || days > 366)
        throw new UsageError('--expires takes a number of days, 1-366');
      try {
        const created = await createToken(ctx, null, {
          name: stringFlag(args, 'name') ?? `cli ${role} ${region ?? ''}`.trim(),
          role: role as Role,
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
    async run(args, ctx, io) {
      const role = (stringFlag(args, 'role') ?? 'system_admin') as Role;
      if (!ADMIN_ROLES.includes(role)) throw new UsageError(`--role takes one of: ${ADMIN_ROLES.join(', ')}`);
      let username = stringFlag(args, 'username') ?? process.env.SHOUHU_ADMIN_USERNAME;
      let password = process.env.SHOUHU_ADMIN_PASSWORD;
      if (!username && io.prompt) username = await io.prompt('username: ');
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
          displayName: stringFlag(args, 'display-name') ?? username,
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
];
