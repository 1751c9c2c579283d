// The host → webview messages that carry a whole volume: `init` (image, labels, table, state)
// and `replaceLabels`.

import { basename } from 'node:path';
import type { HostToWebviewMessage, InitMessage, ViewerSettings, WireLabelVolume } from '../protocol/messages';
import { guessModality, labelsToWire, toWireVoxels } from '../volume/imageInfo';
import type { LabelDocument } from './labelDocument';

function wireLabels(document: LabelDocument): WireLabelVolume {
  // An all-background volume travels as an empty buffer (protocol: WireLabelVolume).
  return labelsToWire(document.labels);
}

/** The labels and table of `document`, replacing the webview's (after revert, resync or reload). */
export function replaceLabelsMessage(document: LabelDocument, cause: 'revert' | 'resync' | 'reload'): HostToWebviewMessage {
  return { type: 'replaceLabels', labels: wireLabels(document), labelTable: document.session?.model.labelTable ?? [], cause };
}

/** The full `init` for one webview (fresh buffers each time). */
export function initMessage(document: LabelDocument, viewer: ViewerSettings): InitMessage {
  const s = document.session;
  if (!s) throw new Error(document.openError ?? 'document not open');
  const image = s.image;
  const stats = document.stats();
  const wire = toWireVoxels(image.data, { shareWholeBuffer: true });
  return {
    type: 'init',
    fileName: basename(s.imagePath),
    dims: [image.dims[0], image.dims[1], image.dims[2]],
    affine: Array.from(image.affine),
    voxelType: wire.voxelType,
    voxels: wire.voxels,
    frameCount: image.frameCount,
    frame: image.frame,
    stats,
    modality: guessModality(s.imagePath, image.header.description, stats),
    labels: wireLabels(document),
    labelTable: s.model.labelTable,
    readOnly: s.readOnly,
    readOnlyReason: s.readOnlyReason,
    maskMessage: s.mask.message,
    settings: viewer,
  };
}
