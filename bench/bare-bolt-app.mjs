// The baseline for the ack benchmark: a Bolt 5 app on the HTTP receiver whose /deploy handler
// only acknowledges. Bolt checks each request's signature itself, as any Bolt app would.
import { App, LogLevel } from '@slack/bolt';

const [port, signingSecret, apiUrl] = process.argv.slice(2);
const app = new App({
  signingSecret,
  token: 'xoxb-bare',
  // Given, so Bolt does not call auth.test at start.
  botId: 'BBARE',
  botUserId: 'UBARE',
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: apiUrl },
});
app.command('/deploy', async ({ ack }) => {
  await ack();
});
await app.start(Number(port));
console.log('listening');
