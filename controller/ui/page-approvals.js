// Approvals: the pending ones this identity may decide, with Approve and Deny (a reason is
// required), and the decided history below, a page at a time.
import {api, query} from './api.js';
import {badge, commandText, formatTime, h, notice, pagerLinks, table} from './dom.js';
import {refreshing} from './refresh.js';

const REFRESH_MS = 5000;

function votesText(approval) {
  return approval.votes.map((v) => `${v.approver} ${v.decision === 'approve' ? 'approved' : 'denied'}`
    + (v.reason ? `: ${v.reason}` : '')).join('; ');
}

export function renderApprovals(main, params) {
  const before = params.get('before') || '';
  const status = h('div', {class: 'status-line'});
  const pending = h('div', {id: 'pending-approvals'});
  const history = h('div', {id: 'approval-history'});
  const pager = h('div', {class: 'pager'});
  main.append(h('div', {class: 'page-head'}, h('h1', {}, 'Approvals')), status,
    h('h2', {}, 'Waiting for a decision'), pending, h('h2', {}, 'Decided'), history, pager);
  async function decide(approval, decision, reason) {
    try {
      const path = `/api/v1/approvals/${approval.id}/${decision}`;
      const answer = await api('POST', path, decision === 'deny' ? {reason} : undefined);
      const state = answer.approval.state;
      status.replaceChildren(notice('info', decision === 'deny' ? `Job #${approval.job} denied.`
        : state === 'granted' ? `Job #${approval.job} approved: it runs now.`
          : `Your approval of job #${approval.job} is counted (${answer.approval.approvals} of ${answer.approval.count}).`));
    } catch (error) {
      status.replaceChildren(notice('error', error.message));
    }
    refresher.now();
  }

  function pendingRow(approval) {
    const reason = h('input', {name: 'reason', placeholder: 'reason to deny', 'aria-label': 'reason to deny',
      maxlength: 500});
    const deny = h('form', {class: 'deny-form'}, reason, h('button', {type: 'submit', class: 'danger'}, 'Deny'));
    deny.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!reason.value.trim()) {
        status.replaceChildren(notice('error', 'Say why you deny it: the requester sees the reason.'));
        reason.focus();
        return;
      }
      decide(approval, 'deny', reason.value.trim());
    });
    return {
      attributes: {'data-approval': approval.id},
      cells: [
        h('a', {href: `#/jobs/${approval.job}`}, `#${approval.job}`),
        h('code', {}, commandText(approval.argv)),
        approval.hosts.join(', '),
        approval.requester,
        `${approval.approvals} of ${approval.count} (${approval.group})`,
        formatTime(approval.expires_at_ms),
        h('div', {class: 'actions'},
          h('button', {type: 'button', class: 'approve', onclick: () => decide(approval, 'approve')}, 'Approve'),
          deny),
      ],
    };
  }

  function decidedRow(approval) {
    return {
      attributes: {'data-approval': approval.id},
      cells: [
        h('a', {href: `#/jobs/${approval.job}`}, `#${approval.job}`),
        badge(approval.state),
        h('code', {}, commandText(approval.argv)),
        approval.requester,
        votesText(approval) || approval.reason,
        formatTime(approval.decided_at_ms),
      ],
    };
  }

  async function load() {
    try {
      const [open, decided] = await Promise.all([
        api('GET', '/api/v1/approvals'),
        api('GET', `/api/v1/approvals${query({state: 'decided', before, limit: 25})}`),
      ]);
      if (refresher.stopped) return;
      // A form being typed into is not replaced under the user's hands.
      if (!pending.contains(document.activeElement)) {
        pending.replaceChildren(table(['Job', 'Command', 'Hosts', 'Requested by', 'Approvals', 'Expires', ''],
          open.approvals.map(pendingRow), 'Nothing is waiting for approval.'));
      }
      history.replaceChildren(table(['Job', 'State', 'Command', 'Requested by', 'Decision', 'Decided'],
        decided.approvals.map(decidedRow), 'No decided approvals yet.'));
      pager.replaceChildren(...pagerLinks(before && {href: '#/approvals', text: '← Newest'},
        decided.next_before && {href: `#/approvals${query({before: decided.next_before})}`, text: 'Older →'}));
    } catch (error) {
      if (!refresher.stopped) status.replaceChildren(notice('error', error.message));
    }
  }
  const refresher = refreshing(REFRESH_MS, load);
  return () => refresher.stop();
}
