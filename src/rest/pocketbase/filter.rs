//! PocketBase's filter expressions (`name = "Ann" && (age >= 18 || verified = true)`)
//! parsed into the domain filter. Values are data, never SQL.
use serde_json::Value;

use crate::domain::filter::{Field, Filter, Op, Sort};
use crate::error::{AppError, AppResult};

/// Longest filter accepted.
pub const MAX_LEN: usize = 4096;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Lit(Value),
    AuthId,
    Op(String),
    And,
    Or,
    Open,
    Close,
}

fn bad(msg: impl Into<String>) -> AppError {
    AppError::validation("filter", format!("invalid filter: {}", msg.into()))
}

/// The characters from `*i` on that `keep` accepts; `*i` moves past them.
/// (Each caller's `keep` accepts the character that started its token.)
fn take_while(chars: &[char], i: &mut usize, keep: impl Fn(char) -> bool) -> String {
    let start = *i;
    while chars.get(*i).is_some_and(|&ch| keep(ch)) {
        *i += 1;
    }
    chars[start..*i].iter().collect()
}

fn lex(src: &str) -> AppResult<Vec<Tok>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '&' | '|' => {
                if chars.get(i + 1) != Some(&c) {
                    return Err(bad(format!("expected `{c}{c}`")));
                }
                out.push(if c == '&' { Tok::And } else { Tok::Or });
                i += 2;
            }
            '\'' | '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(bad("unterminated string")),
                        Some('\\') if chars.get(i + 1) == Some(&c) => {
                            s.push(c);
                            i += 2;
                        }
                        Some(ch) if *ch == c => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Lit(Value::String(s)));
            }
            '=' | '!' | '<' | '>' | '~' | '?' => {
                let op = take_while(&chars, &mut i, |ch| {
                    matches!(ch, '=' | '!' | '<' | '>' | '~' | '?')
                });
                out.push(Tok::Op(op));
            }
            '@' => {
                let word = take_while(&chars, &mut i, |ch| {
                    ch.is_ascii_alphanumeric() || matches!(ch, '@' | '.' | '_')
                });
                if word != "@request.auth.id" {
                    return Err(bad(format!("`{word}` is not supported")));
                }
                out.push(Tok::AuthId);
            }
            c if c.is_ascii_digit() || c == '-' => {
                let text = take_while(&chars, &mut i, |ch| {
                    ch.is_ascii_digit() || matches!(ch, '.' | 'e' | 'E' | '-' | '+')
                });
                let n: f64 = text
                    .parse()
                    .map_err(|_| bad(format!("`{text}` is not a number")))?;
                let v = if n.fract() == 0.0 && n.abs() < 9e15 {
                    Value::from(n as i64)
                } else {
                    serde_json::json!(n)
                };
                out.push(Tok::Lit(v));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let word = take_while(&chars, &mut i, |ch| {
                    ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-')
                });
                out.push(match word.as_str() {
                    "true" => Tok::Lit(Value::Bool(true)),
                    "false" => Tok::Lit(Value::Bool(false)),
                    "null" => Tok::Lit(Value::Null),
                    _ => Tok::Ident(word),
                });
            }
            other => return Err(bad(format!("unexpected `{other}`"))),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    auth_id: Option<&'a str>,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// `item (sep item)*`: a single item as it is, several joined by `join`.
    fn chain(
        &mut self,
        sep: Tok,
        item: fn(&mut Self) -> AppResult<Filter>,
        join: fn(Vec<Filter>) -> Filter,
    ) -> AppResult<Filter> {
        let mut items = vec![item(self)?];
        while self.peek() == Some(&sep) {
            self.pos += 1;
            items.push(item(self)?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one")
        } else {
            join(items)
        })
    }

    fn or(&mut self) -> AppResult<Filter> {
        self.chain(Tok::Or, Self::and, Filter::Or)
    }

    fn and(&mut self) -> AppResult<Filter> {
        self.chain(Tok::And, Self::unary, Filter::And)
    }

    fn unary(&mut self) -> AppResult<Filter> {
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            self.depth += 1;
            if self.depth > crate::domain::filter::MAX_DEPTH {
                return Err(bad("too deeply nested"));
            }
            let inner = self.or()?;
            if self.next() != Some(Tok::Close) {
                return Err(bad("unbalanced parentheses"));
            }
            self.depth -= 1;
            return Ok(inner);
        }
        self.condition()
    }

    fn operand(&mut self) -> AppResult<Tok> {
        match self.next() {
            Some(t @ (Tok::Ident(_) | Tok::Lit(_) | Tok::AuthId)) => Ok(t),
            Some(other) => Err(bad(format!("expected a field or a value, found {other:?}"))),
            None => Err(bad("unexpected end")),
        }
    }

    fn value_of(&self, t: Tok) -> AppResult<Value> {
        match t {
            Tok::Lit(v) => Ok(v),
            Tok::AuthId => Ok(self.auth_id.map(Value::from).unwrap_or(Value::Null)),
            Tok::Ident(name) => Err(bad(format!(
                "comparing two fields (`{name}`) is not supported"
            ))),
            _ => Err(bad("expected a value")),
        }
    }

    fn condition(&mut self) -> AppResult<Filter> {
        let left = self.operand()?;
        let op = match self.next() {
            Some(Tok::Op(op)) => op,
            _ => return Err(bad("expected an operator")),
        };
        let right = self.operand()?;
        // `value op field` is read as `field op' value`.
        let (field, value, op) = match (left, right) {
            (Tok::Ident(f), r) => (f, self.value_of(r)?, op),
            (l, Tok::Ident(f)) => (f, self.value_of(l)?, flip(&op)?),
            _ => return Err(bad("a condition needs a field")),
        };
        let field = Field::parse(&field)?;
        let any = op.starts_with('?');
        let base = op.trim_start_matches('?');
        let cond = |op: Op, v: Value| Filter::cond(field.clone(), op, v);
        Ok(match (base, &value) {
            ("=", Value::Null) => cond(Op::IsNull, Value::Bool(true)),
            ("!=", Value::Null) => cond(Op::IsNull, Value::Bool(false)),
            ("=", _) if any => cond(Op::Contains, value),
            ("!=", _) if any => Filter::Not(Box::new(cond(Op::Contains, value))),
            ("=", _) => cond(Op::Eq, value),
            ("!=", _) => cond(Op::Ne, value),
            (">", _) => cond(Op::Gt, value),
            (">=", _) => cond(Op::Gte, value),
            ("<", _) => cond(Op::Lt, value),
            ("<=", _) => cond(Op::Lte, value),
            ("~", _) => cond(Op::IContains, Value::String(like_text(&value))),
            ("!~", _) => Filter::Not(Box::new(cond(
                Op::IContains,
                Value::String(like_text(&value)),
            ))),
            _ => return Err(bad(format!("unknown operator `{op}`"))),
        })
    }
}

