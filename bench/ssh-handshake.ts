// `npm run bench` (part), or alone: `npx tsx bench/ssh-handshake.ts`. What an SSH login costs the
// worker, on real sshd hosts: CPU and wall per handshake for each key exchange and cipher ssh2
// offers (with its native crypto binding when it is built, which the figures say), so the order
// baton asks for is chosen by measurement; then what a warm connection saves: a command on a
// fresh login against one on a connection kept open, and pre-flight of the whole fleet at a few
// parallelism bounds, cold and warm. Prints figures; asserts nothing.
import { NodeSSH } from 'node-ssh';
import { readFile } from 'node:fs/promises';
import { SshExecutor } from '../src/adapters/ssh/ssh-executor.js';
import type { HostTarget } from '../src/app/ports.js';
import { Fleet } from '../test/fleet/fleet.js';
import { fleetTargets, median } from './floor.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 20);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 40);

const binding = await import('ssh2/lib/protocol/crypto.js' as string).then(
  (crypto: { bindingAvailable?: boolean; default?: { bindingAvailable?: boolean } }) =>
    crypto.bindingAvailable ?? crypto.default?.bindingAvailable ?? false,
);

const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

async function handshake(
  target: HostTarget,
  key: string,
  algorithms: { kex?: string[]; cipher?: string[] },
): Promise<{ wallMs: number; cpuMs: number }> {
  const ssh = new NodeSSH();
  const wall = performance.now();
  const cpu = cpuMs();
  await ssh.connect({
    host: target.address,
    port: target.port,
    username: target.user,
    privateKey: key,
    hostVerifier: () => true,
    algorithms: algorithms as never,
  });
  const figures = { wallMs: performance.now() - wall, cpuMs: cpuMs() - cpu };
  ssh.dispose();
  return figures;
}

const fleet = await Fleet.start({ hosts: HOSTS, subnet: 61 });
try {
  const key = await readFile(fleet.clientKeyPath, 'utf8');
  const targets = fleetTargets(fleet);
  console.log(
    `SSH handshakes: ${TRIALS} per choice, one at a time, to ${HOSTS} sshd hosts (ed25519 host keys); ssh2 native crypto binding: ${binding ? 'built' : 'absent'}`,
  );
  const choices: { label: string; kex?: string[]; cipher?: string[] }[] = [
    { label: 'ssh2 defaults', kex: undefined, cipher: undefined },
    ...['curve25519-sha256', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256'].map((kex) => ({
      label: `kex ${kex}`,
      kex: [kex],
    })),
    ...['aes128-gcm@openssh.com', 'aes128-ctr', 'chacha20-poly1305@openssh.com'].map((cipher) => ({
      label: `cipher ${cipher}`,
      cipher: [cipher],
    })),
  ];
  for (const choice of choices) {
    const figures = [];
    for (let i = 0; i < TRIALS; i++)
      figures.push(
        await handshake(targets[i % targets.length] as HostTarget, key, {
          ...(choice.kex === undefined ? {} : { kex: choice.kex }),
          ...(choice.cipher === undefined ? {} : { cipher: choice.cipher }),
        }),
      );
    console.log(
      `  ${choice.label.padEnd(44)} CPU ${median(figures.map((f) => f.cpuMs)).toFixed(1)} ms  wall ${median(figures.map((f) => f.wallMs)).toFixed(1)} ms (median)`,
    );
  }

  const options = {
    knownHostsPath: fleet.knownHostsPath,
    privateKeyPath: fleet.clientKeyPath,
  };
  const target = targets[0] as HostTarget;
  const cold: number[] = [];
  for (let i = 0; i < 10; i++) {
    const executor = new SshExecutor(options);
    const started = performance.now();
    await executor.run(target, 'true', { timeoutMs: 10_000 });
    cold.push(performance.now() - started);
    await executor.close();
  }
  const executor = new SshExecutor(options);
  await executor.connect(target);
  const warm: number[] = [];
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    await executor.run(target, 'true', { timeoutMs: 10_000 });
    warm.push(performance.now() - started);
  }
  console.log(
    `One command (\`true\`): fresh login ${median(cold).toFixed(1)} ms, warm connection ${median(warm).toFixed(1)} ms (median of 10)`,
  );

  for (const parallel of [4, 8, 16]) {
    const fresh = new SshExecutor({ ...options, handshakes: parallel });
    global.gc?.();
    const rss = process.memoryUsage().rss;
    const wall = performance.now();
    const cpu = cpuMs();
    await Promise.all(targets.map((target) => fresh.connect(target)));
    const coldWall = performance.now() - wall;
    const coldCpu = cpuMs() - cpu;
    global.gc?.();
    const perLogin = (process.memoryUsage().rss - rss) / 1024 / HOSTS;
    const warmStart = performance.now();
    await Promise.all(targets.map((target) => fresh.connect(target)));
    const warmWall = performance.now() - warmStart;
    await fresh.close();
    console.log(
      `  pre-flight of ${HOSTS} hosts, ${String(parallel).padStart(2)} at once: cold ${coldWall.toFixed(0)} ms (CPU ${coldCpu.toFixed(0)} ms, ~${perLogin.toFixed(0)} KiB RSS per open login), warm ${warmWall.toFixed(1)} ms`,
    );
  }
  await executor.close();
} finally {
  await fleet.stop();
}
