import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse } from 'node:querystring';
import { HTTPModuleFunctions, verifySlackRequest } from '@slack/bolt';

/**
 * How far a request's timestamp may be from this machine's clock, either way. Bolt refuses only
 * old requests; Slack's guidance refuses any more than five minutes from now, so a request signed
 * for the future cannot be held back and replayed later.
 */
export const REQUEST_WINDOW_S = 300;

/** Why a request with this X-Slack-Request-Timestamp is refused at `nowMs`, if it is. */
export function requestTimeProblem(
  timestamp: string | string[] | undefined,
  nowMs: number,
): string | undefined {
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp))
    return 'no X-Slack-Request-Timestamp header in seconds since the epoch';
  const skew = Number(timestamp) - Math.floor(nowMs / 1000);
  const allowed = `at most ${REQUEST_WINDOW_S} s either way: check this machine's clock (NTP) if Slack's requests keep being refused`;
  if (skew > REQUEST_WINDOW_S)
    return `request is from the future: its timestamp is ${skew} s ahead of this machine's clock (${allowed})`;
  if (skew < -REQUEST_WINDOW_S)
    return `request is stale: its timestamp is ${-skew} s behind this machine's clock (${allowed})`;
  return undefined;
}

export interface VerificationOptions {
  signingSecret: string;
  /** The clock requests are checked against. */
  now: () => number;
  /** The request path Bolt answers Slack on. */
  path: string;
  /** Told why each refused request was refused. */
  refused(reason: string, request: IncomingMessage): void;
  /** Bolt's own listener, which gets only verified requests (and everything not sent to `path`). */
  next: RequestListener;
}

function refuse(response: ServerResponse, status: number): void {
  HTTPModuleFunctions.buildNoBodyResponse(response, status);
}

/**
 * Checks every request to `path` before Bolt sees it: its timestamp within REQUEST_WINDOW_S of
 * now, in either direction, and its v0 signature (Bolt's own HMAC check, given our clock). A
 * refused request gets a 401 and never reaches a listener.
 */
export function verifyingListener(options: VerificationOptions): RequestListener {
  const verify = async (request: IncomingMessage, response: ServerResponse) => {
    let buffered;
    try {
      buffered = await HTTPModuleFunctions.bufferIncomingMessage(
        request,
        HTTPModuleFunctions.defaultBodyLimit,
      );
    } catch (error) {
      const tooLarge = HTTPModuleFunctions.isRawBodyError(error) && error.statusCode === 413;
      options.refused(tooLarge ? 'body too large' : 'body could not be read', request);
      refuse(response, tooLarge ? 413 : 400);
      return;
    }
    const body = buffered.rawBody.toString();
    // Slack checks the certificate with ssl_check=1, unsigned; nothing else it says is kept.
    if (
      request.headers['content-type'] === 'application/x-www-form-urlencoded' &&
      parse(body).ssl_check === '1'
    ) {
      buffered.rawBody = Buffer.from('ssl_check=1');
      options.next(buffered, response);
      return;
    }
    const now = options.now();
    const timestamp = request.headers['x-slack-request-timestamp'];
    const signature = request.headers['x-slack-signature'];
    let problem = requestTimeProblem(timestamp, now);
    if (problem === undefined && typeof signature !== 'string')
      problem = 'no X-Slack-Signature header';
    if (problem === undefined) {
      try {
        verifySlackRequest({
          signingSecret: options.signingSecret,
          body,
          headers: {
            'x-slack-signature': signature as string,
            'x-slack-request-timestamp': Number(timestamp),
          },
          nowMilliseconds: now,
        });
      } catch (error) {
        problem = (error as Error).message.replace(/^Failed to verify authenticity: /, '');
      }
    }
    if (problem !== undefined) {
      options.refused(problem, request);
      refuse(response, 401);
      return;
    }
    options.next(buffered, response);
  };
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    // Bolt routes everything else itself (and answers 404); a throw here reaches its handler.
    if (request.method !== 'POST' || path !== options.path) return options.next(request, response);
    void verify(request, response).catch((error: unknown) => {
      options.refused(`could not be checked: ${(error as Error).message}`, request);
      if (!response.headersSent) refuse(response, 500);
    });
  };
}
