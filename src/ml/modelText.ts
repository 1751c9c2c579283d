// Texts of the model commands: status bar, progress messages, lesion reports, the model history
// and the version picker. Pure: data in, strings out (vscode-free, unit-tested).

import type { Lesion } from './metrics';
import type { ModelCard, StoredVersion } from './modelStore';
import type { TrainingProgress } from './training';

/** What the status bar item shows. */
export interface ModelStatus {
  /** Backend in use ('wasm', 'tensorflow', 'cpu'), or null before it was started. */
  backendName: string | null;
  /** Active model version ('v2', 'ms-flair', 'starter'), or null when there is none. */
  modelVersion: string | null;
  /** False while no model was chosen (the default starter would run; the first Segment Lesion asks). */
  chosen?: boolean;
  /** A job in progress, shown with a spinning icon. */
  busy?: 'segmenting' | 'fine-tuning' | null;
}

/** Status bar text, e.g. "$(beaker) wasm · model v2". */
export function statusBarText(s: ModelStatus): string {
  const icon = s.busy ? '$(sync~spin)' : '$(beaker)';
  const model = s.modelVersion === null ? 'no model' : s.chosen === false ? 'model not chosen' : `model ${s.modelVersion}`;
  const parts = [s.backendName, model, s.busy ?? null].filter((p): p is string => p !== null && p !== '');
  return `${icon} ${parts.join(' · ')}`;
}

/** Status bar tooltip: the backend's reason and where the model comes from. */
export function statusBarTooltip(s: ModelStatus & { backendReason?: string | null; modelSource?: string | null }): string {
  const lines = [
    s.backendName ? `Lesion Lab backend: ${s.backendReason ?? s.backendName}` : 'Lesion Lab backend: starts with the first Segment Lesion or Fine-tune',
    s.modelVersion ? `Active model: ${s.modelVersion}${s.modelSource ? ` (${s.modelSource})` : ''}` : 'No model: the starter model is missing and the workspace has no trained version',
    'Click to choose the model (a fine-tuned version or a shipped starter).',
  ];
  return lines.join('\n');
}

/** A Dice value for people: 3 decimals, or "n/a". */
export function formatDice(dice: number | null | undefined): string {
  return typeof dice === 'number' && Number.isFinite(dice) ? dice.toFixed(3) : 'n/a';
}

