// Facts about this host reported in hello: os, kernel, arch, cpus, memory_mb.
#pragma once

#include <map>
#include <string>

namespace hostline::agent {

std::map<std::string, std::string> host_facts();
std::string host_name();

}  // namespace hostline::agent
