// A page's data kept fresh: load() runs now, then again `ms` after each run has ended (so
// slow answers never pile up), while keepGoing() says so, until stop(). now() runs it at once
// (after a change the user made); stopped tells a late answer to leave the page alone.
export function refreshing(ms, load, keepGoing = () => true) {
  let timer = null;
  const refresher = {
    stopped: false,
    async now() {
      clearTimeout(timer);
      await load();
      if (!refresher.stopped && keepGoing()) timer = setTimeout(() => refresher.now(), ms);
    },
    stop() {
      refresher.stopped = true;
      clearTimeout(timer);
    },
  };
  queueMicrotask(() => refresher.now());  // once the caller holds the refresher
  return refresher;
}