/** "2026-11-27 10:03" (UTC) from an ISO time; the input unchanged when it is not a date. */
export function formatDate(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

/** "12.3 s", "4.2 min". */
export function formatDuration(seconds: number): string {
  return seconds < 90 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`;
}

/** Progress text of Segment Lesion: "patches 12 / 40". */
export function segmentProgressMessage(done: number, total: number): string {
  return `patches ${done} / ${total}`;
}

/** Progress text of Fine-tune: "epoch 3 · step 61 · loss 0.412 · validation Dice 0.710". */
export function trainingProgressMessage(p: TrainingProgress): string {
  switch (p.phase) {
    case 'validating-before':
      return 'validating the current model on the held-out cases…';
    case 'validating-after':
      return `validating the fine-tuned model (best validation Dice ${formatDice(p.valDice)})…`;
    case 'saving':
      return 'saving the new model version…';
    case 'training': {
      const loss = Number.isFinite(p.loss) ? p.loss.toFixed(3) : 'n/a';
      return `epoch ${p.epoch} · step ${p.step} · loss ${loss} · validation Dice ${formatDice(p.valDice)}`;
    }
  }
}

/** Total lesion volume in mm³. */
export function totalLesionVolumeMm3(lesions: readonly Lesion[]): number {
  return lesions.reduce((sum, l) => sum + l.volumeMm3, 0);
}

/** One-line summary of a proposal: "3 lesions, 1520.0 mm³". */
export function lesionSummary(lesions: readonly Lesion[]): string {
  const n = lesions.length;
  return `${n} lesion${n === 1 ? '' : 's'}, ${totalLesionVolumeMm3(lesions).toFixed(1)} mm³`;
}

/** The output-channel report of a Segment Lesion run: a summary line, then one line per lesion. */
export function lesionReport(input: {
  fileName: string;
  modelVersion: string;
  lesions: readonly Lesion[];
  seconds: number;
  windowsPredicted: number;
  windowsTotal: number;
  threshold: number;
}): string[] {
  const lines = [
    `${input.fileName}: model ${input.modelVersion} proposed ${lesionSummary(input.lesions)} ` +
      `(threshold ${input.threshold}, ${input.windowsPredicted}/${input.windowsTotal} patches predicted, ${formatDuration(input.seconds)})`,
  ];
  for (const l of input.lesions) {
    const c = l.centroidVoxel.map((v) => Math.round(v)).join(', ');
    lines.push(`  lesion ${l.id}: ${l.volumeMm3.toFixed(1)} mm³ (${l.voxelCount} voxels), centre at voxel [${c}]`);
  }
  return lines;
}

/** What a fine-tune run reported, as the summary needs it. */
export interface FineTuneSummaryInput {
  newVersion: string;
  activated: boolean;
  /** The version that was active before (and stays active when the new one is not activated). */
  previousVersion: string;
  validationDiceBefore: number | null;
  validationDiceAfter: number | null;
  patchDiceBefore: number;
  patchDiceAfter: number;
  pairCount: number;
  steps: number;
  stoppedBecause: string;
  durationS: number;
}

/** The notification and output-channel summary of a fine-tune run. */
export function fineTuneSummary(r: FineTuneSummaryInput): string {
  const whole = r.validationDiceBefore !== null || r.validationDiceAfter !== null;
  const dice = whole
    ? `validation Dice ${formatDice(r.validationDiceBefore)} → ${formatDice(r.validationDiceAfter)}`
    : `validation patch Dice ${formatDice(r.patchDiceBefore)} → ${formatDice(r.patchDiceAfter)}`;
  const run = `${r.pairCount} case${r.pairCount === 1 ? '' : 's'}, ${r.steps} steps, stopped by ${r.stoppedBecause}, ${formatDuration(r.durationS)}`;
  const outcome = r.activated
    ? `model ${r.newVersion} is now active`
    : `model ${r.newVersion} was kept but not activated because it did not improve; ${r.previousVersion} stays active`;
  return `Fine-tuned ${r.previousVersion} → ${r.newVersion}: ${dice} (${run}); ${outcome}.`;
}

/** A stored version with whether it is the active one. */
export type HistoryEntry = Pick<StoredVersion, 'version' | 'card'> & { active: boolean };

function diceOf(card: ModelCard): string {
  const t = card.training;
  if (!t) return 'n/a';
  return `${formatDice(t.validationDiceBefore)} → ${formatDice(t.validationDiceAfter)}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * The model history as Markdown: one table row per version (newest first) with its parent,
 * date, validation Dice before → after, training cases, steps and duration; the starter model
 * (when given) as the root.
 */
export function modelHistoryMarkdown(entries: readonly HistoryEntry[], opts: { storeRoot: string | null; starter: ModelCard | null }): string {
  const out: string[] = ['# Lesion Lab model history', ''];
  if (opts.storeRoot) out.push(`Store: \`${opts.storeRoot}\``, '');
  else out.push('No workspace folder is open, so there is no model store; only the starter model is available.', '');
  const anyActive = entries.some((e) => e.active);
  if (entries.length === 0) {
    out.push('No fine-tuned versions yet. Save reviewed masks, then run **Lesion Lab: Fine-tune on Corrected Masks**.', '');
  } else {
    out.push('| Version | Active | Parent | Created (UTC) | Validation Dice (before → after) | Cases | Steps | Stopped by | Duration | Loss |');
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const e of [...entries].reverse()) {
      const t = e.card.training;
      out.push(
        `| ${cell(e.version)} | ${e.active ? '✓' : ''} | ${cell(e.card.parentVersion ?? '—')} | ${formatDate(e.card.createdAt)} | ${diceOf(e.card)} | ` +
          `${t ? t.pairs.length : '—'} | ${t ? t.steps : '—'} | ${t ? cell(t.stoppedBecause) : '—'} | ${t ? formatDuration(t.durationS) : '—'} | ${t ? cell(t.loss.name) : '—'} |`,
      );
    }
    out.push('');
  }
  if (opts.starter) {
    out.push(`**Starter model** (${cell(opts.starter.version)}, shipped with the extension)${anyActive ? '' : ' — in use'}.`);
    if (opts.starter.attribution) out.push('', `Attribution: ${opts.starter.attribution}`);
    if (opts.starter.notes) out.push('', opts.starter.notes);
  } else {
    out.push('The starter model is not installed (media/models/starter); run `npm run train:starter` in the extension repository.');
  }
  for (const e of [...entries].reverse()) {
    const t = e.card.training;
    if (!t || t.pairs.length === 0) continue;
    out.push('', `## ${e.version} training cases`, '');
    for (const p of t.pairs) {
      const held = t.validationImages.includes(p.imagePath) ? ' (validation)' : '';
      out.push(`- \`${p.imagePath}\`${held} — image sha256 ${p.imageSha256.slice(0, 12)}…, mask sha256 ${p.maskSha256.slice(0, 12)}…`);
    }
  }
  return out.join('\n') + '\n';
}

/** One entry of the version picker. */
export interface VersionPickItem {
  label: string;
  description: string;
  detail: string;
  version: string;
}

/** Quick-pick entries for the versions, newest first: "v2" · "Dice 0.62 → 0.71 · 2026-11-27 10:03". */
export function versionPickItems(entries: readonly HistoryEntry[]): VersionPickItem[] {
  return [...entries].reverse().map((e) => {
    const t = e.card.training;
    const detail = [
      e.active ? 'active' : null,
      `parent ${e.card.parentVersion ?? '—'}`,
      t ? `${t.pairs.length} case${t.pairs.length === 1 ? '' : 's'}, ${t.steps} steps, ${t.loss.name}` : null,
    ]
      .filter((p): p is string => p !== null)
      .join(' · ');
    return {
      label: e.active ? `$(check) ${e.version}` : e.version,
      description: `Dice ${diceOf(e.card)} · ${formatDate(e.card.createdAt)}`,
      detail,
      version: e.version,
    };
  });
}
