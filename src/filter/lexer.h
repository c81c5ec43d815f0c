#ifndef KILN_FILTER_LEXER_H_
#define KILN_FILTER_LEXER_H_

// Internal to kiln_filter: splits an AIP-160 filter string into tokens.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "filter/program.h"

namespace kiln::filter::internal {

enum class TokenKind {
  kEnd,       // end of the filter text
  kWord,      // a bare word: a field path, or (in value mode) a bare value
  kString,    // a double-quoted string; `text` is unescaped, `raw` keeps the escapes
  kLParen,    // (
  kRParen,    // )
  kAnd,       // AND
  kOr,        // OR
  kNot,       // NOT
  kMinus,     // - (negation prefix)
  kOperator,  // = != < <= > >= :
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t offset = 0;  // byte offset of the token's first character in the filter text
  std::string text;   // the token as written (strings: unescaped content)
  std::string raw;    // strings only: content between the quotes, escapes intact
  // Words and strings: byte offsets in `text` of the `*` characters that are wildcards (every `*`
  // of a word; the unescaped ones of a string, since `\*` is a literal asterisk).
  std::vector<size_t> stars;
  Op op = Op::kEq;  // kOperator only
};

// The 1-based position of `byte_offset` in `text`, counted in Unicode code points (which is the
// byte offset + 1 for ASCII text). An offset of text.size() is the position just past the end.
int PositionOf(absl::string_view text, size_t byte_offset);

// INVALID_ARGUMENT "filter: <what> at position N<suffix>" (via kiln::FieldError).
absl::Status ErrorAt(absl::string_view text, size_t byte_offset, absl::string_view what, absl::string_view suffix = "");

// How a token reads in an error message: `"display_name"`, `")"`, `end of filter`.
std::string Describe(const Token& token);

// A pull lexer. Tokens are produced on demand because what counts as a word depends on where the
// parser is: a field path stops at operators (`labels.env:x`), while a bare value runs to the next
// space or parenthesis so that `2024-01-02T03:04:05Z` or `-5` stay whole.
class Lexer {
 public:
  // `text` must outlive the lexer.
  explicit Lexer(absl::string_view text) : text_(text) {}

  // The next token in term mode, without consuming it. In term mode a leading `-` is the negation
  // prefix and words stop at whitespace, parentheses, quotes and operator characters.
  absl::StatusOr<Token> Peek();
  // Consumes and returns the next token in term mode.
  absl::StatusOr<Token> Next();
  // Consumes and returns the next token in value mode: a quoted string, a bare word running to the
  // next whitespace, parenthesis or quote, or kEnd / kRParen / kLParen when no value follows.
  absl::StatusOr<Token> NextValue();

 private:
  void SkipSpace();
  absl::StatusOr<Token> Lex(bool value_mode, size_t* end);
  absl::StatusOr<Token> LexString(size_t start, size_t* end);

  absl::string_view text_;
  size_t pos_ = 0;
  std::optional<Token> peeked_;
  size_t peeked_end_ = 0;
};

}  // namespace kiln::filter::internal

#endif  // KILN_FILTER_LEXER_H_
