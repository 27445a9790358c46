// Audit: the hash-chained log, newest first, filtered by kind and time, with the chain's
// verification on top.
import {api, query} from './api.js';
import {formatTime, h, notice, pagerLinks, table} from './dom.js';

const KINDS = [
  'command.received', 'job.created', 'run.finished', 'run.rejected', 'policy.allowed',
  'policy.denied', 'policy.reloaded', 'approval.requested', 'approval.voted', 'approval.granted',
  'approval.denied', 'approval.expired', 'approval.refused', 'token.created', 'token.revoked',
  'agent.pending', 'agent.enrolled', 'agent.accepted', 'agent.revoked', 'agent.drained',
  'agent.undrained', 'ui.login', 'ui.login_refused', 'ui.logout', 'hook.received', 'hook.refused',
  'controller.started', 'controller.stopped'];

function detail(map) {
  const entries = Object.entries(map || {});
  return h('dl', {class: 'detail'}, entries.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
}

export function renderAudit(main, params) {
  const filters = {kind: params.get('kind') || '', since: params.get('since') || '',
    before: params.get('before') || ''};
  const chain = h('div', {id: 'chain'}, h('p', {class: 'muted'}, 'Verifying the chain…'));
  const kind = h('input', {name: 'kind', id: 'audit-kind', list: 'audit-kinds', placeholder: 'kind',
    value: filters.kind, 'aria-label': 'kind'});
  const since = h('input', {type: 'date', name: 'since', id: 'audit-since', 'aria-label': 'since',
    value: filters.since ? new Date(Number(filters.since)).toISOString().slice(0, 10) : ''});
  const form = h('form', {class: 'filters'}, kind,
    h('datalist', {id: 'audit-kinds'}, KINDS.map((k) => h('option', {value: k}))), since,
    h('button', {type: 'submit'}, 'Filter'),
    h('button', {type: 'button', class: 'secondary', onclick: () => { location.hash = '#/audit'; }}, 'Clear'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/audit${query({kind: kind.value.trim(),
      since: since.value ? String(Date.parse(`${since.value}T00:00:00`)) : ''})}`;
  });
  const status = h('div', {class: 'status-line'});
  const list = h('div', {id: 'audit-list'});
  const pager = h('div', {class: 'pager'});
  main.append(h('div', {class: 'page-head'}, h('h1', {}, 'Audit')), chain, form, status, list, pager);
  let stopped = false;

  api('GET', '/api/v1/audit/verify').then((v) => {
    if (stopped) return;
    chain.replaceChildren(v.ok
      ? notice('ok', `The chain is intact: ${v.rows} rows verified.`)
      : notice('error', `The chain is broken at row ${v.broken_row}: ${v.problem}`));
  }, (error) => chain.replaceChildren(notice('error', error.message)));

  api('GET', `/api/v1/audit${query({...filters, limit: 50})}`).then((page) => {
    if (stopped) return;
    list.replaceChildren(table(['#', 'When', 'Kind', 'Actor', 'Subject', 'Detail'],
      page.events.map((e) => ({attributes: {'data-row': e.id}, cells: [String(e.id), formatTime(e.at_ms),
        h('code', {}, e.kind), e.actor, e.subject, detail(e.detail)]})), 'No rows match.'));
    pager.replaceChildren(...pagerLinks(
      filters.before && {href: `#/audit${query({...filters, before: ''})}`, text: '← Newest'},
      page.next_before && {href: `#/audit${query({...filters, before: page.next_before})}`, text: 'Older →'}));
  }, (error) => { if (!stopped) status.replaceChildren(notice('error', error.message)); });
  return () => { stopped = true; };
}
