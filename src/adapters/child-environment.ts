/**
 * baton's own credentials. Commands baton runs on its machine (host hooks, inventories) need the
 * environment's other credentials (a cloud CLI's, a load balancer's), never the keys to post as
 * baton in Slack or to rewrite its rollouts and approvals in Redis.
 */
const BATON_SECRETS = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'REDIS_URL'];

/** The environment a command baton starts gets: baton's own, less its credentials. */
export function childEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !BATON_SECRETS.includes(name)));
}
