// The modal questions about a mask file: one that cannot be applied as it is (other grid,
// unreadable, not labels), and one changed on disk by another program before Save.

import * as vscode from 'vscode';
import type { MaskChangedChoice } from './labelDocument';
import type { MaskProblem, MaskProblemChoice } from '../labels/maskLoading';
import type { EditorSettings } from '../settings/editorSettings';

/**
 * Asks what to do with a mask that cannot be applied as it is (modal), unless
 * `lesionLab.gridMismatchAction` (`preset`) already says. Cancel is the safe choice: read-only.
 */
export async function askMaskProblem(problem: MaskProblem, preset: EditorSettings['gridMismatchAction'], log: vscode.LogOutputChannel): Promise<MaskProblemChoice> {
  if (preset !== 'ask' && problem.choices.includes(preset)) {
    log.warn(`${problem.message} Using lesionLab.gridMismatchAction = ${preset}.`);
    return preset;
  }
  const labels: Record<MaskProblemChoice, string> = {
    resample: 'Resample onto image grid',
    readOnly: 'Open read-only',
    ignore: 'Open without mask',
  };
  const detail = [
    problem.differences.length ? `Differences: ${problem.differences.join('; ')}.` : '',
    problem.choices.includes('resample') ? '"Resample onto image grid" moves the mask onto this image by world position (nearest neighbour); Save then replaces the mask file.' : '',
    '"Open read-only" shows the image and keeps the mask file unchanged.',
    '"Open without mask" starts with empty labels; Save replaces the mask file.',
  ].filter(Boolean).join('\n');
  const picked = await vscode.window.showWarningMessage(problem.message, { modal: true, detail }, ...problem.choices.map((c) => labels[c]));
  const choice = problem.choices.find((c) => labels[c] === picked);
  // Cancel (or closing the dialog) is the safe choice.
  return choice ?? 'readOnly';
}

/** Asks what Save does with a mask changed on disk by another program (modal). */
export async function askMaskChanged(message: string): Promise<MaskChangedChoice | undefined> {
  const labels: Record<MaskChangedChoice, string> = { overwrite: 'Overwrite', reload: 'Reload from Disk', saveAs: 'Save As…' };
  const detail = [
    'Another program (another window, git, a script) changed the mask since it was opened or saved here.',
    '"Overwrite" replaces it with the labels shown here.',
    '"Reload from Disk" shows the file\'s labels and drops the unsaved changes here.',
    '"Save As…" writes the labels shown here to another file and leaves this one as it is.',
  ].join('\n');
  const picked = await vscode.window.showWarningMessage(message, { modal: true, detail }, labels.overwrite, labels.reload, labels.saveAs);
  return (Object.keys(labels) as MaskChangedChoice[]).find((c) => labels[c] === picked);
}
