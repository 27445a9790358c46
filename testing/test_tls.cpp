// Test support: the only file of hostline_testing that calls OpenSSL's X509 API and Beast.
#include "testing/test_tls.hpp"

#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <strings.h>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace hostline::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// ---------------------------------------------------------------- the CA

namespace {

[[noreturn]] void openssl_failed(const std::string& what) {
    throw std::runtime_error("test CA: " + what + " failed");
}

EVP_PKEY* make_key() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (key == nullptr) openssl_failed("EVP_EC_gen");
    return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) openssl_failed("extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

// issuer == nullptr: self-signed (the CA).
X509* make_cert(const std::string& common_name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                const std::string& alt_names) {
    static std::atomic<long> serial{1};
    X509* cert = X509_new();
    if (cert == nullptr) openssl_failed("X509_new");
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++ + (std::rand() % 100000) * 1000);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 24 * 3600);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    X509_set_pubkey(cert, key);
    X509* signer = issuer ? issuer : cert;
    add_extension(cert, signer, NID_subject_key_identifier, "hash");
    if (issuer == nullptr) {
        add_extension(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_extension(cert, signer, NID_authority_key_identifier, "keyid:always");
        add_extension(cert, signer, NID_basic_constraints, "critical,CA:FALSE");
        add_extension(cert, signer, NID_key_usage, "critical,digitalSignature");
        add_extension(cert, signer, NID_ext_key_usage, "serverAuth");
        if (!alt_names.empty()) add_extension(cert, signer, NID_subject_alt_name, alt_names);
    }
    if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) openssl_failed("X509_sign");
    return cert;
}

void write_cert(const std::string& path, X509* cert) {
    BIO* bio = BIO_new_file(path.c_str(), "w");
    if (bio == nullptr || PEM_write_bio_X509(bio, cert) != 1) openssl_failed("writing " + path);
    BIO_free(bio);
}

void write_key(const std::string& path, EVP_PKEY* key) {
    BIO* bio = BIO_new_file(path.c_str(), "w");
    if (bio == nullptr ||
        PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        openssl_failed("writing " + path);
    BIO_free(bio);
}

}  // namespace

struct TestCa::Keys {
    ~Keys() {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
};

TestCa::TestCa(const std::string& name) : keys_(std::make_unique<Keys>()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "hostline-ca-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("test CA: mkdtemp failed");
    dir_ = pattern;
    keys_->key = make_key();
    keys_->cert = make_cert(name, keys_->key, nullptr, keys_->key, "");
    ca_cert_file_ = dir_ + "/ca.crt";
    write_cert(ca_cert_file_, keys_->cert);
    server_ = issue("server", {"localhost"}, {"127.0.0.1"});
}

TestCa::~TestCa() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

ServerIdentity TestCa::issue(const std::string& label, const std::vector<std::string>& dns_names,
                             const std::vector<std::string>& ip_addresses) {
    std::string alt_names;
    for (const auto& dns : dns_names) alt_names += (alt_names.empty() ? "" : ",") + ("DNS:" + dns);
    for (const auto& ip : ip_addresses) alt_names += (alt_names.empty() ? "" : ",") + ("IP:" + ip);
    EVP_PKEY* key = make_key();
    X509* cert = make_cert("hostline test " + label, key, keys_->cert, keys_->key, alt_names);
    ServerIdentity identity{dir_ + "/" + label + ".crt", dir_ + "/" + label + ".key"};
    write_cert(identity.cert_file, cert);
    write_key(identity.key_file, key);
    X509_free(cert);
    EVP_PKEY_free(key);
    return identity;
}

// ---------------------------------------------------------------- the server

std::string RecordedRequest::header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
        if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
    }
    return "";
}

namespace {

using TlsStream = ssl::stream<tcp::socket>;

RecordedRequest record(const http::request<http::string_body>& request, std::uint64_t connection) {
    RecordedRequest out;
    out.method = std::string(request.method_string());
    out.target = std::string(request.target());
    out.path = out.target.substr(0, out.target.find('?'));
    for (const auto& field : request)
        out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.body = request.body();
    out.connection = connection;
    return out;
}

// Runs a test's WebSocket handler; an exception is reported on stderr instead of ending the
// server's thread.
template <typename Fn>
void run_guarded(const char* what, Fn&& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "TlsTestServer: the %s threw: %s\n", what, e.what());
    }
}

