// The control command a playbook runs on a fake host over SSH. sshd's SetEnv tells it which
// host it is on (FLEET_CONTROL), so each sshd acts only on its own host's service.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const [command, version] = process.argv.slice(2);
const socketPath = process.env.FLEET_CONTROL;
if (!socketPath) {
  console.error('fleetctl: FLEET_CONTROL is not set: run me over SSH on a fleet host');
  process.exit(2);
}

function behaviour(of) {
  try {
    return JSON.parse(readFileSync(process.env.FLEET_BEHAVIOURS, 'utf8'))[of] ?? 'normal';
  } catch {
    return 'normal';
  }
}

function send(line) {
  const socket = connect(socketPath);
  socket.setEncoding('utf8');
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk));
  socket.on('end', () => {
    process.stdout.write(answer);
    process.exit(answer.startsWith('error') ? 1 : 0);
  });
  socket.on('error', (error) => {
    console.error(`fleetctl: service not reachable: ${error.message}`);
    process.exit(1);
  });
  socket.write(`${line}\n`);
}

if (command === 'install') {
  const how = behaviour(version);
  if (how === 'install-fails') {
    console.error(`fleetctl: cannot install ${version}: checksum mismatch`);
    process.exit(3);
  }
  if (how === 'install-hangs') setInterval(() => {}, 1000);
  else console.log(`installed ${version}`);
} else if (command === 'restart' && version) {
  send(`restart ${version}`);
} else if (command === 'stop' || command === 'status') {
  send(command);
} else {
  console.error('usage: fleetctl install <version> | restart <version> | stop | status');
  process.exit(2);
}
