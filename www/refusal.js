// Recognises the bridge's refusal of a command. The bridge answers a
// command it keeps from Redis with the reply Redis gives a stand-in
// command whose name cannot exist, so the browser reads
//   ERR unknown command 'DEBUG: denied by redis-ws-bridge', with args beginning with:
// The words after the colon vary with the reason (and may hold an
// apostrophe: Redis quotes the name without escaping it); the stand-in
// always names redis-ws-bridge inside the quotes, and a command name has
// no colon. Anything else is Redis's own.

const STAND_IN = /unknown command '([^:']*): (.*?redis-ws-bridge[^']*)'/;

/** `{ command, reason }` when `error` is the bridge's refusal, else `null`. */
export function bridgeRefusal(error) {
  const message = typeof error === 'string' ? error : error?.message;
  const match = typeof message === 'string' ? STAND_IN.exec(message) : null;
  return match ? { command: match[1], reason: match[2] } : null;
}

/**
 * Why `error` kept a panel from showing something, in words for the page:
 * the bridge's policy, the Redis user's ACL, or the error itself.
 */
export function notAllowed(error) {
  const refusal = bridgeRefusal(error);
  if (refusal) return `${refusal.command} is not allowed by this bridge (${refusal.reason})`;
  if (/^NOPERM\b/.test(error?.message ?? '')) return `not allowed for this Redis user: ${error.message}`;
  return null;
}
