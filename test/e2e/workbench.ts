// Helpers the real-VS-Code tests (vscode.test.ts, casesView.test.ts) share: polling with a
// deadline, the visible text of a workbench element, and the extension's own log.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { extensionId, type ProfileDirs } from '../../scripts/e2e/codeServer';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Thrown by a probe to stop {@link waitFor} at once (the UI reported a failure). */
export class StopWaiting extends Error {
  override name = 'StopWaiting';
}

/** Polls `probe` until it returns a value (not undefined/false) or the time runs out; a StopWaiting from the probe ends it at once. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      if (e instanceof StopWaiting) throw e;
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await sleep(everyMs);
  }
}

/** The inner text of the first element matching `selector` ('' when none shows within 2 s); Monaco's U+00A0 spaces made plain. */
export async function visibleText(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().innerText({ timeout: 2000 }).catch(() => '')).replace(/\u00a0/g, ' ');
}

/** The extension's own log ("Lesion Lab" output channel), as the extension host writes it. */
export function extensionLog(profile: ProfileDirs): string[] {
  const lines: string[] = [];
  const dirName = extensionId();
  const walk = (dir: string, inExtensionDir: boolean): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p, inExtensionDir || name === dirName);
      else if (inExtensionDir && name.endsWith('.log')) lines.push(...readFileSync(p, 'utf8').split('\n').filter((l) => l.length > 0));
    }
  };
  walk(join(profile.userDataDir, 'logs'), false);
  return lines;
}
