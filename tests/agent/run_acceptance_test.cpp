#include "agent/run_acceptance.hpp"

#include <gtest/gtest.h>

namespace hostline::agent {
namespace {

const std::string kHash(64, 'a');
const std::string kOtherHash(64, 'b');

proto::Run adhoc_run() {
    proto::Run run;
    run.argv = {"rm", "-rf", "/srv/data"};
    return run;
}

proto::Run catalog_run(std::string command) {
    proto::Run run;
    run.argv = {"/usr/bin/uptime"};
    run.command = std::move(command);
    return run;
}

proto::Run script_run(std::string command, std::string sha256) {
    proto::Run run = catalog_run(std::move(command));
    run.argv = {"/bin/sh", "scripts/rotate.sh"};
    run.script = proto::Bytes{"#!/bin/sh\necho hi\n"};
    run.script_sha256 = std::move(sha256);
    return run;
}

TEST(RunAcceptance, TheDefaultAcceptsEverything) {
    RunAcceptance accept;
    EXPECT_EQ(refusal(accept, adhoc_run()), std::nullopt);
    EXPECT_EQ(refusal(accept, catalog_run("restart-service")), std::nullopt);
    EXPECT_EQ(refusal(accept, script_run("rotate-logs", kHash)), std::nullopt);
}

TEST(RunAcceptance, AdHocRunsTurnedOffAreRefusedWithTheReason) {
    RunAcceptance accept;
    accept.adhoc = false;
    EXPECT_EQ(refusal(accept, adhoc_run()), "ad-hoc runs are turned off on this host");
    EXPECT_EQ(refusal(accept, catalog_run("uptime")), std::nullopt);
}

TEST(RunAcceptance, OnlyNamedCatalogCommandsAreAccepted) {
    RunAcceptance accept;
    accept.commands = std::set<std::string>{"uptime", "service-status"};
    EXPECT_EQ(refusal(accept, catalog_run("uptime")), std::nullopt);
    EXPECT_EQ(refusal(accept, catalog_run("service-status")), std::nullopt);
    EXPECT_EQ(refusal(accept, catalog_run("restart-service")),
              "command 'restart-service' is not accepted on this host");
    // Names match exactly: no prefixes, no case folding.
    EXPECT_NE(refusal(accept, catalog_run("uptime-all")), std::nullopt);
    EXPECT_NE(refusal(accept, catalog_run("Uptime")), std::nullopt);
}

TEST(RunAcceptance, AnEmptyCommandListAcceptsNoCatalogCommand) {
    RunAcceptance accept;
    accept.commands = std::set<std::string>{};
    EXPECT_EQ(refusal(accept, catalog_run("uptime")),
              "command 'uptime' is not accepted on this host");
}

TEST(RunAcceptance, OnlyScriptsWithAllowedHashesAreAccepted) {
    RunAcceptance accept;
    accept.script_hashes = std::set<std::string>{kHash};
    EXPECT_EQ(refusal(accept, script_run("rotate-logs", kHash)), std::nullopt);
    EXPECT_EQ(refusal(accept, script_run("rotate-logs", kOtherHash)),
              "script sha256 " + kOtherHash + " is not accepted on this host");
    // Content without a hash cannot slip past the list.
    EXPECT_EQ(refusal(accept, script_run("rotate-logs", "")),
              "script sha256 (none) is not accepted on this host");
    // A hash list says nothing about runs that are not scripts.
    EXPECT_EQ(refusal(accept, catalog_run("uptime")), std::nullopt);
}

TEST(RunAcceptance, AScriptMustPassBothTheCommandAndTheHashLists) {
    RunAcceptance accept;
    accept.commands = std::set<std::string>{"rotate-logs"};
    accept.script_hashes = std::set<std::string>{kHash};
    EXPECT_EQ(refusal(accept, script_run("rotate-logs", kHash)), std::nullopt);
    EXPECT_EQ(refusal(accept, script_run("other-script", kHash)),
              "command 'other-script' is not accepted on this host");
    EXPECT_NE(refusal(accept, script_run("rotate-logs", kOtherHash)), std::nullopt);
}

}  // namespace
}  // namespace hostline::agent
