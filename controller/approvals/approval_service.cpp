#include "controller/approvals/approval_service.hpp"

#include <algorithm>
#include <chrono>

#include "common/duration.hpp"
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"approvals"};

namespace hostline::controller {
namespace {

constexpr std::size_t kMaxReasonBytes = 500;
constexpr const char* kDecide = "approvals.decide";

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string joined(const std::vector<std::string>& items, const char* sep = " ") {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
    return out;
}

std::string subject(std::int64_t job_id) {
    return "job:" + std::to_string(job_id);
}

std::string id_text(std::int64_t job_id) {
    return "#" + std::to_string(job_id);
}

}  // namespace

ApprovalService::ApprovalService(boost::asio::io_context& io, Store& store, HeldJobs& jobs,
                                 AuditTrail& audit, ApproverRules rules)
    : io_(io), store_(store), jobs_(jobs), audit_(audit), rules_(std::move(rules)) {}

ApprovalService::~ApprovalService() {
    stop();
}

void ApprovalService::stop() {
    stopped_ = true;
    for (auto& [id, p] : pending_)
        if (p.expiry) p.expiry->cancel();
}

void ApprovalService::restore(const std::vector<Approval>& pending) {
    for (const Approval& a : pending) {
        if (a.state != ApprovalState::pending) continue;
        Pending& p = pending_[a.job_id];
        p.approval = a;
        arm(p);
    }
    if (!pending.empty()) logger->info("restored {} pending approval(s)", pending_.size());
    for (std::int64_t job_id : jobs_.held()) {
        if (pending_.count(job_id)) continue;
        logger->warn("approval {}: the job awaits approval but no request is pending; it expires",
                     id_text(job_id));
        if (auto closed = jobs_.close_held(job_id, JobState::expired); !closed)
            logger->error("approval {}: {}", id_text(job_id), closed.error().message);
    }
}

void ApprovalService::arm(Pending& p) {
    std::int64_t job_id = p.approval.job_id;
    auto left = std::max<std::int64_t>(0, p.approval.expires_at_ms - now_ms());
    p.expiry = std::make_unique<boost::asio::steady_timer>(io_);
    p.expiry->expires_after(std::chrono::milliseconds(left));
    p.expiry->async_wait([this, job_id](const boost::system::error_code& ec) {
        if (!ec && !stopped_) on_expired(job_id);
    });
}

Result<Approval> ApprovalService::request(const SubmitRequest& request, const ApprovalSpec& spec) {
    if (spec.group.empty()) return fail("the approval rule names no approver group");
    if (spec.count < 1) return fail("the approval rule needs at least 1 approval");
    if (spec.expiry.count() <= 0) return fail("the approval rule's expiry must be positive");
    auto held = jobs_.hold(request);
    if (!held) return held.error();

    Approval a;
    a.job_id = held->job_id;
    a.requester = request.requester;
    a.source = request.source;
    a.target = request.target;
    a.argv = request.argv;
    a.hosts = held->matched;
    a.hosts.insert(a.hosts.end(), held->offline.begin(), held->offline.end());
    std::sort(a.hosts.begin(), a.hosts.end());
    a.group = spec.group;
    a.count = spec.count;
    a.created_at_ms = now_ms();
    a.expires_at_ms = a.created_at_ms + spec.expiry.count();

    auto [it, inserted] = pending_.emplace(a.job_id, Pending{a, nullptr});
    arm(it->second);
    logger->info("approval {}: {} asks for {} on {}; {} approval(s) from {} needed",
                 id_text(a.job_id), a.requester, a.argv[0], joined(a.hosts, ", "), a.count,
                 a.group);
    changed(it, AuditEvent{"approval.requested",
                           a.requester,
                           subject(a.job_id),
                           {{"argv", joined(a.argv)},
                            {"hosts", joined(a.hosts, ",")},
                            {"group", a.group},
                            {"count", std::to_string(a.count)},
                            {"expires_at_ms", std::to_string(a.expires_at_ms)},
                            {"source", a.source}}});
    return a;
}

void ApprovalService::list_approvals(const ApprovalQuery& query,
                                     Callback<std::vector<Approval>> done) {
    ApprovalQuery q = query;
    if (q.states.empty()) q.states = {ApprovalState::pending};
    q.limit = std::clamp(q.limit, 1, 500);
    store_.list_approvals(q, std::move(done));
}

std::vector<Approval> ApprovalService::pending_for(const std::string& identity) const {
    std::vector<Approval> out;
    for (const auto& [id, p] : pending_)
        if (refusal(p.approval, identity).empty()) out.push_back(p.approval);
    return out;
}

std::string ApprovalService::refusal(const Approval& a, const std::string& identity) const {
    if (identity == a.requester)
        return "you asked for job " + id_text(a.job_id) +
               ": the requester never counts; someone else in group '" + a.group +
               "' must approve it";
    for (const ApprovalVote& v : a.votes)
        if (v.approver == identity)
            return "you already approved job " + id_text(a.job_id) + "; it needs " +
                   std::to_string(a.count - a.approvals()) + " more from a different approver";
    if (!rules_.may || !rules_.may(identity, kDecide))
        return std::string("you may not decide approvals: ") + identity + " lacks the " + kDecide +
               " permission";
    if (!rules_.in_group || !rules_.in_group(identity, a.group))
        return "job " + id_text(a.job_id) + " needs approvers from group '" + a.group + "', and " +
               identity + " is not in it";
    return {};
}

Result<ApprovalService::Pending*> ApprovalService::find_pending(std::int64_t job_id) {
    auto it = pending_.find(job_id);
    if (it == pending_.end())
        return fail("no pending approval for job " + id_text(job_id) +
                    " (unknown, or already decided or expired)");
    return &it->second;
}

Result<Approval> ApprovalService::approve(std::int64_t job_id, const std::string& approver) {
    auto found = find_pending(job_id);
    if (!found) return found.error();
    Approval& a = (*found)->approval;
    if (std::string why = refusal(a, approver); !why.empty()) {
        audit_.record(AuditEvent{"approval.refused", approver, subject(job_id), {{"why", why}}});
        return fail(why);
    }
    a.votes.push_back(ApprovalVote{approver, true, "", now_ms()});
    auto it = pending_.find(job_id);
    if (a.approvals() < a.count) {
        logger->info("approval {}: approved by {} ({} of {})", id_text(job_id), approver,
                     a.approvals(), a.count);
        changed(it, AuditEvent{"approval.voted",
                               approver,
                               subject(job_id),
                               {{"approvals", std::to_string(a.approvals())},
                                {"count", std::to_string(a.count)}}});
        return a;
    }
    a.state = ApprovalState::granted;
    a.decided_at_ms = now_ms();
    std::vector<std::string> approvers;
    for (const ApprovalVote& v : a.votes) approvers.push_back(v.approver);
    logger->info("approval {}: granted by {}", id_text(job_id), joined(approvers, ", "));
    Approval granted = a;
    // Saved (with the last vote) before the job's runs: the store commits in queue order.
    changed(it, AuditEvent{"approval.granted",
                           approver,
                           subject(job_id),
                           {{"approvers", joined(approvers, ",")},
                            {"hosts", joined(granted.hosts, ",")}}});
    auto released = jobs_.release(job_id, granted.hosts);
    if (!released) {
        logger->error("approval {}: granted, but the job cannot start: {}", id_text(job_id),
                      released.error().message);
        return fail("approved, but job " + id_text(job_id) +
                    " cannot start: " + released.error().message);
    }
    return granted;
}

Result<Approval> ApprovalService::deny(std::int64_t job_id, const std::string& approver,
                                       const std::string& reason) {
    auto found = find_pending(job_id);
    if (!found) return found.error();
    std::string why = reason;
    why.erase(0, why.find_first_not_of(" \t\r\n"));
    why.erase(why.find_last_not_of(" \t\r\n") + 1);
    if (why.empty())
        return fail("say why you deny job " + id_text(job_id) + ": a reason is required");
    if (why.size() > kMaxReasonBytes)
        return fail("the reason is " + std::to_string(why.size()) + " bytes; at most " +
                    std::to_string(kMaxReasonBytes) + " are kept");
    Approval& a = (*found)->approval;
    // The requester may withdraw their own request; anyone else must be an approver.
    if (approver != a.requester) {
        std::string refused = refusal(a, approver);
        bool voted = std::any_of(a.votes.begin(), a.votes.end(),
                                 [&](const ApprovalVote& v) { return v.approver == approver; });
        if (!refused.empty() && !voted) {
            audit_.record(
                AuditEvent{"approval.refused", approver, subject(job_id), {{"why", refused}}});
            return fail(refused);
        }
    }
    if (std::none_of(a.votes.begin(), a.votes.end(),
                     [&](const ApprovalVote& v) { return v.approver == approver; }))
        a.votes.push_back(ApprovalVote{approver, false, why, now_ms()});
    a.state = ApprovalState::denied;
    a.reason = "denied by " + approver + ": " + why;
    a.decided_at_ms = now_ms();
    Approval denied = a;
    logger->info("approval {}: {}", id_text(job_id), denied.reason);
    changed(pending_.find(job_id),
            AuditEvent{"approval.denied", approver, subject(job_id), {{"reason", why}}});
    if (auto closed = jobs_.close_held(job_id, JobState::denied); !closed)
        logger->error("approval {}: {}", id_text(job_id), closed.error().message);
    return denied;
}

void ApprovalService::on_expired(std::int64_t job_id) {
    auto it = pending_.find(job_id);
    if (it == pending_.end()) return;
    Approval& a = it->second.approval;
    a.state = ApprovalState::expired;
    a.decided_at_ms = now_ms();
    a.reason = "no decision within " +
               format_duration(std::chrono::milliseconds(a.expires_at_ms - a.created_at_ms)) +
               " (" + std::to_string(a.approvals()) + " of " + std::to_string(a.count) +
               " approvals)";
    logger->info("approval {}: expired: {}", id_text(job_id), a.reason);
    changed(it,
            AuditEvent{"approval.expired", "controller", subject(job_id), {{"reason", a.reason}}});
    if (auto closed = jobs_.close_held(job_id, JobState::expired); !closed)
        logger->error("approval {}: {}", id_text(job_id), closed.error().message);
}

void ApprovalService::changed(std::map<std::int64_t, Pending>::iterator it, AuditEvent event) {
    Approval a = it->second.approval;
    store_.save_approval(a);
    audit_.record(std::move(event));
    if (a.state != ApprovalState::pending) {
        if (it->second.expiry) it->second.expiry->cancel();
        pending_.erase(it);
    }
    for (const Listener& l : std::vector<Listener>(listeners_)) l(a);
}

}  // namespace hostline::controller
