// The web UI's entry: the session, the top bar, and which page the location's hash shows
// (#/jobs, #/jobs/42, #/approvals, #/agents, #/audit). Each page renders into <main> and
// returns a function that stops its timers and sockets when another page replaces it.
import {currentSession, loadSession, logout, whenSessionEnds} from './api.js';
import {clear, h} from './dom.js';
import {renderLogin} from './page-login.js';
import {renderJobs} from './page-jobs.js';
import {renderJob} from './page-job.js';
import {renderApprovals} from './page-approvals.js';
import {renderAgents} from './page-agents.js';
import {renderAudit} from './page-audit.js';

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
let stopPage = () => {};

function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/jobs';
  const [path, search = ''] = hash.split('?');
  return {parts: path.split('/').filter(Boolean), params: new URLSearchParams(search)};
}

function route() {
  stopPage();
  stopPage = () => {};
  clear(main);
  const session = currentSession();
  if (!session) {
    topbar.hidden = true;
    stopPage = renderLogin(main, () => route()) || (() => {});
    return;
  }
  topbar.hidden = false;
  document.getElementById('identity').textContent = session.identity;
  const {parts, params} = parseHash();
  const page = parts[0] || 'jobs';
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', link.dataset.page === page);
  }
  let stop;
  if (page === 'jobs' && parts[1]) stop = renderJob(main, Number(parts[1]));
  else if (page === 'jobs') stop = renderJobs(main, params);
  else if (page === 'approvals') stop = renderApprovals(main, params);
  else if (page === 'agents') stop = renderAgents(main, params);
  else if (page === 'audit') stop = renderAudit(main, params);
  else main.append(h('h1', {}, 'Not found'), h('p', {}, 'There is no page here. ',
    h('a', {href: '#/jobs'}, 'See the jobs.')));
  stopPage = stop || (() => {});
}

document.getElementById('logout').addEventListener('click', async () => {
  await logout();
  location.hash = '#/jobs';
  route();
});
whenSessionEnds(() => route());
window.addEventListener('hashchange', route);

loadSession().then(route, () => {
  clear(main).append(h('p', {class: 'notice notice-error'}, 'The controller cannot be reached.'));
});