// What a peer handle and its session share; outlives both.
struct PeerState {
    mutable std::mutex mutex;
    std::vector<std::string> messages;
    std::function<void(const std::string&)> on_message;
    RecordedRequest upgrade;
    std::atomic<bool> open{false};
};

}  // namespace

class TlsTestServer::Impl : public std::enable_shared_from_this<Impl> {
  public:
    explicit Impl(const ServerIdentity& identity)
        : context_(ssl::context::tls_server), acceptor_(io_) {
        error_code ec;
        context_.use_certificate_chain_file(identity.cert_file, ec);
        if (!ec) context_.use_private_key_file(identity.key_file, ssl::context::pem, ec);
        if (ec)
            throw std::runtime_error("TlsTestServer: cannot load the certificate: " + ec.message());
        const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec) ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
        if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_.bind(endpoint, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) throw std::runtime_error("TlsTestServer: cannot listen: " + ec.message());
        port_ = acceptor_.local_endpoint().port();
    }

    void start() {
        accept();
        thread_ = std::thread([this] { io_.run(); });
    }

    // Sessions still open are destroyed with the io_context, which closes their sockets.
    void stop() {
        asio::post(io_, [this] {
            error_code ignored;
            acceptor_.close(ignored);
            io_.stop();
        });
        if (thread_.joinable()) thread_.join();
    }

    class HttpSession;
    class WsSession;
    class PeerHandle;

    // Sessions hold a plain Impl*: they live in io_'s handlers, which die before Impl does.
    ssl::context context_;  // before io_: the sessions' streams die with io_
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;

    mutable std::mutex mutex_;  // guards what follows
    std::condition_variable recorded_cv_;
    std::map<std::pair<std::string, std::string>, Handler> handlers_;
    std::map<std::string, std::function<void(std::shared_ptr<WsPeer>)>> ws_handlers_;
    std::vector<RecordedRequest> requests_;
    std::uint64_t connections_ = 0;

  private:
    void accept();
};

// The handle tests hold: only weak links to the session and the server, so it may outlive
// both; every action is posted to the server's thread.
class TlsTestServer::Impl::PeerHandle : public WsPeer {
  public:
    PeerHandle(std::weak_ptr<Impl> server, std::shared_ptr<PeerState> state)
        : server_(std::move(server)), state_(std::move(state)) {}
    void attach(std::weak_ptr<WsSession> session) { session_ = std::move(session); }

    void send(std::string text) override;
    void close(int code, std::string reason) override;
    void drop() override;
    void on_message(std::function<void(const std::string&)> handler) override {
        std::lock_guard lock(state_->mutex);
        state_->on_message = std::move(handler);
    }
    std::vector<std::string> messages() const override {
        std::lock_guard lock(state_->mutex);
        return state_->messages;
    }
    RecordedRequest upgrade_request() const override {
        std::lock_guard lock(state_->mutex);
        return state_->upgrade;
    }
    bool is_open() const override { return state_->open; }

  private:
    template <typename Action>
    void on_session(Action action) {
        auto server = server_.lock();
        if (!server) return;
        asio::post(server->io_, [weak = session_, action = std::move(action)]() mutable {
            if (auto session = weak.lock()) action(*session);
        });
    }

    std::weak_ptr<Impl> server_;
    std::weak_ptr<WsSession> session_;
    std::shared_ptr<PeerState> state_;
};

class TlsTestServer::Impl::WsSession : public std::enable_shared_from_this<WsSession> {
  public:
    WsSession(TlsStream stream, std::shared_ptr<PeerState> state)
        : ws_(std::move(stream)), state_(std::move(state)) {}

    ~WsSession() {
        // The handler may hold the peer handle, which holds the state: break the cycle.
        std::lock_guard lock(state_->mutex);
        state_->on_message = nullptr;
        state_->open = false;
    }

