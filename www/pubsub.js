// Live pub/sub: subscribe to channels and patterns on a connection of its
// own (a subscribed connection takes no other commands; on a cluster, a
// Cluster of its own, whose PUBLISH reaches every node's subscribers), see messages as
// they arrive, and publish on the main connection. The subscriber is
// opened with the session's options and belongs to the session: a new
// connection starts with no subscriptions.
import { openClient } from './session.js';

const MAX_MESSAGES = 200;
const isPattern = (name) => /[*?[]/.test(name);

export function startPubSub({ session, report }) {
  const list = document.getElementById('sub-list');
  const messages = document.getElementById('messages');
  const subInput = document.getElementById('sub-channel');
  const pubChannel = document.getElementById('pub-channel');
  const pubMessage = document.getElementById('pub-message');
  const pubResult = document.getElementById('pub-result');
  let subscription = null;

  /** The Subscription, made on first use: `startSubscribe()` on a second connection. */
  function subscriber() {
    subscription ??= (async () => {
      const subConn = await openClient(session.options);
      session.track(subConn);
      const sub = await subConn.startSubscribe();
      receive(sub);
      return sub;
    })().catch((err) => {
      subscription = null; // the next subscribe tries again
      throw err;
    });
    return subscription;
  }

  /** Shows each published message: a Subscription is async-iterable. */
  async function receive(sub) {
    const mine = subscription;
    try {
      for await (const { channel, value, pattern } of sub) show(channel, value, pattern);
    } catch (err) {
      // A subscriber closed with its session ends quietly.
      if (subscription === mine) report(err);
    }
  }

  function show(channel, value, pattern) {
    const item = document.createElement('li');
    item.className = 'message';
    const time = document.createElement('time');
    time.textContent = new Date().toLocaleTimeString();
    const where = document.createElement('span');
    where.className = 'channel';
    where.textContent = channel;
    item.append(time, where);
    if (pattern !== null) {
      const via = document.createElement('span');
      via.className = 'pattern';
      via.textContent = `via ${pattern}`;
      item.append(via);
    }
    const payload = document.createElement('span');
    payload.className = 'payload';
    payload.textContent = value;
    item.append(payload);
    messages.prepend(item);
    while (messages.children.length > MAX_MESSAGES) messages.lastChild.remove();
  }

  function chip(name) {
    const item = document.createElement('li');
    item.className = `chip${isPattern(name) ? ' pattern' : ''}`;
    item.dataset.name = name;
    item.textContent = name;
    const remove = document.createElement('button');
    remove.textContent = '×';
    remove.title = `unsubscribe from ${name}`;
    remove.addEventListener('click', async () => {
      try {
        const sub = await subscriber();
        await (isPattern(name) ? sub.punsubscribe([name]) : sub.unsubscribe([name]));
        item.remove();
      } catch (err) {
        report(err);
      }
    });
    item.append(remove);
    return item;
  }

  document.getElementById('sub-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = subInput.value.trim();
    if (!name || list.querySelector(`[data-name="${CSS.escape(name)}"]`)) return;
    subInput.value = '';
    try {
      const sub = await subscriber();
      // Glob characters make it a pattern subscription (PSUBSCRIBE).
      await (isPattern(name) ? sub.psubscribe([name]) : sub.subscribe([name]));
      list.append(chip(name));
      if (!pubChannel.value) pubChannel.value = isPattern(name) ? name.replace(/[*?[\]]/g, '') || 'news' : name;
    } catch (err) {
      subInput.value ||= name;
      report(err);
    }
  });

  document.getElementById('pub-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const channel = pubChannel.value.trim();
    if (!channel) return;
    try {
      // publish() resolves to how many subscribers received the message.
      const receivers = await session.conn.publish(channel, pubMessage.value);
      pubResult.textContent = `delivered to ${receivers} subscriber${receivers === 1 ? '' : 's'}`;
      pubMessage.value = '';
    } catch (err) {
      report(err);
    }
  });

  // The session closes the subscriber with its other connections.
  session.addEventListener('change', () => {
    subscription = null;
    list.replaceChildren();
  });
}