/// `~` takes a LIKE pattern; `%` at the ends are the implicit wildcards.
fn like_text(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    s.trim_matches('%').to_owned()
}

fn flip(op: &str) -> AppResult<String> {
    Ok(match op {
        ">" => "<".into(),
        ">=" => "<=".into(),
        "<" => ">".into(),
        "<=" => ">=".into(),
        "=" | "!=" => op.into(),
        _ => return Err(bad(format!("`{op}` needs the field on its left"))),
    })
}

/// Parses a filter; `auth_id` is the caller's id for `@request.auth.id`.
pub fn parse(src: &str, auth_id: Option<&str>) -> AppResult<Option<Filter>> {
    if src.len() > MAX_LEN {
        return Err(bad(format!("longer than {MAX_LEN} characters")));
    }
    let toks = lex(src)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        auth_id,
        depth: 0,
    };
    let f = p.or()?;
    if p.pos != p.toks.len() {
        return Err(bad(
            "unexpected text after the expression (unbalanced parentheses?)",
        ));
    }
    f.validate()?;
    Ok(Some(f))
}

/// Parses `-created,name`.
pub fn parse_sort(src: &str) -> AppResult<Vec<Sort>> {
    let mut out = Vec::new();
    for part in src.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (descending, name) = match part.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        if name.starts_with('@') {
            return Err(AppError::validation(
                "sort",
                format!("`{name}` is not supported"),
            ));
        }
        out.push(Sort {
            field: Field::parse(name)?,
            descending,
        });
    }
    if out.len() > 8 {
        return Err(AppError::validation("sort", "at most 8 sort keys"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(name: &str) -> Field {
        Field::Data(vec![name.into()])
    }

    #[test]
    fn expressions_parse_with_precedence_and_literals() {
        let f = parse("name = 'Ann' && (age >= 18 || verified = true)", None)
            .unwrap()
            .unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::cond(data("name"), Op::Eq, json!("Ann")),
                Filter::Or(vec![
                    Filter::cond(data("age"), Op::Gte, json!(18)),
                    Filter::cond(Field::Verified, Op::Eq, json!(true)),
                ]),
            ])
        );
        assert_eq!(
            parse("id = @request.auth.id", Some("u1")).unwrap().unwrap(),
            Filter::cond(Field::Id, Op::Eq, json!("u1"))
        );
        assert_eq!(
            parse("bio = null", None).unwrap().unwrap(),
            Filter::cond(data("bio"), Op::IsNull, json!(true))
        );
        assert_eq!(
            parse("10 < age", None).unwrap().unwrap(),
            Filter::cond(data("age"), Op::Gt, json!(10))
        );
        assert_eq!(
            parse("tags ?= \"x\"", None).unwrap().unwrap(),
            Filter::cond(data("tags"), Op::Contains, json!("x"))
        );
        assert_eq!(
            parse("name ~ 'an%'", None).unwrap().unwrap(),
            Filter::cond(data("name"), Op::IContains, json!("an"))
        );
        assert_eq!(parse("  ", None).unwrap(), None);
    }

    #[test]
    fn bad_expressions_are_validation_errors() {
        for bad in [
            "(a = 1",
            "a = 1)",
            "a = ",
            "a == 'x' &&",
            "a = 'x",
            "a & b",
            "a = @request.data.x",
            "a <> 1",
            "'x' = 'y'",
            "a = b",
        ] {
            let e = parse(bad, None).unwrap_err();
            assert_eq!(e.code(), "VALIDATION", "{bad}");
        }
        assert!(parse(&"(".repeat(20), None).is_err());
        assert!(
            parse(
                &"a = 1 && ".repeat(100).trim_end_matches(" && ").to_owned(),
                None
            )
            .is_err()
        );
    }

    #[test]
    fn sorts_parse() {
        assert_eq!(
            parse_sort("-created,name").unwrap(),
            vec![
                Sort {
                    field: Field::CreatedAt,
                    descending: true
                },
                Sort {
                    field: data("name"),
                    descending: false
                }
            ]
        );
        assert!(parse_sort("@random").is_err());
    }
}
