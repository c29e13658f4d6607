// The command line's arguments, files and failures (review of session 18, findings F2-F8, F10):
// an --out that cannot be written, an option without its value, a wrong number, an id out of range,
// a region that is not loaded, a data folder held by another command, extra arguments, a group name
// with --help, the line after a progress bar, and relative paths of a command run inside a server.
// Arguments refused before the database opens are run through bin/shouhu.js (a process of its own);
// those that need a database run in this process against a test database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestApp, type TestApp } from '../../test/support/db.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logging.ts';
import { startServer, type RunningServer } from '../server.ts';
import { executeCommand, parseCommandArgs, reportFailure, type CommandSpec } from './command.ts';
import { findCommand } from './commands.ts';
import { terminalIO } from './main.ts';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../bin/shouhu.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** bin/shouhu.js on an embedded data folder of its own; a hang fails the test rather than blocking it. */
async function shouhu(dataDir: string, argv: string[], cwd?: string): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...argv], {
      env: { ...process.env, DATABASE_URL: '', SHOUHU_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      timeout: 180_000,
      ...(cwd ? { cwd } : {}),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number | string; stdout: string; stderr: string; killed?: boolean };
    assert.ok(!e.killed, `shouhu ${argv.join(' ')} did not end`);
    return { code: Number(e.code), stdout: e.stdout, stderr: e.stderr };
  }
}

