// Boots a worker thread on floe's TypeScript sources: registers tsx, then imports the module
// named in workerData.entry. (Worker threads do not inherit the parent's module hooks, and the
// installed package does not ship tsx: compiled, a worker runs its compiled module directly.)
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
