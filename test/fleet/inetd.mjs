// Listens on <address>:<port> in the network namespace it runs in, and hands every connection to
// a new process of `<command...>` (e.g. `ip netns exec inner sshd -i`) as its stdin and stdout,
// the way inetd does. So a host in one namespace can be reached from another at an address of
// the caller's choosing, and each connection is one process: easy to count, nothing to relay.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';

const [address, port, log, separator, ...command] = process.argv.slice(2);
if (separator !== '--' || command.length === 0) {
  process.stderr.write('usage: inetd.mjs <address> <port> <log file> -- <command...>\n');
  process.exit(2);
}
const logFd = openSync(log, 'a');

// Paused, so that not a byte of the client's is read here: the command reads it all.
const server = createServer({ pauseOnConnect: true }, (socket) => {
  const child = spawn(command[0], command.slice(1), { stdio: [socket, socket, logFd] });
  child.once('error', (error) => process.stderr.write(`inetd: ${error.message}\n`));
  socket.destroy();
});
server.listen(Number(port), address, () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
