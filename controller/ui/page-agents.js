// Agents: who is online, their labels, version and last message, drained or not; and the keys
// waiting to be accepted, by fingerprint, so an admin can compare it with the host's own
// (`hostline-agent --fingerprint` on the host) before accepting.
import {api, query} from './api.js';
import {formatAgo, h, notice, pagerLinks, table} from './dom.js';
import {refreshing} from './refresh.js';

const REFRESH_MS = 5000;

function labels(map) {
  const entries = Object.entries(map || {});
  if (entries.length === 0) return h('span', {class: 'muted'}, 'none');
  return h('ul', {class: 'labels'}, entries.map(([k, v]) => h('li', {class: 'label'}, `${k}=${v}`)));
}

export function renderAgents(main, params) {
  const after = params.get('after') || '';
  const status = h('div', {class: 'status-line'});
  const agents = h('div', {id: 'agents-list'});
  const keys = h('div', {id: 'pending-keys'});
  const pager = h('div', {class: 'pager'});
  main.append(h('div', {class: 'page-head'}, h('h1', {}, 'Agents')), status, agents, pager,
    h('h2', {}, 'Keys waiting to be accepted'), keys);
  async function act(path, body, done) {
    try {
      await api('POST', path, body);
      status.replaceChildren(notice('info', done));
    } catch (error) {
      status.replaceChildren(notice('error', error.message));
    }
    refresher.now();
  }

  function agentRow(agent) {
    const state = agent.online ? (agent.draining ? 'draining' : 'online') : 'offline';
    const drain = agent.draining
      ? h('button', {type: 'button', class: 'secondary', onclick: () => act(`/api/v1/agents/${encodeURIComponent(agent.name)}/undrain`, undefined, `${agent.name} takes new runs again.`)}, 'Undrain')
      : h('button', {type: 'button', class: 'secondary', onclick: () => act(`/api/v1/agents/${encodeURIComponent(agent.name)}/drain`, undefined, `${agent.name} is drained: no new runs.`)}, 'Drain');
    return {
      attributes: {'data-agent': agent.name},
      cells: [
        h('strong', {}, agent.name),
        h('span', {class: `badge agent-${state}`}, state),
        labels(agent.labels),
        agent.version || '—',
        agent.hostname || '—',
        `${agent.running} / ${agent.capacity}`,
        formatAgo(agent.last_seen_ms),
        drain,
      ],
    };
  }

  function keyRow(key) {
    return {
      attributes: {'data-key': key.name},
      cells: [
        h('strong', {}, key.name),
        h('code', {class: 'fingerprint'}, key.fingerprint),
        h('button', {type: 'button', class: 'approve', onclick: () =>
          act('/api/v1/agents/accept', {name: key.name}, `Accepted ${key.name} (${key.fingerprint}).`)}, 'Accept'),
      ],
    };
  }

  async function load() {
    try {
      // Agents come 500 a page, by name; the keys come with the first page.
      const [answer, first] = await Promise.all([
        api('GET', `/api/v1/agents${query({after})}`),
        after ? api('GET', '/api/v1/agents?limit=1') : null,
      ]);
      if (refresher.stopped) return;
      agents.replaceChildren(table(['Name', 'State', 'Labels', 'Version', 'Hostname', 'Running', 'Last seen', ''],
        answer.agents.map(agentRow), 'No agents yet: see docs/agents.md to enroll one.'));
      pager.replaceChildren(...pagerLinks(after && {href: '#/agents', text: '← First'},
        answer.next_after && {href: `#/agents${query({after: answer.next_after})}`, text: 'Next →'}));
      keys.replaceChildren(table(['Name', 'Fingerprint', ''],
        (first || answer).keys.filter((k) => k.state === 'pending').map(keyRow), 'No key is waiting.'));
    } catch (error) {
      if (!refresher.stopped) status.replaceChildren(notice('error', error.message));
    }
  }
  const refresher = refreshing(REFRESH_MS, load);
  return () => refresher.stop();
}
