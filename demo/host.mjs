// One demo host of local mode: a small service on <address>:8080 whose /health answers
// "ok <version>" once it has spun up, and a control port on <address>:8081 that the demo
// playbook's steps call (through demo/ctl.mjs) to install and restart a version. A version whose
// name contains "bad" never becomes healthy, to show a failed group rolled back.
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    address: { type: 'string' },
    version: { type: 'string' },
    spinup: { type: 'string', default: '800' },
  },
});
const address = values.address;
const spinupMs = Number(values.spinup);

// Without --version, baton started this host before it knew the version (it reads it from its
// history meanwhile): it comes as the first line on stdin. From then on the end of stdin means
// baton is gone, however it ended, and this host goes too.
function versionOnStdin() {
  const input = createInterface({ input: process.stdin });
  input.once('close', () => process.exit(0));
  return new Promise((resolve) => input.once('line', (line) => resolve(line.trim())));
}

let version = values.version ?? (await versionOnStdin());
let installed = new Set([version]);
let running = true;
let generation = 0;

const health = createServer((request, response) => {
  const healthy = running && !version.includes('bad');
  response.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain', connection: 'close' });
  response.end(healthy ? `ok ${version}\n` : `starting ${version}\n`);
});

const listen = (server, port) =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve();
    });
  });

const control = createServer((request, response) => {
  const url = new URL(request.url ?? '/', `http://${address}`);
  const wanted = url.searchParams.get('version') ?? '';
  const answer = (status, text) => {
    response.writeHead(status, { 'content-type': 'text/plain' });
    response.end(`${text}\n`);
  };
  if (url.pathname === '/status')
    return answer(200, `${running ? 'running' : 'starting'} ${version}`);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(wanted)) return answer(400, 'which version?');
  if (url.pathname === '/install') {
    setTimeout(() => {
      installed.add(wanted);
      answer(200, `installed ${wanted}`);
    }, 150);
    return;
  }
  if (url.pathname === '/restart') {
    if (!installed.has(wanted)) return answer(409, `${wanted} is not installed`);
    const mine = ++generation;
    running = false;
    version = wanted;
    setTimeout(() => {
      if (mine === generation) running = true;
    }, spinupMs);
    return answer(200, `restarting on ${wanted}`);
  }
  answer(404, 'install, restart or status');
});

await listen(health, 8080);
await listen(control, 8081);
console.log(`ready ${address} ${version}`);
