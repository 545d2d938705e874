// The namespace tree: keys split on a delimiter (`user:42:cart` → user ›
// 42 › cart), folders with the number of keys under them, built from the
// keys a scan has loaded. Only expanded folders are rendered, and at most
// LIMIT children of each until asked for more, so 100,000 keys stay quick.
//
// It is a WAI-ARIA tree: ↑/↓ move, → opens a folder (or steps in), ←
// closes it (or steps out), Home/End, Enter or Space opens a key.
import { count, h } from './dom.js';

const LIMIT = 500;

/** A folder: `prefix` is its path with the trailing delimiter (`user:42:`). */
function folder(name, prefix) {
  return { name, prefix, folders: new Map(), leaves: [], count: 0 };
}

/** The tree of `keys` split on `delimiter` (an empty delimiter gives a flat list). */
export function buildTree(keys, delimiter) {
  const root = folder('', '');
  for (const key of keys) {
    const parts = delimiter ? key.split(delimiter) : [key];
    let node = root;
    node.count += 1;
    for (let i = 0; i < parts.length - 1; i++) {
      const prefix = `${node.prefix}${parts[i]}${delimiter}`;
      let next = node.folders.get(parts[i]);
      if (!next) node.folders.set(parts[i], next = folder(parts[i], prefix));
      next.count += 1;
      node = next;
    }
    node.leaves.push({ name: parts.at(-1), key });
  }
  return root;
}

const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Renders `root` into the `ul[role=tree]` `list`. `expanded` (a Set of
 * prefixes) survives re-renders; `onOpen(key)` is called for a chosen key;
 * `badge(key)` gives the element that shows its type.
 */
export function renderTree(list, root, { expanded, selected, onOpen, badge, onRender }) {
  const limits = new Map();

  function children(node, level) {
    const items = [...[...node.folders.values()].sort(byName).map((f) => ({ f })), ...node.leaves.slice().sort(byName).map((l) => ({ l }))];
    const limit = limits.get(node.prefix) ?? LIMIT;
    const shown = items.slice(0, limit).map(({ f, l }) => (f ? folderItem(f, level) : leafItem(l, level)));
    if (items.length > limit) {
      shown.push(h('li.more', { role: 'treeitem', tabIndex: -1, 'aria-level': level, dataset: { more: node.prefix } },
        h('div.row', {}, h('span.label', { textContent: `… ${count(items.length - limit)} more: show ${count(Math.min(LIMIT, items.length - limit))} more` }))));
    }
    return shown;
  }

  function folderItem(node, level) {
    const open = expanded.has(node.prefix);
    const item = h('li.folder', { role: 'treeitem', tabIndex: -1, 'aria-level': level, 'aria-expanded': String(open), dataset: { prefix: node.prefix } },
      h('div.row', {},
        h('span.twisty', { 'aria-hidden': 'true' }),
        h('span.label', { textContent: node.name === '' ? '(empty)' : node.name }),
        h('span.count', { textContent: count(node.count), title: `${count(node.count)} keys` })));
    item.node = node;
    if (open) item.append(h('ul', { role: 'group' }, children(node, level + 1)));
    return item;
  }

  function leafItem({ name, key }, level) {
    return h('li.leaf', { role: 'treeitem', tabIndex: -1, 'aria-level': level, 'aria-selected': String(key === selected()), dataset: { key } },
      h('div.row', {}, h('span.label', { textContent: name === '' ? '(empty)' : name, title: key }), badge(key)));
  }

  function toggle(item, open = item.getAttribute('aria-expanded') !== 'true') {
    const { node } = item;
    if (open) expanded.add(node.prefix);
    else expanded.delete(node.prefix);
    const replacement = folderItem(node, Number(item.getAttribute('aria-level')));
    item.replaceWith(replacement);
    focus(replacement);
    onRender();
  }

  function showMore(item) {
    const prefix = item.dataset.more;
    limits.set(prefix, (limits.get(prefix) ?? LIMIT) + LIMIT);
    const parent = item.parentElement;
    const level = Number(item.getAttribute('aria-level'));
    const node = parent === list ? root : parent.parentElement.node;
    const at = parent.children.length - 1;
    parent.replaceChildren(...children(node, level));
    focus(parent.children[at]);
    onRender();
  }

  function focus(item) {
    if (!item) return;
    for (const other of list.querySelectorAll('[role=treeitem][tabindex="0"]')) other.tabIndex = -1;
    item.tabIndex = 0;
    item.focus();
  }

  function activate(item) {
    if (item.classList.contains('folder')) toggle(item);
    else if (item.dataset.more !== undefined) showMore(item);
    else {
      for (const other of list.querySelectorAll('[aria-selected="true"]')) other.setAttribute('aria-selected', 'false');
      item.setAttribute('aria-selected', 'true');
      focus(item);
      onOpen(item.dataset.key);
    }
  }

  list.onclick = (event) => {
    const item = event.target.closest('[role=treeitem]');
    if (item && list.contains(item)) activate(item);
  };

  list.onkeydown = (event) => {
    const item = event.target.closest('[role=treeitem]');
    if (!item) return;
    const items = [...list.querySelectorAll('[role=treeitem]')];
    const at = items.indexOf(item);
    const isFolder = item.classList.contains('folder');
    const open = item.getAttribute('aria-expanded') === 'true';
    const parentItem = item.parentElement.closest('[role=treeitem]');
    const moves = {
      ArrowDown: () => focus(items[at + 1]),
      ArrowUp: () => focus(items[at - 1]),
      Home: () => focus(items[0]),
      End: () => focus(items.at(-1)),
      ArrowRight: () => (isFolder && !open ? toggle(item, true) : isFolder ? focus(items[at + 1]) : null),
      ArrowLeft: () => (isFolder && open ? toggle(item, false) : focus(parentItem)),
      Enter: () => activate(item),
      ' ': () => activate(item),
    };
    if (!moves[event.key]) return;
    event.preventDefault();
    moves[event.key]();
  };

  list.replaceChildren(...children(root, 1));
  const first = list.querySelector('[aria-selected="true"]') ?? list.querySelector('[role=treeitem]');
  if (first) first.tabIndex = 0;
  onRender();
}
