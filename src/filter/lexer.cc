#include "filter/lexer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace kiln::filter::internal {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Characters that end a bare word in term mode.
bool EndsTermWord(char c) {
  switch (c) {
    case '(':
    case ')':
    case '"':
    case '=':
    case '!':
    case '<':
    case '>':
    case ':':
      return true;
    default:
      return IsSpace(c);
  }
}

// Characters that end a bare word in value mode.
bool EndsValueWord(char c) { return IsSpace(c) || c == '(' || c == ')' || c == '"'; }

}  // namespace

int PositionOf(absl::string_view text, size_t byte_offset) {
  int position = 1;
  for (size_t i = 0; i < byte_offset && i < text.size(); ++i) {
    // Count every byte that is not a UTF-8 continuation byte (10xxxxxx).
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++position;
  }
  return position;
}

absl::Status ErrorAt(absl::string_view text, size_t byte_offset, absl::string_view what, absl::string_view suffix) {
  return FieldError("filter", absl::StrCat(what, " at position ", PositionOf(text, byte_offset), suffix));
}

std::string Describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of filter";
    case TokenKind::kString:
      return absl::StrCat("\"", token.raw, "\"");
    default:
      return absl::StrCat("\"", token.text, "\"");
  }
}

void Lexer::SkipSpace() {
  while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
}

absl::StatusOr<Token> Lexer::Peek() {
  if (!peeked_.has_value()) {
    SkipSpace();
    size_t end = pos_;
    absl::StatusOr<Token> token = Lex(/*value_mode=*/false, &end);
    if (!token.ok()) return token.status();
    peeked_ = *std::move(token);
    peeked_end_ = end;
  }
  return *peeked_;
}

absl::StatusOr<Token> Lexer::Next() {
  absl::StatusOr<Token> token = Peek();
  if (!token.ok()) return token;
  peeked_.reset();
  pos_ = peeked_end_;
  return token;
}

absl::StatusOr<Token> Lexer::NextValue() {
  peeked_.reset();  // a peeked term-mode token is re-read in value mode
  SkipSpace();
  size_t end = pos_;
  absl::StatusOr<Token> token = Lex(/*value_mode=*/true, &end);
  if (token.ok()) pos_ = end;
  return token;
}

absl::StatusOr<Token> Lexer::Lex(bool value_mode, size_t* end) {
  const size_t start = pos_;
  Token token;
  token.offset = start;
  if (start >= text_.size()) {
    *end = start;
    return token;  // kEnd
  }
  const char c = text_[start];
  auto single = [&](TokenKind kind) {
    token.kind = kind;
    token.text = std::string(1, c);
    *end = start + 1;
    return token;
  };
  if (c == '(') return single(TokenKind::kLParen);
  if (c == ')') return single(TokenKind::kRParen);
  if (c == '"') return LexString(start, end);
  if (!value_mode) {
    if (c == '-') return single(TokenKind::kMinus);
    const char next = start + 1 < text_.size() ? text_[start + 1] : '\0';
    auto op = [&](Op kind, size_t length) {
      token.kind = TokenKind::kOperator;
      token.op = kind;
      token.text = std::string(text_.substr(start, length));
      *end = start + length;
      return token;
    };
    switch (c) {
      case '=':
        return op(Op::kEq, 1);
      case ':':
        return op(Op::kHas, 1);
      case '<':
        return next == '=' ? op(Op::kLe, 2) : op(Op::kLt, 1);
      case '>':
        return next == '=' ? op(Op::kGe, 2) : op(Op::kGt, 1);
      case '!':
        if (next == '=') return op(Op::kNe, 2);
        return ErrorAt(text_, start, "unexpected \"!\"", "; did you mean \"!=\" or \"NOT\"?");
      default:
        break;
    }
  }
  size_t stop = start;
  while (stop < text_.size() && !(value_mode ? EndsValueWord(text_[stop]) : EndsTermWord(text_[stop]))) {
    ++stop;
  }
  token.kind = TokenKind::kWord;
  token.text = std::string(text_.substr(start, stop - start));
  for (size_t k = 0; k < token.text.size(); ++k) {
    if (token.text[k] == '*') token.stars.push_back(k);
  }
  *end = stop;
  if (!value_mode) {
    if (token.text == "AND") token.kind = TokenKind::kAnd;
    if (token.text == "OR") token.kind = TokenKind::kOr;
    if (token.text == "NOT") token.kind = TokenKind::kNot;
  }
  return token;
}

absl::StatusOr<Token> Lexer::LexString(size_t start, size_t* end) {
  Token token;
  token.kind = TokenKind::kString;
  token.offset = start;
  size_t i = start + 1;
  while (i < text_.size() && text_[i] != '"') {
    if (text_[i] == '\\') {
      if (i + 1 >= text_.size()) break;  // unterminated
      const char escaped = text_[i + 1];
      if (escaped != '"' && escaped != '\\' && escaped != '*') {
        size_t length = 1;  // quote the whole UTF-8 sequence after the backslash
        while (i + 1 + length < text_.size() && (static_cast<unsigned char>(text_[i + 1 + length]) & 0xC0) == 0x80) {
          ++length;
        }
        return ErrorAt(text_, i, absl::StrCat("unknown escape \"\\", text_.substr(i + 1, length), "\""),
                       "; only \\\", \\\\ and \\* are allowed");
      }
      token.text.push_back(escaped);  // an escaped `*` is not recorded in `stars`
      i += 2;
      continue;
    }
    if (text_[i] == '*') token.stars.push_back(token.text.size());
    token.text.push_back(text_[i]);
    ++i;
  }
  if (i >= text_.size()) {
    return ErrorAt(text_, start, "unterminated string", "; missing closing \"");
  }
  token.raw = std::string(text_.substr(start + 1, i - start - 1));
  *end = i + 1;
  return token;
}

}  // namespace kiln::filter::internal
