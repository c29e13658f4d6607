// The embedded database belongs to one process at a time (PGlite is a single-process engine).
// That process holds a lock file in the data folder and listens on a local socket there, through
// which CLI commands started while it runs are executed inside it (see src/cli/main.ts).
import fs from 'node:fs';
import path from 'node:path';

export interface DataDirPaths {
  root: string;
  pgdata: string;
  lock: string;
  socket: string;
}

export function dataDirPaths(dataDir: string): DataDirPaths {
  const root = path.resolve(dataDir);
  return {
    root,
    pgdata: path.join(root, 'pgdata'),
    lock: path.join(root, 'shouhu.lock'),
    socket: path.join(root, 'shouhu.sock'),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Locks this process holds, so a second open in the same process is refused too.
const heldHere = new Set<string>();

export type LockResult = { acquired: true; release: () => void } | { acquired: false; ownerPid: number };

/** Takes the data folder's lock, clearing a stale one left by a process that died. */
export function acquireDataDirLock(dataDir: string): LockResult {
  const paths = dataDirPaths(dataDir);
  fs.mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  if (heldHere.has(paths.lock)) return { acquired: false, ownerPid: process.pid };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(paths.lock, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      let released = false;
      heldHere.add(paths.lock);
      const release = () => {
        if (released) return;
        released = true;
        heldHere.delete(paths.lock);
        try {
          if (fs.readFileSync(paths.lock, 'utf8') === String(process.pid)) fs.unlinkSync(paths.lock);
        } catch {
          /* already gone */
        }
      };
      process.once('exit', release);
      return { acquired: true, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(fs.readFileSync(paths.lock, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner))
        return { acquired: false, ownerPid: owner };
      fs.rmSync(paths.lock, { force: true });
    }
  }
  throw new Error(`cannot lock ${paths.lock}`);
}
