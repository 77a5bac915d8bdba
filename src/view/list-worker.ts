// Builds condition sample lists off the server's thread, on its own
// read-only connection, so a cold condition never stalls the other pages.
import { parentPort, workerData } from 'node:worker_threads';
import { ViewStore } from './view-store';

const store = ViewStore.open((workerData as { file: string }).file);
parentPort!.on('message', (id: string) => {
  try {
    const e = store.experiment(id);
    parentPort!.postMessage(e ? { id, ...store.buildList(e) } : { id, error: `no experiment ${id}` });
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
