//! GitLab `rules:if` expressions, evaluated with three-valued logic: what a tag push
//! pipeline surely sets or leaves unset is known, the rest is "maybe", never a guess.

use std::collections::BTreeMap;

/// A truth value that may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Truth {
    Yes,
    No,
    Maybe,
}

impl Truth {
    pub(crate) fn not(self) -> Truth {
        match self {
            Truth::Yes => Truth::No,
            Truth::No => Truth::Yes,
            Truth::Maybe => Truth::Maybe,
        }
    }
    pub(crate) fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::No, _) | (_, Truth::No) => Truth::No,
            (Truth::Yes, Truth::Yes) => Truth::Yes,
            _ => Truth::Maybe,
        }
    }
    pub(crate) fn or(self, other: Truth) -> Truth {
        self.not().and(other.not()).not()
    }
    pub(crate) fn from_bool(b: bool) -> Truth {
        if b {
            Truth::Yes
        } else {
            Truth::No
        }
    }
}

/// A variable's value in the tag pipeline, as far as we can know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val {
    Unset,
    Str(String),
    /// Set and not empty, value unknown (the commit id, the server's host...).
    SetUnknown,
    /// Perhaps set, perhaps not.
    Unknown,
}

/// Where a variable's value comes from, for naming the ones a ci-hub admin can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// GitLab's predefined variables.
    Predefined,
    /// `variables:` of the CI files.
    File,
    /// Neither: only the ci-hub (CI/CD settings, push options) can set it.
    Hub,
}

/// Looks variables up; implemented by the job context.
pub(crate) trait Scope {
    fn value(&self, name: &str) -> (Val, Origin);
}

/// The ci-hub variables an expression consulted, with the literals it compared them
/// with: what an admin could set to change the outcome.
pub(crate) type Gates = BTreeMap<String, (Val, Vec<String>)>;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Var(String),
    Str(String),
    Regex(String, String),
    Null,
    Op(&'static str),
    Open,
    Close,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Var(String),
    Str(String),
    Regex(String, String),
    Null,
    Not(Box<Expr>),
    Cmp(&'static str, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// Expressions nest no deeper than this, and hold no more operators: GitLab's own
/// parser would choke long before, and a stranger's file must not exhaust our stack
/// (a chain of `&&` is a tree as deep as it is long).
const MAX_DEPTH: usize = 64;
const MAX_OPERATORS: usize = 1000;

fn tokenize(expr: &str) -> Option<Vec<Token>> {
    let b = expr.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let rest = &expr[i..];
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if let Some(op) = ["==", "!=", "=~", "!~", "&&", "||"]
            .into_iter()
            .find(|op| rest.starts_with(op))
        {
            tokens.push(Token::Op(op));
            i += 2;
        } else if c == b'(' || c == b')' {
            tokens.push(if c == b'(' { Token::Open } else { Token::Close });
            i += 1;
        } else if c == b'$' {
            let braced = rest.starts_with("${");
            let start = i + if braced { 2 } else { 1 };
            let len = expr[start..]
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(expr.len() - start);
            if len == 0 {
                return None;
            }
            tokens.push(Token::Var(expr[start..start + len].to_owned()));
            i = start + len;
            if braced {
                // `${name` must close right after the name, or this is no expression
                // we understand (and `i` must not land inside a multi-byte char).
                if !expr[i..].starts_with('}') {
                    return None;
                }
                i += 1;
            }
        } else if c == b'"' || c == b'\'' {
            let close = expr[i + 1..].find(c as char)?;
            tokens.push(Token::Str(expr[i + 1..i + 1 + close].to_owned()));
            i += close + 2;
        } else if c == b'/' {
            // A pattern ends at the first `/` not escaped with a backslash.
            let body = &b[i + 1..];
            let mut j = 0;
            while j < body.len() && body[j] != b'/' {
                j += if body[j] == b'\\' { 2 } else { 1 };
            }
            if j >= body.len() {
                return None;
            }
            let pattern = expr[i + 1..i + 1 + j].to_owned();
            i += j + 2;
            let flags_start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            tokens.push(Token::Regex(pattern, expr[flags_start..i].to_owned()));
        } else if c == b'!' {
            tokens.push(Token::Op("!"));
            i += 1;
        } else if rest.starts_with("null")
            && !rest[4..].starts_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '_')
        {
            tokens.push(Token::Null);
            i += 4;
        } else {
            return None;
        }
    }
    Some(tokens)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    depth: usize,
    operators: usize,
}

