// The proposal bar: a model's lesion proposal (or a prompted object) awaiting Accept / Reject.
// It sits between the warning line and the views and shrinks the views while shown.
import { textButton } from './formControls';
import { OVERLAY_KEYS, keyName } from './keymap';
import type { Viewer } from './viewer';

export class ProposalBar {
  readonly el: HTMLElement;
  private readonly text: HTMLElement;
  private readonly acceptButton: HTMLButtonElement;

  constructor(private readonly viewer: Viewer) {
    this.el = document.createElement('div');
    this.el.className = 'll-proposal';
    this.el.hidden = true;
    this.el.setAttribute('role', 'status');
    this.text = document.createElement('span');
    this.text.className = 'll-proposal-text';
    this.el.appendChild(this.text);
    this.acceptButton = textButton(this.el, 'Accept', acceptTitle(), () => viewer.acceptProposal());
    this.acceptButton.dataset.action = 'accept';
    this.acceptButton.classList.add('ll-primary');
    const reject = textButton(this.el, 'Reject', `Reject the proposal: remove it and its maps; labels stay as they are (${keyName(OVERLAY_KEYS.rejectProposal)})`, () => viewer.rejectProposal());
    reject.dataset.action = 'reject';
    viewer.root.insertBefore(this.el, viewer.warningEl.nextSibling);
  }

  refresh(): void {
    const v = this.viewer;
    const p = v.proposal;
    const wasHidden = this.el.hidden;
    this.el.hidden = p === null;
    if (p) {
      this.el.dataset.modelVersion = p.modelVersion;
      const policy = v.overwrite === 'all' ? 'overwriting unlocked labels' : v.overwrite === 'empty' ? 'only empty voxels' : `only empty voxels and label ${v.overwriteLabel}`;
      this.text.textContent =
        p.origin === 'prompts'
          ? `Prompted object (into the selected label, ${policy}): add prompts, or`
          : `Lesion proposal from model ${p.modelVersion} (probability ≥ ${p.threshold}, as label ${p.labelValue}): review it, then`;
      this.acceptButton.disabled = v.readOnly;
      this.acceptButton.title = v.readOnly ? `Read-only${v.readOnlyReason ? `: ${v.readOnlyReason}` : ''}; the proposal cannot be accepted` : acceptTitle();
    }
    // The bar changes the height of the views: lay them out again at once.
    if (wasHidden !== this.el.hidden) v.layoutViews();
  }
}

function acceptTitle(): string {
  return `Accept the proposal as labels, one undoable edit (${keyName(OVERLAY_KEYS.acceptProposal)})`;
}
