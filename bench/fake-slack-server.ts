// A fake Slack Web API in a process of its own, so the client timing acks in the bench process
// does not also answer the Web API calls baton makes after each ack.
import { FakeSlack } from '../test/support/fake-slack.js';

const slack = await FakeSlack.start();
console.log(slack.url);
process.once('SIGTERM', () => void slack.stop().then(() => process.exit(0)));
