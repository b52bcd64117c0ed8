//! CSV cells (RFC 4180) that a spreadsheet opens as text: a cell holding a comma, a quote or a
//! line break is quoted, and a cell that a spreadsheet would run as a formula (it starts with
//! `=`, `+`, `-`, `@`, a tab or a carriage return, the OWASP list) gets a leading `'`. Audit
//! rows carry caller-chosen text (a user agent, a client name), so an export opened in a
//! spreadsheet must not run it.

use std::borrow::Cow;

/// `s` as one CSV cell.
pub fn cell(s: &str) -> Cow<'_, str> {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || s.contains([',', '"', '\n', '\r']);
    if !quote {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 4);
    out.push('"');
    if formula {
        out.push('\'');
    }
    out.push_str(&s.replace('"', "\"\""));
    out.push('"');
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn plain_text_is_left_alone() {
        assert_eq!(cell("api_key.created"), "api_key.created");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a-b"), "a-b");
    }

    #[test]
    fn separators_and_quotes_are_quoted() {
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "\"'+1\"");
        assert_eq!(cell("-1"), "\"'-1\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(cell("\tx"), "\"'\tx\"");
    }
}
