// Vec3 under its old path: src/interactive imports it from here. New code imports from ./vec3
// (and box operations from ./boxes, the sliding window from ./slidingWindow, the training patch
// sampler from ../ml/patchSampler, seeded random numbers from ../util/random).
export type { Vec3 } from './vec3';