/** A command run as the CLI runs it (arguments checked, failures reported), in this process. */
async function inProcess(t: TestApp, ...argv: string[]): Promise<Result> {
  const found = findCommand(argv);
  assert.ok(found, argv.join(' '));
  const out: string[] = [];
  const err: string[] = [];
  const code = await executeCommand(found.command, found.rest, t.ctx, {
    print: (line) => out.push(line),
    error: (line) => err.push(line),
    progress: () => {},
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/**
 * What the CLI answers to argv before it opens the database (main.ts: parse, then the command's
 * checks), in this process: the quick way through many values; each test runs a few of its cases
 * through bin/shouhu.js too.
 */
function refusal(argv: string[]): Result {
  const found = findCommand(argv);
  assert.ok(found, argv.join(' '));
  const err: string[] = [];
  try {
    const args = parseCommandArgs(found.command, found.rest);
    found.command.check?.(args);
    return { code: 0, stdout: '', stderr: '' };
  } catch (error) {
    const code = reportFailure(found.command, error, { error: (line) => err.push(line) });
    return { code, stdout: '', stderr: err.join('\n') };
  }
}

/** A case: the arguments, what the refusal says, and whether to run it as a process. */
type Case = [argv: string[], message: RegExp, binary?: 'binary'];

function answers(dataDir: string, cases: Case[]): Promise<Result[]> {
  return Promise.all(
    cases.map(([argv, , binary]) => (binary ? shouhu(dataDir, argv) : Promise.resolve(refusal(argv)))),
  );
}

describe('shouhu command line: arguments refused before any work', () => {
  let dir: string;
  let dataDir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-cli18-'));
    dataDir = path.join(dir, 'data');
    fs.mkdirSync(path.join(dir, 'adir.xlsx'));
    fs.writeFileSync(path.join(dir, 'rows.csv'), '姓名\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Nothing ran: the data folder's database was never opened (created). */
  const untouched = () =>
    assert.equal(fs.existsSync(path.join(dataDir, 'pgdata')), false, 'the database was opened');

  test('F2: an --out in a missing folder, onto a folder or of another kind is refused, naming --out and why', async () => {
    const nodir = path.join(dir, 'nodir');
    const cases: Case[] = [
      [
        ['demo', 'generate', '--persons', '300', '--out', path.join(nodir, 'x.xlsx')],
        /^--out: the folder .*nodir does not exist$/m,
        'binary',
      ],
      [
        ['demo', 'generate', '--persons', '300', '--out', path.join(nodir, 'x.csv')],
        /^--out: the folder .*nodir/m,
      ],
      [['demo', 'generate', '--out', path.join(dir, 'adir.xlsx')], /^--out: .*adir\.xlsx is a folder/m],
      [['export', '--region', '410225', '--out', path.join(nodir, 'e.xlsx')], /^--out: the folder .*nodir/m],
      [
        ['export', '--region', '410225', '--out', path.join(dir, 'adir.xlsx')],
        /adir\.xlsx is a folder/m,
        'binary',
      ],
      [
        ['export', '--region', '410225', '--out', path.join(dir, 'e.txt')],
        /^--out takes a file name ending in \.csv or \.xlsx/m,
      ],
    ];
    const results = await answers(dataDir, cases);
    results.forEach((result, i) => {
      const [argv, message] = cases[i]!;
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /ENOENT|progress/);
    });
    assert.equal(fs.existsSync(nodir), false);
    untouched();
  });

  test('F3: an option written without its value is refused, naming it, instead of taking the default', async () => {
    const out = path.join(dir, 'x.csv');
    const cases: Case[] = [
      [
        ['demo', 'generate', '--county', '410225', '--persons', '100', '--seed', '1', '--out'],
        /^--out needs a value/m,
        'binary',
      ],
      [['regions', 'load', '--county'], /^--county needs a value/m, 'binary'],
      [['demo', 'generate', '--persons', '--seed', '1', '--out', out], /^--persons needs a value/m],
      [['demo', 'generate', '--county', '--out', out], /^--county needs a value/m],
      [['demo', 'generate', '--seed', '--out', out], /^--seed needs a value/m],
      [['demo', 'generate', '--out='], /^--out needs a value/m],
      [['groups', 'evaluate', '--as-of'], /^--as-of needs a value/m],
      [['groups', 'evaluate', '--region', '--no-worklist'], /^--region needs a value/m],
      [['import', path.join(dir, 'rows.csv'), '--kind'], /^--kind needs a value/m],
      [['import', path.join(dir, 'rows.csv'), '--region', '--dry-run'], /^--region needs a value/m],
      [['export', '--region', '410225', '--out'], /^--out needs a value/m],
      [
        ['token', 'create', '--role', 'county_staff', '--region', '410225', '--expires'],
        /^--expires needs a value/m,
      ],
      [['users', 'create-admin', '--username'], /^--username needs a value/m],
      [['serve', '--port'], /^--port needs a value/m, 'binary'],
    ];
    const results = await answers(dataDir, cases);
    results.forEach((result, i) => {
      const [argv, message] = cases[i]!;
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stdout} ${result.stderr}`);
      assert.match(result.stderr, message);
    });
    assert.equal(fs.existsSync(out), false);
    untouched();
  });

  test('F4/F5: a wrong number or code names the option and why; --persons has a maximum; the usage is the help’s', async () => {
    const help = await shouhu(dataDir, ['demo', 'generate', '--help']);
    const usage = help.stdout.split('\n')[0];
    assert.match(usage ?? '', /^usage: shouhu demo generate /);
    assert.match(help.stdout, /2,000,000 persons/, 'the help says the maximum');
    const cases: Case[] = [
      ...['-5', 'abc', '0', '2.5', '1e9', '0x10', ' 5', '2000001'].map((n): Case => [
        ['demo', 'generate', '--persons', n],
        /^--persons takes a whole number from 1 to 2,000,000, got "/m,
      ]),
      [
        ['demo', 'generate', '--persons', '1e9'],
        /^--persons takes a whole number from 1 to 2,000,000, got "1e9"$/m,
        'binary',
      ],
      [['demo', 'generate', '--county', 'abc'], /^--county takes a 6-digit county code, got "abc"$/m],
      [['demo', 'generate', '--county', '4102'], /^--county takes a 6-digit county code, got "4102"$/m],
      [
        ['demo', 'generate', '--seed', 'abc'],
        /^--seed takes a whole number from 0 to 4,294,967,295, got "abc"$/m,
      ],
      [['demo', 'generate', '--seed', '-1'], /^--seed takes a whole number/m],
      [
        ['token', 'create', '--role', 'county_staff', '--region', '410225', '--expires', '1e1'],
        /^--expires takes/m,
      ],
      [['token', 'create', '--role', 'county_staff'], /^--region is required for the role county_staff/m],
      [['token', 'create', '--role', 'county_staff', '--region', 'abc'], /^--region takes a region code/m],
      [['serve', '--port', 'abc'], /^--port takes a whole number/m, 'binary'],
    ];
    const results = await answers(dataDir, cases);
    results.forEach((result, i) => {
      const [argv, message] = cases[i]!;
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      if (argv[0] === 'demo') assert.equal(result.stderr.trim().split('\n').at(-1), usage);
    });
    untouched();
  });

  test('F6: an id out of range, a username the API refuses, a folder as FILE: refused with the reason, no database error', async () => {
    const cases: Case[] = [
      [
        ['jobs', 'show', '99999999999999999999'],
        /^ID takes a whole number from 1 to 9,223,372,036,854,775,807/m,
        'binary',
      ],
      [['jobs', 'show', '1e3'], /^ID takes a whole number/m],
      [['jobs', 'show', '-1'], /^ID takes a whole number/m],
      [['jobs', 'show', '0'], /^ID takes a whole number/m],
      [['users', 'create-admin', '--username', 'a b'], /^--username takes 3 to 64 characters/m, 'binary'],
      [['users', 'create-admin', '--username', 'ab'], /^--username takes 3 to 64 characters/m],
      [
        ['users', 'create-admin', '--username', 'admin', '--display-name', ' '],
        /^--display-name takes 1 to 100/m,
      ],
      [['import', path.join(dir, 'adir.xlsx')], /^FILE: .*adir\.xlsx is a folder, not a file$/m, 'binary'],
      [['import', path.join(dir, 'missing.xlsx')], /^FILE: .*missing\.xlsx does not exist$/m],
      [['import', '/dev/null'], /^FILE: \/dev\/null is not a regular file$/m],
    ];
    const results = await answers(dataDir, cases);
    results.forEach((result, i) => {
      const [argv, message] = cases[i]!;
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /bigint|constraint|EISDIR/);
    });
    untouched();
  });

  test('F7: a region code of no level (5 digits) is refused before anything runs', async () => {
    const cases: Case[] = [
      [
        ['export', '--region', '41022', '--out', path.join(dir, 'e.xlsx')],
        /^--region takes a region code of 2, 4, 6, 9 or 12 digits, got "41022"$/m,
        'binary',
      ],
      [
        ['groups', 'evaluate', '--region', '4102251'],
        /^--region takes a region code of 2, 4, 6, 9 or 12 digits/m,
      ],
      [
        ['import', path.join(dir, 'rows.csv'), '--region', '41'],
        /^--region takes a county, township or village code of 6, 9 or 12 digits/m,
      ],
    ];
    const results = await answers(dataDir, cases);
    results.forEach((result, i) => {
      const [argv, message] = cases[i]!;
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    });
    untouched();
  });

  test('F10: extra arguments are refused; a group name with --help lists its commands', async () => {
    const cases: Case[] = [
      [['migrate', 'extra'], /^unexpected argument "extra" for 'shouhu migrate'$/m, 'binary'],
      [['jobs', 'show', '1', '2'], /^unexpected argument "2" for 'shouhu jobs show'$/m],
      [['db', 'maintain', '--force', 'yes'], /^unexpected argument "yes" for 'shouhu db maintain'$/m],
      [['db', 'maintain', '--force=yes'], /^--force takes no value/m],
      [['demo', 'generate', 'extra', '--persons', '300'], /^unexpected argument "extra"/m],
      [['import', path.join(dir, 'rows.csv'), 'more.csv'], /^unexpected argument "more.csv"/m],
    ];
    const results = await answers(dataDir, cases);
    results.forEach((result, i) => {
      const [argv, message] = cases[i]!;
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    });
    const [group, bare] = await Promise.all([shouhu(dataDir, ['demo', '--help']), shouhu(dataDir, ['jobs'])]);
    assert.equal(group.code, 0, group.stderr);
    assert.match(group.stdout, /^usage: shouhu demo <command>/);
    assert.match(group.stdout, /^ {2}demo generate \[--county 410225\]/m);
    assert.doesNotMatch(group.stdout + group.stderr, /unknown command/);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /'shouhu jobs' needs a command[\s\S]*jobs show ID/);
    untouched();
  });

  test('F8: a data folder held by another command is named as such, not "connect ENOENT"', async () => {
    const busy = path.join(dir, 'busy');
    fs.mkdirSync(busy);
    // This test's own process holds the lock, as a running `shouhu demo generate` would: alive, no socket.
    fs.writeFileSync(path.join(busy, 'shouhu.lock'), String(process.pid));
    const result = await shouhu(busy, ['migrate']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `in use by another Shouhu process \\(pid ${process.pid}: node [^)]*\\), which takes no commands`,
      ),
    );
    assert.doesNotMatch(result.stderr, /ENOENT|shouhu\.sock/);
  });
});

describe('shouhu command line: with a database', () => {
  let t: TestApp;
  let dir: string;
  before(async () => {
    t = await createTestApp();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-cli18-db-'));
  });
  after(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(
    'F2: a write that fails (a full disk) fails the command, naming --out; it neither succeeds silently nor hangs',
    {
      timeout: 120_000,
    },
    async () => {
      if (!fs.existsSync('/dev/full')) return; // Linux's always-full device
      for (const argv of [
        ['demo', 'generate', '--persons', '300', '--seed', '2', '--out'],
        ['export', '--region', '410225', '--out'],
      ]) {
        for (const ext of ['xlsx', 'csv']) {
          const file = path.join(dir, `full.${ext}`);
          fs.symlinkSync('/dev/full', file);
          const result = await inProcess(t, ...argv, file);
          assert.equal(result.code, 1, `${argv.join(' ')} ${file}: ${result.stdout}`);
          assert.match(
            result.stderr,
            /^--out: writing .*full\.(xlsx|csv) failed: no space left on the device$/,
          );
          assert.doesNotMatch(result.stdout, /wrote|exported/);
        }
      }
    },
  );

  test('F7: a region code that is not loaded is refused naming --region, by export, import and groups evaluate', async () => {
    fs.writeFileSync(path.join(dir, 'rows.csv'), '\uFEFF姓名,性别\r\n');
    const out = path.join(dir, 'e1.xlsx');
    for (const argv of [
      ['export', '--region', '999999', '--out', out],
      ['export', '--region', '42', '--out', out],
      ['import', path.join(dir, 'rows.csv'), '--region', '999999', '--dry-run'],
      ['groups', 'evaluate', '--region', '999999'],
    ]) {
      const result = await inProcess(t, ...argv);
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stdout}`);
      assert.match(result.stderr, /^--region: region (999999|42) does not exist in the loaded regions/);
      assert.equal(result.stdout, '');
    }
    assert.equal(fs.existsSync(out), false, 'no empty export was written');
  });

  test('F6: anything unexpected is one short line and exit 1, never a stack or the SQL', async () => {
    const failing: CommandSpec = {
      path: ['fail'],
      summary: 'fails',
      usage: 'shouhu fail',
      async run() {
        const error = new Error(
          'value "1e20" is out of range for type bigint\nSELECT * FROM jobs WHERE id = $1',
        );
        throw error;
      },
    };
    const err: string[] = [];
    const logged: unknown[] = [];
    const code = await executeCommand(
      failing,
      [],
      t.ctx,
      { print: () => {}, error: (l) => err.push(l), progress: () => {} },
      { unexpected: (error) => logged.push(error) },
    );
    assert.equal(code, 1);
    assert.deepEqual(err, ['the command failed: value "1e20" is out of range for type bigint']);
    assert.equal(logged.length, 1, 'the error itself goes to the log');
  });

  test('F6: jobs show of an id beyond any row answers "not found" without asking the database', async () => {
    const result = await inProcess(t, 'jobs', 'show', '9223372036854775807');
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'job 9223372036854775807 not found');
  });
});

