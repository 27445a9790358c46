#include "common/target/target_expr.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "common/printable.hpp"

namespace hostline::target {

namespace {

constexpr std::string_view kGlobChars = "*?[]";
// How much of an input an error message quotes; the rest is elided.

bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-_.:/*?[]").find(c) != std::string_view::npos;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool has_glob(std::string_view text) {
    return text.find_first_of(kGlobChars) != std::string_view::npos;
}

std::string quoted(std::string_view text) {
    return "'" + printable(text) + "'";
}

std::string at_column(std::size_t column) {
    return " at column " + std::to_string(column);
}

bool glob_matches(const std::string& pattern, const std::string& text) {
    return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

}  // namespace

// Recursive descent over one text: the target itself, or one group's expression. A group
// reference starts a Parser over the group's text that adds to the same nodes, depth and
// group stack. Every error is "what was wrong at column N"; a group's parser prefixes its
// errors with the group, and parse() prefixes them all with the target.
class TargetExpr::Parser {
  public:
    // State that lives for the whole parse, across groups.
    struct Shared {
        const Groups& groups;
        std::vector<Node> nodes;
        // The groups being expanded, outermost first, to find cycles.
        std::vector<std::string> group_stack;
        int depth = 0;
    };

    // group is the group's name when text is a group's expression, empty for the target.
    Parser(Shared& shared, std::string_view text, std::string_view group)
        : shared_(shared), text_(text), group_(group) {}

    // The root node of the whole text.
    Result<std::size_t> parse_all() {
        if (text_.size() > kMaxLength)
            return error("longer than " + std::to_string(kMaxLength) + " characters");
        advance();
        if (current_.kind == Tok::End) return error("empty expression", 1);
        auto root = parse_or(nullptr);
        if (!root) return root;
        if (current_.kind == Tok::End) return root;
        if (current_.kind == Tok::Close)
            return error("unexpected ')' without a matching '('", current_.column);
        return unexpected("expected '&', ',' or end of input");
    }

  private:
    enum class Tok { Word, Group, And, Or, Not, Equals, NotEquals, Open, Close, End, Illegal };
    struct Token {
        Tok kind = Tok::End;
        // Word: the word. Group: the name after '@'. Others: the characters.
        std::string_view text;
        std::size_t column = 0;
    };

    // Counts one level of nesting for as long as it lives.
    class Nesting {
      public:
        explicit Nesting(int& depth) : depth_(depth) { ++depth_; }
        ~Nesting() { --depth_; }
        Nesting(const Nesting&) = delete;
        Nesting& operator=(const Nesting&) = delete;
        bool too_deep() const { return depth_ > kMaxDepth; }

      private:
        int& depth_;
    };

    void advance() { current_ = lex(); }

    Token lex() {
        while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
        Token token;
        token.column = pos_ + 1;
        if (pos_ == text_.size()) return token;
        std::size_t start = pos_;
        char c = text_[pos_++];
        switch (c) {
            case '&':
                token.kind = Tok::And;
                break;
            case ',':
                token.kind = Tok::Or;
                break;
            case '(':
                token.kind = Tok::Open;
                break;
            case ')':
                token.kind = Tok::Close;
                break;
            case '=':
                token.kind = Tok::Equals;
                break;
            case '!':
                token.kind = Tok::Not;
                if (pos_ < text_.size() && text_[pos_] == '=') {
                    token.kind = Tok::NotEquals;
                    ++pos_;
                }
                break;
            case '@':
                token.kind = Tok::Group;
                scan_word();
                token.text = text_.substr(start + 1, pos_ - start - 1);
                return token;
            default:
                if (!is_word_char(c)) {
                    token.kind = Tok::Illegal;
                    break;
                }
                token.kind = Tok::Word;
                scan_word();
                break;
        }
        token.text = text_.substr(start, pos_ - start);
        return token;
    }

    // The rest of a word. A '!' straight after '[' negates the class ("web-[!0-9]", as in
    // fnmatch(3)); anywhere else it is the operator.
    void scan_word() {
        while (pos_ < text_.size() &&
               (is_word_char(text_[pos_]) || (text_[pos_] == '!' && text_[pos_ - 1] == '[')))
            ++pos_;
    }

    // term (',' term)*
    Result<std::size_t> parse_or(const Token* after) {
        auto first = parse_and(after);
        if (!first) return first;
        std::vector<std::size_t> terms{*first};
        while (current_.kind == Tok::Or) {
            Token op = current_;
            advance();
            auto term = parse_and(&op);
            if (!term) return term;
            terms.push_back(*term);
        }
        return combine(Kind::Or, std::move(terms));
    }

    // unary ('&' unary)*
    Result<std::size_t> parse_and(const Token* after) {
        auto first = parse_unary(after);
        if (!first) return first;
        std::vector<std::size_t> terms{*first};
        while (current_.kind == Tok::And) {
            Token op = current_;
            advance();
            auto term = parse_unary(&op);
            if (!term) return term;
            terms.push_back(*term);
        }
        return combine(Kind::And, std::move(terms));
    }

    // '!' unary | primary
    Result<std::size_t> parse_unary(const Token* after) {
        if (current_.kind != Tok::Not) return parse_primary(after);
        Token op = current_;
        Nesting nesting(shared_.depth);
        if (nesting.too_deep()) return too_deep(op.column);
        advance();
        auto operand = parse_unary(&op);
        if (!operand) return operand;
        return add_node(Node{Kind::Not, {}, {}, {*operand}}, op.column);
    }

    // '(' expr ')' | '@' group | word | key ('=' | '!=') value
    Result<std::size_t> parse_primary(const Token* after) {
        switch (current_.kind) {
            case Tok::Open:
                return parse_parenthesised();
            case Tok::Group:
                return parse_group();
            case Tok::Word:
                return parse_word();
            case Tok::Equals:
            case Tok::NotEquals:
                return error("empty label key before '" + std::string(current_.text) + "'",
                             current_.column);
            default: {
                std::string expected = "expected a host, label or group";
                if (after != nullptr) expected += " after '" + std::string(after->text) + "'";
                return unexpected(expected);
            }
        }
    }

    Result<std::size_t> parse_parenthesised() {
        Token open = current_;
        Nesting nesting(shared_.depth);
        if (nesting.too_deep()) return too_deep(open.column);
        advance();
        auto inner = parse_or(&open);
        if (!inner) return inner;
        if (current_.kind == Tok::End) return error("unclosed '('", open.column);
        if (current_.kind != Tok::Close) return unexpected("expected '&', ',' or ')'");
        advance();
        return inner;
    }

    Result<std::size_t> parse_word() {
        Token word = current_;
        advance();
        if (current_.kind != Tok::Equals && current_.kind != Tok::NotEquals) {
            if (auto valid = check_glob(word); !valid) return valid.error();
            return add_node(Node{Kind::Name, {}, std::string(word.text), {}}, word.column);
        }
        Token op = current_;
        advance();
        if (has_glob(word.text))
            return error("label key " + quoted(word.text) + " may not contain glob characters",
                         word.column);
        if (current_.kind != Tok::Word)
            return unexpected("expected a label value after '" + std::string(op.text) + "'");
        Token value = current_;
        advance();
        if (auto valid = check_glob(value); !valid) return valid.error();
        Kind kind = op.kind == Tok::Equals ? Kind::LabelMatches : Kind::LabelDiffers;
        return add_node(Node{kind, std::string(word.text), std::string(value.text), {}},
                        word.column);
    }

    Result<std::size_t> parse_group() {
        Token ref = current_;
        advance();
        std::string name(ref.text);
        if (name.empty()) return error("expected a group name after '@'", ref.column);
        if (has_glob(name))
            return error("group name " + quoted("@" + name) + " may not contain glob characters",
                         ref.column);
        auto found = shared_.groups.find(name);
        if (found == shared_.groups.end())
            return error("unknown group " + quoted("@" + name), ref.column);
        auto& stack = shared_.group_stack;
        if (auto in = std::find(stack.begin(), stack.end(), name); in != stack.end()) {
            std::string cycle;
            for (auto it = in; it != stack.end(); ++it) cycle += "@" + *it + " -> ";
            return error("group cycle " + cycle + "@" + name, ref.column);
        }
        Nesting nesting(shared_.depth);
        if (nesting.too_deep()) return too_deep(ref.column);
        stack.push_back(name);
        auto root = Parser(shared_, found->second, name).parse_all();
        stack.pop_back();
        return root;
    }

    // fnmatch(3) reads a '[' with no ']' after it as a literal '['; more likely a typo here.
    Result<void> check_glob(const Token& word) {
        std::string_view text = word.text;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] != '[') continue;
            // A ']' straight after '[' is a member of the class, not its end.
            std::size_t close = text.find(']', i + 2);
            if (close == std::string_view::npos)
                return error("unclosed '[' in " + quoted(text), word.column + i);
            i = close;
        }
        return {};
    }

    Result<std::size_t> combine(Kind kind, std::vector<std::size_t> terms) {
        if (terms.size() == 1) return terms.front();
        std::size_t column = current_.column;
        return add_node(Node{kind, {}, {}, std::move(terms)}, column);
    }

    Result<std::size_t> add_node(Node node, std::size_t column) {
        if (shared_.nodes.size() >= kMaxTerms)
            return error("expands to more than " + std::to_string(kMaxTerms) +
                             " terms (check the groups it uses)",
                         column);
        shared_.nodes.push_back(std::move(node));
        return shared_.nodes.size() - 1;
    }

    Error unexpected(const std::string& expected) {
        if (current_.kind == Tok::Illegal)
            return error("illegal character " + quoted(current_.text), current_.column);
        if (current_.kind == Tok::End) return error(expected, current_.column);
        std::string found = current_.kind == Tok::Group ? "@" + std::string(current_.text)
                                                        : std::string(current_.text);
        return error(expected + ", found " + quoted(found), current_.column);
    }

    Error too_deep(std::size_t column) {
        return error("nested deeper than " + std::to_string(kMaxDepth) + " levels", column);
    }

    Error error(const std::string& what, std::size_t column) {
        return error(what + at_column(column));
    }

    Error error(const std::string& what) {
        if (group_.empty()) return fail(what);
        return fail("in group " + quoted("@" + std::string(group_)) + " = " + quoted(text_) + ": " +
                    what);
    }

    Shared& shared_;
    std::string_view text_;
    std::string_view group_;
    std::size_t pos_ = 0;
    Token current_;
};

Result<TargetExpr> TargetExpr::parse(std::string_view text, const Groups& groups) {
    Parser::Shared shared{groups, {}, {}, 0};
    auto root = Parser(shared, text, {}).parse_all();
    if (!root) return fail("target " + quoted(text) + ": " + root.error().message);
    TargetExpr expr;
    expr.text_ = std::string(text);
    expr.nodes_ = std::move(shared.nodes);
    expr.root_ = *root;
    return expr;
}

bool TargetExpr::matches(const Host& host) const {
    return eval(root_, host);
}

bool TargetExpr::eval(std::size_t index, const Host& host) const {
    const Node& node = nodes_[index];
    auto label_matches = [&] {
        auto it = host.labels.find(node.key);
        return it != host.labels.end() && glob_matches(node.pattern, it->second);
    };
    auto child_matches = [&](std::size_t child) { return eval(child, host); };
    switch (node.kind) {
        case Kind::Name:
            return glob_matches(node.pattern, host.name);
        case Kind::LabelMatches:
            return label_matches();
        case Kind::LabelDiffers:
            return !label_matches();
        case Kind::Not:
            return !eval(node.children.front(), host);
        case Kind::And:
            return std::all_of(node.children.begin(), node.children.end(), child_matches);
        case Kind::Or:
            return std::any_of(node.children.begin(), node.children.end(), child_matches);
    }
    return false;
}

}  // namespace hostline::target
