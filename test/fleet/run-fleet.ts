// `npm run fleet`: starts a test fleet and keeps it up until Ctrl-C, for trying baton by hand.
import { parseArgs } from 'node:util';
import { Fleet } from './fleet.js';

const { values } = parseArgs({
  options: { hosts: { type: 'string', default: '6' }, spinup: { type: 'string', default: '500' } },
});
const count = Number(values.hosts);
const fleet = await Fleet.start({ hosts: count, spinupMs: Number(values.spinup) });
const groups = [];
for (let index = 0; index < count; index += 2)
  groups.push({ hosts: [index, index + 1].filter((i) => i < count), parallel: 1 });
const service = await fleet.writePlaybook({ groups });
const env = Object.entries(fleet.env())
  .map(([key, value]) => `${key}=${value}`)
  .join(' ');
process.stdout.write(
  `${count} hosts up (${fleet.hosts.map((host) => host.address).join(', ')}), playbook '${service}' in ${fleet.playbooksDir}.\n` +
    `Try:\n  ${env} npx baton deploy ${service} v2 --env test --previous v1\n` +
    `Make a version fail: edit ${fleet.dir}/behaviours.json, e.g. {"v3": "never-healthy"}\nCtrl-C stops every host.\n`,
);
const stop = async () => {
  await fleet.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
