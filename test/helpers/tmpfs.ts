import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/**
 * Mounts a small tmpfs at `path`: a disk that really fills up, or that can be made read-only.
 * Returns the way to change and unmount it, or why it could not be mounted (it needs root, as
 * CI runs, and a machine that allows mounts).
 */
export function mountTmpfs(
  path: string,
  size: string,
): { unmount: () => void; readOnly: () => void } | { problem: string } {
  if (process.getuid?.() !== 0) return { problem: 'mounting a tmpfs needs root (CI runs as root)' };
  mkdirSync(path, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    return { problem: `mount -t tmpfs failed: ${stderr || (error as Error).message}` };
  }
  return {
    unmount: () => execFileSync('umount', ['-l', path]),
    readOnly: () => execFileSync('mount', ['-o', 'remount,ro', path], { stdio: 'pipe' }),
  };
}