impl Parser<'_> {
    fn next_is(&mut self, token: &Token) -> bool {
        let hit = self.tokens.get(self.pos) == Some(token);
        self.pos += usize::from(hit);
        hit
    }

    fn or(&mut self) -> Option<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mut e = self.and()?;
        while self.next_is(&Token::Op("||")) {
            self.operators += 1;
            if self.operators > MAX_OPERATORS {
                return None;
            }
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        self.depth -= 1;
        Some(e)
    }

    fn and(&mut self) -> Option<Expr> {
        let mut e = self.unary()?;
        while self.next_is(&Token::Op("&&")) {
            self.operators += 1;
            if self.operators > MAX_OPERATORS {
                return None;
            }
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Some(e)
    }

    fn unary(&mut self) -> Option<Expr> {
        if self.next_is(&Token::Op("!")) {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return None;
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Some(Expr::Not(Box::new(inner)));
        }
        if self.next_is(&Token::Open) {
            let e = self.or()?;
            return self.next_is(&Token::Close).then_some(e);
        }
        let left = self.operand()?;
        let op = match self.tokens.get(self.pos) {
            Some(Token::Op(op @ ("==" | "!=" | "=~" | "!~"))) => *op,
            _ => return Some(left),
        };
        self.pos += 1;
        let right = self.operand()?;
        Some(Expr::Cmp(op, Box::new(left), Box::new(right)))
    }

    fn operand(&mut self) -> Option<Expr> {
        let token = self.tokens.get(self.pos)?.clone();
        self.pos += 1;
        Some(match token {
            Token::Var(name) => Expr::Var(name),
            Token::Str(s) => Expr::Str(s),
            Token::Null => Expr::Null,
            Token::Regex(p, f) => Expr::Regex(p, f),
            _ => return None,
        })
    }
}

fn parse(expr: &str) -> Option<Expr> {
    let tokens = tokenize(expr)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        depth: 0,
        operators: 0,
    };
    let e = parser.or()?;
    (parser.pos == tokens.len()).then_some(e)
}

/// Evaluates a `rules:if` expression; an expression we cannot read is "maybe".
pub(crate) fn evaluate(expr: &str, scope: &dyn Scope, gates: &mut Gates) -> Truth {
    match parse(expr) {
        Some(e) => Eval { scope, gates }.truth(&e),
        None => Truth::Maybe,
    }
}

struct Eval<'a> {
    scope: &'a dyn Scope,
    gates: &'a mut Gates,
}

/// An operand's value, and the ci-hub variable it came from, if it did.
struct Operand {
    val: Val,
    regex: Option<(String, String)>,
    hub_var: Option<String>,
}