    void accept(const http::request<http::string_body>& request,
                std::function<void(std::shared_ptr<WsPeer>)> handler,
                std::shared_ptr<PeerHandle> handle) {
        ws_.async_accept(request, [self = shared_from_this(), handler = std::move(handler),
                                   handle = std::move(handle)](const error_code& ec) {
            if (ec) return;
            self->state_->open = true;
            if (handler) run_guarded("websocket handler", [&] { handler(handle); });
            self->read();
        });
    }

    void send(std::string text) {
        if (!state_->open) return;
        outgoing_.push_back(std::move(text));
        if (outgoing_.size() == 1) write_next();
    }

    void close(int code, std::string reason) {
        if (!state_->open || closing_) return;
        closing_ = true;
        websocket::close_reason why(static_cast<websocket::close_code>(code), reason);
        ws_.async_close(why, [self = shared_from_this()](const error_code&) {});
    }

    void drop() {
        state_->open = false;
        error_code ignored;
        beast::get_lowest_layer(ws_).close(ignored);
    }

  private:
    void read() {
        ws_.async_read(buffer_, [self = shared_from_this()](const error_code& ec, std::size_t) {
            if (ec) {
                self->state_->open = false;
                return;
            }
            auto text = beast::buffers_to_string(self->buffer_.data());
            self->buffer_.consume(self->buffer_.size());
            std::function<void(const std::string&)> handler;
            {
                std::lock_guard lock(self->state_->mutex);
                self->state_->messages.push_back(text);
                handler = self->state_->on_message;
            }
            if (handler) run_guarded("on_message handler", [&] { handler(text); });
            self->read();
        });
    }

    void write_next() {
        ws_.text(true);
        ws_.async_write(asio::buffer(outgoing_.front()),
                        [self = shared_from_this()](const error_code& ec, std::size_t) {
                            if (ec) return self->outgoing_.clear();
                            self->outgoing_.pop_front();
                            if (!self->outgoing_.empty()) self->write_next();
                        });
    }

    websocket::stream<TlsStream> ws_;
    std::shared_ptr<PeerState> state_;
    beast::flat_buffer buffer_;
    std::deque<std::string> outgoing_;
    bool closing_ = false;
};

void TlsTestServer::Impl::PeerHandle::send(std::string text) {
    on_session([text = std::move(text)](WsSession& s) mutable { s.send(std::move(text)); });
}
void TlsTestServer::Impl::PeerHandle::close(int code, std::string reason) {
    on_session([code, reason = std::move(reason)](WsSession& s) mutable {
        s.close(code, std::move(reason));
    });
}
void TlsTestServer::Impl::PeerHandle::drop() {
    on_session([](WsSession& s) { s.drop(); });
}

class TlsTestServer::Impl::HttpSession : public std::enable_shared_from_this<HttpSession> {
  public:
    HttpSession(Impl* server, tcp::socket socket, std::uint64_t id)
        : server_(server),
          stream_(std::move(socket), server_->context_),
          timer_(server_->io_),
          id_(id) {}

    void start() {
        stream_.async_handshake(
            ssl::stream_base::server, [self = shared_from_this()](const error_code& ec) {
                if (ec) return;
                const char* sni =
                    SSL_get_servername(self->stream_.native_handle(), TLSEXT_NAMETYPE_host_name);
                self->sni_ = sni ? sni : "";
                self->read();
            });
    }

