// Stopping what the bench started when the bench is told to stop (SIGTERM, SIGINT, SIGHUP).
//
// The controllers, agents and emulators a scenario runs are children of the bench, and
// LocalCluster stops them from its destructor, which a signal skips: a bench stopped in the
// middle of a scenario left them running, on the ports and CPU of whatever ran next.
#pragma once

namespace hostline::bench {

// Call once, first in main. A handler writes the signal to a pipe; a thread of its own then
// sends SIGTERM to every child of the bench (each thread's, from /proc), waits up to 5 s for
// them to end, kills the rest and exits with 128 + the signal, as the signal would have. The
// clusters' directories under /tmp (hostline-it-*) stay, for a look at their logs.
void stop_children_on_signal();

}  // namespace hostline::bench
