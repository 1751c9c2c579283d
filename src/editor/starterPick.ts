// The question the first Segment Lesion (or Segment All Unreviewed, or Fine-tune) asks in a
// workspace without a chosen model: which shipped starter model fits these images. The starter
// that src/ml/starterChoice.ts suggests for the image comes first, marked "suggested".

import * as vscode from 'vscode';
import { starterPickItems, type ShippedStarter, type StarterPickItem, type StarterSuggestion } from '../ml/starterModels';

/** Title of the starter question (the e2e test waits for it). */
export const STARTER_PICK_TITLE = 'Lesion Lab: which starter model fits these images?';

/**
 * Asks which starter to use.
 * @param what - the command that asks ("Segment Lesion"), named in the placeholder.
 * @returns the chosen starter's folder name, or undefined when the pick was dismissed.
 */
export async function askForStarter(starters: readonly ShippedStarter[], suggestion: StarterSuggestion | null, what: string): Promise<string | undefined> {
  const suggested = suggestion && starters.some((s) => s.name === suggestion.name) ? suggestion : null;
  const items = starterPickItems(starters, { suggested: suggested?.name ?? null });
  const placeHolder = suggested
    ? `${what} needs a model; suggested: ${suggested.name} (${suggested.reason}). Remembered for this workspace; change it with Select Model.`
    : `${what} needs a model. The choice is remembered for this workspace; change it with Select Model.`;
  const picked = await vscode.window.showQuickPick<StarterPickItem & vscode.QuickPickItem>(items, {
    title: STARTER_PICK_TITLE,
    placeHolder,
    matchOnDescription: true,
    matchOnDetail: true,
    ignoreFocusOut: true,
  });
  return picked?.starter;
}