  private:
    void read() {
        parser_.emplace();
        parser_->body_limit(64 * 1024 * 1024);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](const error_code& ec, std::size_t) {
                             if (!ec) self->on_request();
                         });
    }

    void on_request() {
        auto request = parser_->release();
        auto recorded = record(request, id_);
        recorded.sni = sni_;
        const bool upgrade = websocket::is_upgrade(request);
        Handler handler;
        std::function<void(std::shared_ptr<WsPeer>)> ws_handler;
        bool has_ws = false;
        {
            std::lock_guard lock(server_->mutex_);
            server_->requests_.push_back(recorded);
            server_->recorded_cv_.notify_all();
            if (upgrade) {
                auto it = server_->ws_handlers_.find(recorded.path);
                if (it != server_->ws_handlers_.end()) {
                    ws_handler = it->second;
                    has_ws = true;
                }
            } else {
                auto it = server_->handlers_.find({recorded.method, recorded.path});
                if (it != server_->handlers_.end()) handler = it->second;
            }
        }
        if (has_ws) return become_websocket(request, std::move(ws_handler), std::move(recorded));
        TestResponse answer{404, {{"Content-Type", "text/plain"}}, "no handler\n"};
        if (handler) {
            // A throwing handler must not take the server's thread (and the test) down.
            try {
                answer = handler(recorded);
            } catch (const std::exception& e) {
                answer = TestResponse{500,
                                      {{"Content-Type", "text/plain"}},
                                      std::string("handler threw: ") + e.what() + "\n"};
            }
        }
        response_.emplace();
        response_->version(11);
        response_->result(static_cast<unsigned>(answer.status));
        for (const auto& [name, value] : answer.headers) response_->set(name, value);
        response_->body() = std::move(answer.body);
        response_->keep_alive(request.keep_alive());
        // A handler that asks for chunked gets it (one chunk); otherwise Content-Length.
        if (response_->chunked()) {
            response_->chunked(true);
        } else {
            response_->prepare_payload();
        }
        close_after_ = answer.close_after;
        if (answer.delay.count() > 0) {
            timer_.expires_after(answer.delay);
            timer_.async_wait([self = shared_from_this()](const error_code& ec) {
                if (!ec) self->write();
            });
            return;
        }
        write();
    }

    void write() {
        http::async_write(
            stream_, *response_, [self = shared_from_this()](const error_code& ec, std::size_t) {
                if (ec) return;
                if (self->response_->keep_alive() && !self->close_after_) return self->read();
                error_code ignored;
                self->stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
            });
    }

    void become_websocket(const http::request<http::string_body>& request,
                          std::function<void(std::shared_ptr<WsPeer>)> handler,
                          RecordedRequest recorded) {
        auto state = std::make_shared<PeerState>();
        state->upgrade = std::move(recorded);
        auto handle = std::make_shared<PeerHandle>(server_->weak_from_this(), state);
        auto session = std::make_shared<WsSession>(std::move(stream_), state);
        handle->attach(session);
        session->accept(request, std::move(handler), std::move(handle));
    }

    Impl* server_;
    TlsStream stream_;
    asio::steady_timer timer_;
    std::uint64_t id_;
    std::string sni_;  // the server name the client sent in its TLS hello
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::optional<http::response<http::string_body>> response_;
    bool close_after_ = false;
};

void TlsTestServer::Impl::accept() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
        if (ec) return;  // closed at stop()
        // Not inherited by the processes a test starts (agents, the CLI): a child holding the
        // socket would keep the connection up after drop() or the server's close.
        ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
        std::uint64_t id = 0;
        {
            std::lock_guard lock(mutex_);
            id = ++connections_;
        }
        std::make_shared<HttpSession>(this, std::move(socket), id)->start();
        accept();
    });
}

TlsTestServer::TlsTestServer(const ServerIdentity& identity)
    : impl_(std::make_shared<Impl>(identity)) {
    impl_->start();
}

TlsTestServer::~TlsTestServer() {
    impl_->stop();
}

std::uint16_t TlsTestServer::port() const {
    return impl_->port_;
}

std::string TlsTestServer::url(const std::string& path, const std::string& scheme,
                               const std::string& host) const {
    return scheme + "://" + host + ":" + std::to_string(impl_->port_) + path;
}

void TlsTestServer::on(const std::string& method, const std::string& path, Handler handler) {
    std::lock_guard lock(impl_->mutex_);
    impl_->handlers_[{method, path}] = std::move(handler);
}

void TlsTestServer::on_websocket(const std::string& path,
                                 std::function<void(std::shared_ptr<WsPeer>)> handler) {
    std::lock_guard lock(impl_->mutex_);
    impl_->ws_handlers_[path] = std::move(handler);
}

std::vector<RecordedRequest> TlsTestServer::requests() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->requests_;
}

std::uint64_t TlsTestServer::connections_accepted() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->connections_;
}

bool TlsTestServer::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex_);
    return impl_->recorded_cv_.wait_for(lock, timeout,
                                        [&] { return impl_->requests_.size() >= count; });
}

}  // namespace hostline::testing
