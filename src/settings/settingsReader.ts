// The validate-or-fall-back step shared by the `lesionLab.*` settings readers (settings.ts,
// modelSettings.ts). Pure and free of engine imports, so the extension host can load it at activation.

/** Reads one setting: returns the value when valid, else the fallback (recording a problem). */
export type SettingPicker = <T>(key: string, fallback: T, ok: (v: unknown) => boolean, expected: string) => T;

/**
 * Makes a picker over `get(key)` (key without the `lesionLab.` prefix; undefined or null when
 * unset, which gives the fallback silently). An invalid value gives the fallback and appends one
 * sentence naming the setting, the value and what is expected to `problems`.
 */
export function settingPicker(get: (key: string) => unknown, problems: string[]): SettingPicker {
  return <T>(key: string, fallback: T, ok: (v: unknown) => boolean, expected: string): T => {
    const v = get(key);
    if (v === undefined || v === null) return fallback;
    if (ok(v)) return v as T;
    problems.push(`lesionLab.${key} must be ${expected}, got ${JSON.stringify(v)}; using ${JSON.stringify(fallback)}`);
    return fallback;
  };
}

/**
 * A check for a finite number in `[min, max]`, or in `(min, max]` when `openMin` is true.
 * @param openMin exclude `min` itself (default false)
 */
export function numberInRange(min: number, max: number, openMin = false): (v: unknown) => boolean {
  return (v: unknown) => typeof v === 'number' && Number.isFinite(v) && (openMin ? v > min : v >= min) && v <= max;
}
