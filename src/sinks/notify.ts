import { callTimeout } from '../host/deadline.js';
import { postOnce } from '../host/http-post.js';
import { NOTIFY_TIMEOUT_MS, notifyRequest, redactUrl, targetFormat, type NotifyTargetResult } from '../model/notify.js';

/**
 * Send one message to every --notify target at once, each by its own
 * deadline (NOTIFY_TIMEOUT_MS, less when the run's `deadline` is nearer): a
 * target that fails or hangs costs that and one result, never a throw.
 */
export async function sendNotifications(
  urls: readonly string[],
  text: string,
  event: unknown,
  deadline: number,
): Promise<NotifyTargetResult[]> {
  return Promise.all(
    urls.map(async (url): Promise<NotifyTargetResult> => {
      const target = redactUrl(url);
      const format = targetFormat(url);
      const req = notifyRequest(url, text, event);
      try {
        const out = await postOnce(req.url, req.contentType, req.body, callTimeout(deadline, NOTIFY_TIMEOUT_MS));
        return { target, format, ok: out.ok, reason: out.ok ? null : out.reason };
      } catch {
        return { target, format, ok: false, reason: 'could not send' };
      }
    }),
  );
}
