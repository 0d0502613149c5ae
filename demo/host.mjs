// One demo host of local mode: a small service on <address>:8080 whose /health answers
// "ok <version>" once it has spun up, and a control port on <address>:8081 that the demo
// playbook's steps call (through demo/ctl.mjs) to install and restart a version. A version whose
// name contains "bad" never becomes healthy, to show a failed group rolled back.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    address: { type: 'string' },
    version: { type: 'string', default: 'v1' },
    spinup: { type: 'string', default: '800' },
  },
});
const address = values.address;
const spinupMs = Number(values.spinup);
let version = values.version;
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
