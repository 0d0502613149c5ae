// One fake host's service: answers GET /health with its version once it has spun up, and takes
// `restart <version>` / `stop` / `status` on a control port (what `fleetctl` sends over SSH).
// It stays one long-lived process per host so the fleet can stop it by PID; a restart really
// closes the port (connection refused) until the new version is up.
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createControlServer } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    address: { type: 'string' },
    port: { type: 'string' },
    'control-port': { type: 'string', default: '8081' },
    version: { type: 'string' },
    spinup: { type: 'string', default: '100' },
    behaviours: { type: 'string' },
    journal: { type: 'string' },
  },
});

let version = values.version;
let state = 'stopped';
let generation = 0;
const spinupMs = Number(values.spinup);

function behaviour(of) {
  try {
    return JSON.parse(readFileSync(values.behaviours, 'utf8'))[of] ?? 'normal';
  } catch {
    return 'normal';
  }
}

// Every change in whether /health answers 200 goes to the journal with a monotonic timestamp
// (the same clock in every process), so tests learn exactly when each host was down instead of
// sampling it over HTTP, which a loaded machine can answer too late.
function record(serving) {
  if (!values.journal) return;
  const at = Number(process.hrtime.bigint() / 1000n);
  appendFileSync(values.journal, `${JSON.stringify({ at, serving, version })}\n`);
}

function serving() {
  return state === 'running' && behaviour(version) !== 'never-healthy';
}

const http = createServer((request, response) => {
  const healthy = serving();
  response.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain', connection: 'close' });
  response.end(healthy ? `ok ${version}\n` : `unhealthy ${version}\n`);
});

function close() {
  return new Promise((resolve) => {
    if (!http.listening) return resolve();
    http.close(() => resolve());
    http.closeAllConnections();
  });
}

function listen() {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(Number(values.port), values.address, () => {
      http.off('error', reject);
      resolve();
    });
  });
}

async function restart(next) {
  const mine = ++generation;
  state = 'starting';
  record(false);
  await close();
  version = next;
  setTimeout(async () => {
    if (mine !== generation) return;
    await listen();
    state = 'running';
    record(serving());
  }, spinupMs);
}

const control = createControlServer((socket) => {
  socket.setEncoding('utf8');
  let buffer = '';
  socket.on('data', async (chunk) => {
    buffer += chunk;
    if (!buffer.includes('\n')) return;
    const [command, argument] = buffer.trim().split(/\s+/);
    if (command === 'restart' && argument) {
      await restart(argument);
      socket.end(`restarting ${argument}\n`);
    } else if (command === 'stop') {
      generation++;
      state = 'stopped';
      record(false);
      await close();
      socket.end('stopped\n');
    } else if (command === 'status') {
      socket.end(`${state} ${version}\n`);
    } else {
      socket.end(`error: unknown command ${command}\n`);
    }
  });
});

control.listen(Number(values['control-port']), values.address, async () => {
  await listen();
  state = 'running';
  record(serving());
  process.send?.('ready');
});
process.on('SIGTERM', () => process.exit(0));
