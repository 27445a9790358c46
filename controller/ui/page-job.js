// One job: who asked, from where, what and where, its approval trail, and a card per host run
// with its output. While the job runs, its events come over a WebSocket
// (/api/v1/jobs/ID/events): a snapshot of runs and stored output, then every change live.
import {api, currentSession} from './api.js';
import {AnsiRenderer} from './ansi.js';
import {badge, commandText, formatBytes, formatDuration, formatTime, h, isFinalJobState, notice} from './dom.js';

const RECONNECT_MS = 2000;

function field(name, ...value) {
  return [h('dt', {}, name), h('dd', {}, ...value)];
}

function approvalTrail(approval) {
  if (!approval) return '';
  const votes = approval.votes.map((vote) => h('li', {},
    h('strong', {}, vote.approver), ` ${vote.decision === 'approve' ? 'approved' : 'denied'}`,
    vote.reason ? `: ${vote.reason}` : '', h('span', {class: 'muted'}, ` · ${formatTime(vote.at_ms)}`)));
  return h('section', {class: 'card', id: 'approval'},
    h('h2', {}, 'Approval ', badge(approval.state)),
    h('p', {}, `${approval.approvals} of ${approval.count} from group `, h('code', {}, approval.group),
      ` · asked ${formatTime(approval.created_at_ms)}`,
      approval.state === 'pending' ? ` · expires ${formatTime(approval.expires_at_ms)}` : '',
      approval.decided_at_ms ? ` · decided ${formatTime(approval.decided_at_ms)}` : ''),
    approval.reason ? h('p', {}, approval.reason) : '',
    votes.length ? h('ol', {class: 'votes'}, votes) : h('p', {class: 'muted'}, 'No votes yet.'),
    approval.state === 'pending' ? h('p', {}, h('a', {href: '#/approvals'}, 'Decide on the Approvals page')) : '');
}

class RunCard {
  constructor(jobId, run) {
    this.meta = h('div', {class: 'run-meta'});
    this.limitNote = h('p', {class: 'notice notice-info', hidden: true});
    this.pre = h('pre', {class: 'output', 'data-agent': run.agent});
    this.renderer = new AnsiRenderer(this.pre, () => {
      this.limitNote.textContent = 'The output is longer than the page shows; download it for all of it.';
      this.limitNote.hidden = false;
    });
    const download = `/api/v1/jobs/${jobId}/output/download?host=${encodeURIComponent(run.agent)}`;
    this.title = h('h3', {});
    this.element = h('section', {class: 'card run-card', 'data-run': run.id, 'data-agent': run.agent},
      h('div', {class: 'run-head'}, this.title,
        h('a', {href: download, class: 'button secondary download', download: ''}, 'Download')),
      this.meta, this.limitNote, this.pre);
    this.update(run);
  }

  update(run) {
    this.run = run;
    this.title.replaceChildren(run.agent, ' ', badge(run.state));
    this.element.dataset.state = run.state;
    const parts = [];
    if (run.exit_code !== null && run.exit_code !== undefined) parts.push(`exit ${run.exit_code}`);
    if (run.signal) parts.push(`signal ${run.signal}`);
    parts.push(`took ${formatDuration(run.duration_ms)}`);
    parts.push(`${formatBytes(run.stdout_bytes + run.stderr_bytes)} of output`);
    if (run.truncated) parts.push('output cut at the cap');
    this.meta.replaceChildren(h('span', {class: 'exit'}, parts.join(' · ')),
      run.error ? h('p', {class: 'notice notice-error'}, run.error) : '');
  }
}

