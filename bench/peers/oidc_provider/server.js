// Serve the provider: `node server.js STATE_FILE DATABASE PORT WORKERS`. One process is one
// worker (Node's event loop); with WORKERS > 1 the primary forks that many workers with
// node:cluster, which share the listening socket, as gunicorn's and uvicorn's workers do.

import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import { createProvider } from './provider.js';

const [stateFile, databasePath, port, workers = '1'] = process.argv.slice(2);
const count = Number(workers);

if (count > 1 && cluster.isPrimary) {
  for (let i = 0; i < count; i += 1) cluster.fork();
  cluster.on('exit', (worker, code) => {
    console.error(`worker ${worker.process.pid} exited (${code})`);
    process.exit(1);
  });
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  const { provider } = createProvider(state, databasePath);
  const server = http.createServer(provider.callback());
  server.keepAliveTimeout = 65000;
  server.listen(Number(port), '127.0.0.1');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
