// Small test images in the fixture's palette (src/domain/scene-cues.ts):
// a road with the given cues drawn as solid blocks.
import { PNG } from 'pngjs';
import { BACKGROUND_COLORS, CUE_COLORS, type Cue } from '../../src/domain/scene-cues';

export function scenePng(cues: Cue[], opts: { width?: number; height?: number; variant?: number } = {}): Buffer {
  const width = opts.width ?? 96, height = opts.height ?? 64;
  const png = new PNG({ width, height });
  const set = (x: number, y: number, c: readonly number[]) => {
    const o = (y * width + x) * 4;
    png.data[o] = c[0]!; png.data[o + 1] = c[1]!; png.data[o + 2] = c[2]!; png.data[o + 3] = 255;
  };
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) set(x, y, y < height / 3 ? BACKGROUND_COLORS.sky : BACKGROUND_COLORS.road);
  // A variant pixel makes otherwise identical images distinct (different hash).
  set((opts.variant ?? 0) % width, 0, [((opts.variant ?? 0) * 7) % 256, 1, 2]);
  cues.forEach((cue, k) => {
    for (let y = 30; y < 36; y++) for (let x = 4 + k * 10; x < 10 + k * 10; x++) set(x, y, CUE_COLORS[cue]);
  });
  return PNG.sync.write(png);
}

export const dataUrl = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;