impl Eval<'_> {
    fn truth(&mut self, e: &Expr) -> Truth {
        match e {
            // GitLab evaluates both sides; skipping the right one when the left decides
            // only keeps variables that decide nothing out of the reasons.
            Expr::And(a, b) => match self.truth(a) {
                Truth::No => Truth::No,
                t => t.and(self.truth(b)),
            },
            Expr::Or(a, b) => match self.truth(a) {
                Truth::Yes => Truth::Yes,
                t => t.or(self.truth(b)),
            },
            Expr::Not(a) => self.truth(a).not(),
            Expr::Cmp(op, a, b) => {
                let (a, b) = (self.operand(a), self.operand(b));
                self.note_comparison(&a, &b);
                self.note_comparison(&b, &a);
                match *op {
                    "==" => equals(&a, &b),
                    "!=" => equals(&a, &b).not(),
                    "=~" => matches(&a, &b),
                    _ => matches(&a, &b).not(),
                }
            }
            single => {
                let o = self.operand(single);
                if o.regex.is_some() {
                    return Truth::Maybe;
                }
                is_truthy(&o.val)
            }
        }
    }

    fn operand(&mut self, e: &Expr) -> Operand {
        match e {
            Expr::Var(name) => {
                let (val, origin) = self.scope.value(name);
                let hub_var = (origin == Origin::Hub).then(|| name.clone());
                if let Some(n) = &hub_var {
                    self.gates
                        .entry(n.clone())
                        .or_insert_with(|| (val.clone(), Vec::new()));
                }
                // A variable may hold a pattern: `$X =~ $PATTERN`.
                let regex = match &val {
                    Val::Str(s) if s.len() >= 2 && s.starts_with('/') => {
                        let end = s.rfind('/').unwrap_or(0);
                        (end > 0).then(|| (s[1..end].to_owned(), s[end + 1..].to_owned()))
                    }
                    _ => None,
                };
                Operand {
                    val,
                    regex,
                    hub_var,
                }
            }
            Expr::Str(s) => Operand {
                val: Val::Str(s.clone()),
                regex: None,
                hub_var: None,
            },
            Expr::Null => Operand {
                val: Val::Unset,
                regex: None,
                hub_var: None,
            },
            Expr::Regex(p, f) => Operand {
                val: Val::Unknown,
                regex: Some((p.clone(), f.clone())),
                hub_var: None,
            },
            _ => Operand {
                val: Val::Unknown,
                regex: None,
                hub_var: None,
            },
        }
    }

    fn note_comparison(&mut self, var: &Operand, other: &Operand) {
        let (Some(name), Val::Str(literal)) = (&var.hub_var, &other.val) else {
            return;
        };
        if other.hub_var.is_some() {
            return;
        }
        if let Some((_, literals)) = self.gates.get_mut(name) {
            if !literals.contains(literal) {
                literals.push(literal.clone());
            }
        }
    }
}

fn is_truthy(v: &Val) -> Truth {
    match v {
        Val::Unset => Truth::No,
        Val::Str(s) => Truth::from_bool(!s.is_empty()),
        Val::SetUnknown => Truth::Yes,
        Val::Unknown => Truth::Maybe,
    }
}

fn equals(a: &Operand, b: &Operand) -> Truth {
    if a.regex.is_some() && matches!(a.val, Val::Unknown)
        || b.regex.is_some() && matches!(b.val, Val::Unknown)
    {
        return Truth::Maybe;
    }
    match (&a.val, &b.val) {
        (Val::Unset, Val::Unset) => Truth::Yes,
        (Val::Str(x), Val::Str(y)) => Truth::from_bool(x == y),
        (Val::Unset, Val::Str(_) | Val::SetUnknown)
        | (Val::Str(_) | Val::SetUnknown, Val::Unset) => Truth::No,
        _ => Truth::Maybe,
    }
}

/// Patterns are RE2 in GitLab; the regex crate reads the same syntax for what real
/// files use. A pattern it refuses, or a huge one, is "maybe".
fn matches(value: &Operand, pattern: &Operand) -> Truth {
    let Some((pattern, flags)) = &pattern.regex else {
        return Truth::Maybe;
    };
    match &value.val {
        Val::Unset => Truth::No,
        Val::Str(s) => match compiled(pattern, flags) {
            Some(re) => Truth::from_bool(re.is_match(s)),
            None => Truth::Maybe,
        },
        Val::SetUnknown | Val::Unknown => Truth::Maybe,
    }
}

