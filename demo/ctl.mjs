// The demo playbook's step command: asks the demo host named by BATON_HOST_ADDRESS (set by
// local mode's executor) to install or restart a version, and fails the step when it refuses.
const [action, version = ''] = process.argv.slice(2);
const address = process.env.BATON_HOST_ADDRESS;
if (address === undefined || action === undefined) {
  console.error(
    'usage: BATON_HOST_ADDRESS=<address> node demo/ctl.mjs install|restart|status [version]',
  );
  process.exit(2);
}
try {
  const response = await fetch(
    `http://${address}:8081/${action}?version=${encodeURIComponent(version)}`,
    { signal: AbortSignal.timeout(10_000) },
  );
  const text = (await response.text()).trim();
  (response.ok ? console.log : console.error)(text);
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  console.error(`cannot reach the demo host ${address}: ${error.message}`);
  process.exit(1);
}
