// Jobs: newest first, filtered on the server (state, host, requester, command, since), a page
// of 50 at a time by cursor, refreshed every few seconds while the first page is shown.
import {api, ApiError, query} from './api.js';
import {JOB_STATES, badge, commandText, formatDuration, formatTime, h, notice, pagerLinks, table} from './dom.js';
import {refreshing} from './refresh.js';
import {splitCommand} from './words.js';

const REFRESH_MS = 3000;
const FILTERS = ['state', 'host', 'requester', 'command', 'since'];

function filtersFrom(params) {
  const filters = {};
  for (const name of FILTERS) filters[name] = params.get(name) || '';
  filters.before = params.get('before') || '';
  return filters;
}

function go(filters) {
  location.hash = `#/jobs${query(filters)}`;
}

function filterForm(filters) {
  const state = h('select', {name: 'state', id: 'filter-state'},
    h('option', {value: ''}, 'any state'),
    JOB_STATES.map((s) => h('option', {value: s, selected: s === filters.state}, s.replace(/_/g, ' '))));
  const input = (name, placeholder) => h('input', {name, id: `filter-${name}`, placeholder,
    value: filters[name], 'aria-label': placeholder});
  const since = h('input', {type: 'date', name: 'since', id: 'filter-since', 'aria-label': 'since',
    value: filters.since ? new Date(Number(filters.since)).toISOString().slice(0, 10) : ''});
  const search = h('input', {type: 'search', id: 'search', placeholder: 'job # or command',
    'aria-label': 'search: a job number or a command'});
  const form = h('form', {class: 'filters', id: 'job-filters'},
    search, state, input('host', 'host'), input('requester', 'requester'),
    input('command', 'command'), since,
    h('button', {type: 'submit'}, 'Filter'),
    h('button', {type: 'button', class: 'secondary', onclick: () => go({})}, 'Clear'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const wanted = search.value.trim().replace(/^#/, '');
    if (/^\d+$/.test(wanted)) {
      location.hash = `#/jobs/${wanted}`;
      return;
    }
    const data = new FormData(form);
    const next = {};
    for (const name of FILTERS) next[name] = String(data.get(name) || '').trim();
    if (wanted) next.command = wanted;
    if (next.since) next.since = String(Date.parse(`${next.since}T00:00:00`));
    go(next);
  });
  return form;
}

function runForm(onError) {
  const target = h('input', {name: 'target', id: 'run-target', required: true,
    placeholder: 'web-* or role=web', 'aria-label': 'target'});
  const command = h('input', {name: 'command', id: 'run-command', required: true,
    placeholder: 'uptime', 'aria-label': 'command'});
  const button = h('button', {type: 'submit'}, 'Run');
  const form = h('form', {class: 'run-form', id: 'run-form'}, target, command, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const argv = splitCommand(command.value);
    if (!argv.ok) return onError(argv.error);
    button.disabled = true;
    try {
      const answer = await api('POST', '/api/v1/jobs', {target: target.value.trim(), argv: argv.words});
      location.hash = `#/jobs/${answer.job}`;
    } catch (error) {
      onError(error.message);
    } finally {
      button.disabled = false;
    }
  });
  return h('details', {class: 'run'}, h('summary', {}, 'Run a command'),
    h('p', {class: 'muted'}, 'The command is split into words here and sent as argv: no shell ever sees it.'),
    form);
}

function jobRow(job) {
  const link = `#/jobs/${job.id}`;
  const command = job.catalog_command ? `${job.catalog_command}` : commandText(job.argv);
  const duration = job.finished_at_ms ? job.finished_at_ms - job.created_at_ms : null;
  return {
    attributes: {'data-job': job.id, class: `job-row state-row-${job.state}`},
    cells: [
      h('a', {href: link}, `#${job.id}`),
      badge(job.state),
      h('a', {href: link, class: 'command'}, h('code', {}, command)),
      h('code', {}, job.target),
      job.requester,
      job.source,
      formatTime(job.created_at_ms),
      formatDuration(duration),
    ],
  };
}

export function renderJobs(main, params) {
  const filters = filtersFrom(params);
  const status = h('div', {class: 'status-line'});
  const list = h('div', {id: 'jobs-list'});
  const pager = h('div', {class: 'pager'});
  const live = h('input', {type: 'checkbox', id: 'live', checked: !filters.before});
  const updated = h('span', {class: 'muted', id: 'updated'});
  main.append(
    h('div', {class: 'page-head'}, h('h1', {}, 'Jobs'),
      h('label', {class: 'live'}, live, ' Live'), updated),
    runForm((text) => status.replaceChildren(notice('error', text))),
    filterForm(filters), status, list, pager);

  async function load() {
    try {
      const page = await api('GET', `/api/v1/jobs${query({...filters, limit: 50})}`);
      if (refresher.stopped) return;
      list.replaceChildren(table(['Job', 'State', 'Command', 'Target', 'Requester', 'Source',
        'Created', 'Took'], page.jobs.map(jobRow), 'No jobs match.'));
      pager.replaceChildren(...pagerLinks(
        filters.before && {href: `#/jobs${query({...filters, before: ''})}`, text: '← Newest'},
        page.next_before && {href: `#/jobs${query({...filters, before: page.next_before})}`, text: 'Older →', id: 'older'}));
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
      if (status.firstChild && status.firstChild.classList.contains('stale')) status.replaceChildren();
    } catch (error) {
      if (refresher.stopped || (error instanceof ApiError && error.status === 401)) return;
      status.replaceChildren(notice('error stale', error.message));
    }
  }
  const refresher = refreshing(REFRESH_MS, load, () => live.checked);
  live.addEventListener('change', () => {
    if (live.checked) refresher.now();
  });
  return () => refresher.stop();
}
