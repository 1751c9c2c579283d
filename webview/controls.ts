// The viewer's controls: toolbar, proposal bar and label table, kept in line with the Viewer
// through its onUiChanged hook. Plain DOM; colours from the VS Code theme (media/webview.css).
import { LabelTablePanel } from './labelTablePanel';
import { ProposalBar } from './proposalBar';
import { Toolbar } from './toolbar';
import type { Viewer } from './viewer';

export class Controls {
  readonly toolbar: Toolbar;
  readonly proposalBar: ProposalBar;
  readonly labelTable: LabelTablePanel;

  constructor(viewer: Viewer) {
    this.toolbar = new Toolbar(viewer);
    this.proposalBar = new ProposalBar(viewer);
    this.labelTable = new LabelTablePanel(viewer, () => this.refresh());
    viewer.onUiChanged = () => this.refresh();
    this.refresh();
  }

  /** Brings every control in line with the viewer's state. */
  refresh(): void {
    this.toolbar.refresh();
    this.proposalBar.refresh();
    this.labelTable.refresh();
  }
}
