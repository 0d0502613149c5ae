// A process that starts the demo fleet on the network given and then does nothing, so that a test
// can kill it with SIGKILL, when no exit handler of its runs, and see whether its hosts go too.
import { DemoFleet } from '../../src/local/demo-fleet.js';

const [dataDir, network, version] = process.argv.slice(2);
if (dataDir === undefined || network === undefined || version === undefined)
  throw new Error('usage: demo-fleet-holder <data dir> <network> <version>');
const fleet = DemoFleet.spawn(dataDir, { network });
await fleet.run(version);
process.stdout.write('running\n');
setInterval(() => {}, 60_000);
