//! One sanitizer for untrusted text (file names, commit messages, matched snippets) before it
//! reaches a terminal: control characters, bidi overrides and zero-width characters are shown as
//! escapes so they can neither rewrite the screen nor hide what a line says.

use std::borrow::Cow;

fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
                | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
                | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
                | '\u{2066}'..='\u{2069}' // bidi isolates
                | '\u{FEFF}' // zero-width no-break space
                | '\u{061C}' // Arabic letter mark
        )
}

/// `text` with every dangerous character replaced by a visible `\u{…}` escape (tab kept).
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\t' && is_dangerous(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c != '\t' && is_dangerous(c) {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_can_deceive() {
        assert_eq!(for_terminal("plain.txt"), "plain.txt");
        assert_eq!(for_terminal("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(for_terminal("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(for_terminal("zero\u{200B}width"), "zero\\u{200b}width");
        assert_eq!(for_terminal("two\nlines"), "two\\nlines");
    }
}
