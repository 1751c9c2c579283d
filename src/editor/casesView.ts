// The "Cases" tree of the Lesion Lab activity-bar view: folders, then images with their review
// state. Thin vscode wiring over src/dataset/cases.ts, which decides states, orders and filters.

import * as vscode from 'vscode';
import { basename } from 'node:path';
import { CASE_STATE_TEXT, caseDescription, groupCasesByFolder, progressLine, type CaseInfo, type CaseState } from '../dataset/cases';

/** A folder of cases (its path relative to the workspace root; '' is the root). */
export interface FolderNode {
  kind: 'folder';
  folder: string;
  cases: CaseInfo[];
}

/** One image. */
export interface CaseNode {
  kind: 'case';
  info: CaseInfo;
  parent: FolderNode;
  /** The open document has unsaved label changes. */
  unsaved: boolean;
}

export type CasesTreeNode = FolderNode | CaseNode;

const STATE_ICONS: Readonly<Record<CaseState, [string, string]>> = {
  'no-mask': ['circle-outline', 'descriptionForeground'],
  proposal: ['lightbulb', 'charts.yellow'],
  edited: ['edit', 'charts.blue'],
  reviewed: ['pass-filled', 'charts.green'],
};

/** The folder nodes of ordered cases (see groupCasesByFolder). */
export function groupByFolder(ordered: readonly CaseInfo[]): FolderNode[] {
  return groupCasesByFolder(ordered).map((g) => ({ kind: 'folder', folder: g.folder, cases: g.cases }));
}

function tooltipFor(c: CaseInfo, unsaved: boolean): vscode.MarkdownString {
  const lines = [`**${c.relativePath}**`, '', `State: ${CASE_STATE_TEXT[c.state]}${unsaved ? ' (unsaved changes open)' : ''}`];
  if (c.lesionCount !== null) lines.push(`Lesions: ${c.lesionCount}`);
  if (c.volumeMm3 !== null && c.state !== 'no-mask') lines.push(`Volume: ${c.volumeMm3.toFixed(1)} mm³`);
  if (c.modelVersion) lines.push(`Proposed by model ${c.modelVersion}`);
  if (c.meanUncertainty !== null) lines.push(`Mean uncertainty inside the proposal: ${c.meanUncertainty.toFixed(4)}`);
  if (c.correction) lines.push(`Correction: Dice ${c.correction.dice.toFixed(3)}, +${c.correction.addedVoxels} / −${c.correction.removedVoxels} voxels (model ${c.correction.modelVersion})`);
  if (c.problem) lines.push(`⚠ ${c.problem}`);
  lines.push(`Mask: ${basename(c.maskPath)}`);
  const md = new vscode.MarkdownString(lines.join('  \n'));
  md.supportThemeIcons = false;
  return md;
}

/** The tree data of the Cases view. */
export class CasesTreeProvider implements vscode.TreeDataProvider<CasesTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<CasesTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private folders: FolderNode[] = [];
  private unsavedPaths = new Set<string>();
  private nodes = new Map<string, CaseNode>();

  /** Shows `ordered` (already sorted and filtered); `unsaved` are images whose open document is dirty. */
  setCases(ordered: readonly CaseInfo[], unsaved: ReadonlySet<string>): void {
    this.folders = groupByFolder(ordered);
    this.unsavedPaths = new Set(unsaved);
    this.nodes = new Map();
    for (const f of this.folders) for (const c of f.cases) this.nodes.set(c.imagePath, { kind: 'case', info: c, parent: f, unsaved: this.unsavedPaths.has(c.imagePath) });
    this.changed.fire(undefined);
  }

  /** The cases in display order (folder by folder). */
  displayOrder(): CaseInfo[] {
    return this.folders.flatMap((f) => f.cases);
  }

  nodeFor(imagePath: string): CaseNode | undefined {
    return this.nodes.get(imagePath);
  }

  getChildren(element?: CasesTreeNode): CasesTreeNode[] {
    if (!element) return this.folders;
    if (element.kind === 'folder') return element.cases.map((c) => this.nodes.get(c.imagePath)).filter((n): n is CaseNode => n !== undefined);
    return [];
  }

  getParent(element: CasesTreeNode): CasesTreeNode | undefined {
    return element.kind === 'case' ? element.parent : undefined;
  }

  getTreeItem(element: CasesTreeNode): vscode.TreeItem {
    if (element.kind === 'folder') {
      const item = new vscode.TreeItem(element.folder === '' ? '(workspace root)' : element.folder, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `folder:${element.folder}`;
      item.description = progressLine(element.cases);
      item.iconPath = new vscode.ThemeIcon('folder');
      item.contextValue = 'lesionLabFolder';
      return item;
    }
    const c = element.info;
    const item = new vscode.TreeItem(c.fileName, vscode.TreeItemCollapsibleState.None);
    item.id = `case:${c.imagePath}`;
    item.description = element.unsaved ? `${caseDescription(c)} · unsaved` : caseDescription(c);
    item.tooltip = tooltipFor(c, element.unsaved);
    const [icon, color] = STATE_ICONS[c.state];
    item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
    item.contextValue = `lesionLabCase.${c.state}`;
    item.command = { command: 'lesionLab.openCase', title: 'Open Case', arguments: [element] };
    item.accessibilityInformation = { label: `${c.relativePath}: ${caseDescription(c)}` };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