test('F2: a command whose work stops without ending (a stream that died unnoticed) exits 1 with a message, not 0', async () => {
  // A command that never settles and leaves nothing running: the process would end with exit code 0.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-cli18-stop-'));
  const script = `
    import { platformCommands } from ${JSON.stringify(path.join(import.meta.dirname, 'platform.cli.ts'))};
    import { main } from ${JSON.stringify(path.join(import.meta.dirname, 'main.ts'))};
    platformCommands.push({ path: ['stalls'], summary: '', usage: 'shouhu stalls', run: () => new Promise(() => {}) });
    main(['stalls']).then((code) => { process.exitCode = code; });`;
  try {
    const result = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, DATABASE_URL: '', SHOUHU_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      timeout: 120_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the command stopped before it had finished/);
    assert.equal(fs.existsSync(path.join(dataDir, 'shouhu.lock')), false, 'the data folder is released');
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('F10: on a terminal, the line printed after a finished progress bar starts on a new line', () => {
  const screen: string[] = [];
  const io = terminalIO(
    {
      stdout: { write: (s: string) => screen.push(s) > 0 },
      stderr: { isTTY: true, write: (s: string) => screen.push(s) > 0 },
    },
    false,
  );
  io.progress(150, 300, 'generating');
  io.progress(300, 300, 'generating');
  io.print('wrote 300 persons of county 410225 to x.csv');
  io.progress(10, null, 'exporting');
  io.error('--out: writing x.csv failed: no space left on the device');
  const text = screen.join('');
  assert.ok(text.includes('300/300 generating\x1b[K\nwrote 300 persons'), JSON.stringify(text));
  assert.ok(text.includes('10 exporting\x1b[K\n--out: writing'), JSON.stringify(text));
  assert.equal(text.match(/\n\n/g), null, 'no empty line');
});

describe('shouhu command line: inside a running server', () => {
  let server: RunningServer;
  let dataDir: string;
  let cwd: string;
  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-cli18-srv-'));
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-cli18-cwd-'));
    const config = loadConfig({}, { databaseUrl: null, dataDir, port: 0, host: '127.0.0.1', runJobs: false });
    server = await startServer(config, { logger: createLogger('silent') });
  });
  after(async () => {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(cwd, { recursive: true, force: true });
    fs.rmSync(path.resolve('cli-review18-gen.csv'), { force: true });
  });

  test(
    'a relative --out means the folder the command was typed in, not the server’s',
    { timeout: 180_000 },
    async () => {
      const result = await shouhu(
        dataDir,
        ['demo', 'generate', '--persons', '50', '--seed', '3', '--out', 'cli-review18-gen.csv'],
        cwd,
      );
      assert.equal(result.code, 0, result.stderr);
      const file = path.join(cwd, 'cli-review18-gen.csv');
      assert.equal(result.stdout.trim(), `wrote 50 persons of county 410225 to ${file}`);
      assert.ok(fs.statSync(file).size > 0);
      assert.equal(
        fs.existsSync(path.resolve('cli-review18-gen.csv')),
        false,
        'nothing in the server’s folder',
      );
    },
  );
});
