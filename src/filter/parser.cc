#include "filter/parser.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "filter/lexer.h"

namespace kiln::filter::internal {
namespace {

bool StartsTerm(TokenKind kind) {
  return kind == TokenKind::kWord || kind == TokenKind::kNot || kind == TokenKind::kMinus || kind == TokenKind::kLParen;
}

class Parser {
 public:
  Parser(absl::string_view text, const FieldTable& fields, Program* program)
      : text_(text), lexer_(text), fields_(fields), program_(*program) {}

  absl::Status Run() {
    KILN_ASSIGN_OR_RETURN(Token first, lexer_.Peek());
    if (first.kind == TokenKind::kEnd) return absl::OkStatus();  // empty filter
    KILN_ASSIGN_OR_RETURN(program_.root, Expression(0));
    KILN_ASSIGN_OR_RETURN(Token rest, lexer_.Peek());
    if (rest.kind != TokenKind::kEnd) {
      return ErrorAt(text_, rest.offset, absl::StrCat("unexpected ", Describe(rest)));
    }
    return absl::OkStatus();
  }

 private:
  // `depth` is the number of enclosing parentheses.
  absl::StatusOr<int> Expression(int depth) {
    std::vector<int> parts;
    KILN_ASSIGN_OR_RETURN(int first, Sequence(depth));
    parts.push_back(first);
    while (true) {
      KILN_ASSIGN_OR_RETURN(Token next, lexer_.Peek());
      if (next.kind != TokenKind::kAnd) break;
      KILN_RETURN_IF_ERROR(lexer_.Next().status());
      KILN_ASSIGN_OR_RETURN(int part, Sequence(depth));
      parts.push_back(part);
    }
    return Combine(Node::Kind::kAnd, std::move(parts));
  }

  absl::StatusOr<int> Sequence(int depth) {
    std::vector<int> parts;
    KILN_ASSIGN_OR_RETURN(int first, Factor(depth));
    parts.push_back(first);
    while (true) {
      KILN_ASSIGN_OR_RETURN(Token next, lexer_.Peek());
      if (!StartsTerm(next.kind)) break;
      KILN_ASSIGN_OR_RETURN(int part, Factor(depth));
      parts.push_back(part);
    }
    return Combine(Node::Kind::kAnd, std::move(parts));
  }

  absl::StatusOr<int> Factor(int depth) {
    std::vector<int> parts;
    KILN_ASSIGN_OR_RETURN(int first, Term(depth));
    parts.push_back(first);
    while (true) {
      KILN_ASSIGN_OR_RETURN(Token next, lexer_.Peek());
      if (next.kind != TokenKind::kOr) break;
      KILN_RETURN_IF_ERROR(lexer_.Next().status());
      KILN_ASSIGN_OR_RETURN(int part, Term(depth));
      parts.push_back(part);
    }
    return Combine(Node::Kind::kOr, std::move(parts));
  }

  absl::StatusOr<int> Term(int depth) {
    bool negate = false;
    while (true) {  // a loop, not recursion: `NOT NOT -x` cannot grow the stack
      KILN_ASSIGN_OR_RETURN(Token next, lexer_.Peek());
      if (next.kind != TokenKind::kNot && next.kind != TokenKind::kMinus) break;
      KILN_RETURN_IF_ERROR(lexer_.Next().status());
      negate = !negate;
    }
    KILN_ASSIGN_OR_RETURN(int simple, Simple(depth));
    if (!negate) return simple;
    Node node;
    node.kind = Node::Kind::kNot;
    node.children.push_back(simple);
    return Add(std::move(node));
  }

  absl::StatusOr<int> Simple(int depth) {
    KILN_ASSIGN_OR_RETURN(Token next, lexer_.Peek());
    if (next.kind == TokenKind::kWord) return Comparison();
    if (next.kind != TokenKind::kLParen) {
      return ErrorAt(text_, next.offset, "expected a comparison", absl::StrCat(", found ", Describe(next)));
    }
    if (depth + 1 > kMaxDepth) {
      return ErrorAt(text_, next.offset, absl::StrCat("parentheses nested deeper than ", kMaxDepth));
    }
    KILN_RETURN_IF_ERROR(lexer_.Next().status());
    KILN_ASSIGN_OR_RETURN(int inner, Expression(depth + 1));
    KILN_ASSIGN_OR_RETURN(Token close, lexer_.Next());
    if (close.kind != TokenKind::kRParen) {
      return ErrorAt(
          text_, close.offset, "expected \")\"",
          absl::StrCat(" to close \"(\" at position ", PositionOf(text_, next.offset), ", found ", Describe(close)));
    }
    return inner;
  }

  absl::StatusOr<int> Comparison() {
    KILN_ASSIGN_OR_RETURN(Token word, lexer_.Next());
    KILN_ASSIGN_OR_RETURN(Target target, fields_.Resolve(text_, word));
    KILN_ASSIGN_OR_RETURN(Token op, lexer_.Next());
    if (op.kind != TokenKind::kOperator) {
      return ErrorAt(text_, op.offset,
                     absl::StrCat("expected an operator (= != < <= > >= :) after \"", word.text, "\""),
                     absl::StrCat(", found ", Describe(op)));
    }
    KILN_RETURN_IF_ERROR(fields_.CheckOperator(text_, target, op));
    KILN_ASSIGN_OR_RETURN(Token value, lexer_.NextValue());
    const bool is_value = value.kind == TokenKind::kString || (value.kind == TokenKind::kWord && value.text != "AND" &&
                                                               value.text != "OR" && value.text != "NOT");
    if (!is_value) {
      return ErrorAt(text_, value.offset, absl::StrCat("expected a value after \"", op.text, "\""));
    }
    KILN_ASSIGN_OR_RETURN(internal::Comparison comparison, fields_.Bind(text_, target, op.op, value));
    program_.comparisons.push_back(std::move(comparison));
    Node node;
    node.kind = Node::Kind::kCompare;
    node.comparison = static_cast<int>(program_.comparisons.size()) - 1;
    return Add(std::move(node));
  }

  int Combine(Node::Kind kind, std::vector<int> parts) {
    if (parts.size() == 1) return parts.front();
    Node node;
    node.kind = kind;
    node.children = std::move(parts);
    return Add(std::move(node));
  }

  int Add(Node node) {
    program_.nodes.push_back(std::move(node));
    return static_cast<int>(program_.nodes.size()) - 1;
  }

  absl::string_view text_;
  Lexer lexer_;
  const FieldTable& fields_;
  Program& program_;
};

}  // namespace

absl::StatusOr<Program> ParseProgram(absl::string_view text, const google::protobuf::Descriptor* descriptor,
                                     const FieldTable& fields) {
  if (text.size() > kMaxLength) {
    return FieldError("filter", absl::StrCat("too long (", text.size(), " bytes; the limit is ", kMaxLength, ")"));
  }
  Program program;
  program.descriptor = descriptor;
  Parser parser(text, fields, &program);
  KILN_RETURN_IF_ERROR(parser.Run());
  return program;
}

}  // namespace kiln::filter::internal
