// Where dataset.imageMode "file" puts the images the server reads, and the
// one value both sides use for it: the folder's real path. vLLM compares its
// --allowed-local-media-path *unresolved* against the *resolved* file's
// parents (vllm/multimodal/utils.py MediaConnector._load_file_url, releases
// before the move to multimodal/media/connector.py), so a relative or
// symlinked value never matches: the flag and the file:// URLs both use the
// real path of the folder itself.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './schema';
import { TceError } from '../util/errors';

export const MEDIA_FIELD = 'backend.vllm.allowedLocalMediaPath';

/** The image folder's real path, created if missing. */
export function mediaFolder(c: Config): string {
  const base = c.backend.vllm.allowedLocalMediaPath ?? path.join(c.paths.experimentDir, 'media');
  const dir = path.join(base, 'tce-images');
  try {
    fs.mkdirSync(dir, { recursive: true });
    // The base may be a link (it is the user's choice); tce-images is tce's
    // own folder, and a link there would send our writes somewhere else.
    if (fs.lstatSync(dir).isSymbolicLink()) throw new TceError('MEDIA_DIR', `${dir}: is a symbolic link; tce writes images only into a real tce-images folder`, `remove the link; set ${MEDIA_FIELD} to choose where the images go`);
    return fs.realpathSync(dir);
  } catch (e) {
    if (e instanceof TceError) throw e;
    throw new TceError('CONFIG_INVALID', `config: ${MEDIA_FIELD}: cannot make the image folder ${dir}: ${(e as Error).message}`, `point ${MEDIA_FIELD} at a folder tce may write (images go into its tce-images/ subfolder)`);
  }
}

/** Refuses file-mode settings that cannot work with spawned vLLM servers:
 * tce passes --allowed-local-media-path itself, so a model's own copy of the
 * flag would point vLLM elsewhere. */
export function checkFileModeConfig(c: Config): void {
  if (c.dataset.imageMode !== 'file' || c.backend.kind !== 'vllm') return;
  for (const [role, m] of Object.entries(c.models)) {
    if (m.vllmArgs.some((a) => a === '--allowed-local-media-path' || a.startsWith('--allowed-local-media-path='))) {
      throw new TceError('CONFIG_INVALID', `config: models.${role}.vllmArgs: --allowed-local-media-path is set by tce in file image mode (to the real path of the image folder)`, `remove it; set ${MEDIA_FIELD} to choose where the images go`);
    }
  }
}
