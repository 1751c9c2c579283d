// Types shared by the viewer's modules (no code), so that no module needs to import viewer.ts.
import type { LabelTableEntry, InitMessage, IntensityStats, OverwriteMode, VoxelTypedArray, WebviewToHostMessage } from '../src/protocol/messages';
import type { SliceViewKind, VolumeGeometry } from './geometry';
import type { ImageTexture, LabelTexture } from './textures';
import type { BrushShape } from './tools/brush';
import type { ToolName } from './tools/toolSet';

/** What the viewer needs from its surroundings (the VS Code API in main.ts, a fake in tests). */
export interface ViewerHost {
  post(message: WebviewToHostMessage, transfer?: Transferable[]): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** View slots in the layout: the three slice views and the 3-D view. */
export type ViewSlot = SliceViewKind | '3d';

export const VIEW_SLOTS: readonly ViewSlot[] = ['axial', 'coronal', 'sagittal', '3d'];

/** The loaded document: its image and labels on the CPU and the GPU. */
export interface Volume {
  init: InitMessage;
  geometry: VolumeGeometry;
  image: VoxelTypedArray;
  imageTexture: ImageTexture;
  labels: LabelTexture;
  stats: IntensityStats;
  frame: number;
}

/** The tool options a labelling gesture reads (the Viewer holds them; the toolbar edits them). */
export interface ToolSettings {
  tool: ToolName;
  brushRadiusMm: number;
  brushShape: BrushShape;
  activeLabel: number;
  overwrite: OverwriteMode;
  /** The label that the 'label' overwrite mode may paint over. */
  overwriteLabel: number;
  thresholdOn: boolean;
  thresholdRange: { min: number; max: number };
  fillTolerance: number;
  islandMinVoxels: number;
  readOnly: boolean;
  readOnlyReason: string | null;
  labelTable: LabelTableEntry[];
}