/// Patterns compiled once per thread: a file may repeat one in a thousand jobs.
fn compiled(pattern: &str, flags: &str) -> Option<regex::Regex> {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<(String, String), Option<regex::Regex>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache
            .entry((pattern.to_owned(), flags.to_owned()))
            .or_insert_with(|| {
                regex::RegexBuilder::new(pattern)
                    .case_insensitive(flags.contains('i'))
                    .multi_line(flags.contains('m'))
                    .dot_matches_new_line(flags.contains('s'))
                    .size_limit(1 << 20)
                    .build()
                    .ok()
            })
            .clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl Scope for Fixed {
        fn value(&self, name: &str) -> (Val, Origin) {
            match name {
                "CI_COMMIT_TAG" => (Val::Str("patchew/x@y".into()), Origin::Predefined),
                "CI_PIPELINE_SOURCE" => (Val::Str("push".into()), Origin::Predefined),
                "CI_COMMIT_SHA" => (Val::SetUnknown, Origin::Predefined),
                "CI_SOMETHING" => (Val::Unknown, Origin::Predefined),
                n if n.starts_with("CI_") => (Val::Unset, Origin::Predefined),
                "ON" => (Val::Str("1".into()), Origin::File),
                _ => (Val::Unset, Origin::Hub),
            }
        }
    }

    fn truth(expr: &str) -> Truth {
        evaluate(expr, &Fixed, &mut Gates::new())
    }

    #[test]
    fn odd_expressions_are_unknown_not_a_panic() {
        for expr in [
            "${é == \"x\"",
            "${CI_COMMIT_TAG",
            "$é",
            "nullx == $A",
            "$ == 1",
            "/unclosed",
        ] {
            assert_eq!(truth(expr), Truth::Maybe, "{expr}");
        }
        assert_eq!(truth("${CI_COMMIT_TAG}"), Truth::Yes);
        let deep = format!("{}$ON{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(truth(&deep), Truth::Maybe);
        let long = vec!["$ON"; 200_000].join(" && ");
        assert_eq!(truth(&long), Truth::Maybe);
        let ok = vec!["$ON"; 500].join(" && ");
        assert_eq!(truth(&ok), Truth::Yes);
    }

    #[test]
    fn evaluates_tag_pipeline_expressions() {
        assert_eq!(truth("$CI_COMMIT_TAG"), Truth::Yes);
        assert_eq!(truth("$CI_COMMIT_BRANCH"), Truth::No);
        assert_eq!(truth("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"), Truth::Yes);
        assert_eq!(truth("$CI_SOMETHING == 'x'"), Truth::Maybe);
        assert_eq!(
            truth("$CI_PIPELINE_SOURCE == 'merge_request_event'"),
            Truth::No
        );
        assert_eq!(
            truth("$CI_PIPELINE_SOURCE == \"push\" && $CI_COMMIT_TAG"),
            Truth::Yes
        );
        assert_eq!(truth("$CI_COMMIT_TAG =~ /^patchew\\//"), Truth::Yes);
        assert_eq!(truth("$CI_COMMIT_TAG =~ /^v\\d/"), Truth::No);
        assert_eq!(truth("$CI_COMMIT_TAG =~ /^PATCHEW/i"), Truth::Yes);
        assert_eq!(truth("$CI_COMMIT_SHA =~ /^a/"), Truth::Maybe);
        assert_eq!(truth("$CI_MERGE_REQUEST_IID || ($ON == \"1\")"), Truth::Yes);
        assert_eq!(truth("$OFF != \"1\" && $OFF != \"2\""), Truth::Yes);
        assert_eq!(truth("$CI_COMMIT_TAG == null"), Truth::No);
        assert_eq!(truth("!$CI_COMMIT_TAG"), Truth::No);
        assert_eq!(truth("weird ~~ syntax"), Truth::Maybe);
    }

    #[test]
    fn gates_name_hub_variables_and_their_literals() {
        let mut gates = Gates::new();
        let t = evaluate(
            "$QEMU_CI != \"1\" && $QEMU_CI != \"2\" && $ON",
            &Fixed,
            &mut gates,
        );
        assert_eq!(t, Truth::Yes);
        assert_eq!(gates.len(), 1, "{gates:?}");
        assert_eq!(gates["QEMU_CI"].1, vec!["1".to_owned(), "2".to_owned()]);
        // A left side that decides keeps the right side's variables out.
        let mut gates = Gates::new();
        evaluate("$CI_COMMIT_BRANCH && $OTHER == \"x\"", &Fixed, &mut gates);
        assert!(gates.is_empty(), "{gates:?}");
    }
}