export function renderJob(main, jobId) {
  let stopped = false;
  let socket = null;
  let timer = null;
  const cards = new Map();  // run id -> RunCard
  const head = h('div', {class: 'page-head'});
  const status = h('div', {class: 'status-line'});
  const details = h('dl', {class: 'details'});
  const approvalSlot = h('div');
  const runs = h('div', {id: 'runs'});
  const liveLine = h('p', {class: 'muted', id: 'live-state'});
  main.append(h('p', {}, h('a', {href: '#/jobs'}, '← Jobs')), head, status, details, approvalSlot,
    h('h2', {}, 'Runs'), liveLine, runs);

  function showJob(job) {
    const cancel = isFinalJobState(job.state) ? '' : h('button', {type: 'button', class: 'danger', id: 'cancel',
      onclick: async () => {
        try {
          await api('POST', `/api/v1/jobs/${jobId}/cancel`);
          status.replaceChildren(notice('info', 'Cancelling: the runs get SIGTERM, then SIGKILL after 10 s.'));
        } catch (error) {
          status.replaceChildren(notice('error', error.message));
        }
      }}, 'Cancel');
    head.replaceChildren(h('h1', {}, `Job #${job.id} `, badge(job.state)), cancel);
    head.dataset.state = job.state;
    details.replaceChildren(
      ...field('Requested by', job.requester),
      ...field('From', job.source),
      ...field('Target', h('code', {}, job.target)),
      ...field('Command', job.catalog_command ? h('code', {}, job.catalog_command) : 'ad hoc'),
      ...field('argv', h('ol', {class: 'argv'}, job.argv.map((word) => h('li', {}, h('code', {}, word))))),
      ...(job.user || job.group ? field('Runs as', [job.user || '(agent user)', job.group ? `:${job.group}` : '']) : []),
      ...field('Created', formatTime(job.created_at_ms)),
      ...field('Finished', job.finished_at_ms ? formatTime(job.finished_at_ms) : 'not yet'),
      ...field('Timeout', formatDuration(job.timeout_ms)),
      ...(job.cancel_requested ? field('Cancel', 'requested') : []));
    document.title = `#${job.id} ${commandText(job.argv)} · Hostline`;
  }

  function showRun(run) {
    let card = cards.get(run.id);
    if (!card) {
      card = new RunCard(jobId, run);
      cards.set(run.id, card);
      runs.append(card.element);
    } else {
      card.update(run);
    }
    return card;
  }

  function showOutput(chunk) {
    let card = cards.get(chunk.run_id);
    if (!card) card = showRun({id: chunk.run_id, agent: chunk.agent, state: 'running', exit_code: null,
      signal: null, duration_ms: null, stdout_bytes: 0, stderr_bytes: 0, truncated: false, error: ''});
    card.renderer.write(chunk.data, chunk.stream);
  }

  function follow() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/api/v1/jobs/${jobId}/events`);
    let first = true;
    let final = false;
    socket.addEventListener('open', () => { liveLine.textContent = 'Live: following this job.'; });
    socket.addEventListener('message', (message) => {
      const event = JSON.parse(message.data);
      if (first) {  // a fresh snapshot: start the output again
        first = false;
        for (const card of cards.values()) card.renderer.reset();
      }
      if (event.type === 'job') {
        const wasPending = head.dataset.state === 'pending_approval';
        showJob(event.job);
        if (wasPending && event.job.state !== 'pending_approval') load();  // the trail changed
        final = isFinalJobState(event.job.state);
      } else if (event.type === 'run') {
        showRun(event.run);
      } else if (event.type === 'output') {
        showOutput(event);
      } else if (event.type === 'error') {
        liveLine.textContent = `The live stream ended: ${event.error.message}`;
        final = event.error.code !== 'slow_consumer';
      }
    });
    socket.addEventListener('close', () => {
      socket = null;
      if (stopped) return;
      if (final) {
        liveLine.textContent = 'Finished.';
        load();  // the approval trail and the last states, once
        return;
      }
      liveLine.textContent = 'Reconnecting…';
      timer = setTimeout(follow, RECONNECT_MS);
    });
  }

  async function loadOutput() {
    const answer = await api('GET', `/api/v1/jobs/${jobId}/output`);
    for (const card of cards.values()) card.renderer.reset();
    for (const chunk of answer.output) showOutput(chunk);
  }

  async function load(first) {
    try {
      const detail = await api('GET', `/api/v1/jobs/${jobId}`);
      if (stopped) return;
      showJob(detail.job);
      for (const run of detail.runs) showRun(run);
      approvalSlot.replaceChildren(approvalTrail(detail.approval));
      if (!first) return;
      if (isFinalJobState(detail.job.state)) {
        liveLine.textContent = detail.runs.length ? '' : 'No runs: nothing was started.';
        await loadOutput();
      } else {
        follow();
      }
    } catch (error) {
      if (!stopped) status.replaceChildren(notice('error', error.message));
    }
  }

  if (!currentSession()) return () => {};
  load(true);
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (socket) socket.close();
  };
}
